package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_READAHEAD, Readahead)
	full(unix.SYS_SYNC_FILE_RANGE, SyncFileRange)
}

// Readahead implements readahead(2): EBADF unless fd is open for
// reading, EINVAL unless it is a regular file (or a block device, which
// the sandbox has none of); otherwise there is no page cache to fill
// (tmpfs data is in memory, gofer files are read on demand) and it
// succeeds.
func Readahead(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd := fdArg(args[0])
	f, err := getOpenFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if !f.IsReadable() {
		return 0, unix.EBADF
	}
	st, err := f.Stat(t.Context())
	if err != nil {
		return 0, err
	}
	if m := st.Mode & unix.S_IFMT; m != unix.S_IFREG && m != unix.S_IFBLK {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// sync_file_range(2) flags.
const (
	syncFileRangeWaitBefore = 1
	syncFileRangeWrite      = 2
	syncFileRangeWaitAfter  = 4
)

// SyncFileRange implements sync_file_range(2) in Linux's order: EBADF,
// then EINVAL for unknown flags, a negative offset or an end past
// 2^63-1, then ESPIPE unless the file is regular, a directory, a symlink
// or a block device. Data is written through already, so nothing is left
// to start or wait for.
func SyncFileRange(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, off, n, flags := fdArg(args[0]), int64(args[1]), int64(args[2]), uint32(args[3])
	f, err := getOpenFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if flags&^uint32(syncFileRangeWaitBefore|syncFileRangeWrite|syncFileRangeWaitAfter) != 0 {
		return 0, unix.EINVAL
	}
	end := uint64(off) + uint64(n)
	if off < 0 || int64(end) < 0 || end < uint64(off) {
		return 0, unix.EINVAL
	}
	st, err := f.Stat(t.Context())
	if err != nil {
		return 0, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK, unix.S_IFBLK:
		return 0, nil
	}
	return 0, unix.ESPIPE
}
