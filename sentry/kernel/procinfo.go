package kernel

import (
	"sort"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/vfs"
)

// This file holds read-only accessors for /proc (vfs/proc, through the
// adapters in runsc/boot). They may be called by any task about any other.

// ThreadGroupByID returns the live or zombie process with ID pid, or nil.
func (k *Kernel) ThreadGroupByID(pid int32) *ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.groups[pid]
}

// LastID returns the most recently allocated thread ID (the last field of
// /proc/loadavg).
func (k *Kernel) LastID() int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return max(k.nextID-1, 0)
}

// LiveTaskCount returns the number of tasks that have not finished
// exiting.
func (k *Kernel) LiveTaskCount() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.live
}

// TaskIDs returns the thread IDs of tg's live tasks in increasing order.
func (tg *ThreadGroup) TaskIDs() []int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	out := make([]int32, 0, len(tg.tasks))
	for t := range tg.tasks {
		out = append(out, t.tid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// TaskWithID returns tg's live task with thread ID tid, or nil.
func (tg *ThreadGroup) TaskWithID(tid int32) *Task {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	t := tg.k.tasks[tid]
	if t == nil || t.tg != tg {
		return nil
	}
	if _, ok := tg.tasks[t]; !ok {
		return nil
	}
	return t
}

// MainTask returns tg's leader if it is still live, else its live task
// with the lowest thread ID, or nil if none is left.
func (tg *ThreadGroup) MainTask() *Task {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	if tg.leader != nil {
		if _, ok := tg.tasks[tg.leader]; ok {
			return tg.leader
		}
	}
	var best *Task
	for t := range tg.tasks {
		if best == nil || t.tid < best.tid {
			best = t
		}
	}
	return best
}

// SignalDispositions returns the signals tg ignores (SIG_IGN) and those
// it catches (a handler).
func (tg *ThreadGroup) SignalDispositions() (ignored, caught linux.SignalSet) {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	if tg.handlers == nil {
		return 0, 0
	}
	for sig := 1; sig <= linux.NumSignals; sig++ {
		switch tg.handlers.actions[sig].Handler {
		case linux.SIG_DFL:
		case linux.SIG_IGN:
			ignored |= linux.SignalSetOf(sig)
		default:
			caught |= linux.SignalSetOf(sig)
		}
	}
	return ignored, caught
}

// SharedPendingSignals returns the signals pending for tg as a whole.
func (tg *ThreadGroup) SharedPendingSignals() linux.SignalSet {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.pending.set
}

// QueuedSignalCount returns the number of signals queued for tg and its
// tasks.
func (tg *ThreadGroup) QueuedSignalCount() int {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	n := 0
	count := func(q *signalQueue) {
		for _, infos := range q.infos {
			n += len(infos)
		}
	}
	count(&tg.pending)
	for t := range tg.tasks {
		count(&t.pending)
	}
	return n
}

// BlockedSignals returns t's signal mask.
func (t *Task) BlockedSignals() linux.SignalSet {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.sigMask
}

// ThreadPendingSignals returns the signals pending for t alone.
func (t *Task) ThreadPendingSignals() linux.SignalSet {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.pending.set
}

// ProcState returns t's state letter for /proc/PID/stat and status: 'Z'
// for a zombie process, 'X' for a thread on its way out, 't' in a ptrace
// stop, 'T' while its process is stopped by job control, 'S' while it
// waits (in Block), 'R' otherwise (running guest code or serving a
// syscall).
func (t *Task) ProcState() byte {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	switch {
	case t.tg.zombie:
		return 'Z'
	case t.exiting:
		return 'X'
	case t.ptrace.stopped && !t.ptrace.listening:
		return 't'
	case t.tg.stopped:
		return 'T'
	case t.blocking.Load():
		return 'S'
	}
	return 'R'
}

// ProcCwd returns t's working directory with a reference, or a zero
// VirtualDentry once t is exiting (its FSContext may be released).
func (t *Task) ProcCwd() vfs.VirtualDentry {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.exiting || t.fs == nil {
		return vfs.VirtualDentry{}
	}
	return t.fs.Cwd()
}

// ProcRoot returns t's root directory with a reference, or a zero
// VirtualDentry once t is exiting.
func (t *Task) ProcRoot() vfs.VirtualDentry {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.exiting || t.fs == nil {
		return vfs.VirtualDentry{}
	}
	return t.fs.Root()
}

// ProcExecutable returns the location of the program t runs with a
// reference, or a zero VirtualDentry if unknown or once t is exiting
// (/proc/PID/exe).
func (t *Task) ProcExecutable() vfs.VirtualDentry {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.exiting || !t.exe.Ok() {
		return vfs.VirtualDentry{}
	}
	t.exe.IncRef()
	return t.exe
}

// ProcUmask returns t's umask, or 0 once t is exiting.
func (t *Task) ProcUmask() uint32 {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.exiting || t.fs == nil {
		return 0
	}
	return t.fs.Umask()
}

// ProcFDTable returns t's descriptor table, or nil once t is exiting.

func (t *Task) ProcFDTable() *FDTable {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.exiting {
		return nil
	}
	return t.fdTable
}

// ProcMemoryManager returns t's address space, or nil once t is exiting.
// The caller gets no user reference: a released address space reads as
// empty.
func (t *Task) ProcMemoryManager() *mm.MemoryManager {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.exiting {
		return nil
	}
	return t.mm
}
