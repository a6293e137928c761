package pipe

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

func newPipe(t *testing.T, flags uint32) (*vfs.FileDescription, *vfs.FileDescription) {
	t.Helper()
	r, w, err := NewPipe2(vfs.WithCredentials(context.Background(), vfs.RootCredentials()), flags)
	if err != nil {
		t.Fatalf("NewPipe2: %v", err)
	}
	return r, w
}

// interrupter is a Blocker whose waits end with ErrInterrupted when kick is
// closed.
type interrupter struct{ kick chan struct{} }

func (b interrupter) Block(ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-b.kick:
		return vfs.ErrInterrupted
	}
}

type mem struct{ b []byte }

func (m *mem) CopyIn(addr uintptr, dst []byte) (int, error) { return copy(dst, m.b[addr:]), nil }
func (m *mem) CopyOut(addr uintptr, src []byte) (int, error) {
	return copy(m.b[addr:], src), nil
}

func TestReadWriteEOFAndEPIPE(t *testing.T) {
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	r, w := newPipe(t, 0)
	if n, err := w.Write(ctx, []byte("hello")); n != 5 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	m := &mem{b: make([]byte, 4)}
	if _, err := r.Ioctl(ctx, m, unix.TIOCINQ, 0); err != nil || binary.LittleEndian.Uint32(m.b) != 5 {
		t.Errorf("FIONREAD = %d, %v; want 5", binary.LittleEndian.Uint32(m.b), err)
	}
	buf := make([]byte, 3)
	if n, err := r.Read(ctx, buf); n != 3 || err != nil || string(buf) != "hel" {
		t.Errorf("Read = %d, %v, %q", n, err, buf)
	}
	if _, err := r.PRead(ctx, buf, 0); err != unix.ESPIPE {
		t.Errorf("PRead(pipe) = %v, want ESPIPE", err)
	}
	if _, err := w.Seek(ctx, 0, unix.SEEK_SET); err != unix.ESPIPE {
		t.Errorf("Seek(pipe) = %v, want ESPIPE", err)
	}
	if _, err := r.Write(ctx, buf); err != unix.EBADF {
		t.Errorf("Write(read end) = %v, want EBADF", err)
	}
	w.DecRef(ctx)
	if got := r.Readiness(unix.EPOLLIN); got&(unix.EPOLLIN|unix.EPOLLHUP) != unix.EPOLLIN|unix.EPOLLHUP {
		t.Errorf("Readiness after writer closed with data = %#x, want IN|HUP", got)
	}
	if n, _ := r.Read(ctx, buf); n != 2 {
		t.Errorf("Read rest = %d, want 2", n)
	}
	if n, err := r.Read(ctx, buf); n != 0 || err != nil {
		t.Errorf("Read at EOF = %d, %v; want 0, nil", n, err)
	}
	r.DecRef(ctx)

	r, w = newPipe(t, 0)
	r.DecRef(ctx)
	if _, err := w.Write(ctx, []byte("x")); err != unix.EPIPE {
		t.Errorf("Write with no reader = %v, want EPIPE", err)
	}
	if got := w.Readiness(unix.EPOLLOUT); got&unix.EPOLLERR == 0 {
		t.Errorf("Readiness of write end with no reader = %#x, want ERR", got)
	}
	w.DecRef(ctx)
}

func TestNonblocking(t *testing.T) {
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	r, w := newPipe(t, unix.O_NONBLOCK)
	defer r.DecRef(ctx)
	defer w.DecRef(ctx)
	if _, err := r.Read(ctx, make([]byte, 1)); err != unix.EAGAIN {
		t.Errorf("Read(empty) = %v, want EAGAIN", err)
	}
	if w.Readiness(unix.EPOLLOUT) != unix.EPOLLOUT || r.Readiness(unix.EPOLLIN) != 0 {
		t.Errorf("Readiness of empty pipe wrong")
	}
	// Fill to leave 100 bytes free.
	if n, err := w.Write(ctx, make([]byte, DefaultCapacity-100)); n != DefaultCapacity-100 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	// A write of at most PIPE_BUF bytes that does not fit entirely is not
	// split.
	if n, err := w.Write(ctx, make([]byte, 200)); n != 0 || err != unix.EAGAIN {
		t.Errorf("atomic Write(200) with 100 free = %d, %v; want EAGAIN", n, err)
	}
	// A larger write is.
	if n, err := w.Write(ctx, make([]byte, 2*AtomicIOBytes)); n != 100 || err != nil {
		t.Errorf("Write(8192) with 100 free = %d, %v; want 100", n, err)
	}
	if _, err := w.Write(ctx, []byte("x")); err != unix.EAGAIN {
		t.Errorf("Write(full) = %v, want EAGAIN", err)
	}
	if w.Readiness(unix.EPOLLOUT) != 0 {
		t.Errorf("full pipe is writable")
	}
	// F_SETFL clears O_NONBLOCK.
	w.SetStatusFlags(ctx, 0)
	if w.StatusFlags()&unix.O_NONBLOCK != 0 {
		t.Errorf("O_NONBLOCK not cleared")
	}
}

func TestBlocking(t *testing.T) {
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	r, w := newPipe(t, 0)
	defer r.DecRef(ctx)
	defer w.DecRef(ctx)
	// A blocked reader wakes on a write.
	got := make(chan string)
	go func() {
		buf := make([]byte, 10)
		n, _ := r.Read(ctx, buf)
		got <- string(buf[:n])
	}()
	time.Sleep(10 * time.Millisecond)
	w.Write(ctx, []byte("wake"))
	select {
	case s := <-got:
		if s != "wake" {
			t.Errorf("blocked Read = %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocked Read never woke")
	}
	// A blocking write larger than the pipe completes as the reader drains.
	big := bytes.Repeat([]byte("z"), 3*DefaultCapacity)
	done := make(chan int)
	go func() {
		n, _ := w.Write(ctx, big)
		done <- n
	}()
	var total int
	buf := make([]byte, 10000)
	for total < len(big) {
		n, err := r.Read(ctx, buf)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if n := <-done; n != len(big) {
		t.Errorf("big Write = %d, want %d", n, len(big))
	}
	// A signal interrupts a blocked read.
	b := interrupter{kick: make(chan struct{})}
	errc := make(chan error)
	go func() {
		_, err := r.Read(vfs.WithBlocker(ctx, b), buf)
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	close(b.kick)
	if err := <-errc; err != vfs.ErrInterrupted {
		t.Errorf("interrupted Read = %v, want ErrInterrupted", err)
	}
}

func TestFIFOOpen(t *testing.T) {
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	p := New(ctx)
	if _, err := p.Open(ctx, unix.O_WRONLY|unix.O_NONBLOCK); err != unix.ENXIO {
		t.Errorf("FIFO open O_WRONLY|O_NONBLOCK with no reader = %v, want ENXIO", err)
	}
	rn, err := p.Open(ctx, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		t.Fatalf("FIFO open O_RDONLY|O_NONBLOCK = %v", err)
	}
	rfd := vfs.NewFileDescription(rn, unix.O_RDONLY|unix.O_NONBLOCK, vfs.VirtualDentry{})
	// No writer has come yet: no HUP.
	if got := rfd.Readiness(unix.EPOLLIN); got != 0 {
		t.Errorf("Readiness of fresh FIFO reader = %#x, want 0", got)
	}
	rfd.DecRef(ctx)
	// A blocking reader waits for a writer.
	opened := make(chan vfs.FileDescriptionImpl)
	go func() {
		impl, _ := p.Open(ctx, unix.O_RDONLY)
		opened <- impl
	}()
	select {
	case <-opened:
		t.Fatal("O_RDONLY FIFO open did not wait for a writer")
	case <-time.After(20 * time.Millisecond):
	}
	w, err := p.Open(ctx, unix.O_WRONLY)
	if err != nil {
		t.Fatalf("O_WRONLY open: %v", err)
	}
	r := <-opened
	w.Release(ctx)
	r.Release(ctx)
	// An interrupted open leaves no reader behind.
	b := interrupter{kick: make(chan struct{})}
	close(b.kick)
	if _, err := p.Open(vfs.WithBlocker(ctx, b), unix.O_RDONLY); err != vfs.ErrInterrupted {
		t.Errorf("interrupted open = %v", err)
	}
	if p.readers != 0 || p.writers != 0 {
		t.Errorf("readers, writers = %d, %d after all closed", p.readers, p.writers)
	}
}

// TestNewPipeWithoutCredentialsPanics checks that a pipe is never created
// owned by an identity guessed for a context that carries none.
func TestNewPipeWithoutCredentialsPanics(t *testing.T) {
	defer func() {
		if p := recover(); p == nil {
			t.Errorf("NewPipe2 without credentials did not panic")
		}
	}()
	r, w, _ := NewPipe2(context.Background(), 0)
	r.DecRef(context.Background())
	w.DecRef(context.Background())
}
