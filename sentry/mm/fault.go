package mm

import (
	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"golang.org/x/sys/unix"
)

// FaultError says why a fault cannot be resolved: the guest gets SIGSEGV
// with Code (SEGV_MAPERR or SEGV_ACCERR).
type FaultError struct {
	Code int32
	// Bus is set when the fault is past the end of a mapped file:
	// SIGBUS (BUS_ADRERR) rather than SIGSEGV.
	Bus bool
}

func (e *FaultError) Error() string {
	if e.Bus {
		return "fault beyond the end of a mapped file"
	}
	if e.Code == segvMapErr {
		return "fault on unmapped address"
	}
	return "fault on forbidden access"
}

const (
	segvMapErr = 1 // SEGV_MAPERR
	segvAccErr = 2 // SEGV_ACCERR
	busAdrErr  = 2 // BUS_ADRERR
)

// HandleFault resolves a guest page fault at addr reported by the platform.
// A nil return means the guest may retry the access; a *FaultError means
// it must receive SIGSEGV. repeated says the same thread faulted on the
// same page just before and the retry faulted again: with the page
// present, that is a real access violation (the platform can't tell
// reads, writes and instruction fetches apart).
func (mm *MemoryManager) HandleFault(addr uint64, repeated bool) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	v := mm.vmaAtLocked(addr)
	if v == nil {
		v = mm.growStackLocked(addr)
		if v == nil {
			return &FaultError{Code: segvMapErr}
		}
	}
	if !v.perms.Read && !v.perms.Write && !v.perms.Execute {
		return &FaultError{Code: segvAccErr}
	}
	page := PageRoundDown(addr)
	if p := mm.pmaAtLocked(page); p != nil {
		// The page should be mapped with the VMA's permissions already,
		// so the access was a write to a copy-on-write page, or one the
		// permissions don't allow, or the host mapping was deferred
		// (made from a thread that doesn't run this address space).
		if p.cow && v.perms.Write {
			return mm.breakCOWLocked(v, page)
		}
		if !repeated {
			// Another thread may have faulted the page in while this
			// one was stopped, or the host mapping was deferred: map
			// it (again) and let the guest retry once.
			return mm.as.MapFile(p.start, p.off, p.end-p.start, effective(v.perms, p))
		}
		return &FaultError{Code: segvAccErr}
	}
	return mm.populateLocked(v, page, page+pageSize)
}

// growStackLocked extends a grows-down VMA (the main stack) to cover addr,
// as Linux does for accesses just below it, and returns it; nil if addr is
// not in such a VMA's reach.
func (mm *MemoryManager) growStackLocked(addr uint64) *vma {
	maxStack := mm.stackLimit
	if maxStack == 0 {
		maxStack = 8 << 20
	}
	i := mm.findVMALocked(addr)
	if i == len(mm.vmas) || !mm.vmas[i].growsDown {
		return nil
	}
	v := mm.vmas[i]
	page := PageRoundDown(addr)
	if v.end-page > maxStack || page < mm.pl.MinUserAddress() {
		return nil
	}
	if i > 0 && mm.vmas[i-1].end > page-pageSize {
		// Keep a guard page between the stack and the mapping below.
		return nil
	}
	v.start = page
	return v
}

// window returns the aligned window of size around page, clipped to v and
// to the PMAs already present.
func (mm *MemoryManager) windowLocked(v *vma, start, end, size uint64) (uint64, uint64) {
	ws := start &^ (size - 1)
	we := (end + size - 1) &^ (size - 1)
	if ws < v.start {
		ws = v.start
	}
	if we > v.end || we < ws {
		we = v.end
	}
	// Don't overlap existing PMAs.
	i := mm.findPMALocked(ws)
	for ; i < len(mm.pmas) && mm.pmas[i].start < we; i++ {
		p := mm.pmas[i]
		if p.end <= start {
			ws = p.end
			continue
		}
		if p.start >= end {
			we = p.start
			break
		}
	}
	return ws, we
}

// populateLocked creates PMAs for the unbacked pages of [start, end) (at
// least; a window around it may be populated too), inside v.
func (mm *MemoryManager) populateLocked(v *vma, start, end uint64) error {
	for start < end {
		if p := mm.pmaAtLocked(start); p != nil {
			start = p.end
			continue
		}
		winSize := uint64(anonFaultWindow)
		if v.file != nil {
			winSize = fileFaultWindow
		}
		ws, we := mm.windowLocked(v, start, start+pageSize, winSize)
		if !v.private {
			// Translate may return fewer pages than asked (tmpfs: one),
			// always from the start: begin at the faulting page, not
			// before it, or the page itself would never be reached.
			ws = start
		}
		p, err := mm.backLocked(v, ws, we)
		if err != nil {
			return err
		}
		if p.end <= start {
			// The page lies wholly beyond the end of the file.
			mm.mf.DecRef(p.fileRange())
			return &FaultError{Code: busAdrErr, Bus: true}
		}
		if err := mm.insertPMALocked(p, v.perms); err != nil {
			return err
		}
		start = we
	}
	return nil
}

// backLocked allocates the pages backing [start, end) of v.
func (mm *MemoryManager) backLocked(v *vma, start, end uint64) (*pma, error) {
	if !v.private {
		sm, ok := v.file.(SharedMappable)
		if !ok {
			return nil, unix.ENODEV
		}
		mm.registerMapperLocked(sm)
		r, err := sm.Translate(v.off+(start-v.start), end-start)
		if err == errEOF {
			return nil, &FaultError{Code: busAdrErr, Bus: true}
		}
		if err != nil {
			return nil, err
		}
		if r.Length() < end-start {
			end = start + r.Length()
		}
		return &pma{start: start, end: end, off: r.Start}, nil
	}
	r, err := mm.mf.Allocate(end - start)
	if err != nil {
		return nil, err
	}
	if v.file != nil {
		n, err := v.file.ReadAt(mm.mf.Bytes(r), int64(v.off+(start-v.start)))
		if err != nil && err != errEOF {
			mm.mf.DecRef(r)
			return nil, err
		}
		if valid, _ := PageRoundUp(uint64(n)); valid < r.Length() {
			// Only pages holding file data (the last one zero-filled
			// past the end) are mapped; touching the rest is SIGBUS.
			mm.mf.DecRef(memory.Range{Start: r.Start + valid, End: r.End})
			end = start + valid
		}
	}
	return &pma{start: start, end: end, off: r.Start}, nil
}

// breakCOWLocked gives v a private copy of the copy-on-write pages around
// page.
func (mm *MemoryManager) breakCOWLocked(v *vma, page uint64) error {
	p := mm.pmaAtLocked(page)
	if mm.mf.Exclusive(p.fileRange()) {
		// Everyone else has let go: write in place.
		p.cow = false
		err := mm.as.Protect(p.start, p.end-p.start, v.perms)
		if err == platform.ErrForeignThread {
			// A write from outside (process_vm_writev): the guest's
			// next write faults and HandleFault maps it writable.
			return nil
		}
		return err
	}
	ws := page &^ (cowWindow - 1)
	we := ws + cowWindow
	if ws < p.start {
		ws = p.start
	}
	if we > p.end {
		we = p.end
	}
	mm.splitPMAsLocked(ws)
	mm.splitPMAsLocked(we)
	p = mm.pmaAtLocked(page)
	old := p.fileRange()
	r, err := mm.mf.Allocate(old.Length())
	if err != nil {
		return err
	}
	copy(mm.mf.Bytes(r), mm.mf.Bytes(old))
	p.off = r.Start
	p.cow = false
	// The old pages may be freed only once no guest thread can reach
	// them through the host mapping being replaced.
	err = mm.as.MapFile(p.start, p.off, p.end-p.start, v.perms)
	if err == platform.ErrForeignThread {
		// A write from outside (process_vm_writev): the host mapping
		// can only change from the address space's own threads. Unmap
		// it before they next run guest code, so they refault onto the
		// copy, and free the old pages then.
		mf := mm.mf
		return mm.as.UnmapAsync(p.start, p.end-p.start, func() { mf.DecRef(old) })
	}
	mm.mf.DecRef(old)
	return err
}

// perms returns the VMA permissions needed for an access kind.
func needs(write bool) func(platform.Access) bool {
	if write {
		return func(a platform.Access) bool { return a.Write }
	}
	return func(a platform.Access) bool { return a.Read }
}
