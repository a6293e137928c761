package header

import (
	"encoding/binary"
	"net/netip"
)

// IPv6 constants.
const (
	// IPv6Size is the size of the fixed IPv6 header.
	IPv6Size = 40
	// IPv6FragmentSize is the size of the fragment extension header.
	IPv6FragmentSize = 8
	// Extension header numbers (next header values).
	IPv6HopByHop = 0
	IPv6Routing  = 43
	IPv6Fragment = 44
	IPv6DestOpts = 60
	IPv6NoNext   = 59
	// maxExtHeaders bounds the extension headers walked in one packet.
	maxExtHeaders = 16
)

// IPv6 is a parsed fixed IPv6 header (RFC 8200).
type IPv6 struct {
	TrafficClass uint8
	FlowLabel    uint32
	PayloadLen   int
	NextHeader   uint8
	HopLimit     uint8
	Src, Dst     netip.Addr
}

// ParseIPv6 parses the fixed header of packet b and returns it with the
// payload its payload length covers (extension headers included).
func ParseIPv6(b []byte) (IPv6, []byte, error) {
	var h IPv6
	if len(b) < IPv6Size {
		return h, nil, ErrTooShort
	}
	if b[0]>>4 != 6 {
		return h, nil, ErrBadVersion
	}
	v := binary.BigEndian.Uint32(b)
	h.TrafficClass = uint8(v >> 20)
	h.FlowLabel = v & 0xfffff
	h.PayloadLen = int(binary.BigEndian.Uint16(b[4:]))
	if IPv6Size+h.PayloadLen > len(b) {
		return h, nil, ErrBadLength
	}
	h.NextHeader = b[6]
	h.HopLimit = b[7]
	h.Src = netip.AddrFrom16([16]byte(b[8:24]))
	h.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	return h, b[IPv6Size : IPv6Size+h.PayloadLen], nil
}

// EncodeIPv6 writes the fixed header for h into b (IPv6Size bytes).
func EncodeIPv6(b []byte, h *IPv6) {
	binary.BigEndian.PutUint32(b, 6<<28|uint32(h.TrafficClass)<<20|h.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(h.PayloadLen))
	b[6] = h.NextHeader
	b[7] = h.HopLimit
	s, d := h.Src.As16(), h.Dst.As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
}

// IPv6FragmentHeader is a parsed fragment extension header.
type IPv6FragmentHeader struct {
	// NextHeader is the protocol of the fragmentable part.
	NextHeader uint8
	// Offset is the fragment offset in bytes; More the M flag.
	Offset int
	More   bool
	ID     uint32
}

// IPv6Extensions is the result of walking a packet's extension headers.
type IPv6Extensions struct {
	// Protocol is the upper-layer protocol (or IPv6NoNext).
	Protocol uint8
	// Offset is where the upper-layer header starts in the payload; for a
	// fragment, where the fragment's data starts.
	Offset int
	// Fragment is set if a fragment header was found (the walk stops
	// there: the rest belongs to the reassembled packet).
	Fragment *IPv6FragmentHeader
	// FragmentHeaderOffset is the offset of the fragment header.
	FragmentHeaderOffset int
}

// ParseIPv6Extensions walks the extension headers of a payload whose first
// header is next: hop-by-hop options (only first), routing and destination
// options are skipped after their lengths are checked; a fragment header
// ends the walk. At most maxExtHeaders are walked.
func ParseIPv6Extensions(next uint8, payload []byte) (IPv6Extensions, error) {
	off := 0
	for i := 0; ; i++ {
		if i >= maxExtHeaders {
			return IPv6Extensions{}, ErrTooManyExt
		}
		switch next {
		case IPv6HopByHop, IPv6Routing, IPv6DestOpts:
			if next == IPv6HopByHop && i != 0 {
				return IPv6Extensions{}, ErrBadOptions
			}
			if len(payload)-off < 8 {
				return IPv6Extensions{}, ErrTooShort
			}
			l := (int(payload[off+1]) + 1) * 8
			if l > len(payload)-off {
				return IPv6Extensions{}, ErrBadLength
			}
			next = payload[off]
			off += l
		case IPv6Fragment:
			if len(payload)-off < IPv6FragmentSize {
				return IPv6Extensions{}, ErrTooShort
			}
			f := payload[off:]
			fo := binary.BigEndian.Uint16(f[2:])
			fh := &IPv6FragmentHeader{NextHeader: f[0], Offset: int(fo>>3) * 8, More: fo&1 != 0, ID: binary.BigEndian.Uint32(f[4:])}
			return IPv6Extensions{Protocol: f[0], Offset: off + IPv6FragmentSize, Fragment: fh, FragmentHeaderOffset: off}, nil
		default:
			return IPv6Extensions{Protocol: next, Offset: off}, nil
		}
	}
}

// EncodeIPv6Fragment writes a fragment header into b (IPv6FragmentSize
// bytes).
func EncodeIPv6Fragment(b []byte, f *IPv6FragmentHeader) {
	b[0] = f.NextHeader
	b[1] = 0
	fo := uint16(f.Offset/8) << 3
	if f.More {
		fo |= 1
	}
	binary.BigEndian.PutUint16(b[2:], fo)
	binary.BigEndian.PutUint32(b[4:], f.ID)
}
