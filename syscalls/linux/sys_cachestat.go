package linux

import (
	"encoding/binary"
	"math"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_CACHESTAT, Cachestat)
}

// cachestatPageShift is log2 of the page size cachestat counts in.
const cachestatPageShift = 12

// Cachestat implements cachestat(2): EBADF, EFAULT for the range, EPERM
// (vfs.FileDescription.Cachestat), then EINVAL for flags, in Linux's
// order. Any open file may be asked: pipes, sockets and directories have
// no pages and report zeros, as Linux's.
func Cachestat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, rangeAddr, out, flags := fdArg(args[0]), args[1], args[2], uint32(args[3])
	f, err := getOpenFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	var r [16]byte // struct cachestat_range: __u64 off, len
	if err := copyIn(t, rangeAddr, r[:]); err != nil {
		return 0, err
	}
	off, length := binary.LittleEndian.Uint64(r[:]), binary.LittleEndian.Uint64(r[8:])
	if err := f.MayCachestat(t.Context()); err != nil {
		return 0, err
	}
	if flags != 0 {
		return 0, unix.EINVAL
	}
	// Pages off>>12 to the one holding off+len-1; len 0 means to the end.
	// A range that wraps holds no page.
	first, last := off>>cachestatPageShift, uint64(math.MaxUint64)
	if length != 0 {
		last = (off + length - 1) >> cachestatPageShift
	}
	cs := f.Cachestat(first, last)
	var b [40]byte // struct cachestat: five __u64
	for i, v := range []uint64{cs.Cache, cs.Dirty, cs.Writeback, cs.Evicted, cs.RecentlyEvicted} {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return 0, copyOut(t, out, b[:])
}
