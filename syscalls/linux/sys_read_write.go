package linux

import (
	"encoding/binary"
	"sync"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/eventfd"
	"github.com/palisade-sandbox/palisade/sentry/kernel/unixsocket"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_READ, Read)
	full(unix.SYS_WRITE, Write)
	full(unix.SYS_PREAD64, Pread64)
	full(unix.SYS_PWRITE64, Pwrite64)
	full(unix.SYS_READV, Readv)
	full(unix.SYS_WRITEV, Writev)
	full(unix.SYS_PREADV, Preadv)
	full(unix.SYS_PWRITEV, Pwritev)
	full(unix.SYS_CLOSE, Close)
	full(unix.SYS_LSEEK, Lseek)
}

// readInto reads up to size bytes from f (at off, or the file position
// when off < 0) into guest memory at addr, in bounded chunks. It stops
// after a short read.
func readInto(t *kernel.Task, f *vfs.FileDescription, addr, size uint64, off int64) (uint64, error) {
	size = min(size, maxRW)
	if is := inet.FromImpl(f.Impl()); is != nil && off < 0 {
		if size == 0 {
			// As Linux's sock_read_iter: read(2) of nothing
			// returns at once (recv(2) of 0 bytes still goes to the
			// protocol, and may take a datagram).
			return 0, nil
		}
		// recv(2) with no flags: a fault leaves the data queued.
		r, err := inetRecv(t, f, is, []iovec{{addr, size}}, 0)
		return r.n, err
	}
	buf := getIOBuffer(min(size, ioChunk))
	defer putIOBuffer(buf)
	var done uint64
	for done < size {
		if done > 0 && t.Killed() {
			// Nobody will see the rest (a 2 GiB read of /dev/zero is
			// ~1 s of copying).
			return done, nil
		}
		chunk := buf[:min(uint64(len(buf)), size-done)]
		var n int
		var err error
		if off < 0 {
			n, err = f.Read(t.Context(), chunk)
		} else {
			n, err = f.PRead(t.Context(), chunk, off+int64(done))
		}
		if n > 0 {
			if _, cerr := t.CopyOut(addr+done, chunk[:n]); cerr != nil {
				if done == 0 {
					return 0, unix.EFAULT
				}
				return done, nil
			}
			done += uint64(n)
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if n < len(chunk) {
			break
		}
	}
	return done, nil
}

// fileSizeLimit applies RLIMIT_FSIZE to a write of size bytes to a
// regular file at off (the file position when off < 0): it returns how
// much may be written, or EFBIG after raising SIGXFSZ.
func fileSizeLimit(t *kernel.Task, f *vfs.FileDescription, size uint64, off int64) (uint64, error) {
	lim := t.ThreadGroup().Limit(unix.RLIMIT_FSIZE).Cur
	if lim == unix.RLIM_INFINITY || size == 0 {
		return size, nil
	}
	st, err := f.Stat(t.Context())
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return size, nil
	}
	pos := off
	if pos < 0 {
		if f.StatusFlags()&unix.O_APPEND != 0 {
			pos = int64(st.Size)
		} else if pos, err = f.Seek(t.Context(), 0, unix.SEEK_CUR); err != nil {
			return size, nil
		}
	}
	if uint64(pos) >= lim {
		t.SendSignal(&abi.SignalInfo{Signo: int32(unix.SIGXFSZ), Code: abi.SI_USER}, false)
		return 0, unix.EFBIG
	}
	return min(size, lim-uint64(pos)), nil
}

// writeFrom writes size bytes of guest memory at addr to f.
func writeFrom(t *kernel.Task, f *vfs.FileDescription, addr, size uint64, off int64) (uint64, error) {
	if size == 0 {
		return writeNothing(t, f, off)
	}
	size = min(size, maxRW)
	size, err := fileSizeLimit(t, f, size, off)
	if err != nil {
		return 0, err
	}
	// Files that can take the bytes straight from guest memory (tmpfs)
	// get one copy instead of two. The guest's pages are pinned first:
	// the file reads them holding its data lock, which must not be held
	// while faulting guest memory in.
	if f.CanWriteFrom() {
		pinned, got, perr := t.PinIn(addr, int(size))
		defer pinned.Release()
		if got == 0 && perr != nil {
			return 0, unix.EFAULT
		}
		n, err, ok := f.WriteFrom(t.Context(), got, vfs.ViewsSource(pinned.Views), off)
		if ok {
			if n > 0 {
				return uint64(n), nil
			}
			return 0, err
		}
	}
	buf := getIOBuffer(min(size, ioChunk))
	defer putIOBuffer(buf)
	var done uint64
	for done < size {
		chunk := buf[:min(uint64(len(buf)), size-done)]
		if _, err := t.CopyIn(addr+done, chunk); err != nil {
			if done == 0 {
				return 0, unix.EFAULT
			}
			return done, nil
		}
		var n int
		var err error
		if off < 0 {
			n, err = f.Write(t.Context(), chunk)
		} else {
			n, err = f.PWrite(t.Context(), chunk, off+int64(done))
		}
		done += uint64(n)
		if err != nil {
			if err == unix.EPIPE && raisesSIGPIPE(f) {
				t.SendSignal(&abi.SignalInfo{Signo: int32(unix.SIGPIPE), Code: abi.SI_USER}, false)
			}
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if n < len(chunk) {
			break
		}
	}
	return done, nil
}

// writeNothing is a write of zero bytes. As Linux's vfs_write, it is
// checked as any write and passed on to the files for which it means
// something: a datagram or seqpacket socket sends an empty datagram (a
// stream socket checks its connection), an eventfd refuses it (EINVAL).
// Other files do nothing with it and are not called.
func writeNothing(t *kernel.Task, f *vfs.FileDescription, off int64) (uint64, error) {
	if !f.IsWritable() {
		return 0, unix.EBADF
	}
	if off >= 0 {
		if f.Impl().Stream() {
			return 0, unix.ESPIPE
		}
		return 0, nil
	}
	if is := inet.FromImpl(f.Impl()); is != nil {
		return inetSend(t, f, is, nil, nil, 0, nil)
	}
	switch f.Impl().(type) {
	case *unixsocket.Socket, *eventfd.EventFD:
		if _, err := f.Write(t.Context(), nil); err != nil {
			if err == unix.EPIPE && raisesSIGPIPE(f) {
				t.SendSignal(&abi.SignalInfo{Signo: int32(unix.SIGPIPE), Code: abi.SI_USER}, false)
			}
			return 0, err
		}
	}
	return 0, nil
}

// Read implements read(2).
func Read(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, count := fdArg(args[0]), args[1], args[2]
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if int64(count) < 0 {
		return 0, unix.EINVAL
	}
	return readInto(t, f, addr, count, -1)
}

// Write implements write(2).
func Write(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, count := fdArg(args[0]), args[1], args[2]
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if int64(count) < 0 {
		return 0, unix.EINVAL
	}
	return writeFrom(t, f, addr, count, -1)
}

// Pread64 implements pread64(2).
func Pread64(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, count, off := fdArg(args[0]), args[1], args[2], int64(args[3])
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if off < 0 || int64(count) < 0 {
		return 0, unix.EINVAL
	}
	return readInto(t, f, addr, count, off)
}

// Pwrite64 implements pwrite64(2).
func Pwrite64(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, count, off := fdArg(args[0]), args[1], args[2], int64(args[3])
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if off < 0 || int64(count) < 0 {
		return 0, unix.EINVAL
	}
	return writeFrom(t, f, addr, count, off)
}

// iovec is struct iovec.
type iovec struct{ base, len uint64 }

// copyInIovecs reads an iovec array: EINVAL for a bad count or a total
// that overflows ssize_t, EFAULT for a bad array.
func copyInIovecs(t *kernel.Task, addr uint64, count int32) ([]iovec, error) {
	if count < 0 || count > uioMaxIOV {
		return nil, unix.EINVAL
	}
	b := make([]byte, 16*int(count))
	if err := copyIn(t, addr, b); err != nil {
		return nil, err
	}
	out := make([]iovec, count)
	var total uint64
	for i := range out {
		out[i] = iovec{binary.LittleEndian.Uint64(b[16*i:]), binary.LittleEndian.Uint64(b[16*i+8:])}
		if int64(out[i].len) < 0 {
			return nil, unix.EINVAL
		}
		total += out[i].len
		if int64(total) < 0 {
			return nil, unix.EINVAL
		}
	}
	return out, nil
}

// vectorIO runs one transfer per iovec, stopping at the first short one.
// off is -1 for the file's offset.
func vectorIO(t *kernel.Task, fd int32, iovAddr uint64, iovCnt int32, off int64, dir transfer) (uint64, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	iovs, err := copyInIovecs(t, iovAddr, iovCnt)
	if err != nil {
		return 0, err
	}
	return transferIovecs(t, f, iovs, off, dir)
}

// transferIovecs is vectorIO once the file and iovecs are known.
func transferIovecs(t *kernel.Task, f *vfs.FileDescription, iovs []iovec, off int64, dir transfer) (uint64, error) {
	var err error
	if is := inet.FromImpl(f.Impl()); is != nil && off < 0 {
		// One datagram gathers or scatters all the iovecs.
		if dir == transferWrite {
			return inetSend(t, f, is, iovs, nil, 0, nil)
		}
		if iovecsLen(iovs) == 0 {
			return 0, nil // as read(2) of nothing
		}
		r, err := inetRecv(t, f, is, iovs, 0)
		return r.n, err
	}
	// As Linux's import_iovec: the lengths are cut so that the whole
	// transfer is at most MAX_RW_COUNT.
	budget := uint64(maxRW)
	var done uint64
	for _, iov := range iovs {
		iov.len = min(iov.len, budget)
		budget -= iov.len
		if iov.len == 0 {
			continue
		}
		if done > 0 && t.Killed() {
			break
		}
		pos := int64(-1)
		if off >= 0 {
			pos = off + int64(done)
		}
		var n uint64
		if dir == transferWrite {
			n, err = writeFrom(t, f, iov.base, iov.len, pos)
		} else {
			n, err = readInto(t, f, iov.base, iov.len, pos)
		}
		done += n
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if n < iov.len {
			break
		}
	}
	return done, nil
}

// Readv implements readv(2).
func Readv(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, iovAddr, iovCnt := fdArg(args[0]), args[1], intArg(args[2])
	return vectorIO(t, fd, iovAddr, iovCnt, -1, transferRead)
}

// Writev implements writev(2).
func Writev(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, iovAddr, iovCnt := fdArg(args[0]), args[1], intArg(args[2])
	return vectorIO(t, fd, iovAddr, iovCnt, -1, transferWrite)
}

// Preadv implements preadv(2).
func Preadv(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, iovAddr, iovCnt, off := fdArg(args[0]), args[1], intArg(args[2]), int64(args[3])
	if off < 0 {
		return 0, unix.EINVAL
	}
	return vectorIO(t, fd, iovAddr, iovCnt, off, transferRead)
}

// Pwritev implements pwritev(2).
func Pwritev(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, iovAddr, iovCnt, off := fdArg(args[0]), args[1], intArg(args[2]), int64(args[3])
	if off < 0 {
		return 0, unix.EINVAL
	}
	return vectorIO(t, fd, iovAddr, iovCnt, off, transferWrite)
}

// Close implements close(2).
func Close(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd := fdArg(args[0])
	f := t.FDTable().Remove(fd)
	if f == nil {
		return 0, unix.EBADF
	}
	releasePOSIXLocks(t, f)
	f.DecRef(t.Context())
	return 0, nil
}

// Lseek implements lseek(2).
func Lseek(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, offset, whence := fdArg(args[0]), int64(args[1]), intArg(args[2])
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if whence < unix.SEEK_SET || whence > unix.SEEK_HOLE {
		return 0, unix.EINVAL
	}
	off, err := f.Seek(t.Context(), offset, whence)
	return uint64(off), err
}

// raisesSIGPIPE reports whether EPIPE from writing f raises SIGPIPE: yes
// for pipes and stream sockets, no for files that say otherwise (datagram
// and seqpacket sockets).
func raisesSIGPIPE(f *vfs.FileDescription) bool {
	if r, ok := f.Impl().(interface{ RaisesSIGPIPE() bool }); ok {
		return r.RaisesSIGPIPE()
	}
	return true
}

// ioBuffers recycles transfer buffers: a fresh 1 MiB buffer per read or
// write would be allocated and zeroed every call.
var ioBuffers = sync.Pool{New: func() any { b := make([]byte, ioChunk); return &b }}

// getIOBuffer returns a buffer of n bytes (n <= ioChunk).
func getIOBuffer(n uint64) []byte {
	if n < 4096 {
		return make([]byte, n)
	}
	return (*ioBuffers.Get().(*[]byte))[:n]
}

// putIOBuffer recycles a buffer from getIOBuffer.
func putIOBuffer(b []byte) {
	if cap(b) == ioChunk {
		b = b[:ioChunk]
		ioBuffers.Put(&b)
	}
}

// iovecsLen is the total length of iovs (saturating).
func iovecsLen(iovs []iovec) uint64 {
	var n uint64
	for _, v := range iovs {
		if n += v.len; n < v.len {
			return ^uint64(0)
		}
	}
	return n
}
