package header

import (
	"encoding/binary"
	"net/netip"
)

// ICMPSize is the size of the ICMPv4 and ICMPv6 headers (type, code,
// checksum and four bytes of type-specific data).
const ICMPSize = 8

// ICMPv4 types and codes (RFC 792).
const (
	ICMPv4EchoReply           = 0
	ICMPv4DstUnreachable      = 3
	ICMPv4EchoRequest         = 8
	ICMPv4TimeExceeded        = 11
	ICMPv4ParamProblem        = 12
	ICMPv4NetUnreachable      = 0
	ICMPv4HostUnreachable     = 1
	ICMPv4ProtoUnreachable    = 2
	ICMPv4PortUnreachable     = 3
	ICMPv4FragmentationNeeded = 4
)

// ICMPv6 types and codes (RFC 4443).
const (
	ICMPv6DstUnreachable  = 1
	ICMPv6PacketTooBig    = 2
	ICMPv6TimeExceeded    = 3
	ICMPv6ParamProblem    = 4
	ICMPv6EchoRequest     = 128
	ICMPv6EchoReply       = 129
	ICMPv6NoRoute         = 0
	ICMPv6AddrUnreachable = 3
	ICMPv6PortUnreachable = 4
)

// ICMP is a parsed ICMPv4 or ICMPv6 header.
type ICMP struct {
	Type, Code uint8
	Checksum   uint16
	// Rest is the type-specific word: identifier and sequence of an
	// echo, the MTU of "fragmentation needed" (low 16 bits) or "packet
	// too big".
	Rest uint32
}

// Ident and Seq are an echo message's identifier and sequence number.
func (h *ICMP) Ident() uint16 { return uint16(h.Rest >> 16) }

// Seq is an echo message's sequence number.
func (h *ICMP) Seq() uint16 { return uint16(h.Rest) }

// ParseICMP parses an ICMPv4 or ICMPv6 message b and returns its header and
// body (for errors, the quoted packet).
func ParseICMP(b []byte) (ICMP, []byte, error) {
	var h ICMP
	if len(b) < ICMPSize {
		return h, nil, ErrTooShort
	}
	h.Type, h.Code = b[0], b[1]
	h.Checksum = binary.BigEndian.Uint16(b[2:])
	h.Rest = binary.BigEndian.Uint32(b[4:])
	return h, b[ICMPSize:], nil
}

// VerifyICMPv4Checksum checks an ICMPv4 message.
func VerifyICMPv4Checksum(b []byte) bool { return Checksum(b, 0) == 0xffff }

// VerifyICMPv6Checksum checks an ICMPv6 message between src and dst.
func VerifyICMPv6Checksum(b []byte, src, dst netip.Addr) bool {
	return Checksum(b, PseudoHeaderChecksum(58, src, dst, uint32(len(b)))) == 0xffff
}

// BuildICMP returns an ICMP message: the header h (its checksum ignored)
// and body, with the checksum filled in: over the message for ICMPv4
// (src invalid), with the pseudo-header of src and dst for ICMPv6.
func BuildICMP(h ICMP, body []byte, src, dst netip.Addr) []byte {
	b := make([]byte, ICMPSize+len(body))
	b[0], b[1] = h.Type, h.Code
	binary.BigEndian.PutUint32(b[4:], h.Rest)
	copy(b[ICMPSize:], body)
	SetICMPChecksum(b, src, dst)
	return b
}

// SetICMPChecksum computes the checksum of message b in place: ICMPv4 if
// src is invalid or IPv4, ICMPv6 otherwise.
func SetICMPChecksum(b []byte, src, dst netip.Addr) {
	b[2], b[3] = 0, 0
	var sum uint16
	if src.IsValid() && src.Is6() {
		sum = PseudoHeaderChecksum(58, src, dst, uint32(len(b)))
	}
	binary.BigEndian.PutUint16(b[2:], ^Checksum(b, sum))
}
