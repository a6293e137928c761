package hostinet

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The raw socket calls, on byte-slice sockaddrs: x/sys's typed Sockaddrs
// cannot express AF_UNSPEC for connect, and its Recvmsg reads a dummy byte
// from a stream when the buffer is empty.

func ptr(b []byte) uintptr {
	// SAFETY: the address is passed to a raw system call made while b is
	// still referenced by the caller (runtime.KeepAlive is implied by the
	// slice argument staying live across the call in every caller).
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// sockaddrCall runs bind(2) or connect(2) (nr) with the sockaddr b.
func sockaddrCall(nr uintptr, fd int, b []byte) error {
	_, _, e := unix.Syscall(nr, uintptr(fd), ptr(b), uintptr(len(b)))
	return errnoErr(e)
}

// accept4 accepts a connection and returns its descriptor and the peer's
// sockaddr.
func accept4(fd, flags int) (int, []byte, error) {
	// SAFETY: name and l live on this frame across the call; the kernel
	// writes at most l bytes into name.
	var name [unix.SizeofSockaddrAny]byte
	l := uint32(len(name))
	for {
		nfd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&name[0])), uintptr(unsafe.Pointer(&l)), uintptr(flags), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, nil, e
		}
		return int(nfd), name[:min(int(l), len(name))], nil
	}
}

// getName runs getsockname(2) or getpeername(2) (nr).
func getName(nr uintptr, fd int) ([]byte, error) {
	// SAFETY: name and l live on this frame across the call; the kernel
	// writes at most l bytes into name.
	var name [unix.SizeofSockaddrAny]byte
	l := uint32(len(name))
	_, _, e := unix.Syscall(nr, uintptr(fd), uintptr(unsafe.Pointer(&name[0])), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return nil, e
	}
	return name[:min(int(l), len(name))], nil
}

// recvmsg receives into buf, the sender's address into name and control
// messages into ctl; it returns the byte count and the lengths the host
// filled in.
func recvmsg(fd int, buf, name, ctl []byte, flags int) (n, namelen, ctllen, rflags int, err error) {
	// SAFETY: msg and what it points to (iov, buf, name, ctl) stay
	// referenced until the call returns; the lengths bound every write.
	var dummy byte
	iov := unix.Iovec{Base: &dummy}
	if len(buf) > 0 {
		iov.Base = &buf[0]
		iov.SetLen(len(buf))
	}
	var msg unix.Msghdr
	msg.Iov = &iov
	msg.Iovlen = 1
	if len(name) > 0 {
		msg.Name = &name[0]
		msg.Namelen = uint32(len(name))
	}
	if len(ctl) > 0 {
		msg.Control = &ctl[0]
		msg.SetControllen(len(ctl))
	}
	for {
		r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, 0, 0, 0, e
		}
		return int(r), int(msg.Namelen), int(msg.Controllen), int(msg.Flags), nil
	}
}

// sendmsg sends buf to name (nil: the connected peer), with no control
// messages.
func sendmsg(fd int, buf, name []byte, flags int) (int, error) {
	// SAFETY: msg and what it points to (iov, buf, name) stay referenced
	// until the call returns; the kernel only reads them.
	var dummy byte
	iov := unix.Iovec{Base: &dummy}
	if len(buf) > 0 {
		iov.Base = &buf[0]
		iov.SetLen(len(buf))
	}
	var msg unix.Msghdr
	msg.Iov = &iov
	msg.Iovlen = 1
	if len(name) > 0 {
		msg.Name = &name[0]
		msg.Namelen = uint32(len(name))
	}
	for {
		r, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
}

// setsockopt passes val as is.
func setsockopt(fd, level, name int, val []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), ptr(val), uintptr(len(val)), 0)
	return errnoErr(e)
}

// getsockopt fills buf and returns the length the host reports.
func getsockopt(fd, level, name int, buf []byte) (int, error) {
	// SAFETY: l lives on this frame and buf in the caller across the call;
	// the kernel writes at most l bytes into buf.
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), ptr(buf), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return min(int(l), len(buf)), nil
}
