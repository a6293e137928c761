package vfs

import (
	"context"
	"path"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/refs"
)

// Filesystem is one instance of a filesystem (Linux: struct super_block).
type Filesystem struct {
	// refs is held by each Mount of the filesystem and by its creator.
	refs refs.Count
	// impl is the filesystem implementation. Immutable.
	impl FilesystemImpl
	// root is the filesystem's root dentry; the Filesystem holds a
	// reference on it. Immutable.
	root *Dentry
	// rootPath is where root is in what the filesystem shows of the
	// host (a gofer serving a bind mount's source): the start of
	// mountinfo's root field, "" for "/". Set before the first mount.
	rootPath string
}

// SetRootPath records that the filesystem's root is the directory p of
// what it comes from (the host path a gofer serves for a bind mount), so
// that mountinfo's root field names it as it does for a bind mount on
// Linux. It must be called before the filesystem is mounted.
func (fs *Filesystem) SetRootPath(p string) { fs.rootPath = path.Clean("/" + p) }

// NewFilesystem returns a Filesystem with one reference (the caller's) for
// impl, whose root directory is root. It takes over the caller's reference
// on root.
func NewFilesystem(impl FilesystemImpl, root Inode) *Filesystem {
	fs := &Filesystem{impl: impl}
	fs.refs.Init(fs)
	fs.root = newDentry(fs, nil, "", root)
	return fs
}

// Impl returns the filesystem implementation.
func (fs *Filesystem) Impl() FilesystemImpl { return fs.impl }

// Root returns the root dentry, without a reference.
func (fs *Filesystem) Root() *Dentry { return fs.root }

// IncRef takes a reference on fs.
func (fs *Filesystem) IncRef() { fs.refs.IncRef() }

// DecRef drops a reference on fs, releasing it with the last.
func (fs *Filesystem) DecRef(ctx context.Context) {
	if fs.refs.DecRef() {
		fs.root.DecRef(ctx)
		fs.impl.Release(ctx)
	}
}

var anonDevMinor atomic.Uint32

// AnonDevice returns a new device number (major 0) for a filesystem
// instance to report as st_dev, as Linux's anonymous block devices.
func AnonDevice() uint64 {
	return unix.Mkdev(0, anonDevMinor.Add(1))
}

// Mount is a filesystem attached to the mount tree (Linux: struct mount).
type Mount struct {
	// vfs is the VFS the mount belongs to. Immutable.
	vfs *VirtualFilesystem
	// fs is the mounted filesystem; the mount holds a reference. Immutable.
	fs *Filesystem
	// root is the dentry at the root of this mount (fs's root). Immutable.
	root *Dentry
	// id is the mount ID (statx stx_mnt_id). Immutable.
	id uint64
	// flags are the per-mount flags (unix.MS_RDONLY, MS_NOEXEC, MS_NOSUID,
	// MS_NODEV). Accessed atomically.
	flags atomic.Uint32
	// refs counts VirtualDentries (open files, cwds) and the mount tree's
	// own reference while attached.
	refs refs.Count
	// parent and point are where the mount is attached (nil for a
	// namespace root). The mount holds a reference on point. Protected by
	// VirtualFilesystem.mu.
	parent *Mount
	point  *Dentry
	// anon marks the detached mounts of anonymous files (anon.go).
	// Immutable.
	anon bool
	// source is the mount source shown in /proc/PID/mounts ("" for
	// none), and propagation the recorded propagation type
	// (mount_ops.go). Protected by VirtualFilesystem.mu.
	source      string
	propagation uint32
	// peerGroup is the shared peer group ID shown in mountinfo when
	// propagation is shared. Protected by VirtualFilesystem.mu.
	peerGroup uint64
	// locked marks a mount that came into its tree together with its
	// parent, from a more privileged place (Linux: MNT_LOCKED): it can't
	// be unmounted or moved on its own, nor left out of a bind of what
	// it is mounted on, so what it covers stays hidden. lockedFlags are
	// the per-mount flags a remount may not clear (Linux:
	// MNT_LOCK_READONLY, _NOSUID, _NODEV, _NOEXEC), and lockedATime
	// forbids changing the access-time flags (MNT_LOCK_ATIME). See
	// LockMountTree. Protected by VirtualFilesystem.mu.
	locked      bool
	lockedFlags uint32
	lockedATime bool
	// umounted marks a mount umount2 took out of its tree (Linux:
	// MNT_UMOUNT). kept are the locked mounts that a lazy unmount left
	// attached to this one (Linux: disconnect_mount): m holds their tree
	// references and drops them with its last reference. Protected by
	// VirtualFilesystem.mu; kept never changes once umounted is set.
	umounted bool
	kept     []*Mount
}

// anonMountIDs numbers anonymous mounts from the top of the ID space.
var anonMountIDs = func() *atomic.Uint64 { var a atomic.Uint64; a.Store(1 << 32); return &a }()

// ID returns the mount ID.
func (m *Mount) ID() uint64 { return m.id }

// Filesystem returns the mounted filesystem.
func (m *Mount) Filesystem() *Filesystem { return m.fs }

// Flags returns the mount flags.
func (m *Mount) Flags() uint32 { return m.flags.Load() }

// ReadOnly reports whether the mount is read-only.
func (m *Mount) ReadOnly() bool { return m.flags.Load()&unix.MS_RDONLY != 0 }

// IncRef takes a reference on m.
func (m *Mount) IncRef() { m.refs.IncRef() }

// tryIncRef takes a reference on m unless its last one is already gone.
func (m *Mount) tryIncRef() bool { return m.refs.TryIncRef() }

// DecRef drops a reference on m; the filesystem is released with the last,
// and so are the locked mounts a lazy unmount kept on m.
func (m *Mount) DecRef(ctx context.Context) {
	if m.refs.DecRef() {
		for _, c := range m.kept {
			c.DecRef(ctx)
		}
		m.root.DecRef(ctx)
		m.fs.DecRef(ctx)
	}
}

// parentLocked returns the mount m is attached to, or nil. A locked mount
// kept on a lazily unmounted parent loses it when the parent's last
// reference goes (Linux then detaches it; here umountLocked tidies up
// later).
//
// Preconditions: VirtualFilesystem.mu is held.
func (m *Mount) parentLocked() *Mount {
	p := m.parent
	if p != nil && p.umounted && p.refs.Load() == 0 {
		return nil
	}
	return p
}

// mountFlagsMask are the mount flags the VFS understands.
const mountFlagsMask = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME

// newMount returns a detached mount of fs with one reference.
func (vfs *VirtualFilesystem) newMount(fs *Filesystem, flags uint32) *Mount {
	fs.IncRef()
	fs.root.IncRef()
	m := &Mount{vfs: vfs, fs: fs, root: fs.root, id: vfs.lastMountID.Add(1)}
	m.flags.Store(flags & mountFlagsMask)
	m.refs.Init(m)
	return m
}

// mountKey identifies a mount point: a dentry as seen through a mount.
type mountKey struct {
	parent *Mount
	point  *Dentry
}

// MountNamespace is a mount tree with a root (Linux: struct
// mnt_namespace).
type MountNamespace struct {
	// root is the root mount; pivot_root replaces it (with
	// VirtualFilesystem.mu held for writing).
	root atomic.Pointer[Mount]
}

// NewMountNamespace returns a namespace whose root is a mount of fs with
// the given mount flags (unix.MS_RDONLY for a read-only root).
func (vfs *VirtualFilesystem) NewMountNamespace(ctx context.Context, fs *Filesystem, flags uint32) (*MountNamespace, error) {
	if fs == nil || !fs.root.isDir() {
		return nil, unix.ENOTDIR
	}
	mntns := &MountNamespace{}
	mntns.root.Store(vfs.newMount(fs, flags))
	return mntns, nil
}

// Root returns the namespace's root location, with a new reference.
func (mntns *MountNamespace) Root() VirtualDentry {
	m := mntns.root.Load()
	vd := VirtualDentry{mount: m, dentry: m.root}
	vd.IncRef()
	return vd
}

// MountAt mounts fs on the directory target resolves to, with the given
// mount flags. A mount on a location that already has mounts goes on top.
// It requires CAP_SYS_ADMIN.
func (vfs *VirtualFilesystem) MountAt(ctx context.Context, target *PathOperation, fs *Filesystem, flags uint32) error {
	creds := credsOf(ctx, "mount")
	if !creds.HasCap(CapSysAdmin) {
		return unix.EPERM
	}
	if fs == nil {
		return unix.EINVAL
	}
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	r, err := vfs.newResolver(ctx, target)
	if err != nil {
		return err
	}
	defer r.release()
	r.follow = true
	if err := r.resolve(); err != nil {
		return err
	}
	vd := r.cur
	if !vd.dentry.isDir() || !fs.root.isDir() {
		return unix.ENOTDIR
	}
	if vd.dentry.dead.Load() {
		return unix.ENOENT
	}
	m := vfs.newMount(fs, flags)
	vd.dentry.IncRef()
	m.parent, m.point = vd.mount, vd.dentry
	vd.dentry.mounts++
	vfs.mounts[mountKey{vd.mount, vd.dentry}] = m
	return nil
}

// crossMountsLocked replaces vd by the root of the topmost mount stacked on
// it, if any, adjusting references.
//
// Preconditions: vfs.mu is held.
func (vfs *VirtualFilesystem) crossMountsLocked(ctx context.Context, vd VirtualDentry) VirtualDentry {
	for vd.dentry.mounts > 0 {
		m := vfs.mounts[mountKey{vd.mount, vd.dentry}]
		if m == nil {
			break
		}
		next := VirtualDentry{mount: m, dentry: m.root}
		next.IncRef()
		vd.DecRef(ctx)
		vd = next
	}
	return vd
}
