// Package synthetic holds what the Sentry's synthetic filesystems
// (devtmpfs in vfs/dev, sysfs in vfs/sys, procfs in vfs/proc and devpts
// in vfs/devpts) share about their directories: the changing operations
// that fail (ReadOnlyDirDefaults), the open directory (DirFD, with
// EmitDots for "." and ".."), and the children of a directory built once
// and never changed (StaticDir).
//
// Each filesystem keeps its own inodes (numbers, owners, times); this
// package knows only names, positions and vfs.Inodes.
//
// Lock order: the package takes no locks. A StaticDir is built before
// its filesystem is in use and is immutable after.
package synthetic

import (
	"context"
	"slices"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// Lister lists a directory for getdents(2).
type Lister interface {
	// IterDirents implements vfs.FileDescriptionImpl.IterDirents for
	// the directory.
	IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error
}

// DirFD is an open synthetic directory: read(2) fails with EISDIR, lseek
// takes SEEK_SET and SEEK_CUR only (positions are entry indices, there
// is no end to seek from), and getdents lists Dir.
type DirFD struct {
	vfs.FileDescriptionDefaultImpl
	// Dir lists the directory. Immutable.
	Dir Lister
}

var _ vfs.FileDescriptionImpl = (*DirFD)(nil)

// Read implements vfs.FileDescriptionImpl.Read.
func (*DirFD) Read(context.Context, *vfs.FileDescription, []byte, int64) (int, error) {
	return 0, unix.EISDIR
}

// Seek implements vfs.FileDescriptionImpl.Seek.
func (*DirFD) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	if whence != unix.SEEK_SET && whence != unix.SEEK_CUR {
		return 0, unix.EINVAL
	}
	return vfs.GenericSeek(cur, off, whence, 0)
}

// IterDirents implements vfs.FileDescriptionImpl.IterDirents.
func (fd *DirFD) IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error {
	return fd.Dir.IterDirents(ctx, off, emit)
}

// EmitDots emits, from position off, "." (inode number self) at position
// 0 and ".." (inode number parent) at position 1. It returns the position
// to go on from (at least 2), and false if emit asked to stop.
func EmitDots(off int64, self, parent uint64, emit func(vfs.Dirent) bool) (int64, bool) {
	if off <= 0 {
		if !emit(vfs.Dirent{Name: ".", Type: unix.DT_DIR, Ino: self, NextOff: 1}) {
			return 0, false
		}
		off = 1
	}
	if off == 1 {
		if !emit(vfs.Dirent{Name: "..", Type: unix.DT_DIR, Ino: parent, NextOff: 2}) {
			return 1, false
		}
		off = 2
	}
	return off, true
}

// StaticDir is the children of a directory whose entries never change
// once the filesystem is built. It lists them in name order. Embed it in
// a directory inode to get Lookup.
type StaticDir struct {
	// children are the entries, and names their names in listing order
	// (sorted). Written only by Add, before the filesystem is in use.
	children map[string]vfs.Inode
	names    []string
}

// Add makes child the entry called name, replacing any entry of that
// name. Only while the tree is built, before anything can look it up.
func (d *StaticDir) Add(name string, child vfs.Inode) {
	if d.children == nil {
		d.children = make(map[string]vfs.Inode)
	}
	if _, ok := d.children[name]; !ok {
		i := sort.SearchStrings(d.names, name)
		d.names = slices.Insert(d.names, i, name)
	}
	d.children[name] = child
}

// Child returns the entry called name, or nil.
func (d *StaticDir) Child(name string) vfs.Inode { return d.children[name] }

// Lookup implements vfs.DirInode.Lookup.
func (d *StaticDir) Lookup(ctx context.Context, name string) (vfs.Inode, error) {
	if c, ok := d.children[name]; ok {
		return c, nil
	}
	return nil, unix.ENOENT
}

// List lists the directory from position off for getdents: "." and ".."
// (inode numbers self and parent), then the entries in name order at
// positions 2 and up. An entry's inode number is that of its Stat.
func (d *StaticDir) List(ctx context.Context, self, parent uint64, off int64, emit func(vfs.Dirent) bool) error {
	off, ok := EmitDots(off, self, parent, emit)
	if !ok {
		return nil
	}
	for ; off < int64(len(d.names))+2; off++ {
		name := d.names[off-2]
		c := d.children[name]
		st, _ := c.Stat(ctx)
		if !emit(vfs.Dirent{Name: name, Type: vfs.DirentType(c.Mode()), Ino: st.Ino, NextOff: off + 1}) {
			return nil
		}
	}
	return nil
}
