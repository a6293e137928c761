package unixsocket

import (
	"context"

	"github.com/palisade-sandbox/palisade/vfs"
)

// Garbage collection of passed sockets (Linux: net/unix/garbage.c).
//
// A socket's file passed with SCM_RIGHTS is held by the message carrying
// it. A socket sent over itself, or two sockets each holding the other in
// their queues, stay referenced once every descriptor for them is closed:
// nothing can ever receive those messages, yet the files (and whatever
// else the messages carry, a pipe's write end say) would live for ever.
//
// Each socket counts how many queued messages hold its file (passed).
// When a reference to such a socket's file is dropped and others remain,
// the file's drop hook starts a collection on a goroutine of its own (as
// Linux's work queue does), never on the dropping one, which may hold any
// lock. A collection, under Namespace.mu, finds the candidates: passed
// sockets whose every reference comes from queued messages, so no
// descriptor, and no call in progress, can reach them. A candidate is
// alive if a message in the queue of a socket that is not a candidate
// holds it, or one in the queue of an alive candidate does; the others
// are garbage: their queues are emptied, and dropping the files those
// messages held breaks the cycles, so the sockets close as usual.
//
// While Namespace.mu is held no new reference to a candidate can appear:
// only receiving a message (which takes the lock) could make one, since
// no descriptor for it exists.

// passedAdd adds delta to the passed count of every socket among files.
func passedAdd(files []*vfs.FileDescription, delta int32) {
	for _, f := range files {
		if s := FromImpl(f.Impl()); s != nil {
			s.passed.Add(delta)
		}
	}
}

// dropped is the drop hook of s's file: a reference went and others
// remain.
func (s *Socket) dropped() {
	if s.passed.Load() > 0 {
		s.ns.scheduleGC()
	}
}

// scheduleGC starts a collection unless one is already waiting to run.
func (ns *Namespace) scheduleGC() {
	if ns.gcQueued.CompareAndSwap(false, true) {
		go func() {
			ns.gcMu.Lock()
			defer ns.gcMu.Unlock()
			ns.gcQueued.Store(false)
			ns.collect(context.Background())
		}()
	}
}

// gcNode is a passed socket during a collection.
type gcNode struct {
	file *vfs.FileDescription
	// inflight counts the queued messages holding file; internal those
	// in candidates' queues.
	inflight, internal int64
	candidate, alive   bool
}

// forEachPassed calls fn for each socket file held by a message queued
// at s, or for a listener at its not yet accepted connections.
//
// Preconditions: ns.mu is held.
func forEachPassed(s *Socket, fn func(f *vfs.FileDescription, ps *Socket)) {
	queues := [][]*message{s.recvq}
	for _, e := range s.acceptq {
		queues = append(queues, e.recvq)
	}
	for _, q := range queues {
		for _, m := range q {
			for _, f := range m.rights {
				if ps := FromImpl(f.Impl()); ps != nil {
					fn(f, ps)
				}
			}
		}
	}
}

// collect runs one collection.
func (ns *Namespace) collect(ctx context.Context) {
	var d dropList
	ns.mu.Lock()
	nodes := map[*Socket]*gcNode{}
	for s := range ns.live {
		for _, m := range s.recvq {
			for _, f := range m.rights {
				ps := FromImpl(f.Impl())
				if ps == nil || ps.ns != ns {
					continue
				}
				n := nodes[ps]
				if n == nil {
					n = &gcNode{file: f}
					nodes[ps] = n
				}
				n.inflight++
			}
		}
	}
	for _, n := range nodes {
		n.candidate = n.file.Refs() == n.inflight
	}
	for s, n := range nodes {
		if !n.candidate {
			continue
		}
		forEachPassed(s, func(_ *vfs.FileDescription, ps *Socket) {
			if c := nodes[ps]; c != nil && c.candidate {
				c.internal++
			}
		})
	}
	var work []*Socket
	for s, n := range nodes {
		if n.candidate && n.inflight > n.internal {
			n.alive = true
			work = append(work, s)
		}
	}
	for len(work) > 0 {
		s := work[len(work)-1]
		work = work[:len(work)-1]
		forEachPassed(s, func(_ *vfs.FileDescription, ps *Socket) {
			if c := nodes[ps]; c != nil && c.candidate && !c.alive {
				c.alive = true
				work = append(work, ps)
			}
		})
	}
	for s, n := range nodes {
		if n.candidate && !n.alive {
			s.purgeLocked(&d)
			for _, e := range s.acceptq {
				e.purgeLocked(&d)
			}
		}
	}
	ns.mu.Unlock()
	d.release(ctx)
}

// purgeLocked discards s's queued messages, collecting the files they
// hold in d.
//
// Preconditions: ns.mu is held.
func (s *Socket) purgeLocked(d *dropList) {
	for _, m := range s.recvq {
		s.uncharge(m, m.charge)
		passedAdd(m.rights, -1)
		d.files = append(d.files, m.rights...)
	}
	s.recvq, s.recvBytes = nil, 0
	s.queue.Notify(allEvents)
}
