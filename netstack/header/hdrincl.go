package header

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// ErrNotSent is returned by FillIPv4HdrIncl for a header that passes the
// length checks but that no receiver would take (a version other than 4,
// malformed options): Linux sends such a packet for the receivers to
// drop; the stack drops it at once and the send still succeeds.
var ErrNotSent = errors.New("header not sendable")

// FillIPv4HdrIncl checks and completes b, an IPv4 packet whose header the
// owner of a raw socket built (IP_HDRINCL), as raw(7) describes Linux's:
// the total length and the header checksum are always filled in, the
// source address (with src) and the identification (with id) when they
// are zero. b is hostile: ErrTooShort or ErrBadLength (EINVAL for the
// sender) when the packet is shorter than a header or than its IHL says,
// ErrNotSent (see there) for a wrong version or options, ErrBadLength too
// when b is longer than an IPv4 packet can be.
func FillIPv4HdrIncl(b []byte, src netip.Addr, id uint16) error {
	if len(b) < IPv4MinSize {
		return ErrTooShort
	}
	hl := int(b[0]&0xf) * 4
	if hl < IPv4MinSize || hl > len(b) || len(b) > IPv4MaxTotalLen {
		return ErrBadLength
	}
	if b[0]>>4 != 4 || checkIPv4Options(b[IPv4MinSize:hl]) != nil {
		return ErrNotSent
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	if binary.BigEndian.Uint32(b[12:]) == 0 && src.Is4() {
		s := src.As4()
		copy(b[12:16], s[:])
	}
	if binary.BigEndian.Uint16(b[4:]) == 0 {
		binary.BigEndian.PutUint16(b[4:], id)
	}
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:], ^Checksum(b[:hl], 0))
	return nil
}
