// Package epoll implements epoll(7) instances: an interest list of
// (file, descriptor) pairs with the events each is watched for, and a
// ready list of entries that may have events to report.
//
// # How readiness reaches an instance
//
// Each entry registers two waiter.Entries on its file. The first has a
// channel of its own: a value in it means "the file notified since we last
// looked", which is what edge-triggered mode needs and what puts the entry
// on the ready list (Linux's ep_poll_callback). The second shares the
// instance's wake channel; one goroutine per instance (started with the
// first entry, ended when the instance is released) turns a value there
// into a notification of the instance's own queue, which wakes epoll_wait
// callers and anything polling the epoll file (nested epoll, poll(2)).
// Scans (epoll_wait, and polling the epoll file) first move every entry
// whose channel holds a value onto the ready list, then ask the ready
// entries' files for their current readiness, as Linux's ep_send_events
// and ep_item_poll do.
//
// # Differences from Linux
//
// As in Linux, an entry holds no reference on its file: it watches the
// file description's release (vfs.FileDescription.WatchRelease), which
// marks it dead; the next scan or epoll_ctl unlinks dead entries. So an
// entry lives while any descriptor (a dup) keeps the description open,
// and closing the last one releases the file at once. While polling a
// file, a scan holds a reference taken with TryIncRef (a file being
// released is skipped), dropped after EventPoll.mu. Scans look at every
// entry (O(interest list)) to collect notifications, where Linux looks at
// the ready list only. EPOLLEXCLUSIVE is accepted and checked as Linux does,
// but every waiter is woken. EPOLLWAKEUP is ignored.
//
// Lock order:
//
//	nestMu (adding an epoll file to an epoll instance: the loop check)
//	  EventPoll.mu (of an outer instance before that of an instance it watches)
//	    locks taken by files' Readiness (including Kernel.mu for signalfd)
//	      waiter.Queue.mu
package epoll

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// Event flags of struct epoll_event that are not readiness bits. Linux:
// include/uapi/linux/eventpoll.h.
const (
	EPOLLEXCLUSIVE = 1 << 28
	EPOLLWAKEUP    = 1 << 29
	EPOLLONESHOT   = 1 << 30
	EPOLLET        = 1 << 31

	// privateBits are the flags that survive an EPOLLONESHOT report.
	// Linux: EP_PRIVATE_BITS.
	privateBits = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE
	// exclusiveOK are the only bits allowed with EPOLLEXCLUSIVE. Linux:
	// EPOLLEXCLUSIVE_OK_BITS.
	exclusiveOK = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE
	// alwaysReported are reported whether asked for or not.
	alwaysReported = unix.EPOLLERR | unix.EPOLLHUP
)

// epoll_ctl operations.
const (
	CtlAdd = 1
	CtlDel = 2
	CtlMod = 3
)

// maxNests is how deep epoll instances may watch each other. Linux:
// EP_MAX_NESTS.
const maxNests = 4

// EventSize is sizeof(struct epoll_event) on x86-64 (packed).
const EventSize = 12

// Event is one struct epoll_event.
type Event struct {
	Events uint32
	Data   uint64
}

// Marshal writes e in the x86-64 (packed) layout into b[:EventSize].
func (e Event) Marshal(b []byte) {
	binary.LittleEndian.PutUint32(b, e.Events)
	binary.LittleEndian.PutUint64(b[4:], e.Data)
}

// UnmarshalEvent reads a struct epoll_event.
func UnmarshalEvent(b []byte) Event {
	return Event{Events: binary.LittleEndian.Uint32(b), Data: binary.LittleEndian.Uint64(b[4:])}
}

// key identifies an entry: Linux's struct epoll_filefd.
type key struct {
	file *vfs.FileDescription
	fd   int32
}

// entry is one watched file. Linux: struct epitem.
type entry struct {
	key
	// events is the event mask with flags; after an EPOLLONESHOT report
	// only privateBits remain. Protected by EventPoll.mu.
	events uint32
	// data is returned with events. Protected by EventPoll.mu.
	data uint64
	// notified receives a value when the file notifies an event of
	// interest. Immutable (registration changes under EventPoll.mu).
	notified *waiter.Entry
	// wake shares the instance's wake channel. Protected by
	// EventPoll.mu.
	wake *waiter.Entry
	// onReady is set while the entry is on the ready list. Protected by
	// EventPoll.mu.
	onReady bool
	// removed is set once the entry has left the interest list.
	// Protected by EventPoll.mu.
	removed bool
	// dead is set when the file's last reference goes; the entry is
	// then unlinked by the next scan or epoll_ctl.
	dead atomic.Bool
	// prev and next link the interest list. Protected by EventPoll.mu.
	prev, next *entry
}

// pollMask is what the entry asks its file for.
func (e *entry) pollMask() uint32 { return e.events &^ privateBits }

// EventPoll is an epoll instance, the implementation of an epoll file.
// Linux: struct eventpoll.
type EventPoll struct {
	vfs.FileDescriptionDefaultImpl

	// queue holds those waiting for this instance: epoll_wait callers,
	// pollers of the epoll file, and instances watching it.
	queue waiter.Queue
	// wakeCh is shared by the wake registrations of all entries.
	// Immutable.
	wakeCh chan struct{}
	// stop ends the wake goroutine. Immutable.
	stop chan struct{}

	mu sync.Mutex
	// entries indexes the interest list. Protected by mu.
	entries map[key]*entry
	// head and tail are the interest list in insertion order. Protected
	// by mu.
	head, tail *entry
	// ready is the ready list, in the order entries got there.
	// Protected by mu. Linux: eventpoll::rdllist.
	ready []*entry
	// started is set once the wake goroutine runs. Protected by mu.
	started bool
	// released is set when the epoll file is closed. Protected by mu.
	released bool
}

var _ vfs.FileDescriptionImpl = (*EventPoll)(nil)

// New returns a new epoll file with one reference. Close-on-exec is the
// caller's business.
func New() *vfs.FileDescription {
	ep := &EventPoll{
		wakeCh:  make(chan struct{}, 1),
		stop:    make(chan struct{}),
		entries: make(map[key]*entry),
	}
	return vfs.NewFileDescription(ep, unix.O_RDWR, vfs.VirtualDentry{})
}

// FromFile returns the instance of an epoll file, or nil if file is not
// one.
func FromFile(file *vfs.FileDescription) *EventPoll {
	ep, _ := file.Impl().(*EventPoll)
	return ep
}

// Stream implements vfs.FileDescriptionImpl.Stream.
func (ep *EventPoll) Stream() bool { return true }

// Stat implements vfs.FileDescriptionImpl.Stat: an anonymous inode.
func (ep *EventPoll) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{Mask: unix.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (ep *EventPoll) EventRegister(e *waiter.Entry) { ep.queue.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (ep *EventPoll) EventUnregister(e *waiter.Entry) { ep.queue.EventUnregister(e) }

// wakeLoop forwards notifications of watched files to ep's own waiters.
func (ep *EventPoll) wakeLoop() {
	for {
		select {
		case <-ep.wakeCh:
			ep.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
		case <-ep.stop:
			return
		}
	}
}

// Release implements vfs.FileDescriptionImpl.Release: it empties the
// interest list.
func (ep *EventPoll) Release(ctx context.Context) {
	ep.mu.Lock()
	for e := ep.head; e != nil; {
		next := e.next
		ep.unlinkLocked(e)
		e = next
	}
	ep.ready = nil
	ep.released = true
	started := ep.started
	ep.mu.Unlock()
	if started {
		close(ep.stop)
	}
}

// unlinkDeadLocked unlinks the entries whose files were released.
//
// Preconditions: ep.mu is held.
func (ep *EventPoll) unlinkDeadLocked() {
	for e := ep.head; e != nil; {
		next := e.next
		if e.dead.Load() {
			ep.unlinkLocked(e)
		}
		e = next
	}
}

// unlinkLocked removes e from the interest list, its file's queue and its
// file's release watchers.
//
// Preconditions: ep.mu is held.
func (ep *EventPoll) unlinkLocked(e *entry) {
	e.file.UnwatchRelease(e)
	e.file.EventUnregister(e.notified)
	e.file.EventUnregister(e.wake)
	delete(ep.entries, e.key)
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		ep.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		ep.tail = e.prev
	}
	e.prev, e.next = nil, nil
	e.removed = true
}

// register (re)registers e's waiter entries for its current mask.
//
// Preconditions: ep.mu is held.
func (ep *EventPoll) registerLocked(e *entry) {
	mask := e.pollMask()
	if e.notified == nil {
		e.notified = waiter.NewEntry(mask)
	} else {
		e.file.EventUnregister(e.notified)
		e.notified = waiter.NewEntryOn(mask, e.notified.C)
	}
	if e.wake != nil {
		e.file.EventUnregister(e.wake)
	}
	e.wake = waiter.NewEntryOn(mask, ep.wakeCh)
	e.file.EventRegister(e.notified)
	e.file.EventRegister(e.wake)
}

// putReadyLocked puts e at the tail of the ready list unless it is there.
//
// Preconditions: ep.mu is held.
func (ep *EventPoll) putReadyLocked(e *entry) {
	if !e.onReady {
		e.onReady = true
		ep.ready = append(ep.ready, e)
	}
}

// nestMu serialises adding epoll files to epoll instances, so the loop
// check sees a graph that does not grow under it. Linux: epnested_mutex.
var nestMu sync.Mutex

// watchedEpolls returns the epoll instances ep watches.
func (ep *EventPoll) watchedEpolls() []*EventPoll {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var out []*EventPoll
	for e := ep.head; e != nil; e = e.next {
		if inner := FromFile(e.file); inner != nil {
			out = append(out, inner)
		}
	}
	return out
}

// loopCheck reports whether watching to from ep would close a cycle or
// nest instances too deeply. Linux: ep_loop_check.
//
// Preconditions: nestMu is held.
func (ep *EventPoll) loopCheck(to *EventPoll) bool {
	visited := map[*EventPoll]bool{}
	var walk func(cur *EventPoll, depth int) bool
	walk = func(cur *EventPoll, depth int) bool {
		visited[cur] = true
		for _, inner := range cur.watchedEpolls() {
			if visited[inner] {
				continue
			}
			if inner == ep || depth > maxNests {
				return true
			}
			if walk(inner, depth+1) {
				return true
			}
		}
		return false
	}
	return walk(to, 0)
}

// Pollable reports whether epoll may watch file: Linux refuses (EPERM)
// files without a poll operation, which are regular files and
// directories.
func Pollable(ctx context.Context, file *vfs.FileDescription) bool {
	if file.IsPath() {
		return false
	}
	st, err := file.Stat(ctx)
	if err != nil {
		return true
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
		return false
	}
	return true
}

// Control implements epoll_ctl(2) on ep for file, open as descriptor fd.
// ev is ignored for CtlDel. The caller has checked that file can be
// polled (EPERM), that it is not ep's own file, and the descriptors
// (EBADF).
func (ep *EventPoll) Control(op int32, file *vfs.FileDescription, fd int32, ev Event) error {
	if op != CtlDel && ev.Events&EPOLLEXCLUSIVE != 0 {
		if op == CtlMod {
			return unix.EINVAL
		}
		if op == CtlAdd && (FromFile(file) != nil || ev.Events&^exclusiveOK != 0) {
			return unix.EINVAL
		}
	}
	// EPOLLWAKEUP needs CAP_BLOCK_SUSPEND and does nothing here:
	// Linux drops it silently without the capability.
	ev.Events &^= EPOLLWAKEUP
	inner := FromFile(file)
	if op == CtlAdd && inner != nil {
		nestMu.Lock()
		defer nestMu.Unlock()
		if inner == ep || ep.loopCheck(inner) {
			return unix.ELOOP
		}
	}
	k := key{file, fd}
	ep.mu.Lock()
	ep.unlinkDeadLocked()
	e := ep.entries[k]
	switch op {
	case CtlAdd:
		if e != nil {
			ep.mu.Unlock()
			return unix.EEXIST
		}
		e = &entry{key: k, events: ev.Events | alwaysReported, data: ev.Data}
		// The caller holds a reference, so the file is not released yet.
		// The watcher runs wherever the last reference is dropped, so
		// it takes no lock: it marks the entry and pokes the wake
		// goroutine, whose waiters' next scan unlinks it.
		dead, wake := &e.dead, ep.wakeCh
		file.WatchRelease(e, func() {
			dead.Store(true)
			select {
			case wake <- struct{}{}:
			default:
			}
		})
		ep.entries[k] = e
		e.prev = ep.tail
		if ep.tail != nil {
			ep.tail.next = e
		} else {
			ep.head = e
		}
		ep.tail = e
		ep.registerLocked(e)
		// Linux polls the file now and queues the entry if ready;
		// the next scan does the same check.
		ep.putReadyLocked(e)
		if !ep.started {
			ep.started = true
			go ep.wakeLoop()
		}
		ep.mu.Unlock()
		ep.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
		return nil
	case CtlMod:
		if e == nil {
			ep.mu.Unlock()
			return unix.ENOENT
		}
		if e.events&EPOLLEXCLUSIVE != 0 {
			ep.mu.Unlock()
			return unix.EINVAL
		}
		e.events = ev.Events | alwaysReported
		e.data = ev.Data
		ep.registerLocked(e)
		ep.putReadyLocked(e)
		ep.mu.Unlock()
		ep.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
		return nil
	case CtlDel:
		if e == nil {
			ep.mu.Unlock()
			return unix.ENOENT
		}
		ep.unlinkLocked(e)
		ep.mu.Unlock()
		return nil
	}
	ep.mu.Unlock()
	return unix.EINVAL
}

// collectLocked moves entries whose files notified since the last scan
// onto the ready list.
//
// Preconditions: ep.mu is held.
func (ep *EventPoll) collectLocked() {
	ep.unlinkDeadLocked()
	for e := ep.head; e != nil; e = e.next {
		select {
		case <-e.notified.C:
			ep.putReadyLocked(e)
		default:
			// A watched epoll instance forwards its files'
			// notifications through its wake goroutine; until that
			// has run, look at what it has yet to forward.
			if inner := FromFile(e.file); inner != nil && !e.onReady && inner.unforwarded() {
				ep.putReadyLocked(e)
			}
		}
	}
}

// unforwarded reports whether ep's files have notified events that its
// wake goroutine may not have passed on to ep's waiters yet.
func (ep *EventPoll) unforwarded() bool {
	if len(ep.wakeCh) > 0 {
		return true
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for e := ep.head; e != nil; e = e.next {
		if len(e.notified.C) > 0 {
			return true
		}
		if inner := FromFile(e.file); inner != nil && inner.unforwarded() {
			return true
		}
	}
	return false
}

// Readiness implements vfs.FileDescriptionImpl.Readiness: an epoll file is
// readable when some entry has events to report. Entries that turn out
// not to be ready leave the ready list, as in Linux's ep_eventpoll_poll.
func (ep *EventPoll) Readiness(mask uint32) uint32 {
	if mask&(unix.EPOLLIN|unix.EPOLLRDNORM) == 0 {
		return 0
	}
	var held []*vfs.FileDescription
	defer func() { dropRefs(held) }()
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.collectLocked()
	keep := ep.ready[:0]
	ready := false
	for i, e := range ep.ready {
		if e.removed || !e.file.TryIncRef() {
			continue
		}
		held = append(held, e.file)
		if e.file.Readiness(e.pollMask())&e.pollMask() == 0 {
			e.onReady = false
			continue
		}
		ready = true
		keep = append(keep, ep.ready[i:]...)
		break
	}
	clear(ep.ready[len(keep):])
	ep.ready = keep
	if ready {
		return mask & (unix.EPOLLIN | unix.EPOLLRDNORM)
	}
	return 0
}

// report is an event chosen by a scan, not yet delivered.
type report struct {
	e  *entry
	ev Event
}

// WaitOptions configure Wait.
type WaitOptions struct {
	// Max is how many events may be returned (at least 1).
	Max int
	// Block is false for a zero timeout.
	Block bool
	// Deadline ends the wait; zero for none.
	Deadline time.Time
	// Emit delivers events to the caller (copies them out) and returns
	// how many it delivered; an error with none delivered is returned by
	// Wait. Events not delivered stay as they were.
	Emit func([]Event) (int, error)
	// Wait waits for ch; it returns an error (which Wait returns) when
	// the wait must end early, and nil on a spurious interruption.
	Wait func(ch <-chan struct{}) error
}

// Wait implements epoll_wait(2): it delivers up to opts.Max ready events,
// waiting as opts say until there is at least one.
func (ep *EventPoll) Wait(ctx context.Context, opts WaitOptions) (int, error) {
	ch := make(chan struct{}, 1)
	var w *waiter.Entry
	defer func() {
		if w != nil {
			ep.queue.EventUnregister(w)
		}
	}()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		n, err := ep.scan(ctx, opts)
		if n > 0 || err != nil || !opts.Block {
			return n, err
		}
		if !opts.Deadline.IsZero() && !time.Now().Before(opts.Deadline) {
			return 0, nil
		}
		if w == nil {
			// Register, then scan again so that no notification
			// between the scan and the registration is missed.
			w = waiter.NewEntryOn(unix.EPOLLIN|unix.EPOLLRDNORM, ch)
			ep.queue.EventRegister(w)
			if !opts.Deadline.IsZero() {
				timer = time.AfterFunc(time.Until(opts.Deadline), func() {
					select {
					case ch <- struct{}{}:
					default:
					}
				})
			}
			continue
		}
		if err := opts.Wait(ch); err != nil {
			return 0, err
		}
	}
}

// scan takes the ready events and delivers them.
func (ep *EventPoll) scan(ctx context.Context, opts WaitOptions) (int, error) {
	// References taken to poll files are dropped after ep.mu: dropping a
	// last one runs release watchers.
	var held []*vfs.FileDescription
	defer func() { dropRefs(held) }()
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.collectLocked()
	// Look at the ready list in order until Max events are found.
	// Entries found not ready leave it (Linux: ep_send_events).
	var reports []report
	i := 0
	for ; i < len(ep.ready) && len(reports) < opts.Max; i++ {
		e := ep.ready[i]
		if e.removed || !e.file.TryIncRef() {
			continue
		}
		held = append(held, e.file)
		if r := e.file.Readiness(e.pollMask()) & e.pollMask(); r != 0 {
			// A notification that arrived by now is covered by this
			// report (a file notifies before its Readiness shows the
			// new state): drop it, or an edge-triggered entry would
			// be reported again for the same event. One that comes
			// later is a new edge. (Not ready: a token is kept, so a
			// change right after the poll is looked at again.)
			select {
			case <-e.notified.C:
			default:
			}
			reports = append(reports, report{e, Event{Events: r, Data: e.data}})
		} else {
			e.onReady = false
		}
	}
	rest := ep.ready[i:]
	n := 0
	var err error
	if len(reports) > 0 {
		evs := make([]Event, len(reports))
		for j, r := range reports {
			evs[j] = r.ev
		}
		n, err = opts.Emit(evs)
		n = min(max(n, 0), len(reports))
		if n > 0 {
			err = nil
		}
	}
	// Rebuild the ready list: events not delivered first, then entries
	// not looked at, then delivered level-triggered entries, which stay
	// ready until a scan finds them not. Delivered edge-triggered entries
	// wait for a new notification; one-shot ones are disabled until
	// EPOLL_CTL_MOD.
	var ready, requeue []*entry
	for j, r := range reports {
		e := r.e
		switch {
		case j >= n:
			ready = append(ready, e)
		case e.events&EPOLLONESHOT != 0:
			e.events &= privateBits
			e.onReady = false
		case e.events&EPOLLET != 0:
			e.onReady = false
		default:
			requeue = append(requeue, e)
		}
	}
	for _, e := range rest {
		if !e.removed {
			ready = append(ready, e)
		}
	}
	ep.ready = append(ready, requeue...)
	return n, err
}

// dropRefs drops references taken with TryIncRef.
func dropRefs(files []*vfs.FileDescription) {
	for _, f := range files {
		f.DecRef(context.Background())
	}
}
