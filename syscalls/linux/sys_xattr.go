package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	const note = "no filesystem supports extended attributes yet (issue 5): EOPNOTSUPP, as Linux answers for such filesystems"
	for _, nr := range []uint64{
		unix.SYS_GETXATTR, unix.SYS_LGETXATTR, unix.SYS_SETXATTR, unix.SYS_LSETXATTR,
		unix.SYS_LISTXATTR, unix.SYS_LLISTXATTR, unix.SYS_REMOVEXATTR, unix.SYS_LREMOVEXATTR,
	} {
		partial(nr, note, pathXattr)
	}
	for _, nr := range []uint64{unix.SYS_FGETXATTR, unix.SYS_FSETXATTR, unix.SYS_FLISTXATTR, unix.SYS_FREMOVEXATTR} {
		partial(nr, note, fdXattr)
	}
}

// pathXattr implements the path-based xattr calls: the file must exist
// (ENOENT, EFAULT, ELOOP as for stat), then EOPNOTSUPP.
func pathXattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pop, err := pathArg(t, unix.AT_FDCWD, args[0], true)
	if err != nil {
		return 0, err
	}
	defer pop.release()
	if _, err := t.Kernel().VFS.StatAt(t.Context(), &pop.PathOperation); err != nil {
		return 0, err
	}
	return 0, unix.EOPNOTSUPP
}

// fdXattr implements the descriptor-based xattr calls.
func fdXattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	f, err := getFile(t, fdArg(args[0]))
	if err != nil {
		return 0, err
	}
	f.DecRef(t.Context())
	return 0, unix.EOPNOTSUPP
}
