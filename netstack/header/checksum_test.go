package header

import (
	"bytes"
	"math/rand"
	"net/netip"
	"testing"
)

func TestChecksumRFC1071Example(t *testing.T) {
	// RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
	buf := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := Checksum(buf, 0); got != 0xddf2 {
		t.Fatalf("Checksum = %#x, want 0xddf2", got)
	}
	// The same words in a different split, and odd-length padding.
	if got := Checksum(buf[4:], Checksum(buf[:4], 0)); got != 0xddf2 {
		t.Fatalf("split Checksum = %#x, want 0xddf2", got)
	}
	if got := Checksum([]byte{0x12}, 0); got != 0x1200 {
		t.Fatalf("odd Checksum = %#x, want 0x1200", got)
	}
}

func TestChecksumOfIPv4HeaderVerifies(t *testing.T) {
	// A real IPv4 header with its checksum (0xb861) in place sums to 0xffff.
	hdr := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	if got := Checksum(hdr, 0); got != 0xffff {
		t.Fatalf("Checksum = %#x, want 0xffff", got)
	}
}

func TestPseudoHeaderChecksum(t *testing.T) {
	src := netip.MustParseAddr("10.0.0.1")
	dst := netip.MustParseAddr("10.0.0.2")
	// 0a00+0001+0a00+0002+0011+0008 = 0x141c
	if got := PseudoHeaderChecksum(17, src, dst, 8); got != 0x141c {
		t.Fatalf("IPv4 pseudo-header = %#x, want 0x141c", got)
	}
	src6 := netip.MustParseAddr("::1")
	// ::1 twice = 2, + length 8 + next header 58 = 0x44
	if got := PseudoHeaderChecksum(58, src6, src6, 8); got != 0x44 {
		t.Fatalf("IPv6 pseudo-header = %#x, want 0x44", got)
	}
}

// checksumRef is RFC 1071's sum of big-endian 16-bit words, one at a time.
func checksumRef(buf []byte, initial uint16) uint16 {
	sum := uint32(initial)
	for i := 0; i+1 < len(buf); i += 2 {
		sum += uint32(buf[i])<<8 | uint32(buf[i+1])
	}
	if len(buf)%2 == 1 {
		sum += uint32(buf[len(buf)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// The word-at-a-time Checksum agrees with the plain definition on every
// length, initial value and content, including all-ones data where the
// end-around carries pile up.
func TestChecksumMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	ones := bytes.Repeat([]byte{0xff}, 300)
	for n := 0; n < 300; n++ {
		buf := make([]byte, n)
		rng.Read(buf)
		for _, init := range []uint16{0, 1, 0xfffe, 0xffff, uint16(rng.Intn(65536))} {
			if got, want := Checksum(buf, init), checksumRef(buf, init); got != want {
				t.Fatalf("len %d initial %#x: Checksum = %#x, want %#x", n, init, got, want)
			}
			if got, want := Checksum(ones[:n], init), checksumRef(ones[:n], init); got != want {
				t.Fatalf("all ones, len %d initial %#x: Checksum = %#x, want %#x", n, init, got, want)
			}
		}
	}
}

func BenchmarkChecksum64K(b *testing.B) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	for i := 0; i < b.N; i++ {
		Checksum(buf, 0)
	}
}
