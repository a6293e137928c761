package linux

import (
	"time"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_FUTEX, "WAIT, WAKE, *_BITSET, REQUEUE, CMP_REQUEUE, WAKE_OP; no PI futexes yet (issue 4)", Futex)
}

// Futex operations and flags (futex(2)).
const (
	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivateFlag   = 128
	futexClockRealtime = 256
)

// Futex implements futex(2).
func Futex(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, op, val, timeoutAddr, addr2, val3 := args[0], intArg(args[1]), uint32(args[2]), args[3], args[4], uint32(args[5])
	private := op&futexPrivateFlag != 0
	cmd := op &^ (futexPrivateFlag | futexClockRealtime)
	if op&futexClockRealtime != 0 && cmd != futexWaitBitset && cmd != futexWait {
		return 0, unix.ENOSYS
	}
	switch cmd {
	case futexWait, futexWaitBitset:
		bitset := kernel.FutexBitsetMatchAny
		if cmd == futexWaitBitset {
			bitset = val3
		}
		var deadline time.Time
		if timeoutAddr != 0 {
			d, err := copyInTimespec(t, timeoutAddr)
			if err != nil {
				return 0, err
			}
			if cmd == futexWait {
				deadline = time.Now().Add(d)
			} else if op&futexClockRealtime != 0 {
				deadline = time.Unix(0, int64(d))
			} else {
				now, _ := clockNow(t, unix.CLOCK_MONOTONIC)
				deadline = time.Now().Add(d - now)
			}
		}
		return 0, t.FutexWait(addr, private, val, bitset, deadline)
	case futexWake, futexWakeBitset:
		bitset := kernel.FutexBitsetMatchAny
		if cmd == futexWakeBitset {
			bitset = val3
		}
		n, err := t.FutexWake(addr, private, int(min(val, 1<<31-1)), bitset)
		return uint64(n), err
	case futexRequeue, futexCmpRequeue:
		if int32(val) < 0 || int32(timeoutAddr) < 0 {
			return 0, unix.EINVAL
		}
		n, err := t.FutexRequeue(addr, addr2, private, int(val), int(uint32(timeoutAddr)), cmd == futexCmpRequeue, val3)
		return uint64(n), err
	case futexWakeOp:
		n, err := t.FutexWakeOp(addr, addr2, private, int(val), int(uint32(timeoutAddr)), val3)
		return uint64(n), err
	}
	t.Kernel().Warnf("task %d: futex op %d is not implemented", t.ThreadID(), cmd)
	return 0, unix.ENOSYS
}
