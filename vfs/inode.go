package vfs

import (
	"context"

	"golang.org/x/sys/unix"
)

// FilesystemImpl is what a filesystem implementation provides for each of
// its instances (Linux: struct super_block and super_operations).
type FilesystemImpl interface {
	// Name returns the filesystem type name ("tmpfs", "proc", ...).
	Name() string
	// Release is called when the Filesystem's last reference is dropped.
	Release(ctx context.Context)
}

// Inode is one file of a filesystem (Linux: struct inode and
// inode_operations). See docs/vfs.md for the contract.
type Inode interface {
	// IncRef takes a reference on the inode.
	IncRef()
	// DecRef drops a reference; the inode's resources are freed when the
	// last one goes.
	DecRef(ctx context.Context)
	// Mode returns the file type (S_IFMT bits) and permission bits (07777).
	// It must be cheap and never block.
	Mode() uint32
	// CheckPermissions returns nil if creds may access the file as ats
	// asks, or unix.EACCES (or another errno).
	CheckPermissions(ctx context.Context, creds *Credentials, ats AccessTypes) error
	// Stat returns the file's attributes. The VFS fills Mnt_id.
	Stat(ctx context.Context) (unix.Statx_t, error)
	// SetStat changes attributes; permissions were checked by the VFS.
	SetStat(ctx context.Context, opts *SetStatOptions) error
	// Open returns the implementation of a new open file description for
	// the file at vd. Access checks were done by the VFS.
	Open(ctx context.Context, vd VirtualDentry, opts *OpenOptions) (FileDescriptionImpl, error)
}

// DirInode is an Inode that is a directory. Every name passed to its
// methods is a single valid path component (not "." or ".."). The VFS
// serialises all calls on one directory.
type DirInode interface {
	Inode
	// Lookup returns the child called name with a new reference, or
	// unix.ENOENT.
	Lookup(ctx context.Context, name string) (Inode, error)
	// Create creates a regular file and returns it with a new reference.
	Create(ctx context.Context, name string, opts *CreateOptions) (Inode, error)
	// Mkdir creates a directory.
	Mkdir(ctx context.Context, name string, opts *CreateOptions) error
	// Mknod creates a device file, FIFO or socket file (opts.Mode has the
	// type bits, opts.Dev the device number).
	Mknod(ctx context.Context, name string, opts *CreateOptions) error
	// Symlink creates a symbolic link to target.
	Symlink(ctx context.Context, name, target string, opts *CreateOptions) error
	// Link creates name as a new hard link to target, an inode of the same
	// filesystem that is not a directory.
	Link(ctx context.Context, name string, target Inode) error
	// Unlink removes the non-directory child called name.
	Unlink(ctx context.Context, name string, child Inode) error
	// Rmdir removes the directory child called name, or returns
	// unix.ENOTEMPTY.
	Rmdir(ctx context.Context, name string, child Inode) error
	// Rename moves child from oldName in this directory to newName in
	// newDir (same filesystem), replacing replaced (nil if none).
	Rename(ctx context.Context, oldName string, child Inode, newDir DirInode, newName string, replaced Inode, flags uint32) error
}

// SymlinkInode is an Inode that is a symbolic link.
type SymlinkInode interface {
	Inode
	// Readlink returns the link's target.
	Readlink(ctx context.Context) (string, error)
}

// MagicLinkInode is a symbolic link that the path walk follows by jumping
// to a location rather than by walking text (procfs /proc/PID/fd/N).
type MagicLinkInode interface {
	SymlinkInode
	// GetLink returns the target with a new reference (not Ok: ENOENT).
	// Path walks use only GetLink; Readlink serves readlink(2).
	GetLink(ctx context.Context) (VirtualDentry, error)
}

// Revalidator is implemented by a DirInode whose children may change
// without going through the VFS.
type Revalidator interface {
	// Revalidate reports whether the cached child called name is still
	// valid.
	Revalidate(ctx context.Context, name string, child Inode) bool
}

// CreateOptions are the attributes of a file being created.
type CreateOptions struct {
	// Mode is the file type and permission bits (umask already applied).
	Mode uint32
	// UID and GID are the owner of the new file.
	UID, GID uint32
	// Dev is the device number for Mknod of a device file (unix.Mkdev).
	Dev uint64
}

// OpenOptions are the arguments of open(2).
type OpenOptions struct {
	// Flags are the open flags (O_*).
	Flags uint32
	// Mode is the mode of a file created by O_CREAT (umask already applied).
	Mode uint32
}

// SetStatOptions describe an attribute change (chmod, chown, truncate,
// utimensat).
type SetStatOptions struct {
	// Mask is a set of unix.STATX_MODE, STATX_UID, STATX_GID, STATX_SIZE,
	// STATX_ATIME, STATX_MTIME: which fields below apply.
	Mask uint32
	// Mode holds the new permission bits (07777).
	Mode uint32
	// UID and GID are the new owner and group.
	UID, GID uint32
	// Size is the new size.
	Size uint64
	// Atime and Mtime are the new times. From the syscall layer, Nsec may be
	// unix.UTIME_NOW or unix.UTIME_OMIT; the VFS resolves both before the
	// filesystem sees them.
	Atime, Mtime unix.Timespec
}

// GetDentryOptions are the options of GetDentryAt.
type GetDentryOptions struct {
	// CheckSearchable requires the result to be a directory the caller may
	// search (chdir, fchdir).
	CheckSearchable bool
}

// Dirent is one directory entry, as produced by IterDirents.
type Dirent struct {
	// Name is the entry's name.
	Name string
	// Type is the entry's type (unix.DT_*).
	Type uint8
	// Ino is the entry's inode number.
	Ino uint64
	// NextOff is the directory position just after this entry.
	NextOff int64
}

// DirentType returns the unix.DT_* type of a file with the given mode.
func DirentType(mode uint32) uint8 {
	return uint8((mode & unix.S_IFMT) >> 12)
}
