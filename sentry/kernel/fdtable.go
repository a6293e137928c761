package kernel

import (
	"math/bits"
	"sync"

	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/lock"
	"golang.org/x/sys/unix"
)

// FDFlags are per-descriptor flags.
type FDFlags struct {
	CloseOnExec bool
}

type fdEntry struct {
	file  *vfs.FileDescription
	flags FDFlags
}

// FDTable maps descriptor numbers to open files. Linux: struct files_struct.
//
// As Linux's open_fds and full_fds_bits, two bitmaps find the lowest free
// descriptor without looking at every open one: open has a bit per
// descriptor, full a bit per word of open that has no free bit. A search
// looks at one word of open, then at full's words (each covers 4096
// descriptors), then at the one word of open it points to.
type FDTable struct {
	refs refs.Count
	mu   sync.Mutex
	// files is indexed by descriptor; its length is a multiple of 64.
	// Protected by mu.
	files []fdEntry
	// open and full are the bitmaps, len(files)/64 and
	// ceil(len(files)/4096) words long. Protected by mu.
	open []uint64
	full []uint64
}

// NewFDTable returns an empty table.
func NewFDTable() *FDTable {
	t := &FDTable{}
	t.refs.Init(t)
	return t
}

// IncRef shares the table with one more task (CLONE_FILES).
func (f *FDTable) IncRef() { f.refs.IncRef() }

// DecRef drops a task's use; the last one closes every file.
func (f *FDTable) DecRef(t *Task) {
	if !f.refs.DecRef() {
		return
	}
	f.mu.Lock()
	files := f.files
	f.files, f.open, f.full = nil, nil, nil
	f.mu.Unlock()
	for _, e := range files {
		if e.file != nil {
			e.file.DecRef(t.Context())
		}
	}
}

// Get returns the file at fd with a reference the caller must drop, and
// its flags; nil if fd is not open.
func (f *FDTable) Get(fd int32) (*vfs.FileDescription, FDFlags) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fd < 0 || int(fd) >= len(f.files) || f.files[fd].file == nil {
		return nil, FDFlags{}
	}
	e := f.files[fd]
	e.file.IncRef()
	return e.file, e.flags
}

// NewFD installs file at the lowest free descriptor >= min, below limit,
// taking a reference.
func (f *FDTable) NewFD(min int32, limit int32, file *vfs.FileDescription, flags FDFlags) (int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if min < 0 {
		return 0, unix.EINVAL
	}
	if min >= limit {
		return 0, unix.EINVAL
	}
	fd := f.lowestFreeLocked(min)
	if fd >= limit {
		return 0, unix.EMFILE
	}
	if int(fd) >= len(f.files) {
		f.grow(fd)
	}
	file.IncRef()
	f.setLocked(fd, fdEntry{file, flags})
	return fd, nil
}

// lowestFreeLocked returns the lowest free descriptor >= min (perhaps
// beyond the table).
//
// Preconditions: f.mu is held; min >= 0.
func (f *FDTable) lowestFreeLocked(min int32) int32 {
	w := int(min / 64)
	if w >= len(f.open) {
		return min
	}
	if free := ^f.open[w] &^ (1<<(min%64) - 1); free != 0 {
		return int32(w*64 + bits.TrailingZeros64(free))
	}
	// The next word of open that is not full.
	for w++; w < len(f.open); {
		notFull := ^f.full[w/64] &^ (1<<(w%64) - 1)
		if notFull == 0 {
			w = (w/64 + 1) * 64
			continue
		}
		w = w/64*64 + bits.TrailingZeros64(notFull)
		if w >= len(f.open) {
			break
		}
		return int32(w*64 + bits.TrailingZeros64(^f.open[w]))
	}
	return int32(len(f.files))
}

// setLocked stores e at fd (inside the table), keeping the bitmaps.
//
// Preconditions: f.mu is held.
func (f *FDTable) setLocked(fd int32, e fdEntry) {
	f.files[fd] = e
	w, bit := fd/64, uint64(1)<<(fd%64)
	if e.file == nil {
		f.open[w] &^= bit
		f.full[w/64] &^= 1 << (w % 64)
		return
	}
	f.open[w] |= bit
	if f.open[w] == ^uint64(0) {
		f.full[w/64] |= 1 << (w % 64)
	}
}

// grow makes room for fd: at least double, in whole words of the bitmap.
func (f *FDTable) grow(fd int32) {
	n := max(int(fd)+1, 2*len(f.files), 64)
	n = (n + 63) &^ 63
	files := make([]fdEntry, n)
	copy(files, f.files)
	f.files = files
	open := make([]uint64, n/64)
	copy(open, f.open)
	f.open = open
	full := make([]uint64, (len(open)+63)/64)
	copy(full, f.full)
	f.full = full
}

// Install puts file at exactly fd (dup2), returning the file it replaced.
func (f *FDTable) Install(fd int32, limit int32, file *vfs.FileDescription, flags FDFlags) (*vfs.FileDescription, error) {
	if fd < 0 || fd >= limit {
		return nil, unix.EBADF
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if int(fd) >= len(f.files) {
		f.grow(fd)
	}
	old := f.files[fd].file
	file.IncRef()
	f.setLocked(fd, fdEntry{file, flags})
	return old, nil
}

// Remove closes fd and returns its file for the caller to DecRef.
func (f *FDTable) Remove(fd int32) *vfs.FileDescription {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fd < 0 || int(fd) >= len(f.files) {
		return nil
	}
	file := f.files[fd].file
	if file != nil {
		f.setLocked(fd, fdEntry{})
	}
	return file
}

// SetFlags sets fd's flags.
func (f *FDTable) SetFlags(fd int32, flags FDFlags) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fd < 0 || int(fd) >= len(f.files) || f.files[fd].file == nil {
		return unix.EBADF
	}
	f.files[fd].flags = flags
	return nil
}

// Fork returns a copy of the table sharing the open files.
func (f *FDTable) Fork() *FDTable {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := NewFDTable()
	n.files = append([]fdEntry(nil), f.files...)
	n.open = append([]uint64(nil), f.open...)
	n.full = append([]uint64(nil), f.full...)
	for _, e := range n.files {
		if e.file != nil {
			e.file.IncRef()
		}
	}
	return n
}

// RemoveCloseOnExec closes every close-on-exec descriptor, for execve.
func (f *FDTable) RemoveCloseOnExec(t *Task) {
	f.mu.Lock()
	var closed []*vfs.FileDescription
	for i, e := range f.files {
		if e.file != nil && e.flags.CloseOnExec {
			closed = append(closed, e.file)
			f.setLocked(int32(i), fdEntry{})
		}
	}
	f.mu.Unlock()
	for _, file := range closed {
		lock.ReleasePOSIX(file, t.tg.id)
		file.DecRef(t.Context())
	}
}

// FDs returns the open descriptors in order, for /proc/PID/fd.
func (f *FDTable) FDs() []int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int32
	for i, e := range f.files {
		if e.file != nil {
			out = append(out, int32(i))
		}
	}
	return out
}
