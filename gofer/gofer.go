// Package gofer is the file server of a container: it runs as `runsc gofer`,
// confined to the container's root filesystem, and answers the Sentry's
// requests (package gofer/protocol) over a SOCK_SEQPACKET socketpair,
// donating host file descriptors with SCM_RIGHTS. It is the only path from
// the sandbox to host files.
//
// Every node the client knows is a file the server holds open with
// O_PATH|O_NOFOLLOW. A walk opens one validated component at a time with
// openat(parent, name, O_PATH|O_NOFOLLOW), so the server never resolves a
// multi-component path, never follows a symbolic link and never walks "..":
// it cannot reach a file outside the root it was given, whatever the client
// asks (see docs/gofer.md for the full argument).
//
// Requests are served concurrently: the receive loop hands each request to
// its own goroutine (at most maxInFlight at once), and responses go out in
// completion order, matched by tag.
//
// Lock order: server.mu is the only lock; no host call that can block
// indefinitely is made while holding it (close(2) of an O_PATH descriptor
// is).
package gofer

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/gofer/protocol"
)

// maxInFlight bounds the requests served concurrently.
const maxInFlight = 64

// Serve answers requests arriving on conn (a connected SOCK_SEQPACKET unix
// socket) for files under root until the peer closes the connection, then
// releases every node and returns nil. If readOnly, every mutation and
// every open for writing fails with EROFS. conn is duplicated; the caller
// keeps ownership of it. It is NewServer followed by Server.Serve.
func Serve(conn *os.File, root string, readOnly bool) error {
	srv, err := NewServer(conn, root, readOnly)
	if err != nil {
		return err
	}
	return srv.Serve()
}

// Server is a connection ready to be served: its socket is wrapped and
// registered with the Go runtime's poller and its root is open. Between
// NewServer and Serve the process may confine itself further (runsc gofer
// installs its seccomp filter there): serving makes no host call that
// names a path other than a single component relative to a descriptor
// the server holds.
type Server struct {
	s *server
}

// NewServer prepares to serve conn (a connected SOCK_SEQPACKET unix
// socket) for files under root, as Serve describes. conn is duplicated;
// the caller keeps ownership of it. If Serve is never called, Close
// releases what NewServer took.
func NewServer(conn *os.File, root string, readOnly bool) (*Server, error) {
	c, err := protocol.NewConn(conn)
	if err != nil {
		return nil, err
	}
	rootFD, err := openat(unix.AT_FDCWD, root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("gofer: opening root %q: %w", root, err)
	}
	return &Server{s: &server{
		conn:     c,
		rootFD:   rootFD,
		readOnly: readOnly,
		nodes:    make(map[protocol.NodeID]*node),
		live:     make(map[*node]struct{}),
		nextID:   1,
	}}, nil
}

// Close releases the connection and the root without serving.
func (srv *Server) Close() {
	srv.s.conn.Close()
	unix.Close(srv.s.rootFD)
}

// Serve answers requests until the peer closes the connection, then
// releases every node, the root and the connection, and returns nil.
func (srv *Server) Serve() error {
	s := srv.s
	defer srv.Close()
	defer s.releaseAll()

	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	buf := make([]byte, protocol.MaxMessageSize)
	for {
		n, fds, err := s.conn.Recv(buf)
		// Requests never carry descriptors: drop any the peer sent.
		protocol.CloseFDs(fds)
		if err != nil {
			if protocol.IsEOF(err) {
				return nil
			}
			if !errors.Is(err, protocol.ErrTruncated) {
				return fmt.Errorf("gofer: receiving: %w", err)
			}
			// An oversized request: answer EINVAL if it has a header.
			if h, _, herr := protocol.ParseHeader(buf[:n]); herr == nil {
				s.reply(h, unix.EINVAL, nil, nil)
			}
			continue
		}
		msg := append([]byte(nil), buf[:n]...)
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() {
				<-sem
				wg.Done()
			}()
			s.serveOne(msg)
		}()
	}
}

// server is the state of one connection.
type server struct {
	conn     *protocol.Conn
	rootFD   int // O_PATH descriptor of the root; immutable
	readOnly bool

	// mu guards the node table and every node's parent, name and refs.
	mu sync.Mutex
	// nodes maps the ids the client holds to their nodes.
	nodes map[protocol.NodeID]*node
	// live holds every node with a reference, visible to the client or
	// only as another node's parent; renames and unlinks scan it.
	live map[*node]struct{}
	// nextID is the id of the next node; ids are never reused.
	nextID protocol.NodeID
}

// serveOne decodes and answers one request.
func (s *server) serveOne(msg []byte) {
	h, payload, err := protocol.ParseHeader(msg)
	if err != nil {
		// Without a valid type there is no response the client could
		// decode; drop the request.
		return
	}
	req, err := protocol.DecodeRequest(h, payload)
	if err != nil {
		s.reply(h, unix.EINVAL, nil, nil)
		return
	}
	var rc reqCtx
	defer rc.release(s)
	resp, errno := s.dispatch(&rc, req)
	s.reply(h, errno, resp, rc.donate)
}

// reply sends a response. Unless the type is Walk, a failed response
// carries no payload and no descriptors.
func (s *server) reply(h protocol.Header, errno unix.Errno, resp protocol.Message, fds []int) {
	switch {
	case errno != 0 && h.Type != protocol.MsgWalk:
		resp, fds = nil, nil
	case h.Type == protocol.MsgWalk && resp == nil:
		// A Walk response always carries its (here empty) entries.
		resp, fds = &protocol.WalkResp{}, nil
	}
	b := protocol.Marshal(make([]byte, 0, 128), protocol.Header{Tag: h.Tag, Type: h.Type, Errno: errno}, resp)
	// A send error means the peer is gone; the receive loop will see it.
	_ = s.conn.Send(b, fds)
}

// reqCtx collects what a request must release after its response is sent.
type reqCtx struct {
	// donate are the descriptors to attach to the response.
	donate []int
	// closeAfter are descriptors owned by the request (opened for I/O).
	closeAfter []int
	// pins are node references that keep donated descriptors open until
	// the response is out.
	pins []*node
}

// pin keeps n referenced until the response is sent.
func (rc *reqCtx) pin(n *node) { rc.pins = append(rc.pins, n) }

// giveFD attaches fd, owned by the request, to the response.
func (rc *reqCtx) giveFD(fd int) {
	rc.donate = append(rc.donate, fd)
	rc.closeAfter = append(rc.closeAfter, fd)
}

func (rc *reqCtx) release(s *server) {
	protocol.CloseFDs(rc.closeAfter)
	for _, n := range rc.pins {
		s.put(n)
	}
}

// dispatch serves one decoded request.
func (s *server) dispatch(rc *reqCtx, req protocol.Message) (protocol.Message, unix.Errno) {
	switch r := req.(type) {
	case *protocol.AttachReq:
		return s.attach(rc, r)
	case *protocol.WalkReq:
		return s.walk(rc, r)
	case *protocol.WalkSiblingsReq:
		return s.walkSiblings(rc, r)
	case *protocol.OpenReq:
		return s.open(rc, r)
	case *protocol.StatReq:
		return s.stat(rc, r)
	case *protocol.ReadlinkReq:
		return s.readlink(rc, r)
	case *protocol.CloseReq:
		return nil, s.closeNodes(r)
	}
	if s.readOnly {
		return nil, unix.EROFS
	}
	switch r := req.(type) {
	case *protocol.CreateReq:
		return s.create(rc, r)
	case *protocol.MkdirReq:
		return s.mkdir(rc, r)
	case *protocol.SymlinkReq:
		return s.symlink(rc, r)
	case *protocol.LinkReq:
		return s.link(rc, r)
	case *protocol.UnlinkReq:
		return nil, s.unlink(rc, r)
	case *protocol.RenameReq:
		return nil, s.rename(rc, r)
	case *protocol.SetAttrReq:
		return s.setAttr(rc, r)
	}
	return nil, unix.ENOSYS
}
