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
