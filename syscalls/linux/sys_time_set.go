package linux

import (
	"encoding/binary"
	"time"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_CLOCK_SETTIME, "checks as Linux; the sandbox never sets the host's clock: EPERM even with CAP_SYS_TIME", ClockSettime)
	partial(unix.SYS_SETTIMEOFDAY, "checks as Linux; EPERM even with CAP_SYS_TIME unless nothing is set", Settimeofday)
	partial(unix.SYS_ADJTIMEX, "reads (modes 0, ADJ_OFFSET_SS_READ) report an unsynchronised clock (TIME_ERROR); changes are EPERM even with CAP_SYS_TIME", Adjtimex)
	partial(unix.SYS_CLOCK_ADJTIME, "as adjtimex for CLOCK_REALTIME; EOPNOTSUPP for other valid clocks", ClockAdjtime)
}

// capSysTime is CAP_SYS_TIME.
const capSysTime = 25

// validSettod is Linux's timespec64_valid_settod: a non-negative time
// with nanoseconds in range, not too close to the end of ktime.
func validSettod(sec, nsec int64) bool {
	const ktimeSecMax = (1<<63 - 1) / int64(time.Second)
	return sec >= 0 && nsec >= 0 && nsec < 1e9 && sec < ktimeSecMax-30*365*86400
}

// setTime is the end of every clock-setting path once the value is
// valid: EPERM without CAP_SYS_TIME, and EPERM with it too, since the
// sandbox shares the host's clock and may not move it.
func setTime(t *kernel.Task) error {
	if !t.Credentials().HasCap(capSysTime) {
		return unix.EPERM
	}
	t.Kernel().Warnf("task %d: setting the system clock is not supported", t.ThreadID())
	return unix.EPERM
}

// ClockSettime implements clock_settime(2) in Linux's order: clocks that
// cannot be set are EINVAL before the argument is read; CPU-time clocks
// are EPERM after it is; CLOCK_REALTIME checks the value (EINVAL), then
// the capability.
func ClockSettime(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, addr := intArg(args[0]), args[1]
	if _, err := clockNow(t, id); err != nil {
		return 0, unix.EINVAL
	}
	if id >= 0 && id != unix.CLOCK_REALTIME {
		return 0, unix.EINVAL
	}
	var b [16]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return 0, err
	}
	if id < 0 {
		return 0, unix.EPERM
	}
	if !validSettod(int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))) {
		return 0, unix.EINVAL
	}
	return 0, setTime(t)
}

// Settimeofday implements settimeofday(2): both pointers are read
// (EFAULT), the microseconds checked, then the time (EINVAL), the
// capability (EPERM) and the time zone's range (EINVAL). With neither
// argument it only checks the capability.
func Settimeofday(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	tvAddr, tzAddr := args[0], args[1]
	var sec, usec int64
	if tvAddr != 0 {
		var b [16]byte
		if err := copyIn(t, tvAddr, b[:]); err != nil {
			return 0, err
		}
		sec, usec = int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if usec < 0 || usec >= 1e6 {
			return 0, unix.EINVAL
		}
	}
	var minutesWest int32
	if tzAddr != 0 {
		var b [8]byte
		if err := copyIn(t, tzAddr, b[:]); err != nil {
			return 0, err
		}
		minutesWest = int32(binary.LittleEndian.Uint32(b[:]))
	}
	if tvAddr != 0 && !validSettod(sec, usec*1000) {
		return 0, unix.EINVAL
	}
	if !t.Credentials().HasCap(capSysTime) {
		return 0, unix.EPERM
	}
	if tzAddr != 0 && (minutesWest > 15*60 || minutesWest < -15*60) {
		return 0, unix.EINVAL
	}
	if tvAddr == 0 && tzAddr == 0 {
		return 0, nil
	}
	return 0, setTime(t)
}

// struct __kernel_timex (208 bytes) offsets and adjtimex constants.
const (
	timexSize = 208

	adjOffset          = 0x0001
	adjFrequency       = 0x0002
	adjTick            = 0x4000
	adjSetOffset       = 0x0100
	adjNano            = 0x2000
	adjOffsetSingleton = 0x0001 // ADJ_OFFSET_SINGLESHOT's low bit
	adjAdjtime         = 0x8000
	adjOffsetReadonly  = 0x2000
	staUnsync          = 0x0040
	staNano            = 0x2000
	timeError          = 5
	userHZ             = 100
	ppmScale           = 1 << 16
)

// adjtimex answers adjtimex for CLOCK_REALTIME on the struct in b:
// Linux's validation (EINVAL, EPERM without CAP_SYS_TIME), then a read of
// a clock the sandbox does not discipline: unsynchronised, no offset or
// frequency correction, the current time.
func adjtimex(t *kernel.Task, b []byte) (uint64, error) {
	modes := binary.LittleEndian.Uint32(b[0:])
	privileged := t.Credentials().HasCap(capSysTime)
	if modes&adjAdjtime != 0 {
		if modes&adjOffsetSingleton == 0 {
			return 0, unix.EINVAL
		}
		if modes&adjOffsetReadonly == 0 && !privileged {
			return 0, unix.EPERM
		}
	} else {
		if modes != 0 && !privileged {
			return 0, unix.EPERM
		}
		tick := int64(binary.LittleEndian.Uint64(b[88:]))
		if modes&adjTick != 0 && (tick < 900000/userHZ || tick > 1100000/userHZ) {
			return 0, unix.EINVAL
		}
	}
	if modes&adjSetOffset != 0 {
		if !privileged {
			return 0, unix.EPERM
		}
		usec := int64(binary.LittleEndian.Uint64(b[80:]))
		limit := int64(1e6)
		if modes&adjNano != 0 {
			limit = 1e9
		}
		if usec < 0 || usec >= limit {
			return 0, unix.EINVAL
		}
	}
	if modes&adjFrequency != 0 {
		freq := int64(binary.LittleEndian.Uint64(b[16:]))
		if freq < -(1<<63)/ppmScale || freq > (1<<63-1)/ppmScale {
			return 0, unix.EINVAL
		}
	}
	readOnly := modes == 0 || (modes&adjAdjtime != 0 && modes&adjOffsetReadonly != 0)
	if !readOnly {
		return 0, setTime(t)
	}
	now := time.Now()
	put64 := func(off int, v int64) { binary.LittleEndian.PutUint64(b[off:], uint64(v)) }
	put64(8, 0)         // offset
	put64(16, 0)        // freq
	put64(24, 16000000) // maxerror (NTP_PHASE_LIMIT)
	put64(32, 16000000) // esterror
	binary.LittleEndian.PutUint32(b[40:], staUnsync)
	put64(48, 2)            // constant
	put64(56, 1)            // precision
	put64(64, 500*ppmScale) // tolerance (MAXFREQ_SCALED / PPM_SCALE)
	put64(72, now.Unix())
	put64(80, int64(now.Nanosecond()/1000))
	put64(88, 1000000/userHZ) // tick
	return timeError, nil
}

// Adjtimex implements adjtimex(2).
func Adjtimex(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr := args[0]
	b := make([]byte, timexSize)
	if err := copyIn(t, addr, b); err != nil {
		return 0, err
	}
	ret, err := adjtimex(t, b)
	if err != nil {
		return 0, err
	}
	return ret, copyOut(t, addr, b)
}

// ClockAdjtime implements clock_adjtime(2): EINVAL for an invalid clock,
// EOPNOTSUPP for one that cannot be adjusted, adjtimex for
// CLOCK_REALTIME.
func ClockAdjtime(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, addr := intArg(args[0]), args[1]
	if _, err := clockNow(t, id); err != nil {
		return 0, unix.EINVAL
	}
	if id != unix.CLOCK_REALTIME {
		return 0, unix.EOPNOTSUPP
	}
	return Adjtimex(t, arch.SyscallArgs{addr})
}
