package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/proc"
	"golang.org/x/sys/unix"
)

// Obsolete filesystem queries some programs still make.
func init() {
	full(unix.SYS_SYSFS, Sysfs)
	full(unix.SYS_USTAT, Ustat)
}

// Sysfs implements sysfs(2) over the sandbox's filesystem types, in
// /proc/filesystems order: 1 maps a name to its index, 2 an index to its
// name, 3 counts them.
func Sysfs(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	option, arg1, arg2 := intArg(args[0]), args[1], args[2]
	types := proc.FilesystemTypes
	switch option {
	case 1:
		name, err := copyInPath(t, arg1)
		if err != nil {
			return 0, err
		}
		if name == "" {
			return 0, unix.ENOENT
		}
		for i, n := range types {
			if n == name {
				return uint64(i), nil
			}
		}
		return 0, unix.EINVAL
	case 2:
		i := uint64(uint32(arg1))
		if i >= uint64(len(types)) {
			return 0, unix.EINVAL
		}
		return 0, copyOut(t, arg2, append([]byte(types[i]), 0))
	case 3:
		return uint64(len(types)), nil
	}
	return 0, unix.EINVAL
}

// Ustat implements ustat(2): the free blocks and inodes of the mounted
// filesystem whose device number (new encoding) is dev; EINVAL if none
// of the caller's mounts has it.
func Ustat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dev, bufAddr := uint32(args[0]), args[1]
	want := unix.Mkdev((dev&0xfff00)>>8, (dev&0xff)|((dev>>12)&0xfff00))
	ctx := t.Context()
	root := t.FSContext().Root()
	defer root.DecRef(ctx)
	for _, mi := range taskVFS(t).MountsFrom(ctx, root) {
		if mi.Dev != want {
			continue
		}
		sf, ok := statfsOfMount(t, mi.MountPoint, want)
		if !ok {
			continue
		}
		// struct ustat: int f_tfree, ino_t f_tinode, char f_fname[6],
		// char f_fpack[6], padded to 32 bytes.
		var b [32]byte
		binary.LittleEndian.PutUint32(b[0:], uint32(sf.Bfree))
		binary.LittleEndian.PutUint64(b[8:], sf.Ffree)
		return 0, copyOut(t, bufAddr, b[:])
	}
	return 0, unix.EINVAL
}

// statfsOfMount returns the statfs of what path names if it is on the
// filesystem of device dev (another mount may hide it).
func statfsOfMount(t *kernel.Task, path string, dev uint64) (unix.Statfs_t, bool) {
	pop, err := pathOp(t, unix.AT_FDCWD, path, pathOpts{follow: true})
	if err != nil {
		return unix.Statfs_t{}, false
	}
	defer pop.release()
	ctx := t.Context()
	sx, err := taskVFS(t).StatAt(ctx, &pop.PathOperation)
	if err != nil || unix.Mkdev(sx.Dev_major, sx.Dev_minor) != dev {
		return unix.Statfs_t{}, false
	}
	vd, err := taskVFS(t).GetDentryAt(ctx, &pop.PathOperation, vfs.GetDentryOptions{})
	if err != nil {
		return unix.Statfs_t{}, false
	}
	defer vd.DecRef(ctx)
	sf, err := statfsVD(ctx, vd)
	return sf, err == nil
}
