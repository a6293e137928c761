package header

import (
	"bytes"
	"net/netip"
	"testing"
)

var (
	macA = MAC{0x02, 0, 0, 0, 0, 0x0a}
	macB = MAC{0x02, 0, 0, 0, 0, 0x0b}
)

func TestEthernetRoundTrip(t *testing.T) {
	b := make([]byte, EthernetSize+3)
	EncodeEthernet(b, &Ethernet{Dst: macA, Src: macB, Type: 0x0800})
	copy(b[EthernetSize:], "abc")
	h, p, err := ParseEthernet(b)
	if err != nil || h.Dst != macA || h.Src != macB || h.Type != 0x0800 || string(p) != "abc" {
		t.Fatalf("ParseEthernet = %+v %q %v", h, p, err)
	}
	if _, _, err := ParseEthernet(b[:EthernetSize-1]); err == nil {
		t.Errorf("ParseEthernet of 13 bytes succeeded")
	}
	if got := macA.String(); got != "02:00:00:00:00:0a" {
		t.Errorf("String = %q", got)
	}
}

func TestMulticastMAC(t *testing.T) {
	for _, c := range []struct {
		addr string
		want MAC
	}{
		{"ff02::1", MAC{0x33, 0x33, 0, 0, 0, 1}},
		{"ff02::1:ff12:3456", MAC{0x33, 0x33, 0xff, 0x12, 0x34, 0x56}},
		{"224.128.1.2", MAC{0x01, 0x00, 0x5e, 0x00, 0x01, 0x02}},
	} {
		if got := MulticastMAC(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("MulticastMAC(%s) = %v, want %v", c.addr, got, c.want)
		}
	}
	if got := SolicitedNodeAddr(netip.MustParseAddr("fd00:201::abcd:1234:5678")); got != netip.MustParseAddr("ff02::1:ff34:5678") {
		t.Errorf("SolicitedNodeAddr = %v", got)
	}
}

func sampleARP() []byte {
	b := make([]byte, ARPSize)
	EncodeARP(b, &ARP{Op: ARPRequest, SenderMAC: macA, SenderIP: netip.MustParseAddr("10.0.0.1"), TargetIP: netip.MustParseAddr("10.0.0.2")})
	return b
}

func TestARPRoundTrip(t *testing.T) {
	a, err := ParseARP(append(sampleARP(), make([]byte, 18)...)) // padded to 60
	if err != nil || a.Op != ARPRequest || a.SenderMAC != macA || a.SenderIP != netip.MustParseAddr("10.0.0.1") || a.TargetIP != netip.MustParseAddr("10.0.0.2") || !a.TargetMAC.IsZero() {
		t.Fatalf("ParseARP = %+v, %v", a, err)
	}
	for name, mut := range map[string]func(b []byte) []byte{
		"short":       func(b []byte) []byte { return b[:ARPSize-1] },
		"htype":       func(b []byte) []byte { b[1] = 6; return b },
		"ptype":       func(b []byte) []byte { b[2] = 0x86; return b },
		"hlen":        func(b []byte) []byte { b[4] = 8; return b },
		"plen":        func(b []byte) []byte { b[5] = 16; return b },
		"op 3 (RARP)": func(b []byte) []byte { b[7] = 3; return b },
	} {
		if _, err := ParseARP(mut(sampleARP())); err == nil {
			t.Errorf("%s: ParseARP succeeded", name)
		}
	}
}

func TestNDPRoundTrip(t *testing.T) {
	src, dst := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("ff02::1:ff00:2")
	n := NDP{Type: ICMPv6NeighborSolicit, Target: netip.MustParseAddr("fd00::2"), LinkAddr: macA, HasLinkAddr: true}
	b := BuildNDP(&n, src, dst)
	if !VerifyICMPv6Checksum(b, src, dst) {
		t.Fatalf("BuildNDP: bad checksum")
	}
	got, err := ParseNDP(b)
	if err != nil || got != n {
		t.Fatalf("ParseNDP = %+v, %v; want %+v", got, err, n)
	}
	na := NDP{Type: ICMPv6NeighborAdvert, Flags: NDPFlagSolicited | NDPFlagOverride, Target: n.Target, LinkAddr: macB, HasLinkAddr: true}
	got, err = ParseNDP(BuildNDP(&na, src, dst))
	if err != nil || got != na {
		t.Fatalf("ParseNDP(NA) = %+v, %v; want %+v", got, err, na)
	}
	// An unknown option is skipped; a zero-length one is invalid; one
	// longer than the message is invalid.
	withOpt := append(append([]byte{}, b...), 99, 1, 0, 0, 0, 0, 0, 0)
	if got, err := ParseNDP(withOpt); err != nil || !got.HasLinkAddr {
		t.Errorf("unknown option: %+v, %v", got, err)
	}
	for name, m := range map[string][]byte{
		"zero-length option": append(append([]byte{}, b[:24]...), 1, 0, 0, 0, 0, 0, 0, 0),
		"option too long":    append(append([]byte{}, b[:24]...), 1, 2, 0, 0, 0, 0, 0, 0),
		"truncated option":   append(append([]byte{}, b[:24]...), 1),
		"short":              b[:23],
		"multicast target":   BuildNDP(&NDP{Type: ICMPv6NeighborSolicit, Target: dst}, src, dst),
		"echo":               BuildICMP(ICMP{Type: ICMPv6EchoRequest}, make([]byte, 20), src, dst),
	} {
		if _, err := ParseNDP(m); err == nil {
			t.Errorf("%s: ParseNDP succeeded", name)
		}
	}
}

func TestVirtioNetHdrCompleteChecksum(t *testing.T) {
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	udp := BuildUDP(1000, 2000, []byte("partial checksum"), src, dst)
	want := append([]byte{}, udp...)
	// What a sender with checksum offload leaves: the pseudo-header sum.
	p := PseudoHeaderChecksum(17, src, dst, uint32(len(udp)))
	udp[6], udp[7] = byte(p>>8), byte(p)
	frame := append(make([]byte, EthernetSize+IPv4MinSize), udp...)
	hdr := []byte{VirtioNetHdrNeedsCsum, 0, 0, 0, 0, 0, byte(EthernetSize + IPv4MinSize), 0, 6, 0}
	h, f, err := ParseVirtioNetHdr(append(hdr, frame...))
	if err != nil || h.Flags != VirtioNetHdrNeedsCsum || h.CsumStart != EthernetSize+IPv4MinSize || h.CsumOffset != 6 {
		t.Fatalf("ParseVirtioNetHdr = %+v, %v", h, err)
	}
	if err := h.CompleteChecksum(f); err != nil {
		t.Fatalf("CompleteChecksum: %v", err)
	}
	if got := f[EthernetSize+IPv4MinSize:]; !bytes.Equal(got, want) {
		t.Errorf("completed datagram\n%x, want\n%x", got, want)
	}
	h.CsumOffset = uint16(len(udp) - 1)
	if err := h.CompleteChecksum(f); err == nil {
		t.Errorf("CompleteChecksum past the end succeeded")
	}
}

func FuzzParseEthernet(f *testing.F) {
	f.Add(append(make([]byte, EthernetSize), sampleARP()...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, p, err := ParseEthernet(b)
		if err == nil && len(p) != len(b)-EthernetSize {
			t.Fatalf("payload %d of frame %d", len(p), len(b))
		}
	})
}

func FuzzParseARP(f *testing.F) {
	f.Add(sampleARP())
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseARP(b)
		if err != nil {
			return
		}
		out := make([]byte, ARPSize)
		EncodeARP(out, &a)
		if !bytes.Equal(out, b[:ARPSize]) {
			t.Fatalf("round trip: %x != %x", out, b[:ARPSize])
		}
	})
}

func FuzzParseNDP(f *testing.F) {
	f.Add(BuildNDP(&NDP{Type: ICMPv6NeighborSolicit, Target: v6b, LinkAddr: macA, HasLinkAddr: true}, v6a, v6b))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseNDP(b)
		if err == nil && n.Target.IsMulticast() {
			t.Fatalf("multicast target accepted")
		}
	})
}

func FuzzVirtioNetHdr(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 34, 0, 6, 0, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, frame, err := ParseVirtioNetHdr(b)
		if err == nil {
			h.CompleteChecksum(frame)
		}
	})
}
