package udp

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

func newStack(t *testing.T) *netstack.Stack {
	s := netstack.NewLoopbackStack()
	s.RegisterTransport(NewProtocol(s))
	s.RegisterTransport(NewPingProtocol(s, false))
	s.RegisterTransport(NewPingProtocol(s, true))
	return s
}

// waitRead reads from ep, waiting up to 5 s for a notification.
func waitRead(t *testing.T, ep netstack.Endpoint, buf []byte) (netstack.ReadResult, error) {
	ch := make(chan struct{}, 1)
	ep.SetNotify(func(uint32) {
		select {
		case ch <- struct{}{}:
		default:
		}
	})
	deadline := time.After(5 * time.Second)
	for {
		r, err := ep.Read(buf, netstack.ReadOptions{})
		if err != unix.EAGAIN {
			return r, err
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no datagram within 5 s")
		}
	}
}

func TestUDPLoopback(t *testing.T) {
	s := newStack(t)
	p := s.Transport(unix.IPPROTO_UDP)
	for _, v6 := range []bool{false, true} {
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
		if bl.Port < netstack.EphemeralFirst || bl.Port > netstack.EphemeralLast {
			t.Fatalf("ephemeral port %d out of range", bl.Port)
		}
		if _, err := a.Write([]byte("hello"), netstack.WriteOptions{To: &bl}); err != nil {
			t.Fatalf("Write: %v", err)
		}
		buf := make([]byte, 16)
		r, err := waitRead(t, b, buf)
		al, _ := a.LocalAddress()
		if err != nil || string(buf[:r.N]) != "hello" || r.From.Addr != lo || r.From.Port != al.Port {
			t.Fatalf("Read = %+v %q, %v", r, buf[:r.N], err)
		}
		a.Close()
		b.Close()
	}
}

func TestConnectedUDPSeesPortUnreachable(t *testing.T) {
	s := newStack(t)
	p := s.Transport(unix.IPPROTO_UDP)
	closed, _ := p.NewEndpoint(false)
	closed.Bind(netstack.FullAddress{Addr: netip.MustParseAddr("127.0.0.1")})
	dst, _ := closed.LocalAddress()
	closed.Close()
	a, _ := p.NewEndpoint(false)
	if err := a.Connect(dst, false); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if _, err := a.Write([]byte("x"), netstack.WriteOptions{}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if _, err := waitRead(t, a, make([]byte, 4)); err != unix.ECONNREFUSED {
		t.Fatalf("Read err = %v, want ECONNREFUSED", err)
	}
}

func TestPing(t *testing.T) {
	s := newStack(t)
	for _, v6 := range []bool{false, true} {
		num, typ, dst := uint8(unix.IPPROTO_ICMP), byte(8), netip.MustParseAddr("127.0.0.1")
		if v6 {
			num, typ, dst = unix.IPPROTO_ICMPV6, 128, netip.IPv6Loopback()
		}
		ep, err := s.Transport(num).NewEndpoint(v6)
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte{typ, 0, 0, 0, 0, 0, 0, 7, 'a', 'b'}
		if _, err := ep.Write(msg, netstack.WriteOptions{To: &netstack.FullAddress{Addr: dst}}); err != nil {
			t.Fatalf("Write: %v", err)
		}
		buf := make([]byte, 64)
		r, err := waitRead(t, ep, buf)
		if err != nil || r.N != len(msg) || (buf[0] != 0 && !v6) || (buf[0] != 129 && v6) || buf[7] != 7 || string(buf[8:10]) != "ab" {
			t.Fatalf("echo reply = %x, %v", buf[:r.N], err)
		}
	}
}

// A datagram whose checksum is wrong is dropped, unless the link vouched
// for it (Packet.ChecksumVerified: a veth peer's checksum offload leaves
// only the pseudo-header sum in the field).
func TestUDPChecksumVerifiedSkipsTheCheck(t *testing.T) {
	s := newStack(t)
	p := s.Transport(unix.IPPROTO_UDP).(*Protocol)
	lo := netip.MustParseAddr("127.0.0.1")
	ep, _ := p.NewEndpoint(false)
	defer ep.Close()
	if err := ep.Bind(netstack.FullAddress{Addr: lo, Port: 4321}); err != nil {
		t.Fatal(err)
	}
	// 1234 -> 4321, length 12, checksum 0x1111 (wrong), "data".
	dgram := []byte{0x04, 0xd2, 0x10, 0xe1, 0, 12, 0x11, 0x11, 'd', 'a', 't', 'a'}
	buf := make([]byte, 16)
	for _, verified := range []bool{false, true} {
		errs := p.Stats.InErrors.Load()
		p.HandlePacket(netstack.Packet{Src: lo, Dst: lo, NICID: 1, TTL: 64, Payload: append([]byte(nil), dgram...), ChecksumVerified: verified})
		r, err := ep.Read(buf, netstack.ReadOptions{})
		if verified {
			if err != nil || string(buf[:r.N]) != "data" {
				t.Errorf("verified: Read = %+v, %v", r, err)
			}
		} else if err != unix.EAGAIN || p.Stats.InErrors.Load() != errs+1 {
			t.Errorf("unverified bad checksum: Read = %+v, %v; InErrors %d -> %d", r, err, errs, p.Stats.InErrors.Load())
		}
	}
}
