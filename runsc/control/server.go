package control

import (
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Handler serves one request. fds are the descriptors that came with it;
// the handler owns them.
type Handler func(req *Request, fds []int) *Response

// Server accepts control connections on a listening socket inherited from
// runsc.
type Server struct {
	l       *net.UnixListener
	handler Handler
	// refuseUID is a peer UID that is refused: the sandbox's own root, as
	// seen in its user namespace.
	refuseUID uint32

	mu sync.Mutex
	// active counts connections being served; idle, when set, is closed
	// when it drops to 0 (Drain). Both protected by mu.
	active int
	idle   chan struct{}
}

// NewServer serves connections on the listening socket lfd with handler.
// Connections whose peer has refuseUID in the server's user namespace are
// refused (see docs/oci.md: inside the sandbox's user namespace every host
// user outside it shows as the overflow UID, so the socket's directory,
// root's alone, decides who may connect, and the check keeps the
// sandbox's own processes out).
func NewServer(lfd *os.File, refuseUID uint32, handler Handler) (*Server, error) {
	l, err := net.FileListener(lfd)
	lfd.Close()
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ul, ok := l.(*net.UnixListener)
	if !ok {
		l.Close()
		return nil, fmt.Errorf("control socket is not a unix socket")
	}
	return &Server{l: ul, handler: handler, refuseUID: refuseUID}, nil
}

// Serve accepts connections until the listener is closed, serving each on
// a goroutine of its own (a Wait blocks its connection only).
func (s *Server) Serve() {
	for {
		c, err := s.l.AcceptUnix()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.active++
		s.mu.Unlock()
		go func() {
			defer s.connDone()
			s.serveConn(c)
		}()
	}
}

// connDone records the end of a connection's service.
func (s *Server) connDone() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.active == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}

// Drain stops accepting connections and waits, at most timeout, until
// every request being served has its answer written: the sandbox exits
// right after, and a request that ended the container (a signal to one
// that was never started) must still get its answer.
func (s *Server) Drain(timeout time.Duration) {
	s.Close()
	s.mu.Lock()
	if s.active == 0 {
		s.mu.Unlock()
		return
	}
	idle := make(chan struct{})
	s.idle = idle
	s.mu.Unlock()
	select {
	case <-idle:
	case <-time.After(timeout):
	}
}

// Close stops accepting connections.
func (s *Server) Close() { s.l.Close() }

func (s *Server) serveConn(c *net.UnixConn) {
	defer c.Close()
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	var cred *unix.Ucred
	var credErr error
	raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if credErr != nil || cred.Uid == s.refuseUID {
		write(c, &Response{Error: "control connection refused"}, nil)
		return
	}
	req := &Request{}
	fds, err := read(c, req)
	if err != nil {
		return
	}
	write(c, s.handler(req, fds), nil)
}
