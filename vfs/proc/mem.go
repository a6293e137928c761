package proc

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// MemThread is optionally implemented by a Thread whose address space may
// be opened as /proc/PID/mem. Without it an open is EACCES.
type MemThread interface {
	// OpenMem returns the thread's address space for the task on whose
	// behalf ctx runs, after the ptrace attach check of proc(5) (EACCES
	// when refused); nil without error if the thread has none.
	OpenMem(ctx context.Context) (ForceMemory, error)
}

// ForceMemory is an address space as /proc/PID/mem accesses it: as a
// ptrace tracer does (FOLL_FORCE).
type ForceMemory interface {
	// CopyInForce copies memory at addr into dst, unreadable memory
	// included; it returns the bytes copied before a bad address and an
	// error there.
	CopyInForce(addr uint64, dst []byte) (int, error)
	// CopyOutForce copies src to memory at addr; private read-only
	// mappings are written too (a private copy).
	CopyOutForce(addr uint64, src []byte) (int, error)
	// Alive reports whether a task still uses the address space (it is
	// released when the last leaves it, by exit or execve).
	Alive() bool
}

// memEntry is /proc/PID/mem: the process's memory, the file offset being
// the address.
func (fs *filesystem) memEntry(ref *taskRef) staticEntry {
	return staticEntry{name: "mem", mode: unix.S_IFREG | 0o600, make: func(ino uint64) vfs.Inode {
		return &memNode{node: node{fs: fs, ino: ino, mode: unix.S_IFREG | 0o600, task: ref}}
	}}
}

// memNode is /proc/PID/mem.
type memNode struct {
	node
}

// Open implements vfs.Inode.Open: the address space is the one the
// thread has now, for the life of the open file (after an execve the file
// still refers to the old one, and reads and writes of it return 0, as
// Linux's).
func (n *memNode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	t := n.task.thread()
	if t == nil {
		return nil, unix.ESRCH
	}
	mt, ok := t.(MemThread)
	if !ok {
		return nil, unix.EACCES
	}
	m, err := mt.OpenMem(ctx)
	if err != nil {
		return nil, err
	}
	return &memFD{m: m}, nil
}

// memFD is an open /proc/PID/mem.
type memFD struct {
	vfs.FileDescriptionDefaultImpl
	// m is the address space, or nil if the thread had none. Immutable.
	m ForceMemory
}

// access reads or writes at off, taken as an unsigned address: the bytes
// up to the first bad address, or EIO if that is the first; 0 once the
// address space is released.
func (fd *memFD) access(b []byte, off int64, write bool) (int, error) {
	if fd.m == nil || len(b) == 0 || !fd.m.Alive() {
		return 0, nil
	}
	addr := uint64(off)
	if addr+uint64(len(b)) < addr {
		// Linux's rw_verify_area for a file with unsigned offsets.
		return 0, unix.EOVERFLOW
	}
	var n int
	if write {
		n, _ = fd.m.CopyOutForce(addr, b)
	} else {
		n, _ = fd.m.CopyInForce(addr, b)
	}
	if n == 0 {
		if !fd.m.Alive() {
			return 0, nil
		}
		return 0, unix.EIO
	}
	return n, nil
}

// Read implements vfs.FileDescriptionImpl.Read.
func (fd *memFD) Read(ctx context.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	return fd.access(dst, off, false)
}

// Write implements vfs.FileDescriptionImpl.Write.
func (fd *memFD) Write(ctx context.Context, _ *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	n, err := fd.access(src, off, true)
	return n, off + int64(n), err
}

// Seek implements vfs.FileDescriptionImpl.Seek: SEEK_SET and SEEK_CUR
// to any address, the offset being unsigned (Linux's mem_lseek); other
// whences are EINVAL.
func (fd *memFD) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	switch whence {
	case unix.SEEK_SET:
		return off, nil
	case unix.SEEK_CUR:
		return int64(uint64(cur) + uint64(off)), nil
	}
	return 0, unix.EINVAL
}
