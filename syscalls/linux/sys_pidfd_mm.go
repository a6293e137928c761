package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

// Calls acting on a process's memory through a pidfd.
func init() {
	full(unix.SYS_PROCESS_MADVISE, ProcessMadvise)
	full(unix.SYS_PROCESS_MRELEASE, ProcessMrelease)
}

// processMadviseRemote reports whether advice may be given for another
// process's memory: only hints that destroy nothing.
func processMadviseRemote(advice int) bool {
	switch advice {
	case unix.MADV_COLD, unix.MADV_PAGEOUT, unix.MADV_WILLNEED, unix.MADV_COLLAPSE:
		return true
	}
	return false
}

// ProcessMadvise implements process_madvise(2): flags, then the iovecs,
// then the pidfd (EBADF, ESRCH for a process that is gone) and access to
// its memory (EACCES); another process takes only MADV_COLD,
// MADV_PAGEOUT, MADV_WILLNEED and MADV_COLLAPSE (EINVAL) and needs
// CAP_SYS_NICE (EPERM). It returns the bytes advised, stopping at the
// first range that fails (its error if none was advised).
func ProcessMadvise(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pidfd, iovAddr, vlen, advice, flags := fdArg(args[0]), args[1], args[2], int(intArg(args[3])), uint32(args[4])
	if flags != 0 {
		return 0, unix.EINVAL
	}
	if vlen > uioMaxIOV {
		return 0, unix.EINVAL
	}
	iovs, err := copyInIovecs(t, iovAddr, int32(vlen))
	if err != nil {
		return 0, err
	}
	tg, err := pidfdArg(t, pidfd)
	if err != nil {
		return 0, err
	}
	target, err := t.ProcessMMTarget(tg)
	if err != nil {
		return 0, err
	}
	if target != t.MemoryManager() {
		if !processMadviseRemote(advice) {
			return 0, unix.EINVAL
		}
		if !t.Credentials().HasCap(unix.CAP_SYS_NICE) {
			return 0, unix.EPERM
		}
	}
	var done uint64
	for _, iov := range iovs {
		if err := target.Madvise(iov.base, iov.len, advice); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		done += iov.len
	}
	return done, nil
}

// ProcessMrelease implements process_mrelease(2): EINVAL for flags, EBADF
// for a bad pidfd, ESRCH for a process whose memory is gone, EINVAL for
// one that is not exiting.
func ProcessMrelease(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pidfd, flags := fdArg(args[0]), uint32(args[1])
	if flags != 0 {
		return 0, unix.EINVAL
	}
	tg, err := pidfdArg(t, pidfd)
	if err != nil {
		return 0, err
	}
	return 0, t.CheckMemoryRelease(tg)
}
