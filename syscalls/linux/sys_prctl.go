package linux

import (
	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_PRCTL, "PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS, PR_SET_PDEATHSIG(0) only", Prctl)
}

// Prctl implements the prctl(2) options listed in its table entry.
func Prctl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	switch intArg(args[0]) {
	case unix.PR_SET_NAME:
		name, err := t.CopyInString(args[1], 15)
		if err != nil && err.Error() != "string too long" {
			return 0, unix.EFAULT
		}
		if err != nil {
			b := make([]byte, 15)
			if err := copyIn(t, args[1], b); err != nil {
				return 0, err
			}
			name = string(b)
		}
		t.SetName(name)
		return 0, nil
	case unix.PR_GET_NAME:
		b := make([]byte, 16)
		copy(b, t.Name())
		return 0, copyOut(t, args[1], b)
	case unix.PR_GET_DUMPABLE:
		return 1, nil
	case unix.PR_SET_DUMPABLE:
		if args[1] > 1 {
			return 0, unix.EINVAL
		}
		return 0, nil
	case unix.PR_SET_NO_NEW_PRIVS:
		if args[1] != 1 || args[2] != 0 || args[3] != 0 || args[4] != 0 {
			return 0, unix.EINVAL
		}
		return 0, nil
	case unix.PR_GET_NO_NEW_PRIVS:
		return 0, nil
	case unix.PR_SET_PDEATHSIG:
		if args[1] > abi.NumSignals {
			return 0, unix.EINVAL
		}
		if args[1] == 0 {
			return 0, nil
		}
	}
	t.Kernel().Warnf("task %d: prctl option %d is not implemented", t.ThreadID(), intArg(args[0]))
	return 0, unix.EINVAL
}
