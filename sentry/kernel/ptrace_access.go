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
	c := t.Credentials()
	return t.mayAttachLocked(target, c.RealUID, c.RealGID)
}

// mayAttachFSCredsLocked is mayAttachRealCredsLocked with the caller's
// filesystem IDs in place of its real IDs: PTRACE_MODE_ATTACH_FSCREDS,
// the check of opening /proc/PID/mem.
//
// Preconditions: Kernel.mu is held.
func (t *Task) mayAttachFSCredsLocked(target *Task) bool {
	c := t.Credentials()
	return t.mayAttachLocked(target, c.FSUID, c.FSGID)
}

// mayAttachLocked is the ptrace access check for a caller whose
// identity, as the mode chooses it, is uid and gid.
//
// Preconditions: Kernel.mu is held.
func (t *Task) mayAttachLocked(target *Task, uid, gid uint32) bool {
	if target.tg == t.tg {
		return true
	}
	c, tc := t.Credentials(), target.Credentials()
	if c.HasCap(capSysPtrace) {
		return true
	}
	sameUser := uid == tc.RealUID && uid == tc.EffectiveUID && uid == tc.SavedUID &&
		gid == tc.RealGID && gid == tc.EffectiveGID && gid == tc.SavedGID
	return sameUser && !target.tg.notDumpable
}

// ProcMemTarget returns target's address space for an open of
// /proc/PID/mem by t (Linux's mm_access with PTRACE_MODE_ATTACH_FSCREDS):
// EACCES unless it is t's own address space or t may attach to target;
// nil without error if target has no address space any more (the file
// then reads nothing). The caller gets no user reference: the address
// space is released when its last task leaves it (by exit or execve),
// and Alive then reports false.
func (t *Task) ProcMemTarget(target *Task) (*mm.MemoryManager, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if target.exiting || target.mm == nil {
		return nil, nil
	}
	if target.mm != t.mm && !t.mayAttachFSCredsLocked(target) {
		return nil, unix.EACCES
	}
	return target.mm, nil
}

// TracerID returns the thread ID of t's tracer, or 0 if t is not traced
// (/proc/PID/status TracerPid).
func (t *Task) TracerID() int32 {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if tr := t.ptrace.tracer; tr != nil {
		return tr.ThreadID()
	}
	return 0
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
