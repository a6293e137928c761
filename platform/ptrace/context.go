package ptrace

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/platform"
	"golang.org/x/sys/unix"
)

// kickSignal is sent to a running stub thread to bring it back to the
// Sentry (Context.Interrupt); the tracer suppresses its delivery. Its
// default action is to be ignored: a kick that arrives after the task's
// last Switch is still pending when the thread is detached to exit, and a
// signal that kills (SIGUSR2, once) then took the whole stub process, and
// every task sharing it, down with it. (The Go runtime's own use of
// SIGURG is within the Sentry's threads; stubs are other processes.)
const kickSignal = unix.SIGURG

// ptraceEventStop is the event in a PTRACE_SEIZE group-stop or interrupt.
const ptraceEventStop = 128

type context struct {
	p *Platform
	// tracer is the host tid of the OS thread this context lives on.
	tracer int
	// interrupted is set by Interrupt and consumed by Switch.
	interrupted atomic.Bool
	// running is the stub thread running guest code for this context, or
	// nil.
	running atomic.Pointer[thread]
	// fpThread is the stub thread holding the live FP state of the guest
	// thread last switched, or nil.
	fpThread *thread
	// lastAS is the address space this context last ran in; it holds a
	// stub thread traced by this context's OS thread.
	lastAS *addressSpace
}

var _ platform.Context = (*context)(nil)

func newContext(p *Platform) *context {
	c := &context{p: p, tracer: unix.Gettid()}
	// Pin the tracer thread to one CPU, and (in Switch) its stub threads
	// to the same one: a ptrace stop that wakes the tracer on another CPU
	// costs several times one that stays on the same CPU. Contexts are
	// spread over the allowed CPUs round-robin.
	if cpu := p.nextCPU(); cpu >= 0 {
		var set unix.CPUSet
		set.Set(cpu)
		unix.SchedSetaffinity(0, &set)
	}
	return c
}

// Interrupt implements platform.Context.Interrupt.
func (c *context) Interrupt() {
	c.interrupted.Store(true)
	if t := c.running.Load(); t != nil {
		// The thread group is the stub process: a stub thread other
		// than its leader (a guest thread, a vfork child) has a tid
		// of its own, and tgkill(tid, tid) would fail with ESRCH and
		// leave a spinning guest thread running for ever.
		unix.Tgkill(t.pid, t.tid, kickSignal)
	}
}

// PullFP implements platform.Context.PullFP.
func (c *context) PullFP(st *platform.State) error {
	if st.FPValid || c.fpThread == nil {
		st.FPValid = true
		return nil
	}
	if len(st.FP) != c.p.xsize {
		st.FP = make([]byte, c.p.xsize)
	}
	if _, err := getXState(c.fpThread.tid, st.FP); err != nil {
		return os.NewSyscallError("ptrace(PTRACE_GETREGSET)", err)
	}
	st.FPValid = true
	return nil
}

// Release implements platform.Context.Release. The stub thread this
// context ran must go before its tracer does: PTRACE_O_EXITKILL would
// otherwise kill the whole stub process, other guest threads included.
func (c *context) Release() {
	c.fpThread = nil
	if c.lastAS != nil {
		c.lastAS.dropThread(c.tracer)
		c.lastAS = nil
	}
}

// Switch implements platform.Context.Switch.
func (c *context) Switch(asi platform.AddressSpace, st *platform.State) (platform.Event, error) {
	as := asi.(*addressSpace)
	t, err := as.threadFor(c.tracer)
	if err != nil {
		return platform.Event{}, err
	}
	if as.hasDeferred.Load() {
		if err := as.applyDeferred(t); err != nil {
			return platform.Event{}, err
		}
	}
	if as.hasTitle.Load() {
		// Only what host tools show: a stub that could not be named
		// still runs the guest (and a dead one fails below).
		as.applyTitle(t)
	}
	if !st.FPValid && c.fpThread != nil && c.fpThread != t {
		// The guest thread moved to another stub thread (a new address
		// space after fork or exec): carry its FP state along.
		if err := c.PullFP(st); err != nil {
			return platform.Event{}, err
		}
	}
	if st.FPValid {
		if err := setXState(t.tid, st.FP); err != nil {
			return platform.Event{}, os.NewSyscallError("ptrace(PTRACE_SETREGSET)", err)
		}
	}
	c.fpThread = t
	if c.lastAS != as {
		// After execve the old address space (still used by others, or
		// released) keeps no thread of ours.
		if c.lastAS != nil {
			c.lastAS.dropThread(c.tracer)
		}
		c.lastAS = as
	}
	// The guest may not pick its own segments.
	regs := &st.Regs
	regs.Cs, regs.Ss, regs.Ds, regs.Es = t.initRegs.Cs, t.initRegs.Ss, t.initRegs.Ds, t.initRegs.Es
	regs.Fs, regs.Gs = t.initRegs.Fs, t.initRegs.Gs
	regs.Orig_rax = ^uint64(0)
	if err := setRegs(t.tid, regs); err != nil {
		return platform.Event{}, os.NewSyscallError("ptrace(PTRACE_SETREGS)", err)
	}
	st.FPValid = false
	t.pinTo(currentCPU())

	for {
		c.running.Store(t)
		if c.interrupted.Swap(false) {
			c.running.Store(nil)
			return platform.Event{Kind: platform.EventInterrupted}, nil
		}
		if err := ptraceRaw(unix.PTRACE_SYSEMU, t.tid, 0, 0); err != nil {
			c.running.Store(nil)
			return platform.Event{}, os.NewSyscallError("ptrace(PTRACE_SYSEMU)", err)
		}
		ws, err := wait4(t.tid)
		c.running.Store(nil)
		if err != nil {
			return platform.Event{}, err
		}
		if !ws.Stopped() {
			return platform.Event{}, fmt.Errorf("ptrace: stub %d is gone: status %#x", t.tid, ws)
		}
		ev, ok, err := c.classify(t, ws, st)
		if err != nil || ok {
			return ev, err
		}
		// A stop that means nothing to the guest: resume it.
	}
}

// classify turns a ptrace stop into an event. ok is false for stops the
// guest must not see (stray job-control stops, kicks that raced with a
// return, signals aimed at the stub from outside).
func (c *context) classify(t *thread, ws unix.WaitStatus, st *platform.State) (platform.Event, bool, error) {
	sig := ws.StopSignal()
	if sig == unix.SIGTRAP|0x80 {
		if err := getRegs(t.tid, &st.Regs); err != nil {
			return platform.Event{}, false, os.NewSyscallError("ptrace(PTRACE_GETREGS)", err)
		}
		return platform.Event{Kind: platform.EventSyscall}, true, nil
	}
	if int(ws)>>16 == ptraceEventStop {
		return platform.Event{}, false, nil
	}
	var info siginfo
	if err := getSiginfo(t.tid, &info); err != nil {
		return platform.Event{}, false, os.NewSyscallError("ptrace(PTRACE_GETSIGINFO)", err)
	}
	if info.Code <= 0 {
		// Sent by a process (kill, tgkill), not raised by the CPU.
		if sig == kickSignal {
			// The guest ran since the last switch: its registers
			// must be read back, or the next switch would rewind it.
			if err := getRegs(t.tid, &st.Regs); err != nil {
				return platform.Event{}, false, os.NewSyscallError("ptrace(PTRACE_GETREGS)", err)
			}
			return platform.Event{Kind: platform.EventInterrupted}, true, nil
		}
		return platform.Event{}, false, nil
	}
	if err := getRegs(t.tid, &st.Regs); err != nil {
		return platform.Event{}, false, os.NewSyscallError("ptrace(PTRACE_GETREGS)", err)
	}
	ev := platform.Event{Signo: int(sig), Code: info.Code, Addr: info.Addr}
	switch {
	case sig == unix.SIGSEGV && info.Code == linux.SI_KERNEL:
		// A general-protection fault (a privileged instruction, a
		// non-canonical address, int 0x80 where the host has no
		// 32-bit entry), not a page fault: there is no address to
		// resolve, and the guest gets the signal as the CPU raised it.
		ev.Kind = platform.EventSignal
	case sig == unix.SIGSEGV, sig == unix.SIGBUS:
		ev.Kind = platform.EventFault
	case sig == unix.SIGFPE, sig == unix.SIGILL, sig == unix.SIGTRAP:
		ev.Kind = platform.EventSignal
	default:
		// A kernel-generated signal we don't expect (e.g. SIGXCPU): hand
		// it to the guest as is.
		ev.Kind = platform.EventSignal
	}
	return ev, true, nil
}
