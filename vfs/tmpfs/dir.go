package tmpfs

import (
	"context"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/pipe"
)

// bogoDirentSize is the size a directory reports per entry, as Linux's
// tmpfs does.
const bogoDirentSize = 20

// dirent is one entry of a directory.
type dirent struct {
	// child is the named file; the entry holds a reference on it.
	child vfs.Inode
	// name is the entry's name. Immutable.
	name string
	// seq orders entries for getdents; it is the entry's directory
	// offset. Immutable.
	seq int64
	// removed is set when the entry leaves the directory; it stays in
	// dirInode.order until the next compaction. Protected by fs.mu.
	removed bool
}

// dirInode is a directory.
type dirInode struct {
	inode
	// parent is the containing directory (itself for the root). Protected
	// by fs.mu.
	parent *dirInode
	// entries maps names to entries. Protected by fs.mu.
	entries map[string]*dirent
	// nextSeq is the offset of the next entry added. Offsets 0 and 1 are
	// "." and "..". Protected by fs.mu.
	nextSeq int64
	// order holds the entries in seq order, for getdents to find its
	// offset by binary search; removed ones stay until dead exceeds
	// half of it. Protected by fs.mu.
	order []*dirent
	dead  int
}

var (
	_ vfs.DirInode            = (*dirInode)(nil)
	_ vfs.FileDescriptionImpl = (*dirFD)(nil)
)

// newDir returns a directory with one reference (the entry's, or the
// Filesystem's for the root).
func (fs *filesystem) newDir(parent *dirInode, opts *vfs.CreateOptions) *dirInode {
	d := &dirInode{}
	fs.initInode(&d.inode, opts)
	d.nlink = 2
	d.entries = make(map[string]*dirent)
	d.nextSeq = 2
	d.parent = parent
	if parent == nil {
		d.parent = d
	}
	return d
}

// DecRef implements vfs.Inode.DecRef. rmdir takes only empty
// directories, so a directory's last reference goes with entries still in
// it only when the whole filesystem is released: the entries' references
// go then too, so that the files in it (and their pages) are freed.
func (d *dirInode) DecRef(ctx context.Context) {
	if d.refs.DecRef() {
		d.fs.releaseDirs(ctx, d)
	}
}

// releaseDirs drops the references held by the entries of d, whose last
// reference has gone, and of every directory below it that this frees.
// It works through a list rather than recursing: a guest may nest
// directories deeper than a goroutine's stack can follow.
func (fs *filesystem) releaseDirs(ctx context.Context, d *dirInode) {
	dead := []*dirInode{d}
	for len(dead) > 0 {
		d := dead[len(dead)-1]
		dead = dead[:len(dead)-1]
		fs.mu.Lock()
		entries := d.entries
		d.entries, d.order, d.dead = nil, nil, 0
		fs.mu.Unlock()
		for _, e := range entries {
			if sub, ok := e.child.(*dirInode); ok {
				if sub.refs.DecRef() {
					dead = append(dead, sub)
				}
				continue
			}
			e.child.DecRef(ctx)
		}
	}
}

// Stat implements vfs.Inode.Stat.
func (d *dirInode) Stat(ctx context.Context) (unix.Statx_t, error) {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	return d.statLocked(uint64(len(d.entries)+2)*bogoDirentSize, 0), nil
}

// Open implements vfs.Inode.Open.
func (d *dirInode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return &dirFD{dir: d}, nil
}

// Lookup implements vfs.DirInode.Lookup.
func (d *dirInode) Lookup(ctx context.Context, name string) (vfs.Inode, error) {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	e, ok := d.entries[name]
	if !ok {
		return nil, unix.ENOENT
	}
	e.child.IncRef()
	return e.child, nil
}

// addLocked adds child (whose reference the entry takes over) as name.
//
// Preconditions: fs.mu is held; name does not exist.
func (d *dirInode) addLocked(name string, child vfs.Inode) {
	d.insertLocked(name, child)
	t := now()
	d.mtime, d.ctime = t, t
}

// insertLocked makes the entry name for child at the next offset.
//
// Preconditions: fs.mu is held; name does not exist.
func (d *dirInode) insertLocked(name string, child vfs.Inode) {
	e := &dirent{child: child, name: name, seq: d.nextSeq}
	d.nextSeq++
	d.entries[name] = e
	d.order = append(d.order, e)
}

// deleteLocked takes the entry name out of d.
//
// Preconditions: fs.mu is held; name exists.
func (d *dirInode) deleteLocked(name string) {
	e := d.entries[name]
	delete(d.entries, name)
	e.removed = true
	d.dead++
	if d.dead > 16 && d.dead > len(d.order)/2 {
		live := make([]*dirent, 0, len(d.order)-d.dead)
		for _, e := range d.order {
			if !e.removed {
				live = append(live, e)
			}
		}
		d.order, d.dead = live, 0
	}
}

// newChildLocked checks that name is free.
//
// Preconditions: fs.mu is held.
func (d *dirInode) checkFreeLocked(name string) error {
	if _, ok := d.entries[name]; ok {
		return unix.EEXIST
	}
	if d.nlink == 0 {
		return unix.ENOENT
	}
	return nil
}

// Create implements vfs.DirInode.Create.
func (d *dirInode) Create(ctx context.Context, name string, opts *vfs.CreateOptions) (vfs.Inode, error) {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkFreeLocked(name); err != nil {
		return nil, err
	}
	f := d.fs.newRegularFile(opts)
	d.addLocked(name, f)
	f.IncRef()
	return f, nil
}

// Mkdir implements vfs.DirInode.Mkdir.
func (d *dirInode) Mkdir(ctx context.Context, name string, opts *vfs.CreateOptions) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkFreeLocked(name); err != nil {
		return err
	}
	if d.nlink == ^uint32(0) {
		return unix.EMLINK
	}
	d.addLocked(name, d.fs.newDir(d, opts))
	d.nlink++
	return nil
}

// Mknod implements vfs.DirInode.Mknod.
func (d *dirInode) Mknod(ctx context.Context, name string, opts *vfs.CreateOptions) error {
	switch opts.Mode & unix.S_IFMT {
	case unix.S_IFIFO, unix.S_IFCHR, unix.S_IFBLK, unix.S_IFSOCK:
	default:
		return unix.EPERM
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkFreeLocked(name); err != nil {
		return err
	}
	s := &specialInode{}
	d.fs.initInode(&s.inode, opts)
	if opts.Mode&unix.S_IFMT == unix.S_IFIFO {
		s.pipe = pipe.New(ctx)
	}
	d.addLocked(name, s)
	return nil
}

// Symlink implements vfs.DirInode.Symlink.
func (d *dirInode) Symlink(ctx context.Context, name, target string, opts *vfs.CreateOptions) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkFreeLocked(name); err != nil {
		return err
	}
	s := &symlinkInode{target: target}
	d.fs.initInode(&s.inode, opts)
	d.addLocked(name, s)
	return nil
}

// common returns the shared part of one of this filesystem's inodes, or
// nil if child belongs to another filesystem.
func (d *dirInode) common(child vfs.Inode) *inode {
	var i *inode
	switch c := child.(type) {
	case *regularFile:
		i = &c.inode
	case *dirInode:
		i = &c.inode
	case *symlinkInode:
		i = &c.inode
	case *specialInode:
		i = &c.inode
	default:
		return nil
	}
	if i.fs != d.fs {
		return nil
	}
	return i
}

// Link implements vfs.DirInode.Link.
func (d *dirInode) Link(ctx context.Context, name string, target vfs.Inode) error {
	t := d.common(target)
	if t == nil {
		return unix.EXDEV
	}
	if _, ok := target.(*dirInode); ok {
		return unix.EPERM
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := d.checkFreeLocked(name); err != nil {
		return err
	}
	if t.nlink == 0 && !t.linkable {
		return unix.ENOENT
	}
	if t.nlink == ^uint32(0) {
		return unix.EMLINK
	}
	t.linkable = false
	t.nlink++
	t.ctime = now()
	target.IncRef()
	d.addLocked(name, target)
	return nil
}

// removeLocked removes the entry name, which must name child, and returns
// the entry's reference on child for the caller to drop after unlocking.
//
// Preconditions: fs.mu is held.
func (d *dirInode) removeLocked(name string, child vfs.Inode) (*inode, error) {
	e, ok := d.entries[name]
	if !ok || e.child != child {
		return nil, unix.ENOENT
	}
	i := d.common(child)
	if i == nil {
		return nil, unix.EIO
	}
	if cd, ok := child.(*dirInode); ok {
		if len(cd.entries) != 0 {
			return nil, unix.ENOTEMPTY
		}
		i.nlink = 0
		d.nlink--
	} else {
		i.nlink--
	}
	d.deleteLocked(name)
	t := now()
	d.mtime, d.ctime, i.ctime = t, t, t
	return i, nil
}

// Unlink implements vfs.DirInode.Unlink.
func (d *dirInode) Unlink(ctx context.Context, name string, child vfs.Inode) error {
	if _, ok := child.(*dirInode); ok {
		return unix.EISDIR
	}
	d.fs.mu.Lock()
	_, err := d.removeLocked(name, child)
	d.fs.mu.Unlock()
	if err == nil {
		child.DecRef(ctx)
	}
	return err
}

// Rmdir implements vfs.DirInode.Rmdir.
func (d *dirInode) Rmdir(ctx context.Context, name string, child vfs.Inode) error {
	if _, ok := child.(*dirInode); !ok {
		return unix.ENOTDIR
	}
	d.fs.mu.Lock()
	_, err := d.removeLocked(name, child)
	d.fs.mu.Unlock()
	if err == nil {
		child.DecRef(ctx)
	}
	return err
}

// Rename implements vfs.DirInode.Rename.
func (d *dirInode) Rename(ctx context.Context, oldName string, child vfs.Inode, newDir vfs.DirInode, newName string, replaced vfs.Inode, flags uint32) error {
	nd, ok := newDir.(*dirInode)
	if !ok || nd.fs != d.fs || d.common(child) == nil {
		return unix.EXDEV
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	e, ok := d.entries[oldName]
	if !ok || e.child != child {
		return unix.ENOENT
	}
	if nd.nlink == 0 {
		return unix.ENOENT
	}
	ne := nd.entries[newName]
	if (ne == nil && replaced != nil) || (ne != nil && ne.child != replaced) {
		return unix.ENOENT
	}
	cd, childIsDir := child.(*dirInode)
	t := now()
	if flags&unix.RENAME_EXCHANGE != 0 {
		if ne == nil {
			return unix.ENOENT
		}
		rd, replacedIsDir := replaced.(*dirInode)
		e.child, ne.child = replaced, child
		if d != nd {
			if childIsDir {
				cd.parent = nd
				d.nlink--
				nd.nlink++
			}
			if replacedIsDir {
				rd.parent = d
				nd.nlink--
				d.nlink++
			}
		}
		d.common(replaced).ctime = t
	} else {
		if ne != nil {
			// Replace the existing entry; its reference is dropped below.
			r := d.common(replaced)
			if rd, ok := replaced.(*dirInode); ok {
				if len(rd.entries) != 0 {
					return unix.ENOTEMPTY
				}
				r.nlink = 0
				nd.nlink--
			} else {
				r.nlink--
			}
			r.ctime = t
			nd.deleteLocked(newName)
			defer replaced.DecRef(ctx)
		}
		d.deleteLocked(oldName)
		nd.insertLocked(newName, child)
		if flags&unix.RENAME_WHITEOUT != 0 {
			// The old name becomes a whiteout: a character device 0/0
			// owned by the caller (no CAP_MKNOD needed, as Linux 5.8+).
			d.insertLocked(oldName, d.newWhiteoutLocked(ctx))
		}
		if childIsDir && d != nd {
			cd.parent = nd
			d.nlink--
			nd.nlink++
		}
	}
	d.common(child).ctime = t
	d.mtime, d.ctime, nd.mtime, nd.ctime = t, t, t, t
	return nil
}

// newWhiteoutLocked returns a new whiteout inode for an entry of d, owned
// by the caller (the group is d's if d is set-group-ID), with a reference.
//
// Preconditions: fs.mu is held.
func (d *dirInode) newWhiteoutLocked(ctx context.Context) vfs.Inode {
	c := vfs.MustCredentials(ctx, "whiteout")
	opts := vfs.CreateOptions{Mode: unix.S_IFCHR, UID: c.UID, GID: c.GID}
	if d.mode.Load()&unix.S_ISGID != 0 {
		opts.GID = d.gid
	}
	w := &specialInode{}
	d.fs.initInode(&w.inode, &opts)
	return w
}

// dirFD is an open directory.
type dirFD struct {
	vfs.FileDescriptionDefaultImpl
	// dir is the directory. Immutable.
	dir *dirInode
}

// Read implements vfs.FileDescriptionImpl.Read.
func (fd *dirFD) Read(context.Context, *vfs.FileDescription, []byte, int64) (int, error) {
	return 0, unix.EISDIR
}

// Write implements vfs.FileDescriptionImpl.Write.
func (fd *dirFD) Write(context.Context, *vfs.FileDescription, []byte, int64) (int, int64, error) {
	return 0, 0, unix.EISDIR
}

// Seek implements vfs.FileDescriptionImpl.Seek: SEEK_SET and SEEK_CUR to
// any non-negative offset.
func (fd *dirFD) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	switch whence {
	case unix.SEEK_SET, unix.SEEK_CUR:
		return vfs.GenericSeek(cur, off, whence, 0)
	}
	return 0, unix.EINVAL
}

// IterDirents implements vfs.FileDescriptionImpl.IterDirents. Offsets are
// entry sequence numbers, so they stay valid while entries come and go.
// The entries from off are found by binary search and copied out in
// small batches, so a call costs what it returns, not the directory's
// size, and emit runs without the filesystem's lock.
func (fd *dirFD) IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error {
	d := fd.dir
	if off <= 0 {
		if !emit(vfs.Dirent{Name: ".", Type: unix.DT_DIR, Ino: d.ino, NextOff: 1}) {
			return nil
		}
	}
	if off <= 1 {
		d.fs.mu.Lock()
		parent := d.parent.ino
		d.fs.mu.Unlock()
		if !emit(vfs.Dirent{Name: "..", Type: unix.DT_DIR, Ino: parent, NextOff: 2}) {
			return nil
		}
	}
	off = max(off, 2)
	var batch [dirBatch]vfs.Dirent
	for {
		n := d.direntsFrom(off, batch[:])
		for _, de := range batch[:n] {
			if !emit(de) {
				return nil
			}
		}
		if n < len(batch) {
			return nil
		}
		off = batch[n-1].NextOff
	}
}

// dirBatch is how many entries IterDirents copies per lock hold.
const dirBatch = 64

// direntsFrom fills out with the entries at offsets >= off, in order,
// and returns how many it wrote.
func (d *dirInode) direntsFrom(off int64, out []vfs.Dirent) int {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	i := sort.Search(len(d.order), func(i int) bool { return d.order[i].seq >= off })
	n := 0
	for ; i < len(d.order) && n < len(out); i++ {
		e := d.order[i]
		if e.removed {
			continue
		}
		out[n] = vfs.Dirent{Name: e.name, Type: vfs.DirentType(e.child.Mode()), Ino: d.common(e.child).ino, NextOff: e.seq + 1}
		n++
	}
	return n
}
