package kernel

import (
	"bytes"
	"errors"
	"sort"
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/platform"
)

// This file holds what the sandbox's control server (runsc/boot, serving
// runsc's ps, kill --all, events --stats, exec and wait) asks of the
// kernel from outside any task.

// ProcessInfo describes one process for `runsc ps`.
type ProcessInfo struct {
	// PID and PPID are the sandbox's IDs; PPID is 0 for init and for
	// processes started from outside (runsc exec), as a process that
	// joined a PID namespace with setns(2) shows from inside.
	PID, PPID int32
	// UID and GID are the effective IDs of the main thread (what ps(1)
	// shows in its UID column).
	UID, GID uint32
	// State is the main thread's state letter as /proc/PID/stat shows
	// it: R, S, T, Z or X.
	State byte
	// StartTime is when the process was created.
	StartTime time.Time
	// CPU is the CPU time of the process's threads, live and exited
	// (not of its children).
	CPU Usage
	// Comm is the command name (/proc/PID/comm); Argv the command line
	// (/proc/PID/cmdline split at NULs), empty for a zombie.
	Comm string
	Argv []string
	// Threads is the number of live threads.
	Threads int
	// HostPID is the host process (a ptrace stub) that runs the
	// process's address space, as numbered in the Sentry's own PID
	// namespace, or 0 if the platform cannot tell (or the process has
	// not run yet, or is a zombie).
	HostPID int
}

// maxCmdlineBytes bounds the command line Processes reads per process, as
// /proc/PID/cmdline's reader does: a guest chooses its length.
const maxCmdlineBytes = 4096

// Processes returns every process of the sandbox, zombies included, in PID
// order.
func (k *Kernel) Processes() []ProcessInfo {
	type item struct {
		info ProcessInfo
		main *Task
	}
	k.mu.Lock()
	items := make([]item, 0, len(k.groups))
	for _, tg := range k.groups {
		info := ProcessInfo{PID: tg.id, StartTime: tg.startTime, Threads: len(tg.tasks)}
		if tg.parent != nil {
			info.PPID = tg.parent.id
		}
		main := tg.mainTaskLocked()
		switch {
		case tg.zombie:
			info.State = 'Z'
			info.UID = tg.uid
		case main != nil:
			c := main.Credentials()
			info.UID, info.GID = c.EffectiveUID, c.EffectiveGID
			info.Comm = main.comm
		}
		info.CPU = tg.usageLocked()
		if tg.zombie || main == nil || main.exiting {
			main = nil
			if info.State == 0 {
				info.State = 'X' // every thread on its way out
			}
		}
		items = append(items, item{info, main})
	}
	k.mu.Unlock()
	sort.Slice(items, func(i, j int) bool { return items[i].info.PID < items[j].info.PID })
	out := make([]ProcessInfo, len(items))
	for i, it := range items {
		info := it.info
		if t := it.main; t != nil {
			// Outside Kernel.mu: ProcState and the memory reads take
			// their own locks.
			if info.State == 0 {
				info.State = t.ProcState()
			}
			if m := t.ProcMemoryManager(); m != nil {
				info.Argv = readArgv(m.Layout().ArgvStart, m.Layout().ArgvEnd, m.CopyIn)
				if hp, ok := m.AddressSpace().(platform.HostProcess); ok {
					info.HostPID = hp.HostPID()
				}
			}
		}
		out[i] = info
	}
	return out
}

// readArgv reads the NUL-separated strings in [start, end) of guest
// memory, at most maxCmdlineBytes.
func readArgv(start, end uint64, copyIn func(uint64, []byte) (int, error)) []string {
	if end <= start {
		return nil
	}
	buf := make([]byte, min(end-start, maxCmdlineBytes))
	n, _ := copyIn(start, buf)
	buf = bytes.TrimRight(buf[:n], "\x00")
	if len(buf) == 0 {
		return nil
	}
	var out []string
	for _, s := range bytes.Split(buf, []byte{0}) {
		out = append(out, string(s))
	}
	return out
}

// mainTaskLocked returns tg's leader if live, else its live task with the
// lowest thread ID, or nil.
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) mainTaskLocked() *Task {
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

// Stats are the sandbox's resource counters, for `runsc events --stats`.
type Stats struct {
	// CPU is the CPU time used by every guest task since the kernel
	// started, exited ones included (user: guest code; system: the
	// Sentry serving it; see cputime.go).
	CPU Usage
	// MemoryUsage is the bytes of the memory file in use: guest
	// anonymous memory, tmpfs files and cached file pages.
	MemoryUsage uint64
	// Tasks counts live threads; Processes live processes (zombies
	// excluded).
	Tasks, Processes int
}

// Stats returns the sandbox's resource counters.
func (k *Kernel) Stats() Stats {
	k.mu.Lock()
	s := Stats{CPU: k.goneCPU, Tasks: k.live}
	for _, tg := range k.groups {
		s.CPU.add(tg.usageLocked())
		if !tg.zombie {
			s.Processes++
		}
	}
	k.mu.Unlock()
	if k.MemoryFile != nil {
		s.MemoryUsage = k.MemoryFile.Usage()
	}
	return s
}

// SignalAll sends sig from outside the sandbox to every process in it,
// init included (runc kill --all): each gets it as from SignalProcess, so
// init keeps the protection of a PID namespace's init.
func (k *Kernel) SignalAll(sig int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	groups := make([]*ThreadGroup, 0, len(k.groups))
	for _, tg := range k.groups {
		groups = append(groups, tg)
	}
	// The set is taken first: a signal's side effects (a SIGCHLD, a
	// reap) may change k.groups.
	for _, tg := range groups {
		if tg.zombie || tg.leader == nil {
			continue
		}
		info := linux.SignalInfo{Signo: int32(sig), Code: linux.SI_USER}
		k.sendSignalLocked(tg.leader, &info, true, fromOutside)
	}
}

// WaitExit blocks until tg has exited (every thread gone) and returns its
// wait status. It never reaps tg nor disturbs a guest parent's wait(2):
// any number of goroutines may call it, before or after tg exits.
func (tg *ThreadGroup) WaitExit() WaitStatus {
	<-tg.Exited()
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.exitStatus
}

// Exited returns a channel closed once tg has exited, when WaitExit
// returns at once.
func (tg *ThreadGroup) Exited() <-chan struct{} { return tg.exited }

// ErrInitExited is CreateProcess's error once the sandbox's init has
// exited (or is exiting): like a fork into a PID namespace whose init has
// died, no process can start any more.
var ErrInitExited = errors.New("kernel: the sandbox's init has exited")
