package ptrace

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Host membarrier(2) commands used here.
const (
	membarrierCmdQuery  = 0
	membarrierCmdGlobal = 1
)

var (
	hostGlobalOnce sync.Once
	hostGlobalOK   bool
)

// MemoryBarrier implements platform.MemoryBarrierer. Guest threads are
// host threads, so the host's MEMBARRIER_CMD_GLOBAL (every thread of every
// host process passes a barrier before it returns) covers them all,
// whether they run guest code or are stopped for the Sentry. It is slow
// (an RCU grace period), but needs no registration by the stubs.
// It fails with EINVAL when the host lacks it (nohz_full CPUs, or no
// CONFIG_MEMBARRIER).
func (p *Platform) MemoryBarrier() error { return hostMemoryBarrier() }

// CanMemoryBarrier implements platform.MemoryBarrierer: the host's
// MEMBARRIER_CMD_QUERY, asked once.
func (p *Platform) CanMemoryBarrier() bool { return canHostMemoryBarrier() }

// hostMemoryBarrier runs the host's MEMBARRIER_CMD_GLOBAL, or fails with
// EINVAL where the host lacks it.
func hostMemoryBarrier() error {
	if !canHostMemoryBarrier() {
		return unix.EINVAL
	}
	if _, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdGlobal, 0, 0); e != 0 {
		return e
	}
	return nil
}

// canHostMemoryBarrier reports whether the host has
// MEMBARRIER_CMD_GLOBAL, asked once.
func canHostMemoryBarrier() bool {
	hostGlobalOnce.Do(func() {
		mask, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdQuery, 0, 0)
		hostGlobalOK = e == 0 && mask&membarrierCmdGlobal != 0
	})
	return hostGlobalOK
}
