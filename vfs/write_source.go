package vfs

import (
	"context"

	"golang.org/x/sys/unix"
)

// WriteSource supplies a write's bytes on demand: it copies the bytes
// starting at byte done of the write into dst and returns how many it
// copied (fewer, with an error, at a bad guest address).
type WriteSource func(dst []byte, done int) (int, error)

// SourceWriter is implemented by FileDescriptionImpls that can pull a
// write's bytes straight into their storage, so the data is copied once
// (guest memory to file pages) instead of twice through a Sentry buffer.
// It behaves as Write with n bytes from src.
type SourceWriter interface {
	WriteFrom(ctx context.Context, fd *FileDescription, n int, src WriteSource, off int64) (int, int64, error)
}

// WriteFrom writes n bytes from src at off, or at the file position when
// off < 0, if the file supports writing from a source; ok is false (and
// nothing happened) if it does not, and the caller falls back to Write.
func (fd *FileDescription) WriteFrom(ctx context.Context, n int, src WriteSource, off int64) (written int, err error, ok bool) {
	sw, ok := fd.impl.(SourceWriter)
	if !ok || fd.impl.Stream() {
		return 0, nil, false
	}
	if !fd.writable {
		return 0, unix.EBADF, true
	}
	if off >= 0 {
		written, _, err = sw.WriteFrom(ctx, fd, n, src, off)
		fd.notifyIf(written > 0, unix.IN_MODIFY)
		return written, err, true
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	written, newOff, err := sw.WriteFrom(ctx, fd, n, src, fd.off)
	if written > 0 || err == nil {
		fd.off = newOff
	}
	fd.notifyIf(written > 0, unix.IN_MODIFY)
	return written, err, true
}
