package vfs

import (
	"context"
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// fileType returns the S_IFMT bits of mode.
func fileType(mode uint32) uint32 { return mode & unix.S_IFMT }

// OpenAt opens the file pop names (open(2), openat(2)). opts.Flags obey
// the rules of OpenHow.Check (EINVAL otherwise), except that with O_PATH
// flags other than its companions are dropped; opts.Mode, with the umask
// applied, matters only if the open may create a file.
func (vfs *VirtualFilesystem) OpenAt(ctx context.Context, pop *PathOperation, opts OpenOptions) (*FileDescription, error) {
	flags := opts.Flags
	if flags&unix.O_PATH != 0 {
		// As open(2): O_PATH keeps only its companions.
		flags &= oPathFlags
	}
	how := OpenHow{Flags: uint64(flags)}
	if willCreate(how.Flags) {
		how.Mode = uint64(opts.Mode)
	}
	if err := how.Check(); err != nil {
		return nil, err
	}
	if flags&oTmpfileBit != 0 {
		return vfs.openTmpfile(ctx, pop, opts)
	}
	var ats AccessTypes
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		ats = MayRead
	case unix.O_WRONLY:
		ats = MayWrite
	default:
		ats = MayRead | MayWrite
	}
	if flags&unix.O_TRUNC != 0 {
		ats |= MayWrite
	}
	opts.Flags = flags

	vd, created, err := vfs.openResolve(ctx, pop, &opts, ats)
	if err != nil {
		return nil, err
	}
	defer vd.DecRef(ctx)
	inode := vd.dentry.inode
	if flags&unix.O_PATH != 0 {
		return NewFileDescription(nil, flags, vd), nil
	}
	impl, err := vfs.openInode(ctx, vd, &opts)
	if err != nil {
		return nil, err
	}
	fd := NewFileDescription(impl, flags, vd)
	if flags&unix.O_TRUNC != 0 && !created && fileType(inode.Mode()) == unix.S_IFREG {
		if err := inode.SetStat(ctx, &SetStatOptions{Mask: unix.STATX_SIZE}); err != nil {
			fd.DecRef(ctx)
			return nil, err
		}
		notifyDentry(vd.dentry, unix.IN_MODIFY)
	}
	notifyDentry(vd.dentry, unix.IN_OPEN)
	if flags&unix.O_NOATIME != 0 && flags&unix.O_PATH == 0 {
		// Only the owner (or CAP_FOWNER) may suppress atime updates.
		// TODO: Linux refuses in may_open, before O_TRUNC truncates.
		st, err := fd.Stat(ctx)
		if err == nil {
			creds := credsOf(ctx, "open O_NOATIME")
			if st.Uid != creds.UID && !creds.HasCap(CapFowner) {
				err = unix.EPERM
			}
		}
		if err != nil {
			fd.DecRef(ctx)
			return nil, err
		}
	}
	return fd, nil
}

// openResolve finds (or creates, for O_CREAT) the file to open and checks
// that it may be opened. It returns it with a reference, and whether it was
// created.
func (vfs *VirtualFilesystem) openResolve(ctx context.Context, pop *PathOperation, opts *OpenOptions, ats AccessTypes) (VirtualDentry, bool, error) {
	flags := opts.Flags
	vfs.mu.RLock()
	defer vfs.mu.RUnlock()
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return VirtualDentry{}, false, err
	}
	defer r.release()
	var vd VirtualDentry
	if flags&unix.O_CREAT == 0 {
		r.follow = flags&unix.O_NOFOLLOW == 0
		if err := r.resolve(); err != nil {
			return VirtualDentry{}, false, err
		}
		vd = r.takeCur()
	} else {
		var created bool
		vd, created, err = r.openCreate(opts)
		if err != nil || created {
			return vd, created, err
		}
	}
	mode := vd.dentry.inode.Mode()
	err = func() error {
		if fileType(mode) == unix.S_IFLNK {
			if flags&unix.O_PATH != 0 {
				return nil
			}
			return unix.ELOOP
		}
		if flags&unix.O_DIRECTORY != 0 && fileType(mode) != unix.S_IFDIR {
			return unix.ENOTDIR
		}
		if flags&unix.O_PATH != 0 {
			return nil
		}
		if fileType(mode) == unix.S_IFDIR && (ats&MayWrite != 0 || flags&unix.O_CREAT != 0) {
			return unix.EISDIR
		}
		switch fileType(mode) {
		case unix.S_IFREG, unix.S_IFDIR:
			if ats&MayWrite != 0 && vd.mount.ReadOnly() {
				return unix.EROFS
			}
		case unix.S_IFCHR, unix.S_IFBLK:
			if vd.mount.Flags()&unix.MS_NODEV != 0 {
				return unix.EACCES
			}
		}
		return vd.dentry.inode.CheckPermissions(ctx, r.creds, ats)
	}()
	if err != nil {
		vd.DecRef(ctx)
		return VirtualDentry{}, false, err
	}
	return vd, false, nil
}

// openCreate resolves the path of an open with O_CREAT, creating a regular
// file if the final name does not exist.
func (r *resolver) openCreate(opts *OpenOptions) (VirtualDentry, bool, error) {
	flags := opts.Flags
	for {
		name, trailing, err := r.resolveParent()
		if err != nil {
			return VirtualDentry{}, false, err
		}
		if name == "" || name == "." || name == ".." {
			return VirtualDentry{}, false, unix.EISDIR
		}
		parent := r.cur
		parent.dentry.dirMu.Lock()
		c, err := parent.dentry.lookupLocked(r.ctx, name)
		if err == unix.ENOENT {
			d, err := r.createFileLocked(name, trailing, opts.Mode)
			parent.dentry.dirMu.Unlock()
			if err != nil {
				return VirtualDentry{}, false, err
			}
			parent.mount.IncRef()
			return VirtualDentry{mount: parent.mount, dentry: d}, true, nil
		}
		parent.dentry.dirMu.Unlock()
		if err != nil {
			return VirtualDentry{}, false, err
		}
		parent.mount.IncRef()
		child := r.vfs.crossMountsLocked(r.ctx, VirtualDentry{mount: parent.mount, dentry: c})
		if flags&unix.O_EXCL != 0 {
			child.DecRef(r.ctx)
			return VirtualDentry{}, false, unix.EEXIST
		}
		if isSymlink(child) {
			if flags&unix.O_NOFOLLOW != 0 && !trailing {
				child.DecRef(r.ctx)
				return VirtualDentry{}, false, unix.ELOOP
			}
			if err := r.continueThroughSymlink(child, trailing); err != nil {
				return VirtualDentry{}, false, err
			}
			continue
		}
		if trailing && !child.dentry.isDir() {
			child.DecRef(r.ctx)
			return VirtualDentry{}, false, unix.ENOTDIR
		}
		return child, false, nil
	}
}

// createFileLocked creates a regular file called name in cur and returns
// its dentry with a reference.
//
// Preconditions: cur.dentry.dirMu is held.
func (r *resolver) createFileLocked(name string, trailing bool, mode uint32) (*Dentry, error) {
	if trailing {
		return nil, unix.EISDIR
	}
	dir, copts, err := r.mayCreateLocked(unix.S_IFREG | mode&07777)
	if err != nil {
		return nil, err
	}
	inode, err := dir.Create(r.ctx, name, copts)
	if err != nil {
		return nil, err
	}
	parent := r.cur.dentry
	d := newDentry(parent.fs, parent, name, inode)
	parent.insertChild(d)
	notifyChild(parent.inode, unix.IN_CREATE, 0, name, inode)
	return d, nil
}

// mayCreateLocked checks that the caller may create a file of the given
// mode in cur, and returns the directory and the new file's attributes.
//
// Preconditions: cur.dentry.dirMu is held.
func (r *resolver) mayCreateLocked(mode uint32) (DirInode, *CreateOptions, error) {
	parent := r.cur
	if parent.mount.ReadOnly() {
		return nil, nil, unix.EROFS
	}
	if err := parent.dentry.inode.CheckPermissions(r.ctx, r.creds, MayWrite|MayExec); err != nil {
		return nil, nil, err
	}
	if parent.dentry.dead.Load() {
		return nil, nil, unix.ENOENT
	}
	dir, ok := parent.dentry.inode.(DirInode)
	if !ok {
		return nil, nil, unix.ENOTDIR
	}
	opts := &CreateOptions{Mode: mode, UID: r.creds.UID, GID: r.creds.GID}
	if parent.dentry.inode.Mode()&unix.S_ISGID != 0 {
		st, err := parent.dentry.inode.Stat(r.ctx)
		if err != nil {
			return nil, nil, err
		}
		opts.GID = st.Gid
		if fileType(mode) == unix.S_IFDIR {
			opts.Mode |= unix.S_ISGID
		}
	}
	if fileType(mode) != unix.S_IFDIR && mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP &&
		!r.creds.InGroup(opts.GID) && !r.creds.HasCap(CapFsetid) {
		opts.Mode &^= unix.S_ISGID
	}
	return dir, opts, nil
}

// createAt implements the operations that create a name (mkdir, mknod,
// symlink, link): it resolves pop's parent, checks that the name does not
// exist and may be created, and calls create with the parent's dentry lock
// held.
func (vfs *VirtualFilesystem) createAt(ctx context.Context, pop *PathOperation, mode uint32, create func(r *resolver, dir DirInode, name string, opts *CreateOptions) error) error {
	vfs.mu.RLock()
	defer vfs.mu.RUnlock()
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return err
	}
	defer r.release()
	name, trailing, err := r.resolveParent()
	if err != nil {
		return err
	}
	if name == "" || name == "." || name == ".." {
		return unix.EEXIST
	}
	parent := r.cur.dentry
	parent.dirMu.Lock()
	defer parent.dirMu.Unlock()
	c, err := parent.lookupLocked(ctx, name)
	if err == nil {
		c.DecRef(ctx)
		return unix.EEXIST
	}
	if err != unix.ENOENT {
		return err
	}
	if trailing && fileType(mode) != unix.S_IFDIR {
		return unix.ENOENT
	}
	dir, opts, err := r.mayCreateLocked(mode)
	if err != nil {
		return err
	}
	if err := create(r, dir, name, opts); err != nil {
		return err
	}
	notifyCreated(parent.inode, name, mode)
	return nil
}

// MkdirAt creates a directory (mkdir(2)). mode has the umask applied.
func (vfs *VirtualFilesystem) MkdirAt(ctx context.Context, pop *PathOperation, mode uint32) error {
	return vfs.createAt(ctx, pop, unix.S_IFDIR|mode&07777, func(r *resolver, dir DirInode, name string, opts *CreateOptions) error {
		return dir.Mkdir(ctx, name, opts)
	})
}

// MknodAt creates a file of the type in mode (mknod(2)): regular, FIFO,
// socket, or (with CAP_MKNOD) character or block device.
func (vfs *VirtualFilesystem) MknodAt(ctx context.Context, pop *PathOperation, mode uint32, dev uint64) error {
	switch fileType(mode) {
	case 0:
		mode |= unix.S_IFREG
	case unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFCHR, unix.S_IFBLK:
		if !credsOf(ctx, "mknod").HasCap(CapMknod) {
			return unix.EPERM
		}
	case unix.S_IFDIR:
		return unix.EPERM
	default:
		return unix.EINVAL
	}
	mode &= unix.S_IFMT | 07777
	return vfs.createAt(ctx, pop, mode, func(r *resolver, dir DirInode, name string, opts *CreateOptions) error {
		if fileType(mode) == unix.S_IFREG {
			inode, err := dir.Create(ctx, name, opts)
			if err != nil {
				return err
			}
			inode.DecRef(ctx)
			return nil
		}
		opts.Dev = dev
		return dir.Mknod(ctx, name, opts)
	})
}

// SymlinkAt creates a symbolic link to target (symlink(2)).
func (vfs *VirtualFilesystem) SymlinkAt(ctx context.Context, pop *PathOperation, target string) error {
	if target == "" {
		return unix.ENOENT
	}
	if len(target) >= PathMax {
		return unix.ENAMETOOLONG
	}
	return vfs.createAt(ctx, pop, unix.S_IFLNK|0777, func(r *resolver, dir DirInode, name string, opts *CreateOptions) error {
		return dir.Symlink(ctx, name, target, opts)
	})
}

// LinkAt creates newpop as a hard link to the file oldpop names (link(2),
// linkat(2); oldpop.FollowFinalSymlink is AT_SYMLINK_FOLLOW).
func (vfs *VirtualFilesystem) LinkAt(ctx context.Context, oldpop, newpop *PathOperation) error {
	old, err := vfs.GetDentryAt(ctx, oldpop, GetDentryOptions{})
	if err != nil {
		return err
	}
	defer old.DecRef(ctx)
	if old.dentry.isDir() {
		return unix.EPERM
	}
	return vfs.createAt(ctx, newpop, unix.S_IFREG, func(r *resolver, dir DirInode, name string, _ *CreateOptions) error {
		if r.cur.mount != old.mount {
			return unix.EXDEV
		}
		if old.dentry.dead.Load() && !old.dentry.tmpfile {
			return unix.ENOENT
		}
		if err := dir.Link(ctx, name, old.dentry.inode); err != nil {
			return err
		}
		notifyInode(old.dentry.inode, unix.IN_ATTRIB)
		return nil
	})
}

// removeKind says what removeAt removes.
type removeKind int

const (
	// removeNonDir removes a name that is not a directory (unlink).
	removeNonDir removeKind = iota
	// removeDir removes an empty directory (rmdir).
	removeDir
)

// removeAt resolves pop's parent and final name for unlink and rmdir,
// checks the common conditions, and calls remove with the parent's dentry
// lock held.
func (vfs *VirtualFilesystem) removeAt(ctx context.Context, pop *PathOperation, kind removeKind) error {
	rmdir := kind == removeDir
	vfs.mu.RLock()
	defer vfs.mu.RUnlock()
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return err
	}
	defer r.release()
	name, trailing, err := r.resolveParent()
	if err != nil {
		return err
	}
	switch {
	case rmdir && name == ".":
		return unix.EINVAL
	case rmdir && name == "..":
		return unix.ENOTEMPTY
	case rmdir && name == "":
		return unix.EBUSY
	case !rmdir && (name == "" || name == "." || name == ".."):
		return unix.EISDIR
	}
	parent := r.cur
	if parent.mount.ReadOnly() {
		return unix.EROFS
	}
	parent.dentry.dirMu.Lock()
	defer parent.dentry.dirMu.Unlock()
	c, err := parent.dentry.lookupLocked(ctx, name)
	if err != nil {
		return err
	}
	defer c.DecRef(ctx)
	if rmdir && !c.isDir() {
		return unix.ENOTDIR
	}
	if !rmdir && c.isDir() {
		return unix.EISDIR
	}
	if !rmdir && trailing {
		return unix.ENOTDIR
	}
	if err := r.mayDeleteLocked(parent.dentry, c); err != nil {
		return err
	}
	if c.mounts > 0 {
		return unix.EBUSY
	}
	dir, ok := parent.dentry.inode.(DirInode)
	if !ok {
		return unix.ENOTDIR
	}
	if rmdir {
		err = dir.Rmdir(ctx, name, c.inode)
	} else {
		err = dir.Unlink(ctx, name, c.inode)
	}
	if err != nil {
		return err
	}
	parent.dentry.removeChild(c)
	notifyRemoved(ctx, parent.dentry.inode, name, c.inode)
	return nil
}

// mayDeleteLocked checks that the caller may remove child from dir: write
// and search permission on dir, and the sticky-directory rule.
func (r *resolver) mayDeleteLocked(dir, child *Dentry) error {
	if err := dir.inode.CheckPermissions(r.ctx, r.creds, MayWrite|MayExec); err != nil {
		return err
	}
	if dir.inode.Mode()&unix.S_ISVTX == 0 {
		return nil
	}
	dst, err := dir.inode.Stat(r.ctx)
	if err != nil {
		return err
	}
	cst, err := child.inode.Stat(r.ctx)
	if err != nil {
		return err
	}
	return mayDeleteFromSticky(r.creds, uint32(dst.Mode), dst.Uid, cst.Uid)
}

// UnlinkAt removes a non-directory name (unlink(2)).
func (vfs *VirtualFilesystem) UnlinkAt(ctx context.Context, pop *PathOperation) error {
	return vfs.removeAt(ctx, pop, removeNonDir)
}

// RmdirAt removes an empty directory (rmdir(2)).
func (vfs *VirtualFilesystem) RmdirAt(ctx context.Context, pop *PathOperation) error {
	return vfs.removeAt(ctx, pop, removeDir)
}

// RenameAt renames oldpop to newpop (rename(2), renameat2(2) with flags
// RENAME_NOREPLACE; RENAME_EXCHANGE and RENAME_WHITEOUT are passed to the
// filesystem).
func (vfs *VirtualFilesystem) RenameAt(ctx context.Context, oldpop, newpop *PathOperation, flags uint32) error {
	if flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE|unix.RENAME_WHITEOUT) != 0 {
		return unix.EINVAL
	}
	if flags&unix.RENAME_EXCHANGE != 0 && flags&(unix.RENAME_NOREPLACE|unix.RENAME_WHITEOUT) != 0 {
		return unix.EINVAL
	}
	// RENAME_WHITEOUT leaves a whiteout (a 0/0 character device) at the old
	// name; filesystems that cannot make one fail with EINVAL. As Linux
	// since 5.8, it needs no CAP_MKNOD.
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	oldr, err := vfs.newResolver(ctx, oldpop)
	if err != nil {
		return err
	}
	defer oldr.release()
	oldName, oldTrailing, err := oldr.resolveParent()
	if err != nil {
		return err
	}
	newr, err := vfs.newResolver(ctx, newpop)
	if err != nil {
		return err
	}
	defer newr.release()
	newName, newTrailing, err := newr.resolveParent()
	if err != nil {
		return err
	}
	if oldr.cur.mount != newr.cur.mount {
		return unix.EXDEV
	}
	for _, n := range []string{oldName, newName} {
		if n == "" || n == "." || n == ".." {
			return unix.EBUSY
		}
	}
	if oldr.cur.mount.ReadOnly() {
		return unix.EROFS
	}
	oldParent, newParent := oldr.cur.dentry, newr.cur.dentry
	// No other goroutine holds any dirMu: they all hold vfs.mu for reading.
	oldParent.dirMu.Lock()
	defer oldParent.dirMu.Unlock()
	if newParent != oldParent {
		newParent.dirMu.Lock()
		defer newParent.dirMu.Unlock()
	}
	renamed, err := oldParent.lookupLocked(ctx, oldName)
	if err != nil {
		return err
	}
	defer renamed.DecRef(ctx)
	replaced, err := newParent.lookupLocked(ctx, newName)
	if err == nil {
		defer replaced.DecRef(ctx)
	} else if err != unix.ENOENT {
		return err
	} else {
		if flags&unix.RENAME_EXCHANGE != 0 {
			return unix.ENOENT
		}
		replaced = nil
	}
	if replaced != nil && flags&unix.RENAME_NOREPLACE != 0 {
		return unix.EEXIST
	}
	if renamed == replaced || (replaced != nil && renamed.inode == replaced.inode) {
		// Two names for the same file: nothing to do.
		return nil
	}
	isDir := renamed.isDir()
	if !isDir && (oldTrailing || newTrailing) && replaced == nil {
		return unix.ENOTDIR
	}
	if replaced != nil && flags&unix.RENAME_EXCHANGE == 0 {
		if isDir && !replaced.isDir() {
			return unix.ENOTDIR
		}
		if !isDir && replaced.isDir() {
			return unix.EISDIR
		}
	}
	if !isDir && (oldTrailing || newTrailing) {
		return unix.ENOTDIR
	}
	// A directory cannot move below itself, and the replaced file cannot be
	// an ancestor of the source.
	for d := newParent; d != nil; d = d.parent.Load() {
		if d == renamed {
			return unix.EINVAL
		}
	}
	if replaced != nil {
		for d := oldParent; d != nil; d = d.parent.Load() {
			if d == replaced {
				return unix.ENOTEMPTY
			}
		}
	}
	if err := oldr.mayDeleteLocked(oldParent, renamed); err != nil {
		return err
	}
	if replaced != nil {
		if err := newr.mayDeleteLocked(newParent, replaced); err != nil {
			return err
		}
	} else if err := newParent.inode.CheckPermissions(ctx, newr.creds, MayWrite|MayExec); err != nil {
		return err
	}
	if isDir && newParent != oldParent {
		// Its ".." entry changes.
		if err := renamed.inode.CheckPermissions(ctx, oldr.creds, MayWrite); err != nil {
			return err
		}
	}
	if renamed.mounts > 0 || (replaced != nil && replaced.mounts > 0) {
		return unix.EBUSY
	}
	if newParent.dead.Load() {
		return unix.ENOENT
	}
	oldDir, ok1 := oldParent.inode.(DirInode)
	newDir, ok2 := newParent.inode.(DirInode)
	if !ok1 || !ok2 {
		return unix.ENOTDIR
	}
	var replacedInode Inode
	if replaced != nil {
		replacedInode = replaced.inode
	}
	if err := oldDir.Rename(ctx, oldName, renamed.inode, newDir, newName, replacedInode, flags); err != nil {
		return err
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	if exchange {
		vfs.exchangeDentriesLocked(ctx, renamed, replaced)
	} else {
		if replaced != nil {
			newParent.removeChild(replaced)
		}
		vfs.moveDentryLocked(ctx, renamed, oldParent, newParent, newName)
	}
	notifyRenamed(ctx, oldParent.inode, oldName, newParent.inode, newName, renamed.inode, replacedInode, exchange)
	return nil
}

// moveDentryLocked moves d from oldParent to newParent under newName.
//
// Preconditions: vfs.mu is held for writing.
func (vfs *VirtualFilesystem) moveDentryLocked(ctx context.Context, d, oldParent, newParent *Dentry, newName string) {
	oldParent.childMu.Lock()
	if newParent != oldParent {
		newParent.childMu.Lock()
	}
	if oldParent.children[d.name] == d {
		delete(oldParent.children, d.name)
	}
	d.name = newName
	d.parent.Store(newParent)
	if newParent.children == nil {
		newParent.children = make(map[string]*Dentry)
	}
	newParent.children[newName] = d
	if newParent != oldParent {
		newParent.childMu.Unlock()
	}
	oldParent.childMu.Unlock()
	if newParent != oldParent {
		newParent.IncRef()
		oldParent.DecRef(ctx)
	}
}

// exchangeDentriesLocked swaps the names (and parents) of a and b.
//
// Preconditions: vfs.mu is held for writing.
func (vfs *VirtualFilesystem) exchangeDentriesLocked(ctx context.Context, a, b *Dentry) {
	pa, pb := a.parent.Load(), b.parent.Load()
	pa.childMu.Lock()
	if pb != pa {
		pb.childMu.Lock()
	}
	a.name, b.name = b.name, a.name
	a.parent.Store(pb)
	b.parent.Store(pa)
	pb.children[a.name] = a
	pa.children[b.name] = b
	if pb != pa {
		pb.childMu.Unlock()
	}
	pa.childMu.Unlock()
	// Each parent keeps one reference from a child: the counts are
	// unchanged.
}

// GetDentryAt returns the location pop names, with a reference (chdir,
// and the base of *at operations).
func (vfs *VirtualFilesystem) GetDentryAt(ctx context.Context, pop *PathOperation, opts GetDentryOptions) (VirtualDentry, error) {
	vfs.mu.RLock()
	defer vfs.mu.RUnlock()
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return VirtualDentry{}, err
	}
	defer r.release()
	if err := r.resolve(); err != nil {
		return VirtualDentry{}, err
	}
	if opts.CheckSearchable {
		if err := r.checkSearch(); err != nil {
			return VirtualDentry{}, err
		}
	}
	return r.takeCur(), nil
}

// statVD returns vd's attributes.
func statVD(ctx context.Context, vd VirtualDentry) (unix.Statx_t, error) {
	st, err := vd.dentry.inode.Stat(ctx)
	if err != nil {
		return unix.Statx_t{}, err
	}
	st.Mnt_id = vd.mount.id
	st.Mask |= unix.STATX_MNT_ID
	return st, nil
}

// StatAt returns the attributes of the file pop names (stat, lstat,
// fstatat, statx).
func (vfs *VirtualFilesystem) StatAt(ctx context.Context, pop *PathOperation) (unix.Statx_t, error) {
	vd, err := vfs.GetDentryAt(ctx, pop, GetDentryOptions{})
	if err != nil {
		return unix.Statx_t{}, err
	}
	defer vd.DecRef(ctx)
	return statVD(ctx, vd)
}

// ReadlinkAt returns the target of the symbolic link pop names
// (readlink(2)); pop.FollowFinalSymlink is ignored.
func (vfs *VirtualFilesystem) ReadlinkAt(ctx context.Context, pop *PathOperation) (string, error) {
	p := *pop
	p.FollowFinalSymlink = false
	vd, err := vfs.GetDentryAt(ctx, &p, GetDentryOptions{})
	if err != nil {
		return "", err
	}
	defer vd.DecRef(ctx)
	sl, ok := vd.dentry.inode.(SymlinkInode)
	if !ok || !isSymlink(vd) {
		return "", unix.EINVAL
	}
	return sl.Readlink(ctx)
}

// AccessIDs says which of the caller's IDs AccessAt checks with.
type AccessIDs int

const (
	// CheckEffectiveIDs checks with the filesystem IDs and effective
	// capabilities, as every other operation (faccessat2 with
	// AT_EACCESS, execve's X_OK check).
	CheckEffectiveIDs AccessIDs = iota
	// CheckRealIDs checks with the real IDs (if Credentials.HasRealIDs)
	// and no capabilities unless the real UID is 0, as access(2).
	CheckRealIDs
)

// AccessAt checks whether the caller may access the file pop names as mode
// (R_OK|W_OK|X_OK, or F_OK) asks (access(2), faccessat2(2)), with the IDs
// ids names.
func (vfs *VirtualFilesystem) AccessAt(ctx context.Context, pop *PathOperation, mode uint32, ids AccessIDs) error {
	if mode&^7 != 0 {
		return unix.EINVAL
	}
	creds := credsOf(ctx, "access")
	if ids == CheckRealIDs && creds.HasRealIDs {
		c := *creds
		c.UID, c.GID = creds.RealUID, creds.RealGID
		if c.UID != 0 {
			c.EffectiveCaps = 0
		}
		creds = &c
		ctx = WithCredentials(ctx, creds)
	}
	vd, err := vfs.GetDentryAt(ctx, pop, GetDentryOptions{})
	if err != nil {
		return err
	}
	defer vd.DecRef(ctx)
	ats := AccessTypes(mode)
	if ats&MayWrite != 0 && vd.mount.ReadOnly() {
		switch fileType(vd.dentry.inode.Mode()) {
		case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
			return unix.EROFS
		}
	}
	if ats == 0 {
		return nil
	}
	return vd.dentry.inode.CheckPermissions(ctx, creds, ats)
}

// SetStatAt changes the attributes of the file pop names (chmod, chown,
// truncate, utimensat).
func (vfs *VirtualFilesystem) SetStatAt(ctx context.Context, pop *PathOperation, opts SetStatOptions) error {
	vd, err := vfs.GetDentryAt(ctx, pop, GetDentryOptions{})
	if err != nil {
		return err
	}
	defer vd.DecRef(ctx)
	return setStat(ctx, vd, &opts, false)
}

// supportedSetStatMask are the attributes SetStat can change.
const supportedSetStatMask = unix.STATX_MODE | unix.STATX_UID | unix.STATX_GID | unix.STATX_SIZE | unix.STATX_ATIME | unix.STATX_MTIME

// setStat checks and applies an attribute change to vd. viaFD says the
// change comes through an open file (ftruncate needs no permission check:
// the file was opened for writing).
func setStat(ctx context.Context, vd VirtualDentry, in *SetStatOptions, viaFD bool) error {
	opts := *in
	if opts.Mask&^supportedSetStatMask != 0 {
		return unix.EINVAL
	}
	if opts.Mask&unix.STATX_UID != 0 && opts.UID == math.MaxUint32 {
		opts.Mask &^= unix.STATX_UID
	}
	if opts.Mask&unix.STATX_GID != 0 && opts.GID == math.MaxUint32 {
		opts.Mask &^= unix.STATX_GID
	}
	now := time.Now()
	timesNow := true
	for _, f := range []struct {
		bit uint32
		ts  *unix.Timespec
	}{{unix.STATX_ATIME, &opts.Atime}, {unix.STATX_MTIME, &opts.Mtime}} {
		if opts.Mask&f.bit == 0 {
			continue
		}
		switch f.ts.Nsec {
		case unix.UTIME_OMIT:
			opts.Mask &^= f.bit
		case unix.UTIME_NOW:
			*f.ts = unix.NsecToTimespec(now.UnixNano())
		default:
			if f.ts.Nsec < 0 || f.ts.Nsec >= 1e9 {
				return unix.EINVAL
			}
			timesNow = false
		}
	}
	if opts.Mask == 0 {
		return nil
	}
	if vd.mount.ReadOnly() {
		return unix.EROFS
	}
	creds := credsOf(ctx, "setattr")
	inode := vd.dentry.inode
	st, err := inode.Stat(ctx)
	if err != nil {
		return err
	}
	mode := uint32(st.Mode)
	if opts.Mask&unix.STATX_SIZE != 0 {
		switch fileType(mode) {
		case unix.S_IFREG:
		case unix.S_IFDIR:
			return unix.EISDIR
		default:
			return unix.EINVAL
		}
		if opts.Size > math.MaxInt64 {
			return unix.EINVAL
		}
		if !viaFD {
			if err := inode.CheckPermissions(ctx, creds, MayWrite); err != nil {
				return err
			}
		}
	}
	if opts.Mask&unix.STATX_MODE != 0 {
		if !isOwner(creds, st.Uid) {
			return unix.EPERM
		}
		opts.Mode &= 07777
		gid := st.Gid
		if opts.Mask&unix.STATX_GID != 0 {
			gid = opts.GID
		}
		if !creds.InGroup(gid) && !creds.HasCap(CapFsetid) {
			opts.Mode &^= unix.S_ISGID
		}
	}
	if opts.Mask&unix.STATX_UID != 0 {
		if !(creds.UID == st.Uid && opts.UID == st.Uid) && !creds.HasCap(CapChown) {
			return unix.EPERM
		}
	}
	if opts.Mask&unix.STATX_GID != 0 {
		if !(creds.UID == st.Uid && (creds.InGroup(opts.GID) || opts.GID == st.Gid)) && !creds.HasCap(CapChown) {
			return unix.EPERM
		}
	}
	if opts.Mask&(unix.STATX_UID|unix.STATX_GID) != 0 && fileType(mode) != unix.S_IFDIR {
		// chown clears set-user-ID, and set-group-ID on group-executable
		// files, even for root.
		kill := uint32(unix.S_ISUID)
		if mode&unix.S_IXGRP != 0 {
			kill |= unix.S_ISGID
		}
		if mode&kill != 0 {
			if opts.Mask&unix.STATX_MODE == 0 {
				opts.Mask |= unix.STATX_MODE
				opts.Mode = mode & 07777
			}
			opts.Mode &^= kill
		}
	}
	if opts.Mask&(unix.STATX_ATIME|unix.STATX_MTIME) != 0 && !isOwner(creds, st.Uid) {
		if !timesNow {
			return unix.EPERM
		}
		if err := inode.CheckPermissions(ctx, creds, MayWrite); err != nil {
			return err
		}
	}
	if err := inode.SetStat(ctx, &opts); err != nil {
		return err
	}
	notifySetStat(vd.dentry, opts.Mask)
	return nil
}

// PathnameReachable returns the path of vd as seen from root, for
// getcwd(2): ENOENT if vd was removed, and "(unreachable)" followed by the
// path from the top of vd's mount tree if root is not an ancestor of vd.
func (vfs *VirtualFilesystem) PathnameReachable(ctx context.Context, root, vd VirtualDentry) (string, error) {
	if !vd.Ok() {
		return "", unix.ENOENT
	}
	if vd.dentry.dead.Load() {
		return "", unix.ENOENT
	}
	p, reachable := vfs.pathname(root, vd)
	if !reachable {
		return "(unreachable)" + p, nil
	}
	return p, nil
}

// PathnameWithDeleted returns the path of vd as seen from root, as Linux's
// d_path shows it in /proc (readlink of /proc/PID/fd/N, cwd, exe): a
// removed file gets " (deleted)" appended, and an unreachable one is shown
// from the top of its mount tree.
func (vfs *VirtualFilesystem) PathnameWithDeleted(ctx context.Context, root, vd VirtualDentry) string {
	if !vd.Ok() {
		return ""
	}
	if name, ok := vd.IsAnonymous(); ok {
		// memfd's "/memfd:NAME (deleted)", "anon_inode:[eventfd]", ...
		return name
	}
	p, _ := vfs.pathname(root, vd)
	if vd.dentry.dead.Load() {
		p += " (deleted)"
	}
	return p
}

// pathname builds vd's path up to root, or to the top of its mount tree if
// root is not on the way (reachable false).
func (vfs *VirtualFilesystem) pathname(root, vd VirtualDentry) (string, bool) {
	vfs.mu.RLock()
	defer vfs.mu.RUnlock()
	var names []string
	reachable := false
	for {
		if vd.Equal(root) {
			reachable = true
			break
		}
		if vd.dentry == vd.mount.root {
			if vd.mount.parent == nil {
				break
			}
			vd = VirtualDentry{mount: vd.mount.parent, dentry: vd.mount.point}
			continue
		}
		parent := vd.dentry.parent.Load()
		if parent == nil {
			break
		}
		names = append(names, vd.dentry.name)
		vd.dentry = parent
	}
	n := 1
	for _, s := range names {
		n += len(s) + 1
	}
	buf := make([]byte, 0, n)
	for i := len(names) - 1; i >= 0; i-- {
		buf = append(buf, '/')
		buf = append(buf, names[i]...)
	}
	if len(buf) == 0 {
		buf = append(buf, '/')
	}
	return string(buf), reachable
}
