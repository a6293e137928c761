package linux

import (
	"context"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_FADVISE64, Fadvise64)
	partial(unix.SYS_FALLOCATE, "tmpfs (and the overlay's upper files): mode 0, KEEP_SIZE and PUNCH_HOLE; other modes and filesystems fail with EOPNOTSUPP", Fallocate)
}

// fileAllocator is implemented by files that support fallocate(2).
type fileAllocator interface {
	Fallocate(ctx context.Context, fd *vfs.FileDescription, mode uint32, off, length int64) error
}

// Fallocate implements fallocate(2).
func Fallocate(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, mode, off, length := fdArg(args[0]), uint32(args[1]), int64(args[2]), int64(args[3])
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if off < 0 || length <= 0 {
		return 0, unix.EINVAL
	}
	const known = unix.FALLOC_FL_KEEP_SIZE | unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_COLLAPSE_RANGE |
		unix.FALLOC_FL_ZERO_RANGE | unix.FALLOC_FL_INSERT_RANGE | unix.FALLOC_FL_UNSHARE_RANGE
	if mode&^uint32(known) != 0 {
		return 0, unix.EOPNOTSUPP
	}
	if mode&unix.FALLOC_FL_PUNCH_HOLE != 0 && mode&unix.FALLOC_FL_KEEP_SIZE == 0 {
		return 0, unix.EOPNOTSUPP
	}
	if !f.IsWritable() {
		return 0, unix.EBADF
	}
	st, err := f.Stat(t.Context())
	if err != nil {
		return 0, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		return 0, unix.EISDIR
	case unix.S_IFIFO:
		return 0, unix.ESPIPE
	default:
		return 0, unix.ENODEV
	}
	if vd := f.VirtualDentry(); vd.Ok() && vd.Mount().ReadOnly() {
		return 0, unix.EROFS
	}
	if lim := t.ThreadGroup().Limit(unix.RLIMIT_FSIZE).Cur; mode&unix.FALLOC_FL_KEEP_SIZE == 0 && lim != unix.RLIM_INFINITY && uint64(off+length) > lim {
		return 0, unix.EFBIG
	}
	fa, ok := f.Impl().(fileAllocator)
	if !ok {
		return 0, unix.EOPNOTSUPP
	}
	return 0, fa.Fallocate(t.Context(), f, mode, off, length)
}

// Fadvise64 implements fadvise64(2). The advice is a hint about future
// access; the Sentry's caches don't use it, which Linux permits.
func Fadvise64(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, length, advice := fdArg(args[0]), int64(args[2]), intArg(args[3])
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if length < 0 {
		return 0, unix.EINVAL
	}
	switch advice {
	case unix.FADV_NORMAL, unix.FADV_RANDOM, unix.FADV_SEQUENTIAL, unix.FADV_WILLNEED, unix.FADV_DONTNEED, unix.FADV_NOREUSE:
	default:
		return 0, unix.EINVAL
	}
	if st, err := f.Stat(t.Context()); err == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		return 0, unix.ESPIPE
	}
	return 0, nil
}
