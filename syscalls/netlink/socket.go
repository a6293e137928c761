package netlink

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

const (
	// MaxSend bounds one message the guest sends (EMSGSIZE beyond it).
	MaxSend = 64 << 10
	// DefaultBuf is SO_RCVBUF and SO_SNDBUF at creation (Linux's
	// net.core.rmem_default).
	DefaultBuf = 212992
	// MaxBuf is the largest SO_RCVBUF/SO_SNDBUF request honoured before
	// doubling (net.core.rmem_max).
	MaxBuf = 212992
	// MinBuf is the smallest buffer size.
	MinBuf = 2304
	// SockaddrLen is sizeof(struct sockaddr_nl).
	SockaddrLen = 12
)

var sockfsDev = vfs.AnonDevice()

// lastIno numbers netlink sockets for fstat.
var lastIno atomic.Uint64

func init() { lastIno.Store(1 << 25) }

// Namespace holds the port ids bound in one sandbox and the sockets that
// joined multicast groups.
type Namespace struct {
	mu    sync.Mutex
	ports map[uint32]bool
	next  int32
	// members are the sockets in at least one group. Protected by mu.
	members map[*Socket]struct{}
}

// NewNamespace returns an empty port namespace.
func NewNamespace() *Namespace {
	return &Namespace{ports: map[uint32]bool{}, next: -4096, members: map[*Socket]struct{}{}}
}

// maxGroup is the highest multicast group a socket may join (Linux's
// RTNLGRP_MAX is below it; a group nobody sends to is harmless).
const maxGroup = 64

// setMember records whether s is in some group.
func (ns *Namespace) setMember(s *Socket, in bool) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if in {
		ns.members[s] = struct{}{}
	} else {
		delete(ns.members, s)
	}
}

// broadcast queues msg on every socket of protocol proto in group, but
// not on except.
func (ns *Namespace) broadcast(proto, group int, msg []byte, except *Socket) {
	ns.mu.Lock()
	var to []*Socket
	for s := range ns.members {
		if s != except && s.Protocol == proto {
			to = append(to, s)
		}
	}
	ns.mu.Unlock()
	for _, s := range to {
		s.mu.Lock()
		// An unbound socket has port 0, which Linux's broadcast of a
		// kernel message leaves out.
		in := s.member&(1<<(group-1)) != 0 && s.portID != 0
		s.mu.Unlock()
		if in {
			s.deliver(msg)
		}
	}
}

// Socket is an AF_NETLINK socket: NETLINK_ROUTE or NETLINK_SOCK_DIAG.
type Socket struct {
	vfs.FileDescriptionDefaultImpl

	// Type and Protocol are SO_TYPE and SO_PROTOCOL. Immutable.
	Type, Protocol int
	ns             *Namespace
	src            Source
	ino            uint64
	uid, gid       uint32

	queue waiter.Queue

	mu sync.Mutex
	// portID is the bound port (0: not bound yet). Protected by mu.
	portID uint32
	// member has bit N-1 set for each multicast group N joined (bind's
	// nl_groups are groups 1 to 32). Protected by mu.
	member uint64
	// recv holds the datagrams to read; recvBytes their total.
	recv      [][]byte
	recvBytes int
	// err is a pending error (ENOBUFS after an overflow), reported once.
	err            unix.Errno
	rcvbuf, sndbuf int
	opts           map[int]int
}

var _ vfs.FileDescriptionImpl = (*Socket)(nil)

// New returns a netlink socket over src in ns.
func New(ns *Namespace, src Source, stype, protocol int, uid, gid uint32) *Socket {
	return &Socket{Type: stype, Protocol: protocol, ns: ns, src: src, ino: lastIno.Add(1), uid: uid, gid: gid,
		rcvbuf: DefaultBuf, sndbuf: DefaultBuf, opts: map[int]int{}}
}

// FromImpl returns the netlink socket behind an open file, or nil.
func FromImpl(impl vfs.FileDescriptionImpl) *Socket {
	s, _ := impl.(*Socket)
	return s
}

// Stream implements vfs.FileDescriptionImpl.Stream.
func (s *Socket) Stream() bool { return true }

// Stat implements vfs.FileDescriptionImpl.Stat.
func (s *Socket) Stat(ctx context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{
		Mask: unix.STATX_BASIC_STATS, Mode: unix.S_IFSOCK | 0o777, Nlink: 1,
		Uid: s.uid, Gid: s.gid, Ino: s.ino, Blksize: 4096,
		Dev_major: unix.Major(sockfsDev), Dev_minor: unix.Minor(sockfsDev),
	}, nil
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (s *Socket) EventRegister(e *waiter.Entry) { s.queue.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (s *Socket) EventUnregister(e *waiter.Entry) { s.queue.EventUnregister(e) }

// Readiness implements vfs.FileDescriptionImpl.Readiness.
func (s *Socket) Readiness(mask uint32) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := uint32(unix.EPOLLOUT | unix.EPOLLWRNORM)
	if len(s.recv) > 0 || s.err != 0 {
		ev |= unix.EPOLLIN | unix.EPOLLRDNORM
	}
	if s.err != 0 {
		ev |= unix.EPOLLERR
	}
	return ev & (mask | unix.EPOLLERR | unix.EPOLLHUP)
}

// Release implements vfs.FileDescriptionImpl.Release.
func (s *Socket) Release(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.portID != 0 {
		delete(s.ns.ports, s.portID)
	}
	delete(s.ns.members, s)
}

// Ioctl implements vfs.FileDescriptionImpl.Ioctl: FIONREAD (SIOCINQ) is
// the size of the next datagram, as Linux's netlink (its skb queue) says.
func (s *Socket) Ioctl(ctx context.Context, fd *vfs.FileDescription, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	if cmd != unix.TIOCINQ {
		return 0, unix.ENOTTY
	}
	s.mu.Lock()
	n := s.recvBytes
	s.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	if _, err := mem.CopyOut(arg, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// bindLocked binds to port (0: pick one, preferring tgid).
func (s *Socket) bindLocked(port uint32, tgid int32) error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if port == 0 {
		if tgid > 0 && !s.ns.ports[uint32(tgid)] {
			port = uint32(tgid)
		} else {
			for s.ns.ports[uint32(s.ns.next)] {
				s.ns.next--
			}
			port = uint32(s.ns.next)
			s.ns.next--
			if s.ns.next > -4096 {
				s.ns.next = -4096
			}
		}
	} else if s.ns.ports[port] {
		return unix.EADDRINUSE
	}
	s.ns.ports[port] = true
	s.portID = port
	return nil
}

// ParseSockaddr decodes a sockaddr_nl: EINVAL if short or not AF_NETLINK.
func ParseSockaddr(b []byte) (port, groups uint32, err error) {
	if len(b) < SockaddrLen || binary.LittleEndian.Uint16(b) != unix.AF_NETLINK {
		return 0, 0, unix.EINVAL
	}
	return binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:]), nil
}

// Sockaddr encodes a sockaddr_nl.
func Sockaddr(port, groups uint32) []byte {
	b := make([]byte, SockaddrLen)
	binary.LittleEndian.PutUint16(b, unix.AF_NETLINK)
	binary.LittleEndian.PutUint32(b[4:], port)
	binary.LittleEndian.PutUint32(b[8:], groups)
	return b
}

// Bind implements bind(2) with a raw sockaddr_nl; nl_groups replaces the
// socket's membership of groups 1 to 32.
func (s *Socket) Bind(addr []byte, tgid int32) error {
	port, groups, err := ParseSockaddr(addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.portID != 0 {
		if port != 0 && port != s.portID {
			return unix.EINVAL
		}
	} else if err := s.bindLocked(port, tgid); err != nil {
		return err
	}
	s.member = s.member&^0xffffffff | uint64(groups)
	s.ns.setMember(s, s.member != 0)
	return nil
}

// Connect implements connect(2): only the kernel (port 0) can be a peer;
// the socket is bound if it was not.
func (s *Socket) Connect(addr []byte, tgid int32) error {
	if len(addr) >= 2 && binary.LittleEndian.Uint16(addr) == unix.AF_UNSPEC {
		return nil
	}
	port, _, err := ParseSockaddr(addr)
	if err != nil {
		return err
	}
	if port != 0 {
		return unix.ECONNREFUSED
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.portID == 0 {
		return s.bindLocked(0, tgid)
	}
	return nil
}

// Name returns getsockname's address.
func (s *Socket) Name() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Sockaddr(s.portID, uint32(s.member))
}

// Send handles one datagram sent to dst (nil: the kernel): it is
// processed at once and its replies queued.
// ctx's credentials say whether the sender may change the stack
// (CAP_NET_ADMIN).
func (s *Socket) Send(ctx context.Context, msg []byte, dst []byte, tgid int32) (int, error) {
	if dst != nil {
		port, _, err := ParseSockaddr(dst)
		if err != nil {
			return 0, err
		}
		if port != 0 {
			return 0, unix.ECONNREFUSED
		}
	}
	s.mu.Lock()
	if len(msg) > min(s.sndbuf, MaxSend) {
		s.mu.Unlock()
		return 0, unix.EMSGSIZE
	}
	if s.portID == 0 {
		if err := s.bindLocked(0, tgid); err != nil {
			s.mu.Unlock()
			return 0, err
		}
	}
	o := Options{PortID: s.portID, StrictCheck: s.opts[unix.NETLINK_GET_STRICT_CHK] != 0, CapAck: s.opts[unix.NETLINK_CAP_ACK] != 0,
		Protocol: s.Protocol}
	o.Notify = func(group int, msg []byte, echo bool) {
		var except *Socket
		if echo {
			except = s
			s.deliver(msg)
		}
		s.ns.broadcast(s.Protocol, group, msg, except)
	}
	if c := vfs.CredentialsFromContext(ctx); c != nil {
		o.Admin = c.HasCap(unix.CAP_NET_ADMIN)
	}
	s.mu.Unlock()
	Process(s.src, msg, o, s.deliver)
	return len(msg), nil
}

// deliver queues datagram b to be read, if the receive buffer has room
// (else ENOBUFS is pending, unless NETLINK_NO_ENOBUFS), and wakes
// readers. It reports whether b was queued.
func (s *Socket) deliver(b []byte) bool {
	s.mu.Lock()
	ok := true
	if s.recvBytes > 0 && s.recvBytes+len(b) > s.rcvbuf {
		if s.opts[unix.NETLINK_NO_ENOBUFS] == 0 {
			s.err = unix.ENOBUFS
		}
		ok = false
	} else {
		s.recv = append(s.recv, b)
		s.recvBytes += len(b)
	}
	wake := ok || s.err != 0
	s.mu.Unlock()
	if wake {
		s.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
	}
	return ok
}

// RecvResult is what Recv returns.
type RecvResult struct {
	// N is the bytes copied into the buffer; Total the datagram's size.
	N, Total int
}

// recvOnce takes (or, peeking, reads) the next datagram into buf.
func (s *Socket) recvOnce(buf []byte, peek bool) (RecvResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != 0 {
		err := s.err
		s.err = 0
		return RecvResult{}, err
	}
	if len(s.recv) == 0 {
		return RecvResult{}, unix.EAGAIN
	}
	d := s.recv[0]
	n := copy(buf, d)
	if !peek {
		s.recv[0] = nil
		s.recv = s.recv[1:]
		s.recvBytes -= len(d)
	}
	return RecvResult{N: n, Total: len(d)}, nil
}

// Recv receives the next datagram into buf, waiting for one unless
// nonblock.
func (s *Socket) Recv(ctx context.Context, buf []byte, peek, nonblock bool) (RecvResult, error) {
	r, err := s.recvOnce(buf, peek)
	if err != unix.EAGAIN || nonblock {
		return r, err
	}
	e := waiter.NewEntry(unix.EPOLLIN | unix.EPOLLERR)
	s.queue.EventRegister(e)
	defer s.queue.EventUnregister(e)
	for {
		if r, err = s.recvOnce(buf, peek); err != unix.EAGAIN {
			return r, err
		}
		if err := vfs.Block(ctx, e.C); err != nil {
			return r, err
		}
	}
}

// Read implements vfs.FileDescriptionImpl.Read.
func (s *Socket) Read(ctx context.Context, fd *vfs.FileDescription, dst []byte, off int64) (int, error) {
	r, err := s.Recv(ctx, dst, false, fd.StatusFlags()&unix.O_NONBLOCK != 0)
	return r.N, err
}

// Write implements vfs.FileDescriptionImpl.Write.
func (s *Socket) Write(ctx context.Context, fd *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	n, err := s.Send(ctx, src, nil, 0)
	return n, off, err
}

// SetBuf sets SO_RCVBUF (rcv) or SO_SNDBUF as Linux: doubled, clamped.
func (s *Socket) SetBuf(rcv bool, v int) {
	v = max(min(v, MaxBuf)*2, MinBuf)
	s.mu.Lock()
	defer s.mu.Unlock()
	if rcv {
		s.rcvbuf = v
	} else {
		s.sndbuf = v
	}
}

// Buf returns SO_RCVBUF (rcv) or SO_SNDBUF.
func (s *Socket) Buf(rcv bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rcv {
		return s.rcvbuf
	}
	return s.sndbuf
}

// SetOption sets a SOL_NETLINK option: ENOPROTOOPT for unknown ones.
func (s *Socket) SetOption(name, v int) error {
	switch name {
	case unix.NETLINK_ADD_MEMBERSHIP, unix.NETLINK_DROP_MEMBERSHIP:
		if v <= 0 || v > maxGroup {
			return unix.EINVAL
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if name == unix.NETLINK_ADD_MEMBERSHIP {
			s.member |= 1 << (v - 1)
		} else {
			s.member &^= 1 << (v - 1)
		}
		s.ns.setMember(s, s.member != 0)
		return nil
	case unix.NETLINK_PKTINFO, unix.NETLINK_BROADCAST_ERROR, unix.NETLINK_NO_ENOBUFS,
		unix.NETLINK_LISTEN_ALL_NSID, unix.NETLINK_CAP_ACK, unix.NETLINK_EXT_ACK,
		unix.NETLINK_GET_STRICT_CHK:
		s.mu.Lock()
		defer s.mu.Unlock()
		s.opts[name] = min(max(v, 0), 1)
		return nil
	}
	return unix.ENOPROTOOPT
}

// Option returns a SOL_NETLINK option.
func (s *Socket) Option(name int) (int, error) {
	switch name {
	case unix.NETLINK_PKTINFO, unix.NETLINK_BROADCAST_ERROR, unix.NETLINK_NO_ENOBUFS,
		unix.NETLINK_LISTEN_ALL_NSID, unix.NETLINK_CAP_ACK, unix.NETLINK_EXT_ACK,
		unix.NETLINK_GET_STRICT_CHK:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.opts[name], nil
	}
	return 0, unix.ENOPROTOOPT
}

// TakeError returns and clears SO_ERROR.
func (s *Socket) TakeError() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.err
	s.err = 0
	return int(e)
}

type sockInode struct{ s *Socket }

func (*sockInode) IncRef()                                          {}
func (*sockInode) DecRef(context.Context)                           {}
func (*sockInode) Mode() uint32                                     { return unix.S_IFSOCK | 0o777 }
func (i *sockInode) Stat(ctx context.Context) (unix.Statx_t, error) { return i.s.Stat(ctx) }
func (i *sockInode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	return vfs.GenericCheckPermissions(creds, ats, 0o777, i.s.uid, i.s.gid)
}
func (*sockInode) SetStat(context.Context, *vfs.SetStatOptions) error { return unix.EPERM }
func (*sockInode) Open(context.Context, vfs.VirtualDentry, *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return nil, unix.ENXIO
}

// NewFile returns an open file for s with one reference; flags may hold
// O_NONBLOCK.
func NewFile(ctx context.Context, s *Socket, flags uint32) *vfs.FileDescription {
	loc := vfs.NewAnonymousLocation("sockfs", fmt.Sprintf("socket:[%d]", s.ino), &sockInode{s: s})
	defer loc.DecRef(ctx)
	return vfs.NewFileDescription(s, unix.O_RDWR|flags&unix.O_NONBLOCK, loc)
}
