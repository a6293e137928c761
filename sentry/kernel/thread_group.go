package kernel

import (
	"sort"
	"sync"
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
	"golang.org/x/sys/unix"
)

// WaitStatus is a wait(2) status word.
type WaitStatus uint32

// WaitStatusExited is the status of a process that called exit(code).
func WaitStatusExited(code int) WaitStatus { return WaitStatus(code&0xff) << 8 }

// WaitStatusSignaled is the status of a process killed by sig.
func WaitStatusSignaled(sig int, core bool) WaitStatus {
	s := WaitStatus(sig & 0x7f)
	if core {
		s |= 0x80
	}
	return s
}

// Exited reports whether the process exited normally, and its code.
func (w WaitStatus) Exited() (int, bool) { return int(w>>8) & 0xff, w&0x7f == 0 }

// Signaled reports whether the process was killed by a signal, and which.
func (w WaitStatus) Signaled() (int, bool) { return int(w & 0x7f), w&0x7f != 0 && w&0x7f != 0x7f }

// ShellStatus is the status a shell reports: the exit code, or 128+N for
// death by signal N.
func (w WaitStatus) ShellStatus() int {
	if sig, ok := w.Signaled(); ok {
		return 128 + sig
	}
	code, _ := w.Exited()
	return code
}

// SignalHandlers are the signal actions, shared by CLONE_SIGHAND. Linux:
// struct sighand_struct. Protected by Kernel.mu.
type SignalHandlers struct {
	actions [linux.NumSignals + 1]linux.SigAction
}

func (h *SignalHandlers) fork() *SignalHandlers {
	n := *h
	return &n
}

// ThreadGroup is a process. Linux: struct signal_struct plus the process
// parts of task_struct.
type ThreadGroup struct {
	k *Kernel
	// id is the thread group ID (the PID). Immutable.
	id int32

	// The fields below are protected by Kernel.mu.

	leader *Task
	tasks  map[*Task]struct{}
	// hostArgs is the command line the host process of the group's
	// address space shows (host_title.go).
	hostArgs string
	// parent is the process wait(2)s for this one.
	parent   *ThreadGroup
	children map[*ThreadGroup]struct{}
	// pgid and sid are the process group and session IDs.
	pgid, sid int32
	handlers  *SignalHandlers
	pending   signalQueue
	// exiting is set once the group has begun to exit; exitStatus is
	// then final.
	exiting    bool
	exitStatus WaitStatus
	// zombie is set when every task has exited and the group awaits
	// wait(2).
	zombie bool
	// exitSignal is sent to the parent on exit (clone's low byte).
	exitSignal int
	// childEvents is closed (and replaced) when a child changes state.
	childEvents chan struct{}
	// limits are the resource limits. Protected by limitsMu, a leaf lock
	// of its own so that the checks on hot paths (every write, for
	// RLIMIT_FSIZE) don't take Kernel.mu.
	limitsMu sync.Mutex
	limits   [unix.RLIMIT_RTTIME + 1]unix.Rlimit
	// startTime is when the process was created.
	startTime time.Time
	// uid is the real UID at exit, for waitid's si_uid.
	uid uint32
	// zombieCounted says the zombie still counts as one task of
	// zombieUID against the task cap and RLIMIT_NPROC, until reaped
	// (nproc.go). Protected by Kernel.mu.
	zombieCounted bool
	zombieUID     uint32
	// realTimer is ITIMER_REAL. Protected by Kernel.mu.
	realTimer realTimer
	// threadExited, when not nil, is closed when a thread exits.
	// Protected by Kernel.mu.
	threadExited chan struct{}

	// Job control, protected by Kernel.mu. stopped is set while the
	// process is stopped by stopSig; resumed is closed by SIGCONT.
	// stopReport and contReport are pending reports for wait(2)
	// (WUNTRACED, WCONTINUED).
	stopped    bool
	stopSig    int
	resumed    chan struct{}
	stopReport bool
	contReport bool
	// stopGen counts group-stops, so a tracee reports each one to its
	// tracer once (ptrace.go).
	stopGen uint64

	// creator is the thread that forked this process; its exit sends
	// the parent-death signals (PR_SET_PDEATHSIG). nil if not recorded
	// (then the parent process's last thread counts). Protected by
	// Kernel.mu. Linux: the task_struct::real_parent thread.
	creator *Task
	// notDumpable is PR_SET_DUMPABLE(0) (inverted so the zero value is
	// Linux's default, dumpable). Protected by Kernel.mu. Linux:
	// mm_struct::flags MMF_DUMPABLE bits.
	notDumpable bool
	// exited is closed when the last thread has exited (the process
	// became a zombie; exitStatus is final). Made with the process.
	exited chan struct{}
	// pidfdQueue wakes pollers of pidfds on the process when it exits.
	pidfdQueue waiter.Queue
	// noCtty is set when the process gave up its controlling terminal
	// with TIOCNOTTY without being the session leader. Protected by
	// Kernel.mu. Linux: signal_struct::tty == NULL.
	noCtty bool
}

// ID returns the process ID.
func (tg *ThreadGroup) ID() int32 { return tg.id }

// Leader returns the thread group leader (nil once reaped).
func (tg *ThreadGroup) Leader() *Task {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.leader
}

// ParentID returns the parent's PID (0 for init).
func (tg *ThreadGroup) ParentID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	if tg.parent == nil {
		return 0
	}
	return tg.parent.id
}

// ProcessGroupID returns the process group ID.
func (tg *ThreadGroup) ProcessGroupID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.pgid
}

// SessionID returns the session ID.
func (tg *ThreadGroup) SessionID() int32 {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.sid
}

// IsZombie reports whether the process has exited and awaits reaping.
func (tg *ThreadGroup) IsZombie() bool {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.zombie
}

// TaskCount returns the number of live threads.
func (tg *ThreadGroup) TaskCount() int {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return len(tg.tasks)
}

// StartTime returns when the process was created.
func (tg *ThreadGroup) StartTime() time.Time { return tg.startTime }

// Limit returns resource limit r.
func (tg *ThreadGroup) Limit(r int) unix.Rlimit {
	tg.limitsMu.Lock()
	defer tg.limitsMu.Unlock()
	return tg.limits[r]
}

// copyLimits returns all resource limits, for a new process.
func (tg *ThreadGroup) copyLimits() [unix.RLIMIT_RTTIME + 1]unix.Rlimit {
	tg.limitsMu.Lock()
	defer tg.limitsMu.Unlock()
	return tg.limits
}

// SetLimit sets resource limit r. Raising a hard limit needs
// CAP_SYS_RESOURCE (checked by the caller).
func (tg *ThreadGroup) SetLimit(r int, l unix.Rlimit) {
	tg.limitsMu.Lock()
	defer tg.limitsMu.Unlock()
	tg.limits[r] = l
}

// notifyChildEventLocked wakes wait(2)ers of tg.
func (tg *ThreadGroup) notifyChildEventLocked() {
	close(tg.childEvents)
	tg.childEvents = make(chan struct{})
}

// SetProcessGroup implements setpgid(2) for target (tg itself or a child).
func (t *Task) SetProcessGroup(pid, pgid int32) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	target := t.tg
	if pid != 0 && pid != t.tg.id {
		target = k.groups[pid]
		if target == nil || target.parent != t.tg {
			return unix.ESRCH
		}
		if target.sid != t.tg.sid {
			return unix.EPERM
		}
	}
	if pgid < 0 {
		return unix.EINVAL
	}
	if pgid == 0 {
		pgid = target.id
	}
	if target.sid == target.id {
		return unix.EPERM // a session leader can't move
	}
	if pgid != target.id {
		found := false
		for _, g := range k.groups {
			if g.pgid == pgid && g.sid == target.sid && !g.zombie {
				found = true
				break
			}
		}
		if !found {
			return unix.EPERM
		}
	}
	target.pgid = pgid
	return nil
}

// SetSession implements setsid(2).
func (t *Task) SetSession() (int32, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, g := range k.groups {
		if g.pgid == t.tg.id {
			return 0, unix.EPERM
		}
	}
	t.tg.sid, t.tg.pgid = t.tg.id, t.tg.id
	return t.tg.id, nil
}

func sortGroups(gs []*ThreadGroup) {
	sort.Slice(gs, func(i, j int) bool { return gs[i].id < gs[j].id })
}

// WaitOptions select what Wait looks for.
type WaitOptions struct {
	// PID is wait4's pid: > 0 that child, -1 any child, 0 any child in
	// the caller's process group, < -1 any child in process group -PID.
	PID int32
	// Exited (WEXITED, implied by wait4) looks for exited children.
	Exited bool
	// NoHang (WNOHANG) returns at once if no child is ready.
	NoHang bool
	// NoWait (WNOWAIT) leaves the child waitable.
	NoWait bool
	// Stopped (WUNTRACED, WSTOPPED) and Continued (WCONTINUED) look for
	// children stopped or continued by job control signals.
	Stopped, Continued bool
	// Group, when set, is the one child to wait for (waitid P_PIDFD);
	// PID is then ignored.
	Group *ThreadGroup
}

// WaitResult describes a child that changed state.
type WaitResult struct {
	PID    int32
	UID    uint32
	Status WaitStatus
	// Trapped says Status is a ptrace stop (waitid's CLD_TRAPPED).
	Trapped bool
}

// WaitStatusStopped is the status of a process stopped by sig.
func WaitStatusStopped(sig int) WaitStatus { return WaitStatus(sig&0xff)<<8 | 0x7f }

// WaitStatusContinued is the status of a process resumed by SIGCONT.
const WaitStatusContinued WaitStatus = 0xffff

// StopSignal reports whether w is a stop status, and the signal.
func (w WaitStatus) StopSignal() (int, bool) { return int(w>>8) & 0xff, w&0xff == 0x7f }

// Wait implements the wait family: it returns a child that exited, nil
// with WNOHANG if none has yet, or ECHILD if no child matches.
func (t *Task) Wait(opts WaitOptions) (*WaitResult, error) {
	k := t.k
	for {
		k.mu.Lock()
		r, matched := t.ptraceWaitLocked(opts)
		if r != nil {
			k.mu.Unlock()
			return r, nil
		}
		for child := range t.tg.children {
			if !t.waitMatchesLocked(child, opts.PID, opts.Group) {
				continue
			}
			matched = true
			// A child this process traces reports its stops as a
			// tracee only (Linux: !ptrace_reparented).
			traced := child.leader != nil && child.leader.ptrace.tracer != nil && child.leader.ptrace.tracer.tg == t.tg
			if opts.Stopped && child.stopReport && !child.zombie && !traced {
				r := &WaitResult{PID: child.id, Status: WaitStatusStopped(child.stopSig)}
				if !opts.NoWait {
					child.stopReport = false
				}
				k.mu.Unlock()
				return r, nil
			}
			if opts.Continued && child.contReport && !child.zombie && !traced {
				r := &WaitResult{PID: child.id, Status: WaitStatusContinued}
				if !opts.NoWait {
					child.contReport = false
				}
				k.mu.Unlock()
				return r, nil
			}
			if child.zombie && opts.Exited {
				r := &WaitResult{PID: child.id, UID: child.uid, Status: child.exitStatus}
				if !opts.NoWait {
					k.reapLocked(child)
				}
				k.mu.Unlock()
				return r, nil
			}
		}
		if !matched {
			k.mu.Unlock()
			return nil, unix.ECHILD
		}
		if opts.NoHang {
			k.mu.Unlock()
			return nil, nil
		}
		ch := t.tg.childEvents
		k.mu.Unlock()
		if err := t.Block(ch); err != nil {
			return nil, err
		}
	}
}

func (t *Task) waitMatchesLocked(child *ThreadGroup, pid int32, group *ThreadGroup) bool {
	if group != nil {
		return child == group
	}
	switch {
	case pid > 0:
		return child.id == pid
	case pid == -1:
		return true
	case pid == 0:
		return child.pgid == t.tg.pgid
	default:
		return child.pgid == -pid
	}
}

// reapLocked removes a zombie from the process tree.
func (k *Kernel) reapLocked(tg *ThreadGroup) {
	delete(k.groups, tg.id)
	k.releaseZombieLocked(tg)
	if tg.parent != nil {
		delete(tg.parent.children, tg)
		// Fold the child's times into the parent's now: until a
		// getrusage, times or wait4 with rusage did it, every reaped
		// child stayed in memory (a shell leaked ~14 KiB per command).
		tg.parent.foldChildrenLocked()
	}
}
