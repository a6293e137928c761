// Package kernel models the processes of one sandbox: the Kernel, its
// tasks (guest threads) and thread groups (processes), the PID table,
// parent/child relations, signals, credentials, file descriptor tables and
// filesystem contexts, and the task loop that runs guest code through the
// platform and serves its system calls.
//
// Every task is a goroutine locked to its own OS thread for its whole life:
// the ptrace platform requires that a stub thread is always driven by the
// same host thread, and it keeps each guest syscall to one ptrace stop.
//
// Lock order:
//
//	Kernel.mu (tasks, process tree, signal state)
//	  ipc.Namespace.mu (SEM_UNDO at process exit)
//	  ThreadGroup.limitsMu (a leaf)
//	  mm.MemoryManager.mu
//	    memory.File.mu
//	FDTable.mu and FSContext.mu are leaves.
//	crashState.mu is a leaf, taken with any other lock held or none.
package kernel

import (
	"context"
	"fmt"
	"io"
	"log"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel/ipc"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
)

// SyscallDispatcher serves one system call for a task. The syscalls/linux
// package provides it (with strace and the unimplemented-call log).
type SyscallDispatcher interface {
	Dispatch(t *Task, nr uint64, args arch.SyscallArgs) (uint64, error)
}

// UTS holds uname's names.
type UTS struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// Kernel is one sandbox's kernel.
type Kernel struct {
	MemoryFile *memory.File
	Platform   platform.Platform
	VFS        *vfs.VirtualFilesystem
	Mounts     *vfs.MountNamespace
	Syscalls   SyscallDispatcher
	// HWCap and HWCap2 are reported in auxv.
	HWCap, HWCap2 uint64
	// Log receives warnings and debug lines.
	Log *log.Logger
	// Debug enables per-event debug logging.
	Debug bool
	// BootTime is when the kernel started (for /proc and CLOCK_BOOTTIME).
	BootTime time.Time
	// FPLayout is the host's XSAVE area, as the platform reports it.
	FPLayout arch.FPLayout

	// ipcNS is the System V IPC namespace, made on first use (ipc_ns.go).
	ipcNS atomic.Pointer[ipc.Namespace]

	// warnMu protects warned. It is a leaf.
	warnMu sync.Mutex
	// warned counts the lines logged per Warnf format.
	warned map[string]int

	// mu protects the task tables, the process tree and signal state.
	mu sync.Mutex
	// uts is protected by mu.
	uts UTS
	// nextID is the next thread ID to try. Protected by mu.
	nextID int32
	// tasks maps thread IDs to tasks. Protected by mu.
	tasks map[int32]*Task
	// groups maps thread group IDs to thread groups, including zombies
	// until reaped. Protected by mu.
	groups map[int32]*ThreadGroup
	// init is the first process; orphans are reparented to it. Protected
	// by mu.
	init *ThreadGroup
	// done is closed when init has exited and every task is gone.
	done chan struct{}
	// live counts running tasks. Protected by mu.
	live int
	// nrTasks counts tasks against maxTasks, the sandbox's cap: live
	// ones and those clone is creating (see nproc.go). Protected by mu.
	// Linux: nr_threads.
	nrTasks int
	// maxTasks is the cap on nrTasks. Immutable. Linux: max_threads.
	maxTasks int
	// numCPU is the number of CPUs the sandbox has (sched_getaffinity's
	// mask). Immutable. Linux: nr_cpu_ids.
	numCPU int
	// nproc counts the tasks of each real UID, against RLIMIT_NPROC.
	// Protected by mu. Linux: the users' UCOUNT_RLIMIT_NPROC counts.
	nproc map[uint32]int
	// warnedTaskCap is set once a clone was refused at maxTasks.
	// Protected by mu.
	warnedTaskCap bool
	// initStatus is init's wait status. Protected by mu.
	initStatus WaitStatus
	// futexes holds futex waiters; it has its own lock.
	futexes futexTable
	// fsTypes are the filesystem types mount(2) can create
	// (fstypes.go); it has its own lock.
	fsTypes fsTypeRegistry
	// crash records a Sentry crash (crash.go); it has its own leaf lock.
	crash crashState
	// pause is Pause and Resume's state (pause.go).
	pause pauseState
	// goneCPU is the CPU time of the processes that have left groups
	// (reaped), for Stats. Protected by mu.
	goneCPU Usage
}

// Config is what New needs.
type Config struct {
	MemoryFile *memory.File
	Platform   platform.Platform
	VFS        *vfs.VirtualFilesystem
	Mounts     *vfs.MountNamespace
	Syscalls   SyscallDispatcher
	UTS        UTS
	HWCap      uint64
	HWCap2     uint64
	LogOutput  io.Writer
	Debug      bool
	// MaxTasks caps the tasks (threads) of the sandbox: clone fails
	// with EAGAIN beyond it. Zero means DefaultMaxTasks.
	MaxTasks int
	// NumCPU is the number of CPUs the sandbox shows (a container's
	// cpuset or CPU quota may make it fewer than the host's). Zero means
	// the host's (runtime.NumCPU).
	NumCPU int
}

// New returns a kernel with no tasks.
func New(c Config) *Kernel {
	k := &Kernel{
		MemoryFile: c.MemoryFile, Platform: c.Platform, VFS: c.VFS, Mounts: c.Mounts,
		Syscalls: c.Syscalls, HWCap: c.HWCap, HWCap2: c.HWCap2,
		Log: log.New(c.LogOutput, "sentry: ", log.Lmicroseconds), Debug: c.Debug,
		BootTime: time.Now(), uts: c.UTS, nextID: 1,
		tasks: map[int32]*Task{}, groups: map[int32]*ThreadGroup{}, done: make(chan struct{}),
		maxTasks: c.MaxTasks, nproc: map[uint32]int{},
	}
	if k.maxTasks <= 0 {
		k.maxTasks = DefaultMaxTasks
	}
	k.numCPU = c.NumCPU
	if k.numCPU <= 0 {
		k.numCPU = runtime.NumCPU()
	}
	k.FPLayout.Size, k.FPLayout.Features = c.Platform.FPLayout()
	return k
}

// NumCPU returns the number of CPUs the sandbox has: CPUs 0 to
// NumCPU()-1.
func (k *Kernel) NumCPU() int { return k.numCPU }

// UTS returns the uname names.
func (k *Kernel) UTS() UTS {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.uts
}

// SetHostname sets the nodename (sethostname(2)).
func (k *Kernel) SetHostname(name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.uts.Nodename = name
}

// SetDomainname sets the domain name (setdomainname(2)).
func (k *Kernel) SetDomainname(name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.uts.Domainname = name
}

// Wait blocks until the init process has exited and all tasks are gone,
// and returns init's wait status.
func (k *Kernel) Wait() WaitStatus {
	<-k.done
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.initStatus
}

// maxWarningsPerFormat bounds the lines one Warnf call site logs: guests
// can make the same unsupported call in a loop, and must not flood the
// Sentry's log.
const maxWarningsPerFormat = 10

// Warnf logs a warning, at most maxWarningsPerFormat times per format
// string (then one line saying the rest are suppressed).
func (k *Kernel) Warnf(format string, args ...any) {
	k.warnMu.Lock()
	if k.warned == nil {
		k.warned = make(map[string]int)
	}
	n := k.warned[format] + 1
	if n <= maxWarningsPerFormat+1 {
		k.warned[format] = n
	}
	k.warnMu.Unlock()
	switch {
	case n <= maxWarningsPerFormat:
		k.Log.Output(2, "W "+fmt.Sprintf(format, args...))
	case n == maxWarningsPerFormat+1:
		k.Log.Output(2, "W "+fmt.Sprintf(format, args...)+" (further warnings like this are suppressed)")
	}
}

// WarnfEvery logs a warning every time: for callers that log each distinct
// event once already (the dispatcher's unimplemented syscalls).
func (k *Kernel) WarnfEvery(format string, args ...any) {
	k.Log.Output(2, "W "+fmt.Sprintf(format, args...))
}

// Debugf logs a debug line when debugging is on.
func (k *Kernel) Debugf(format string, args ...any) {
	if k.Debug {
		k.Log.Output(2, "D "+fmt.Sprintf(format, args...))
	}
}

// allocIDLocked returns an unused thread ID.
func (k *Kernel) allocIDLocked() (int32, error) {
	const maxID = 1 << 22
	for i := 0; i < maxID; i++ {
		id := k.nextID
		k.nextID++
		if k.nextID >= maxID {
			k.nextID = 2
		}
		if _, ok := k.tasks[id]; ok {
			continue
		}
		if _, ok := k.groups[id]; ok {
			continue
		}
		return id, nil
	}
	return 0, errNoIDs
}

// TaskByID returns the task with thread ID tid, or nil.
func (k *Kernel) TaskByID(tid int32) *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tasks[tid]
}

// ThreadGroups returns the live and zombie processes, by ID order.
func (k *Kernel) ThreadGroups() []*ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*ThreadGroup, 0, len(k.groups))
	for _, tg := range k.groups {
		out = append(out, tg)
	}
	sortGroups(out)
	return out
}

// backgroundContext is used where no task is at hand: files kept open by
// mappings that outlive their creator, kernel teardown. It carries no
// credentials, so nothing done through it may check permissions (the VFS
// panics if it tries rather than acting as anyone).
func (k *Kernel) backgroundContext() context.Context { return context.Background() }
