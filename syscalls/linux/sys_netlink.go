package linux

import (
	"encoding/binary"
	"sync"

	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
	"github.com/palisade-sandbox/palisade/syscalls/netlink"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

// AF_NETLINK sockets: NETLINK_ROUTE and NETLINK_SOCK_DIAG (syscalls/netlink); the calls
// below are reached from the socket syscalls' first lines, as the inet
// ones are.

// netlinkNamespaces maps each kernel to its netlink port namespace.
var netlinkNamespaces sync.Map

func netlinkNamespace(t *kernel.Task) *netlink.Namespace {
	if ns, ok := netlinkNamespaces.Load(t.Kernel()); ok {
		return ns.(*netlink.Namespace)
	}
	ns, _ := netlinkNamespaces.LoadOrStore(t.Kernel(), netlink.NewNamespace())
	return ns.(*netlink.Namespace)
}

// netlinkFromFile returns f's netlink socket, or nil.
func netlinkFromFile(f *vfs.FileDescription) *netlink.Socket { return netlink.FromImpl(f.Impl()) }

// netlinkFile returns the file at fd and its netlink socket, or nils when
// fd is not one (the caller's normal path reports any error).
func netlinkFile(t *kernel.Task, fd int32) (*vfs.FileDescription, *netlink.Socket) {
	f, err := getOpenFile(t, fd)
	if err != nil {
		return nil, nil
	}
	s := netlinkFromFile(f)
	if s == nil {
		f.DecRef(t.Context())
		return nil, nil
	}
	return f, s
}

// netlinkSocket implements socket(2) for AF_NETLINK.
func netlinkSocket(t *kernel.Task, stype, protocol, flags int) (uint64, error) {
	if stype != unix.SOCK_RAW && stype != unix.SOCK_DGRAM {
		return 0, unix.ESOCKTNOSUPPORT
	}
	if protocol != unix.NETLINK_ROUTE && protocol != unix.NETLINK_SOCK_DIAG {
		if protocol >= 0 && protocol < 32 {
			warnOnce(t, "netlink"+string(rune(protocol)), "socket(AF_NETLINK, %d, %d): only NETLINK_ROUTE and NETLINK_SOCK_DIAG are implemented: returning EPROTONOSUPPORT", stype, protocol)
		}
		return 0, unix.EPROTONOSUPPORT
	}
	c := t.Credentials()
	var src netlink.Source = stackOf(t)
	if inet.EndpointFactoryFor(t.Kernel()) != nil {
		// --network=host: dumps describe the host namespace as boot
		// saw it; changes are refused (not the host's stack).
		if hs := inet.HostInterfacesFor(t.Kernel()); hs != nil {
			src = hs
		}
		src = netlink.ReadOnly(src)
	}
	s := netlink.New(netlinkNamespace(t), src, stype, protocol, c.EffectiveUID, c.EffectiveGID)
	var of uint32
	if flags&unix.SOCK_NONBLOCK != 0 {
		of |= unix.O_NONBLOCK
	}
	f := netlink.NewFile(t.Context(), s, of)
	defer f.DecRef(t.Context())
	fd, err := installSocket(t, f, flags)
	return uint64(fd), err
}

func tgid(t *kernel.Task) int32 { return int32(t.ThreadGroup().ID()) }

// nlAddr copies in a sockaddr argument, bounded as the others.
func nlAddr(t *kernel.Task, addr, addrlen uint64) ([]byte, error) {
	return copyInRawSockaddr(t, addr, addrlen)
}

func nlBind(t *kernel.Task, s *netlink.Socket, addr, addrlen uint64) error {
	b, err := nlAddr(t, addr, addrlen)
	if err != nil {
		return err
	}
	return s.Bind(b, tgid(t))
}

func nlConnect(t *kernel.Task, s *netlink.Socket, addr, addrlen uint64) error {
	b, err := nlAddr(t, addr, addrlen)
	if err != nil {
		return err
	}
	return s.Connect(b, tgid(t))
}

// nlSend sends the iovecs to name (nil: the kernel).
func nlSend(t *kernel.Task, s *netlink.Socket, iovs []iovec, name []byte) (uint64, error) {
	total := iovTotal(iovs)
	if total > netlink.MaxSend {
		return 0, unix.EMSGSIZE
	}
	buf := make([]byte, total)
	if err := gatherIovecs(t, iovs, 0, buf); err != nil {
		return 0, err
	}
	n, err := s.Send(t.Context(), buf, name, tgid(t))
	return uint64(n), err
}

// nlRecv receives into the iovecs: with MSG_TRUNC the datagram's whole
// length is returned; rflags gets MSG_TRUNC when it did not fit.
func nlRecv(t *kernel.Task, f *vfs.FileDescription, s *netlink.Socket, iovs []iovec, flags int) (n uint64, rflags int, err error) {
	if flags&unix.MSG_ERRQUEUE != 0 {
		return 0, 0, unix.EAGAIN
	}
	if flags&unix.MSG_OOB != 0 {
		return 0, 0, unix.EOPNOTSUPP
	}
	nonblock := f.StatusFlags()&unix.O_NONBLOCK != 0 || flags&unix.MSG_DONTWAIT != 0
	buf := make([]byte, min(iovTotal(iovs), maxDatagram))
	r, err := s.Recv(t.Context(), buf, flags&unix.MSG_PEEK != 0, nonblock)
	if err != nil {
		return 0, 0, err
	}
	if err := scatterIovecs(t, iovs, 0, buf[:r.N]); err != nil {
		return 0, 0, err
	}
	if r.Total > r.N {
		rflags |= unix.MSG_TRUNC
	}
	n = uint64(r.N)
	if flags&unix.MSG_TRUNC != 0 {
		n = uint64(r.Total)
	}
	return n, rflags, nil
}

func nlSendto(t *kernel.Task, s *netlink.Socket, bufAddr, size, destAddr, addrlen uint64) (uint64, error) {
	var name []byte
	if destAddr != 0 {
		var err error
		if name, err = nlAddr(t, destAddr, addrlen); err != nil {
			return 0, err
		}
	}
	return nlSend(t, s, []iovec{{bufAddr, min(size, netlink.MaxSend+1)}}, name)
}

func nlRecvfrom(t *kernel.Task, f *vfs.FileDescription, s *netlink.Socket, bufAddr, size uint64, flags int, srcAddr, addrlen uint64) (uint64, error) {
	n, _, err := nlRecv(t, f, s, []iovec{{bufAddr, min(size, maxRW)}}, flags)
	if err != nil {
		return 0, err
	}
	if srcAddr != 0 {
		if err := copyOutSockaddr(t, srcAddr, addrlen, netlink.Sockaddr(0, 0)); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func nlSendmsg(t *kernel.Task, s *netlink.Socket, addr uint64) (uint64, error) {
	iovs, name, err := copyInSendmsg(t, addr, nlAddr)
	if err != nil {
		return 0, err
	}
	return nlSend(t, s, iovs, name)
}

func nlRecvmsg(t *kernel.Task, f *vfs.FileDescription, s *netlink.Socket, addr uint64, flags int) (uint64, error) {
	m, iovs, err := copyInMsg(t, addr)
	if err != nil {
		return 0, err
	}
	n, rflags, err := nlRecv(t, f, s, iovs, flags)
	if err != nil {
		return 0, err
	}
	if m.name != 0 {
		if err := copyOutSockaddr(t, m.name, addr+8, netlink.Sockaddr(0, 0)); err != nil {
			return 0, err
		}
	}
	var tail [12]byte // msg_controllen 0, msg_flags
	binary.LittleEndian.PutUint32(tail[8:], uint32(rflags))
	if err := copyOut(t, addr+40, tail[:]); err != nil {
		return 0, err
	}
	return n, nil
}

func nlSetsockopt(t *kernel.Task, s *netlink.Socket, level, name int32, optval uint64, optlen int32) error {
	if level != unix.SOL_SOCKET && level != unix.SOL_NETLINK {
		return unix.ENOPROTOOPT
	}
	if optlen < 4 {
		return unix.EINVAL
	}
	var b [4]byte
	if err := copyIn(t, optval, b[:]); err != nil {
		return err
	}
	v := int(int32(binary.LittleEndian.Uint32(b[:])))
	if level == unix.SOL_NETLINK {
		return s.SetOption(int(name), v)
	}
	switch name {
	case unix.SO_SNDBUFFORCE, unix.SO_RCVBUFFORCE:
		if !t.Credentials().HasCap(unix.CAP_NET_ADMIN) {
			return unix.EPERM
		}
		s.SetBuf(name == unix.SO_RCVBUFFORCE, v)
	case unix.SO_SNDBUF, unix.SO_RCVBUF:
		s.SetBuf(name == unix.SO_RCVBUF, v)
	case unix.SO_PASSCRED, unix.SO_TIMESTAMP, unix.SO_ATTACH_FILTER:
		// Accepted: the kernel's messages carry no credentials to
		// check, and no filter is applied.
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

func nlGetsockopt(t *kernel.Task, s *netlink.Socket, level, name int32, optval, optlen uint64) error {
	var v int
	switch {
	case level == unix.SOL_NETLINK:
		var err error
		if v, err = s.Option(int(name)); err != nil {
			return err
		}
	case level == unix.SOL_SOCKET:
		switch name {
		case unix.SO_TYPE:
			v = s.Type
		case unix.SO_DOMAIN:
			v = unix.AF_NETLINK
		case unix.SO_PROTOCOL:
			v = s.Protocol
		case unix.SO_ERROR:
			v = s.TakeError()
		case unix.SO_RCVBUF:
			v = s.Buf(true)
		case unix.SO_SNDBUF:
			v = s.Buf(false)
		default:
			return unix.ENOPROTOOPT
		}
	default:
		return unix.ENOPROTOOPT
	}
	var lb [4]byte
	if err := copyIn(t, optlen, lb[:]); err != nil {
		return err
	}
	n := int32(binary.LittleEndian.Uint32(lb[:]))
	if n < 0 {
		return unix.EINVAL
	}
	out := intBytes(v)[:min(int(n), 4)]
	if len(out) > 0 {
		if err := copyOut(t, optval, out); err != nil {
			return err
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(len(out)))
	return copyOut(t, optlen, lb[:])
}
