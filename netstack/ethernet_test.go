package netstack

import (
	"bytes"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// wireEnd is one end of a simulated Ethernet segment: what one end writes
// the other reads. tap, if set, sees every frame written.
type wireEnd struct {
	in, out chan []byte
	closed  chan struct{}
	once    sync.Once
	tap     func([]byte)
}

func newWire() (*wireEnd, *wireEnd) {
	a, b := make(chan []byte, 256), make(chan []byte, 256)
	return &wireEnd{in: a, out: b, closed: make(chan struct{})}, &wireEnd{in: b, out: a, closed: make(chan struct{})}
}

func (w *wireEnd) ReadFrames() ([][]byte, error) {
	select {
	case f := <-w.in:
		return [][]byte{f}, nil
	case <-w.closed:
		return nil, errClosedWire
	}
}

func (w *wireEnd) WriteFrames(frames [][]byte) error {
	for _, f := range frames {
		f = f[w.Headroom():]
		if w.tap != nil {
			w.tap(f)
		}
		select {
		case w.out <- append([]byte(nil), f...):
		default: // the wire drops what does not fit
		}
	}
	return nil
}

func (w *wireEnd) Headroom() int { return 2 }
func (w *wireEnd) Close() error  { w.once.Do(func() { close(w.closed) }); return nil }

type wireError struct{}

func (wireError) Error() string { return "wire closed" }

var errClosedWire error = wireError{}

var (
	macA = header.MAC{0x02, 0, 0, 0, 0, 0xa}
	macB = header.MAC{0x02, 0, 0, 0, 0, 0xb}
)

// ethStack returns a stack with one Ethernet interface over w.
func ethStack(t testing.TB, w FrameIO, mac header.MAC, addrs ...string) (*Stack, *Ethernet) {
	s := NewStack()
	e := NewEthernet(mac, 1500, w)
	if err := s.AddEthernetNIC(2, "eth0", e); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	for _, a := range addrs {
		p := netip.MustParsePrefix(a)
		s.AddAddress(2, p)
		s.AddRoute(RouteEntry{Dst: p.Masked(), NIC: 2})
	}
	return s, e
}

func expectPacket(t *testing.T, ch chan Packet, want []byte) Packet {
	t.Helper()
	select {
	case p := <-ch:
		if !bytes.Equal(p.Payload, want) {
			t.Fatalf("received %d bytes, want %d", len(p.Payload), len(want))
		}
		return p
	case <-time.After(10 * time.Second):
		t.Fatalf("nothing received")
	}
	return Packet{}
}

func TestEthernetResolvesAndCarriesIPv4AndIPv6(t *testing.T) {
	wa, wb := newWire()
	a, ea := ethStack(t, wa, macA, "10.201.0.1/24", "fd00:201::1/64")
	b, eb := ethStack(t, wb, macB, "10.201.0.2/24", "fd00:201::2/64")
	rec := &recorder{num: 200, ch: make(chan Packet, 4)}
	b.RegisterTransport(rec)
	for _, dst := range []string{"10.201.0.2", "fd00:201::2"} {
		r, err := a.FindRoute(netip.Addr{}, netip.MustParseAddr(dst), 0)
		if err != nil {
			t.Fatalf("FindRoute(%s): %v", dst, err)
		}
		// Three packets wait for resolution, then all go.
		for i := 0; i < 3; i++ {
			if err := a.Send(r, 200, []byte{byte(i)}, SendOptions{}); err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
		for i := 0; i < 3; i++ {
			expectPacket(t, rec.ch, []byte{byte(i)})
		}
		if mac, ok := ea.Neighbor(netip.MustParseAddr(dst)); !ok || mac != macB {
			t.Errorf("%s resolved to %v, %v; want %v", dst, mac, ok, macB)
		}
		// The peer learnt us from the request addressed to it.
		if mac, ok := eb.Neighbor(r.Local); !ok || mac != macA {
			t.Errorf("peer has %s at %v, %v; want %v", r.Local, mac, ok, macA)
		}
	}
	// A large IPv4 datagram is fragmented to the link's MTU and
	// reassembled on the other side.
	r, _ := a.FindRoute(netip.Addr{}, netip.MustParseAddr("10.201.0.2"), 0)
	big := bytes.Repeat([]byte("0123456789"), 1000)
	a.Send(r, 200, big, SendOptions{})
	expectPacket(t, rec.ch, big)
}

func TestEthernetLargeDatagramWaitsWholeForResolution(t *testing.T) {
	wa, wb := newWire()
	a, _ := ethStack(t, wa, macA, "10.201.0.1/24", "fd00:201::1/64")
	b, _ := ethStack(t, wb, macB, "10.201.0.2/24", "fd00:201::2/64")
	rec := &recorder{num: 200, ch: make(chan Packet, 4)}
	b.RegisterTransport(rec)
	// Each datagram's ~45 fragments are queued before the neighbour is
	// known; none may be lost (a queue bounded at 32 packets lost them).
	big := bytes.Repeat([]byte("0123456789abcdef"), 4000)
	for _, dst := range []string{"10.201.0.2", "fd00:201::2"} {
		r, err := a.FindRoute(netip.Addr{}, netip.MustParseAddr(dst), 0)
		if err != nil {
			t.Fatalf("FindRoute(%s): %v", dst, err)
		}
		if err := a.Send(r, 200, big, SendOptions{}); err != nil {
			t.Fatalf("Send to %s: %v", dst, err)
		}
		expectPacket(t, rec.ch, big)
	}
}

func TestEthernetGatewayRoute(t *testing.T) {
	wa, wb := newWire()
	a, _ := ethStack(t, wa, macA, "10.201.0.1/24")
	a.AddRoute(RouteEntry{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("10.201.0.254"), NIC: 2})
	// The "router" answers ARP for the gateway only.
	ethStack(t, wb, macB, "10.201.0.254/24")
	r, err := a.FindRoute(netip.Addr{}, netip.MustParseAddr("192.0.2.7"), 0)
	if err != nil || r.Gateway != netip.MustParseAddr("10.201.0.254") || r.Local != netip.MustParseAddr("10.201.0.1") {
		t.Fatalf("FindRoute = %+v, %v", r, err)
	}
	got := make(chan []byte, 4)
	wa.tap = func(f []byte) {
		if h, p, err := header.ParseEthernet(f); err == nil && h.Type == EtherTypeIPv4 {
			got <- append([]byte{}, p...)
		}
	}
	a.Send(r, 200, []byte("via the gateway"), SendOptions{})
	select {
	case p := <-got:
		ip, _, err := header.ParseIPv4(p)
		if err != nil || ip.Dst != netip.MustParseAddr("192.0.2.7") {
			t.Fatalf("sent %+v, %v", ip, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing sent to the gateway")
	}
}

func TestEthernetResolutionFailsAndBoundsTheQueue(t *testing.T) {
	wa, _ := newWire()
	a, ea := ethStack(t, wa, macA, "10.201.0.1/24")
	var now time.Time = time.Unix(1000, 0)
	var mu sync.Mutex
	ea.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r, _ := a.FindRoute(netip.Addr{}, netip.MustParseAddr("10.201.0.9"), 0)
	// More small packets than the byte bound holds: the oldest go.
	const sent = neighMaxPendingBytes/neighPendingOverhead + 100
	for i := 0; i < sent; i++ {
		a.Send(r, 200, []byte("x"), SendOptions{})
	}
	ea.neigh.mu.Lock()
	nb := ea.neigh.m[netip.MustParseAddr("10.201.0.9")]
	n, bytes := len(nb.pending), nb.pendingBytes
	ea.neigh.mu.Unlock()
	if bytes > neighMaxPendingBytes || n >= sent || n < sent-200 {
		t.Fatalf("%d packets (%d bytes) pending of %d sent, want bounded by %d bytes", n, bytes, sent, neighMaxPendingBytes)
	}
	for i := 0; i < neighMaxProbes+1; i++ {
		mu.Lock()
		now = now.Add(neighRetrans + time.Millisecond)
		mu.Unlock()
		ea.neigh.tick(ea)
	}
	ea.neigh.mu.Lock()
	left := len(ea.neigh.m)
	ea.neigh.mu.Unlock()
	if left != 0 || ea.Stats.NeighFailed.Load() != 1 {
		t.Fatalf("after %d probes: %d entries, %d failures", neighMaxProbes, left, ea.Stats.NeighFailed.Load())
	}
	if d := ea.Stats.NeighQueueDrops.Load(); d != sent {
		t.Errorf("%d packets counted dropped, want %d", d, sent)
	}
}

func TestEthernetIgnoresHostileFrames(t *testing.T) {
	wa, _ := newWire()
	_, ea := ethStack(t, wa, macA, "10.201.0.1/24", "fd00:201::1/64")
	delivered := 0
	deliver := func(uint16, []byte, bool) { delivered++ }
	arp := make([]byte, header.EthernetSize+header.ARPSize)
	header.EncodeEthernet(arp, &header.Ethernet{Dst: header.BroadcastMAC, Src: macB, Type: header.EtherTypeARP})
	header.EncodeARP(arp[header.EthernetSize:], &header.ARP{Op: header.ARPReply, SenderMAC: macB, SenderIP: netip.MustParseAddr("10.201.0.5"), TargetIP: netip.MustParseAddr("10.201.0.1")})
	for _, f := range [][]byte{
		nil, {1, 2, 3},
		arp[:20],
		append(append([]byte{}, arp[:header.EthernetSize]...), 0, 1), // truncated ARP
		arp, // an unsolicited reply creates no entry
	} {
		ea.receive(f, false, deliver)
	}
	if _, ok := ea.Neighbor(netip.MustParseAddr("10.201.0.5")); ok {
		t.Error("an unsolicited ARP reply filled the table")
	}
	// Another host's unicast frame and our own are dropped.
	other := append([]byte{}, arp...)
	copy(other[0:6], macB[:])
	ea.receive(other, false, deliver)
	own := append([]byte{}, arp...)
	copy(own[6:12], macA[:])
	ea.receive(own, false, deliver)
	if ea.Stats.RxOtherHost.Load() != 2 {
		t.Errorf("RxOtherHost = %d, want 2", ea.Stats.RxOtherHost.Load())
	}
	// A neighbour solicitation with a bad hop limit is dropped, not
	// delivered or answered.
	src := netip.MustParseAddr("fd00:201::2")
	dst := header.SolicitedNodeAddr(netip.MustParseAddr("fd00:201::1"))
	msg := header.BuildNDP(&header.NDP{Type: header.ICMPv6NeighborSolicit, Target: netip.MustParseAddr("fd00:201::1"), LinkAddr: macB, HasLinkAddr: true}, src, dst)
	f := make([]byte, header.EthernetSize+header.IPv6Size+len(msg))
	header.EncodeEthernet(f, &header.Ethernet{Dst: header.MulticastMAC(dst), Src: macB, Type: EtherTypeIPv6})
	header.EncodeIPv6(f[header.EthernetSize:], &header.IPv6{PayloadLen: len(msg), NextHeader: 58, HopLimit: 64, Src: src, Dst: dst})
	copy(f[header.EthernetSize+header.IPv6Size:], msg)
	ea.receive(f, false, deliver)
	if _, ok := ea.Neighbor(src); ok || delivered != 0 || ea.Stats.NDPOut.Load() != 0 {
		t.Errorf("routed solicitation: learnt %v, delivered %d, answered %d", ok, delivered, ea.Stats.NDPOut.Load())
	}
	f[header.EthernetSize+7] = 255
	ea.receive(f, false, deliver)
	if mac, ok := ea.Neighbor(src); !ok || mac != macB || ea.Stats.NDPOut.Load() != 1 {
		t.Errorf("solicitation: learnt %v %v, answered %d", mac, ok, ea.Stats.NDPOut.Load())
	}
}

func FuzzEthernetReceive(f *testing.F) {
	arp := make([]byte, header.EthernetSize+header.ARPSize)
	header.EncodeEthernet(arp, &header.Ethernet{Dst: header.BroadcastMAC, Src: macB, Type: header.EtherTypeARP})
	header.EncodeARP(arp[header.EthernetSize:], &header.ARP{Op: header.ARPRequest, SenderMAC: macB, SenderIP: netip.MustParseAddr("10.201.0.5"), TargetIP: netip.MustParseAddr("10.201.0.1")})
	f.Add(arp)
	wa, _ := newWire()
	_, e := ethStack(f, wa, macA, "10.201.0.1/24", "fd00:201::1/64")
	f.Fuzz(func(t *testing.T, b []byte) {
		e.receive(b, false, func(uint16, []byte, bool) {})
		for len(e.txq) > 0 {
			<-e.txq
		}
	})
}

// The largest datagrams each family carries (a 65535-byte IPv4 packet, a
// 65535-byte IPv6 payload) go over a 1500-byte link in fragments, as
// Linux sends them: the IPv6 fragment headers do not count against the
// payload's limit (RFC 8200, 4.5: they are not part of the reassembled
// packet), and one byte more is EMSGSIZE.
func TestEthernetFragmentsTheLargestDatagrams(t *testing.T) {
	wa, wb := newWire()
	a, _ := ethStack(t, wa, macA, "10.201.0.1/24", "fd00:201::1/64")
	b, _ := ethStack(t, wb, macB, "10.201.0.2/24", "fd00:201::2/64")
	rec := &recorder{num: 200, ch: make(chan Packet, 4)}
	b.RegisterTransport(rec)
	for dst, max := range map[string]int{"10.201.0.2": 65535 - 20, "fd00:201::2": 65535} {
		r, err := a.FindRoute(netip.Addr{}, netip.MustParseAddr(dst), 0)
		if err != nil {
			t.Fatalf("FindRoute(%s): %v", dst, err)
		}
		// Resolve the neighbour first: an unresolved one queues fewer
		// packets than the fragments.
		if err := a.Send(r, 200, []byte{1}, SendOptions{}); err != nil {
			t.Fatal(err)
		}
		expectPacket(t, rec.ch, []byte{1})
		big := bytes.Repeat([]byte{0xa5}, max)
		if err := a.Send(r, 200, big, SendOptions{}); err != nil {
			t.Fatalf("Send of %d bytes to %s: %v", max, dst, err)
		}
		expectPacket(t, rec.ch, big)
		if err := a.Send(r, 200, append(big, 0), SendOptions{}); err != unix.EMSGSIZE {
			t.Errorf("Send of %d bytes to %s: %v, want EMSGSIZE", max+1, dst, err)
		}
	}
}
