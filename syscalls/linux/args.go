package linux

import (
	"errors"

	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

// maxRW is the most one read or write transfers (Linux: MAX_RW_COUNT).
const maxRW = 0x7ffff000

// ioChunk bounds the Sentry-side buffer of one transfer step.
const ioChunk = 1 << 20

// fdArg decodes a file descriptor argument.
func fdArg(a uint64) int32 { return int32(uint32(a)) }

// intArg decodes an int argument.
func intArg(a uint64) int32 { return int32(uint32(a)) }

// getFile returns the file at fd with a reference, or EBADF.
func getFile(t *kernel.Task, fd int32) (*vfs.FileDescription, error) {
	f, _ := t.FDTable().Get(fd)
	if f == nil {
		return nil, unix.EBADF
	}
	return f, nil
}

// copyInPath reads a path argument: EFAULT for a bad pointer,
// ENAMETOOLONG beyond PATH_MAX.
func copyInPath(t *kernel.Task, addr uint64) (string, error) {
	s, err := t.CopyInString(addr, unix.PathMax-1)
	if err == mm.ErrStringTooLong {
		return "", unix.ENAMETOOLONG
	}
	if err != nil {
		return "", unix.EFAULT
	}
	return s, nil
}

// pathOperation is a path relative to a dirfd, with the references it
// holds.
type pathOperation struct {
	vfs.PathOperation
	t    *kernel.Task
	refs []vfs.VirtualDentry
}

// release drops the references.
func (p *pathOperation) release() {
	for _, vd := range p.refs {
		vd.DecRef(p.t.Context())
	}
}

// transfer is the direction of a data transfer between the guest's
// memory and something else.
type transfer int

const (
	// transferRead moves data into the guest's memory (read, readv,
	// process_vm_readv).
	transferRead transfer = iota
	// transferWrite moves data out of it (write, writev,
	// process_vm_writev).
	transferWrite
)

// pathOpts says how pathOp turns (dirfd, path) into the start of a walk.
// Callers name the fields they set, so a call reads as what it asks for.
type pathOpts struct {
	// follow follows a symlink in the final component (no
	// AT_SYMLINK_NOFOLLOW, O_NOFOLLOW, ...).
	follow bool
	// emptyPath lets an empty path name dirfd itself, or the working
	// directory for AT_FDCWD (AT_EMPTY_PATH). pathOp then returns
	// errNoLocation if dirfd has no location in the filesystem (a pipe):
	// callers handle such files themselves. Without emptyPath an empty
	// path is ENOENT.
	emptyPath bool
	// inRoot makes dirfd (or the working directory) the root of the walk
	// as well as its start, so that ".." and absolute symlinks never
	// leave it (openat2's RESOLVE_IN_ROOT and RESOLVE_BENEATH; the VFS
	// tells them apart by PathOperation.Resolve).
	inRoot bool
}

// atPathOpts returns the pathOpts of an *at call's AT_SYMLINK_NOFOLLOW and
// AT_EMPTY_PATH flags.
func atPathOpts(flags int32) pathOpts {
	return pathOpts{follow: flags&unix.AT_SYMLINK_NOFOLLOW == 0, emptyPath: flags&unix.AT_EMPTY_PATH != 0}
}

// errNoLocation is returned by pathOp with emptyPath for a descriptor that
// has no location in the filesystem (a pipe).
var errNoLocation = errors.New("descriptor has no location")

// pathOp resolves dirfd (AT_FDCWD or a descriptor) as the start of path,
// as o asks. It is the one place the syscalls turn (dirfd, path, flags)
// into a vfs.PathOperation; the returned operation holds references
// until release.
func pathOp(t *kernel.Task, dirfd int32, path string, o pathOpts) (*pathOperation, error) {
	if path == "" {
		if !o.emptyPath {
			return nil, unix.ENOENT
		}
		// The walk of "/" with dirfd's location as its root ends at that
		// location without following it if it is a symlink and without
		// checking that it is a directory.
		vd, err := dirfdLocation(t, dirfd, errNoLocation, false)
		if err != nil {
			return nil, err
		}
		return newPathOperation(t, vd, vd, "/", vd), nil
	}
	fs := t.FSContext()
	if o.inRoot {
		vd, err := dirfdLocation(t, dirfd, unix.ENOTDIR, true)
		if err != nil {
			return nil, err
		}
		p := newPathOperation(t, vd, vd, path, vd)
		p.FollowFinalSymlink = o.follow
		return p, nil
	}
	root := fs.Root()
	if path[0] == '/' {
		p := newPathOperation(t, root, root, path, root)
		p.FollowFinalSymlink = o.follow
		return p, nil
	}
	start, err := dirfdLocation(t, dirfd, unix.ENOTDIR, true)
	if err != nil {
		root.DecRef(t.Context())
		return nil, err
	}
	p := newPathOperation(t, root, start, path, root, start)
	p.FollowFinalSymlink = o.follow
	return p, nil
}

// dirfdLocation returns, with a reference, the location of dirfd (the
// working directory for AT_FDCWD): noLocation if the file has none, and
// ENOTDIR if mustBeDir and it is not a directory.
func dirfdLocation(t *kernel.Task, dirfd int32, noLocation error, mustBeDir bool) (vfs.VirtualDentry, error) {
	if dirfd == unix.AT_FDCWD {
		return t.FSContext().Cwd(), nil
	}
	f, err := getFile(t, dirfd)
	if err != nil {
		return vfs.VirtualDentry{}, err
	}
	defer f.DecRef(t.Context())
	vd := f.VirtualDentry()
	if !vd.Ok() {
		return vfs.VirtualDentry{}, noLocation
	}
	if mustBeDir {
		st, err := f.Stat(t.Context())
		if err != nil {
			return vfs.VirtualDentry{}, err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return vfs.VirtualDentry{}, unix.ENOTDIR
		}
	}
	vd.IncRef()
	return vd, nil
}

// newPathOperation returns a path operation that owns the references refs
// and does not follow a final symlink.
func newPathOperation(t *kernel.Task, root, start vfs.VirtualDentry, path string, refs ...vfs.VirtualDentry) *pathOperation {
	p := &pathOperation{t: t, refs: refs}
	p.Root, p.Start, p.Path = root, start, path
	return p
}

// pathArg reads a path argument at addr and resolves it against dirfd as
// pathOp does.
func pathArg(t *kernel.Task, dirfd int32, addr uint64, o pathOpts) (*pathOperation, error) {
	path, err := copyInPath(t, addr)
	if err != nil {
		return nil, err
	}
	return pathOp(t, dirfd, path, o)
}

// copyOutStruct writes a fixed-size value to guest memory.
func copyOut(t *kernel.Task, addr uint64, b []byte) error {
	if _, err := t.CopyOut(addr, b); err != nil {
		return unix.EFAULT
	}
	return nil
}

// copyIn reads a fixed-size value from guest memory.
func copyIn(t *kernel.Task, addr uint64, b []byte) error {
	if _, err := t.CopyIn(addr, b); err != nil {
		return unix.EFAULT
	}
	return nil
}

// uioMaxIOV is the most iovecs one call takes (UIO_MAXIOV).
const uioMaxIOV = 1024
