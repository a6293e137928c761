package linux

import (
	"context"
	"encoding/binary"
	"math"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/epoll"
	"github.com/palisade-sandbox/palisade/sentry/kernel/eventfd"
	"github.com/palisade-sandbox/palisade/sentry/kernel/timerfd"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/pipe"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_OPEN, "O_TMPFILE is supported on tmpfs only (EOPNOTSUPP elsewhere)", Open)
	partial(unix.SYS_OPENAT, "O_TMPFILE is supported on tmpfs only (EOPNOTSUPP elsewhere)", Openat)
	full(unix.SYS_CREAT, Creat)
	partial(unix.SYS_OPENAT2, "RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_XDEV, RESOLVE_NO_MAGICLINKS and RESOLVE_NO_SYMLINKS supported; RESOLVE_CACHED always fails with EAGAIN", Openat2)
	partial(unix.SYS_CLOSE_RANGE, "CLOSE_RANGE_UNSHARE fails with EINVAL (descriptor tables cannot be unshared yet)", CloseRange)
	full(unix.SYS_DUP, Dup)
	full(unix.SYS_DUP2, Dup2)
	full(unix.SYS_DUP3, Dup3)
	partial(unix.SYS_FCNTL, "F_SETLEASE and F_NOTIFY fail with EINVAL; O_ASYNC's signal follows the event shortly instead of before the call returns (docs/kernel.md)", Fcntl)
	partial(unix.SYS_IOCTL, "FIOCLEX, FIONCLEX, FIONBIO, FIONREAD (regular files) handled generically; the netdevice(7) SIOCGIF* queries on any socket (docs/network.md); the rest by each file; FIOASYNC as F_SETFL's O_ASYNC", Ioctl)
	full(unix.SYS_MKDIR, Mkdir)
	full(unix.SYS_MKDIRAT, Mkdirat)
	full(unix.SYS_MKNOD, Mknod)
	full(unix.SYS_MKNODAT, Mknodat)
	full(unix.SYS_UNLINK, Unlink)
	full(unix.SYS_UNLINKAT, Unlinkat)
	full(unix.SYS_RMDIR, Rmdir)
	full(unix.SYS_RENAME, Rename)
	full(unix.SYS_RENAMEAT, Renameat)
	partial(unix.SYS_RENAMEAT2, "RENAME_WHITEOUT supported on tmpfs (no CAP_MKNOD needed, as Linux 5.8+); overlay fails it with EINVAL, gofer passes it to the host", Renameat2)
	full(unix.SYS_SYMLINK, Symlink)
	full(unix.SYS_SYMLINKAT, Symlinkat)
	full(unix.SYS_LINK, Link)
	full(unix.SYS_LINKAT, Linkat)
	full(unix.SYS_READLINK, Readlink)
	full(unix.SYS_READLINKAT, Readlinkat)
	full(unix.SYS_ACCESS, Access)
	full(unix.SYS_FACCESSAT, Faccessat)
	full(unix.SYS_FACCESSAT2, Faccessat2)
	full(unix.SYS_CHMOD, Chmod)
	full(unix.SYS_FCHMOD, Fchmod)
	full(unix.SYS_FCHMODAT, Fchmodat)
	full(unix.SYS_FCHMODAT2, Fchmodat2)
	full(unix.SYS_CHOWN, Chown)
	full(unix.SYS_FCHOWN, Fchown)
	full(unix.SYS_LCHOWN, Lchown)
	full(unix.SYS_FCHOWNAT, Fchownat)
	full(unix.SYS_TRUNCATE, Truncate)
	full(unix.SYS_FTRUNCATE, Ftruncate)
	partial(unix.SYS_FSYNC, "validates the descriptor only: the VFS has no sync hook (tmpfs needs none; gofer files are written through)", Fsync)
	partial(unix.SYS_FDATASYNC, "validates the descriptor only: the VFS has no sync hook (tmpfs needs none; gofer files are written through)", Fdatasync)
	partial(unix.SYS_SYNC, "nothing to flush: the VFS has no sync hook (tmpfs needs none; gofer files are written through)", Sync)
	partial(unix.SYS_SYNCFS, "validates the descriptor only: the VFS has no sync hook (tmpfs needs none; gofer files are written through)", Syncfs)
	full(unix.SYS_UTIMENSAT, Utimensat)
	full(unix.SYS_UTIMES, Utimes)
	full(unix.SYS_UTIME, Utime)
	full(unix.SYS_FUTIMESAT, Futimesat)
	full(unix.SYS_UMASK, Umask)
	full(unix.SYS_GETCWD, Getcwd)
	full(unix.SYS_CHDIR, Chdir)
	full(unix.SYS_FCHDIR, Fchdir)
	full(unix.SYS_CHROOT, Chroot)
}

// nrOpen caps RLIMIT_NOFILE (Linux: the default of /proc/sys/fs/nr_open),
// so that a guest with a huge limit cannot make its descriptor table
// allocate gigabytes with dup2(fd, 1<<30).
const nrOpen = 1 << 20

// fdLimit returns the first descriptor number a process may not use
// (the RLIMIT_NOFILE soft limit).
func fdLimit(t *kernel.Task) int32 {
	cur := t.ThreadGroup().Limit(unix.RLIMIT_NOFILE).Cur
	if cur > nrOpen {
		return nrOpen
	}
	return int32(cur)
}

// newFD installs f at the lowest free descriptor: EMFILE when the
// RLIMIT_NOFILE soft limit leaves none.
func newFD(t *kernel.Task, f *vfs.FileDescription, flags kernel.FDFlags) (int32, error) {
	limit := fdLimit(t)
	if limit <= 0 {
		return 0, unix.EMFILE
	}
	return t.FDTable().NewFD(0, limit, f, flags)
}

// getOpenFile is getFile for calls that do not accept O_PATH descriptors
// (Linux: fdget rather than fdget_raw): they see EBADF.
func getOpenFile(t *kernel.Task, fd int32) (*vfs.FileDescription, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, err
	}
	if f.IsPath() {
		f.DecRef(t.Context())
		return nil, unix.EBADF
	}
	return f, nil
}

// taskVFS returns the task's VFS.
func taskVFS(t *kernel.Task) *vfs.VirtualFilesystem { return t.Kernel().VFS }

// openHow is struct open_how (openat2(2)), as the guest lays it out.
type openHow struct {
	Flags   uint64
	Mode    uint64
	Resolve uint64
}

// openHowSizeVer0 is the size of the first published struct open_how.
const openHowSizeVer0 = 24

// openPath opens path relative to dirfd as how asks and installs the new
// file at the lowest free descriptor. how has been checked; the VFS owns
// the open-flag rules (vfs.OpenHow), the walk enforces RESOLVE_*.
func openPath(t *kernel.Task, dirfd int32, addr uint64, how vfs.OpenHow) (uint64, error) {
	opts := how.Options(t.FSContext().Umask())
	pop, err := pathArg(t, dirfd, addr, pathOpts{
		follow: opts.Flags&unix.O_NOFOLLOW == 0,
		inRoot: how.ScopedToStart(),
	})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	pop.Resolve = uint32(how.Resolve)
	ctx := t.Context()
	f, err := taskVFS(t).OpenAt(ctx, &pop.PathOperation, opts)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx)
	fd, err := newFD(t, f, kernel.FDFlags{CloseOnExec: opts.Flags&unix.O_CLOEXEC != 0})
	return uint64(fd), err
}

// openLegacy implements open, openat and creat: their flags and mode
// decoded as openat2 would get them.
func openLegacy(t *kernel.Task, dirfd int32, addr, flags, mode uint64) (uint64, error) {
	how := vfs.OpenHowFromFlags(flags, mode)
	if err := how.Check(); err != nil {
		return 0, err
	}
	return openPath(t, dirfd, addr, how)
}

// Open implements open(2).
func Open(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pathAddr, flags, mode := args[0], args[1], args[2]
	return openLegacy(t, unix.AT_FDCWD, pathAddr, flags, mode)
}

// Openat implements openat(2).
func Openat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, flags, mode := fdArg(args[0]), args[1], args[2], args[3]
	return openLegacy(t, dirfd, pathAddr, flags, mode)
}

// Creat implements creat(2).
func Creat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pathAddr, mode := args[0], args[1]
	return openLegacy(t, unix.AT_FDCWD, pathAddr, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, mode)
}

// Openat2 implements openat2(2).
func Openat2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, howAddr, size := fdArg(args[0]), args[1], args[2], args[3]
	if size < openHowSizeVer0 {
		return 0, unix.EINVAL
	}
	if size > pageSize {
		return 0, unix.E2BIG
	}
	var raw openHow
	if err := copyInExtensible(t, howAddr, size, abi.AsBytes(&raw)); err != nil {
		return 0, err
	}
	how := vfs.OpenHow{Flags: raw.Flags, Mode: raw.Mode, Resolve: raw.Resolve}
	if err := how.Check(); err != nil {
		return 0, err
	}
	return openPath(t, dirfd, pathAddr, how)
}

// pageSize bounds extensible structures (Linux: PAGE_SIZE).
const pageSize = 4096

// copyInExtensible reads an extensible structure of size bytes at addr
// into dst (Linux: copy_struct_from_user): a shorter guest structure
// leaves the rest of dst zero, a longer one must have only zero bytes
// beyond dst (E2BIG otherwise).
func copyInExtensible(t *kernel.Task, addr, size uint64, dst []byte) error {
	n := min(size, uint64(len(dst)))
	if err := copyIn(t, addr, dst[:n]); err != nil {
		return err
	}
	if size <= uint64(len(dst)) {
		clear(dst[n:])
		return nil
	}
	rest := make([]byte, size-n)
	if err := copyIn(t, addr+n, rest); err != nil {
		return err
	}
	for _, b := range rest {
		if b != 0 {
			return unix.E2BIG
		}
	}
	return nil
}

// CloseRange implements close_range(2).
func CloseRange(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	first, last, flags := uint32(args[0]), uint32(args[1]), uint32(args[2])
	if flags&^(unix.CLOSE_RANGE_UNSHARE|unix.CLOSE_RANGE_CLOEXEC) != 0 {
		return 0, unix.EINVAL
	}
	if first > last {
		return 0, unix.EINVAL
	}
	if flags&unix.CLOSE_RANGE_UNSHARE != 0 {
		// Closing in a table shared with other tasks (CLONE_FILES, vfork
		// children) would close their descriptors too.
		return 0, unix.EINVAL
	}
	table := t.FDTable()
	for _, fd := range table.FDs() {
		if uint32(fd) < first || uint32(fd) > last {
			continue
		}
		if flags&unix.CLOSE_RANGE_CLOEXEC != 0 {
			// A descriptor closed meanwhile by another thread is no
			// longer in the range's business.
			_ = table.SetFlags(fd, kernel.FDFlags{CloseOnExec: true})
			continue
		}
		if f := table.Remove(fd); f != nil {
			releasePOSIXLocks(t, f)
			f.DecRef(t.Context())
		}
	}
	return 0, nil
}

// Dup implements dup(2).
func Dup(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	oldfd := fdArg(args[0])
	f, err := getFile(t, oldfd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	fd, err := newFD(t, f, kernel.FDFlags{})
	return uint64(fd), err
}

// dupTo installs oldfd's file at newfd, closing what was there.
func dupTo(t *kernel.Task, oldfd, newfd int32, flags kernel.FDFlags) (uint64, error) {
	limit := fdLimit(t)
	if newfd < 0 || newfd >= limit {
		return 0, unix.EBADF
	}
	f, err := getFile(t, oldfd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	old, err := t.FDTable().Install(newfd, limit, f, flags)
	if err != nil {
		return 0, err
	}
	if old != nil {
		releasePOSIXLocks(t, old)
		old.DecRef(t.Context())
	}
	return uint64(newfd), nil
}

// Dup2 implements dup2(2).
func Dup2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	oldfd, newfd := fdArg(args[0]), fdArg(args[1])
	if oldfd == newfd {
		f, err := getFile(t, oldfd)
		if err != nil {
			return 0, err
		}
		f.DecRef(t.Context())
		return uint64(newfd), nil
	}
	return dupTo(t, oldfd, newfd, kernel.FDFlags{})
}

// Dup3 implements dup3(2).
func Dup3(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	oldfd, newfd, flags := fdArg(args[0]), fdArg(args[1]), uint32(args[2])
	if flags&^unix.O_CLOEXEC != 0 {
		return 0, unix.EINVAL
	}
	if oldfd == newfd {
		return 0, unix.EINVAL
	}
	return dupTo(t, oldfd, newfd, kernel.FDFlags{CloseOnExec: flags&unix.O_CLOEXEC != 0})
}

// fcntlPathCmds are the fcntl commands allowed on O_PATH descriptors
// (Linux: check_fcntl_cmd).
func fcntlPathCmd(cmd uint32) bool {
	switch cmd {
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC, unix.F_GETFD, unix.F_SETFD, unix.F_GETFL:
		return true
	}
	return false
}

// Fcntl implements fcntl(2).
func Fcntl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, cmd, arg := fdArg(args[0]), uint32(args[1]), args[2]
	f, fdFlags := t.FDTable().Get(fd)
	if f == nil {
		return 0, unix.EBADF
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	if f.IsPath() && !fcntlPathCmd(cmd) {
		return 0, unix.EBADF
	}
	switch cmd {
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC:
		limit := fdLimit(t)
		if arg >= uint64(limit) {
			return 0, unix.EINVAL
		}
		nfd, err := t.FDTable().NewFD(int32(arg), limit, f, kernel.FDFlags{CloseOnExec: cmd == unix.F_DUPFD_CLOEXEC})
		return uint64(nfd), err
	case unix.F_GETFD:
		if fdFlags.CloseOnExec {
			return unix.FD_CLOEXEC, nil
		}
		return 0, nil
	case unix.F_SETFD:
		return 0, t.FDTable().SetFlags(fd, kernel.FDFlags{CloseOnExec: arg&unix.FD_CLOEXEC != 0})
	case unix.F_GETFL:
		return uint64(f.StatusFlags()), nil
	case unix.F_SETFL:
		return 0, setStatusFlags(t, f, fd, uint32(arg))
	case unix.F_SETOWN:
		// A negative argument is a process group.
		typ, id := int32(kernel.OwnerPID), int32(arg)
		if id < 0 {
			if id == math.MinInt32 {
				return 0, unix.EINVAL
			}
			typ, id = kernel.OwnerPGRP, -id
		}
		return 0, t.SetFileOwner(f, typ, id, hasUrgentData(f))
	case unix.F_GETOWN:
		typ, id := kernel.FileOwner(f)
		if typ == kernel.OwnerPGRP {
			id = -id
		}
		return uint64(int64(id)), nil
	case unix.F_SETOWN_EX:
		var b [8]byte
		if err := copyIn(t, arg, b[:]); err != nil {
			return 0, err
		}
		typ, id := int32(binary.LittleEndian.Uint32(b[:4])), int32(binary.LittleEndian.Uint32(b[4:]))
		return 0, t.SetFileOwner(f, typ, id, hasUrgentData(f))
	case unix.F_GETOWN_EX:
		typ, id := kernel.FileOwner(f)
		var b [8]byte
		binary.LittleEndian.PutUint32(b[:4], uint32(typ))
		binary.LittleEndian.PutUint32(b[4:], uint32(id))
		return 0, copyOut(t, arg, b[:])
	case unix.F_SETSIG:
		if arg > 64 {
			return 0, unix.EINVAL
		}
		return 0, t.SetFileSignal(f, int32(arg))
	case unix.F_GETSIG:
		return uint64(kernel.FileSignal(f)), nil
	case unix.F_GETPIPE_SZ:
		p := pipe.FromImpl(f.Impl())
		if p == nil {
			return 0, unix.EBADF
		}
		return uint64(p.Capacity()), nil
	case unix.F_SETPIPE_SZ:
		p := pipe.FromImpl(f.Impl())
		if p == nil {
			return 0, unix.EBADF
		}
		// Linux takes the size as an unsigned int, rounds anything below
		// a page up to a page, and refuses sizes above 2^31.
		size := uint32(arg)
		if size > 1<<31 {
			return 0, unix.EINVAL
		}
		size = max(size, pageSize)
		n, err := p.SetCapacity(int64(size))
		return uint64(n), err
	case unix.F_GETLEASE:
		// No lease can be taken (F_SETLEASE is refused), so none is held.
		return unix.F_UNLCK, nil
	case unix.F_GETLK, unix.F_SETLK, unix.F_SETLKW, unix.F_OFD_GETLK, unix.F_OFD_SETLK, unix.F_OFD_SETLKW:
		return fcntlLock(t, f, cmd, arg)
	case unix.F_GET_SEALS, unix.F_ADD_SEALS:
		return fcntlSeals(f, cmd, arg)
	}
	// F_SETLEASE, F_NOTIFY and the rest are not implemented;
	// unknown commands are EINVAL on Linux too.
	return 0, unix.EINVAL
}

// setStatusFlags is F_SETFL (and FIONBIO, FIOASYNC) on descriptor fd:
// a change of O_ASYNC starts or stops signal-driven I/O.
func setStatusFlags(t *kernel.Task, f *vfs.FileDescription, fd int32, flags uint32) error {
	old := f.StatusFlags()
	if flags&^old&unix.O_ASYNC != 0 && !asyncCapable(t, f) {
		// As Linux, O_ASYNC is not kept by a file that cannot send
		// SIGIO (no fasync operation).
		flags &^= unix.O_ASYNC
	}
	if err := f.SetStatusFlags(t.Context(), flags); err != nil {
		return err
	}
	if now := f.StatusFlags(); (old^now)&unix.O_ASYNC != 0 {
		t.SetFileAsync(f, fd, now&unix.O_ASYNC != 0)
	}
	return nil
}

// hasUrgentData reports whether f is a TCP socket, whose owner gets
// SIGURG when urgent data arrives.
func hasUrgentData(f *vfs.FileDescription) bool {
	s := inet.FromImpl(f.Impl())
	return s != nil && s.Type == unix.SOCK_STREAM && (s.Family == unix.AF_INET || s.Family == unix.AF_INET6)
}

// asyncCapable reports whether f can do signal-driven I/O: not regular
// files, directories, eventfd, timerfd, epoll, signalfd or pidfd, which
// have no fasync under Linux.
func asyncCapable(t *kernel.Task, f *vfs.FileDescription) bool {
	switch f.Impl().(type) {
	case *eventfd.EventFD, *timerfd.TimerFD, *epoll.EventPoll, *kernel.PIDFD:
		return false
	}
	if kernel.IsSignalFD(f) {
		return false
	}
	st, err := f.Stat(t.Context())
	if err != nil {
		return true
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
		return false
	}
	return true
}

// Ioctl implements ioctl(2).
func Ioctl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, cmd, arg := fdArg(args[0]), uint32(args[1]), args[2]
	f, err := getOpenFile(t, fd)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	switch cmd {
	case abi.FIOCLEX, abi.FIONCLEX:
		return 0, t.FDTable().SetFlags(fd, kernel.FDFlags{CloseOnExec: cmd == abi.FIOCLEX})
	case abi.FIONBIO, abi.FIOASYNC:
		var b [4]byte
		if err := copyIn(t, arg, b[:]); err != nil {
			return 0, err
		}
		bit := uint32(unix.O_NONBLOCK)
		if cmd == abi.FIOASYNC {
			bit = unix.O_ASYNC
		}
		flags := f.StatusFlags() &^ bit
		if b != [4]byte{} {
			flags |= bit
		}
		return 0, setStatusFlags(t, f, fd, flags)
	case abi.FIONREAD:
		st, err := f.Stat(ctx)
		if err != nil {
			return 0, err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			break
		}
		// For regular files the answer is generic: the bytes between the
		// file position and the end.
		pos, err := f.Seek(ctx, 0, unix.SEEK_CUR)
		if err != nil {
			return 0, err
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(int64(st.Size)-pos))
		return 0, copyOut(t, arg, b[:])
	}
	if sock, inet4 := isSocketFile(f); sock && isIfIoctl(cmd) {
		return ifIoctl(t, inet4, cmd, arg)
	}
	ret, err := f.Ioctl(ctx, t.UserMemory(), cmd, uintptr(arg))
	return uint64(ret), err
}

// mkdirAt implements mkdir and mkdirat.
func mkdirAt(t *kernel.Task, dirfd int32, addr uint64, mode uint32) (uint64, error) {
	pop, err := pathArg(t, dirfd, addr, pathOpts{})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	mode = mode & (0777 | unix.S_ISVTX) &^ t.FSContext().Umask()
	return 0, taskVFS(t).MkdirAt(t.Context(), &pop.PathOperation, mode)
}

// Mkdir implements mkdir(2).
func Mkdir(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, mode := args[0], uint32(args[1])
	return mkdirAt(t, unix.AT_FDCWD, addr, mode)
}

// Mkdirat implements mkdirat(2).
func Mkdirat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, mode := fdArg(args[0]), args[1], uint32(args[2])
	return mkdirAt(t, dirfd, addr, mode)
}

// decodeDev splits a dev_t as the kernel's mknod takes it (32 bits:
// Linux new_decode_dev) into a device number.
func decodeDev(dev uint32) uint64 {
	major := (dev & 0xfff00) >> 8
	minor := (dev & 0xff) | ((dev >> 12) & 0xfff00)
	return unix.Mkdev(major, minor)
}

// mknodAt implements mknod and mknodat.
func mknodAt(t *kernel.Task, dirfd int32, addr uint64, mode uint32, dev uint32) (uint64, error) {
	// The file type is checked before the path (Linux: may_mknod).
	switch mode & unix.S_IFMT {
	case 0, unix.S_IFREG, unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO, unix.S_IFSOCK:
	case unix.S_IFDIR:
		return 0, unix.EPERM
	default:
		return 0, unix.EINVAL
	}
	pop, err := pathArg(t, dirfd, addr, pathOpts{})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	mode = mode&unix.S_IFMT | mode&07777&^t.FSContext().Umask()
	return 0, taskVFS(t).MknodAt(t.Context(), &pop.PathOperation, mode, decodeDev(dev))
}

// Mknod implements mknod(2).
func Mknod(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, mode, dev := args[0], uint32(args[1]), uint32(args[2])
	return mknodAt(t, unix.AT_FDCWD, addr, mode, dev)
}

// Mknodat implements mknodat(2).
func Mknodat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, mode, dev := fdArg(args[0]), args[1], uint32(args[2]), uint32(args[3])
	return mknodAt(t, dirfd, addr, mode, dev)
}

// removeKind says what removeAt removes.
type removeKind int

const (
	// removeFile removes a name that is not a directory (unlink).
	removeFile removeKind = iota
	// removeDir removes an empty directory (rmdir, AT_REMOVEDIR).
	removeDir
)

// removeAt implements unlink, rmdir and unlinkat.
func removeAt(t *kernel.Task, dirfd int32, addr uint64, kind removeKind) (uint64, error) {
	pop, err := pathArg(t, dirfd, addr, pathOpts{})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	if kind == removeDir {
		return 0, taskVFS(t).RmdirAt(t.Context(), &pop.PathOperation)
	}
	return 0, taskVFS(t).UnlinkAt(t.Context(), &pop.PathOperation)
}

// Unlink implements unlink(2).
func Unlink(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pathAddr := args[0]
	return removeAt(t, unix.AT_FDCWD, pathAddr, removeFile)
}

// Unlinkat implements unlinkat(2).
func Unlinkat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, flags := fdArg(args[0]), args[1], intArg(args[2])
	if flags&^unix.AT_REMOVEDIR != 0 {
		return 0, unix.EINVAL
	}
	kind := removeFile
	if flags&unix.AT_REMOVEDIR != 0 {
		kind = removeDir
	}
	return removeAt(t, dirfd, pathAddr, kind)
}

// Rmdir implements rmdir(2).
func Rmdir(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pathAddr := args[0]
	return removeAt(t, unix.AT_FDCWD, pathAddr, removeDir)
}

// renameAt implements the rename family.
func renameAt(t *kernel.Task, olddirfd int32, oldAddr uint64, newdirfd int32, newAddr uint64, flags uint32) (uint64, error) {
	if flags&^(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE|unix.RENAME_WHITEOUT) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.RENAME_EXCHANGE != 0 && flags&(unix.RENAME_NOREPLACE|unix.RENAME_WHITEOUT) != 0 {
		return 0, unix.EINVAL
	}
	oldpop, err := pathArg(t, olddirfd, oldAddr, pathOpts{})
	if err != nil {
		return 0, err
	}
	defer oldpop.release()
	newpop, err := pathArg(t, newdirfd, newAddr, pathOpts{})
	if err != nil {
		return 0, err
	}
	defer newpop.release()
	return 0, taskVFS(t).RenameAt(t.Context(), &oldpop.PathOperation, &newpop.PathOperation, flags)
}

// Rename implements rename(2).
func Rename(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	oldAddr, newAddr := args[0], args[1]
	return renameAt(t, unix.AT_FDCWD, oldAddr, unix.AT_FDCWD, newAddr, 0)
}

// Renameat implements renameat(2).
func Renameat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	olddirfd, oldAddr, newdirfd, newAddr := fdArg(args[0]), args[1], fdArg(args[2]), args[3]
	return renameAt(t, olddirfd, oldAddr, newdirfd, newAddr, 0)
}

// Renameat2 implements renameat2(2).
func Renameat2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	olddirfd, oldAddr, newdirfd, newAddr, flags := fdArg(args[0]), args[1], fdArg(args[2]), args[3], uint32(args[4])
	return renameAt(t, olddirfd, oldAddr, newdirfd, newAddr, flags)
}

// symlinkAt implements symlink and symlinkat.
func symlinkAt(t *kernel.Task, targetAddr uint64, dirfd int32, linkAddr uint64) (uint64, error) {
	target, err := copyInPath(t, targetAddr)
	if err != nil {
		return 0, err
	}
	if target == "" {
		return 0, unix.ENOENT
	}
	pop, err := pathArg(t, dirfd, linkAddr, pathOpts{})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	return 0, taskVFS(t).SymlinkAt(t.Context(), &pop.PathOperation, target)
}

// Symlink implements symlink(2).
func Symlink(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	targetAddr, linkAddr := args[0], args[1]
	return symlinkAt(t, targetAddr, unix.AT_FDCWD, linkAddr)
}

// Symlinkat implements symlinkat(2).
func Symlinkat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	targetAddr, dirfd, linkAddr := args[0], fdArg(args[1]), args[2]
	return symlinkAt(t, targetAddr, dirfd, linkAddr)
}

// linkAt implements link and linkat.
func linkAt(t *kernel.Task, olddirfd int32, oldAddr uint64, newdirfd int32, newAddr uint64, flags int32) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	emptyOK := flags&unix.AT_EMPTY_PATH != 0
	if emptyOK && !t.Credentials().HasCap(unix.CAP_DAC_READ_SEARCH) && !isTmpfileFD(t, olddirfd) {
		// Linking an open file by descriptor is privileged: it could
		// give a name back to a file its owner unlinked. An O_TMPFILE
		// file is made to be named this way.
		return 0, unix.ENOENT
	}
	oldpop, err := pathArg(t, olddirfd, oldAddr, pathOpts{follow: flags&unix.AT_SYMLINK_FOLLOW != 0, emptyPath: emptyOK})
	if err == errNoLocation {
		// Pipes and other anonymous files have no name to link to.
		return 0, unix.ENOENT
	}
	if err != nil {
		return 0, err
	}
	defer oldpop.release()
	newpop, err := pathArg(t, newdirfd, newAddr, pathOpts{})
	if err != nil {
		return 0, err
	}
	defer newpop.release()
	return 0, taskVFS(t).LinkAt(t.Context(), &oldpop.PathOperation, &newpop.PathOperation)
}

// isTmpfileFD reports whether fd is an open O_TMPFILE file.
func isTmpfileFD(t *kernel.Task, fd int32) bool {
	f, err := getFile(t, fd)
	if err != nil {
		return false
	}
	defer f.DecRef(t.Context())
	vd := f.VirtualDentry()
	return vd.Ok() && vd.Dentry().IsTmpfile()
}

// Link implements link(2).
func Link(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	oldAddr, newAddr := args[0], args[1]
	return linkAt(t, unix.AT_FDCWD, oldAddr, unix.AT_FDCWD, newAddr, 0)
}

// Linkat implements linkat(2).
func Linkat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	olddirfd, oldAddr, newdirfd, newAddr, flags := fdArg(args[0]), args[1], fdArg(args[2]), args[3], intArg(args[4])
	return linkAt(t, olddirfd, oldAddr, newdirfd, newAddr, flags)
}

// readlinkAt implements readlink and readlinkat.
func readlinkAt(t *kernel.Task, dirfd int32, addr, buf uint64, size int32) (uint64, error) {
	if size <= 0 {
		return 0, unix.EINVAL
	}
	path, err := copyInPath(t, addr)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	var target string
	if path == "" {
		// An empty path reads the symlink dirfd was opened on (with
		// O_PATH|O_NOFOLLOW); anything else is ENOENT.
		target, err = readlinkEmptyPath(t, dirfd)
	} else {
		var pop *pathOperation
		pop, err = pathOp(t, dirfd, path, pathOpts{})
		if err != nil {
			return 0, err
		}
		target, err = taskVFS(t).ReadlinkAt(ctx, &pop.PathOperation)
		pop.release()
	}
	if err != nil {
		return 0, err
	}
	n := min(len(target), int(size))
	if err := copyOut(t, buf, []byte(target[:n])); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// readlinkEmptyPath returns the target of the symlink at dirfd.
func readlinkEmptyPath(t *kernel.Task, dirfd int32) (string, error) {
	var vd vfs.VirtualDentry
	if dirfd == unix.AT_FDCWD {
		vd = t.FSContext().Cwd()
		defer vd.DecRef(t.Context())
	} else {
		f, err := getFile(t, dirfd)
		if err != nil {
			return "", err
		}
		defer f.DecRef(t.Context())
		vd = f.VirtualDentry()
	}
	if !vd.Ok() {
		return "", unix.ENOENT
	}
	inode := vd.Dentry().Inode()
	sl, ok := inode.(vfs.SymlinkInode)
	if !ok || inode.Mode()&unix.S_IFMT != unix.S_IFLNK {
		return "", unix.ENOENT
	}
	return sl.Readlink(t.Context())
}

// Readlink implements readlink(2).
func Readlink(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, buf, size := args[0], args[1], intArg(args[2])
	return readlinkAt(t, unix.AT_FDCWD, addr, buf, size)
}

// Readlinkat implements readlinkat(2).
func Readlinkat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, buf, size := fdArg(args[0]), args[1], args[2], intArg(args[3])
	return readlinkAt(t, dirfd, addr, buf, size)
}

// accessContext returns the context access(2) checks with: the real user
// and group IDs unless eaccess (AT_EACCESS).
func accessContext(t *kernel.Task, eaccess bool) context.Context {
	if eaccess {
		return t.Context()
	}
	// kernel.Credentials.VFS does not fill the real IDs that
	// VirtualFilesystem.AccessAt uses without AT_EACCESS.
	c := t.Credentials()
	vc := c.VFS()
	vc.RealUID, vc.RealGID = c.RealUID, c.RealGID
	return vfs.WithCredentials(t.Context(), vc)
}

// accessAt implements the access family.
func accessAt(t *kernel.Task, dirfd int32, addr uint64, mode uint32, flags int32) (uint64, error) {
	if mode&^(unix.R_OK|unix.W_OK|unix.X_OK) != 0 {
		return 0, unix.EINVAL
	}
	if flags&^(unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	eaccess := flags&unix.AT_EACCESS != 0
	pop, err := pathArg(t, dirfd, addr, atPathOpts(flags))
	if err == errNoLocation {
		return 0, accessAnonymous(t, dirfd, mode, eaccess)
	}
	if err != nil {
		return 0, err
	}
	defer pop.release()
	ctx := accessContext(t, eaccess)
	ids := vfs.CheckRealIDs
	if eaccess {
		ids = vfs.CheckEffectiveIDs
	}
	return 0, taskVFS(t).AccessAt(ctx, &pop.PathOperation, mode, ids)
}

// accessAnonymous checks access to a file with no location (a pipe) by
// its attributes.
func accessAnonymous(t *kernel.Task, fd int32, mode uint32, eaccess bool) error {
	f, err := getFile(t, fd)
	if err != nil {
		return err
	}
	defer f.DecRef(t.Context())
	st, err := f.Stat(t.Context())
	if err != nil {
		return err
	}
	if mode == 0 {
		return nil
	}
	c := t.Credentials()
	creds := c.VFS()
	if !eaccess {
		// As VirtualFilesystem.AccessAt: the real IDs, and capabilities
		// only for a real root.
		creds.UID, creds.GID = c.RealUID, c.RealGID
		if creds.UID != 0 {
			creds.EffectiveCaps = 0
		}
	}
	return vfs.GenericCheckPermissions(creds, vfs.AccessTypes(mode), uint32(st.Mode), st.Uid, st.Gid)
}

// Access implements access(2).
func Access(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, mode := args[0], uint32(args[1])
	return accessAt(t, unix.AT_FDCWD, addr, mode, 0)
}

// Faccessat implements faccessat(2) (the system call has no flags).
func Faccessat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, mode := fdArg(args[0]), args[1], uint32(args[2])
	return accessAt(t, dirfd, addr, mode, 0)
}

// Faccessat2 implements faccessat2(2).
func Faccessat2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, mode, flags := fdArg(args[0]), args[1], uint32(args[2]), intArg(args[3])
	return accessAt(t, dirfd, addr, mode, flags)
}

// setStatAt applies opts to the file path names relative to dirfd, walked
// as o says. A file with no location (with o.emptyPath) is changed
// through its descriptor.
func setStatAt(t *kernel.Task, dirfd int32, addr uint64, o pathOpts, opts vfs.SetStatOptions) error {
	pop, err := pathArg(t, dirfd, addr, o)
	if err == errNoLocation {
		return setStatFD(t, dirfd, opts)
	}
	if err != nil {
		return err
	}
	defer pop.release()
	return taskVFS(t).SetStatAt(t.Context(), &pop.PathOperation, opts)
}

// setStatFD applies opts through the open file fd. O_PATH descriptors
// are refused with EBADF.
func setStatFD(t *kernel.Task, fd int32, opts vfs.SetStatOptions) error {
	f, err := getFile(t, fd)
	if err != nil {
		return err
	}
	defer f.DecRef(t.Context())
	if f.IsPath() {
		return unix.EBADF
	}
	return f.SetStat(t.Context(), opts)
}

// chmodOpts is a mode change.
func chmodOpts(mode uint64) vfs.SetStatOptions {
	return vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: uint32(mode) & 07777}
}

// Chmod implements chmod(2).
func Chmod(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, mode := args[0], args[1]
	return 0, setStatAt(t, unix.AT_FDCWD, addr, pathOpts{follow: true}, chmodOpts(mode))
}

// Fchmod implements fchmod(2).
func Fchmod(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, mode := fdArg(args[0]), args[1]
	return 0, setStatFD(t, fd, chmodOpts(mode))
}

// Fchmodat implements fchmodat(2) (the system call has no flags).
func Fchmodat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, mode := fdArg(args[0]), args[1], args[2]
	return 0, setStatAt(t, dirfd, addr, pathOpts{follow: true}, chmodOpts(mode))
}

// Fchmodat2 implements fchmodat2(2): fchmodat with AT_SYMLINK_NOFOLLOW
// and AT_EMPTY_PATH. The mode of a symlink cannot be changed
// (EOPNOTSUPP, which Linux's notify_change answers before any permission
// check).
func Fchmodat2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, mode, flags := fdArg(args[0]), args[1], args[2], intArg(args[3])
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	opts := chmodOpts(mode)
	pop, err := pathArg(t, dirfd, addr, atPathOpts(flags))
	if err == errNoLocation {
		return 0, setStatFD(t, dirfd, opts)
	}
	if err != nil {
		return 0, err
	}
	defer pop.release()
	ctx := t.Context()
	sx, err := taskVFS(t).StatAt(ctx, &pop.PathOperation)
	if err != nil {
		return 0, err
	}
	if sx.Mode&unix.S_IFMT == unix.S_IFLNK {
		return 0, unix.EOPNOTSUPP
	}
	return 0, taskVFS(t).SetStatAt(ctx, &pop.PathOperation, opts)
}

// chownOpts is an owner change; -1 (all ones) leaves an ID unchanged.
func chownOpts(uid, gid uint64) vfs.SetStatOptions {
	return vfs.SetStatOptions{Mask: unix.STATX_UID | unix.STATX_GID, UID: uint32(uid), GID: uint32(gid)}
}

// Chown implements chown(2).
func Chown(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, uid, gid := args[0], args[1], args[2]
	return 0, setStatAt(t, unix.AT_FDCWD, addr, pathOpts{follow: true}, chownOpts(uid, gid))
}

// Lchown implements lchown(2).
func Lchown(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, uid, gid := args[0], args[1], args[2]
	return 0, setStatAt(t, unix.AT_FDCWD, addr, pathOpts{}, chownOpts(uid, gid))
}

// Fchown implements fchown(2).
func Fchown(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, uid, gid := fdArg(args[0]), args[1], args[2]
	return 0, setStatFD(t, fd, chownOpts(uid, gid))
}

// Fchownat implements fchownat(2).
func Fchownat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, uid, gid, flags := fdArg(args[0]), args[1], args[2], args[3], intArg(args[4])
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	return 0, setStatAt(t, dirfd, addr, atPathOpts(flags), chownOpts(uid, gid))
}

// checkFileSize enforces RLIMIT_FSIZE on a new file size: beyond it the
// task gets SIGXFSZ and the call EFBIG.
func checkFileSize(t *kernel.Task, size int64) error {
	lim := t.ThreadGroup().Limit(unix.RLIMIT_FSIZE).Cur
	if lim == unix.RLIM_INFINITY || uint64(size) <= lim {
		return nil
	}
	t.SendSignal(&abi.SignalInfo{Signo: int32(unix.SIGXFSZ), Code: abi.SI_USER}, false)
	return unix.EFBIG
}

// Truncate implements truncate(2).
func Truncate(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length := args[0], int64(args[1])
	if length < 0 {
		return 0, unix.EINVAL
	}
	pop, err := pathArg(t, unix.AT_FDCWD, addr, pathOpts{follow: true})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	ctx := t.Context()
	if lim := t.ThreadGroup().Limit(unix.RLIMIT_FSIZE).Cur; lim != unix.RLIM_INFINITY && uint64(length) > lim {
		// Path errors come before the size limit (and its signal).
		if _, err := taskVFS(t).StatAt(ctx, &pop.PathOperation); err != nil {
			return 0, err
		}
		return 0, checkFileSize(t, length)
	}
	return 0, taskVFS(t).SetStatAt(ctx, &pop.PathOperation, vfs.SetStatOptions{Mask: unix.STATX_SIZE, Size: uint64(length)})
}

// Ftruncate implements ftruncate(2).
func Ftruncate(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, length := fdArg(args[0]), int64(args[1])
	if length < 0 {
		return 0, unix.EINVAL
	}
	f, err := getOpenFile(t, fd)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	if !f.IsWritable() {
		return 0, unix.EINVAL
	}
	st, err := f.Stat(ctx)
	if err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, unix.EINVAL
	}
	if err := checkFileSize(t, length); err != nil {
		return 0, err
	}
	return 0, f.SetStat(ctx, vfs.SetStatOptions{Mask: unix.STATX_SIZE, Size: uint64(length)})
}

// syncFD validates the descriptor of fsync and fdatasync. There is
// nothing to flush: tmpfs lives in memory and gofer files are written
// through to the host.
func syncFD(t *kernel.Task, fd int32) (uint64, error) {
	f, err := getOpenFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	st, err := f.Stat(t.Context())
	if err != nil {
		return 0, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
		return 0, nil
	}
	// Pipes, sockets and devices have no fsync operation.
	return 0, unix.EINVAL
}

// Fsync implements fsync(2).
func Fsync(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd := fdArg(args[0])
	return syncFD(t, fd)
}

// Fdatasync implements fdatasync(2).
func Fdatasync(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd := fdArg(args[0])
	return syncFD(t, fd)
}

// Sync implements sync(2).
func Sync(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, nil
}

// Syncfs implements syncfs(2).
func Syncfs(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd := fdArg(args[0])
	f, err := getOpenFile(t, fd)
	if err != nil {
		return 0, err
	}
	f.DecRef(t.Context())
	return 0, nil
}

// utimeNow sets both times to now.
var utimeNow = vfs.SetStatOptions{
	Mask:  unix.STATX_ATIME | unix.STATX_MTIME,
	Atime: unix.Timespec{Nsec: unix.UTIME_NOW},
	Mtime: unix.Timespec{Nsec: unix.UTIME_NOW},
}

// validUtimeNsec reports whether nsec is a valid utimensat nanosecond
// field.
func validUtimeNsec(nsec int64) bool {
	return (nsec >= 0 && nsec < 1e9) || nsec == unix.UTIME_NOW || nsec == unix.UTIME_OMIT
}

// setTimes sets the times of dirfd/path (or of dirfd itself when the path
// pointer is NULL, as futimens does).
func setTimes(t *kernel.Task, dirfd int32, addr uint64, opts vfs.SetStatOptions, flags int32) error {
	if addr == 0 && dirfd != unix.AT_FDCWD {
		if flags != 0 {
			return unix.EINVAL
		}
		return setStatFD(t, dirfd, opts)
	}
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return unix.EINVAL
	}
	return setStatAt(t, dirfd, addr, atPathOpts(flags), opts)
}

// Utimensat implements utimensat(2).
func Utimensat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, timesAddr, flags := fdArg(args[0]), args[1], args[2], intArg(args[3])
	opts := utimeNow
	if timesAddr != 0 {
		var ts [2]unix.Timespec
		if err := copyIn(t, timesAddr, abi.AsBytes(&ts)); err != nil {
			return 0, err
		}
		if ts[0].Nsec == unix.UTIME_OMIT && ts[1].Nsec == unix.UTIME_OMIT {
			// Nothing to do; the path is not even looked at.
			return 0, nil
		}
		if !validUtimeNsec(ts[0].Nsec) || !validUtimeNsec(ts[1].Nsec) {
			return 0, unix.EINVAL
		}
		opts.Atime, opts.Mtime = ts[0], ts[1]
	}
	return 0, setTimes(t, dirfd, addr, opts, flags)
}

// timevalsArg reads the struct timeval[2] of utimes and futimesat.
func timevalsArg(t *kernel.Task, addr uint64) (vfs.SetStatOptions, error) {
	if addr == 0 {
		return utimeNow, nil
	}
	var tv [2]unix.Timeval
	if err := copyIn(t, addr, abi.AsBytes(&tv)); err != nil {
		return vfs.SetStatOptions{}, err
	}
	for _, v := range tv {
		if v.Usec < 0 || v.Usec >= 1e6 {
			return vfs.SetStatOptions{}, unix.EINVAL
		}
	}
	return vfs.SetStatOptions{
		Mask:  unix.STATX_ATIME | unix.STATX_MTIME,
		Atime: unix.Timespec{Sec: tv[0].Sec, Nsec: tv[0].Usec * 1000},
		Mtime: unix.Timespec{Sec: tv[1].Sec, Nsec: tv[1].Usec * 1000},
	}, nil
}

// Utimes implements utimes(2).
func Utimes(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, timesAddr := args[0], args[1]
	opts, err := timevalsArg(t, timesAddr)
	if err != nil {
		return 0, err
	}
	return 0, setTimes(t, unix.AT_FDCWD, addr, opts, 0)
}

// Futimesat implements futimesat(2).
func Futimesat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, timesAddr := fdArg(args[0]), args[1], args[2]
	opts, err := timevalsArg(t, timesAddr)
	if err != nil {
		return 0, err
	}
	return 0, setTimes(t, dirfd, addr, opts, 0)
}

// Utime implements utime(2).
func Utime(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, timesAddr := args[0], args[1]
	opts := utimeNow
	if timesAddr != 0 {
		// struct utimbuf { time_t actime, modtime; }
		var ub [2]int64
		if err := copyIn(t, timesAddr, abi.AsBytes(&ub)); err != nil {
			return 0, err
		}
		opts.Atime = unix.Timespec{Sec: ub[0]}
		opts.Mtime = unix.Timespec{Sec: ub[1]}
	}
	return 0, setTimes(t, unix.AT_FDCWD, addr, opts, 0)
}

// Umask implements umask(2).
func Umask(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	mask := uint32(args[0])
	return uint64(t.FSContext().SwapUmask(mask & 0777)), nil
}

// Getcwd implements getcwd(2). It returns the length of the path
// including its NUL.
func Getcwd(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, size := args[0], args[1]
	fs := t.FSContext()
	ctx := t.Context()
	root := fs.Root()
	defer root.DecRef(ctx)
	cwd := fs.Cwd()
	defer cwd.DecRef(ctx)
	path, err := taskVFS(t).PathnameReachable(ctx, root, cwd)
	if err != nil {
		return 0, err
	}
	n := uint64(len(path) + 1)
	if n > vfs.PathMax {
		return 0, unix.ENAMETOOLONG
	}
	if n > size {
		return 0, unix.ERANGE
	}
	buf := append([]byte(path), 0)
	if err := copyOut(t, addr, buf); err != nil {
		return 0, err
	}
	return n, nil
}

// Chdir implements chdir(2).
func Chdir(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr := args[0]
	pop, err := pathArg(t, unix.AT_FDCWD, addr, pathOpts{follow: true})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	ctx := t.Context()
	vd, err := taskVFS(t).GetDentryAt(ctx, &pop.PathOperation, vfs.GetDentryOptions{CheckSearchable: true})
	if err != nil {
		return 0, err
	}
	defer vd.DecRef(ctx)
	t.FSContext().SetCwd(t, vd)
	return 0, nil
}

// Fchdir implements fchdir(2).
func Fchdir(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd := fdArg(args[0])
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	vd := f.VirtualDentry()
	if !vd.Ok() {
		return 0, unix.ENOTDIR
	}
	inode := vd.Dentry().Inode()
	if inode.Mode()&unix.S_IFMT != unix.S_IFDIR {
		return 0, unix.ENOTDIR
	}
	if err := inode.CheckPermissions(ctx, t.Credentials().VFS(), vfs.MayExec); err != nil {
		return 0, err
	}
	t.FSContext().SetCwd(t, vd)
	return 0, nil
}

// Chroot implements chroot(2).
func Chroot(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr := args[0]
	pop, err := pathArg(t, unix.AT_FDCWD, addr, pathOpts{follow: true})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	ctx := t.Context()
	vd, err := taskVFS(t).GetDentryAt(ctx, &pop.PathOperation, vfs.GetDentryOptions{CheckSearchable: true})
	if err != nil {
		return 0, err
	}
	defer vd.DecRef(ctx)
	if !t.Credentials().HasCap(unix.CAP_SYS_CHROOT) {
		return 0, unix.EPERM
	}
	t.FSContext().SetRoot(t, vd)
	return 0, nil
}
