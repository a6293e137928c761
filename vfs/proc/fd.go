package proc

import (
	"context"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// AnonInodeNamer is optionally implemented by the FileDescriptionImpl of
// a file with no location that is neither a pipe nor a socket (eventfd,
// epoll, timerfd, ...): readlink of /proc/PID/fd/N shows
// "anon_inode:" + AnonInodeName().
type AnonInodeNamer interface {
	// AnonInodeName returns the name Linux gives the file's anonymous
	// inode, such as "[eventfd]".
	AnonInodeName() string
}

// fdDir provides the entries of /proc/PID/fd (magic links) or
// /proc/PID/fdinfo (files).
type fdDir struct {
	fs *filesystem
	// dir is the directory. Immutable.
	dir *dirNode
	// info selects fdinfo. Immutable.
	info bool
}

// fdDirBase is the position of descriptor 0 (after "." and "..").
const fdDirBase = 2

func (d fdDir) list(ctx context.Context) []dynamicEntry {
	t := d.dir.task.thread()
	if t == nil {
		return nil
	}
	typ := uint8(unix.DT_LNK)
	if d.info {
		typ = unix.DT_REG
	}
	fds := t.FDs()
	out := make([]dynamicEntry, 0, len(fds))
	for _, fd := range fds {
		name := strconv.Itoa(int(fd))
		out = append(out, dynamicEntry{name: name, typ: typ, ino: d.dir.childIno(name), pos: fdDirBase + int64(fd)})
	}
	return out
}

// open reports whether descriptor fd is open in the directory's thread.
func (d fdDir) open(ctx context.Context, fd int32) bool {
	t := d.dir.task.thread()
	if t == nil {
		return false
	}
	file, _ := t.FD(fd)
	if file == nil {
		return false
	}
	file.DecRef(ctx)
	return true
}

func (d fdDir) lookup(ctx context.Context, name string) (vfs.Inode, error) {
	fd, ok := parseID(name)
	if !ok {
		return nil, unix.ENOENT
	}
	ref, ino := d.dir.task, d.dir.childIno(name)
	file, _, err := fileOf(ref, fd)
	if err != nil {
		return nil, err
	}
	// Linux gives fd links the access mode of the file as permissions.
	perm := uint32(0)
	if file.IsReadable() {
		perm |= 0o500
	}
	if file.IsWritable() {
		perm |= 0o200
	}
	file.DecRef(ctx)
	if d.info {
		return d.fs.newFile(ino, 0o444, ref, func(ctx context.Context) ([]byte, error) {
			return d.fs.fdinfo(ctx, ref, fd)
		}), nil
	}
	l := d.fs.newMagicLink(ino, ref,
		func(ctx context.Context) (string, error) { return d.fs.fdTarget(ctx, ref, fd) },
		func(ctx context.Context) (vfs.VirtualDentry, error) { return fdLink(ctx, ref, fd) })
	l.mode = unix.S_IFLNK | perm
	return l, nil
}

func (d fdDir) valid(ctx context.Context, name string, child vfs.Inode) bool {
	fd, ok := parseID(name)
	return ok && d.open(ctx, fd)
}

// fileOf returns the file at descriptor fd of r's thread with a
// reference.
func fileOf(r *taskRef, fd int32) (*vfs.FileDescription, bool, error) {
	t := r.thread()
	if t == nil {
		return nil, false, unix.ENOENT
	}
	file, cloexec := t.FD(fd)
	if file == nil {
		return nil, false, unix.ENOENT
	}
	return file, cloexec, nil
}

// fdLink is GetLink of /proc/PID/fd/N: the file's location. Files with
// no location (pipes, sockets, host descriptors) cannot be reached by a
// walk: ENOENT.
func fdLink(ctx context.Context, r *taskRef, fd int32) (vfs.VirtualDentry, error) {
	file, _, err := fileOf(r, fd)
	if err != nil {
		return vfs.VirtualDentry{}, err
	}
	defer file.DecRef(ctx)
	vd := file.VirtualDentry()
	if !vd.Ok() {
		return vfs.VirtualDentry{}, unix.ENOENT
	}
	vd.IncRef()
	return vd, nil
}

// fdTarget is readlink of /proc/PID/fd/N.
func (fs *filesystem) fdTarget(ctx context.Context, r *taskRef, fd int32) (string, error) {
	file, _, err := fileOf(r, fd)
	if err != nil {
		return "", err
	}
	defer file.DecRef(ctx)
	vd := file.VirtualDentry()
	if name, ok := vd.IsAnonymous(); ok {
		return name, nil
	}
	if vd.Ok() {
		vd.IncRef()
		return fs.pathOf(ctx, vd), nil
	}
	return anonName(ctx, file), nil
}

// anonName names a file with no location as Linux does.
func anonName(ctx context.Context, file *vfs.FileDescription) string {
	st, err := file.Stat(ctx)
	if err == nil {
		switch uint32(st.Mode) & unix.S_IFMT {
		case unix.S_IFIFO:
			return fmt.Sprintf("pipe:[%d]", st.Ino)
		case unix.S_IFSOCK:
			return fmt.Sprintf("socket:[%d]", st.Ino)
		}
	}
	if n, ok := file.Impl().(AnonInodeNamer); ok {
		return "anon_inode:" + n.AnonInodeName()
	}
	return "anon_inode:[unknown]"
}

// fdinfo is /proc/PID/fdinfo/N.
func (fs *filesystem) fdinfo(ctx context.Context, r *taskRef, fd int32) ([]byte, error) {
	file, cloexec, err := fileOf(r, fd)
	if err != nil {
		return nil, err
	}
	defer file.DecRef(ctx)
	var pos int64
	if !file.IsPath() && !file.Impl().Stream() {
		if p, err := file.Seek(ctx, 0, unix.SEEK_CUR); err == nil {
			pos = p
		}
	}
	// Linux opens every file with O_LARGEFILE on 64-bit; x/sys defines
	// it as 0 on amd64, so the kernel's value is spelled out.
	const oLargefile = 0o100000
	flags := file.StatusFlags() | oLargefile
	if cloexec {
		flags |= unix.O_CLOEXEC
	}
	var mntID, ino uint64
	if vd := file.VirtualDentry(); vd.Ok() {
		mntID = vd.Mount().ID()
	}
	if st, err := file.Stat(ctx); err == nil {
		ino = st.Ino
	}
	out := fmt.Appendf(nil, "pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", pos, flags, mntID, ino)
	if x, ok := file.Impl().(FDInfoer); ok {
		out = append(out, x.FDInfo()...)
	}
	return out, nil
}

// FDInfoer is optionally implemented by files with lines of their own in
// /proc/PID/fdinfo/N (a pidfd's "Pid:").
type FDInfoer interface {
	FDInfo() string
}
