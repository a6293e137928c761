package kernel

import (
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"golang.org/x/sys/unix"
)

// signalQueue holds pending signals: at most one of each standard signal,
// any number of each realtime signal. Linux: struct sigpending.
type signalQueue struct {
	set   linux.SignalSet
	infos [linux.NumSignals + 1][]linux.SignalInfo
}

func (q *signalQueue) add(info *linux.SignalInfo) {
	sig := int(info.Signo)
	if sig < linux.SIGRTMIN && q.set.Has(sig) {
		return // standard signals don't queue
	}
	q.set |= linux.SignalSetOf(sig)
	q.infos[sig] = append(q.infos[sig], *info)
}

func (q *signalQueue) take(sig int) linux.SignalInfo {
	info := q.infos[sig][0]
	q.infos[sig] = q.infos[sig][1:]
	if len(q.infos[sig]) == 0 {
		q.set &^= linux.SignalSetOf(sig)
	}
	return info
}

func (q *signalQueue) remove(sig int) {
	q.infos[sig] = nil
	q.set &^= linux.SignalSetOf(sig)
}

// unblockable signals can't be blocked or caught.
var unblockable = linux.SignalSetOf(int(unix.SIGKILL), int(unix.SIGSTOP))

// synchronous signals are delivered before others.
var synchronous = linux.SignalSetOf(int(unix.SIGSEGV), int(unix.SIGBUS), int(unix.SIGILL), int(unix.SIGTRAP), int(unix.SIGFPE), int(unix.SIGSYS))

// defaultAction is what SIG_DFL does with a signal.
type defaultAction int

const (
	actTerm defaultAction = iota
	actCore
	actIgnore
	actStop
	actContinue
)

func defaultActionOf(sig int) defaultAction {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH:
		return actIgnore
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return actStop
	case unix.SIGCONT:
		return actContinue
	case unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT, unix.SIGBUS, unix.SIGFPE,
		unix.SIGSEGV, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGSYS:
		return actCore
	}
	return actTerm
}

// ignoredLocked reports whether sig would be discarded by tg on arrival.
func (tg *ThreadGroup) ignoredLocked(sig int) bool {
	act := tg.handlers.actions[sig]
	if act.Handler == linux.SIG_IGN {
		return true
	}
	if act.Handler == linux.SIG_DFL {
		d := defaultActionOf(sig)
		return d == actIgnore || d == actContinue
	}
	return false
}

// deliverableLocked returns the signal t should handle next, or 0.
func (t *Task) deliverableLocked() int {
	pending := (t.pending.set | t.tg.pending.set) &^ (t.sigMask &^ unblockable)
	if pending == 0 {
		return 0
	}
	if s := pending & synchronous; s != 0 {
		pending = s
	}
	for sig := 1; sig <= linux.NumSignals; sig++ {
		if pending.Has(sig) {
			return sig
		}
	}
	return 0
}

// sendLocked queues info for a thread (group false) or its whole process,
// from inside the sandbox: the sandbox's init ignores signals whose action
// is the default one, SIGKILL and SIGSTOP included, as Linux's init of a
// PID namespace does (SIGNAL_UNKILLABLE) for signals sent from inside it.
func (k *Kernel) sendLocked(t *Task, info *linux.SignalInfo, group bool) {
	k.sendSignalLocked(t, info, group, fromInside)
}

// signalSource says where a signal comes from, for init's protection.
type signalSource int

const (
	// fromInside: a guest task or the Sentry on its behalf.
	fromInside signalSource = iota
	// fromOutside: runsc, as from a PID namespace's parent namespace
	// (runsc kill).
	fromOutside
	// forwarded: a signal runsc do got, passed on to its command as if
	// the command were its ordinary child: init has no protection.
	forwarded
)

// initIgnoresLocked reports whether the sandbox's init, t's process,
// discards sig on arrival, as Linux's init of a PID namespace does
// (SIGNAL_UNKILLABLE, kernel/signal.c sig_task_ignored): a signal whose
// action is the default one is discarded, except SIGKILL and SIGSTOP sent
// from outside (an ancestor namespace, here runsc). A blocked or awaited
// signal is queued: the action may change before it is unblocked (Linux
// then drops it at delivery if not; here its default action applies,
// which only matters for a signal init blocks under the default action).
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) initIgnoresLocked(t *Task, sig int, src signalSource) bool {
	tg := t.tg
	if src == forwarded || tg != k.init || tg.handlers.actions[sig].Handler != linux.SIG_DFL {
		return false
	}
	if unblockable.Has(sig) {
		return src == fromInside
	}
	return !t.sigMask.Has(sig) && !t.sigWaiting.Has(sig)
}

// sendSignalLocked is sendLocked for a signal from src.
func (k *Kernel) sendSignalLocked(t *Task, info *linux.SignalInfo, group bool, src signalSource) {
	tg := t.tg
	sig := int(info.Signo)
	if tg.exiting {
		return
	}
	// As Linux's prepare_signal, SIGCONT and stop signals act on the
	// process's job control state even when the signal itself is then
	// discarded (by init's protection, or an ignoring action).
	if sig == int(unix.SIGCONT) {
		k.continueGroupLocked(tg)
	} else if defaultActionOf(sig) == actStop {
		// A stop signal cancels a pending SIGCONT.
		tg.pending.remove(int(unix.SIGCONT))
		for m := range tg.tasks {
			m.pending.remove(int(unix.SIGCONT))
		}
	}
	if k.initIgnoresLocked(t, sig, src) {
		return
	}
	if sig == int(unix.SIGKILL) {
		k.killGroupLocked(tg, WaitStatusSignaled(sig, false))
		return
	}
	if tg.ignoredLocked(sig) && !t.sigMask.Has(sig) && !t.sigWaiting.Has(sig) && t.ptrace.tracer == nil {
		// A tracee's tracer sees even ignored signals (Linux's
		// sig_ignored).
		return
	}
	k.notifySignalFDsLocked()
	if group {
		tg.pending.add(info)
		// Wake a thread that can take it, the target first.
		if _, live := tg.tasks[t]; live && t.acceptsLocked(sig) {
			t.wakeLocked()
			return
		}
		for m := range tg.tasks {
			if m.acceptsLocked(sig) {
				m.wakeLocked()
				return
			}
		}
		return
	}
	t.pending.add(info)
	t.wakeLocked()
}

// continueGroupLocked is SIGCONT's effect on arrival: pending stop
// signals are discarded and a stopped process resumes.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) continueGroupLocked(tg *ThreadGroup) {
	for _, s := range []unix.Signal{unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU} {
		tg.pending.remove(int(s))
		for m := range tg.tasks {
			m.pending.remove(int(s))
		}
	}
	if tg.stopped {
		tg.stopped = false
		close(tg.resumed)
		tg.stopReport, tg.contReport = false, true
		k.notifyJobControlLocked(tg, linux.CLD_CONTINUED, int(unix.SIGCONT))
		k.ptraceGroupContinuedLocked(tg)
	}
}

// killGroupLocked makes every thread of tg exit with status.
func (k *Kernel) killGroupLocked(tg *ThreadGroup, status WaitStatus) {
	if !tg.exiting {
		tg.exiting = true
		tg.exitStatus = status
	}
	if tg.stopped {
		tg.stopped = false
		close(tg.resumed)
	}
	for m := range tg.tasks {
		m.exiting = true
		m.wakeLocked()
	}
}

// SendSignal sends info to t's process (kill(2)).
func (t *Task) SendSignal(info *linux.SignalInfo, group bool) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.k.sendLocked(t, info, group)
}

// forceSignal delivers a synchronous signal raised by the guest's own
// instruction: it cannot be blocked or ignored (Linux: force_sig_fault).
func (t *Task) forceSignal(sig int, code int32, addr uint64) {
	info := linux.SignalInfo{Signo: int32(sig), Code: code}
	info.SetAddr(addr)
	t.forceSignalInfo(&info)
}

// forceSignalInfo is forceSignal with a whole siginfo.
func (t *Task) forceSignalInfo(info *linux.SignalInfo) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	sig := int(info.Signo)
	act := &t.tg.handlers.actions[sig]
	if t.sigMask.Has(sig) || act.Handler == linux.SIG_IGN {
		act.Handler = linux.SIG_DFL
		t.sigMask &^= linux.SignalSetOf(sig)
	}
	t.pending.add(info)
}

// restartErrno reports whether the last syscall left a restart errno in
// rax, and which.
func (t *Task) restartErrno() (unix.Errno, bool) {
	if t.st.Regs.Orig_rax == ^uint64(0) {
		return 0, false
	}
	e := unix.Errno(-int64(t.st.Regs.Rax))
	switch e {
	case linux.ERESTARTSYS, linux.ERESTARTNOINTR, linux.ERESTARTNOHAND, linux.ERESTART_RESTARTBLOCK:
		return e, true
	}
	return 0, false
}

// handleSignals runs before each switch into the guest: it finishes
// syscall restarts and delivers one pending signal. It returns true when
// the task must exit.
func (t *Task) handleSignals() bool {
	k := t.k
	k.mu.Lock()
	for {
		if t.exiting {
			k.mu.Unlock()
			return true
		}
		if k.pause.paused {
			// The sandbox is paused (pause.go): signals wait too.
			k.waitPausedLocked(t)
			continue
		}
		if t.ptrace.tracer != nil && t.ptraceInterruptLocked() {
			continue
		}
		if t.tg.stopped && t.ptrace.tracer != nil {
			if t.ptrace.groupStopSeen != t.tg.stopGen {
				// Report the group-stop to the tracer, which decides
				// when the task runs again (even before SIGCONT).
				t.ptrace.groupStopSeen = t.tg.stopGen
				code := t.tg.stopSig
				if t.ptrace.seized {
					code |= unix.PTRACE_EVENT_STOP << 8
				}
				t.ptraceStopLocked(stopGroup, code, nil)
				continue
			}
		} else if t.tg.stopped {
			// Job control stop: wait for SIGCONT (or SIGKILL).
			ch := t.tg.resumed
			t.ptrace.jobStopped = true
			k.mu.Unlock()
			select {
			case <-ch:
			case <-t.interruptCh:
			}
			k.mu.Lock()
			t.ptrace.jobStopped = false
			continue
		}
		sig := t.deliverableLocked()
		if sig == 0 {
			if e, ok := t.restartErrno(); ok {
				t.restartLocked(e, true)
			}
			if t.hasSaved {
				t.sigMask, t.hasSaved = t.savedMask, false
			}
			t.st.Regs.Orig_rax = ^uint64(0)
			// Kernel.mu has been held since the pause check above.
			k.enterGuestLocked()
			k.mu.Unlock()
			return false
		}
		var info linux.SignalInfo
		if t.pending.set.Has(sig) {
			info = t.pending.take(sig)
		} else {
			info = t.tg.pending.take(sig)
		}
		if t.ptrace.tracer != nil && sig != int(unix.SIGKILL) {
			// Signal-delivery-stop: the tracer may change or
			// suppress the signal.
			var ok bool
			if info, ok = t.ptraceSignalStopLocked(info); !ok {
				continue
			}
			sig = int(info.Signo)
		}
		act := t.tg.handlers.actions[sig]
		if act.Handler == linux.SIG_IGN && sig != int(unix.SIGKILL) {
			continue
		}
		if act.Handler == linux.SIG_DFL || sig == int(unix.SIGKILL) {
			switch defaultActionOf(sig) {
			case actIgnore, actContinue:
				continue
			case actStop:
				k.stopGroupLocked(t.tg, sig)
				continue
			case actCore:
				t.ptraceExitEventLocked(WaitStatusSignaled(sig, true))
				k.killGroupLocked(t.tg, WaitStatusSignaled(sig, true))
				continue
			default:
				t.ptraceExitEventLocked(WaitStatusSignaled(sig, false))
				k.killGroupLocked(t.tg, WaitStatusSignaled(sig, false))
				continue
			}
		}
		// A handler: settle the interrupted syscall first.
		if e, ok := t.restartErrno(); ok {
			if e == linux.ERESTARTNOINTR || (e == linux.ERESTARTSYS && act.Flags&linux.SA_RESTART != 0) {
				t.restartLocked(e, false)
			} else {
				t.st.Regs.Rax = negErrno(unix.EINTR)
			}
		}
		t.st.Regs.Orig_rax = ^uint64(0)
		oldMask := t.sigMask
		if t.hasSaved {
			oldMask, t.hasSaved = t.savedMask, false
		}
		t.sigMask |= linux.SignalSet(act.Mask)
		if act.Flags&linux.SA_NODEFER == 0 {
			t.sigMask |= linux.SignalSetOf(sig)
		}
		t.sigMask &^= unblockable
		if act.Flags&linux.SA_RESETHAND != 0 {
			t.tg.handlers.actions[sig] = linux.SigAction{}
		}
		frame := arch.SignalFrame{
			Signo: sig, Info: info, Handler: act.Handler, Restorer: act.Restorer,
			OldMask: oldMask, AltStack: t.altStack, UseAltStack: act.Flags&linux.SA_ONSTACK != 0,
			FP: k.FPLayout,
		}
		if act.Flags&linux.SA_RESTORER == 0 {
			// x86-64 has no kernel-provided trampoline: without a
			// restorer the handler could not return.
			k.killGroupLocked(t.tg, WaitStatusSignaled(int(unix.SIGSEGV), true))
			continue
		}
		k.mu.Unlock()
		fp := t.FPState()
		err := arch.PushSignalFrame(t.mm, &t.st.Regs, fp, &frame)
		k.mu.Lock()
		if err != nil {
			// Linux: a bad stack at delivery kills with SIGSEGV.
			k.killGroupLocked(t.tg, WaitStatusSignaled(int(unix.SIGSEGV), true))
			continue
		}
		if frame.UseAltStack && t.altStack.Flags&ssAutoDisarm != 0 {
			t.altStack = linux.SignalStack{Flags: linux.SS_DISABLE}
		}
		// Kernel.mu was dropped to push the frame: a Pause may have
		// come meanwhile. The handler runs after Resume.
		for k.pause.paused && !t.exiting {
			k.waitPausedLocked(t)
		}
		if t.exiting {
			k.mu.Unlock()
			return true
		}
		k.enterGuestLocked()
		k.mu.Unlock()
		return false
	}
}

// restartLocked rewinds the task to re-run its interrupted syscall.
func (t *Task) restartLocked(e unix.Errno, noHandler bool) {
	nr := t.st.Regs.Orig_rax
	if e == linux.ERESTART_RESTARTBLOCK {
		nr = unix.SYS_RESTART_SYSCALL
	}
	arch.RestartSyscall(&t.st.Regs, nr)
}

// SigReturn implements rt_sigreturn(2).
func (t *Task) SigReturn() error {
	fp := t.FPState()
	mask, alt, err := arch.PopSignalFrame(t.mm, &t.st.Regs, fp, t.k.FPLayout)
	t.MarkFPModified()
	if err != nil {
		t.forceSignal(int(unix.SIGSEGV), linux.SI_KERNEL, 0)
		return ErrNoSysReturn
	}
	t.k.mu.Lock()
	t.sigMask = mask &^ unblockable
	if alt.Flags&linux.SS_DISABLE == 0 || alt.Size != 0 {
		t.altStack = linux.SignalStack{Addr: alt.Addr, Size: alt.Size, Flags: alt.Flags &^ linux.SS_ONSTACK}
	}
	t.k.mu.Unlock()
	return ErrNoSysReturn
}

// SigAction implements rt_sigaction(2): it returns the old action and, if
// act is not nil, installs it.
func (t *Task) SigAction(sig int, act *linux.SigAction) (linux.SigAction, error) {
	if sig < 1 || sig > linux.NumSignals {
		return linux.SigAction{}, unix.EINVAL
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	old := t.tg.handlers.actions[sig]
	if act != nil {
		if unblockable.Has(sig) {
			return linux.SigAction{}, unix.EINVAL
		}
		a := *act
		a.Mask &^= unblockable
		t.tg.handlers.actions[sig] = a
		// Setting SIG_IGN (or a default-ignore SIG_DFL) discards
		// pending instances (POSIX).
		if t.tg.ignoredLocked(sig) {
			t.tg.pending.remove(sig)
			for m := range t.tg.tasks {
				m.pending.remove(sig)
			}
		}
	}
	return old, nil
}

// SigProcMask implements rt_sigprocmask(2).
func (t *Task) SigProcMask(how int, set *linux.SignalSet) (linux.SignalSet, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	old := t.sigMask
	if set == nil {
		return old, nil
	}
	switch how {
	case unix.SIG_BLOCK:
		t.sigMask |= *set
	case unix.SIG_UNBLOCK:
		t.sigMask &^= *set
	case unix.SIG_SETMASK:
		t.sigMask = *set
	default:
		return 0, unix.EINVAL
	}
	t.sigMask &^= unblockable
	return old, nil
}

// SigPending returns the pending signals that are blocked.
func (t *Task) SigPending() linux.SignalSet {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return (t.pending.set | t.tg.pending.set) & t.sigMask
}

// SigSuspend implements rt_sigsuspend(2): it waits with mask installed
// until a signal is delivered.
func (t *Task) SigSuspend(mask linux.SignalSet) error {
	k := t.k
	k.mu.Lock()
	t.savedMask, t.hasSaved = t.sigMask, true
	t.sigMask = mask &^ unblockable
	k.mu.Unlock()
	for {
		if err := t.Block(nil); err != nil {
			return linux.ERESTARTNOHAND
		}
	}
}

// SigAltStack implements sigaltstack(2).
func (t *Task) SigAltStack(ss *linux.SignalStack) (linux.SignalStack, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	old := t.altStack
	onStack := old.Flags&linux.SS_DISABLE == 0 && old.Contains(t.st.Regs.Rsp)
	if onStack {
		old.Flags |= linux.SS_ONSTACK
	}
	if ss == nil {
		return old, nil
	}
	if onStack {
		return linux.SignalStack{}, unix.EPERM
	}
	mode := ss.Flags &^ ssAutoDisarm
	switch mode {
	case linux.SS_DISABLE:
		t.altStack = linux.SignalStack{Flags: linux.SS_DISABLE}
	case 0, linux.SS_ONSTACK:
		if ss.Size < linux.MINSIGSTKSZ {
			return linux.SignalStack{}, unix.ENOMEM
		}
		t.altStack = linux.SignalStack{Addr: ss.Addr, Size: ss.Size, Flags: ss.Flags & ssAutoDisarm}
	default:
		return linux.SignalStack{}, unix.EINVAL
	}
	return old, nil
}

// Kill implements kill(2)'s targeting: pid > 0 one process, 0 the
// caller's process group, -1 every process it may signal but init and
// itself, < -1 process group -pid. sig 0 only checks.
func (t *Task) Kill(pid int32, info *linux.SignalInfo) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	var targets []*ThreadGroup
	switch {
	case pid > 0:
		if tg := k.groups[pid]; tg != nil && !tg.zombie {
			targets = append(targets, tg)
		} else if tg != nil {
			return nil // a zombie accepts and drops signals
		}
	case pid == -1:
		for _, tg := range k.groups {
			if tg != k.init && tg != t.tg && !tg.zombie {
				targets = append(targets, tg)
			}
		}
		if len(targets) == 0 {
			return unix.ESRCH
		}
	default:
		pg := -pid
		if pid == 0 {
			pg = t.tg.pgid
		}
		for _, tg := range k.groups {
			if tg.pgid == pg && !tg.zombie {
				targets = append(targets, tg)
			}
		}
	}
	if len(targets) == 0 {
		return unix.ESRCH
	}
	// As Linux's check_kill_permission, also for signal 0: one process
	// fails with EPERM; a process group succeeds if any member could be
	// signalled (else EPERM); -1 skips those it may not signal.
	sent := false
	for _, tg := range targets {
		if tg.leader == nil {
			continue
		}
		if !t.mayKillLocked(tg.leader, int(info.Signo)) {
			continue
		}
		sent = true
		if info.Signo != 0 {
			k.sendLocked(tg.leader, info, true)
		}
	}
	if !sent && pid != -1 {
		return unix.EPERM
	}
	return nil
}

// Tgkill implements tgkill(2) (tgid -1 for tkill).
func (t *Task) Tgkill(tgid, tid int32, info *linux.SignalInfo) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	target := k.tasks[tid]
	if target == nil || (tgid != -1 && target.tg.id != tgid) {
		return unix.ESRCH
	}
	if !t.mayKillLocked(target, int(info.Signo)) {
		return unix.EPERM
	}
	if info.Signo != 0 {
		k.sendLocked(target, info, false)
	}
	return nil
}

// ssAutoDisarm is SS_AUTODISARM as the int32 ss_flags holds it.
const ssAutoDisarm = int32(-1 << 31)

// negErrno returns -e as a syscall return value.
func negErrno(e unix.Errno) uint64 { return uint64(-int64(e)) }

// SignalProcess sends sig to tg from outside the sandbox (SI_USER from
// PID 0), as runsc kill does. As for a signal sent to a PID namespace's
// init from its parent namespace, the sandbox's init gets SIGKILL and
// SIGSTOP always, and another signal only if it has a handler for it (or
// blocks it, then the handler it has when it unblocks decides): under the
// default action the signal is discarded. So docker stop's SIGTERM ends a
// shell init only if the shell traps it, as under runc.
func (k *Kernel) SignalProcess(tg *ThreadGroup, sig int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if tg.leader == nil {
		return
	}
	info := linux.SignalInfo{Signo: int32(sig), Code: linux.SI_USER}
	k.sendSignalLocked(tg.leader, &info, true, fromOutside)
}

// ForwardSignal sends sig from outside the sandbox to tg as runsc do
// passes on a signal it got: as to an ordinary child of the caller, so the
// default action applies even when tg is init (SIGTERM ends a `runsc do
// sleep 100`). A container runtime uses SignalProcess instead.
func (k *Kernel) ForwardSignal(tg *ThreadGroup, sig int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if tg.leader == nil {
		return
	}
	info := linux.SignalInfo{Signo: int32(sig), Code: linux.SI_USER}
	k.sendSignalLocked(tg.leader, &info, true, forwarded)
}

// dequeueLocked removes and returns the first pending signal of t in set
// (thread-directed first), or false.
func (t *Task) dequeueLocked(set linux.SignalSet) (linux.SignalInfo, bool) {
	for _, q := range []*signalQueue{&t.pending, &t.tg.pending} {
		if s := q.set & set; s != 0 {
			for sig := 1; sig <= linux.NumSignals; sig++ {
				if s.Has(sig) {
					return q.take(sig), true
				}
			}
		}
	}
	return linux.SignalInfo{}, false
}

// SigTimedWait implements rt_sigtimedwait(2): it takes a pending signal in
// set, waiting up to timeout (forever if negative) for one. It returns
// EAGAIN on timeout and EINTR if another signal interrupts the wait.
func (t *Task) SigTimedWait(set linux.SignalSet, timeout time.Duration) (linux.SignalInfo, error) {
	k := t.k
	set &^= unblockable
	k.mu.Lock()
	if info, ok := t.dequeueLocked(set); ok {
		k.mu.Unlock()
		return info, nil
	}
	if timeout == 0 {
		k.mu.Unlock()
		return linux.SignalInfo{}, unix.EAGAIN
	}
	// While waiting, the awaited signals wake the task even if blocked
	// or ignored; they are taken here, never handled.
	t.sigWaiting = set
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		t.sigWaiting = 0
		k.mu.Unlock()
	}()
	var expired chan struct{}
	if timeout > 0 {
		expired = make(chan struct{})
		timer := time.AfterFunc(timeout, func() { close(expired) })
		defer timer.Stop()
	}
	for {
		err := t.Block(expired)
		k.mu.Lock()
		info, ok := t.dequeueLocked(set)
		// An exiting task (SIGKILL, exit_group) must leave too: Block
		// returns at once for it from now on.
		other := t.deliverableLocked() != 0 || t.exiting
		k.mu.Unlock()
		if ok {
			return info, nil
		}
		if err == nil {
			return linux.SignalInfo{}, unix.EAGAIN
		}
		if other {
			return linux.SignalInfo{}, unix.EINTR
		}
	}
}

// QueueSignal implements rt_sigqueueinfo(2) (tid < 0) and
// rt_tgsigqueueinfo(2): it sends a signal with caller-supplied siginfo.
// Linux forbids forging kernel or kill(2) codes when signalling another
// process.
func (t *Task) QueueSignal(tgid, tid int32, info *linux.SignalInfo) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	var target *Task
	if tid < 0 {
		tg := k.groups[tgid]
		if tg == nil || tg.zombie {
			return unix.ESRCH
		}
		target = tg.leader
	} else {
		target = k.tasks[tid]
		if target == nil || target.tg.id != tgid {
			return unix.ESRCH
		}
	}
	if target == nil {
		return unix.ESRCH
	}
	if (info.Code >= 0 || info.Code == linux.SI_TKILL) && target.tg != t.tg {
		return unix.EPERM
	}
	if !t.mayKillLocked(target, int(info.Signo)) {
		return unix.EPERM
	}
	if info.Signo != 0 {
		k.sendLocked(target, info, tid < 0)
	}
	return nil
}

// acceptsLocked reports whether t would take sig now: not blocked, or
// awaited by sigtimedwait.
func (t *Task) acceptsLocked(sig int) bool {
	return !t.sigMask.Has(sig) || t.sigWaiting.Has(sig)
}

// SetTemporarySignalMask installs mask for the duration of a call
// (ppoll, pselect6, epoll_pwait), remembering the old mask: if a signal
// handler runs, its frame restores the old mask; otherwise
// RestoreSignalMask does when the call returns.
func (t *Task) SetTemporarySignalMask(mask linux.SignalSet) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if !t.hasSaved {
		t.savedMask, t.hasSaved = t.sigMask, true
	}
	t.sigMask = mask &^ unblockable
}

// RestoreSignalMask undoes SetTemporarySignalMask when no signal handler
// will.
func (t *Task) RestoreSignalMask() {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.hasSaved && t.deliverableLocked() == 0 {
		t.sigMask, t.hasSaved = t.savedMask, false
	}
}

// stopGroupLocked stops every thread of tg (a job control stop).
func (k *Kernel) stopGroupLocked(tg *ThreadGroup, sig int) {
	if tg.stopped || tg.exiting {
		return
	}
	tg.stopped, tg.stopSig = true, sig
	tg.stopGen++
	tg.resumed = make(chan struct{})
	tg.stopReport, tg.contReport = true, false
	for m := range tg.tasks {
		m.wakeLocked()
	}
	k.notifyJobControlLocked(tg, linux.CLD_STOPPED, sig)
}

// notifyJobControlLocked tells tg's parent that tg stopped or continued:
// SIGCHLD unless the parent set SA_NOCLDSTOP, and a wait(2) wake-up.
func (k *Kernel) notifyJobControlLocked(tg *ThreadGroup, code int32, sig int) {
	parent := tg.parent
	if parent == nil {
		return
	}
	act := parent.handlers.actions[unix.SIGCHLD]
	if act.Flags&linux.SA_NOCLDSTOP == 0 && parent.leader != nil {
		info := linux.SignalInfo{Signo: int32(unix.SIGCHLD), Code: code}
		info.SetPID(tg.id)
		info.SetStatus(int32(sig))
		k.sendLocked(parent.leader, &info, true)
	}
	parent.notifyChildEventLocked()
}

// SignalForeground sends sig from outside the sandbox to the foreground
// process group of init's controlling terminal (as a terminal's ^C does),
// or to init when there is no such terminal, as runsc do forwards a
// terminal signal (ForwardSignal: init has no protection).
func (k *Kernel) SignalForeground(sig int) {
	pgid := k.ForegroundProcessGroup()
	k.mu.Lock()
	defer k.mu.Unlock()
	info := linux.SignalInfo{Signo: int32(sig), Code: linux.SI_USER}
	sent := false
	if pgid > 0 {
		for _, tg := range k.groups {
			if tg.pgid == pgid && !tg.zombie && tg.leader != nil {
				k.sendSignalLocked(tg.leader, &info, true, forwarded)
				sent = true
			}
		}
	}
	if !sent && k.init != nil && k.init.leader != nil {
		k.sendSignalLocked(k.init.leader, &info, true, forwarded)
	}
}
