package fdnotify

import (
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

// TestSyncNotifiesWhatCameBefore checks the order Readiness relies on: a
// change made before Sync is notified by the time Sync returns, whether
// the poller's goroutine or Sync took the event.
func TestSyncNotifiesWhatCameBefore(t *testing.T) {
	var p Poller
	r, w := pipe(t)
	got := make(chan uint32, 100)
	id, err := p.Add(r, func(ev uint32) { got <- ev })
	if err != nil {
		t.Fatal(err)
	}
	defer p.Remove(r, id)
	for i := 0; i < 200; i++ {
		if _, err := unix.Write(w, []byte{1}); err != nil {
			t.Fatal(err)
		}
		p.Sync()
		select {
		case ev := <-got:
			if ev&unix.EPOLLIN == 0 {
				t.Fatalf("round %d: events %#x, want EPOLLIN", i, ev)
			}
		default:
			t.Fatalf("round %d: the write was not notified when Sync returned", i)
		}
		// Drain the pipe and any second notification of the same
		// edge, so the next write is a new edge.
		var b [8]byte
		unix.Read(r, b[:])
		p.Sync()
		for len(got) > 0 {
			<-got
		}
	}
}

// TestRemovedRegistrationIsNotNotified checks that an event for a removed
// descriptor is dropped, and that ids are not reused while registered.
func TestRemovedRegistrationIsNotNotified(t *testing.T) {
	var p Poller
	r1, w1 := pipe(t)
	r2, _ := pipe(t)
	var called atomic.Bool
	id1, err := p.Add(r1, func(uint32) { called.Store(true) })
	if err != nil {
		t.Fatal(err)
	}
	id2, err := p.Add(r2, func(uint32) {})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Remove(r2, id2)
	if id1 == id2 {
		t.Fatalf("two registrations share id %d", id1)
	}
	p.Remove(r1, id1)
	unix.Write(w1, []byte{1})
	p.Sync()
	if called.Load() {
		t.Error("a removed registration was notified")
	}
}

func TestAddOfABadDescriptorFails(t *testing.T) {
	var p Poller
	if _, err := p.Add(-1, func(uint32) {}); err != unix.EBADF {
		t.Errorf("Add(-1) = %v, want EBADF", err)
	}
}
