package linux

import (
	"encoding/binary"
	"time"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_CLOCK_GETTIME, "CPU-time clocks report the task's wall time since start (CPU accounting: issue 4)", ClockGettime)
	full(unix.SYS_CLOCK_GETRES, ClockGetres)
	full(unix.SYS_GETTIMEOFDAY, Gettimeofday)
	full(unix.SYS_TIME, Time)
	full(unix.SYS_NANOSLEEP, Nanosleep)
	partial(unix.SYS_CLOCK_NANOSLEEP, "CPU-time clocks are not supported", ClockNanosleep)
	full(unix.SYS_ALARM, Alarm)
	partial(unix.SYS_SETITIMER, "ITIMER_REAL only (VIRTUAL and PROF: issue 4)", Setitimer)
	partial(unix.SYS_GETITIMER, "ITIMER_REAL only (VIRTUAL and PROF: issue 4)", Getitimer)
	partial(unix.SYS_TIMES, "CPU times are zero (CPU accounting: issue 4)", Times)
	partial(unix.SYS_GETRUSAGE, "CPU times and counters are zero (CPU accounting: issue 4)", Getrusage)
}

// clockNow reads a clock by ID.
func clockNow(t *kernel.Task, id int32) (time.Duration, error) {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_TAI:
		return time.Duration(time.Now().UnixNano()), nil
	case unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_BOOTTIME:
		return time.Since(t.Kernel().BootTime) + bootOffset, nil
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		return time.Since(t.ThreadGroup().StartTime()), nil
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return time.Since(t.ThreadGroup().StartTime()), nil
	}
	if id < 0 {
		// Per-process and per-thread CPU clocks (clock_getcpuclockid).
		pid := ^(id >> 3)
		if pid == 0 || t.Kernel().TaskByID(pid) != nil {
			return time.Since(t.ThreadGroup().StartTime()), nil
		}
	}
	return 0, unix.EINVAL
}

// bootOffset makes the monotonic clock start at a plausible uptime rather
// than zero, as on a freshly booted machine.
const bootOffset = 10 * time.Second

func timespecBytes(d time.Duration) []byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second))
	return b[:]
}

// copyInTimespec reads a struct timespec, EINVAL if out of range.
func copyInTimespec(t *kernel.Task, addr uint64) (time.Duration, error) {
	var b [16]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return 0, err
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	if sec > int64(time.Duration(1<<62)/time.Second) {
		return 1 << 62, nil
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}

// ClockGettime implements clock_gettime(2).
func ClockGettime(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	now, err := clockNow(t, intArg(args[0]))
	if err != nil {
		return 0, err
	}
	return 0, copyOut(t, args[1], timespecBytes(now))
}

// ClockGetres implements clock_getres(2).
func ClockGetres(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id := intArg(args[0])
	if _, err := clockNow(t, id); err != nil {
		return 0, err
	}
	if args[1] == 0 {
		return 0, nil
	}
	res := time.Nanosecond
	if id == unix.CLOCK_REALTIME_COARSE || id == unix.CLOCK_MONOTONIC_COARSE {
		res = 4 * time.Millisecond
	}
	return 0, copyOut(t, args[1], timespecBytes(res))
}

// Gettimeofday implements gettimeofday(2).
func Gettimeofday(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	if args[0] != 0 {
		now := time.Now()
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(now.Unix()))
		binary.LittleEndian.PutUint64(b[8:], uint64(now.Nanosecond()/1000))
		if err := copyOut(t, args[0], b[:]); err != nil {
			return 0, err
		}
	}
	if args[1] != 0 {
		var tz [8]byte // UTC, no DST
		return 0, copyOut(t, args[1], tz[:])
	}
	return 0, nil
}

// Time implements time(2).
func Time(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	now := uint64(time.Now().Unix())
	if args[0] != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], now)
		if err := copyOut(t, args[0], b[:]); err != nil {
			return 0, err
		}
	}
	return now, nil
}

// sleepFor sleeps d and, when interrupted, writes the remaining time to
// rem (if set) and arranges for restart_syscall to finish the sleep.
func sleepFor(t *kernel.Task, d time.Duration, rem uint64) (uint64, error) {
	deadline := time.Now().Add(d)
	left, err := t.Sleep(d)
	if err == nil {
		return 0, nil
	}
	if err != vfs.ErrInterrupted {
		return 0, err
	}
	if rem != 0 {
		if err := copyOut(t, rem, timespecBytes(left)); err != nil {
			return 0, err
		}
	}
	t.SetRestartBlock(func(t *kernel.Task) (uint64, error) {
		return sleepFor(t, time.Until(deadline), rem)
	})
	return 0, abi.ERESTART_RESTARTBLOCK
}

// Nanosleep implements nanosleep(2).
func Nanosleep(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	d, err := copyInTimespec(t, args[0])
	if err != nil {
		return 0, err
	}
	return sleepFor(t, d, args[1])
}

// ClockNanosleep implements clock_nanosleep(2); errors are returned, not
// set in errno, so the result is a positive error number.
func ClockNanosleep(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, flags := intArg(args[0]), intArg(args[1])
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_MONOTONIC, unix.CLOCK_BOOTTIME, unix.CLOCK_TAI:
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return 0, unix.EINVAL
	default:
		if _, err := clockNow(t, id); err != nil {
			return 0, unix.EINVAL
		}
		return 0, unix.EOPNOTSUPP
	}
	if flags&^unix.TIMER_ABSTIME != 0 {
		return 0, unix.EINVAL
	}
	d, err := copyInTimespec(t, args[2])
	if err != nil {
		return 0, err
	}
	if flags&unix.TIMER_ABSTIME != 0 {
		now, _ := clockNow(t, id)
		d -= now
		if _, err := t.Sleep(d); err != nil {
			return 0, abi.ERESTARTNOHAND
		}
		return 0, nil
	}
	return sleepFor(t, d, args[3])
}

// Alarm implements alarm(2).
func Alarm(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	old, _ := t.ThreadGroup().SetRealTimer(time.Duration(uint32(args[0]))*time.Second, 0)
	secs := uint64((old + time.Second/2) / time.Second)
	if old > 0 && secs == 0 {
		secs = 1
	}
	return secs, nil
}

// itimerval is struct itimerval: interval then value, each a timeval.
func itimervalBytes(value, interval time.Duration) []byte {
	var b [32]byte
	put := func(off int, d time.Duration) {
		binary.LittleEndian.PutUint64(b[off:], uint64(d/time.Second))
		binary.LittleEndian.PutUint64(b[off+8:], uint64(d%time.Second/time.Microsecond))
	}
	put(0, interval)
	put(16, value)
	return b[:]
}

// Setitimer implements setitimer(2).
func Setitimer(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	which := intArg(args[0])
	if which != unix.ITIMER_REAL {
		if which == unix.ITIMER_VIRTUAL || which == unix.ITIMER_PROF {
			t.Kernel().Warnf("task %d: setitimer(%d) is not implemented", t.ThreadID(), which)
			return 0, unix.ENOSYS
		}
		return 0, unix.EINVAL
	}
	var value, interval time.Duration
	if args[1] != 0 {
		var b [32]byte
		if err := copyIn(t, args[1], b[:]); err != nil {
			return 0, err
		}
		get := func(off int) (time.Duration, bool) {
			s, us := int64(binary.LittleEndian.Uint64(b[off:])), int64(binary.LittleEndian.Uint64(b[off+8:]))
			return time.Duration(s)*time.Second + time.Duration(us)*time.Microsecond, s >= 0 && us >= 0 && us < 1e6
		}
		var ok1, ok2 bool
		interval, ok1 = get(0)
		value, ok2 = get(16)
		if !ok1 || !ok2 {
			return 0, unix.EINVAL
		}
	}
	oldValue, oldInterval := t.ThreadGroup().SetRealTimer(value, interval)
	if args[2] != 0 {
		return 0, copyOut(t, args[2], itimervalBytes(oldValue, oldInterval))
	}
	return 0, nil
}

// Getitimer implements getitimer(2).
func Getitimer(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	switch intArg(args[0]) {
	case unix.ITIMER_REAL:
		value, interval := t.ThreadGroup().RealTimer()
		return 0, copyOut(t, args[1], itimervalBytes(value, interval))
	case unix.ITIMER_VIRTUAL, unix.ITIMER_PROF:
		return 0, copyOut(t, args[1], itimervalBytes(0, 0))
	}
	return 0, unix.EINVAL
}

// Times implements times(2).
func Times(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	if args[0] != 0 {
		var tms [32]byte
		if err := copyOut(t, args[0], tms[:]); err != nil {
			return 0, err
		}
	}
	// Clock ticks (100 Hz) since boot.
	return uint64((time.Since(t.Kernel().BootTime) + bootOffset) / (10 * time.Millisecond)), nil
}

// Getrusage implements getrusage(2).
func Getrusage(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	switch intArg(args[0]) {
	case unix.RUSAGE_SELF, unix.RUSAGE_CHILDREN, unix.RUSAGE_THREAD:
	default:
		return 0, unix.EINVAL
	}
	var ru unix.Rusage
	return 0, copyOut(t, args[1], abi.AsBytes(&ru))
}
