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
	full(unix.SYS_CLOCK_GETTIME, ClockGettime)
	full(unix.SYS_CLOCK_GETRES, ClockGetres)
	full(unix.SYS_GETTIMEOFDAY, Gettimeofday)
	full(unix.SYS_TIME, Time)
	full(unix.SYS_NANOSLEEP, Nanosleep)
	partial(unix.SYS_CLOCK_NANOSLEEP, "CPU-time clocks are not supported", ClockNanosleep)
	full(unix.SYS_ALARM, Alarm)
	full(unix.SYS_SETITIMER, Setitimer)
	full(unix.SYS_GETITIMER, Getitimer)
	full(unix.SYS_TIMES, Times)
	partial(unix.SYS_GETRUSAGE, "ru_utime, ru_stime and ru_maxrss (approximated by the address-space size) only; the counters are zero", Getrusage)
}

// clockNow reads a clock by ID: EINVAL for an unknown clock or a CPU
// clock of a task that doesn't exist (or, for a thread clock, is not in
// the caller's process).
func clockNow(t *kernel.Task, id int32) (time.Duration, error) {
	if now, ok := wallClockNow(t.Kernel(), id); ok {
		return now, nil
	}
	c, err := cpuClockOf(t, id)
	if err != nil {
		return 0, err
	}
	return c.Now(), nil
}

// wallClockNow reads a clock that is not a CPU clock.
func wallClockNow(k *kernel.Kernel, id int32) (time.Duration, bool) {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_TAI, unix.CLOCK_REALTIME_ALARM:
		return time.Duration(time.Now().UnixNano()), true
	case unix.CLOCK_MONOTONIC, unix.CLOCK_MONOTONIC_COARSE, unix.CLOCK_MONOTONIC_RAW, unix.CLOCK_BOOTTIME, unix.CLOCK_BOOTTIME_ALARM:
		return time.Since(k.BootTime) + bootOffset, true
	}
	return 0, false
}

// CPU clock ID encoding (clock_getcpuclockid(3), pthread_getcpuclockid(3)):
// a negative ID is (~pid << 3) | kind, with cpuClockPerThread set for a
// thread's clock; pid 0 is the caller. Linux: CPUCLOCK_* in
// include/linux/posix-timers.h.
const (
	cpuClockPerThread = 4
	cpuClockKindMask  = 3
)

// cpuClockOf decodes a CPU clock ID and finds its thread or process.
func cpuClockOf(t *kernel.Task, id int32) (kernel.CPUClock, error) {
	switch id {
	case unix.CLOCK_PROCESS_CPUTIME_ID:
		return t.LookupCPUClock(0, kernel.CPUClockProcess, kernel.CPUClockSched)
	case unix.CLOCK_THREAD_CPUTIME_ID:
		return t.LookupCPUClock(0, kernel.CPUClockThread, kernel.CPUClockSched)
	}
	if id >= 0 {
		return kernel.CPUClock{}, unix.EINVAL
	}
	which := int(id & cpuClockKindMask)
	if which == cpuClockKindMask {
		return kernel.CPUClock{}, unix.EINVAL
	}
	scope := kernel.CPUClockProcess
	if id&cpuClockPerThread != 0 {
		scope = kernel.CPUClockThread
	}
	return t.LookupCPUClock(^(id >> 3), scope, which)
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
	id, addr := intArg(args[0]), args[1]
	now, err := clockNow(t, id)
	if err != nil {
		return 0, err
	}
	return 0, copyOut(t, addr, timespecBytes(now))
}

// ClockGetres implements clock_getres(2).
func ClockGetres(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, addr := intArg(args[0]), args[1]
	if _, err := clockNow(t, id); err != nil {
		return 0, err
	}
	if addr == 0 {
		return 0, nil
	}
	res := time.Nanosecond
	if id == unix.CLOCK_REALTIME_COARSE || id == unix.CLOCK_MONOTONIC_COARSE {
		res = 4 * time.Millisecond
	}
	if id < 0 && id&cpuClockKindMask != kernel.CPUClockSched {
		// Linux: PROF and VIRT clocks tick at HZ (250 here).
		res = 4 * time.Millisecond
	}
	return 0, copyOut(t, addr, timespecBytes(res))
}

// Gettimeofday implements gettimeofday(2).
func Gettimeofday(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	tvAddr, tzAddr := args[0], args[1]
	if tvAddr != 0 {
		now := time.Now()
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(now.Unix()))
		binary.LittleEndian.PutUint64(b[8:], uint64(now.Nanosecond()/1000))
		if err := copyOut(t, tvAddr, b[:]); err != nil {
			return 0, err
		}
	}
	if tzAddr != 0 {
		var tz [8]byte // UTC, no DST
		return 0, copyOut(t, tzAddr, tz[:])
	}
	return 0, nil
}

// Time implements time(2).
func Time(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr := args[0]
	now := uint64(time.Now().Unix())
	if addr != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], now)
		if err := copyOut(t, addr, b[:]); err != nil {
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
	reqAddr, remAddr := args[0], args[1]
	d, err := copyInTimespec(t, reqAddr)
	if err != nil {
		return 0, err
	}
	return sleepFor(t, d, remAddr)
}

// ClockNanosleep implements clock_nanosleep(2); errors are returned, not
// set in errno, so the result is a positive error number.
func ClockNanosleep(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, flags, reqAddr, remAddr := intArg(args[0]), intArg(args[1]), args[2], args[3]
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
	d, err := copyInTimespec(t, reqAddr)
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
	return sleepFor(t, d, remAddr)
}

// Alarm implements alarm(2).
func Alarm(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	seconds := uint32(args[0])
	old, _ := t.ThreadGroup().SetRealTimer(time.Duration(seconds)*time.Second, 0)
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

// copyInItimerval reads a struct itimerval (interval, then value),
// EINVAL if a timeval is out of range.
func copyInItimerval(t *kernel.Task, addr uint64) (value, interval time.Duration, err error) {
	var b [32]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return 0, 0, err
	}
	get := func(off int) (time.Duration, bool) {
		s, us := int64(binary.LittleEndian.Uint64(b[off:])), int64(binary.LittleEndian.Uint64(b[off+8:]))
		if s < 0 || us < 0 || us >= 1e6 {
			return 0, false
		}
		if s > int64(maxTimerDuration/time.Second) {
			return maxTimerDuration, true
		}
		return time.Duration(s)*time.Second + time.Duration(us)*time.Microsecond, true
	}
	interval, ok1 := get(0)
	value, ok2 := get(16)
	if !ok1 || !ok2 {
		return 0, 0, unix.EINVAL
	}
	return value, interval, nil
}

// maxTimerDuration bounds timer settings, far beyond any real use.
const maxTimerDuration = time.Duration(1 << 62)

// Setitimer implements setitimer(2).
func Setitimer(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	which, newAddr, oldAddr := intArg(args[0]), args[1], args[2]
	if which != unix.ITIMER_REAL && which != unix.ITIMER_VIRTUAL && which != unix.ITIMER_PROF {
		return 0, unix.EINVAL
	}
	var value, interval time.Duration
	if newAddr != 0 {
		// A NULL new value disarms the timer, as Linux allows.
		var err error
		if value, interval, err = copyInItimerval(t, newAddr); err != nil {
			return 0, err
		}
	}
	var oldValue, oldInterval time.Duration
	switch which {
	case unix.ITIMER_REAL:
		oldValue, oldInterval = t.ThreadGroup().SetRealTimer(value, interval)
	default:
		oldValue, oldInterval = t.ThreadGroup().SetCPUItimer(which == unix.ITIMER_PROF, value, interval)
	}
	if oldAddr != 0 {
		return 0, copyOut(t, oldAddr, itimervalBytes(roundUpMicro(oldValue), oldInterval))
	}
	return 0, nil
}

// roundUpMicro rounds a remaining time up to a whole microsecond, so that
// an armed timer never reads as disarmed in a struct timeval.
func roundUpMicro(d time.Duration) time.Duration {
	if r := d % time.Microsecond; r != 0 {
		d += time.Microsecond - r
	}
	return d
}

// Getitimer implements getitimer(2).
func Getitimer(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	which, addr := intArg(args[0]), args[1]
	var value, interval time.Duration
	switch which {
	case unix.ITIMER_REAL:
		value, interval = t.ThreadGroup().RealTimer()
	case unix.ITIMER_VIRTUAL:
		value, interval = t.ThreadGroup().CPUItimer(false)
	case unix.ITIMER_PROF:
		value, interval = t.ThreadGroup().CPUItimer(true)
	default:
		return 0, unix.EINVAL
	}
	return 0, copyOut(t, addr, itimervalBytes(roundUpMicro(value), interval))
}

// clockTicks converts to clock_t ticks (USER_HZ, 100 per second).
func clockTicks(d time.Duration) uint64 { return uint64(d / (10 * time.Millisecond)) }

// Times implements times(2).
func Times(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr := args[0]
	if addr != 0 {
		self := t.ResourceUsage(kernel.UsageSelf)
		children := t.ResourceUsage(kernel.UsageChildren)
		var tms [32]byte
		binary.LittleEndian.PutUint64(tms[0:], clockTicks(self.User))
		binary.LittleEndian.PutUint64(tms[8:], clockTicks(self.Sys))
		binary.LittleEndian.PutUint64(tms[16:], clockTicks(children.User))
		binary.LittleEndian.PutUint64(tms[24:], clockTicks(children.Sys))
		if err := copyOut(t, addr, tms[:]); err != nil {
			return 0, err
		}
	}
	// Clock ticks (100 Hz) since boot.
	return clockTicks(time.Since(t.Kernel().BootTime) + bootOffset), nil
}

// rusageOf fills the parts of struct rusage the Sentry tracks.
func rusageOf(u kernel.ResourceUsage) unix.Rusage {
	return unix.Rusage{
		Utime:  unix.NsecToTimeval(int64(u.User)),
		Stime:  unix.NsecToTimeval(int64(u.Sys)),
		Maxrss: int64(u.MaxRSS / 1024),
	}
}

// ChildRusage is the struct rusage wait4(2) and waitid(2) report for
// child pid, just waited for.
func ChildRusage(t *kernel.Task, pid int32) unix.Rusage {
	return rusageOf(t.ChildResourceUsage(pid))
}

// Getrusage implements getrusage(2).
func Getrusage(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	who, addr := intArg(args[0]), args[1]
	var usage kernel.Who
	switch who {
	case unix.RUSAGE_SELF:
		usage = kernel.UsageSelf
	case unix.RUSAGE_CHILDREN:
		usage = kernel.UsageChildren
	case unix.RUSAGE_THREAD:
		usage = kernel.UsageThread
	default:
		return 0, unix.EINVAL
	}
	ru := rusageOf(t.ResourceUsage(usage))
	return 0, copyOut(t, addr, abi.AsBytes(&ru))
}
