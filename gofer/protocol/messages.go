package protocol

// This file defines one payload type per request and response. Each type's
// comment gives its wire layout after the header.

import "golang.org/x/sys/unix"

// AttachReq asks for the root node. Layout: version u32.
type AttachReq struct {
	// Version is the client's protocol version; the server answers
	// EPROTONOSUPPORT unless it equals its own.
	Version uint32
}

// AttachResp returns the root node with its O_PATH descriptor.
// Layout: version u32, flags u32, node, attr.
type AttachResp struct {
	// Version is the server's protocol version.
	Version uint32
	// Flags are AttachFlags (AttachReadOnly).
	Flags uint32
	// Node is the root directory.
	Node NodeID
	// Attr are the root's attributes.
	Attr Attr
}

// WalkReq walks names one component at a time from Node.
// Layout: node, count u16 (1..MaxWalkNames), count strings.
type WalkReq struct {
	Node  NodeID
	Names []string
}

// WalkEntry is one walked component.
type WalkEntry struct {
	Node NodeID
	Attr Attr
}

// WalkResp lists the components walked, one O_PATH descriptor each, in
// order. When the header's errno is non-zero, Entries are the components
// walked before Names[len(Entries)] failed with that errno.
// Layout: count u16, count × (node, attr).
type WalkResp struct {
	Entries []WalkEntry
}

// WalkSiblingsReq looks up several names in one directory Node at once, each
// as a one-component Walk would: it is how a client that has just listed a
// directory fetches the nodes of its entries in one round trip.
// Layout: node, count u16 (1..MaxSiblingNames), count strings.
type WalkSiblingsReq struct {
	Node  NodeID
	Names []string
}

// SiblingEntry is the outcome of one name of a WalkSiblings request: Errno
// 0 and a node, or the errno that a one-name Walk would have returned (and
// no node).
type SiblingEntry struct {
	Errno unix.Errno
	Node  NodeID
	Attr  Attr
}

// WalkSiblingsResp answers a WalkSiblingsReq with one entry per name, in
// order, and one O_PATH descriptor per entry whose Errno is 0, in the same
// order. A header errno (EBADF, ENOTDIR: Node itself is unusable) comes
// with an empty payload instead.
// Layout: count u16, count × (errno u32, and if errno is 0: node, attr).
type WalkSiblingsResp struct {
	Entries []SiblingEntry
}

// Found returns the number of entries that carry a node.
func (m *WalkSiblingsResp) Found() int {
	n := 0
	for i := range m.Entries {
		if m.Entries[i].Errno == 0 {
			n++
		}
	}
	return n
}

// OpenReq opens Node for I/O. Layout: node, flags u32 (OpenFlags).
type OpenReq struct {
	Node  NodeID
	Flags uint32
}

// AttrResp is the response of Open (with the opened descriptor), Stat and
// SetAttr: the node's attributes after the operation. Layout: attr.
type AttrResp struct {
	typ  MsgType
	Attr Attr
}

// CreateReq creates and opens a regular file Name in directory Dir,
// failing with EEXIST if it exists.
// Layout: dir, name string, flags u32 (CreateFlags), mode u32, uid u32, gid u32.
type CreateReq struct {
	Dir   NodeID
	Name  string
	Flags uint32
	Mode  uint32
	UID   uint32
	GID   uint32
}

// MkdirReq creates directory Name in Dir.
// Layout: dir, name string, mode u32, uid u32, gid u32.
type MkdirReq struct {
	Dir  NodeID
	Name string
	Mode uint32
	UID  uint32
	GID  uint32
}

// SymlinkReq creates symbolic link Name in Dir pointing at Target.
// Layout: dir, name string, target string, uid u32, gid u32.
type SymlinkReq struct {
	Dir    NodeID
	Name   string
	Target string
	UID    uint32
	GID    uint32
}

// LinkReq creates hard link Name in Dir to node Target.
// Layout: dir, name string, target node.
type LinkReq struct {
	Dir    NodeID
	Name   string
	Target NodeID
}

// NodeResp is the response of Create, Mkdir, Symlink and Link: the new node.
// Create's carries two descriptors (the opened file, then the O_PATH one);
// the others carry the O_PATH descriptor. Layout: node, attr.
type NodeResp struct {
	typ  MsgType
	Node NodeID
	Attr Attr
}

// UnlinkReq removes Name from Dir. Layout: dir, name string, flags u32
// (UnlinkFlags). The success response has no payload.
type UnlinkReq struct {
	Dir   NodeID
	Name  string
	Flags uint32
}

// RenameReq renames OldDir/OldName to NewDir/NewName.
// Layout: olddir, oldname string, newdir, newname string, flags u32
// (RenameFlags). The success response has no payload.
type RenameReq struct {
	OldDir  NodeID
	OldName string
	NewDir  NodeID
	NewName string
	Flags   uint32
}

// SetAttrReq changes the attributes selected by Mask (SetAttr* bits).
// Layout: node, mask u32, mode u32, uid u32, gid u32, size i64,
// atime i64, mtime i64 (nanoseconds).
type SetAttrReq struct {
	Node  NodeID
	Mask  uint32
	Mode  uint32
	UID   uint32
	GID   uint32
	Size  int64
	Atime int64
	Mtime int64
}

// ReadlinkReq reads the target of symlink Node. Layout: node.
type ReadlinkReq struct {
	Node NodeID
}

// ReadlinkResp carries a symlink's target. Layout: target string.
type ReadlinkResp struct {
	Target string
}

// StatReq refreshes the attributes of Node. Layout: node.
type StatReq struct {
	Node NodeID
}

// CloseReq releases nodes. Layout: count u16 (1..MaxCloseNodes), count nodes.
// The success response has no payload; unknown ids make the server answer
// EBADF after releasing the known ones.
type CloseReq struct {
	Nodes []NodeID
}

// Type implements Message.
func (*AttachReq) Type() MsgType { return MsgAttach }

// Type implements Message.
func (*AttachResp) Type() MsgType { return MsgAttach }

// Type implements Message.
func (*WalkReq) Type() MsgType { return MsgWalk }

// Type implements Message.
func (*WalkResp) Type() MsgType { return MsgWalk }

// Type implements Message.
func (*WalkSiblingsReq) Type() MsgType { return MsgWalkSiblings }

// Type implements Message.
func (*WalkSiblingsResp) Type() MsgType { return MsgWalkSiblings }

// Type implements Message.
func (*OpenReq) Type() MsgType { return MsgOpen }

// Type implements Message.
func (m *AttrResp) Type() MsgType { return m.typ }

// Type implements Message.
func (*CreateReq) Type() MsgType { return MsgCreate }

// Type implements Message.
func (*MkdirReq) Type() MsgType { return MsgMkdir }

// Type implements Message.
func (*SymlinkReq) Type() MsgType { return MsgSymlink }

// Type implements Message.
func (*LinkReq) Type() MsgType { return MsgLink }

// Type implements Message.
func (m *NodeResp) Type() MsgType { return m.typ }

// Type implements Message.
func (*UnlinkReq) Type() MsgType { return MsgUnlink }

// Type implements Message.
func (*RenameReq) Type() MsgType { return MsgRename }

// Type implements Message.
func (*SetAttrReq) Type() MsgType { return MsgSetAttr }

// Type implements Message.
func (*ReadlinkReq) Type() MsgType { return MsgReadlink }

// Type implements Message.
func (*ReadlinkResp) Type() MsgType { return MsgReadlink }

// Type implements Message.
func (*StatReq) Type() MsgType { return MsgStat }

// Type implements Message.
func (*CloseReq) Type() MsgType { return MsgClose }

// NewAttrResp returns the response payload of Open, Stat or SetAttr.
func NewAttrResp(t MsgType, a Attr) *AttrResp { return &AttrResp{typ: t, Attr: a} }

// NewNodeResp returns the response payload of Create, Mkdir, Symlink or Link.
func NewNodeResp(t MsgType, n NodeID, a Attr) *NodeResp {
	return &NodeResp{typ: t, Node: n, Attr: a}
}

func (m *AttachReq) encode(e *encoder) { e.u32(m.Version) }
func (m *AttachReq) decode(d *decoder) { m.Version = d.u32() }

func (m *AttachResp) encode(e *encoder) {
	e.u32(m.Version)
	e.u32(m.Flags)
	e.u64(uint64(m.Node))
	e.attr(&m.Attr)
}

func (m *AttachResp) decode(d *decoder) {
	m.Version = d.u32()
	m.Flags = d.u32()
	m.Node = d.node()
	m.Attr = d.attr()
}

func (m *WalkReq) encode(e *encoder) {
	e.u64(uint64(m.Node))
	e.u16(uint16(len(m.Names)))
	for _, n := range m.Names {
		e.str(n)
	}
}

func (m *WalkReq) decode(d *decoder) {
	m.Node = d.node()
	n := d.count(MaxWalkNames, 2)
	if d.err == nil && n == 0 {
		d.err = malformed("walk of no names")
	}
	m.Names = make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		m.Names = append(m.Names, d.str(MaxNameLen+1))
	}
}

func (m *WalkResp) encode(e *encoder) {
	e.u16(uint16(len(m.Entries)))
	for i := range m.Entries {
		e.u64(uint64(m.Entries[i].Node))
		e.attr(&m.Entries[i].Attr)
	}
}

func (m *WalkResp) decode(d *decoder) {
	n := d.count(MaxWalkNames, 8+AttrSize)
	m.Entries = make([]WalkEntry, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		m.Entries = append(m.Entries, WalkEntry{Node: d.node(), Attr: d.attr()})
	}
}

func (m *WalkSiblingsReq) encode(e *encoder) {
	e.u64(uint64(m.Node))
	e.u16(uint16(len(m.Names)))
	for _, n := range m.Names {
		e.str(n)
	}
}

func (m *WalkSiblingsReq) decode(d *decoder) {
	m.Node = d.node()
	n := d.count(MaxSiblingNames, 2)
	if d.err == nil && n == 0 {
		d.err = malformed("sibling walk of no names")
	}
	m.Names = make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		m.Names = append(m.Names, d.str(MaxNameLen+1))
	}
}

func (m *WalkSiblingsResp) encode(e *encoder) {
	e.u16(uint16(len(m.Entries)))
	for i := range m.Entries {
		en := &m.Entries[i]
		e.u32(uint32(en.Errno))
		if en.Errno == 0 {
			e.u64(uint64(en.Node))
			e.attr(&en.Attr)
		}
	}
}

func (m *WalkSiblingsResp) decode(d *decoder) {
	n := d.count(MaxSiblingNames, 4)
	m.Entries = make([]SiblingEntry, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		en := SiblingEntry{Errno: unix.Errno(d.u32())}
		if en.Errno == 0 {
			en.Node = d.node()
			en.Attr = d.attr()
		}
		m.Entries = append(m.Entries, en)
	}
}

func (m *OpenReq) encode(e *encoder) {
	e.u64(uint64(m.Node))
	e.u32(m.Flags)
}

func (m *OpenReq) decode(d *decoder) {
	m.Node = d.node()
	m.Flags = d.u32()
}

func (m *AttrResp) encode(e *encoder) { e.attr(&m.Attr) }
func (m *AttrResp) decode(d *decoder) { m.Attr = d.attr() }

func (m *CreateReq) encode(e *encoder) {
	e.u64(uint64(m.Dir))
	e.str(m.Name)
	e.u32(m.Flags)
	e.u32(m.Mode)
	e.u32(m.UID)
	e.u32(m.GID)
}

func (m *CreateReq) decode(d *decoder) {
	m.Dir = d.node()
	m.Name = d.str(MaxNameLen + 1)
	m.Flags = d.u32()
	m.Mode = d.u32()
	m.UID = d.u32()
	m.GID = d.u32()
}

func (m *MkdirReq) encode(e *encoder) {
	e.u64(uint64(m.Dir))
	e.str(m.Name)
	e.u32(m.Mode)
	e.u32(m.UID)
	e.u32(m.GID)
}

func (m *MkdirReq) decode(d *decoder) {
	m.Dir = d.node()
	m.Name = d.str(MaxNameLen + 1)
	m.Mode = d.u32()
	m.UID = d.u32()
	m.GID = d.u32()
}

func (m *SymlinkReq) encode(e *encoder) {
	e.u64(uint64(m.Dir))
	e.str(m.Name)
	e.str(m.Target)
	e.u32(m.UID)
	e.u32(m.GID)
}

func (m *SymlinkReq) decode(d *decoder) {
	m.Dir = d.node()
	m.Name = d.str(MaxNameLen + 1)
	m.Target = d.str(MaxPathLen + 1)
	m.UID = d.u32()
	m.GID = d.u32()
}

func (m *LinkReq) encode(e *encoder) {
	e.u64(uint64(m.Dir))
	e.str(m.Name)
	e.u64(uint64(m.Target))
}

func (m *LinkReq) decode(d *decoder) {
	m.Dir = d.node()
	m.Name = d.str(MaxNameLen + 1)
	m.Target = d.node()
}

func (m *NodeResp) encode(e *encoder) {
	e.u64(uint64(m.Node))
	e.attr(&m.Attr)
}

func (m *NodeResp) decode(d *decoder) {
	m.Node = d.node()
	m.Attr = d.attr()
}

func (m *UnlinkReq) encode(e *encoder) {
	e.u64(uint64(m.Dir))
	e.str(m.Name)
	e.u32(m.Flags)
}

func (m *UnlinkReq) decode(d *decoder) {
	m.Dir = d.node()
	m.Name = d.str(MaxNameLen + 1)
	m.Flags = d.u32()
}

func (m *RenameReq) encode(e *encoder) {
	e.u64(uint64(m.OldDir))
	e.str(m.OldName)
	e.u64(uint64(m.NewDir))
	e.str(m.NewName)
	e.u32(m.Flags)
}

func (m *RenameReq) decode(d *decoder) {
	m.OldDir = d.node()
	m.OldName = d.str(MaxNameLen + 1)
	m.NewDir = d.node()
	m.NewName = d.str(MaxNameLen + 1)
	m.Flags = d.u32()
}

func (m *SetAttrReq) encode(e *encoder) {
	e.u64(uint64(m.Node))
	e.u32(m.Mask)
	e.u32(m.Mode)
	e.u32(m.UID)
	e.u32(m.GID)
	e.i64(m.Size)
	e.i64(m.Atime)
	e.i64(m.Mtime)
}

func (m *SetAttrReq) decode(d *decoder) {
	m.Node = d.node()
	m.Mask = d.u32()
	m.Mode = d.u32()
	m.UID = d.u32()
	m.GID = d.u32()
	m.Size = d.i64()
	m.Atime = d.i64()
	m.Mtime = d.i64()
}

func (m *ReadlinkReq) encode(e *encoder)  { e.u64(uint64(m.Node)) }
func (m *ReadlinkReq) decode(d *decoder)  { m.Node = d.node() }
func (m *ReadlinkResp) encode(e *encoder) { e.str(m.Target) }
func (m *ReadlinkResp) decode(d *decoder) { m.Target = d.str(MaxPathLen + 1) }
func (m *StatReq) encode(e *encoder)      { e.u64(uint64(m.Node)) }
func (m *StatReq) decode(d *decoder)      { m.Node = d.node() }

func (m *CloseReq) encode(e *encoder) {
	e.u16(uint16(len(m.Nodes)))
	for _, n := range m.Nodes {
		e.u64(uint64(n))
	}
}

func (m *CloseReq) decode(d *decoder) {
	n := d.count(MaxCloseNodes, 8)
	if d.err == nil && n == 0 {
		d.err = malformed("close of no nodes")
	}
	m.Nodes = make([]NodeID, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		m.Nodes = append(m.Nodes, d.node())
	}
}
