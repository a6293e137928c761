// Package waiter implements readiness notification for files: a Queue that a
// file embeds, and Entries that pollers (blocking reads, poll, epoll) register
// on it to learn when events they care about may have happened.
//
// Event bits are Linux's epoll bits (unix.EPOLLIN, unix.EPOLLOUT,
// unix.EPOLLERR, unix.EPOLLHUP, unix.EPOLLRDHUP, ...). A notification is a
// hint: the waiter must re-check the file's readiness after waking.
//
// Lock order: Queue.mu is a leaf.
package waiter

import "sync"

// Entry is one registration on a Queue. Its channel C receives a value
// (without blocking the notifier; at most one is buffered) whenever an event in
// its mask is notified.
type Entry struct {
	// C is signalled when an event in Mask is notified. Immutable.
	C chan struct{}
	// mask is the set of events of interest. Protected by the queue's mu.
	mask uint32
}

// NewEntry returns an entry interested in the events in mask.
func NewEntry(mask uint32) *Entry {
	return &Entry{C: make(chan struct{}, 1), mask: mask}
}

// Mask returns the events e is interested in.
func (e *Entry) Mask() uint32 { return e.mask }

// Queue is a set of Entries waiting for events on one object. The zero value
// is ready to use.
type Queue struct {
	mu sync.Mutex
	// entries are the registered entries. Protected by mu.
	entries map[*Entry]struct{}
}

// EventRegister adds e to q.
func (q *Queue) EventRegister(e *Entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.entries == nil {
		q.entries = make(map[*Entry]struct{})
	}
	q.entries[e] = struct{}{}
}

// EventUnregister removes e from q. Removing an entry that is not registered
// does nothing.
func (q *Queue) EventUnregister(e *Entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.entries, e)
}

// Register is a convenience that creates an entry for mask and registers it.
func (q *Queue) Register(mask uint32) *Entry {
	e := NewEntry(mask)
	q.EventRegister(e)
	return e
}

// Notify wakes every entry whose mask intersects mask. It never blocks.
func (q *Queue) Notify(mask uint32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for e := range q.entries {
		if e.mask&mask != 0 {
			select {
			case e.C <- struct{}{}:
			default:
			}
		}
	}
}

// Events returns the union of the masks of all registered entries.
func (q *Queue) Events() uint32 {
	q.mu.Lock()
	defer q.mu.Unlock()
	var m uint32
	for e := range q.entries {
		m |= e.mask
	}
	return m
}

// NewEntryOn returns an entry interested in mask that signals ch, which
// several entries may share (poll waits on many files at once).
func NewEntryOn(mask uint32, ch chan struct{}) *Entry {
	return &Entry{C: ch, mask: mask}
}
