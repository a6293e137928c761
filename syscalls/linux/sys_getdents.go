package linux

import (
	"bytes"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_GETDENTS64, Getdents64)
	full(unix.SYS_GETDENTS, Getdents)
}

// maxDirentBuf bounds the Sentry-side buffer of one getdents call; a
// larger guest buffer just gets fewer entries than it could hold, which
// callers handle by calling again.
const maxDirentBuf = 64 << 10

// direntNameOff is the offset of d_name in linux_dirent64; linux_dirent
// (old getdents) has its name one byte earlier, at 18.
const direntNameOff = 19

// getdents reads directory entries of fd as linux_dirent64 records into
// a buffer of at most count bytes, converts them with convert (which may
// be nil), and copies them to guest memory at addr.
func getdents(t *kernel.Task, fd int32, addr uint64, count uint32, convert func([]byte)) (uint64, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	buf := make([]byte, min(count, maxDirentBuf))
	// Remember the position so that entries read but not delivered (a bad
	// buffer) are read again by the next call.
	pos, posErr := f.Seek(ctx, 0, unix.SEEK_CUR)
	n, err := f.Getdents64(ctx, buf)
	if err != nil {
		return 0, err
	}
	if convert != nil {
		convert(buf[:n])
	}
	if err := copyOut(t, addr, buf[:n]); err != nil {
		if posErr == nil {
			_, _ = f.Seek(ctx, pos, unix.SEEK_SET)
		}
		return 0, err
	}
	return uint64(n), nil
}

// Getdents64 implements getdents64(2).
func Getdents64(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, count := fdArg(args[0]), args[1], uint32(args[2])
	return getdents(t, fd, addr, count, nil)
}

// Getdents implements getdents(2), whose struct linux_dirent has d_name
// right after d_reclen and d_type in the record's last byte. Its records
// have exactly the size of the linux_dirent64 ones (both are the aligned
// 8+8+2 header, the name, a NUL and a type byte), so the conversion is in
// place.
func Getdents(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, count := fdArg(args[0]), args[1], uint32(args[2])
	return getdents(t, fd, addr, count, direntsToOld)
}

// direntsToOld rewrites linux_dirent64 records as linux_dirent records.
func direntsToOld(b []byte) {
	for len(b) >= direntNameOff {
		reclen := int(uint16(b[16]) | uint16(b[17])<<8)
		if reclen < direntNameOff+1 || reclen > len(b) {
			return
		}
		rec := b[:reclen]
		typ := rec[18]
		name := rec[direntNameOff:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		nameLen := len(name)
		copy(rec[18:], name)
		clear(rec[18+nameLen : reclen-1])
		rec[reclen-1] = typ
		b = b[reclen:]
	}
}
