package header

import (
	"bytes"
	"net/netip"
	"testing"
)

var (
	v4a = netip.MustParseAddr("127.0.0.1")
	v4b = netip.MustParseAddr("10.1.2.3")
	v6a = netip.MustParseAddr("::1")
	v6b = netip.MustParseAddr("fe80::1")
)

func sampleIPv4(payload []byte) []byte {
	b := make([]byte, IPv4MinSize+len(payload))
	EncodeIPv4(b, &IPv4{ID: 7, TTL: 64, Protocol: 17, Src: v4a, Dst: v4b, Flags: IPv4FlagDF}, len(payload))
	copy(b[IPv4MinSize:], payload)
	return b
}

func TestIPv4RoundTrip(t *testing.T) {
	b := sampleIPv4([]byte("hello"))
	h, p, err := ParseIPv4(append(b, 0, 0)) // link padding is cut
	if err != nil {
		t.Fatalf("ParseIPv4: %v", err)
	}
	if h.Src != v4a || h.Dst != v4b || h.TTL != 64 || h.Protocol != 17 || h.ID != 7 || h.Flags != IPv4FlagDF || string(p) != "hello" {
		t.Fatalf("ParseIPv4 = %+v %q", h, p)
	}
}

func TestIPv4Rejects(t *testing.T) {
	good := sampleIPv4([]byte("x"))
	cases := map[string]func(b []byte) []byte{
		"short":      func(b []byte) []byte { return b[:19] },
		"version":    func(b []byte) []byte { b[0] = 0x65; return b },
		"ihl<5":      func(b []byte) []byte { b[0] = 0x44; return b },
		"ihl>len":    func(b []byte) []byte { b[0] = 0x4f; return b },
		"totlen>len": func(b []byte) []byte { b[3] = 200; return b },
		"totlen<ihl": func(b []byte) []byte { b[3] = 10; return b },
		"checksum":   func(b []byte) []byte { b[8]++; return b },
	}
	for name, mod := range cases {
		b := mod(bytes.Clone(good))
		if _, _, err := ParseIPv4(b); err == nil {
			t.Errorf("%s: ParseIPv4 accepted a bad header", name)
		}
	}
	// An option whose length runs past the header.
	b := make([]byte, 24+1)
	EncodeIPv4(b, &IPv4{TTL: 1, Src: v4a, Dst: v4a}, 5)
	b[0] = 0x46
	b[20], b[21] = 7, 9 // record route, length 9 > 4 bytes of options
	b[10], b[11] = 0, 0
	c := ^Checksum(b[:24], 0)
	b[10], b[11] = byte(c>>8), byte(c)
	if _, _, err := ParseIPv4(b); err != ErrBadOptions {
		t.Errorf("overlong option: err = %v, want ErrBadOptions", err)
	}
}

func TestIPv6Extensions(t *testing.T) {
	// hop-by-hop (8 bytes), destination options (16 bytes), fragment.
	p := make([]byte, 8+16+8+4)
	p[0], p[1] = IPv6DestOpts, 0
	p[8], p[9] = IPv6Fragment, 1
	EncodeIPv6Fragment(p[24:], &IPv6FragmentHeader{NextHeader: 17, Offset: 1232, More: true, ID: 99})
	e, err := ParseIPv6Extensions(IPv6HopByHop, p)
	if err != nil || e.Fragment == nil || e.Protocol != 17 || e.Offset != 32 || e.Fragment.Offset != 1232 || !e.Fragment.More || e.Fragment.ID != 99 {
		t.Fatalf("ParseIPv6Extensions = %+v %+v, %v", e, e.Fragment, err)
	}
	// hop-by-hop after another header is refused; a length past the end too.
	if _, err := ParseIPv6Extensions(IPv6DestOpts, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Errorf("hop-by-hop in second place accepted")
	}
	if _, err := ParseIPv6Extensions(IPv6Routing, []byte{17, 5, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Errorf("overlong routing header accepted")
	}
	loop := bytes.Repeat([]byte{IPv6DestOpts, 0, 0, 0, 0, 0, 0, 0}, 40)
	if _, err := ParseIPv6Extensions(IPv6DestOpts, loop); err != ErrTooManyExt {
		t.Errorf("40 extension headers: err = %v, want ErrTooManyExt", err)
	}
}

func TestUDPAndICMPChecksums(t *testing.T) {
	for _, pair := range [][2]netip.Addr{{v4a, v4b}, {v6a, v6b}} {
		d := BuildUDP(1000, 53, []byte("query"), pair[0], pair[1])
		if !VerifyUDPChecksum(d, pair[0], pair[1]) {
			t.Errorf("UDP checksum over %v does not verify", pair[0])
		}
		d[9] ^= 1
		if VerifyUDPChecksum(d, pair[0], pair[1]) {
			t.Errorf("corrupted UDP over %v verifies", pair[0])
		}
		h, body, err := ParseUDP(BuildUDP(1, 2, []byte("ab"), pair[0], pair[1]))
		if err != nil || h.SrcPort != 1 || h.DstPort != 2 || h.Length != 10 || string(body) != "ab" {
			t.Errorf("ParseUDP = %+v %q %v", h, body, err)
		}
	}
	m := BuildICMP(ICMP{Type: ICMPv4EchoRequest, Rest: 0x12340001}, []byte("ping"), netip.Addr{}, netip.Addr{})
	if !VerifyICMPv4Checksum(m) {
		t.Errorf("ICMPv4 checksum does not verify")
	}
	m6 := BuildICMP(ICMP{Type: ICMPv6EchoRequest, Rest: 0x12340001}, []byte("ping"), v6a, v6b)
	if !VerifyICMPv6Checksum(m6, v6a, v6b) {
		t.Errorf("ICMPv6 checksum does not verify")
	}
	h, _, _ := ParseICMP(m6)
	if h.Ident() != 0x1234 || h.Seq() != 1 {
		t.Errorf("Ident/Seq = %#x/%d", h.Ident(), h.Seq())
	}
	if _, _, err := ParseUDP([]byte{0, 1, 0, 2, 0, 7, 0, 0}); err == nil {
		t.Errorf("UDP length 7 accepted")
	}
}

func FuzzParseIPv4(f *testing.F) {
	f.Add(sampleIPv4([]byte("hello")))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := ParseIPv4(b)
		if err == nil && (h.HeaderLen+len(p) != h.TotalLen || h.TotalLen > len(b)) {
			t.Fatalf("lengths inconsistent: %+v payload %d", h, len(p))
		}
	})
}

func FuzzParseIPv6(f *testing.F) {
	b := make([]byte, IPv6Size+8)
	EncodeIPv6(b, &IPv6{PayloadLen: 8, NextHeader: IPv6Fragment, HopLimit: 64, Src: v6a, Dst: v6a})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := ParseIPv6(b)
		if err != nil {
			return
		}
		if len(p) != h.PayloadLen {
			t.Fatalf("payload %d != %d", len(p), h.PayloadLen)
		}
		e, err := ParseIPv6Extensions(h.NextHeader, p)
		if err == nil && e.Offset > len(p) {
			t.Fatalf("offset %d beyond payload %d", e.Offset, len(p))
		}
	})
}

func FuzzParseUDP(f *testing.F) {
	f.Add(BuildUDP(1, 2, []byte("x"), v4a, v4b))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := ParseUDP(b)
		if err == nil && UDPSize+len(p) != h.Length {
			t.Fatalf("data %d for length %d", len(p), h.Length)
		}
		VerifyUDPChecksum(b, v6a, v6b)
	})
}

func FuzzParseICMPv4(f *testing.F) {
	f.Add(BuildICMP(ICMP{Type: ICMPv4DstUnreachable, Code: ICMPv4PortUnreachable}, sampleIPv4(nil), netip.Addr{}, netip.Addr{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, body, err := ParseICMP(b)
		if err != nil {
			return
		}
		VerifyICMPv4Checksum(b)
		// An error's body is a quoted IPv4 header: parse it as the
		// stack does (without the total-length check: it is cut).
		ParseIPv4Quoted(body)
	})
}

func FuzzParseICMPv6(f *testing.F) {
	f.Add(BuildICMP(ICMP{Type: ICMPv6EchoReply, Rest: 5}, []byte("data"), v6a, v6b))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, body, err := ParseICMP(b)
		if err != nil {
			return
		}
		VerifyICMPv6Checksum(b, v6a, v6b)
		if h, p, err := ParseIPv6(body); err == nil {
			ParseIPv6Extensions(h.NextHeader, p)
		}
	})
}
