package udp

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// TestCountersSplitByFamily sends one datagram over IPv4 and two over
// IPv6 and checks the UDP and IP counters of each family.
func TestCountersSplitByFamily(t *testing.T) {
	s := newStack(t)
	p := s.Transport(unix.IPPROTO_UDP).(*Protocol)
	for _, v6 := range []bool{false, true, true} {
		lo := netip.MustParseAddr("127.0.0.1")
		if v6 {
			lo = netip.IPv6Loopback()
		}
		a, _ := p.NewEndpoint(v6)
		b, _ := p.NewEndpoint(v6)
		if err := b.Bind(netstack.FullAddress{Addr: lo}); err != nil {
			t.Fatalf("Bind: %v", err)
		}
		bl, _ := b.LocalAddress()
		if _, err := a.Write([]byte("x"), netstack.WriteOptions{To: &bl}); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if _, err := waitRead(t, b, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}
		a.Close()
		b.Close()
	}
	if got := p.Stats.OutDatagrams.Load(); got != 3 {
		t.Errorf("OutDatagrams = %d, want 3", got)
	}
	if got := p.V6.OutDatagrams.Load(); got != 2 {
		t.Errorf("IPv6 OutDatagrams = %d, want 2", got)
	}
	if got := p.V6.InDatagrams.Load(); got != 2 {
		t.Errorf("IPv6 InDatagrams = %d, want 2", got)
	}
	if got := s.Stats.IPOutRequests.Load(); got != 3 {
		t.Errorf("IP OutRequests = %d, want 3", got)
	}
	m := s.MIB()
	if got := m.V6.IPOutRequests.Load(); got != 2 {
		t.Errorf("IPv6 OutRequests = %d, want 2", got)
	}
	if got := m.V6.IPInDelivers.Load(); got != 2 {
		t.Errorf("IPv6 InDelivers = %d, want 2", got)
	}
	if got := m.V6.IPInReceives.Load(); got != 2 {
		t.Errorf("IPv6 InReceives = %d, want 2", got)
	}
	// 20 + 8 + 1 bytes over IPv4, 40 + 8 + 1 over IPv6.
	if in, out := m.InOctets[0].Load(), m.OutOctets[0].Load(); in != 29 || out != 29 {
		t.Errorf("IPv4 octets in %d out %d, want 29", in, out)
	}
	if in, out := m.InOctets[1].Load(), m.OutOctets[1].Load(); in != 98 || out != 98 {
		t.Errorf("IPv6 octets in %d out %d, want 98", in, out)
	}
	if got := m.OutTransmits[1].Load(); got != 2 {
		t.Errorf("IPv6 OutTransmits = %d, want 2", got)
	}
}
