// Package fdnotify turns readiness changes of the Sentry's own host
// descriptors (host files such as a terminal or pipe given as stdio,
// host sockets in --network=host mode) into notifications, so that the
// files over them can wake waiters and epoll instances as Linux files do.
//
// One host epoll instance watches every registered descriptor
// edge-triggered, and one goroutine sleeps until it has events. Events
// leave the host epoll only in Sync, under a mutex, and are notified
// before it returns. A file's Readiness calls Sync before it polls its
// descriptor: so whatever state Readiness shows has been notified before
// it was shown. An edge-triggered guest epoll depends on that order: a
// notification arriving after a report of the same change would make it
// report the change twice.
//
// Lock order: Poller.syncMu, then Poller.mu; notify callbacks run under
// syncMu and must not call Sync (waiter.Queue.Notify is what they do).
package fdnotify

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Poller watches host descriptors. The zero value is ready to use; it
// starts its epoll instance and goroutine at the first Add.
type Poller struct {
	once sync.Once
	// epfd is the epoll instance, or -1 if it could not be made (err).
	// Set by once.
	epfd int
	err  error
	// started is set once epfd is usable.
	started atomic.Bool

	// syncMu serialises Sync; evs is its buffer. Protected by syncMu.
	syncMu sync.Mutex
	evs    []unix.EpollEvent

	mu sync.Mutex
	// notify maps a registration's id to its callback. Protected by mu.
	notify map[int32]func(events uint32)
	// next is the next id to try. Protected by mu.
	next int32
}

// Events are what every registration asks the host to report.
const Events = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLPRI | unix.EPOLLRDHUP | unix.EPOLLERR | unix.EPOLLHUP

func (p *Poller) start() {
	p.epfd, p.err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if p.err != nil {
		p.epfd = -1
		return
	}
	p.notify = make(map[int32]func(uint32))
	p.evs = make([]unix.EpollEvent, 64)
	p.started.Store(true)
	go p.loop()
}

// Add watches fd and calls notify with the events of each change. The
// returned id is Remove's argument. Registrations are keyed by id, not
// by fd, so an event taken for a descriptor that was then closed and its
// number reused never reaches the new one.
func (p *Poller) Add(fd int, notify func(events uint32)) (int32, error) {
	p.once.Do(p.start)
	if p.err != nil {
		return 0, p.err
	}
	p.mu.Lock()
	for {
		p.next++
		if p.next <= 0 {
			p.next = 1
		}
		if _, used := p.notify[p.next]; !used {
			break
		}
	}
	id := p.next
	p.notify[id] = notify
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: Events | unix.EPOLLET, Fd: id}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.notify, id)
		p.mu.Unlock()
		return 0, err
	}
	return id, nil
}

// Remove stops watching fd, registered as id; an event already taken for
// it is dropped.
//
// Preconditions: fd is still open.
func (p *Poller) Remove(fd int, id int32) {
	if !p.started.Load() {
		return
	}
	unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	p.mu.Lock()
	delete(p.notify, id)
	p.mu.Unlock()
}

// loop sleeps until the host epoll has events and delivers them.
func (p *Poller) loop() {
	pfd := []unix.PollFd{{Fd: int32(p.epfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(pfd, -1); err != nil {
			continue // EINTR
		}
		p.Sync()
	}
}

// Sync takes every event the host epoll holds and calls its callback.
// When it returns, every change of a watched descriptor that came before
// the call has been notified.
func (p *Poller) Sync() {
	if !p.started.Load() {
		return
	}
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	for {
		n, err := unix.EpollWait(p.epfd, p.evs, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		for _, ev := range p.evs[:n] {
			p.mu.Lock()
			f := p.notify[ev.Fd]
			p.mu.Unlock()
			if f != nil {
				f(ev.Events)
			}
		}
		if n < len(p.evs) {
			return
		}
	}
}
