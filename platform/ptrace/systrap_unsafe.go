package ptrace

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// word32 returns the 32-bit word at off in mem (4-byte aligned) for
// atomic access: futex words shared with stub threads.
func word32(mem []byte, off int) *atomic.Uint32 {
	_ = mem[off+3]
	// SAFETY: the bounds are checked above; mem is a MAP_SHARED mapping
	// that outlives every use (sysAS unmaps it only when no thread is
	// left), and off is 4-byte aligned (a constant layout offset).
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

// futexWake wakes the waiters on w (a shared futex: the stub maps the
// same file page).
func futexWake(w *atomic.Uint32) {
	// SAFETY: w points into a live mapping (see word32).
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWakeOp, 1<<30, 0, 0, 0)
}

// futexWait waits until w no longer holds val, it is woken, or timeout
// passes. It returns ETIMEDOUT, EAGAIN (w did not hold val), EINTR or
// nil.
func futexWait(w *atomic.Uint32, val uint32, timeout time.Duration) error {
	ts := unix.NsecToTimespec(timeout.Nanoseconds())
	// SAFETY: w points into a live mapping (see word32); ts outlives
	// the call.
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWaitOp, uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
