package netlink

import (
	"encoding/binary"
	"math/rand"
	"testing"

	"github.com/palisade-sandbox/palisade/netstack"
	"golang.org/x/sys/unix"
)

func request(typ, flags uint16, seq uint32, body []byte) []byte {
	m := newMsg(typ, flags, seq, 0, body)
	return m.bytes()
}

func collect(t *testing.T, req []byte, o Options) [][]byte {
	t.Helper()
	var out [][]byte
	Process(netstack.NewLoopbackStack(), req, o, func(b []byte) bool { out = append(out, b); return true })
	return out
}

func TestDumpEndsWithDone(t *testing.T) {
	for _, typ := range []uint16{unix.RTM_GETLINK, unix.RTM_GETADDR, unix.RTM_GETROUTE} {
		out := collect(t, request(typ, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, 3, []byte{0, 0, 0, 0}), Options{PortID: 9})
		if len(out) == 0 {
			t.Fatalf("type %d: no reply", typ)
		}
		last := out[len(out)-1]
		var types []uint16
		for b := last; len(b) >= hdrLen; {
			h := parseHeader(b)
			if h.Seq != 3 || h.PortID != 9 {
				t.Errorf("type %d: header %+v", typ, h)
			}
			types = append(types, h.Type)
			b = b[align4(int(h.Len)):]
		}
		if types[len(types)-1] != unix.NLMSG_DONE || len(types) < 2 {
			t.Errorf("type %d: messages %v, want entries then NLMSG_DONE", typ, types)
		}
	}
}

func TestErrorsAndAcks(t *testing.T) {
	out := collect(t, request(200, unix.NLM_F_REQUEST, 1, nil), Options{})
	if len(out) != 1 || parseHeader(out[0]).Type != unix.NLMSG_ERROR || int32(binary.LittleEndian.Uint32(out[0][hdrLen:])) != -int32(unix.EOPNOTSUPP) {
		t.Fatalf("unknown type: %x", out)
	}
	// Two messages in one datagram: both answered.
	two := append(request(unix.RTM_GETLINK, unix.NLM_F_ACK, 1, nil), request(unix.RTM_GETLINK, unix.NLM_F_ACK, 2, nil)...)
	if out := collect(t, two, Options{}); len(out) != 2 {
		t.Fatalf("two acks: got %d replies", len(out))
	}
	// A short GETLINK (no ifinfomsg) is EINVAL.
	out = collect(t, request(unix.RTM_GETLINK, unix.NLM_F_REQUEST, 1, nil), Options{})
	if len(out) != 1 || int32(binary.LittleEndian.Uint32(out[0][hdrLen:])) != -int32(unix.EINVAL) {
		t.Fatalf("short GETLINK: %x", out)
	}
}

func TestFullQueueStops(t *testing.T) {
	var req []byte
	for i := 0; i < 100; i++ {
		req = append(req, request(unix.RTM_GETLINK, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, uint32(i), nil)...)
	}
	n := 0
	Process(netstack.NewLoopbackStack(), req, Options{}, func([]byte) bool { n++; return n < 3 })
	if n != 3 {
		t.Fatalf("emit called %d times after refusing, want 3", n)
	}
}

func TestHostileInputNeverPanics(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	src := netstack.NewLoopbackStack()
	base := [][]byte{
		request(unix.RTM_GETLINK, unix.NLM_F_REQUEST, 1, make([]byte, 16)),
		request(unix.RTM_GETADDR, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, 1, make([]byte, 8)),
		request(unix.RTM_GETROUTE, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, 1, make([]byte, 12)),
	}
	for i := 0; i < 20000; i++ {
		b := append([]byte(nil), base[i%len(base)]...)
		b = append(b, make([]byte, r.Intn(40))...)
		for k := 0; k < 1+r.Intn(6); k++ {
			b[r.Intn(len(b))] = byte(r.Intn(256))
		}
		b = b[:r.Intn(len(b)+1)]
		Process(src, b, Options{StrictCheck: i%2 == 0}, func(out []byte) bool {
			if len(out) > maxBatch+len(b)+64 {
				t.Fatalf("reply of %d bytes", len(out))
			}
			return true
		})
	}
}

func TestAttrsRejectsBadLengths(t *testing.T) {
	for _, b := range [][]byte{{3, 0, 1, 0}, {200, 0, 1, 0, 1, 2}, {8, 0, 3, 0, 1}} {
		if _, ok := attrs(b); ok {
			t.Errorf("attrs(%x) accepted", b)
		}
	}
	as, ok := attrs([]byte{7, 0, 3, 0, 'l', 'o', 0, 0})
	if !ok || cstring(as[unix.IFLA_IFNAME]) != "lo" {
		t.Errorf("attrs: %v %v", as, ok)
	}
}

func TestLinkCarriesTheMACAndBroadcast(t *testing.T) {
	mac := []byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	for _, c := range []struct {
		in       netstack.InterfaceInfo
		hw, brd  []byte
		linkType uint16
	}{
		{netstack.InterfaceInfo{ID: 2, Name: "eth0", Up: true, MTU: 1500, LinkAddr: mac}, mac, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, arphrdEther},
		{netstack.InterfaceInfo{ID: 1, Name: "lo", Up: true, Loopback: true, MTU: 65536}, make([]byte, 6), make([]byte, 6), arphrdLoopback},
	} {
		b := linkMsg(&c.in, 0, 1, 0)
		h := parseHeader(b)
		if h.Type != unix.RTM_NEWLINK || int(h.Len) != len(b) {
			t.Fatalf("%s: header %+v of %d bytes", c.in.Name, h, len(b))
		}
		if typ := binary.LittleEndian.Uint16(b[hdrLen+2:]); typ != c.linkType {
			t.Errorf("%s: ifi_type %d, want %d", c.in.Name, typ, c.linkType)
		}
		a, ok := attrs(b[hdrLen+ifinfoLen:])
		if !ok {
			t.Fatalf("%s: malformed attributes", c.in.Name)
		}
		if got := a[unix.IFLA_ADDRESS]; string(got) != string(c.hw) {
			t.Errorf("%s: IFLA_ADDRESS %x, want %x", c.in.Name, got, c.hw)
		}
		if got := a[unix.IFLA_BROADCAST]; string(got) != string(c.brd) {
			t.Errorf("%s: IFLA_BROADCAST %x, want %x", c.in.Name, got, c.brd)
		}
	}
}
