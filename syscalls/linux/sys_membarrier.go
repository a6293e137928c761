package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_MEMBARRIER, "QUERY, GLOBAL, GLOBAL_EXPEDITED, PRIVATE_EXPEDITED, their REGISTER commands and GET_REGISTRATIONS, all as one host-wide barrier; no SYNC_CORE or RSEQ variants (EINVAL, not in QUERY's mask)", Membarrier)
}

// membarrier(2) commands.
const (
	membarrierCmdQuery                    = 0
	membarrierCmdGlobal                   = 1 << 0
	membarrierCmdGlobalExpedited          = 1 << 1
	membarrierCmdRegisterGlobalExpedited  = 1 << 2
	membarrierCmdPrivateExpedited         = 1 << 3
	membarrierCmdRegisterPrivateExpedited = 1 << 4
	membarrierCmdPrivateExpeditedRseq     = 1 << 7
	membarrierCmdGetRegistrations         = 1 << 9
	membarrierCmdFlagCPU                  = 1 << 0

	membarrierSupported = membarrierCmdGlobal | membarrierCmdGlobalExpedited |
		membarrierCmdRegisterGlobalExpedited | membarrierCmdPrivateExpedited |
		membarrierCmdRegisterPrivateExpedited | membarrierCmdGetRegistrations
)

// Membarrier implements membarrier(2). Every barrier command is served by
// one barrier over all guest threads (kernel.MemoryBarrier): stronger than
// the private commands need, never weaker. Registrations are kept per
// address space as Linux keeps them (inherited by fork, dropped by
// execve), so PRIVATE_EXPEDITED without one fails with EPERM as on Linux.
func Membarrier(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	cmd, flags := intArg(args[0]), uint32(args[1])
	if cmd == membarrierCmdPrivateExpeditedRseq {
		if flags != 0 && flags != membarrierCmdFlagCPU {
			return 0, unix.EINVAL
		}
	} else if flags != 0 {
		return 0, unix.EINVAL
	}
	if cmd == membarrierCmdQuery {
		if !t.Kernel().CanMemoryBarrier() {
			return 0, nil
		}
		return membarrierSupported, nil
	}
	if cmd < 0 || cmd&(cmd-1) != 0 || cmd&membarrierSupported == 0 || !t.Kernel().CanMemoryBarrier() {
		return 0, unix.EINVAL
	}
	m := t.MemoryManager()
	switch cmd {
	case membarrierCmdGlobal, membarrierCmdGlobalExpedited:
		return 0, t.Kernel().MemoryBarrier()
	case membarrierCmdPrivateExpedited:
		if m.MembarrierRegistrations()&membarrierCmdRegisterPrivateExpedited == 0 {
			return 0, unix.EPERM
		}
		return 0, t.Kernel().MemoryBarrier()
	case membarrierCmdRegisterGlobalExpedited, membarrierCmdRegisterPrivateExpedited:
		m.MembarrierRegister(uint32(cmd))
		return 0, nil
	case membarrierCmdGetRegistrations:
		return uint64(m.MembarrierRegistrations()), nil
	}
	return 0, unix.EINVAL
}
