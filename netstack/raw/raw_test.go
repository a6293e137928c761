package raw

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
)

var lo4 = netip.MustParseAddr("127.0.0.1")

func newStack() (*netstack.Stack, *Protocol) {
	s := netstack.NewLoopbackStack()
	p := NewProtocol(s)
	s.SetRawHandler(p)
	return s, p
}

// waitRead reads from ep, waiting up to 5 s for a notification.
func waitRead(t *testing.T, ep netstack.Endpoint, buf []byte) netstack.ReadResult {
	t.Helper()
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
		if err == nil {
			return r
		}
		if err != unix.EAGAIN {
			t.Fatalf("Read: %v", err)
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("nothing within 5 s")
		}
	}
}

func newEP(t testing.TB, p *Protocol, v6 bool, proto int) netstack.Endpoint {
	t.Helper()
	ep, err := p.NewRawEndpoint(v6, proto)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// sentinel sends a packet of protocol 254 and waits for it on a socket of
// that protocol: the loopback keeps order, so everything sent before has
// been delivered (or dropped) by then.
func sentinel(t *testing.T, p *Protocol) {
	t.Helper()
	rx, tx := newEP(t, p, false, 254), newEP(t, p, false, 254)
	defer rx.Close()
	defer tx.Close()
	if _, err := tx.Write([]byte("end"), netstack.WriteOptions{To: &netstack.FullAddress{Addr: lo4}}); err != nil {
		t.Fatal(err)
	}
	waitRead(t, rx, make([]byte, 64))
}

func TestReceiveWithHeader(t *testing.T) {
	_, p := newStack()
	rx, tx := newEP(t, p, false, 253), newEP(t, p, false, 253)
	ttl := 9
	if _, err := tx.Write([]byte("hello"), netstack.WriteOptions{To: &netstack.FullAddress{Addr: lo4},
		Control: &netstack.SendControl{HasTTL: true, TTL: uint8(ttl)}}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	r := waitRead(t, rx, buf)
	h, payload, err := header.ParseIPv4(buf[:r.N])
	if err != nil || h.Protocol != 253 || string(payload) != "hello" || h.TTL != uint8(ttl) || r.From.Addr != lo4 {
		t.Fatalf("got %+v %q %v from %v", h, payload, err, r.From)
	}
}

// TestHostileHdrIncl sends guest-built headers: short ones are EINVAL,
// ones no receiver takes succeed but are never delivered, and a good one
// arrives completed.
func TestHostileHdrIncl(t *testing.T) {
	s, p := newStack()
	rx := newEP(t, p, false, 253)
	tx := newEP(t, p, false, unix.IPPROTO_RAW)
	to := &netstack.FullAddress{Addr: lo4}
	mk := func(first byte, n int) []byte {
		b := make([]byte, n)
		b[0], b[9] = first, 253
		copy(b[16:20], []byte{127, 0, 0, 1})
		return b
	}
	for _, c := range []struct {
		b    []byte
		want error
	}{
		{mk(0x45, 20)[:19], unix.EINVAL},
		{mk(0x44, 20), unix.EINVAL},
		{mk(0x4f, 40), unix.EINVAL},
		{mk(0x65, 20), nil},                            // not IPv4: dropped
		{append(mk(0x46, 20), 0x44, 0x40, 0, 0), nil},  // option past the header: dropped
		{mk(0x45, 70000), unix.EMSGSIZE},               // beyond any MTU
		{append(mk(0x45, 20), []byte("good")...), nil}, // delivered
	} {
		if _, err := tx.Write(c.b, netstack.WriteOptions{To: to}); err != c.want {
			t.Errorf("header %x... (%d bytes): got %v, want %v", c.b[:1], len(c.b), err, c.want)
		}
	}
	if s.Stats.IPOutDiscards.Load() != 2 {
		t.Errorf("IPOutDiscards = %d, want 2", s.Stats.IPOutDiscards.Load())
	}
	buf := make([]byte, 100)
	r := waitRead(t, rx, buf)
	h, payload, err := header.ParseIPv4(buf[:r.N])
	if err != nil || string(payload) != "good" || h.Src != lo4 || h.ID == 0 {
		t.Fatalf("got %+v %q %v", h, payload, err)
	}
	sentinel(t, p)
	if _, err := rx.Read(buf, netstack.ReadOptions{}); err != unix.EAGAIN {
		t.Fatalf("a dropped header was delivered: %v", err)
	}
}

func TestReceiveBufferBound(t *testing.T) {
	_, p := newStack()
	rx, tx := newEP(t, p, false, 253), newEP(t, p, false, 253)
	if err := rx.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, binary.LittleEndian.AppendUint32(nil, 1)); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1000)
	for i := 0; i < 50; i++ {
		if _, err := tx.Write(data, netstack.WriteOptions{To: &netstack.FullAddress{Addr: lo4}}); err != nil {
			t.Fatal(err)
		}
	}
	sentinel(t, p)
	n := 0
	for {
		if _, err := rx.Read(make([]byte, 2000), netstack.ReadOptions{}); err != nil {
			break
		}
		n++
	}
	if n == 0 || n > 3 || p.Stats.RcvbufErrors.Load() == 0 {
		t.Fatalf("queued %d of 50 with a 2304-byte buffer, %d drops", n, p.Stats.RcvbufErrors.Load())
	}
}

func TestICMPv6EchoAndChecksum(t *testing.T) {
	_, p := newStack()
	ep := newEP(t, p, true, unix.IPPROTO_ICMPV6)
	// Block everything but echo replies (type 129).
	f := make([]byte, 32)
	for i := range f {
		f[i] = 0xff
	}
	f[16] &^= 2
	if err := ep.SetSockOpt(solICMPv6, icmp6Filter, f); err != nil {
		t.Fatal(err)
	}
	req := []byte{header.ICMPv6EchoRequest, 0, 0xde, 0xad, 0x12, 0x34, 0, 1}
	if _, err := ep.Write(req, netstack.WriteOptions{To: &netstack.FullAddress{Addr: netip.IPv6Loopback()}}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	r := waitRead(t, ep, buf)
	if r.N != 8 || buf[0] != header.ICMPv6EchoReply || buf[4] != 0x12 || buf[5] != 0x34 {
		t.Fatalf("got % x", buf[:r.N])
	}
	if !header.VerifyICMPv6Checksum(buf[:r.N], netip.IPv6Loopback(), netip.IPv6Loopback()) {
		t.Fatal("reply checksum wrong")
	}
}

// FuzzHdrInclWrite: whatever a guest writes on an IPPROTO_RAW socket, the
// stack neither panics nor delivers a packet its own parser rejects.
func FuzzHdrInclWrite(f *testing.F) {
	f.Add([]byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 253, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1, 'x'})
	f.Add([]byte{0x4f, 0xff})
	f.Add([]byte{0x46, 0, 0, 0, 0, 0x20, 0, 1, 64, 253, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1, 1, 1, 1, 0})
	s, p := newStack()
	rx := newEP(f, p, false, 253)
	tx := newEP(f, p, false, unix.IPPROTO_RAW)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = tx.Write(b, netstack.WriteOptions{To: &netstack.FullAddress{Addr: lo4}})
		for {
			var buf [65536]byte
			r, err := rx.Read(buf[:], netstack.ReadOptions{})
			if err != nil {
				break
			}
			if _, _, err := header.ParseIPv4(buf[:r.N]); err != nil {
				t.Fatalf("delivered a bad packet: %v", err)
			}
		}
		_ = s
	})
}

// FuzzHdrInclWrite6 is FuzzHdrInclWrite for IPv6 (IPPROTO_RAW implies
// IPV6_HDRINCL): what is delivered parses.
func FuzzHdrInclWrite6(f *testing.F) {
	good := make([]byte, 44)
	good[0], good[5], good[6], good[7] = 0x60, 4, 253, 64
	good[23], good[39] = 1, 1
	f.Add(good)
	f.Add([]byte{0x60})
	_, p := newStack()
	rx := newEP(f, p, true, 253)
	tx := newEP(f, p, true, unix.IPPROTO_RAW)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := tx.Write(b, netstack.WriteOptions{To: &netstack.FullAddress{Addr: netip.IPv6Loopback()}})
		if err == nil && n != len(b) {
			t.Fatalf("wrote %d of %d", n, len(b))
		}
		if len(b) < header.IPv6Size && err != unix.EINVAL {
			t.Fatalf("a %d-byte header: %v", len(b), err)
		}
		for {
			var buf [65536]byte
			if _, err := rx.Read(buf[:], netstack.ReadOptions{}); err != nil {
				break
			}
		}
	})
}
