package netstack

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// FrameIO moves Ethernet frames between an Ethernet link and a device:
// PacketSocket (AF_PACKET on a host interface) in the sandbox, a pipe of
// frames in tests.
type FrameIO interface {
	// ReadFrames blocks until frames arrive and returns them. The slices
	// are valid until the next call (the link copies what it keeps).
	ReadFrames() ([][]byte, error)
	// WriteFrames sends frames. Each frame starts with Headroom() bytes
	// the FrameIO may fill (a virtio_net_hdr); the Ethernet header
	// follows. A frame the device refuses is dropped; the error is for
	// the device itself failing.
	WriteFrames(frames [][]byte) error
	// Headroom is the number of bytes before each frame WriteFrames is
	// given.
	Headroom() int
	// Close releases the device.
	Close() error
}

// Ethernet link bounds.
const (
	// ethTxQueue is the number of frames queued for the writer.
	ethTxQueue = 1024
	// ethTxBatch is the most frames handed to WriteFrames at once.
	ethTxBatch = 64
)

// EthernetStats are an Ethernet link's counters.
type EthernetStats struct {
	RxFrames, RxOtherHost, RxMalformed, RxUnknownType atomic.Uint64
	TxFrames, TxQueueFull                             atomic.Uint64
	ARPIn, ARPOut, NDPIn, NDPOut                      atomic.Uint64
	// NeighQueueDrops counts packets dropped while their next hop was
	// being resolved (its queue full, or resolution failed).
	NeighQueueDrops, NeighFailed, NeighTableFull atomic.Uint64
}

// AddressOwner is what an Ethernet link asks its stack: which addresses
// are its own (answered by ARP and neighbour advertisements) and which are
// IPv4 broadcast addresses (sent to ff:ff:ff:ff:ff:ff).
type AddressOwner interface {
	HasAddress(a netip.Addr) bool
	IsBroadcast(a netip.Addr) bool
}

// Ethernet is an Ethernet link: IP packets framed with the device's MAC,
// next hops resolved with ARP (IPv4) and neighbour discovery (IPv6), over
// a FrameIO. It answers ARP requests and neighbour solicitations for the
// addresses its AddressOwner owns.
type Ethernet struct {
	// Stats are the link's counters.
	Stats EthernetStats

	mac   header.MAC
	mtu   int
	io    FrameIO
	owner atomic.Pointer[AddressOwner]
	neigh neighborTable
	txq   chan []byte

	stop     chan struct{}
	stopOnce sync.Once
	// now is the clock (tests replace it).
	now func() time.Time
}

var _ LinkEndpoint = (*Ethernet)(nil)

// NewEthernet returns an Ethernet link with address mac and MTU mtu (the
// largest IP packet, as the device's MTU) over io. Its goroutines start at
// Attach.
func NewEthernet(mac header.MAC, mtu int, io FrameIO) *Ethernet {
	e := &Ethernet{mac: mac, mtu: mtu, io: io, txq: make(chan []byte, ethTxQueue), stop: make(chan struct{}), now: time.Now}
	e.neigh.init()
	return e
}

// MAC returns the link's address.
func (e *Ethernet) MAC() header.MAC { return e.mac }

// SetOwner sets who owns the link's addresses.
func (e *Ethernet) SetOwner(o AddressOwner) { e.owner.Store(&o) }

func (e *Ethernet) owns(a netip.Addr) bool {
	o := e.owner.Load()
	return o != nil && (*o).HasAddress(a)
}

func (e *Ethernet) isBroadcast(a netip.Addr) bool {
	o := e.owner.Load()
	return o != nil && (*o).IsBroadcast(a)
}

// MTU implements LinkEndpoint.MTU.
func (e *Ethernet) MTU() int { return e.mtu }

// IsLoopback implements LinkEndpoint.IsLoopback.
func (e *Ethernet) IsLoopback() bool { return false }

// Attach implements LinkEndpoint.Attach: it starts the reader, the writer
// and the neighbour timer.
func (e *Ethernet) Attach(deliver func(etherType uint16, pkt []byte)) {
	e.attach(func(et uint16, pkt []byte, _ bool) { deliver(et, pkt) })
}

// checksumVerifier is a FrameIO that tells, for the frames of its last
// ReadFrames, which carry transport checksums the host vouches for.
type checksumVerifier interface {
	ChecksumsVerified() []bool
}

// attach is Attach for the stack, which also learns whether a packet's
// transport checksum is verified (checksumVerifier).
func (e *Ethernet) attach(deliver func(etherType uint16, pkt []byte, verified bool)) {
	go e.readLoop(deliver)
	go e.writeLoop()
	go e.timerLoop()
}

// Close implements LinkEndpoint.Close.
func (e *Ethernet) Close() {
	e.stopOnce.Do(func() {
		close(e.stop)
		e.io.Close()
	})
}

// WritePacket implements LinkEndpoint.WritePacket.
func (e *Ethernet) WritePacket(nextHop netip.Addr, etherType uint16, pkt []byte) error {
	nextHop = nextHop.Unmap()
	switch {
	case nextHop.IsMulticast():
		return e.send(header.MulticastMAC(nextHop), etherType, pkt)
	case nextHop.Is4() && e.isBroadcast(nextHop):
		return e.send(header.BroadcastMAC, etherType, pkt)
	}
	mac, ok, probe := e.neigh.lookup(e, nextHop, etherType, pkt)
	if probe {
		e.solicit(nextHop, pkt, netip.Addr{})
	}
	if !ok {
		return nil // queued (or dropped and counted) until resolved
	}
	return e.send(mac, etherType, pkt)
}

// frame returns a frame (with the FrameIO's headroom) carrying pkt to dst.
func (e *Ethernet) frame(dst header.MAC, etherType uint16, pkt []byte) []byte {
	hr := e.io.Headroom()
	f := make([]byte, hr+header.EthernetSize+len(pkt))
	header.EncodeEthernet(f[hr:], &header.Ethernet{Dst: dst, Src: e.mac, Type: etherType})
	copy(f[hr+header.EthernetSize:], pkt)
	return f
}

// send queues pkt for dst; a full queue drops it (ENOBUFS).
func (e *Ethernet) send(dst header.MAC, etherType uint16, pkt []byte) error {
	select {
	case e.txq <- e.frame(dst, etherType, pkt):
		return nil
	default:
		e.Stats.TxQueueFull.Add(1)
		return unix.ENOBUFS
	}
}

func (e *Ethernet) writeLoop() {
	batch := make([][]byte, 0, ethTxBatch)
	for {
		batch = batch[:0]
		select {
		case f := <-e.txq:
			batch = append(batch, f)
		case <-e.stop:
			return
		}
	fill:
		for len(batch) < ethTxBatch {
			select {
			case f := <-e.txq:
				batch = append(batch, f)
			default:
				break fill
			}
		}
		if err := e.io.WriteFrames(batch); err != nil {
			return
		}
		e.Stats.TxFrames.Add(uint64(len(batch)))
	}
}

func (e *Ethernet) readLoop(deliver func(uint16, []byte, bool)) {
	cv, _ := e.io.(checksumVerifier)
	for {
		frames, err := e.io.ReadFrames()
		if err != nil {
			return
		}
		var verified []bool
		if cv != nil {
			verified = cv.ChecksumsVerified()
		}
		for i, f := range frames {
			e.receive(f, i < len(verified) && verified[i], deliver)
		}
	}
}

// receive handles one frame: hostile input, every length checked by the
// parsers. verified says its transport checksum needs no checking.
func (e *Ethernet) receive(f []byte, verified bool, deliver func(uint16, []byte, bool)) {
	e.Stats.RxFrames.Add(1)
	h, payload, err := header.ParseEthernet(f)
	if err != nil {
		e.Stats.RxMalformed.Add(1)
		return
	}
	if (h.Dst != e.mac && !h.Dst.IsMulticast()) || h.Src == e.mac {
		// Another host's frame (a promiscuous device), or our own
		// coming back.
		e.Stats.RxOtherHost.Add(1)
		return
	}
	switch h.Type {
	case header.EtherTypeARP:
		e.receiveARP(payload)
	case EtherTypeIPv4:
		deliver(EtherTypeIPv4, append([]byte(nil), payload...), verified)
	case EtherTypeIPv6:
		if e.receiveNDP(h.Src, payload) {
			return
		}
		deliver(EtherTypeIPv6, append([]byte(nil), payload...), verified)
	default:
		e.Stats.RxUnknownType.Add(1)
	}
}

func (e *Ethernet) receiveARP(b []byte) {
	e.Stats.ARPIn.Add(1)
	a, err := header.ParseARP(b)
	if err != nil || a.SenderMAC.IsMulticast() || a.SenderMAC.IsZero() || !usableUnicast(a.SenderIP) && !a.SenderIP.IsUnspecified() {
		e.Stats.RxMalformed.Add(1)
		return
	}
	forUs := e.owns(a.TargetIP)
	if a.SenderIP.IsValid() && !a.SenderIP.IsUnspecified() {
		// Linux (arp_process): a request for us creates an entry for
		// its sender; anything else only refreshes an existing one.
		e.neigh.learn(e, a.SenderIP, a.SenderMAC, forUs && a.Op == header.ARPRequest)
	}
	if a.Op != header.ARPRequest || !forUs {
		return
	}
	reply := header.ARP{Op: header.ARPReply, SenderMAC: e.mac, SenderIP: a.TargetIP, TargetMAC: a.SenderMAC, TargetIP: a.SenderIP}
	e.sendARP(a.SenderMAC, &reply)
}

func (e *Ethernet) sendARP(dst header.MAC, a *header.ARP) {
	b := make([]byte, header.ARPSize)
	header.EncodeARP(b, a)
	e.Stats.ARPOut.Add(1)
	_ = e.send(dst, header.EtherTypeARP, b)
}

// usableUnicast reports whether a may be a neighbour's address.
func usableUnicast(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// receiveNDP handles IPv6 packet b if it is a neighbour solicitation or
// advertisement, and reports whether it was one (it is not delivered to
// the stack then).
func (e *Ethernet) receiveNDP(srcMAC header.MAC, b []byte) bool {
	ip, payload, err := header.ParseIPv6(b)
	if err != nil || ip.NextHeader != 58 || len(payload) == 0 ||
		(payload[0] != header.ICMPv6NeighborSolicit && payload[0] != header.ICMPv6NeighborAdvert) {
		return false
	}
	e.Stats.NDPIn.Add(1)
	// RFC 4861 7.1: hop limit 255 (not routed), valid checksum.
	if ip.HopLimit != header.NDPHopLimit || !header.VerifyICMPv6Checksum(payload, ip.Src, ip.Dst) {
		e.Stats.RxMalformed.Add(1)
		return true
	}
	n, err := header.ParseNDP(payload)
	if err != nil || (n.HasLinkAddr && (n.LinkAddr.IsMulticast() || n.LinkAddr.IsZero())) {
		e.Stats.RxMalformed.Add(1)
		return true
	}
	if n.Type == header.ICMPv6NeighborAdvert {
		mac := srcMAC
		if n.HasLinkAddr {
			mac = n.LinkAddr
		}
		e.neigh.learn(e, n.Target, mac, false)
		return true
	}
	// A solicitation.
	if ip.Src.IsUnspecified() && n.HasLinkAddr {
		e.Stats.RxMalformed.Add(1) // RFC 4861 7.1.1
		return true
	}
	if !e.owns(n.Target) {
		return true
	}
	dst, dstMAC := ip.Src, srcMAC
	flags := uint32(header.NDPFlagSolicited | header.NDPFlagOverride)
	if ip.Src.IsUnspecified() {
		// Someone's duplicate address detection: tell everybody.
		dst = netip.MustParseAddr("ff02::1")
		dstMAC = header.MulticastMAC(dst)
		flags = header.NDPFlagOverride
	} else if n.HasLinkAddr {
		dstMAC = n.LinkAddr
		e.neigh.learn(e, ip.Src, n.LinkAddr, true)
	}
	na := header.NDP{Type: header.ICMPv6NeighborAdvert, Flags: flags, Target: n.Target, LinkAddr: e.mac, HasLinkAddr: true}
	e.sendNDP(dstMAC, n.Target, dst, &na)
	return true
}

func (e *Ethernet) sendNDP(dstMAC header.MAC, src, dst netip.Addr, n *header.NDP) {
	msg := header.BuildNDP(n, src, dst)
	pkt := make([]byte, header.IPv6Size+len(msg))
	header.EncodeIPv6(pkt, &header.IPv6{PayloadLen: len(msg), NextHeader: 58, HopLimit: header.NDPHopLimit, Src: src, Dst: dst})
	copy(pkt[header.IPv6Size:], msg)
	e.Stats.NDPOut.Add(1)
	_ = e.send(dstMAC, EtherTypeIPv6, pkt)
}

// solicit asks for addr's link address: an ARP request (broadcast) or a
// neighbour solicitation (to addr's solicited-node group), from the
// source address of pkt, the packet waiting for the answer, if it is ours
// (as Linux), else from src.
func (e *Ethernet) solicit(addr netip.Addr, pkt []byte, src netip.Addr) {
	if addr.Is4() {
		if len(pkt) >= header.IPv4MinSize && pkt[0]>>4 == 4 {
			if s := netip.AddrFrom4([4]byte(pkt[12:16])); e.owns(s) {
				src = s
			}
		}
		if !src.IsValid() {
			src = netip.IPv4Unspecified()
		}
		e.sendARP(header.BroadcastMAC, &header.ARP{Op: header.ARPRequest, SenderMAC: e.mac, SenderIP: src, TargetIP: addr})
		return
	}
	if len(pkt) >= header.IPv6Size && pkt[0]>>4 == 6 {
		if s := netip.AddrFrom16([16]byte(pkt[8:24])); e.owns(s) {
			src = s
		}
	}
	if !src.IsValid() {
		return // no address to ask from; the entry times out
	}
	dst := header.SolicitedNodeAddr(addr)
	ns := header.NDP{Type: header.ICMPv6NeighborSolicit, Target: addr, LinkAddr: e.mac, HasLinkAddr: true}
	e.sendNDP(header.MulticastMAC(dst), src, dst, &ns)
}

// timerLoop retries and expires neighbour entries.
func (e *Ethernet) timerLoop() {
	t := time.NewTicker(neighTick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			e.neigh.tick(e)
		case <-e.stop:
			return
		}
	}
}

// stackOwner answers AddressOwner for one NIC of a Stack.
type stackOwner struct {
	s  *Stack
	id int32
}

func (o stackOwner) HasAddress(a netip.Addr) bool {
	o.s.mu.RLock()
	defer o.s.mu.RUnlock()
	n := o.s.nics[o.id]
	if n == nil {
		return false
	}
	a = a.Unmap()
	for _, p := range n.addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

func (o stackOwner) IsBroadcast(a netip.Addr) bool { return o.s.IsBroadcast(a) }

// AddEthernetNIC adds interface id over Ethernet link e, which then answers
// for the addresses assigned to that interface.
func (s *Stack) AddEthernetNIC(id int32, name string, e *Ethernet) error {
	e.SetOwner(stackOwner{s, id})
	return s.AddNIC(id, name, e)
}
