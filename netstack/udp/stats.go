package udp

import "net/netip"

// discard absorbs the V6 increments of IPv4 datagrams, so that counting
// sites need no branch.
var discard Stats

// v6Stats returns the counters an IPv6 datagram from or to peer also
// counts in: p.V6 if peer is an IPv6 address (not v4-mapped), otherwise
// a sink.
func (p *Protocol) v6Stats(peer netip.Addr) *Stats {
	if peer.Is6() && !peer.Is4In6() {
		return &p.V6
	}
	return &discard
}
