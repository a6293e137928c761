// Package host implements file descriptions backed by host file
// descriptors donated to the Sentry at start-up: the sandbox's stdin,
// stdout and stderr (a tty, pipes, or files).
//
// Host descriptors that can be polled are switched to O_NONBLOCK (their
// original flags are restored on release), and a blocking guest read or
// write waits for readiness reported by one epoll instance shared by all
// host files (package fdnotify turns epoll events into waiter
// notifications), so a signal can interrupt the wait. Regular files are not
// pollable; they are read and written with pread/pwrite at the guest's
// offset.
//
// Terminal ioctls (TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ,
// TIOCSWINSZ) and FIONREAD are passed through to the host descriptor. Job
// control (the controlling session, the foreground process group, SIGTTIN
// and SIGTTOU) is the kernel's: a terminal consults the Terminal that the
// kernel registers with SetTerminalProvider (terminal.go). The package
// keeps a duplicate of each terminal's descriptor, from which /dev/tty
// reopens it (OpenTerminal).
//
// Lock order: fdnotify.Poller locks, then waiter.Queue.mu.
package host

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/fdnotify"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// hostFile is an open host descriptor.
type hostFile struct {
	vfs.FileDescriptionDefaultImpl
	// fd is the host descriptor, owned by hostFile. Immutable.
	fd int
	// origFlags are the host status flags before O_NONBLOCK was set.
	// Immutable.
	origFlags int
	// pollable says whether fd is registered with the poller (not a
	// regular file); pollID is then its registration. Immutable.
	pollable bool
	pollID   int32
	// stream says whether fd has no position (not a regular file).
	// Immutable.
	stream bool
	// queue receives readiness events from the poller.
	queue waiter.Queue
	// isTTY says whether fd is a terminal; ttyKey is then its device.
	// Immutable.
	isTTY  bool
	ttyKey TerminalKey
}

var _ vfs.FileDescriptionImpl = (*hostFile)(nil)

// NewFD returns a file description for the host descriptor hostFD, which
// it takes ownership of (it is closed when the file description is
// released), opened with the open flags flags (access mode and
// O_NONBLOCK/O_APPEND as the guest should see them).
func NewFD(ctx context.Context, hostFD int, flags uint32) (*vfs.FileDescription, error) {
	f, st, err := newHostFile(hostFD)
	if err != nil {
		return nil, err
	}
	if f.isTTY {
		keepTerminal(f.ttyKey, hostFD)
	}
	// The file gets an anonymous location, so that /proc/self/fd/N (and
	// /dev/stdin) can reach and reopen it.
	loc := vfs.NewAnonymousLocation("hostfs", hostLinkName(&st, hostFD), &hostInode{f: f, flags: flags})
	defer loc.DecRef(ctx)
	fd := vfs.NewFileDescription(f, flags&^unix.O_PATH, loc)
	if !f.stream {
		// A redirected stdio file continues where the caller's offset is.
		if off, err := unix.Seek(hostFD, 0, unix.SEEK_CUR); err == nil {
			fd.SetOffset(off)
		}
	}
	return fd, nil
}

// newHostFile wraps hostFD, taking ownership of it.
func newHostFile(hostFD int) (*hostFile, unix.Stat_t, error) {
	var st unix.Stat_t
	if err := fstat(hostFD, &st); err != nil {
		return nil, st, err
	}
	fl, err := unix.FcntlInt(uintptr(hostFD), unix.F_GETFL, 0)
	if err != nil {
		return nil, st, os.NewSyscallError("fcntl(F_GETFL)", err)
	}
	f := &hostFile{fd: hostFD, origFlags: fl, stream: st.Mode&unix.S_IFMT != unix.S_IFREG}
	if st.Mode&unix.S_IFMT == unix.S_IFCHR {
		if _, err := unix.IoctlGetTermios(hostFD, unix.TCGETS); err == nil {
			f.isTTY, f.ttyKey = true, TerminalKey(st.Rdev)
		}
	}
	if f.stream {
		if _, err := unix.FcntlInt(uintptr(hostFD), unix.F_SETFL, fl|unix.O_NONBLOCK); err != nil {
			return nil, st, os.NewSyscallError("fcntl(F_SETFL)", err)
		}
		if id, err := thePoller.Add(hostFD, f.queue.Notify); err == nil {
			f.pollable, f.pollID = true, id
		} else {
			// Not pollable (a directory or some odd character device):
			// use it in blocking mode.
			unix.FcntlInt(uintptr(hostFD), unix.F_SETFL, fl)
		}
	}
	return f, st, nil
}

// hostLinkName is what /proc/PID/fd/N shows for a host file.
func hostLinkName(st *unix.Stat_t, hostFD int) string {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return fmt.Sprintf("pipe:[%d]", st.Ino)
	case unix.S_IFSOCK:
		return fmt.Sprintf("socket:[%d]", st.Ino)
	}
	return fmt.Sprintf("anon_inode:[host:%d]", hostFD)
}

// hostInode is a donated host file as an inode of the anonymous hostfs:
// opening it (through /proc/self/fd/N) duplicates the host descriptor.
type hostInode struct {
	// f is the original file; flags its open flags. Immutable.
	f     *hostFile
	flags uint32
}

var _ vfs.Inode = (*hostInode)(nil)

// IncRef implements vfs.Inode.IncRef; the inode lives with its location.
func (*hostInode) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (*hostInode) DecRef(context.Context) {}

// Mode implements vfs.Inode.Mode.
func (i *hostInode) Mode() uint32 {
	var st unix.Stat_t
	if fstat(i.f.fd, &st) != nil {
		return unix.S_IFCHR | 0o600
	}
	return st.Mode
}

// CheckPermissions implements vfs.Inode.CheckPermissions: the access the
// donated descriptor has (a reopen can't gain write access, say).
func (i *hostInode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	acc := i.flags & unix.O_ACCMODE
	if ats&vfs.MayWrite != 0 && acc == unix.O_RDONLY || ats&vfs.MayRead != 0 && acc == unix.O_WRONLY {
		return unix.EACCES
	}
	return nil
}

// Stat implements vfs.Inode.Stat.
func (i *hostInode) Stat(ctx context.Context) (unix.Statx_t, error) { return i.f.Stat(ctx) }

// SetStat implements vfs.Inode.SetStat: donated files can't be changed.
func (*hostInode) SetStat(context.Context, *vfs.SetStatOptions) error { return unix.EPERM }

// Open implements vfs.Inode.Open with a duplicate of the host descriptor.
func (i *hostInode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return openDup(i.f.fd)
}

// openDup returns a new description of the host file hostFD: a duplicate
// of the descriptor, so it shares the host's file status flags with the
// others. ENXIO if it can't be duplicated.
func openDup(hostFD int) (vfs.FileDescriptionImpl, error) {
	nfd, err := unix.FcntlInt(uintptr(hostFD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, unix.ENXIO
	}
	f, _, err := newHostFile(nfd)
	if err != nil {
		unix.Close(nfd)
		return nil, err
	}
	return f, nil
}

// fstat is fstat(2), retrying EINTR.
func fstat(fd int, st *unix.Stat_t) error {
	for {
		err := unix.Fstat(fd, st)
		if err != unix.EINTR {
			return err
		}
	}
}

// Release implements vfs.FileDescriptionImpl.Release.
func (f *hostFile) Release(ctx context.Context) {
	if f.pollable {
		thePoller.Remove(f.fd, f.pollID)
		unix.FcntlInt(uintptr(f.fd), unix.F_SETFL, f.origFlags)
	}
	unix.Close(f.fd)
}

// Stream implements vfs.FileDescriptionImpl.Stream.
func (f *hostFile) Stream() bool { return f.stream }

// Read implements vfs.FileDescriptionImpl.Read.
func (f *hostFile) Read(ctx context.Context, fd *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if !f.stream {
		n, err := retry(func() (int, error) { return unix.Pread(f.fd, dst, off) })
		if n > 0 {
			// Keep the host offset, which the caller of runsc shares,
			// where the guest's is.
			unix.Seek(f.fd, off+int64(n), unix.SEEK_SET)
		}
		return n, err
	}
	if term := f.terminal(ctx); term != nil {
		if err := term.CheckRead(ctx); err != nil {
			return 0, err
		}
	}
	return f.wait(ctx, fd, unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR, func() (int, error) {
		return unix.Read(f.fd, dst)
	})
}

// Write implements vfs.FileDescriptionImpl.Write.
func (f *hostFile) Write(ctx context.Context, fd *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	if !f.stream {
		n, err := retry(func() (int, error) { return unix.Pwrite(f.fd, src, off) })
		if n < 0 {
			n = 0
		}
		newOff := off + int64(n)
		if fd.StatusFlags()&unix.O_APPEND != 0 {
			var st unix.Stat_t
			if fstat(f.fd, &st) == nil {
				newOff = st.Size
			}
		}
		// Keep the host offset, which the caller of runsc shares, where
		// the guest's is.
		unix.Seek(f.fd, newOff, unix.SEEK_SET)
		return n, newOff, err
	}
	if term := f.terminal(ctx); term != nil {
		if err := term.CheckWrite(ctx, f.tostop); err != nil {
			return 0, 0, err
		}
	}
	done := 0
	for done < len(src) {
		n, err := f.wait(ctx, fd, unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP, func() (int, error) {
			return unix.Write(f.fd, src[done:])
		})
		done += n
		if err != nil {
			if done > 0 {
				return done, 0, nil
			}
			return 0, 0, err
		}
		if fd.StatusFlags()&unix.O_NONBLOCK != 0 {
			break
		}
	}
	return done, 0, nil
}

// retry calls op until it does not fail with EINTR.
func retry(op func() (int, error)) (int, error) {
	for {
		n, err := op()
		if err != unix.EINTR {
			if n < 0 {
				n = 0
			}
			return n, err
		}
	}
}

// wait runs op (a read or write on the non-blocking host descriptor) until
// it does something, blocking for the events in mask between attempts
// unless the guest's file is O_NONBLOCK.
func (f *hostFile) wait(ctx context.Context, fd *vfs.FileDescription, mask uint32, op func() (int, error)) (int, error) {
	var e *waiter.Entry
	defer func() {
		if e != nil {
			f.queue.EventUnregister(e)
		}
	}()
	for {
		n, err := retry(op)
		if err != unix.EAGAIN || !f.pollable || fd.StatusFlags()&unix.O_NONBLOCK != 0 {
			return n, err
		}
		if e == nil {
			// Register, then try again: an edge that came before the
			// registration is not lost.
			e = f.queue.Register(mask)
			continue
		}
		if err := vfs.Block(ctx, e.C); err != nil {
			return 0, err
		}
	}
}

// Readiness implements vfs.FileDescriptionImpl.Readiness by polling the
// host descriptor, after the poller notified what came before (see
// package fdnotify).
func (f *hostFile) Readiness(mask uint32) uint32 {
	if !f.pollable {
		return mask & (unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDNORM | unix.EPOLLWRNORM)
	}
	thePoller.Sync()
	pfd := []unix.PollFd{{Fd: int32(f.fd), Events: int16(mask & 0xffff)}}
	if _, err := retry(func() (int, error) { return unix.Poll(pfd, 0) }); err != nil {
		return 0
	}
	return uint32(uint16(pfd[0].Revents)) & (mask | unix.EPOLLERR | unix.EPOLLHUP)
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (f *hostFile) EventRegister(e *waiter.Entry) { f.queue.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (f *hostFile) EventUnregister(e *waiter.Entry) { f.queue.EventUnregister(e) }

// Stat implements vfs.FileDescriptionImpl.Stat with the host's attributes.
func (f *hostFile) Stat(ctx context.Context) (unix.Statx_t, error) {
	var st unix.Stat_t
	if err := fstat(f.fd, &st); err != nil {
		return unix.Statx_t{}, err
	}
	ts := func(t unix.Timespec) unix.StatxTimestamp {
		return unix.StatxTimestamp{Sec: t.Sec, Nsec: uint32(t.Nsec)}
	}
	return unix.Statx_t{
		Mask:       unix.STATX_BASIC_STATS,
		Blksize:    uint32(st.Blksize),
		Nlink:      uint32(st.Nlink),
		Uid:        st.Uid,
		Gid:        st.Gid,
		Mode:       uint16(st.Mode),
		Ino:        st.Ino,
		Size:       uint64(st.Size),
		Blocks:     uint64(st.Blocks),
		Atime:      ts(st.Atim),
		Mtime:      ts(st.Mtim),
		Ctime:      ts(st.Ctim),
		Rdev_major: unix.Major(st.Rdev),
		Rdev_minor: unix.Minor(st.Rdev),
		Dev_major:  unix.Major(st.Dev),
		Dev_minor:  unix.Minor(st.Dev),
	}, nil
}

// Seek implements vfs.FileDescriptionImpl.Seek for regular host files.
func (f *hostFile) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	var st unix.Stat_t
	if err := fstat(f.fd, &st); err != nil {
		return 0, err
	}
	return vfs.GenericSeek(cur, off, whence, st.Size)
}

// termiosSize is the size of the kernel's struct termios on amd64 (TCGETS
// and TCSETS*; unix.Termios is the larger termios2).
const termiosSize = 36

// Ioctl implements vfs.FileDescriptionImpl.Ioctl.
func (f *hostFile) Ioctl(ctx context.Context, fd *vfs.FileDescription, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case unix.TCGETS:
		t, err := unix.IoctlGetTermios(f.fd, unix.TCGETS)
		if err != nil {
			return 0, err
		}
		var b [termiosSize]byte
		binary.LittleEndian.PutUint32(b[0:], t.Iflag)
		binary.LittleEndian.PutUint32(b[4:], t.Oflag)
		binary.LittleEndian.PutUint32(b[8:], t.Cflag)
		binary.LittleEndian.PutUint32(b[12:], t.Lflag)
		b[16] = t.Line
		copy(b[17:], t.Cc[:])
		return 0, copyOut(mem, arg, b[:])
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF:
		if term := f.terminal(ctx); term != nil {
			if err := term.CheckChange(ctx); err != nil {
				return 0, err
			}
		}
		var b [termiosSize]byte
		if err := copyIn(mem, arg, b[:]); err != nil {
			return 0, err
		}
		// Start from the current settings so the speeds are kept.
		t, err := unix.IoctlGetTermios(f.fd, unix.TCGETS)
		if err != nil {
			return 0, err
		}
		t.Iflag = binary.LittleEndian.Uint32(b[0:])
		t.Oflag = binary.LittleEndian.Uint32(b[4:])
		t.Cflag = binary.LittleEndian.Uint32(b[8:])
		t.Lflag = binary.LittleEndian.Uint32(b[12:])
		t.Line = b[16]
		copy(t.Cc[:], b[17:])
		return 0, unix.IoctlSetTermios(f.fd, uint(cmd), t)
	case unix.TIOCGWINSZ:
		w, err := unix.IoctlGetWinsize(f.fd, unix.TIOCGWINSZ)
		if err != nil {
			return 0, err
		}
		var b [8]byte
		binary.LittleEndian.PutUint16(b[0:], w.Row)
		binary.LittleEndian.PutUint16(b[2:], w.Col)
		binary.LittleEndian.PutUint16(b[4:], w.Xpixel)
		binary.LittleEndian.PutUint16(b[6:], w.Ypixel)
		return 0, copyOut(mem, arg, b[:])
	case unix.TIOCSWINSZ:
		var b [8]byte
		if err := copyIn(mem, arg, b[:]); err != nil {
			return 0, err
		}
		w := unix.Winsize{
			Row:    binary.LittleEndian.Uint16(b[0:]),
			Col:    binary.LittleEndian.Uint16(b[2:]),
			Xpixel: binary.LittleEndian.Uint16(b[4:]),
			Ypixel: binary.LittleEndian.Uint16(b[6:]),
		}
		return 0, unix.IoctlSetWinsize(f.fd, unix.TIOCSWINSZ, &w)
	case unix.TIOCGPGRP, unix.TIOCSPGRP, unix.TIOCGSID, unix.TIOCSCTTY, unix.TIOCNOTTY:
		if !f.isTTY {
			return 0, unix.ENOTTY
		}
		if term := f.terminal(ctx); term != nil {
			return term.JobControlIoctl(ctx, mem, cmd, arg, fd.IsReadable())
		}
		return f.hostJobControlIoctl(mem, cmd, arg)
	case unix.TIOCINQ:
		v, err := unix.IoctlGetInt(f.fd, uint(cmd))
		if err != nil {
			return 0, err
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(int32(v)))
		return 0, copyOut(mem, arg, b[:])
	}
	return 0, unix.ENOTTY
}

// hostJobControlIoctl passes TIOCGPGRP and TIOCSPGRP through to the host
// when no kernel terminal layer is registered (unit tests); the process
// group IDs are then the host's.
func (f *hostFile) hostJobControlIoctl(mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	var b [4]byte
	switch cmd {
	case unix.TIOCGPGRP:
		v, err := unix.IoctlGetInt(f.fd, uint(cmd))
		if err != nil {
			return 0, err
		}
		binary.LittleEndian.PutUint32(b[:], uint32(int32(v)))
		return 0, copyOut(mem, arg, b[:])
	case unix.TIOCSPGRP:
		if err := copyIn(mem, arg, b[:]); err != nil {
			return 0, err
		}
		return 0, unix.IoctlSetPointerInt(f.fd, unix.TIOCSPGRP, int(int32(binary.LittleEndian.Uint32(b[:]))))
	}
	return 0, unix.ENOTTY
}

// tostop reports whether the terminal has TOSTOP set (background writes
// raise SIGTTOU).
func (f *hostFile) tostop() bool {
	t, err := unix.IoctlGetTermios(f.fd, unix.TCGETS)
	return err == nil && t.Lflag&unix.TOSTOP != 0
}

// copyIn reads len(b) bytes of guest memory at addr, or fails with EFAULT.
func copyIn(mem vfs.UserMemory, addr uintptr, b []byte) error {
	if mem == nil {
		return unix.EFAULT
	}
	if n, err := mem.CopyIn(addr, b); err != nil || n != len(b) {
		return unix.EFAULT
	}
	return nil
}

// copyOut writes b to guest memory at addr, or fails with EFAULT.
func copyOut(mem vfs.UserMemory, addr uintptr, b []byte) error {
	if mem == nil {
		return unix.EFAULT
	}
	if n, err := mem.CopyOut(addr, b); err != nil || n != len(b) {
		return unix.EFAULT
	}
	return nil
}

// thePoller serves all host files.
var thePoller fdnotify.Poller
