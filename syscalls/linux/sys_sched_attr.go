package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_SCHED_RR_GET_INTERVAL, SchedRrGetInterval)
	partial(unix.SYS_SCHED_SETATTR, "SCHED_OTHER, SCHED_BATCH and SCHED_IDLE with nice, recorded only; SCHED_FIFO/RR/DEADLINE need CAP_SYS_NICE (EPERM) and are EPERM even with it", SchedSetattr)
	partial(unix.SYS_SCHED_GETATTR, "utilization clamps read as 0 (no CONFIG_UCLAMP_TASK)", SchedGetattr)
}

// struct sched_attr sizes and flags.
const (
	schedAttrSizeVer0 = 48
	schedAttrSize     = 56 // SCHED_ATTR_SIZE_VER1, with the utilization clamps

	schedFlagResetOnFork  = 0x01
	schedFlagReclaim      = 0x02
	schedFlagDLOverrun    = 0x04
	schedFlagKeepPolicy   = 0x08
	schedFlagKeepParams   = 0x10
	schedFlagUtilClampMin = 0x20
	schedFlagUtilClampMax = 0x40
	schedFlagAll          = 0x7f
	schedFlagUtilClamp    = schedFlagUtilClampMin | schedFlagUtilClampMax
	schedFlagSugov        = 0x10000000

	schedDeadline = 6
	maxRTPrio     = 100
)

// SchedRrGetInterval implements sched_rr_get_interval(2): every task is
// SCHED_OTHER to the host, whose slice Linux 6.6+ reports in whole jiffies,
// usually 0; so is this.
func SchedRrGetInterval(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, addr := intArg(args[0]), args[1]
	if _, err := taskArg(t, pid); err != nil {
		return 0, err
	}
	var ts [16]byte
	return 0, copyOut(t, addr, ts[:])
}

// SchedSetattr implements sched_setattr(2) in Linux's order: the
// arguments, the size (E2BIG with the kernel's size written back), the
// policy, the task (ESRCH), then policy, flags and priority checks, then
// permissions.
func SchedSetattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, addr, flags := intArg(args[0]), args[1], uint32(args[2])
	if addr == 0 || pid < 0 || flags != 0 {
		return 0, unix.EINVAL
	}
	var sz [4]byte
	if err := copyIn(t, addr, sz[:]); err != nil {
		return 0, err
	}
	size := binary.LittleEndian.Uint32(sz[:])
	if size == 0 {
		size = schedAttrSizeVer0
	}
	e2big := func() (uint64, error) {
		binary.LittleEndian.PutUint32(sz[:], schedAttrSize)
		if err := copyOut(t, addr, sz[:]); err != nil {
			return 0, err
		}
		return 0, unix.E2BIG
	}
	if size < schedAttrSizeVer0 || size > 4096 {
		return e2big()
	}
	b := make([]byte, max(size, schedAttrSize))
	if err := copyIn(t, addr, b[:size]); err != nil {
		return 0, err
	}
	for _, c := range b[schedAttrSize:] {
		if c != 0 {
			return e2big()
		}
	}
	policy := int32(binary.LittleEndian.Uint32(b[4:]))
	schedFlags := binary.LittleEndian.Uint64(b[8:])
	nice := int32(binary.LittleEndian.Uint32(b[16:]))
	prio := binary.LittleEndian.Uint32(b[20:])
	if schedFlags&schedFlagUtilClamp != 0 && size < schedAttrSize {
		return 0, unix.EINVAL
	}
	if policy < 0 {
		return 0, unix.EINVAL
	}
	keepPolicy := schedFlags&schedFlagKeepPolicy != 0
	target, err := taskArg(t, pid)
	if err != nil {
		return 0, err
	}
	if keepPolicy {
		p, _ := target.SchedPolicy()
		policy = p
	} else {
		switch policy {
		case unix.SCHED_NORMAL, unix.SCHED_FIFO, unix.SCHED_RR, unix.SCHED_BATCH, unix.SCHED_IDLE, schedDeadline:
		default:
			return 0, unix.EINVAL
		}
	}
	if schedFlags&^uint64(schedFlagAll|schedFlagSugov) != 0 {
		return 0, unix.EINVAL
	}
	if prio > maxRTPrio-1 {
		return 0, unix.EINVAL
	}
	rt := policy == unix.SCHED_FIFO || policy == unix.SCHED_RR
	if policy == schedDeadline {
		runtime, deadline, period := binary.LittleEndian.Uint64(b[24:]), binary.LittleEndian.Uint64(b[32:]), binary.LittleEndian.Uint64(b[40:])
		if deadline == 0 || runtime < 1024 || runtime > deadline || (period != 0 && period < deadline) {
			return 0, unix.EINVAL
		}
	}
	if rt != (prio != 0) {
		return 0, unix.EINVAL
	}
	if rt || policy == schedDeadline {
		// Real-time policies: EPERM without CAP_SYS_NICE, as Linux with
		// RLIMIT_RTPRIO 0; not provided even with it.
		if !t.Credentials().HasCap(unix.CAP_SYS_NICE) {
			return 0, unix.EPERM
		}
		t.Kernel().Warnf("task %d: real-time scheduling policies are not supported", t.ThreadID())
		return 0, unix.EPERM
	}
	return 0, target.SetSchedAttr(t.Credentials(), kernel.SchedAttr{
		Policy: policy, ResetOnFork: schedFlags&schedFlagResetOnFork != 0, Nice: int(nice),
		KeepPolicy: keepPolicy, KeepNice: schedFlags&schedFlagKeepParams != 0,
	})
}

// SchedGetattr implements sched_getattr(2): as much of struct sched_attr
// as the caller's size holds, its size field set to what was written.
func SchedGetattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, addr, usize, flags := intArg(args[0]), args[1], uint32(args[2]), uint32(args[3])
	if addr == 0 || pid < 0 || usize > 4096 || usize < schedAttrSizeVer0 || flags != 0 {
		return 0, unix.EINVAL
	}
	target, err := taskArg(t, pid)
	if err != nil {
		return 0, err
	}
	policy, reset := target.SchedPolicy()
	// As Linux 6.x's copy_struct_to_user: the size field says how much
	// the kernel knows, and the rest of a larger buffer is zeroed.
	b := make([]byte, usize)
	binary.LittleEndian.PutUint32(b[0:], min(usize, schedAttrSize))
	binary.LittleEndian.PutUint32(b[4:], uint32(policy))
	if reset {
		binary.LittleEndian.PutUint64(b[8:], schedFlagResetOnFork)
	}
	binary.LittleEndian.PutUint32(b[16:], uint32(int32(target.Nice())))
	// The utilization clamps stay 0, as a kernel without
	// CONFIG_UCLAMP_TASK reports them.
	return 0, copyOut(t, addr, b)
}
