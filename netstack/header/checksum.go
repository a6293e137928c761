// Package header parses and builds the wire headers of netstack's protocols.
// Parsers take the received bytes as they came and check every length before
// they read: a packet is hostile input.
package header

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Checksum adds buf to the running one's-complement sum initial (RFC 1071)
// and returns the new sum, not yet complemented. A buffer of odd length is
// padded with a zero byte.
func Checksum(buf []byte, initial uint16) uint16 {
	// The one's-complement sum does not depend on byte order (RFC 1071
	// section 2(B)): sum 64-bit little-endian words with end-around carry,
	// fold, and swap the result's bytes.
	var sum, c uint64
	for len(buf) >= 32 {
		sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(buf), c)
		sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(buf[8:]), c)
		sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(buf[16:]), c)
		sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(buf[24:]), c)
		buf = buf[32:]
	}
	for len(buf) >= 8 {
		sum, c = bits.Add64(sum, binary.LittleEndian.Uint64(buf), c)
		buf = buf[8:]
	}
	sum, c = bits.Add64(sum, 0, c)
	sum += c // cannot carry again: sum+c wrapped only if sum was all ones
	be := uint64(bits.ReverseBytes16(fold(sum)))
	be += uint64(initial)
	for len(buf) >= 2 {
		be += uint64(binary.BigEndian.Uint16(buf))
		buf = buf[2:]
	}
	if len(buf) == 1 {
		be += uint64(buf[0]) << 8
	}
	return fold(be)
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
