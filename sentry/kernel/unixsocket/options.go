package unixsocket

import (
	"time"

	"golang.org/x/sys/unix"
)

// BoolOption names a boolean SOL_SOCKET option the socket stores.
type BoolOption int

// Boolean options.
const (
	PassCred  BoolOption = iota // SO_PASSCRED
	ReuseAddr                   // SO_REUSEADDR (stored, no effect)
	KeepAlive                   // SO_KEEPALIVE (stored, no effect)
)

// boolLocked returns the field behind o.
//
// Preconditions: ns.mu is held.
func (s *Socket) boolLocked(o BoolOption) *bool {
	switch o {
	case PassCred:
		return &s.passcred
	case ReuseAddr:
		return &s.reuseaddr
	}
	return &s.keepalive
}

// Bool returns the boolean option o.
func (s *Socket) Bool(o BoolOption) bool {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return *s.boolLocked(o)
}

// SetBool sets the boolean option o.
func (s *Socket) SetBool(o BoolOption, v bool) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	*s.boolLocked(o) = v
}

// BufSizes returns SO_SNDBUF and SO_RCVBUF.
func (s *Socket) BufSizes() (snd, rcv int) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.sndbuf, s.rcvbuf
}

// SetSndBuf sets SO_SNDBUF as Linux does: twice the request, within
// [MinSndBuf, MaxBufSize] (the request is unsigned, so a negative one is
// huge).
func (s *Socket) SetSndBuf(v uint32) {
	n := max(int(min(uint64(v), MaxBufSize/2))*2, MinSndBuf)
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.sndbuf = n
	s.queue.Notify(writeEvents)
}

// SetRcvBuf sets SO_RCVBUF: twice the request within [MinRcvBuf,
// MaxBufSize].
func (s *Socket) SetRcvBuf(v uint32) {
	n := max(int(min(uint64(v), MaxBufSize/2))*2, MinRcvBuf)
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.rcvbuf = n
}

// Timeouts returns SO_RCVTIMEO and SO_SNDTIMEO (0: wait forever).
func (s *Socket) Timeouts() (rcv, snd time.Duration) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return max(s.rcvtimeo, 0), max(s.sndtimeo, 0)
}

// SetTimeout sets SO_RCVTIMEO (rcv) or SO_SNDTIMEO: 0 waits forever, a
// negative duration never waits.
func (s *Socket) SetTimeout(rcv bool, d time.Duration) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if rcv {
		s.rcvtimeo = d
	} else {
		s.sndtimeo = d
	}
}

// TakeError returns and clears the pending error (SO_ERROR).
func (s *Socket) TakeError() unix.Errno {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	e := s.soErr
	s.soErr = 0
	return e
}

// Listening reports whether s accepts connections (SO_ACCEPTCONN).
func (s *Socket) Listening() bool {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.listening
}

// PeerCred returns SO_PEERCRED: the peer's identity at connect time, or
// NoCred.
func (s *Socket) PeerCred() Cred {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if !s.hasPeerCred {
		return NoCred
	}
	return s.peerCred
}
