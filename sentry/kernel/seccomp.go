package kernel

import (
	"sync/atomic"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel/seccomp"
	"golang.org/x/sys/unix"
)

// This file holds guest seccomp: a task's mode and filters
// (seccomp(2), PR_SET_SECCOMP), and the check every system call passes
// before it is dispatched. The filters' programs are validated and run
// by package seccomp.

// Seccomp modes. Linux: SECCOMP_MODE_*.
const (
	SeccompModeDisabled = 0
	SeccompModeStrict   = 1
	SeccompModeFilter   = 2
)

// auditArchX86_64 is the arch of every call that reaches the filters
// (int 0x80 is refused before).
const auditArchX86_64 = unix.AUDIT_ARCH_X86_64

// seccompFilter is one installed filter, linked to those installed
// before it. Immutable: tasks share chains, and a chain's tail is a
// common ancestor of its forks (what TSYNC checks).
type seccompFilter struct {
	prog *seccomp.Program
	prev *seccompFilter
	// log is SECCOMP_FILTER_FLAG_LOG.
	log bool
	// count is the number of filters in the chain, this one included.
	count int
	// insns is the chain's length for the total limit: each program's
	// length plus seccomp.FilterOverhead.
	insns int
}

// seccompState is a task's mode and filters. Immutable: replaced whole.
type seccompState struct {
	mode    int
	filters *seccompFilter
}

// SeccompMode returns the task's mode (PR_GET_SECCOMP, /proc status).
func (t *Task) SeccompMode() int {
	if s := t.seccomp.Load(); s != nil {
		return s.mode
	}
	return SeccompModeDisabled
}

// SeccompFilterCount returns the number of filters installed on the task
// (/proc/PID/status Seccomp_filters).
func (t *Task) SeccompFilterCount() int {
	if s := t.seccomp.Load(); s != nil && s.filters != nil {
		return s.filters.count
	}
	return 0
}

// SetSeccompStrict implements SECCOMP_SET_MODE_STRICT: from now on the
// task may call only read, write, exit and rt_sigreturn; any other call
// kills it with SIGKILL. A task in filter mode gets EINVAL.
func (t *Task) SetSeccompStrict() error {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	cur := t.seccomp.Load()
	if cur != nil && cur.mode != SeccompModeStrict {
		return unix.EINVAL
	}
	t.seccomp.Store(&seccompState{mode: SeccompModeStrict})
	return nil
}

// SeccompFilterOptions are the SECCOMP_FILTER_FLAG_* a filter is
// installed with.
type SeccompFilterOptions struct {
	// TSync installs the filter on every thread of the process
	// (SECCOMP_FILTER_FLAG_TSYNC).
	TSync bool
	// Log is recorded (SECCOMP_FILTER_FLAG_LOG): actions are not
	// written to an audit log here.
	Log bool
}

// AddSeccompFilter implements SECCOMP_SET_MODE_FILTER for a validated
// program; the caller has checked no_new_privs or CAP_SYS_ADMIN. It
// returns EINVAL in strict mode and ENOMEM past the total instruction
// limit. With TSync, if another live thread has filters that are not an
// ancestor of the caller's, nothing is installed and that thread's ID is
// returned (seccomp(2) returns it as its result).
func (t *Task) AddSeccompFilter(p *seccomp.Program, opts SeccompFilterOptions) (int32, error) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	cur := t.seccomp.Load()
	if cur != nil && cur.mode == SeccompModeStrict {
		return 0, unix.EINVAL
	}
	var prev *seccompFilter
	if cur != nil {
		prev = cur.filters
	}
	f := &seccompFilter{prog: p, prev: prev, log: opts.Log, count: 1, insns: p.Len() + seccomp.FilterOverhead}
	if prev != nil {
		f.count += prev.count
		f.insns += prev.insns
	}
	// Linux counts the new program without its overhead.
	if f.insns-seccomp.FilterOverhead > seccomp.MaxTotalInstructions {
		return 0, unix.ENOMEM
	}
	next := &seccompState{mode: SeccompModeFilter, filters: f}
	if opts.TSync {
		for m := range t.tg.tasks {
			if m == t || m.exiting {
				continue
			}
			ms := m.seccomp.Load()
			if ms == nil || ms.mode == SeccompModeDisabled {
				continue
			}
			if ms.mode != SeccompModeFilter || !ms.filters.isAncestorOf(prev) {
				return m.tid, nil
			}
		}
		for m := range t.tg.tasks {
			if m != t && !m.exiting {
				m.seccomp.Store(next)
			}
		}
	}
	t.seccomp.Store(next)
	return 0, nil
}

// isAncestorOf reports whether f is c or one of the filters c was
// stacked on. A nil f is everyone's ancestor.
func (f *seccompFilter) isAncestorOf(c *seccompFilter) bool {
	if f == nil {
		return true
	}
	for ; c != nil; c = c.prev {
		if c == f {
			return true
		}
	}
	return false
}

// strictAllowed are the calls strict mode permits.
func strictAllowed(nr uint64) bool {
	switch nr {
	case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_EXIT, unix.SYS_RT_SIGRETURN:
		return true
	}
	return false
}

// seccompLogged is set once a LOG action has been written to the log.
var seccompLogged atomic.Bool

// checkSeccomp runs the task's seccomp check for the call it just made
// and reports whether the call may be dispatched. When it may not, the
// task's registers hold the result the guest sees, or the task (or its
// process) is exiting, or a SIGSYS is pending for it.
// Linux: __secure_computing.
func (t *Task) checkSeccomp(s *seccompState, nr uint64, args arch.SyscallArgs) bool {
	return t.checkSeccompAfter(s, nr, args, false)
}

// checkSeccompAfter is checkSeccomp; afterTrace is set for the check
// Linux makes again once a tracer has seen a TRACE action (it may have
// changed the call), where TRACE allows the call.
func (t *Task) checkSeccompAfter(s *seccompState, nr uint64, args arch.SyscallArgs, afterTrace bool) bool {
	switch s.mode {
	case SeccompModeDisabled:
		return true
	case SeccompModeStrict:
		if strictAllowed(nr) {
			return true
		}
		// Linux: do_exit(SIGKILL) of the calling thread.
		t.Exit(WaitStatusSignaled(int(unix.SIGKILL), false))
		return false
	}
	d := seccomp.Data{Nr: int32(nr), Arch: auditArchX86_64, InstructionPointer: t.st.Regs.Rip}
	for i := range d.Args {
		d.Args[i] = uint64(args[i])
	}
	// Every filter runs, newest first; on equal actions the newest wins.
	ret := seccomp.ActionAllow
	var winner *seccompFilter
	for f := s.filters; f != nil; f = f.prev {
		if r := f.prog.Run(&d); winner == nil || seccomp.Stronger(r, ret) {
			ret, winner = r, f
		}
	}
	data := ret & seccomp.DataMask
	switch seccomp.Action(ret) {
	case seccomp.ActionAllow:
		return true
	case seccomp.ActionLog:
		if !seccompLogged.Swap(true) {
			t.k.Warnf("task %d: seccomp filter logged syscall %s (%d) (first LOG action; later ones are not logged)", t.tid, linux.SyscallName(uintptr(nr)), nr)
		}
		return true
	case seccomp.ActionErrno:
		t.skipSyscall(nr, uint64(-int64(min(data, seccomp.MaxErrno))))
		return false
	case seccomp.ActionTrace:
		if afterTrace {
			return true
		}
		// A tracer with PTRACE_O_TRACESECCOMP sees the call in a
		// PTRACE_EVENT_SECCOMP stop and may change or skip it (-1);
		// without one the call fails with ENOSYS, as Linux.
		if !t.ptraceSeccompEvent(uint64(data)) {
			t.skipSyscall(nr, negErrno(unix.ENOSYS))
			return false
		}
		nr, args = arch.Args(&t.st.Regs)
		if nr == ^uint64(0) || t.exiting {
			return false
		}
		return t.checkSeccompAfter(s, nr, args, true)
	case seccomp.ActionUserNotif:
		// No listener can be created: Linux fails the call with
		// ENOSYS.
		t.skipSyscall(nr, negErrno(unix.ENOSYS))
		return false
	case seccomp.ActionTrap:
		// The handler sees the registers as at the call (Linux's
		// syscall_rollback), and nothing restarts it.
		t.st.Regs.Rax = nr
		t.st.Regs.Orig_rax = ^uint64(0)
		info := linux.SignalInfo{Signo: int32(unix.SIGSYS), Errno: int32(data), Code: seccomp.SigsysCode}
		info.SetAddr(t.st.Regs.Rip)
		info.SetSyscall(int32(nr))
		info.SetArch(auditArchX86_64)
		t.forceSignalInfo(&info)
		return false
	case seccomp.ActionKillThread:
		k := t.k
		k.mu.Lock()
		last := len(t.tg.tasks) == 1
		k.mu.Unlock()
		if !last {
			t.Exit(WaitStatusSignaled(int(unix.SIGSYS), false))
			return false
		}
	}
	// KILL_PROCESS, KILL_THREAD of the last thread, and actions Linux
	// does not define: the process dies as by a core-dumping SIGSYS,
	// which nothing can catch (not even the sandbox's init).
	t.k.mu.Lock()
	t.k.killGroupLocked(t.tg, WaitStatusSignaled(int(unix.SIGSYS), true))
	t.k.mu.Unlock()
	return false
}

// skipSyscall makes the call nr return ret without running it.
func (t *Task) skipSyscall(nr, ret uint64) {
	arch.SetReturn(&t.st.Regs, ret)
	t.st.Regs.Orig_rax = nr
}
