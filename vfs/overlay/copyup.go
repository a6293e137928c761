package overlay

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// copyChunk is the unit in which file data is copied up.
const copyChunk = 64 << 10

// copyUpData says whether a copy-up copies a regular file's data.
type copyUpData int

const (
	// withData copies the data.
	withData copyUpData = iota
	// withoutData does not: the file is about to be truncated.
	withoutData
)

// copyUp makes sure i has an upper file, with or without a regular
// file's data.
func (i *inode) copyUp(ctx context.Context, data copyUpData) error {
	i.mu.Lock()
	done := i.upper != nil
	i.mu.Unlock()
	if done {
		return nil
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.copyUpLocked(ctx, data)
}

// upperDir returns i's upper file as a directory.
//
// Preconditions: i is a directory that has been copied up.
func (i *inode) upperDir() vfs.DirInode {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.upper.(vfs.DirInode)
}

// copyUpLocked copies i (and first its parents) to the upper layer unless
// it is there already. The copy is built in the work directory and then
// renamed into place.
//
// Preconditions: fs.mu is held.
func (i *inode) copyUpLocked(ctx context.Context, data copyUpData) error {
	if i.upper != nil {
		return nil
	}
	if i.dead || i.parent == nil {
		return unix.ENOENT
	}
	if err := i.parent.copyUpLocked(ctx, withData); err != nil {
		return err
	}
	fs := i.fs
	st, err := i.lower.Stat(ctx)
	if err != nil {
		return err
	}
	mode := uint32(st.Mode)
	opts := &vfs.CreateOptions{Mode: mode, UID: st.Uid, GID: st.Gid, Dev: unix.Mkdev(st.Rdev_major, st.Rdev_minor)}
	tmp := fs.tempNameLocked()
	work := fs.work
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		err = work.Mkdir(ctx, tmp, opts)
	case unix.S_IFREG:
		var f vfs.Inode
		if f, err = work.Create(ctx, tmp, opts); err == nil {
			if data == withData {
				err = copyData(ctx, i.lower, f, int64(st.Size))
			}
			f.DecRef(ctx)
		}
	case unix.S_IFLNK:
		var target string
		if l, ok := i.lower.(vfs.SymlinkInode); !ok {
			err = unix.EIO
		} else if target, err = l.Readlink(ctx); err == nil {
			err = work.Symlink(ctx, tmp, target, opts)
		}
	default:
		err = work.Mknod(ctx, tmp, opts)
	}
	c, lerr := work.Lookup(ctx, tmp)
	if lerr != nil {
		if err == nil {
			err = lerr
		}
		return err
	}
	// Mode again after the data (a write clears set-ID bits) and the
	// times; symlinks have no mode of their own to set.
	if err == nil {
		set := &vfs.SetStatOptions{Mask: unix.STATX_ATIME | unix.STATX_MTIME, Atime: timespec(st.Atime), Mtime: timespec(st.Mtime)}
		if mode&unix.S_IFMT != unix.S_IFLNK {
			set.Mask |= unix.STATX_MODE
			set.Mode = mode & 0o7777
		}
		err = c.SetStat(ctx, set)
	}
	if err == nil {
		err = copyXattrs(ctx, i.lower, c)
	}
	var ust unix.Statx_t
	if err == nil {
		ust, err = c.Stat(ctx)
	}
	if err == nil {
		err = i.parent.insertLocked(ctx, tmp, c, i.name, nil)
	}
	if err != nil {
		if isDir(c) {
			work.Rmdir(ctx, tmp, c)
		} else {
			work.Unlink(ctx, tmp, c)
		}
		c.DecRef(ctx)
		return err
	}
	fs.metaMu.Lock()
	fs.origin[ust.Ino] = i.ino
	fs.byUpper[c] = i
	fs.metaMu.Unlock()
	i.mu.Lock()
	i.upper = c
	i.upperIno = ust.Ino
	i.mu.Unlock()
	return nil
}

// insertLocked renames the file c, called tmp in the work directory, to
// name in d's upper directory, replacing replaced (nil if the name is
// free in the upper layer). d's upper directory keeps its times, as a
// copy-up is not a change of the directory.
//
// Preconditions: fs.mu is held; d has been copied up.
func (d *inode) insertLocked(ctx context.Context, tmp string, c vfs.Inode, name string, replaced vfs.Inode) error {
	ud := d.upperDir()
	before, err := ud.Stat(ctx)
	if err != nil {
		return err
	}
	if err := d.fs.work.Rename(ctx, tmp, c, ud, name, replaced, 0); err != nil {
		return err
	}
	ud.SetStat(ctx, &vfs.SetStatOptions{Mask: unix.STATX_ATIME | unix.STATX_MTIME, Atime: timespec(before.Atime), Mtime: timespec(before.Mtime)})
	return nil
}

// copyData copies size bytes of from's data to the empty regular file to,
// leaving holes where from reads as zeros.
func copyData(ctx context.Context, from, to vfs.Inode, size int64) error {
	ri, err := from.Open(ctx, vfs.VirtualDentry{}, &vfs.OpenOptions{Flags: unix.O_RDONLY})
	if err != nil {
		return err
	}
	r := vfs.NewFileDescription(ri, unix.O_RDONLY, vfs.VirtualDentry{})
	defer r.DecRef(ctx)
	wi, err := to.Open(ctx, vfs.VirtualDentry{}, &vfs.OpenOptions{Flags: unix.O_WRONLY})
	if err != nil {
		return err
	}
	w := vfs.NewFileDescription(wi, unix.O_WRONLY, vfs.VirtualDentry{})
	defer w.DecRef(ctx)
	buf := make([]byte, copyChunk)
	var off int64
	for off < size {
		n, err := r.PRead(ctx, buf[:min(int64(len(buf)), size-off)], off)
		if err != nil {
			return err
		}
		if n == 0 {
			break // the file shrank on the host
		}
		if !allZero(buf[:n]) {
			for done := 0; done < n; {
				m, err := w.PWrite(ctx, buf[done:n], off+int64(done))
				if err != nil {
					return err
				}
				if m == 0 {
					return unix.ENOSPC
				}
				done += m
			}
		}
		off += int64(n)
	}
	return to.SetStat(ctx, &vfs.SetStatOptions{Mask: unix.STATX_SIZE, Size: uint64(off)})
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
