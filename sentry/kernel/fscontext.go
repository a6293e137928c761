package kernel

import (
	"sync"

	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/vfs"
)

// FSContext is a task's root, working directory and umask. Linux: struct
// fs_struct.
type FSContext struct {
	refs refs.Count
	mu   sync.Mutex
	// root and cwd hold references. Protected by mu.
	root, cwd vfs.VirtualDentry
	// umask is protected by mu.
	umask uint32
}

// NewFSContext returns a context with root and cwd, taking references.
func NewFSContext(root, cwd vfs.VirtualDentry, umask uint32) *FSContext {
	root.IncRef()
	cwd.IncRef()
	f := &FSContext{root: root, cwd: cwd, umask: umask}
	f.refs.Init(f)
	return f
}

// IncRef shares the context with one more task (CLONE_FS).
func (f *FSContext) IncRef() { f.refs.IncRef() }

// DecRef drops a task's use.
func (f *FSContext) DecRef(t *Task) {
	if !f.refs.DecRef() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.root.DecRef(t.Context())
	f.cwd.DecRef(t.Context())
}

// Fork returns a copy.
func (f *FSContext) Fork() *FSContext {
	f.mu.Lock()
	defer f.mu.Unlock()
	return NewFSContext(f.root, f.cwd, f.umask)
}

// Root returns the root directory with a reference.
func (f *FSContext) Root() vfs.VirtualDentry {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.root.IncRef()
	return f.root
}

// Cwd returns the working directory with a reference.
func (f *FSContext) Cwd() vfs.VirtualDentry {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cwd.IncRef()
	return f.cwd
}

// SetCwd changes the working directory (taking a reference on vd).
func (f *FSContext) SetCwd(t *Task, vd vfs.VirtualDentry) {
	vd.IncRef()
	f.mu.Lock()
	old := f.cwd
	f.cwd = vd
	f.mu.Unlock()
	old.DecRef(t.Context())
}

// SetRoot changes the root directory (chroot).
func (f *FSContext) SetRoot(t *Task, vd vfs.VirtualDentry) {
	vd.IncRef()
	f.mu.Lock()
	old := f.root
	f.root = vd
	f.mu.Unlock()
	old.DecRef(t.Context())
}

// Umask returns the umask.
func (f *FSContext) Umask() uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.umask
}

// SwapUmask sets the umask and returns the old one.
func (f *FSContext) SwapUmask(mask uint32) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.umask
	f.umask = mask & 0777
	return old
}
