package inet

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// fakeStream is a stream endpoint whose readiness a test drives: it takes
// at most 3 bytes per Write and hands out what was fed to it.
type fakeStream struct {
	mu        sync.Mutex
	notify    func(uint32)
	connected bool
	// connecting: Connect was called and has not finished.
	connecting bool
	connErr    unix.Errno
	in         []byte
	eof        bool
	out        []byte
	room       int
	peerGone   bool
}

func (f *fakeStream) Bind(netstack.FullAddress) error { return nil }
func (f *fakeStream) Connect(netstack.FullAddress, bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.connErr != 0:
		err := f.connErr
		f.connErr = 0
		return err
	case f.connected:
		return nil
	case f.connecting:
		return unix.EALREADY
	}
	f.connecting = true
	return unix.EINPROGRESS
}
func (f *fakeStream) Listen(int) error { return nil }
func (f *fakeStream) Accept() (netstack.Endpoint, netstack.FullAddress, error) {
	return nil, netstack.FullAddress{}, unix.EAGAIN
}
func (f *fakeStream) Read(buf []byte, _ netstack.ReadOptions) (netstack.ReadResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.in) == 0 {
		if f.eof {
			return netstack.ReadResult{}, nil
		}
		return netstack.ReadResult{}, unix.EAGAIN
	}
	n := copy(buf, f.in)
	f.in = f.in[n:]
	return netstack.ReadResult{N: n, Total: n}, nil
}
func (f *fakeStream) Write(buf []byte, _ netstack.WriteOptions) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.peerGone {
		return 0, unix.EPIPE
	}
	if f.room == 0 {
		return 0, unix.EAGAIN
	}
	n := min(len(buf), 3, f.room)
	f.room -= n
	f.out = append(f.out, buf[:n]...)
	return n, nil
}
func (f *fakeStream) Shutdown(int) error                          { return nil }
func (f *fakeStream) Close()                                      {}
func (f *fakeStream) LocalAddress() (netstack.FullAddress, error) { return netstack.FullAddress{}, nil }
func (f *fakeStream) RemoteAddress() (netstack.FullAddress, error) {
	return netstack.FullAddress{}, nil
}
func (f *fakeStream) SetSockOpt(int, int, []byte) error { return nil }
func (f *fakeStream) SetNotify(n func(uint32))          { f.mu.Lock(); f.notify = n; f.mu.Unlock() }
func (f *fakeStream) Readiness(mask uint32) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m uint32
	if f.connected && f.room > 0 {
		m |= unix.EPOLLOUT
	}
	if f.connErr != 0 {
		m |= unix.EPOLLERR
	}
	if len(f.in) > 0 || f.eof {
		m |= unix.EPOLLIN
	}
	return m & mask
}
func (f *fakeStream) GetSockOpt(level, name int, buf []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if level == unix.SOL_SOCKET && name == unix.SO_ERROR {
		binary.LittleEndian.PutUint32(buf, uint32(f.connErr))
		f.connErr = 0
		return 4, nil
	}
	return 0, unix.ENOPROTOOPT
}

// later changes f after a moment and notifies, from another goroutine.
func (f *fakeStream) later(change func(f *fakeStream), ev uint32) {
	go func() {
		time.Sleep(10 * time.Millisecond)
		f.mu.Lock()
		change(f)
		n := f.notify
		f.mu.Unlock()
		n(ev)
	}()
}

func TestBlockingConnectWaitsAndReturnsSOError(t *testing.T) {
	for _, want := range []unix.Errno{0, unix.ECONNREFUSED} {
		f := &fakeStream{}
		s := New(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP, f, 0, 0)
		if err := s.Connect(context.Background(), netstack.FullAddress{}, false, true); err != unix.EINPROGRESS {
			t.Fatalf("non-blocking Connect = %v, want EINPROGRESS", err)
		}
		f.later(func(f *fakeStream) {
			if want != 0 {
				f.connErr = want
			} else {
				f.connected, f.room = true, 100
			}
		}, unix.EPOLLOUT|unix.EPOLLERR)
		err := s.Connect(context.Background(), netstack.FullAddress{}, false, false)
		if (want == 0 && err != nil) || (want != 0 && err != want) {
			t.Fatalf("blocking Connect = %v, want %v", err, want)
		}
	}
}

func TestStreamSendLoopsUntilAllIsTaken(t *testing.T) {
	f := &fakeStream{connected: true, room: 4}
	s := New(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP, f, 0, 0)
	f.later(func(f *fakeStream) { f.room = 100 }, unix.EPOLLOUT)
	n, err := s.Send(context.Background(), []byte("0123456789"), netstack.WriteOptions{}, false)
	if n != 10 || err != nil || string(f.out) != "0123456789" {
		t.Fatalf("Send = %d, %v; sent %q", n, err, f.out)
	}
	// Non-blocking: what fits, then no error.
	f.room = 2
	if n, err := s.Send(context.Background(), []byte("abcd"), netstack.WriteOptions{}, true); n != 2 || err != nil {
		t.Fatalf("non-blocking Send = %d, %v, want 2, nil", n, err)
	}
	if n, err := s.Send(context.Background(), []byte("abcd"), netstack.WriteOptions{}, true); n != 0 || err != unix.EAGAIN {
		t.Fatalf("full non-blocking Send = %d, %v, want EAGAIN", n, err)
	}
	f.peerGone = true
	if _, err := s.Send(context.Background(), []byte("x"), netstack.WriteOptions{}, false); err != unix.EPIPE {
		t.Fatalf("Send to a gone peer = %v, want EPIPE", err)
	}
}

func TestRecvWaitAllCollectsTheWholeBuffer(t *testing.T) {
	f := &fakeStream{in: []byte("abc")}
	s := New(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP, f, 0, 0)
	f.later(func(f *fakeStream) { f.in = append(f.in, "defgh"...) }, unix.EPOLLIN)
	buf := make([]byte, 6)
	r, err := s.Recv(context.Background(), buf, RecvOptions{WaitAll: true})
	if err != nil || r.N != 6 || string(buf) != "abcdef" {
		t.Fatalf("Recv(MSG_WAITALL) = %d %q, %v", r.N, buf[:r.N], err)
	}
	// Without MSG_WAITALL a receive returns what is there.
	r, err = s.Recv(context.Background(), buf, RecvOptions{})
	if err != nil || r.N != 2 {
		t.Fatalf("Recv = %d, %v, want 2", r.N, err)
	}
	// EOF ends MSG_WAITALL early with what came.
	f.later(func(f *fakeStream) { f.in = []byte("z"); f.eof = true }, unix.EPOLLIN)
	r, err = s.Recv(context.Background(), buf, RecvOptions{WaitAll: true})
	if err != nil || r.N != 1 {
		t.Fatalf("Recv(MSG_WAITALL) before EOF = %d, %v, want 1", r.N, err)
	}
}

func TestRecvTimeout(t *testing.T) {
	f := &fakeStream{}
	s := New(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP, f, 0, 0)
	s.SetTimeout(true, 20*time.Millisecond)
	start := time.Now()
	if _, err := s.Recv(context.Background(), make([]byte, 4), RecvOptions{}); err != unix.EAGAIN {
		t.Fatalf("Recv with SO_RCVTIMEO = %v, want EAGAIN", err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("Recv returned after %v, before the timeout", d)
	}
}
