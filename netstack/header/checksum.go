// Package header parses and builds the wire headers of netstack's protocols.
// Parsers take the received bytes as they came and check every length before
// they read: a packet is hostile input.
package header

import (
	"encoding/binary"
	"net/netip"
)

// Checksum adds buf to the running one's-complement sum initial (RFC 1071)
// and returns the new sum, not yet complemented. A buffer of odd length is
// padded with a zero byte.
func Checksum(buf []byte, initial uint16) uint16 {
	sum := uint64(initial)
	for len(buf) >= 8 {
		v := binary.BigEndian.Uint64(buf)
		sum += v >> 48
		sum += (v >> 32) & 0xffff
		sum += (v >> 16) & 0xffff
		sum += v & 0xffff
		buf = buf[8:]
	}
	for len(buf) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(buf))
		buf = buf[2:]
	}
	if len(buf) == 1 {
		sum += uint64(buf[0]) << 8
	}
	return fold(sum)
}

// ChecksumCombine adds two running sums.
func ChecksumCombine(a, b uint16) uint16 {
	return fold(uint64(a) + uint64(b))
}

// PseudoHeaderChecksum is the running sum of the TCP/UDP/ICMPv6 pseudo-header
// for a segment of length bytes of protocol proto between src and dst (both
// IPv4 or both IPv6).
func PseudoHeaderChecksum(proto uint8, src, dst netip.Addr, length uint32) uint16 {
	var sum uint16
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		sum = Checksum(s[:], 0)
		sum = Checksum(d[:], sum)
		sum = ChecksumCombine(sum, uint16(length))
	} else {
		s, d := src.As16(), dst.As16()
		sum = Checksum(s[:], 0)
		sum = Checksum(d[:], sum)
		sum = ChecksumCombine(sum, uint16(length>>16))
		sum = ChecksumCombine(sum, uint16(length))
	}
	return ChecksumCombine(sum, uint16(proto))
}

func fold(sum uint64) uint16 {
	for sum>>16 != 0 {
		sum = (sum & 0xffff) + (sum >> 16)
	}
	return uint16(sum)
}
