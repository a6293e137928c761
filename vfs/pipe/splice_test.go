package pipe

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

func TestPeekIntoCopiesAndMoveIntoConsumes(t *testing.T) {
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	r1, w1 := newPipe(t, 0)
	r2, w2 := newPipe(t, 0)
	defer func() {
		for _, f := range []interface{ DecRef(context.Context) }{r1, w1, r2, w2} {
			f.DecRef(ctx)
		}
	}()
	src, dst := FromImpl(r1.Impl()), FromImpl(w2.Impl())
	if _, err := w1.Write(ctx, []byte("abcdef")); err != nil {
		t.Fatal(err)
	}
	if n, err := src.PeekInto(ctx, dst, 4, false); n != 4 || err != nil {
		t.Fatalf("PeekInto = %d, %v; want 4, nil", n, err)
	}
	if n, err := src.MoveInto(ctx, dst, 100, false); n != 6 || err != nil {
		t.Fatalf("MoveInto = %d, %v; want 6, nil", n, err)
	}
	buf := make([]byte, 16)
	n, _ := r2.Read(ctx, buf)
	if got := string(buf[:n]); got != "abcdabcdef" {
		t.Errorf("destination holds %q, want %q", got, "abcdabcdef")
	}
	if _, err := src.MoveInto(ctx, dst, 1, true); err != unix.EAGAIN {
		t.Errorf("MoveInto from an empty pipe, nonblock: %v, want EAGAIN", err)
	}
	if _, err := src.PeekInto(ctx, src, 1, true); err != unix.EINVAL {
		t.Errorf("PeekInto to itself: %v, want EINVAL", err)
	}
}

func TestUnreadPutsDataBackFirst(t *testing.T) {
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	r, w := newPipe(t, 0)
	defer r.DecRef(ctx)
	defer w.DecRef(ctx)
	p := FromImpl(r.Impl())
	w.Write(ctx, []byte("world"))
	p.Unread([]byte("hello "))
	buf := make([]byte, 32)
	n, _ := p.Read(ctx, buf, true)
	if got := string(buf[:n]); got != "hello world" {
		t.Errorf("read %q, want %q", got, "hello world")
	}
}

func TestWaitWritableWakesWhenReaderDrains(t *testing.T) {
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	r, w := newPipe(t, 0)
	defer r.DecRef(ctx)
	defer w.DecRef(ctx)
	p := FromImpl(w.Impl())
	full := make([]byte, p.Capacity())
	if n, _ := p.Write(ctx, full, true); n != len(full) {
		t.Fatalf("filled %d of %d", n, len(full))
	}
	if _, err := p.WaitWritable(ctx, true); err != unix.EAGAIN {
		t.Fatalf("WaitWritable on a full pipe, nonblock: %v, want EAGAIN", err)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		r.Read(ctx, make([]byte, 100))
	}()
	if free, err := p.WaitWritable(ctx, false); free != 100 || err != nil {
		t.Errorf("WaitWritable = %d, %v; want 100, nil", free, err)
	}
}
