package cmd

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// kernelSigaction is the kernel's struct sigaction on amd64, as
// rt_sigaction(2) takes it.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// setDefaultAction sets sig's action to SIG_DFL. os/signal cannot: its
// Reset gives the signal back to the Go runtime's handler.
func setDefaultAction(sig unix.Signal) error {
	act := kernelSigaction{} // handler 0 is SIG_DFL
	// SAFETY: act lives on this stack for the call; the kernel reads
	// sizeof(kernelSigaction) bytes of it and 8 bytes of sigset size.
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// childSiginfo is the start of the siginfo_t that waitid(2) fills for a
// child, on amd64; the rest pads it to the kernel's 128 bytes.
type childSiginfo struct {
	signo  int32
	errno  int32
	code   int32
	_      int32
	pid    int32
	uid    uint32
	status int32
	_      [100]byte
}

// The kernel writes exactly 128 bytes of siginfo_t.
// SAFETY: unsafe.Sizeof is evaluated at compile time and touches no
// memory; these two lines fail to compile unless childSiginfo is 128
// bytes, which the waitid call below relies on.
var _ [unsafe.Sizeof(childSiginfo{}) - 128]byte
var _ [128 - unsafe.Sizeof(childSiginfo{})]byte

// waitidNoReap waits with waitid(P_PID, pid, WEXITED|WNOWAIT) and returns
// the child's si_code and si_status.
func waitidNoReap(pid int) (code, status int32, err error) {
	var info childSiginfo
	// SAFETY: info is 128 bytes, the size of the kernel's siginfo_t,
	// and stays alive (escapes to the heap if need be) for the call.
	_, _, errno := unix.Syscall6(unix.SYS_WAITID, unix.P_PID, uintptr(pid), uintptr(unsafe.Pointer(&info)), unix.WEXITED|unix.WNOWAIT, 0, 0)
	if errno != 0 {
		return 0, 0, errno
	}
	return info.code, info.status, nil
}
