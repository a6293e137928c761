package linux

import (
	"encoding/binary"
	"time"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_FUTEX, "WAIT, WAKE, *_BITSET, REQUEUE, CMP_REQUEUE, WAKE_OP, LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI "+
		"(no priority inheritance: scheduling is the host's); no WAIT_REQUEUE_PI/CMP_REQUEUE_PI", Futex)
	full(unix.SYS_FUTEX_WAITV, FutexWaitv)
	full(unix.SYS_FUTEX_WAKE, FutexWake)
	full(unix.SYS_FUTEX_WAIT, FutexWait)
	full(unix.SYS_FUTEX_REQUEUE, FutexRequeue)
}

// Futex operations and flags (futex(2)).
const (
	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexLockPI        = 6
	futexUnlockPI      = 7
	futexTrylockPI     = 8
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexLockPI2       = 13
	futexPrivateFlag   = 128
	futexClockRealtime = 256
)

// futexTimeout says how futexDeadline reads a timeout.
type futexTimeout struct {
	// relative: the timeout is a duration from now (FUTEX_WAIT).
	relative bool
	// realtime: an absolute timeout is on CLOCK_REALTIME, not
	// CLOCK_MONOTONIC.
	realtime bool
}

// futexDeadline reads the timeout at addr (0: none) and turns it into a
// deadline: relative for FUTEX_WAIT, otherwise absolute on CLOCK_REALTIME
// (how.realtime set) or CLOCK_MONOTONIC.
func futexDeadline(t *kernel.Task, addr uint64, how futexTimeout) (time.Time, error) {
	if addr == 0 {
		return time.Time{}, nil
	}
	d, err := copyInTimespec(t, addr)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case how.relative:
		return time.Now().Add(d), nil
	case how.realtime:
		return time.Unix(0, int64(d)), nil
	default:
		now, _ := clockNow(t, unix.CLOCK_MONOTONIC)
		return time.Now().Add(d - now), nil
	}
}

// Futex implements futex(2).
func Futex(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, op, val, timeoutAddr, addr2, val3 := args[0], intArg(args[1]), uint32(args[2]), args[3], args[4], uint32(args[5])
	private := op&futexPrivateFlag != 0
	realtime := op&futexClockRealtime != 0
	cmd := op &^ (futexPrivateFlag | futexClockRealtime)
	if realtime && cmd != futexWaitBitset && cmd != futexWait && cmd != futexLockPI2 {
		return 0, unix.ENOSYS
	}
	switch cmd {
	case futexWait, futexWaitBitset:
		bitset := kernel.FutexBitsetMatchAny
		if cmd == futexWaitBitset {
			bitset = val3
		}
		deadline, err := futexDeadline(t, timeoutAddr, futexTimeout{relative: cmd == futexWait, realtime: realtime})
		if err != nil {
			return 0, err
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
		n, err := t.FutexRequeue(addr, addr2, private, private, int(val), int(uint32(timeoutAddr)), cmd == futexCmpRequeue, val3)
		return uint64(n), err
	case futexWakeOp:
		n, err := t.FutexWakeOp(addr, addr2, private, int(min(val, 1<<31-1)), int(min(uint32(timeoutAddr), 1<<31-1)), val3)
		return uint64(n), err
	case futexLockPI, futexLockPI2:
		// LOCK_PI's timeout is absolute on CLOCK_REALTIME; LOCK_PI2's on
		// CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME.
		deadline, err := futexDeadline(t, timeoutAddr, futexTimeout{realtime: cmd == futexLockPI || realtime})
		if err != nil {
			return 0, err
		}
		return 0, t.FutexLockPI(addr, private, deadline, kernel.PILockWait)
	case futexTrylockPI:
		return 0, t.FutexLockPI(addr, private, time.Time{}, kernel.PILockTry)
	case futexUnlockPI:
		return 0, t.FutexUnlockPI(addr, private)
	}
	t.Kernel().Warnf("task %d: futex op %d is not implemented", t.ThreadID(), cmd)
	return 0, unix.ENOSYS
}

// futex2 limits and flags (FUTEX2_*, include/uapi/linux/futex.h).
const (
	futexWaitvMax    = 128
	futex2SizeU32    = 2
	futex2SizeMask   = 3
	futex2NUMA       = 4
	futex2MPol       = 8
	futex2Private    = 128
	futexWaitvSizeof = 24
)

// futex2Word is one futex of the futex2 calls, decoded from its FUTEX2_*
// flags.
type futex2Word struct {
	addr    uint64
	private bool
	// numa: the word is followed by its node word (FUTEX2_NUMA).
	numa bool
}

// decodeFutex2Flags checks FUTEX2_* flags as Linux's futex_flags_valid:
// unknown bits and every size but U32 (the only one Linux implements) are
// EINVAL. FUTEX2_MPOL only picks a node by memory policy; the sandbox has
// one node, so it changes nothing.
func decodeFutex2Flags(addr uint64, flags uint32) (futex2Word, error) {
	if flags&^(futex2SizeMask|futex2NUMA|futex2MPol|futex2Private) != 0 || flags&futex2SizeMask != futex2SizeU32 {
		return futex2Word{}, unix.EINVAL
	}
	return futex2Word{addr: addr, private: flags&futex2Private != 0, numa: flags&futex2NUMA != 0}, nil
}

// prepare checks a FUTEX2_NUMA word's node (see kernel.FutexNUMANode).
func (w futex2Word) prepare(t *kernel.Task) error {
	if !w.numa {
		return nil
	}
	return t.FutexNUMANode(w.addr)
}

// FutexWake implements futex_wake(2).
func FutexWake(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, mask, nr, flags := args[0], args[1], int32(args[2]), uint32(args[3])
	w, err := decodeFutex2Flags(addr, flags)
	if err != nil {
		return 0, err
	}
	if mask == 0 || mask>>32 != 0 {
		return 0, unix.EINVAL
	}
	if err := w.prepare(t); err != nil {
		return 0, err
	}
	// Linux stops after the first wake-up when nr is negative.
	n := int(nr)
	if n < 0 {
		n = 1
	}
	woken, err := t.FutexWake2(addr, w.private, n, uint32(mask))
	return uint64(woken), err
}

// FutexWait implements futex_wait(2). Its timeout is absolute on clockid
// (CLOCK_MONOTONIC or CLOCK_REALTIME).
func FutexWait(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, val, mask, flags, timeoutAddr, clock := args[0], args[1], args[2], uint32(args[3]), args[4], intArg(args[5])
	w, err := decodeFutex2Flags(addr, flags)
	if err != nil {
		return 0, err
	}
	if val>>32 != 0 || mask>>32 != 0 {
		return 0, unix.EINVAL
	}
	var deadline time.Time
	if timeoutAddr != 0 {
		if clock != unix.CLOCK_MONOTONIC && clock != unix.CLOCK_REALTIME {
			return 0, unix.EINVAL
		}
		if deadline, err = futexDeadline(t, timeoutAddr, futexTimeout{realtime: clock == unix.CLOCK_REALTIME}); err != nil {
			return 0, err
		}
	}
	if mask == 0 {
		return 0, unix.EINVAL
	}
	if err := w.prepare(t); err != nil {
		return 0, err
	}
	return 0, t.FutexWait2(addr, w.private, uint32(val), uint32(mask), deadline)
}

// copyInFutexWaitv reads and checks the n struct futex_waitv at addr one
// at a time, as Linux's futex_parse_waitv (a fault in a later entry comes
// after an invalid earlier one).
func copyInFutexWaitv(t *kernel.Task, addr uint64, n int) ([]futex2Word, []uint32, error) {
	words, vals := make([]futex2Word, n), make([]uint32, n)
	var b [futexWaitvSizeof]byte
	for i := range words {
		if err := copyIn(t, addr+uint64(i)*futexWaitvSizeof, b[:]); err != nil {
			return nil, nil, err
		}
		val, uaddr := binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])
		f, reserved := binary.LittleEndian.Uint32(b[16:]), binary.LittleEndian.Uint32(b[20:])
		if reserved != 0 {
			return nil, nil, unix.EINVAL
		}
		w, err := decodeFutex2Flags(uaddr, f)
		if err != nil {
			return nil, nil, err
		}
		if val>>32 != 0 {
			return nil, nil, unix.EINVAL
		}
		words[i], vals[i] = w, uint32(val)
	}
	return words, vals, nil
}

// FutexWaitv implements futex_waitv(2).
func FutexWaitv(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, n, flags, timeoutAddr, clock := args[0], args[1], args[2], args[3], intArg(args[4])
	if flags != 0 || n == 0 || n > futexWaitvMax {
		return 0, unix.EINVAL
	}
	var deadline time.Time
	if timeoutAddr != 0 {
		if clock != unix.CLOCK_MONOTONIC && clock != unix.CLOCK_REALTIME {
			return 0, unix.EINVAL
		}
		var err error
		if deadline, err = futexDeadline(t, timeoutAddr, futexTimeout{realtime: clock == unix.CLOCK_REALTIME}); err != nil {
			return 0, err
		}
	}
	words, vals, err := copyInFutexWaitv(t, addr, int(n))
	if err != nil {
		return 0, err
	}
	entries := make([]kernel.FutexWaitvEntry, n)
	for i, w := range words {
		if err := w.prepare(t); err != nil {
			return 0, err
		}
		entries[i] = kernel.FutexWaitvEntry{Addr: w.addr, Val: vals[i], Private: w.private}
	}
	idx, err := t.FutexWaitv(entries, deadline)
	return uint64(idx), err
}

// FutexRequeue implements futex_requeue(2): waiters[0] is the word to wake
// and move waiters from (its val is compared as FUTEX_CMP_REQUEUE's),
// waiters[1] the word they move to.
func FutexRequeue(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, flags, nrWake, nrRequeue := args[0], uint32(args[1]), int32(args[2]), int32(args[3])
	if flags != 0 || addr == 0 {
		return 0, unix.EINVAL
	}
	words, vals, err := copyInFutexWaitv(t, addr, 2)
	if err != nil {
		return 0, err
	}
	if nrWake < 0 || nrRequeue < 0 {
		return 0, unix.EINVAL
	}
	for _, w := range words {
		if err := w.prepare(t); err != nil {
			return 0, err
		}
	}
	n, err := t.FutexRequeue(words[0].addr, words[1].addr, words[0].private, words[1].private,
		int(nrWake), int(nrRequeue), true, vals[0])
	return uint64(n), err
}
