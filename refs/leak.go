package refs

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// tracking turns on the registry of live objects. It only ever goes from
// off to on (CheckLeaks); with it off, Count costs one atomic load more on
// Init and on the last DecRef.
var tracking atomic.Bool

// registry holds the live counted objects created while tracking was on.
var registry struct {
	mu sync.Mutex
	// live maps each tracked count to where its object came from.
	// Protected by mu.
	live map[*Count]*record
	// seq numbers registrations, so a check can tell which objects were
	// created after it began. Protected by mu.
	seq uint64
}

// record is one live tracked object.
type record struct {
	seq   uint64
	owner string
	// revived marks an object brought back from zero by Revive.
	revived bool
	stack   []uintptr
}

func register(c *Count, owner any, revived bool) {
	var pcs [32]uintptr
	n := runtime.Callers(3, pcs[:])
	name := "?"
	if owner != nil {
		name = fmt.Sprintf("%T", owner)
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.live == nil {
		registry.live = make(map[*Count]*record)
	}
	if old := registry.live[c]; old != nil && revived {
		// Revive races with the DecRef that took it to zero, which may
		// not have unregistered it yet; keep the original record.
		return
	}
	if revived {
		name = "(revived)"
	}
	registry.seq++
	registry.live[c] = &record{seq: registry.seq, owner: name, revived: revived, stack: append([]uintptr(nil), pcs[:n]...)}
}

func unregister(c *Count) {
	registry.mu.Lock()
	delete(registry.live, c)
	registry.mu.Unlock()
}

// TB is the part of testing.TB that CheckLeaks uses (refs does not import
// package testing, being linked into the Sentry).
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
}

// CheckLeaks turns leak tracking on and arranges for t to fail, at its
// end, if counted objects created after this call are still live. Call it
// before the test registers its own cleanups (t.Cleanup runs them last
// first, so theirs run before the check). Objects created before the call
// (long-lived fixtures) are not checked. It is not for tests that run in
// parallel with other users of counted objects (t.Parallel), whose
// objects it would count too.
func CheckLeaks(t TB) {
	t.Helper()
	tracking.Store(true)
	registry.mu.Lock()
	start := registry.seq
	registry.mu.Unlock()
	t.Cleanup(func() {
		t.Helper()
		if leaks := Live(start); len(leaks) > 0 {
			t.Errorf("%d counted objects leaked:\n%s", len(leaks), strings.Join(leaks, "\n"))
		}
	})
}

// Live describes the tracked objects still live that were created after
// registration number after (0: all of them), oldest first, each with
// the stack that created it. It is empty unless tracking is on.
func Live(after uint64) []string {
	registry.mu.Lock()
	var rs []*record
	for _, r := range registry.live {
		if r.seq > after {
			rs = append(rs, r)
		}
	}
	registry.mu.Unlock()
	sort.Slice(rs, func(i, j int) bool { return rs[i].seq < rs[j].seq })
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		var b strings.Builder
		fmt.Fprintf(&b, "%s created at:", r.owner)
		frames := runtime.CallersFrames(r.stack)
		for {
			f, more := frames.Next()
			if strings.HasPrefix(f.Function, "testing.") || strings.HasPrefix(f.Function, "runtime.") {
				break
			}
			fmt.Fprintf(&b, "\n\t%s\n\t\t%s:%d", f.Function, f.File, f.Line)
			if !more {
				break
			}
		}
		out = append(out, b.String())
	}
	return out
}
