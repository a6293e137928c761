package linux

import (
	"encoding/binary"
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/aio"
	"github.com/palisade-sandbox/palisade/sentry/kernel/eventfd"
	"github.com/palisade-sandbox/palisade/vfs"
)

func init() {
	partial(unix.SYS_IO_SETUP, "/proc/sys/fs/aio-max-nr (65536) can be raised to 1048576 at most", IoSetup)
	full(unix.SYS_IO_DESTROY, IoDestroy)
	partial(unix.SYS_IO_SUBMIT, "reads, writes and syncs run to completion inside io_submit (as Linux's buffered I/O); IOCB_FLAG_IOPRIO is checked and ignored; RWF_ATOMIC and RWF_DONTCACHE are EOPNOTSUPP", IoSubmit)
	full(unix.SYS_IO_CANCEL, IoCancel) // only polls stay pending long enough to cancel, as on Linux
	full(unix.SYS_IO_GETEVENTS, IoGetevents)
	full(unix.SYS_IO_PGETEVENTS, IoPgetevents)
}

// iocb opcodes (IOCB_CMD_*) and flags (IOCB_FLAG_*).
const (
	iocbCmdPread   = 0
	iocbCmdPwrite  = 1
	iocbCmdFsync   = 2
	iocbCmdFdsync  = 3
	iocbCmdPoll    = 5
	iocbCmdPreadv  = 7
	iocbCmdPwritev = 8

	iocbFlagResfd  = 1 << 0
	iocbFlagIoprio = 1 << 1

	iocbSize = 64
	// iocbKeyOff is the offset of aio_key, which io_submit sets to
	// KIOCB_KEY (0) and io_cancel checks.
	iocbKeyOff = 8

	// userPtrMax is the end of the user address range access_ok allows.
	userPtrMax = 0x7ffffffff000

	rwfAtomic    = 0x40
	rwfDontcache = 0x80
)

// iocb is struct iocb.
type iocb struct {
	data      uint64
	rwFlags   uint32
	opcode    uint16
	reqprio   int16
	fd        uint32
	buf       uint64
	nbytes    uint64
	offset    int64
	reserved2 uint64
	flags     uint32
	resfd     uint32
}

func decodeIocb(b []byte) iocb {
	le := binary.LittleEndian
	return iocb{
		data: le.Uint64(b[0:]), rwFlags: le.Uint32(b[12:]),
		opcode: le.Uint16(b[16:]), reqprio: int16(le.Uint16(b[18:])), fd: le.Uint32(b[20:]),
		buf: le.Uint64(b[24:]), nbytes: le.Uint64(b[32:]), offset: int64(le.Uint64(b[40:])),
		reserved2: le.Uint64(b[48:]), flags: le.Uint32(b[56:]), resfd: le.Uint32(b[60:]),
	}
}

// IoSetup implements io_setup(2).
func IoSetup(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	nr, ctxp := uint32(args[0]), args[1]
	var b [8]byte
	if err := copyIn(t, ctxp, b[:]); err != nil {
		return 0, err
	}
	if binary.LittleEndian.Uint64(b[:]) != 0 || nr == 0 {
		return 0, unix.EINVAL
	}
	c, err := aio.Setup(t, nr)
	if err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint64(b[:], c.ID())
	if err := copyOut(t, ctxp, b[:]); err != nil {
		c.Destroy(t)
		return 0, err
	}
	return 0, nil
}

// IoDestroy implements io_destroy(2).
func IoDestroy(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	c := aio.Lookup(t, args[0])
	if c == nil {
		return 0, unix.EINVAL
	}
	return 0, c.Destroy(t)
}

// IoSubmit implements io_submit(2): it returns how many iocbs were
// queued, or the error of the first if none was.
func IoSubmit(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	ctxID, nr, iocbpp := args[0], int64(args[1]), args[2]
	if nr < 0 {
		return 0, unix.EINVAL
	}
	c := aio.Lookup(t, ctxID)
	if c == nil {
		return 0, unix.EINVAL
	}
	nr = min(nr, int64(c.Capacity()))
	var i int64
	var err error
	for ; i < nr; i++ {
		var p [8]byte
		if err = copyIn(t, iocbpp+uint64(i)*8, p[:]); err != nil {
			break
		}
		if err = submitOne(t, c, binary.LittleEndian.Uint64(p[:])); err != nil {
			break
		}
	}
	if i > 0 {
		return uint64(i), nil
	}
	return 0, err
}

// submitOne checks one iocb in Linux's order and runs it (or, for a
// poll, starts it).
func submitOne(t *kernel.Task, c *aio.Context, addr uint64) error {
	var b [iocbSize]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return err
	}
	cb := decodeIocb(b[:])
	if cb.reserved2 != 0 || int64(cb.nbytes) < 0 {
		return unix.EINVAL
	}
	if err := c.Begin(); err != nil {
		return err
	}
	ev := aio.Event{Data: cb.data, Obj: addr}
	f, efd, err := prepIocb(t, cb, addr)
	if err != nil {
		c.Abort()
		return err
	}
	if cb.opcode == iocbCmdPoll {
		c.Poll(f, ev, uint32(cb.buf)|unix.EPOLLERR|unix.EPOLLHUP, efd)
		return nil
	}
	defer f.DecRef(t.Context())
	ev.Res, err = runIocb(t, f, cb)
	if err != nil {
		c.Abort()
		if efd != nil {
			efd.DecRef(t.Context())
		}
		return err
	}
	c.Complete(ev, efd)
	return nil
}

// prepIocb takes the references an iocb needs (its file, its eventfd),
// writes aio_key, and checks the fields of its opcode that make io_submit
// fail.
func prepIocb(t *kernel.Task, cb iocb, addr uint64) (*vfs.FileDescription, *vfs.FileDescription, error) {
	f, err := getOpenFile(t, int32(cb.fd))
	if err != nil {
		return nil, nil, err
	}
	var efd *vfs.FileDescription
	if err := checkIocb(t, cb, addr, f, &efd); err != nil {
		f.DecRef(t.Context())
		if efd != nil {
			efd.DecRef(t.Context())
		}
		return nil, nil, err
	}
	return f, efd, nil
}

// checkIocb is prepIocb once the file is known; it sets *efd to the
// eventfd it takes a reference on.
func checkIocb(t *kernel.Task, cb iocb, addr uint64, f *vfs.FileDescription, efd **vfs.FileDescription) error {
	if cb.flags&iocbFlagResfd != 0 {
		e, err := getOpenFile(t, int32(cb.resfd))
		if err != nil {
			return err
		}
		*efd = e
		if _, ok := e.Impl().(*eventfd.EventFD); !ok {
			return unix.EINVAL
		}
	}
	var zero [4]byte
	if err := copyOut(t, addr+iocbKeyOff, zero[:]); err != nil {
		return err
	}
	switch cb.opcode {
	case iocbCmdPread, iocbCmdPwrite, iocbCmdPreadv, iocbCmdPwritev:
		return prepRW(t, f, cb)
	case iocbCmdFsync, iocbCmdFdsync:
		if cb.buf != 0 || cb.offset != 0 || cb.nbytes != 0 || cb.rwFlags != 0 {
			return unix.EINVAL
		}
		st, err := f.Stat(t.Context())
		if err != nil {
			return err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG, unix.S_IFDIR:
			return nil
		}
		return unix.EINVAL // no fsync operation
	case iocbCmdPoll:
		if uint64(uint16(cb.buf)) != cb.buf || cb.offset != 0 || cb.nbytes != 0 || cb.rwFlags != 0 {
			return unix.EINVAL
		}
		return nil
	}
	return unix.EINVAL
}

// prepRW is Linux's aio_prep_rw and the checks of aio_read/aio_write
// before the transfer.
func prepRW(t *kernel.Task, f *vfs.FileDescription, cb iocb) error {
	if cb.flags&iocbFlagIoprio != 0 {
		if err := checkIoprio(t, cb.reqprio); err != nil {
			return err
		}
	}
	if fl := cb.rwFlags; fl != 0 {
		if fl&^(rwfSupported|rwfAtomic|rwfDontcache) != 0 || fl&(rwfAtomic|rwfDontcache) != 0 {
			return unix.EOPNOTSUPP
		}
		if fl&rwfAPPEND != 0 && fl&rwfNOAPPEND != 0 {
			return unix.EINVAL
		}
		if fl&rwfNOAPPEND != 0 && f.StatusFlags()&unix.O_APPEND != 0 {
			return unix.EOPNOTSUPP // cannot be undone here (see pwritev2)
		}
	}
	write := cb.opcode == iocbCmdPwrite || cb.opcode == iocbCmdPwritev
	if (write && !f.IsWritable()) || (!write && !f.IsReadable()) {
		return unix.EBADF
	}
	if st, err := f.Stat(t.Context()); err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.EINVAL // no read_iter or write_iter
	}
	iovs, err := iocbIovecs(t, cb)
	if err != nil {
		return err
	}
	if cb.offset < 0 || cb.offset+int64(min(iovecsLen(iovs), maxRW)) < cb.offset {
		return unix.EINVAL
	}
	return nil
}

// checkIoprio is Linux's ioprio_check_cap for IOCB_FLAG_IOPRIO.
func checkIoprio(t *kernel.Task, prio int16) error {
	class, level := uint16(prio)>>13&7, uint16(prio)&7
	switch class {
	case 1: // IOPRIO_CLASS_RT
		if !t.Credentials().HasCap(unix.CAP_SYS_NICE) && !t.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
			return unix.EPERM
		}
	case 2, 3: // BE, IDLE
	case 0: // NONE
		if level != 0 {
			return unix.EINVAL
		}
	default:
		return unix.EINVAL
	}
	return nil
}

// iocbIovecs returns the buffers of a read or write iocb: EFAULT for
// ones outside the user address range, EINVAL or EFAULT for a bad iovec
// array.
func iocbIovecs(t *kernel.Task, cb iocb) ([]iovec, error) {
	var iovs []iovec
	if cb.opcode == iocbCmdPreadv || cb.opcode == iocbCmdPwritev {
		if cb.nbytes > uioMaxIOV {
			return nil, unix.EINVAL
		}
		var err error
		if iovs, err = copyInIovecs(t, cb.buf, int32(cb.nbytes)); err != nil {
			return nil, err
		}
	} else {
		iovs = []iovec{{cb.buf, cb.nbytes}}
	}
	for _, iov := range iovs {
		n := min(iov.len, maxRW)
		if iov.base > userPtrMax || n > userPtrMax-iov.base {
			return nil, unix.EFAULT
		}
	}
	return iovs, nil
}

// runIocb performs a checked read, write or sync and returns the event's
// result: a count or a negated errno. An error is a submission failure.
func runIocb(t *kernel.Task, f *vfs.FileDescription, cb iocb) (int64, error) {
	if cb.opcode == iocbCmdFsync || cb.opcode == iocbCmdFdsync {
		return 0, nil // as fsync(2) here: nothing to flush
	}
	iovs, err := iocbIovecs(t, cb)
	if err != nil {
		return 0, err
	}
	dir := transferRead
	if cb.opcode == iocbCmdPwrite || cb.opcode == iocbCmdPwritev {
		dir = transferWrite
	}
	off := cb.offset
	stream := f.Impl().Stream()
	if stream {
		off = -1 // pipes and sockets have no position
		if cb.rwFlags&rwfNOWAIT != 0 {
			mask := uint32(unix.EPOLLIN)
			if dir == transferWrite {
				mask = unix.EPOLLOUT
			}
			if f.Readiness(mask|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
				return -int64(unix.EAGAIN), nil
			}
		}
	} else if dir == transferWrite && cb.rwFlags&rwfAPPEND != 0 && f.StatusFlags()&unix.O_APPEND == 0 {
		st, err := f.Stat(t.Context())
		if err != nil {
			return errnoResult(err), nil
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			off = int64(st.Size)
		}
	}
	n, err := transferIovecs(t, f, iovs, off, dir)
	if err != nil {
		return errnoResult(err), nil
	}
	return int64(n), nil
}

// errnoResult is an event's result for a failed transfer; an interrupted
// one is EINTR (Linux's aio_rw_done turns ERESTARTSYS into EINTR).
func errnoResult(err error) int64 {
	var e unix.Errno
	if errors.As(err, &e) {
		if e >= 512 && e <= 516 { // ERESTARTSYS ... ERESTART_RESTARTBLOCK
			e = unix.EINTR
		}
		return -int64(e)
	}
	if errors.Is(err, vfs.ErrInterrupted) {
		return -int64(unix.EINTR)
	}
	return -int64(unix.EIO)
}

// IoCancel implements io_cancel(2).
func IoCancel(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	ctxID, iocbAddr := args[0], args[1]
	var key [4]byte
	if err := copyIn(t, iocbAddr+iocbKeyOff, key[:]); err != nil {
		return 0, err
	}
	if binary.LittleEndian.Uint32(key[:]) != 0 {
		return 0, unix.EINVAL
	}
	c := aio.Lookup(t, ctxID)
	if c == nil {
		return 0, unix.EINVAL
	}
	return 0, c.Cancel(iocbAddr)
}

// aioTimeout reads io_getevents' timeout as Linux does: not validated; a
// negative or huge tv_sec waits forever, a total of zero or less does not
// wait.
func aioTimeout(t *kernel.Task, addr uint64) (bool, time.Time, error) {
	if addr == 0 {
		return true, time.Time{}, nil
	}
	var b [16]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return false, time.Time{}, err
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
	const ktimeSecMax = 9223372036 // KTIME_SEC_MAX
	if uint64(sec) >= ktimeSecMax {
		return true, time.Time{}, nil
	}
	d := sec*int64(time.Second) + nsec
	if nsec > 0 && d < 0 {
		return true, time.Time{}, nil // overflow: as good as forever
	}
	if d <= 0 {
		return false, time.Time{}, nil
	}
	return true, time.Now().Add(time.Duration(d)), nil
}

func getEvents(t *kernel.Task, ctxID uint64, minNR, nr int64, events uint64, block bool, deadline time.Time) (uint64, error) {
	c := aio.Lookup(t, ctxID)
	if c == nil {
		return 0, unix.EINVAL
	}
	if minNR < 0 || minNR > nr {
		return 0, unix.EINVAL
	}
	n, err := c.GetEvents(t, minNR, nr, events, block, deadline)
	return uint64(n), err
}

// IoGetevents implements io_getevents(2).
func IoGetevents(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	ctxID, minNR, nr, events, timeout := args[0], int64(args[1]), int64(args[2]), args[3], args[4]
	block, deadline, err := aioTimeout(t, timeout)
	if err != nil {
		return 0, err
	}
	return getEvents(t, ctxID, minNR, nr, events, block, deadline)
}

// IoPgetevents implements io_pgetevents: io_getevents with a signal mask
// in force while it waits (struct __aio_sigset {sigmask, sigsetsize}).
func IoPgetevents(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	ctxID, minNR, nr, events, timeout, usig := args[0], int64(args[1]), int64(args[2]), args[3], args[4], args[5]
	block, deadline, err := aioTimeout(t, timeout)
	if err != nil {
		return 0, err
	}
	var maskAddr, maskSize uint64
	if usig != 0 {
		var b [16]byte
		if err := copyIn(t, usig, b[:]); err != nil {
			return 0, err
		}
		maskAddr, maskSize = binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])
	}
	return withSigmask(t, maskAddr, maskSize, func() (uint64, error) {
		return getEvents(t, ctxID, minNR, nr, events, block, deadline)
	})
}
