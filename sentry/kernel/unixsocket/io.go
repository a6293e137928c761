package unixsocket

import (
	"context"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// SendOptions are the arguments of one send.
type SendOptions struct {
	// HasName says the caller gave a destination address (msg_name).
	HasName bool
	// To is the resolved destination of a datagram socket (nil if none).
	To *Target
	// Rights are files to pass (SCM_RIGHTS). Send takes over their
	// references, whatever happens.
	Rights []*vfs.FileDescription
	// Cred is the identity to attach (SCM_CREDENTIALS).
	Cred Cred
	// NonBlock says not to wait (O_NONBLOCK or MSG_DONTWAIT).
	NonBlock bool
}

// RecvOptions are the flags of one receive.
type RecvOptions struct {
	// Peek leaves the data queued (MSG_PEEK).
	Peek bool
	// WaitAll waits for the whole buffer on a stream (MSG_WAITALL).
	WaitAll bool
	// Trunc returns a datagram's real length (MSG_TRUNC).
	Trunc bool
	// NonBlock says not to wait (O_NONBLOCK or MSG_DONTWAIT).
	NonBlock bool
}

// RecvResult is what one receive produced.
type RecvResult struct {
	// N is the number of bytes copied into the buffer, or with
	// RecvOptions.Trunc the datagram's length.
	N int
	// Truncated says a datagram or record was longer than the buffer
	// (MSG_TRUNC in msg_flags).
	Truncated bool
	// From is the sender's name.
	From Address
	// Rights are passed files, with a reference each, for the caller to
	// install or drop.
	Rights []*vfs.FileDescription
	// Cred is the sender's identity, present if SO_PASSCRED is set.
	Cred *Cred
}

// Read implements vfs.FileDescriptionImpl.Read: recv(2) with no flags;
// passed files are discarded.
func (s *Socket) Read(ctx context.Context, fd *vfs.FileDescription, dst []byte, off int64) (int, error) {
	r, err := s.Recv(ctx, dst, RecvOptions{NonBlock: fd.StatusFlags()&unix.O_NONBLOCK != 0})
	for _, f := range r.Rights {
		f.DecRef(ctx)
	}
	return r.N, err
}

// Write implements vfs.FileDescriptionImpl.Write: send(2) with no flags.
func (s *Socket) Write(ctx context.Context, fd *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	opts := SendOptions{NonBlock: fd.StatusFlags()&unix.O_NONBLOCK != 0, Cred: NoCred}
	if CredFromContext != nil {
		opts.Cred = CredFromContext(ctx)
	}
	n, err := s.Send(ctx, src, &opts)
	return n, off, err
}

// Send sends data (send(2), sendto(2), sendmsg(2)). On a stream it may
// send part of data if interrupted or non-blocking; EPIPE means the
// caller raises SIGPIPE unless MSG_NOSIGNAL.
func (s *Socket) Send(ctx context.Context, data []byte, opts *SendOptions) (int, error) {
	var d dropList
	defer d.release(ctx)
	// Whatever is left in rights when Send returns is dropped.
	rights := opts.Rights
	defer func() { d.files = append(d.files, rights...) }()
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.stype == unix.SOCK_STREAM {
		return s.sendStreamLocked(ctx, data, &rights, opts)
	}
	return s.sendPacketLocked(ctx, data, &rights, opts)
}

// sendStreamLocked sends on a stream socket.
//
// Preconditions: ns.mu is held.
func (s *Socket) sendStreamLocked(ctx context.Context, data []byte, rights *[]*vfs.FileDescription, opts *SendOptions) (int, error) {
	if opts.HasName {
		if s.connected {
			return 0, unix.EISCONN
		}
		return 0, unix.EOPNOTSUPP
	}
	if !s.connected || s.peer == nil {
		return 0, unix.ENOTCONN
	}
	if s.shut&shutSend != 0 {
		return 0, unix.EPIPE
	}
	dl, noWait := deadline(s.sndtimeo, opts.NonBlock)
	var e *waiter.Entry
	defer func() {
		if e != nil {
			s.queue.EventUnregister(e)
		}
	}()
	sent := 0
	for sent < len(data) {
		p := s.peer
		if s.shut&shutSend != 0 || p.closed || p.shut&shutRecv != 0 {
			if sent > 0 {
				return sent, nil
			}
			return 0, unix.EPIPE
		}
		if room := s.sndbuf - s.inflight; room > 0 {
			n := min(room, len(data)-sent)
			s.enqueueStreamLocked(p, data[sent:sent+n], rights, opts.Cred)
			sent += n
			continue
		}
		if noWait {
			if sent > 0 {
				return sent, nil
			}
			return 0, unix.EAGAIN
		}
		if e == nil {
			e = waiter.NewEntry(writeEvents | unix.EPOLLHUP | unix.EPOLLERR)
			s.queue.EventRegister(e)
			continue
		}
		if err := s.waitLocked(ctx, e, dl); err != nil {
			if sent > 0 {
				return sent, nil
			}
			return 0, err
		}
	}
	return sent, nil
}

// enqueueStreamLocked appends b to p's queue, merging it into the last
// message when that carries the same ancillary data; rights go with the
// first bytes.
//
// Preconditions: ns.mu is held.
func (s *Socket) enqueueStreamLocked(p *Socket, b []byte, rights *[]*vfs.FileDescription, cred Cred) {
	if len(*rights) == 0 && len(p.recvq) > 0 {
		if last := p.recvq[len(p.recvq)-1]; last.sender == s && last.rights == nil && last.cred == cred {
			last.data = append(last.data, b...)
			last.charge += len(b)
			s.inflight += len(b)
			p.recvBytes += len(b)
			p.queue.Notify(readEvents)
			return
		}
	}
	m := &message{data: append([]byte(nil), b...), rights: *rights, cred: cred, from: s.name, sender: s}
	passedAdd(m.rights, 1)
	*rights = nil
	p.enqueueLocked(m)
}

// enqueueLocked appends m to s's queue and charges its sender.
//
// Preconditions: ns.mu is held.
func (s *Socket) enqueueLocked(m *message) {
	m.charge = len(m.data) + msgOverhead
	m.sender.inflight += m.charge
	s.recvq = append(s.recvq, m)
	s.recvBytes += len(m.data)
	s.queue.Notify(readEvents)
}

// sendPacketLocked sends one datagram or record.
//
// Preconditions: ns.mu is held.
func (s *Socket) sendPacketLocked(ctx context.Context, data []byte, rights *[]*vfs.FileDescription, opts *SendOptions) (int, error) {
	seq := s.stype == unix.SOCK_SEQPACKET
	if seq && !s.connected {
		return 0, unix.ENOTCONN
	}
	if len(data) > s.sndbuf-dgramHeadroom {
		return 0, unix.EMSGSIZE
	}
	if !seq && s.passcred && s.name == nil {
		if err := s.autobindLocked(); err != nil {
			return 0, err
		}
	}
	dl, noWait := deadline(s.sndtimeo, opts.NonBlock)
	var e *waiter.Entry
	defer func() {
		if e != nil {
			s.queue.EventUnregister(e)
		}
	}()
	charge := len(data) + msgOverhead
	for {
		if s.shut&shutSend != 0 {
			return 0, unix.EPIPE
		}
		var o *Socket
		if seq || !opts.HasName {
			o = s.peer
			if o == nil {
				return 0, unix.ENOTCONN
			}
			if seq && (o.closed || o.shut&shutRecv != 0) {
				return 0, unix.EPIPE
			}
			if o.closed {
				// Linux: the first send after a datagram peer goes
				// away reports ECONNREFUSED and forgets the peer.
				s.peer = nil
				return 0, unix.ECONNREFUSED
			}
		} else {
			if opts.To == nil {
				return 0, unix.EINVAL
			}
			var err error
			if o, err = s.ns.lookupLocked(*opts.To, s.stype); err != nil {
				return 0, err
			}
			if o.peer != nil && o.peer != s && !o.peer.closed {
				return 0, unix.EPERM
			}
		}
		if !seq && o.shut&shutRecv != 0 {
			return 0, unix.EPIPE
		}
		if s.inflight == 0 || s.inflight+charge <= s.sndbuf {
			m := &message{data: append([]byte(nil), data...), rights: *rights, cred: opts.Cred, from: s.name, sender: s}
			passedAdd(m.rights, 1)
			*rights = nil
			o.enqueueLocked(m)
			return len(data), nil
		}
		if noWait {
			return 0, unix.EAGAIN
		}
		if e == nil {
			e = waiter.NewEntry(writeEvents | unix.EPOLLHUP | unix.EPOLLERR)
			s.queue.EventRegister(e)
			continue
		}
		if err := s.waitLocked(ctx, e, dl); err != nil {
			return 0, err
		}
	}
}

// Recv receives into dst (recv(2), recvfrom(2), recvmsg(2)).
func (s *Socket) Recv(ctx context.Context, dst []byte, opts RecvOptions) (RecvResult, error) {
	var d dropList
	defer d.release(ctx)
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	switch s.stype {
	case unix.SOCK_STREAM:
		if s.listening || !s.connected {
			return RecvResult{}, unix.EINVAL
		}
		return s.recvStreamLocked(ctx, dst, opts, &d)
	case unix.SOCK_SEQPACKET:
		if s.listening || !s.connected {
			return RecvResult{}, unix.ENOTCONN
		}
	}
	return s.recvPacketLocked(ctx, dst, opts, &d)
}

// recvWaitLocked is the common end of a receive that found nothing:
// a pending error, end of file, EAGAIN, or a wait. done says the receive
// is over with err (nil: end of file).
//
// Preconditions: ns.mu is held.
func (s *Socket) recvWaitLocked(ctx context.Context, e **waiter.Entry, noWait bool, dl time.Time) (done bool, err error) {
	if s.soErr != 0 {
		err, s.soErr = s.soErr, 0
		return true, err
	}
	if s.shut&shutRecv != 0 {
		return true, nil
	}
	if noWait {
		return true, unix.EAGAIN
	}
	if *e == nil {
		*e = waiter.NewEntry(readEvents | unix.EPOLLHUP | unix.EPOLLERR | unix.EPOLLRDHUP)
		s.queue.EventRegister(*e)
		return false, nil
	}
	if err := s.waitLocked(ctx, *e, dl); err != nil {
		return true, err
	}
	return false, nil
}

// recvPacketLocked receives one datagram or record.
//
// Preconditions: ns.mu is held.
func (s *Socket) recvPacketLocked(ctx context.Context, dst []byte, opts RecvOptions, d *dropList) (RecvResult, error) {
	t, noWait := deadline(s.rcvtimeo, opts.NonBlock)
	var e *waiter.Entry
	defer func() {
		if e != nil {
			s.queue.EventUnregister(e)
		}
	}()
	for {
		if len(s.recvq) > 0 {
			m := s.recvq[0]
			var r RecvResult
			r.N = copy(dst, m.data)
			r.Truncated = len(m.data) > len(dst)
			if opts.Trunc {
				r.N = len(m.data)
			}
			r.From = m.from
			if s.passcred {
				c := m.cred
				r.Cred = &c
			}
			if opts.Peek {
				for _, f := range m.rights {
					f.IncRef()
				}
				r.Rights = append([]*vfs.FileDescription(nil), m.rights...)
			} else {
				r.Rights = m.rights
				passedAdd(m.rights, -1)
				s.recvq[0] = nil
				s.recvq = s.recvq[1:]
				s.recvBytes -= len(m.data)
				s.uncharge(m, m.charge)
			}
			return r, nil
		}
		done, err := s.recvWaitLocked(ctx, &e, noWait, t)
		if done {
			return RecvResult{}, err
		}
	}
}

// recvStreamLocked receives stream bytes. A receive stops after the
// bytes that came with passed files, and (with SO_PASSCRED) before bytes
// sent with other credentials.
//
// Preconditions: ns.mu is held.
func (s *Socket) recvStreamLocked(ctx context.Context, dst []byte, opts RecvOptions, d *dropList) (RecvResult, error) {
	t, noWait := deadline(s.rcvtimeo, opts.NonBlock)
	var e *waiter.Entry
	defer func() {
		if e != nil {
			s.queue.EventUnregister(e)
		}
	}()
	target := min(1, len(dst))
	if opts.WaitAll {
		target = len(dst)
	}
	var r RecvResult
	for {
		if opts.Peek {
			// A peek looks at the queue afresh each time. The references
			// of an earlier look are dropped after unlocking: the last
			// one may close a socket.
			d.files = append(d.files, r.Rights...)
			r = RecvResult{}
		}
		stop := false
		for i := 0; i < len(s.recvq) && r.N < len(dst) && !stop; {
			m := s.recvq[i]
			if r.N > 0 && s.passcred && r.Cred != nil && *r.Cred != m.cred {
				stop = true
				break
			}
			if r.N == 0 && r.Cred == nil {
				r.From = m.from
				if s.passcred {
					c := m.cred
					r.Cred = &c
				}
			}
			n := copy(dst[r.N:], m.data)
			r.N += n
			if m.rights != nil {
				if opts.Peek {
					for _, f := range m.rights {
						f.IncRef()
					}
					r.Rights = append(r.Rights, m.rights...)
				} else {
					r.Rights = append(r.Rights, m.rights...)
					passedAdd(m.rights, -1)
					m.rights = nil
				}
				stop = true
			}
			if opts.Peek {
				i++
				continue
			}
			m.data = m.data[n:]
			s.recvBytes -= n
			if len(m.data) == 0 {
				s.recvq[0] = nil
				s.recvq = s.recvq[1:]
				s.uncharge(m, m.charge)
			} else {
				s.uncharge(m, n)
			}
		}
		if r.N >= target || stop {
			return r, nil
		}
		done, err := s.recvWaitLocked(ctx, &e, noWait, t)
		if done {
			if r.N > 0 || err == nil {
				return r, nil
			}
			return r, err
		}
	}
}

// RaisesSIGPIPE reports whether a write that fails with EPIPE raises
// SIGPIPE: only stream sockets do (datagram and seqpacket sends just fail).
func (s *Socket) RaisesSIGPIPE() bool { return s.stype == unix.SOCK_STREAM }
