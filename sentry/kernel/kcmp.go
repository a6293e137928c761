package kernel

import (
	"golang.org/x/sys/unix"
)

// kcmp(2) resource types.
const (
	KcmpFile     = 0
	KcmpVM       = 1
	KcmpFiles    = 2
	KcmpFS       = 3
	KcmpSighand  = 4
	KcmpIO       = 5
	KcmpSysvsem  = 6
	KcmpEpollTFD = 7
)

// Kcmp implements kcmp(2) in Linux's order: ESRCH unless both tasks
// exist, EPERM unless t may read both (PTRACE_MODE_READ_REALCREDS, here
// as the attach check: same user and dumpable, or CAP_SYS_PTRACE), then
// per type: 0 if the two share the resource, else 1 or 2 as an arbitrary
// but consistent order (Linux orders obfuscated kernel pointers).
// KCMP_FILE compares open file descriptions (EBADF if either descriptor
// is not open). KCMP_IO and KCMP_SYSVSEM compare the tasks and their
// processes: there is no per-task I/O context, and SEM_UNDO lists are
// per process here. KCMP_EPOLL_TFD is EOPNOTSUPP (as Linux without epoll).
func (t *Task) Kcmp(pid1, pid2 int32, typ int32, idx1, idx2 uint64) (uint64, error) {
	k := t.k
	k.mu.Lock()
	t1, t2 := k.tasks[pid1], k.tasks[pid2]
	if t1 == nil || t2 == nil || pid1 <= 0 || pid2 <= 0 {
		k.mu.Unlock()
		return 0, unix.ESRCH
	}
	if !t.mayAttachRealCredsLocked(t1) || !t.mayAttachRealCredsLocked(t2) {
		k.mu.Unlock()
		return 0, unix.EPERM
	}
	var a, b any
	switch typ {
	case KcmpFile:
		ft1, ft2 := t1.fdTable, t2.fdTable
		k.mu.Unlock()
		if ft1 == nil || ft2 == nil || idx1 > 1<<31-1 || idx2 > 1<<31-1 {
			return 0, unix.EBADF
		}
		f1, _ := ft1.Get(int32(idx1))
		f2, _ := ft2.Get(int32(idx2))
		if f1 != nil {
			defer f1.DecRef(t.ctx)
		}
		if f2 != nil {
			defer f2.DecRef(t.ctx)
		}
		if f1 == nil || f2 == nil {
			return 0, unix.EBADF
		}
		return kcmpOrder(f1, f2), nil
	case KcmpVM:
		a, b = t1.mm, t2.mm
	case KcmpFiles:
		a, b = t1.fdTable, t2.fdTable
	case KcmpFS:
		a, b = t1.fs, t2.fs
	case KcmpSighand:
		a, b = t1.tg.handlers, t2.tg.handlers
	case KcmpIO:
		a, b = t1, t2
	case KcmpSysvsem:
		a, b = t1.tg, t2.tg
	case KcmpEpollTFD:
		k.mu.Unlock()
		return 0, unix.EOPNOTSUPP
	default:
		k.mu.Unlock()
		return 0, unix.EINVAL
	}
	k.mu.Unlock()
	return kcmpOrder(a, b), nil
}
