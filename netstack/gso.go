package netstack

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// Send-side segmentation offload over a PACKET_VNET_HDR socket (see
// docs/network.md, "GSO"): consecutive in-order data segments of one TCP
// flow within a write batch go to the host as one frame of up to 64 KiB,
// whose virtio_net_hdr asks the host to cut it into the original
// segments (gso_type TCPV4/TCPV6, gso_size the segments' payload size)
// and to finish the checksum (NEEDS_CSUM). The host segments it in
// software wherever the peer cannot take it whole, so every peer still
// gets the segments the stack built.

// virtio_net_hdr gso_type values (include/uapi/linux/virtio_net.h).
const (
	vnetGSOTCPv4 = 1
	vnetGSOTCPv6 = 4
)

// gsoMaxLen bounds a GSO frame's IP packet: below IPv4's 16-bit total
// length, and with its Ethernet header within the 64 KiB a veth takes as
// one GSO frame (gso_max_size).
const gsoMaxLen = 64000

// gsoSeg is what coalescing needs of one frame (offsets from the frame's
// start, which includes the headroom).
type gsoSeg struct {
	v6      bool
	l3, l4  int // IP and TCP header offsets
	hdrEnd  int // end of the TCP header: the payload's offset
	seq     uint32
	payload int
	psh     bool
}

// parseGSOSeg reports whether frame f (hr bytes of headroom first) is a
// TCP data segment coalescing may take: a plain IPv4 header (no options,
// not a fragment) or an IPv6 header straight followed by TCP, flags ACK
// with PSH or not, some payload, and the lengths consistent with len(f).
func parseGSOSeg(f []byte, hr int) (gsoSeg, bool) {
	var s gsoSeg
	l3 := hr + header.EthernetSize
	if len(f) < l3 {
		return s, false
	}
	et := binary.BigEndian.Uint16(f[l3-2:])
	s.l3 = l3
	switch et {
	case EtherTypeIPv4:
		ip := f[l3:]
		if len(ip) < header.IPv4MinSize || ip[0] != 0x45 || ip[9] != 6 ||
			binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 || int(binary.BigEndian.Uint16(ip[2:])) != len(ip) {
			return s, false
		}
		s.l4 = l3 + header.IPv4MinSize
	case EtherTypeIPv6:
		ip := f[l3:]
		if len(ip) < header.IPv6Size || ip[0]>>4 != 6 || ip[6] != 6 ||
			int(binary.BigEndian.Uint16(ip[4:])) != len(ip)-header.IPv6Size {
			return s, false
		}
		s.v6 = true
		s.l4 = l3 + header.IPv6Size
	default:
		return s, false
	}
	tcp := f[s.l4:]
	if len(tcp) < 20 {
		return s, false
	}
	doff := int(tcp[12]>>4) * 4
	if doff < 20 || doff >= len(tcp) {
		return s, false // malformed, or no payload
	}
	const ack, psh = 0x10, 0x08
	if tcp[12]&0x0f != 0 || tcp[13]&^psh != ack {
		return s, false // SYN, FIN, RST, URG, CWR, ECE: sent alone
	}
	s.hdrEnd = s.l4 + doff
	s.seq = binary.BigEndian.Uint32(tcp[4:])
	s.payload = len(f) - s.hdrEnd
	s.psh = tcp[13]&psh != 0
	return s, true
}

// gsoFollows reports whether frame b (parsed as sb) continues the GSO
// frame whose first frame is a (sa) and whose last one so far is last:
// the same flow with the same headers but for the sequence number, the
// IP length, ID and checksum and the TCP checksum, starting where last
// ends, and no longer than the first's payload; size is the bytes of
// payload so far.
func gsoFollows(a []byte, sa gsoSeg, last gsoSeg, size int, b []byte, sb gsoSeg) bool {
	if last.psh || last.payload != sa.payload || sb.payload > sa.payload ||
		sb.v6 != sa.v6 || sb.hdrEnd != sa.hdrEnd || sb.seq != last.seq+uint32(last.payload) ||
		sa.hdrEnd-sa.l3+size+sb.payload > gsoMaxLen {
		return false
	}
	// Ethernet header.
	if !bytes.Equal(a[sa.l3-header.EthernetSize:sa.l3], b[sb.l3-header.EthernetSize:sb.l3]) {
		return false
	}
	if sa.v6 {
		// Version, class, label; next header, hop limit, addresses.
		if !bytes.Equal(a[sa.l3:sa.l3+4], b[sb.l3:sb.l3+4]) || !bytes.Equal(a[sa.l3+6:sa.l4], b[sb.l3+6:sb.l4]) {
			return false
		}
	} else {
		// Version, IHL, TOS; flags; TTL, protocol; addresses.
		ia, ib := a[sa.l3:sa.l4], b[sb.l3:sb.l4]
		if !bytes.Equal(ia[:2], ib[:2]) || !bytes.Equal(ia[6:10], ib[6:10]) || !bytes.Equal(ia[12:20], ib[12:20]) {
			return false
		}
	}
	// TCP: ports; ack, offset; window; urgent pointer and options.
	ta, tb := a[sa.l4:sa.hdrEnd], b[sb.l4:sb.hdrEnd]
	return bytes.Equal(ta[:4], tb[:4]) && bytes.Equal(ta[8:13], tb[8:13]) &&
		bytes.Equal(ta[14:16], tb[14:16]) && bytes.Equal(ta[18:], tb[18:])
}

// gsoGroup returns how many frames from frames[0] on make one GSO frame
// (1: frames[0] goes alone), and for more than one, makes frames[0] its
// header (gsoHeader) and returns the offset of the payload in each.
func gsoGroup(frames [][]byte, hr int) (n, hdrEnd int) {
	sa, ok := parseGSOSeg(frames[0], hr)
	if !ok {
		return 1, 0
	}
	last, size := sa, sa.payload
	for n = 1; n < len(frames); n++ {
		sb, ok := parseGSOSeg(frames[n], hr)
		if !ok || !gsoFollows(frames[0], sa, last, size, frames[n], sb) {
			break
		}
		last, size = sb, size+sb.payload
	}
	if n > 1 {
		gsoHeader(frames[0], sa, hr, size, last.psh)
	}
	return n, sa.hdrEnd
}

// gsoHeader turns the first frame (parsed as s) of a group into the
// header of one GSO frame carrying size payload bytes in all, its last
// segment's PSH flag psh: the virtio_net_hdr in its headroom (hr bytes,
// at least header.VirtioNetHdrSize), the IP length (and the IPv4 header
// checksum), and the TCP checksum field holding the pseudo-header sum
// for NEEDS_CSUM. The frame's own payload stays where it is; the others'
// follow it.
func gsoHeader(f []byte, s gsoSeg, hr, size int, psh bool) {
	v := f[hr-header.VirtioNetHdrSize : hr]
	v[0] = header.VirtioNetHdrNeedsCsum
	v[1] = vnetGSOTCPv4
	if s.v6 {
		v[1] = vnetGSOTCPv6
	}
	binary.LittleEndian.PutUint16(v[2:], uint16(s.hdrEnd-hr))
	binary.LittleEndian.PutUint16(v[4:], uint16(s.payload))
	binary.LittleEndian.PutUint16(v[6:], uint16(s.l4-hr))
	binary.LittleEndian.PutUint16(v[8:], 16)
	tcpLen := s.hdrEnd - s.l4 + size
	var src, dst netip.Addr
	ip := f[s.l3:s.l4]
	if s.v6 {
		binary.BigEndian.PutUint16(ip[4:], uint16(tcpLen))
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
	} else {
		binary.BigEndian.PutUint16(ip[2:], uint16(header.IPv4MinSize+tcpLen))
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], ^header.Checksum(ip, 0))
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	}
	tcp := f[s.l4:s.hdrEnd]
	if psh {
		tcp[13] |= 0x08
	}
	binary.BigEndian.PutUint16(tcp[16:], header.PseudoHeaderChecksum(6, src, dst, uint32(tcpLen)))
}
