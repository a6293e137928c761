package linux

import (
	"context"
	"encoding/binary"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/pipe"
	"golang.org/x/sys/unix"
)

// The data-moving calls: sendfile, splice, tee, vmsplice and
// copy_file_range. None is zero-copy: data goes through a bounded Sentry
// buffer, and what was taken from a source but could not be delivered is
// handed back (pipe.Unread) or un-read (the input offset moves back), so a
// short or failed write loses nothing.

func init() {
	full(unix.SYS_SENDFILE, Sendfile)
	partial(unix.SYS_SPLICE, "data is copied (SPLICE_F_MOVE, SPLICE_F_GIFT are hints); SPLICE_F_NONBLOCK makes only the pipe side non-blocking", Splice)
	full(unix.SYS_TEE, Tee)
	full(unix.SYS_VMSPLICE, Vmsplice)
	full(unix.SYS_COPY_FILE_RANGE, CopyFileRange)
}

// spliceFlags are the flags splice, tee and vmsplice accept (Linux:
// SPLICE_F_ALL).
const spliceFlags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK | unix.SPLICE_F_MORE | unix.SPLICE_F_GIFT

// copyInOffset reads a loff_t argument.
func copyInOffset(t *kernel.Task, addr uint64) (int64, error) {
	var b [8]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(b[:])), nil
}

// copyOutOffset writes a loff_t argument back.
func copyOutOffset(t *kernel.Task, addr uint64, off int64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(off))
	return copyOut(t, addr, b[:])
}

// offsetArg reads an optional offset argument of f: nil for a NULL
// pointer (the file position is used), ESPIPE if f has no offsets,
// EFAULT, or EINVAL if negative.
func offsetArg(t *kernel.Task, f *vfs.FileDescription, addr uint64) (*int64, error) {
	if addr == 0 {
		return nil, nil
	}
	if f.Impl().Stream() {
		return nil, unix.ESPIPE
	}
	off, err := copyInOffset(t, addr)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, unix.EINVAL
	}
	return &off, nil
}

// readAtOrPos reads from f at *off (advancing it) or, if off is nil, at
// and advancing the file position.
func readAtOrPos(ctx context.Context, f *vfs.FileDescription, dst []byte, off *int64) (int, error) {
	if off == nil {
		return f.Read(ctx, dst)
	}
	n, err := f.PRead(ctx, dst, *off)
	*off += int64(n)
	return n, err
}

// writeAtOrPos is readAtOrPos for writes.
func writeAtOrPos(ctx context.Context, f *vfs.FileDescription, src []byte, off *int64) (int, error) {
	if off == nil {
		return f.Write(ctx, src)
	}
	n, err := f.PWrite(ctx, src, *off)
	*off += int64(n)
	return n, err
}

// unread moves f's input offset back by n bytes that were read but not
// delivered. Bytes read from a stream cannot be given back; the callers
// bound their reads so that this happens only when racing with other
// writers of the same pipe.
func unread(ctx context.Context, f *vfs.FileDescription, off *int64, n int) {
	switch {
	case n == 0:
	case off != nil:
		*off -= int64(n)
	case !f.Impl().Stream():
		f.Seek(ctx, -int64(n), unix.SEEK_CUR)
	}
}

// sigpipeOnEPIPE raises SIGPIPE for an EPIPE from writing to out.
func sigpipeOnEPIPE(t *kernel.Task, out *vfs.FileDescription, err error) {
	if err == unix.EPIPE && (out == nil || raisesSIGPIPE(out)) {
		t.SendSignal(&abi.SignalInfo{Signo: int32(unix.SIGPIPE), Code: abi.SI_USER}, false)
	}
}

// getFilePair returns the open files of inFD and outFD, with a reference
// each.
func getFilePair(t *kernel.Task, inFD, outFD int32) (in, out *vfs.FileDescription, err error) {
	if in, err = getOpenFile(t, inFD); err != nil {
		return nil, nil, err
	}
	if out, err = getOpenFile(t, outFD); err != nil {
		in.DecRef(t.Context())
		return nil, nil, err
	}
	return in, out, nil
}

// fileToFile copies up to count bytes from in to out (neither a pipe),
// through a bounded buffer, stopping at end of input, a short read or a
// short write.
func fileToFile(t *kernel.Task, in *vfs.FileDescription, inOff *int64, out *vfs.FileDescription, outOff *int64, count uint64) (uint64, error) {
	ctx := t.Context()
	return copyToFile(t, out, outOff, count,
		func(chunk []byte) (int, error) { return readAtOrPos(ctx, in, chunk, inOff) },
		func(rest []byte) { unread(ctx, in, inOff, len(rest)) })
}

// copyToFile writes up to count bytes that read supplies to out (at
// *outOff, or its position), through a bounded buffer. It stops at end of
// input, a short read, a short write (giving back to the source, with
// unread, what out did not take) or, once something was copied, a pending
// signal, as Linux does.
func copyToFile(t *kernel.Task, out *vfs.FileDescription, outOff *int64, count uint64, read func(chunk []byte) (int, error), unread func(rest []byte)) (uint64, error) {
	pos := int64(-1)
	if outOff != nil {
		pos = *outOff
	}
	count, err := fileSizeLimit(t, out, count, pos)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	buf := make([]byte, min(count, ioChunk))
	var done uint64
	for done < count {
		if done > 0 && t.SignalPending() {
			return done, nil
		}
		chunk := buf[:min(uint64(len(buf)), count-done)]
		n, rerr := read(chunk)
		if n == 0 {
			if done > 0 {
				return done, nil
			}
			return 0, rerr
		}
		w, werr := writeAtOrPos(ctx, out, chunk[:n], outOff)
		done += uint64(w)
		if w < n {
			unread(chunk[w:n])
			if done > 0 || werr == nil {
				return done, nil
			}
			sigpipeOnEPIPE(t, out, werr)
			return 0, werr
		}
		if rerr != nil || n < len(chunk) {
			break
		}
	}
	return done, nil
}

// fileToPipe moves up to count bytes from in into p: it waits (unless
// nonblock) for room in p, then reads at most what fits and writes it.
func fileToPipe(t *kernel.Task, in *vfs.FileDescription, inOff *int64, p *pipe.Pipe, count uint64, nonblock bool) (uint64, error) {
	ctx := t.Context()
	free, err := p.WaitWritable(ctx, nonblock)
	if err != nil {
		sigpipeOnEPIPE(t, nil, err)
		return 0, err
	}
	buf := make([]byte, min(count, uint64(free)))
	n, err := readAtOrPos(ctx, in, buf, inOff)
	if n == 0 {
		return 0, err
	}
	w, werr := p.Write(ctx, buf[:n], nonblock)
	unread(ctx, in, inOff, n-w)
	if w == 0 {
		sigpipeOnEPIPE(t, nil, werr)
		return 0, werr
	}
	return uint64(w), nil
}

// pipeToFile moves up to count bytes from p to out: it waits (unless
// nonblock) for data, then writes what p holds without waiting again.
// Bytes out does not take go back to the front of p.
func pipeToFile(t *kernel.Task, p *pipe.Pipe, out *vfs.FileDescription, outOff *int64, count uint64, nonblock bool) (uint64, error) {
	ctx := t.Context()
	waited := false
	return copyToFile(t, out, outOff, count,
		func(chunk []byte) (int, error) {
			n, err := p.Read(ctx, chunk, nonblock || waited)
			waited = true
			// Take what else p holds without waiting: a short read
			// then means p is empty.
			for err == nil && n > 0 && n < len(chunk) {
				m, _ := p.Read(ctx, chunk[n:], true)
				if m == 0 {
					break
				}
				n += m
			}
			return n, err
		},
		func(rest []byte) { p.Unread(rest) })
}

// Sendfile implements sendfile(2).
func Sendfile(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	outFD, inFD, offAddr, count := fdArg(args[0]), fdArg(args[1]), args[2], args[3]
	in, err := getOpenFile(t, inFD)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer in.DecRef(ctx)
	if !in.IsReadable() {
		return 0, unix.EBADF
	}
	off, err := offsetArg(t, in, offAddr)
	if err != nil {
		return 0, err
	}
	out, err := getOpenFile(t, outFD)
	if err != nil {
		return 0, err
	}
	defer out.DecRef(ctx)
	if !out.IsWritable() {
		return 0, unix.EBADF
	}
	if int64(count) < 0 {
		return 0, unix.EINVAL
	}
	if pipe.FromImpl(in.Impl()) != nil {
		// Pipes cannot be read by splice_read.
		return 0, unix.EINVAL
	}
	count = min(count, maxRW)
	var n uint64
	if op := pipe.FromImpl(out.Impl()); op != nil {
		nonblock := (in.StatusFlags()|out.StatusFlags())&unix.O_NONBLOCK != 0
		n, err = fileToPipe(t, in, off, op, count, nonblock)
	} else {
		if out.StatusFlags()&unix.O_APPEND != 0 {
			return 0, unix.EINVAL
		}
		n, err = fileToFile(t, in, off, out, nil, count)
	}
	if off != nil {
		if cerr := copyOutOffset(t, offAddr, *off); cerr != nil {
			return 0, cerr
		}
	}
	return n, err
}

// Splice implements splice(2).
func Splice(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	inFD, inOffAddr, outFD, outOffAddr, count, flags := fdArg(args[0]), args[1], fdArg(args[2]), args[3], args[4], uint32(args[5])
	if count == 0 {
		return 0, nil
	}
	if flags&^spliceFlags != 0 {
		return 0, unix.EINVAL
	}
	ctx := t.Context()
	in, out, err := getFilePair(t, inFD, outFD)
	if err != nil {
		return 0, err
	}
	defer in.DecRef(ctx)
	defer out.DecRef(ctx)
	ip, op := pipe.FromImpl(in.Impl()), pipe.FromImpl(out.Impl())
	if (ip != nil && inOffAddr != 0) || (op != nil && outOffAddr != 0) {
		return 0, unix.ESPIPE
	}
	inOff, err := offsetArg(t, in, inOffAddr)
	if err != nil {
		return 0, err
	}
	outOff, err := offsetArg(t, out, outOffAddr)
	if err != nil {
		return 0, err
	}
	if !in.IsReadable() || !out.IsWritable() {
		return 0, unix.EBADF
	}
	count = min(count, maxRW)
	nonblock := flags&unix.SPLICE_F_NONBLOCK != 0
	var n uint64
	switch {
	case ip != nil && op != nil:
		if ip == op {
			return 0, unix.EINVAL
		}
		nonblock = nonblock || (in.StatusFlags()|out.StatusFlags())&unix.O_NONBLOCK != 0
		m, err := ip.MoveInto(ctx, op, int(count), nonblock)
		sigpipeOnEPIPE(t, nil, err)
		return uint64(m), err
	case ip != nil:
		if out.StatusFlags()&unix.O_APPEND != 0 {
			return 0, unix.EINVAL
		}
		nonblock = nonblock || in.StatusFlags()&unix.O_NONBLOCK != 0
		n, err = pipeToFile(t, ip, out, outOff, count, nonblock)
	case op != nil:
		nonblock = nonblock || out.StatusFlags()&unix.O_NONBLOCK != 0
		n, err = fileToPipe(t, in, inOff, op, count, nonblock)
	default:
		return 0, unix.EINVAL
	}
	if err != nil {
		return 0, err
	}
	if outOff != nil {
		if err := copyOutOffset(t, outOffAddr, *outOff); err != nil {
			return 0, err
		}
	}
	if inOff != nil {
		if err := copyOutOffset(t, inOffAddr, *inOff); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Tee implements tee(2).
func Tee(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	inFD, outFD, count, flags := fdArg(args[0]), fdArg(args[1]), args[2], uint32(args[3])
	if flags&^spliceFlags != 0 {
		return 0, unix.EINVAL
	}
	if count == 0 {
		return 0, nil
	}
	ctx := t.Context()
	in, out, err := getFilePair(t, inFD, outFD)
	if err != nil {
		return 0, err
	}
	defer in.DecRef(ctx)
	defer out.DecRef(ctx)
	if !in.IsReadable() || !out.IsWritable() {
		return 0, unix.EBADF
	}
	ip, op := pipe.FromImpl(in.Impl()), pipe.FromImpl(out.Impl())
	if ip == nil || op == nil || ip == op {
		return 0, unix.EINVAL
	}
	nonblock := flags&unix.SPLICE_F_NONBLOCK != 0 || (in.StatusFlags()|out.StatusFlags())&unix.O_NONBLOCK != 0
	n, err := ip.PeekInto(ctx, op, int(min(count, maxRW)), nonblock)
	sigpipeOnEPIPE(t, nil, err)
	return uint64(n), err
}

// Vmsplice implements vmsplice(2): a writable pipe end takes the iovecs'
// contents (as writev, but waiting for room only once), a read-only one
// fills them (as readv, but waiting for data only once).
func Vmsplice(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, iovAddr, nrSegs, flags := fdArg(args[0]), args[1], args[2], uint32(args[3])
	if flags&^spliceFlags != 0 {
		return 0, unix.EINVAL
	}
	ctx := t.Context()
	f, err := getOpenFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx)
	p := pipe.FromImpl(f.Impl())
	if p == nil {
		return 0, unix.EBADF
	}
	if nrSegs > uioMaxIOV {
		return 0, unix.EINVAL
	}
	iovs, err := copyInIovecs(t, iovAddr, int32(nrSegs))
	if err != nil {
		return 0, err
	}
	nonblock := flags&unix.SPLICE_F_NONBLOCK != 0 || f.StatusFlags()&unix.O_NONBLOCK != 0
	if f.IsWritable() {
		return vmspliceToPipe(t, p, iovs, nonblock)
	}
	if f.IsReadable() {
		return vmspliceFromPipe(t, p, iovs, nonblock)
	}
	return 0, unix.EBADF
}

// vmspliceToPipe gathers what fits in p from iovs and writes it.
func vmspliceToPipe(t *kernel.Task, p *pipe.Pipe, iovs []iovec, nonblock bool) (uint64, error) {
	var total uint64
	for _, iov := range iovs {
		total += iov.len
	}
	if total == 0 {
		return 0, nil
	}
	ctx := t.Context()
	free, err := p.WaitWritable(ctx, nonblock)
	if err != nil {
		sigpipeOnEPIPE(t, nil, err)
		return 0, err
	}
	buf := make([]byte, 0, min(total, uint64(free), maxRW))
	for _, iov := range iovs {
		n := min(iov.len, uint64(cap(buf)-len(buf)))
		if n == 0 {
			continue
		}
		start := len(buf)
		buf = buf[:start+int(n)]
		if _, err := t.CopyIn(iov.base, buf[start:]); err != nil {
			buf = buf[:start]
			if start == 0 {
				return 0, unix.EFAULT
			}
			break
		}
	}
	n, err := p.Write(ctx, buf, nonblock)
	if n == 0 {
		sigpipeOnEPIPE(t, nil, err)
		return 0, err
	}
	return uint64(n), nil
}

// vmspliceFromPipe reads p into iovs.
func vmspliceFromPipe(t *kernel.Task, p *pipe.Pipe, iovs []iovec, nonblock bool) (uint64, error) {
	ctx := t.Context()
	var done uint64
	for _, iov := range iovs {
		for got := uint64(0); got < iov.len; {
			buf := make([]byte, min(iov.len-got, ioChunk, maxRW-done))
			if len(buf) == 0 {
				return done, nil
			}
			n, err := p.Read(ctx, buf, nonblock || done > 0)
			if n == 0 {
				if done > 0 {
					return done, nil
				}
				return 0, err
			}
			if _, cerr := t.CopyOut(iov.base+got, buf[:n]); cerr != nil {
				p.Unread(buf[:n])
				if done > 0 {
					return done, nil
				}
				return 0, unix.EFAULT
			}
			got += uint64(n)
			done += uint64(n)
		}
	}
	return done, nil
}

// CopyFileRange implements copy_file_range(2). Every filesystem pair is
// served by a plain copy (no EXDEV, no reflinks).
func CopyFileRange(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	inFD, inOffAddr, outFD, outOffAddr, count, flags := fdArg(args[0]), args[1], fdArg(args[2]), args[3], args[4], uint32(args[5])
	ctx := t.Context()
	in, out, err := getFilePair(t, inFD, outFD)
	if err != nil {
		return 0, err
	}
	defer in.DecRef(ctx)
	defer out.DecRef(ctx)
	var inOff, outOff *int64
	if inOffAddr != 0 {
		v, err := copyInOffset(t, inOffAddr)
		if err != nil {
			return 0, err
		}
		inOff = &v
	}
	if outOffAddr != 0 {
		v, err := copyInOffset(t, outOffAddr)
		if err != nil {
			return 0, err
		}
		outOff = &v
	}
	if flags != 0 {
		return 0, unix.EINVAL
	}
	inSt, err := in.Stat(ctx)
	if err != nil {
		return 0, err
	}
	outSt, err := out.Stat(ctx)
	if err != nil {
		return 0, err
	}
	for _, m := range []uint16{inSt.Mode, outSt.Mode} {
		if m&unix.S_IFMT == unix.S_IFDIR {
			return 0, unix.EISDIR
		}
	}
	for _, m := range []uint16{inSt.Mode, outSt.Mode} {
		if m&unix.S_IFMT != unix.S_IFREG {
			return 0, unix.EINVAL
		}
	}
	if !in.IsReadable() || !out.IsWritable() || out.StatusFlags()&unix.O_APPEND != 0 {
		return 0, unix.EBADF
	}
	posIn, posOut := int64(0), int64(0)
	if inOff != nil {
		posIn = *inOff
	} else if posIn, err = in.Seek(ctx, 0, unix.SEEK_CUR); err != nil {
		return 0, err
	}
	if outOff != nil {
		posOut = *outOff
	} else if posOut, err = out.Seek(ctx, 0, unix.SEEK_CUR); err != nil {
		return 0, err
	}
	if posIn < 0 || posOut < 0 || int64(count) < 0 {
		return 0, unix.EINVAL
	}
	count = min(count, maxRW)
	// Copy only up to the end of the input, and refuse overlapping
	// ranges of one file.
	if uint64(posIn) >= inSt.Size {
		count = 0
	} else {
		count = min(count, inSt.Size-uint64(posIn))
	}
	sameFile := inSt.Ino == outSt.Ino && inSt.Dev_major == outSt.Dev_major && inSt.Dev_minor == outSt.Dev_minor
	if sameFile && posOut+int64(count) > posIn && posOut < posIn+int64(count) {
		return 0, unix.EINVAL
	}
	if count == 0 {
		return 0, nil
	}
	n, err := fileToFile(t, in, inOff, out, outOff, count)
	if n > 0 {
		if inOff != nil {
			if err := copyOutOffset(t, inOffAddr, *inOff); err != nil {
				return 0, err
			}
		}
		if outOff != nil {
			if err := copyOutOffset(t, outOffAddr, *outOff); err != nil {
				return 0, err
			}
		}
	}
	return n, err
}
