package vfs

import (
	"context"
	"strconv"

	"golang.org/x/sys/unix"
)

// TmpfileDirInode is a DirInode that can make unnamed regular files
// (open(2) with O_TMPFILE). Directories that do not implement it answer
// EOPNOTSUPP.
type TmpfileDirInode interface {
	DirInode
	// Tmpfile creates a regular file with no name (link count 0) on the
	// directory's filesystem and returns it with a new reference.
	// linkable says whether Link may later give it a name (O_TMPFILE
	// without O_EXCL); Link must return unix.ENOENT otherwise, and once it
	// has succeeded.
	Tmpfile(ctx context.Context, opts *CreateOptions, linkable bool) (Inode, error)
}

// IsTmpfile reports whether d is the dentry of an O_TMPFILE file.
func (d *Dentry) IsTmpfile() bool { return d.tmpfile }

// openTmpfile implements open with O_TMPFILE: an unnamed file in the
// directory pop names, opened with opts.Flags (the syscall layer checked
// that the access mode is writable).
func (vfs *VirtualFilesystem) openTmpfile(ctx context.Context, pop *PathOperation, opts OpenOptions) (*FileDescription, error) {
	vd, err := vfs.createTmpfile(ctx, pop, opts)
	if err != nil {
		return nil, err
	}
	defer vd.DecRef(ctx)
	impl, err := vfs.openInode(ctx, vd, &opts)
	if err != nil {
		return nil, err
	}
	fd := NewFileDescription(impl, opts.Flags, vd)
	notifyDentry(vd.dentry, unix.IN_OPEN)
	return fd, nil
}

// createTmpfile makes the unnamed file and its dentry, returned with a
// reference.
func (vfs *VirtualFilesystem) createTmpfile(ctx context.Context, pop *PathOperation, opts OpenOptions) (VirtualDentry, error) {
	vfs.mu.RLock()
	defer vfs.mu.RUnlock()
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return VirtualDentry{}, err
	}
	defer r.release()
	r.follow = opts.Flags&unix.O_NOFOLLOW == 0
	if err := r.resolve(); err != nil {
		return VirtualDentry{}, err
	}
	if !r.cur.dentry.isDir() {
		return VirtualDentry{}, unix.ENOTDIR
	}
	parent := r.cur.dentry
	parent.dirMu.Lock()
	defer parent.dirMu.Unlock()
	dir, copts, err := r.mayCreateLocked(unix.S_IFREG | opts.Mode&07777)
	if err != nil {
		return VirtualDentry{}, err
	}
	tdir, ok := dir.(TmpfileDirInode)
	if !ok {
		return VirtualDentry{}, unix.EOPNOTSUPP
	}
	inode, err := tdir.Tmpfile(ctx, copts, opts.Flags&unix.O_EXCL == 0)
	if err != nil {
		return VirtualDentry{}, err
	}
	st, err := inode.Stat(ctx)
	if err != nil {
		inode.DecRef(ctx)
		return VirtualDentry{}, err
	}
	// Like Linux, the file is shown as "#ino" in its directory, deleted.
	d := newDentry(parent.fs, parent, "#"+strconv.FormatUint(st.Ino, 10), inode)
	d.tmpfile = true
	d.dead.Store(true)
	r.cur.mount.IncRef()
	return VirtualDentry{mount: r.cur.mount, dentry: d}, nil
}
