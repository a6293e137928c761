package netstack

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// smallLink is a loopback with a small MTU, to make the stack fragment.
type smallLink struct{ *Loopback }

func (smallLink) MTU() int { return 1280 }

type recorder struct {
	num uint8
	ch  chan Packet
}

func (r *recorder) Number() uint8                                          { return r.num }
func (r *recorder) NewEndpoint(bool) (Endpoint, error)                     { return nil, nil }
func (r *recorder) HandlePacket(p Packet)                                  { r.ch <- p }
func (r *recorder) HandleError(netip.Addr, netip.Addr, []byte, error, int) {}

func TestFragmentAndReassemble(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		s := NewStack()
		s.AddNIC(1, "lo", smallLink{NewLoopback()})
		lo := netip.MustParsePrefix("127.0.0.1/8")
		if v6 {
			lo = netip.MustParsePrefix("::1/128")
		}
		s.AddAddress(1, lo)
		s.AddRoute(RouteEntry{Dst: lo.Masked(), NIC: 1})
		rec := &recorder{num: 200, ch: make(chan Packet, 1)}
		s.RegisterTransport(rec)
		r, err := s.FindRoute(netip.Addr{}, lo.Addr(), 0)
		if err != nil {
			t.Fatal(err)
		}
		payload := bytes.Repeat([]byte("0123456789abcdef"), 1000)
		if err := s.Send(r, 200, payload, SendOptions{}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		select {
		case p := <-rec.ch:
			if !bytes.Equal(p.Payload, payload) {
				t.Fatalf("v6=%v: reassembled %d bytes differ", v6, len(p.Payload))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("v6=%v: nothing reassembled; stats %+v", v6, s.Stats.ReasmFails.Load())
		}
		if s.Stats.FragCreates.Load() < 12 {
			t.Fatalf("only %d fragments", s.Stats.FragCreates.Load())
		}
		if err := s.Send(r, 200, payload, SendOptions{DontFragment: true}); !v6 && err == nil {
			t.Fatalf("DF over MTU: no EMSGSIZE")
		}
	}
}

func TestReassemblyDropsOverlaps(t *testing.T) {
	s := NewStack()
	k := reasmKey{src: netip.MustParseAddr("1.2.3.4"), dst: netip.MustParseAddr("5.6.7.8"), id: 1}
	if s.reasm.add(k, 0, true, make([]byte, 16)) != nil {
		t.Fatal("incomplete datagram returned")
	}
	if s.reasm.add(k, 8, false, make([]byte, 16)) != nil {
		t.Fatal("overlapping fragment completed a datagram")
	}
	if len(s.reasm.entries) != 0 || s.reasm.held != 0 {
		t.Fatalf("overlap left %d entries, %d bytes", len(s.reasm.entries), s.reasm.held)
	}
	// Empty fragments are refused: they would hold memory for nothing.
	if s.reasm.add(k, 0, true, nil) != nil || len(s.reasm.entries) != 0 {
		t.Fatal("empty fragment kept")
	}
	// Memory is bounded: fragments beyond reasmMaxBytes are dropped.
	for i := 0; i < 200; i++ {
		k.id = uint32(100 + i)
		s.reasm.add(k, 0, true, make([]byte, 32<<10))
	}
	if s.reasm.held > reasmMaxBytes {
		t.Fatalf("reassembly holds %d bytes, more than %d", s.reasm.held, reasmMaxBytes)
	}
	_ = header.IPv4MinSize
}

func TestReservePortRules(t *testing.T) {
	s := NewStack()
	any4 := FullAddress{Addr: netip.IPv4Unspecified(), Port: 5000}
	lo := FullAddress{Addr: netip.MustParseAddr("127.0.0.1"), Port: 5000}
	v6only := FullAddress{Addr: netip.IPv6Unspecified(), Port: 5000}
	dual := FullAddress{Port: 5000}
	if _, err := s.ReservePort(17, any4, PortFlags{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReservePort(17, lo, PortFlags{}); err == nil {
		t.Error("127.0.0.1:5000 reserved beside 0.0.0.0:5000")
	}
	if _, err := s.ReservePort(17, v6only, PortFlags{}); err != nil {
		t.Errorf("[::]:5000 v6only beside 0.0.0.0:5000: %v", err)
	}
	if _, err := s.ReservePort(17, dual, PortFlags{}); err == nil {
		t.Error("dual-stack [::]:5000 reserved beside 0.0.0.0:5000")
	}
	if _, err := s.ReservePort(6, lo, PortFlags{}); err != nil {
		t.Errorf("TCP and UDP ports clash: %v", err)
	}
	rp := PortFlags{ReusePort: true, UID: 1}
	s.ReservePort(17, FullAddress{Addr: lo.Addr, Port: 6000}, rp)
	if _, err := s.ReservePort(17, FullAddress{Addr: lo.Addr, Port: 6000}, rp); err != nil {
		t.Errorf("SO_REUSEPORT twice: %v", err)
	}
	if _, err := s.ReservePort(17, FullAddress{Addr: lo.Addr, Port: 6000}, PortFlags{ReusePort: true, UID: 2}); err == nil {
		t.Error("SO_REUSEPORT shared across UIDs")
	}
}

// A transport may leave its checksum to the stack (SendOptions.
// ChecksumOffset): over the loopback link it is never computed and the
// packet arrives marked verified; over any other link, or when the packet
// must be fragmented, the stack fills it in and nothing is marked. Packets
// sent without it are never marked.
func TestChecksumOffload(t *testing.T) {
	for _, small := range []bool{false, true} {
		s := NewStack()
		var link LinkEndpoint = NewLoopback()
		if small {
			link = smallLink{NewLoopback()}
		}
		s.AddNIC(1, "lo", link)
		s.AddAddress(1, netip.MustParsePrefix("::1/128"))
		s.AddRoute(RouteEntry{Dst: netip.MustParsePrefix("::1/128"), NIC: 1})
		rec := &recorder{num: 200, ch: make(chan Packet, 1)}
		s.RegisterTransport(rec)
		r, err := s.FindRoute(netip.Addr{}, netip.IPv6Loopback(), 0)
		if err != nil {
			t.Fatal(err)
		}
		recv := func() Packet {
			t.Helper()
			select {
			case p := <-rec.ch:
				return p
			case <-time.After(5 * time.Second):
				t.Fatalf("small=%v: nothing delivered", small)
			}
			return Packet{}
		}
		valid := func(p Packet) bool {
			sum := header.PseudoHeaderChecksum(200, p.Src, p.Dst, uint32(len(p.Payload)))
			return header.Checksum(p.Payload, sum) == 0xffff
		}
		for _, n := range []int{100, 65535 - header.IPv6FragmentSize} {
			payload := bytes.Repeat([]byte{0xa5}, n)
			payload[6], payload[7] = 0x12, 0x34 // garbage where the sum goes
			if err := s.Send(r, 200, payload, SendOptions{ChecksumOffset: 6}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			p := recv()
			whole := n+header.IPv6Size <= link.MTU()
			if want := !small && whole; p.ChecksumVerified != want {
				t.Fatalf("small=%v n=%d: ChecksumVerified = %v, want %v", small, n, p.ChecksumVerified, want)
			}
			if !p.ChecksumVerified && !valid(p) {
				t.Fatalf("small=%v n=%d: checksum not filled in", small, n)
			}
		}
		if err := s.Send(r, 200, make([]byte, 100), SendOptions{}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if p := recv(); p.ChecksumVerified {
			t.Fatalf("small=%v: marked verified without ChecksumOffset", small)
		}
		if err := s.Send(r, 200, make([]byte, 7), SendOptions{ChecksumOffset: 6}); err == nil {
			t.Fatalf("checksum field past the payload: no error")
		}
	}
}
