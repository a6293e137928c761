package gofer

import (
	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"golang.org/x/sys/unix"
)

// node is a file the server holds open.
//
// A node is referenced once while the client holds its id, once by each
// child node (whose parent it is) and once by each request using it; when
// the last reference goes, its descriptor is closed and it releases its
// parent.
type node struct {
	// fd is an O_PATH|O_NOFOLLOW descriptor of the file. Immutable; valid
	// while refs > 0.
	fd int
	// ftype is the S_IFMT of the file when it was walked. Immutable: a
	// descriptor keeps designating the same inode.
	ftype uint32
	// dev and ino identify the file; Open checks that the file it
	// re-opens by name is still this one. Immutable.
	dev, ino uint64

	// parent is the directory node it was walked from (nil for a root).
	// Protected by server.mu.
	parent *node
	// name is its name in parent, or "" once that name was removed or
	// replaced. Protected by server.mu.
	name string
	// refs counts references. Protected by server.mu.
	refs int
}

// get returns the node with the given id, referenced for the caller (who
// must put it), or EBADF.
func (s *server) get(id protocol.NodeID) (*node, unix.Errno) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nodes[id]
	if !ok {
		return nil, unix.EBADF
	}
	n.refs++
	return n, 0
}

// put drops a reference taken by get, newNode or parentOf.
func (s *server) put(n *node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decRefLocked(n)
}

// decRefLocked drops a reference to n, freeing it and, in turn, releasing
// its ancestors as they become unreferenced.
//
// Preconditions: s.mu is held.
func (s *server) decRefLocked(n *node) {
	for n != nil {
		n.refs--
		if n.refs > 0 {
			return
		}
		unix.Close(n.fd)
		delete(s.live, n)
		p := n.parent
		n.parent = nil
		n = p
	}
}

// newNode registers fd, a fresh O_PATH descriptor of name in parent (nil
// for a root), as a client-visible node. The node it returns is referenced
// twice: once for the client and once for the caller, who must put it.
func (s *server) newNode(parent *node, name string, fd int, st *unix.Stat_t) (protocol.NodeID, *node) {
	n := &node{
		fd:     fd,
		ftype:  st.Mode & unix.S_IFMT,
		dev:    st.Dev,
		ino:    st.Ino,
		parent: parent,
		name:   name,
		refs:   2,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if parent != nil {
		parent.refs++
	}
	id := s.nextID
	s.nextID++
	s.nodes[id] = n
	s.live[n] = struct{}{}
	return id, n
}

// parentOf returns n's parent, referenced for the caller, and n's name in
// it. The parent is nil for a root; the name is "" if it was removed.
func (s *server) parentOf(n *node) (*node, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := n.parent
	if p != nil {
		p.refs++
	}
	return p, n.name
}

// closeNodes releases the client's references to ids.
func (s *server) closeNodes(r *protocol.CloseReq) unix.Errno {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errno unix.Errno
	for _, id := range r.Nodes {
		n, ok := s.nodes[id]
		if !ok {
			errno = unix.EBADF
			continue
		}
		delete(s.nodes, id)
		s.decRefLocked(n)
	}
	return errno
}

// moveLocked records that nodes are now named newName in newDir.
//
// Preconditions: s.mu is held.
func (s *server) moveLocked(nodes []*node, newDir *node, newName string) {
	for _, n := range nodes {
		if n.parent != newDir {
			newDir.refs++
			old := n.parent
			n.parent = newDir
			s.decRefLocked(old)
		}
		n.name = newName
	}
}

// childrenLocked returns the live nodes named name in dir.
//
// Preconditions: s.mu is held.
func (s *server) childrenLocked(dir *node, name string) []*node {
	var out []*node
	for n := range s.live {
		if n.parent == dir && n.name == name {
			out = append(out, n)
		}
	}
	return out
}

// removed marks the nodes named name in dir as unlinked.
func (s *server) removed(dir *node, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.childrenLocked(dir, name) {
		n.name = ""
	}
}

// renamed updates the nodes affected by a successful renameat2 with flags.
func (s *server) renamed(oldDir *node, oldName string, newDir *node, newName string, flags uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	moved := s.childrenLocked(oldDir, oldName)
	other := s.childrenLocked(newDir, newName)
	if flags&unix.RENAME_EXCHANGE != 0 {
		s.moveLocked(other, oldDir, oldName)
	} else {
		for _, n := range other {
			n.name = ""
		}
	}
	s.moveLocked(moved, newDir, newName)
}

// forget drops the client's reference to id (0 is ignored), for a node
// whose id never reached the client.
func (s *server) forget(id protocol.NodeID) {
	if id != 0 {
		s.closeNodes(&protocol.CloseReq{Nodes: []protocol.NodeID{id}})
	}
}

// releaseAll drops every client reference at the end of a connection.
func (s *server) releaseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.nodes {
		delete(s.nodes, id)
		s.decRefLocked(n)
	}
}
