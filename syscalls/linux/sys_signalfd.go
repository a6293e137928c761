package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_SIGNALFD, "poll and epoll readiness follow the creating thread's signals, not the poller's", Signalfd)
	partial(unix.SYS_SIGNALFD4, "poll and epoll readiness follow the creating thread's signals, not the poller's", Signalfd4)
}

// signalfd4 creates a signalfd or, with ufd != -1, changes the mask of an
// existing one.
func signalfd4(t *kernel.Task, ufd int32, maskAddr, size uint64, flags int32) (uint64, error) {
	if flags&^(kernel.SFD_CLOEXEC|kernel.SFD_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	mask, err := sigsetArg(t, maskAddr, size)
	if err != nil {
		return 0, err
	}
	if ufd != -1 {
		f, err := getOpenFile(t, ufd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef(t.Context())
		if err := kernel.SetSignalFDMask(f, mask); err != nil {
			return 0, err
		}
		return uint64(ufd), nil
	}
	f := kernel.NewSignalFD(t, mask, flags&kernel.SFD_NONBLOCK != 0)
	defer f.DecRef(t.Context())
	fd, err := newFD(t, f, kernel.FDFlags{CloseOnExec: flags&kernel.SFD_CLOEXEC != 0})
	return uint64(fd), err
}

// Signalfd4 implements signalfd4(2).
func Signalfd4(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, maskAddr, size, flags := fdArg(args[0]), args[1], args[2], intArg(args[3])
	return signalfd4(t, fd, maskAddr, size, flags)
}

// Signalfd implements signalfd(2): signalfd4 with no flags.
func Signalfd(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, maskAddr, size := fdArg(args[0]), args[1], args[2]
	return signalfd4(t, fd, maskAddr, size, 0)
}
