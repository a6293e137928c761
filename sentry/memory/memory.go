// Package memory implements the memory file: one memfd that holds every page
// of guest-anonymous memory and of memory-backed files (tmpfs), and the page
// allocator that hands out ranges of it.
//
// The Sentry maps the whole file into its own address space once, so copying
// to and from guest memory is a plain memmove through Bytes. Address spaces
// (stub processes) map ranges of the same file with MAP_SHARED, so a page has
// one physical copy wherever it is visible.
//
// Pages are reference counted per page range: a range is freed (its pages
// punched out of the file, so the host reclaims them) when its count drops to
// zero. Copy-on-write after fork shares a range by raising its count.
//
// Lock order: File.mu is a leaf.
package memory

import (
	"fmt"
	"os"
	"sort"
	"sync"

	"golang.org/x/sys/unix"
)

// PageSize is the size of a page of the memory file.
const PageSize = 4096

// maxFileSize is the size of the memory file and of the Sentry's reservation
// for it. The file is sparse: only pages that are touched cost memory.
const maxFileSize = 1 << 40

// Mapper is an address space that maps pages of a memory-backed file
// shared. The file tells it when pages leave the file (truncation, hole
// punching) so it stops showing them.
type Mapper interface {
	// InvalidateMappings drops the mapper's mappings of bytes
	// [start, end) of the file whose mapping ID is id.
	InvalidateMappings(id any, start, end uint64)
}

// Range is a page-aligned byte range [Start, End) of the memory file.
type Range struct {
	Start, End uint64
}

// Length returns the number of bytes in r.
func (r Range) Length() uint64 { return r.End - r.Start }

// refRange is a maximal run of pages sharing one reference count.
type refRange struct {
	Range
	refs int32
}

// File is the memory file. All methods are safe for concurrent use.
type File struct {
	fd      int
	mapping []byte // the Sentry's MAP_SHARED view of the whole file

	mu sync.Mutex
	// used holds the allocated ranges, sorted by Start, never overlapping.
	// Protected by mu.
	used []refRange
	// free holds released ranges below top, sorted and coalesced.
	// Protected by mu.
	free []Range
	// top is the end of the highest range ever handed out. Protected by mu.
	top uint64
	// usage is the number of allocated bytes. Protected by mu.
	usage uint64
}

// New creates a memory file named name (the name shows in /proc/PID/maps of
// the Sentry and its stubs, for debugging).
func New(name string) (*File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	if err := unix.Ftruncate(fd, maxFileSize); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("ftruncate", err)
	}
	m, err := unix.Mmap(fd, 0, maxFileSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("mmap", err)
	}
	return &File{fd: fd, mapping: m}, nil
}

// FD returns the host file descriptor of the memory file. Stub processes
// inherit it to map guest memory.
func (f *File) FD() int { return f.fd }

// Bytes returns the Sentry's view of r. The caller must hold a reference on
// r for as long as it uses the slice.
func (f *File) Bytes(r Range) []byte {
	return f.mapping[r.Start:r.End:r.End]
}

// WriteAt stores b at byte off of the file. It goes through pwrite(2)
// rather than the Sentry's mapping: for pages that are still holes the host
// fills them straight from b, without first faulting each one in and
// zeroing it, which makes first writes to fresh pages (growing a tmpfs
// file) about twice as fast. The caller must hold a reference on the
// pages. b may itself be a view of the memory file.
func (f *File) WriteAt(b []byte, off uint64) {
	for len(b) > 0 {
		n, err := unix.Pwrite(f.fd, b, int64(off))
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			// The mapping is always usable; pwrite is only faster.
			copy(f.mapping[off:], b)
			return
		}
		b, off = b[n:], off+uint64(n)
	}
}

// Usage returns the number of bytes currently allocated.
func (f *File) Usage() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.usage
}

// Allocate returns a zero-filled range of length bytes (rounded up to pages)
// with a reference count of one.
func (f *File) Allocate(length uint64) (Range, error) {
	length = (length + PageSize - 1) &^ (PageSize - 1)
	if length == 0 {
		return Range{}, fmt.Errorf("memory: zero-length allocation")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.takeFreeLocked(length)
	if !ok {
		if f.top+length > maxFileSize || f.top+length < f.top {
			return Range{}, unix.ENOMEM
		}
		r = Range{f.top, f.top + length}
		f.top += length
	}
	f.insertUsedLocked(refRange{r, 1})
	f.usage += length
	return r, nil
}

// takeFreeLocked carves length bytes from the first free range large enough.
func (f *File) takeFreeLocked(length uint64) (Range, bool) {
	for i, fr := range f.free {
		if fr.Length() < length {
			continue
		}
		r := Range{fr.Start, fr.Start + length}
		if fr.Length() == length {
			f.free = append(f.free[:i], f.free[i+1:]...)
		} else {
			f.free[i].Start += length
		}
		return r, true
	}
	return Range{}, false
}

// insertUsedLocked inserts a range that overlaps nothing in used, merging
// it with neighbours of the same count so that many small allocations
// (tmpfs allocates page by page) stay a few runs.
func (f *File) insertUsedLocked(rr refRange) {
	i := sort.Search(len(f.used), func(i int) bool { return f.used[i].Start >= rr.End })
	left := i > 0 && f.used[i-1].End == rr.Start && f.used[i-1].refs == rr.refs
	right := i < len(f.used) && f.used[i].Start == rr.End && f.used[i].refs == rr.refs
	switch {
	case left && right:
		f.used[i-1].End = f.used[i].End
		f.used = append(f.used[:i], f.used[i+1:]...)
	case left:
		f.used[i-1].End = rr.End
	case right:
		f.used[i].Start = rr.Start
	default:
		f.used = append(f.used, refRange{})
		copy(f.used[i+1:], f.used[i:])
		f.used[i] = rr
	}
}

// IncRef takes one more reference on every page of r, which must be allocated.
func (f *File) IncRef(r Range) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adjustLocked(r, 1)
}

// DecRef drops one reference on every page of r; pages whose count reaches
// zero are freed.
func (f *File) DecRef(r Range) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adjustLocked(r, -1)
}

// Exclusive reports whether every page of r has exactly one reference, that is,
// whether the holder of r may write it without copying.
func (f *File) Exclusive(r Range) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.findLocked(r.Start)
	for ; i < len(f.used) && f.used[i].Start < r.End; i++ {
		if f.used[i].refs != 1 {
			return false
		}
	}
	return true
}

// findLocked returns the index of the first used range ending after addr.
func (f *File) findLocked(addr uint64) int {
	return sort.Search(len(f.used), func(i int) bool { return f.used[i].End > addr })
}

// splitLocked makes addr a boundary of the used ranges.
func (f *File) splitLocked(addr uint64) {
	i := f.findLocked(addr)
	if i == len(f.used) || f.used[i].Start >= addr {
		return
	}
	left := f.used[i]
	left.End = addr
	f.used[i].Start = addr
	f.used = append(f.used, refRange{})
	copy(f.used[i+1:], f.used[i:])
	f.used[i] = left
}

// adjustLocked adds delta to the count of every page of r and frees pages
// that reach zero. A range that is not allocated is a Sentry bug.
func (f *File) adjustLocked(r Range, delta int32) {
	if r.Start >= r.End {
		return
	}
	f.splitLocked(r.Start)
	f.splitLocked(r.End)
	i := f.findLocked(r.Start)
	pos := r.Start
	var freed []Range
	for ; i < len(f.used) && f.used[i].Start < r.End; i++ {
		if f.used[i].Start != pos {
			panic(fmt.Sprintf("memory: reference change on unallocated range %#x-%#x", pos, f.used[i].Start))
		}
		f.used[i].refs += delta
		if f.used[i].refs < 0 {
			panic(fmt.Sprintf("memory: negative reference count on %#x-%#x", f.used[i].Start, f.used[i].End))
		}
		if f.used[i].refs == 0 {
			freed = append(freed, f.used[i].Range)
		}
		pos = f.used[i].End
	}
	if pos != r.End {
		panic(fmt.Sprintf("memory: reference change on unallocated range %#x-%#x", pos, r.End))
	}
	// Drop freed entries, then merge neighbours with equal counts.
	kept := f.used[:0]
	for _, u := range f.used {
		if u.refs == 0 {
			continue
		}
		if n := len(kept); n > 0 && kept[n-1].End == u.Start && kept[n-1].refs == u.refs {
			kept[n-1].End = u.End
			continue
		}
		kept = append(kept, u)
	}
	f.used = kept
	for _, fr := range freed {
		f.releaseLocked(fr)
	}
}

// releaseLocked returns r's pages to the host and r to the free list.
func (f *File) releaseLocked(r Range) {
	// Punching a hole drops the pages and makes later reads return zeroes,
	// which is what Allocate promises.
	if err := unix.Fallocate(f.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(r.Start), int64(r.Length())); err != nil {
		// Without hole punching the pages would leak their contents into
		// the next allocation: zero them by hand.
		clear(f.mapping[r.Start:r.End])
	}
	f.usage -= r.Length()
	i := sort.Search(len(f.free), func(i int) bool { return f.free[i].Start >= r.End })
	f.free = append(f.free, Range{})
	copy(f.free[i+1:], f.free[i:])
	f.free[i] = r
	// Coalesce with neighbours.
	if i+1 < len(f.free) && f.free[i].End == f.free[i+1].Start {
		f.free[i].End = f.free[i+1].End
		f.free = append(f.free[:i+1], f.free[i+2:]...)
	}
	if i > 0 && f.free[i-1].End == f.free[i].Start {
		f.free[i-1].End = f.free[i].End
		f.free = append(f.free[:i], f.free[i+1:]...)
	}
}

// Resident returns how many bytes of r are backed by host memory (touched
// and not freed), for resident-set figures.
func (f *File) Resident(r Range) uint64 {
	if r.Start >= r.End || r.End > maxFileSize {
		return 0
	}
	// A fixed buffer, a chunk at a time: r may be large.
	var vec [512]byte
	var n uint64
	for start := r.Start; start < r.End; {
		end := min(r.End, start+uint64(len(vec))*PageSize)
		if err := mincore(f.mapping[start:end], vec[:]); err != nil {
			return 0
		}
		for _, v := range vec[:(end-start)/PageSize] {
			n += uint64(v & 1)
		}
		start = end
	}
	return n * PageSize
}
