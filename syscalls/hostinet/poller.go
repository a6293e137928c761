package hostinet

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// poller watches every host socket with one edge-triggered epoll
// instance and calls each endpoint's notify with the events that became
// ready. Edge-triggered suffices: the socket layer registers its waiter,
// then retries the call, then sleeps; any change after the retry makes a
// new edge.
//
// Events leave the host epoll only in deliver, under deliverMu, and are
// notified before it returns; Endpoint.Readiness delivers first. So a
// state Readiness shows was notified before it was shown, as the socket
// layer's contract asks (an edge-triggered guest epoll would otherwise
// see the notification of an edge it already reported arrive later, and
// report it twice).
//
// Lock order: deliverMu, then mu, then the waiter queues notify takes.
type poller struct {
	// once starts the epoll instance and its goroutine at the first
	// socket.
	once sync.Once
	// epfd is the epoll instance, or -1 if it could not be made (err).
	epfd int
	err  error

	// deliverMu serialises deliver. evs is its buffer. Protected by
	// deliverMu.
	deliverMu sync.Mutex
	evs       []unix.EpollEvent

	mu sync.Mutex
	// eps maps an id to its endpoint. Protected by mu.
	eps map[int32]*Endpoint
	// next is the next id to try. Protected by mu.
	next int32
	// max bounds open: the Sentry's own descriptors (files the gofer
	// donates, pipes) must not run out because a guest made sockets.
	// Set at start.
	max int64
	// open counts host sockets from creation until their close(2)
	// returned (a lingering close may outlive the endpoint's entry).
	open atomic.Int64
}

// maxSocketsFraction is the share of the Sentry's RLIMIT_NOFILE its
// guests' host sockets may take.
const maxSocketsFraction = 2 // half

// minMaxSockets is the bound when the limit cannot be read.
const minMaxSockets = 256

// thePoller serves every host socket of the process.
var thePoller poller

// watched is what the poller asks the host to report.
const watched = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLPRI | unix.EPOLLRDHUP | unix.EPOLLERR | unix.EPOLLHUP

func (p *poller) start() {
	p.epfd, p.err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if p.err != nil {
		p.epfd = -1
		return
	}
	p.eps = make(map[int32]*Endpoint)
	p.evs = make([]unix.EpollEvent, 64)
	p.max = minMaxSockets
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur/maxSocketsFraction > minMaxSockets {
		p.max = int64(min(rl.Cur/maxSocketsFraction, 1<<20))
	}
	go p.loop()
}

// add registers e, giving it its id.
func (p *poller) add(e *Endpoint) error {
	p.once.Do(p.start)
	if p.err != nil {
		return p.err
	}
	if p.open.Add(1) > p.max {
		p.open.Add(-1)
		return unix.ENFILE
	}
	p.mu.Lock()
	for {
		p.next++
		if p.next <= 0 {
			p.next = 1
		}
		if _, used := p.eps[p.next]; !used {
			break
		}
	}
	e.id = p.next
	p.eps[e.id] = e
	p.mu.Unlock()
	ev := unix.EpollEvent{Events: watched | unix.EPOLLET, Fd: e.id}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, e.fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.eps, e.id)
		p.mu.Unlock()
		p.open.Add(-1)
		return err
	}
	return nil
}

// remove unregisters e, whose descriptor is fd; an event already taken
// for it is dropped. The caller closes fd and then decrements open.
//
// Preconditions: fd is still open.
func (p *poller) remove(e *Endpoint, fd int) {
	unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	p.mu.Lock()
	delete(p.eps, e.id)
	p.mu.Unlock()
}

// loop sleeps until the host epoll has events and delivers them.
func (p *poller) loop() {
	pfd := []unix.PollFd{{Fd: int32(p.epfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(pfd, -1); err != nil {
			continue // EINTR
		}
		p.deliver()
	}
}

// deliver takes every event the host epoll holds and notifies its
// endpoint. When it returns, every host socket state change that came
// before the call has been notified.
func (p *poller) deliver() {
	if p.epfd < 0 {
		return
	}
	p.deliverMu.Lock()
	defer p.deliverMu.Unlock()
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
			e := p.eps[ev.Fd]
			p.mu.Unlock()
			if e == nil {
				continue
			}
			if f := e.notify.Load(); f != nil {
				(*f)(ev.Events)
			}
		}
		if n < len(p.evs) {
			return
		}
	}
}
