package tcp

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

func twoHosts(t *testing.T, seed int64) (*sim, *host, *host) {
	s := newSim(t, seed)
	return s, s.addHost("10.0.0.1"), s.addHost("10.0.0.2")
}

func TestHandshakeTransferClose(t *testing.T) {
	s, a, b := twoHosts(t, 1)
	c, srv, _ := pair(t, s, a, b, 80)
	mustWrite(t, c, []byte("hello"))
	mustWrite(t, srv, []byte("world"))
	s.runFor(time.Second)
	if got, err := readAll(srv); string(got) != "hello" || err != unix.EAGAIN {
		t.Fatalf("server read %q %v", got, err)
	}
	if got, _ := readAll(c); string(got) != "world" {
		t.Fatalf("client read %q", got)
	}
	// Client closes first: it goes through FIN_WAIT to TIME_WAIT, the server
	// through CLOSE_WAIT and LAST_ACK.
	c.Shutdown(unix.SHUT_WR)
	s.runFor(time.Second)
	if st := c.getState(); st != stateFinWait2 {
		t.Fatalf("client state %d, want FIN_WAIT2", st)
	}
	if st := srv.getState(); st != stateCloseWait {
		t.Fatalf("server state %d, want CLOSE_WAIT", st)
	}
	if r, err := srv.Read(make([]byte, 10), netstack.ReadOptions{}); r.N != 0 || err != nil {
		t.Fatalf("server read at EOF: %d %v", r.N, err)
	}
	if ev := srv.Readiness(^uint32(0)); ev&unix.EPOLLRDHUP == 0 || ev&unix.EPOLLIN == 0 || ev&unix.EPOLLHUP != 0 {
		t.Fatalf("server readiness %#x", ev)
	}
	// Half-close: the server can still send.
	mustWrite(t, srv, []byte("late"))
	s.runFor(time.Second)
	if got, _ := readAll(c); string(got) != "late" {
		t.Fatalf("client read %q after half-close", got)
	}
	srv.Close()
	s.runFor(time.Second)
	if st := c.getState(); st != stateTimeWait {
		t.Fatalf("client state %d, want TIME_WAIT", st)
	}
	if st := srv.getState(); st != stateClosed {
		t.Fatalf("server state %d, want CLOSED", st)
	}
	s.runFor(59 * time.Second)
	if st := c.getState(); st != stateTimeWait {
		t.Fatalf("client left TIME_WAIT early: %d", st)
	}
	s.runFor(2 * time.Second)
	if st := c.getState(); st != stateClosed {
		t.Fatalf("client state %d after 2MSL, want CLOSED", st)
	}
	if ev := c.Readiness(^uint32(0)); ev&unix.EPOLLHUP == 0 {
		t.Fatalf("closed client readiness %#x", ev)
	}
}

func TestServerClosesFirst(t *testing.T) {
	s, a, b := twoHosts(t, 2)
	c, srv, _ := pair(t, s, a, b, 80)
	srv.Close()
	s.runFor(time.Second)
	if st := srv.getState(); st != stateFinWait2 {
		t.Fatalf("server state %d", st)
	}
	if r, err := c.Read(make([]byte, 1), netstack.ReadOptions{}); r.N != 0 || err != nil {
		t.Fatalf("client read: %v", err)
	}
	c.Close()
	s.runFor(time.Second)
	if st := srv.getState(); st != stateTimeWait {
		t.Fatalf("server state %d, want TIME_WAIT", st)
	}
	if st := c.getState(); st != stateClosed {
		t.Fatalf("client state %d", st)
	}
	s.runFor(61 * time.Second)
	if st := srv.getState(); st != stateClosed {
		t.Fatalf("server state %d", st)
	}
	if len(a.proto.conns)+len(b.proto.conns) != 0 {
		t.Fatalf("connections left in the demux: %d %d", len(a.proto.conns), len(b.proto.conns))
	}
}

func TestSimultaneousClose(t *testing.T) {
	s, a, b := twoHosts(t, 3)
	c, srv, _ := pair(t, s, a, b, 80)
	c.Close()
	srv.Close()
	s.runFor(time.Second)
	if st := c.getState(); st != stateTimeWait {
		t.Fatalf("client state %d, want TIME_WAIT", st)
	}
	if st := srv.getState(); st != stateTimeWait {
		t.Fatalf("server state %d, want TIME_WAIT", st)
	}
	s.runFor(61 * time.Second)
	if c.getState() != stateClosed || srv.getState() != stateClosed {
		t.Fatal("not closed after TIME_WAIT")
	}
}

func TestSimultaneousCloseStates(t *testing.T) {
	// Both FINs cross: each side sees the other's FIN before the ACK of its
	// own, so both pass through CLOSING.
	s, a, b := twoHosts(t, 4)
	c, srv, _ := pair(t, s, a, b, 80)
	var sawClosing [2]bool
	c.Shutdown(unix.SHUT_WR)
	srv.Shutdown(unix.SHUT_WR)
	for s.step() && s.now.Before(time.Unix(1_000_100, 0)) {
		if c.getState() == stateClosing {
			sawClosing[0] = true
		}
		if srv.getState() == stateClosing {
			sawClosing[1] = true
		}
		if c.getState() == stateTimeWait && srv.getState() == stateTimeWait {
			break
		}
	}
	if !sawClosing[0] || !sawClosing[1] {
		t.Fatalf("CLOSING not seen: %v", sawClosing)
	}
	if c.getState() != stateTimeWait || srv.getState() != stateTimeWait {
		t.Fatalf("states %d %d", c.getState(), srv.getState())
	}
}

func TestSimultaneousOpen(t *testing.T) {
	s, a, b := twoHosts(t, 5)
	ea, eb := a.newEP(t), b.newEP(t)
	if err := ea.Bind(netstack.FullAddress{Port: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := eb.Bind(netstack.FullAddress{Port: 2000}); err != nil {
		t.Fatal(err)
	}
	if err := ea.Connect(netstack.FullAddress{Addr: b.addr, Port: 2000}, false); err != unix.EINPROGRESS {
		t.Fatal(err)
	}
	if err := eb.Connect(netstack.FullAddress{Addr: a.addr, Port: 1000}, false); err != unix.EINPROGRESS {
		t.Fatal(err)
	}
	if err := ea.Connect(netstack.FullAddress{Addr: b.addr, Port: 2000}, false); err != unix.EALREADY {
		t.Fatalf("connect while connecting: %v", err)
	}
	s.runFor(time.Second)
	if ea.getState() != stateEstablished || eb.getState() != stateEstablished {
		t.Fatalf("states %d %d", ea.getState(), eb.getState())
	}
	mustWrite(t, ea, []byte("ping"))
	s.runFor(time.Second)
	if got, _ := readAll(eb); string(got) != "ping" {
		t.Fatalf("read %q", got)
	}
	if ev := ea.Readiness(unix.EPOLLOUT); ev != unix.EPOLLOUT {
		t.Fatalf("readiness %#x", ev)
	}
}

func TestConnectionRefused(t *testing.T) {
	s, a, b := twoHosts(t, 6)
	c := a.connect(t, b, 81)
	s.runFor(time.Second)
	if c.getState() != stateClosed {
		t.Fatalf("state %d", c.getState())
	}
	if ev := c.Readiness(^uint32(0)); ev&(unix.EPOLLERR|unix.EPOLLHUP) != unix.EPOLLERR|unix.EPOLLHUP {
		t.Fatalf("readiness %#x", ev)
	}
	if err := c.Connect(netstack.FullAddress{Addr: b.addr, Port: 81}, false); err != unix.ECONNREFUSED {
		t.Fatalf("second connect: %v, want ECONNREFUSED", err)
	}
	if b.proto.Stats().OutRsts.Load() != 1 {
		t.Fatalf("RSTs sent: %d", b.proto.Stats().OutRsts.Load())
	}
}

func TestConnectRefusedSOError(t *testing.T) {
	s, a, b := twoHosts(t, 6)
	c := a.connect(t, b, 81)
	s.runFor(time.Second)
	if err := c.sockErr(); err != unix.ECONNREFUSED {
		t.Fatalf("SO_ERROR %v", err)
	}
	if err := c.sockErr(); err != 0 {
		t.Fatalf("SO_ERROR not cleared: %v", err)
	}
}

func TestRSTOnCloseWithUnreadData(t *testing.T) {
	s, a, b := twoHosts(t, 7)
	c, srv, _ := pair(t, s, a, b, 80)
	mustWrite(t, c, []byte("unread"))
	s.runFor(time.Second)
	srv.Close()
	s.runFor(time.Second)
	if c.getState() != stateClosed {
		t.Fatalf("client state %d", c.getState())
	}
	if _, err := c.Read(make([]byte, 10), netstack.ReadOptions{}); err != unix.ECONNRESET {
		t.Fatalf("read: %v, want ECONNRESET", err)
	}
	if r, err := c.Read(make([]byte, 10), netstack.ReadOptions{}); err != nil || r.N != 0 {
		t.Fatalf("second read: %v", err)
	}
	if _, err := c.Write([]byte("x"), netstack.WriteOptions{}); err != unix.EPIPE {
		t.Fatalf("write: %v, want EPIPE", err)
	}
}

func TestLingerZeroAborts(t *testing.T) {
	s, a, b := twoHosts(t, 8)
	c, srv, _ := pair(t, s, a, b, 80)
	var l [8]byte
	binary.NativeEndian.PutUint32(l[:], 1)
	if err := c.SetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, l[:]); err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.runFor(time.Second)
	if c.getState() != stateClosed || srv.getState() != stateClosed {
		t.Fatalf("states %d %d", c.getState(), srv.getState())
	}
	if err := srv.sockErr(); err != unix.ECONNRESET {
		t.Fatalf("server SO_ERROR %v", err)
	}
}

func TestRSTChallenge(t *testing.T) {
	// An in-window RST with the wrong sequence number draws a challenge
	// ACK and does not reset (RFC 5961).
	s, a, b := twoHosts(t, 9)
	c, srv, _ := pair(t, s, a, b, 80)
	srv.mu.Lock()
	seg := &segment{src: b.addr, dst: a.addr, srcPort: 80, dstPort: c.tuple.localPort,
		seq: srv.sndNxt.add(100), flags: flagRST}
	srv.mu.Unlock()
	c.handleSegment(seg)
	if c.getState() != stateEstablished {
		t.Fatalf("state %d after an off-sequence RST", c.getState())
	}
	srv.mu.Lock()
	seg.seq = srv.sndNxt
	srv.mu.Unlock()
	c.handleSegment(seg)
	if c.getState() != stateClosed {
		t.Fatalf("state %d after an exact RST", c.getState())
	}
	_ = s
}

func TestBacklogOverflow(t *testing.T) {
	s, a, b := twoHosts(t, 10)
	l := b.listen(t, 80, 1)
	var clients []*endpoint
	for i := 0; i < 5; i++ {
		clients = append(clients, a.connect(t, b, 80))
	}
	s.runFor(500 * time.Millisecond)
	// Linux queues backlog+1 connections; the rest wait in SYN_SENT (their
	// SYNs were dropped) or in the listener's SYN queue.
	if n := len(l.acceptQ); n != 2 {
		t.Fatalf("accept queue %d, want 2", n)
	}
	if b.proto.Stats().ListenDrops.Load() == 0 {
		t.Fatal("no listen drops counted")
	}
	// Accepting makes room; the others get in through retransmission.
	accepted := 0
	s.runUntil(2*time.Minute, func() bool {
		if _, _, err := l.Accept(); err == nil {
			accepted++
		}
		return accepted == 5
	})
	for i, c := range clients {
		if c.getState() != stateEstablished {
			t.Errorf("client %d state %d", i, c.getState())
		}
	}
}

func TestSYNFloodBounded(t *testing.T) {
	s, a, b := twoHosts(t, 11)
	l := b.listen(t, 80, 8)
	for i := 0; i < 5000; i++ {
		seg := &segment{src: a.addr, dst: b.addr, srcPort: uint16(1000 + i), dstPort: 80, seq: seqnum(i), flags: flagSYN}
		l.handleListen(seg, tuple{b.addr, 80, a.addr, uint16(1000 + i)})
	}
	if n := len(l.synQ); n > synQueueMax(8) {
		t.Fatalf("SYN queue %d", n)
	}
	s.runFor(5 * time.Minute)
	if n := len(l.synQ); n != 0 {
		t.Fatalf("SYN queue %d after the retries ran out", n)
	}
}

func TestRTOBackoffAndTimeout(t *testing.T) {
	s, a, b := twoHosts(t, 12)
	c, _, _ := pair(t, s, a, b, 80)
	var sends []time.Time
	s.filter = func(from, to netipAddr, seg []byte) bool {
		if from == a.addr {
			sends = append(sends, s.now)
		}
		return false // the link is cut
	}
	mustWrite(t, c, []byte("x"))
	s.runUntil(time.Hour, func() bool { return c.getState() == stateClosed })
	if len(sends) < maxRetries+1 {
		t.Fatalf("%d transmissions", len(sends))
	}
	// Each retransmission waits about twice as long as the one before,
	// until the 120 s cap.
	for i := 2; i < maxRetries; i++ {
		prev, cur := sends[i-1].Sub(sends[i-2]), sends[i].Sub(sends[i-1])
		if cur < maxRTO && (cur < prev*19/10 || cur > prev*21/10) {
			t.Fatalf("interval %d: %v after %v", i, cur, prev)
		}
	}
	if err := c.sockErr(); err != unix.ETIMEDOUT {
		t.Fatalf("SO_ERROR %v, want ETIMEDOUT", err)
	}
}

func TestSYNTimeout(t *testing.T) {
	s, a, _ := twoHosts(t, 13)
	c := a.newEP(t)
	if err := c.Connect(netstack.FullAddress{Addr: mustAddr("10.0.0.99"), Port: 80}, false); err != unix.EINPROGRESS {
		t.Fatal(err)
	}
	start := s.now
	s.runUntil(10*time.Minute, func() bool { return c.getState() == stateClosed })
	// 1+2+4+8+16+32+64 seconds, as Linux with tcp_syn_retries=6.
	if d := s.now.Sub(start); d != 127*time.Second {
		t.Fatalf("gave up after %v", d)
	}
	if err := c.sockErr(); err != unix.ETIMEDOUT {
		t.Fatalf("SO_ERROR %v", err)
	}
}

func TestZeroWindowProbe(t *testing.T) {
	s, a, b := twoHosts(t, 14)
	l := b.listen(t, 80, 1)
	var buf [4]byte
	binary.NativeEndian.PutUint32(buf[:], 4096) // the receiver holds 8192 bytes
	if err := l.SetSockOpt(unix.SOL_SOCKET, unix.SO_RCVBUF, buf[:]); err != nil {
		t.Fatal(err)
	}
	c := a.connect(t, b, 80)
	s.runFor(time.Second)
	ep, _, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	srv := ep.(*endpoint)
	data := bytes.Repeat([]byte("z"), 100000)
	sent := 0
	for i := 0; i < 200 && sent < len(data); i++ {
		n, _ := c.Write(data[sent:], netstack.WriteOptions{})
		sent += n
		s.runFor(100 * time.Millisecond)
	}
	s.runFor(10 * time.Second)
	srv.mu.Lock()
	queued := srv.rcvQ.Len()
	srv.mu.Unlock()
	if queued > 8192 {
		t.Fatalf("receiver queued %d bytes beyond its buffer", queued)
	}
	c.mu.Lock()
	if c.sndWnd != 0 {
		t.Fatalf("sender window %d, want 0", c.sndWnd)
	}
	c.mu.Unlock()
	// Probes go out while the window stays shut, the connection survives.
	before := s.sent
	s.runFor(10 * time.Minute)
	if s.sent-before < 5 {
		t.Fatalf("only %d segments in 10 minutes of zero window", s.sent-before)
	}
	if c.getState() != stateEstablished {
		t.Fatalf("state %d", c.getState())
	}
	// Reading reopens the window; everything arrives.
	var got []byte
	s.runUntil(time.Hour, func() bool {
		d, _ := readAll(srv)
		got = append(got, d...)
		if sent < len(data) {
			n, _ := c.Write(data[sent:], netstack.WriteOptions{})
			sent += n
		}
		return len(got) == len(data)
	})
	if !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
}

func TestKeepalive(t *testing.T) {
	s, a, b := twoHosts(t, 15)
	c, _, _ := pair(t, s, a, b, 80)
	one := []byte{1, 0, 0, 0}
	c.SetSockOpt(unix.SOL_SOCKET, unix.SO_KEEPALIVE, one)
	set := func(name, v int) {
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], uint32(v))
		if err := c.SetSockOpt(unix.SOL_TCP, name, b[:]); err != nil {
			t.Fatal(err)
		}
	}
	set(unix.TCP_KEEPIDLE, 10)
	set(unix.TCP_KEEPINTVL, 2)
	set(unix.TCP_KEEPCNT, 3)
	// The peer answers probes: the connection lives on.
	s.runFor(time.Minute)
	if c.getState() != stateEstablished {
		t.Fatalf("state %d", c.getState())
	}
	probes := 0
	s.filter = func(from, to netipAddr, seg []byte) bool {
		if from == a.addr {
			probes++
		}
		return false
	}
	start := s.now
	s.runUntil(time.Minute, func() bool { return c.getState() == stateClosed })
	if d := s.now.Sub(start); d > 10*time.Second+3*2*time.Second+time.Second {
		t.Fatalf("took %v", d)
	}
	if probes != 4 { // three probes and the final RST
		t.Fatalf("%d segments", probes)
	}
	if err := c.sockErr(); err != unix.ETIMEDOUT {
		t.Fatalf("SO_ERROR %v", err)
	}
}

func TestNagleAndCork(t *testing.T) {
	s, a, b := twoHosts(t, 16)
	c, srv, _ := pair(t, s, a, b, 80)
	s.delay = 50 * time.Millisecond
	var segs int
	s.filter = func(from, to netipAddr, seg []byte) bool {
		if from == a.addr && len(seg) > 32 {
			segs++
		}
		return true
	}
	// Nagle: while the first small segment is unacknowledged, the others
	// wait and go together.
	for i := 0; i < 10; i++ {
		mustWrite(t, c, []byte("a"))
	}
	s.runFor(time.Second)
	if segs != 2 {
		t.Fatalf("%d data segments with Nagle, want 2", segs)
	}
	readAll(srv)
	// TCP_NODELAY: each write goes out.
	segs = 0
	c.SetSockOpt(unix.SOL_TCP, unix.TCP_NODELAY, []byte{1, 0, 0, 0})
	for i := 0; i < 10; i++ {
		mustWrite(t, c, []byte("b"))
	}
	s.runFor(time.Second)
	if segs != 10 {
		t.Fatalf("%d data segments with TCP_NODELAY, want 10", segs)
	}
	// TCP_CORK holds partial segments even with TCP_NODELAY, until
	// uncorked.
	segs = 0
	c.SetSockOpt(unix.SOL_TCP, unix.TCP_CORK, []byte{1, 0, 0, 0})
	for i := 0; i < 10; i++ {
		mustWrite(t, c, []byte("c"))
	}
	s.runFor(time.Second)
	if segs != 0 {
		t.Fatalf("%d segments while corked", segs)
	}
	c.SetSockOpt(unix.SOL_TCP, unix.TCP_CORK, []byte{0, 0, 0, 0})
	s.runFor(time.Second)
	if segs != 1 {
		t.Fatalf("%d segments after uncork, want 1", segs)
	}
	// MSG_MORE likewise.
	segs = 0
	c.Write([]byte("d"), netstack.WriteOptions{More: true})
	c.Write([]byte("d"), netstack.WriteOptions{More: true})
	s.runFor(time.Second)
	if segs != 0 {
		t.Fatalf("%d segments with MSG_MORE", segs)
	}
	c.Write([]byte("d"), netstack.WriteOptions{})
	s.runFor(time.Second)
	if segs != 1 {
		t.Fatalf("%d segments after the last write, want 1", segs)
	}
	got, _ := readAll(srv)
	if string(got) != "bbbbbbbbbbccccccccccddd" {
		t.Fatalf("read %q", got)
	}
}

func mustAddr(s string) netipAddr { return netipMustParse(s) }
