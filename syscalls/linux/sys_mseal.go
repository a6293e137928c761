package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_MSEAL, Mseal)
}

// Mseal implements mseal(2). No flags are defined.
func Mseal(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length, flags := args[0], args[1], args[2]
	if flags != 0 {
		return 0, unix.EINVAL
	}
	return 0, t.MemoryManager().Mseal(addr, length)
}
