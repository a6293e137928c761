package linux

import (
	"encoding/binary"
	"time"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/unixsocket"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
	"github.com/palisade-sandbox/palisade/syscalls/netlink"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

// Message ABI sizes (amd64).
const (
	// msghdrSize is sizeof(struct msghdr).
	msghdrSize = 56
	// mmsghdrSize is sizeof(struct mmsghdr).
	mmsghdrSize = 64
	// cmsghdrSize is sizeof(struct cmsghdr).
	cmsghdrSize = 16
	// ucredSize is sizeof(struct ucred).
	ucredSize = 12
	// optmemMax bounds a sendmsg control buffer (net.core.optmem_max):
	// beyond it Linux fails with ENOBUFS.
	optmemMax = 131072
	// maxControlLen is the largest msg_controllen Linux accepts (INT_MAX).
	maxControlLen = 1<<31 - 1
)

// cmsgAlign rounds n up to the cmsg alignment (CMSG_ALIGN).
func cmsgAlign(n uint64) uint64 { return (n + 7) &^ 7 }

// msghdr is a decoded struct msghdr.
type msghdr struct {
	name       uint64
	namelen    int32
	iov        uint64
	iovlen     uint64
	control    uint64
	controllen uint64
}

// copyInMsghdr reads a struct msghdr.
func copyInMsghdr(t *kernel.Task, addr uint64) (msghdr, error) {
	var b [msghdrSize]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return msghdr{}, err
	}
	le := binary.LittleEndian
	m := msghdr{
		name:       le.Uint64(b[0:]),
		namelen:    int32(le.Uint32(b[8:])),
		iov:        le.Uint64(b[16:]),
		iovlen:     le.Uint64(b[24:]),
		control:    le.Uint64(b[32:]),
		controllen: le.Uint64(b[40:]),
	}
	if m.name == 0 {
		m.namelen = 0
	}
	if m.namelen < 0 {
		return msghdr{}, unix.EINVAL
	}
	m.namelen = min(m.namelen, sockaddrStorageSize)
	return m, nil
}

// copyInMsg reads the msghdr at addr and its iovec array.
func copyInMsg(t *kernel.Task, addr uint64) (msghdr, []iovec, error) {
	m, err := copyInMsghdr(t, addr)
	if err != nil {
		return msghdr{}, nil, err
	}
	iovs, err := msgIovecs(t, &m)
	return m, iovs, err
}

// copyInSendmsg reads what sendmsg(2) on an inet or netlink socket uses
// of the msghdr at addr: the iovecs and the destination (read by
// readName when msg_namelen > 0); control messages must pass
// inetCheckControl.
func copyInSendmsg(t *kernel.Task, addr uint64, readName func(t *kernel.Task, addr, n uint64) ([]byte, error)) ([]iovec, []byte, error) {
	m, iovs, err := copyInMsg(t, addr)
	if err != nil {
		return nil, nil, err
	}
	var name []byte
	if m.namelen > 0 {
		if name, err = readName(t, m.name, uint64(m.namelen)); err != nil {
			return nil, nil, err
		}
	}
	if err := inetCheckControl(t, m.control, m.controllen); err != nil {
		return nil, nil, err
	}
	return iovs, name, nil
}

// msgIovecs reads a message's iovec array: EMSGSIZE for too many.
func msgIovecs(t *kernel.Task, m *msghdr) ([]iovec, error) {
	if m.iovlen > uioMaxIOV {
		return nil, unix.EMSGSIZE
	}
	return copyInIovecs(t, m.iov, int32(m.iovlen))
}

// iovTotal returns the bytes an iovec array covers, capped at maxRW.
func iovTotal(iovs []iovec) uint64 {
	var n uint64
	for _, v := range iovs {
		n += v.len
	}
	return min(n, maxRW)
}

// gatherIovecs fills dst from the iovecs, starting skip bytes in.
func gatherIovecs(t *kernel.Task, iovs []iovec, skip uint64, dst []byte) error {
	for _, v := range iovs {
		if len(dst) == 0 {
			return nil
		}
		if skip >= v.len {
			skip -= v.len
			continue
		}
		n := min(v.len-skip, uint64(len(dst)))
		if err := copyIn(t, v.base+skip, dst[:n]); err != nil {
			return err
		}
		dst = dst[n:]
		skip = 0
	}
	return nil
}

// scatterIovecs copies src into the iovecs, starting skip bytes in.
func scatterIovecs(t *kernel.Task, iovs []iovec, skip uint64, src []byte) error {
	for _, v := range iovs {
		if len(src) == 0 {
			return nil
		}
		if skip >= v.len {
			skip -= v.len
			continue
		}
		n := min(v.len-skip, uint64(len(src)))
		if err := copyOut(t, v.base+skip, src[:n]); err != nil {
			return err
		}
		src = src[n:]
		skip = 0
	}
	return nil
}

// control is the decoded ancillary data of a send.
type control struct {
	// rights are the files to pass, with a reference each.
	rights []*vfs.FileDescription
	// cred is an explicit SCM_CREDENTIALS, or nil.
	cred *unixsocket.Cred
}

// release drops the references in c.
func (c *control) release(t *kernel.Task) {
	for _, f := range c.rights {
		f.DecRef(t.Context())
	}
	c.rights = nil
}

// copyInControl reads and checks a send's control buffer as Linux's
// __scm_send: ENOBUFS for an oversized buffer, EINVAL for a malformed
// header, an unknown SOL_SOCKET type, too many descriptors or a
// malformed ucred, EBADF for a bad descriptor, EPERM for credentials the
// caller may not claim. Other levels are ignored.
func copyInControl(t *kernel.Task, addr, length uint64) (control, error) {
	var c control
	if length == 0 {
		return c, nil
	}
	if length > maxControlLen || length > optmemMax {
		return c, unix.ENOBUFS
	}
	b := make([]byte, length)
	if err := copyIn(t, addr, b); err != nil {
		return c, err
	}
	le := binary.LittleEndian
	for off := uint64(0); off+cmsghdrSize <= length; {
		clen := le.Uint64(b[off:])
		level := int32(le.Uint32(b[off+8:]))
		typ := int32(le.Uint32(b[off+12:]))
		if clen < cmsghdrSize || clen > length-off {
			c.release(t)
			return control{}, unix.EINVAL
		}
		data := b[off+cmsghdrSize : off+clen]
		off += cmsgAlign(clen)
		if level != unix.SOL_SOCKET {
			continue
		}
		switch typ {
		case unix.SCM_RIGHTS:
			n := len(data) / 4
			if n == 0 {
				continue
			}
			if len(c.rights)+n > unixsocket.MaxRights {
				c.release(t)
				return control{}, unix.EINVAL
			}
			for i := 0; i < n; i++ {
				f, err := getFile(t, int32(le.Uint32(data[4*i:])))
				if err != nil {
					c.release(t)
					return control{}, err
				}
				c.rights = append(c.rights, f)
			}
		case unix.SCM_CREDENTIALS:
			if clen != cmsghdrSize+ucredSize {
				c.release(t)
				return control{}, unix.EINVAL
			}
			cred := unixsocket.Cred{PID: int32(le.Uint32(data[0:])), UID: le.Uint32(data[4:]), GID: le.Uint32(data[8:])}
			if err := checkSCMCred(t, cred); err != nil {
				c.release(t)
				return control{}, err
			}
			c.cred = &cred
		default:
			c.release(t)
			return control{}, unix.EINVAL
		}
	}
	return c, nil
}

// checkSCMCred returns EPERM unless t may claim cred: its own process
// (or CAP_SYS_ADMIN), one of its user IDs (or CAP_SETUID) and one of its
// group IDs (or CAP_SETGID).
func checkSCMCred(t *kernel.Task, cred unixsocket.Cred) error {
	c := t.Credentials()
	pidOK := cred.PID == t.ThreadGroup().ID() || c.HasCap(unix.CAP_SYS_ADMIN)
	uidOK := cred.UID == c.RealUID || cred.UID == c.EffectiveUID || cred.UID == c.SavedUID || c.HasCap(unix.CAP_SETUID)
	gidOK := cred.GID == c.RealGID || cred.GID == c.EffectiveGID || cred.GID == c.SavedGID || c.HasCap(unix.CAP_SETGID)
	if !pidOK || !uidOK || !gidOK {
		return unix.EPERM
	}
	return nil
}

// sendmsgArgs are the decoded arguments of one send.
type sendmsgArgs struct {
	iovs  []iovec
	name  []byte // raw destination address, nil if none
	ctl   control
	flags int
}

// doSend sends on s; it takes over a.ctl's references. EPIPE on a stream
// raises SIGPIPE unless MSG_NOSIGNAL.
func doSend(t *kernel.Task, f *vfs.FileDescription, s *unixsocket.Socket, a *sendmsgArgs) (uint64, error) {
	ctx := t.Context()
	rights := a.ctl.rights
	a.ctl.rights = nil
	dropRights := func() {
		for _, r := range rights {
			r.DecRef(ctx)
		}
		rights = nil
	}
	defer dropRights()
	if a.flags&unix.MSG_OOB != 0 {
		return 0, unix.EOPNOTSUPP
	}
	opts := unixsocket.SendOptions{
		NonBlock: f.StatusFlags()&unix.O_NONBLOCK != 0 || a.flags&unix.MSG_DONTWAIT != 0,
		Cred:     scmCred(t),
		HasName:  len(a.name) > 0,
	}
	if a.ctl.cred != nil {
		opts.Cred = *a.ctl.cred
	}
	if opts.HasName && s.Type() == unix.SOCK_DGRAM {
		sa, err := parseSockaddr(a.name, unixFamilyOnly)
		if err != nil {
			return 0, err
		}
		if len(sa.name) == 0 {
			return 0, unix.EINVAL
		}
		target, release, err := resolveTarget(t, sa.name)
		if err != nil {
			return 0, err
		}
		defer release()
		opts.To = &target
	}
	total := iovTotal(a.iovs)
	var sent uint64
	var err error
	if s.Type() != unix.SOCK_STREAM {
		snd, _ := s.BufSizes()
		if total > uint64(snd) {
			return 0, unix.EMSGSIZE
		}
		buf := make([]byte, total)
		if err := gatherIovecs(t, a.iovs, 0, buf); err != nil {
			return 0, err
		}
		opts.Rights, rights = rights, nil
		var n int
		n, err = s.Send(ctx, buf, &opts)
		sent = uint64(n)
	} else {
		buf := make([]byte, min(total, ioChunk))
		for first := true; first || sent < total; first = false {
			chunk := buf[:min(uint64(len(buf)), total-sent)]
			if gerr := gatherIovecs(t, a.iovs, sent, chunk); gerr != nil {
				if sent == 0 {
					return 0, gerr
				}
				break
			}
			opts.Rights, rights = rights, nil
			var n int
			n, err = s.Send(ctx, chunk, &opts)
			sent += uint64(n)
			if err != nil || n < len(chunk) {
				break
			}
		}
	}
	if sent > 0 {
		return sent, nil
	}
	// Only stream sockets raise SIGPIPE (Linux: unix_stream_sendmsg).
	if err == unix.EPIPE && a.flags&unix.MSG_NOSIGNAL == 0 && s.Type() == unix.SOCK_STREAM {
		raiseSIGPIPE(t)
	}
	return 0, err
}

// recvmsgResult is what doRecv produced.
type recvmsgResult struct {
	n     uint64
	res   unixsocket.RecvResult
	flags int // MSG_TRUNC
}

// doRecv receives into the iovecs. The caller owns res.Rights.
func doRecv(t *kernel.Task, f *vfs.FileDescription, s *unixsocket.Socket, iovs []iovec, flags int) (recvmsgResult, error) {
	var out recvmsgResult
	if flags&unix.MSG_OOB != 0 {
		if s.Type() == unix.SOCK_STREAM {
			return out, unix.EINVAL
		}
		return out, unix.EOPNOTSUPP
	}
	opts := unixsocket.RecvOptions{
		Peek:     flags&unix.MSG_PEEK != 0,
		WaitAll:  flags&unix.MSG_WAITALL != 0,
		Trunc:    flags&unix.MSG_TRUNC != 0,
		NonBlock: f.StatusFlags()&unix.O_NONBLOCK != 0 || flags&unix.MSG_DONTWAIT != 0,
	}
	total := iovTotal(iovs)
	ctx := t.Context()
	if s.Type() != unix.SOCK_STREAM {
		buf := make([]byte, min(total, unixsocket.MaxBufSize))
		r, err := s.Recv(ctx, buf, opts)
		if err != nil {
			return out, err
		}
		out.res = r
		if r.Truncated {
			out.flags |= unix.MSG_TRUNC
		}
		if err := scatterIovecs(t, iovs, 0, buf[:min(r.N, len(buf))]); err != nil {
			out.release(t)
			return out, err
		}
		out.n = uint64(r.N)
		return out, nil
	}
	buf := make([]byte, min(total, ioChunk))
	opts.Trunc = false
	for {
		chunk := buf[:min(uint64(len(buf)), total-out.n)]
		r, err := s.Recv(ctx, chunk, opts)
		if err != nil {
			if out.n > 0 {
				return out, nil
			}
			return out, err
		}
		if out.n == 0 {
			out.res = r
		} else {
			out.res.Rights = append(out.res.Rights, r.Rights...)
		}
		if err := scatterIovecs(t, iovs, out.n, chunk[:r.N]); err != nil {
			if out.n == 0 {
				out.release(t)
				return out, err
			}
			return out, nil
		}
		out.n += uint64(r.N)
		// MSG_WAITALL on a buffer larger than one chunk goes on with
		// the next chunk; anything else is done.
		if !opts.WaitAll || opts.Peek || r.N < len(chunk) || len(r.Rights) > 0 || out.n >= total {
			return out, nil
		}
	}
}

// release drops the passed files of a result.
func (r *recvmsgResult) release(t *kernel.Task) {
	for _, f := range r.res.Rights {
		f.DecRef(t.Context())
	}
	r.res.Rights = nil
}

// fromSockaddr encodes a received message's source for recvfrom(2) and
// recvmsg(2): empty for an unnamed sender, as Linux's unix_copy_addr.
func fromSockaddr(a unixsocket.Address) []byte {
	if len(a) == 0 {
		return nil
	}
	return a.Sockaddr()
}

// Sendto implements sendto(2) (and send(2)).
func Sendto(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, bufAddr, size, flags, destAddr, addrlen := fdArg(args[0]), args[1], args[2], int(int32(args[3])), args[4], args[5]
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return nlSendto(t, ns, bufAddr, size, destAddr, addrlen)
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return inetSendto(t, f, is, bufAddr, size, flags, destAddr, addrlen)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if int64(size) < 0 {
		size = maxRW
	}
	a := sendmsgArgs{iovs: []iovec{{bufAddr, min(size, maxRW)}}, flags: flags}
	if destAddr != 0 {
		if a.name, err = copyInRawSockaddr(t, destAddr, addrlen); err != nil {
			return 0, err
		}
	}
	return doSend(t, f, s, &a)
}

// Recvfrom implements recvfrom(2) (and recv(2)).
func Recvfrom(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, bufAddr, size, flags, srcAddr, addrlen := fdArg(args[0]), args[1], args[2], int(int32(args[3])), args[4], args[5]
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return nlRecvfrom(t, f, ns, bufAddr, size, flags, srcAddr, addrlen)
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return inetRecvfrom(t, f, is, bufAddr, size, flags, srcAddr, addrlen)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if int64(size) < 0 {
		size = maxRW
	}
	r, err := doRecv(t, f, s, []iovec{{bufAddr, min(size, maxRW)}}, flags)
	if err != nil {
		return 0, err
	}
	r.release(t)
	if srcAddr != 0 {
		if err := copyOutSockaddr(t, srcAddr, addrlen, fromSockaddr(r.res.From)); err != nil {
			return 0, err
		}
	}
	return r.n, nil
}

// sendmsg sends the message described by the msghdr at addr.
func sendmsg(t *kernel.Task, f *vfs.FileDescription, s *unixsocket.Socket, addr uint64, flags int) (uint64, error) {
	m, err := copyInMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	a := sendmsgArgs{flags: flags}
	if a.iovs, err = msgIovecs(t, &m); err != nil {
		return 0, err
	}
	if m.namelen > 0 {
		if a.name, err = copyInRawSockaddr(t, m.name, uint64(m.namelen)); err != nil {
			return 0, err
		}
	}
	if a.ctl, err = copyInControl(t, m.control, m.controllen); err != nil {
		return 0, err
	}
	return doSend(t, f, s, &a)
}

// Sendmsg implements sendmsg(2).
func Sendmsg(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, msgAddr, flags := fdArg(args[0]), args[1], int(int32(args[2]))
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return nlSendmsg(t, ns, msgAddr)
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return inetSendmsg(t, f, is, msgAddr, flags)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	return sendmsg(t, f, s, msgAddr, flags)
}

// putCmsg appends one control message to out as Linux's put_cmsg: with
// less room than a header nothing is written; with less than the whole
// message it is cut (and cmsg_len says so). The next message starts at
// the aligned end. It returns the rest of the room and whether it
// truncated.
func putCmsg(out []byte, room uint64, typ int32, data []byte) ([]byte, uint64, bool) {
	if room < cmsghdrSize {
		return out, room, true
	}
	full := uint64(cmsghdrSize + len(data))
	clen := min(full, room)
	start := len(out)
	var h [cmsghdrSize]byte
	binary.LittleEndian.PutUint64(h[0:], clen)
	binary.LittleEndian.PutUint32(h[8:], unix.SOL_SOCKET)
	binary.LittleEndian.PutUint32(h[12:], uint32(typ))
	out = append(out, h[:]...)
	out = append(out, data[:clen-cmsghdrSize]...)
	space := min(cmsgAlign(full), room)
	for uint64(len(out)-start) < space {
		out = append(out, 0)
	}
	return out, room - space, clen < full
}

// controlOut builds the control data of a receive into at most room
// bytes: SCM_CREDENTIALS, then SCM_RIGHTS with as many descriptors as fit
// installed in t's table (the rest are closed, MSG_CTRUNC). It consumes
// r.Rights.
func controlOut(t *kernel.Task, r *recvmsgResult, hasControl bool, room uint64, cloexec bool) ([]byte, int) {
	flags := 0
	defer r.release(t)
	if !hasControl {
		if r.res.Cred != nil || len(r.res.Rights) > 0 {
			flags |= unix.MSG_CTRUNC
		}
		return nil, flags
	}
	var out []byte
	var trunc bool
	if c := r.res.Cred; c != nil {
		var b [ucredSize]byte
		binary.LittleEndian.PutUint32(b[0:], uint32(c.PID))
		binary.LittleEndian.PutUint32(b[4:], c.UID)
		binary.LittleEndian.PutUint32(b[8:], c.GID)
		if out, room, trunc = putCmsg(out, room, unix.SCM_CREDENTIALS, b[:]); trunc {
			flags |= unix.MSG_CTRUNC
		}
	}
	if rights := r.res.Rights; len(rights) > 0 {
		fdmax := 0
		if room > cmsghdrSize {
			fdmax = int((room - cmsghdrSize) / 4)
		}
		var fds []byte
		for _, rf := range rights[:min(fdmax, len(rights))] {
			fd, err := newFD(t, rf, kernel.FDFlags{CloseOnExec: cloexec})
			if err != nil {
				break
			}
			fds = binary.LittleEndian.AppendUint32(fds, uint32(fd))
		}
		if len(fds) > 0 {
			out, _, _ = putCmsg(out, room, unix.SCM_RIGHTS, fds)
		}
		if len(fds)/4 < len(rights) {
			flags |= unix.MSG_CTRUNC
		}
	}
	return out, flags
}

// recvmsg receives one message described by the msghdr at addr and
// updates its msg_namelen, msg_controllen and msg_flags.
func recvmsg(t *kernel.Task, f *vfs.FileDescription, s *unixsocket.Socket, addr uint64, flags int) (uint64, error) {
	m, err := copyInMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	iovs, err := msgIovecs(t, &m)
	if err != nil {
		return 0, err
	}
	if m.controllen > maxControlLen {
		m.controllen = maxControlLen
	}
	r, err := doRecv(t, f, s, iovs, flags)
	if err != nil {
		return 0, err
	}
	if m.name != 0 {
		if err := copyOutSockaddr(t, m.name, addr+8, fromSockaddr(r.res.From)); err != nil {
			r.release(t)
			return 0, err
		}
	}
	ctl, cflags := controlOut(t, &r, m.control != 0, m.controllen, flags&unix.MSG_CMSG_CLOEXEC != 0)
	if len(ctl) > 0 {
		if err := copyOut(t, m.control, ctl); err != nil {
			return 0, err
		}
	}
	var tail [16]byte
	binary.LittleEndian.PutUint64(tail[0:], uint64(len(ctl)))
	binary.LittleEndian.PutUint32(tail[8:], uint32(r.flags|cflags|flags&unix.MSG_CMSG_CLOEXEC))
	if err := copyOut(t, addr+40, tail[:12]); err != nil {
		return 0, err
	}
	return r.n, nil
}

// Recvmsg implements recvmsg(2).
func Recvmsg(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, msgAddr, flags := fdArg(args[0]), args[1], int(int32(args[2]))
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return nlRecvmsg(t, f, ns, msgAddr, flags)
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return inetRecvmsg(t, f, is, msgAddr, flags)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	return recvmsg(t, f, s, msgAddr, flags)
}

// putMsgLen stores an mmsghdr's msg_len.
func putMsgLen(t *kernel.Task, addr uint64, n uint64) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	return copyOut(t, addr+msghdrSize, b[:])
}

// Sendmmsg implements sendmmsg(2).
func Sendmmsg(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, msgvec, vlen, flags := fdArg(args[0]), args[1], uint32(args[2]), int(int32(args[3]))
	f, s, err := getAnySocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	vlen = min(vlen, uioMaxIOV)
	var i uint32
	for ; i < vlen; i++ {
		addr := msgvec + uint64(i)*mmsghdrSize
		n, err := s.sendmsg(t, f, addr, flags)
		if err == nil {
			err = putMsgLen(t, addr, n)
		}
		if err != nil {
			if i > 0 {
				return uint64(i), nil
			}
			return 0, err
		}
	}
	return uint64(i), nil
}

// Recvmmsg implements recvmmsg(2).
func Recvmmsg(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, msgvec, vlen, flags, timeoutAddr := fdArg(args[0]), args[1], uint32(args[2]), int(int32(args[3])), args[4]
	f, s, err := getAnySocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	vlen = min(vlen, uioMaxIOV)
	var dl time.Time
	if timeoutAddr != 0 {
		var b [16]byte
		if err := copyIn(t, timeoutAddr, b[:]); err != nil {
			return 0, err
		}
		sec, nsec := int64(binary.LittleEndian.Uint64(b[0:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return 0, unix.EINVAL
		}
		dl = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(nsec))
	}
	var i uint32
	for ; i < vlen; i++ {
		addr := msgvec + uint64(i)*mmsghdrSize
		n, err := s.recvmsg(t, f, addr, flags&^unix.MSG_WAITFORONE)
		if err == nil {
			err = putMsgLen(t, addr, n)
		}
		if err != nil {
			if i > 0 {
				return uint64(i), nil
			}
			return 0, err
		}
		if flags&unix.MSG_WAITFORONE != 0 {
			flags |= unix.MSG_DONTWAIT
		}
		if !dl.IsZero() && !time.Now().Before(dl) {
			return uint64(i + 1), nil
		}
	}
	return uint64(i), nil
}

// anySocket is an AF_UNIX or an inet socket, for the calls that loop over
// messages.
type anySocket struct {
	u  *unixsocket.Socket
	in *inet.Socket
	nl *netlink.Socket
}

// getAnySocket returns the socket at fd, of either kind.
func getAnySocket(t *kernel.Task, fd int32) (*vfs.FileDescription, anySocket, error) {
	if f, is := inetFile(t, fd); is != nil {
		return f, anySocket{in: is}, nil
	}
	if f, ns := netlinkFile(t, fd); ns != nil {
		return f, anySocket{nl: ns}, nil
	}
	f, s, err := getSocket(t, fd)
	return f, anySocket{u: s}, err
}

func (a anySocket) sendmsg(t *kernel.Task, f *vfs.FileDescription, addr uint64, flags int) (uint64, error) {
	if a.in != nil {
		return inetSendmsg(t, f, a.in, addr, flags)
	}
	if a.nl != nil {
		return nlSendmsg(t, a.nl, addr)
	}
	return sendmsg(t, f, a.u, addr, flags)
}

func (a anySocket) recvmsg(t *kernel.Task, f *vfs.FileDescription, addr uint64, flags int) (uint64, error) {
	if a.in != nil {
		return inetRecvmsg(t, f, a.in, addr, flags)
	}
	if a.nl != nil {
		return nlRecvmsg(t, f, a.nl, addr, flags)
	}
	return recvmsg(t, f, a.u, addr, flags)
}
