package tcp

import (
	"container/heap"
	"math/rand"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
)

// sim is a simulated network: hosts joined by one link, a clock that only
// moves when the simulation runs, and a seeded RNG. Everything runs on the
// test's goroutine, so runs are deterministic.
type sim struct {
	t     *testing.T
	now   time.Time
	rng   *rand.Rand
	queue eventQueue
	seq   uint64
	hosts map[netip.Addr]*host

	// Link behaviour for every packet.
	delay  time.Duration
	jitter time.Duration // reordering: extra random delay up to jitter
	loss   float64
	dup    float64
	// filter, if set, sees every packet first and drops it if it returns
	// false.
	filter func(from, to netip.Addr, seg []byte) bool
	// sent counts packets put on the link.
	sent int
}

type event struct {
	at  time.Time
	seq uint64
	fn  func()
	// idx is the heap index, -1 when not queued.
	idx int
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i]; q[i].idx = i; q[j].idx = j }
func (q *eventQueue) Push(x any)   { e := x.(*event); e.idx = len(*q); *q = append(*q, e) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	e.idx = -1
	return e
}

func newSim(t *testing.T, seed int64) *sim {
	return &sim{
		t:     t,
		now:   time.Unix(1_000_000, 0),
		rng:   rand.New(rand.NewSource(seed)),
		hosts: make(map[netip.Addr]*host),
		delay: time.Millisecond,
	}
}

func (s *sim) schedule(d time.Duration, fn func()) *event {
	s.seq++
	e := &event{at: s.now.Add(d), seq: s.seq, fn: fn}
	heap.Push(&s.queue, e)
	return e
}

// step runs the next event; it reports false if there is none.
func (s *sim) step() bool {
	if len(s.queue) == 0 {
		return false
	}
	e := heap.Pop(&s.queue).(*event)
	if e.at.After(s.now) {
		s.now = e.at
	}
	e.fn()
	return true
}

// runFor runs events for d of simulated time.
func (s *sim) runFor(d time.Duration) {
	end := s.now.Add(d)
	for len(s.queue) > 0 && !s.queue[0].at.After(end) {
		s.step()
	}
	s.now = end
}

// runUntil runs until cond holds, failing after limit of simulated time.
func (s *sim) runUntil(limit time.Duration, cond func() bool) {
	s.t.Helper()
	end := s.now.Add(limit)
	for !cond() {
		if len(s.queue) == 0 || s.queue[0].at.After(end) {
			s.t.Fatalf("condition not reached within %v", limit)
		}
		s.step()
	}
}

// transmit puts a packet on the link.
func (s *sim) transmit(from, to netip.Addr, seg []byte) {
	s.sent++
	if s.filter != nil && !s.filter(from, to, seg) {
		return
	}
	if s.loss > 0 && s.rng.Float64() < s.loss {
		return
	}
	copies := 1
	if s.dup > 0 && s.rng.Float64() < s.dup {
		copies = 2
	}
	for i := 0; i < copies; i++ {
		d := s.delay
		if s.jitter > 0 {
			d += time.Duration(s.rng.Int63n(int64(s.jitter)))
		}
		b := append([]byte(nil), seg...)
		s.schedule(d, func() {
			h := s.hosts[to]
			if h == nil {
				return
			}
			h.proto.HandlePacket(netstack.Packet{Src: from, Dst: to, Payload: b})
		})
	}
}

// host is one machine on the simulated link; it implements
// netstack.Network.
type host struct {
	s     *sim
	addr  netip.Addr
	mtu   int
	proto *Protocol
	ports map[uint16]int
	mu    sync.Mutex
}

func (s *sim) addHost(addr string) *host {
	h := &host{s: s, addr: netip.MustParseAddr(addr), mtu: 1500, ports: make(map[uint16]int)}
	h.proto = NewProtocol(h).(*Protocol)
	s.hosts[h.addr] = h
	return h
}

func (h *host) FindRoute(local, remote netip.Addr, _ int32) (netstack.Route, error) {
	if local.IsValid() && local != h.addr {
		return netstack.Route{}, unix.EADDRNOTAVAIL
	}
	if _, ok := h.s.hosts[remote]; !ok && remote != netip.MustParseAddr("10.0.0.99") {
		return netstack.Route{}, unix.ENETUNREACH
	}
	return netstack.Route{Local: h.addr, Remote: remote, MTU: h.mtu}, nil
}

func (h *host) Send(r netstack.Route, proto uint8, payload []byte, opts netstack.SendOptions) error {
	if proto != ProtocolNumber {
		h.s.t.Fatalf("proto %d", proto)
	}
	if opts.ChecksumOffset != 0 {
		if opts.ChecksumOffset != 16 {
			h.s.t.Fatalf("checksum offset %d", opts.ChecksumOffset)
		}
		header.SetTCPChecksum(r.Local, r.Remote, payload)
	}
	if len(payload)+20 > h.mtu {
		h.s.t.Errorf("segment of %d bytes exceeds the MTU %d", len(payload), h.mtu)
	}
	if !header.TCPChecksumValid(r.Local, r.Remote, payload) {
		h.s.t.Errorf("sent a segment with a bad checksum")
	}
	h.s.transmit(r.Local, r.Remote, payload)
	return nil
}

func (h *host) IsLocalAddress(a netip.Addr) bool { return a == h.addr }

func (h *host) ReservePort(_ uint8, addr netstack.FullAddress, flags netstack.PortFlags) (uint16, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := addr.Port
	if p == 0 {
		for {
			p = uint16(32768 + h.s.rng.Intn(28232))
			if h.ports[p] == 0 {
				break
			}
		}
	} else if h.ports[p] > 0 && !flags.ReuseAddr {
		return 0, unix.EADDRINUSE
	}
	h.ports[p]++
	return p, nil
}

func (h *host) ReleasePort(_ uint8, addr netstack.FullAddress, _ netstack.PortFlags) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ports[addr.Port]--; h.ports[addr.Port] <= 0 {
		delete(h.ports, addr.Port)
	}
}

func (h *host) Now() time.Time { return h.s.now }

type simTimer struct {
	s  *sim
	fn func()
	ev *event
}

func (t *simTimer) Stop() bool {
	if t.ev == nil || t.ev.idx < 0 {
		return false
	}
	heap.Remove(&t.s.queue, t.ev.idx)
	t.ev = nil
	return true
}

func (t *simTimer) Reset(d time.Duration) {
	t.Stop()
	t.ev = t.s.schedule(d, t.fn)
}

func (h *host) AfterFunc(d time.Duration, f func()) netstack.Timer {
	t := &simTimer{s: h.s, fn: f}
	t.ev = h.s.schedule(d, f)
	return t
}

func (h *host) Random(b []byte) { h.s.rng.Read(b) }

// Helpers for tests.

func (h *host) newEP(t *testing.T) *endpoint {
	e, err := h.proto.NewEndpoint(false)
	if err != nil {
		t.Fatal(err)
	}
	return e.(*endpoint)
}

func (h *host) listen(t *testing.T, port uint16, backlog int) *endpoint {
	t.Helper()
	l := h.newEP(t)
	if err := l.Bind(netstack.FullAddress{Port: port}); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(backlog); err != nil {
		t.Fatal(err)
	}
	return l
}

func (h *host) connect(t *testing.T, to *host, port uint16) *endpoint {
	t.Helper()
	c := h.newEP(t)
	if err := c.Connect(netstack.FullAddress{Addr: to.addr, Port: port}, false); err != unix.EINPROGRESS {
		t.Fatalf("connect: %v", err)
	}
	return c
}

func (e *endpoint) getState() uint8 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state
}

func (e *endpoint) sockErr() unix.Errno {
	var b [4]byte
	e.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, b[:])
	v, _ := getInt(b[:])
	return unix.Errno(v)
}

// pair makes a connected pair: client on a, server (accepted) on b.
func pair(t *testing.T, s *sim, a, b *host, port uint16) (*endpoint, *endpoint, *endpoint) {
	t.Helper()
	l := b.listen(t, port, 16)
	c := a.connect(t, b, port)
	var srv netstack.Endpoint
	s.runUntil(10*time.Second, func() bool {
		if srv == nil {
			srv, _, _ = l.Accept()
		}
		return srv != nil && c.getState() == stateEstablished
	})
	if err := c.Connect(netstack.FullAddress{Addr: b.addr, Port: port}, false); err != nil {
		t.Fatalf("second connect after establishment: %v, want success", err)
	}
	return c, srv.(*endpoint), l
}

func mustWrite(t *testing.T, e *endpoint, b []byte) {
	t.Helper()
	n, err := e.Write(b, netstack.WriteOptions{})
	if err != nil || n != len(b) {
		t.Fatalf("write: %d, %v", n, err)
	}
}

func readAll(e *endpoint) ([]byte, error) {
	var out []byte
	buf := make([]byte, 1<<16)
	for {
		r, err := e.Read(buf, netstack.ReadOptions{})
		if err != nil {
			return out, err
		}
		if r.N == 0 {
			return out, nil
		}
		out = append(out, buf[:r.N]...)
	}
}

type netipAddr = netip.Addr

func netipMustParse(s string) netip.Addr { return netip.MustParseAddr(s) }

func fixChecksum(from, to netip.Addr, seg []byte) { header.SetTCPChecksum(from, to, seg) }
