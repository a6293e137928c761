package tmpfs

import (
	"context"
	"io"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
)

// regularFile is a regular file. Its data is a sparse set of pages of the
// memory file; missing pages read as zeros.
type regularFile struct {
	inode
	// dataMu protects size and pages. Lock order: dataMu, then fs.mu.
	dataMu sync.RWMutex
	// size is the file size. Protected by dataMu.
	size int64
	// pages maps a page index to the memory-file page holding it; the file
	// holds one reference on each. Protected by dataMu.
	pages map[int64]memory.Range
	// seals are the F_SEAL_* bits (memfd_create(2), fcntl(2)
	// F_ADD_SEALS). Files not made by memfd_create are born with
	// F_SEAL_SEAL, as Linux's shmem files. Protected by dataMu.
	seals uint32

	// mappersMu protects mappers. It is a leaf: address spaces take it
	// holding their own lock.
	mappersMu sync.Mutex
	// mappers are the address spaces that have mapped pages of the file
	// shared; they drop those mappings when pages leave the file.
	mappers map[memory.Mapper]struct{}
}

var (
	_ vfs.Inode               = (*regularFile)(nil)
	_ vfs.FileDescriptionImpl = (*regularFD)(nil)
	_ vfs.PageHolder          = (*regularFD)(nil)
)

// newRegularFile returns an empty file with one reference.
func (fs *filesystem) newRegularFile(opts *vfs.CreateOptions) *regularFile {
	f := &regularFile{pages: make(map[int64]memory.Range), seals: unix.F_SEAL_SEAL}
	fs.initInode(&f.inode, opts)
	f.release = f.freeData
	return f
}

// freeData releases the file's pages; it runs when the last reference
// goes.
func (f *regularFile) freeData() {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	f.fs.freePages(f.pages, 0)
	f.size = 0
}

// Stat implements vfs.Inode.Stat.
func (f *regularFile) Stat(ctx context.Context) (unix.Statx_t, error) {
	f.dataMu.RLock()
	defer f.dataMu.RUnlock()
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.statLocked(uint64(f.size), uint64(len(f.pages))*pageSize/512), nil
}

// SetStat implements vfs.Inode.SetStat.
func (f *regularFile) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
	shrunk, err := f.setStat(opts)
	if shrunk {
		// Pages wholly past the new end are gone: so are their
		// mappings (the partial last page stays, its tail zeroed).
		// Done after dataMu is dropped, as address spaces take their
		// lock before it.
		f.invalidateMappings(uint64(opts.Size), ^uint64(0))
	}
	return err
}

// invalidateMappings tells every address space that mapped f shared to
// drop its mappings of bytes [start, end) (whole pages).
//
// Preconditions: dataMu is not held.
func (f *regularFile) invalidateMappings(start, end uint64) {
	f.mappersMu.Lock()
	ms := make([]memory.Mapper, 0, len(f.mappers))
	for m := range f.mappers {
		ms = append(ms, m)
	}
	f.mappersMu.Unlock()
	for _, m := range ms {
		m.InvalidateMappings(f, start, end)
	}
}

// setStat does SetStat's work under dataMu and reports whether it made
// the file shorter.
func (f *regularFile) setStat(opts *vfs.SetStatOptions) (shrunk bool, err error) {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if opts.Mask&unix.STATX_SIZE != 0 {
		if opts.Size > uint64(maxFileSize) {
			return false, unix.EFBIG
		}
	}
	if err := f.checkSealsLocked(opts); err != nil {
		return false, err
	}
	if opts.Mask&unix.STATX_SIZE != 0 {
		if int64(opts.Size) != f.size {
			shrunk = int64(opts.Size) < f.size
			f.truncateLocked(int64(opts.Size))
			f.fs.mu.Lock()
			t := now()
			f.mtime, f.ctime = t, t
			f.fs.mu.Unlock()
		}
	}
	if opts.Mask&^unix.STATX_SIZE != 0 {
		f.fs.mu.Lock()
		f.setStatLocked(opts)
		f.fs.mu.Unlock()
	}
	return shrunk, nil
}

// truncateLocked sets the size, freeing pages beyond it and zeroing the
// tail of the last partial page.
//
// Preconditions: dataMu is held for writing.
func (f *regularFile) truncateLocked(size int64) {
	if size < f.size {
		lastKept := (size + pageSize - 1) / pageSize // first page index to free
		f.fs.freePages(f.pages, lastKept)
		if rem := size % pageSize; rem != 0 {
			if r, ok := f.pages[size/pageSize]; ok {
				clear(f.fs.mem.Bytes(r)[rem:])
			}
		}
	}
	f.size = size
}

// Open implements vfs.Inode.Open.
func (f *regularFile) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return &regularFD{file: f}, nil
}

// readAt copies file data at off into dst.
func (f *regularFile) readAt(dst []byte, off int64) int {
	f.dataMu.RLock()
	defer f.dataMu.RUnlock()
	if off >= f.size {
		return 0
	}
	if int64(len(dst)) > f.size-off {
		dst = dst[:f.size-off]
	}
	n := 0
	for n < len(dst) {
		pos := off + int64(n)
		idx, pgoff := pos/pageSize, pos%pageSize
		chunk := dst[n:min(len(dst), n+int(pageSize-pgoff))]
		if r, ok := f.pages[idx]; ok {
			copy(chunk, f.fs.mem.Bytes(r)[pgoff:])
		} else {
			clear(chunk)
		}
		n += len(chunk)
	}
	return n
}

// writeAt copies src into the file at off (at the end if appendMode) and
// returns the count and the offset past the written data.
func (f *regularFile) writeAt(src []byte, off int64, appendMode bool) (int, int64, error) {
	return f.writeFrom(len(src), vfs.SliceSource(src), off, appendMode)
}

// writeFrom writes n bytes pulled from fill straight into the file's
// pages (one copy, from wherever fill reads). A short fill ends the write
// there.
func (f *regularFile) writeFrom(n int, fill vfs.WriteSource, off int64, appendMode bool) (int, int64, error) {
	srcLen := n
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if appendMode {
		off = f.size
	}
	if srcLen == 0 {
		return 0, off, nil
	}
	if off >= maxFileSize {
		return 0, off, unix.EFBIG
	}
	if int64(srcLen) > maxFileSize-off {
		srcLen = int(maxFileSize - off)
	}
	if f.seals&(unix.F_SEAL_WRITE|unix.F_SEAL_FUTURE_WRITE) != 0 {
		return 0, off, unix.EPERM
	}
	if f.seals&unix.F_SEAL_GROW != 0 && off+int64(srcLen) > f.size {
		// Linux checks page by page: the write stops before the first
		// page-bounded chunk that would extend the file.
		end := off
		for end < off+int64(srcLen) {
			next := min(off+int64(srcLen), (end/pageSize+1)*pageSize)
			if next > f.size {
				break
			}
			end = next
		}
		if end == off {
			return 0, off, unix.EPERM
		}
		srcLen = int(end - off)
	}
	n = 0
	var err error
	for n < srcLen {
		pos := off + int64(n)
		idx, pgoff := pos/pageSize, pos%pageSize
		var c int
		var ferr error
		if r, ok := f.pages[idx]; ok {
			// Overwrite: copy into the page through the Sentry's view.
			dst := f.fs.mem.Bytes(r)[pgoff:]
			if len(dst) > srcLen-n {
				dst = dst[:srcLen-n]
			}
			c, ferr = fill.CopyTo(dst, n)
			if ferr == nil && c < len(dst) {
				ferr = unix.EFAULT
			}
		} else {
			c, ferr = f.fillHolesLocked(idx, pgoff, srcLen-n, fill, n)
			if c == 0 && ferr == nil {
				break // out of space; err set below
			}
		}
		n += c
		if ferr != nil {
			if n == 0 {
				err = ferr
			}
			break
		}
	}
	if n == 0 && err == nil && srcLen > 0 {
		err = unix.ENOSPC
	}
	if end := off + int64(n); end > f.size {
		f.size = end
	}
	if n > 0 {
		f.fs.mu.Lock()
		t := now()
		f.mtime, f.ctime = t, t
		// A write by anyone clears set-user-ID (Linux: file_remove_privs;
		// simplified: the caller's capabilities are not consulted).
		if m := f.Mode(); m&unix.S_ISUID != 0 || m&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP {
			f.mode.Store(m &^ (unix.S_ISUID | unix.S_ISGID))
		}
		f.fs.mu.Unlock()
		err = nil
	}
	return n, off + int64(n), err
}

// maxHoleRun bounds the pages filled by one fillHolesLocked call, so a huge
// write does not reserve all its pages before copying any.
const maxHoleRun = 256

// fillHolesLocked writes up to max bytes from src (starting at byte done of
// the write) into the run of missing pages that starts at page idx, byte
// pgoff. The run's pages are allocated as one memory-file range and filled
// through memory.File.WriteAt, so the host populates them straight from the
// source instead of faulting in and zeroing each page first. It returns the
// bytes written: 0 with a nil error when no page could be allocated.
//
// Preconditions: dataMu is held for writing; page idx is missing.
func (f *regularFile) fillHolesLocked(idx, pgoff int64, max int, src vfs.WriteSource, done int) (int, error) {
	lastIdx := (idx*pageSize + pgoff + int64(max) - 1) / pageSize
	k := int64(1)
	for k < maxHoleRun && idx+k <= lastIdx {
		if _, ok := f.pages[idx+k]; ok {
			break
		}
		k++
	}
	r, err := f.fs.allocPages(k)
	for err != nil && k > 1 {
		// Near the size limit: take what fits.
		k /= 2
		r, err = f.fs.allocPages(k)
	}
	if err != nil {
		return 0, nil
	}
	want := min(int64(max), k*pageSize-pgoff)
	at := r.Start + uint64(pgoff)
	c, ferr := src(done, int(want), func(b []byte) {
		f.fs.mem.WriteAt(b, at)
		at += uint64(len(b))
	})
	if ferr == nil && int64(c) < want {
		ferr = unix.EFAULT
	}
	// Keep the pages the write reached; give back the rest.
	used := (pgoff + int64(c) + pageSize - 1) / pageSize
	for i := int64(0); i < used; i++ {
		start := r.Start + uint64(i)*pageSize
		f.pages[idx+i] = memory.Range{Start: start, End: start + pageSize}
	}
	f.fs.unallocPages(memory.Range{Start: r.Start + uint64(used)*pageSize, End: r.End})
	return c, ferr
}

// regularFD is an open regular file.
type regularFD struct {
	vfs.FileDescriptionDefaultImpl
	// file is the open file. Immutable.
	file *regularFile
}

// ResidentPages implements vfs.PageHolder.ResidentPages: the pages the
// file holds in [first, last], walking whichever is smaller, the range
// or the file's pages.
func (fd *regularFD) ResidentPages(first, last uint64) uint64 {
	f := fd.file
	f.dataMu.RLock()
	defer f.dataMu.RUnlock()
	n := uint64(0)
	if last-first >= uint64(len(f.pages)) {
		for idx := range f.pages {
			if uint64(idx) >= first && uint64(idx) <= last {
				n++
			}
		}
		return n
	}
	for i := uint64(0); i <= last-first; i++ {
		if _, ok := f.pages[int64(first+i)]; ok {
			n++
		}
	}
	return n
}

// Read implements vfs.FileDescriptionImpl.Read.
func (fd *regularFD) Read(ctx context.Context, vfd *vfs.FileDescription, dst []byte, off int64) (int, error) {
	return fd.file.readAt(dst, off), nil
}

// Write implements vfs.FileDescriptionImpl.Write.
func (fd *regularFD) Write(ctx context.Context, vfd *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	return fd.file.writeAt(src, off, vfd.StatusFlags()&unix.O_APPEND != 0)
}

// Seek implements vfs.FileDescriptionImpl.Seek.
func (fd *regularFD) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	fd.file.dataMu.RLock()
	size := fd.file.size
	fd.file.dataMu.RUnlock()
	return vfs.GenericSeek(cur, off, whence, size)
}

// Translate returns the memory-file page holding the file's page at byte
// offset off (page aligned), allocating it if it is a hole, with a
// reference for the caller: MAP_SHARED mappings map these very pages, so
// they see write(2)s and write(2)s see them. It returns io.EOF for pages
// wholly beyond the end of the file. length is a hint; one page is
// returned.
func (fd *regularFD) Translate(off, length uint64) (memory.Range, error) {
	f := fd.file
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if int64(off) < 0 || int64(off) >= f.size {
		return memory.Range{}, io.EOF
	}
	idx := int64(off) / pageSize
	r, ok := f.pages[idx]
	if !ok {
		var err error
		if r, err = f.fs.allocPage(); err != nil {
			return memory.Range{}, err
		}
		f.pages[idx] = r
	}
	f.fs.mem.IncRef(r)
	return r, nil
}

// MappingID implements mm.InvalidatingMappable.MappingID (through the
// kernel's mapping of this file).
func (fd *regularFD) MappingID() any { return fd.file }

// AddMapper implements mm.InvalidatingMappable.AddMapper.
func (fd *regularFD) AddMapper(m memory.Mapper) {
	f := fd.file
	f.mappersMu.Lock()
	defer f.mappersMu.Unlock()
	if f.mappers == nil {
		f.mappers = make(map[memory.Mapper]struct{})
	}
	f.mappers[m] = struct{}{}
}

// RemoveMapper implements mm.InvalidatingMappable.RemoveMapper.
func (fd *regularFD) RemoveMapper(m memory.Mapper) {
	f := fd.file
	f.mappersMu.Lock()
	defer f.mappersMu.Unlock()
	delete(f.mappers, m)
}

// WriteFrom implements vfs.SourceWriter.
func (fd *regularFD) WriteFrom(ctx context.Context, vfd *vfs.FileDescription, n int, src vfs.WriteSource, off int64) (int, int64, error) {
	return fd.file.writeFrom(n, src, off, vfd.StatusFlags()&unix.O_APPEND != 0)
}
