package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

// uretprobe(2) and uprobe(2) are made only by the trampolines Linux
// injects for uprobes; the Sentry has no uprobes, so every call comes from
// elsewhere and gets the answer Linux gives such a call.
func init() {
	full(unix.SYS_URETPROBE, Uretprobe)
	full(unix.SYS_UPROBE, Uprobe)
}

// Uretprobe implements uretprobe(2) called outside a uprobe trampoline:
// SIGILL, forced.
func Uretprobe(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	t.ForceKernelSignal(int(unix.SIGILL))
	return 0, unix.EPERM // Linux returns -1 once the signal is queued
}

// Uprobe implements uprobe(2) called outside a uprobe trampoline: ENXIO.
func Uprobe(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, unix.ENXIO
}
