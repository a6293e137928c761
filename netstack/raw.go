package netstack

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// RawHandler is the raw sockets' side of the stack (netstack/raw), set
// with Stack.SetRawHandler: it gets a copy of every IP packet the stack
// receives for itself, before the packet's own protocol handles it, as
// Linux's raw_local_deliver and ipv6_raw_deliver.
type RawHandler interface {
	// HandleRaw is given a received packet of protocol proto (after
	// reassembly): for IPv4, ipHeader is its IP header (rebuilt without
	// options for a reassembled packet); for IPv6 it is nil and
	// p.Payload starts after the extension headers. The handler copies
	// what it keeps. It reports whether a socket took the packet.
	HandleRaw(p Packet, proto uint8, ipHeader []byte) bool
	// NewRawEndpoint makes the endpoint of socket(AF_INET or AF_INET6,
	// SOCK_RAW, proto).
	NewRawEndpoint(v6 bool, proto int) (Endpoint, error)
}

// SendControl holds the per-datagram IP settings of a send's control
// messages (IP_TTL, IP_TOS, IP_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS,
// IPV6_PKTINFO), already checked by the socket layer.
type SendControl struct {
	// HasTTL and TTL override the TTL or hop limit.
	HasTTL bool
	TTL    uint8
	// HasTOS and TOS override the TOS or traffic class.
	HasTOS bool
	TOS    uint8
	// IfIndex, if not 0, is the outgoing interface.
	IfIndex int32
	// Src, if valid and not unspecified, is the source address.
	Src netip.Addr
}

// SetRawHandler makes h the receiver of the raw sockets' copies.
func (s *Stack) SetRawHandler(h RawHandler) { s.raw.Store(&h) }

// RawHandler returns the handler set by SetRawHandler, or nil.
func (s *Stack) RawHandler() RawHandler {
	if h := s.raw.Load(); h != nil {
		return *h
	}
	return nil
}

// rawIPv4 hands a received IPv4 packet to the raw sockets. pkt is the
// whole packet as received, payload its (maybe reassembled) payload.
func (s *Stack) rawIPv4(h *header.IPv4, pkt []byte, p Packet) bool {
	rh := s.RawHandler()
	if rh == nil {
		return false
	}
	hdr := pkt[:h.HeaderLen]
	if h.IsFragment() {
		hdr = make([]byte, header.IPv4MinSize)
		header.EncodeIPv4(hdr, &header.IPv4{TOS: h.TOS, ID: h.ID, TTL: h.TTL, Protocol: h.Protocol, Src: h.Src, Dst: h.Dst}, len(p.Payload))
	}
	return rh.HandleRaw(p, h.Protocol, hdr)
}

// rawIPv6 hands a received IPv6 packet's payload to the raw sockets.
func (s *Stack) rawIPv6(p Packet, proto uint8) bool {
	rh := s.RawHandler()
	if rh == nil {
		return false
	}
	return rh.HandleRaw(p, proto, nil)
}

// RawSender is implemented by a Network that sends IPv4 packets whose
// header the sender built (IP_HDRINCL).
type RawSender interface {
	// SendIPv4Header sends pkt over r after header.FillIPv4HdrIncl
	// (source r.Local when zero): EINVAL for a packet shorter than its
	// header, EMSGSIZE beyond the route's MTU (no fragmentation). A
	// packet no receiver would take is dropped and counted, not sent.
	// pkt is not kept.
	SendIPv4Header(r Route, pkt []byte) error
	// SendIPv6Header sends pkt, an IPv6 packet with the sender's header
	// (IPV6_HDRINCL), over r unchanged: EINVAL if shorter than the
	// header, EMSGSIZE beyond the MTU; a packet header.ParseIPv6 refuses
	// is dropped and counted, not sent.
	SendIPv6Header(r Route, pkt []byte) error
}

var _ RawSender = (*Stack)(nil)

// SendIPv4Header implements RawSender.
func (s *Stack) SendIPv4Header(r Route, pkt []byte) error {
	s.mu.RLock()
	nic := s.nics[r.NICID]
	s.mu.RUnlock()
	if nic == nil {
		return unix.ENETUNREACH
	}
	if len(pkt) > nic.link.MTU() && len(pkt) >= header.IPv4MinSize {
		return unix.EMSGSIZE
	}
	b := packetBuf(nic, len(pkt))
	copy(b, pkt)
	switch err := header.FillIPv4HdrIncl(b, r.Local, uint16(s.ipID.Add(1))); err {
	case nil:
	case header.ErrNotSent:
		s.Stats.IPOutDiscards.Add(1)
		return nil
	default:
		return unix.EINVAL
	}
	s.Stats.IPOutRequests.Add(1)
	s.countSend(r.Remote, b[9], b[int(b[0]&0xf)*4:])
	nextHop := r.Remote
	if r.Gateway.IsValid() {
		nextHop = r.Gateway
	}
	return s.write(nic, nextHop, EtherTypeIPv4, b, false)
}

// SendIPv6Header implements RawSender.
func (s *Stack) SendIPv6Header(r Route, pkt []byte) error {
	s.mu.RLock()
	nic := s.nics[r.NICID]
	s.mu.RUnlock()
	if nic == nil {
		return unix.ENETUNREACH
	}
	if len(pkt) < header.IPv6Size {
		return unix.EINVAL
	}
	if len(pkt) > nic.link.MTU() {
		return unix.EMSGSIZE
	}
	if _, _, err := header.ParseIPv6(pkt); err != nil {
		s.Stats.IPOutDiscards.Add(1)
		s.mib.V6.IPOutDiscards.Add(1)
		return nil
	}
	b := packetBuf(nic, len(pkt))
	copy(b, pkt)
	s.Stats.IPOutRequests.Add(1)
	s.countSend(r.Remote, b[6], b[header.IPv6Size:])
	nextHop := r.Remote
	if r.Gateway.IsValid() {
		nextHop = r.Gateway
	}
	return s.write(nic, nextHop, EtherTypeIPv6, b, false)
}
