package vfs

import (
	"context"

	"golang.org/x/sys/unix"
)

// ReadOnlyDirDefaults implements the changing operations of DirInode for
// synthetic directories (devfs, procfs, sysfs) whose entries the guest
// cannot create or remove: each fails with Errno (EPERM if zero; procfs
// uses EACCES, as Linux's does). Embed it and provide Lookup.
type ReadOnlyDirDefaults struct {
	Errno unix.Errno
}

func (d ReadOnlyDirDefaults) err() error {
	if d.Errno == 0 {
		return unix.EPERM
	}
	return d.Errno
}

// Create implements DirInode.Create.
func (d ReadOnlyDirDefaults) Create(context.Context, string, *CreateOptions) (Inode, error) {
	return nil, d.err()
}

// Mkdir implements DirInode.Mkdir.
func (d ReadOnlyDirDefaults) Mkdir(context.Context, string, *CreateOptions) error { return d.err() }

// Mknod implements DirInode.Mknod.
func (d ReadOnlyDirDefaults) Mknod(context.Context, string, *CreateOptions) error { return d.err() }

// Symlink implements DirInode.Symlink.
func (d ReadOnlyDirDefaults) Symlink(context.Context, string, string, *CreateOptions) error {
	return d.err()
}

// Link implements DirInode.Link.
func (d ReadOnlyDirDefaults) Link(context.Context, string, Inode) error { return d.err() }

// Unlink implements DirInode.Unlink.
func (d ReadOnlyDirDefaults) Unlink(context.Context, string, Inode) error { return d.err() }

// Rmdir implements DirInode.Rmdir.
func (d ReadOnlyDirDefaults) Rmdir(context.Context, string, Inode) error { return d.err() }

// Rename implements DirInode.Rename.
func (d ReadOnlyDirDefaults) Rename(context.Context, string, Inode, DirInode, string, Inode, uint32) error {
	return d.err()
}
