// Package udp implements UDP (udp(7)) and ICMP echo ("ping", icmp(7))
// datagram endpoints over a netstack.Network. Both are datagram sockets
// with a 16-bit demultiplexing number: the UDP port, or the ICMP echo
// identifier of a ping socket; they share one endpoint type.
//
// Lock order:
//
//	endpoint.mu
//	  Protocol.mu
//
// Received packets are matched under Protocol.mu alone (against a snapshot
// of each endpoint's binding kept in the table), then queued under the
// endpoint's mu alone. The notify function is called with the endpoint's
// mu held, so that its Readiness never shows a state change before the
// notification of it (an edge-triggered epoll would report it twice); it
// only signals the socket's waiters.
package udp

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
)

// Largest payloads of one datagram.
const (
	maxUDPv4 = 65535 - header.IPv4MinSize - header.UDPSize
	maxUDPv6 = 65535 - header.UDPSize
)

// kind tells UDP from ping endpoints.
type kind int

const (
	kindUDP kind = iota
	kindPing
)

// Stats are a protocol's counters (Linux: the Udp line of /proc/net/snmp).
type Stats struct {
	// InDatagrams counts datagrams read (not peeked), as Linux counts
	// them; a datagram dropped for a full receive buffer counts in
	// RcvbufErrors and InErrors.
	InDatagrams, NoPorts, InErrors, RcvbufErrors, OutDatagrams atomic.Uint64
}

// Protocol is UDP, or ICMP echo for IPv4 or IPv6, registered with a stack.
type Protocol struct {
	// Stats are the counters; V6 counts the IPv6 datagrams among them
	// (Linux keeps Udp and Udp6 apart).
	Stats, V6 Stats

	net    netstack.Network
	number uint8
	kind   kind
	// lite says UDP-Lite (RFC 3828): kind is kindUDP.
	lite bool
	seed maphash.Seed

	mu sync.RWMutex
	// bound maps a local port (or echo identifier) to its endpoints, in
	// bind order. Protected by mu.
	bound map[uint16][]*binding
}

// binding is the snapshot of an endpoint's addresses that demultiplexing
// reads. Protected by Protocol.mu.
type binding struct {
	ep         *endpoint
	local      netip.Addr // the bound (or connected) local address
	port       uint16
	connected  bool
	remote     netstack.FullAddress
	v6, v6only bool
	dev        int32
	reusePort  bool
	uid        uint32
}

var _ netstack.TransportProtocol = (*Protocol)(nil)

// NewProtocol returns UDP over n.
func NewProtocol(n netstack.Network) *Protocol {
	return &Protocol{net: n, number: unix.IPPROTO_UDP, kind: kindUDP, seed: maphash.MakeSeed(), bound: make(map[uint16][]*binding)}
}

// NewLiteProtocol returns UDP-Lite (udplite(7), IPPROTO_UDPLITE) over n:
// UDP's endpoints with a partial checksum coverage, their own ports.
func NewLiteProtocol(n netstack.Network) *Protocol {
	return &Protocol{net: n, number: unix.IPPROTO_UDPLITE, kind: kindUDP, lite: true, seed: maphash.MakeSeed(), bound: make(map[uint16][]*binding)}
}

// NewPingProtocol returns ICMP echo sockets over n: for IPv4
// (IPPROTO_ICMP) if v6 is false, for IPv6 (IPPROTO_ICMPV6) otherwise.
func NewPingProtocol(n netstack.Network, v6 bool) *Protocol {
	num := uint8(unix.IPPROTO_ICMP)
	if v6 {
		num = unix.IPPROTO_ICMPV6
	}
	return &Protocol{net: n, number: num, kind: kindPing, seed: maphash.MakeSeed(), bound: make(map[uint16][]*binding)}
}

// Number implements netstack.TransportProtocol.Number.
func (p *Protocol) Number() uint8 { return p.number }

// NewEndpoint implements netstack.TransportProtocol.NewEndpoint.
func (p *Protocol) NewEndpoint(v6 bool) (netstack.Endpoint, error) {
	if p.kind == kindPing && v6 != (p.number == unix.IPPROTO_ICMPV6) {
		return nil, unix.EPROTONOSUPPORT
	}
	return newEndpoint(p, v6), nil
}

// matches reports whether b wants a packet from src:sport to dst on nic.
// It returns a score (more specific is higher) and false if not.
func (b *binding) matches(src netip.Addr, sport uint16, dst netip.Addr, nic int32, ping bool) (int, bool) {
	score := 0
	if dst.Is4() {
		if b.v6 && (b.v6only || (b.local.Is6() && !b.local.IsUnspecified())) {
			return 0, false
		}
	} else if !b.v6 || b.local.Is4() {
		return 0, false
	}
	if b.local.IsValid() && !b.local.IsUnspecified() {
		if b.local != dst {
			return 0, false
		}
		score += 4
	}
	if b.connected {
		if b.remote.Addr != src || (!ping && b.remote.Port != sport) {
			return 0, false
		}
		score += 4
	}
	if b.dev != 0 {
		if b.dev != nic {
			return 0, false
		}
		score += 2
	}
	if b.local.Is4() == dst.Is4() {
		score++
	}
	return score, true
}

// lookup returns the endpoints a packet goes to: all matching ones for a
// broadcast or multicast destination, else the best match (one of an
// SO_REUSEPORT group, chosen by a hash of the source).
func (p *Protocol) lookup(src netip.Addr, sport uint16, dst netip.Addr, dport uint16, nic int32, multi bool) []*endpoint {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []*endpoint
	best := -1
	var group []*binding
	for _, b := range p.bound[dport] {
		score, ok := b.matches(src, sport, dst, nic, p.kind == kindPing)
		if !ok {
			continue
		}
		if multi {
			out = append(out, b.ep)
			continue
		}
		switch {
		case score > best:
			best = score
			group = append(group[:0], b)
		case score == best && b.reusePort && group[0].reusePort && b.uid == group[0].uid:
			group = append(group, b)
		}
	}
	if multi || len(group) == 0 {
		return out
	}
	if len(group) == 1 {
		return []*endpoint{group[0].ep}
	}
	var h maphash.Hash
	h.SetSeed(p.seed)
	a := src.As16()
	h.Write(a[:])
	h.Write([]byte{byte(sport >> 8), byte(sport)})
	return []*endpoint{group[h.Sum64()%uint64(len(group))].ep}
}

// HandlePacket implements netstack.TransportProtocol.HandlePacket.
func (p *Protocol) HandlePacket(pkt netstack.Packet) {
	if p.kind == kindPing {
		p.handleEchoReply(pkt)
		return
	}
	v6 := p.v6Stats(pkt.Src)
	var h header.UDP
	var data []byte
	cov, partial := 0, false
	if p.lite {
		var ok bool
		if h, data, cov, ok = parseLite(pkt); !ok {
			p.Stats.InErrors.Add(1)
			v6.InErrors.Add(1)
			return
		}
		partial = cov < len(pkt.Payload)
	} else {
		var err error
		h, data, err = header.ParseUDP(pkt.Payload)
		if err != nil || !pkt.ChecksumVerified && !header.VerifyUDPChecksum(pkt.Payload[:max(h.Length, 0)], pkt.Src, pkt.Dst) {
			p.Stats.InErrors.Add(1)
			v6.InErrors.Add(1)
			return
		}
	}
	multi := pkt.Dst.IsMulticast() || isBroadcast(p.net, pkt.Dst)
	eps := p.lookup(pkt.Src, h.SrcPort, pkt.Dst, h.DstPort, pkt.NICID, multi)
	if len(eps) == 0 {
		p.Stats.NoPorts.Add(1)
		v6.NoPorts.Add(1)
		if !multi {
			if s, ok := p.net.(netstack.ICMPErrorSender); ok {
				s.SendPortUnreachable(pkt, p.number)
			}
		}
		return
	}
	for _, ep := range eps {
		ep.enqueue(pkt, netstack.FullAddress{Addr: pkt.Src, Port: h.SrcPort}, data, cov, partial)
	}
}

// handleEchoReply delivers an echo reply (header included) to the ping
// socket whose identifier it carries.
func (p *Protocol) handleEchoReply(pkt netstack.Packet) {
	h, _, err := header.ParseICMP(pkt.Payload)
	if err != nil {
		return
	}
	eps := p.lookup(pkt.Src, 0, pkt.Dst, h.Ident(), pkt.NICID, false)
	if len(eps) == 0 {
		p.Stats.NoPorts.Add(1)
		return
	}
	eps[0].enqueue(pkt, netstack.FullAddress{Addr: pkt.Src}, pkt.Payload, 0, false)
}

// HandleError implements netstack.TransportProtocol.HandleError: a
// connected socket whose datagram was refused gets the error as SO_ERROR;
// unconnected sockets ignore ICMP errors unless IP_RECVERR is set, as
// Linux's.
func (p *Protocol) HandleError(src, dst netip.Addr, quoted []byte, err error, mtu int) {
	var sport, dport uint16
	if p.kind == kindPing {
		h, _, perr := header.ParseICMP(quoted)
		if perr != nil {
			return
		}
		sport, dport = h.Ident(), 0
	} else {
		if len(quoted) < 4 {
			return
		}
		sport, dport = uint16(quoted[0])<<8|uint16(quoted[1]), uint16(quoted[2])<<8|uint16(quoted[3])
	}
	errno, ok := err.(unix.Errno)
	if !ok {
		return
	}
	// The quoted packet went from us (src:sport) to the peer (dst:dport).
	for _, ep := range p.lookup(dst, dport, src, sport, 0, true) {
		ep.setError(errno, dst, dport)
	}
}

func isBroadcast(n netstack.Network, a netip.Addr) bool {
	if b, ok := n.(netstack.BroadcastChecker); ok {
		return b.IsBroadcast(a)
	}
	return a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// setBinding records (or, with b nil, removes) ep's binding on port.
func (p *Protocol) setBinding(ep *endpoint, port uint16, b *binding) {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.bound[port]
	for i, o := range list {
		if o.ep == ep {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if b != nil {
		list = append(list, b)
	}
	if len(list) == 0 {
		delete(p.bound, port)
	} else {
		p.bound[port] = list
	}
}
