package vfs

import (
	"context"

	"golang.org/x/sys/unix"
)

// FS_XFLAG_* bits of struct file_attr's fa_xflags (include/uapi/linux/fs.h).
const (
	// XflagNodump is FS_XFLAG_NODUMP: do not include in backups.
	XflagNodump = 0x80
	// XflagsCommon are the flags every filesystem with file attributes
	// understands (Linux's FS_XFLAG_COMMON: immutable, append, sync,
	// noatime, nodump, dax); the others are XFS's.
	XflagsCommon = 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x8000
	// xflagsValid are the defined flags; others are EINVAL.
	xflagsValid = 0x1fffb | xflagsIgnored
	// xflagsIgnored are defined flags Linux drops on the way in:
	// FS_XFLAG_COWEXTSIZE and FS_XFLAG_HASATTR.
	xflagsIgnored = 0x10000 | 0x80000000
)

// FileAttr is struct file_attr (file_getattr(2), file_setattr(2)).
type FileAttr struct {
	Xflags     uint64
	ExtSize    uint32
	NExtents   uint32
	ProjID     uint32
	CowExtSize uint32
}

// FileAttrInode is implemented by inodes of filesystems with file
// attributes (Linux's fileattr_get/fileattr_set inode operations). Other
// filesystems answer EOPNOTSUPP.
type FileAttrInode interface {
	// FileAttr returns the inode's attributes, or EOPNOTSUPP for a kind
	// of file that has none.
	FileAttr() (FileAttr, error)
	// SetFileAttr sets them: EOPNOTSUPP for what the filesystem cannot
	// keep. The VFS has checked the flags and the caller's rights.
	SetFileAttr(fa FileAttr) error
}

// CheckFileAttr checks attributes a caller wants to set: EINVAL for
// undefined flags. It also drops the flags Linux ignores.
func CheckFileAttr(fa *FileAttr) error {
	if fa.Xflags&^xflagsValid != 0 {
		return unix.EINVAL
	}
	fa.Xflags &^= xflagsIgnored
	fa.NExtents = 0
	return nil
}

// fileAttrInode returns vd's inode as a FileAttrInode, or EOPNOTSUPP.
func fileAttrInode(vd VirtualDentry) (FileAttrInode, error) {
	fi, ok := vd.dentry.inode.(FileAttrInode)
	if !ok {
		return nil, unix.EOPNOTSUPP
	}
	return fi, nil
}

// GetFileAttr returns the attributes of the file at vd (file_getattr(2)).
// Anyone who can reach the file may read them.
func GetFileAttr(vd VirtualDentry) (FileAttr, error) {
	fi, err := fileAttrInode(vd)
	if err != nil {
		return FileAttr{}, err
	}
	return fi.FileAttr()
}

// SetFileAttr sets the attributes of the file at vd (file_setattr(2)),
// checked with CheckFileAttr: EROFS on a read-only mount, EOPNOTSUPP
// without file attributes, EPERM unless the caller owns the file (or has
// CAP_FOWNER), as Linux's vfs_fileattr_set.
func SetFileAttr(ctx context.Context, vd VirtualDentry, fa FileAttr) error {
	if vd.mount.ReadOnly() {
		return unix.EROFS
	}
	fi, err := fileAttrInode(vd)
	if err != nil {
		return err
	}
	st, err := statVD(ctx, vd)
	if err != nil {
		return err
	}
	if !isOwner(CredentialsFromContext(ctx), st.Uid) {
		return unix.EPERM
	}
	if err := fi.SetFileAttr(fa); err != nil {
		return err
	}
	notifyDentry(vd.dentry, unix.IN_ATTRIB)
	return nil
}

// GetFileAttrAt is GetFileAttr on the file pop names.
func (vfs *VirtualFilesystem) GetFileAttrAt(ctx context.Context, pop *PathOperation) (FileAttr, error) {
	var fa FileAttr
	err := vfs.withDentry(ctx, pop, func(vd VirtualDentry) (err error) {
		fa, err = GetFileAttr(vd)
		return err
	})
	return fa, err
}

// SetFileAttrAt is SetFileAttr on the file pop names.
func (vfs *VirtualFilesystem) SetFileAttrAt(ctx context.Context, pop *PathOperation, fa FileAttr) error {
	return vfs.withDentry(ctx, pop, func(vd VirtualDentry) error {
		return SetFileAttr(ctx, vd, fa)
	})
}
