package ptrace

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ptraceOptions are set on every stub: a stub dies with its tracer, and
// syscall stops are told apart from SIGTRAPs.
const ptraceOptions = unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD

// thread is one traced stub thread. All its methods must be called on the
// OS thread that traces it.
type thread struct {
	// pid and tid identify the stub thread in the host.
	pid, tid int
	// tracer is the host tid of the OS thread tracing it.
	tracer int
	// initRegs are the registers the stub had when attached; their segment
	// selectors are reused for every switch into the guest.
	initRegs unix.PtraceRegs
	// cpu is the CPU the thread is pinned to, or -1.
	cpu int
}

// attach makes the calling OS thread the tracer of the stub process pid,
// freshly forked by the master: it waits in pause(2) (see the fork
// trampoline), like a new stub thread.
func attach(pid int) (*thread, error) {
	t, err := attachThread(pid, pid)
	if err != nil {
		unix.Kill(pid, unix.SIGKILL)
		return nil, err
	}
	return t, nil
}

// attachThread makes the calling OS thread the tracer of thread tid of
// stub process pid, which waits in pause(2) (see the trampolines).
func attachThread(pid, tid int) (*thread, error) {
	t := &thread{pid: pid, tid: tid, tracer: unix.Gettid(), cpu: -1}
	if err := ptraceRaw(unix.PTRACE_SEIZE, tid, 0, ptraceOptions); err != nil {
		return nil, os.NewSyscallError("ptrace(PTRACE_SEIZE)", err)
	}
	if err := ptraceRaw(unix.PTRACE_INTERRUPT, tid, 0, 0); err != nil {
		return nil, os.NewSyscallError("ptrace(PTRACE_INTERRUPT)", err)
	}
	ws, err := wait4(tid)
	if err != nil {
		return nil, err
	}
	if !ws.Stopped() {
		return nil, fmt.Errorf("ptrace: new stub thread %d did not stop: status %#x", tid, ws)
	}
	if err := getRegs(tid, &t.initRegs); err != nil {
		return nil, os.NewSyscallError("ptrace(PTRACE_GETREGS)", err)
	}
	return t, nil
}

// exitThread makes the stub thread exit by itself (exit(2), not
// exit_group): it points the thread at an exit system call and detaches
// from it. Waiting for the exit is not possible in general (a thread
// group leader's exit is reported only when the whole group has exited),
// and detaching also ends PTRACE_O_EXITKILL, which would otherwise kill
// the whole stub process when this tracer thread dies.
func (t *thread) exitThread() {
	regs := t.initRegs
	regs.Rip = stubAddr + stubSyscall
	regs.Rax = unix.SYS_EXIT
	regs.Orig_rax = ^uint64(0)
	regs.Rdi = 0
	if setRegs(t.tid, &regs) != nil {
		return
	}
	ptraceRaw(unix.PTRACE_DETACH, t.tid, 0, 0)
}

// syscall runs a host system call in the stub and returns its result.
func (t *thread) syscall(nr uintptr, args ...uintptr) (uintptr, error) {
	return t.syscallAt(stubAddr+stubSyscall, nr, args...)
}

// syscallAt runs the system call instruction at ip with nr and args loaded,
// and waits for the int3 that follows it.
func (t *thread) syscallAt(ip uint64, nr uintptr, args ...uintptr) (uintptr, error) {
	regs := t.initRegs
	regs.Rip = ip
	regs.Rax = uint64(nr)
	regs.Orig_rax = ^uint64(0)
	dst := []*uint64{&regs.Rdi, &regs.Rsi, &regs.Rdx, &regs.R10, &regs.R8, &regs.R9}
	for i, a := range args {
		*dst[i] = uint64(a)
	}
	if err := setRegs(t.tid, &regs); err != nil {
		return 0, os.NewSyscallError("ptrace(PTRACE_SETREGS)", err)
	}
	for {
		if err := ptraceRaw(unix.PTRACE_CONT, t.tid, 0, 0); err != nil {
			return 0, os.NewSyscallError("ptrace(PTRACE_CONT)", err)
		}
		ws, err := wait4(t.tid)
		if err != nil {
			return 0, err
		}
		if !ws.Stopped() {
			return 0, fmt.Errorf("ptrace: stub %d died during injected syscall %d: status %#x", t.tid, nr, ws)
		}
		if ws.StopSignal() == unix.SIGTRAP && int(ws)>>16 == 0 {
			break
		}
		// Any other stop (a stray signal, a kick, a job-control stop,
		// a PTRACE_EVENT_STOP, which reports SIGTRAP for a
		// PTRACE_INTERRUPT) is suppressed: the stub resumes where it
		// was.
	}
	if err := getRegs(t.tid, &regs); err != nil {
		return 0, os.NewSyscallError("ptrace(PTRACE_GETREGS)", err)
	}
	if ret := int64(regs.Rax); ret < 0 && ret > -4096 {
		return 0, unix.Errno(-ret)
	}
	return uintptr(regs.Rax), nil
}

// pinTo keeps the stub thread on cpu, the CPU its tracer runs on, so that
// each ptrace stop wakes the tracer on the same CPU.
func (t *thread) pinTo(cpu int) {
	if cpu == t.cpu || cpu < 0 {
		return
	}
	var set unix.CPUSet
	set.Set(cpu)
	if unix.SchedSetaffinity(t.tid, &set) == nil {
		t.cpu = cpu
	}
}

// kill destroys the stub thread's process and, when called by its tracer,
// waits until it is gone.
func (t *thread) kill() {
	unix.Kill(t.pid, unix.SIGKILL)
	if unix.Gettid() != t.tracer {
		return
	}
	for {
		ws, err := wait4(t.tid)
		if err != nil || ws.Exited() || ws.Signaled() {
			return
		}
	}
}

// currentCPU returns the CPU the calling thread runs on.
func currentCPU() int {
	var cpu uint32
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptrOf(&cpu), 0, 0); e != 0 {
		return -1
	}
	return int(cpu)
}
