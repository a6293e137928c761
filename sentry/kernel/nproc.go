package kernel

import "golang.org/x/sys/unix"

// capSysResource and capSysAdmin exempt a task from RLIMIT_NPROC.
const (
	capSysResource = 24
	capSysAdmin    = 21
)

// CheckNProc enforces RLIMIT_NPROC before fork or clone: it fails with
// EAGAIN when the caller's real UID already has at least as many tasks
// (threads count, as in Linux) as the caller's soft limit allows. Root
// (real UID 0) and callers with CAP_SYS_RESOURCE or CAP_SYS_ADMIN are
// exempt. Linux: the RLIMIT_NPROC check in copy_process.
func (t *Task) CheckNProc() error {
	c := t.Credentials()
	if c.RealUID == 0 || c.HasCap(capSysResource) || c.HasCap(capSysAdmin) {
		return nil
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	limit := t.tg.Limit(unix.RLIMIT_NPROC).Cur
	if limit == unix.RLIM_INFINITY {
		return nil
	}
	n := uint64(0)
	for _, other := range k.tasks {
		if other.Credentials().RealUID == c.RealUID {
			n++
		}
	}
	if n >= limit {
		return unix.EAGAIN
	}
	return nil
}
