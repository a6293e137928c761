package kernel

import (
	"slices"
	"testing"
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"golang.org/x/sys/unix"
)

// TestPauseStopsEveryTaskUntilResume pauses a sandbox running a guest
// spinning in guest code (init), one looping on a syscall and one blocked
// in a syscall, and checks that none makes progress until Resume: not the
// blocked one once its call completes, nor a process started meanwhile.
func TestPauseStopsEveryTaskUntilResume(t *testing.T) {
	gk := newGuestKernel(t)
	spin := gk.start(t, "spin", nil)
	sysloop := gk.start(t, "sysloop", nil)
	gate := gk.start(t, "gate", nil)
	waitRunning(t, spin, 0)
	waitRunning(t, sysloop, 0)
	waitFor(t, "the gate process blocks in its syscall", func() bool { return gate.MainTask().ProcState() == 'S' })

	gk.pause(t)
	if n := gk.Kernel.pause.inGuest.Load(); n != 0 {
		t.Fatalf("Pause returned with %d tasks counted in guest code, want 0", n)
	}
	if !gk.IsPaused() {
		t.Fatal("IsPaused is false after Pause")
	}
	// Pause again: idempotent, returns at once.
	gk.pause(t)
	// The blocked call completes while paused; the task must not
	// return to guest code.
	gk.d.openGate()
	late := gk.start(t, "spin", nil)
	stillFor(t, "paused", spin, sysloop, gate, late)
	if got := counter(t, late); got != 0 {
		t.Errorf("a process started while paused ran guest code: counter %d, want 0", got)
	}

	gk.Resume()
	gk.Resume() // a no-op
	if gk.IsPaused() {
		t.Fatal("IsPaused is true after Resume")
	}
	for _, tg := range []*ThreadGroup{spin, sysloop, gate, late} {
		waitRunning(t, tg, counter(t, tg))
	}
}

// TestPauseHoldsSignalsUntilResume checks that a signal sent to a paused
// process is delivered after Resume (SIGTERM under the default action
// ends it only then), while SIGKILL ends a paused process at once.
func TestPauseHoldsSignalsUntilResume(t *testing.T) {
	gk := newGuestKernel(t)
	gk.start(t, "spin", nil) // init
	term := gk.start(t, "sysloop", nil)
	kill := gk.start(t, "spin", nil)
	waitRunning(t, term, 0)
	waitRunning(t, kill, 0)
	gk.pause(t)
	gk.SignalProcess(term, int(unix.SIGTERM))
	gk.SignalProcess(kill, int(unix.SIGKILL))
	select {
	case <-kill.Exited():
	case <-time.After(time.Minute):
		t.Fatal("SIGKILL did not end a paused process")
	}
	if ws := kill.WaitExit(); ws != WaitStatusSignaled(int(unix.SIGKILL), false) {
		t.Errorf("SIGKILL'd process: status %#x, want killed by SIGKILL", ws)
	}
	stillFor(t, "paused with SIGTERM pending", term)
	select {
	case <-term.Exited():
		t.Fatal("SIGTERM ended a paused process before Resume")
	default:
	}
	gk.Resume()
	if ws := term.WaitExit(); ws != WaitStatusSignaled(int(unix.SIGTERM), false) {
		t.Errorf("SIGTERM'd process: status %#x, want killed by SIGTERM", ws)
	}
}

// TestResumeKeepsStoppedProcessStopped: a process stopped by SIGSTOP
// stays stopped across Pause and Resume, and SIGCONT resumes it.
func TestResumeKeepsStoppedProcessStopped(t *testing.T) {
	gk := newGuestKernel(t)
	gk.start(t, "spin", nil)
	p := gk.start(t, "spin", nil)
	waitRunning(t, p, 0)
	gk.SignalProcess(p, int(unix.SIGSTOP))
	waitFor(t, "the process stops", func() bool { return p.MainTask().ProcState() == 'T' })
	gk.pause(t)
	gk.Resume()
	stillFor(t, "stopped after Resume", p)
	gk.SignalProcess(p, int(unix.SIGCONT))
	waitRunning(t, p, counter(t, p))
}

// TestPauseThenInitExitEndsSandbox: init's death kills every process,
// paused or not, and the kernel finishes.
func TestPauseThenInitExitEndsSandbox(t *testing.T) {
	gk := newGuestKernel(t)
	init := gk.start(t, "spin", nil)
	other := gk.start(t, "sysloop", nil)
	waitRunning(t, other, 0)
	gk.pause(t)
	gk.SignalProcess(init, int(unix.SIGKILL))
	select {
	case <-gk.done:
	case <-time.After(time.Minute):
		t.Fatal("the kernel did not finish after init was killed while paused")
	}
	if ws := other.WaitExit(); ws != WaitStatusSignaled(int(unix.SIGKILL), false) {
		t.Errorf("other process: status %#x, want killed by SIGKILL with init", ws)
	}
	if _, err := gk.CreateProcess(CreateProcessArgs{Filename: "/spin", WorkingDirectory: "/", Credentials: RootCredentials(), FDTable: NewFDTable()}); err != ErrInitExited {
		t.Errorf("CreateProcess after init's exit: %v, want ErrInitExited", err)
	}
}

// TestProcessesDescribesEachProcess checks what runsc ps gets.
func TestProcessesDescribesEachProcess(t *testing.T) {
	gk := newGuestKernel(t)
	init := gk.start(t, "spin", nil)
	user := &Credentials{RealUID: 1000, EffectiveUID: 1000, SavedUID: 1000, FSUID: 1000,
		RealGID: 100, EffectiveGID: 100, SavedGID: 100, FSGID: 100, Groups: []uint32{100, 27}}
	exec := gk.start(t, "sysloop", user)
	waitRunning(t, init, 0)
	waitRunning(t, exec, 0)
	ps := gk.Processes()
	if len(ps) != 2 || ps[0].PID != init.ID() || ps[1].PID != exec.ID() {
		t.Fatalf("Processes = %+v, want init (%d) then the exec'd process (%d)", ps, init.ID(), exec.ID())
	}
	for i, want := range []struct {
		comm     string
		uid, gid uint32
	}{{"spin", 0, 0}, {"sysloop", 1000, 100}} {
		p := ps[i]
		if p.PPID != 0 {
			t.Errorf("process %d: PPID %d, want 0 (started from outside)", p.PID, p.PPID)
		}
		if p.Comm != want.comm || !slices.Equal(p.Argv, []string{want.comm, "arg1", "second arg"}) {
			t.Errorf("process %d: comm %q argv %q, want %q and [%s arg1 \"second arg\"]", p.PID, p.Comm, p.Argv, want.comm, want.comm)
		}
		if p.UID != want.uid || p.GID != want.gid {
			t.Errorf("process %d: uid %d gid %d, want %d %d", p.PID, p.UID, p.GID, want.uid, want.gid)
		}
		if p.Threads != 1 || p.State != 'R' && p.State != 'S' {
			t.Errorf("process %d: %d threads, state %c; want 1 thread, R or S", p.PID, p.Threads, p.State)
		}
		if p.StartTime.IsZero() || p.StartTime.After(time.Now()) {
			t.Errorf("process %d: start time %v", p.PID, p.StartTime)
		}
		if p.HostPID <= 0 {
			t.Errorf("process %d: host PID %d, want the stub's", p.PID, p.HostPID)
		} else if tr := hostTracer(t, p.HostPID); tr == 0 {
			t.Errorf("process %d: host PID %d is not traced, so not a stub", p.PID, p.HostPID)
		}
	}
	if ps[0].HostPID == ps[1].HostPID {
		t.Errorf("two address spaces share host PID %d", ps[0].HostPID)
	}
	waitFor(t, "the spinning init is charged user time", func() bool { return gk.Processes()[0].CPU.User > 0 })
	if exec.SessionID() != exec.ID() || exec.ProcessGroupID() != exec.ID() {
		t.Errorf("exec'd process: sid %d pgid %d, want its own session and group (%d)", exec.SessionID(), exec.ProcessGroupID(), exec.ID())
	}
}

// TestStatsCountsTasksMemoryAndCPU checks runsc events --stats' inputs,
// including the CPU time of a process that has exited and been reaped.
func TestStatsCountsTasksMemoryAndCPU(t *testing.T) {
	gk := newGuestKernel(t)
	init := gk.start(t, "spin", nil)
	waitRunning(t, init, 0)
	short := gk.start(t, "exit7", nil)
	short.WaitExit()
	waitFor(t, "the exec'd process is reaped", func() bool { return gk.ThreadGroupByID(short.ID()) == nil })
	s := gk.Stats()
	if s.Tasks != 1 || s.Processes != 1 {
		t.Errorf("Stats: %d tasks, %d processes; want 1 and 1", s.Tasks, s.Processes)
	}
	if s.MemoryUsage == 0 {
		t.Error("Stats: memory usage 0 with programs in tmpfs and a running process")
	}
	if s.CPU.Total() <= 0 {
		t.Errorf("Stats: CPU %v with a spinning init", s.CPU)
	}
	before := s.CPU.Total()
	waitFor(t, "CPU time grows", func() bool { return gk.Stats().CPU.Total() > before })
}

// TestExecProcessExitIsReapedAndWaitable: a process started from outside
// has no parent; the kernel reaps it, and WaitExit gives its status to any
// number of waiters, before or after the exit.
func TestExecProcessExitIsReapedAndWaitable(t *testing.T) {
	gk := newGuestKernel(t)
	gk.start(t, "spin", nil)
	p := gk.start(t, "exit7", nil)
	got := make(chan WaitStatus, 2)
	go func() { got <- p.WaitExit() }()
	go func() { got <- p.WaitExit() }()
	for i := 0; i < 2; i++ {
		if ws := <-got; ws != WaitStatusExited(7) {
			t.Errorf("WaitExit = %#x, want exited with 7", ws)
		}
	}
	if ws := p.WaitExit(); ws != WaitStatusExited(7) {
		t.Errorf("WaitExit after the exit = %#x, want exited with 7", ws)
	}
	waitFor(t, "the kernel reaps the exec'd process", func() bool { return gk.ThreadGroupByID(p.ID()) == nil })
}

// TestSignalProcessToInitFollowsLinux: from outside, the sandbox's init
// gets SIGKILL and SIGSTOP and, under the default action, no other
// signal; SIGCONT resumes it. Other processes get everything.
func TestSignalProcessToInitFollowsLinux(t *testing.T) {
	gk := newGuestKernel(t)
	init := gk.start(t, "spin", nil)
	other := gk.start(t, "spin", nil)
	waitRunning(t, init, 0)
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGUSR1} {
		gk.SignalProcess(init, int(sig))
		gk.mu.Lock()
		pending, exiting := init.pending.set|init.leader.pending.set, init.exiting
		gk.mu.Unlock()
		if pending != 0 || exiting {
			t.Errorf("%v to init under SIG_DFL: pending %#x, exiting %v; want it discarded", sig, pending, exiting)
		}
	}
	gk.SignalProcess(init, int(unix.SIGSTOP))
	waitFor(t, "init stops on SIGSTOP from outside", func() bool { return init.MainTask().ProcState() == 'T' })
	gk.SignalProcess(init, int(unix.SIGCONT))
	waitRunning(t, init, counter(t, init))

	// A handler makes init take the signal (queued while stopped, so
	// the test's handler address is never run).
	gk.SignalProcess(init, int(unix.SIGSTOP))
	waitFor(t, "init stops again", func() bool { return init.MainTask().ProcState() == 'T' })
	gk.mu.Lock()
	init.handlers.actions[unix.SIGTERM] = linux.SigAction{Handler: 0x400100}
	gk.mu.Unlock()
	gk.SignalProcess(init, int(unix.SIGTERM))
	if !init.SharedPendingSignals().Has(int(unix.SIGTERM)) {
		t.Error("SIGTERM to init with a handler was not queued")
	}

	// kill --all: the other process dies of SIGTERM, init (with its
	// handler) keeps it pending; SIGKILL then ends everything.
	gk.SignalAll(int(unix.SIGTERM))
	if ws := other.WaitExit(); ws != WaitStatusSignaled(int(unix.SIGTERM), false) {
		t.Errorf("SignalAll(SIGTERM): other process status %#x, want killed by SIGTERM", ws)
	}
	gk.SignalAll(int(unix.SIGKILL))
	if ws := init.WaitExit(); ws != WaitStatusSignaled(int(unix.SIGKILL), false) {
		t.Errorf("SignalAll(SIGKILL): init status %#x, want killed by SIGKILL", ws)
	}
}

// TestForwardSignalEndsInit: runsc do's forwarding applies init's default
// actions.
func TestForwardSignalEndsInit(t *testing.T) {
	gk := newGuestKernel(t)
	init := gk.start(t, "spin", nil)
	waitRunning(t, init, 0)
	gk.ForwardSignal(init, int(unix.SIGTERM))
	if ws := gk.Wait(); ws != WaitStatusSignaled(int(unix.SIGTERM), false) {
		t.Errorf("init after a forwarded SIGTERM: status %#x, want killed by SIGTERM", ws)
	}
}
