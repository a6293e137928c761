package header

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// IPv4 constants.
const (
	// IPv4MinSize is the size of an IPv4 header without options.
	IPv4MinSize = 20
	// IPv4MaxSize is the size of the largest IPv4 header (IHL 15).
	IPv4MaxSize = 60
	// IPv4MaxTotalLen is the largest IPv4 packet.
	IPv4MaxTotalLen = 65535
	// IPv4FlagDF and IPv4FlagMF are the Don't Fragment and More
	// Fragments bits of the flags field.
	IPv4FlagDF = 0x2
	IPv4FlagMF = 0x1
)

// Errors of the parsers: every malformed packet is dropped with one of them.
var (
	ErrTooShort    = errors.New("packet too short")
	ErrBadVersion  = errors.New("bad IP version")
	ErrBadLength   = errors.New("bad length field")
	ErrBadOptions  = errors.New("malformed options")
	ErrBadChecksum = errors.New("bad checksum")
	ErrTooManyExt  = errors.New("too many extension headers")
)

// IPv4 is a parsed IPv4 header (RFC 791).
type IPv4 struct {
	// HeaderLen is IHL*4, TotalLen the total length field.
	HeaderLen, TotalLen int
	TOS                 uint8
	ID                  uint16
	// Flags holds IPv4FlagDF and IPv4FlagMF.
	Flags uint8
	// FragOffset is the fragment offset in bytes.
	FragOffset int
	TTL        uint8
	Protocol   uint8
	Checksum   uint16
	Src, Dst   netip.Addr
}

// IsFragment reports whether the packet is a fragment of a larger one.
func (h *IPv4) IsFragment() bool { return h.Flags&IPv4FlagMF != 0 || h.FragOffset != 0 }

// ParseIPv4 parses the IPv4 packet b: the header (options checked for
// well-formedness, header checksum verified) and the payload the total
// length covers (link padding beyond it is cut).
func ParseIPv4(b []byte) (IPv4, []byte, error) {
	var h IPv4
	if len(b) < IPv4MinSize {
		return h, nil, ErrTooShort
	}
	if b[0]>>4 != 4 {
		return h, nil, ErrBadVersion
	}
	h.HeaderLen = int(b[0]&0xf) * 4
	if h.HeaderLen < IPv4MinSize || h.HeaderLen > len(b) {
		return h, nil, ErrBadLength
	}
	h.TotalLen = int(binary.BigEndian.Uint16(b[2:]))
	if h.TotalLen < h.HeaderLen || h.TotalLen > len(b) {
		return h, nil, ErrBadLength
	}
	if err := checkIPv4Options(b[IPv4MinSize:h.HeaderLen]); err != nil {
		return h, nil, err
	}
	if Checksum(b[:h.HeaderLen], 0) != 0xffff {
		return h, nil, ErrBadChecksum
	}
	h.TOS = b[1]
	h.ID = binary.BigEndian.Uint16(b[4:])
	fo := binary.BigEndian.Uint16(b[6:])
	h.Flags = uint8(fo >> 13)
	h.FragOffset = int(fo&0x1fff) * 8
	h.TTL = b[8]
	h.Protocol = b[9]
	h.Checksum = binary.BigEndian.Uint16(b[10:])
	h.Src = netip.AddrFrom4([4]byte(b[12:16]))
	h.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	return h, b[h.HeaderLen:h.TotalLen], nil
}

// checkIPv4Options walks the options: End of List and No Operation are one
// byte; every other option has a length byte of at least 2 that must fit.
func checkIPv4Options(opts []byte) error {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case 0:
			return nil
		case 1:
			i++
		default:
			if i+1 >= len(opts) {
				return ErrBadOptions
			}
			l := int(opts[i+1])
			if l < 2 || i+l > len(opts) {
				return ErrBadOptions
			}
			i += l
		}
	}
	return nil
}

// EncodeIPv4 writes a 20-byte header for h (options are never sent) into
// b, which must have IPv4MinSize bytes, and fills in the checksum. The
// HeaderLen, TotalLen and Checksum of h are ignored: the total length is
// IPv4MinSize+payloadLen.
func EncodeIPv4(b []byte, h *IPv4, payloadLen int) {
	b[0] = 0x45
	b[1] = h.TOS
	binary.BigEndian.PutUint16(b[2:], uint16(IPv4MinSize+payloadLen))
	binary.BigEndian.PutUint16(b[4:], h.ID)
	binary.BigEndian.PutUint16(b[6:], uint16(h.Flags)<<13|uint16(h.FragOffset/8)&0x1fff)
	b[8] = h.TTL
	b[9] = h.Protocol
	b[10], b[11] = 0, 0
	s, d := h.Src.As4(), h.Dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[10:], ^Checksum(b[:IPv4MinSize], 0))
}

// ParseIPv4Quoted parses the IPv4 header quoted in an ICMP error: the
// packet is cut short, so the total length may run past b; the rest of b
// after the header is returned.
func ParseIPv4Quoted(b []byte) (IPv4, []byte, error) {
	if len(b) < IPv4MinSize {
		return IPv4{}, nil, ErrTooShort
	}
	hl := int(b[0]&0xf) * 4
	if hl < IPv4MinSize || hl > len(b) {
		return IPv4{}, nil, ErrBadLength
	}
	c := make([]byte, hl)
	copy(c, b[:hl])
	c[2], c[3] = byte(hl>>8), byte(hl)
	c[10], c[11] = 0, 0
	s := ^Checksum(c, 0)
	c[10], c[11] = byte(s>>8), byte(s)
	h, _, err := ParseIPv4(c)
	if err != nil {
		return IPv4{}, nil, err
	}
	h.TotalLen = int(b[2])<<8 | int(b[3])
	return h, b[hl:], nil
}
