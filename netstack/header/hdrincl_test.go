package header

import (
	"net/netip"
	"testing"
)

func TestFillIPv4HdrIncl(t *testing.T) {
	src := netip.MustParseAddr("127.0.0.1")
	pkt := func(first byte, n int) []byte {
		b := make([]byte, n)
		b[0] = first
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTooShort},
		{"short", pkt(0x45, 19), ErrTooShort},
		{"ihl below 5", pkt(0x44, 20), ErrBadLength},
		{"ihl past the end", pkt(0x46, 20), ErrBadLength},
		{"too long", pkt(0x45, 65536), ErrBadLength},
		{"version 6", pkt(0x65, 20), ErrNotSent},
		{"bad option length", append(pkt(0x46, 20), 7, 9, 0, 0), ErrNotSent},
		{"minimal", pkt(0x45, 20), nil},
		{"with data", pkt(0x45, 100), nil},
	} {
		err := FillIPv4HdrIncl(c.b, src, 77)
		if err != c.want {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
			continue
		}
		if err != nil {
			continue
		}
		h, payload, err := ParseIPv4(c.b)
		if err != nil {
			t.Errorf("%s: filled header does not parse: %v", c.name, err)
			continue
		}
		if h.Src != src || h.ID != 77 || h.TotalLen != len(c.b) || len(payload) != len(c.b)-20 {
			t.Errorf("%s: got %+v", c.name, h)
		}
	}
	// Non-zero source and id are kept.
	b := pkt(0x45, 20)
	copy(b[12:16], []byte{10, 0, 0, 9})
	b[4], b[5] = 0x12, 0x34
	if err := FillIPv4HdrIncl(b, src, 77); err != nil {
		t.Fatal(err)
	}
	h, _, _ := ParseIPv4(b)
	if h.Src != netip.MustParseAddr("10.0.0.9") || h.ID != 0x1234 {
		t.Errorf("kept fields changed: %+v", h)
	}
}

// FuzzFillIPv4HdrIncl: a guest-built header never panics the filler, and
// whatever it accepts is a packet the stack's own parser takes whole.
func FuzzFillIPv4HdrIncl(f *testing.F) {
	f.Add([]byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1, 8, 0, 0, 0})
	f.Add([]byte{0x46, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1, 1, 1, 1, 0})
	f.Add([]byte{0x4f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if FillIPv4HdrIncl(b, netip.MustParseAddr("127.0.0.1"), 1) != nil {
			return
		}
		h, payload, err := ParseIPv4(b)
		if err != nil {
			t.Fatalf("accepted header does not parse: %v", err)
		}
		if h.TotalLen != len(b) || h.HeaderLen+len(payload) != len(b) || !h.Src.IsValid() || h.ID == 0 && b[4]|b[5] != 0 {
			t.Fatalf("inconsistent: %+v", h)
		}
	})
}
