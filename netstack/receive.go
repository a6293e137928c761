package netstack

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// deliver receives one packet from nic's link (on the link's goroutine).
// It reports whether nothing kept pkt (see PayloadCopier).
// verified is Packet.ChecksumVerified.
func (s *Stack) deliver(nic *NIC, et uint16, pkt []byte, verified bool) bool {
	if !nic.up.Load() {
		return true // a device that is down receives nothing
	}
	s.Stats.IPInReceives.Add(1)
	s.countIn(et, len(pkt))
	switch et {
	case EtherTypeIPv4:
		return s.receiveIPv4(nic, pkt, verified)
	case EtherTypeIPv6:
		return s.receiveIPv6(nic, pkt, verified)
	default:
		s.Stats.IPInHdrErrors.Add(1)
	}
	return true
}

func (s *Stack) receiveIPv4(nic *NIC, pkt []byte, verified bool) bool {
	h, payload, err := header.ParseIPv4(pkt)
	if err != nil {
		s.Stats.IPInHdrErrors.Add(1)
		return false
	}
	if !s.IsLocalAddress(h.Dst) {
		s.Stats.IPInAddrErrors.Add(1)
		return false
	}
	if h.IsFragment() {
		s.Stats.ReasmReqds.Add(1)
		key := reasmKey{src: h.Src, dst: h.Dst, id: uint32(h.ID), proto: h.Protocol}
		payload = s.reasm.add(key, h.FragOffset, h.Flags&header.IPv4FlagMF != 0, payload)
		if payload == nil {
			return false
		}
	}
	p := Packet{Src: h.Src, Dst: h.Dst, NICID: nic.ID, TTL: h.TTL, TOS: h.TOS, Payload: payload,
		ChecksumVerified: verified && !h.IsFragment()}
	raw := s.rawIPv4(&h, pkt, p)
	// Reassembly may keep fragments: only a whole packet is reusable.
	return s.demux(p, h.Protocol, raw) && !h.IsFragment()
}

func (s *Stack) receiveIPv6(nic *NIC, pkt []byte, verified bool) bool {
	h, payload, err := header.ParseIPv6(pkt)
	if err != nil {
		s.Stats.IPInHdrErrors.Add(1)
		s.mib.V6.IPInHdrErrors.Add(1)
		return false
	}
	if !s.IsLocalAddress(h.Dst) {
		s.Stats.IPInAddrErrors.Add(1)
		s.mib.V6.IPInAddrErrors.Add(1)
		return false
	}
	ext, err := header.ParseIPv6Extensions(h.NextHeader, payload)
	if err != nil {
		s.Stats.IPInHdrErrors.Add(1)
		s.mib.V6.IPInHdrErrors.Add(1)
		return false
	}
	proto := ext.Protocol
	payload = payload[ext.Offset:]
	if f := ext.Fragment; f != nil {
		s.Stats.ReasmReqds.Add(1)
		s.mib.V6.ReasmReqds.Add(1)
		if !f.More && f.Offset == 0 {
			// An atomic fragment (RFC 6946): nothing to reassemble.
		} else {
			key := reasmKey{v6: true, src: h.Src, dst: h.Dst, id: f.ID, proto: f.NextHeader}
			payload = s.reasm.add(key, f.Offset, f.More, payload)
			if payload == nil {
				return false
			}
		}
		// The reassembled packet may start with more extension headers.
		e2, err := header.ParseIPv6Extensions(proto, payload)
		if err != nil || e2.Fragment != nil {
			s.Stats.IPInHdrErrors.Add(1)
			s.mib.V6.IPInHdrErrors.Add(1)
			return false
		}
		proto, payload = e2.Protocol, payload[e2.Offset:]
	}
	if proto == header.IPv6NoNext {
		return false
	}
	p := Packet{Src: h.Src, Dst: h.Dst, NICID: nic.ID, TTL: h.HopLimit, TOS: h.TrafficClass, Payload: payload,
		ChecksumVerified: verified && ext.Fragment == nil}
	raw := s.rawIPv6(p, proto)
	return s.demux(p, proto, raw) && ext.Fragment == nil
}

// demux hands a packet to ICMP or its transport. It reports whether the
// receiver is done with p.Payload (a PayloadCopier). raw says a raw
// socket took a copy: an unknown protocol is then not answered with an
// ICMP error.
func (s *Stack) demux(p Packet, proto uint8, raw bool) bool {
	s.Stats.IPInDelivers.Add(1)
	if st := s.v6Stats(!p.Src.Unmap().Is4()); st != nil {
		st.IPInDelivers.Add(1)
	}
	switch {
	case proto == unix.IPPROTO_ICMP && p.Src.Is4():
		s.receiveICMPv4(p)
		return false
	case proto == unix.IPPROTO_ICMPV6 && p.Src.Is6():
		s.receiveICMPv6(p)
		return false
	}
	if t := s.Transport(proto); t != nil {
		t.HandlePacket(p)
		_, done := t.(PayloadCopier)
		return done
	}
	if raw {
		return true
	}
	s.Stats.IPInUnknownProtos.Add(1)
	if st := s.v6Stats(!p.Src.Unmap().Is4()); st != nil {
		st.IPInUnknownProtos.Add(1)
	}
	if p.Src.Is4() {
		s.sendICMPError(p, proto, header.ICMPv4DstUnreachable, header.ICMPv4ProtoUnreachable)
	} else {
		s.sendICMPError(p, proto, header.ICMPv6ParamProblem, 1)
	}
	return false
}

func (s *Stack) receiveICMPv4(p Packet) {
	s.Stats.ICMPInMsgs.Add(1)
	if !header.VerifyICMPv4Checksum(p.Payload) {
		s.Stats.ICMPInErrors.Add(1)
		return
	}
	h, body, err := header.ParseICMP(p.Payload)
	if err != nil {
		s.Stats.ICMPInErrors.Add(1)
		return
	}
	s.countICMPIn(false, h.Type)
	switch h.Type {
	case header.ICMPv4EchoRequest:
		if s.IsBroadcast(p.Dst) {
			return // net.ipv4.icmp_echo_ignore_broadcasts
		}
		s.reply(p, header.ICMP{Type: header.ICMPv4EchoReply, Rest: h.Rest}, body, unix.IPPROTO_ICMP)
	case header.ICMPv4EchoReply:
		if t := s.Transport(unix.IPPROTO_ICMP); t != nil {
			t.HandlePacket(p)
		}
	case header.ICMPv4DstUnreachable, header.ICMPv4TimeExceeded, header.ICMPv4ParamProblem:
		q, rest, err := header.ParseIPv4Quoted(body)
		if err != nil || q.FragOffset != 0 {
			s.Stats.ICMPInErrors.Add(1)
			return
		}
		errno, mtu := icmpv4Errno(h)
		if t := s.Transport(q.Protocol); t != nil {
			t.HandleError(q.Src, q.Dst, rest, errno, mtu)
		}
	}
}

// icmpv4Errno maps an ICMPv4 error to the errno a socket sees (Linux:
// icmp_err_convert).
func icmpv4Errno(h header.ICMP) (unix.Errno, int) {
	switch h.Type {
	case header.ICMPv4TimeExceeded:
		return unix.EHOSTUNREACH, 0
	case header.ICMPv4ParamProblem:
		return unix.EPROTO, 0
	}
	switch h.Code {
	case header.ICMPv4NetUnreachable:
		return unix.ENETUNREACH, 0
	case header.ICMPv4ProtoUnreachable:
		return unix.ENOPROTOOPT, 0
	case header.ICMPv4PortUnreachable:
		return unix.ECONNREFUSED, 0
	case header.ICMPv4FragmentationNeeded:
		return unix.EMSGSIZE, int(uint16(h.Rest))
	}
	return unix.EHOSTUNREACH, 0
}

func (s *Stack) receiveICMPv6(p Packet) {
	s.Stats.ICMPInMsgs.Add(1)
	s.mib.V6.ICMPInMsgs.Add(1)
	if !header.VerifyICMPv6Checksum(p.Payload, p.Src, p.Dst) {
		s.Stats.ICMPInErrors.Add(1)
		s.mib.V6.ICMPInErrors.Add(1)
		return
	}
	h, body, err := header.ParseICMP(p.Payload)
	if err != nil {
		s.Stats.ICMPInErrors.Add(1)
		s.mib.V6.ICMPInErrors.Add(1)
		return
	}
	s.countICMPIn(true, h.Type)
	switch h.Type {
	case header.ICMPv6EchoRequest:
		s.reply(p, header.ICMP{Type: header.ICMPv6EchoReply, Rest: h.Rest}, body, unix.IPPROTO_ICMPV6)
	case header.ICMPv6EchoReply:
		if t := s.Transport(unix.IPPROTO_ICMPV6); t != nil {
			t.HandlePacket(p)
		}
	case header.ICMPv6DstUnreachable, header.ICMPv6PacketTooBig, header.ICMPv6TimeExceeded, header.ICMPv6ParamProblem:
		if len(body) < header.IPv6Size || body[0]>>4 != 6 {
			s.Stats.ICMPInErrors.Add(1)
			s.mib.V6.ICMPInErrors.Add(1)
			return
		}
		src := netip.AddrFrom16([16]byte(body[8:24]))
		dst := netip.AddrFrom16([16]byte(body[24:40]))
		ext, err := header.ParseIPv6Extensions(body[6], body[header.IPv6Size:])
		if err != nil || (ext.Fragment != nil && ext.Fragment.Offset != 0) {
			s.Stats.ICMPInErrors.Add(1)
			s.mib.V6.ICMPInErrors.Add(1)
			return
		}
		errno, mtu := icmpv6Errno(h)
		if t := s.Transport(ext.Protocol); t != nil {
			t.HandleError(src, dst, body[header.IPv6Size+ext.Offset:], errno, mtu)
		}
	}
}

// icmpv6Errno maps an ICMPv6 error to an errno (Linux: icmpv6_err_convert).
func icmpv6Errno(h header.ICMP) (unix.Errno, int) {
	switch h.Type {
	case header.ICMPv6PacketTooBig:
		return unix.EMSGSIZE, int(h.Rest)
	case header.ICMPv6TimeExceeded:
		return unix.EHOSTUNREACH, 0
	case header.ICMPv6ParamProblem:
		return unix.EPROTO, 0
	}
	switch h.Code {
	case header.ICMPv6NoRoute:
		return unix.ENETUNREACH, 0
	case 1:
		return unix.EACCES, 0
	case header.ICMPv6PortUnreachable:
		return unix.ECONNREFUSED, 0
	}
	return unix.EHOSTUNREACH, 0
}

// reply answers an echo request.
func (s *Stack) reply(p Packet, h header.ICMP, body []byte, proto uint8) {
	r, err := s.FindRoute(p.Dst, p.Src, 0)
	if err != nil {
		return
	}
	msg := header.BuildICMP(h, body, icmpSrc(r.Local), r.Remote)
	s.Stats.ICMPOutMsgs.Add(1)
	if st := s.v6Stats(!r.Remote.Unmap().Is4()); st != nil {
		st.ICMPOutMsgs.Add(1)
	}
	_ = s.Send(r, proto, msg, SendOptions{TOS: p.TOS})
}

// icmpSrc returns the address BuildICMP takes for a checksum's
// pseudo-header: none for ICMPv4.
func icmpSrc(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.Addr{}
	}
	return a
}

// ICMP error quoting limits: the whole error fits the minimum MTU.
const (
	icmpv4ErrorMax = 576
	icmpv6ErrorMax = 1280
)

// sendICMPError sends an ICMP error of type typ and code about packet p of
// protocol proto. It never answers a broadcast or multicast packet or an
// ICMP error, and is rate-limited except on loopback (as Linux).
func (s *Stack) sendICMPError(p Packet, proto uint8, typ, code uint8) {
	if s.IsBroadcast(p.Dst) || p.Dst.IsMulticast() || p.Src.IsUnspecified() || s.IsBroadcast(p.Src) {
		return
	}
	if (proto == unix.IPPROTO_ICMP || proto == unix.IPPROTO_ICMPV6) && len(p.Payload) > 0 {
		t := p.Payload[0]
		if proto == unix.IPPROTO_ICMP && t != header.ICMPv4EchoRequest && t != header.ICMPv4EchoReply {
			return
		}
		if proto == unix.IPPROTO_ICMPV6 && t < 128 {
			return
		}
	}
	r, err := s.FindRoute(p.Dst, p.Src, 0)
	if err != nil {
		return
	}
	s.mu.RLock()
	nic := s.nics[r.NICID]
	s.mu.RUnlock()
	if nic == nil || (!nic.link.IsLoopback() && !s.icmpLim.allow(s.Now())) {
		s.Stats.ICMPOutRateLimited.Add(1)
		return
	}
	var quote []byte
	var eproto uint8
	if p.Src.Is4() {
		q := make([]byte, header.IPv4MinSize+len(p.Payload))
		header.EncodeIPv4(q, &header.IPv4{TOS: p.TOS, TTL: p.TTL, Protocol: proto, Src: p.Src, Dst: p.Dst}, len(p.Payload))
		copy(q[header.IPv4MinSize:], p.Payload)
		quote = q[:min(len(q), icmpv4ErrorMax-header.IPv4MinSize-header.ICMPSize)]
		eproto = unix.IPPROTO_ICMP
	} else {
		q := make([]byte, header.IPv6Size+len(p.Payload))
		header.EncodeIPv6(q, &header.IPv6{TrafficClass: p.TOS, PayloadLen: len(p.Payload), NextHeader: proto, HopLimit: p.TTL, Src: p.Src, Dst: p.Dst})
		copy(q[header.IPv6Size:], p.Payload)
		quote = q[:min(len(q), icmpv6ErrorMax-header.IPv6Size-header.ICMPSize)]
		eproto = unix.IPPROTO_ICMPV6
	}
	msg := header.BuildICMP(header.ICMP{Type: typ, Code: code}, quote, icmpSrc(r.Local), r.Remote)
	s.Stats.ICMPOutMsgs.Add(1)
	if st := s.v6Stats(eproto == unix.IPPROTO_ICMPV6); st != nil {
		st.ICMPOutMsgs.Add(1)
	}
	_ = s.Send(r, eproto, msg, SendOptions{})
}

// SendPortUnreachable sends the ICMP port unreachable error for packet p of
// protocol proto, which no socket wanted (a UDP datagram to a closed port).
// It implements ICMPErrorSender.
func (s *Stack) SendPortUnreachable(p Packet, proto uint8) {
	if p.Src.Is4() {
		s.sendICMPError(p, proto, header.ICMPv4DstUnreachable, header.ICMPv4PortUnreachable)
	} else {
		s.sendICMPError(p, proto, header.ICMPv6DstUnreachable, header.ICMPv6PortUnreachable)
	}
}

// ICMPErrorSender is implemented by a Network that can answer a packet
// nobody wanted with an ICMP port unreachable error; transports find it by
// a type assertion on their Network.
type ICMPErrorSender interface {
	SendPortUnreachable(p Packet, proto uint8)
}

var _ ICMPErrorSender = (*Stack)(nil)
