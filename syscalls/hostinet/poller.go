package hostinet

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs/fdnotify"
)

// poller registers every host socket with one fdnotify.Poller, which
// calls each endpoint's notify with the events that became ready.
// Edge-triggered suffices: the socket layer registers its waiter, then
// retries the call, then sleeps; any change after the retry makes a new
// edge.
type poller struct {
	fdnotify.Poller

	// limitOnce sets max at the first socket.
	limitOnce sync.Once
	// max bounds open: the Sentry's own descriptors (files the gofer
	// donates, pipes) must not run out because a guest made sockets.
	// Set by limitOnce (tests lower it).
	max atomic.Int64
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

func (p *poller) setLimit() {
	limit := int64(minMaxSockets)
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur/maxSocketsFraction > minMaxSockets {
		limit = int64(min(rl.Cur/maxSocketsFraction, 1<<20))
	}
	p.max.Store(limit)
}

// add registers e, giving it its id, or fails with ENFILE when the
// process holds as many host sockets as it allows.
func (p *poller) add(e *Endpoint) error {
	p.limitOnce.Do(p.setLimit)
	if p.open.Add(1) > p.max.Load() {
		p.open.Add(-1)
		return unix.ENFILE
	}
	id, err := p.Add(e.fd, func(events uint32) {
		if f := e.notify.Load(); f != nil {
			(*f)(events)
		}
	})
	if err != nil {
		p.open.Add(-1)
		return err
	}
	e.id = id
	return nil
}

// remove unregisters e, whose descriptor is fd; an event already taken
// for it is dropped. The caller closes fd and then decrements open.
//
// Preconditions: fd is still open.
func (p *poller) remove(e *Endpoint, fd int) {
	p.Remove(fd, e.id)
}
