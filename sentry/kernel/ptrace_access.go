package kernel

import (
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"golang.org/x/sys/unix"
)

// capSysPtrace is CAP_SYS_PTRACE.
const capSysPtrace = 19

// mayAttachRealCredsLocked reports whether t may operate on target's
// memory: Linux's ptrace_may_access with PTRACE_MODE_ATTACH_REALCREDS.
// Threads of one process always may; otherwise the caller's real UID and
// GID must match every UID and GID of the target, and the target must be
// dumpable, unless the caller has CAP_SYS_PTRACE.
//
// Preconditions: Kernel.mu is held.
func (t *Task) mayAttachRealCredsLocked(target *Task) bool {
	if target.tg == t.tg {
		return true
	}
	c, tc := t.Credentials(), target.Credentials()
	if c.HasCap(capSysPtrace) {
		return true
	}
	sameUser := c.RealUID == tc.RealUID && c.RealUID == tc.EffectiveUID && c.RealUID == tc.SavedUID &&
		c.RealGID == tc.RealGID && c.RealGID == tc.EffectiveGID && c.RealGID == tc.SavedGID
	return sameUser && !target.tg.notDumpable
}

// ProcessVMTarget returns the address space of the task with thread ID
// tid for process_vm_readv/process_vm_writev: ESRCH if there is no such
// live task, EPERM if t may not access it. The caller gets no user
// reference: an address space released meanwhile reads as empty (EFAULT).
func (t *Task) ProcessVMTarget(tid int32) (*mm.MemoryManager, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	target := k.tasks[tid]
	if tid <= 0 || target == nil || target.exiting || target.mm == nil {
		return nil, unix.ESRCH
	}
	if !t.mayAttachRealCredsLocked(target) {
		return nil, unix.EPERM
	}
	return target.mm, nil
}
