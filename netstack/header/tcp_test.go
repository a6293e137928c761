package header

import (
	"net/netip"
	"testing"
)

func TestTCPRoundTrip(t *testing.T) {
	o := TCPOptions{HasMSS: true, MSS: 1460, HasWS: true, WS: 7, SACKPermitted: true, HasTS: true, TSVal: 1, TSEcr: 2}
	var b [60]byte
	n := EncodeTCPOptions(b[20:], &o)
	if n != o.EncodedLen() || n%4 != 0 {
		t.Fatalf("encoded %d, EncodedLen %d", n, o.EncodedLen())
	}
	h := TCP{SrcPort: 1, DstPort: 2, Seq: 3, Ack: 4, DataOffset: 20 + n, Flags: TCPFlagSYN | TCPFlagACK, Window: 5, Urgent: 6}
	h.Encode(b[:])
	seg := append(b[:20+n:20+n], "data"...)
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	SetTCPChecksum(src, dst, seg)
	if !TCPChecksumValid(src, dst, seg) {
		t.Fatal("checksum not valid")
	}
	seg[len(seg)-1] ^= 1
	if TCPChecksumValid(src, dst, seg) {
		t.Fatal("corrupt segment passes the checksum")
	}
	seg[len(seg)-1] ^= 1
	g, payload, err := ParseTCP(seg)
	if err != nil || string(payload) != "data" || g.Seq != 3 || g.Ack != 4 || g.Flags != h.Flags || g.Window != 5 || g.Urgent != 6 {
		t.Fatalf("parse: %+v %q %v", g, payload, err)
	}
	p := ParseTCPOptions(g.Options)
	p.Bogus = false
	if p != o {
		t.Fatalf("options %+v, want %+v", p, o)
	}
}

func TestTCPSACKOptions(t *testing.T) {
	o := TCPOptions{HasTS: true, TSVal: 9, NumSACK: 4}
	for i := range o.SACK {
		o.SACK[i] = SACKBlock{uint32(i * 100), uint32(i*100 + 50)}
	}
	var b [40]byte
	n := EncodeTCPOptions(b[:], &o)
	if n > 40 || n != o.EncodedLen() {
		t.Fatalf("length %d", n)
	}
	p := ParseTCPOptions(b[:n])
	if p.NumSACK != 3 || p.SACK[2] != o.SACK[2] || !p.HasTS || p.TSVal != 9 {
		t.Fatalf("parsed %+v", p)
	}
}

func TestTCPBogus(t *testing.T) {
	for _, opts := range [][]byte{{2}, {2, 0}, {2, 1, 0}, {5, 200}, {3, 3}} {
		if o := ParseTCPOptions(opts); !o.Bogus {
			t.Errorf("%v: not bogus: %+v", opts, o)
		}
	}
	if _, _, err := ParseTCP(make([]byte, 19)); err == nil {
		t.Error("short header accepted")
	}
	b := make([]byte, 20)
	b[12] = 6 << 4
	if _, _, err := ParseTCP(b); err == nil {
		t.Error("data offset beyond segment accepted")
	}
	b[12] = 4 << 4
	if _, _, err := ParseTCP(b); err == nil {
		t.Error("data offset below 5 accepted")
	}
}

func FuzzTCP(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0x70, 0x12, 0, 5, 0, 0, 0, 0, 2, 4, 5, 180, 1, 3, 3, 7})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, err := ParseTCP(b)
		if err != nil {
			return
		}
		if h.DataOffset+len(payload) != len(b) || len(h.Options) != h.DataOffset-20 {
			t.Fatalf("lengths: %d+%d != %d", h.DataOffset, len(payload), len(b))
		}
		o := ParseTCPOptions(h.Options)
		if o.NumSACK < 0 || o.NumSACK > TCPMaxSACKBlocks || o.WS > TCPMaxWindowShift {
			t.Fatalf("options out of range: %+v", o)
		}
		var buf [40]byte
		o.SACKPermitted = o.SACKPermitted && !o.Bogus
		if n := EncodeTCPOptions(buf[:], &o); n != o.EncodedLen() || n > 40 {
			t.Fatalf("re-encode: %d vs %d", n, o.EncodedLen())
		}
	})
}
