package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_KCMP, "KCMP_IO and KCMP_SYSVSEM compare the tasks and their processes; KCMP_EPOLL_TFD is EOPNOTSUPP", Kcmp)
}

// Kcmp implements kcmp(2).
func Kcmp(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid1, pid2, typ, idx1, idx2 := intArg(args[0]), intArg(args[1]), intArg(args[2]), args[3], args[4]
	return t.Kcmp(pid1, pid2, typ, idx1, idx2)
}
