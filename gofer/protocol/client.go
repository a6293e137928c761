package protocol

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ErrClientClosed is returned by calls on a Client whose connection is gone.
var ErrClientClosed = errors.New("gofer protocol: client connection closed")

// Client issues requests to a gofer server. It is safe for concurrent use:
// each call picks a fresh tag, registers a reply channel under it, sends its
// request and waits; one reader goroutine receives every response and hands
// it to the waiter registered under its tag. Calls therefore proceed in
// parallel and the server may answer them in any order.
//
// Errors: a server errno is returned as a unix.Errno; a dead connection as
// an error wrapping ErrClientClosed; a malformed response as an error
// wrapping ErrMalformed (descriptors it carried are closed).
type Client struct {
	conn *Conn

	// mu guards the fields below.
	mu sync.Mutex
	// pending maps the tag of each outstanding call to its reply channel.
	pending map[uint32]chan reply
	// nextTag is the next tag to try.
	nextTag uint32
	// err is non-nil once the connection has failed; no new call starts.
	err error

	// done is closed when the reader goroutine exits.
	done chan struct{}

	// sent counts the requests sent, by type (see Requests).
	sent [msgLimit]atomic.Uint64
}

// reply is one response as delivered to the waiting call.
type reply struct {
	h   Header
	m   Message
	fds []int
	err error
}

// NewClient starts a client on the connected SOCK_SEQPACKET socket f. It
// duplicates f; the caller may close f.
func NewClient(f *os.File) (*Client, error) {
	conn, err := NewConn(f)
	if err != nil {
		return nil, err
	}
	c := &Client{
		conn:    conn,
		pending: make(map[uint32]chan reply),
		done:    make(chan struct{}),
	}
	go c.readLoop()
	return c, nil
}

// Close shuts the connection down; outstanding and later calls fail with
// ErrClientClosed. The server releases every node of the connection.
func (c *Client) Close() error {
	err := c.conn.Close()
	<-c.done
	return err
}

// Done is closed when the connection has ended: the server closed it or
// died, a receive failed, or Close was called. Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended (an error wrapping
// ErrClientClosed), or nil while it is up.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// readLoop receives responses until the connection fails, then fails every
// outstanding call.
func (c *Client) readLoop() {
	defer close(c.done)
	buf := make([]byte, MaxMessageSize)
	for {
		n, fds, err := c.conn.Recv(buf)
		if err != nil && !errors.Is(err, ErrTruncated) {
			c.fail(fmt.Errorf("%w: %v", ErrClientClosed, err))
			return
		}
		h, payload, herr := ParseHeader(buf[:n])
		if herr != nil && h.Tag == 0 && h.Type == 0 {
			// Not even a tag to blame: drop it.
			CloseFDs(fds)
			continue
		}
		r := reply{h: h, fds: fds, err: err}
		if r.err == nil {
			r.err = herr
		}
		if r.err == nil {
			r.m, r.err = DecodeResponse(h, payload)
		}
		if r.err == nil && ResponseFDs(h, r.m) != len(fds) {
			r.err = malformed("%v response carries %d descriptors, want %d", h.Type, len(fds), ResponseFDs(h, r.m))
		}
		if r.err != nil {
			CloseFDs(r.fds)
			r.fds = nil
		}
		c.mu.Lock()
		ch, ok := c.pending[h.Tag]
		delete(c.pending, h.Tag)
		c.mu.Unlock()
		if !ok {
			// Nobody asked: a confused or hostile server.
			CloseFDs(r.fds)
			continue
		}
		ch <- r
	}
}

// fail records err and wakes every outstanding call with it.
func (c *Client) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	for tag, ch := range c.pending {
		ch <- reply{err: c.err}
		delete(c.pending, tag)
	}
}

// call sends req and waits for its response. On success it returns the
// response payload (nil for empty ones) and its descriptors, which the
// caller owns. For Walk, a server errno is returned together with the
// partial payload and descriptors; for other types an errno comes alone.
func (c *Client) call(req Message) (Message, []int, error) {
	ch := make(chan reply, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, nil, err
	}
	tag := c.nextTag
	for {
		if _, busy := c.pending[tag]; !busy {
			break
		}
		tag++
	}
	c.nextTag = tag + 1
	c.pending[tag] = ch
	c.mu.Unlock()

	b := Marshal(make([]byte, 0, 64), Header{Tag: tag, Type: req.Type()}, req)
	c.sent[req.Type()].Add(1)
	if err := c.conn.Send(b, nil); err != nil {
		c.mu.Lock()
		_, still := c.pending[tag]
		delete(c.pending, tag)
		c.mu.Unlock()
		if still {
			return nil, nil, fmt.Errorf("%w: send %v: %v", ErrClientClosed, req.Type(), err)
		}
		// The reader claimed the tag (it failed the call or, impossibly,
		// answered it): take what it sent.
	}
	r := <-ch
	if r.err != nil {
		return nil, nil, r.err
	}
	if r.h.Type != req.Type() {
		CloseFDs(r.fds)
		return nil, nil, malformed("%v request answered by %v", req.Type(), r.h.Type)
	}
	if r.h.Errno != 0 {
		return r.m, r.fds, r.h.Errno
	}
	return r.m, r.fds, nil
}

// Requests returns the number of requests of type t this client has sent
// (each one a round trip to the server), for statistics and tests.
func (c *Client) Requests(t MsgType) uint64 {
	if t == 0 || t >= msgLimit {
		return 0
	}
	return c.sent[t].Load()
}

// Node is a node returned to the client, with its donated O_PATH
// descriptor, which the caller owns and must close.
type Node struct {
	// ID names the node in later requests; release it with CloseNodes.
	ID NodeID
	// Attr are the attributes at the time of the call.
	Attr Attr
	// FD is the O_PATH|O_NOFOLLOW descriptor of the file.
	FD int
}

// Attach returns the server's root node and whether the server is
// read-only.
func (c *Client) Attach() (root Node, readOnly bool, err error) {
	m, fds, err := c.call(&AttachReq{Version: Version})
	if err != nil {
		return Node{}, false, err
	}
	r := m.(*AttachResp)
	if r.Version != Version {
		CloseFDs(fds)
		return Node{}, false, unix.EPROTONOSUPPORT
	}
	return Node{ID: r.Node, Attr: r.Attr, FD: fds[0]}, r.Flags&AttachReadOnly != 0, nil
}

// checkName applies the server's component rules on the client, so that a
// name the wire cannot carry yields the errno Linux would give.
func checkName(name string) error {
	if len(name) > MaxNameLen {
		return unix.ENAMETOOLONG
	}
	return nil
}

// Walk walks names from node, one component at a time, and returns a node
// for each component walked. If a component cannot be walked it returns the
// nodes walked before it with the errno (ENOENT, ENOTDIR, EINVAL for "." or
// ".." or a name containing '/' or NUL, ...). Long walks are split into
// several requests.
func (c *Client) Walk(node NodeID, names []string) ([]Node, error) {
	var out []Node
	for len(names) > 0 {
		chunk := names
		if len(chunk) > MaxWalkNames {
			chunk = chunk[:MaxWalkNames]
		}
		for i, n := range chunk {
			if err := checkName(n); err != nil {
				if i == 0 {
					return out, err
				}
				chunk = chunk[:i]
				break
			}
		}
		m, fds, err := c.call(&WalkReq{Node: node, Names: chunk})
		if m != nil {
			r := m.(*WalkResp)
			for i, e := range r.Entries {
				out = append(out, Node{ID: e.Node, Attr: e.Attr, FD: fds[i]})
			}
			if len(r.Entries) > len(chunk) || (err == nil && len(r.Entries) != len(chunk)) {
				err = malformed("walk of %d names returned %d entries without error", len(chunk), len(r.Entries))
			}
		}
		if err != nil {
			return out, err
		}
		names = names[len(chunk):]
		node = out[len(out)-1].ID
	}
	return out, nil
}

// Sibling is the outcome of one name of WalkSiblings: a node (which the
// caller owns, descriptor and id) when Err is nil, else the error a
// one-name Walk would have returned.
type Sibling struct {
	Node Node
	Err  error
}

// WalkSiblings looks up each of names in directory dir, as many one-name
// Walks would, in as few requests as MaxSiblingNames allows, and returns
// one Sibling per name, in order. Names the wire cannot carry fail locally
// (ENAMETOOLONG) without being sent. The error is non-nil only if dir
// itself cannot be walked (EBADF, ENOTDIR) or the connection failed; then
// no Sibling is returned and the caller owns nothing.
func (c *Client) WalkSiblings(dir NodeID, names []string) ([]Sibling, error) {
	out := make([]Sibling, len(names))
	// got are the positions in out that hold a node, released on failure.
	var got []int
	fail := func(err error) ([]Sibling, error) {
		var ids []NodeID
		for _, i := range got {
			unix.Close(out[i].Node.FD)
			ids = append(ids, out[i].Node.ID)
		}
		if len(ids) > 0 {
			// Best effort: the connection may be what failed.
			_ = c.CloseNodes(ids)
		}
		return nil, err
	}
	for start := 0; start < len(names); {
		// idx are the positions of names, from start on, that go into
		// this request.
		var idx []int
		var batch []string
		for ; start < len(names) && len(batch) < MaxSiblingNames; start++ {
			if err := checkName(names[start]); err != nil {
				out[start].Err = err
				continue
			}
			idx = append(idx, start)
			batch = append(batch, names[start])
		}
		if len(batch) == 0 {
			break
		}
		m, fds, err := c.call(&WalkSiblingsReq{Node: dir, Names: batch})
		if err != nil {
			return fail(err)
		}
		r := m.(*WalkSiblingsResp)
		if len(r.Entries) != len(batch) {
			CloseFDs(fds)
			var ids []NodeID
			for _, e := range r.Entries {
				if e.Errno == 0 {
					ids = append(ids, e.Node)
				}
			}
			if len(ids) > 0 {
				_ = c.CloseNodes(ids)
			}
			return fail(malformed("sibling walk of %d names returned %d entries", len(batch), len(r.Entries)))
		}
		k := 0
		for i, e := range r.Entries {
			if e.Errno != 0 {
				out[idx[i]].Err = e.Errno
				continue
			}
			out[idx[i]].Node = Node{ID: e.Node, Attr: e.Attr, FD: fds[k]}
			got = append(got, idx[i])
			k++
		}
	}
	return out, nil
}

// Open opens node for I/O with flags (OpenFlags) and returns the host
// descriptor, which the caller owns, and the fresh attributes.
func (c *Client) Open(node NodeID, flags uint32) (int, Attr, error) {
	m, fds, err := c.call(&OpenReq{Node: node, Flags: flags})
	if err != nil {
		return -1, Attr{}, err
	}
	return fds[0], m.(*AttrResp).Attr, nil
}

// Create creates and opens regular file name in dir (exclusively) and
// returns the new node and the opened descriptor.
func (c *Client) Create(dir NodeID, name string, flags, mode, uid, gid uint32) (Node, int, error) {
	if err := checkName(name); err != nil {
		return Node{}, -1, err
	}
	m, fds, err := c.call(&CreateReq{Dir: dir, Name: name, Flags: flags, Mode: mode, UID: uid, GID: gid})
	if err != nil {
		return Node{}, -1, err
	}
	r := m.(*NodeResp)
	return Node{ID: r.Node, Attr: r.Attr, FD: fds[1]}, fds[0], nil
}

// nodeCall runs a request answered by a NodeResp with one descriptor.
func (c *Client) nodeCall(req Message) (Node, error) {
	m, fds, err := c.call(req)
	if err != nil {
		return Node{}, err
	}
	r := m.(*NodeResp)
	return Node{ID: r.Node, Attr: r.Attr, FD: fds[0]}, nil
}

// Mkdir creates directory name in dir.
func (c *Client) Mkdir(dir NodeID, name string, mode, uid, gid uint32) (Node, error) {
	if err := checkName(name); err != nil {
		return Node{}, err
	}
	return c.nodeCall(&MkdirReq{Dir: dir, Name: name, Mode: mode, UID: uid, GID: gid})
}

// Symlink creates symbolic link name in dir pointing at target.
func (c *Client) Symlink(dir NodeID, name, target string, uid, gid uint32) (Node, error) {
	if err := checkName(name); err != nil {
		return Node{}, err
	}
	if len(target) > MaxPathLen {
		return Node{}, unix.ENAMETOOLONG
	}
	return c.nodeCall(&SymlinkReq{Dir: dir, Name: name, Target: target, UID: uid, GID: gid})
}

// Link creates hard link name in dir to target.
func (c *Client) Link(dir NodeID, name string, target NodeID) (Node, error) {
	if err := checkName(name); err != nil {
		return Node{}, err
	}
	return c.nodeCall(&LinkReq{Dir: dir, Name: name, Target: target})
}

// Unlink removes name from dir; flags may be AT_REMOVEDIR.
func (c *Client) Unlink(dir NodeID, name string, flags uint32) error {
	if err := checkName(name); err != nil {
		return err
	}
	_, _, err := c.call(&UnlinkReq{Dir: dir, Name: name, Flags: flags})
	return err
}

// Rename renames oldDir/oldName to newDir/newName with renameat2 flags.
func (c *Client) Rename(oldDir NodeID, oldName string, newDir NodeID, newName string, flags uint32) error {
	if err := checkName(oldName); err != nil {
		return err
	}
	if err := checkName(newName); err != nil {
		return err
	}
	_, _, err := c.call(&RenameReq{OldDir: oldDir, OldName: oldName, NewDir: newDir, NewName: newName, Flags: flags})
	return err
}

// SetAttr applies the changes selected by req.Mask to req.Node and returns
// the resulting attributes.
func (c *Client) SetAttr(req SetAttrReq) (Attr, error) {
	m, _, err := c.call(&req)
	if err != nil {
		return Attr{}, err
	}
	return m.(*AttrResp).Attr, nil
}

// Readlink returns the target of symlink node.
func (c *Client) Readlink(node NodeID) (string, error) {
	m, _, err := c.call(&ReadlinkReq{Node: node})
	if err != nil {
		return "", err
	}
	return m.(*ReadlinkResp).Target, nil
}

// Stat returns the current attributes of node.
func (c *Client) Stat(node NodeID) (Attr, error) {
	m, _, err := c.call(&StatReq{Node: node})
	if err != nil {
		return Attr{}, err
	}
	return m.(*AttrResp).Attr, nil
}

// CloseNodes releases nodes (in batches of MaxCloseNodes). It returns the
// first error; every batch is attempted.
func (c *Client) CloseNodes(nodes []NodeID) error {
	var first error
	for len(nodes) > 0 {
		batch := nodes
		if len(batch) > MaxCloseNodes {
			batch = batch[:MaxCloseNodes]
		}
		nodes = nodes[len(batch):]
		if _, _, err := c.call(&CloseReq{Nodes: batch}); err != nil && first == nil {
			first = err
		}
	}
	return first
}
