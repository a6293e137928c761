package tmpfs

import (
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

var _ vfs.FileAttrInode = (*inode)(nil)

// FileAttr implements vfs.FileAttrInode.FileAttr: regular files and
// directories have attributes (only FS_XFLAG_NODUMP can be set); other
// kinds of files have none, as Linux's.
func (i *inode) FileAttr() (vfs.FileAttr, error) {
	if !i.hasFileAttr() {
		return vfs.FileAttr{}, unix.EOPNOTSUPP
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return vfs.FileAttr{Xflags: i.xflags}, nil
}

// SetFileAttr implements vfs.FileAttrInode.SetFileAttr. Linux's tmpfs
// also keeps the immutable, append-only and noatime flags; the sandbox
// does not enforce them, so it refuses them (EOPNOTSUPP) rather than
// pretend. XFS's flags, extent sizes and project IDs are EOPNOTSUPP as on
// Linux's tmpfs.
func (i *inode) SetFileAttr(fa vfs.FileAttr) error {
	if !i.hasFileAttr() {
		return unix.EOPNOTSUPP
	}
	if fa.Xflags&^vfs.XflagNodump != 0 || fa.ExtSize != 0 || fa.ProjID != 0 || fa.CowExtSize != 0 {
		return unix.EOPNOTSUPP
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	i.xflags = fa.Xflags
	return nil
}

// hasFileAttr reports whether the inode is a regular file or directory.
func (i *inode) hasFileAttr() bool {
	m := i.mode.Load() & unix.S_IFMT
	return m == unix.S_IFREG || m == unix.S_IFDIR
}
