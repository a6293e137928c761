package inet

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// sockfsDev is the st_dev of inet sockets (an anonymous sockfs).
var sockfsDev = vfs.AnonDevice()

// lastIno numbers inet sockets for fstat and /proc/PID/fd. They start
// high so they do not meet AF_UNIX sockets' numbers.
var lastIno atomic.Uint64

func init() { lastIno.Store(1 << 24) }

// Socket is an AF_INET or AF_INET6 socket: the implementation of its open
// file.
type Socket struct {
	vfs.FileDescriptionDefaultImpl

	// Family, Type and Protocol are SO_DOMAIN, SO_TYPE and SO_PROTOCOL.
	// Immutable.
	Family, Type, Protocol int
	// ep is the transport endpoint. Immutable.
	ep netstack.Endpoint
	// ino, uid, gid and ctime are for fstat. Immutable.
	ino      uint64
	uid, gid uint32
	ctime    unix.StatxTimestamp

	queue waiter.Queue

	// rmu makes a stream receive's peek, copy out and consume one step.
	rmu sync.Mutex

	mu sync.Mutex
	// rcvtimeo and sndtimeo are SO_RCVTIMEO and SO_SNDTIMEO (0: wait
	// forever). Protected by mu.
	rcvtimeo, sndtimeo time.Duration
}

var _ vfs.FileDescriptionImpl = (*Socket)(nil)

// New returns a socket over ep, created by uid and gid.
func New(family, stype, protocol int, ep netstack.Endpoint, uid, gid uint32) *Socket {
	now := time.Now()
	s := &Socket{Family: family, Type: stype, Protocol: protocol, ep: ep, ino: lastIno.Add(1), uid: uid, gid: gid,
		ctime: unix.StatxTimestamp{Sec: now.Unix(), Nsec: uint32(now.Nanosecond())}}
	if o, ok := ep.(netstack.OwnerSetter); ok {
		o.SetOwner(uid)
	}
	ep.SetNotify(func(ev uint32) { s.queue.Notify(ev) })
	live.add(s)
	return s
}

// FromImpl returns the inet socket behind an open file, or nil.
func FromImpl(impl vfs.FileDescriptionImpl) *Socket {
	s, _ := impl.(*Socket)
	return s
}

// Endpoint returns the transport endpoint.
func (s *Socket) Endpoint() netstack.Endpoint { return s.ep }

// Stream implements vfs.FileDescriptionImpl.Stream.
func (s *Socket) Stream() bool { return true }

// RaisesSIGPIPE says whether EPIPE from write(2) raises SIGPIPE: only on
// stream sockets.
func (s *Socket) RaisesSIGPIPE() bool { return s.Type == unix.SOCK_STREAM }

// Stat implements vfs.FileDescriptionImpl.Stat.
func (s *Socket) Stat(ctx context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{
		Mask: unix.STATX_BASIC_STATS, Mode: unix.S_IFSOCK | 0o777, Nlink: 1,
		Uid: s.uid, Gid: s.gid, Ino: s.ino, Blksize: 4096,
		Atime: s.ctime, Mtime: s.ctime, Ctime: s.ctime,
		Dev_major: unix.Major(sockfsDev), Dev_minor: unix.Minor(sockfsDev),
	}, nil
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (s *Socket) EventRegister(e *waiter.Entry) { s.queue.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (s *Socket) EventUnregister(e *waiter.Entry) { s.queue.EventUnregister(e) }

// Readiness implements vfs.FileDescriptionImpl.Readiness.
func (s *Socket) Readiness(mask uint32) uint32 { return s.ep.Readiness(mask) }

// Release implements vfs.FileDescriptionImpl.Release.
func (s *Socket) Release(ctx context.Context) {
	live.remove(s)
	s.ep.SetNotify(nil)
	s.ep.Close()
}

// Ioctl implements vfs.FileDescriptionImpl.Ioctl: FIONREAD (SIOCINQ),
// SIOCOUTQ and, where the endpoint answers them (TCP), SIOCOUTQNSD and
// SIOCATMARK.
func (s *Socket) Ioctl(ctx context.Context, fd *vfs.FileDescription, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	var v int
	if io, ok := s.ep.(netstack.Ioctler); ok {
		var err error
		if v, err = io.Ioctl(cmd); err != nil {
			return 0, err
		}
	} else {
		switch cmd {
		case unix.SIOCINQ, unix.SIOCOUTQ:
			if q, ok := s.ep.(netstack.QueueSizer); ok {
				in, out := q.QueueSizes()
				v = in
				if cmd == unix.SIOCOUTQ {
					v = out
				}
			}
		default:
			return 0, unix.ENOTTY
		}
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	if _, err := mem.CopyOut(arg, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// Timeouts returns SO_RCVTIMEO and SO_SNDTIMEO.
func (s *Socket) Timeouts() (rcv, snd time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcvtimeo, s.sndtimeo
}

// SetTimeout sets SO_RCVTIMEO (rcv) or SO_SNDTIMEO; 0 waits forever.
func (s *Socket) SetTimeout(rcv bool, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rcv {
		s.rcvtimeo = d
	} else {
		s.sndtimeo = d
	}
}

// wait runs op until it returns something other than EAGAIN, waiting for
// events in mask between tries, unless nonblock; a timeout (0: none)
// ends the wait with EAGAIN, a signal with vfs.ErrInterrupted (or EINTR
// when a timeout is set, as Linux's sock_intr_errno).
func (s *Socket) wait(ctx context.Context, mask uint32, nonblock bool, timeout time.Duration, op func() error) error {
	err := op()
	if err != unix.EAGAIN || nonblock {
		return err
	}
	e := waiter.NewEntry(mask | unix.EPOLLERR | unix.EPOLLHUP)
	s.queue.EventRegister(e)
	defer s.queue.EventUnregister(e)
	var dl time.Time
	if timeout > 0 {
		dl = time.Now().Add(timeout)
	}
	for {
		if err := op(); err != unix.EAGAIN {
			return err
		}
		if !dl.IsZero() {
			left := time.Until(dl)
			if left <= 0 {
				return unix.EAGAIN
			}
			t := time.AfterFunc(left, func() {
				select {
				case e.C <- struct{}{}:
				default:
				}
			})
			err := vfs.Block(ctx, e.C)
			t.Stop()
			if err != nil {
				return unix.EINTR
			}
			continue
		}
		if err := vfs.Block(ctx, e.C); err != nil {
			return err
		}
	}
}

// Connect connects the socket. A stream connect that returns EINPROGRESS
// waits (unless nonblock) for the connection and returns its SO_ERROR;
// non-blocking, EINPROGRESS is returned as is.
func (s *Socket) Connect(ctx context.Context, addr netstack.FullAddress, unspec, nonblock bool) error {
	err := s.ep.Connect(addr, unspec)
	if err != unix.EINPROGRESS && err != unix.EALREADY || nonblock {
		return err
	}
	// A blocking connect also waits for one that a non-blocking call
	// started (EALREADY), as Linux's.
	started := err
	_, snd := s.Timeouts()
	werr := s.wait(ctx, unix.EPOLLOUT, false, snd, func() error {
		if s.ep.Readiness(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			return nil
		}
		return unix.EAGAIN
	})
	if werr == unix.EAGAIN {
		return started
	}
	if werr != nil {
		return werr
	}
	// Finish as Linux's __inet_stream_connect does after its wait: a
	// second Connect of a connecting endpoint reports the outcome (the
	// error, or ECONNABORTED, leaving the socket unconnected so that
	// connect may be retried) and marks a connection connected (so that
	// the next connect fails EISCONN).
	err = s.ep.Connect(addr, unspec)
	if err == unix.EALREADY {
		return unix.EINPROGRESS
	}
	return err
}

// Accept takes a connection, waiting unless nonblock; the new socket
// shares s's family, type and protocol.
func (s *Socket) Accept(ctx context.Context, nonblock bool) (*Socket, netstack.FullAddress, error) {
	var ep netstack.Endpoint
	var peer netstack.FullAddress
	rcv, _ := s.Timeouts()
	err := s.wait(ctx, unix.EPOLLIN, nonblock, rcv, func() error {
		var err error
		ep, peer, err = s.ep.Accept()
		return err
	})
	if err != nil {
		return nil, peer, err
	}
	return New(s.Family, s.Type, s.Protocol, ep, s.uid, s.gid), peer, nil
}

// RecvOptions are the flags of one receive.
type RecvOptions struct {
	Peek, Trunc, WaitAll, NonBlock bool
	// OOB is MSG_OOB: receive the urgent byte; it never waits.
	OOB bool
	// CopyOut, if set on a stream socket, receives the bytes read at
	// offset off of buf before they are consumed: if it fails, they stay
	// queued (Linux leaves the data of a read that faults) and Recv
	// returns its error, or what was received before.
	CopyOut func(off int, b []byte) error
}

// Recv receives into buf. With WaitAll a stream receive goes on until buf
// is full, the peer shuts down, an error or a signal (returning what it
// has).
func (s *Socket) Recv(ctx context.Context, buf []byte, opts RecvOptions) (netstack.ReadResult, error) {
	rcv, _ := s.Timeouts()
	var res netstack.ReadResult
	ro := netstack.ReadOptions{Peek: opts.Peek, Trunc: opts.Trunc, OOB: opts.OOB}
	nonblock := opts.NonBlock || opts.OOB
	copyOut := opts.CopyOut
	if s.Type != unix.SOCK_STREAM || opts.Peek || opts.Trunc {
		copyOut = nil
	}
	var fault error
	// read reads into buf[off:], through copyOut when set.
	read := func(off int, r *netstack.ReadResult) error {
		if copyOut == nil {
			var err error
			*r, err = s.ep.Read(buf[off:], ro)
			return err
		}
		s.rmu.Lock()
		defer s.rmu.Unlock()
		peek := ro
		peek.Peek = true
		var err error
		if *r, err = s.ep.Read(buf[off:], peek); err != nil || r.N == 0 {
			return err
		}
		if fault = copyOut(off, buf[off:off+r.N]); fault != nil {
			*r = netstack.ReadResult{}
			return nil
		}
		consume := ro
		consume.Trunc = true
		_, err = s.ep.Read(buf[off:off+r.N], consume)
		return err
	}
	err := s.wait(ctx, unix.EPOLLIN, nonblock, rcv, func() error { return read(0, &res) })
	if fault != nil {
		return res, fault
	}
	if err != nil || !opts.WaitAll || opts.Peek || opts.OOB || s.Type != unix.SOCK_STREAM || res.N == 0 {
		return res, err
	}
	for res.N < len(buf) {
		var r netstack.ReadResult
		err := s.wait(ctx, unix.EPOLLIN, opts.NonBlock, rcv, func() error { return read(res.N, &r) })
		if err != nil || fault != nil || r.N == 0 {
			break
		}
		res.N += r.N
		res.Total += r.N
	}
	return res, nil
}

// Send sends buf. A stream send loops until everything is taken (or, non-
// blocking, as much as fits); what was sent before an error is returned
// without the error.
func (s *Socket) Send(ctx context.Context, buf []byte, opts netstack.WriteOptions, nonblock bool) (int, error) {
	_, snd := s.Timeouts()
	sent := 0
	for {
		var n int
		err := s.wait(ctx, unix.EPOLLOUT, nonblock, snd, func() error {
			var err error
			n, err = s.ep.Write(buf[sent:], opts)
			return err
		})
		sent += n
		if err != nil {
			if sent > 0 && s.Type == unix.SOCK_STREAM {
				return sent, nil
			}
			return sent, err
		}
		if s.Type != unix.SOCK_STREAM || sent >= len(buf) || nonblock {
			return sent, nil
		}
	}
}

// Read implements vfs.FileDescriptionImpl.Read (read(2): recv with no
// flags).
func (s *Socket) Read(ctx context.Context, fd *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if len(dst) == 0 {
		return 0, nil // as Linux's sock_read_iter
	}
	r, err := s.Recv(ctx, dst, RecvOptions{NonBlock: fd.StatusFlags()&unix.O_NONBLOCK != 0})
	return r.N, err
}

// Write implements vfs.FileDescriptionImpl.Write (write(2)).
func (s *Socket) Write(ctx context.Context, fd *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	n, err := s.Send(ctx, src, netstack.WriteOptions{}, fd.StatusFlags()&unix.O_NONBLOCK != 0)
	return n, off, err
}

// sockInode is a socket's inode on sockfs, so that /proc/PID/fd/N shows
// "socket:[ino]".
type sockInode struct{ s *Socket }

var _ vfs.Inode = (*sockInode)(nil)

// IncRef implements vfs.Inode.IncRef.
func (*sockInode) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (*sockInode) DecRef(context.Context) {}

// Mode implements vfs.Inode.Mode.
func (*sockInode) Mode() uint32 { return unix.S_IFSOCK | 0o777 }

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (i *sockInode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	return vfs.GenericCheckPermissions(creds, ats, 0o777, i.s.uid, i.s.gid)
}

// Stat implements vfs.Inode.Stat.
func (i *sockInode) Stat(ctx context.Context) (unix.Statx_t, error) { return i.s.Stat(ctx) }

// SetStat implements vfs.Inode.SetStat.
func (*sockInode) SetStat(context.Context, *vfs.SetStatOptions) error { return unix.EPERM }

// Open implements vfs.Inode.Open: ENXIO, as Linux.
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
