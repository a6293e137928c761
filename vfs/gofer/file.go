package gofer

import (
	"context"
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// regularFile is an open regular file: a host descriptor the server opened
// for it, read and written with pread/pwrite (its own file offset is never
// used; the VFS owns the guest's).
type regularFile struct {
	vfs.FileDescriptionDefaultImpl
	inode *inode
	// hostFD is the host descriptor, owned by the file and closed by
	// Release unless shared. Immutable.
	hostFD int
	// shared says hostFD is the inode's readFD, which the inode owns (the
	// open file holds a reference on the inode). Immutable.
	shared bool
}

var _ vfs.FileDescriptionImpl = (*regularFile)(nil)

// HostFD returns the host descriptor backing the file. It is the hook for
// mmap: a shared mapping maps this descriptor's pages, a private one copies
// from it (not wired up yet; see docs/gofer.md). The descriptor stays owned
// by the file.
func (f *regularFile) HostFD() int { return f.hostFD }

// Release implements vfs.FileDescriptionImpl.
func (f *regularFile) Release(ctx context.Context) {
	if !f.shared {
		unix.Close(f.hostFD)
	}
}

// Read implements vfs.FileDescriptionImpl.
func (f *regularFile) Read(ctx context.Context, fd *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	total := 0
	for total < len(dst) {
		n, err := unix.Pread(f.hostFD, dst[total:], off+int64(total))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
		if n == 0 {
			break
		}
		total += n
	}
	return total, nil
}

// Write implements vfs.FileDescriptionImpl. With O_APPEND it writes at the
// current end of file, holding the inode's lock so that appends through the
// Sentry do not interleave.
func (f *regularFile) Write(ctx context.Context, fd *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	if fd.StatusFlags()&unix.O_APPEND != 0 {
		f.inode.mu.Lock()
		defer f.inode.mu.Unlock()
		var st unix.Stat_t
		if err := fstat(f.hostFD, &st); err != nil {
			return 0, off, err
		}
		off = st.Size
	}
	if off < 0 {
		return 0, off, unix.EINVAL
	}
	total := 0
	for total < len(src) {
		n, err := unix.Pwrite(f.hostFD, src[total:], off+int64(total))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if total > 0 {
				break
			}
			return 0, off, err
		}
		total += n
	}
	return total, off + int64(total), nil
}

// Seek implements vfs.FileDescriptionImpl. SEEK_DATA and SEEK_HOLE ask the
// host, which knows the file's holes.
func (f *regularFile) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	switch whence {
	case unix.SEEK_DATA, unix.SEEK_HOLE:
		for {
			n, err := unix.Seek(f.hostFD, off, int(whence))
			if err != unix.EINTR {
				return n, err
			}
		}
	case unix.SEEK_END:
		var st unix.Stat_t
		if err := fstat(f.hostFD, &st); err != nil {
			return 0, err
		}
		return vfs.GenericSeek(cur, off, whence, st.Size)
	}
	return vfs.GenericSeek(cur, off, whence, 0)
}

// dirFile is an open directory: a host descriptor listed with getdents64.
// Positions are the host's d_off cookies, so lseek(SEEK_SET) to a cookie
// previously returned resumes there.
type dirFile struct {
	vfs.FileDescriptionDefaultImpl
	inode *inode
	// hostFD is owned by the file and closed by Release. Immutable.
	hostFD int

	// mu guards the fields below.
	mu sync.Mutex
	// buf holds records read from the host but not yet consumed; they
	// start at position pos.
	buf []byte
	// pos is the position of the first record in buf, or of the host
	// descriptor's offset if buf is empty; -1 if unknown.
	pos int64
}

var _ vfs.FileDescriptionImpl = (*dirFile)(nil)

// Release implements vfs.FileDescriptionImpl.
func (f *dirFile) Release(ctx context.Context) { unix.Close(f.hostFD) }

// Seek implements vfs.FileDescriptionImpl: only SEEK_SET to a position
// returned earlier (or 0), and SEEK_CUR by 0.
func (f *dirFile) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	switch {
	case whence == unix.SEEK_SET && off >= 0:
		return off, nil
	case whence == unix.SEEK_CUR && off == 0:
		return cur, nil
	}
	return 0, unix.EINVAL
}

// direntHeader is the size of linux_dirent64 before its name.
const direntHeader = 19

// IterDirents implements vfs.FileDescriptionImpl.
func (f *dirFile) IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off != f.pos || f.pos < 0 {
		if err := f.seekLocked(off); err != nil {
			return err
		}
	}
	dev := f.inode.attrs().Dev
	for {
		if len(f.buf) == 0 {
			if err := f.fillLocked(); err != nil {
				return err
			}
			if len(f.buf) == 0 {
				return nil // end of directory
			}
		}
		// A record the host wrote: d_ino u64, d_off i64, d_reclen u16,
		// d_type u8, name NUL-terminated and padded. Checked anyway.
		b := f.buf
		if len(b) < direntHeader {
			return f.corruptLocked()
		}
		reclen := int(binary.NativeEndian.Uint16(b[16:]))
		if reclen < direntHeader || reclen > len(b) {
			return f.corruptLocked()
		}
		name := b[direntHeader:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		d := vfs.Dirent{
			Name:    string(name),
			Type:    b[18],
			Ino:     f.inode.fs.inoFor(dev, binary.NativeEndian.Uint64(b[0:])),
			NextOff: int64(binary.NativeEndian.Uint64(b[8:])),
		}
		if !emit(d) {
			return nil
		}
		f.buf = f.buf[reclen:]
		f.pos = d.NextOff
	}
}

// seekLocked moves the host descriptor to off and drops buffered records.
//
// Preconditions: f.mu is held.
func (f *dirFile) seekLocked(off int64) error {
	f.buf = nil
	f.pos = -1
	for {
		_, err := unix.Seek(f.hostFD, off, unix.SEEK_SET)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		f.pos = off
		return nil
	}
}

// fillLocked reads more records from the host.
//
// Preconditions: f.mu is held and buf is empty.
func (f *dirFile) fillLocked() error {
	buf := make([]byte, 8192)
	for {
		n, err := unix.Getdents(f.hostFD, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		f.inode.fs.noteListing(f.inode, direntNames(buf[:n]), f.pos == 0)
		f.buf = buf[:n]
		return nil
	}
}

// corruptLocked handles a record the host should never have produced.
//
// Preconditions: f.mu is held.
func (f *dirFile) corruptLocked() error {
	f.buf = nil
	f.pos = -1
	return unix.EIO
}
