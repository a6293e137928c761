package linux

import (
	"context"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/pipe"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_STAT, Stat)
	full(unix.SYS_LSTAT, Lstat)
	full(unix.SYS_FSTAT, Fstat)
	full(unix.SYS_NEWFSTATAT, Newfstatat)
	full(unix.SYS_STATX, Statx)
	partial(unix.SYS_STATFS, "f_type and f_flags are exact; sizes and free counts are fixed defaults unless the filesystem reports its own", Statfs)
	partial(unix.SYS_FSTATFS, "f_type and f_flags are exact; sizes and free counts are fixed defaults unless the filesystem reports its own", Fstatfs)
}

// encodeDev packs a device number as struct stat carries it (Linux:
// new_encode_dev).
func encodeDev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major)<<8 | uint64(minor&^0xff)<<12
}

// statFromStatx converts statx attributes to struct stat (Linux:
// cp_new_stat).
func statFromStatx(sx *unix.Statx_t) unix.Stat_t {
	ts := func(t unix.StatxTimestamp) unix.Timespec {
		return unix.Timespec{Sec: t.Sec, Nsec: int64(t.Nsec)}
	}
	return unix.Stat_t{
		Dev:     encodeDev(sx.Dev_major, sx.Dev_minor),
		Ino:     sx.Ino,
		Nlink:   uint64(sx.Nlink),
		Mode:    uint32(sx.Mode),
		Uid:     sx.Uid,
		Gid:     sx.Gid,
		Rdev:    encodeDev(sx.Rdev_major, sx.Rdev_minor),
		Size:    int64(sx.Size),
		Blksize: int64(sx.Blksize),
		Blocks:  int64(sx.Blocks),
		Atim:    ts(sx.Atime),
		Mtim:    ts(sx.Mtime),
		Ctim:    ts(sx.Ctime),
	}
}

// statAt returns the attributes of the file path names relative to dirfd.
// With AT_EMPTY_PATH an empty (or NULL) path names dirfd itself.
func statAt(t *kernel.Task, dirfd int32, addr uint64, flags int32) (unix.Statx_t, error) {
	ctx := t.Context()
	emptyOK := flags&unix.AT_EMPTY_PATH != 0
	var path string
	if addr != 0 || !emptyOK {
		var err error
		if path, err = copyInPath(t, addr); err != nil {
			return unix.Statx_t{}, err
		}
	}
	if path == "" {
		if !emptyOK {
			return unix.Statx_t{}, unix.ENOENT
		}
		if dirfd != unix.AT_FDCWD {
			f, err := getFile(t, dirfd)
			if err != nil {
				return unix.Statx_t{}, err
			}
			defer f.DecRef(ctx)
			return f.Stat(ctx)
		}
		pop, err := pathOp(t, dirfd, "", pathOpts{emptyPath: true})
		if err != nil {
			return unix.Statx_t{}, err
		}
		defer pop.release()
		return taskVFS(t).StatAt(ctx, &pop.PathOperation)
	}
	pop, err := pathOp(t, dirfd, path, pathOpts{follow: flags&unix.AT_SYMLINK_NOFOLLOW == 0})
	if err != nil {
		return unix.Statx_t{}, err
	}
	defer pop.release()
	return taskVFS(t).StatAt(ctx, &pop.PathOperation)
}

// copyOutStat writes sx as a struct stat.
func copyOutStat(t *kernel.Task, addr uint64, sx *unix.Statx_t) error {
	st := statFromStatx(sx)
	return copyOut(t, addr, abi.AsBytes(&st))
}

// statPath implements stat, lstat and newfstatat.
func statPath(t *kernel.Task, dirfd int32, addr, statAddr uint64, flags int32) (uint64, error) {
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	sx, err := statAt(t, dirfd, addr, flags)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStat(t, statAddr, &sx)
}

// Stat implements stat(2).
func Stat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, statAddr := args[0], args[1]
	return statPath(t, unix.AT_FDCWD, addr, statAddr, 0)
}

// Lstat implements lstat(2).
func Lstat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, statAddr := args[0], args[1]
	return statPath(t, unix.AT_FDCWD, addr, statAddr, unix.AT_SYMLINK_NOFOLLOW)
}

// Newfstatat implements newfstatat(2) (fstatat).
func Newfstatat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, statAddr, flags := fdArg(args[0]), args[1], args[2], intArg(args[3])
	return statPath(t, dirfd, addr, statAddr, flags)
}

// Fstat implements fstat(2).
func Fstat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, statAddr := fdArg(args[0]), args[1]
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	sx, err := f.Stat(t.Context())
	if err != nil {
		return 0, err
	}
	return 0, copyOutStat(t, statAddr, &sx)
}

// statxSyncType is AT_STATX_SYNC_TYPE: the two sync bits, which may not
// both be set.
const statxSyncType = unix.AT_STATX_FORCE_SYNC | unix.AT_STATX_DONT_SYNC

// Statx implements statx(2). Every filesystem's attributes are always
// current, so the AT_STATX_* sync flags change nothing.
func Statx(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, addr, flags, mask, statxAddr := fdArg(args[0]), args[1], intArg(args[2]), uint32(args[3]), args[4]
	if flags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT|unix.AT_EMPTY_PATH|statxSyncType) != 0 {
		return 0, unix.EINVAL
	}
	if flags&statxSyncType == statxSyncType {
		return 0, unix.EINVAL
	}
	if mask&unix.STATX__RESERVED != 0 {
		return 0, unix.EINVAL
	}
	sx, err := statAt(t, dirfd, addr, flags)
	if err != nil {
		return 0, err
	}
	// Filesystems fill at least the basic attributes whatever was asked;
	// as Linux, stx_mask tells what is valid, which may be more than mask.
	return 0, copyOut(t, statxAddr, abi.AsBytes(&sx))
}

// Filesystem magic numbers (f_type). Linux: include/uapi/linux/magic.h.
const (
	tmpfsMagic   = 0x01021994
	procMagic    = 0x9fa0
	sysfsMagic   = 0x62656572
	v9fsMagic    = 0x01021997
	overlayMagic = 0x794c7630
	pipefsMagic  = 0x50495045
	anonMagic    = 0x09041934
	sockfsMagic  = 0x534f434b
	devptsMagic  = 0x1cd1
)

// fsMagic maps filesystem type names (vfs.FilesystemImpl.Name) to f_type.
var fsMagic = map[string]int64{
	"tmpfs":    tmpfsMagic,
	"devtmpfs": tmpfsMagic,
	"proc":     procMagic,
	"sysfs":    sysfsMagic,
	"9p":       v9fsMagic,
	"overlay":  overlayMagic,
	"devpts":   devptsMagic,
	// The internal filesystems of anonymous files (vfs.NewAnonymousLocation).
	"pipefs":       pipefsMagic,
	"sockfs":       sockfsMagic,
	"anon_inodefs": anonMagic,
}

// statfsReporter is implemented by a vfs.FilesystemImpl that knows its
// own capacity and usage. Filesystems without it get defaults.
type statfsReporter interface {
	Statfs(ctx context.Context) (unix.Statfs_t, error)
}

// Defaults for filesystems that do not report their usage: a 4 KiB block
// size and a capacity that never looks full, so that programs checking
// free space before writing (package managers, installers) proceed.
const (
	statfsBlockSize = 4096
	statfsBlocks    = 1 << 24 // 64 GiB
	statfsFiles     = 1 << 20
)

// Statfs flags (f_flags). Linux: include/linux/statfs.h.
const (
	stValid    = 0x20
	stRelatime = 0x1000
)

// statfsFlags converts mount flags to f_flags.
func statfsFlags(mountFlags uint32) int64 {
	flags := int64(stValid)
	// MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_SYNCHRONOUS,
	// MS_MANDLOCK, MS_NOATIME and MS_NODIRATIME have the same values as
	// their ST_* twins.
	flags |= int64(mountFlags & (unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
		unix.MS_SYNCHRONOUS | unix.MS_MANDLOCK | unix.MS_NOATIME | unix.MS_NODIRATIME))
	if mountFlags&unix.MS_RELATIME != 0 {
		flags |= stRelatime
	}
	return flags
}

// statfsVD describes the filesystem mounted at vd.
func statfsVD(ctx context.Context, vd vfs.VirtualDentry) (unix.Statfs_t, error) {
	mnt := vd.Mount()
	impl := mnt.Filesystem().Impl()
	var sf unix.Statfs_t
	if r, ok := impl.(statfsReporter); ok {
		var err error
		if sf, err = r.Statfs(ctx); err != nil {
			return unix.Statfs_t{}, err
		}
	} else {
		sf = defaultStatfs(fsMagic[impl.Name()])
	}
	if sf.Fsid == (unix.Fsid{}) {
		if root := mnt.Filesystem().Root(); root != nil {
			if st, err := root.Inode().Stat(ctx); err == nil {
				dev := encodeDev(st.Dev_major, st.Dev_minor)
				sf.Fsid = unix.Fsid{Val: [2]int32{int32(uint32(dev)), int32(uint32(dev >> 32))}}
			}
		}
	}
	sf.Flags = statfsFlags(mnt.Flags())
	return sf, nil
}

// defaultStatfs returns the defaults for a filesystem of type magic.
func defaultStatfs(magic int64) unix.Statfs_t {
	sf := unix.Statfs_t{
		Type:    magic,
		Bsize:   statfsBlockSize,
		Frsize:  statfsBlockSize,
		Namelen: vfs.NameMax,
	}
	switch magic {
	case procMagic, sysfsMagic, pipefsMagic, sockfsMagic, anonMagic, devptsMagic:
		// Pseudo filesystems report no capacity, as on Linux.
	default:
		sf.Blocks, sf.Bfree, sf.Bavail = statfsBlocks, statfsBlocks, statfsBlocks
		sf.Files, sf.Ffree = statfsFiles, statfsFiles
	}
	return sf
}

// Statfs implements statfs(2).
func Statfs(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, bufAddr := args[0], args[1]
	pop, err := pathArg(t, unix.AT_FDCWD, addr, pathOpts{follow: true})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	ctx := t.Context()
	vd, err := taskVFS(t).GetDentryAt(ctx, &pop.PathOperation, vfs.GetDentryOptions{})
	if err != nil {
		return 0, err
	}
	defer vd.DecRef(ctx)
	sf, err := statfsVD(ctx, vd)
	if err != nil {
		return 0, err
	}
	return 0, copyOut(t, bufAddr, abi.AsBytes(&sf))
}

// Fstatfs implements fstatfs(2).
func Fstatfs(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, bufAddr := fdArg(args[0]), args[1]
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	var sf unix.Statfs_t
	if vd := f.VirtualDentry(); vd.Ok() {
		if sf, err = statfsVD(ctx, vd); err != nil {
			return 0, err
		}
	} else {
		// Files with no location live on Linux's internal filesystems.
		magic := int64(anonMagic)
		if f.Impl() != nil && pipe.FromImpl(f.Impl()) != nil {
			magic = pipefsMagic
		}
		sf = defaultStatfs(magic)
		sf.Flags = stValid
	}
	return 0, copyOut(t, bufAddr, abi.AsBytes(&sf))
}
