package host

import (
	"context"
	"encoding/binary"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

type mem struct{ b []byte }

func (m *mem) CopyIn(addr uintptr, dst []byte) (int, error)  { return copy(dst, m.b[addr:]), nil }
func (m *mem) CopyOut(addr uintptr, src []byte) (int, error) { return copy(m.b[addr:], src), nil }

type interrupter struct{ kick chan struct{} }

func (b interrupter) Block(ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-b.kick:
		return vfs.ErrInterrupted
	}
}

func TestHostPipe(t *testing.T) {
	ctx := context.Background()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	fd, err := NewFD(ctx, p[0], unix.O_RDONLY)
	if err != nil {
		t.Fatalf("NewFD: %v", err)
	}
	defer fd.DecRef(ctx)
	// A blocking read waits for the host writer.
	got := make(chan string)
	go func() {
		buf := make([]byte, 16)
		n, err := fd.Read(ctx, buf)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(buf[:n])
	}()
	time.Sleep(20 * time.Millisecond)
	unix.Write(p[1], []byte("from host"))
	select {
	case s := <-got:
		if s != "from host" {
			t.Errorf("Read = %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocked read of host pipe never woke")
	}
	unix.Write(p[1], []byte("abc"))
	m := &mem{b: make([]byte, 4)}
	if _, err := fd.Ioctl(ctx, m, unix.TIOCINQ, 0); err != nil || binary.LittleEndian.Uint32(m.b) != 3 {
		t.Errorf("FIONREAD = %d, %v; want 3", binary.LittleEndian.Uint32(m.b), err)
	}
	if _, err := fd.Ioctl(ctx, m, unix.TCGETS, 0); err != unix.ENOTTY {
		t.Errorf("TCGETS on a pipe = %v, want ENOTTY", err)
	}
	if _, err := fd.Ioctl(ctx, m, 0x1234, 0); err != unix.ENOTTY {
		t.Errorf("unknown ioctl = %v, want ENOTTY", err)
	}
	if fd.Readiness(unix.EPOLLIN)&unix.EPOLLIN == 0 {
		t.Errorf("host pipe with data is not readable")
	}
	fd.Read(ctx, make([]byte, 3))
	// Guest O_NONBLOCK gives EAGAIN; a signal interrupts a blocking read.
	fd.SetStatusFlags(ctx, unix.O_NONBLOCK)
	if _, err := fd.Read(ctx, make([]byte, 1)); err != unix.EAGAIN {
		t.Errorf("non-blocking Read(empty) = %v, want EAGAIN", err)
	}
	fd.SetStatusFlags(ctx, 0)
	b := interrupter{kick: make(chan struct{})}
	close(b.kick)
	if _, err := fd.Read(vfs.WithBlocker(ctx, b), make([]byte, 1)); err != vfs.ErrInterrupted {
		t.Errorf("interrupted Read = %v, want ErrInterrupted", err)
	}
	st, err := fd.Stat(ctx)
	if err != nil || uint32(st.Mode)&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("Stat = %#o, %v; want a FIFO", st.Mode, err)
	}
}

func TestHostRegularFile(t *testing.T) {
	ctx := context.Background()
	f, err := os.CreateTemp(t.TempDir(), "host")
	if err != nil {
		t.Fatal(err)
	}
	hfd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := NewFD(ctx, hfd, unix.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef(ctx)
	if n, err := fd.Write(ctx, []byte("hello world")); n != 11 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	buf := make([]byte, 5)
	if n, err := fd.PRead(ctx, buf, 6); n != 5 || err != nil || string(buf) != "world" {
		t.Errorf("PRead = %d, %v, %q", n, err, buf)
	}
	if off, err := fd.Seek(ctx, 0, unix.SEEK_END); off != 11 || err != nil {
		t.Errorf("Seek(SEEK_END) = %d, %v", off, err)
	}
}
