// Package protocol defines the wire format spoken between the Sentry (the
// client, see vfs/gofer) and the gofer (the server, see package gofer), and
// provides the transport (Conn) and a goroutine-safe client (Client).
//
// # Transport
//
// Messages travel over a connected AF_UNIX SOCK_SEQPACKET socket, one
// message per datagram, so the kernel keeps message boundaries and attaches
// any SCM_RIGHTS file descriptors to exactly one message. No message exceeds
// MaxMessageSize bytes or carries more than MaxFDsPerMessage descriptors.
//
// # Framing
//
// Every message starts with a 12-byte little-endian header:
//
//	offset size field
//	0      4    tag    chosen by the client; echoed in the response
//	4      2    type   a MsgType; echoed in the response
//	6      2    -      reserved, must be zero
//	8      4    errno  0 in requests; a Linux errno (0 = success) in responses
//
// The payload that follows depends on the type (see the Req and Resp types
// in this package; each documents its layout). Integers are little-endian;
// a string is a u16 byte length followed by the bytes; a node id is a u64;
// an Attr is AttrSize bytes (see Attr). A response whose errno is non-zero
// has an empty payload, except Walk, whose response always carries the
// components walked before the error. (WalkSiblings reports a failure per
// name inside a successful response; its header errno is only for the
// directory itself.) A decoder rejects short payloads,
// trailing bytes, non-zero reserved fields and counts above the limits, so
// every message has exactly one valid encoding.
//
// # Descriptors
//
// Requests carry no descriptors. A successful response carries exactly the
// number of descriptors its type defines (Attach 1, Walk one per entry,
// WalkSiblings one per name found, Open 1, Create 2, Mkdir/Symlink/Link 1,
// others none); a receiver that gets
// any other number treats the message as malformed and closes them all.
//
// # Nodes
//
// A node is a file the server holds open (as an O_PATH descriptor). Attach,
// Walk, WalkSiblings, Create, Mkdir, Symlink and Link each return new node
// ids, which the client must eventually release with Close. Node ids are never reused
// within a connection.
package protocol

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Version is the protocol version exchanged by Attach.
const Version = 1

// Limits of the wire format.
const (
	// HeaderSize is the size of the fixed message header.
	HeaderSize = 12

	// MaxMessageSize bounds every message, header included.
	MaxMessageSize = 64 << 10

	// MaxWalkNames bounds the names of one Walk request.
	MaxWalkNames = 64

	// MaxSiblingNames bounds the names of one WalkSiblings request.
	MaxSiblingNames = 128

	// MaxFDsPerMessage bounds the descriptors attached to one message
	// (a full WalkSiblings response). It must stay at or below the
	// kernel's SCM_MAX_FD (253), the most one sendmsg can carry.
	MaxFDsPerMessage = MaxSiblingNames

	// scmMaxFD is the kernel's SCM_MAX_FD.
	scmMaxFD = 253

	// MaxCloseNodes bounds the node ids of one Close request.
	MaxCloseNodes = 1024

	// MaxNameLen is the longest valid path component (NAME_MAX).
	MaxNameLen = 255

	// MaxPathLen is the longest symlink target (PATH_MAX - 1).
	MaxPathLen = 4095
)

// MsgType identifies the operation of a request and its response.
type MsgType uint16

// Message types.
const (
	MsgAttach MsgType = iota + 1
	MsgWalk
	MsgOpen
	MsgCreate
	MsgMkdir
	MsgSymlink
	MsgLink
	MsgUnlink
	MsgRename
	MsgSetAttr
	MsgReadlink
	MsgStat
	MsgClose
	MsgWalkSiblings
	msgLimit
)

// The descriptor limit must fit in one SCM_RIGHTS message, and a full
// WalkSiblings request or response in one message: these constants fail
// to compile (negative untyped constant converted to uint) otherwise.
const (
	_ = uint(scmMaxFD - MaxFDsPerMessage)
	_ = uint(MaxMessageSize - HeaderSize - 10 - MaxSiblingNames*(2+MaxNameLen+1))
	_ = uint(MaxMessageSize - HeaderSize - 2 - MaxSiblingNames*(4+8+AttrSize))
)

var msgNames = [...]string{
	MsgAttach:   "Attach",
	MsgWalk:     "Walk",
	MsgOpen:     "Open",
	MsgCreate:   "Create",
	MsgMkdir:    "Mkdir",
	MsgSymlink:  "Symlink",
	MsgLink:     "Link",
	MsgUnlink:   "Unlink",
	MsgRename:   "Rename",
	MsgSetAttr:  "SetAttr",
	MsgReadlink: "Readlink",
	MsgStat:     "Stat",
	MsgClose:    "Close",

	MsgWalkSiblings: "WalkSiblings",
}

// String returns the operation's name.
func (t MsgType) String() string {
	if t > 0 && t < msgLimit {
		return msgNames[t]
	}
	return fmt.Sprintf("MsgType(%d)", uint16(t))
}

// NodeID names a node held by the server.
type NodeID uint64

// Attr are a file's attributes, as returned by fstat on the server.
//
// Wire layout (AttrSize bytes): mode, uid, gid (u32 each); nlink, ino, dev,
// rdev (u64 each); size, blksize, blocks, atime, mtime, ctime (i64 each,
// times in nanoseconds since the epoch).
type Attr struct {
	// Mode is st_mode: file type and permission bits.
	Mode uint32
	// UID and GID are the owner, as the server sees them.
	UID uint32
	GID uint32
	// Nlink is st_nlink.
	Nlink uint64
	// Ino and Dev identify the file on the server's host.
	Ino uint64
	Dev uint64
	// Rdev is the device number of a device file.
	Rdev uint64
	// Size is st_size in bytes.
	Size int64
	// Blksize is st_blksize.
	Blksize int64
	// Blocks is st_blocks (512-byte units).
	Blocks int64
	// Atime, Mtime and Ctime are in nanoseconds since the Unix epoch.
	Atime int64
	Mtime int64
	Ctime int64
}

// AttrSize is the encoded size of an Attr.
const AttrSize = 3*4 + 10*8

// AttrFromStat converts a host stat buffer.
func AttrFromStat(st *unix.Stat_t) Attr {
	return Attr{
		Mode:    st.Mode,
		UID:     st.Uid,
		GID:     st.Gid,
		Nlink:   uint64(st.Nlink),
		Ino:     st.Ino,
		Dev:     st.Dev,
		Rdev:    st.Rdev,
		Size:    st.Size,
		Blksize: int64(st.Blksize),
		Blocks:  st.Blocks,
		Atime:   st.Atim.Nano(),
		Mtime:   st.Mtim.Nano(),
		Ctime:   st.Ctim.Nano(),
	}
}

// FileType returns the S_IFMT bits of the mode.
func (a *Attr) FileType() uint32 { return a.Mode & unix.S_IFMT }

// IsDir reports whether the attributes describe a directory.
func (a *Attr) IsDir() bool { return a.FileType() == unix.S_IFDIR }

// IsSymlink reports whether the attributes describe a symbolic link.
func (a *Attr) IsSymlink() bool { return a.FileType() == unix.S_IFLNK }

// AttachFlags are reported by the server in AttachResp.
const (
	// AttachReadOnly says the server refuses every mutation with EROFS.
	AttachReadOnly uint32 = 1 << iota
)

// OpenFlags are the open(2) flags a client may pass to Open; any other bit
// (O_CREAT in particular) makes the server answer EINVAL.
const OpenFlags = unix.O_ACCMODE | unix.O_TRUNC | unix.O_DIRECTORY |
	unix.O_APPEND | unix.O_NONBLOCK | unix.O_SYNC | unix.O_DSYNC

// CreateFlags are the open(2) flags a client may pass to Create, which
// always creates exclusively (O_CREAT|O_EXCL are implied).
const CreateFlags = unix.O_ACCMODE | unix.O_APPEND | unix.O_SYNC | unix.O_DSYNC

// UnlinkFlags are the flags of Unlink (unlinkat(2)'s AT_REMOVEDIR).
const UnlinkFlags = unix.AT_REMOVEDIR

// RenameFlags are the flags of Rename (renameat2(2)).
const RenameFlags = unix.RENAME_NOREPLACE | unix.RENAME_EXCHANGE

// NoID in a uid or gid field means "leave unchanged" (as chown's -1).
const NoID = ^uint32(0)

// SetAttr mask bits: which fields of SetAttrReq to apply.
const (
	SetAttrMode uint32 = 1 << iota
	SetAttrUID
	SetAttrGID
	SetAttrSize
	SetAttrAtime
	SetAttrMtime
	// SetAttrAtimeNow and SetAttrMtimeNow set the time to the server's
	// current time, ignoring the value field.
	SetAttrAtimeNow
	SetAttrMtimeNow

	// SetAttrAll is every valid mask bit.
	SetAttrAll = SetAttrMtimeNow<<1 - 1
)
