package overlay

import (
	"context"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// whiteoutOpts are the attributes of a whiteout: a character device 0/0.
var whiteoutOpts = vfs.CreateOptions{Mode: unix.S_IFCHR}

// Lookup implements vfs.DirInode.Lookup: the upper entry wins; a whiteout
// hides the name; a directory present in both layers merges, unless the
// upper one is opaque; a redirected upper directory merges with the lower
// directory it records, not with the lower entry of its name.
func (d *inode) Lookup(ctx context.Context, name string) (vfs.Inode, error) {
	upperDir, lowerDir := d.layers()
	var upper, lower vfs.Inode
	if upperDir != nil {
		c, err := upperDir.(vfs.DirInode).Lookup(ctx, name)
		switch {
		case err == nil && isWhiteout(ctx, c):
			c.DecRef(ctx)
			return nil, unix.ENOENT
		case err == nil:
			upper = c
		case err != unix.ENOENT:
			return nil, err
		}
	}
	if upper != nil && isDir(upper) {
		lower = d.fs.redirectOf(ctx, upper)
	}
	if lower == nil && lowerDir != nil && (upper == nil || isDir(upper)) {
		c, err := lowerDir.(vfs.DirInode).Lookup(ctx, name)
		switch {
		case err == nil && upper != nil && !isDir(c):
			// A directory in the upper layer hides a non-directory.
			c.DecRef(ctx)
		case err == nil:
			lower = c
		case err != unix.ENOENT:
			if upper != nil {
				upper.DecRef(ctx)
			}
			return nil, err
		}
	}
	if upper == nil && lower == nil {
		return nil, unix.ENOENT
	}
	i, err := d.fs.newInode(ctx, d, name, upper, lower)
	if err != nil {
		return nil, err
	}
	return i.vfsInode(), nil
}

// lowerHasLocked reports whether name exists in d's visible lower
// directory, so that removing it from the upper layer needs a whiteout.
//
// Preconditions: fs.mu is held.
func (d *inode) lowerHasLocked(ctx context.Context, name string) (bool, error) {
	_, lower := d.layers()
	if lower == nil {
		return false, nil
	}
	c, err := lower.(vfs.DirInode).Lookup(ctx, name)
	if err == unix.ENOENT {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c.DecRef(ctx)
	return true, nil
}

// createLocked makes a new upper file name in d with mk, which creates a
// file called n in dir, and returns it with a reference. If the upper
// layer has a whiteout at name, the file is made in the work directory and
// renamed over the whiteout; a directory made so is opaque, hiding the
// lower directory of that name.
//
// Preconditions: fs.mu is held.
func (d *inode) createLocked(ctx context.Context, name string, mk func(dir vfs.DirInode, n string) error) (vfs.Inode, error) {
	fs := d.fs
	if err := d.copyUpLocked(ctx, withData); err != nil {
		return nil, err
	}
	ud := d.upperDir()
	old, err := ud.Lookup(ctx, name)
	if err == unix.ENOENT {
		if err := mk(ud, name); err != nil {
			return nil, err
		}
		return ud.Lookup(ctx, name)
	}
	if err != nil {
		return nil, err
	}
	defer old.DecRef(ctx)
	if !isWhiteout(ctx, old) {
		return nil, unix.EEXIST
	}
	tmp := fs.tempNameLocked()
	if err := mk(fs.work, tmp); err != nil {
		return nil, err
	}
	c, err := fs.work.Lookup(ctx, tmp)
	if err != nil {
		return nil, err
	}
	var ino uint64
	if isDir(c) {
		st, err := c.Stat(ctx)
		if err == nil {
			ino = st.Ino
			fs.metaMu.Lock()
			fs.opaque[ino] = struct{}{}
			fs.metaMu.Unlock()
		}
	}
	if err := fs.work.Rename(ctx, tmp, c, ud, name, old, 0); err != nil {
		if isDir(c) {
			fs.work.Rmdir(ctx, tmp, c)
			fs.forgetUpper(ctx, ino)
		} else {
			fs.work.Unlink(ctx, tmp, c)
		}
		c.DecRef(ctx)
		return nil, err
	}
	return c, nil
}

// create is createLocked for a new name, dropping the new file.
func (d *inode) create(ctx context.Context, name string, mk func(dir vfs.DirInode, n string) error) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	c, err := d.createLocked(ctx, name, mk)
	if err != nil {
		return err
	}
	c.DecRef(ctx)
	return nil
}

// Create implements vfs.DirInode.Create.
func (d *inode) Create(ctx context.Context, name string, opts *vfs.CreateOptions) (vfs.Inode, error) {
	d.fs.mu.Lock()
	c, err := d.createLocked(ctx, name, func(dir vfs.DirInode, n string) error {
		f, err := dir.Create(ctx, n, opts)
		if err == nil {
			f.DecRef(ctx)
		}
		return err
	})
	d.fs.mu.Unlock()
	if err != nil {
		return nil, err
	}
	i, err := d.fs.newInode(ctx, d, name, c, nil)
	if err != nil {
		return nil, err
	}
	return i.vfsInode(), nil
}

// Mkdir implements vfs.DirInode.Mkdir.
func (d *inode) Mkdir(ctx context.Context, name string, opts *vfs.CreateOptions) error {
	return d.create(ctx, name, func(dir vfs.DirInode, n string) error { return dir.Mkdir(ctx, n, opts) })
}

// Mknod implements vfs.DirInode.Mknod.
func (d *inode) Mknod(ctx context.Context, name string, opts *vfs.CreateOptions) error {
	return d.create(ctx, name, func(dir vfs.DirInode, n string) error { return dir.Mknod(ctx, n, opts) })
}

// Symlink implements vfs.DirInode.Symlink.
func (d *inode) Symlink(ctx context.Context, name, target string, opts *vfs.CreateOptions) error {
	return d.create(ctx, name, func(dir vfs.DirInode, n string) error { return dir.Symlink(ctx, n, target, opts) })
}

// Link implements vfs.DirInode.Link: the target is copied up first, and
// the new name links to its upper file.
func (d *inode) Link(ctx context.Context, name string, target vfs.Inode) error {
	t := baseOf(target)
	if t == nil || t.fs != d.fs {
		return unix.EXDEV
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if err := t.copyUpLocked(ctx, withData); err != nil {
		return err
	}
	tu := t.current()
	c, err := d.createLocked(ctx, name, func(dir vfs.DirInode, n string) error { return dir.Link(ctx, n, tu) })
	if err != nil {
		return err
	}
	c.DecRef(ctx)
	return nil
}

// Unlink implements vfs.DirInode.Unlink.
func (d *inode) Unlink(ctx context.Context, name string, child vfs.Inode) error {
	return d.remove(ctx, name, child, false)
}

// Rmdir implements vfs.DirInode.Rmdir: the merged directory must be empty
// (whiteouts in its upper part do not count).
func (d *inode) Rmdir(ctx context.Context, name string, child vfs.Inode) error {
	return d.remove(ctx, name, child, true)
}

// remove removes name (the file child) from the overlay: from the upper
// layer, and with a whiteout if the lower layer has the name.
func (d *inode) remove(ctx context.Context, name string, child vfs.Inode, rmdir bool) error {
	c := baseOf(child)
	if c == nil || c.fs != d.fs {
		return unix.ENOENT
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if rmdir {
		if err := c.emptyLocked(ctx); err != nil {
			return err
		}
	}
	if err := d.copyUpLocked(ctx, withData); err != nil {
		return err
	}
	ud := d.upperDir()
	hasLower, err := d.lowerHasLocked(ctx, name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	cu, cuIno := c.upper, c.upperIno
	c.mu.Unlock()
	switch {
	case hasLower:
		// Replace the upper entry (or nothing) by a whiteout, in one step.
		tmp := fs.tempNameLocked()
		wo := whiteoutOpts
		if err := fs.work.Mknod(ctx, tmp, &wo); err != nil {
			return err
		}
		wh, err := fs.work.Lookup(ctx, tmp)
		if err != nil {
			return err
		}
		defer wh.DecRef(ctx)
		if err := fs.work.Rename(ctx, tmp, wh, ud, name, cu, 0); err != nil {
			fs.work.Unlink(ctx, tmp, wh)
			return err
		}
	case cu == nil:
		// The lower file vanished on the host.
		return unix.ENOENT
	case rmdir:
		if err := ud.Rmdir(ctx, name, cu); err != nil {
			return err
		}
	default:
		if err := ud.Unlink(ctx, name, cu); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.dead = true
	c.mu.Unlock()
	if rmdir && cu != nil {
		fs.forgetUpper(ctx, cuIno)
	}
	return nil
}

// emptyLocked returns ENOTEMPTY unless the merged directory i has no
// entries, and then removes the whiteouts from its upper part, so that the
// upper directory can be removed.
//
// Preconditions: fs.mu is held.
func (i *inode) emptyLocked(ctx context.Context) error {
	ents, err := i.mergedEntries(ctx)
	if err != nil {
		return err
	}
	if len(ents) > 2 { // "." and ".."
		return unix.ENOTEMPTY
	}
	upper, lower := i.layers()
	if upper == nil {
		return nil
	}
	if lower != nil {
		// Hide the lower part first, so that the lower entries stay
		// hidden while their whiteouts go, and also if what the caller
		// does next fails (as Linux makes the directory opaque).
		i.mu.Lock()
		upperIno := i.upperIno
		i.mu.Unlock()
		i.fs.setOpaque(i, upperIno)
	}
	ud := upper.(vfs.DirInode)
	raw, err := readDir(ctx, upper)
	if err != nil {
		return err
	}
	for _, e := range raw {
		c, err := ud.Lookup(ctx, e.Name)
		if err != nil {
			continue
		}
		if isWhiteout(ctx, c) {
			ud.Unlink(ctx, e.Name, c)
		}
		c.DecRef(ctx)
	}
	return nil
}

// Rename implements vfs.DirInode.Rename, as Linux's overlayfs with
// redirect_dir=on. The renamed file (and with RENAME_EXCHANGE the other
// one too) is copied up and moved in the upper layer; a whiteout is left
// at the old name if the lower layer has it. A directory that has a
// visible lower part keeps it through a redirect; one of the upper layer
// alone that lands on a name the lower layer has becomes opaque.
// RENAME_WHITEOUT is not supported (EINVAL), as on Linux.
func (d *inode) Rename(ctx context.Context, oldName string, child vfs.Inode, newDir vfs.DirInode, newName string, replaced vfs.Inode, flags uint32) error {
	if flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE) != 0 {
		return unix.EINVAL
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	c, nd := baseOf(child), baseOf(newDir)
	if c == nil || nd == nil || c.fs != d.fs || nd.fs != d.fs {
		return unix.EXDEV
	}
	var r *inode
	if replaced != nil {
		if r = baseOf(replaced); r == nil || r.fs != d.fs {
			return unix.EXDEV
		}
	} else if exchange {
		return unix.ENOENT
	}
	fs := d.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	toCopy := []*inode{d, nd, c}
	if exchange {
		toCopy = append(toCopy, r)
	}
	for _, x := range toCopy {
		if err := x.copyUpLocked(ctx, withData); err != nil {
			return err
		}
	}
	if r != nil && !exchange && isDir(replaced) {
		if err := r.emptyLocked(ctx); err != nil {
			return err
		}
	}
	srcLower, err := d.lowerHasLocked(ctx, oldName)
	if err != nil {
		return err
	}
	dstLower, err := nd.lowerHasLocked(ctx, newName)
	if err != nil {
		return err
	}
	ud, nud := d.upperDir(), nd.upperDir()
	dst, err := nud.Lookup(ctx, newName) // r's upper file, a whiteout, or none
	switch {
	case err == nil:
		defer dst.DecRef(ctx)
	case err == unix.ENOENT:
		dst = nil
	default:
		return err
	}
	if exchange && dst == nil {
		return unix.ENOENT
	}
	// Record redirects and opaque marks before the move: at a directory's
	// current name they change nothing, so lookups never see a moved
	// directory without them.
	var undo []func()
	defer func() {
		for _, u := range undo {
			u()
		}
	}()
	undo = append(undo, fs.keepLowerLocked(ctx, c, dstLower))
	if exchange {
		undo = append(undo, fs.keepLowerLocked(ctx, r, srcLower))
	}
	c.mu.Lock()
	cu := c.upper
	c.mu.Unlock()
	var uflags uint32
	switch {
	case exchange:
		uflags = unix.RENAME_EXCHANGE
	case srcLower:
		// The old name becomes a whiteout in the same step.
		uflags = unix.RENAME_WHITEOUT
	}
	if err := ud.Rename(ctx, oldName, cu, nud, newName, dst, uflags); err != nil {
		return err
	}
	undo = nil
	c.setParentLocked(ctx, nd, newName)
	if exchange {
		r.setParentLocked(ctx, d, oldName)
	} else if r != nil {
		r.mu.Lock()
		r.dead = true
		rIno, rIsDir := r.upperIno, r.upper != nil && isDir(r.upper)
		r.mu.Unlock()
		if rIsDir {
			fs.forgetUpper(ctx, rIno)
		}
	}
	return nil
}

// keepLowerLocked prepares the copied-up file i to move to a name whose
// parent's lower layer has that name if dstLower: a directory with a
// visible lower part gets a redirect to it, one without becomes opaque
// if dstLower. It returns a function that undoes what it did.
//
// Preconditions: fs.mu is held; i has been copied up.
func (fs *filesystem) keepLowerLocked(ctx context.Context, i *inode, dstLower bool) func() {
	upper, lower := i.layers()
	if !isDir(upper) {
		return func() {}
	}
	i.mu.Lock()
	upperIno := i.upperIno
	i.mu.Unlock()
	switch {
	case lower != nil:
		if fs.setRedirect(ctx, upperIno, lower) {
			return func() {
				fs.metaMu.Lock()
				delete(fs.redirect, upperIno)
				fs.metaMu.Unlock()
				lower.DecRef(ctx)
			}
		}
	case dstLower:
		if fs.setOpaque(i, upperIno) {
			return func() {
				fs.metaMu.Lock()
				delete(fs.opaque, upperIno)
				fs.metaMu.Unlock()
				i.mu.Lock()
				i.opaque = false
				i.mu.Unlock()
			}
		}
	}
	return func() {}
}

// setParentLocked records that i is now called name in parent.
//
// Preconditions: fs.mu is held.
func (i *inode) setParentLocked(ctx context.Context, parent *inode, name string) {
	parent.IncRef()
	i.mu.Lock()
	old := i.parent
	i.parent, i.name = parent, name
	i.mu.Unlock()
	if old != nil {
		old.DecRef(ctx)
	}
}

// readDir returns the entries of the layer directory dir, without "." and
// "..".
func readDir(ctx context.Context, dir vfs.Inode) ([]vfs.Dirent, error) {
	impl, err := dir.Open(ctx, vfs.VirtualDentry{}, &vfs.OpenOptions{Flags: unix.O_RDONLY | unix.O_DIRECTORY})
	if err != nil {
		return nil, err
	}
	defer impl.Release(ctx)
	var out []vfs.Dirent
	var off int64
	for {
		n := 0
		err := impl.IterDirents(ctx, off, func(e vfs.Dirent) bool {
			if e.Name != "." && e.Name != ".." {
				out = append(out, e)
			}
			off = e.NextOff
			n++
			return true
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
	}
}

// mergedEntries lists the merged directory i: ".", "..", the upper
// entries but whiteouts, then the lower entries not present in the upper
// layer. NextOff is left for the caller.
func (i *inode) mergedEntries(ctx context.Context) ([]vfs.Dirent, error) {
	upper, lower := i.layers()
	i.mu.Lock()
	parentIno := i.ino
	if i.parent != nil {
		parentIno = i.parent.ino
	}
	i.mu.Unlock()
	list := []vfs.Dirent{{Name: ".", Type: unix.DT_DIR, Ino: i.ino}, {Name: "..", Type: unix.DT_DIR, Ino: parentIno}}
	seen := make(map[string]struct{})
	if upper != nil {
		ents, err := readDir(ctx, upper)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			seen[e.Name] = struct{}{}
			if e.Type == unix.DT_CHR {
				if c, err := upper.(vfs.DirInode).Lookup(ctx, e.Name); err == nil {
					wh := isWhiteout(ctx, c)
					c.DecRef(ctx)
					if wh {
						continue
					}
				}
			}
			e.Ino = i.fs.inoOfUpper(e.Ino)
			list = append(list, e)
		}
	}
	if lower != nil {
		ents, err := readDir(ctx, lower)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if _, ok := seen[e.Name]; !ok {
				list = append(list, e)
			}
		}
	}
	return list, nil
}

// dirFD is an open overlay directory. Its listing is taken when reading
// starts at position 0 (open, rewinddir), as Linux's overlayfs caches a
// merged directory; positions are indexes into that listing.
type dirFD struct {
	vfs.FileDescriptionDefaultImpl
	// dir is the directory. Immutable.
	dir *inode

	// mu protects entries.
	mu sync.Mutex
	// entries is the listing, or nil before the first read.
	entries []vfs.Dirent
}

var _ vfs.FileDescriptionImpl = (*dirFD)(nil)

// Read implements vfs.FileDescriptionImpl.Read.
func (f *dirFD) Read(context.Context, *vfs.FileDescription, []byte, int64) (int, error) {
	return 0, unix.EISDIR
}

// Write implements vfs.FileDescriptionImpl.Write.
func (f *dirFD) Write(context.Context, *vfs.FileDescription, []byte, int64) (int, int64, error) {
	return 0, 0, unix.EISDIR
}

// Seek implements vfs.FileDescriptionImpl.Seek: SEEK_SET and SEEK_CUR to
// any non-negative position.
func (f *dirFD) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	switch whence {
	case unix.SEEK_SET, unix.SEEK_CUR:
		return vfs.GenericSeek(cur, off, whence, 0)
	}
	return 0, unix.EINVAL
}

// IterDirents implements vfs.FileDescriptionImpl.IterDirents.
func (f *dirFD) IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off == 0 || f.entries == nil {
		ents, err := f.dir.mergedEntries(ctx)
		if err != nil {
			return err
		}
		f.entries = ents
	}
	for k := off; k < int64(len(f.entries)); k++ {
		e := f.entries[k]
		e.NextOff = k + 1
		if !emit(e) {
			break
		}
	}
	return nil
}
