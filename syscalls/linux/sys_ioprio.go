package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_IOPRIO_SET, "the priority is recorded, inherited and reported; the Sentry schedules no block I/O by it", IoprioSet)
	full(unix.SYS_IOPRIO_GET, IoprioGet)
}

// ioprio_set(2)'s targets and classes (linux/ioprio.h).
const (
	ioprioWhoProcess = 1
	ioprioWhoPgrp    = 2
	ioprioWhoUser    = 3

	ioprioClassShift = 13
	ioprioClassNone  = 0
	ioprioClassRT    = 1
	ioprioClassBE    = 2
	ioprioClassIdle  = 3
	ioprioLevelMask  = 7
)

// ioprioCheck validates a priority as Linux's ioprio_check_cap: the real-
// time class needs CAP_SYS_ADMIN or CAP_SYS_NICE, no class allows no
// level, classes past idle are invalid.
func ioprioCheck(t *kernel.Task, prio int32) error {
	switch prio >> ioprioClassShift & 7 {
	case ioprioClassRT:
		if c := t.Credentials(); !c.HasCap(unix.CAP_SYS_ADMIN) && !c.HasCap(unix.CAP_SYS_NICE) {
			return unix.EPERM
		}
	case ioprioClassBE, ioprioClassIdle:
	case ioprioClassNone:
		if prio&ioprioLevelMask != 0 {
			return unix.EINVAL
		}
	default:
		return unix.EINVAL
	}
	return nil
}

// ioprioTargets returns the tasks which and who name: a thread (0: the
// caller), the threads of a process group (0: the caller's), or of a real
// user ID (0: the caller's); ESRCH if there are none.
func ioprioTargets(t *kernel.Task, which, who int32) ([]*kernel.Task, error) {
	switch which {
	case ioprioWhoProcess:
		if who < 0 {
			return nil, unix.ESRCH
		}
		return priorityTargets(t, unix.PRIO_PROCESS, who)
	case ioprioWhoPgrp:
		return priorityTargets(t, unix.PRIO_PGRP, who)
	case ioprioWhoUser:
		return priorityTargets(t, unix.PRIO_USER, who)
	}
	return nil, unix.EINVAL
}

// IoprioSet implements ioprio_set(2): the priority is checked first, then
// the targets; setting a task of another user needs CAP_SYS_NICE.
func IoprioSet(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	which, who, prio := intArg(args[0]), intArg(args[1]), intArg(args[2])
	if err := ioprioCheck(t, prio); err != nil {
		return 0, err
	}
	targets, err := ioprioTargets(t, which, who)
	if err != nil {
		return 0, err
	}
	creds := t.Credentials()
	for _, m := range targets {
		if mc := m.Credentials(); mc.RealUID != creds.EffectiveUID && mc.RealUID != creds.RealUID && !creds.HasCap(unix.CAP_SYS_NICE) {
			return 0, unix.EPERM
		}
		m.SetIOPriority(prio & 0xffff) // Linux keeps an unsigned short
	}
	return 0, nil
}

// IoprioGet implements ioprio_get(2): of several targets, the best
// priority (the lowest value with a class; a task without one counts as
// 0), as Linux's ioprio_best.
func IoprioGet(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	which, who := intArg(args[0]), intArg(args[1])
	targets, err := ioprioTargets(t, which, who)
	if err != nil {
		return 0, err
	}
	best := int32(-1)
	for _, m := range targets {
		p := m.IOPriority()
		if p>>ioprioClassShift&7 == ioprioClassNone {
			p = 0
		}
		if best < 0 || p < best {
			best = p
		}
	}
	return uint64(best), nil
}
