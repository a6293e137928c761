package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_PRLIMIT64, "enforced: NOFILE, NPROC, STACK (at exec), AS (mmap), FSIZE, CPU, MEMLOCK; recorded only: the rest", Prlimit64)
	partial(unix.SYS_GETRLIMIT, "as prlimit64", Getrlimit)
	partial(unix.SYS_SETRLIMIT, "as prlimit64", Setrlimit)
}

// rlimit is struct rlimit.
func rlimitBytes(l unix.Rlimit) []byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], l.Cur)
	binary.LittleEndian.PutUint64(b[8:], l.Max)
	return b[:]
}

// prlimit reads and/or sets a limit of target.
func prlimit(t *kernel.Task, pid int32, resource int, newAddr, oldAddr uint64) (uint64, error) {
	if resource < 0 || resource > unix.RLIMIT_RTTIME {
		return 0, unix.EINVAL
	}
	tg, err := processArg(t, pid)
	if err != nil {
		return 0, err
	}
	old := tg.Limit(resource)
	if newAddr != 0 {
		var b [16]byte
		if err := copyIn(t, newAddr, b[:]); err != nil {
			return 0, err
		}
		l := unix.Rlimit{Cur: binary.LittleEndian.Uint64(b[:]), Max: binary.LittleEndian.Uint64(b[8:])}
		if l.Cur > l.Max {
			return 0, unix.EINVAL
		}
		if l.Max > old.Max && !t.Credentials().HasCap(unix.CAP_SYS_RESOURCE) {
			return 0, unix.EPERM
		}
		if resource == unix.RLIMIT_NOFILE && l.Max > 1<<20 {
			return 0, unix.EPERM // fs.nr_open
		}
		tg.SetLimit(resource, l)
	}
	if oldAddr != 0 {
		return 0, copyOut(t, oldAddr, rlimitBytes(old))
	}
	return 0, nil
}

// Prlimit64 implements prlimit64(2).
func Prlimit64(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, resource, newAddr, oldAddr := intArg(args[0]), int(intArg(args[1])), args[2], args[3]
	return prlimit(t, pid, resource, newAddr, oldAddr)
}

// Getrlimit implements getrlimit(2).
func Getrlimit(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	resource, oldAddr := int(intArg(args[0])), args[1]
	return prlimit(t, 0, resource, 0, oldAddr)
}

// Setrlimit implements setrlimit(2).
func Setrlimit(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	resource, newAddr := int(intArg(args[0])), args[1]
	return prlimit(t, 0, resource, newAddr, 0)
}
