package tcp

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// Tests of rules the socket-level C tests (test/syscalls/tcp_*.c,
// inet_*.c) found missing.

func ioctl(t *testing.T, e *endpoint, cmd uint32) int {
	t.Helper()
	v, err := e.Ioctl(cmd)
	if err != nil {
		t.Fatalf("ioctl %#x: %v", cmd, err)
	}
	return v
}

func readStr(t *testing.T, e *endpoint, n int, opts netstack.ReadOptions) string {
	t.Helper()
	buf := make([]byte, n)
	r, err := e.Read(buf, opts)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(buf[:r.N])
}

// The urgent byte stays in the stream as on Linux: a read stops at the
// mark, SIOCATMARK reports it, FIONREAD counts up to it, and the next read
// skips the byte.
func TestUrgentMark(t *testing.T) {
	s, a, b := twoHosts(t, 31)
	c, srv, _ := pair(t, s, a, b, 80)
	c.SetSockOpt(unix.SOL_TCP, unix.TCP_NODELAY, []byte{1, 0, 0, 0})
	if _, err := c.Write([]byte("abc"), netstack.WriteOptions{OOB: true}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, c, []byte("de"))
	s.runFor(time.Second)
	if got := ioctl(t, srv, unix.SIOCATMARK); got != 0 {
		t.Fatalf("SIOCATMARK before the mark = %d", got)
	}
	if got := ioctl(t, srv, unix.SIOCINQ); got != 2 {
		t.Fatalf("SIOCINQ before the mark = %d, want 2", got)
	}
	if got := readStr(t, srv, 8, netstack.ReadOptions{}); got != "ab" {
		t.Fatalf("read = %q, want the bytes before the mark", got)
	}
	if got := ioctl(t, srv, unix.SIOCATMARK); got != 1 {
		t.Fatalf("SIOCATMARK at the mark = %d", got)
	}
	if got := readStr(t, srv, 8, netstack.ReadOptions{OOB: true}); got != "c" {
		t.Fatalf("MSG_OOB read = %q", got)
	}
	if got := readStr(t, srv, 8, netstack.ReadOptions{}); got != "de" {
		t.Fatalf("read after the mark = %q, want the urgent byte skipped", got)
	}
	if _, err := srv.Read(make([]byte, 1), netstack.ReadOptions{OOB: true}); err != unix.EINVAL {
		t.Fatalf("MSG_OOB after the mark: %v, want EINVAL", err)
	}

	// SO_OOBINLINE: the byte is read in line, the read still stops at it.
	srv.SetSockOpt(unix.SOL_SOCKET, unix.SO_OOBINLINE, []byte{1, 0, 0, 0})
	if _, err := c.Write([]byte("xyz"), netstack.WriteOptions{OOB: true}); err != nil {
		t.Fatal(err)
	}
	s.runFor(time.Second)
	if srv.Readiness(unix.EPOLLPRI) == 0 {
		t.Fatalf("no EPOLLPRI with SO_OOBINLINE")
	}
	if got := readStr(t, srv, 8, netstack.ReadOptions{}); got != "xy" {
		t.Fatalf("inline read = %q", got)
	}
	if got := readStr(t, srv, 8, netstack.ReadOptions{}); got != "z" {
		t.Fatalf("inline read at the mark = %q", got)
	}
}

// SIOCINQ, SIOCOUTQ and SIOCOUTQNSD as tcp_ioctl: EINVAL on a listener,
// SIOCOUTQ counts unacknowledged bytes.
func TestQueueIoctls(t *testing.T) {
	s, a, b := twoHosts(t, 32)
	c, srv, l := pair(t, s, a, b, 80)
	for _, cmd := range []uint32{unix.SIOCINQ, unix.SIOCOUTQ, unix.SIOCOUTQNSD} {
		if _, err := l.Ioctl(cmd); err != unix.EINVAL {
			t.Fatalf("ioctl %#x on a listener: %v, want EINVAL", cmd, err)
		}
	}
	if _, err := c.Ioctl(0x1234); err != unix.ENOTTY {
		t.Fatalf("unknown ioctl: %v, want ENOTTY", err)
	}
	s.loss = 1 // nothing gets acknowledged
	mustWrite(t, c, []byte("hello"))
	if got := ioctl(t, c, unix.SIOCOUTQ); got != 5 {
		t.Fatalf("SIOCOUTQ = %d, want 5", got)
	}
	if got := ioctl(t, c, unix.SIOCOUTQNSD); got != 0 {
		t.Fatalf("SIOCOUTQNSD = %d, want 0 (all sent)", got)
	}
	s.loss = 0
	s.runFor(5 * time.Second)
	if got := ioctl(t, c, unix.SIOCOUTQ); got != 0 {
		t.Fatalf("SIOCOUTQ after the ACK = %d", got)
	}
	if got := ioctl(t, srv, unix.SIOCINQ); got != 5 {
		t.Fatalf("SIOCINQ = %d, want 5", got)
	}
}

// A connect that failed leaves the socket ready for another (Linux's
// tcp_disconnect): the shutdown flags of the failure must not make the new
// attempt look hung up.
func TestConnectAgainAfterRefusal(t *testing.T) {
	s, a, b := twoHosts(t, 33)
	c := a.connect(t, b, 80)
	s.runUntil(10*time.Second, func() bool { return c.getState() == stateClosed })
	if err := c.Connect(netstack.FullAddress{Addr: b.addr, Port: 80}, false); err != unix.ECONNREFUSED {
		t.Fatalf("connect after the refusal: %v, want ECONNREFUSED", err)
	}
	l := b.listen(t, 80, 1)
	if err := c.Connect(netstack.FullAddress{Addr: b.addr, Port: 80}, false); err != unix.EINPROGRESS {
		t.Fatalf("retry: %v, want EINPROGRESS", err)
	}
	if ev := c.Readiness(unix.EPOLLHUP | unix.EPOLLOUT | unix.EPOLLERR); ev != 0 {
		t.Fatalf("connecting socket ready %#x", ev)
	}
	s.runUntil(10*time.Second, func() bool { return c.getState() == stateEstablished })
	if err := c.Connect(netstack.FullAddress{Addr: b.addr, Port: 80}, false); err != nil {
		t.Fatalf("connect after establishment: %v", err)
	}
	if err := c.Connect(netstack.FullAddress{Addr: b.addr, Port: 80}, false); err != unix.EISCONN {
		t.Fatalf("connect when connected: %v, want EISCONN", err)
	}
	_ = l
}

// SO_RCVLOWAT holds EPOLLIN back; TCP_NOTSENT_LOWAT holds writes and
// EPOLLOUT back while that many bytes are unsent.
func TestLowWatermarks(t *testing.T) {
	s, a, b := twoHosts(t, 34)
	c, srv, _ := pair(t, s, a, b, 80)
	setOptInt(srv, unix.SOL_SOCKET, unix.SO_RCVLOWAT, 10)
	mustWrite(t, c, []byte("12345"))
	s.runFor(time.Second)
	if srv.Readiness(unix.EPOLLIN) != 0 {
		t.Fatalf("readable with 5 of SO_RCVLOWAT 10 bytes")
	}
	mustWrite(t, c, []byte("67890"))
	s.runFor(time.Second)
	if srv.Readiness(unix.EPOLLIN) == 0 {
		t.Fatalf("not readable with SO_RCVLOWAT bytes queued")
	}

	setOptInt(c, unix.SOL_TCP, unix.TCP_NOTSENT_LOWAT, 100)
	setOptInt(c, unix.SOL_TCP, unix.TCP_CORK, 1)
	mustWrite(t, c, make([]byte, 100))
	if c.Readiness(unix.EPOLLOUT) != 0 {
		t.Fatalf("writable with TCP_NOTSENT_LOWAT bytes unsent")
	}
	if _, err := c.Write([]byte("x"), netstack.WriteOptions{}); err != unix.EAGAIN {
		t.Fatalf("write over TCP_NOTSENT_LOWAT: %v, want EAGAIN", err)
	}
	setOptInt(c, unix.SOL_TCP, unix.TCP_CORK, 0)
	if c.Readiness(unix.EPOLLOUT) == 0 {
		t.Fatalf("not writable once sent")
	}
}

// Option encodings Linux has: IP_TOS keeps the ECN bits, TCP_LINGER2 in
// seconds with tcp_fin_timeout as default, SO_RCVLOWAT 0 is 1, IP_MTU
// needs a connection.
func TestLinuxOptionRules(t *testing.T) {
	s, a, b := twoHosts(t, 35)
	e := a.newEP(t)
	setOptInt(e, unix.SOL_IP, unix.IP_TOS, 0x13)
	if got := getOptInt(t, e, unix.SOL_IP, unix.IP_TOS); got != 0x10 {
		t.Fatalf("IP_TOS = %#x, want 0x10", got)
	}
	if got := getOptInt(t, e, unix.SOL_TCP, unix.TCP_LINGER2); got != 60 {
		t.Fatalf("TCP_LINGER2 default = %d, want tcp_fin_timeout 60", got)
	}
	setOptInt(e, unix.SOL_TCP, unix.TCP_LINGER2, 1000)
	if got := getOptInt(t, e, unix.SOL_TCP, unix.TCP_LINGER2); got != 120 {
		t.Fatalf("TCP_LINGER2 = %d, want the cap 120", got)
	}
	if got := getOptInt(t, e, unix.SOL_SOCKET, unix.SO_RCVLOWAT); got != 1 {
		t.Fatalf("SO_RCVLOWAT default = %d", got)
	}
	setOptInt(e, unix.SOL_SOCKET, unix.SO_RCVLOWAT, 0)
	if got := getOptInt(t, e, unix.SOL_SOCKET, unix.SO_RCVLOWAT); got != 1 {
		t.Fatalf("SO_RCVLOWAT 0 reads %d, want 1", got)
	}
	var buf [4]byte
	if _, err := e.GetSockOpt(unix.SOL_IP, unix.IP_MTU, buf[:]); err != unix.ENOTCONN {
		t.Fatalf("IP_MTU unconnected: %v, want ENOTCONN", err)
	}
	if n, err := e.GetSockOpt(unix.SOL_IP, unix.IP_OPTIONS, buf[:]); n != 0 || err != nil {
		t.Fatalf("IP_OPTIONS = %d, %v; want empty", n, err)
	}
	c, _, _ := pair(t, s, a, b, 80)
	if got := getOptInt(t, c, unix.SOL_IP, unix.IP_MTU); got != 1500 {
		t.Fatalf("IP_MTU = %d, want the link's 1500", got)
	}
}

// SO_REUSEADDR lets sockets share a port but only one listen; a dual-stack
// [::] holds the port for IPv4 too, a v6-only one does not.
func TestPortRulesOnARealStack(t *testing.T) {
	st := netstack.NewLoopbackStack()
	p := NewProtocol(st)
	st.RegisterTransport(p)
	lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	ep := func(v6 bool, opts ...int) netstack.Endpoint {
		e, _ := p.NewEndpoint(v6)
		for _, o := range opts {
			if o == unix.IPV6_V6ONLY {
				e.SetSockOpt(unix.SOL_IPV6, o, []byte{1, 0, 0, 0})
			} else {
				e.SetSockOpt(unix.SOL_SOCKET, o, []byte{1, 0, 0, 0})
			}
		}
		t.Cleanup(e.Close)
		return e
	}
	x, y := ep(false, unix.SO_REUSEADDR), ep(false, unix.SO_REUSEADDR)
	if err := x.Bind(netstack.FullAddress{Addr: lo}); err != nil {
		t.Fatal(err)
	}
	xa, _ := x.LocalAddress()
	if err := y.Bind(xa); err != nil {
		t.Fatalf("SO_REUSEADDR bind: %v", err)
	}
	if err := x.Listen(1); err != nil {
		t.Fatal(err)
	}
	if err := y.Listen(1); err != unix.EADDRINUSE {
		t.Fatalf("second listener: %v, want EADDRINUSE", err)
	}
	if err := ep(false, unix.SO_REUSEADDR).Bind(xa); err != unix.EADDRINUSE {
		t.Fatalf("SO_REUSEADDR bind of a listener's port: %v, want EADDRINUSE", err)
	}

	d := ep(true)
	if err := d.Bind(netstack.FullAddress{Addr: netip.IPv6Unspecified()}); err != nil {
		t.Fatal(err)
	}
	da, _ := d.LocalAddress()
	if err := ep(false).Bind(netstack.FullAddress{Port: da.Port}); err != unix.EADDRINUSE {
		t.Fatalf("0.0.0.0 on a dual-stack [::] port: %v, want EADDRINUSE", err)
	}
	v6only := ep(true, unix.IPV6_V6ONLY)
	if err := v6only.Bind(netstack.FullAddress{Addr: netip.IPv6Unspecified()}); err != nil {
		t.Fatal(err)
	}
	va, _ := v6only.LocalAddress()
	if err := ep(false).Bind(netstack.FullAddress{Port: va.Port}); err != nil {
		t.Fatalf("0.0.0.0 on a v6-only [::] port: %v", err)
	}
}

// SO_RCVLOWAT set before SO_RCVBUF shrinks the buffer must not hold
// EPOLLIN back for ever: the peer can never send more than the window.
func TestRcvLowatAfterShrink(t *testing.T) {
	s, a, b := twoHosts(t, 36)
	c, srv, _ := pair(t, s, a, b, 80)
	setOptInt(srv, unix.SOL_SOCKET, unix.SO_RCVLOWAT, 100000)
	setOptInt(srv, unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
	c.Write(make([]byte, 200000), netstack.WriteOptions{})
	s.runFor(5 * time.Second)
	if srv.Readiness(unix.EPOLLIN) == 0 {
		t.Fatalf("not readable with %d bytes queued in a %d-byte buffer", srv.rcvQ.Len(), srv.rcvBufSize)
	}
}

// A lone urgent byte left at the front (read with MSG_OOB, or peeked past)
// must not hide the end of the stream.
func TestUrgentByteThenEOF(t *testing.T) {
	s, a, b := twoHosts(t, 37)
	c, srv, _ := pair(t, s, a, b, 80)
	if _, err := c.Write([]byte("!"), netstack.WriteOptions{OOB: true}); err != nil {
		t.Fatal(err)
	}
	s.runFor(time.Second)
	if _, err := srv.Read(make([]byte, 4), netstack.ReadOptions{Peek: true}); err != unix.EAGAIN {
		t.Fatalf("peek at a lone urgent byte: %v, want EAGAIN", err)
	}
	c.Shutdown(unix.SHUT_WR)
	s.runFor(time.Second)
	if r, err := srv.Read(make([]byte, 4), netstack.ReadOptions{Peek: true}); err != nil || r.N != 0 {
		t.Fatalf("peek after FIN: %d, %v; want end of file", r.N, err)
	}
	if r, err := srv.Read(make([]byte, 4), netstack.ReadOptions{}); err != nil || r.N != 0 {
		t.Fatalf("read after FIN: %d, %v; want end of file", r.N, err)
	}
}
