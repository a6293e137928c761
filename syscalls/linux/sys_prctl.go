package linux

import (
	"encoding/binary"
	"fmt"
	"sync"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_PRCTL, "NAME, PDEATHSIG, DUMPABLE, KEEPCAPS, NO_NEW_PRIVS, CAPBSET_READ/DROP, GET_TID_ADDRESS, TIMERSLACK (recorded), GET_SECCOMP (0); PR_SET_MM and PR_SET_VMA fail; others EINVAL", Prctl)
}

// Prctl implements prctl(2): the options listed in its table entry.
// Unknown options fail with EINVAL and are logged once.
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
		return uint64(t.Dumpable()), nil
	case unix.PR_SET_DUMPABLE:
		return 0, t.SetDumpable(args[1])
	case unix.PR_SET_KEEPCAPS:
		if args[1] > 1 {
			return 0, unix.EINVAL
		}
		t.SetKeepCaps(args[1] == 1)
		return 0, nil
	case unix.PR_GET_KEEPCAPS:
		if t.Credentials().KeepCaps {
			return 1, nil
		}
		return 0, nil
	case unix.PR_SET_NO_NEW_PRIVS:
		if args[1] != 1 || args[2] != 0 || args[3] != 0 || args[4] != 0 {
			return 0, unix.EINVAL
		}
		t.SetNoNewPrivs()
		return 0, nil
	case unix.PR_GET_NO_NEW_PRIVS:
		if args[1] != 0 || args[2] != 0 || args[3] != 0 || args[4] != 0 {
			return 0, unix.EINVAL
		}
		if t.Credentials().NoNewPrivs {
			return 1, nil
		}
		return 0, nil
	case unix.PR_SET_CHILD_SUBREAPER:
		t.SetChildSubreaper(args[1] != 0)
		return 0, nil
	case unix.PR_GET_CHILD_SUBREAPER:
		var b [4]byte
		if t.IsChildSubreaper() {
			b[0] = 1
		}
		return 0, copyOut(t, args[1], b[:])
	case unix.PR_SET_PDEATHSIG:
		if args[1] > abi.NumSignals {
			return 0, unix.EINVAL
		}
		return 0, t.SetParentDeathSignal(int(args[1]))
	case unix.PR_GET_PDEATHSIG:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(t.ParentDeathSignal()))
		return 0, copyOut(t, args[1], b[:])
	case unix.PR_CAPBSET_READ:
		if args[1] > kernel.MaxCap {
			return 0, unix.EINVAL
		}
		return (t.Credentials().Bounding >> args[1]) & 1, nil
	case unix.PR_CAPBSET_DROP:
		return 0, t.DropBoundingCap(args[1])
	case unix.PR_GET_TID_ADDRESS:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], t.ClearChildTID())
		return 0, copyOut(t, args[1], b[:])
	case unix.PR_SET_TIMERSLACK:
		t.SetTimerSlack(args[1])
		return 0, nil
	case unix.PR_GET_TIMERSLACK:
		return t.TimerSlack(), nil
	case unix.PR_GET_SECCOMP:
		// No seccomp filters can be installed yet: mode 0.
		return 0, nil
	case unix.PR_SET_VMA:
		// As Linux without CONFIG_ANON_VMA_NAME; callers ignore the
		// failure, so it is not logged.
		return 0, unix.EINVAL
	case unix.PR_SET_MM:
		if !t.Credentials().HasCap(unix.CAP_SYS_RESOURCE) {
			return 0, unix.EPERM
		}
		warnPrctl(t, "PR_SET_MM is not supported")
		return 0, unix.EINVAL
	}
	// Key the log on the option, but bound the keys a guest can create.
	if opt := intArg(args[0]); opt >= 0 && opt < 256 {
		warnPrctl(t, fmt.Sprintf("prctl option %d is not implemented", opt))
	} else {
		warnPrctl(t, "prctl options outside 0..255 are not implemented")
	}
	return 0, unix.EINVAL
}

// prctlWarned records the prctl log lines already written.
var prctlWarned sync.Map // string -> struct{}

// warnPrctl logs msg the first time it is seen.
func warnPrctl(t *kernel.Task, msg string) {
	if _, seen := prctlWarned.LoadOrStore(msg, struct{}{}); !seen {
		t.Kernel().Warnf("task %d: %s: returning EINVAL", t.ThreadID(), msg)
	}
}
