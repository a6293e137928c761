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
	partial(unix.SYS_PRCTL, "NAME, PDEATHSIG, DUMPABLE, KEEPCAPS, SECUREBITS, NO_NEW_PRIVS, CAPBSET_READ/DROP, GET_TID_ADDRESS, TIMERSLACK (recorded), SET_SECCOMP and GET_SECCOMP (see seccomp); PR_SET_MM and PR_SET_VMA fail; others EINVAL", Prctl)
}

// Prctl implements prctl(2): the options listed in its table entry.
// Unknown options fail with EINVAL and are logged once.
func Prctl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	option, arg2, arg3, arg4, arg5 := intArg(args[0]), args[1], args[2], args[3], args[4]
	switch option {
	case unix.PR_SET_NAME:
		name, err := t.CopyInString(arg2, 15)
		if err != nil && err.Error() != "string too long" {
			return 0, unix.EFAULT
		}
		if err != nil {
			b := make([]byte, 15)
			if err := copyIn(t, arg2, b); err != nil {
				return 0, err
			}
			name = string(b)
		}
		t.SetName(name)
		return 0, nil
	case unix.PR_GET_NAME:
		b := make([]byte, 16)
		copy(b, t.Name())
		return 0, copyOut(t, arg2, b)
	case unix.PR_GET_DUMPABLE:
		return uint64(t.Dumpable()), nil
	case unix.PR_SET_DUMPABLE:
		return 0, t.SetDumpable(arg2)
	case unix.PR_SET_KEEPCAPS:
		if arg2 > 1 {
			return 0, unix.EINVAL
		}
		return 0, t.SetKeepCaps(arg2 == 1)
	case unix.PR_GET_KEEPCAPS:
		if t.Credentials().KeepCaps {
			return 1, nil
		}
		return 0, nil
	case unix.PR_GET_SECUREBITS:
		return uint64(t.SecureBits()), nil
	case unix.PR_SET_SECUREBITS:
		return 0, t.SetSecureBits(arg2)
	case unix.PR_SET_NO_NEW_PRIVS:
		if arg2 != 1 || arg3 != 0 || arg4 != 0 || arg5 != 0 {
			return 0, unix.EINVAL
		}
		t.SetNoNewPrivs()
		return 0, nil
	case unix.PR_GET_NO_NEW_PRIVS:
		if arg2 != 0 || arg3 != 0 || arg4 != 0 || arg5 != 0 {
			return 0, unix.EINVAL
		}
		if t.Credentials().NoNewPrivs {
			return 1, nil
		}
		return 0, nil
	case unix.PR_SET_CHILD_SUBREAPER:
		t.SetChildSubreaper(arg2 != 0)
		return 0, nil
	case unix.PR_GET_CHILD_SUBREAPER:
		var b [4]byte
		if t.IsChildSubreaper() {
			b[0] = 1
		}
		return 0, copyOut(t, arg2, b[:])
	case unix.PR_SET_PDEATHSIG:
		if arg2 > abi.NumSignals {
			return 0, unix.EINVAL
		}
		return 0, t.SetParentDeathSignal(int(arg2))
	case unix.PR_GET_PDEATHSIG:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(t.ParentDeathSignal()))
		return 0, copyOut(t, arg2, b[:])
	case unix.PR_CAPBSET_READ:
		if arg2 > kernel.MaxCap {
			return 0, unix.EINVAL
		}
		return (t.Credentials().Bounding >> arg2) & 1, nil
	case unix.PR_CAPBSET_DROP:
		return 0, t.DropBoundingCap(arg2)
	case unix.PR_CAP_AMBIENT:
		if arg4 != 0 || arg5 != 0 {
			return 0, unix.EINVAL
		}
		return t.AmbientCap(arg2, arg3)
	case unix.PR_GET_TID_ADDRESS:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], t.ClearChildTID())
		return 0, copyOut(t, arg2, b[:])
	case unix.PR_SET_TIMERSLACK:
		t.SetTimerSlack(arg2)
		return 0, nil
	case unix.PR_GET_TIMERSLACK:
		return t.TimerSlack(), nil
	case unix.PR_GET_SECCOMP:
		return uint64(t.SeccompMode()), nil
	case unix.PR_SET_SECCOMP:
		switch arg2 {
		case unix.SECCOMP_MODE_STRICT:
			// Linux ignores arg3 for strict mode.
			return seccompOp(t, seccompSetModeStrict, 0, 0)
		case unix.SECCOMP_MODE_FILTER:
			return seccompOp(t, seccompSetModeFilter, 0, arg3)
		}
		return 0, unix.EINVAL
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
	if option >= 0 && option < 256 {
		warnPrctl(t, fmt.Sprintf("prctl option %d is not implemented", option))
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
