package netstack

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvmmsg receives up to packetBatch frames into p.rbufs.
func (p *PacketSocket) recvmmsg(fd uintptr) (int, error) {
	for i := range p.rhdrs {
		p.riov[i] = unix.Iovec{Base: &p.rbufs[i][0]}
		p.riov[i].SetLen(len(p.rbufs[i]))
		p.rhdrs[i] = unix.Mmsghdr{}
		p.rhdrs[i].Hdr.Iov = &p.riov[i]
		p.rhdrs[i].Hdr.SetIovlen(1)
	}
	// SAFETY: rhdrs, riov and rbufs are Go memory that stays reachable
	// (fields of p) for the call; the kernel writes at most each iovec's
	// length and each header's Len and Flags.
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&p.rhdrs[0])), uintptr(len(p.rhdrs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// sendmmsg sends msgs (at most packetBatch), the messages of frames
// (from frames[0] on, none empty), and returns how many the kernel took.
func (p *PacketSocket) sendmmsg(fd uintptr, frames [][]byte, msgs []txMsg) (int, error) {
	nf := 0
	for _, m := range msgs {
		nf += m.n
	}
	if cap(p.tiov) < nf {
		p.tiov = make([]unix.Iovec, nf)
	}
	iov := p.tiov[:nf]
	j := 0
	for i, m := range msgs {
		first := j
		for k := 0; k < m.n; k++ {
			b := frames[j]
			if k > 0 {
				b = b[m.hdrEnd:]
			}
			iov[j] = unix.Iovec{Base: &b[0]}
			iov[j].SetLen(len(b))
			j++
		}
		p.thdrs[i] = unix.Mmsghdr{}
		p.thdrs[i].Hdr.Iov = &iov[first]
		p.thdrs[i].Hdr.SetIovlen(m.n)
	}
	// SAFETY: thdrs and tiov are fields of p, and frames is the caller's,
	// all reachable for the call; the kernel only reads the frames and
	// writes each header's Len.
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&p.thdrs[0])), uintptr(len(msgs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
