// Package mm implements a task's address space: its VMAs (what the guest
// asked to map, with which permissions, backed by what), its PMAs (which
// pages of the memory file currently back which guest pages), page faults,
// the mmap family of system calls, and copying to and from guest memory.
//
// A VMA is created by mmap, brk or the loader; no memory is committed then.
// The first touch, by the guest (a fault reported by the platform) or by the
// Sentry (CopyIn/CopyOut), creates a PMA: fresh zeroed pages for anonymous
// memory, a private copy of file contents for private file mappings, or the
// object's own pages for shared mappings. Each PMA holds one reference on
// its memory-file range and is mirrored into the platform address space.
//
// Copy-on-write: Fork gives the child the same PMAs with a reference of its
// own and marks private PMAs copy-on-write in both address spaces (mapped
// without write access). A write fault on such a page copies it unless the
// memory file says no one else holds the pages any more. The ptrace
// platform cannot tell read faults from write faults, so a fault on a page
// that is already mapped readable is taken as a write.
//
// Lock order:
//
//	MemoryManager.mu
//	  memory.File.mu
package mm

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"golang.org/x/sys/unix"
)

const (
	pageSize = memory.PageSize
	pageMask = pageSize - 1

	// anonFaultWindow and fileFaultWindow are how much a fault populates
	// around the faulting page (aligned windows, clipped to the VMA).
	// Anonymous pages are free until touched (the memory file is sparse),
	// so that window is large; file pages are copied, so it is smaller.
	anonFaultWindow = 1 << 20
	fileFaultWindow = 128 << 10
	// cowWindow is how much a copy-on-write break copies.
	cowWindow = 64 << 10

	// maxMapCount bounds the VMAs of an address space, as Linux's
	// vm.max_map_count (default 65530) does: each VMA costs Sentry
	// memory, and /proc/PID/maps renders them all. Calls that would go
	// past it fail with ENOMEM.
	maxMapCount = 65530
)

// PageRoundDown rounds addr down to a page boundary.
func PageRoundDown(addr uint64) uint64 { return addr &^ pageMask }

// PageRoundUp rounds addr up to a page boundary; ok is false on overflow.
func PageRoundUp(addr uint64) (uint64, bool) {
	r := (addr + pageMask) &^ pageMask
	return r, r >= addr
}

// Mappable is a file that can be mapped. Private mappings copy its
// contents with ReadAt; shared mappings use Translate when the file's pages
// live in the memory file. Implementations must be comparable (pointers):
// adjacent VMAs of the same Mappable are merged.
type Mappable interface {
	// ReadAt reads file contents at off for a private mapping. Reading
	// past the end of the file yields fewer bytes (the rest stays zero).
	ReadAt(dst []byte, off int64) (int, error)
	// IncRef and DecRef keep the file alive while a VMA maps it.
	IncRef()
	DecRef()
	// Name is the path shown in /proc/PID/maps.
	Name() string
	// DeviceInode identifies the file in /proc/PID/maps.
	DeviceInode() (dev uint64, ino uint64)
}

// SharedMappable is a Mappable whose pages are in the memory file, so
// MAP_SHARED mappings of it see each other's writes.
type SharedMappable interface {
	Mappable
	// Translate returns the memory-file range backing the page-aligned
	// file range [off, off+length) (possibly shorter than asked), taking
	// a reference on it for the caller; io.EOF if off is beyond the end
	// of the file.
	Translate(off, length uint64) (memory.Range, error)
}

// vma is a mapped guest range. Linux: struct vm_area_struct.
type vma struct {
	start, end uint64
	perms      platform.Access
	maxPerms   platform.Access
	private    bool
	growsDown  bool
	// file backs the mapping, or nil for anonymous memory.
	file Mappable
	// off is the file offset of start.
	off uint64
	// name overrides the maps name ("[stack]", "[heap]").
	name string
	// locked is mlock's VM_LOCKED (mlock.go): accounting only.
	locked bool
	// policy is mbind's NUMA policy (mempolicy.go). Linux: vm_policy.
	policy Policy
	// sealed is mseal's VM_SEALED (mseal.go): the mapping may not be
	// unmapped, moved, resized or re-protected. Copied by fork.
	sealed bool
}

// pma is a range of guest pages backed by the memory file.
type pma struct {
	start, end uint64
	// off is the memory-file offset backing start.
	off uint64
	// cow is set when the pages may be shared with another private
	// mapping and must be copied before they are written.
	cow bool
}

func (p *pma) fileRange() memory.Range {
	return memory.Range{Start: p.off, End: p.off + p.end - p.start}
}

// MemoryManager is an address space. Linux: struct mm_struct.
type MemoryManager struct {
	// membarrier is the set of membarrier(2) REGISTER_* commands the
	// address space has registered for; kept by Fork, empty after
	// execve (a new MemoryManager). Linux: mm_struct::membarrier_state.
	membarrier atomic.Uint32
	// lockFuture is mlockall(MCL_FUTURE): new mappings are locked.
	// Protected by mu.
	lockFuture bool

	mf *memory.File
	pl platform.Platform
	as platform.AddressSpace
	mu sync.Mutex
	// vmas are sorted by start and never overlap. Protected by mu.
	vmas []*vma
	// pmas are sorted by start, never overlap, and lie within VMAs.
	// Protected by mu.
	pmas []*pma
	// brkStart and brk delimit the heap. Protected by mu.
	brkStart, brk uint64
	// mmapBase is where top-down mmap placement starts. Set by the loader.
	mmapBase uint64
	// Layout records what the loader placed where, for /proc and prctl.
	// Protected by mu.
	layout Layout
	// users counts the tasks using this mm (CLONE_VM). Changed only with
	// mu held, so that the release and InvalidateMappings see it settled.
	users refs.Count
	// stackLimit bounds the growth of the main stack (RLIMIT_STACK; 0
	// means 8 MiB). Protected by mu.
	stackLimit uint64
	// mappedFiles holds the files mm registered with as a mapper (see
	// InvalidatingMappable), by MappingID. Protected by mu; lock order:
	// mu, then the files' own mapper locks.
	mappedFiles map[any]InvalidatingMappable
	// aio is the address space's Linux AIO contexts (Linux:
	// mm_struct::ioctx_table), kept by a higher layer. Protected by mu;
	// not inherited by Fork; released with the last user.
	aio Releaser
}

// Releaser is state a higher layer keeps per address space (AIO
// contexts); Release runs once, after the last task has left it.
type Releaser interface {
	Release()
}

// AIO returns the address space's AIO state, creating it with create if
// there is none yet; nil if the address space is already released.
func (mm *MemoryManager) AIO(create func() Releaser) Releaser {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if mm.users.Load() == 0 {
		return nil
	}
	if mm.aio == nil && create != nil {
		mm.aio = create()
	}
	return mm.aio
}

// Layout is what /proc/PID reports about an address space's contents.
type Layout struct {
	ArgvStart, ArgvEnd uint64
	EnvvStart, EnvvEnd uint64
	StackStart         uint64
	Auxv               []uint64
	// Executable is the path of the running program (/proc/PID/exe).
	Executable string
}

// New returns an empty address space.
func New(mf *memory.File, pl platform.Platform) (*MemoryManager, error) {
	as, err := pl.NewAddressSpace()
	if err != nil {
		return nil, err
	}
	mm := &MemoryManager{mf: mf, pl: pl, as: as}
	mm.users.Init(mm)
	return mm, nil
}

// AddressSpace returns the platform address space to switch into.
func (mm *MemoryManager) AddressSpace() platform.AddressSpace { return mm.as }

// SetMmapBase sets where top-down placement of mmap starts.
func (mm *MemoryManager) SetMmapBase(base uint64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.mmapBase = base
}

// SetLayout records the loader's layout.
func (mm *MemoryManager) SetLayout(l Layout) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.layout = l
}

// Layout returns the loader's layout.
func (mm *MemoryManager) Layout() Layout {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.layout
}

// IncUsers records one more task using mm.
func (mm *MemoryManager) IncUsers() {
	mm.mu.Lock()
	mm.users.IncRef()
	mm.mu.Unlock()
}

// Alive reports whether a task still uses mm: false once the last one
// has left it (exit or execve) and its memory is released.
func (mm *MemoryManager) Alive() bool {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.users.Load() > 0
}

// DecUsers drops a task's use of mm, releasing everything with the last.
func (mm *MemoryManager) DecUsers() {
	mm.mu.Lock()
	last := mm.users.DecRef()
	var aio Releaser
	if last {
		aio, mm.aio = mm.aio, nil
		for _, p := range mm.pmas {
			mm.mf.DecRef(p.fileRange())
		}
		for _, v := range mm.vmas {
			if v.file != nil {
				v.file.DecRef()
			}
		}
		mm.pmas, mm.vmas = nil, nil
		mm.unregisterMappersLocked()
	}
	mm.mu.Unlock()
	if aio != nil {
		aio.Release()
	}
	if last {
		mm.as.Release()
	}
}

// findVMALocked returns the index of the first VMA ending after addr.
func (mm *MemoryManager) findVMALocked(addr uint64) int {
	return sort.Search(len(mm.vmas), func(i int) bool { return mm.vmas[i].end > addr })
}

// vmaAtLocked returns the VMA containing addr, or nil.
func (mm *MemoryManager) vmaAtLocked(addr uint64) *vma {
	i := mm.findVMALocked(addr)
	if i < len(mm.vmas) && mm.vmas[i].start <= addr {
		return mm.vmas[i]
	}
	return nil
}

// findPMALocked returns the index of the first PMA ending after addr.
func (mm *MemoryManager) findPMALocked(addr uint64) int {
	return sort.Search(len(mm.pmas), func(i int) bool { return mm.pmas[i].end > addr })
}

// pmaAtLocked returns the PMA containing addr, or nil.
func (mm *MemoryManager) pmaAtLocked(addr uint64) *pma {
	i := mm.findPMALocked(addr)
	if i < len(mm.pmas) && mm.pmas[i].start <= addr {
		return mm.pmas[i]
	}
	return nil
}

// splitVMAsLocked makes addr a VMA boundary.
func (mm *MemoryManager) splitVMAsLocked(addr uint64) {
	i := mm.findVMALocked(addr)
	if i == len(mm.vmas) || mm.vmas[i].start >= addr {
		return
	}
	v := mm.vmas[i]
	right := *v
	right.start = addr
	if v.file != nil {
		right.off += addr - v.start
		v.file.IncRef()
	}
	v.end = addr
	mm.vmas = append(mm.vmas, nil)
	copy(mm.vmas[i+2:], mm.vmas[i+1:])
	mm.vmas[i+1] = &right
}

// splitPMAsLocked makes addr a PMA boundary.
func (mm *MemoryManager) splitPMAsLocked(addr uint64) {
	i := mm.findPMALocked(addr)
	if i == len(mm.pmas) || mm.pmas[i].start >= addr {
		return
	}
	p := mm.pmas[i]
	right := *p
	right.start = addr
	right.off += addr - p.start
	p.end = addr
	mm.pmas = append(mm.pmas, nil)
	copy(mm.pmas[i+2:], mm.pmas[i+1:])
	mm.pmas[i+1] = &right
}

// splitsLocked returns how many VMAs making addr a boundary would add.
func (mm *MemoryManager) splitsLocked(addr uint64) int {
	if v := mm.vmaAtLocked(addr); v != nil && v.start < addr {
		return 1
	}
	return 0
}

// mergeable reports whether b may be joined onto a, which it follows.
func mergeable(a, b *vma) bool {
	if a.end != b.start || a.perms != b.perms || a.maxPerms != b.maxPerms || a.private != b.private ||
		a.growsDown || b.growsDown || a.name != b.name || a.file != b.file || a.locked != b.locked ||
		a.policy != b.policy || a.sealed != b.sealed {
		return false
	}
	return a.file == nil || a.off+(a.end-a.start) == b.off
}

// mergeLocked joins compatible adjacent VMAs around [start, end), as Linux
// does, so that mapping or re-protecting neighbouring pages one at a time
// does not use up maxMapCount.
func (mm *MemoryManager) mergeLocked(start, end uint64) {
	// One compacting pass over the VMAs from the one before start to the
	// one after end: re-protecting a range of many VMAs stays linear.
	lo := max(mm.findVMALocked(start)-1, 0)
	hi := min(mm.findVMALocked(end)+1, len(mm.vmas))
	if hi-lo < 2 {
		return
	}
	out := lo
	for i := lo + 1; i < hi; i++ {
		a, b := mm.vmas[out], mm.vmas[i]
		if mergeable(a, b) {
			a.end = b.end
			if b.file != nil {
				b.file.DecRef()
			}
			continue
		}
		out++
		mm.vmas[out] = b
	}
	n := copy(mm.vmas[out+1:], mm.vmas[hi:])
	clear(mm.vmas[out+1+n:])
	mm.vmas = mm.vmas[:out+1+n]
}

// insertVMALocked adds v, which overlaps no VMA.
func (mm *MemoryManager) insertVMALocked(v *vma) {
	i := mm.findVMALocked(v.start)
	mm.vmas = append(mm.vmas, nil)
	copy(mm.vmas[i+1:], mm.vmas[i:])
	mm.vmas[i] = v
}

// insertPMALocked adds p, which overlaps no PMA, and maps it.
func (mm *MemoryManager) insertPMALocked(p *pma, perms platform.Access) error {
	i := mm.findPMALocked(p.start)
	mm.pmas = append(mm.pmas, nil)
	copy(mm.pmas[i+1:], mm.pmas[i:])
	mm.pmas[i] = p
	err := mm.as.MapFile(p.start, p.off, p.end-p.start, effective(perms, p))
	if err == platform.ErrForeignThread {
		// Mapped when the guest faults on it (HandleFault remaps
		// present PMAs once).
		return nil
	}
	return err
}

// effective returns the host permissions of p inside a VMA with perms.
func effective(perms platform.Access, p *pma) platform.Access {
	if p.cow {
		perms.Write = false
	}
	return perms
}

// removeLocked unmaps [start, end): VMAs, PMAs and host mappings.
func (mm *MemoryManager) removeLocked(start, end uint64) error {
	if start >= end {
		return nil
	}
	if v := mm.vmaAtLocked(start); v != nil && v.start < start && end < v.end && len(mm.vmas) >= maxMapCount {
		// Punching a hole in one VMA makes two of it.
		return unix.ENOMEM
	}
	mm.splitVMAsLocked(start)
	mm.splitVMAsLocked(end)
	mm.splitPMAsLocked(start)
	mm.splitPMAsLocked(end)
	hadPMA := false
	i := mm.findPMALocked(start)
	j := i
	for ; j < len(mm.pmas) && mm.pmas[j].start < end; j++ {
		hadPMA = true
	}
	dropped := append([]*pma(nil), mm.pmas[i:j]...)
	mm.pmas = append(mm.pmas[:i], mm.pmas[j:]...)
	if hadPMA {
		// The host mapping must be gone before the pages can be reused.
		if err := mm.as.Unmap(start, end-start); err != nil {
			return err
		}
	}
	for _, p := range dropped {
		mm.mf.DecRef(p.fileRange())
	}
	i = mm.findVMALocked(start)
	j = i
	for ; j < len(mm.vmas) && mm.vmas[j].start < end; j++ {
		if f := mm.vmas[j].file; f != nil {
			f.DecRef()
		}
	}
	mm.vmas = append(mm.vmas[:i], mm.vmas[j:]...)
	return nil
}

// String describes mm for debugging.
func (mm *MemoryManager) String() string {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return fmt.Sprintf("mm{%d vmas, %d pmas, brk %#x}", len(mm.vmas), len(mm.pmas), mm.brk)
}

// errFault is returned for accesses to unmapped or forbidden memory.
var errFault = unix.EFAULT

// SetStackLimit sets how far the main stack may grow (RLIMIT_STACK).
func (mm *MemoryManager) SetStackLimit(limit uint64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.stackLimit = limit
}

// MembarrierRegistrations returns the membarrier(2) REGISTER_* commands
// registered for mm.
func (mm *MemoryManager) MembarrierRegistrations() uint32 { return mm.membarrier.Load() }

// MembarrierRegister records a membarrier(2) REGISTER_* command.
func (mm *MemoryManager) MembarrierRegister(cmd uint32) { mm.membarrier.Or(cmd) }
