package mm

import (
	"github.com/palisade-sandbox/palisade/sentry/memory"
)

// InvalidatingMappable is a SharedMappable whose pages can leave the file
// while they are mapped (truncation, hole punching: tmpfs). An address
// space registers with it when it first maps one of its pages and
// unregisters when it is released; the file then calls
// InvalidateMappings on every registered address space, so mappings never
// keep showing pages the file no longer has (Linux: unmap_mapping_range).
type InvalidatingMappable interface {
	SharedMappable
	// MappingID identifies the file: the same for every open description
	// of it, nil if the file does not track mappings.
	MappingID() any
	// AddMapper registers m; registering twice is harmless.
	AddMapper(m memory.Mapper)
	// RemoveMapper forgets m.
	RemoveMapper(m memory.Mapper)
}

var _ memory.Mapper = (*MemoryManager)(nil)

// registerMapperLocked registers mm with the file behind sm, once.
//
// Preconditions: mm.mu is held.
func (mm *MemoryManager) registerMapperLocked(sm SharedMappable) {
	im, ok := sm.(InvalidatingMappable)
	if !ok {
		return
	}
	id := im.MappingID()
	if id == nil {
		return
	}
	if _, ok := mm.mappedFiles[id]; ok {
		return
	}
	if mm.mappedFiles == nil {
		mm.mappedFiles = make(map[any]InvalidatingMappable)
	}
	mm.mappedFiles[id] = im
	im.AddMapper(mm)
}

// unregisterMappersLocked undoes every registerMapperLocked.
//
// Preconditions: mm.mu is held.
func (mm *MemoryManager) unregisterMappersLocked() {
	for _, im := range mm.mappedFiles {
		im.RemoveMapper(mm)
	}
	mm.mappedFiles = nil
}

// InvalidateMappings implements memory.Mapper: it drops mm's shared
// mappings of bytes [start, end) of the file id (whole pages; start is
// rounded down and end up). The guest faults the pages in again from the
// file (SIGBUS past its end). The host mappings go at once when the
// caller runs mm, otherwise before mm's threads next run guest code; the
// pages are freed only then.
func (mm *MemoryManager) InvalidateMappings(id any, start, end uint64) {
	start = PageRoundDown(start)
	if e, ok := PageRoundUp(end); ok {
		end = e
	} else {
		end = ^uint64(0) &^ pageMask
	}
	if start >= end {
		return
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if mm.users.Load() == 0 {
		return
	}
	for _, v := range mm.vmas {
		if v.private || v.file == nil {
			continue
		}
		im, ok := v.file.(InvalidatingMappable)
		if !ok || im.MappingID() != id {
			continue
		}
		// The part of v that maps file bytes [start, end).
		vEndOff := v.off + (v.end - v.start)
		lo, hi := max(start, v.off), min(end, vEndOff)
		if lo >= hi {
			continue
		}
		mm.dropPMAsLocked(v.start+(lo-v.off), v.start+(hi-v.off))
	}
}

// dropPMAsLocked removes the PMAs in [start, end) (page aligned), leaving
// the VMAs, and unmaps them from the host, asynchronously if the caller
// does not run mm.
//
// Preconditions: mm.mu is held.
func (mm *MemoryManager) dropPMAsLocked(start, end uint64) {
	mm.splitPMAsLocked(start)
	mm.splitPMAsLocked(end)
	i := mm.findPMALocked(start)
	j := i
	for j < len(mm.pmas) && mm.pmas[j].start < end {
		j++
	}
	if i == j {
		return
	}
	ranges := make([]memory.Range, 0, j-i)
	for _, p := range mm.pmas[i:j] {
		ranges = append(ranges, p.fileRange())
	}
	mm.pmas = append(mm.pmas[:i], mm.pmas[j:]...)
	mf := mm.mf
	// On error the host mapping may remain: keep the pages (a leak, not
	// a reuse of memory the guest can still reach).
	_ = mm.as.UnmapAsync(start, end-start, func() {
		for _, r := range ranges {
			mf.DecRef(r)
		}
	})
}
