package linux

import (
	"encoding/binary"
	"runtime"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_SCHED_YIELD, SchedYield)
	partial(unix.SYS_SCHED_GETAFFINITY, "reports the sandbox's CPUs", SchedGetaffinity)
	full(unix.SYS_GETCPU, Getcpu)
	partial(unix.SYS_SCHED_SETAFFINITY, "the mask is recorded and reported, not enforced: the platform places guest threads", SchedSetaffinity)
	full(unix.SYS_GETPRIORITY, Getpriority)
	partial(unix.SYS_SETPRIORITY, "nice values are recorded, not used for scheduling", Setpriority)
	full(unix.SYS_SCHED_GETSCHEDULER, SchedGetscheduler)
	partial(unix.SYS_SCHED_SETSCHEDULER, "SCHED_OTHER, SCHED_BATCH and SCHED_IDLE, recorded only; real-time policies fail with EPERM", SchedSetscheduler)
	full(unix.SYS_SCHED_GETPARAM, SchedGetparam)
	partial(unix.SYS_SCHED_SETPARAM, "priority 0 only (no real-time policies)", SchedSetparam)
	full(unix.SYS_SCHED_GET_PRIORITY_MAX, SchedGetPriorityMax)
	full(unix.SYS_SCHED_GET_PRIORITY_MIN, SchedGetPriorityMin)
	full(unix.SYS_CAPGET, Capget)
	partial(unix.SYS_CAPSET, "the calling thread only (pid 0 or its own)", Capset)
	// rseq is how glibc registers restartable sequences; it falls back
	// silently when the kernel lacks it.
	unimplemented(unix.SYS_RSEQ, "restartable sequences are not supported; glibc falls back", expectedENOSYS)
	partial(unix.SYS_MLOCK, "accounting only (locked mappings, RLIMIT_MEMLOCK, VmLck): pages are never swapped", Mlock)
	partial(unix.SYS_MLOCK2, "accounting only (locked mappings, RLIMIT_MEMLOCK, VmLck): pages are never swapped", Mlock2)
	full(unix.SYS_MUNLOCK, Munlock)
	partial(unix.SYS_MLOCKALL, "accounting only: pages are never swapped", Mlockall)
	full(unix.SYS_MUNLOCKALL, Munlockall)
}

// taskArg returns the thread pid names for sched_* calls (0: the caller).
func taskArg(t *kernel.Task, pid int32) (*kernel.Task, error) {
	if pid < 0 {
		return nil, unix.EINVAL
	}
	if pid == 0 {
		return t, nil
	}
	target := t.Kernel().TaskByID(pid)
	if target == nil {
		return nil, unix.ESRCH
	}
	return target, nil
}

// SchedSetaffinity implements sched_setaffinity(2).
func SchedSetaffinity(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, size, maskAddr := intArg(args[0]), args[1], args[2]
	target, err := taskArg(t, pid)
	if err != nil {
		return 0, err
	}
	if size == 0 || size > 1<<16 {
		return 0, unix.EINVAL
	}
	mask := make([]byte, size)
	if err := copyIn(t, maskAddr, mask); err != nil {
		return 0, err
	}
	// The mask must include at least one CPU the sandbox has.
	ok := false
	for cpu := 0; cpu < t.Kernel().NumCPU() && cpu/8 < len(mask); cpu++ {
		if mask[cpu/8]&(1<<(cpu%8)) != 0 {
			ok = true
		}
	}
	if !ok {
		return 0, unix.EINVAL
	}
	target.SetCPUMask(mask)
	return 0, nil
}

// priorityTargets returns the tasks which/who select.
func priorityTargets(t *kernel.Task, which, who int32) ([]*kernel.Task, error) {
	switch which {
	case unix.PRIO_PROCESS:
		target, err := taskArg(t, who)
		if err != nil {
			return nil, err
		}
		return []*kernel.Task{target}, nil
	case unix.PRIO_PGRP, unix.PRIO_USER:
		var out []*kernel.Task
		pg := who
		if which == unix.PRIO_PGRP && pg == 0 {
			pg = t.ThreadGroup().ProcessGroupID()
		}
		uid := uint32(who)
		if which == unix.PRIO_USER && who == 0 {
			uid = t.Credentials().RealUID
		}
		for _, tg := range t.Kernel().ThreadGroups() {
			for _, m := range tg.Tasks() {
				if (which == unix.PRIO_PGRP && tg.ProcessGroupID() == pg) || (which == unix.PRIO_USER && m.Credentials().RealUID == uid) {
					out = append(out, m)
				}
			}
		}
		if len(out) == 0 {
			return nil, unix.ESRCH
		}
		return out, nil
	}
	return nil, unix.EINVAL
}

// Getpriority implements getpriority(2): the raw call returns 20-nice of
// the highest-priority target.
func Getpriority(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	which, who := intArg(args[0]), intArg(args[1])
	targets, err := priorityTargets(t, which, who)
	if err != nil {
		return 0, err
	}
	best := 19
	for _, m := range targets {
		best = min(best, m.Nice())
	}
	return uint64(20 - best), nil
}

// Setpriority implements setpriority(2).
func Setpriority(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	which, who, nice := intArg(args[0]), intArg(args[1]), int(intArg(args[2]))
	targets, err := priorityTargets(t, which, who)
	if err != nil {
		return 0, err
	}
	creds := t.Credentials()
	for _, m := range targets {
		if mc := m.Credentials(); mc.RealUID != creds.EffectiveUID && mc.EffectiveUID != creds.EffectiveUID && !creds.HasCap(unix.CAP_SYS_NICE) {
			return 0, unix.EPERM
		}
		if err := m.SetNice(creds, nice); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// SchedGetscheduler implements sched_getscheduler(2): the recorded
// policy, with SCHED_RESET_ON_FORK if set.
func SchedGetscheduler(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid := intArg(args[0])
	target, err := taskArg(t, pid)
	if err != nil {
		return 0, err
	}
	policy, reset := target.SchedPolicy()
	if reset {
		policy |= unix.SCHED_RESET_ON_FORK
	}
	return uint64(policy), nil
}

// SchedSetscheduler implements sched_setscheduler(2).
func SchedSetscheduler(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, policy, paramAddr := intArg(args[0]), intArg(args[1]), args[2]
	target, err := taskArg(t, pid)
	if err != nil {
		return 0, err
	}
	var prio [4]byte
	if err := copyIn(t, paramAddr, prio[:]); err != nil {
		return 0, err
	}
	switch policy &^ unix.SCHED_RESET_ON_FORK {
	case unix.SCHED_NORMAL, unix.SCHED_BATCH, unix.SCHED_IDLE:
		if binary.LittleEndian.Uint32(prio[:]) != 0 {
			return 0, unix.EINVAL
		}
		// The nice value stays (Linux: sched_setscheduler keeps
		// static_prio).
		return 0, target.SetSchedAttr(t.Credentials(), kernel.SchedAttr{
			Policy: policy &^ unix.SCHED_RESET_ON_FORK, ResetOnFork: policy&unix.SCHED_RESET_ON_FORK != 0,
			KeepNice: true,
		})
	case unix.SCHED_FIFO, unix.SCHED_RR:
		t.Kernel().Warnf("task %d: real-time scheduling policies are not supported", t.ThreadID())
		return 0, unix.EPERM
	}
	return 0, unix.EINVAL
}

// SchedGetparam implements sched_getparam(2): priority 0.
func SchedGetparam(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, paramAddr := intArg(args[0]), args[1]
	if _, err := taskArg(t, pid); err != nil {
		return 0, err
	}
	var prio [4]byte
	return 0, copyOut(t, paramAddr, prio[:])
}

// SchedSetparam implements sched_setparam(2).
func SchedSetparam(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, paramAddr := intArg(args[0]), args[1]
	if _, err := taskArg(t, pid); err != nil {
		return 0, err
	}
	var prio [4]byte
	if err := copyIn(t, paramAddr, prio[:]); err != nil {
		return 0, err
	}
	if binary.LittleEndian.Uint32(prio[:]) != 0 {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// SchedGetPriorityMax implements sched_get_priority_max(2).
func SchedGetPriorityMax(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	policy := intArg(args[0])
	switch policy {
	case unix.SCHED_FIFO, unix.SCHED_RR:
		return 99, nil
	case unix.SCHED_NORMAL, unix.SCHED_BATCH, unix.SCHED_IDLE, unix.SCHED_DEADLINE:
		return 0, nil
	}
	return 0, unix.EINVAL
}

// SchedGetPriorityMin implements sched_get_priority_min(2).
func SchedGetPriorityMin(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	policy := intArg(args[0])
	switch policy {
	case unix.SCHED_FIFO, unix.SCHED_RR:
		return 1, nil
	case unix.SCHED_NORMAL, unix.SCHED_BATCH, unix.SCHED_IDLE, unix.SCHED_DEADLINE:
		return 0, nil
	}
	return 0, unix.EINVAL
}

// Capability ABI versions (capget(2)).
const (
	capV1 = 0x19980330
	capV2 = 0x20071026
	capV3 = 0x20080522
)

// capHeader reads and checks a cap_user_header_t; for an unknown version
// it writes the preferred one back and returns EINVAL.
func capHeader(t *kernel.Task, addr uint64) (version uint32, pid int32, err error) {
	var h [8]byte
	if err := copyIn(t, addr, h[:]); err != nil {
		return 0, 0, err
	}
	version, pid = binary.LittleEndian.Uint32(h[:]), int32(binary.LittleEndian.Uint32(h[4:]))
	switch version {
	case capV1, capV2, capV3:
		return version, pid, nil
	}
	binary.LittleEndian.PutUint32(h[:], capV3)
	if err := copyOut(t, addr, h[:4]); err != nil {
		return 0, 0, err
	}
	return 0, 0, unix.EINVAL
}

// Capget implements capget(2).
func Capget(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	hdrAddr, dataAddr := args[0], args[1]
	version, pid, err := capHeader(t, hdrAddr)
	if err != nil {
		if err == unix.EINVAL && dataAddr == 0 {
			return 0, nil // a version probe
		}
		return 0, err
	}
	target, err := taskArg(t, pid)
	if err != nil {
		return 0, err
	}
	if dataAddr == 0 {
		return 0, nil
	}
	c := target.Credentials()
	words := 2
	if version == capV1 {
		words = 1
	}
	b := make([]byte, 12*words)
	for i := 0; i < words; i++ {
		binary.LittleEndian.PutUint32(b[12*i:], uint32(c.Effective>>(32*i)))
		binary.LittleEndian.PutUint32(b[12*i+4:], uint32(c.Permitted>>(32*i)))
		binary.LittleEndian.PutUint32(b[12*i+8:], uint32(c.Inheritable>>(32*i)))
	}
	return 0, copyOut(t, dataAddr, b)
}

// Capset implements capset(2).
func Capset(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	hdrAddr, dataAddr := args[0], args[1]
	version, pid, err := capHeader(t, hdrAddr)
	if err != nil {
		return 0, err
	}
	if pid != 0 && pid != t.ThreadID() {
		return 0, unix.EPERM
	}
	words := 2
	if version == capV1 {
		words = 1
	}
	b := make([]byte, 12*words)
	if err := copyIn(t, dataAddr, b); err != nil {
		return 0, err
	}
	var eff, perm, inh uint64
	for i := 0; i < words; i++ {
		eff |= uint64(binary.LittleEndian.Uint32(b[12*i:])) << (32 * i)
		perm |= uint64(binary.LittleEndian.Uint32(b[12*i+4:])) << (32 * i)
		inh |= uint64(binary.LittleEndian.Uint32(b[12*i+8:])) << (32 * i)
	}
	return 0, t.SetCapabilities(eff, perm, inh)
}

// mlockPages rounds a mlock/munlock range out to pages as Linux does
// (modulo 2^64: a length that wraps becomes short, even 0).
func mlockPages(addr, length uint64) (start, size uint64) {
	return addr &^ (mmPageSize - 1), (length + addr&(mmPageSize-1) + mmPageSize - 1) &^ (mmPageSize - 1)
}

// mlockMode says whether an mlock populates the range (mlock, mlock2
// without flags) or leaves faulting to first use (MLOCK_ONFAULT).
type mlockMode int

const (
	// mlockPopulate faults the range in: PROT_NONE pages fail.
	mlockPopulate mlockMode = iota
	// mlockOnFault locks pages as they are faulted in (MLOCK_ONFAULT).
	mlockOnFault
)

// mlockRange locks [addr, addr+length) the way Linux's do_mlock does, in
// its order: the privilege to lock at all (RLIMIT_MEMLOCK or
// CAP_IPC_LOCK), the limit on all locked pages, a wrapping range, a hole,
// and for mlock without MLOCK_ONFAULT, pages that can't be faulted in
// (PROT_NONE: ENOMEM, the lock staying, as Linux). Locking is accounting
// only: pages are never swapped. It walks VMAs, never pages.
func mlockRange(t *kernel.Task, addr, length uint64, mode mlockMode) error {
	capLock := t.Credentials().HasCap(unix.CAP_IPC_LOCK)
	lim := t.ThreadGroup().Limit(unix.RLIMIT_MEMLOCK).Cur
	if lim == 0 && !capLock {
		return unix.EPERM
	}
	start, size := mlockPages(addr, length)
	inaccessible, err := t.MemoryManager().Mlock(start, size, true, capLock || lim == unix.RLIM_INFINITY, lim)
	if err != nil {
		return err
	}
	if inaccessible && mode == mlockPopulate {
		// Linux locks the VMAs, then fails to populate them.
		return unix.ENOMEM
	}
	return nil
}

// Mlock implements mlock(2).
func Mlock(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length := args[0], args[1]
	return 0, mlockRange(t, addr, length, mlockPopulate)
}

// Mlock2 implements mlock2(2).
func Mlock2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length, flags := args[0], args[1], args[2]
	if flags&^uint64(unix.MLOCK_ONFAULT) != 0 {
		return 0, unix.EINVAL
	}
	mode := mlockPopulate
	if flags&unix.MLOCK_ONFAULT != 0 {
		mode = mlockOnFault
	}
	return 0, mlockRange(t, addr, length, mode)
}

// Munlock implements munlock(2).
func Munlock(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length := args[0], args[1]
	start, size := mlockPages(addr, length)
	_, err := t.MemoryManager().Mlock(start, size, false, true, 0)
	return 0, err
}

// Mlockall implements mlockall(2).
func Mlockall(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	flags := args[0]
	if flags == 0 || flags&^uint64(unix.MCL_CURRENT|unix.MCL_FUTURE|unix.MCL_ONFAULT) != 0 || flags == unix.MCL_ONFAULT {
		return 0, unix.EINVAL
	}
	capLock := t.Credentials().HasCap(unix.CAP_IPC_LOCK)
	lim := t.ThreadGroup().Limit(unix.RLIMIT_MEMLOCK).Cur
	if lim == 0 && !capLock {
		return 0, unix.EPERM
	}
	// Locking what is mapped now must fit the limit: all of it counts,
	// PROT_NONE reservations included.
	if flags&unix.MCL_CURRENT != 0 && !capLock && t.MemoryManager().VirtualSize()/mmPageSize > lim/mmPageSize {
		return 0, unix.ENOMEM
	}
	t.MemoryManager().MlockAll(true, flags&unix.MCL_CURRENT != 0, flags&unix.MCL_FUTURE != 0)
	return 0, nil
}

// Munlockall implements munlockall(2).
func Munlockall(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	t.MemoryManager().MlockAll(false, true, true)
	return 0, nil
}

// SchedYield implements sched_yield(2).
func SchedYield(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	runtime.Gosched()
	return 0, nil
}

// SchedGetaffinity implements sched_getaffinity(2): the mask last set, or
// every CPU of the sandbox.
func SchedGetaffinity(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, size, maskAddr := intArg(args[0]), args[1], args[2]
	if size < 8 || size%8 != 0 {
		return 0, unix.EINVAL
	}
	target, err := taskArg(t, pid)
	if err != nil {
		return 0, err
	}
	n := t.Kernel().NumCPU()
	b := make([]byte, max(8, (n+63)/64*8))
	if uint64(len(b)) > size {
		return 0, unix.EINVAL
	}
	if mask := target.CPUMask(); mask != nil {
		for cpu := 0; cpu < n && cpu/8 < len(mask); cpu++ {
			b[cpu/8] |= mask[cpu/8] & (1 << (cpu % 8))
		}
	} else {
		for cpu := 0; cpu < n; cpu++ {
			b[cpu/8] |= 1 << (cpu % 8)
		}
	}
	return uint64(len(b)), copyOut(t, maskAddr, b)
}

// Getcpu implements getcpu(2).
func Getcpu(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	cpuAddr, nodeAddr := args[0], args[1]
	var zero [4]byte
	for _, a := range [...]uint64{cpuAddr, nodeAddr} {
		if a != 0 {
			if err := copyOut(t, a, zero[:]); err != nil {
				return 0, err
			}
		}
	}
	return 0, nil
}
