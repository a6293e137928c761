// Package timerfd implements timerfd_create(2) files: a timer on one of
// the kernel's clocks whose expirations are counted and read as an 8-byte
// integer. Timers run on Go timers.
//
// Lock order: TimerFD.mu, then waiter.Queue.mu (through Notify).
package timerfd

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// Clock reads the current time of a clock, as a duration since its epoch.
// It must be safe to call from any goroutine.
type Clock func() time.Duration

// TimerFD is the implementation of a timerfd file. Linux: struct
// timerfd_ctx.
type TimerFD struct {
	vfs.FileDescriptionDefaultImpl

	// queue holds pollers and blocked readers.
	queue waiter.Queue
	// clock is the timer's clock. Immutable.
	clock Clock

	mu sync.Mutex
	// deadline is the next expiration on clock; zero when disarmed.
	// Protected by mu.
	deadline time.Duration
	// interval is the period of a repeating timer, or zero. Protected by
	// mu.
	interval time.Duration
	// ticks counts expirations not yet read. Protected by mu. Linux:
	// timerfd_ctx::ticks.
	ticks uint64
	// timer wakes us at deadline. Protected by mu.
	timer *time.Timer
	// gen identifies the current setting; a timer callback of an older
	// setting does nothing. Protected by mu.
	gen uint64
	// released is set when the file is closed. Protected by mu.
	released bool
}

var _ vfs.FileDescriptionImpl = (*TimerFD)(nil)

// New returns a new, disarmed timerfd file on clock with one reference.
// nonblock sets O_NONBLOCK.
func New(clock Clock, nonblock bool) *vfs.FileDescription {
	t := &TimerFD{clock: clock}
	flags := uint32(unix.O_RDWR)
	if nonblock {
		flags |= unix.O_NONBLOCK
	}
	return vfs.NewFileDescription(t, flags, vfs.VirtualDentry{})
}

// FromFile returns the TimerFD of file, or nil if it is not a timerfd.
func FromFile(file *vfs.FileDescription) *TimerFD {
	t, _ := file.Impl().(*TimerFD)
	return t
}

// Stream implements vfs.FileDescriptionImpl.Stream.
func (t *TimerFD) Stream() bool { return true }

// Stat implements vfs.FileDescriptionImpl.Stat: an anonymous inode.
func (t *TimerFD) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{Mask: unix.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// Release implements vfs.FileDescriptionImpl.Release: it stops the timer.
func (t *TimerFD) Release(context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.released = true
	t.stopLocked()
}

func (t *TimerFD) stopLocked() {
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	t.gen++
}

// updateLocked counts the expirations that happened by now and moves the
// deadline past it. It reports whether any were added.
func (t *TimerFD) updateLocked(now time.Duration) bool {
	if t.deadline == 0 || now < t.deadline {
		return false
	}
	if t.interval == 0 {
		t.ticks++
		t.deadline = 0
		return true
	}
	n := uint64((now-t.deadline)/t.interval) + 1
	t.ticks += n
	t.deadline += time.Duration(n) * t.interval
	return true
}

// armLocked starts the Go timer for the current deadline.
func (t *TimerFD) armLocked(now time.Duration) {
	if t.deadline == 0 || t.released {
		return
	}
	gen := t.gen
	t.timer = time.AfterFunc(t.deadline-now, func() { t.fire(gen) })
}

// fire runs when the Go timer of setting gen expires.
func (t *TimerFD) fire(gen uint64) {
	t.mu.Lock()
	if gen != t.gen || t.released {
		t.mu.Unlock()
		return
	}
	now := t.clock()
	t.timer = nil
	t.updateLocked(now)
	// Notify even if a reader or poller already counted this expiration:
	// blocked readers rely on this wake-up.
	fired := t.ticks > 0
	if t.deadline != 0 {
		// Not yet due (the Go timer ran early against this clock), or a
		// repeating timer: wait for the next expiration.
		t.armLocked(now)
	}
	t.mu.Unlock()
	if fired {
		t.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
	}
}

// Get returns the time until the next expiration (zero if disarmed) and
// the interval (timerfd_gettime(2)).
func (t *TimerFD) Get() (value, interval time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	t.updateLocked(now)
	if t.deadline != 0 {
		value = t.deadline - now
	}
	return value, t.interval
}

// Set implements timerfd_settime(2): value zero disarms; otherwise the
// timer expires after value (at value on the clock if absolute), then
// every interval if non-zero. Unread expirations are discarded. It returns
// the previous setting as Get would.
func (t *TimerFD) Set(value, interval time.Duration, absolute bool) (oldValue, oldInterval time.Duration) {
	t.mu.Lock()
	now := t.clock()
	t.updateLocked(now)
	if t.deadline != 0 {
		oldValue = t.deadline - now
	}
	oldInterval = t.interval
	t.stopLocked()
	t.ticks = 0
	t.interval = interval
	t.deadline = 0
	if value != 0 {
		if absolute {
			t.deadline = value
		} else {
			t.deadline = now + value
		}
		if t.deadline <= 0 {
			// An absolute time at or before the clock's epoch is
			// already past.
			t.deadline = 1
		}
	}
	fired := t.updateLocked(now)
	t.armLocked(now)
	t.mu.Unlock()
	if fired {
		t.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
	}
	return oldValue, oldInterval
}

// Read implements vfs.FileDescriptionImpl.Read: it returns and resets the
// number of expirations, waiting for one if there are none.
func (t *TimerFD) Read(ctx context.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	var w *waiter.Entry
	defer func() {
		if w != nil {
			t.queue.EventUnregister(w)
		}
	}()
	for {
		t.mu.Lock()
		t.updateLocked(t.clock())
		if n := t.ticks; n > 0 {
			t.ticks = 0
			t.mu.Unlock()
			binary.LittleEndian.PutUint64(dst, n)
			return 8, nil
		}
		t.mu.Unlock()
		if fd.StatusFlags()&unix.O_NONBLOCK != 0 {
			return 0, unix.EAGAIN
		}
		if w == nil {
			w = t.queue.Register(unix.EPOLLIN)
			continue
		}
		if err := vfs.Block(ctx, w.C); err != nil {
			return 0, err
		}
	}
}

// Readiness implements vfs.FileDescriptionImpl.Readiness: readable when
// the timer has expired since the last read.
func (t *TimerFD) Readiness(mask uint32) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.updateLocked(t.clock())
	if t.ticks > 0 {
		return mask & (unix.EPOLLIN | unix.EPOLLRDNORM)
	}
	return 0
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (t *TimerFD) EventRegister(w *waiter.Entry) { t.queue.EventRegister(w) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (t *TimerFD) EventUnregister(w *waiter.Entry) { t.queue.EventUnregister(w) }
