package kernel

import "golang.org/x/sys/unix"

// Nice returns the task's nice value (-20..19).
func (t *Task) Nice() int {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.nice
}

// SetNice implements setpriority(2) for one task: lowering the nice value
// (raising priority) needs CAP_SYS_NICE.
func (t *Task) SetNice(caller *Credentials, nice int) error {
	nice = min(max(nice, -20), 19)
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if nice < t.nice && !caller.HasCap(capSysNice) {
		return unix.EACCES
	}
	t.nice = nice
	return nil
}

// CPUMask returns the task's CPU affinity mask (nil: all CPUs).
func (t *Task) CPUMask() []byte {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return append([]byte(nil), t.cpuMask...)
}

// SetCPUMask records sched_setaffinity's mask. The guest's threads are
// scheduled by the platform, not by this mask; it is kept so that
// sched_getaffinity reports what was set.
func (t *Task) SetCPUMask(mask []byte) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.cpuMask = append([]byte(nil), mask...)
}

// Tasks returns the live tasks of process tg.
func (tg *ThreadGroup) Tasks() []*Task {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	out := make([]*Task, 0, len(tg.tasks))
	for t := range tg.tasks {
		out = append(out, t)
	}
	return out
}

// SetCapabilities implements capset(2) for the caller: permitted may only
// shrink, effective must stay within permitted, inheritable within the
// old inheritable and permitted sets (or the bounding set with
// CAP_SETPCAP).
func (t *Task) SetCapabilities(effective, permitted, inheritable uint64) error {
	old := t.Credentials()
	if permitted&^old.Permitted != 0 || effective&^permitted != 0 {
		return unix.EPERM
	}
	limit := old.Inheritable | old.Permitted
	if old.HasCap(capSetPCap) {
		limit = old.Inheritable | old.Bounding
	}
	if inheritable&^limit != 0 {
		return unix.EPERM
	}
	c := old.Copy()
	c.Effective, c.Permitted, c.Inheritable = effective, permitted, inheritable
	c.Ambient &= permitted & inheritable
	t.SetCredentials(c)
	return nil
}

// Capability numbers used here.
const (
	capSetPCap = 8
	capSysNice = 23
)

// schedResetOnFork is SCHED_RESET_ON_FORK as kept in schedPolicy.
const schedResetOnFork = 0x40000000

// inheritSchedLocked gives a new task its creator's nice value and
// policy, as Linux's fork does; with SCHED_RESET_ON_FORK a negative nice
// value goes back to 0 and the flag is not inherited (a real-time policy
// would go back to SCHED_OTHER, but none is ever set).
//
// Preconditions: Kernel.mu is held.
func (t *Task) inheritSchedLocked(child *Task) {
	child.nice, child.schedPolicy = t.nice, t.schedPolicy&^schedResetOnFork
	t.inheritIOPriorityLocked(child)
	child.mempolicy = t.mempolicy
	if t.schedPolicy&schedResetOnFork != 0 {
		child.nice = max(child.nice, 0)
	}
}

// SchedPolicy returns the task's policy (SCHED_*) and whether
// SCHED_RESET_ON_FORK is set.
func (t *Task) SchedPolicy() (policy int32, resetOnFork bool) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.schedPolicy &^ schedResetOnFork, t.schedPolicy&schedResetOnFork != 0
}

// SchedAttr is what sched_setattr sets for one task.
type SchedAttr struct {
	Policy      int32
	ResetOnFork bool
	Nice        int
	// KeepPolicy and KeepNice leave those unchanged
	// (SCHED_FLAG_KEEP_POLICY, SCHED_FLAG_KEEP_PARAMS).
	KeepPolicy, KeepNice bool
}

// SetSchedAttr implements sched_setattr(2)'s permission checks and
// update for the non-real-time policies (SCHED_OTHER, SCHED_BATCH,
// SCHED_IDLE), in Linux's order: lowering the nice value, leaving
// SCHED_IDLE, changing another user's task, or clearing
// SCHED_RESET_ON_FORK need CAP_SYS_NICE (RLIMIT_NICE is taken as 0).
// Real-time policies are the caller's business.
func (t *Task) SetSchedAttr(caller *Credentials, a SchedAttr) error {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	curPolicy := t.schedPolicy &^ schedResetOnFork
	curReset := t.schedPolicy&schedResetOnFork != 0
	if a.KeepPolicy {
		a.Policy, a.ResetOnFork = curPolicy, curReset
	}
	if a.KeepNice {
		a.Nice = t.nice
	}
	a.Nice = min(max(a.Nice, -20), 19)
	privileged := caller.HasCap(capSysNice)
	tc := t.Credentials()
	sameOwner := caller.EffectiveUID == tc.EffectiveUID || caller.EffectiveUID == tc.RealUID
	switch {
	case privileged:
	case a.Nice < t.nice,
		curPolicy == unix.SCHED_IDLE && a.Policy != unix.SCHED_IDLE,
		!sameOwner,
		curReset && !a.ResetOnFork:
		return unix.EPERM
	}
	t.schedPolicy = a.Policy
	if a.ResetOnFork {
		t.schedPolicy |= schedResetOnFork
	}
	t.nice = a.Nice
	return nil
}
