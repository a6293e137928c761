package linux

import (
	"encoding/binary"
	"time"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

// POSIX timers: timer_create(2), timer_settime(2), timer_gettime(2),
// timer_getoverrun(2), timer_delete(2). The timers live in the kernel
// (sentry/kernel/posix_timers.go); this file decodes clocks and struct
// sigevent (struct itimerspec: sys_timerfd.go).

func init() {
	full(unix.SYS_TIMER_CREATE, TimerCreate)
	full(unix.SYS_TIMER_SETTIME, TimerSettime)
	full(unix.SYS_TIMER_GETTIME, TimerGettime)
	full(unix.SYS_TIMER_GETOVERRUN, TimerGetoverrun)
	full(unix.SYS_TIMER_DELETE, TimerDelete)
}

// sigeventSize is sizeof(struct sigevent) on amd64.
const sigeventSize = 64

// timerClockOptions decodes timer_create's clock: the wall clocks with
// timers, or a CPU clock. Clocks that can be read but not armed fail with
// EOPNOTSUPP, unknown ones with EINVAL, as Linux.
func timerClockOptions(t *kernel.Task, id int32) (kernel.TimerOptions, error) {
	k := t.Kernel()
	wall := func() time.Duration {
		now, _ := wallClockNow(k, id)
		return now
	}
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
		return kernel.TimerOptions{Now: wall}, nil
	case unix.CLOCK_REALTIME_ALARM, unix.CLOCK_BOOTTIME_ALARM:
		// The sandbox never suspends, so these are their base clocks;
		// arming them needs CAP_WAKE_ALARM, as on Linux.
		if !t.Credentials().HasCap(unix.CAP_WAKE_ALARM) {
			return kernel.TimerOptions{}, unix.EPERM
		}
		return kernel.TimerOptions{Now: wall}, nil
	case unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_MONOTONIC_COARSE:
		return kernel.TimerOptions{}, unix.EOPNOTSUPP
	}
	c, err := cpuClockOf(t, id)
	if err != nil {
		return kernel.TimerOptions{}, err
	}
	return kernel.TimerOptions{CPU: &c}, nil
}

// TimerCreate implements timer_create(2).
func TimerCreate(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	clockID, sevp, idAddr := intArg(args[0]), args[1], args[2]
	// Linux: SIGEV_SIGNAL with SIGALRM, and the timer ID as si_value,
	// when sevp is NULL.
	ev := kernel.TimerEvent{Notify: kernel.SIGEV_SIGNAL, Signo: int32(unix.SIGALRM), ValueIsID: true}
	if sevp != 0 {
		// Read before the clock is checked, as Linux does.
		var b [sigeventSize]byte
		if err := copyIn(t, sevp, b[:]); err != nil {
			return 0, err
		}
		ev = kernel.TimerEvent{
			Value:  binary.LittleEndian.Uint64(b[0:]),
			Signo:  int32(binary.LittleEndian.Uint32(b[8:])),
			Notify: int32(binary.LittleEndian.Uint32(b[12:])),
			TID:    int32(binary.LittleEndian.Uint32(b[16:])),
		}
	}
	opts, err := timerClockOptions(t, clockID)
	if err != nil {
		return 0, err
	}
	opts.Event = ev
	id, err := t.CreateTimer(opts)
	if err != nil {
		return 0, err
	}
	var idBytes [4]byte
	binary.LittleEndian.PutUint32(idBytes[:], uint32(id))
	if err := copyOut(t, idAddr, idBytes[:]); err != nil {
		// Linux undoes the creation when it can't report the ID.
		t.DeleteTimer(id)
		return 0, err
	}
	return 0, nil
}

// TimerSettime implements timer_settime(2). Flags other than
// TIMER_ABSTIME are ignored, as Linux does.
func TimerSettime(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, flags, newAddr, oldAddr := intArg(args[0]), intArg(args[1]), args[2], args[3]
	if newAddr == 0 {
		return 0, unix.EINVAL
	}
	value, interval, err := copyInItimerspec(t, newAddr)
	if err != nil {
		return 0, err
	}
	old, err := t.SetTimer(id, kernel.TimerSpec{Value: value, Interval: interval, Abs: flags&unix.TIMER_ABSTIME != 0})
	if err != nil {
		return 0, err
	}
	if oldAddr != 0 {
		return 0, copyOut(t, oldAddr, itimerspecBytes(old.Value, old.Interval))
	}
	return 0, nil
}

// TimerGettime implements timer_gettime(2).
func TimerGettime(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, curAddr := intArg(args[0]), args[1]
	cur, err := t.GetTimer(id)
	if err != nil {
		return 0, err
	}
	return 0, copyOut(t, curAddr, itimerspecBytes(cur.Value, cur.Interval))
}

// TimerGetoverrun implements timer_getoverrun(2).
func TimerGetoverrun(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id := intArg(args[0])
	n, err := t.TimerOverrun(id)
	return uint64(n), err
}

// TimerDelete implements timer_delete(2).
func TimerDelete(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id := intArg(args[0])
	return 0, t.DeleteTimer(id)
}
