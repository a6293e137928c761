package vfs

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// UserMemory is the caller's memory, for ioctl arguments.
type UserMemory interface {
	// CopyIn copies len(dst) bytes from guest address addr.
	CopyIn(addr uintptr, dst []byte) (int, error)
	// CopyOut copies src to guest address addr.
	CopyOut(addr uintptr, src []byte) (int, error)
}

// FileDescriptionImpl is the filesystem's part of an open file description.
// See docs/vfs.md for the contract of each method. Embed
// FileDescriptionDefaultImpl to get Linux's defaults for unsupported
// operations.
type FileDescriptionImpl interface {
	// Release is called when the last reference to the FileDescription is
	// dropped.
	Release(ctx context.Context)
	// Read reads into dst from offset off (-1 for stream files).
	Read(ctx context.Context, fd *FileDescription, dst []byte, off int64) (int, error)
	// Write writes src at off (-1 for streams), or at the end of the file if
	// fd has O_APPEND, and returns the offset just past the written bytes.
	Write(ctx context.Context, fd *FileDescription, src []byte, off int64) (n int, newOff int64, err error)
	// Seek returns the new offset for lseek(off, whence), cur being the
	// current one.
	Seek(ctx context.Context, cur, off int64, whence int32) (int64, error)
	// IterDirents emits directory entries from position off until emit
	// returns false or the directory ends.
	IterDirents(ctx context.Context, off int64, emit func(Dirent) bool) error
	// Ioctl implements ioctl(2).
	Ioctl(ctx context.Context, fd *FileDescription, mem UserMemory, cmd uint32, arg uintptr) (uintptr, error)
	// Readiness returns the events in mask that are currently ready.
	Readiness(mask uint32) uint32
	// EventRegister registers e for readiness notifications.
	EventRegister(e *waiter.Entry)
	// EventUnregister unregisters e.
	EventUnregister(e *waiter.Entry)
	// Stat returns the attributes of a file that has no dentry.
	Stat(ctx context.Context) (unix.Statx_t, error)
	// Stream reports whether the file has no position (pipes, ttys,
	// sockets): pread, pwrite and lseek fail with ESPIPE.
	Stream() bool
}

// FileDescriptionDefaultImpl provides Linux's defaults for operations a
// file does not support. Embed it in FileDescriptionImpls.
type FileDescriptionDefaultImpl struct{}

// Release implements FileDescriptionImpl.Release.
func (FileDescriptionDefaultImpl) Release(context.Context) {}

// Read implements FileDescriptionImpl.Read.
func (FileDescriptionDefaultImpl) Read(context.Context, *FileDescription, []byte, int64) (int, error) {
	return 0, unix.EINVAL
}

// Write implements FileDescriptionImpl.Write.
func (FileDescriptionDefaultImpl) Write(context.Context, *FileDescription, []byte, int64) (int, int64, error) {
	return 0, 0, unix.EINVAL
}

// Seek implements FileDescriptionImpl.Seek.
func (FileDescriptionDefaultImpl) Seek(context.Context, int64, int64, int32) (int64, error) {
	return 0, unix.ESPIPE
}

// IterDirents implements FileDescriptionImpl.IterDirents.
func (FileDescriptionDefaultImpl) IterDirents(context.Context, int64, func(Dirent) bool) error {
	return unix.ENOTDIR
}

// Ioctl implements FileDescriptionImpl.Ioctl.
func (FileDescriptionDefaultImpl) Ioctl(context.Context, *FileDescription, UserMemory, uint32, uintptr) (uintptr, error) {
	return 0, unix.ENOTTY
}

// Readiness implements FileDescriptionImpl.Readiness: always ready for
// reading and writing, as a regular file.
func (FileDescriptionDefaultImpl) Readiness(mask uint32) uint32 {
	return mask & (unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDNORM | unix.EPOLLWRNORM)
}

// EventRegister implements FileDescriptionImpl.EventRegister.
func (FileDescriptionDefaultImpl) EventRegister(*waiter.Entry) {}

// EventUnregister implements FileDescriptionImpl.EventUnregister.
func (FileDescriptionDefaultImpl) EventUnregister(*waiter.Entry) {}

// Stat implements FileDescriptionImpl.Stat.
func (FileDescriptionDefaultImpl) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{}, unix.EBADF
}

// Stream implements FileDescriptionImpl.Stream.
func (FileDescriptionDefaultImpl) Stream() bool { return false }

// GenericSeek computes an lseek result for a file of the given size whose
// data has no holes: SEEK_DATA and SEEK_HOLE treat the file as one extent.
func GenericSeek(cur, off int64, whence int32, size int64) (int64, error) {
	var n int64
	switch whence {
	case unix.SEEK_SET:
		n = off
	case unix.SEEK_CUR:
		n = cur + off
		if (off > 0 && n < cur) || (off < 0 && n > cur) {
			return 0, unix.EOVERFLOW
		}
	case unix.SEEK_END:
		n = size + off
		if (off > 0 && n < size) || (off < 0 && n > size) {
			return 0, unix.EOVERFLOW
		}
	case unix.SEEK_DATA:
		if off < 0 || off >= size {
			return 0, unix.ENXIO
		}
		n = off
	case unix.SEEK_HOLE:
		if off < 0 || off >= size {
			return 0, unix.ENXIO
		}
		n = size
	default:
		return 0, unix.EINVAL
	}
	if n < 0 {
		return 0, unix.EINVAL
	}
	return n, nil
}

// settableStatusFlags are the flags F_SETFL may change.
const settableStatusFlags = unix.O_APPEND | unix.O_NONBLOCK | unix.O_ASYNC | unix.O_DIRECT | unix.O_NOATIME

// openOnlyFlags are open flags that are not kept as status flags.
const openOnlyFlags = unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC | unix.O_CLOEXEC

// FileDescription is an open file description (Linux: struct file). It is
// reference counted: file descriptor tables, and anything else that keeps
// the file open, hold references.
type FileDescription struct {
	// refs is the reference count.
	refs refs.Count
	// impl is the filesystem's part. Immutable; nil for O_PATH files.
	impl FileDescriptionImpl
	// vd is the file's location, with a reference; not Ok for files with
	// no dentry (pipes, host fds). Immutable.
	vd VirtualDentry
	// flags are the access mode and status flags (F_GETFL). Accessed
	// atomically.
	flags atomic.Uint32
	// readable, writable and isPath are fixed at open. Immutable.
	readable, writable, isPath bool

	// offMu serialises position-using operations (Linux: f_pos_lock).
	offMu sync.Mutex
	// off is the file position. Protected by offMu.
	off int64

	// releaseHook, if set, runs when the last reference goes, before the
	// filesystem's Release (vfs/lock drops flock and OFD locks there).
	releaseHook atomic.Pointer[ReleaseHook]
	// dropHook, if set, runs when a reference that is not the last goes
	// (AF_UNIX sockets start their garbage collector there).
	dropHook atomic.Pointer[func()]

	// watchMu protects watchers and released. It is a leaf.
	watchMu sync.Mutex
	// watchers are told when the last reference goes (epoll entries,
	// which hold no reference). Protected by watchMu.
	watchers map[any]func()
	// released is set when the last reference has gone. Protected by
	// watchMu.
	released bool
}

// ReleaseHook is a function run when a file description's last reference
// is dropped. See FileDescription.SetReleaseHook.
type ReleaseHook func(ctx context.Context, fd *FileDescription)

// NewFileDescription returns a file description with one reference for
// impl, opened with the open flags flags at vd (which may be the zero
// VirtualDentry for files with no location). It takes its own reference on
// vd. impl may be nil only with O_PATH.
func NewFileDescription(impl FileDescriptionImpl, flags uint32, vd VirtualDentry) *FileDescription {
	fd := &FileDescription{impl: impl, vd: vd}
	fd.refs.Init(fd)
	vd.IncRef()
	fd.flags.Store(flags &^ openOnlyFlags)
	if flags&unix.O_PATH != 0 || impl == nil {
		fd.isPath = true
	} else {
		switch flags & unix.O_ACCMODE {
		case unix.O_RDONLY:
			fd.readable = true
		case unix.O_WRONLY:
			fd.writable = true
		case unix.O_RDWR:
			fd.readable, fd.writable = true, true
		}
	}
	return fd
}

// IncRef takes a reference on fd.
func (fd *FileDescription) IncRef() { fd.refs.IncRef() }

// TryIncRef takes a reference on fd unless its last one is already gone,
// for holders of weak references (see WatchRelease).
func (fd *FileDescription) TryIncRef() bool { return fd.refs.TryIncRef() }

// WatchRelease arranges for fn to run when fd's last reference is
// dropped, before the filesystem's Release; key identifies the watch for
// UnwatchRelease. It reports false, and does nothing, if fd is already
// released. fn runs on the goroutine that drops the last reference, which
// may hold any lock: it must take none that are ever held across a
// DecRef (epoll only marks its entry and lets its next scan clean up).
func (fd *FileDescription) WatchRelease(key any, fn func()) bool {
	fd.watchMu.Lock()
	defer fd.watchMu.Unlock()
	if fd.released {
		return false
	}
	if fd.watchers == nil {
		fd.watchers = make(map[any]func())
	}
	fd.watchers[key] = fn
	return true
}

// UnwatchRelease cancels the watch key.
func (fd *FileDescription) UnwatchRelease(key any) {
	fd.watchMu.Lock()
	delete(fd.watchers, key)
	fd.watchMu.Unlock()
}

// DecRef drops a reference on fd, releasing it with the last.
func (fd *FileDescription) DecRef(ctx context.Context) {
	if !fd.refs.DecRef() {
		if h := fd.dropHook.Load(); h != nil {
			(*h)()
		}
		return
	}
	fd.watchMu.Lock()
	fd.released = true
	watchers := fd.watchers
	fd.watchers = nil
	fd.watchMu.Unlock()
	for _, fn := range watchers {
		fn()
	}
	notifyClose(fd)
	if h := fd.releaseHook.Load(); h != nil {
		(*h)(ctx, fd)
	}
	if fd.impl != nil {
		fd.impl.Release(ctx)
	}
	fd.vd.DecRef(ctx)
}

// SetDropHook arranges for h to run each time a reference other than
// the last is dropped. h runs on the goroutine that drops it, which may
// hold any lock: it must take none.
func (fd *FileDescription) SetDropHook(h func()) { fd.dropHook.Store(&h) }

// Refs returns the number of references on fd: a snapshot, for a holder
// that knows no new reference can appear meanwhile (the AF_UNIX garbage
// collector).
func (fd *FileDescription) Refs() int64 { return fd.refs.Load() }

// SetReleaseHook arranges for h to run when fd's last reference is
// dropped, unless a hook is already set (the first one stays). It is for
// state kept about fd outside the VFS, such as file locks.
func (fd *FileDescription) SetReleaseHook(h *ReleaseHook) {
	fd.releaseHook.CompareAndSwap(nil, h)
}

// LockKey returns the identity of the file fd is open on, for file locks:
// its inode, or for files with no location (pipes, host fds) its
// implementation (nil for O_PATH files with no location).
func (fd *FileDescription) LockKey() any {
	if fd.vd.Ok() {
		return fd.vd.Dentry().Inode()
	}
	return fd.impl
}

// Impl returns the filesystem's part of fd (nil for O_PATH files).
func (fd *FileDescription) Impl() FileDescriptionImpl { return fd.impl }

// VirtualDentry returns fd's location, without a reference (not Ok for
// files with no location).
func (fd *FileDescription) VirtualDentry() VirtualDentry { return fd.vd }

// StatusFlags returns the access mode and status flags (F_GETFL).
func (fd *FileDescription) StatusFlags() uint32 { return fd.flags.Load() }

// IsReadable reports whether fd was opened for reading.
func (fd *FileDescription) IsReadable() bool { return fd.readable }

// IsWritable reports whether fd was opened for writing.
func (fd *FileDescription) IsWritable() bool { return fd.writable }

// IsPath reports whether fd was opened with O_PATH.
func (fd *FileDescription) IsPath() bool { return fd.isPath }

// SetStatusFlags implements F_SETFL: only O_APPEND, O_NONBLOCK, O_ASYNC,
// O_DIRECT and O_NOATIME change; other bits are ignored.
func (fd *FileDescription) SetStatusFlags(ctx context.Context, flags uint32) error {
	if fd.isPath {
		return unix.EBADF
	}
	for {
		old := fd.flags.Load()
		nf := old&^settableStatusFlags | flags&settableStatusFlags
		if fd.flags.CompareAndSwap(old, nf) {
			return nil
		}
	}
}

// Read reads from the current position and advances it.
func (fd *FileDescription) Read(ctx context.Context, dst []byte) (int, error) {
	if !fd.readable {
		return 0, unix.EBADF
	}
	if fd.impl.Stream() {
		n, err := fd.impl.Read(ctx, fd, dst, -1)
		fd.notifyIf(n > 0, unix.IN_ACCESS)
		return n, err
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	n, err := fd.impl.Read(ctx, fd, dst, fd.off)
	fd.off += int64(n)
	fd.notifyIf(n > 0, unix.IN_ACCESS)
	return n, err
}

// PRead reads from offset off without using the position.
func (fd *FileDescription) PRead(ctx context.Context, dst []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	if !fd.readable {
		return 0, unix.EBADF
	}
	if fd.impl.Stream() {
		return 0, unix.ESPIPE
	}
	n, err := fd.impl.Read(ctx, fd, dst, off)
	fd.notifyIf(n > 0, unix.IN_ACCESS)
	return n, err
}

// Write writes at the current position (at the end with O_APPEND) and
// advances it.
func (fd *FileDescription) Write(ctx context.Context, src []byte) (int, error) {
	if !fd.writable {
		return 0, unix.EBADF
	}
	if fd.impl.Stream() {
		n, _, err := fd.impl.Write(ctx, fd, src, -1)
		fd.notifyIf(n > 0, unix.IN_MODIFY)
		return n, err
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	n, newOff, err := fd.impl.Write(ctx, fd, src, fd.off)
	if n > 0 || err == nil {
		fd.off = newOff
	}
	fd.notifyIf(n > 0, unix.IN_MODIFY)
	return n, err
}

// PWrite writes at offset off without using the position. As on Linux,
// O_APPEND makes it append anyway.
func (fd *FileDescription) PWrite(ctx context.Context, src []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	if !fd.writable {
		return 0, unix.EBADF
	}
	if fd.impl.Stream() {
		return 0, unix.ESPIPE
	}
	n, _, err := fd.impl.Write(ctx, fd, src, off)
	fd.notifyIf(n > 0, unix.IN_MODIFY)
	return n, err
}

// Seek implements lseek(2).
func (fd *FileDescription) Seek(ctx context.Context, off int64, whence int32) (int64, error) {
	if fd.isPath {
		return 0, unix.EBADF
	}
	if fd.impl.Stream() {
		return 0, unix.ESPIPE
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	n, err := fd.impl.Seek(ctx, fd.off, off, whence)
	if err != nil {
		return 0, err
	}
	fd.off = n
	return n, nil
}

// direntHeaderSize is the size of linux_dirent64 before d_name.
const direntHeaderSize = 8 + 8 + 2 + 1

// Getdents64 fills dst with linux_dirent64 records from the current
// position and advances it. It returns EINVAL if dst cannot hold the next
// record.
func (fd *FileDescription) Getdents64(ctx context.Context, dst []byte) (int, error) {
	if fd.isPath {
		return 0, unix.EBADF
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	n := 0
	tooSmall := false
	err := fd.impl.IterDirents(ctx, fd.off, func(d Dirent) bool {
		reclen := (direntHeaderSize + len(d.Name) + 1 + 7) &^ 7
		if n+reclen > len(dst) {
			tooSmall = n == 0
			return false
		}
		rec := dst[n : n+reclen]
		binary.LittleEndian.PutUint64(rec[0:], d.Ino)
		binary.LittleEndian.PutUint64(rec[8:], uint64(d.NextOff))
		binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
		rec[18] = d.Type
		copy(rec[direntHeaderSize:], d.Name)
		clear(rec[direntHeaderSize+len(d.Name):])
		n += reclen
		fd.off = d.NextOff
		return true
	})
	fd.notifyIf(n > 0 || err == nil, unix.IN_ACCESS)
	switch {
	case n > 0:
		// Entries already returned win over a later error.
		return n, nil
	case err != nil:
		return 0, err
	case tooSmall:
		return 0, unix.EINVAL
	}
	return 0, nil
}

// Ioctl implements ioctl(2) for commands the syscall layer does not handle
// itself.
func (fd *FileDescription) Ioctl(ctx context.Context, mem UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	if fd.isPath {
		return 0, unix.EBADF
	}
	return fd.impl.Ioctl(ctx, fd, mem, cmd, arg)
}

// Stat returns the file's attributes (fstat).
func (fd *FileDescription) Stat(ctx context.Context) (unix.Statx_t, error) {
	if fd.vd.Ok() {
		return statVD(ctx, fd.vd)
	}
	if fd.impl == nil {
		return unix.Statx_t{}, unix.EBADF
	}
	return fd.impl.Stat(ctx)
}

// SetStat changes the file's attributes (fchmod, fchown, ftruncate,
// futimens).
func (fd *FileDescription) SetStat(ctx context.Context, opts SetStatOptions) error {
	if fd.isPath {
		return unix.EBADF
	}
	if opts.Mask&unix.STATX_SIZE != 0 && !fd.writable {
		return unix.EINVAL
	}
	if !fd.vd.Ok() {
		return unix.EPERM
	}
	return setStat(ctx, fd.vd, &opts, true)
}

// Readiness returns the events in mask that are ready.
func (fd *FileDescription) Readiness(mask uint32) uint32 {
	if fd.isPath {
		return 0
	}
	return fd.impl.Readiness(mask)
}

// EventRegister registers e for readiness notifications.
func (fd *FileDescription) EventRegister(e *waiter.Entry) {
	if !fd.isPath {
		fd.impl.EventRegister(e)
	}
}

// EventUnregister unregisters e.
func (fd *FileDescription) EventUnregister(e *waiter.Entry) {
	if !fd.isPath {
		fd.impl.EventUnregister(e)
	}
}

// notifyIf reports mask (IN_ACCESS, IN_MODIFY) to the watchers of fd's
// file if cond holds.
func (fd *FileDescription) notifyIf(cond bool, mask uint32) {
	if cond {
		notifyDentry(fd.vd.dentry, mask)
	}
}
