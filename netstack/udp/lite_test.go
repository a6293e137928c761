package udp

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/palisade-sandbox/palisade/netstack"
)

func TestLiteCoverage(t *testing.T) {
	src, dst := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	data := []byte("0123456789abcdef")
	for _, c := range []struct {
		sendCov, field int
	}{{-1, 24}, {0, 0}, {12, 12}, {8, 8}, {24, 24}, {100, 24}} {
		b := buildLite(1, 2, data, src, dst, c.sendCov)
		if got := int(binary.BigEndian.Uint16(b[4:])); got != c.field {
			t.Errorf("sendCov %d: length field %d, want %d", c.sendCov, got, c.field)
		}
		if _, d, _, ok := parseLite(netstack.Packet{Src: src, Dst: dst, Payload: b}); !ok || string(d) != string(data) {
			t.Errorf("sendCov %d: own datagram rejected", c.sendCov)
		}
		// Outside the coverage, changes go unnoticed; inside, not.
		b2 := append([]byte(nil), b...)
		b2[len(b2)-1] ^= 1
		_, _, _, ok := parseLite(netstack.Packet{Src: src, Dst: dst, Payload: b2})
		if covered := c.field == 0 || c.field == len(b); ok == covered {
			t.Errorf("sendCov %d: a change in the last byte accepted=%v", c.sendCov, ok)
		}
	}
	b := buildLite(1, 2, data, src, dst, -1)
	for _, cov := range []int{1, 7, len(b) + 1, 0xffff} {
		h := append([]byte(nil), b...)
		binary.BigEndian.PutUint16(h[4:], uint16(cov))
		if _, _, _, ok := parseLite(netstack.Packet{Src: src, Dst: dst, Payload: h, ChecksumVerified: true}); ok {
			t.Errorf("coverage %d accepted", cov)
		}
	}
	z := append([]byte(nil), b...)
	z[6], z[7] = 0, 0
	if _, _, _, ok := parseLite(netstack.Packet{Src: src, Dst: dst, Payload: z}); ok {
		t.Error("a zero checksum accepted")
	}
	if _, _, _, ok := parseLite(netstack.Packet{Src: src, Dst: dst, Payload: b[:7]}); ok {
		t.Error("a short datagram accepted")
	}
}
