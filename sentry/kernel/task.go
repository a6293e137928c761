package kernel

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

var errNoIDs = errors.New("kernel: out of thread IDs")

// ErrNoSysReturn is returned by syscall handlers that have set the task's
// registers themselves (rt_sigreturn, a successful execve): the return
// value must not be written to rax.
var ErrNoSysReturn = errors.New("no syscall return value")

// Task is a guest thread. Linux: struct task_struct.
type Task struct {
	k  *Kernel
	tg *ThreadGroup
	// tid is the thread ID. Immutable.
	tid int32

	// The fields below are used only by the task's own goroutine, unless
	// marked otherwise.

	// blocking is set while the task waits in Block (/proc's 'S').
	blocking atomic.Bool
	// mm is the address space.
	mm *mm.MemoryManager
	// exe is the location of the program mm runs, with a reference, or
	// zero; /proc/PID/exe opens it even once renamed or unlinked.
	// Written by the task's own goroutine with Kernel.mu held; read by
	// others with Kernel.mu held. Linux: mm_struct::exe_file.
	exe vfs.VirtualDentry
	// st is the register state.
	st platform.State
	// pctx runs the task's guest code.
	pctx platform.Context
	// fdTable and fs may be shared with other tasks.
	fdTable *FDTable
	fs      *FSContext
	// creds are the credentials. Replaced, never mutated, so readers
	// may keep a pointer.
	creds atomic.Pointer[Credentials]
	// ctx carries the task to lower layers (credentials, blocking).
	ctx context.Context

	// Signal state, protected by Kernel.mu.
	sigMask   linux.SignalSet
	savedMask linux.SignalSet
	hasSaved  bool
	pending   signalQueue
	// sigWaiting are the signals rt_sigtimedwait is waiting for.
	sigWaiting linux.SignalSet
	altStack   linux.SignalStack
	// interruptCh wakes the task from Block when a signal arrives.
	interruptCh chan struct{}

	// comm is the task name. Protected by Kernel.mu.
	comm string
	// exiting is set once the task has started to exit. Protected by
	// Kernel.mu.
	exiting bool
	// clearChildTID is set_tid_address's address.
	clearChildTID uint64
	// robustList is set_robust_list's head and length.
	robustList, robustLen uint64
	// vforkDone is closed when a vfork child execs or exits. Protected
	// by Kernel.mu.
	vforkDone chan struct{}
	// nice is the nice value; cpuMask the recorded CPU affinity.
	// Protected by Kernel.mu.
	nice    int
	cpuMask []byte
	// io is the I/O priority (ioprio_set(2)). Protected by Kernel.mu.
	// Linux: task_struct::io_context.
	io ioContext
	// mempolicy is the task's NUMA policy (set_mempolicy(2)), inherited
	// by its children and threads. Protected by Kernel.mu. Linux:
	// task_struct::mempolicy.
	mempolicy mm.Policy
	// restartBlock is the call restart_syscall resumes.
	restartBlock func(t *Task) (uint64, error)
	// stats
	syscallCount uint64
	// lastFaultPage is the page of the task's previous event if it was a
	// fault, else noFaultPage (see mm.HandleFault's repeated).
	lastFaultPage uint64

	// pdeathSig is PR_SET_PDEATHSIG's signal, sent to this task's
	// process when the thread that created it exits (0: none).
	// Protected by Kernel.mu. Linux: task_struct::pdeath_signal.
	pdeathSig int
	// nprocUID is the real UID the task is counted under for
	// RLIMIT_NPROC (nproc.go). Protected by Kernel.mu.
	nprocUID uint32
	// nprocExceeded is set when a set*uid call moved the task to a real
	// UID that was over RLIMIT_NPROC: execve then checks again.
	// Protected by Kernel.mu. Linux: PF_NPROC_EXCEEDED.
	nprocExceeded bool

	// seccomp is the seccomp mode and filters; nil is mode 0. Written
	// with Kernel.mu held, by the task itself or by another thread's
	// SECCOMP_FILTER_FLAG_TSYNC; read without a lock. Linux:
	// task_struct::seccomp.
	seccomp atomic.Pointer[seccompState]

	// timerSlack is PR_SET_TIMERSLACK's value in nanoseconds (0: the
	// default). Recorded only: timers do not coalesce. Protected by
	// Kernel.mu. Linux: task_struct::timer_slack_ns.
	timerSlack uint64

	// personality is personality(2)'s value (personality.go).
	personality atomic.Uint32
	// schedPolicy is the scheduling policy sched_setattr set (SCHED_*,
	// with SCHED_RESET_ON_FORK); recorded only (sched.go). Protected by
	// Kernel.mu.
	schedPolicy int32

	// ptrace is the task's state as a tracer and as a tracee
	// (ptrace.go). Protected by Kernel.mu.
	ptrace ptraceState
}

// Kernel returns the task's kernel.
func (t *Task) Kernel() *Kernel { return t.k }

// ThreadGroup returns the task's process.
func (t *Task) ThreadGroup() *ThreadGroup { return t.tg }

// ThreadID returns the task's thread ID.
func (t *Task) ThreadID() int32 { return t.tid }

// MemoryManager returns the task's address space.
func (t *Task) MemoryManager() *mm.MemoryManager { return t.mm }

// Regs returns the task's registers, for syscall handlers that change them.
func (t *Task) Regs() *unix.PtraceRegs { return &t.st.Regs }

// FDTable returns the task's file descriptor table.
func (t *Task) FDTable() *FDTable { return t.fdTable }

// FSContext returns the task's root, cwd and umask.
func (t *Task) FSContext() *FSContext { return t.fs }

// Credentials returns the task's credentials.
func (t *Task) Credentials() *Credentials { return t.creds.Load() }

// SetCredentials replaces the task's credentials.
func (t *Task) SetCredentials(c *Credentials) {
	t.creds.Store(c)
	t.ctx = t.newContext()
}

// Context returns a context for calls into lower layers on behalf of t.
func (t *Task) Context() context.Context { return t.ctx }

// Name returns the task's comm.
func (t *Task) Name() string {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.comm
}

// SetName sets the task's comm, truncated to 15 bytes.
func (t *Task) SetName(name string) {
	if len(name) > 15 {
		name = name[:15]
	}
	t.k.mu.Lock()
	changed := t.comm != name
	t.comm = name
	leader := t.tg != nil && t.tg.leader == t
	t.k.mu.Unlock()
	if changed && leader {
		// The host process shows the leader's name (host_title.go).
		t.updateHostTitle()
	}
}

// SetClearChildTID records set_tid_address's address.
func (t *Task) SetClearChildTID(addr uint64) { t.clearChildTID = addr }

// SetRobustList records set_robust_list's list.
func (t *Task) SetRobustList(head, length uint64) { t.robustList, t.robustLen = head, length }

// RobustList returns the robust futex list.
func (t *Task) RobustList() (uint64, uint64) { return t.robustList, t.robustLen }

// SetRestartBlock sets the continuation restart_syscall runs.
func (t *Task) SetRestartBlock(fn func(t *Task) (uint64, error)) { t.restartBlock = fn }

// RestartSyscall runs the pending restart block (restart_syscall(2)).
func (t *Task) RestartSyscall() (uint64, error) {
	fn := t.restartBlock
	t.restartBlock = nil
	if fn == nil {
		return 0, unix.EINTR
	}
	return fn(t)
}

// taskContextKey finds the Task in a context.
type taskContextKey struct{}

// TaskFromContext returns the task a context belongs to, or nil.
func TaskFromContext(ctx context.Context) *Task {
	t, _ := ctx.Value(taskContextKey{}).(*Task)
	return t
}

func (t *Task) newContext() context.Context {
	ctx := context.WithValue(context.Background(), taskContextKey{}, t)
	ctx = vfs.WithCredentials(ctx, t.Credentials().VFS())
	return vfs.WithBlocker(ctx, t)
}

// Block implements vfs.Blocker: it waits for ch, or for a signal.
func (t *Task) Block(ch <-chan struct{}) error {
	t.blocking.Store(true)
	defer t.blocking.Store(false)
	for {
		if t.interrupted() {
			return vfs.ErrInterrupted
		}
		select {
		case <-ch:
			return nil
		case <-t.interruptCh:
			// A wake-up with nothing for this task to handle (a
			// signal it blocks, one another thread took, a token left
			// from a wake-up while it ran guest code) is not an
			// interruption: returning one made the call restart, and
			// a restarted connect(2) fails with EALREADY.
		}
	}
}

// interrupted reports whether the task must leave a blocking call: a
// signal is waiting to be handled or, in rt_sigtimedwait, taken; the task
// is exiting; or its process is stopping.
func (t *Task) interrupted() bool {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	awaited := (t.pending.set | t.tg.pending.set) & t.sigWaiting
	return t.exiting || t.tg.stopped || awaited != 0 || t.deliverableLocked() != 0 || t.ptrace.interrupt
}

// wake interrupts the task's blocking call or guest execution.
//
// Preconditions: Kernel.mu is held.
func (t *Task) wakeLocked() {
	select {
	case t.interruptCh <- struct{}{}:
	default:
	}
	if t.pctx != nil {
		t.pctx.Interrupt()
	}
}

// Start runs the task in a new goroutine.
func (t *Task) Start() {
	go t.run()
}

// run is the task goroutine: it runs guest code and serves what comes
// back until the task exits.
func (t *Task) run() {
	// The OS thread is never unlocked: it traces this task's stub
	// threads, and Go ends it when the goroutine returns.
	runtime.LockOSThread()
	// A panic anywhere below is a Sentry bug: it crashes the sandbox,
	// naming what the task was serving.
	act := taskActivity{kind: activityOther, other: "task start"}
	defer t.k.recoverTaskPanic(t.tid, &act)
	pctx, err := t.k.Platform.NewContext()
	if err != nil {
		t.k.Warnf("task %d: no platform context: %v", t.tid, err)
		t.exitGroup(WaitStatusSignaled(int(unix.SIGKILL), false))
		t.finishExit()
		return
	}
	t.k.mu.Lock()
	t.pctx = pctx
	t.k.mu.Unlock()
	for {
		act.setOther("signal delivery")
		if t.handleSignals() {
			break
		}
		act.setOther("the switch into guest code")
		mark := t.accountSentry()
		ev, err := pctx.Switch(t.mm.AddressSpace(), &t.st)
		t.k.leaveGuest()
		t.accountGuest(mark)
		if err != nil {
			t.k.Warnf("task %d: platform failed: %v; killing its process", t.tid, err)
			t.exitGroup(WaitStatusSignaled(int(unix.SIGKILL), false))
			continue
		}
		if ev.Kind != platform.EventFault {
			t.lastFaultPage = noFaultPage
		}
		switch ev.Kind {
		case platform.EventSyscall:
			act.set(ev.Kind, t.st.Regs.Orig_rax)
			if t.enteredThroughInt80() {
				t.refuseInt80()
			} else {
				t.doSyscall()
			}
		case platform.EventFault:
			act.set(ev.Kind, ev.Addr)
			page := ev.Addr &^ 0xfff
			repeated := page == t.lastFaultPage
			t.lastFaultPage = page
			if err := t.mm.HandleFault(ev.Addr, repeated); err != nil {
				code := int32(linux.SEGV_MAPERR)
				var fe *mm.FaultError
				bus := ev.Signo == int(unix.SIGBUS)
				if errors.As(err, &fe) {
					code = fe.Code
					if fe.Bus {
						bus, ev.Code = true, fe.Code
					}
				}
				if bus {
					t.forceSignal(int(unix.SIGBUS), ev.Code, ev.Addr)
				} else {
					t.forceSignal(int(unix.SIGSEGV), code, ev.Addr)
				}
			}
		case platform.EventSignal:
			act.set(ev.Kind, uint64(ev.Signo))
			t.forceSignal(ev.Signo, ev.Code, ev.Addr)
		case platform.EventInterrupted:
		}
	}
	act.setOther("task exit")
	t.k.mu.Lock()
	t.pctx = nil
	t.k.mu.Unlock()
	pctx.Release()
	t.finishExit()
}

// doSyscall serves the system call the task just made.
func (t *Task) doSyscall() {
	t.syscallCount++
	if !t.ptraceSyscallEntry() {
		// PTRACE_SYSEMU, or the tracer made the number -1: skipped,
		// rax as the tracer left it (-ENOSYS unless changed).
		t.ptraceSyscallExit()
		return
	}
	// Read after the entry stop: a tracer may have changed the call.
	nr, args := arch.Args(&t.st.Regs)
	if s := t.seccomp.Load(); s != nil {
		if !t.checkSeccomp(s, nr, args) {
			t.ptraceSyscallExit()
			return
		}
		// A tracer may have changed the call (SECCOMP_RET_TRACE).
		nr, args = arch.Args(&t.st.Regs)
	}
	if nr == unix.SYS_EXIT || nr == unix.SYS_EXIT_GROUP {
		t.ptraceExitEvent(WaitStatusExited(int(args[0] & 0xff)))
	}
	tid := t.tid
	ret, err := t.k.Syscalls.Dispatch(t, nr, args)
	if err == ErrNoSysReturn {
		if nr == unix.SYS_EXECVE || nr == unix.SYS_EXECVEAT {
			t.ptraceExec(tid)
		}
		t.ptraceSyscallExit()
		return
	}
	if err != nil {
		ret = uint64(-int64(t.errnoOf(nr, err)))
	}
	arch.SetReturn(&t.st.Regs, ret)
	// Remember the number for a restart (see handleSignals).
	t.st.Regs.Orig_rax = nr
	t.ptraceSyscallExit()
}

// errnoOf turns a handler's error into an errno.
func (t *Task) errnoOf(nr uint64, err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, vfs.ErrInterrupted) {
		return linux.ERESTARTSYS
	}
	t.k.Warnf("task %d: syscall %s returned a non-errno error: %v", t.tid, linux.SyscallName(uintptr(nr)), err)
	return unix.EIO
}

// FPState returns the task's FP state, fetched from the platform.
func (t *Task) FPState() arch.FPState {
	if err := t.pctx.PullFP(&t.st); err != nil {
		t.k.Warnf("task %d: reading FP state: %v", t.tid, err)
	}
	return t.st.FP
}

// MarkFPModified says the FP state was changed by the Sentry.
func (t *Task) MarkFPModified() { t.st.FPValid = true }

// CopyIn copies guest memory at addr into dst.
func (t *Task) CopyIn(addr uint64, dst []byte) (int, error) { return t.mm.CopyIn(addr, dst) }

// PinIn pins n bytes of guest memory at addr for reading without the
// memory manager's lock (mm.MemoryManager.PinIn).
func (t *Task) PinIn(addr uint64, n int) (*mm.Pinned, int, error) { return t.mm.PinIn(addr, n) }

// CopyOut copies src to guest memory at addr.
func (t *Task) CopyOut(addr uint64, src []byte) (int, error) { return t.mm.CopyOut(addr, src) }

// CopyInString reads a NUL-terminated string of at most max bytes.
func (t *Task) CopyInString(addr uint64, max int) (string, error) {
	return t.mm.CopyInString(addr, max)
}

// taskMemory adapts a task's memory to vfs.UserMemory.
type taskMemory struct{ t *Task }

// UserMemory returns the task's memory for ioctl handlers.
func (t *Task) UserMemory() vfs.UserMemory { return taskMemory{t} }

func (m taskMemory) CopyIn(addr uintptr, dst []byte) (int, error) {
	return m.t.mm.CopyIn(uint64(addr), dst)
}

func (m taskMemory) CopyOut(addr uintptr, src []byte) (int, error) {
	return m.t.mm.CopyOut(uint64(addr), src)
}

// noFaultPage marks that a task's previous event was not a fault.
const noFaultPage = ^uint64(0)
