package udp

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
)

// UDP-Lite (RFC 3828, udplite(7)): UDP's header, whose length field is
// the checksum coverage instead (0: the whole datagram), counted from the
// start of the header; the checksum is mandatory; the pseudo-header
// carries the datagram's full length.

// Option names at SOL_UDPLITE (also at SOL_UDP on a UDP-Lite socket).
const (
	solUDPLite      = 136
	udpliteSendCov  = 10 // UDPLITE_SEND_CSCOV
	udpliteRecvCov  = 11 // UDPLITE_RECV_CSCOV
	udpliteMinCov   = header.UDPSize
	udpliteMaxCover = 0xffff
)

// buildLite returns a UDP-Lite datagram with data. sendCov is
// UDPLITE_SEND_CSCOV (-1 unset): below the datagram's length it is the
// coverage; 0 means the whole, said with a 0 field (as Linux's
// udplite_csum).
func buildLite(srcPort, dstPort uint16, data []byte, src, dst netip.Addr, sendCov int) []byte {
	b := make([]byte, header.UDPSize+len(data))
	n := len(b)
	cov, field := n, n
	if sendCov >= 0 && sendCov < n {
		field = sendCov
		if sendCov > 0 {
			cov = sendCov
		}
	}
	binary.BigEndian.PutUint16(b, srcPort)
	binary.BigEndian.PutUint16(b[2:], dstPort)
	binary.BigEndian.PutUint16(b[4:], uint16(field))
	copy(b[header.UDPSize:], data)
	c := ^header.Checksum(b[:cov], header.PseudoHeaderChecksum(solUDPLite, src, dst, uint32(n)))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}

// parseLite checks a received UDP-Lite datagram: its coverage (at least
// the header, at most the datagram) and checksum (never 0). It returns
// the header, the data and the coverage.
func parseLite(pkt netstack.Packet) (header.UDP, []byte, int, bool) {
	b := pkt.Payload
	var h header.UDP
	if len(b) < header.UDPSize {
		return h, nil, 0, false
	}
	h.SrcPort = binary.BigEndian.Uint16(b)
	h.DstPort = binary.BigEndian.Uint16(b[2:])
	h.Checksum = binary.BigEndian.Uint16(b[6:])
	cov := int(binary.BigEndian.Uint16(b[4:]))
	if cov == 0 {
		cov = len(b)
	} else if cov < header.UDPSize || cov > len(b) {
		return h, nil, 0, false
	}
	h.Length = len(b)
	if !pkt.ChecksumVerified {
		if h.Checksum == 0 {
			return h, nil, 0, false
		}
		if header.Checksum(b[:cov], header.PseudoHeaderChecksum(solUDPLite, pkt.Src, pkt.Dst, uint32(len(b)))) != 0xffff {
			return h, nil, 0, false
		}
	}
	return h, b[header.UDPSize:], cov, true
}

// pktinfoSrcErr is Linux's error for an IP_PKTINFO source that is not
// this host's (ip_route_output_key): EINVAL for a multicast one,
// ENETUNREACH otherwise.
func pktinfoSrcErr(src netip.Addr) error {
	if src.IsMulticast() {
		return unix.EINVAL
	}
	return unix.ENETUNREACH
}

// clampCov applies Linux's rule to a coverage option: 1 to 7 (and
// negative values) become 8, more than 65535 becomes 65535.
func clampCov(v int32) int {
	switch {
	case v == 0:
		return 0
	case v < udpliteMinCov:
		return udpliteMinCov
	case v > udpliteMaxCover:
		return udpliteMaxCover
	}
	return int(v)
}
