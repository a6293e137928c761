package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func init() {
	const note = "only tmpfs has file attributes (EOPNOTSUPP elsewhere), and of its flags only FS_XFLAG_NODUMP can be set (immutable, append and noatime: EOPNOTSUPP)"
	partial(unix.SYS_FILE_GETATTR, note, FileGetattr)
	partial(unix.SYS_FILE_SETATTR, note, FileSetattr)
}

// fileAttrSizeVer0 is the size of the first struct file_attr (Linux
// 6.17): __u64 fa_xflags, then four __u32.
const fileAttrSizeVer0 = 24

// fileAttrArgs checks file_getattr's and file_setattr's at_flags and
// usize, in Linux's order.
func fileAttrArgs(atFlags uint32, usize uint64) error {
	if atFlags&^(unix.AT_SYMLINK_NOFOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return unix.EINVAL
	}
	if usize > pageSize {
		return unix.E2BIG
	}
	if usize < fileAttrSizeVer0 {
		return unix.EINVAL
	}
	return nil
}

// withFileAttrTarget runs fn on the file (dirfd, path, at_flags) names:
// with AT_EMPTY_PATH and a NULL or empty path, the open file dirfd (EBADF
// for O_PATH descriptors, as Linux's fdget; EOPNOTSUPP for files with no
// location such as pipes) or the working directory for AT_FDCWD.
func withFileAttrTarget(t *kernel.Task, dirfd int32, pathAddr uint64, atFlags uint32,
	onFile func(vd vfs.VirtualDentry) error, onPath func(pop *pathOperation) error) error {
	o := pathOpts{follow: atFlags&unix.AT_SYMLINK_NOFOLLOW == 0}
	path := ""
	if atFlags&unix.AT_EMPTY_PATH == 0 || pathAddr != 0 {
		var err error
		if path, err = copyInPath(t, pathAddr); err != nil {
			return err
		}
	}
	if path == "" && atFlags&unix.AT_EMPTY_PATH != 0 {
		if dirfd != unix.AT_FDCWD {
			f, err := getOpenFile(t, dirfd)
			if err != nil {
				return err
			}
			defer f.DecRef(t.Context())
			vd := f.VirtualDentry()
			if !vd.Ok() {
				return unix.EOPNOTSUPP
			}
			return onFile(vd)
		}
		o.emptyPath = true
	}
	pop, err := pathOp(t, dirfd, path, o)
	if err != nil {
		return err
	}
	defer pop.release()
	return onPath(pop)
}

// FileGetattr implements file_getattr(2).
func FileGetattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, uattr, usize, atFlags := fdArg(args[0]), args[1], args[2], args[3], uint32(args[4])
	if err := fileAttrArgs(atFlags, usize); err != nil {
		return 0, err
	}
	var fa vfs.FileAttr
	err := withFileAttrTarget(t, dirfd, pathAddr, atFlags,
		func(vd vfs.VirtualDentry) (err error) {
			fa, err = vfs.GetFileAttr(vd)
			return err
		},
		func(pop *pathOperation) (err error) {
			fa, err = taskVFS(t).GetFileAttrAt(t.Context(), &pop.PathOperation)
			return err
		})
	if err != nil {
		return 0, err
	}
	var b [fileAttrSizeVer0]byte
	binary.LittleEndian.PutUint64(b[:], fa.Xflags)
	binary.LittleEndian.PutUint32(b[8:], fa.ExtSize)
	binary.LittleEndian.PutUint32(b[12:], fa.NExtents)
	binary.LittleEndian.PutUint32(b[16:], fa.ProjID)
	binary.LittleEndian.PutUint32(b[20:], fa.CowExtSize)
	if err := copyOut(t, uattr, b[:]); err != nil {
		return 0, err
	}
	// A larger structure gets zeros beyond what this kernel knows
	// (copy_struct_to_user), written in bounded chunks.
	var zero [256]byte
	for off := uint64(fileAttrSizeVer0); off < usize; off += uint64(len(zero)) {
		n := min(usize-off, uint64(len(zero)))
		if err := copyOut(t, uattr+off, zero[:n]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// FileSetattr implements file_setattr(2).
func FileSetattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, uattr, usize, atFlags := fdArg(args[0]), args[1], args[2], args[3], uint32(args[4])
	if err := fileAttrArgs(atFlags, usize); err != nil {
		return 0, err
	}
	var b [fileAttrSizeVer0]byte
	if err := copyInExtensible(t, uattr, usize, b[:]); err != nil {
		return 0, err
	}
	fa := vfs.FileAttr{
		Xflags:     binary.LittleEndian.Uint64(b[:]),
		ExtSize:    binary.LittleEndian.Uint32(b[8:]),
		NExtents:   binary.LittleEndian.Uint32(b[12:]),
		ProjID:     binary.LittleEndian.Uint32(b[16:]),
		CowExtSize: binary.LittleEndian.Uint32(b[20:]),
	}
	if err := vfs.CheckFileAttr(&fa); err != nil {
		return 0, err
	}
	return 0, withFileAttrTarget(t, dirfd, pathAddr, atFlags,
		func(vd vfs.VirtualDentry) error {
			return vfs.SetFileAttr(t.Context(), vd, fa)
		},
		func(pop *pathOperation) error {
			return taskVFS(t).SetFileAttrAt(t.Context(), &pop.PathOperation, fa)
		})
}
