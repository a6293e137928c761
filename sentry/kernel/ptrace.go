package kernel

import (
	"encoding/binary"
	"sync"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"golang.org/x/sys/unix"
)

// Guest ptrace(2): one guest task tracing another, emulated entirely in
// the Sentry. A tracee stops in its own task goroutine (ptraceStopLocked),
// with its registers in Task.st; the tracer reads and changes them there
// and resumes it. Host ptrace is only the platform's business.

// ptraceStopKind says why a tracee is stopped, which decides what the
// resuming request's signal does.
type ptraceStopKind int

const (
	// stopSignal: signal-delivery-stop; the resume signal replaces the
	// signal (0 suppresses it).
	stopSignal ptraceStopKind = iota + 1
	// stopGroup: group-stop (job control); the resume signal is ignored.
	stopGroup
	// stopSyscall: syscall-entry or -exit stop; a resume signal is sent
	// to the tracee.
	stopSyscall
	// stopEvent: PTRACE_EVENT_* stop (and PTRACE_INTERRUPT's); a resume
	// signal is sent to the tracee, except for PTRACE_EVENT_STOP.
	stopEvent
)

// ptraceResume is how a tracer resumed its tracee.
type ptraceResume int

const (
	resumeCont ptraceResume = iota
	resumeSyscall
	resumeSysemu
	resumeSingleStep
	resumeSysemuSingleStep
)

// ptraceExitNotice is a tracee's exit, kept for the tracer's wait(2)
// when the tracer is not the process's parent.
type ptraceExitNotice struct {
	tid, pgid int32
	tg        *ThreadGroup
	uid       uint32
	status    WaitStatus
}

// maxExitNotices bounds the exits a tracer that never waits keeps.
const maxExitNotices = 4096

// ptraceState is a task's ptrace state, as tracer and as tracee.
// Protected by Kernel.mu.
type ptraceState struct {
	// tracer traces this task, or nil. Linux: task_struct::parent when
	// task_struct::ptrace is set.
	tracer *Task
	// tracees are the tasks this task traces.
	tracees map[*Task]struct{}
	// exitNotices are exits of tracees for this task's process's
	// wait(2) (tracees whose parent is another process).
	exitNotices []ptraceExitNotice
	// seized is set for PTRACE_SEIZE (vs. TRACEME and ATTACH).
	seized bool
	// options are the PTRACE_O_* options.
	options uint32

	// stopped is set while the task is in a ptrace stop, stopKind says
	// which, and resumeCh is closed when the tracer resumes it.
	stopped  bool
	stopKind ptraceStopKind
	resumeCh chan struct{}
	// stopStatus is the wait status of the stop; stopReport is set
	// until a wait(2) has taken it.
	stopStatus WaitStatus
	stopReport bool
	// siginfo is the signal of a signal-delivery-stop (GETSIGINFO,
	// SETSIGINFO), or a synthesized SIGTRAP for other stops.
	siginfo linux.SignalInfo
	// resumeSig is the resuming request's data argument.
	resumeSig int
	// resume is the resuming request.
	resume ptraceResume
	// eventMsg is PTRACE_GETEVENTMSG's value.
	eventMsg uint64
	// groupStopSeen is the ThreadGroup.stopGen of the last group-stop
	// reported to the tracer, so each stop is reported once.
	groupStopSeen uint64
	// interrupt is PTRACE_INTERRUPT's pending request.
	interrupt bool
	// listening is set by PTRACE_LISTEN: stopped, but not for requests.
	listening bool
	// syscallExit says the current syscall stop is an exit stop, for
	// PTRACE_GET_SYSCALL_INFO.
	syscallExit bool
	// hideExit is set for a leader replaced by another thread's
	// execve: its tracer is not told of its exit.
	hideExit bool
	// jobStopped is set while the task waits in a group-stop untraced,
	// so an attach knows it will report the stop at once.
	jobStopped bool
	// forcedTF is set when PTRACE_SINGLESTEP set the trap flag (the
	// guest had not): it is cleared, and hidden, at the next stop.
	// Linux: TIF_FORCED_TF.
	forcedTF bool
}

// ptraceOptionMask is every option a tracer may set (Linux:
// PTRACE_O_MASK).
const ptraceOptionMask = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_TRACEVFORKDONE |
	unix.PTRACE_O_TRACEEXIT | unix.PTRACE_O_TRACESECCOMP | unix.PTRACE_O_EXITKILL |
	unix.PTRACE_O_SUSPEND_SECCOMP

// ptraceStatus is the wait status of a ptrace stop with the stop's
// signal and event (the "exit code" Linux keeps).
func ptraceStatus(code int) WaitStatus { return WaitStatus(uint32(code)<<8 | 0x7f) }

var ptraceWarned sync.Map

// warnPtraceOnce logs the first use of an unimplemented request.
func (k *Kernel) warnPtraceOnce(what string) {
	if _, loaded := ptraceWarned.LoadOrStore(what, true); !loaded {
		k.Warnf("ptrace: %s is not implemented", what)
	}
}

// WarnPtraceUnimplemented logs, once per name, that a ptrace request is
// not implemented.
func (t *Task) WarnPtraceUnimplemented(what string) { t.k.warnPtraceOnce(what) }

// linkTracerLocked makes tracer trace t.
//
// Preconditions: Kernel.mu is held; t has no tracer.
func (t *Task) linkTracerLocked(tracer *Task, seized bool, options uint32) {
	t.ptrace.tracer = tracer
	t.ptrace.seized = seized
	t.ptrace.options = options
	t.ptrace.resume = resumeCont
	t.ptrace.interrupt, t.ptrace.listening = false, false
	t.ptrace.groupStopSeen = 0
	if tracer.ptrace.tracees == nil {
		tracer.ptrace.tracees = map[*Task]struct{}{}
	}
	tracer.ptrace.tracees[t] = struct{}{}
}

// unlinkTracerLocked ends t's tracing and lets it run if it was in a
// ptrace stop.
//
// Preconditions: Kernel.mu is held.
func (t *Task) unlinkTracerLocked() {
	p := &t.ptrace
	if p.tracer != nil {
		delete(p.tracer.ptrace.tracees, t)
	}
	p.tracer = nil
	p.seized, p.options, p.interrupt, p.listening = false, 0, false, false
	p.resume = resumeCont
	p.stopReport = false
	if p.stopped {
		p.stopped = false
		close(p.resumeCh)
	}
}

// PtraceTraceme implements PTRACE_TRACEME: the parent traces t.
func (t *Task) PtraceTraceme() error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if t.ptrace.tracer != nil {
		return unix.EPERM
	}
	parent := t.tg.parent
	if parent == nil {
		return unix.EPERM
	}
	tracer := t.tg.creator
	if tracer == nil || tracer.exiting || tracer.tg != parent {
		tracer = parent.leader
	}
	if tracer == nil || tracer.exiting {
		return unix.EPERM
	}
	t.linkTracerLocked(tracer, false, 0)
	return nil
}

// PtraceAttach implements PTRACE_ATTACH (seize false: SIGSTOP is sent)
// and PTRACE_SEIZE (with options).
func (t *Task) PtraceAttach(tid int32, seize bool, options uint32) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	target := k.tasks[tid]
	if tid <= 0 || target == nil || target.exiting {
		return unix.ESRCH
	}
	if seize {
		// Linux answers EIO, not EINVAL, for SEIZE's bad options.
		if options&^ptraceOptionMask != 0 {
			return unix.EIO
		}
		if options&unix.PTRACE_O_SUSPEND_SECCOMP != 0 {
			if !t.Credentials().HasCap(capSysAdmin) {
				return unix.EPERM
			}
			k.warnPtraceOnce("PTRACE_O_SUSPEND_SECCOMP")
			return unix.EINVAL
		}
	}
	// Linux: a process may not trace itself or its own threads.
	if target.tg == t.tg {
		return unix.EPERM
	}
	if !t.mayAttachRealCredsLocked(target) {
		return unix.EPERM
	}
	if target.ptrace.tracer != nil || t.exiting || target.tg.exiting {
		return unix.EPERM
	}
	target.linkTracerLocked(t, seize, options)
	if !seize {
		info := linux.SignalInfo{Signo: int32(unix.SIGSTOP), Code: linux.SI_USER}
		info.SetPID(t.tg.id)
		info.SetUID(t.Credentials().RealUID)
		// A signal from the kernel: init's protection does not apply.
		k.sendSignalLocked(target, &info, false, fromOutside)
	}
	// A task already in a group-stop reports it to its new tracer, and
	// the attach of a task parked in one returns once it has (Linux
	// waits for JOBCTL_TRAPPING), so a SIGCONT the tracer sends next
	// finds it reported. A thread busy elsewhere (a vfork parent) is
	// not waited for.
	parked := target.ptrace.jobStopped
	target.wakeLocked()
	for parked && target.tg.stopped && !target.ptrace.stopped && target.ptrace.tracer == t && !target.exiting && !t.exiting {
		reported, resumed := t.tg.childEvents, target.tg.resumed
		k.mu.Unlock()
		select {
		case <-reported:
		case <-resumed:
		case <-t.interruptCh:
		}
		k.mu.Lock()
	}
	return nil
}

// ptraceTraceeLocked returns the task tid that t traces: ESRCH if none,
// or if stopped is set and it is not in a ptrace stop.
//
// Preconditions: Kernel.mu is held.
func (t *Task) ptraceTraceeLocked(tid int32, stopped bool) (*Task, error) {
	target := t.k.tasks[tid]
	if tid <= 0 || target == nil || target.ptrace.tracer != t {
		return nil, unix.ESRCH
	}
	if stopped && (!target.ptrace.stopped || target.ptrace.listening || target.exiting) {
		return nil, unix.ESRCH
	}
	return target, nil
}

// PtraceTracee is a tracee under the tracer's control: its state may be
// read and changed while it is stopped.
type PtraceTracee struct {
	tracer, t *Task
}

// PtraceStopped returns the tracee tid of t, which must be in a ptrace
// stop (ESRCH otherwise). Its methods fail with ESRCH if it has left the
// stop meanwhile (SIGKILL).
func (t *Task) PtraceStopped(tid int32) (PtraceTracee, error) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	target, err := t.ptraceTraceeLocked(tid, true)
	if err != nil {
		return PtraceTracee{}, err
	}
	return PtraceTracee{tracer: t, t: target}, nil
}

// withLocked runs fn with Kernel.mu held if the tracee is still stopped
// for its tracer.
func (p PtraceTracee) withLocked(fn func(t *Task) error) error {
	k := p.t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	t := p.t
	if t.ptrace.tracer != p.tracer || !t.ptrace.stopped || t.exiting {
		return unix.ESRCH
	}
	return fn(t)
}

// resume implements PTRACE_CONT, PTRACE_SYSCALL, PTRACE_SYSEMU and the
// single-step requests: the tracee runs on, with sig as the stop's
// signal (EIO if not a signal number).
func (p PtraceTracee) resume(how ptraceResume, sig int) error {
	if sig < 0 || sig > linux.NumSignals {
		return unix.EIO
	}
	return p.withLocked(func(t *Task) error {
		if (how == resumeSingleStep || how == resumeSysemuSingleStep) && t.st.Regs.Eflags&arch.TrapFlag == 0 {
			t.st.Regs.Eflags |= arch.TrapFlag
			t.ptrace.forcedTF = true
		}
		t.ptrace.resume = how
		t.ptrace.resumeSig = sig
		t.ptrace.stopped = false
		t.ptrace.stopReport = false
		close(t.ptrace.resumeCh)
		return nil
	})
}

// Cont implements PTRACE_CONT.
func (p PtraceTracee) Cont(sig int) error { return p.resume(resumeCont, sig) }

// Syscall implements PTRACE_SYSCALL.
func (p PtraceTracee) Syscall(sig int) error { return p.resume(resumeSyscall, sig) }

// SingleStep implements PTRACE_SINGLESTEP: the tracee runs one
// instruction (the CPU's trap flag; a syscall instruction counts as one,
// completed) and stops with SIGTRAP.
func (p PtraceTracee) SingleStep(sig int) error { return p.resume(resumeSingleStep, sig) }

// SysemuSingleStep implements PTRACE_SYSEMU_SINGLESTEP: single-step,
// with a syscall reported at its entry and not run (PTRACE_SYSEMU).
func (p PtraceTracee) SysemuSingleStep(sig int) error {
	return p.resume(resumeSysemuSingleStep, sig)
}

// Sysemu implements PTRACE_SYSEMU.
func (p PtraceTracee) Sysemu(sig int) error { return p.resume(resumeSysemu, sig) }

// Detach implements PTRACE_DETACH: the tracee runs on untraced, with sig
// delivered if it was in a signal-delivery-stop.
func (p PtraceTracee) Detach(sig int) error {
	if sig < 0 || sig > linux.NumSignals {
		return unix.EIO
	}
	return p.withLocked(func(t *Task) error {
		t.ptrace.resumeSig = sig
		t.unlinkTracerLocked()
		return nil
	})
}

// SetOptions implements PTRACE_SETOPTIONS.
func (p PtraceTracee) SetOptions(options uint32) error {
	if options&^ptraceOptionMask != 0 {
		return unix.EINVAL
	}
	if options&unix.PTRACE_O_SUSPEND_SECCOMP != 0 {
		if !p.tracer.Credentials().HasCap(capSysAdmin) {
			return unix.EPERM
		}
		p.tracer.k.warnPtraceOnce("PTRACE_O_SUSPEND_SECCOMP")
		return unix.EINVAL
	}
	return p.withLocked(func(t *Task) error {
		t.ptrace.options = options
		return nil
	})
}

// EventMsg implements PTRACE_GETEVENTMSG.
func (p PtraceTracee) EventMsg() (uint64, error) {
	var m uint64
	err := p.withLocked(func(t *Task) error {
		m = t.ptrace.eventMsg
		return nil
	})
	return m, err
}

// SigInfo implements PTRACE_GETSIGINFO: EINVAL unless the tracee is in a
// stop that has a siginfo.
func (p PtraceTracee) SigInfo() (linux.SignalInfo, error) {
	var info linux.SignalInfo
	err := p.withLocked(func(t *Task) error {
		if t.ptrace.stopKind == stopGroup && !t.ptrace.seized {
			return unix.EINVAL
		}
		info = t.ptrace.siginfo
		return nil
	})
	return info, err
}

// SetSigInfo implements PTRACE_SETSIGINFO.
func (p PtraceTracee) SetSigInfo(info *linux.SignalInfo) error {
	return p.withLocked(func(t *Task) error {
		if t.ptrace.stopKind == stopGroup && !t.ptrace.seized {
			return unix.EINVAL
		}
		t.ptrace.siginfo = *info
		return nil
	})
}

// PtraceKill implements PTRACE_KILL: the tracee's process is killed.
func (t *Task) PtraceKill(tid int32) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	target, err := t.ptraceTraceeLocked(tid, false)
	if err != nil {
		return err
	}
	k.killGroupLocked(target.tg, WaitStatusSignaled(int(unix.SIGKILL), false))
	return nil
}

// PtraceInterrupt implements PTRACE_INTERRUPT: a seized tracee stops
// with PTRACE_EVENT_STOP as soon as it can (a blocking call is
// interrupted and restarted afterwards).
func (t *Task) PtraceInterrupt(tid int32) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	target, err := t.ptraceTraceeLocked(tid, false)
	if err != nil {
		return err
	}
	if !target.ptrace.seized {
		return unix.EIO
	}
	if target.ptrace.listening {
		// Linux: a listening tracee re-traps at once.
		target.ptrace.listening = false
		target.ptraceReportLocked()
		return nil
	}
	if !target.ptrace.stopped {
		target.ptrace.interrupt = true
		target.wakeLocked()
	}
	return nil
}

// Listen implements PTRACE_LISTEN: a seized tracee in a group-stop stays
// stopped, no longer under the tracer's control, until the group-stop
// ends (SIGCONT) or it is interrupted; it then re-traps with
// PTRACE_EVENT_STOP.
func (p PtraceTracee) Listen() error {
	return p.withLocked(func(t *Task) error {
		if !t.ptrace.seized || t.ptrace.stopKind != stopGroup {
			return unix.EIO
		}
		t.ptrace.stopReport = false
		if !t.tg.stopped {
			// The group-stop ended (SIGCONT) since it was reported:
			// re-trap at once, as Linux does for a pending
			// JOBCTL_TRAP_NOTIFY.
			t.ptrace.stopKind = stopEvent
			t.ptrace.stopStatus = ptraceStatus(int(unix.SIGTRAP) | unix.PTRACE_EVENT_STOP<<8)
			t.ptraceReportLocked()
			return nil
		}
		t.ptrace.listening = true
		return nil
	})
}

// ptraceReportLocked tells t's tracer that t has entered a stop: wait(2)
// wake-up and SIGCHLD (CLD_TRAPPED).
//
// Preconditions: Kernel.mu is held; t has a tracer.
func (t *Task) ptraceReportLocked() {
	p := &t.ptrace
	p.stopReport = true
	tracer := p.tracer
	info := linux.SignalInfo{Signo: int32(unix.SIGCHLD), Code: linux.CLD_TRAPPED}
	info.SetPID(t.tid)
	info.SetUID(t.Credentials().RealUID)
	info.SetStatus(int32(p.stopStatus>>8) & 0xff)
	act := tracer.tg.handlers.actions[unix.SIGCHLD]
	if act.Flags&linux.SA_NOCLDSTOP == 0 && !tracer.tg.exiting && tracer.tg.leader != nil {
		t.k.sendLocked(tracer.tg.leader, &info, true)
	}
	tracer.tg.notifyChildEventLocked()
}

// ptraceStopLocked puts t, which has a tracer, in a ptrace stop with the
// given status until the tracer resumes or detaches it, or t is killed.
// It returns false if the stop ended because t is exiting or its tracer
// went away (then the resume signal is 0 and the resume mode PTRACE_CONT).
//
// Preconditions: Kernel.mu is held; called by t's own goroutine. It is
// released while t waits.
func (t *Task) ptraceStopLocked(kind ptraceStopKind, code int, info *linux.SignalInfo) bool {
	k := t.k
	p := &t.ptrace
	// The tracer may read the FP registers while t is stopped: fetch
	// them from the host thread, which only t's goroutine may do.
	k.mu.Unlock()
	if t.pctx != nil {
		if err := t.pctx.PullFP(&t.st); err != nil {
			k.Warnf("task %d: reading FP state: %v", t.tid, err)
		}
	}
	k.mu.Lock()
	if p.forcedTF {
		t.st.Regs.Eflags &^= arch.TrapFlag
		p.forcedTF = false
	}
	if p.tracer == nil || t.exiting {
		return false
	}
	p.stopped = true
	p.stopKind = kind
	p.stopStatus = ptraceStatus(code)
	p.resumeCh = make(chan struct{})
	// Set by a resume or detach request; if the tracer dies instead,
	// the stop's signal is dropped, as Linux does.
	p.resumeSig = 0
	if info != nil {
		p.siginfo = *info
	} else {
		p.siginfo = linux.SignalInfo{Signo: int32(unix.SIGTRAP), Code: int32(code)}
	}
	t.ptraceReportLocked()
	for p.stopped && !t.exiting {
		ch := p.resumeCh
		k.mu.Unlock()
		select {
		case <-ch:
		case <-t.interruptCh:
		}
		k.mu.Lock()
	}
	if p.stopped {
		// Killed while stopped.
		p.stopped = false
		p.stopReport = false
		close(p.resumeCh)
	}
	// The tracer may have changed the FP state.
	t.st.FPValid = true
	return !t.exiting && p.tracer != nil
}

// ptraceSignalStopLocked is the signal-delivery-stop of a traced task
// about to deliver info. It returns the signal to deliver instead (0 to
// suppress it), with its siginfo.
//
// Preconditions: as ptraceStopLocked.
func (t *Task) ptraceSignalStopLocked(info linux.SignalInfo) (linux.SignalInfo, bool) {
	sig := int(info.Signo)
	if !t.ptraceStopLocked(stopSignal, sig, &info) {
		if t.exiting {
			return info, false
		}
		// Detached: the detach request's signal, if any, is delivered;
		// none if the tracer died.
		sig = t.ptrace.resumeSig
		t.ptrace.resumeSig = 0
		if sig == 0 {
			return info, false
		}
	} else {
		sig = t.ptrace.resumeSig
		info = t.ptrace.siginfo
	}
	if sig == 0 {
		return info, false
	}
	if int(info.Signo) != sig {
		// A different signal from the tracer: Linux makes it SI_USER
		// from the tracer.
		info = linux.SignalInfo{Signo: int32(sig), Code: linux.SI_USER}
		if tr := t.ptrace.tracer; tr != nil {
			info.SetPID(tr.tg.id)
			info.SetUID(tr.Credentials().RealUID)
		}
	}
	if t.sigMask.Has(sig) {
		// Linux requeues a signal the task blocks.
		t.pending.add(&info)
		return info, false
	}
	return info, true
}

// ptraceSendResumeSignalLocked sends the resume signal of a syscall or
// event stop to t itself, as Linux does.
//
// Preconditions: Kernel.mu is held.
func (t *Task) ptraceSendResumeSignalLocked() {
	sig := t.ptrace.resumeSig
	t.ptrace.resumeSig = 0
	if sig == 0 {
		return
	}
	info := linux.SignalInfo{Signo: int32(sig), Code: linux.SI_USER}
	if tr := t.ptrace.tracer; tr != nil {
		info.SetPID(tr.tg.id)
	}
	t.k.sendSignalLocked(t, &info, false, fromOutside)
}

// ptraceEventLocked stops t with PTRACE_EVENT event if its tracer set
// option, with msg for PTRACE_GETEVENTMSG. It reports whether it stopped.
//
// Preconditions: as ptraceStopLocked.
func (t *Task) ptraceEventLocked(option uint32, event int, msg uint64) bool {
	if t.ptrace.tracer == nil || t.ptrace.options&option == 0 {
		return false
	}
	t.ptrace.eventMsg = msg
	t.ptraceStopLocked(stopEvent, int(unix.SIGTRAP)|event<<8, nil)
	if !t.exiting {
		t.ptraceSendResumeSignalLocked()
	}
	return true
}

// ptraceExitLocked runs when traced task t has exited: it leaves its
// tracer, which is told of the exit unless it is the process's parent
// being told already. Tracees of t are detached (or killed with
// PTRACE_O_EXITKILL).
//
// Preconditions: Kernel.mu is held; t is off the task tables, and its
// process is a zombie if t was the last thread.
func (t *Task) ptraceExitLocked(status WaitStatus) {
	k := t.k
	for tracee := range t.ptrace.tracees {
		if tracee.ptrace.options&unix.PTRACE_O_EXITKILL != 0 {
			k.killGroupLocked(tracee.tg, WaitStatusSignaled(int(unix.SIGKILL), false))
		}
		tracee.unlinkTracerLocked()
	}
	t.ptrace.exitNotices = nil
	tracer := t.ptrace.tracer
	if tracer == nil {
		return
	}
	t.unlinkTracerLocked()
	if t.ptrace.hideExit || t.tg.zombie && t.tg.parent == tracer.tg {
		return
	}
	if tracer.exiting || len(tracer.ptrace.exitNotices) >= maxExitNotices {
		return
	}
	tracer.ptrace.exitNotices = append(tracer.ptrace.exitNotices,
		ptraceExitNotice{tid: t.tid, pgid: t.tg.pgid, tg: t.tg, uid: t.Credentials().RealUID, status: status})
	tracer.tg.notifyChildEventLocked()
	if t.tg.zombie {
		return // the parent gets SIGCHLD; the tracer's wait is woken
	}
	info := linux.SignalInfo{Signo: int32(unix.SIGCHLD), Code: linux.CLD_EXITED}
	if sig, ok := status.Signaled(); ok {
		info.Code = linux.CLD_KILLED
		info.SetStatus(int32(sig))
	} else {
		code, _ := status.Exited()
		info.SetStatus(int32(code))
	}
	info.SetPID(t.tid)
	if tracer.tg.leader != nil {
		k.sendLocked(tracer.tg.leader, &info, true)
	}
}

// ptraceWaitLocked looks for a tracee of t's process that matches opts
// and has something to report: a ptrace stop, or an exit. matched says
// whether any tracee matched.
//
// Preconditions: Kernel.mu is held.
func (t *Task) ptraceWaitLocked(opts WaitOptions) (r *WaitResult, matched bool) {
	match := func(tid, pgid int32, tg *ThreadGroup) bool {
		if opts.Group != nil {
			return tg == opts.Group
		}
		switch {
		case opts.PID > 0:
			return tid == opts.PID
		case opts.PID == -1:
			return true
		case opts.PID == 0:
			return pgid == t.tg.pgid
		default:
			return pgid == -opts.PID
		}
	}
	for m := range t.tg.tasks {
		for tracee := range m.ptrace.tracees {
			if !match(tracee.tid, tracee.tg.pgid, tracee.tg) {
				continue
			}
			matched = true
			p := &tracee.ptrace
			if p.stopReport && !tracee.exiting {
				r := &WaitResult{PID: tracee.tid, UID: tracee.Credentials().RealUID, Status: p.stopStatus, Trapped: true}
				if !opts.NoWait {
					p.stopReport = false
				}
				return r, true
			}
		}
		for i, n := range m.ptrace.exitNotices {
			if !match(n.tid, n.pgid, n.tg) {
				continue
			}
			matched = true
			if !opts.Exited {
				continue
			}
			r := &WaitResult{PID: n.tid, UID: n.uid, Status: n.status}
			if !opts.NoWait {
				m.ptrace.exitNotices = append(m.ptrace.exitNotices[:i:i], m.ptrace.exitNotices[i+1:]...)
			}
			return r, true
		}
	}
	return nil, matched
}

// Regs implements PTRACE_GETREGS.
func (p PtraceTracee) Regs() (unix.PtraceRegs, error) {
	var r unix.PtraceRegs
	err := p.withLocked(func(t *Task) error {
		r = t.st.Regs
		return nil
	})
	return r, err
}

// SetRegs implements PTRACE_SETREGS: EIO for values the tracee may not
// have (arch.SetRegsFromTracer).
func (p PtraceTracee) SetRegs(r *unix.PtraceRegs) error {
	return p.withLocked(func(t *Task) error {
		if err := arch.SetRegsFromTracer(&t.st.Regs, r); err != nil {
			return unix.EIO
		}
		return nil
	})
}

// PeekUser implements PTRACE_PEEKUSER.
func (p PtraceTracee) PeekUser(off uint64) (uint64, error) {
	var v uint64
	err := p.withLocked(func(t *Task) error {
		var err error
		if v, err = arch.PeekUser(&t.st.Regs, off); err != nil {
			return unix.EIO
		}
		return nil
	})
	return v, err
}

// PokeUser implements PTRACE_POKEUSER.
func (p PtraceTracee) PokeUser(off, v uint64) error {
	return p.withLocked(func(t *Task) error {
		if off >= arch.UserDebugReg && off < arch.UserDebugReg+64 && v != 0 {
			t.k.warnPtraceOnce("PTRACE_POKEUSER of a debug register (hardware breakpoints)")
		}
		if err := arch.PokeUser(&t.st.Regs, off, v); err != nil {
			return unix.EIO
		}
		return nil
	})
}

// FPRegs implements PTRACE_GETFPREGS and NT_X86_XSTATE (xstate): a copy
// of the fxsave area or of the whole XSAVE area.
func (p PtraceTracee) FPRegs(xstate bool) ([]byte, error) {
	var b []byte
	err := p.withLocked(func(t *Task) error {
		if xstate {
			b = arch.XStateForTracer(t.st.FP, t.k.FPLayout)
		} else {
			b = append([]byte(nil), t.st.FP[:arch.FXSaveSize]...)
		}
		return nil
	})
	return b, err
}

// SetFPRegs implements PTRACE_SETFPREGS and NT_X86_XSTATE's set.
func (p PtraceTracee) SetFPRegs(b []byte) error {
	return p.withLocked(func(t *Task) error {
		arch.SetFPFromTracer(t.st.FP, b, t.k.FPLayout)
		t.st.FPValid = true
		return nil
	})
}

// memory returns the stopped tracee's address space. As for
// process_vm_readv, the caller gets no user reference and accesses it
// without Kernel.mu (a fault may read a file): one released meanwhile
// (the tracee was killed) reads as empty.
func (p PtraceTracee) memory() (*mm.MemoryManager, error) {
	var m *mm.MemoryManager
	err := p.withLocked(func(t *Task) error {
		m = t.mm
		return nil
	})
	return m, err
}

// Peek implements PTRACE_PEEKTEXT/PEEKDATA: EIO if the word is not
// readable (Linux's answer through access_process_vm).
func (p PtraceTracee) Peek(addr uint64) (uint64, error) {
	m, err := p.memory()
	if err != nil {
		return 0, err
	}
	var b [8]byte
	if n, _ := m.CopyInForce(addr, b[:]); n != len(b) {
		return 0, unix.EIO
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// Poke implements PTRACE_POKETEXT/POKEDATA: read-only private mappings
// are written too, as Linux's FOLL_FORCE does (breakpoints).
func (p PtraceTracee) Poke(addr, v uint64) error {
	m, err := p.memory()
	if err != nil {
		return err
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	if n, _ := m.CopyOutForce(addr, b[:]); n != len(b) {
		return unix.EIO
	}
	return nil
}

// SyscallInfo is PTRACE_GET_SYSCALL_INFO's answer.
type SyscallInfo struct {
	// Op is PTRACE_SYSCALL_INFO_NONE, _ENTRY or _EXIT.
	Op      uint8
	IP, SP  uint64
	Nr      uint64
	Args    [6]uint64
	RVal    int64
	IsError bool
}

// Syscall info ops.
const (
	SyscallInfoNone  = 0
	SyscallInfoEntry = 1
	SyscallInfoExit  = 2
)

// SyscallInfo implements PTRACE_GET_SYSCALL_INFO. As Linux, the stop is
// told apart only for syscall stops reported with PTRACE_O_TRACESYSGOOD.
func (p PtraceTracee) SyscallInfo() (SyscallInfo, error) {
	var si SyscallInfo
	err := p.withLocked(func(t *Task) error {
		r := &t.st.Regs
		si.IP, si.SP = r.Rip, r.Rsp
		if t.ptrace.stopKind != stopSyscall || t.ptrace.siginfo.Code != int32(unix.SIGTRAP|0x80) {
			return nil
		}
		if t.ptrace.syscallExit {
			si.Op = SyscallInfoExit
			si.RVal = int64(r.Rax)
			si.IsError = si.RVal < 0 && si.RVal >= -4095
			return nil
		}
		si.Op = SyscallInfoEntry
		si.Nr, si.Args = arch.Args(r)
		return nil
	})
	return si, err
}

// ptraceInterruptLocked takes a pending PTRACE_INTERRUPT (or a seized
// auto-attached child's first stop): t stops with PTRACE_EVENT_STOP, with
// the stop signal if its process is in a group-stop, else SIGTRAP. It
// reports whether t stopped.
//
// Preconditions: as ptraceStopLocked.
func (t *Task) ptraceInterruptLocked() bool {
	if !t.ptrace.interrupt {
		return false
	}
	t.ptrace.interrupt = false
	kind, code := stopEvent, int(unix.SIGTRAP)
	if t.tg.stopped {
		kind, code = stopGroup, t.tg.stopSig
		t.ptrace.groupStopSeen = t.tg.stopGen
	}
	t.ptraceStopLocked(kind, code|unix.PTRACE_EVENT_STOP<<8, nil)
	return true
}

// ptraceGroupContinuedLocked re-traps tg's listening tracees when the
// group-stop ends (SIGCONT), as PTRACE_LISTEN promises.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) ptraceGroupContinuedLocked(tg *ThreadGroup) {
	for m := range tg.tasks {
		p := &m.ptrace
		if p.listening && p.stopped && p.tracer != nil {
			p.listening = false
			p.stopKind = stopEvent
			p.stopStatus = ptraceStatus(int(unix.SIGTRAP) | unix.PTRACE_EVENT_STOP<<8)
			m.ptraceReportLocked()
		}
	}
}

// ptraceSyscallStopLocked is a syscall-entry (exit false) or -exit stop.
//
// Preconditions: as ptraceStopLocked.
func (t *Task) ptraceSyscallStopLocked(exit bool) {
	code := int(unix.SIGTRAP)
	if t.ptrace.options&unix.PTRACE_O_TRACESYSGOOD != 0 {
		code |= 0x80
	}
	// Linux leaves PTRACE_EVENTMSG_SYSCALL_ENTRY (1) or _EXIT (2) as
	// the event message.
	t.ptrace.eventMsg = 1
	if exit {
		t.ptrace.eventMsg = 2
	}
	t.ptrace.syscallExit = exit
	t.ptraceStopLocked(stopSyscall, code, nil)
	if !t.exiting {
		// The resume or detach request's signal.
		t.ptraceSendResumeSignalLocked()
	}
}

// ptraceSyscallEntry is the syscall-entry stop of a task resumed with
// PTRACE_SYSCALL or PTRACE_SYSEMU. It reports whether the call must run:
// not under PTRACE_SYSEMU, nor if the tracer set the number to -1 (rax
// then keeps -ENOSYS or what the tracer wrote), nor if t was killed.
func (t *Task) ptraceSyscallEntry() bool {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	p := &t.ptrace
	if p.tracer == nil || (p.resume != resumeSyscall && p.resume != resumeSysemu && p.resume != resumeSysemuSingleStep) {
		return true
	}
	emu := p.resume == resumeSysemu || p.resume == resumeSysemuSingleStep
	t.st.Regs.Rax = negErrno(unix.ENOSYS)
	t.ptraceSyscallStopLocked(false)
	// Whether an exit stop follows depends on how the tracer resumed
	// the task from this stop (PTRACE_SYSCALL: yes), as Linux.
	return !emu && !t.exiting && t.st.Regs.Orig_rax != ^uint64(0)
}

// ptraceSyscallExit is the syscall-exit stop of a task resumed with
// PTRACE_SYSCALL at its entry stop (or traced since).
func (t *Task) ptraceSyscallExit() {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	p := &t.ptrace
	if p.tracer == nil || t.exiting {
		return
	}
	if p.resume == resumeSingleStep && p.forcedTF {
		// The trap flag traps after the instruction that follows the
		// syscall: report the step over the syscall itself now, as
		// Linux's user_single_step_report does.
		info := linux.SignalInfo{Signo: int32(unix.SIGTRAP), Code: linux.TRAP_BRKPT}
		t.pending.add(&info)
		return
	}
	if p.resume != resumeSyscall {
		return
	}
	t.ptraceSyscallStopLocked(true)
}

// ptraceExec runs after a successful execve of a traced task: the
// PTRACE_EVENT_EXEC stop (with the thread ID before the exec as message)
// or, for a tracee attached without PTRACE_SEIZE, a SIGTRAP.
func (t *Task) ptraceExec(oldTID int32) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if t.ptrace.tracer == nil || t.exiting {
		return
	}
	if t.ptraceEventLocked(unix.PTRACE_O_TRACEEXEC, unix.PTRACE_EVENT_EXEC, uint64(oldTID)) {
		return
	}
	if !t.ptrace.seized {
		info := linux.SignalInfo{Signo: int32(unix.SIGTRAP), Code: linux.SI_USER}
		t.pending.add(&info)
	}
}

// ptraceCloneEvent is the event and option a clone with opts reports.
func ptraceCloneEvent(opts CloneOptions) (uint32, int) {
	switch {
	case opts.Flags&unix.CLONE_VFORK != 0:
		return unix.PTRACE_O_TRACEVFORK, unix.PTRACE_EVENT_VFORK
	case opts.ExitSignal != int(unix.SIGCHLD):
		return unix.PTRACE_O_TRACECLONE, unix.PTRACE_EVENT_CLONE
	}
	return unix.PTRACE_O_TRACEFORK, unix.PTRACE_EVENT_FORK
}

// ptraceInheritLocked attaches child, being created by t's clone, to t's
// tracer if the tracer asked for the clone's event: it starts with
// SIGSTOP pending, or for a seized tracer with a PTRACE_EVENT_STOP.
//
// Preconditions: Kernel.mu is held; child is not yet running.
func (t *Task) ptraceInheritLocked(child *Task, opts CloneOptions) {
	opt, _ := ptraceCloneEvent(opts)
	p := &t.ptrace
	if p.tracer == nil || p.options&opt == 0 || p.tracer.exiting {
		return
	}
	child.linkTracerLocked(p.tracer, p.seized, p.options)
	if p.seized {
		child.ptrace.interrupt = true
		return
	}
	info := linux.SignalInfo{Signo: int32(unix.SIGSTOP), Code: linux.SI_KERNEL}
	child.pending.add(&info)
}

// ptraceCloneDone reports a clone's event to t's tracer, once the child
// (tid) runs.
func (t *Task) ptraceCloneDone(opts CloneOptions, tid int32) {
	opt, ev := ptraceCloneEvent(opts)
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if !t.exiting {
		t.ptraceEventLocked(opt, ev, uint64(tid))
	}
}

// ptraceVforkDone reports PTRACE_EVENT_VFORK_DONE.
func (t *Task) ptraceVforkDone(tid int32) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if !t.exiting {
		t.ptraceEventLocked(unix.PTRACE_O_TRACEVFORKDONE, unix.PTRACE_EVENT_VFORK_DONE, uint64(tid))
	}
}

// ptraceExitEvent is the PTRACE_EVENT_EXIT stop (PTRACE_O_TRACEEXIT) of a
// task about to exit with status, with the status as event message. It
// is made for exit, exit_group and a fatal signal the task itself
// delivers, not for SIGKILL or threads killed by another's exit.
func (t *Task) ptraceExitEvent(status WaitStatus) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.ptraceExitEventLocked(status)
}

// ptraceExitEventLocked is ptraceExitEvent with Kernel.mu held.
func (t *Task) ptraceExitEventLocked(status WaitStatus) {
	if t.exiting || t.tg.exiting {
		return
	}
	t.ptraceEventLocked(unix.PTRACE_O_TRACEEXIT, unix.PTRACE_EVENT_EXIT, uint64(status))
}

// ptraceSeccompEvent is the PTRACE_EVENT_SECCOMP stop for a seccomp
// filter's SECCOMP_RET_TRACE with data: it reports false, without
// stopping, unless a tracer asked for it (PTRACE_O_TRACESECCOMP). The
// tracer sees rax -ENOSYS, as at a syscall-entry stop.
func (t *Task) ptraceSeccompEvent(data uint64) bool {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.ptrace.tracer == nil || t.ptrace.options&unix.PTRACE_O_TRACESECCOMP == 0 {
		return false
	}
	t.st.Regs.Rax = negErrno(unix.ENOSYS)
	return t.ptraceEventLocked(unix.PTRACE_O_TRACESECCOMP, unix.PTRACE_EVENT_SECCOMP, data)
}

// SigMask implements PTRACE_GETSIGMASK: the tracee's blocked signals (the
// mask a call like sigsuspend will restore, if it installed another).
func (p PtraceTracee) SigMask() (linux.SignalSet, error) {
	var m linux.SignalSet
	err := p.withLocked(func(t *Task) error {
		m = t.sigMask
		if t.hasSaved {
			m = t.savedMask
		}
		return nil
	})
	return m, err
}

// SetSigMask implements PTRACE_SETSIGMASK: SIGKILL and SIGSTOP stay
// unblocked, and a temporary mask is dropped (Linux clears
// TIF_RESTORE_SIGMASK).
func (p PtraceTracee) SetSigMask(m linux.SignalSet) error {
	return p.withLocked(func(t *Task) error {
		t.sigMask = m &^ unblockable
		t.hasSaved = false
		return nil
	})
}

// PendingSigInfo implements PTRACE_PEEKSIGINFO's read: the i-th pending
// signal of the tracee's own queue (shared false) or its process's, in
// signal-number order and, for a real-time signal, arrival order. ok is
// false past the end.
func (p PtraceTracee) PendingSigInfo(shared bool, i uint64) (info linux.SignalInfo, ok bool, err error) {
	err = p.withLocked(func(t *Task) error {
		q := &t.pending
		if shared {
			q = &t.tg.pending
		}
		for sig := 1; sig <= linux.NumSignals; sig++ {
			n := uint64(len(q.infos[sig]))
			if i < n {
				info, ok = q.infos[sig][i], true
				return nil
			}
			i -= n
		}
		return nil
	})
	return info, ok, err
}
