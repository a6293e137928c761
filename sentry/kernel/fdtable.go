package kernel

import (
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
type FDTable struct {
	refs refs.Count
	mu   sync.Mutex
	// files is indexed by descriptor. Protected by mu.
	files []fdEntry
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
	f.files = nil
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
	for fd := min; fd < limit; fd++ {
		if int(fd) >= len(f.files) {
			f.grow(fd)
		}
		if f.files[fd].file == nil {
			file.IncRef()
			f.files[fd] = fdEntry{file, flags}
			return fd, nil
		}
	}
	if min >= limit {
		return 0, unix.EINVAL
	}
	return 0, unix.EMFILE
}

func (f *FDTable) grow(fd int32) {
	n := max(int(fd)+1, 2*len(f.files), 8)
	files := make([]fdEntry, n)
	copy(files, f.files)
	f.files = files
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
	f.files[fd] = fdEntry{file, flags}
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
	f.files[fd] = fdEntry{}
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
	n.files = make([]fdEntry, len(f.files))
	copy(n.files, f.files)
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
			f.files[i] = fdEntry{}
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
