package mm

import "golang.org/x/sys/unix"

// DetachAt implements the address-space half of shmdt(2): it finds the
// first mapping at or after addr whose file match accepts and whose file
// offset equals its distance from addr (the segment's first page was
// attached at addr), then unmaps every mapping of that same file in
// [addr, addr+size) that also lines up with addr, size being what match
// returned rounded up to whole pages (as Linux's shmdt does: the last page
// of an odd-sized segment is unmapped whole, never split). EINVAL if no
// mapping matches.
func (mm *MemoryManager) DetachAt(addr uint64, match func(Mappable) (size uint64, ok bool)) error {
	if addr&pageMask != 0 {
		return unix.EINVAL
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	var file Mappable
	var end uint64
	type span struct{ start, end uint64 }
	var spans []span
	for i := mm.findVMALocked(addr); i < len(mm.vmas); i++ {
		v := mm.vmas[i]
		if v.start < addr || v.file == nil || v.private || v.start-addr != v.off {
			if file != nil && v.start >= end {
				break
			}
			continue
		}
		if file == nil {
			size, ok := match(v.file)
			if !ok {
				continue
			}
			file = v.file
			size, ok = PageRoundUp(size)
			end = addr + size
			if !ok || end < addr {
				end = mm.pl.MaxUserAddress()
			}
		}
		if v.start >= end {
			break
		}
		if v.file == file {
			spans = append(spans, span{v.start, min(v.end, end)})
		}
	}
	if file == nil {
		return unix.EINVAL
	}
	for _, s := range spans {
		if mm.sealedLocked(s.start, s.end) {
			// Linux's shmdt ignores the EPERM of a sealed mapping: the
			// call succeeds and the mapping stays.
			continue
		}
		if err := mm.removeLocked(s.start, s.end); err != nil {
			return err
		}
	}
	return nil
}

// MappingAt returns the file mapped at addr and the file offset addr
// maps; ok is false for anonymous memory or an unmapped address. (AIO
// uses it to find its ring wherever mremap moved it.)
func (mm *MemoryManager) MappingAt(addr uint64) (file Mappable, off uint64, ok bool) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	v := mm.vmaAtLocked(addr)
	if v == nil || v.file == nil {
		return nil, 0, false
	}
	return v.file, v.off + (addr - v.start), true
}
