package tcp

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
)

// ProtocolNumber is TCP's IP protocol number.
const ProtocolNumber = header.TCPProtocolNumber

// Stats are the protocol's counters (what /proc/net/snmp and netstat show).
type Stats struct {
	// SegsIn and SegsOut count segments received and sent.
	SegsIn, SegsOut atomic.Uint64
	// RetransSegs counts retransmitted segments.
	RetransSegs atomic.Uint64
	// InErrs counts segments dropped as malformed or with a bad checksum.
	InErrs atomic.Uint64
	// OutRsts counts RSTs sent.
	OutRsts atomic.Uint64
	// ActiveOpens and PassiveOpens count connections started and accepted.
	ActiveOpens, PassiveOpens atomic.Uint64
	// AttemptFails counts connects that failed; EstabResets connections
	// reset from a synchronized state.
	AttemptFails, EstabResets atomic.Uint64
	// ListenDrops counts SYNs and handshake ACKs a listener dropped;
	// ListenOverflows those dropped because the accept queue was full.
	ListenDrops, ListenOverflows atomic.Uint64
	// OutOfWindow counts segments outside the receive window.
	OutOfWindow atomic.Uint64
	// BadOptions counts segments with malformed options (parsed up to the
	// bad one).
	BadOptions atomic.Uint64
	// OOODrops counts out-of-order segments dropped because the queue was
	// full.
	OOODrops atomic.Uint64
	// Timeouts counts retransmission timeouts.
	Timeouts atomic.Uint64
}

// tuple identifies a connection from the local side.
type tuple struct {
	localAddr  netip.Addr
	localPort  uint16
	remoteAddr netip.Addr
	remotePort uint16
}

// Protocol is TCP for one stack.
//
// Lock order:
//
//	listener endpoint.mu
//	  child endpoint.mu
//	    Protocol.mu
type Protocol struct {
	net    netstack.Network
	secret [32]byte

	// stats are the counters.
	stats Stats

	mu sync.Mutex
	// conns are the endpoints with a remote side, by their tuple.
	conns map[tuple]*endpoint
	// listeners are the listening endpoints by local port.
	listeners map[uint16][]*endpoint
}

// NewProtocol returns TCP over network n.
func NewProtocol(n netstack.Network) netstack.TransportProtocol {
	p := &Protocol{
		net:       n,
		conns:     make(map[tuple]*endpoint),
		listeners: make(map[uint16][]*endpoint),
	}
	n.Random(p.secret[:])
	return p
}

// Number returns 6.
func (p *Protocol) Number() uint8 { return ProtocolNumber }

// Stats returns the protocol's counters.
func (p *Protocol) Stats() *Stats { return &p.stats }

// NewEndpoint returns a new, unbound TCP endpoint.
func (p *Protocol) NewEndpoint(v6 bool) (netstack.Endpoint, error) {
	return newEndpoint(p, v6), nil
}

// isn picks an initial sequence number as RFC 6528 asks: a keyed hash of
// the connection's tuple plus a clock ticking every 4 microseconds.
func (p *Protocol) isn(t tuple) seqnum {
	h := sha256.New()
	h.Write(p.secret[:])
	la, ra := t.localAddr.As16(), t.remoteAddr.As16()
	h.Write(la[:])
	h.Write(ra[:])
	var ports [4]byte
	binary.BigEndian.PutUint16(ports[:], t.localPort)
	binary.BigEndian.PutUint16(ports[2:], t.remotePort)
	h.Write(ports[:])
	var sum [32]byte
	f := binary.BigEndian.Uint32(h.Sum(sum[:0]))
	m := uint32(p.net.Now().UnixNano() / 4000)
	return seqnum(f + m)
}

func (p *Protocol) register(t tuple, e *endpoint) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.conns[t]; ok {
		return false
	}
	p.conns[t] = e
	return true
}

func (p *Protocol) unregister(t tuple, e *endpoint) {
	p.mu.Lock()
	if p.conns[t] == e {
		delete(p.conns, t)
	}
	p.mu.Unlock()
}

// addListener adds e as a listener of port unless another listener's
// address overlaps e's and the two do not share it with SO_REUSEPORT (Linux
// lets SO_REUSEADDR sockets bind one port, but only one of them listen).
func (p *Protocol) addListener(port uint16, e *endpoint) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listenerConflictLocked(port, e.resvAddr, e) {
		return false
	}
	p.listeners[port] = append(p.listeners[port], e)
	return true
}

// listenerConflict reports whether a socket e reserving addr on port
// clashes with a listener there (see addListener).
func (p *Protocol) listenerConflict(port uint16, addr netip.Addr, e *endpoint) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listenerConflictLocked(port, addr, e)
}

// listenerConflictLocked is listenerConflict with p.mu held. A listener's
// resvAddr and portFlags do not change while it listens, so they are read
// without its lock (which would invert the lock order).
func (p *Protocol) listenerConflictLocked(port uint16, addr netip.Addr, e *endpoint) bool {
	for _, l := range p.listeners[port] {
		if l == e || !resvOverlap(l.resvAddr, addr) {
			continue
		}
		if l.portFlags.ReusePort && e.reusePort {
			continue
		}
		return true
	}
	return false
}

// resvOverlap reports whether two reservation addresses (resvAddrFor) can
// receive the same segments; the zero Addr is a wildcard of both families.
func resvOverlap(a, b netip.Addr) bool {
	if !a.IsValid() || !b.IsValid() {
		return true
	}
	if a.Is4() != b.Is4() {
		return false
	}
	return a.IsUnspecified() || b.IsUnspecified() || a == b
}

func (p *Protocol) removeListener(port uint16, e *endpoint) {
	p.mu.Lock()
	l := p.listeners[port]
	for i, x := range l {
		if x == e {
			l = append(l[:i:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(p.listeners, port)
	} else {
		p.listeners[port] = l
	}
	p.mu.Unlock()
}

// findListener returns the listener for a segment to addr:port, preferring
// one bound to addr over a wildcard one.
func (p *Protocol) findListener(addr netip.Addr, port uint16) *endpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	var wild *endpoint
	for _, l := range p.listeners[port] {
		if l.bindAddr == addr {
			return l
		}
		if isAny(l.bindAddr) && wild == nil {
			if addr.Is4() && l.v6 && l.v6only {
				continue
			}
			if addr.Is6() && !l.v6 {
				continue
			}
			wild = l
		}
	}
	return wild
}

func (p *Protocol) findConn(t tuple) *endpoint {
	p.mu.Lock()
	e := p.conns[t]
	p.mu.Unlock()
	return e
}

// segment is a parsed incoming segment.
type segment struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	seq, ack         seqnum
	flags            uint8
	wnd              uint16
	urg              uint16
	opts             header.TCPOptions
	payload          []byte
}

func (s *segment) has(f uint8) bool { return s.flags&f != 0 }

// seqLen is the sequence space the segment occupies.
func (s *segment) seqLen() int {
	n := len(s.payload)
	if s.has(header.TCPFlagSYN) {
		n++
	}
	if s.has(header.TCPFlagFIN) {
		n++
	}
	return n
}

// HandlePacket demultiplexes one received segment.
func (p *Protocol) HandlePacket(pkt netstack.Packet) {
	p.stats.SegsIn.Add(1)
	src, dst := pkt.Src.Unmap(), pkt.Dst.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		p.stats.InErrs.Add(1)
		return
	}
	h, payload, err := header.ParseTCP(pkt.Payload)
	if err != nil || !pkt.ChecksumVerified && !header.TCPChecksumValid(src, dst, pkt.Payload) {
		p.stats.InErrs.Add(1)
		return
	}
	if h.SrcPort == 0 || h.DstPort == 0 || src.IsUnspecified() || src.IsMulticast() || src == netip.IPv4Unspecified() || src == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		p.stats.InErrs.Add(1)
		return
	}
	s := &segment{
		src: src, dst: dst, srcPort: h.SrcPort, dstPort: h.DstPort,
		seq: seqnum(h.Seq), ack: seqnum(h.Ack), flags: h.Flags,
		wnd: h.Window, urg: h.Urgent, payload: payload,
	}
	s.opts = header.ParseTCPOptions(h.Options)
	if s.opts.Bogus {
		p.stats.BadOptions.Add(1)
	}
	t := tuple{localAddr: dst, localPort: h.DstPort, remoteAddr: src, remotePort: h.SrcPort}
	if e := p.findConn(t); e != nil {
		e.handleSegment(s)
		return
	}
	if l := p.findListener(dst, h.DstPort); l != nil {
		if child := l.handleListen(s, t); child != nil {
			child.handleSegment(s)
		}
		return
	}
	p.sendReset(s)
}

// sendReset answers s, which reached no endpoint (or an unacceptable state),
// with a RST as RFC 9293 section 3.10.7.1 says. A RST is never answered.
func (p *Protocol) sendReset(s *segment) {
	if s.has(header.TCPFlagRST) {
		return
	}
	var seq, ack seqnum
	flags := uint8(header.TCPFlagRST)
	if s.has(header.TCPFlagACK) {
		seq = s.ack
	} else {
		ack = s.seq.add(s.seqLen())
		flags |= header.TCPFlagACK
	}
	p.sendBare(s.dst, s.src, s.dstPort, s.srcPort, seq, ack, flags)
}

// sendBare sends a segment without options or data outside any endpoint.
func (p *Protocol) sendBare(local, remote netip.Addr, lport, rport uint16, seq, ack seqnum, flags uint8) {
	r, err := p.net.FindRoute(local, remote, 0)
	if err != nil {
		return
	}
	b := make([]byte, header.TCPMinHeaderSize)
	h := header.TCP{SrcPort: lport, DstPort: rport, Seq: uint32(seq), Ack: uint32(ack), Flags: flags}
	h.Encode(b)
	header.SetTCPChecksum(r.Local.Unmap(), r.Remote.Unmap(), b)
	if flags&header.TCPFlagRST != 0 {
		p.stats.OutRsts.Add(1)
	}
	p.stats.SegsOut.Add(1)
	p.net.Send(r, ProtocolNumber, b, netstack.SendOptions{DontFragment: true})
}

// CopiesPayload implements netstack.PayloadCopier: segments are parsed
// into values, and their data copied into the receive or out-of-order
// queue.
func (p *Protocol) CopiesPayload() {}

// HandleError takes an ICMP error about a segment we sent.
func (p *Protocol) HandleError(src, dst netip.Addr, quoted []byte, err error, mtu int) {
	if len(quoted) < 8 {
		return
	}
	t := tuple{
		localAddr: src.Unmap(), localPort: binary.BigEndian.Uint16(quoted),
		remoteAddr: dst.Unmap(), remotePort: binary.BigEndian.Uint16(quoted[2:]),
	}
	e := p.findConn(t)
	if e == nil {
		return
	}
	e.handleError(seqnum(binary.BigEndian.Uint32(quoted[4:])), err, mtu)
}

func isAny(a netip.Addr) bool { return !a.IsValid() || a.IsUnspecified() }
