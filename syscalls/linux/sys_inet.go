package linux

import (
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
	"github.com/palisade-sandbox/palisade/vfs"
)

// This file serves the socket calls on AF_INET and AF_INET6 sockets; the
// sockets themselves live in syscalls/inet, over netstack. Each socket
// handler of sys_socket*.go hands an inet socket to the inet* function
// here.

// maxDatagram bounds the buffer of one datagram send or receive: no IP
// datagram is larger.
const maxDatagram = 65536

// maxSockoptLen bounds the option bytes copied in or out.
const maxSockoptLen = 4096

// stackOf returns t's network stack.
func stackOf(t *kernel.Task) *netstack.Stack {
	k := t.Kernel()
	return inet.StackFor(k, func(format string, args ...any) { k.Warnf("netstack: "+format, args...) })
}

// inetFile returns the file at fd and its inet socket, or nils when fd is
// not an inet socket (the caller's normal path reports any error).
func inetFile(t *kernel.Task, fd int32) (*vfs.FileDescription, *inet.Socket) {
	f, err := getOpenFile(t, fd)
	if err != nil {
		return nil, nil
	}
	s := inet.FromImpl(f.Impl())
	if s == nil {
		f.DecRef(t.Context())
		return nil, nil
	}
	return f, s
}

// inetWarned records the one-time log lines of missing protocols.
var inetWarned sync.Map

func warnOnce(t *kernel.Task, key, format string, args ...any) {
	if _, loaded := inetWarned.LoadOrStore(key, true); !loaded {
		t.Kernel().Warnf(format, args...)
	}
}

// inetSocket implements socket(2) for AF_INET and AF_INET6.
//
// Ping sockets: Linux allows socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) to
// the groups in net.ipv4.ping_group_range; the sandbox behaves as if that
// range holds every group, so any guest user may ping (docs/network.md).
// SOCK_RAW needs CAP_NET_RAW in the task's credentials (EPERM), as
// Linux's ns_capable in the socket's network namespace.
func inetSocket(t *kernel.Task, domain, stype, protocol, flags int) (uint64, error) {
	v6 := domain == unix.AF_INET6
	if msg := inet.TakeNotice(t.Kernel()); msg != "" {
		t.Kernel().Warnf("%s", msg)
	}
	if mk := inet.EndpointFactoryFor(t.Kernel()); mk != nil {
		return inetHostSocket(t, mk, domain, stype, protocol, flags)
	}
	var num uint8
	switch stype {
	case unix.SOCK_STREAM:
		if protocol != 0 && protocol != unix.IPPROTO_TCP {
			return 0, unix.EPROTONOSUPPORT
		}
		num, protocol = unix.IPPROTO_TCP, unix.IPPROTO_TCP
	case unix.SOCK_DGRAM:
		switch {
		case protocol == 0 || protocol == unix.IPPROTO_UDP:
			num, protocol = unix.IPPROTO_UDP, unix.IPPROTO_UDP
		case protocol == unix.IPPROTO_UDPLITE:
			num = unix.IPPROTO_UDPLITE
		case protocol == unix.IPPROTO_ICMP && !v6, protocol == unix.IPPROTO_ICMPV6 && v6:
			num = uint8(protocol)
		default:
			return 0, unix.EPROTONOSUPPORT
		}
	case unix.SOCK_RAW:
		// inet_create's order: the protocol's range, the wildcard
		// protocol (no raw socket has one), then the capability.
		if protocol < 0 || protocol >= ipprotoMax {
			return 0, unix.EINVAL
		}
		if protocol == 0 {
			return 0, unix.EPROTONOSUPPORT
		}
		if !t.Credentials().HasCap(unix.CAP_NET_RAW) {
			return 0, unix.EPERM
		}
		rh := stackOf(t).RawHandler()
		if rh == nil {
			return 0, unix.EPROTONOSUPPORT
		}
		ep, err := rh.NewRawEndpoint(v6, protocol)
		if err != nil {
			return 0, err
		}
		return inetInstall(t, domain, stype, protocol, ep, flags)
	default:
		return 0, unix.ESOCKTNOSUPPORT
	}
	tp := stackOf(t).Transport(num)
	if tp == nil {
		warnOnce(t, familyName(domain)+string(rune(num)), "socket(%s, type %d, protocol %d): the network stack has no such transport yet: returning EPROTONOSUPPORT", familyName(domain), stype, protocol)
		return 0, unix.EPROTONOSUPPORT
	}
	ep, err := tp.NewEndpoint(v6)
	if err != nil {
		return 0, err
	}
	return inetInstall(t, domain, stype, protocol, ep, flags)
}

// ipprotoMax is Linux's IPPROTO_MAX: socket(2) protocols at or above it
// are EINVAL.
const ipprotoMax = 263

// inetInstall wraps ep in a socket file and installs it.
func inetInstall(t *kernel.Task, domain, stype, protocol int, ep netstack.Endpoint, flags int) (uint64, error) {
	c := t.Credentials()
	s := inet.New(domain, stype, protocol, ep, c.EffectiveUID, c.EffectiveGID)
	var of uint32
	if flags&unix.SOCK_NONBLOCK != 0 {
		of |= unix.O_NONBLOCK
	}
	f := inet.NewFile(t.Context(), s, of)
	defer f.DecRef(t.Context())
	fd, err := installSocket(t, f, flags)
	return uint64(fd), err
}

// inetAddr copies in and decodes an address argument.
func inetAddr(t *kernel.Task, s *inet.Socket, addr, addrlen uint64, use inet.AddrUse) (netstack.FullAddress, bool, error) {
	b, err := copyInRawSockaddr(t, addr, addrlen)
	if err != nil {
		return netstack.FullAddress{}, false, err
	}
	return inet.ParseSockaddr(s.Family, b, use)
}

func inetBind(t *kernel.Task, s *inet.Socket, addr, addrlen uint64) error {
	a, _, err := inetAddr(t, s, addr, addrlen, inet.UseBind)
	if err != nil {
		return err
	}
	if a.Port != 0 && a.Port < 1024 && !t.Credentials().HasCap(unix.CAP_NET_BIND_SERVICE) {
		return unix.EACCES
	}
	return s.Endpoint().Bind(a)
}

func inetConnect(t *kernel.Task, f *vfs.FileDescription, s *inet.Socket, addr, addrlen uint64) error {
	a, unspec, err := inetAddr(t, s, addr, addrlen, inet.UseConnect)
	if err != nil {
		return err
	}
	return s.Connect(t.Context(), a, unspec, f.StatusFlags()&unix.O_NONBLOCK != 0)
}

func inetAccept(t *kernel.Task, f *vfs.FileDescription, s *inet.Socket, addr, addrlen uint64, flags int) (uint64, error) {
	ctx := t.Context()
	ns, peer, err := s.Accept(ctx, f.StatusFlags()&unix.O_NONBLOCK != 0)
	if err != nil {
		return 0, err
	}
	var of uint32
	if flags&unix.SOCK_NONBLOCK != 0 {
		of |= unix.O_NONBLOCK
	}
	nf := inet.NewFile(ctx, ns, of)
	defer nf.DecRef(ctx)
	if addr != 0 {
		if err := copyOutSockaddr(t, addr, addrlen, inet.Sockaddr(s.Family, peer)); err != nil {
			return 0, err
		}
	}
	fd, err := installSocket(t, nf, flags)
	return uint64(fd), err
}

func inetName(t *kernel.Task, s *inet.Socket, addr, addrlen uint64, peer bool) error {
	var a netstack.FullAddress
	var err error
	if peer {
		a, err = s.Endpoint().RemoteAddress()
	} else {
		a, err = s.Endpoint().LocalAddress()
	}
	if err != nil {
		return err
	}
	return copyOutSockaddr(t, addr, addrlen, inet.Sockaddr(s.Family, a))
}

// inetCheckControl checks the form of a send's control messages (netlink
// sockets): ENOBUFS for an oversized buffer, EINVAL for a malformed
// header. Inet sockets apply theirs (inetSendControl).
func inetCheckControl(t *kernel.Task, addr, length uint64) error {
	if length == 0 {
		return nil
	}
	if length > optmemMax {
		return unix.ENOBUFS
	}
	b := make([]byte, length)
	if err := copyIn(t, addr, b); err != nil {
		return err
	}
	for off := uint64(0); off+cmsghdrSize <= length; {
		clen := binary.LittleEndian.Uint64(b[off:])
		if clen < cmsghdrSize || clen > length-off {
			return unix.EINVAL
		}
		off += cmsgAlign(clen)
	}
	return nil
}

// inetSend sends the iovecs to name (nil: the connected peer).
// ctl holds the send's control messages (nil: none).
func inetSend(t *kernel.Task, f *vfs.FileDescription, s *inet.Socket, iovs []iovec, name []byte, flags int, ctl *netstack.SendControl) (uint64, error) {
	if flags&unix.MSG_OOB != 0 && s.Type != unix.SOCK_STREAM {
		return 0, unix.EOPNOTSUPP
	}
	opts := netstack.WriteOptions{More: flags&unix.MSG_MORE != 0, OOB: flags&unix.MSG_OOB != 0}
	if s.Type != unix.SOCK_STREAM {
		opts.Control = ctl
	}
	if len(name) > 0 && s.Type != unix.SOCK_STREAM {
		a, unspec, err := inet.ParseSockaddr(s.Family, name, inet.UseSendto)
		if err != nil {
			return 0, err
		}
		if !unspec {
			opts.To = &a
		}
	}
	nonblock := f.StatusFlags()&unix.O_NONBLOCK != 0 || flags&unix.MSG_DONTWAIT != 0
	ctx := t.Context()
	total := iovTotal(iovs)
	if s.Type != unix.SOCK_STREAM {
		if total > maxDatagram {
			return 0, unix.EMSGSIZE
		}
		buf := make([]byte, total)
		if err := gatherIovecs(t, iovs, 0, buf); err != nil {
			return 0, err
		}
		n, err := s.Send(ctx, buf, opts, nonblock)
		return uint64(n), err
	}
	buf := getIOBuffer(min(total, ioChunk))
	defer putIOBuffer(buf)
	var sent uint64
	var err error
	for first := true; first || sent < total; first = false {
		chunk := buf[:min(uint64(len(buf)), total-sent)]
		if gerr := gatherIovecs(t, iovs, sent, chunk); gerr != nil {
			if sent == 0 {
				return 0, gerr
			}
			break
		}
		var n int
		n, err = s.Send(ctx, chunk, opts, nonblock)
		sent += uint64(n)
		if err != nil || n < len(chunk) {
			break
		}
	}
	if sent > 0 {
		return sent, nil
	}
	if err == unix.EPIPE && flags&unix.MSG_NOSIGNAL == 0 {
		raiseSIGPIPE(t)
	}
	return 0, err
}

// inetRecvResult is what inetRecv produced.
type inetRecvResult struct {
	n     uint64
	res   netstack.ReadResult
	flags int
}

// inetRecv receives into the iovecs.
func inetRecv(t *kernel.Task, f *vfs.FileDescription, s *inet.Socket, iovs []iovec, flags int) (inetRecvResult, error) {
	var out inetRecvResult
	if flags&unix.MSG_ERRQUEUE != 0 {
		return inetRecvErrQueue(t, s, iovs)
	}
	if flags&unix.MSG_OOB != 0 && s.Type != unix.SOCK_STREAM {
		return out, unix.EOPNOTSUPP
	}
	opts := inet.RecvOptions{
		Peek:     flags&unix.MSG_PEEK != 0,
		Trunc:    flags&unix.MSG_TRUNC != 0,
		WaitAll:  flags&unix.MSG_WAITALL != 0,
		NonBlock: f.StatusFlags()&unix.O_NONBLOCK != 0 || flags&unix.MSG_DONTWAIT != 0,
		OOB:      flags&unix.MSG_OOB != 0,
	}
	ctx := t.Context()
	total := iovTotal(iovs)
	if s.Type != unix.SOCK_STREAM {
		buf := make([]byte, min(total, maxDatagram))
		r, err := s.Recv(ctx, buf, opts)
		if err != nil {
			return out, err
		}
		out.res = r
		if r.Total > r.N {
			out.flags |= unix.MSG_TRUNC
		}
		if err := scatterIovecs(t, iovs, 0, buf[:r.N]); err != nil {
			return out, err
		}
		out.n = uint64(r.N)
		if opts.Trunc {
			out.n = uint64(r.Total)
		}
		return out, nil
	}
	// A pooled buffer: a fresh 128 KiB per read of a bulk transfer was a
	// good part of its cost (allocation, GC, page faults).
	buf := getIOBuffer(min(total, ioChunk))
	defer putIOBuffer(buf)
	if !opts.Trunc {
		// Copied out before consumed: a fault leaves the data queued.
		opts.CopyOut = func(off int, b []byte) error {
			return scatterIovecs(t, iovs, out.n+uint64(off), b)
		}
	}
	for {
		chunk := buf[:min(uint64(len(buf)), total-out.n)]
		r, err := s.Recv(ctx, chunk, opts)
		if err != nil {
			if out.n > 0 || r.N > 0 {
				out.n += uint64(r.N)
				return out, nil
			}
			return out, err
		}
		if opts.Peek && !opts.Trunc {
			if err := scatterIovecs(t, iovs, out.n, chunk[:r.N]); err != nil {
				if out.n == 0 {
					return out, err
				}
				return out, nil
			}
		}
		if out.n == 0 {
			out.res = r
		}
		out.n += uint64(r.N)
		if !opts.WaitAll || opts.Peek || r.N < len(chunk) || out.n >= total {
			return out, nil
		}
	}
}

// inetRecvErrQueue takes the oldest error-queue entry (MSG_ERRQUEUE: never
// blocks; EAGAIN when empty or when the endpoint keeps no queue).
func inetRecvErrQueue(t *kernel.Task, s *inet.Socket, iovs []iovec) (inetRecvResult, error) {
	var out inetRecvResult
	er, ok := s.Endpoint().(netstack.ErrQueueReader)
	if !ok {
		return out, unix.EAGAIN
	}
	buf := make([]byte, min(iovTotal(iovs), maxDatagram))
	r, err := er.ReadErrQueue(buf)
	if err != nil {
		return out, err
	}
	out.res = r
	out.flags = unix.MSG_ERRQUEUE
	if r.Total > r.N {
		out.flags |= unix.MSG_TRUNC
	}
	if err := scatterIovecs(t, iovs, 0, buf[:r.N]); err != nil {
		return out, err
	}
	out.n = uint64(r.N)
	return out, nil
}

// inetFrom encodes a receive's source for msg_name: none for streams.
func inetFrom(s *inet.Socket, r netstack.ReadResult) []byte {
	if s.Type == unix.SOCK_STREAM {
		return nil
	}
	return inet.Sockaddr(s.Family, r.From)
}

func inetSendto(t *kernel.Task, f *vfs.FileDescription, s *inet.Socket, bufAddr, size uint64, flags int, destAddr, addrlen uint64) (uint64, error) {
	if int64(size) < 0 {
		size = maxRW
	}
	var name []byte
	if destAddr != 0 {
		var err error
		if name, err = copyInRawSockaddr(t, destAddr, addrlen); err != nil {
			return 0, err
		}
	}
	return inetSend(t, f, s, []iovec{{bufAddr, min(size, maxRW)}}, name, flags, nil)
}

func inetRecvfrom(t *kernel.Task, f *vfs.FileDescription, s *inet.Socket, bufAddr, size uint64, flags int, srcAddr, addrlen uint64) (uint64, error) {
	if int64(size) < 0 {
		size = maxRW
	}
	r, err := inetRecv(t, f, s, []iovec{{bufAddr, min(size, maxRW)}}, flags)
	if err != nil {
		return 0, err
	}
	if srcAddr != 0 {
		if err := copyOutSockaddr(t, srcAddr, addrlen, inetFrom(s, r.res)); err != nil {
			return 0, err
		}
	}
	return r.n, nil
}

func inetSendmsg(t *kernel.Task, f *vfs.FileDescription, s *inet.Socket, addr uint64, flags int) (uint64, error) {
	m, iovs, err := copyInMsg(t, addr)
	if err != nil {
		return 0, err
	}
	var name []byte
	if m.namelen > 0 {
		if name, err = copyInRawSockaddr(t, m.name, uint64(m.namelen)); err != nil {
			return 0, err
		}
	}
	ctl, err := inetSendControl(t, s, m.control, m.controllen)
	if err != nil {
		return 0, err
	}
	return inetSend(t, f, s, iovs, name, flags, ctl)
}

// putCmsgAt appends one control message of level and typ (see putCmsg).
func putCmsgAt(out []byte, room uint64, level, typ int32, data []byte) ([]byte, uint64, bool) {
	if room < cmsghdrSize {
		return out, room, true
	}
	full := uint64(cmsghdrSize + len(data))
	clen := min(full, room)
	start := len(out)
	var h [cmsghdrSize]byte
	binary.LittleEndian.PutUint64(h[0:], clen)
	binary.LittleEndian.PutUint32(h[8:], uint32(level))
	binary.LittleEndian.PutUint32(h[12:], uint32(typ))
	out = append(out, h[:]...)
	out = append(out, data[:clen-cmsghdrSize]...)
	space := min(cmsgAlign(full), room)
	for uint64(len(out)-start) < space {
		out = append(out, 0)
	}
	return out, room - space, clen < full
}

// inetControl builds the control messages of a receive.
func inetControl(s *inet.Socket, c *netstack.ControlMessages, room uint64) ([]byte, int) {
	type cm struct {
		level, typ int32
		data       []byte
	}
	var msgs []cm
	le := binary.LittleEndian
	if c.HasTimestamp {
		b := le.AppendUint64(nil, uint64(c.TimestampNS/1e9))
		b = le.AppendUint64(b, uint64(c.TimestampNS%1e9/1e3))
		msgs = append(msgs, cm{unix.SOL_SOCKET, unix.SCM_TIMESTAMP, b})
	}
	if s.Family == unix.AF_INET {
		if c.HasTOS {
			msgs = append(msgs, cm{unix.SOL_IP, unix.IP_TOS, []byte{c.TOS}})
		}
		if c.HasTTL {
			msgs = append(msgs, cm{unix.SOL_IP, unix.IP_TTL, le.AppendUint32(nil, uint32(c.TTL))})
		}
		if c.HasPktInfo {
			b := le.AppendUint32(nil, uint32(c.PktInfoIfIndex))
			d := c.PktInfoDst.Unmap().As4()
			b = append(b, d[:]...) // ipi_spec_dst
			b = append(b, d[:]...) // ipi_addr
			msgs = append(msgs, cm{unix.SOL_IP, unix.IP_PKTINFO, b})
		}
	} else {
		if c.HasTOS {
			msgs = append(msgs, cm{unix.SOL_IPV6, unix.IPV6_TCLASS, le.AppendUint32(nil, uint32(c.TOS))})
		}
		if c.HasTTL {
			typ := int32(unix.IPV6_HOPLIMIT)
			if c.TTL2292 {
				typ = ipv62292HopLimit
			}
			msgs = append(msgs, cm{unix.SOL_IPV6, typ, le.AppendUint32(nil, uint32(c.TTL))})
		}
		if c.HasPktInfo {
			d := c.PktInfoDst.As16()
			b := le.AppendUint32(d[:], uint32(c.PktInfoIfIndex))
			msgs = append(msgs, cm{unix.SOL_IPV6, unix.IPV6_PKTINFO, b})
		}
	}
	if c.HasExtErr {
		// struct sock_extended_err, then the offender (SO_EE_OFFENDER)
		// as a sockaddr of the socket's family, zero when there is none.
		ee := c.ExtErr
		b := le.AppendUint32(nil, ee.Errno)
		b = append(b, ee.Origin, ee.Type, ee.Code, 0)
		b = le.AppendUint32(b, ee.Info)
		b = le.AppendUint32(b, ee.Data)
		if s.Family == unix.AF_INET {
			off := make([]byte, unix.SizeofSockaddrInet4)
			if ee.Offender.IsValid() && ee.Offender.Unmap().Is4() {
				le.PutUint16(off, unix.AF_INET)
				a := ee.Offender.Unmap().As4()
				copy(off[4:8], a[:])
			}
			msgs = append(msgs, cm{unix.SOL_IP, unix.IP_RECVERR, append(b, off...)})
		} else {
			off := make([]byte, unix.SizeofSockaddrInet6)
			if ee.Offender.IsValid() {
				le.PutUint16(off, unix.AF_INET6)
				a := ee.Offender.As16()
				copy(off[8:24], a[:])
			}
			msgs = append(msgs, cm{unix.SOL_IPV6, unix.IPV6_RECVERR, append(b, off...)})
		}
	}
	var out []byte
	flags := 0
	for _, m := range msgs {
		var trunc bool
		if out, room, trunc = putCmsgAt(out, room, m.level, m.typ, m.data); trunc {
			flags |= unix.MSG_CTRUNC
		}
	}
	return out, flags
}

func inetRecvmsg(t *kernel.Task, f *vfs.FileDescription, s *inet.Socket, addr uint64, flags int) (uint64, error) {
	m, iovs, err := copyInMsg(t, addr)
	if err != nil {
		return 0, err
	}
	r, err := inetRecv(t, f, s, iovs, flags)
	if err != nil {
		return 0, err
	}
	if m.name != 0 {
		if err := copyOutSockaddr(t, m.name, addr+8, inetFrom(s, r.res)); err != nil {
			return 0, err
		}
	}
	var ctl []byte
	cflags := 0
	if m.control != 0 {
		ctl, cflags = inetControl(s, &r.res.Control, min(m.controllen, maxControlLen))
	}
	if len(ctl) > 0 {
		if err := copyOut(t, m.control, ctl); err != nil {
			return 0, err
		}
	}
	var tail [12]byte
	binary.LittleEndian.PutUint64(tail[0:], uint64(len(ctl)))
	binary.LittleEndian.PutUint32(tail[8:], uint32(r.flags|cflags))
	if err := copyOut(t, addr+40, tail[:]); err != nil {
		return 0, err
	}
	return r.n, nil
}

// decodeTimeval decodes a SO_RCVTIMEO/SO_SNDTIMEO value: EDOM for bad
// microseconds; a negative or huge time means no timeout, as Linux.
func decodeTimeval(b []byte) (time.Duration, error) {
	sec, usec := int64(binary.LittleEndian.Uint64(b[0:])), int64(binary.LittleEndian.Uint64(b[8:]))
	if usec < 0 || usec >= 1e6 {
		return 0, unix.EDOM
	}
	switch {
	case sec < 0:
		return 0, nil
	case sec >= int64(time.Duration(1<<62)/time.Second):
		return 0, nil
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

func inetSetsockopt(t *kernel.Task, s *inet.Socket, level, name int32, optval uint64, optlen int32) error {
	if optlen < 0 {
		return unix.EINVAL
	}
	val := make([]byte, min(int(optlen), maxSockoptLen))
	if err := copyIn(t, optval, val); err != nil {
		return err
	}
	if level == unix.SOL_SOCKET {
		switch name {
		case unix.SO_RCVTIMEO, unix.SO_SNDTIMEO:
			if len(val) < timevalSize {
				return unix.EINVAL
			}
			d, err := decodeTimeval(val)
			if err != nil {
				return err
			}
			s.SetTimeout(name == unix.SO_RCVTIMEO, d)
			return nil
		case unix.SO_TYPE, unix.SO_DOMAIN, unix.SO_PROTOCOL, unix.SO_ACCEPTCONN:
			return unix.ENOPROTOOPT
		case unix.SO_SNDBUFFORCE, unix.SO_RCVBUFFORCE:
			if !t.Credentials().HasCap(unix.CAP_NET_ADMIN) {
				return unix.EPERM
			}
			if name == unix.SO_SNDBUFFORCE {
				name = unix.SO_SNDBUF
			} else {
				name = unix.SO_RCVBUF
			}
		}
	}
	return s.Endpoint().SetSockOpt(int(level), int(name), val)
}

func inetGetsockopt(t *kernel.Task, s *inet.Socket, level, name int32, optval, optlen uint64) error {
	var lb [4]byte
	if err := copyIn(t, optlen, lb[:]); err != nil {
		return err
	}
	n := int32(binary.LittleEndian.Uint32(lb[:]))
	if n < 0 {
		return unix.EINVAL
	}
	var v []byte
	if level == unix.SOL_SOCKET {
		switch name {
		case unix.SO_TYPE:
			v = intBytes(s.Type)
		case unix.SO_DOMAIN:
			v = intBytes(s.Family)
		case unix.SO_PROTOCOL:
			v = intBytes(s.Protocol)
		case unix.SO_RCVTIMEO, unix.SO_SNDTIMEO:
			rcv, snd := s.Timeouts()
			if name == unix.SO_RCVTIMEO {
				v = timevalBytes(rcv)
			} else {
				v = timevalBytes(snd)
			}
		}
	}
	if v == nil {
		buf := make([]byte, min(int(n), maxSockoptLen))
		got, err := s.Endpoint().GetSockOpt(int(level), int(name), buf)
		if err != nil {
			return err
		}
		v = buf[:got]
	} else {
		v = v[:min(int(n), len(v))]
	}
	if len(v) > 0 {
		if err := copyOut(t, optval, v); err != nil {
			return err
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(len(v)))
	return copyOut(t, optlen, lb[:])
}
