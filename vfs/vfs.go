// Package vfs is the Sentry's virtual filesystem: the mount tree, the dentry
// cache, path resolution, open file descriptions, permission checks, and the
// interface filesystems implement (FilesystemImpl, Inode, DirInode,
// SymlinkInode, FileDescriptionImpl). docs/vfs.md describes the design and
// the contract for filesystem implementations.
//
// The main types are VirtualFilesystem (one per Sentry: all mounts),
// MountNamespace, Mount, Filesystem, Dentry, VirtualDentry (a mount and a
// dentry: a location), and FileDescription (Linux: struct file).
//
// Errors are unix.Errno values, plus ErrInterrupted for blocking operations
// interrupted by a signal.
//
// Lock order:
//
//	VirtualFilesystem.mu (walks and operations read-lock it; rename and mount write-lock it)
//	  Dentry.dirMu (one directory's operations; several only under VirtualFilesystem.mu held for writing)
//	    Dentry.childMu
//	      filesystem implementation locks
//
//	FileDescription.offMu is taken without any of the above held, and the
//	filesystem's locks nest inside it.
package vfs

import (
	"sync"
	"sync/atomic"
)

// Linux limits on paths.
const (
	// PathMax is the maximum length of a path including its NUL
	// (PATH_MAX).
	PathMax = 4096
	// NameMax is the maximum length of a path component (NAME_MAX).
	NameMax = 255
	// MaxSymlinkTraversals is the maximum number of symlinks followed in
	// one path walk (Linux: MAXSYMLINKS).
	MaxSymlinkTraversals = 40
)

// VirtualFilesystem is the Sentry's VFS: it holds every mount and resolves
// paths. It is safe for concurrent use.
type VirtualFilesystem struct {
	// mu serialises changes to the tree's shape (rename, mount) against
	// walks, which hold it for reading for their whole duration.
	mu sync.RWMutex

	// mounts maps a mount point (as seen through its parent mount) to the
	// topmost mount on it. Protected by mu.
	mounts map[mountKey]*Mount

	// lastMountID is the last mount ID handed out.
	lastMountID atomic.Uint64

	// keptParents are the lazily unmounted mounts that locked mounts
	// stayed attached to (Mount.kept); umount2 detaches those of the
	// ones that are gone. Protected by mu.
	keptParents []*Mount

	// devMu protects charDevs. It is a leaf lock.
	devMu sync.Mutex
	// charDevs are the character device drivers by number. Protected by
	// devMu.
	charDevs map[deviceKey]CharDevice
}

// New returns an empty VirtualFilesystem.
func New() *VirtualFilesystem {
	return &VirtualFilesystem{mounts: make(map[mountKey]*Mount)}
}

// PathOperation names a file by path for an *at operation.
type PathOperation struct {
	// Root is the caller's root directory: the walk never goes above it and
	// absolute paths and symlinks start there.
	Root VirtualDentry
	// Start is where a relative path starts (the cwd or the dirfd).
	Start VirtualDentry
	// Path is the path, as the guest gave it.
	Path string
	// FollowFinalSymlink says whether a symlink as the final component is
	// followed.
	FollowFinalSymlink bool
	// Resolve restricts the walk (openat2's RESOLVE_* flags, see
	// ResolveBeneath and the others in resolve.go); 0 for every other
	// syscall.
	Resolve uint32
}
