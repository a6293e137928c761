package netstack

import (
	"net/netip"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// MIBStats are the counters beyond Stats that /proc/net/snmp, snmp6 and
// netstat need: the IPv6 share of Stats (Linux keeps separate IPv4 and
// IPv6 MIBs; the IPv4 share is Stats minus V6), octet counts and ICMP
// messages by type. Every field is an atomic counter: increments never
// take a lock.
type MIBStats struct {
	// V6 counts the IPv6 packets among those counted in Stack.Stats.
	V6 Stats
	// InOctets and OutOctets are the bytes of IP packets received and
	// handed to a link, by family (0: IPv4, 1: IPv6). Linux: IpExt
	// InOctets/OutOctets, Ip6InOctets/Ip6OutOctets.
	InOctets, OutOctets [2]atomic.Uint64
	// OutTransmits are the IP packets (fragments each) handed to a link,
	// by family. Linux: Ip OutTransmits, Ip6OutTransmits.
	OutTransmits [2]atomic.Uint64
	// ICMP4 and ICMP6 count ICMP messages received and sent by type
	// (Linux: the IcmpMsg lines, Icmp6InTypeN/Icmp6OutTypeN).
	ICMP4, ICMP6 ICMPTypeCounts
}

// ICMPTypeCounts count ICMP messages by their type byte.
type ICMPTypeCounts struct {
	In, Out [256]atomic.Uint64
}

// MIB returns the stack's extra counters.
func (s *Stack) MIB() *MIBStats { return &s.mib }

// fam is a family's index in MIBStats's arrays.
func fam(v6 bool) int {
	if v6 {
		return 1
	}
	return 0
}

// countIn counts a received IP packet of n bytes that came with
// ethertype et.
func (s *Stack) countIn(et uint16, n int) {
	v6 := et == EtherTypeIPv6
	if v6 {
		s.mib.V6.IPInReceives.Add(1)
	}
	s.mib.InOctets[fam(v6)].Add(uint64(n))
}

// countOut counts an IP packet of n bytes handed to a link.
func (s *Stack) countOut(et uint16, n int) {
	f := fam(et == EtherTypeIPv6)
	s.mib.OutOctets[f].Add(uint64(n))
	s.mib.OutTransmits[f].Add(1)
}

// countSend counts a datagram the stack is asked to send (OutRequests)
// and, for ICMP, its type.
func (s *Stack) countSend(remote netip.Addr, proto uint8, payload []byte) {
	v6 := !remote.Unmap().Is4()
	if v6 {
		s.mib.V6.IPOutRequests.Add(1)
	}
	if len(payload) == 0 {
		return
	}
	switch {
	case proto == unix.IPPROTO_ICMP && !v6:
		s.mib.ICMP4.Out[payload[0]].Add(1)
	case proto == unix.IPPROTO_ICMPV6 && v6:
		s.mib.ICMP6.Out[payload[0]].Add(1)
	}
}

// countICMPIn counts a received ICMP message of type typ.
func (s *Stack) countICMPIn(v6 bool, typ uint8) {
	if v6 {
		s.mib.ICMP6.In[typ].Add(1)
	} else {
		s.mib.ICMP4.In[typ].Add(1)
	}
}

// v6Stats returns the V6 counters for an IPv6 event, or nil.
func (s *Stack) v6Stats(v6 bool) *Stats {
	if v6 {
		return &s.mib.V6
	}
	return nil
}

// LinkAddress returns the hardware address of interface id (nil for
// loopback or an unknown interface).
func (s *Stack) LinkAddress(id int32) []byte {
	s.mu.RLock()
	n := s.nics[id]
	s.mu.RUnlock()
	if n == nil {
		return nil
	}
	if e, ok := n.link.(interface{ MAC() header.MAC }); ok {
		m := e.MAC()
		return m[:]
	}
	return nil
}

// discardStats absorbs the IPv6-only increments of IPv4 events on paths
// that do not test the family at each increment (reassembly).
var discardStats Stats
