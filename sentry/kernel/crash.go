package kernel

import (
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/platform"
)

// A Sentry bug (a Go panic) on a task goroutine must not look like
// anything a guest could do, and must not leave the sandbox half alive:
// the task loop recovers it (recoverTaskPanic), logs it with what the task
// was serving and the goroutine's stack, and declares the kernel crashed.
// Whoever runs the kernel (runsc/boot) waits for Crashed next to Wait and
// ends the whole sandbox. The crashed goroutine never resumes: its state,
// and any lock it held, are left as they were.

// crashState records the first crash of a kernel.
type crashState struct {
	// mu protects the fields below. It is a leaf, and nothing else is
	// locked while it is held, so a goroutine that panicked holding any
	// other lock can still report.
	mu sync.Mutex
	// err is the first crash's reason, or nil.
	err error
	// ch is closed on the first crash; made on first use.
	ch chan struct{}
}

// chLocked returns ch, making it.
//
// Preconditions: crashState.mu is held.
func (c *crashState) chLocked() chan struct{} {
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// Crash declares the kernel broken beyond repair (a Sentry bug, or a
// resource it cannot run without, such as the gofer): err is logged and
// Crashed is closed. Only the first crash's reason is kept. Crash takes no
// Sentry lock but its own leaf.
func (k *Kernel) Crash(err error) {
	// Log first: whoever waits on Crashed may end the process at once.
	if k.CrashReason() == nil {
		k.Log.Output(2, "E sandbox crashed: "+err.Error())
	}
	k.declareCrash(err)
}

// declareCrash records err as the crash's reason and closes Crashed, unless
// the kernel has crashed already; it reports whether this was the first.
func (k *Kernel) declareCrash(err error) bool {
	k.crash.mu.Lock()
	defer k.crash.mu.Unlock()
	if k.crash.err != nil {
		return false
	}
	k.crash.err = err
	close(k.crash.chLocked())
	return true
}

// Crashed is closed once the kernel has crashed (see Crash).
func (k *Kernel) Crashed() <-chan struct{} {
	k.crash.mu.Lock()
	defer k.crash.mu.Unlock()
	return k.crash.chLocked()
}

// CrashReason returns the first crash's reason, or nil.
func (k *Kernel) CrashReason() error {
	k.crash.mu.Lock()
	defer k.crash.mu.Unlock()
	return k.crash.err
}

// taskActivity says what a task goroutine is doing, for a crash report.
// Only the task's goroutine uses it; it costs a store or two per event.
type taskActivity struct {
	// kind is the platform event being served, or activityOther.
	kind platform.EventKind
	// nr is the syscall number (EventSyscall), the fault address
	// (EventFault) or the signal (EventSignal).
	nr uint64
	// other names the activity when kind is activityOther.
	other string
}

// activityOther marks a taskActivity that is not serving a platform event.
const activityOther platform.EventKind = -1

// set records that the task now serves an event of kind; nr as the field
// says.
func (a *taskActivity) set(kind platform.EventKind, nr uint64) { a.kind, a.nr = kind, nr }

// setOther records that the task does something else, named by what.
func (a *taskActivity) setOther(what string) { a.kind, a.other = activityOther, what }

// String describes the activity as a crash report names it.
func (a *taskActivity) String() string {
	switch a.kind {
	case platform.EventSyscall:
		return fmt.Sprintf("syscall %s (%d)", linux.SyscallName(uintptr(a.nr)), a.nr)
	case platform.EventFault:
		return fmt.Sprintf("page fault at %#x", a.nr)
	case platform.EventSignal:
		return fmt.Sprintf("signal %d from the platform", a.nr)
	case activityOther:
		return a.other
	}
	return fmt.Sprintf("platform event %d", a.kind)
}

// recoverTaskPanic is deferred by the task goroutine. If the goroutine is
// panicking, it logs the panic with what the task was serving and the
// goroutine's stack, crashes the kernel, and parks the goroutine for good.
// It takes no Sentry lock: the panic may have struck with any held.
func (k *Kernel) recoverTaskPanic(tid int32, act *taskActivity) {
	r := recover()
	if r == nil {
		return
	}
	// Deferred calls run on top of the panicking frames: the stack shows
	// where the panic happened.
	stack := debug.Stack()
	err := fmt.Errorf("panic in the Sentry serving %v for task %d: %v", act, tid, r)
	if k.CrashReason() == nil {
		k.Log.Output(2, "E sandbox crashed: "+err.Error()+"\n"+strings.TrimRight(string(stack), "\n"))
	} else {
		k.Log.Output(2, "E after the crash, "+err.Error())
	}
	k.declareCrash(err)
	// Parked, not returned: the task's state may be torn, and returning
	// would run its exit path on it.
	select {}
}
