package header

import (
	"encoding/binary"
	"net/netip"
)

// UDPSize is the size of a UDP header.
const UDPSize = 8

// UDP is a parsed UDP header (RFC 768).
type UDP struct {
	SrcPort, DstPort uint16
	// Length is the length field (header and data).
	Length   int
	Checksum uint16
}

// ParseUDP parses datagram b and returns its header and the data its
// length field covers.
func ParseUDP(b []byte) (UDP, []byte, error) {
	var h UDP
	if len(b) < UDPSize {
		return h, nil, ErrTooShort
	}
	h.SrcPort = binary.BigEndian.Uint16(b)
	h.DstPort = binary.BigEndian.Uint16(b[2:])
	h.Length = int(binary.BigEndian.Uint16(b[4:]))
	h.Checksum = binary.BigEndian.Uint16(b[6:])
	if h.Length < UDPSize || h.Length > len(b) {
		return h, nil, ErrBadLength
	}
	return h, b[UDPSize:h.Length], nil
}

// VerifyUDPChecksum checks datagram b (exactly its length field long)
// between src and dst. A zero checksum means none over IPv4 and is
// invalid over IPv6.
func VerifyUDPChecksum(b []byte, src, dst netip.Addr) bool {
	if len(b) < UDPSize {
		return false
	}
	if binary.BigEndian.Uint16(b[6:]) == 0 {
		return src.Is4()
	}
	sum := PseudoHeaderChecksum(17, src, dst, uint32(len(b)))
	return Checksum(b, sum) == 0xffff
}

// BuildUDP returns a datagram with header and data, its checksum computed
// for src and dst.
func BuildUDP(srcPort, dstPort uint16, data []byte, src, dst netip.Addr) []byte {
	b := make([]byte, UDPSize+len(data))
	binary.BigEndian.PutUint16(b, srcPort)
	binary.BigEndian.PutUint16(b[2:], dstPort)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	copy(b[UDPSize:], data)
	c := ^Checksum(b, PseudoHeaderChecksum(17, src, dst, uint32(len(b))))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}
