package overlay

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

var _ vfs.XattrInode = (*inode)(nil)

// xattrLayer returns the current layer file as a vfs.XattrInode, or nil if
// it stores no extended attributes.
func (i *inode) xattrLayer() vfs.XattrInode {
	x, _ := i.current().(vfs.XattrInode)
	return x
}

// Getxattr implements vfs.XattrInode.Getxattr from the current layer.
func (i *inode) Getxattr(ctx context.Context, name string) ([]byte, error) {
	x := i.xattrLayer()
	if x == nil {
		return nil, unix.EOPNOTSUPP
	}
	return x.Getxattr(ctx, name)
}

// Listxattr implements vfs.XattrInode.Listxattr from the current layer.
func (i *inode) Listxattr(ctx context.Context) ([]string, error) {
	x := i.xattrLayer()
	if x == nil {
		return nil, nil
	}
	return x.Listxattr(ctx)
}

// Setxattr implements vfs.XattrInode.Setxattr: the file is copied up first.
func (i *inode) Setxattr(ctx context.Context, name string, value []byte, flags uint32) error {
	if err := i.copyUp(ctx, withData); err != nil {
		return err
	}
	x := i.xattrLayer()
	if x == nil {
		return unix.EOPNOTSUPP
	}
	return x.Setxattr(ctx, name, value, flags)
}

// Removexattr implements vfs.XattrInode.Removexattr: the file is copied up
// first.
func (i *inode) Removexattr(ctx context.Context, name string) error {
	if err := i.copyUp(ctx, withData); err != nil {
		return err
	}
	x := i.xattrLayer()
	if x == nil {
		return unix.EOPNOTSUPP
	}
	return x.Removexattr(ctx, name)
}

// copyXattrs copies the extended attributes of from to to, where both
// layers store them. Attributes the upper layer refuses (a namespace it
// does not store) are skipped, as Linux skips those the upper filesystem
// does not support.
func copyXattrs(ctx context.Context, from, to vfs.Inode) error {
	fx, ok := from.(vfs.XattrInode)
	if !ok {
		return nil
	}
	tx, ok := to.(vfs.XattrInode)
	if !ok {
		return nil
	}
	names, err := fx.Listxattr(ctx)
	if err != nil {
		return nil
	}
	for _, n := range names {
		v, err := fx.Getxattr(ctx, n)
		if err != nil {
			continue
		}
		if err := tx.Setxattr(ctx, n, v, 0); err != nil && err != unix.EOPNOTSUPP && err != unix.EPERM {
			return err
		}
	}
	return nil
}
