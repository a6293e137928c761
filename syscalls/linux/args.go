package linux

import (
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

// newPathOp resolves dirfd (AT_FDCWD or a directory descriptor) as the
// start of path. emptyPathOK allows "" (AT_EMPTY_PATH): the operation then
// names dirfd itself.
func newPathOp(t *kernel.Task, dirfd int32, path string, follow bool) (*pathOperation, error) {
	fs := t.FSContext()
	root := fs.Root()
	p := &pathOperation{t: t, refs: []vfs.VirtualDentry{root}}
	p.Root = root
	p.Path = path
	p.FollowFinalSymlink = follow
	if len(path) > 0 && path[0] == '/' {
		p.Start = root
		return p, nil
	}
	if dirfd == unix.AT_FDCWD {
		cwd := fs.Cwd()
		p.refs = append(p.refs, cwd)
		p.Start = cwd
		return p, nil
	}
	f, err := getFile(t, dirfd)
	if err != nil {
		p.release()
		return nil, err
	}
	defer f.DecRef(t.Context())
	vd := f.VirtualDentry()
	if !vd.Ok() {
		p.release()
		return nil, unix.ENOTDIR
	}
	if path != "" {
		st, err := f.Stat(t.Context())
		if err != nil {
			p.release()
			return nil, err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			p.release()
			return nil, unix.ENOTDIR
		}
	}
	vd.IncRef()
	p.refs = append(p.refs, vd)
	p.Start = vd
	return p, nil
}

// pathArg reads a path argument and resolves it against dirfd.
func pathArg(t *kernel.Task, dirfd int32, addr uint64, follow bool) (*pathOperation, error) {
	path, err := copyInPath(t, addr)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, unix.ENOENT
	}
	return newPathOp(t, dirfd, path, follow)
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
