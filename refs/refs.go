// Package refs provides Count, the one reference count of the Sentry's
// counted objects (file descriptions, mounts, dentries, inodes, file
// descriptor tables, filesystem contexts, shared memory objects).
//
// A Count starts at one with Init (the creator's reference). IncRef adds a
// reference and DecRef drops one, reporting true to exactly one caller:
// the one whose call took the count to zero, which then runs the object's
// destructor. A count that goes below zero, or an IncRef on an object whose
// last reference is already gone (resurrecting a freed object), is a Sentry
// bug, never guest input, and panics at once instead of corrupting state
// later. TryIncRef serves holders of weak references; Revive serves caches
// whose lookup and destructor synchronise on a lock of their own (the
// dentry cache).
//
// In tests, CheckLeaks turns on a registry of live counted objects, with
// the stack that created each, and fails the test if objects created
// during it are still live at its end (see leak.go).
//
// The package imports nothing of the module, so every layer (vfs, sentry,
// syscalls) may use it.
package refs

import (
	"fmt"
	"sync/atomic"
)

// Count is an atomic reference count, embedded (as a named field) in a
// counted object. The zero value has no reference: call Init before use.
// A Count must not be copied after Init.
type Count struct {
	n atomic.Int64
}

// Init sets c to one reference, the creator's. owner is the counted object
// (usually the pointer embedding c); it names the object in leak reports
// and is kept only while leak tracking is on.
func (c *Count) Init(owner any) {
	c.n.Store(1)
	if tracking.Load() {
		register(c, owner, false)
	}
}

// IncRef takes a reference. The caller must already hold one (or hold a
// lock that keeps the object alive): an IncRef on a count at zero, whose
// destructor has run or is running, panics.
func (c *Count) IncRef() {
	if n := c.n.Add(1); n <= 1 {
		panic(fmt.Sprintf("refs: IncRef on a released object (count was %d)", n-1))
	}
}

// TryIncRef takes a reference unless the count has already reached zero,
// for holders of weak references (a lookup table that the destructor
// cleans). It reports whether it took one.
func (c *Count) TryIncRef() bool {
	for {
		n := c.n.Load()
		if n <= 0 {
			return false
		}
		if c.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Revive takes a reference even if the count is zero. It is only for a
// cache whose destructor re-checks the count under the same lock the
// caller holds now (vfs.Dentry: a cached child found under its parent's
// childMu), so a revived object is never destroyed. A negative count
// panics.
func (c *Count) Revive() {
	n := c.n.Add(1)
	if n <= 0 {
		panic(fmt.Sprintf("refs: Revive of a count below zero (%d)", n-1))
	}
	if n == 1 && tracking.Load() {
		register(c, nil, true)
	}
}

// DecRef drops a reference. It reports true to the caller that dropped
// the last one, which must then release the object; every other call
// reports false. Dropping a reference that isn't there panics.
func (c *Count) DecRef() bool {
	n := c.n.Add(-1)
	if n > 0 {
		return false
	}
	if n < 0 {
		panic(fmt.Sprintf("refs: DecRef took the count below zero (%d)", n))
	}
	if tracking.Load() {
		unregister(c)
	}
	return true
}

// Load returns the current count. Other goroutines may change it at once:
// use it only for decisions that tolerate that or that a lock makes
// stable (such as "is this mount busy").
func (c *Count) Load() int64 { return c.n.Load() }
