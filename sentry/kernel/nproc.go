package kernel

import "golang.org/x/sys/unix"

// capSysResource and capSysAdmin exempt a task from RLIMIT_NPROC.
const (
	capSysResource = 24
	capSysAdmin    = 21
)

// DefaultMaxTasks is the sandbox-wide cap on tasks (threads) when the
// Kernel's Config gives none. Each task is one Sentry OS thread (its
// tracer) and one host stub thread, so the sandbox holds about twice as
// many host tasks: 4096 keeps that (8192 plus the Sentry's own threads)
// far below Go's default limit of 10000 OS threads per process and below
// a default pid_max of 32768 shared with the rest of the host.
const DefaultMaxTasks = 4096

// Task accounting. Every task is counted from the moment clone reserves
// it (before the address space, stub thread or FD table is made) until it
// has exited, or for the last thread of a process until the zombie is
// reaped (as Linux releases it), in two places, both protected by Kernel.mu:
//
//   - Kernel.nrTasks, against Kernel.maxTasks, the sandbox's cap (Linux:
//     nr_threads against max_threads, the kernel.threads-max sysctl);
//   - Kernel.nproc[uid], per real UID, against RLIMIT_NPROC (Linux: the
//     UCOUNT_RLIMIT_NPROC count of the task's user).
//
// Both fail clone with EAGAIN, so a guest that creates tasks in a loop
// gets an error it can handle, and the Sentry never reaches the Go
// runtime's thread limit (which kills the process) or the host's.

// reserveTaskLocked counts one more task for c's real UID, as clone does
// before it makes anything: it fails with EAGAIN when the caller's real UID
// already has at least RLIMIT_NPROC tasks (threads count, as in Linux; real
// UID 0, CAP_SYS_RESOURCE and CAP_SYS_ADMIN are exempt), or when the
// sandbox has maxTasks tasks. Linux: the checks of copy_process. limit is
// the caller's RLIMIT_NPROC soft limit.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) reserveTaskLocked(c *Credentials, limit uint64) error {
	if limit != unix.RLIM_INFINITY && uint64(k.nproc[c.RealUID]) >= limit &&
		c.RealUID != 0 && !c.HasCap(capSysResource) && !c.HasCap(capSysAdmin) {
		return unix.EAGAIN
	}
	if k.nrTasks >= k.maxTasks {
		k.warnTaskCapOnce()
		return unix.EAGAIN
	}
	k.nrTasks++
	k.nproc[c.RealUID]++
	return nil
}

// unreserveTaskLocked undoes reserveTaskLocked for a clone that failed, or
// forgets a task that has exited.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) unreserveTaskLocked(uid uint32) {
	k.nrTasks--
	k.uncountUIDLocked(uid)
}

// uncountUIDLocked drops one task from uid's count.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) uncountUIDLocked(uid uint32) {
	if k.nproc[uid]--; k.nproc[uid] <= 0 {
		delete(k.nproc, uid)
	}
}

// releaseZombieLocked stops counting a zombie that is being reaped.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) releaseZombieLocked(tg *ThreadGroup) {
	// tg leaves k.groups: Stats keeps its times.
	k.goneCPU.add(tg.usageLocked())
	if tg.zombieCounted {
		tg.zombieCounted = false
		k.unreserveTaskLocked(tg.zombieUID)
	}
}

// unreserveTask is unreserveTaskLocked for callers without Kernel.mu.
func (k *Kernel) unreserveTask(uid uint32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.unreserveTaskLocked(uid)
}

// warnTaskCapOnce logs the first refusal of a clone at the task cap.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) warnTaskCapOnce() {
	if !k.warnedTaskCap {
		k.warnedTaskCap = true
		k.Warnf("the sandbox has %d tasks, its limit (--max-tasks): clone fails with EAGAIN", k.maxTasks)
	}
}

// changeRealUID moves t's count from its old real UID to uid, as Linux's
// set_user does when a set*uid call changes the real UID, and notes
// whether uid is already over t's RLIMIT_NPROC: set*uid never fails for
// that (too many programs ignore its result), but the next execve does,
// if it still is (Linux: PF_NPROC_EXCEEDED, flag_nproc_exceeded).
func (t *Task) changeRealUID(uid uint32) {
	k := t.k
	limit := t.tg.Limit(unix.RLIMIT_NPROC).Cur
	k.mu.Lock()
	defer k.mu.Unlock()
	if uid == t.nprocUID {
		return
	}
	k.uncountUIDLocked(t.nprocUID)
	// Linux compares the new user's count before this task joins it.
	t.nprocExceeded = uid != 0 && limit != unix.RLIM_INFINITY && uint64(k.nproc[uid]) > limit
	k.nproc[uid]++
	t.nprocUID = uid
}

// checkExecNProc is execve's RLIMIT_NPROC check: a task whose real UID
// was changed while over the limit may not exec while its user still has
// more tasks than RLIMIT_NPROC allows (EAGAIN). The note is dropped once
// the check passes. Linux: the PF_NPROC_EXCEEDED check of
// do_execveat_common.
func (t *Task) checkExecNProc() error {
	k := t.k
	limit := t.tg.Limit(unix.RLIMIT_NPROC).Cur
	k.mu.Lock()
	defer k.mu.Unlock()
	if !t.nprocExceeded {
		return nil
	}
	if limit != unix.RLIM_INFINITY && uint64(k.nproc[t.nprocUID]) > limit {
		return unix.EAGAIN
	}
	t.nprocExceeded = false
	return nil
}
