package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_PREADV2, "RWF_HIPRI, RWF_DSYNC and RWF_SYNC accepted (nothing to poll or flush); RWF_NOWAIT checks readiness first on pipes and sockets and never waits for regular files' data", Preadv2)
	partial(unix.SYS_PWRITEV2, "as preadv2; RWF_APPEND writes at the size read just before (not atomic with other appenders); RWF_NOAPPEND cannot undo O_APPEND (EOPNOTSUPP then); RWF_ATOMIC and RWF_DONTCACHE are EOPNOTSUPP", Pwritev2)
}

// preadv2/pwritev2 flags (RWF_*).
const (
	rwfHIPRI     = 0x1
	rwfDSYNC     = 0x2
	rwfSYNC      = 0x4
	rwfNOWAIT    = 0x8
	rwfAPPEND    = 0x10
	rwfNOAPPEND  = 0x20
	rwfSupported = rwfHIPRI | rwfDSYNC | rwfSYNC | rwfNOWAIT | rwfAPPEND | rwfNOAPPEND
)

// Preadv2 implements preadv2(2): preadv, or readv at offset -1, with
// per-call flags.
func Preadv2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return rw2(t, args, transferRead)
}

// Pwritev2 implements pwritev2(2).
func Pwritev2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return rw2(t, args, transferWrite)
}

// rw2 checks in Linux's order: the offset (EINVAL below -1), the
// descriptor (EBADF), positioned I/O on a stream (ESPIPE), the access
// mode (EBADF), the iovecs (EINVAL, EFAULT); an empty transfer returns 0
// before the flags are looked at; then unknown flags are EOPNOTSUPP.
// (x86-64 passes the whole offset in the fourth argument; the fifth,
// pos_h, is ignored.)
func rw2(t *kernel.Task, args arch.SyscallArgs, dir transfer) (uint64, error) {
	fd, iovAddr, iovCnt, off, flags := fdArg(args[0]), args[1], intArg(args[2]), int64(args[3]), uint32(args[5])
	if off < -1 {
		return 0, unix.EINVAL
	}
	f, err := getOpenFile(t, fd) // O_PATH descriptors have no file to read
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if off >= 0 && f.Impl().Stream() {
		return 0, unix.ESPIPE
	}
	if (dir == transferRead && !f.IsReadable()) || (dir == transferWrite && !f.IsWritable()) {
		return 0, unix.EBADF
	}
	iovs, err := copyInIovecs(t, iovAddr, iovCnt)
	if err != nil {
		return 0, err
	}
	var total uint64
	for _, iov := range iovs {
		total += iov.len
	}
	if total == 0 {
		return 0, nil
	}
	if flags&^rwfSupported != 0 {
		return 0, unix.EOPNOTSUPP
	}
	if dir == transferRead {
		// Only writes append.
		flags &^= rwfAPPEND | rwfNOAPPEND
	}
	if flags&rwfNOAPPEND != 0 && f.StatusFlags()&unix.O_APPEND != 0 {
		// The file systems append whenever O_APPEND is set.
		return 0, unix.EOPNOTSUPP
	}
	if flags&rwfNOWAIT != 0 && f.Impl().Stream() {
		mask := uint32(unix.EPOLLIN)
		if dir == transferWrite {
			mask = unix.EPOLLOUT
		}
		if f.Readiness(mask|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return 0, unix.EAGAIN
		}
	}
	if dir == transferWrite && flags&rwfAPPEND != 0 && flags&rwfNOAPPEND == 0 && !f.Impl().Stream() &&
		f.StatusFlags()&unix.O_APPEND == 0 {
		st, err := f.Stat(t.Context())
		if err != nil {
			return 0, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			n, err := vectorIO(t, fd, iovAddr, iovCnt, int64(st.Size), dir)
			if off == -1 && n > 0 {
				// The file position moves past what was appended.
				f.Seek(t.Context(), int64(st.Size+n), unix.SEEK_SET)
			}
			return n, err
		}
	}
	return vectorIO(t, fd, iovAddr, iovCnt, off, dir)
}
