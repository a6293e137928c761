// Package raw implements raw IP sockets (raw(7), and ipv6(7)'s raw
// sockets) over a netstack.Stack: socket(AF_INET or AF_INET6, SOCK_RAW,
// protocol). The stack hands the Protocol a copy of every IP packet it
// receives for itself (netstack.RawHandler); each endpoint of that
// protocol number and family whose binding, peer, device and ICMP filter
// match queues a copy, bounded by its SO_RCVBUF. An IPv4 endpoint reads
// the IP header with the data; an IPv6 endpoint the data after the
// extension headers.
//
// On send, an IPv4 endpoint has the stack build the header, unless
// IP_HDRINCL is set (IPPROTO_RAW implies it): then the guest's header is
// checked and completed by the stack (netstack.RawSender). An IPv6
// endpoint computes the checksum at IPV6_CHECKSUM's offset (always 2 for
// ICMPv6).
//
// Lock order: Protocol.mu and endpoint.mu are never held together:
// delivery takes a snapshot of the endpoints under Protocol.mu, then
// offers the packet to each under its own mu. The notify function is
// called with endpoint.mu held; it only signals waiters.
package raw

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// Stats are the raw sockets' counters.
type Stats struct {
	// InDelivered counts copies queued, RcvbufErrors copies dropped for
	// a full receive buffer, Filtered copies an ICMP filter or a bad
	// checksum dropped, OutRequests packets sent.
	InDelivered, RcvbufErrors, Filtered, OutRequests atomic.Uint64
}

// Protocol is the raw sockets of one stack.
type Protocol struct {
	// Stats are the counters.
	Stats Stats

	net netstack.Network

	mu sync.RWMutex
	// eps are the open endpoints. Protected by mu.
	eps map[*endpoint]struct{}
}

var _ netstack.RawHandler = (*Protocol)(nil)

// NewProtocol returns the raw sockets over n.
func NewProtocol(n netstack.Network) *Protocol {
	return &Protocol{net: n, eps: make(map[*endpoint]struct{})}
}

// NewRawEndpoint implements netstack.RawHandler.NewRawEndpoint.
func (p *Protocol) NewRawEndpoint(v6 bool, proto int) (netstack.Endpoint, error) {
	if proto <= 0 || proto > 0xffff {
		return nil, unix.EPROTONOSUPPORT
	}
	e := newEndpoint(p, v6, proto)
	p.mu.Lock()
	p.eps[e] = struct{}{}
	p.mu.Unlock()
	return e, nil
}

func (p *Protocol) remove(e *endpoint) {
	p.mu.Lock()
	delete(p.eps, e)
	p.mu.Unlock()
}

// HandleRaw implements netstack.RawHandler.HandleRaw.
func (p *Protocol) HandleRaw(pkt netstack.Packet, proto uint8, ipHeader []byte) bool {
	p.mu.RLock()
	var eps []*endpoint
	for e := range p.eps {
		if e.proto == int(proto) && e.v6 == pkt.Dst.Is6() {
			eps = append(eps, e)
		}
	}
	p.mu.RUnlock()
	took := false
	for _, e := range eps {
		if e.deliver(pkt, ipHeader) {
			took = true
		}
	}
	return took
}
