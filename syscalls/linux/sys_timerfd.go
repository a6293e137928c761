package linux

import (
	"encoding/binary"
	"time"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/timerfd"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_TIMERFD_CREATE, "CLOCK_REALTIME timers do not follow clock changes; *_ALARM clocks behave as their plain clocks (no wake-up from suspend)", TimerfdCreate)
	partial(unix.SYS_TIMERFD_SETTIME, "TFD_TIMER_CANCEL_ON_SET is accepted but never cancels (the sandbox's realtime clock is not settable)", TimerfdSettime)
	full(unix.SYS_TIMERFD_GETTIME, TimerfdGettime)
}

// timerfd flags. Linux: include/uapi/linux/timerfd.h.
const (
	tfdCloexec      = unix.O_CLOEXEC
	tfdNonblock     = unix.O_NONBLOCK
	tfdTimerAbstime = 1 << 0
	tfdCancelOnSet  = 1 << 1
	// Alarm clocks, which wake a suspended machine.
	clockRealtimeAlarm = 8
	clockBoottimeAlarm = 9
	// capWakeAlarm is CAP_WAKE_ALARM.
	capWakeAlarm = 35
)

// TimerfdCreate implements timerfd_create(2).
func TimerfdCreate(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	clockID, flags := intArg(args[0]), intArg(args[1])
	if flags&^(tfdCloexec|tfdNonblock) != 0 {
		return 0, unix.EINVAL
	}
	switch clockID {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME:
	case clockRealtimeAlarm, clockBoottimeAlarm:
		if !t.Credentials().HasCap(capWakeAlarm) {
			return 0, unix.EPERM
		}
		if clockID == clockBoottimeAlarm {
			clockID = unix.CLOCK_BOOTTIME
		} else {
			clockID = unix.CLOCK_REALTIME
		}
	default:
		return 0, unix.EINVAL
	}
	clock := func() time.Duration {
		d, _ := clockNow(t, clockID)
		return d
	}
	f := timerfd.New(clock, flags&tfdNonblock != 0)
	defer f.DecRef(t.Context())
	fd, err := newFD(t, f, kernel.FDFlags{CloseOnExec: flags&tfdCloexec != 0})
	return uint64(fd), err
}

// itimerspecBytes encodes a struct itimerspec.
func itimerspecBytes(value, interval time.Duration) []byte {
	b := make([]byte, 32)
	copy(b, timespecBytes(interval))
	copy(b[16:], timespecBytes(value))
	return b
}

// copyInItimerspec reads a struct itimerspec: EFAULT for a bad pointer,
// EINVAL for a timespec out of range.
func copyInItimerspec(t *kernel.Task, addr uint64) (value, interval time.Duration, err error) {
	var b [32]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return 0, 0, err
	}
	ts := func(b []byte) (time.Duration, error) {
		sec, nsec := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return 0, unix.EINVAL
		}
		if sec > int64(time.Duration(1<<62)/time.Second) {
			return 1 << 62, nil
		}
		return time.Duration(sec)*time.Second + time.Duration(nsec), nil
	}
	if interval, err = ts(b[:16]); err != nil {
		return 0, 0, err
	}
	if value, err = ts(b[16:]); err != nil {
		return 0, 0, err
	}
	return value, interval, nil
}

// getTimerFD returns the timerfd at fd: EBADF if fd is not open, EINVAL
// if it is not a timerfd. The caller drops the file's reference.
func getTimerFD(t *kernel.Task, fd int32) (*timerfd.TimerFD, func(), error) {
	f, err := getOpenFile(t, fd)
	if err != nil {
		return nil, nil, err
	}
	tfd := timerfd.FromFile(f)
	if tfd == nil {
		f.DecRef(t.Context())
		return nil, nil, unix.EINVAL
	}
	return tfd, func() { f.DecRef(t.Context()) }, nil
}

// TimerfdSettime implements timerfd_settime(2).
func TimerfdSettime(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, flags, newAddr, oldAddr := fdArg(args[0]), intArg(args[1]), args[2], args[3]
	value, interval, err := copyInItimerspec(t, newAddr)
	if err == unix.EFAULT {
		return 0, err
	}
	if flags&^(tfdTimerAbstime|tfdCancelOnSet) != 0 || err != nil {
		return 0, unix.EINVAL
	}
	tfd, release, err := getTimerFD(t, fd)
	if err != nil {
		return 0, err
	}
	defer release()
	oldValue, oldInterval := tfd.Set(value, interval, flags&tfdTimerAbstime != 0)
	if oldAddr != 0 {
		return 0, copyOut(t, oldAddr, itimerspecBytes(oldValue, oldInterval))
	}
	return 0, nil
}

// TimerfdGettime implements timerfd_gettime(2).
func TimerfdGettime(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr := fdArg(args[0]), args[1]
	tfd, release, err := getTimerFD(t, fd)
	if err != nil {
		return 0, err
	}
	defer release()
	value, interval := tfd.Get()
	return 0, copyOut(t, addr, itimerspecBytes(value, interval))
}
