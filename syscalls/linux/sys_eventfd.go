package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/eventfd"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_EVENTFD, Eventfd)
	full(unix.SYS_EVENTFD2, Eventfd2)
}

// eventfd2 makes an eventfd and installs it.
func eventfd2(t *kernel.Task, initval uint32, flags uint32) (uint64, error) {
	f, err := eventfd.New(initval, flags)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	fd, err := newFD(t, f, kernel.FDFlags{CloseOnExec: flags&eventfd.EFD_CLOEXEC != 0})
	return uint64(fd), err
}

// Eventfd2 implements eventfd2(2).
func Eventfd2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	initval, flags := uint32(args[0]), uint32(args[1])
	return eventfd2(t, initval, flags)
}

// Eventfd implements eventfd(2): eventfd2 with no flags.
func Eventfd(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	initval := uint32(args[0])
	return eventfd2(t, initval, 0)
}
