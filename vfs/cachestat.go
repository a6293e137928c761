package vfs

import (
	"context"

	"golang.org/x/sys/unix"
)

// PageHolder is implemented by a FileDescriptionImpl whose file keeps its
// data in pages of the Sentry's memory (tmpfs, memfd): those pages are
// the sandbox's page cache. Files of other filesystems have no pages in
// the Sentry (gofer files are read and written through), so cachestat
// reports none for them.
type PageHolder interface {
	// ResidentPages returns how many pages with an index in [first,
	// last] the file holds.
	ResidentPages(first, last uint64) uint64
}

// Cachestat is struct cachestat (cachestat(2)): page counts of a range
// of a file.
type Cachestat struct {
	// Cache is the number of pages held in memory.
	Cache uint64
	// Dirty, Writeback, Evicted and RecentlyEvicted are always 0: memory
	// file pages are never written back or evicted (and Linux does not
	// count shmem pages as dirty either).
	Dirty, Writeback, Evicted, RecentlyEvicted uint64
}

// MayCachestat checks that the caller may ask cachestat(2) about fd's
// file. As Linux 6.14+, only a caller that opened the file for writing,
// owns it (or has CAP_FOWNER), or could open it for writing may (EPERM
// otherwise): page-cache residency leaks what others read.
func (fd *FileDescription) MayCachestat(ctx context.Context) error {
	if fd.isPath {
		return unix.EBADF
	}
	if fd.writable {
		return nil
	}
	st, err := fd.Stat(ctx)
	if err != nil {
		return err
	}
	creds := CredentialsFromContext(ctx)
	if !isOwner(creds, st.Uid) && GenericCheckPermissions(creds, MayWrite, uint32(st.Mode), st.Uid, st.Gid) != nil {
		return unix.EPERM
	}
	return nil
}

// Cachestat returns the page counts of the pages with an index in [first,
// last] of fd's file (callers check MayCachestat first).
func (fd *FileDescription) Cachestat(first, last uint64) Cachestat {
	var cs Cachestat
	if ph, ok := fd.impl.(PageHolder); ok && first <= last {
		cs.Cache = ph.ResidentPages(first, last)
	}
	return cs
}
