package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// ptraceRaw issues ptrace(2) without entering the Go scheduler: every request
// used here is non-blocking.
func ptraceRaw(req int, tid int, addr, data uintptr) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// getRegs reads the general purpose registers of a stopped tracee.
func getRegs(tid int, regs *unix.PtraceRegs) error {
	// SAFETY: regs points to a PtraceRegs, the kernel's user_regs_struct,
	// which the kernel writes in full and nothing more.
	return ptraceRaw(unix.PTRACE_GETREGS, tid, 0, uintptr(unsafe.Pointer(regs)))
}

// setRegs writes the general purpose registers of a stopped tracee.
func setRegs(tid int, regs *unix.PtraceRegs) error {
	// SAFETY: as getRegs; the kernel only reads *regs.
	return ptraceRaw(unix.PTRACE_SETREGS, tid, 0, uintptr(unsafe.Pointer(regs)))
}

// ntX86XState is the NT_X86_XSTATE register set (the XSAVE area).
const ntX86XState = 0x202

// getXState reads the XSAVE area of a stopped tracee into buf and returns
// its size.
func getXState(tid int, buf []byte) (int, error) {
	// SAFETY: the kernel writes at most iov.Len bytes to buf, which stays
	// live (referenced by iov) for the call.
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	err := ptraceRaw(unix.PTRACE_GETREGSET, tid, ntX86XState, uintptr(unsafe.Pointer(&iov)))
	return int(iov.Len), err
}

// setXState loads buf, an XSAVE area, into a stopped tracee.
func setXState(tid int, buf []byte) error {
	// SAFETY: as getXState; the kernel only reads buf.
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	return ptraceRaw(unix.PTRACE_SETREGSET, tid, ntX86XState, uintptr(unsafe.Pointer(&iov)))
}

// siginfo is the prefix of the kernel's siginfo_t that the platform reads.
type siginfo struct {
	Signo int32
	Errno int32
	Code  int32
	_     int32
	Addr  uint64 // si_addr for faults
	_     [112]byte
}

// getSiginfo reads the siginfo of the signal that stopped a tracee.
func getSiginfo(tid int, info *siginfo) error {
	// SAFETY: siginfo is 128 bytes, the size of the kernel's siginfo_t.
	return ptraceRaw(unix.PTRACE_GETSIGINFO, tid, 0, uintptr(unsafe.Pointer(info)))
}

// wait4 waits for a state change of exactly tid (a tracee of this thread),
// retrying when a Go runtime signal interrupts it.
func wait4(tid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		// SAFETY: ws is a 4-byte status word the kernel writes.
		_, _, e := unix.Syscall6(unix.SYS_WAIT4, uintptr(tid), uintptr(unsafe.Pointer(&ws)), unix.WALL, 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return ws, nil
	}
}

// uintptrOf passes a pointer to a raw system call.
func uintptrOf(p *uint32) uintptr {
	// SAFETY: the callee writes one uint32 through p during the call, and
	// p stays live across the call because it is an argument.
	return uintptr(unsafe.Pointer(p))
}

// saNoCldStop is SA_NOCLDSTOP (include/uapi/asm-generic/signal-defs.h).
const saNoCldStop = 0x1

// kernelSigaction is struct sigaction as rt_sigaction(2) takes it on
// amd64 (the kernel's layout, not glibc's).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// quietStopNotifications adds SA_NOCLDSTOP to the process's SIGCHLD
// action (the Go runtime's handler, kept as it is otherwise), so that the
// kernel stops sending SIGCHLD for every ptrace stop of a stub: each was a
// signal delivered to some Sentry thread (a context switch, a signal frame
// and the Go runtime's handler) for nothing, since tracers learn of stops
// from wait4, which the kernel wakes either way. Exits still raise
// SIGCHLD.
func quietStopNotifications() error {
	act, err := sigchldAction()
	if err != nil {
		return err
	}
	if act.handler == 0 || act.handler == 1 || act.flags&saNoCldStop != 0 {
		return nil // SIG_DFL or SIG_IGN: no signal is delivered anyway
	}
	act.flags |= saNoCldStop
	// SAFETY: act outlives the call; sigsetsize 8 is the kernel's.
	if _, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// sigchldAction returns the process's SIGCHLD action.
func sigchldAction() (kernelSigaction, error) {
	var act kernelSigaction
	// SAFETY: act outlives the call; sigsetsize 8 is the kernel's.
	if _, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), 0, uintptr(unsafe.Pointer(&act)), 8, 0, 0); errno != 0 {
		return act, errno
	}
	return act, nil
}
