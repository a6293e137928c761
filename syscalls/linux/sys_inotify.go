package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/inotify"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_INOTIFY_INIT, InotifyInit)
	full(unix.SYS_INOTIFY_INIT1, InotifyInit1)
	partial(unix.SYS_INOTIFY_ADD_WATCH, "IN_DELETE_SELF is reported when the last link goes, even while the file is still open; IN_UNMOUNT is never reported", InotifyAddWatch)
	full(unix.SYS_INOTIFY_RM_WATCH, InotifyRmWatch)
	unimplemented(unix.SYS_FANOTIFY_INIT, "fanotify is not supported", logFirstUse)
	unimplemented(unix.SYS_FANOTIFY_MARK, "fanotify is not supported", logFirstUse)
}

// inotifyInit1 makes an inotify instance and installs it.
func inotifyInit1(t *kernel.Task, flags uint32) (uint64, error) {
	f, err := inotify.New(flags)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	fd, err := newFD(t, f, kernel.FDFlags{CloseOnExec: flags&unix.IN_CLOEXEC != 0})
	return uint64(fd), err
}

// InotifyInit implements inotify_init(2).
func InotifyInit(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return inotifyInit1(t, 0)
}

// InotifyInit1 implements inotify_init1(2).
func InotifyInit1(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	flags := uint32(args[0])
	return inotifyInit1(t, flags)
}

// inotifyFile returns the inotify instance at fd (EBADF, or EINVAL if fd
// is not one) and the file, whose reference the caller drops.
func inotifyFile(t *kernel.Task, fd int32) (*inotify.Inotify, *vfs.FileDescription, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, nil, err
	}
	in := inotify.FromFile(f)
	if in == nil {
		f.DecRef(t.Context())
		return nil, nil, unix.EINVAL
	}
	return in, f, nil
}

// InotifyAddWatch implements inotify_add_watch(2).
func InotifyAddWatch(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, pathAddr, mask := fdArg(args[0]), args[1], uint32(args[2])
	if err := inotify.CheckMask(mask); err != nil {
		return 0, err
	}
	in, f, err := inotifyFile(t, fd)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	pop, err := pathArg(t, unix.AT_FDCWD, pathAddr, pathOpts{follow: mask&unix.IN_DONT_FOLLOW == 0})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	vd, err := taskVFS(t).GetDentryAt(ctx, &pop.PathOperation, vfs.GetDentryOptions{})
	if err != nil {
		return 0, err
	}
	defer vd.DecRef(ctx)
	inode := vd.Dentry().Inode()
	if mask&unix.IN_ONLYDIR != 0 && inode.Mode()&unix.S_IFMT != unix.S_IFDIR {
		return 0, unix.ENOTDIR
	}
	// Watching needs read access to the file.
	if err := vfs.CheckAccess(ctx, vd, vfs.MayRead); err != nil {
		return 0, err
	}
	wd, err := in.AddWatch(inode, mask)
	return uint64(wd), err
}

// InotifyRmWatch implements inotify_rm_watch(2).
func InotifyRmWatch(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, wd := fdArg(args[0]), intArg(args[1])
	in, f, err := inotifyFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	return 0, in.RmWatch(t.Context(), wd)
}
