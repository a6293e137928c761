package refs

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// mustPanic runs f and fails t unless it panics with a message containing
// want.
func mustPanic(t *testing.T, what, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s did not panic", what)
			return
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Errorf("%s panicked with %q, want it to mention %q", what, msg, want)
		}
	}()
	f()
}

func TestDecRefReportsTheLastReferenceOnce(t *testing.T) {
	var c Count
	c.Init(nil)
	c.IncRef()
	c.IncRef()
	for i, want := range []bool{false, false, true} {
		if got := c.DecRef(); got != want {
			t.Errorf("DecRef #%d = %v, want %v", i+1, got, want)
		}
	}
	if n := c.Load(); n != 0 {
		t.Errorf("count after dropping every reference = %d, want 0", n)
	}
}

func TestDecRefBelowZeroPanics(t *testing.T) {
	var c Count
	c.Init(nil)
	c.DecRef()
	mustPanic(t, "DecRef of a released count", "below zero", func() { c.DecRef() })
	var zero Count
	mustPanic(t, "DecRef of a count never initialised", "below zero", func() { zero.DecRef() })
}

func TestIncRefOfAReleasedObjectPanics(t *testing.T) {
	var c Count
	c.Init(nil)
	c.DecRef()
	mustPanic(t, "IncRef after the last DecRef", "released", func() { c.IncRef() })
	var zero Count
	mustPanic(t, "IncRef of a count never initialised", "released", func() { zero.IncRef() })
}

func TestTryIncRef(t *testing.T) {
	var c Count
	c.Init(nil)
	if !c.TryIncRef() {
		t.Fatal("TryIncRef of a live count = false, want true")
	}
	if n := c.Load(); n != 2 {
		t.Errorf("count after TryIncRef = %d, want 2", n)
	}
	c.DecRef()
	c.DecRef()
	if c.TryIncRef() {
		t.Error("TryIncRef of a released count = true, want false")
	}
	if n := c.Load(); n != 0 {
		t.Errorf("count after a failed TryIncRef = %d, want 0", n)
	}
}

func TestRevive(t *testing.T) {
	var c Count
	c.Init(nil)
	c.DecRef()
	c.Revive()
	if n := c.Load(); n != 1 {
		t.Errorf("count after Revive from zero = %d, want 1", n)
	}
	if !c.DecRef() {
		t.Error("DecRef of a revived count's only reference = false, want true")
	}
	// A count already corrupted below zero is not revived.
	c.n.Store(-1)
	mustPanic(t, "Revive of a negative count", "below zero", func() { c.Revive() })
}

// TestConcurrentIncDec has goroutines take and drop references at once;
// exactly one DecRef must report the last, and only after every other
// has run. Run it with -race where the race detector works.
func TestConcurrentIncDec(t *testing.T) {
	const goroutines, rounds = 8, 2000
	for trial := 0; trial < 20; trial++ {
		var c Count
		c.Init(nil)
		var lasts atomic.Int32
		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			c.IncRef() // each goroutine's reference, taken while c is live
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					c.IncRef()
					if c.DecRef() {
						lasts.Add(1)
					}
				}
				if c.DecRef() {
					lasts.Add(1)
				}
			}()
		}
		if c.DecRef() {
			lasts.Add(1)
		}
		wg.Wait()
		if n := lasts.Load(); n != 1 {
			t.Fatalf("trial %d: %d DecRefs reported the last reference, want exactly 1", trial, n)
		}
		if n := c.Load(); n != 0 {
			t.Fatalf("trial %d: count at the end = %d, want 0", trial, n)
		}
	}
}

// fakeTB records what CheckLeaks reports.
type fakeTB struct {
	cleanups []func()
	errors   []string
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Cleanup(fn func())         { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(s string, a ...any) { f.errors = append(f.errors, fmt.Sprintf(s, a...)) }
func (f *fakeTB) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

type leaky struct{ refs Count }

func newLeaky() *leaky {
	l := &leaky{}
	l.refs.Init(l)
	return l
}

func TestCheckLeaks(t *testing.T) {
	before := newLeaky() // made before the check: not its business

	var ok fakeTB
	CheckLeaks(&ok)
	a := newLeaky()
	a.refs.IncRef()
	a.refs.DecRef()
	a.refs.DecRef()
	ok.end()
	if len(ok.errors) != 0 {
		t.Errorf("CheckLeaks with every object released reported %q", ok.errors)
	}

	var bad fakeTB
	CheckLeaks(&bad)
	kept := newLeaky()
	released := newLeaky()
	released.refs.DecRef()
	bad.end()
	if len(bad.errors) != 1 {
		t.Fatalf("CheckLeaks with one object live reported %d errors, want 1: %q", len(bad.errors), bad.errors)
	}
	msg := bad.errors[0]
	for _, want := range []string{"1 counted objects leaked", "*refs.leaky created at", "refs.newLeaky", "refs_test.go"} {
		if !strings.Contains(msg, want) {
			t.Errorf("leak report %q does not mention %q", msg, want)
		}
	}
	kept.refs.DecRef()
	before.refs.DecRef()
}
