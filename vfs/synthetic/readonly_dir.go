package synthetic

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// ReadOnlyDirDefaults implements the changing operations of vfs.DirInode
// for synthetic directories (devfs, procfs, sysfs, devpts) whose entries
// the guest cannot create or remove: each fails with Errno (EPERM if
// zero; procfs and devpts use EACCES, as Linux's do). Embed it and
// provide Lookup.
type ReadOnlyDirDefaults struct {
	Errno unix.Errno
}

func (d ReadOnlyDirDefaults) err() error {
	if d.Errno == 0 {
		return unix.EPERM
	}
	return d.Errno
}

// Create implements vfs.DirInode.Create.
func (d ReadOnlyDirDefaults) Create(context.Context, string, *vfs.CreateOptions) (vfs.Inode, error) {
	return nil, d.err()
}

// Mkdir implements vfs.DirInode.Mkdir.
func (d ReadOnlyDirDefaults) Mkdir(context.Context, string, *vfs.CreateOptions) error { return d.err() }

// Mknod implements vfs.DirInode.Mknod.
func (d ReadOnlyDirDefaults) Mknod(context.Context, string, *vfs.CreateOptions) error { return d.err() }

// Symlink implements vfs.DirInode.Symlink.
func (d ReadOnlyDirDefaults) Symlink(context.Context, string, string, *vfs.CreateOptions) error {
	return d.err()
}

// Link implements vfs.DirInode.Link.
func (d ReadOnlyDirDefaults) Link(context.Context, string, vfs.Inode) error { return d.err() }

// Unlink implements vfs.DirInode.Unlink.
func (d ReadOnlyDirDefaults) Unlink(context.Context, string, vfs.Inode) error { return d.err() }

// Rmdir implements vfs.DirInode.Rmdir.
func (d ReadOnlyDirDefaults) Rmdir(context.Context, string, vfs.Inode) error { return d.err() }

// Rename implements vfs.DirInode.Rename.
func (d ReadOnlyDirDefaults) Rename(context.Context, string, vfs.Inode, vfs.DirInode, string, vfs.Inode, uint32) error {
	return d.err()
}
