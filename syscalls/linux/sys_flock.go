package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/lock"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_FLOCK, Flock)
}

// lockMand is flock's obsolete LOCK_MAND bit, which Linux ignores (the
// call succeeds and does nothing).
const lockMand = 32

// Flock implements flock(2).
func Flock(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, op := fdArg(args[0]), uint32(args[1])
	f, err := getOpenFile(t, fd)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	if op&lockMand != 0 {
		return 0, nil
	}
	var typ lock.Type
	switch op &^ unix.LOCK_NB {
	case unix.LOCK_SH:
		typ = lock.ReadLock
	case unix.LOCK_EX:
		typ = lock.WriteLock
	case unix.LOCK_UN:
		typ = lock.Unlock
	default:
		return 0, unix.EINVAL
	}
	return 0, lock.Flock(ctx, f, typ, op&unix.LOCK_NB == 0)
}

// flockSize is sizeof(struct flock) on amd64: l_type (int16), l_whence
// (int16), padding, l_start (int64), l_len (int64), l_pid (int32), padding.
const flockSize = 32

// flockArg is a decoded struct flock.
type flockArg struct {
	typ    int16
	whence int16
	start  int64
	len    int64
	pid    int32
}

func decodeFlock(b []byte) flockArg {
	return flockArg{
		typ:    int16(binary.LittleEndian.Uint16(b[0:])),
		whence: int16(binary.LittleEndian.Uint16(b[2:])),
		start:  int64(binary.LittleEndian.Uint64(b[8:])),
		len:    int64(binary.LittleEndian.Uint64(b[16:])),
		pid:    int32(binary.LittleEndian.Uint32(b[24:])),
	}
}

func (a flockArg) encode(b []byte) {
	binary.LittleEndian.PutUint16(b[0:], uint16(a.typ))
	binary.LittleEndian.PutUint16(b[2:], uint16(a.whence))
	binary.LittleEndian.PutUint64(b[8:], uint64(a.start))
	binary.LittleEndian.PutUint64(b[16:], uint64(a.len))
	binary.LittleEndian.PutUint32(b[24:], uint32(a.pid))
}

// lockRange turns a flock's l_whence, l_start and l_len into a byte range
// of f: EINVAL for a bad whence or a range starting before 0, EOVERFLOW for
// one ending past the largest offset.
func lockRange(t *kernel.Task, f *vfs.FileDescription, a flockArg) (lock.Range, error) {
	var base int64
	switch a.whence {
	case unix.SEEK_SET:
	case unix.SEEK_CUR:
		pos, err := f.Seek(t.Context(), 0, unix.SEEK_CUR)
		if err != nil {
			pos = 0 // streams have no position; Linux uses f_pos, 0
		}
		base = pos
	case unix.SEEK_END:
		st, err := f.Stat(t.Context())
		if err != nil {
			return lock.Range{}, err
		}
		base = int64(st.Size)
	default:
		return lock.Range{}, unix.EINVAL
	}
	if a.start > 0 && base > lock.MaxOffset-a.start {
		return lock.Range{}, unix.EOVERFLOW
	}
	start := base + a.start
	if start < 0 {
		return lock.Range{}, unix.EINVAL
	}
	switch {
	case a.len > 0:
		if a.len-1 > lock.MaxOffset-start {
			return lock.Range{}, unix.EOVERFLOW
		}
		return lock.Range{Start: start, End: start + a.len - 1}, nil
	case a.len < 0:
		// The range is the -l_len bytes before start.
		if start+a.len < 0 {
			return lock.Range{}, unix.EINVAL
		}
		return lock.Range{Start: start + a.len, End: start - 1}, nil
	}
	return lock.Range{Start: start, End: lock.MaxOffset}, nil
}

// fcntlLock implements fcntl's F_GETLK, F_SETLK, F_SETLKW and their OFD
// forms on f, with arg the address of a struct flock.
func fcntlLock(t *kernel.Task, f *vfs.FileDescription, cmd uint32, arg uint64) (uint64, error) {
	var b [flockSize]byte
	if err := copyIn(t, arg, b[:]); err != nil {
		return 0, err
	}
	a := decodeFlock(b[:])
	ofd := cmd == unix.F_OFD_GETLK || cmd == unix.F_OFD_SETLK || cmd == unix.F_OFD_SETLKW
	if ofd && a.pid != 0 {
		return 0, unix.EINVAL
	}
	typ := lock.Type(a.typ)
	switch typ {
	case lock.ReadLock, lock.WriteLock, lock.Unlock:
	default:
		return 0, unix.EINVAL
	}
	rng, err := lockRange(t, f, a)
	if err != nil {
		return 0, err
	}
	owner := lock.POSIXOwner(t.ThreadGroup().ID())
	if ofd {
		owner = lock.OFDOwner(f)
	}
	ctx := t.Context()
	switch cmd {
	case unix.F_GETLK, unix.F_OFD_GETLK:
		if typ == lock.Unlock {
			return 0, unix.EINVAL
		}
		c, ok := lock.TestRecord(f, owner, typ, rng)
		if !ok {
			a.typ = unix.F_UNLCK
		} else {
			a = flockArg{typ: int16(c.Type), whence: unix.SEEK_SET, start: c.Range.Start, pid: c.PID}
			if c.Range.End != lock.MaxOffset {
				a.len = c.Range.End - c.Range.Start + 1
			}
		}
		a.encode(b[:])
		return 0, copyOut(t, arg, b[:])
	}
	if (typ == lock.ReadLock && !f.IsReadable()) || (typ == lock.WriteLock && !f.IsWritable()) {
		return 0, unix.EBADF
	}
	block := cmd == unix.F_SETLKW || cmd == unix.F_OFD_SETLKW
	return 0, lock.SetRecord(ctx, f, owner, typ, rng, block)
}

// releasePOSIXLocks drops the caller's POSIX locks on f's file: the caller
// is closing a descriptor of it.
func releasePOSIXLocks(t *kernel.Task, f *vfs.FileDescription) {
	lock.ReleasePOSIX(f, t.ThreadGroup().ID())
}
