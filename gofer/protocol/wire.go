package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("gofer protocol: malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Header is the fixed prefix of every message.
type Header struct {
	// Tag matches a response to its request.
	Tag uint32
	// Type is the operation.
	Type MsgType
	// Errno is 0 in requests and the result in responses.
	Errno unix.Errno
}

// Message is the payload of one request or response type.
type Message interface {
	// Type returns the operation this payload belongs to.
	Type() MsgType
	// encode appends the payload to e.
	encode(e *encoder)
	// decode reads the payload from d, recording any error in d.
	decode(d *decoder)
}

// Marshal appends the encoding of header h and payload m (nil for none) to
// b and returns the result. It does not check limits; see Conn.Send.
func Marshal(b []byte, h Header, m Message) []byte {
	e := encoder{b: b}
	e.u32(h.Tag)
	e.u16(uint16(h.Type))
	e.u16(0)
	e.u32(uint32(h.Errno))
	if m != nil {
		m.encode(&e)
	}
	return e.b
}

// ParseHeader splits a received message into its header and payload.
func ParseHeader(b []byte) (Header, []byte, error) {
	if len(b) < HeaderSize {
		return Header{}, nil, malformed("%d-byte message is shorter than a header", len(b))
	}
	h := Header{
		Tag:   binary.LittleEndian.Uint32(b[0:]),
		Type:  MsgType(binary.LittleEndian.Uint16(b[4:])),
		Errno: unix.Errno(binary.LittleEndian.Uint32(b[8:])),
	}
	if binary.LittleEndian.Uint16(b[6:]) != 0 {
		return h, nil, malformed("reserved header field is not zero")
	}
	if h.Type == 0 || h.Type >= msgLimit {
		return h, nil, malformed("unknown message type %d", uint16(h.Type))
	}
	return h, b[HeaderSize:], nil
}

// NewRequest returns an empty request payload of type t, or nil.
func NewRequest(t MsgType) Message {
	switch t {
	case MsgAttach:
		return new(AttachReq)
	case MsgWalk:
		return new(WalkReq)
	case MsgOpen:
		return new(OpenReq)
	case MsgCreate:
		return new(CreateReq)
	case MsgMkdir:
		return new(MkdirReq)
	case MsgSymlink:
		return new(SymlinkReq)
	case MsgLink:
		return new(LinkReq)
	case MsgUnlink:
		return new(UnlinkReq)
	case MsgRename:
		return new(RenameReq)
	case MsgSetAttr:
		return new(SetAttrReq)
	case MsgReadlink:
		return new(ReadlinkReq)
	case MsgStat:
		return new(StatReq)
	case MsgClose:
		return new(CloseReq)
	case MsgWalkSiblings:
		return new(WalkSiblingsReq)
	}
	return nil
}

// NewResponse returns an empty successful-response payload of type t, or
// nil for a type whose response has no payload.
func NewResponse(t MsgType) Message {
	switch t {
	case MsgAttach:
		return new(AttachResp)
	case MsgWalk:
		return new(WalkResp)
	case MsgOpen, MsgStat, MsgSetAttr:
		return &AttrResp{typ: t}
	case MsgCreate, MsgMkdir, MsgSymlink, MsgLink:
		return &NodeResp{typ: t}
	case MsgReadlink:
		return new(ReadlinkResp)
	case MsgWalkSiblings:
		return new(WalkSiblingsResp)
	}
	return nil
}

// DecodeRequest decodes the payload of a request with header h.
func DecodeRequest(h Header, payload []byte) (Message, error) {
	if h.Errno != 0 {
		return nil, malformed("request carries errno %d", int(h.Errno))
	}
	m := NewRequest(h.Type)
	if m == nil {
		return nil, malformed("unknown request type %v", h.Type)
	}
	return m, decodeInto(m, payload)
}

// DecodeResponse decodes the payload of a response with header h. It returns
// a nil Message for a response with no payload (an error other than Walk's,
// or a type with an empty success payload).
func DecodeResponse(h Header, payload []byte) (Message, error) {
	if h.Errno != 0 && h.Type != MsgWalk {
		if len(payload) != 0 {
			return nil, malformed("%v error response has a %d-byte payload", h.Type, len(payload))
		}
		return nil, nil
	}
	m := NewResponse(h.Type)
	if m == nil {
		if len(payload) != 0 {
			return nil, malformed("%v response has a %d-byte payload", h.Type, len(payload))
		}
		return nil, nil
	}
	return m, decodeInto(m, payload)
}

func decodeInto(m Message, payload []byte) error {
	d := decoder{b: payload}
	m.decode(&d)
	if d.err == nil && len(d.b) != 0 {
		d.err = malformed("%d trailing bytes after %v payload", len(d.b), m.Type())
	}
	return d.err
}

// ResponseFDs returns the number of descriptors a response with header h and
// decoded payload m must carry.
func ResponseFDs(h Header, m Message) int {
	if m == nil {
		return 0
	}
	switch m := m.(type) {
	case *AttachResp:
		return 1
	case *WalkResp:
		return len(m.Entries)
	case *WalkSiblingsResp:
		return m.Found()
	case *AttrResp:
		if h.Type == MsgOpen {
			return 1
		}
	case *NodeResp:
		if h.Type == MsgCreate {
			return 2
		}
		return 1
	}
	return 0
}

// encoder appends little-endian values.
type encoder struct {
	b []byte
}

func (e *encoder) u16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) i64(v int64)  { e.u64(uint64(v)) }

// str appends a u16 length and the bytes; longer strings are truncated,
// which the peer then rejects or treats as a different (invalid) name.
func (e *encoder) str(s string) {
	if len(s) > 0xffff {
		s = s[:0xffff]
	}
	e.u16(uint16(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) attr(a *Attr) {
	e.u32(a.Mode)
	e.u32(a.UID)
	e.u32(a.GID)
	e.u64(a.Nlink)
	e.u64(a.Ino)
	e.u64(a.Dev)
	e.u64(a.Rdev)
	e.i64(a.Size)
	e.i64(a.Blksize)
	e.i64(a.Blocks)
	e.i64(a.Atime)
	e.i64(a.Mtime)
	e.i64(a.Ctime)
}

// decoder consumes little-endian values; after the first error every read
// returns zero and the error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = malformed("truncated payload: need %d bytes, have %d", n, len(d.b))
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u16() uint16 {
	if b := d.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) i64() int64 { return int64(d.u64()) }

// str reads a string of at most max bytes.
func (d *decoder) str(max int) string {
	n := int(d.u16())
	if d.err == nil && n > max {
		d.err = malformed("%d-byte string exceeds limit %d", n, max)
		return ""
	}
	return string(d.take(n))
}

func (d *decoder) attr() Attr {
	return Attr{
		Mode:    d.u32(),
		UID:     d.u32(),
		GID:     d.u32(),
		Nlink:   d.u64(),
		Ino:     d.u64(),
		Dev:     d.u64(),
		Rdev:    d.u64(),
		Size:    d.i64(),
		Blksize: d.i64(),
		Blocks:  d.i64(),
		Atime:   d.i64(),
		Mtime:   d.i64(),
		Ctime:   d.i64(),
	}
}

func (d *decoder) node() NodeID { return NodeID(d.u64()) }

// count reads a u16 element count and checks it against max and against the
// bytes left (each element needs at least minSize bytes), so a hostile count
// cannot make the decoder allocate more than the message holds.
func (d *decoder) count(max, minSize int) int {
	n := int(d.u16())
	if d.err != nil {
		return 0
	}
	if n > max {
		d.err = malformed("count %d exceeds limit %d", n, max)
		return 0
	}
	if n*minSize > len(d.b) {
		d.err = malformed("count %d exceeds the %d bytes left", n, len(d.b))
		return 0
	}
	return n
}
