package mm

import "golang.org/x/sys/unix"

// Mseal implements mseal(2): it seals every mapping in [addr,
// addr+length) (length rounded up to pages), so that they can no longer
// be unmapped, moved, resized, re-protected or mapped over, and private
// anonymous read-only pages no longer discarded (see sealedLocked and
// discardSealedLocked). Every page must be mapped (ENOMEM otherwise,
// sealing nothing). The seal is kept by fork and cannot be removed.
func (mm *MemoryManager) Mseal(addr, length uint64) error {
	if addr&pageMask != 0 {
		return unix.EINVAL
	}
	rounded, ok := PageRoundUp(length)
	if !ok || addr+rounded < addr {
		return unix.EINVAL
	}
	if rounded == 0 {
		return nil
	}
	end := addr + rounded
	mm.mu.Lock()
	defer mm.mu.Unlock()
	for cur := addr; cur < end; {
		v := mm.vmaAtLocked(cur)
		if v == nil {
			return unix.ENOMEM
		}
		cur = v.end
	}
	if len(mm.vmas)+mm.splitsLocked(addr)+mm.splitsLocked(end) > maxMapCount {
		return unix.ENOMEM
	}
	mm.splitVMAsLocked(addr)
	mm.splitVMAsLocked(end)
	for i := mm.findVMALocked(addr); i < len(mm.vmas) && mm.vmas[i].start < end; i++ {
		mm.vmas[i].sealed = true
	}
	mm.mergeLocked(addr, end)
	return nil
}

// sealedLocked reports whether any mapping in [start, end) is sealed:
// munmap, mremap, mprotect and mmap(MAP_FIXED) then fail with EPERM
// before changing anything (Linux checks every VMA of the range first).
func (mm *MemoryManager) sealedLocked(start, end uint64) bool {
	for i := mm.findVMALocked(start); i < len(mm.vmas) && mm.vmas[i].start < end; i++ {
		if mm.vmas[i].sealed {
			return true
		}
	}
	return false
}

// discardSealedLocked reports whether discarding the pages of [start,
// end) (MADV_DONTNEED, MADV_FREE, MADV_DONTFORK) touches a sealed private
// anonymous mapping that is not writable: its contents would change in a
// way the owner could not have made itself. File and shared mappings may
// be discarded (Linux's can_madvise_modify).
func (mm *MemoryManager) discardSealedLocked(start, end uint64) bool {
	for i := mm.findVMALocked(start); i < len(mm.vmas) && mm.vmas[i].start < end; i++ {
		v := mm.vmas[i]
		if v.sealed && v.private && v.file == nil && !v.perms.Write {
			return true
		}
	}
	return false
}
