package tcp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// Tests over the real loopback stack (real clock, real goroutines), the way
// the Sentry runs TCP.

// lbWaiter turns an endpoint's notifications into a channel, as the socket
// layer's wait queue does.
type lbWaiter struct{ ch chan struct{} }

func newLBWaiter(e netstack.Endpoint) *lbWaiter {
	w := &lbWaiter{ch: make(chan struct{}, 1)}
	e.SetNotify(func(uint32) {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	})
	return w
}

// until retries op (which returns EAGAIN while not ready) until it returns
// something else, waiting for notifications; it fails the test after limit.
func (w *lbWaiter) until(t testing.TB, limit time.Duration, what string, op func() error) error {
	t.Helper()
	dl := time.After(limit)
	for {
		if err := op(); err != unix.EAGAIN {
			return err
		}
		select {
		case <-w.ch:
		case <-dl:
			t.Fatalf("%s: no progress within %v", what, limit)
		}
	}
}

// loopbackPair returns a connected pair of endpoints over a fresh loopback
// stack: the client and the accepted server side.
func loopbackPair(t testing.TB, v6 bool) (c, s netstack.Endpoint) {
	t.Helper()
	st := netstack.NewLoopbackStack()
	p := NewProtocol(st)
	st.RegisterTransport(p)
	l, _ := p.NewEndpoint(v6)
	lw := newLBWaiter(l)
	lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	if v6 {
		lo = netip.IPv6Loopback()
	}
	if err := l.Bind(netstack.FullAddress{Addr: lo}); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(8); err != nil {
		t.Fatal(err)
	}
	la, _ := l.LocalAddress()
	c, _ = p.NewEndpoint(v6)
	cw := newLBWaiter(c)
	if err := c.Connect(netstack.FullAddress{Addr: lo, Port: la.Port}, false); err != unix.EINPROGRESS {
		t.Fatalf("Connect: %v", err)
	}
	if err := lw.until(t, 10*time.Second, "accept", func() error {
		var err error
		s, _, err = l.Accept()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := cw.until(t, 10*time.Second, "connect", func() error {
		if c.Readiness(unix.EPOLLOUT) == 0 {
			return unix.EAGAIN
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close(); l.Close() })
	return c, s
}

// pump writes data to x and reads it from y, each on its own goroutine,
// blocking on notifications only, as blocking sockets do.
func pump(t *testing.T, x, y netstack.Endpoint, data []byte, chunk int) {
	t.Helper()
	xw, yw := newLBWaiter(x), newLBWaiter(y)
	errc := make(chan error, 1)
	go func() {
		for off := 0; off < len(data); {
			var n int
			err := xw.until(t, 20*time.Second, "write", func() error {
				var err error
				n, err = x.Write(data[off:min(off+chunk, len(data))], netstack.WriteOptions{})
				return err
			})
			if err != nil {
				errc <- err
				return
			}
			off += n
		}
		errc <- nil
	}()
	got := make([]byte, 0, len(data))
	buf := make([]byte, chunk)
	for len(got) < len(data) {
		var r netstack.ReadResult
		if err := yw.until(t, 20*time.Second, "read", func() error {
			var err error
			r, err = y.Read(buf, netstack.ReadOptions{})
			return err
		}); err != nil {
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
		if r.N == 0 {
			t.Fatalf("EOF after %d bytes", len(got))
		}
		got = append(got, buf[:r.N]...)
	}
	if err := <-errc; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("data differs")
	}
}

func TestLoopbackBulkTransfer(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		c, s := loopbackPair(t, v6)
		data := pattern(7, 8<<20)
		pump(t, c, s, data, 64<<10)
		pump(t, s, c, data, 4096)
	}
}

// Loopback's MTU is 65536, one more than an IPv4 packet can be: the MSS
// must come from the 65535 the IP header allows, or every full segment is
// refused by the IP layer and the transfer stalls.
func TestLoopbackMSS(t *testing.T) {
	c, _ := loopbackPair(t, false)
	if got := getOptInt(t, c.(*endpoint), unix.SOL_TCP, unix.TCP_MAXSEG); got != 65535-40-12 {
		t.Fatalf("TCP_MAXSEG = %d, want 65483 as Linux", got)
	}
	c, _ = loopbackPair(t, true)
	if got := getOptInt(t, c.(*endpoint), unix.SOL_TCP, unix.TCP_MAXSEG); got != 65536-60-12 {
		t.Fatalf("IPv6 TCP_MAXSEG = %d, want 65464 as Linux", got)
	}
}

// BenchmarkLoopbackStream streams data from one endpoint to the other over
// the real loopback stack, in 128 KiB writes and reads as net_bench's
// stream mode does. It reports MB/s (b.N is the number of 128 KiB writes).
func BenchmarkLoopbackStream(b *testing.B) {
	for _, v6 := range []bool{false, true} {
		name := "v4"
		if v6 {
			name = "v6"
		}
		b.Run(name, func(b *testing.B) {
			const chunk = 128 << 10
			c, s := loopbackPair(b, v6)
			data := make([]byte, chunk)
			cw, sw := newLBWaiter(c), newLBWaiter(s)
			total := b.N * chunk
			b.SetBytes(chunk)
			b.ResetTimer()
			errc := make(chan error, 1)
			go func() {
				for sent := 0; sent < total; {
					var n int
					err := cw.until(b, time.Minute, "write", func() error {
						var err error
						n, err = c.Write(data[:min(chunk, total-sent)], netstack.WriteOptions{})
						return err
					})
					if err != nil {
						errc <- err
						return
					}
					sent += n
				}
				errc <- nil
			}()
			buf := make([]byte, chunk)
			for got := 0; got < total; {
				var r netstack.ReadResult
				if err := sw.until(b, time.Minute, "read", func() error {
					var err error
					r, err = s.Read(buf, netstack.ReadOptions{})
					return err
				}); err != nil || r.N == 0 {
					b.Fatalf("read after %d bytes: %v (n=%d)", got, err, r.N)
				}
				got += r.N
			}
			if err := <-errc; err != nil {
				b.Fatalf("write: %v", err)
			}
		})
	}
}
