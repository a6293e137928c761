package waiter

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestNotify(t *testing.T) {
	var q Queue
	in := q.Register(unix.EPOLLIN)
	out := NewEntry(unix.EPOLLOUT)
	q.EventRegister(out)
	q.Notify(unix.EPOLLIN)
	q.Notify(unix.EPOLLIN) // a second notification does not block
	select {
	case <-in.C:
	default:
		t.Error("EPOLLIN entry not notified")
	}
	select {
	case <-out.C:
		t.Error("EPOLLOUT entry notified for EPOLLIN")
	default:
	}
	if got := q.Events(); got != unix.EPOLLIN|unix.EPOLLOUT {
		t.Errorf("Events() = %#x", got)
	}
	q.EventUnregister(in)
	q.Notify(unix.EPOLLIN)
	select {
	case <-in.C:
		t.Error("unregistered entry notified")
	default:
	}
}
