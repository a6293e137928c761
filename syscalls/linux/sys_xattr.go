package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func init() {
	const note = "tmpfs stores user.*, trusted.* and security.* attributes; other filesystems answer EOPNOTSUPP; system.* (POSIX ACLs) is not supported"
	partial(unix.SYS_GETXATTR, note, Getxattr)
	partial(unix.SYS_LGETXATTR, note, Lgetxattr)
	partial(unix.SYS_FGETXATTR, note, Fgetxattr)
	partial(unix.SYS_SETXATTR, note, Setxattr)
	partial(unix.SYS_LSETXATTR, note, Lsetxattr)
	partial(unix.SYS_FSETXATTR, note, Fsetxattr)
	partial(unix.SYS_LISTXATTR, note, Listxattr)
	partial(unix.SYS_LLISTXATTR, note, Llistxattr)
	partial(unix.SYS_FLISTXATTR, note, Flistxattr)
	partial(unix.SYS_REMOVEXATTR, note, Removexattr)
	partial(unix.SYS_LREMOVEXATTR, note, Lremovexattr)
	partial(unix.SYS_FREMOVEXATTR, note, Fremovexattr)
	partial(unix.SYS_SETXATTRAT, note, Setxattrat)
	partial(unix.SYS_GETXATTRAT, note, Getxattrat)
	partial(unix.SYS_LISTXATTRAT, note, Listxattrat)
	partial(unix.SYS_REMOVEXATTRAT, note, Removexattrat)
}

// copyInXattrName reads an attribute name: EFAULT for a bad pointer,
// ERANGE if empty or longer than XATTR_NAME_MAX.
func copyInXattrName(t *kernel.Task, addr uint64) (string, error) {
	s, err := t.CopyInString(addr, vfs.XattrNameMax+1)
	if err == mm.ErrStringTooLong {
		return "", unix.ERANGE
	}
	if err != nil {
		return "", unix.EFAULT
	}
	if s == "" || len(s) > vfs.XattrNameMax {
		return "", unix.ERANGE
	}
	return s, nil
}

// xattrTarget is the file an xattr call operates on: a path (followed or
// not) or a descriptor.
type xattrTarget struct {
	t    *kernel.Task
	pop  *pathOperation
	file *vfs.FileDescription
}

// xattrKind says what the first argument of an xattr call names.
type xattrKind int

const (
	// xattrPath is a path whose final symlink is followed (getxattr).
	xattrPath xattrKind = iota
	// xattrLinkPath is a path whose final symlink is not followed
	// (lgetxattr).
	xattrLinkPath
	// xattrFD is a descriptor (fgetxattr).
	xattrFD
)

// xattrPathTarget resolves a path argument.
func xattrPathTarget(t *kernel.Task, addr uint64, o pathOpts) (*xattrTarget, error) {
	pop, err := pathArg(t, unix.AT_FDCWD, addr, o)
	if err != nil {
		return nil, err
	}
	return &xattrTarget{t: t, pop: pop}, nil
}

// xattrFDTarget takes a descriptor argument.
func xattrFDTarget(t *kernel.Task, fd int32) (*xattrTarget, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, err
	}
	return &xattrTarget{t: t, file: f}, nil
}

// release drops the target's references.
func (x *xattrTarget) release() {
	if x.pop != nil {
		x.pop.release()
	}
	if x.file != nil {
		x.file.DecRef(x.t.Context())
	}
}

func (x *xattrTarget) get(name string) ([]byte, error) {
	if x.file != nil {
		return x.file.Getxattr(x.t.Context(), name)
	}
	return taskVFS(x.t).GetxattrAt(x.t.Context(), &x.pop.PathOperation, name)
}

func (x *xattrTarget) set(name string, value []byte, flags uint32) error {
	if x.file != nil {
		return x.file.Setxattr(x.t.Context(), name, value, flags)
	}
	return taskVFS(x.t).SetxattrAt(x.t.Context(), &x.pop.PathOperation, name, value, flags)
}

func (x *xattrTarget) list() ([]string, error) {
	if x.file != nil {
		return x.file.Listxattr(x.t.Context())
	}
	return taskVFS(x.t).ListxattrAt(x.t.Context(), &x.pop.PathOperation)
}

func (x *xattrTarget) remove(name string) error {
	if x.file != nil {
		return x.file.Removexattr(x.t.Context(), name)
	}
	return taskVFS(x.t).RemovexattrAt(x.t.Context(), &x.pop.PathOperation, name)
}

// xattrTargetArg builds the target that arg names as kind says.
func xattrTargetArg(t *kernel.Task, arg uint64, kind xattrKind) (*xattrTarget, error) {
	switch kind {
	case xattrFD:
		return xattrFDTarget(t, fdArg(arg))
	case xattrLinkPath:
		return xattrPathTarget(t, arg, pathOpts{})
	default:
		return xattrPathTarget(t, arg, pathOpts{follow: true})
	}
}

// getxattr implements getxattr, lgetxattr and fgetxattr: size 0 asks
// for the value's size; ERANGE if size is too small.
func getxattr(t *kernel.Task, args arch.SyscallArgs, kind xattrKind) (uint64, error) {
	target, nameAddr, valueAddr, size := args[0], args[1], args[2], args[3]
	return getxattrOf(t, func() (*xattrTarget, error) { return xattrTargetArg(t, target, kind) }, nameAddr, valueAddr, size)
}

// getxattrOf reads the attribute named at nameAddr of the file resolve
// returns (resolved after the name is read, as Linux).
func getxattrOf(t *kernel.Task, resolve func() (*xattrTarget, error), nameAddr, valueAddr, size uint64) (uint64, error) {
	name, err := copyInXattrName(t, nameAddr)
	if err != nil {
		return 0, err
	}
	x, err := resolve()
	if err != nil {
		return 0, err
	}
	defer x.release()
	v, err := x.get(name)
	if err != nil {
		return 0, err
	}
	if size == 0 {
		return uint64(len(v)), nil
	}
	if uint64(len(v)) > size {
		return 0, unix.ERANGE
	}
	if err := copyOut(t, valueAddr, v); err != nil {
		return 0, err
	}
	return uint64(len(v)), nil
}

// setxattr implements setxattr, lsetxattr and fsetxattr.
func setxattr(t *kernel.Task, args arch.SyscallArgs, kind xattrKind) (uint64, error) {
	target, nameAddr, valueAddr, size, flags := args[0], args[1], args[2], args[3], uint32(args[4])
	return setxattrOf(t, func() (*xattrTarget, error) { return xattrTargetArg(t, target, kind) }, nameAddr, valueAddr, size, flags)
}

// setxattrOf sets the attribute named at nameAddr of the file resolve
// returns, after the flags, name and value are checked and read.
func setxattrOf(t *kernel.Task, resolve func() (*xattrTarget, error), nameAddr, valueAddr, size uint64, flags uint32) (uint64, error) {
	if flags&^(unix.XATTR_CREATE|unix.XATTR_REPLACE) != 0 {
		return 0, unix.EINVAL
	}
	name, err := copyInXattrName(t, nameAddr)
	if err != nil {
		return 0, err
	}
	if size > vfs.XattrSizeMax {
		return 0, unix.E2BIG
	}
	value := make([]byte, size)
	if err := copyIn(t, valueAddr, value); err != nil {
		return 0, err
	}
	x, err := resolve()
	if err != nil {
		return 0, err
	}
	defer x.release()
	return 0, x.set(name, value, flags)
}

// listxattr implements listxattr, llistxattr and flistxattr: NUL-ended
// names; size 0 asks for the size needed, ERANGE if size is too small.
func listxattr(t *kernel.Task, args arch.SyscallArgs, kind xattrKind) (uint64, error) {
	target, listAddr, size := args[0], args[1], args[2]
	return listxattrOf(t, func() (*xattrTarget, error) { return xattrTargetArg(t, target, kind) }, listAddr, size)
}

// listxattrOf lists the attributes of the file resolve returns.
func listxattrOf(t *kernel.Task, resolve func() (*xattrTarget, error), listAddr, size uint64) (uint64, error) {
	x, err := resolve()
	if err != nil {
		return 0, err
	}
	defer x.release()
	names, err := x.list()
	if err != nil {
		return 0, err
	}
	var buf []byte
	for _, n := range names {
		buf = append(buf, n...)
		buf = append(buf, 0)
	}
	if len(buf) > vfs.XattrListMax {
		return 0, unix.E2BIG
	}
	if size == 0 {
		return uint64(len(buf)), nil
	}
	if uint64(len(buf)) > size {
		return 0, unix.ERANGE
	}
	if err := copyOut(t, listAddr, buf); err != nil {
		return 0, err
	}
	return uint64(len(buf)), nil
}

// removexattr implements removexattr, lremovexattr and fremovexattr.
func removexattr(t *kernel.Task, args arch.SyscallArgs, kind xattrKind) (uint64, error) {
	target, nameAddr := args[0], args[1]
	return removexattrOf(t, func() (*xattrTarget, error) { return xattrTargetArg(t, target, kind) }, nameAddr)
}

// removexattrOf removes the attribute named at nameAddr of the file
// resolve returns.
func removexattrOf(t *kernel.Task, resolve func() (*xattrTarget, error), nameAddr uint64) (uint64, error) {
	name, err := copyInXattrName(t, nameAddr)
	if err != nil {
		return 0, err
	}
	x, err := resolve()
	if err != nil {
		return 0, err
	}
	defer x.release()
	return 0, x.remove(name)
}

// Getxattr implements getxattr(2).
func Getxattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return getxattr(t, args, xattrPath)
}

// Lgetxattr implements lgetxattr(2).
func Lgetxattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return getxattr(t, args, xattrLinkPath)
}

// Fgetxattr implements fgetxattr(2).
func Fgetxattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return getxattr(t, args, xattrFD)
}

// Setxattr implements setxattr(2).
func Setxattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return setxattr(t, args, xattrPath)
}

// Lsetxattr implements lsetxattr(2).
func Lsetxattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return setxattr(t, args, xattrLinkPath)
}

// Fsetxattr implements fsetxattr(2).
func Fsetxattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return setxattr(t, args, xattrFD)
}

// Listxattr implements listxattr(2).
func Listxattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return listxattr(t, args, xattrPath)
}

// Llistxattr implements llistxattr(2).
func Llistxattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return listxattr(t, args, xattrLinkPath)
}

// Flistxattr implements flistxattr(2).
func Flistxattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return listxattr(t, args, xattrFD)
}

// Removexattr implements removexattr(2).
func Removexattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return removexattr(t, args, xattrPath)
}

// Lremovexattr implements lremovexattr(2).
func Lremovexattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return removexattr(t, args, xattrLinkPath)
}

// Fremovexattr implements fremovexattr(2).
func Fremovexattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return removexattr(t, args, xattrFD)
}

// xattrAtFlags are the flags the *xattrat calls take.
const xattrAtFlags = unix.AT_SYMLINK_NOFOLLOW | unix.AT_EMPTY_PATH

// xattrArgsSizeVer0 is the size of the first struct xattr_args (Linux
// 6.13): __u64 value, __u32 size, __u32 flags.
const xattrArgsSizeVer0 = 16

// xattrAtResolver returns the resolver of an *xattrat call's (dirfd,
// path, at_flags): with AT_EMPTY_PATH a NULL or empty path names dirfd
// itself (the working directory for AT_FDCWD), as Linux's
// getname_maybe_null.
func xattrAtResolver(t *kernel.Task, dirfd int32, pathAddr uint64, atFlags uint32) func() (*xattrTarget, error) {
	return func() (*xattrTarget, error) {
		o := pathOpts{follow: atFlags&unix.AT_SYMLINK_NOFOLLOW == 0}
		if atFlags&unix.AT_EMPTY_PATH != 0 {
			path := ""
			if pathAddr != 0 {
				var err error
				if path, err = copyInPath(t, pathAddr); err != nil {
					return nil, err
				}
			}
			if path == "" {
				if dirfd != unix.AT_FDCWD {
					return xattrFDTarget(t, dirfd)
				}
				o.emptyPath = true
			}
			pop, err := pathOp(t, dirfd, path, o)
			if err != nil {
				return nil, err
			}
			return &xattrTarget{t: t, pop: pop}, nil
		}
		pop, err := pathArg(t, dirfd, pathAddr, o)
		if err != nil {
			return nil, err
		}
		return &xattrTarget{t: t, pop: pop}, nil
	}
}

// copyInXattrArgs reads a struct xattr_args of usize bytes: EINVAL if
// shorter than the first version, E2BIG if longer than a page or if bytes
// this kernel does not know are not zero.
func copyInXattrArgs(t *kernel.Task, addr, usize uint64) (value uint64, size, flags uint32, err error) {
	if usize < xattrArgsSizeVer0 {
		return 0, 0, 0, unix.EINVAL
	}
	if usize > pageSize {
		return 0, 0, 0, unix.E2BIG
	}
	var b [xattrArgsSizeVer0]byte
	if err := copyInExtensible(t, addr, usize, b[:]); err != nil {
		return 0, 0, 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:]), nil
}

// Setxattrat implements setxattrat(2).
func Setxattrat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, atFlags, nameAddr, uargs, usize := fdArg(args[0]), args[1], uint32(args[2]), args[3], args[4], args[5]
	value, size, flags, err := copyInXattrArgs(t, uargs, usize)
	if err != nil {
		return 0, err
	}
	if atFlags&^xattrAtFlags != 0 {
		return 0, unix.EINVAL
	}
	return setxattrOf(t, xattrAtResolver(t, dirfd, pathAddr, atFlags), nameAddr, value, uint64(size), flags)
}

// Getxattrat implements getxattrat(2).
func Getxattrat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, atFlags, nameAddr, uargs, usize := fdArg(args[0]), args[1], uint32(args[2]), args[3], args[4], args[5]
	value, size, flags, err := copyInXattrArgs(t, uargs, usize)
	if err != nil {
		return 0, err
	}
	if flags != 0 || atFlags&^xattrAtFlags != 0 {
		return 0, unix.EINVAL
	}
	return getxattrOf(t, xattrAtResolver(t, dirfd, pathAddr, atFlags), nameAddr, value, uint64(size))
}

// Listxattrat implements listxattrat(2).
func Listxattrat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, atFlags, listAddr, size := fdArg(args[0]), args[1], uint32(args[2]), args[3], args[4]
	if atFlags&^xattrAtFlags != 0 {
		return 0, unix.EINVAL
	}
	return listxattrOf(t, xattrAtResolver(t, dirfd, pathAddr, atFlags), listAddr, size)
}

// Removexattrat implements removexattrat(2).
func Removexattrat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, atFlags, nameAddr := fdArg(args[0]), args[1], uint32(args[2]), args[3]
	if atFlags&^xattrAtFlags != 0 {
		return 0, unix.EINVAL
	}
	return removexattrOf(t, xattrAtResolver(t, dirfd, pathAddr, atFlags), nameAddr)
}
