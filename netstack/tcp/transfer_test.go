package tcp

import (
	"crypto/sha256"
	"flag"
	"math/rand"
	"testing"
	"time"

	"github.com/palisade-sandbox/palisade/netstack"
)

var bigTransfer = flag.Int("tcp.transfer", 64<<20, "bytes each way in TestLossyTransfer")

// pattern returns n pseudo-random bytes from seed.
func pattern(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// transfer sends data from x to y and other from y to x at the same time,
// driving both sides from the simulation loop, and checks what arrives.
func transfer(t *testing.T, s *sim, x, y *endpoint, data, other []byte, limit time.Duration) {
	t.Helper()
	type dir struct {
		from, to *endpoint
		data     []byte
		sent     int
		got      []byte
	}
	dirs := []*dir{{from: x, to: y, data: data}, {from: y, to: x, data: other}}
	buf := make([]byte, 1<<16)
	dirty := true
	for _, d := range dirs {
		d.from.SetNotify(func(uint32) { dirty = true })
		d.to.SetNotify(func(uint32) { dirty = true })
		d.got = make([]byte, 0, len(d.data))
	}
	end := s.now.Add(limit)
	done := func() bool {
		for _, d := range dirs {
			if len(d.got) < len(d.data) {
				return false
			}
		}
		return true
	}
	for !done() {
		if dirty {
			dirty = false
			for _, d := range dirs {
				if d.sent < len(d.data) {
					n, err := d.from.Write(d.data[d.sent:], netstack.WriteOptions{})
					if err == nil {
						d.sent += n
					}
				}
				for {
					r, err := d.to.Read(buf, netstack.ReadOptions{})
					if err != nil || r.N == 0 {
						break
					}
					d.got = append(d.got, buf[:r.N]...)
				}
			}
			continue
		}
		if len(s.queue) == 0 || s.queue[0].at.After(end) {
			t.Fatalf("stalled: sent %d/%d got %d, sent %d/%d got %d", dirs[0].sent, len(data), len(dirs[0].got), dirs[1].sent, len(other), len(dirs[1].got))
		}
		s.step()
	}
	for _, d := range dirs {
		if sha256.Sum256(d.got) != sha256.Sum256(d.data) {
			t.Fatal("data corrupted")
		}
	}
}

func TestLossyTransfer(t *testing.T) {
	size := *bigTransfer
	if testing.Short() {
		size = 4 << 20
	}
	s, a, b := twoHosts(t, 42)
	c, srv, _ := pair(t, s, a, b, 80)
	s.loss = 0.05
	s.dup = 0.01
	s.delay = 5 * time.Millisecond
	s.jitter = 2 * time.Millisecond // reorders packets sent < 2ms apart
	start := time.Now()
	transfer(t, s, c, srv, pattern(1, size), pattern(2, size), time.Hour)
	segs := size / 1448 * 2
	retrans := a.proto.Stats().RetransSegs.Load() + b.proto.Stats().RetransSegs.Load()
	t.Logf("%d bytes each way in %v simulated (%v real); %d retransmissions for ~%d segments; %d timeouts",
		size, s.now.Sub(time.Unix(1_000_000, 0)), time.Since(start), retrans, segs,
		a.proto.Stats().Timeouts.Load()+b.proto.Stats().Timeouts.Load())
	// 5% of the data is lost (and a retransmission can be lost again), plus
	// a few spurious retransmissions from reordering: allow 10%.
	if int(retrans) > segs/10 {
		t.Fatalf("%d retransmissions for %d segments", retrans, segs)
	}
}

func TestTransferReno(t *testing.T) {
	s, a, b := twoHosts(t, 43)
	c, srv, _ := pair(t, s, a, b, 80)
	for _, e := range []*endpoint{c, srv} {
		if err := e.SetSockOpt(6, 13 /* TCP_CONGESTION */, []byte("reno")); err != nil {
			t.Fatal(err)
		}
	}
	s.loss = 0.02
	s.delay = 2 * time.Millisecond
	transfer(t, s, c, srv, pattern(3, 2<<20), pattern(4, 1<<20), time.Hour)
}

func TestTransferNoSACKNoTimestamps(t *testing.T) {
	// A peer without SACK and timestamps: NewReno recovery and Karn RTT.
	s, a, b := twoHosts(t, 44)
	l := b.listen(t, 80, 4)
	// Strip the options of the SYN by intercepting it.
	s.filter = func(from, to netipAddr, seg []byte) bool {
		if seg[13]&flagSYN != 0 && len(seg) > 20 {
			// Keep MSS only: rewrite the header length and the options.
			copy(seg[20:], []byte{2, 4, 5, 0xb4})
			seg[12] = 6 << 4
			seg2 := seg[:24]
			for i := 24; i < len(seg); i++ {
				seg[i] = 0
			}
			fixChecksum(from, to, seg2)
			s.schedule(s.delay, func() {
				s.hosts[to].proto.HandlePacket(netstack.Packet{Src: from, Dst: to, Payload: append([]byte(nil), seg2...)})
			})
			return false
		}
		return true
	}
	c := a.connect(t, b, 80)
	var srv *endpoint
	s.runUntil(10*time.Second, func() bool {
		if ep, _, err := l.Accept(); err == nil {
			srv = ep.(*endpoint)
		}
		return srv != nil && c.getState() == stateEstablished
	})
	s.filter = nil
	if c.sackOK || c.tsOK || srv.sackOK || srv.tsOK {
		t.Fatal("options negotiated")
	}
	s.loss = 0.03
	s.jitter = time.Millisecond
	transfer(t, s, c, srv, pattern(5, 2<<20), pattern(6, 1<<20), time.Hour)
}
