package mm

import "golang.org/x/sys/unix"

// Locking (mlock, mlockall) is accounting only: the memory file's pages
// are never swapped, so a lock changes no page. What is kept is which
// VMAs are locked (VM_LOCKED), so that RLIMIT_MEMLOCK counts every
// locked page once across calls, and /proc shows VmLck.

// lockedLocked returns the bytes of locked VMAs in [start, end).
//
// Preconditions: mm.mu is held.
func (mm *MemoryManager) lockedLocked(start, end uint64) uint64 {
	var n uint64
	for i := mm.findVMALocked(start); i < len(mm.vmas) && mm.vmas[i].start < end; i++ {
		if v := mm.vmas[i]; v.locked {
			n += min(v.end, end) - max(v.start, start)
		}
	}
	return n
}

// LockedBytes returns the size of the locked mappings (VmLck).
func (mm *MemoryManager) LockedBytes() uint64 {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.lockedLocked(0, ^uint64(0))
}

// Mlock locks (lock) or unlocks the page-aligned range [start,
// start+length), as Linux's mlock and munlock: ENOMEM if locking would
// take the locked total past limit bytes (unless unlimited), then ENOMEM
// if any page of the range is unmapped, or if splitting would exceed the
// map count. It returns whether part of the range is PROT_NONE (which
// mlock without MLOCK_ONFAULT cannot populate).
func (mm *MemoryManager) Mlock(start, length uint64, lock, unlimited bool, limit uint64) (inaccessible bool, err error) {
	end := start + length
	if end < start {
		return false, unix.EINVAL
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if lock && !unlimited {
		// Pages already locked in the range count once.
		total := mm.lockedLocked(0, ^uint64(0)) + length - mm.lockedLocked(start, end)
		if total/pageSize > limit/pageSize {
			return false, unix.ENOMEM
		}
	}
	if length == 0 {
		return false, nil
	}
	for cur := start; cur < end; {
		v := mm.vmaAtLocked(cur)
		if v == nil {
			return false, unix.ENOMEM
		}
		if !v.perms.Read && !v.perms.Write && !v.perms.Execute {
			inaccessible = true
		}
		cur = v.end
	}
	if len(mm.vmas)+mm.splitsLocked(start)+mm.splitsLocked(end) > maxMapCount {
		return false, unix.ENOMEM
	}
	mm.splitVMAsLocked(start)
	mm.splitVMAsLocked(end)
	for i := mm.findVMALocked(start); i < len(mm.vmas) && mm.vmas[i].start < end; i++ {
		mm.vmas[i].locked = lock
	}
	mm.mergeLocked(start, end)
	return inaccessible, nil
}

// MlockAll implements mlockall (lock) and munlockall: current locks or
// unlocks every mapping, future sets whether new ones are locked. The
// caller has checked the limit.
func (mm *MemoryManager) MlockAll(lock, current, future bool) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if current || !lock {
		for _, v := range mm.vmas {
			v.locked = lock
		}
		mm.mergeLocked(0, ^uint64(0))
	}
	if future || !lock {
		mm.lockFuture = lock && future
	}
}

// LockFuture reports whether mlockall(MCL_FUTURE) is in effect.
func (mm *MemoryManager) LockFuture() bool {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.lockFuture
}
