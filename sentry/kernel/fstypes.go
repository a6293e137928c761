package kernel

import (
	"context"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// FilesystemFactory makes a filesystem instance for mount(2): source is
// the mount source, flags the mount flags and data the option string
// ("size=1m,mode=755"). It returns the filesystem with a reference the
// caller owns, or an errno (EINVAL for bad options).
type FilesystemFactory func(ctx context.Context, source string, flags uint32, data string) (*vfs.Filesystem, error)

// fsTypeRegistry holds the filesystem types mount(2) knows (Linux: the
// file_systems list).
type fsTypeRegistry struct {
	// mu protects types. It is a leaf lock.
	mu sync.Mutex
	// types maps a type name ("tmpfs") to its factory. Protected by mu.
	types map[string]FilesystemFactory
}

// RegisterFilesystemType makes the type name available to mount(2). It is
// called while the sandbox is built.
func (k *Kernel) RegisterFilesystemType(name string, f FilesystemFactory) {
	k.fsTypes.mu.Lock()
	defer k.fsTypes.mu.Unlock()
	if k.fsTypes.types == nil {
		k.fsTypes.types = make(map[string]FilesystemFactory)
	}
	k.fsTypes.types[name] = f
}

// FilesystemType returns the factory for the type name, or nil.
func (k *Kernel) FilesystemType(name string) FilesystemFactory {
	k.fsTypes.mu.Lock()
	defer k.fsTypes.mu.Unlock()
	return k.fsTypes.types[name]
}

// FilesystemTypeNames returns the registered type names, sorted.
func (k *Kernel) FilesystemTypeNames() []string {
	k.fsTypes.mu.Lock()
	defer k.fsTypes.mu.Unlock()
	out := make([]string, 0, len(k.fsTypes.types))
	for n := range k.fsTypes.types {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ReplaceRoots moves every task's root and working directory that is at
// oldVD to newVD, as pivot_root(2) does for all tasks (Linux:
// chroot_fs_refs).
func (k *Kernel) ReplaceRoots(ctx context.Context, oldVD, newVD vfs.VirtualDentry) {
	k.mu.Lock()
	seen := make(map[*FSContext]bool)
	var fss []*FSContext
	for _, t := range k.tasks {
		if t.fs != nil && !t.exiting && !seen[t.fs] {
			seen[t.fs] = true
			t.fs.IncRef()
			fss = append(fss, t.fs)
		}
	}
	k.mu.Unlock()
	var drop []vfs.VirtualDentry
	for _, f := range fss {
		f.mu.Lock()
		if f.root.Equal(oldVD) {
			newVD.IncRef()
			drop = append(drop, f.root)
			f.root = newVD
		}
		if f.cwd.Equal(oldVD) {
			newVD.IncRef()
			drop = append(drop, f.cwd)
			f.cwd = newVD
		}
		f.mu.Unlock()
	}
	for _, vd := range drop {
		vd.DecRef(ctx)
	}
	for _, f := range fss {
		f.decRefCtx(ctx)
	}
}

// decRefCtx is DecRef for callers without a task at hand.
func (f *FSContext) decRefCtx(ctx context.Context) {
	if !f.refs.DecRef() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.root.DecRef(ctx)
	f.cwd.DecRef(ctx)
}

// UnshareFS gives t a root, working directory and umask of its own if it
// shares them with other tasks (unshare(CLONE_FS)).
func (t *Task) UnshareFS() {
	if t.fs.refs.Load() == 1 {
		return
	}
	nfs := t.fs.Fork()
	t.k.mu.Lock()
	old := t.fs
	t.fs = nfs
	t.k.mu.Unlock()
	old.DecRef(t)
}

// UnshareMountNamespace gives t a mount namespace of its own
// (unshare(CLONE_NEWNS)): a copy of the mount tree of its root, into which
// its root and working directory move. Other tasks sharing t's root and
// cwd (CLONE_FS) are first given their own. It requires CAP_SYS_ADMIN.
func (t *Task) UnshareMountNamespace() error {
	if !t.Credentials().HasCap(capSysAdmin) {
		return unix.EPERM
	}
	t.UnshareFS()
	ctx := t.Context()
	root, cwd := t.fs.Root(), t.fs.Cwd()
	defer root.DecRef(ctx)
	defer cwd.DecRef(ctx)
	copies := t.k.VFS.CopyMountTree(ctx, root, cwd)
	t.fs.SetRoot(t, copies[0])
	t.fs.SetCwd(t, copies[1])
	for _, vd := range copies {
		vd.DecRef(ctx)
	}
	return nil
}
