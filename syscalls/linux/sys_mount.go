package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_MOUNT, "new mounts of the types boot registers (tmpfs, proc, sysfs; others fail with ENODEV), MS_BIND (MS_REC), MS_REMOUNT (per-mount flags only: a read-only remount does not make other mounts of the filesystem read-only), MS_MOVE, propagation types recorded but never propagated", Mount)
	partial(unix.SYS_UMOUNT2, "MNT_EXPIRE fails with EINVAL; MNT_FORCE has nothing to abort", Umount2)
	full(unix.SYS_PIVOT_ROOT, PivotRoot)
	partial(unix.SYS_UNSHARE, "only CLONE_FS and CLONE_NEWNS (a copy of the caller's mount tree; the copy is never freed); other flags fail with EINVAL", Unshare)
}

// mountDataMax is the most option text mount(2) reads (Linux copies one
// page).
const mountDataMax = 4096

// perMountFlags are the mount(2) flags that become per-mount flags.
const perMountFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME

// copyInOptionalString reads a NUL-terminated string of at most max bytes,
// or "" for a null pointer.
func copyInOptionalString(t *kernel.Task, addr uint64, max int) (string, error) {
	if addr == 0 {
		return "", nil
	}
	s, err := t.CopyInString(addr, max)
	if err == mm.ErrStringTooLong {
		return "", unix.EINVAL
	}
	if err != nil {
		return "", unix.EFAULT
	}
	return s, nil
}

// mountFlags returns the per-mount flags mount(2)'s flags ask for: relatime
// unless noatime or strictatime is given, as Linux defaults.
func mountFlags(flags uint64) uint32 {
	f := uint32(flags) & perMountFlags
	if flags&(unix.MS_NOATIME|unix.MS_STRICTATIME) == 0 {
		f |= unix.MS_RELATIME
	}
	if flags&unix.MS_STRICTATIME != 0 {
		f &^= unix.MS_RELATIME
	}
	return f
}

// remountFlags returns the per-mount flags a remount asks for: as
// mountFlags, but with no access-time flag at all the mount keeps its own
// (vfs.RemountAt), and MS_STRICTATIME is passed on to clear them.
func remountFlags(flags uint64) uint32 {
	const atime = unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME
	f := mountFlags(flags)
	switch {
	case flags&(atime|unix.MS_STRICTATIME) == 0:
		f &^= atime
	case flags&unix.MS_STRICTATIME != 0:
		f |= unix.MS_STRICTATIME
	}
	return f
}

// Mount implements mount(2).
func Mount(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	srcAddr, targetAddr, typeAddr, flags, dataAddr := args[0], args[1], args[2], args[3], args[4]
	if flags&0xffff0000 == unix.MS_MGC_VAL {
		flags &^= 0xffff0000
	}
	flags &= 0xffffffff
	if flags&unix.MS_NOUSER != 0 {
		return 0, unix.EINVAL
	}
	target, err := pathArg(t, unix.AT_FDCWD, targetAddr, pathOpts{follow: true})
	if err != nil {
		return 0, err
	}
	defer target.release()
	ctx := t.Context()
	v := taskVFS(t)
	if !t.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
		return 0, unix.EPERM
	}
	switch {
	case flags&(unix.MS_REMOUNT|unix.MS_BIND) == unix.MS_REMOUNT|unix.MS_BIND, flags&unix.MS_REMOUNT != 0:
		// A plain remount would also reconfigure the filesystem from
		// data; none of ours has options that can change.
		return 0, v.RemountAt(ctx, &target.PathOperation, remountFlags(flags))
	case flags&unix.MS_BIND != 0:
		src, err := pathArg(t, unix.AT_FDCWD, srcAddr, pathOpts{follow: true})
		if err != nil {
			return 0, err
		}
		defer src.release()
		return 0, v.BindAt(ctx, &src.PathOperation, &target.PathOperation, flags&unix.MS_REC != 0)
	case flags&vfs.PropagationMask != 0:
		prop := uint32(flags) & vfs.PropagationMask
		if prop&(prop-1) != 0 || flags&^(vfs.PropagationMask|unix.MS_REC|unix.MS_SILENT) != 0 {
			return 0, unix.EINVAL
		}
		return 0, v.SetPropagationAt(ctx, &target.PathOperation, prop, flags&unix.MS_REC != 0)
	case flags&unix.MS_MOVE != 0:
		// A missing or empty source is EINVAL (Linux:
		// do_move_mount_old).
		if srcAddr == 0 {
			return 0, unix.EINVAL
		}
		path, err := copyInPath(t, srcAddr)
		if err != nil {
			return 0, err
		}
		if path == "" {
			return 0, unix.EINVAL
		}
		src, err := pathOp(t, unix.AT_FDCWD, path, pathOpts{follow: true})
		if err != nil {
			return 0, err
		}
		defer src.release()
		return 0, v.MoveAt(ctx, &src.PathOperation, &target.PathOperation)
	}
	fsType, err := copyInOptionalString(t, typeAddr, unix.PathMax-1)
	if err != nil {
		return 0, err
	}
	if fsType == "" {
		if typeAddr == 0 {
			return 0, unix.EINVAL
		}
		return 0, unix.ENODEV
	}
	source, err := copyInOptionalString(t, srcAddr, unix.PathMax-1)
	if err != nil {
		return 0, err
	}
	data, err := copyInOptionalString(t, dataAddr, mountDataMax-1)
	if err != nil {
		return 0, err
	}
	factory := t.Kernel().FilesystemType(fsType)
	if factory == nil {
		return 0, unix.ENODEV
	}
	fs, err := factory(ctx, source, mountFlags(flags), data)
	if err != nil {
		return 0, err
	}
	defer fs.DecRef(ctx)
	return 0, v.MountFilesystemAt(ctx, &target.PathOperation, fs, vfs.MountOptions{Flags: mountFlags(flags), Source: source})
}

// Umount2 implements umount2(2).
func Umount2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	targetAddr, flags := args[0], int(uint32(args[1]))
	if flags&^(unix.MNT_FORCE|unix.MNT_DETACH|unix.MNT_EXPIRE|unix.UMOUNT_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MNT_EXPIRE != 0 {
		return 0, unix.EINVAL
	}
	target, err := pathArg(t, unix.AT_FDCWD, targetAddr, pathOpts{follow: flags&unix.UMOUNT_NOFOLLOW == 0})
	if err != nil {
		return 0, err
	}
	defer target.release()
	return 0, taskVFS(t).UmountAt(t.Context(), &target.PathOperation, flags)
}

// PivotRoot implements pivot_root(2).
func PivotRoot(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	newRootAddr, putOldAddr := args[0], args[1]
	if !t.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
		return 0, unix.EPERM
	}
	newRoot, err := pathArg(t, unix.AT_FDCWD, newRootAddr, pathOpts{follow: true})
	if err != nil {
		return 0, err
	}
	defer newRoot.release()
	putOld, err := pathArg(t, unix.AT_FDCWD, putOldAddr, pathOpts{follow: true})
	if err != nil {
		return 0, err
	}
	defer putOld.release()
	ctx := t.Context()
	k := t.Kernel()
	oldVD, newVD, err := k.VFS.PivotRoot(ctx, k.Mounts, newRoot.Root, &newRoot.PathOperation, &putOld.PathOperation)
	if err != nil {
		return 0, err
	}
	defer oldVD.DecRef(ctx)
	defer newVD.DecRef(ctx)
	k.ReplaceRoots(ctx, oldVD, newVD)
	return 0, nil
}

// Unshare implements unshare(2) for CLONE_FS and CLONE_NEWNS.
func Unshare(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	flags := args[0]
	if flags&^uint64(unix.CLONE_FS|unix.CLONE_NEWNS) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.CLONE_NEWNS != 0 {
		return 0, t.UnshareMountNamespace()
	}
	if flags&unix.CLONE_FS != 0 {
		t.UnshareFS()
	}
	return 0, nil
}
