package unixsocket

import (
	"context"
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// Event masks.
const (
	readEvents  = unix.EPOLLIN | unix.EPOLLRDNORM
	writeEvents = unix.EPOLLOUT | unix.EPOLLWRNORM | unix.EPOLLWRBAND
	allEvents   = readEvents | writeEvents | unix.EPOLLERR | unix.EPOLLHUP | unix.EPOLLRDHUP
)

// sockfsDev is the st_dev of every socket, as Linux's sockfs.
var sockfsDev = vfs.AnonDevice()

// CredFromContext returns the identity of the task a context belongs to:
// the credentials a read(2)/write(2) on a socket sends. The syscall layer
// sets it at init, since this package cannot see tasks; while it is nil,
// NoCred is used.
var CredFromContext func(ctx context.Context) Cred

// message is one unit in a receive queue: a datagram or record, or a run
// of stream bytes that share the same ancillary data.
type message struct {
	// data are the unread bytes.
	data []byte
	// rights are the passed files, with a reference each (nil if none).
	rights []*vfs.FileDescription
	// cred is the sender's identity (or what it sent as SCM_CREDENTIALS).
	cred Cred
	// from is the sender's name when it sent the message.
	from Address
	// sender is charged for the message until it is read.
	sender *Socket
	// charge is what sender is still charged for the message.
	charge int
}

// Socket is one AF_UNIX socket and the implementation of its open file
// description (Linux: struct unix_sock and struct socket).
type Socket struct {
	vfs.FileDescriptionDefaultImpl

	// ns is the namespace the socket lives in. Immutable.
	ns *Namespace
	// stype is SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET. Immutable.
	stype int
	// protocol is the protocol socket(2) was given (0 or PF_UNIX).
	// Immutable.
	protocol int
	// ino is the inode number fstat reports. Immutable.
	ino uint64
	// owner is the creator's identity. Immutable.
	owner Cred
	// ctime is the creation time, for fstat. Immutable.
	ctime unix.StatxTimestamp

	// queue notifies readiness changes of this socket.
	queue waiter.Queue

	// All fields below are protected by ns.mu.

	// closed is set once the socket's last reference is gone.
	closed bool
	// embryo is set on a server-side socket made by connect(2) until
	// accept(2) takes it.
	embryo bool
	// listening is set by listen(2). Linux: sk_state == TCP_LISTEN.
	listening bool
	// backlog is the listen backlog.
	backlog int
	// acceptq holds connected server-side sockets waiting for accept(2).
	acceptq []*Socket
	// listenCred is the identity of the caller of listen(2), which
	// clients see as SO_PEERCRED.
	listenCred Cred
	// connected is set once a connection-oriented socket is connected
	// (it stays set after the peer goes). Linux: TCP_ESTABLISHED.
	connected bool
	// peer is the connected peer: the other end of a connection, or a
	// datagram socket's default destination. It may be closed.
	peer *Socket
	// peerCred is SO_PEERCRED, valid if hasPeerCred.
	peerCred    Cred
	hasPeerCred bool
	// name is the bound name (nil if unbound).
	name Address
	// boundVD is the socket file of a filesystem name, with a reference.
	boundVD vfs.VirtualDentry
	// boundKey is the key of name in ns.bound (valid if name != nil and
	// the socket is in the table; accepted sockets share their
	// listener's name without being in it).
	boundKey bindKey
	inTable  bool
	// recvq is the receive queue, oldest first.
	recvq []*message
	// recvBytes is the number of unread bytes in recvq.
	recvBytes int
	// inflight is what this socket is charged for messages it sent that
	// are still unread (Linux: sk_wmem_alloc).
	inflight int
	// shut is a set of shutRecv and shutSend (Linux: sk_shutdown).
	shut int
	// soErr is a pending error (SO_ERROR; Linux: sk_err), 0 if none.
	soErr unix.Errno
	// sndbuf and rcvbuf are SO_SNDBUF and SO_RCVBUF.
	sndbuf, rcvbuf int
	// passcred, reuseaddr and keepalive are the boolean options.
	passcred, reuseaddr, keepalive bool
	// rcvtimeo and sndtimeo are SO_RCVTIMEO and SO_SNDTIMEO: 0 waits
	// forever, a negative value never waits.
	rcvtimeo, sndtimeo time.Duration
}

var _ vfs.FileDescriptionImpl = (*Socket)(nil)

// newSocketLocked returns a fresh unconnected socket.
//
// Preconditions: ns.mu is held.
func (ns *Namespace) newSocketLocked(stype, protocol int, owner Cred) *Socket {
	ns.lastIno++
	now := time.Now()
	s := &Socket{
		ns: ns, stype: stype, protocol: protocol, ino: ns.lastIno, owner: owner,
		ctime:  unix.StatxTimestamp{Sec: now.Unix(), Nsec: uint32(now.Nanosecond())},
		sndbuf: DefaultBufSize, rcvbuf: DefaultBufSize,
	}
	ns.live[s] = struct{}{}
	return s
}

// ValidType reports whether stype is a socket type this package
// implements (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET).
func ValidType(stype int) bool {
	return stype == unix.SOCK_STREAM || stype == unix.SOCK_DGRAM || stype == unix.SOCK_SEQPACKET
}

// New returns an unconnected socket of type stype created by owner.
func New(ns *Namespace, stype, protocol int, owner Cred) *Socket {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.newSocketLocked(stype, protocol, owner)
}

// NewPair returns two sockets of type stype connected to each other
// (socketpair(2)); each reports owner as SO_PEERCRED.
func NewPair(ns *Namespace, stype, protocol int, owner Cred) (*Socket, *Socket) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	a := ns.newSocketLocked(stype, protocol, owner)
	b := ns.newSocketLocked(stype, protocol, owner)
	a.peer, b.peer = b, a
	a.connected, b.connected = true, true
	a.peerCred, b.peerCred = owner, owner
	a.hasPeerCred, b.hasPeerCred = true, true
	return a, b
}

// FromImpl returns the socket behind an open file, or nil if it is not an
// AF_UNIX socket.
func FromImpl(impl vfs.FileDescriptionImpl) *Socket {
	s, _ := impl.(*Socket)
	return s
}

// Type returns the socket type (SO_TYPE).
func (s *Socket) Type() int { return s.stype }

// Protocol returns the protocol (SO_PROTOCOL).
func (s *Socket) Protocol() int { return s.protocol }

// connOriented reports whether s is a stream or seqpacket socket.
func (s *Socket) connOriented() bool { return s.stype != unix.SOCK_DGRAM }

// Stream implements vfs.FileDescriptionImpl.Stream.
func (s *Socket) Stream() bool { return true }

// Stat implements vfs.FileDescriptionImpl.Stat.
func (s *Socket) Stat(ctx context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{
		Mask: unix.STATX_BASIC_STATS, Mode: unix.S_IFSOCK | 0o777, Nlink: 1,
		Uid: s.owner.UID, Gid: s.owner.GID, Ino: s.ino, Blksize: 4096,
		Atime: s.ctime, Mtime: s.ctime, Ctime: s.ctime,
		Dev_major: unix.Major(sockfsDev), Dev_minor: unix.Minor(sockfsDev),
	}, nil
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (s *Socket) EventRegister(e *waiter.Entry) { s.queue.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (s *Socket) EventUnregister(e *waiter.Entry) { s.queue.EventUnregister(e) }

// Readiness implements vfs.FileDescriptionImpl.Readiness, as Linux's
// unix_poll and unix_dgram_poll.
func (s *Socket) Readiness(mask uint32) uint32 {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.readinessLocked() & mask
}

// readinessLocked returns the events that are ready.
//
// Preconditions: ns.mu is held.
func (s *Socket) readinessLocked() uint32 {
	var m uint32
	if s.soErr != 0 {
		m |= unix.EPOLLERR
	}
	if s.shut&shutRecv != 0 {
		m |= unix.EPOLLRDHUP | readEvents
	}
	if s.shut == shutBoth {
		m |= unix.EPOLLHUP
	}
	if s.listening {
		if len(s.acceptq) > 0 {
			m |= readEvents
		}
		return m
	}
	if len(s.recvq) > 0 {
		m |= readEvents
	}
	if s.connOriented() && !s.connected {
		m |= unix.EPOLLHUP
	}
	if s.inflight*4 <= s.sndbuf {
		m |= writeEvents
	}
	return m
}

// Ioctl implements vfs.FileDescriptionImpl.Ioctl: FIONREAD (SIOCINQ) and
// TIOCOUTQ (SIOCOUTQ).
func (s *Socket) Ioctl(ctx context.Context, fd *vfs.FileDescription, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	var v int
	s.ns.mu.Lock()
	switch cmd {
	case unix.TIOCINQ:
		if s.listening {
			s.ns.mu.Unlock()
			return 0, unix.EINVAL
		}
		if s.stype == unix.SOCK_DGRAM {
			if len(s.recvq) > 0 {
				v = len(s.recvq[0].data)
			}
		} else {
			v = s.recvBytes
		}
	case unix.TIOCOUTQ:
		if s.listening {
			s.ns.mu.Unlock()
			return 0, unix.EINVAL
		}
		v = s.inflight
	default:
		s.ns.mu.Unlock()
		return 0, unix.ENOTTY
	}
	s.ns.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	if _, err := mem.CopyOut(arg, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// Release implements vfs.FileDescriptionImpl.Release: the socket closes.
func (s *Socket) Release(ctx context.Context) {
	var d dropList
	s.ns.mu.Lock()
	s.unbindLocked(&d)
	for _, srv := range s.acceptq {
		srv.closeLocked(&d)
	}
	s.acceptq = nil
	s.listening = false
	s.closeLocked(&d)
	s.ns.mu.Unlock()
	d.release(ctx)
}

// unbindLocked removes s's name from the namespace.
//
// Preconditions: ns.mu is held.
func (s *Socket) unbindLocked(d *dropList) {
	if s.inTable {
		if s.ns.bound[s.boundKey] == s {
			delete(s.ns.bound, s.boundKey)
		}
		s.inTable = false
	}
	if s.boundVD.Ok() {
		d.vds = append(d.vds, s.boundVD)
		s.boundVD = vfs.VirtualDentry{}
	}
}

// closeLocked closes s: its peer sees the connection end, and its unread
// messages are discarded.
//
// Preconditions: ns.mu is held.
func (s *Socket) closeLocked(d *dropList) {
	if s.closed {
		return
	}
	s.closed = true
	delete(s.ns.live, s)
	if p := s.peer; p != nil && s.connOriented() && !p.closed {
		p.shut = shutBoth
		if len(s.recvq) > 0 || s.embryo {
			p.soErr = unix.ECONNRESET
		}
		p.queue.Notify(allEvents)
	}
	for _, m := range s.recvq {
		s.uncharge(m, m.charge)
		d.files = append(d.files, m.rights...)
	}
	s.recvq, s.recvBytes = nil, 0
	s.queue.Notify(allEvents)
}

// uncharge releases n of m's charge from its sender.
//
// Preconditions: ns.mu is held.
func (s *Socket) uncharge(m *message, n int) {
	m.charge -= n
	m.sender.inflight -= n
	m.sender.queue.Notify(writeEvents)
}

// BindAbstract binds s to the abstract name a (bind(2)): EINVAL if s is
// already bound, EADDRINUSE if the name is taken.
func (s *Socket) BindAbstract(a Address) error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.name != nil {
		return unix.EINVAL
	}
	key := bindKey{abstract: string(a), stype: s.stype}
	if _, used := s.ns.bound[key]; used {
		return unix.EADDRINUSE
	}
	s.setNameLocked(append(Address(nil), a...), key)
	return nil
}

// setNameLocked records s's name and enters it in the namespace.
//
// Preconditions: ns.mu is held; s is unbound; key is free.
func (s *Socket) setNameLocked(a Address, key bindKey) {
	s.name = a
	s.boundKey = key
	s.inTable = true
	s.ns.bound[key] = s
}

// IsBound reports whether s has a name.
func (s *Socket) IsBound() bool {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.name != nil
}

// BindPath binds s to the socket file at vd, created by the caller for
// path a. On success s keeps the reference on vd; on failure (EINVAL: s
// is already bound) the caller keeps it and should remove the file.
func (s *Socket) BindPath(a Address, vd vfs.VirtualDentry) error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.name != nil {
		return unix.EINVAL
	}
	key := bindKey{inode: vd.Dentry().Inode()}
	if _, used := s.ns.bound[key]; used {
		return unix.EADDRINUSE
	}
	s.setNameLocked(append(Address(nil), a...), key)
	s.boundVD = vd
	return nil
}

// Autobind binds an unbound s to a fresh abstract name (bind(2) with only
// a family); EINVAL if s is already bound.
func (s *Socket) Autobind() error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.name != nil {
		return unix.EINVAL
	}
	return s.autobindLocked()
}

// autobindLocked gives s a fresh abstract name.
//
// Preconditions: ns.mu is held; s is unbound.
func (s *Socket) autobindLocked() error {
	a, key, err := s.ns.autobindLocked(s.stype)
	if err != nil {
		return err
	}
	s.setNameLocked(a, key)
	return nil
}

// Name returns the bound name (getsockname(2)).
func (s *Socket) Name() Address {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.name
}

// PeerName returns the peer's name (getpeername(2)), or ENOTCONN.
func (s *Socket) PeerName() (Address, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.peer == nil {
		return nil, unix.ENOTCONN
	}
	return s.peer.name, nil
}

// Listen marks s as accepting connections (listen(2)). cred is the
// caller's identity, which clients see as SO_PEERCRED.
func (s *Socket) Listen(backlog int, cred Cred) error {
	if s.stype == unix.SOCK_DGRAM {
		return unix.EOPNOTSUPP
	}
	if backlog < 0 || backlog > MaxBacklog {
		backlog = MaxBacklog
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.name == nil || s.connected {
		return unix.EINVAL
	}
	if !s.listening {
		s.listenCred = cred
	}
	s.listening = true
	s.backlog = backlog
	// A larger backlog may let blocked connectors in.
	s.queue.Notify(writeEvents)
	return nil
}

// deadline returns when a wait with timeout should give up: zero for
// never; nonblock (or a negative timeout) means not waiting at all.
func deadline(timeout time.Duration, nonblock bool) (time.Time, bool) {
	if nonblock || timeout < 0 {
		return time.Time{}, true
	}
	if timeout == 0 {
		return time.Time{}, false
	}
	return time.Now().Add(timeout), false
}

// waitLocked releases ns.mu, waits for e (or until dl passes), and
// re-acquires ns.mu. It returns EAGAIN once dl has passed and
// vfs.ErrInterrupted on a signal. The caller re-checks its condition
// before calling again.
//
// Preconditions: ns.mu is held; e is registered on the queues whose
// events the caller waits for.
func (s *Socket) waitLocked(ctx context.Context, e *waiter.Entry, dl time.Time) error {
	if !dl.IsZero() {
		left := time.Until(dl)
		if left <= 0 {
			return unix.EAGAIN
		}
		timer := time.AfterFunc(left, func() {
			select {
			case e.C <- struct{}{}:
			default:
			}
		})
		defer timer.Stop()
	}
	s.ns.mu.Unlock()
	err := vfs.Block(ctx, e.C)
	s.ns.mu.Lock()
	return err
}

// Accept takes a connection from s's queue (accept(2)), waiting for one
// unless nonblock. The returned socket is connected and needs a file.
func (s *Socket) Accept(ctx context.Context, nonblock bool) (*Socket, error) {
	if s.stype == unix.SOCK_DGRAM {
		return nil, unix.EOPNOTSUPP
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if !s.listening {
		return nil, unix.EINVAL
	}
	dl, noWait := deadline(s.rcvtimeo, nonblock)
	e := waiter.NewEntry(readEvents | unix.EPOLLERR | unix.EPOLLHUP)
	s.queue.EventRegister(e)
	defer s.queue.EventUnregister(e)
	for {
		if !s.listening {
			return nil, unix.EINVAL
		}
		if len(s.acceptq) > 0 {
			srv := s.acceptq[0]
			s.acceptq[0] = nil
			s.acceptq = s.acceptq[1:]
			srv.embryo = false
			s.queue.Notify(writeEvents)
			return srv, nil
		}
		if noWait {
			return nil, unix.EAGAIN
		}
		if err := s.waitLocked(ctx, e, dl); err != nil {
			return nil, err
		}
	}
}

// lookupLocked finds the live socket of type stype bound at t:
// ECONNREFUSED if there is none, EPROTOTYPE if a socket file names a
// socket of another type.
//
// Preconditions: ns.mu is held.
func (ns *Namespace) lookupLocked(t Target, stype int) (*Socket, error) {
	key := t.key
	if key.inode == nil {
		key.stype = stype
	}
	o := ns.bound[key]
	if o == nil || o.closed {
		return nil, unix.ECONNREFUSED
	}
	if o.stype != stype {
		return nil, unix.EPROTOTYPE
	}
	return o, nil
}

// Connect connects s to the socket bound at t (connect(2)) on behalf of
// cred. A stream or seqpacket connection waits for room in the
// listener's backlog unless nonblock.
func (s *Socket) Connect(ctx context.Context, t Target, cred Cred, nonblock bool) error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.passcred && s.name == nil {
		if err := s.autobindLocked(); err != nil {
			return err
		}
	}
	if s.stype == unix.SOCK_DGRAM {
		o, err := s.ns.lookupLocked(t, s.stype)
		if err != nil {
			return err
		}
		if o.peer != nil && o.peer != s && !o.peer.closed {
			return unix.EPERM
		}
		s.peer = o
		s.queue.Notify(allEvents)
		return nil
	}
	if s.listening {
		return unix.EINVAL
	}
	if s.connected {
		return unix.EISCONN
	}
	dl, noWait := deadline(s.sndtimeo, nonblock)
	for {
		l, err := s.ns.lookupLocked(t, s.stype)
		if err != nil {
			return err
		}
		if !l.listening {
			return unix.ECONNREFUSED
		}
		if s.connected {
			return unix.EISCONN
		}
		if len(l.acceptq) <= l.backlog {
			srv := s.ns.newSocketLocked(s.stype, l.protocol, l.owner)
			srv.embryo = true
			srv.connected = true
			srv.peer = s
			srv.name = l.name
			srv.peerCred, srv.hasPeerCred = cred, true
			srv.passcred = l.passcred
			s.connected = true
			s.peer = srv
			s.peerCred, s.hasPeerCred = l.listenCred, true
			l.acceptq = append(l.acceptq, srv)
			l.queue.Notify(readEvents)
			s.queue.Notify(allEvents)
			return nil
		}
		if noWait {
			return unix.EAGAIN
		}
		e := waiter.NewEntry(writeEvents | unix.EPOLLHUP | unix.EPOLLERR)
		l.queue.EventRegister(e)
		err = s.waitLocked(ctx, e, dl)
		l.queue.EventUnregister(e)
		if err != nil {
			return err
		}
	}
}

// Disconnect dissolves a datagram socket's association (connect(2) with
// AF_UNSPEC). For other types it returns EINVAL... as Linux, which treats
// AF_UNSPEC on a stream socket as an invalid address.
func (s *Socket) Disconnect() error {
	if s.stype != unix.SOCK_DGRAM {
		return unix.EINVAL
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.peer = nil
	s.queue.Notify(allEvents)
	return nil
}

// Shutdown shuts down the receiving (SHUT_RD), sending (SHUT_WR) or both
// (SHUT_RDWR) directions (shutdown(2)); a connected peer sees the mirror
// image.
func (s *Socket) Shutdown(how int) error {
	var mode int
	switch how {
	case unix.SHUT_RD:
		mode = shutRecv
	case unix.SHUT_WR:
		mode = shutSend
	case unix.SHUT_RDWR:
		mode = shutBoth
	default:
		return unix.EINVAL
	}
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.shut |= mode
	if p := s.peer; p != nil && s.connOriented() && !p.closed {
		var pm int
		if mode&shutRecv != 0 {
			pm |= shutSend
		}
		if mode&shutSend != 0 {
			pm |= shutRecv
		}
		p.shut |= pm
		p.queue.Notify(allEvents)
	}
	s.queue.Notify(allEvents)
	return nil
}
