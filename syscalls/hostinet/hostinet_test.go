package hostinet

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

func TestSockaddrRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		family int
		a      netstack.FullAddress
	}{
		{unix.AF_INET, netstack.FullAddress{Addr: netip.MustParseAddr("127.0.0.1"), Port: 8080}},
		{unix.AF_INET6, netstack.FullAddress{Addr: netip.MustParseAddr("::1"), Port: 443}},
		{unix.AF_INET6, netstack.FullAddress{Addr: netip.MustParseAddr("127.0.0.1"), Port: 1}},
	} {
		b := encodeSockaddr(tc.family, tc.a)
		if got := int(b[0]); got != tc.family {
			t.Errorf("%v: family %d, want %d", tc.a, got, tc.family)
		}
		if got := decodeSockaddr(b); got != tc.a {
			t.Errorf("%v: decoded %v", tc.a, got)
		}
	}
	// An IPv4 address on an AF_INET6 socket is v4-mapped for the host.
	b := encodeSockaddr(unix.AF_INET6, netstack.FullAddress{Addr: netip.MustParseAddr("10.1.2.3")})
	if got := netip.AddrFrom16([16]byte(b[8:24])); got != netip.MustParseAddr("::ffff:10.1.2.3") {
		t.Errorf("v4 on AF_INET6: %v, want ::ffff:10.1.2.3", got)
	}
	if got := decodeSockaddr([]byte{unix.AF_UNIX, 0, '/'}); got != (netstack.FullAddress{}) {
		t.Errorf("AF_UNIX decoded to %v, want zero", got)
	}
}

func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.SizeofCmsghdr, unix.CmsgSpace(len(data)))
	binary.LittleEndian.PutUint64(b, uint64(unix.SizeofCmsghdr+len(data)))
	binary.LittleEndian.PutUint32(b[8:], uint32(level))
	binary.LittleEndian.PutUint32(b[12:], uint32(typ))
	b = append(b, data...)
	return b[:cap(b)]
}

func TestParseControl(t *testing.T) {
	le := binary.LittleEndian
	ts := le.AppendUint64(le.AppendUint64(nil, 5), 7)
	var b []byte
	b = append(b, cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMP, ts)...)
	b = append(b, cmsg(unix.SOL_IP, unix.IP_TTL, le.AppendUint32(nil, 64))...)
	b = append(b, cmsg(unix.SOL_IP, unix.IP_PKTINFO, []byte{2, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1})...)
	b = append(b, cmsg(unix.SOL_IP, unix.IP_TTL, []byte{1})...) // wrong size: dropped
	var c netstack.ControlMessages
	parseControl(b, &c)
	if !c.HasTimestamp || c.TimestampNS != 5e9+7e3 {
		t.Errorf("timestamp %v %d", c.HasTimestamp, c.TimestampNS)
	}
	if !c.HasTTL || c.TTL != 64 {
		t.Errorf("ttl %v %d, want 64 (a malformed second one is dropped)", c.HasTTL, c.TTL)
	}
	if !c.HasPktInfo || c.PktInfoIfIndex != 2 || c.PktInfoDst != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("pktinfo %+v", c)
	}
	// IP_RECVERR: the fields and an AF_INET offender; a short one or an
	// offender of another family keeps only what is whole.
	ee := []byte{111, 0, 0, 0, 2, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	off := []byte{unix.AF_INET, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	var e netstack.ControlMessages
	parseControl(cmsg(unix.SOL_IP, unix.IP_RECVERR, append(append([]byte{}, ee...), off...)), &e)
	want := netstack.ExtendedError{Errno: 111, Origin: 2, Type: 3, Code: 3, Offender: netip.MustParseAddr("127.0.0.1")}
	if !e.HasExtErr || e.ExtErr != want {
		t.Errorf("IP_RECVERR parsed as %v %+v, want %+v", e.HasExtErr, e.ExtErr, want)
	}
	e = netstack.ControlMessages{}
	parseControl(cmsg(unix.SOL_IPV6, unix.IPV6_RECVERR, append(append([]byte{}, ee...), unix.AF_INET6, 0, 1)), &e)
	if want.Offender = (netip.Addr{}); !e.HasExtErr || e.ExtErr != want {
		t.Errorf("IPV6_RECVERR with a short offender parsed as %v %+v, want %+v", e.HasExtErr, e.ExtErr, want)
	}
	e = netstack.ControlMessages{}
	parseControl(cmsg(unix.SOL_IP, unix.IP_RECVERR, ee[:15]), &e)
	if e.HasExtErr {
		t.Errorf("a short IP_RECVERR was kept: %+v", e.ExtErr)
	}
	// Bogus lengths end parsing; nothing panics.
	for _, bad := range [][]byte{
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0},
		{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{1, 2, 3},
	} {
		var c netstack.ControlMessages
		parseControl(bad, &c)
		if c != (netstack.ControlMessages{}) {
			t.Errorf("parseControl(%v) = %+v, want nothing", bad, c)
		}
	}
}

func TestRefusedOptions(t *testing.T) {
	var logged []string
	e := &Endpoint{fd: -1, logf: func(f string, a ...any) { logged = append(logged, f) }}
	for _, o := range []optKey{
		{unix.SOL_SOCKET, unix.SO_ATTACH_FILTER}, // a pointer the host would follow
		{unix.SOL_SOCKET, unix.SO_MARK},
		{unix.SOL_IP, unix.IP_HDRINCL},
		{unix.SOL_SOCKET, 9999},
	} {
		if err := e.SetSockOpt(o.level, o.name, make([]byte, 16)); err != unix.ENOPROTOOPT {
			t.Errorf("SetSockOpt(%d, %d) = %v, want ENOPROTOOPT", o.level, o.name, err)
		}
	}
	if _, err := e.GetSockOpt(unix.SOL_IP, unix.IP_ADD_MEMBERSHIP, make([]byte, 8)); err != unix.ENOPROTOOPT {
		t.Errorf("GetSockOpt(IP_ADD_MEMBERSHIP) = %v, want ENOPROTOOPT (set only)", err)
	}
	n := len(logged)
	e.SetSockOpt(unix.SOL_SOCKET, unix.SO_MARK, nil)
	if len(logged) != n {
		t.Errorf("a refused option was logged twice")
	}
	if err := e.SetSockOpt(unix.SOL_TCP, unix.TCP_NODELAY, make([]byte, 4)); err != unix.EBADF {
		t.Errorf("an allowed option on a closed endpoint = %v, want EBADF from the host call", err)
	}
}

// privateLoopback moves the calling goroutine's thread into a new network
// namespace with lo up, so the test's traffic never reaches the host's
// namespace; the thread is discarded at the end (never unlocked).
func privateLoopback(t *testing.T) {
	t.Helper()
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Skipf("no private network namespace (%v): needs root", err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		t.Fatal(err)
	}
	ifr.SetUint16(unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		t.Fatalf("bringing lo up: %v", err)
	}
}

// waitFor waits until e's notify reports one of mask, or fails.
func waitFor(t *testing.T, e *Endpoint, ch chan uint32, mask uint32) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for e.Readiness(mask) == 0 {
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no event %#x", mask)
		}
	}
}

func notifier(e *Endpoint) chan uint32 {
	ch := make(chan uint32, 1)
	e.SetNotify(func(ev uint32) {
		select {
		case ch <- ev:
		default:
		}
	})
	return ch
}

func TestTCPOverPrivateLoopback(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		privateLoopback(t)
		lo := netstack.FullAddress{Addr: netip.MustParseAddr("127.0.0.1")}
		l, err := NewEndpoint(unix.AF_INET, unix.SOCK_STREAM, 0, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer l.Close()
		if err := l.Bind(lo); err != nil {
			t.Error(err)
			return
		}
		l.Listen(1)
		la, _ := l.LocalAddress()
		if la.Port == 0 {
			t.Errorf("bound port 0")
		}
		lch := notifier(l)
		if _, _, err := l.Accept(); err != unix.EAGAIN {
			t.Errorf("Accept with nothing pending = %v, want EAGAIN", err)
		}

		c, _ := NewEndpoint(unix.AF_INET6, unix.SOCK_STREAM, 0, nil)
		defer c.Close()
		cch := notifier(c)
		if err := c.Connect(la, false); err != unix.EINPROGRESS && err != nil {
			t.Errorf("Connect = %v, want EINPROGRESS", err)
		}
		waitFor(t, c, cch, unix.EPOLLOUT)
		var so [4]byte
		if n, err := c.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, so[:]); n != 4 || err != nil || so != [4]byte{} {
			t.Errorf("SO_ERROR = %v %v %v", n, err, so)
		}
		waitFor(t, l, lch, unix.EPOLLIN)
		s, peer, err := l.Accept()
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		defer s.Close()
		if ca, _ := c.LocalAddress(); ca != peer {
			t.Errorf("peer %v, client's name %v", peer, ca)
		}
		if n, err := c.Write([]byte("hello"), netstack.WriteOptions{}); n != 5 || err != nil {
			t.Errorf("Write = %d, %v", n, err)
		}
		se := s.(*Endpoint)
		sch := notifier(se)
		waitFor(t, se, sch, unix.EPOLLIN)
		if in, _ := se.QueueSizes(); in != 5 {
			t.Errorf("FIONREAD = %d, want 5", in)
		}
		buf := make([]byte, 16)
		r, err := s.Read(buf, netstack.ReadOptions{Peek: true})
		if err != nil || string(buf[:r.N]) != "hello" {
			t.Errorf("peek = %q, %v", buf[:r.N], err)
		}
		r, err = s.Read(buf, netstack.ReadOptions{})
		if err != nil || string(buf[:r.N]) != "hello" {
			t.Errorf("read = %q, %v", buf[:r.N], err)
		}
		if _, err := s.Read(buf, netstack.ReadOptions{}); err != unix.EAGAIN {
			t.Errorf("read of an empty socket = %v, want EAGAIN", err)
		}
		c.Shutdown(unix.SHUT_WR)
		waitFor(t, se, sch, unix.EPOLLRDHUP)
		if r, err := s.Read(buf, netstack.ReadOptions{}); r.N != 0 || err != nil {
			t.Errorf("read after the peer's shutdown = %d, %v; want 0", r.N, err)
		}
	}()
	<-done
}

func TestConnectRefusedCanBeRetried(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		privateLoopback(t)
		b, _ := NewEndpoint(unix.AF_INET, unix.SOCK_STREAM, 0, nil)
		defer b.Close()
		b.Bind(netstack.FullAddress{Addr: netip.MustParseAddr("127.0.0.1")})
		a, _ := b.LocalAddress()
		c, _ := NewEndpoint(unix.AF_INET, unix.SOCK_STREAM, 0, nil)
		defer c.Close()
		ch := notifier(c)
		c.Connect(a, false)
		waitFor(t, c, ch, unix.EPOLLOUT)
		var so [4]byte
		c.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, so[:])
		if e := unix.Errno(binary.LittleEndian.Uint32(so[:])); e != unix.ECONNREFUSED {
			t.Errorf("SO_ERROR = %v, want ECONNREFUSED", e)
		}
		b.Listen(1)
		if err := c.Connect(a, false); err != unix.EINPROGRESS && err != nil {
			t.Errorf("second Connect = %v, want EINPROGRESS", err)
		}
		waitFor(t, c, ch, unix.EPOLLOUT)
		c.GetSockOpt(unix.SOL_SOCKET, unix.SO_ERROR, so[:])
		if so != [4]byte{} {
			t.Errorf("second SO_ERROR = %v, want 0", so)
		}
		if _, err := c.RemoteAddress(); err != nil {
			t.Errorf("not connected after the retry: %v", err)
		}
	}()
	<-done
}

func TestNewEndpointRefusesOtherFamilies(t *testing.T) {
	if _, err := NewEndpoint(unix.AF_UNIX, unix.SOCK_STREAM, 0, nil); err != unix.EAFNOSUPPORT {
		t.Errorf("AF_UNIX: %v, want EAFNOSUPPORT", err)
	}
	if _, err := NewEndpoint(unix.AF_INET, unix.SOCK_SEQPACKET, 0, nil); err != unix.ESOCKTNOSUPPORT {
		t.Errorf("SOCK_SEQPACKET: %v, want ESOCKTNOSUPPORT", err)
	}
}

func TestSocketCountIsBounded(t *testing.T) {
	thePoller.limitOnce.Do(thePoller.setLimit)
	saved := thePoller.max.Load()
	thePoller.max.Store(thePoller.open.Load() + 2)
	defer thePoller.max.Store(saved)
	var eps []*Endpoint
	defer func() {
		for _, e := range eps {
			e.Close()
		}
	}()
	for i := 0; i < 2; i++ {
		e, err := NewEndpoint(unix.AF_INET, unix.SOCK_DGRAM, 0, nil)
		if err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
		eps = append(eps, e)
	}
	if e, err := NewEndpoint(unix.AF_INET, unix.SOCK_DGRAM, 0, nil); err != unix.ENFILE {
		if e != nil {
			e.Close()
		}
		t.Errorf("a socket past the bound: %v, want ENFILE", err)
	}
	eps[0].Close()
	e, err := NewEndpoint(unix.AF_INET, unix.SOCK_DGRAM, 0, nil)
	if err != nil {
		t.Errorf("a socket after one closed: %v", err)
	} else {
		eps = append(eps, e)
	}
}

// TestLingeringCloseDoesNotHoldTheCaller closes a connection with unsent
// data and SO_LINGER of an hour: the host's close would wait that long;
// Close must return while the peer still has not read.
func TestLingeringCloseDoesNotHoldTheCaller(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		privateLoopback(t)
		l, _ := NewEndpoint(unix.AF_INET, unix.SOCK_STREAM, 0, nil)
		defer l.Close()
		l.Bind(netstack.FullAddress{Addr: netip.MustParseAddr("127.0.0.1")})
		l.Listen(1)
		la, _ := l.LocalAddress()
		lch := notifier(l)
		c, _ := NewEndpoint(unix.AF_INET, unix.SOCK_STREAM, 0, nil)
		cch := notifier(c)
		c.Connect(la, false)
		waitFor(t, c, cch, unix.EPOLLOUT)
		waitFor(t, l, lch, unix.EPOLLIN)
		s, _, err := l.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer s.Close()
		// Fill the peer's receive queue and our send queue.
		chunk := make([]byte, 1<<16)
		for {
			if _, err := c.Write(chunk, netstack.WriteOptions{}); err == unix.EAGAIN {
				break
			} else if err != nil {
				t.Error(err)
				return
			}
		}
		linger := make([]byte, 8)
		binary.LittleEndian.PutUint32(linger[0:], 1)
		binary.LittleEndian.PutUint32(linger[4:], 3600)
		if err := c.SetSockOpt(unix.SOL_SOCKET, unix.SO_LINGER, linger); err != nil {
			t.Error(err)
			return
		}
		closed := make(chan struct{})
		go func() { c.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(30 * time.Second):
			t.Error("Close waited for the lingering host close")
		}
	}()
	<-done
}
