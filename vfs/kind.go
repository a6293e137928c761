package vfs

import (
	"context"

	"golang.org/x/sys/unix"
)

// A filesystem whose files share one inode type (gofer, overlay) gives
// that type every method: Inode's, DirInode's, SymlinkInode's and its
// optional ones. It must not hand that value to the VFS as it is, since
// the VFS takes "implements DirInode" to mean "is a directory" (and so for
// SymlinkInode). ByKind wraps it in a view whose method set is exactly
// what the file's type allows, and Unwrap gets the filesystem's value back
// from a view.
//
// The views embed interfaces (Go cannot embed a type parameter), so their
// method sets are fixed: one view type per combination of the file type
// with the optional interfaces a base may carry, Revalidator (directories
// only) and XattrInode. An optional interface the base does not implement
// is absent from its view too, so a view asserts to exactly what the base
// asserted to before. See docs/vfs.md.

// KindedInode is the base inode type ByKind accepts: one type with the
// methods of every file type.
type KindedInode interface {
	DirInode
	SymlinkInode
}

// xattrOps are XattrInode's own methods (without Inode's, which would make
// the views' selectors ambiguous).
type xattrOps interface {
	Getxattr(ctx context.Context, name string) ([]byte, error)
	Setxattr(ctx context.Context, name string, value []byte, flags uint32) error
	Listxattr(ctx context.Context) ([]string, error)
	Removexattr(ctx context.Context, name string) error
}

// The views. Each has base, so that Unwrap needs no type switch.
type (
	fileView      struct{ Inode }
	xattrFileView struct {
		Inode
		xattrOps
	}
	symlinkView      struct{ SymlinkInode }
	xattrSymlinkView struct {
		SymlinkInode
		xattrOps
	}
	dirView      struct{ DirInode }
	xattrDirView struct {
		DirInode
		xattrOps
	}
	revalidatingDirView struct {
		DirInode
		Revalidator
	}
	revalidatingXattrDirView struct {
		DirInode
		Revalidator
		xattrOps
	}
)

var (
	_ XattrInode   = xattrFileView{}
	_ SymlinkInode = xattrSymlinkView{}
	_ XattrInode   = xattrSymlinkView{}
	_ XattrInode   = xattrDirView{}
	_ Revalidator  = revalidatingDirView{}
	_ Revalidator  = revalidatingXattrDirView{}
	_ XattrInode   = revalidatingXattrDirView{}
)

func (v fileView) base() Inode                 { return v.Inode }
func (v xattrFileView) base() Inode            { return v.Inode }
func (v symlinkView) base() Inode              { return v.SymlinkInode }
func (v xattrSymlinkView) base() Inode         { return v.SymlinkInode }
func (v dirView) base() Inode                  { return v.DirInode }
func (v xattrDirView) base() Inode             { return v.DirInode }
func (v revalidatingDirView) base() Inode      { return v.DirInode }
func (v revalidatingXattrDirView) base() Inode { return v.DirInode }

// ByKind returns base as the VFS must see it: a DirInode only if base's
// Mode is a directory, a SymlinkInode only if it is a symbolic link, and
// a Revalidator only if it is a directory and base implements Revalidator;
// an XattrInode if base implements XattrInode. The file type of base must
// never change. Views of the same base compare equal.
func ByKind(base KindedInode) Inode {
	x, hasX := base.(XattrInode)
	switch base.Mode() & unix.S_IFMT {
	case unix.S_IFDIR:
		r, hasR := base.(Revalidator)
		switch {
		case hasR && hasX:
			return revalidatingXattrDirView{base, r, x}
		case hasR:
			return revalidatingDirView{base, r}
		case hasX:
			return xattrDirView{base, x}
		}
		return dirView{base}
	case unix.S_IFLNK:
		if hasX {
			return xattrSymlinkView{base, x}
		}
		return symlinkView{base}
	}
	if hasX {
		return xattrFileView{base, x}
	}
	return fileView{base}
}

// Unwrap returns the base inode behind a view made by ByKind, if it is a
// T; ok is false for any other inode (another filesystem's, or nil).
func Unwrap[T KindedInode](v Inode) (t T, ok bool) {
	if w, isView := v.(interface{ base() Inode }); isView {
		t, ok = w.base().(T)
	}
	return t, ok
}
