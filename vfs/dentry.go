package vfs

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/refs"
)

// Dentry is a name in the VFS's cache of the directory tree (Linux: struct
// dentry). It binds a name in a parent directory to an Inode. Dentries are
// owned by the VFS; filesystems see only Inodes.
//
// A Dentry stays in its parent's cache while it has references (open files,
// working directories, mount points, cached children each hold one). When
// the last reference goes it is evicted and its inode reference dropped.
type Dentry struct {
	// refs is the reference count. A Dentry found through its parent's
	// children map may be revived from zero (refs.Count.Revive) only while
	// holding the parent's childMu; evict re-checks the count under it.
	refs refs.Count

	// fs is the filesystem the dentry belongs to. Immutable.
	fs *Filesystem

	// inode is the file this dentry names; the dentry holds a reference on
	// it. Immutable.
	inode Inode

	// parent is the containing directory's dentry (nil for a filesystem
	// root); a dentry holds a reference on its parent. Written only with
	// VirtualFilesystem.mu held for writing and both the old and the new
	// parent's childMu held; read with atomic loads.
	parent atomic.Pointer[Dentry]

	// name is the dentry's name in parent. Written under the same locks as
	// parent; read under VirtualFilesystem.mu or parent's childMu.
	name string

	// dirMu serialises directory operations on this dentry's inode (Linux:
	// inode::i_rwsem). Lock order: VirtualFilesystem.mu, then dirMu.
	dirMu sync.Mutex

	// childMu protects children and the evicted field of every child.
	childMu sync.Mutex

	// children caches the positive children of this directory by name.
	// Protected by childMu.
	children map[string]*Dentry

	// evicted is true once the dentry has been evicted after its last
	// reference (so eviction happens once). Protected by parent's childMu.
	evicted bool

	// dead is true once the name was removed (unlink, rmdir, rename over,
	// failed revalidation): the dentry is no longer in its parent's cache.
	dead atomic.Bool

	// tmpfile is set for the dentry of an unnamed file made by O_TMPFILE:
	// it is dead from the start but may be given a name by linkat if the
	// filesystem allows. Immutable.
	tmpfile bool

	// mounts is the number of mounts whose mount point is this dentry.
	// Protected by VirtualFilesystem.mu.
	mounts int
}

// newDentry returns a dentry with one reference for inode (whose reference
// it takes over) named name in parent (on which it takes a reference).
func newDentry(fs *Filesystem, parent *Dentry, name string, inode Inode) *Dentry {
	d := &Dentry{fs: fs, inode: inode, name: name}
	d.refs.Init(d)
	if parent != nil {
		parent.IncRef()
		d.parent.Store(parent)
	}
	return d
}

// Inode returns the inode d names.
func (d *Dentry) Inode() Inode { return d.inode }

// Filesystem returns the filesystem d belongs to.
func (d *Dentry) Filesystem() *Filesystem { return d.fs }

// IsDead reports whether d's name was removed from its directory.
func (d *Dentry) IsDead() bool { return d.dead.Load() }

// isDir reports whether d names a directory.
func (d *Dentry) isDir() bool { return d.inode.Mode()&unix.S_IFMT == unix.S_IFDIR }

// IncRef takes a reference on d. The caller must already hold one.
func (d *Dentry) IncRef() { d.refs.IncRef() }

// DecRef drops a reference on d, evicting it (and possibly its ancestors)
// when it was the last. The caller must not hold d's parent's childMu.
func (d *Dentry) DecRef(ctx context.Context) {
	for d != nil {
		if !d.refs.DecRef() {
			return
		}
		d = d.evict(ctx)
	}
}

// evict removes d, whose count dropped to zero, from the cache and releases
// its inode. It returns d's parent, whose reference the caller must drop, or
// nil if d was revived or already evicted.
func (d *Dentry) evict(ctx context.Context) *Dentry {
	parent := d.parent.Load()
	if parent != nil {
		parent.childMu.Lock()
		if d.refs.Load() != 0 || d.parent.Load() != parent || d.evicted {
			parent.childMu.Unlock()
			return nil
		}
		d.evicted = true
		if parent.children[d.name] == d {
			delete(parent.children, d.name)
		}
		parent.childMu.Unlock()
	}
	d.inode.DecRef(ctx)
	return parent
}

// cachedChild returns the cached child called name with a new reference,
// or nil.
func (d *Dentry) cachedChild(name string) *Dentry {
	d.childMu.Lock()
	defer d.childMu.Unlock()
	c := d.children[name]
	if c != nil {
		c.refs.Revive()
	}
	return c
}

// insertChild caches c as d's child c.name.
func (d *Dentry) insertChild(c *Dentry) {
	d.childMu.Lock()
	defer d.childMu.Unlock()
	if d.children == nil {
		d.children = make(map[string]*Dentry)
	}
	d.children[c.name] = c
}

// removeChild removes c from d's cache and marks it dead.
func (d *Dentry) removeChild(c *Dentry) {
	d.childMu.Lock()
	defer d.childMu.Unlock()
	if d.children[c.name] == c {
		delete(d.children, c.name)
	}
	c.dead.Store(true)
}

// lookup returns d's child called name with a new reference, calling the
// filesystem on a cache miss.
//
// Preconditions: VirtualFilesystem.mu is held; d.dirMu is not held.
func (d *Dentry) lookup(ctx context.Context, name string) (*Dentry, error) {
	if c := d.revalidatedChild(ctx, name); c != nil {
		return c, nil
	}
	d.dirMu.Lock()
	defer d.dirMu.Unlock()
	return d.lookupLocked(ctx, name)
}

// revalidatedChild returns the cached child called name if it is still
// valid, or nil.
func (d *Dentry) revalidatedChild(ctx context.Context, name string) *Dentry {
	c := d.cachedChild(name)
	if c == nil {
		return nil
	}
	if rv, ok := d.inode.(Revalidator); ok && !rv.Revalidate(ctx, name, c.inode) {
		d.removeChild(c)
		c.DecRef(ctx)
		return nil
	}
	return c
}

// lookupLocked is lookup with d.dirMu held.
//
// Preconditions: VirtualFilesystem.mu and d.dirMu are held.
func (d *Dentry) lookupLocked(ctx context.Context, name string) (*Dentry, error) {
	if c := d.revalidatedChild(ctx, name); c != nil {
		return c, nil
	}
	dir, ok := d.inode.(DirInode)
	if !ok {
		return nil, unix.ENOTDIR
	}
	if d.dead.Load() {
		// A removed directory has no entries.
		return nil, unix.ENOENT
	}
	inode, err := dir.Lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	if inode == nil {
		return nil, unix.ENOENT
	}
	c := newDentry(d.fs, d, name, inode)
	d.insertChild(c)
	return c, nil
}

// VirtualDentry is a location in the mount tree: a dentry as seen through
// a mount. The zero value is not Ok. A VirtualDentry returned by the VFS
// carries a reference that the receiver must drop with DecRef.
type VirtualDentry struct {
	mount  *Mount
	dentry *Dentry
}

// Ok reports whether vd refers to a location.
func (vd VirtualDentry) Ok() bool { return vd.mount != nil }

// Mount returns vd's mount.
func (vd VirtualDentry) Mount() *Mount { return vd.mount }

// Dentry returns vd's dentry.
func (vd VirtualDentry) Dentry() *Dentry { return vd.dentry }

// IncRef takes a reference on vd's mount and dentry.
func (vd VirtualDentry) IncRef() {
	if !vd.Ok() {
		return
	}
	vd.mount.IncRef()
	vd.dentry.IncRef()
}

// DecRef drops a reference on vd's mount and dentry.
func (vd VirtualDentry) DecRef(ctx context.Context) {
	if !vd.Ok() {
		return
	}
	vd.dentry.DecRef(ctx)
	vd.mount.DecRef(ctx)
}

// Equal reports whether vd and other are the same location.
func (vd VirtualDentry) Equal(other VirtualDentry) bool {
	return vd.mount == other.mount && vd.dentry == other.dentry
}
