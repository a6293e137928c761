package vfs

import (
	"context"

	"golang.org/x/sys/unix"
)

// CharDevice is the driver of a character device: opening any device node
// with its number, on any filesystem, opens it (Linux: chrdev_open and
// struct cdev).
type CharDevice interface {
	// Open returns the implementation of a new open file description of
	// the device, opened at vd.
	Open(ctx context.Context, vd VirtualDentry, opts *OpenOptions) (FileDescriptionImpl, error)
}

// deviceKey is a device number.
type deviceKey struct{ major, minor uint32 }

// RegisterCharDevice makes dev the driver of character device
// major:minor. It returns EEXIST if the number is taken.
func (vfs *VirtualFilesystem) RegisterCharDevice(major, minor uint32, dev CharDevice) error {
	vfs.devMu.Lock()
	defer vfs.devMu.Unlock()
	k := deviceKey{major, minor}
	if _, ok := vfs.charDevs[k]; ok {
		return unix.EEXIST
	}
	if vfs.charDevs == nil {
		vfs.charDevs = make(map[deviceKey]CharDevice)
	}
	vfs.charDevs[k] = dev
	return nil
}

// charDevice returns the driver of major:minor, or nil.
func (vfs *VirtualFilesystem) charDevice(major, minor uint32) CharDevice {
	vfs.devMu.Lock()
	defer vfs.devMu.Unlock()
	return vfs.charDevs[deviceKey{major, minor}]
}

// HasCharDevice reports whether a driver serves character device
// major:minor.
func (vfs *VirtualFilesystem) HasCharDevice(major, minor uint32) bool {
	return vfs.charDevice(major, minor) != nil
}

// openInode opens the file at vd: character devices through their
// registered driver (ENXIO if none), everything else through the inode.
func (vfs *VirtualFilesystem) openInode(ctx context.Context, vd VirtualDentry, opts *OpenOptions) (FileDescriptionImpl, error) {
	inode := vd.dentry.inode
	if fileType(inode.Mode()) != unix.S_IFCHR {
		return inode.Open(ctx, vd, opts)
	}
	st, err := inode.Stat(ctx)
	if err != nil {
		return nil, err
	}
	dev := vfs.charDevice(st.Rdev_major, st.Rdev_minor)
	if dev == nil {
		return nil, unix.ENXIO
	}
	return dev.Open(ctx, vd, opts)
}
