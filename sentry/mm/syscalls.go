package mm

import (
	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"golang.org/x/sys/unix"
)

// MMapOpts describes a new mapping.
type MMapOpts struct {
	// Addr is the requested address (a hint unless Fixed); Length is in
	// bytes, rounded up to pages.
	Addr, Length uint64
	// Fixed places the mapping exactly at Addr, replacing what is there;
	// with NoReplace it fails with EEXIST instead of replacing.
	Fixed, NoReplace bool
	// Private selects MAP_PRIVATE (copy-on-write) over MAP_SHARED.
	Private bool
	// Perms are the initial permissions; MaxPerms bound later mprotect.
	Perms, MaxPerms platform.Access
	// File is the mapped file, or nil for anonymous memory. Offset is
	// the page-aligned file offset of the first page.
	File   Mappable
	Offset uint64
	// GrowsDown marks a stack that extends on faults below it.
	GrowsDown bool
	// Name overrides the name shown in /proc/PID/maps.
	Name string
	// Locked locks the mapping (MAP_LOCKED); mlockall(MCL_FUTURE)
	// locks every new one anyway.
	Locked bool
}

// MMap creates a mapping and returns its address.
func (mm *MemoryManager) MMap(opts MMapOpts) (uint64, error) {
	length, ok := PageRoundUp(opts.Length)
	if !ok || length == 0 || length > mm.pl.MaxUserAddress()-mm.pl.MinUserAddress() {
		return 0, unix.ENOMEM
	}
	if opts.Offset&pageMask != 0 || opts.Offset+length < opts.Offset {
		return 0, unix.EINVAL
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if len(mm.vmas) > maxMapCount {
		return 0, unix.ENOMEM
	}
	addr := PageRoundDown(opts.Addr)
	if opts.Fixed {
		if opts.Addr&pageMask != 0 {
			return 0, unix.EINVAL
		}
		if addr < mm.pl.MinUserAddress() || addr+length > mm.pl.MaxUserAddress() || addr+length < addr {
			return 0, unix.ENOMEM
		}
		if opts.NoReplace {
			i := mm.findVMALocked(addr)
			if i < len(mm.vmas) && mm.vmas[i].start < addr+length {
				return 0, unix.EEXIST
			}
		} else if mm.sealedLocked(addr, addr+length) {
			return 0, unix.EPERM
		} else if err := mm.removeLocked(addr, addr+length); err != nil {
			return 0, err
		}
	} else {
		var err error
		if addr, err = mm.findGapLocked(addr, length); err != nil {
			return 0, err
		}
	}
	v := &vma{
		start: addr, end: addr + length,
		perms: opts.Perms, maxPerms: opts.MaxPerms,
		private: opts.Private, growsDown: opts.GrowsDown,
		file: opts.File, off: opts.Offset, name: opts.Name,
		locked: mm.lockFuture || opts.Locked,
	}
	if v.file == nil && !v.private {
		// Shared anonymous memory is an object of its own, so that
		// fork shares it.
		// Its one reference is v's.
		obj, err := newSharedAnon(mm.mf, length)
		if err != nil {
			return 0, err
		}
		v.file = obj
	} else if v.file != nil {
		v.file.IncRef()
	}
	mm.insertVMALocked(v)
	mm.mergeLocked(v.start, v.end)
	return addr, nil
}

// findGapLocked returns an address for a mapping of length bytes: hint if
// the range is free, else the highest free range below mmapBase, else the
// lowest free range above it.
func (mm *MemoryManager) findGapLocked(hint, length uint64) (uint64, error) {
	lo, hi := mm.pl.MinUserAddress(), mm.pl.MaxUserAddress()
	free := func(a uint64) bool {
		if a < lo || a+length > hi || a+length < a {
			return false
		}
		i := mm.findVMALocked(a)
		return i == len(mm.vmas) || mm.vmas[i].start >= a+length
	}
	if hint != 0 && free(hint) {
		return hint, nil
	}
	base := mm.mmapBase
	if base == 0 || base > hi {
		base = hi
	}
	// Top-down from base: walk the gaps between VMAs, highest first.
	top := base
	for i := mm.findVMALocked(base); i >= 0; i-- {
		gapEnd := top
		gapStart := lo
		if i > 0 {
			gapStart = max(mm.vmas[i-1].end, lo)
		}
		if i < len(mm.vmas) && mm.vmas[i].start < gapEnd {
			gapEnd = mm.vmas[i].start
		}
		if gapEnd >= gapStart+length && gapEnd > gapStart {
			return gapEnd - length, nil
		}
		if i > 0 {
			top = mm.vmas[i-1].start
		}
	}
	// Bottom-up above base.
	for a := base; ; {
		if free(a) {
			return a, nil
		}
		i := mm.findVMALocked(a)
		if i == len(mm.vmas) {
			return 0, unix.ENOMEM
		}
		a = mm.vmas[i].end
	}
}

// Munmap removes mappings in [addr, addr+length).
func (mm *MemoryManager) Munmap(addr, length uint64) error {
	if addr&pageMask != 0 || length == 0 {
		return unix.EINVAL
	}
	length, ok := PageRoundUp(length)
	if !ok || addr+length < addr || addr+length > mm.pl.MaxUserAddress() {
		return unix.EINVAL
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if mm.sealedLocked(addr, addr+length) {
		return unix.EPERM
	}
	return mm.removeLocked(addr, addr+length)
}

// Mprotect changes the permissions of [addr, addr+length).
func (mm *MemoryManager) Mprotect(addr, length uint64, perms platform.Access, growsDown bool) error {
	if addr&pageMask != 0 {
		return unix.EINVAL
	}
	length, ok := PageRoundUp(length)
	if !ok || addr+length < addr {
		return unix.ENOMEM
	}
	if length == 0 {
		return nil
	}
	end := addr + length
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if growsDown {
		if v := mm.vmaAtLocked(addr); v != nil && v.growsDown {
			addr = v.start
		}
	}
	// Every page must be mapped, and the new permissions allowed.
	for cur := addr; cur < end; {
		v := mm.vmaAtLocked(cur)
		if v == nil {
			return unix.ENOMEM
		}
		if (perms.Read && !v.maxPerms.Read) || (perms.Write && !v.maxPerms.Write) || (perms.Execute && !v.maxPerms.Execute) {
			return unix.EACCES
		}
		cur = v.end
	}
	if mm.sealedLocked(addr, end) {
		return unix.EPERM
	}
	if len(mm.vmas)+mm.splitsLocked(addr)+mm.splitsLocked(end) > maxMapCount {
		return unix.ENOMEM
	}
	mm.splitVMAsLocked(addr)
	mm.splitVMAsLocked(end)
	mm.splitPMAsLocked(addr)
	mm.splitPMAsLocked(end)
	for i := mm.findVMALocked(addr); i < len(mm.vmas) && mm.vmas[i].start < end; i++ {
		mm.vmas[i].perms = perms
	}
	mm.mergeLocked(addr, end)
	for i := mm.findPMALocked(addr); i < len(mm.pmas) && mm.pmas[i].start < end; i++ {
		p := mm.pmas[i]
		if err := mm.as.Protect(p.start, p.end-p.start, effective(perms, p)); err != nil {
			return err
		}
	}
	return nil
}

// SetBrkStart sets the start (and current end) of the heap; the loader
// calls it after placing the program.
func (mm *MemoryManager) SetBrkStart(addr uint64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.brkStart, mm.brk = addr, addr
}

// Brk implements brk(2): it moves the end of the heap to addr if possible
// and returns the (new or unchanged) end.
func (mm *MemoryManager) Brk(addr uint64) uint64 {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	const maxHeap = 1 << 40
	if addr < mm.brkStart || addr > mm.brkStart+maxHeap {
		return mm.brk
	}
	oldEnd, _ := PageRoundUp(mm.brk)
	newEnd, _ := PageRoundUp(addr)
	switch {
	case newEnd > oldEnd:
		i := mm.findVMALocked(oldEnd)
		if (i < len(mm.vmas) && mm.vmas[i].start < newEnd) || newEnd > mm.pl.MaxUserAddress() {
			return mm.brk
		}
		if len(mm.vmas) > maxMapCount {
			return mm.brk
		}
		rw := platform.ReadWrite
		mm.insertVMALocked(&vma{start: oldEnd, end: newEnd, perms: rw, maxPerms: platform.AnyAccess, private: true, name: "[heap]"})
		mm.mergeLocked(oldEnd, newEnd)
	case newEnd < oldEnd:
		if mm.sealedLocked(newEnd, oldEnd) {
			return mm.brk
		}
		if err := mm.removeLocked(newEnd, oldEnd); err != nil {
			return mm.brk
		}
	}
	mm.brk = addr
	return addr
}

// Mremap implements mremap(2) for mappings that lie within one VMA.
func (mm *MemoryManager) Mremap(old, oldLen, newLen uint64, mayMove, fixed bool, newAddr uint64) (uint64, error) {
	if old&pageMask != 0 || (fixed && (!mayMove || newAddr&pageMask != 0)) {
		return 0, unix.EINVAL
	}
	oldLen, ok1 := PageRoundUp(oldLen)
	newLen, ok2 := PageRoundUp(newLen)
	if !ok1 || !ok2 || newLen == 0 {
		return 0, unix.EINVAL
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	v := mm.vmaAtLocked(old)
	if v == nil || (oldLen != 0 && old+oldLen > v.end) {
		return 0, unix.EFAULT
	}
	if oldLen == 0 {
		// Linux duplicates shared mappings when oldLen is 0; not for
		// private ones.
		return 0, unix.EINVAL
	}
	if v.sealed {
		return 0, unix.EPERM
	}
	if !fixed {
		if newLen <= oldLen {
			if err := mm.removeLocked(old+newLen, old+oldLen); err != nil {
				return 0, err
			}
			return old, nil
		}
		// Grow in place if the range after it is free.
		if old+oldLen == v.end {
			i := mm.findVMALocked(v.end)
			if (i == len(mm.vmas) || mm.vmas[i].start >= old+newLen) && old+newLen <= mm.pl.MaxUserAddress() {
				v.end = old + newLen
				mm.mergeLocked(v.start, v.end)
				return old, nil
			}
		}
		if !mayMove || len(mm.vmas) >= maxMapCount-3 {
			return 0, unix.ENOMEM
		}
		var err error
		if newAddr, err = mm.findGapLocked(0, newLen); err != nil {
			return 0, err
		}
	} else {
		if newAddr < mm.pl.MinUserAddress() || newAddr+newLen > mm.pl.MaxUserAddress() || newAddr+newLen < newAddr {
			return 0, unix.EINVAL
		}
		if len(mm.vmas) >= maxMapCount-3 {
			// Moving may split the source and the target: Linux
			// keeps this much room.
			return 0, unix.ENOMEM
		}
		if newAddr < old+oldLen && old < newAddr+newLen {
			return 0, unix.EINVAL
		}
		if mm.sealedLocked(newAddr, newAddr+newLen) {
			return 0, unix.EPERM
		}
		if err := mm.removeLocked(newAddr, newAddr+newLen); err != nil {
			return 0, err
		}
	}
	return newAddr, mm.moveLocked(old, oldLen, newAddr, newLen)
}

// moveLocked moves [old, old+oldLen), part of one VMA, to newAddr with size
// newLen, keeping its pages.
func (mm *MemoryManager) moveLocked(old, oldLen, newAddr, newLen uint64) error {
	mm.splitVMAsLocked(old)
	mm.splitVMAsLocked(old + oldLen)
	mm.splitPMAsLocked(old)
	mm.splitPMAsLocked(old + oldLen)
	vi := mm.findVMALocked(old)
	v := mm.vmas[vi]
	mm.vmas = append(mm.vmas[:vi], mm.vmas[vi+1:]...)
	keep := min(oldLen, newLen)
	var moved []*pma
	i := mm.findPMALocked(old)
	j := i
	for ; j < len(mm.pmas) && mm.pmas[j].start < old+oldLen; j++ {
		p := mm.pmas[j]
		if p.start >= old+keep {
			mm.mf.DecRef(p.fileRange())
			continue
		}
		if p.end > old+keep {
			mm.mf.DecRef(memory.Range{Start: p.off + (old + keep - p.start), End: p.off + (p.end - p.start)})
			p.end = old + keep
		}
		moved = append(moved, p)
	}
	mm.pmas = append(mm.pmas[:i], mm.pmas[j:]...)
	if j > i {
		if err := mm.as.Unmap(old, oldLen); err != nil {
			return err
		}
	}
	v.start, v.end = newAddr, newAddr+newLen
	mm.insertVMALocked(v)
	mm.mergeLocked(v.start, v.end)
	for _, p := range moved {
		p.start, p.end = p.start-old+newAddr, p.end-old+newAddr
		if err := mm.insertPMALocked(p, v.perms); err != nil {
			return err
		}
	}
	return nil
}

// Madvise implements the advice that changes memory contents
// (MADV_DONTNEED, MADV_FREE); other advice is accepted as a hint.
func (mm *MemoryManager) Madvise(addr, length uint64, advice int) error {
	if addr&pageMask != 0 {
		return unix.EINVAL
	}
	length, ok := PageRoundUp(length)
	if !ok || addr+length < addr {
		return unix.EINVAL
	}
	switch advice {
	case unix.MADV_DONTNEED, unix.MADV_FREE:
	case unix.MADV_DONTFORK:
		// A discard for mseal: the child would see zeroes.
		if err := mm.checkMapped(addr, length); err != nil {
			return err
		}
		mm.mu.Lock()
		defer mm.mu.Unlock()
		if mm.discardSealedLocked(addr, addr+length) {
			return unix.EPERM
		}
		return nil
	case unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE, unix.MADV_DOFORK,
		unix.MADV_MERGEABLE, unix.MADV_UNMERGEABLE, unix.MADV_DONTDUMP, unix.MADV_DODUMP, unix.MADV_COLD, unix.MADV_PAGEOUT:
		return mm.checkMapped(addr, length)
	default:
		return unix.EINVAL
	}
	end := addr + length
	mm.mu.Lock()
	defer mm.mu.Unlock()
	for cur := addr; cur < end; {
		v := mm.vmaAtLocked(cur)
		if v == nil {
			return unix.ENOMEM
		}
		cur = v.end
	}
	if mm.discardSealedLocked(addr, end) {
		return unix.EPERM
	}
	// Dropping private pages makes them read back as zero (anonymous) or
	// as the file's contents; shared pages keep their data.
	mm.splitPMAsLocked(addr)
	mm.splitPMAsLocked(end)
	i := mm.findPMALocked(addr)
	kept := mm.pmas[:i]
	var dropped []*pma
	for _, p := range mm.pmas[i:] {
		if p.start < end {
			if v := mm.vmaAtLocked(p.start); v != nil && v.private {
				dropped = append(dropped, p)
				continue
			}
		}
		kept = append(kept, p)
	}
	mm.pmas = kept
	for _, p := range dropped {
		if err := mm.as.Unmap(p.start, p.end-p.start); err != nil {
			return err
		}
		mm.mf.DecRef(p.fileRange())
	}
	return nil
}

// checkMapped returns ENOMEM if any page of the range is unmapped.
func (mm *MemoryManager) checkMapped(addr, length uint64) error {
	_, err := mm.CheckMapped(addr, length)
	return err
}

// CheckMapped returns ENOMEM if any page of [addr, addr+length) is
// unmapped (or the range wraps); otherwise inaccessible says whether part
// of it is mapped PROT_NONE. It walks VMAs, not pages, so its cost does not
// grow with the length (msync, mlock and munlock take any length).
func (mm *MemoryManager) CheckMapped(addr, length uint64) (inaccessible bool, err error) {
	end := addr + length
	if end < addr {
		return false, unix.ENOMEM
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	for cur := addr; cur < end; {
		v := mm.vmaAtLocked(cur)
		if v == nil {
			return false, unix.ENOMEM
		}
		if !v.perms.Read && !v.perms.Write && !v.perms.Execute {
			inaccessible = true
		}
		cur = v.end
	}
	return inaccessible, nil
}

// Mincore reports, one byte a page, whether the pages starting at the
// page-aligned addr are resident (backed): it fills vec for at most
// len(vec) pages, never past the end of the VMA containing addr, and
// returns how many it filled; ENOMEM if addr is unmapped. Callers loop
// over a fixed-size vec, as Linux's mincore does, so neither memory nor
// time spent under the lock grows with the guest's length.
func (mm *MemoryManager) Mincore(addr uint64, vec []byte) (int, error) {
	if addr&pageMask != 0 {
		return 0, unix.EINVAL
	}
	if len(vec) == 0 {
		return 0, nil
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	v := mm.vmaAtLocked(addr)
	if v == nil {
		return 0, unix.ENOMEM
	}
	n := uint64(len(vec))
	if avail := (v.end - addr) / pageSize; n > avail {
		n = avail
	}
	end := addr + n*pageSize
	clear(vec[:n])
	for i := mm.findPMALocked(addr); i < len(mm.pmas) && mm.pmas[i].start < end; i++ {
		p := mm.pmas[i]
		for a := max(p.start, addr); a < min(p.end, end); a += pageSize {
			vec[(a-addr)/pageSize] = 1
		}
	}
	return int(n), nil
}

// Fork returns a copy of mm for a child process: shared mappings are
// shared, private ones become copy-on-write in both.
func (mm *MemoryManager) Fork() (*MemoryManager, error) {
	child, err := New(mm.mf, mm.pl)
	if err != nil {
		return nil, err
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	child.brkStart, child.brk, child.mmapBase, child.layout = mm.brkStart, mm.brk, mm.mmapBase, mm.layout
	child.membarrier.Store(mm.membarrier.Load())
	for _, im := range mm.mappedFiles {
		child.registerMapperLocked(im)
	}
	for _, v := range mm.vmas {
		nv := *v
		// Locks are not inherited (Linux: dup_mmap clears VM_LOCKED).
		nv.locked = false
		if nv.file != nil {
			nv.file.IncRef()
		}
		child.vmas = append(child.vmas, &nv)
	}
	// Host mapping changes are one injected system call each: adjacent
	// PMAs that need the same change are merged into one call (a process
	// with many small mappings forked slowly otherwise). Nothing runs in
	// either address space until Fork returns.
	var prot, mapping forkRun
	protect := func(r forkRun) error { return mm.as.Protect(r.start, r.end-r.start, r.at) }
	mapFile := func(r forkRun) error { return child.as.MapFile(r.start, r.off, r.end-r.start, r.at) }
	vi := 0
	for _, p := range mm.pmas {
		for mm.vmas[vi].end <= p.start {
			vi++
		}
		v := mm.vmas[vi]
		if v.private && !p.cow {
			p.cow = true
			if v.perms.Write {
				if err := prot.add(p.start, p.end, 0, effective(v.perms, p), false, protect); err != nil {
					child.DecUsers()
					return nil, err
				}
			}
		}
		np := *p
		mm.mf.IncRef(p.fileRange())
		child.pmas = append(child.pmas, &np)
		if err := mapping.add(np.start, np.end, np.off, effective(v.perms, &np), true, mapFile); err != nil {
			child.DecUsers()
			return nil, err
		}
	}
	if err := prot.flush(protect); err != nil {
		child.DecUsers()
		return nil, err
	}
	if err := mapping.flush(mapFile); err != nil {
		child.DecUsers()
		return nil, err
	}
	return child, nil
}

// forkRun accumulates adjacent PMAs that take the same host mapping
// change during Fork.
type forkRun struct {
	start, end, off uint64
	at              platform.Access
	ok              bool
}

// add extends r with [start, end) (at memory-file offset off, which must
// continue r's too when withOff) if that range continues r with the same
// access; otherwise it applies r with apply and starts again from it.
func (r *forkRun) add(start, end, off uint64, at platform.Access, withOff bool, apply func(forkRun) error) error {
	if r.ok && r.end == start && r.at == at && (!withOff || r.off+(r.end-r.start) == off) {
		r.end = end
		return nil
	}
	if err := r.flush(apply); err != nil {
		return err
	}
	*r = forkRun{start: start, end: end, off: off, at: at, ok: true}
	return nil
}

// flush applies the run, if any, and empties it.
func (r *forkRun) flush(apply func(forkRun) error) error {
	if !r.ok {
		return nil
	}
	run := *r
	r.ok = false
	return apply(run)
}

// FutexKey returns what identifies the futex word at addr across address
// spaces: for a shared mapping the memory-file offset of the word (shared
// is true), otherwise the address itself (meaningful only within mm).
func (mm *MemoryManager) FutexKey(addr uint64) (key uint64, shared bool, err error) {
	if addr&3 != 0 {
		return 0, false, unix.EINVAL
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	v := mm.vmaAtLocked(addr)
	if v == nil {
		return 0, false, unix.EFAULT
	}
	if v.private {
		return addr, false, nil
	}
	p := mm.pmaAtLocked(addr)
	if p == nil {
		if err := mm.populateLocked(v, PageRoundDown(addr), PageRoundDown(addr)+pageSize); err != nil {
			return 0, false, unix.EFAULT
		}
		p = mm.pmaAtLocked(addr)
	}
	return p.off + (addr - p.start), true, nil
}

// VirtualSize returns the total size of all mappings (VmSize).
func (mm *MemoryManager) VirtualSize() uint64 {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	var n uint64
	for _, v := range mm.vmas {
		n += v.end - v.start
	}
	return n
}

// ResidentSize returns how much of the address space is backed by host
// memory (VmRSS). Pages shared with other address spaces count in each.
func (mm *MemoryManager) ResidentSize() uint64 {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	var n uint64
	for _, p := range mm.pmas {
		n += mm.mf.Resident(p.fileRange())
	}
	return n
}
