package kernel

import (
	"sync/atomic"
)

// Pausing the whole sandbox (runc pause, docker pause): every task stops
// at a Sentry boundary, as a cgroup freezer stops a container, and the
// guest can tell only from the time that passed.
//
// A task enters guest code only from the top of its loop (handleSignals
// returning false), and it does so counted in Kernel.inGuest, under
// Kernel.mu, only while the kernel is not paused. Pause sets the flag under
// Kernel.mu, kicks every task out of guest code with the platform's
// interrupt (the kick a signal gives a running task, without waking a task
// blocked in a syscall), and waits until inGuest drops to zero. A task then
// waits at the top of its loop until Resume: one that was running guest
// code, one whose blocking syscall completed, and one created meanwhile
// all end up there. A task that is exiting (SIGKILL, exit_group, an execve
// in another thread, init's death) goes on to exit: it never runs guest
// code again, and holding it would deadlock whoever waits for it.
//
// Signals sent meanwhile are queued as usual (SIGKILL and job control take
// effect at once, as they only change Sentry state) and delivered after
// Resume, at the top of the loop, before the guest runs. Timers go on.

// pauseState is the kernel's pause flag and the tasks in guest code.
type pauseState struct {
	// paused is set between Pause and Resume. Protected by Kernel.mu.
	paused bool
	// resumed is closed by Resume; made by Pause. Protected by
	// Kernel.mu.
	resumed chan struct{}
	// drained is closed once no task runs guest code after Pause;
	// made by Pause. Protected by Kernel.mu.
	drained chan struct{}
	// pausing mirrors paused for the task loop's check after Switch,
	// which takes no lock.
	pausing atomic.Bool
	// inGuest counts tasks between the top of their loop and the end of
	// their Switch. Incremented under Kernel.mu while not paused;
	// decremented without it.
	inGuest atomic.Int64
}

// Pause stops every guest task at a Sentry boundary and returns once none
// runs guest code: tasks running guest code are interrupted, tasks blocked
// in a system call stay blocked and, when the call completes, wait before
// returning to the guest; tasks created meanwhile wait before their first
// instruction. Pause of a paused kernel waits for the same condition and
// changes nothing else. It returns the crash reason if the kernel crashes
// before every task has stopped.
func (k *Kernel) Pause() error {
	k.mu.Lock()
	if !k.pause.paused {
		k.pause.paused = true
		k.pause.resumed = make(chan struct{})
		k.pause.drained = make(chan struct{})
		k.pause.pausing.Store(true)
		for _, t := range k.tasks {
			if t.pctx != nil {
				t.pctx.Interrupt()
			}
		}
	}
	drained, resumed := k.pause.drained, k.pause.resumed
	// pausing was set before inGuest is read here: a task that leaves
	// guest code afterwards sees pausing and closes drained itself.
	if k.pause.inGuest.Load() == 0 {
		k.closeDrainedLocked()
	}
	k.mu.Unlock()
	select {
	case <-drained:
		return nil
	case <-resumed:
		// A concurrent Resume: nothing is paused any more.
		return nil
	case <-k.Crashed():
		return k.CrashReason()
	}
}

// Resume lets every task paused by Pause run guest code again. Resume of a
// kernel that is not paused does nothing.
func (k *Kernel) Resume() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.pause.paused {
		return
	}
	k.pause.paused = false
	k.pause.pausing.Store(false)
	close(k.pause.resumed)
}

// IsPaused reports whether the kernel is between Pause and Resume.
func (k *Kernel) IsPaused() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.pause.paused
}

// closeDrainedLocked closes drained once.
//
// Preconditions: Kernel.mu is held; the kernel is paused.
func (k *Kernel) closeDrainedLocked() {
	select {
	case <-k.pause.drained:
	default:
		close(k.pause.drained)
	}
}

// enterGuestLocked counts a task into guest code.
//
// Preconditions: Kernel.mu is held; the kernel is not paused.
func (k *Kernel) enterGuestLocked() {
	if k.pause.paused {
		panic("kernel: a task entered guest code while the sandbox is paused")
	}
	k.pause.inGuest.Add(1)
}

// waitPausedLocked waits, with Kernel.mu released, until the kernel is
// resumed or t is woken (a signal: SIGKILL makes it exit). The caller
// checks again.
//
// Preconditions: Kernel.mu is held; the kernel is paused.
func (k *Kernel) waitPausedLocked(t *Task) {
	ch := k.pause.resumed
	k.mu.Unlock()
	select {
	case <-ch:
	case <-t.interruptCh:
	}
	k.mu.Lock()
}

// leaveGuest counts a task out of guest code (after Switch returns), and
// tells a waiting Pause when it was the last.
func (k *Kernel) leaveGuest() {
	if k.pause.inGuest.Add(-1) == 0 && k.pause.pausing.Load() {
		k.mu.Lock()
		if k.pause.paused && k.pause.inGuest.Load() == 0 {
			k.closeDrainedLocked()
		}
		k.mu.Unlock()
	}
}
