package header

import (
	"encoding/binary"
	"net/netip"
)

// Neighbour discovery (RFC 4861) message types and option types.
const (
	ICMPv6NeighborSolicit = 135
	ICMPv6NeighborAdvert  = 136
	// NDPOptSourceLinkAddr and NDPOptTargetLinkAddr carry a MAC.
	NDPOptSourceLinkAddr = 1
	NDPOptTargetLinkAddr = 2
	// NDPHopLimit is the hop limit every NDP message is sent with and
	// must arrive with (proof that it was not routed).
	NDPHopLimit = 255
	// ndpMinSize is an NS or NA without options: ICMP header and target.
	ndpMinSize = ICMPSize + 16
	// maxNDPOptions bounds the option walk.
	maxNDPOptions = 32
)

// NDP advertisement flags (the high bits of the ICMP header's Rest word).
const (
	NDPFlagRouter    = 1 << 31
	NDPFlagSolicited = 1 << 30
	NDPFlagOverride  = 1 << 29
)

// NDP is a parsed neighbour solicitation or advertisement.
type NDP struct {
	Type uint8
	// Flags are the NDPFlag* bits (advertisements).
	Flags uint32
	// Target is the address asked about or advertised.
	Target netip.Addr
	// LinkAddr is the source (solicitation) or target (advertisement)
	// link-layer address option, valid if HasLinkAddr.
	LinkAddr    MAC
	HasLinkAddr bool
}

// ParseNDP parses the ICMPv6 message b as a neighbour solicitation or
// advertisement (its checksum is the caller's to check). Options are
// walked with their lengths checked; a zero-length option makes the
// message invalid (RFC 4861 4.6).
func ParseNDP(b []byte) (NDP, error) {
	var n NDP
	if len(b) < ndpMinSize {
		return n, ErrTooShort
	}
	n.Type = b[0]
	if (n.Type != ICMPv6NeighborSolicit && n.Type != ICMPv6NeighborAdvert) || b[1] != 0 {
		return n, ErrUnsupported
	}
	n.Flags = binary.BigEndian.Uint32(b[4:]) & (NDPFlagRouter | NDPFlagSolicited | NDPFlagOverride)
	n.Target = netip.AddrFrom16([16]byte(b[8:24]))
	if n.Target.IsMulticast() {
		return n, ErrBadLength
	}
	opts := b[ndpMinSize:]
	want := uint8(NDPOptSourceLinkAddr)
	if n.Type == ICMPv6NeighborAdvert {
		want = NDPOptTargetLinkAddr
	}
	for i := 0; len(opts) > 0; i++ {
		if len(opts) < 2 || opts[1] == 0 || i >= maxNDPOptions {
			return n, ErrBadLength
		}
		l := int(opts[1]) * 8
		if l > len(opts) {
			return n, ErrBadLength
		}
		if opts[0] == want && l == 8 {
			copy(n.LinkAddr[:], opts[2:8])
			n.HasLinkAddr = true
		}
		opts = opts[l:]
	}
	return n, nil
}

// BuildNDP returns an NS or NA message (ICMPv6, checksum filled in for
// src and dst) for n, with n's link-layer address option if HasLinkAddr.
func BuildNDP(n *NDP, src, dst netip.Addr) []byte {
	l := ndpMinSize
	if n.HasLinkAddr {
		l += 8
	}
	b := make([]byte, l)
	b[0] = n.Type
	binary.BigEndian.PutUint32(b[4:], n.Flags)
	t := n.Target.As16()
	copy(b[8:24], t[:])
	if n.HasLinkAddr {
		b[24] = NDPOptSourceLinkAddr
		if n.Type == ICMPv6NeighborAdvert {
			b[24] = NDPOptTargetLinkAddr
		}
		b[25] = 1
		copy(b[26:32], n.LinkAddr[:])
	}
	SetICMPChecksum(b, src, dst)
	return b
}
