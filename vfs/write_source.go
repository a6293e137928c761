package vfs

import (
	"context"

	"golang.org/x/sys/unix"
)

// WriteSource presents bytes [done, done+n) of a write on demand: it calls
// fn with successive slices holding them, in order, and returns how many
// bytes it presented (fewer, with an error, at a bad guest address). The
// slices are valid only during fn (they may be views of guest memory that
// another thread can unmap once fn returns).
type WriteSource func(done, n int, fn func(b []byte)) (int, error)

// CopyTo copies bytes [done, done+len(dst)) of the write into dst.
func (src WriteSource) CopyTo(dst []byte, done int) (int, error) {
	at := 0
	return src(done, len(dst), func(b []byte) { at += copy(dst[at:], b) })
}

// SliceSource is the WriteSource of bytes already in the Sentry.
func SliceSource(p []byte) WriteSource {
	return func(done, n int, fn func(b []byte)) (int, error) {
		fn(p[done : done+n])
		return n, nil
	}
}

// ViewsSource is the WriteSource of the concatenation of views (pinned
// guest memory, say).
func ViewsSource(views [][]byte) WriteSource {
	return func(done, n int, fn func(b []byte)) (int, error) {
		given := 0
		for _, v := range views {
			if given == n {
				break
			}
			if done >= len(v) {
				done -= len(v)
				continue
			}
			b := v[done:min(len(v), done+n-given)]
			done = 0
			fn(b)
			given += len(b)
		}
		return given, nil
	}
}

// SourceWriter is implemented by FileDescriptionImpls that can pull a
// write's bytes straight into their storage, so the data is copied once
// (guest memory to file pages) instead of twice through a Sentry buffer.
// It behaves as Write with n bytes from src. src must not touch guest
// memory through the memory manager (pin it first): implementations call
// it holding their data locks, which page faults take after the memory
// manager's lock.
type SourceWriter interface {
	WriteFrom(ctx context.Context, fd *FileDescription, n int, src WriteSource, off int64) (int, int64, error)
}

// CanWriteFrom reports whether WriteFrom would take the write rather than
// leave it to Write.
func (fd *FileDescription) CanWriteFrom() bool {
	_, ok := fd.impl.(SourceWriter)
	return ok && !fd.impl.Stream()
}

// WriteFrom writes n bytes from src at off, or at the file position when
// off < 0, if the file supports writing from a source; ok is false (and
// nothing happened) if it does not, and the caller falls back to Write.
func (fd *FileDescription) WriteFrom(ctx context.Context, n int, src WriteSource, off int64) (written int, err error, ok bool) {
	if !fd.CanWriteFrom() {
		return 0, nil, false
	}
	sw := fd.impl.(SourceWriter)
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
