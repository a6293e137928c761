package tcp

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

func getOptInt(t *testing.T, e *endpoint, level, name int) int {
	t.Helper()
	var b [4]byte
	n, err := e.GetSockOpt(level, name, b[:])
	if err != nil || n != 4 {
		t.Fatalf("getsockopt(%d, %d): %d %v", level, name, n, err)
	}
	v, _ := getInt(b[:])
	return v
}

func setOptInt(e *endpoint, level, name, v int) error {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(int32(v)))
	return e.SetSockOpt(level, name, b[:])
}

func TestSocketOptions(t *testing.T) {
	s, a, b := twoHosts(t, 20)
	e := a.newEP(t)
	if err := setOptInt(e, unix.SOL_SOCKET, unix.SO_RCVBUF, 10000); err != nil {
		t.Fatal(err)
	}
	if v := getOptInt(t, e, unix.SOL_SOCKET, unix.SO_RCVBUF); v != 20000 {
		t.Fatalf("SO_RCVBUF %d, want the doubled 20000", v)
	}
	setOptInt(e, unix.SOL_SOCKET, unix.SO_SNDBUF, 1)
	if v := getOptInt(t, e, unix.SOL_SOCKET, unix.SO_SNDBUF); v != minSndBuf {
		t.Fatalf("SO_SNDBUF %d", v)
	}
	setOptInt(e, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<30)
	if v := getOptInt(t, e, unix.SOL_SOCKET, unix.SO_SNDBUF); v != 2*maxBufSysctl {
		t.Fatalf("SO_SNDBUF %d, want the capped %d", v, 2*maxBufSysctl)
	}
	for _, c := range []struct{ name, bad int }{
		{unix.TCP_KEEPIDLE, 0}, {unix.TCP_KEEPINTVL, 40000}, {unix.TCP_KEEPCNT, 128}, {unix.TCP_MAXSEG, 10}, {unix.TCP_USER_TIMEOUT, -1},
	} {
		if err := setOptInt(e, unix.SOL_TCP, c.name, c.bad); err != unix.EINVAL {
			t.Errorf("option %d = %d: %v, want EINVAL", c.name, c.bad, err)
		}
	}
	if err := e.SetSockOpt(unix.SOL_TCP, unix.TCP_NODELAY, []byte{1}); err != unix.EINVAL {
		t.Errorf("short optval: %v", err)
	}
	for _, name := range []int{unix.SO_TYPE, unix.SO_DOMAIN, unix.SO_PROTOCOL, unix.SO_RCVTIMEO} {
		if _, err := e.GetSockOpt(unix.SOL_SOCKET, name, make([]byte, 16)); err != unix.ENOPROTOOPT {
			t.Errorf("getsockopt %d: %v, want ENOPROTOOPT (the socket layer's)", name, err)
		}
	}
	if v := getOptInt(t, e, unix.SOL_TCP, unix.TCP_MAXSEG); v != defaultMSS {
		t.Errorf("TCP_MAXSEG before connect %d", v)
	}
	var name [16]byte
	if n, err := e.GetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, name[:]); err != nil || string(name[:5]) != "cubic" || n != 16 {
		t.Errorf("TCP_CONGESTION %q %v", name, err)
	}
	if err := e.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("bbr")); err != unix.ENOENT {
		t.Errorf("unknown congestion control: %v", err)
	}
	if err := e.SetSockOpt(unix.SOL_TCP, unix.TCP_CONGESTION, []byte("reno\x00")); err != nil || e.cc.name() != "reno" {
		t.Errorf("set reno: %v", err)
	}

	// A connected socket: TCP_INFO, TCP_MAXSEG, SO_ACCEPTCONN.
	c, srv, l := pair(t, s, a, b, 80)
	if getOptInt(t, l, unix.SOL_SOCKET, unix.SO_ACCEPTCONN) != 1 || getOptInt(t, c, unix.SOL_SOCKET, unix.SO_ACCEPTCONN) != 0 {
		t.Error("SO_ACCEPTCONN")
	}
	mustWrite(t, c, make([]byte, 10000))
	s.runFor(time.Second)
	if v := getOptInt(t, c, unix.SOL_TCP, unix.TCP_MAXSEG); v != 1500-40-12 {
		t.Errorf("TCP_MAXSEG %d", v)
	}
	var info [tcpInfoSize + 20]byte
	n, err := c.GetSockOpt(unix.SOL_TCP, unix.TCP_INFO, info[:])
	if err != nil || n != tcpInfoSize {
		t.Fatalf("TCP_INFO: %d %v", n, err)
	}
	le := binary.NativeEndian
	if info[0] != stateEstablished || le.Uint32(info[16:]) != 1448 || le.Uint32(info[8:]) < 200000 || le.Uint32(info[68:]) == 0 || info[5]&7 != 7 {
		t.Errorf("tcp_info: state %d snd_mss %d rto %d rtt %d options %#x", info[0], le.Uint32(info[16:]), le.Uint32(info[8:]), le.Uint32(info[68:]), info[5])
	}
	if got, _ := readAll(srv); len(got) != 10000 {
		t.Errorf("read %d", len(got))
	}
}

func TestUrgentData(t *testing.T) {
	s, a, b := twoHosts(t, 21)
	c, srv, _ := pair(t, s, a, b, 80)
	c.SetSockOpt(unix.SOL_TCP, unix.TCP_NODELAY, []byte{1, 0, 0, 0})
	mustWrite(t, c, []byte("abc"))
	if _, err := c.Write([]byte("!"), netstack.WriteOptions{OOB: true}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, c, []byte("def"))
	s.runFor(time.Second)
	if ev := srv.Readiness(unix.EPOLLPRI); ev != unix.EPOLLPRI {
		t.Fatalf("no EPOLLPRI: %#x", ev)
	}
	buf := make([]byte, 10)
	r, err := srv.Read(buf, netstack.ReadOptions{OOB: true})
	if err != nil || r.N != 1 || buf[0] != '!' {
		t.Fatalf("MSG_OOB read: %d %q %v", r.N, buf[:r.N], err)
	}
	if _, err := srv.Read(buf, netstack.ReadOptions{OOB: true}); err != unix.EINVAL {
		t.Fatalf("second MSG_OOB read: %v, want EINVAL", err)
	}
	if got, _ := readAll(srv); string(got) != "abcdef" {
		t.Fatalf("stream %q, want the urgent byte removed", got)
	}
}

func TestShutdownRead(t *testing.T) {
	s, a, b := twoHosts(t, 22)
	c, srv, _ := pair(t, s, a, b, 80)
	if err := srv.Shutdown(unix.SHUT_RD); err != nil {
		t.Fatal(err)
	}
	if r, err := srv.Read(make([]byte, 4), netstack.ReadOptions{}); err != nil || r.N != 0 {
		t.Fatalf("read after SHUT_RD: %d %v", r.N, err)
	}
	if ev := srv.Readiness(^uint32(0)); ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLOUT) != unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLOUT || ev&unix.EPOLLHUP != 0 {
		t.Fatalf("readiness %#x", ev)
	}
	mustWrite(t, srv, []byte("still"))
	s.runFor(time.Second)
	if got, _ := readAll(c); string(got) != "still" {
		t.Fatalf("read %q", got)
	}
	if err := a.newEP(t).Shutdown(unix.SHUT_WR); err != unix.ENOTCONN {
		t.Fatalf("shutdown unconnected: %v", err)
	}
	if _, err := a.newEP(t).Write([]byte("x"), netstack.WriteOptions{}); err != unix.EPIPE {
		t.Fatalf("write unconnected: %v", err)
	}
	if _, err := a.newEP(t).Read(make([]byte, 1), netstack.ReadOptions{}); err != unix.ENOTCONN {
		t.Fatalf("read unconnected: %v", err)
	}
}

func TestICMPErrors(t *testing.T) {
	s, a, b := twoHosts(t, 23)
	c := a.connect(t, mustHost(s, "10.0.0.99"), 80)
	quoted := make([]byte, 8)
	binary.BigEndian.PutUint16(quoted, c.tuple.localPort)
	binary.BigEndian.PutUint16(quoted[2:], 80)
	binary.BigEndian.PutUint32(quoted[4:], uint32(c.iss))
	a.proto.HandleError(a.addr, mustAddr("10.0.0.99"), quoted, unix.EHOSTUNREACH, 0)
	if c.getState() != stateClosed || c.sockErr() != unix.EHOSTUNREACH {
		t.Fatalf("state %d", c.getState())
	}
	// Path MTU: the MSS shrinks and the data is resent in smaller segments.
	x, srv, _ := pair(t, s, a, b, 81)
	mustWrite(t, x, make([]byte, 5000))
	binary.BigEndian.PutUint16(quoted, x.tuple.localPort)
	binary.BigEndian.PutUint16(quoted[2:], 81)
	binary.BigEndian.PutUint32(quoted[4:], uint32(x.sndUna))
	a.proto.HandleError(a.addr, b.addr, quoted, unix.EMSGSIZE, 1000)
	if v := getOptInt(t, x, unix.SOL_TCP, unix.TCP_MAXSEG); v != 1000-40-12 {
		t.Fatalf("MSS after EMSGSIZE %d", v)
	}
	s.runFor(time.Second)
	if got, _ := readAll(srv); len(got) != 5000 {
		t.Fatalf("read %d", len(got))
	}
}

func mustHost(s *sim, addr string) *host { return &host{s: s, addr: mustAddr(addr)} }

func TestHostileSegments(t *testing.T) {
	s, a, b := twoHosts(t, 24)
	c, srv, _ := pair(t, s, a, b, 80)
	_ = srv
	// Garbage of every length, bad checksums, bogus options: dropped.
	for n := 0; n < 80; n++ {
		p := make([]byte, n)
		s.rng.Read(p)
		a.proto.HandlePacket(netstack.Packet{Src: b.addr, Dst: a.addr, Payload: p})
	}
	if a.proto.Stats().InErrs.Load() == 0 {
		t.Fatal("no errors counted")
	}
	// Out-of-window data far ahead: dropped, nothing queued.
	c.mu.Lock()
	seq := c.rcvNxt.add(1 << 30)
	c.mu.Unlock()
	c.handleSegment(&segment{src: b.addr, dst: a.addr, srcPort: 80, dstPort: c.tuple.localPort, seq: seq, ack: c.sndUna, flags: flagACK, payload: make([]byte, 1000)})
	c.mu.Lock()
	if c.ooo.bytes != 0 || c.rcvQ.Len() != 0 {
		t.Fatal("out-of-window data kept")
	}
	// Tiny segments into every hole of the window: the queue stays bounded.
	for i := 0; i < 5000; i++ {
		c.mu.Unlock()
		c.handleSegment(&segment{src: b.addr, dst: a.addr, srcPort: 80, dstPort: c.tuple.localPort, seq: c.rcvNxt.add(2*i + 1), ack: c.sndUna, flags: flagACK, payload: []byte{1}})
		c.mu.Lock()
	}
	if len(c.ooo.segs) > maxOOOSegs {
		t.Fatalf("%d out-of-order segments", len(c.ooo.segs))
	}
	c.mu.Unlock()
	if c.getState() != stateEstablished {
		t.Fatal("connection lost")
	}
}
