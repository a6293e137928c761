package vfs

import (
	"context"
	"strings"

	"golang.org/x/sys/unix"
)

// Extended attribute limits. Linux: include/uapi/linux/limits.h.
const (
	// XattrNameMax is the longest attribute name (XATTR_NAME_MAX).
	XattrNameMax = 255
	// XattrSizeMax is the largest attribute value (XATTR_SIZE_MAX).
	XattrSizeMax = 65536
	// XattrListMax is the largest list of names (XATTR_LIST_MAX).
	XattrListMax = 65536
)

// Extended attribute namespaces.
const (
	xattrUser     = "user."
	xattrTrusted  = "trusted."
	xattrSecurity = "security."
	xattrSystem   = "system."
)

// XattrInode is an Inode that stores extended attributes. Inodes that do
// not implement it answer EOPNOTSUPP. Names reach it whole
// ("user.comment"), non-empty, at most XattrNameMax bytes, with a known
// namespace prefix and a non-empty rest, and permission checks done; it
// returns EOPNOTSUPP for a namespace it does not store.
type XattrInode interface {
	Inode
	// Getxattr returns the value of name, or unix.ENODATA.
	Getxattr(ctx context.Context, name string) ([]byte, error)
	// Setxattr sets name to value (at most XattrSizeMax bytes). flags are
	// unix.XATTR_CREATE (unix.EEXIST if name exists) and
	// unix.XATTR_REPLACE (unix.ENODATA if it does not).
	Setxattr(ctx context.Context, name string, value []byte, flags uint32) error
	// Listxattr returns the names of all attributes.
	Listxattr(ctx context.Context) ([]string, error)
	// Removexattr removes name, or returns unix.ENODATA.
	Removexattr(ctx context.Context, name string) error
}

// checkXattrName validates an attribute name (Linux: the name copy in
// setxattr/getxattr and xattr_resolve_name).
func checkXattrName(name string) error {
	if name == "" || len(name) > XattrNameMax {
		return unix.ERANGE
	}
	for _, p := range []string{xattrUser, xattrTrusted, xattrSecurity, xattrSystem} {
		if strings.HasPrefix(name, p) {
			if len(name) == len(p) {
				return unix.EINVAL
			}
			return nil
		}
	}
	return unix.EOPNOTSUPP
}

// xattrPermission checks that the caller may read (write false) or change
// (write true) attribute name of the file at vd (Linux:
// xattr_permission, and commoncap's rule for security.*).
func xattrPermission(ctx context.Context, vd VirtualDentry, name string, write bool) error {
	creds := credsOf(ctx, "xattr")
	inode := vd.dentry.inode
	mode := inode.Mode()
	denied := unix.ENODATA
	if write {
		denied = unix.EPERM
	}
	switch {
	case strings.HasPrefix(name, xattrSystem):
		return nil
	case strings.HasPrefix(name, xattrSecurity):
		if write && !creds.HasCap(CapSysAdmin) {
			return unix.EPERM
		}
		return nil
	case strings.HasPrefix(name, xattrTrusted):
		if !creds.HasCap(CapSysAdmin) {
			return denied
		}
		return nil
	case strings.HasPrefix(name, xattrUser):
		switch fileType(mode) {
		case unix.S_IFREG:
		case unix.S_IFDIR:
			if write && mode&unix.S_ISVTX != 0 {
				st, err := inode.Stat(ctx)
				if err != nil {
					return err
				}
				if !isOwner(creds, st.Uid) {
					return unix.EPERM
				}
			}
		default:
			return denied
		}
	}
	ats := MayRead
	if write {
		ats = MayWrite
	}
	return inode.CheckPermissions(ctx, creds, ats)
}

// xattrInode returns vd's inode as an XattrInode, or EOPNOTSUPP.
func xattrInode(vd VirtualDentry) (XattrInode, error) {
	x, ok := vd.dentry.inode.(XattrInode)
	if !ok {
		return nil, unix.EOPNOTSUPP
	}
	return x, nil
}

// getxattr implements getxattr on vd.
func getxattr(ctx context.Context, vd VirtualDentry, name string) ([]byte, error) {
	if err := checkXattrName(name); err != nil {
		return nil, err
	}
	if err := xattrPermission(ctx, vd, name, false); err != nil {
		return nil, err
	}
	x, err := xattrInode(vd)
	if err != nil {
		return nil, err
	}
	return x.Getxattr(ctx, name)
}

// setxattr implements setxattr on vd.
func setxattr(ctx context.Context, vd VirtualDentry, name string, value []byte, flags uint32) error {
	if flags&^(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 {
		return unix.EINVAL
	}
	if err := checkXattrName(name); err != nil {
		return err
	}
	if len(value) > XattrSizeMax {
		return unix.E2BIG
	}
	if vd.mount.ReadOnly() {
		return unix.EROFS
	}
	if err := xattrPermission(ctx, vd, name, true); err != nil {
		return err
	}
	x, err := xattrInode(vd)
	if err != nil {
		return err
	}
	if err := x.Setxattr(ctx, name, value, flags); err != nil {
		return err
	}
	notifyDentry(vd.dentry, unix.IN_ATTRIB)
	return nil
}

// listxattr implements listxattr on vd: the names the caller may see.
func listxattr(ctx context.Context, vd VirtualDentry) ([]string, error) {
	x, ok := vd.dentry.inode.(XattrInode)
	if !ok {
		return nil, nil
	}
	names, err := x.Listxattr(ctx)
	if err != nil {
		return nil, err
	}
	if credsOf(ctx, "listxattr").HasCap(CapSysAdmin) {
		return names, nil
	}
	out := names[:0:0]
	for _, n := range names {
		if !strings.HasPrefix(n, xattrTrusted) {
			out = append(out, n)
		}
	}
	return out, nil
}

// removexattr implements removexattr on vd.
func removexattr(ctx context.Context, vd VirtualDentry, name string) error {
	if err := checkXattrName(name); err != nil {
		return err
	}
	if vd.mount.ReadOnly() {
		return unix.EROFS
	}
	if err := xattrPermission(ctx, vd, name, true); err != nil {
		return err
	}
	x, err := xattrInode(vd)
	if err != nil {
		return err
	}
	if err := x.Removexattr(ctx, name); err != nil {
		return err
	}
	notifyDentry(vd.dentry, unix.IN_ATTRIB)
	return nil
}

// withDentry runs f on the location pop names.
func (vfs *VirtualFilesystem) withDentry(ctx context.Context, pop *PathOperation, f func(vd VirtualDentry) error) error {
	vd, err := vfs.GetDentryAt(ctx, pop, GetDentryOptions{})
	if err != nil {
		return err
	}
	defer vd.DecRef(ctx)
	return f(vd)
}

// GetxattrAt returns the value of attribute name of the file pop names
// (getxattr(2), lgetxattr(2)). The caller applies the size rules.
func (vfs *VirtualFilesystem) GetxattrAt(ctx context.Context, pop *PathOperation, name string) ([]byte, error) {
	var v []byte
	err := vfs.withDentry(ctx, pop, func(vd VirtualDentry) (err error) {
		v, err = getxattr(ctx, vd, name)
		return err
	})
	return v, err
}

// SetxattrAt sets attribute name of the file pop names (setxattr(2),
// lsetxattr(2)).
func (vfs *VirtualFilesystem) SetxattrAt(ctx context.Context, pop *PathOperation, name string, value []byte, flags uint32) error {
	return vfs.withDentry(ctx, pop, func(vd VirtualDentry) error {
		return setxattr(ctx, vd, name, value, flags)
	})
}

// ListxattrAt returns the attribute names of the file pop names
// (listxattr(2), llistxattr(2)).
func (vfs *VirtualFilesystem) ListxattrAt(ctx context.Context, pop *PathOperation) ([]string, error) {
	var names []string
	err := vfs.withDentry(ctx, pop, func(vd VirtualDentry) (err error) {
		names, err = listxattr(ctx, vd)
		return err
	})
	return names, err
}

// RemovexattrAt removes attribute name of the file pop names
// (removexattr(2), lremovexattr(2)).
func (vfs *VirtualFilesystem) RemovexattrAt(ctx context.Context, pop *PathOperation, name string) error {
	return vfs.withDentry(ctx, pop, func(vd VirtualDentry) error {
		return removexattr(ctx, vd, name)
	})
}

// xattrVD returns fd's location for the f*xattr calls: EBADF for O_PATH
// files, EOPNOTSUPP for files with no location.
func (fd *FileDescription) xattrVD() (VirtualDentry, error) {
	if fd.isPath {
		return VirtualDentry{}, unix.EBADF
	}
	if !fd.vd.Ok() {
		return VirtualDentry{}, unix.EOPNOTSUPP
	}
	return fd.vd, nil
}

// Getxattr implements fgetxattr(2).
func (fd *FileDescription) Getxattr(ctx context.Context, name string) ([]byte, error) {
	vd, err := fd.xattrVD()
	if err != nil {
		return nil, err
	}
	return getxattr(ctx, vd, name)
}

// Setxattr implements fsetxattr(2).
func (fd *FileDescription) Setxattr(ctx context.Context, name string, value []byte, flags uint32) error {
	vd, err := fd.xattrVD()
	if err != nil {
		return err
	}
	return setxattr(ctx, vd, name, value, flags)
}

// Listxattr implements flistxattr(2).
func (fd *FileDescription) Listxattr(ctx context.Context) ([]string, error) {
	vd, err := fd.xattrVD()
	if err != nil {
		return nil, err
	}
	return listxattr(ctx, vd)
}

// Removexattr implements fremovexattr(2).
func (fd *FileDescription) Removexattr(ctx context.Context, name string) error {
	vd, err := fd.xattrVD()
	if err != nil {
		return err
	}
	return removexattr(ctx, vd, name)
}
