// Package eventfd implements eventfd(2) files: a 64-bit counter that
// write(2) adds to and read(2) takes from, usable as a wake-up channel
// between threads, processes, and epoll.
//
// Lock order: EventFD.mu, then waiter.Queue.mu (through Notify).
package eventfd

import (
	"context"
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// maxCounter is the largest value the counter may hold (Linux:
// ULLONG_MAX - 1); a write that would pass it waits.
const maxCounter = ^uint64(0) - 1

// Flags of eventfd2(2).
const (
	EFD_SEMAPHORE = 0x1
	EFD_CLOEXEC   = unix.O_CLOEXEC
	EFD_NONBLOCK  = unix.O_NONBLOCK
)

// EventFD is the implementation of an eventfd file. Linux: struct
// eventfd_ctx.
type EventFD struct {
	vfs.FileDescriptionDefaultImpl

	// queue holds pollers and blocked readers and writers.
	queue waiter.Queue
	// semaphore is EFD_SEMAPHORE: reads take 1 rather than the whole
	// count. Immutable.
	semaphore bool

	mu sync.Mutex
	// count is the counter. Protected by mu. Linux: eventfd_ctx::count.
	count uint64
}

var _ vfs.FileDescriptionImpl = (*EventFD)(nil)

// New returns a new eventfd file with one reference, its counter set to
// initval. flags are eventfd2's (EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC;
// EINVAL for others); close-on-exec is the caller's business.
func New(initval uint32, flags uint32) (*vfs.FileDescription, error) {
	if flags&^(EFD_SEMAPHORE|EFD_CLOEXEC|EFD_NONBLOCK) != 0 {
		return nil, unix.EINVAL
	}
	e := &EventFD{semaphore: flags&EFD_SEMAPHORE != 0, count: uint64(initval)}
	return vfs.NewFileDescription(e, unix.O_RDWR|flags&unix.O_NONBLOCK, vfs.VirtualDentry{}), nil
}

// Stream implements vfs.FileDescriptionImpl.Stream.
func (e *EventFD) Stream() bool { return true }

// Stat implements vfs.FileDescriptionImpl.Stat: an anonymous inode, mode
// 0600 with no file type, as Linux's anon_inodefs shows.
func (e *EventFD) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{Mask: unix.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// Read implements vfs.FileDescriptionImpl.Read: it takes the counter (or 1
// in semaphore mode), waiting while it is zero.
func (e *EventFD) Read(ctx context.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if len(dst) < 8 {
		return 0, unix.EINVAL
	}
	var w *waiter.Entry
	for {
		e.mu.Lock()
		if e.count > 0 {
			v := e.count
			if e.semaphore {
				v = 1
			}
			e.count -= v
			e.mu.Unlock()
			if w != nil {
				e.queue.EventUnregister(w)
			}
			binary.LittleEndian.PutUint64(dst, v)
			e.queue.Notify(unix.EPOLLOUT | unix.EPOLLWRNORM)
			return 8, nil
		}
		e.mu.Unlock()
		if fd.StatusFlags()&unix.O_NONBLOCK != 0 {
			return 0, unix.EAGAIN
		}
		if w == nil {
			// Register, then check again: a write may have come
			// in between.
			w = e.queue.Register(unix.EPOLLIN)
			continue
		}
		if err := vfs.Block(ctx, w.C); err != nil {
			e.queue.EventUnregister(w)
			return 0, err
		}
	}
}

// Write implements vfs.FileDescriptionImpl.Write: it adds an 8-byte value
// to the counter, waiting while the sum would exceed 0xfffffffffffffffe.
// Writing 0xffffffffffffffff is EINVAL.
func (e *EventFD) Write(ctx context.Context, fd *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	if len(src) < 8 {
		return 0, off, unix.EINVAL
	}
	v := binary.LittleEndian.Uint64(src)
	if v == ^uint64(0) {
		return 0, off, unix.EINVAL
	}
	var w *waiter.Entry
	for {
		e.mu.Lock()
		if maxCounter-e.count >= v {
			e.count += v
			e.mu.Unlock()
			if w != nil {
				e.queue.EventUnregister(w)
			}
			if v > 0 {
				e.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
			}
			return 8, off, nil
		}
		e.mu.Unlock()
		if fd.StatusFlags()&unix.O_NONBLOCK != 0 {
			return 0, off, unix.EAGAIN
		}
		if w == nil {
			w = e.queue.Register(unix.EPOLLOUT)
			continue
		}
		if err := vfs.Block(ctx, w.C); err != nil {
			e.queue.EventUnregister(w)
			return 0, off, err
		}
	}
}

// Readiness implements vfs.FileDescriptionImpl.Readiness: readable when
// the counter is non-zero, writable while at least 1 can be added.
func (e *EventFD) Readiness(mask uint32) uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var r uint32
	if e.count > 0 {
		r |= unix.EPOLLIN | unix.EPOLLRDNORM
	}
	if e.count < maxCounter {
		r |= unix.EPOLLOUT | unix.EPOLLWRNORM
	}
	return r & mask
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (e *EventFD) EventRegister(w *waiter.Entry) { e.queue.EventRegister(w) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (e *EventFD) EventUnregister(w *waiter.Entry) { e.queue.EventUnregister(w) }

// Signal adds n to the counter without waiting, stopping at the largest
// value it may hold, and wakes readers: how the kernel itself signals an
// eventfd (Linux: eventfd_signal, used by AIO's IOCB_FLAG_RESFD).
func (e *EventFD) Signal(n uint64) {
	e.mu.Lock()
	e.count += min(n, maxCounter-e.count)
	e.mu.Unlock()
	e.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
}
