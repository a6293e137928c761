// Package tmpfs implements tmpfs: a filesystem held entirely in the
// Sentry's memory. Regular file data lives in pages of the memory file
// (sentry/memory), one allocation per page, so that shared mappings of a
// tmpfs file can map the very same pages into guest address spaces.
//
// Files: directories, regular files, symbolic links, FIFOs (backed by
// vfs/pipe), and device and socket nodes (character devices open through
// the drivers registered with the VFS; block devices and sockets cannot be
// opened).
//
// Lock order:
//
//	regularFile.dataMu
//	  filesystem.mu
package tmpfs

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/pipe"
)

// MemoryFile is the part of the memory file that tmpfs uses. *memory.File
// implements it.
type MemoryFile interface {
	// Allocate returns a zeroed, page-aligned range with one reference.
	Allocate(length uint64) (memory.Range, error)
	// IncRef takes a reference on r.
	IncRef(r memory.Range)
	// DecRef drops a reference on r, freeing it with the last.
	DecRef(r memory.Range)
	// Bytes returns the Sentry's mapping of r.
	Bytes(r memory.Range) []byte
	// WriteAt stores b at byte off of the file, populating pages that are
	// holes without zeroing them first.
	WriteAt(b []byte, off uint64)
}

var _ MemoryFile = (*memory.File)(nil)

// Name is the filesystem type name.
const Name = "tmpfs"

// pageSize is the size of one unit of file data.
const pageSize = memory.PageSize

// maxFileSize is the largest size a tmpfs file may have (Linux:
// MAX_LFS_FILESIZE rounded down to a page).
const maxFileSize = int64(1<<63-1) &^ (pageSize - 1)

// Options configure a new tmpfs.
type Options struct {
	// Mem holds file data. Required.
	Mem MemoryFile
	// RootMode is the permission bits of the root directory (Linux's
	// default, 01777, if zero).
	RootMode uint32
	// RootUID and RootGID own the root directory.
	RootUID, RootGID uint32
	// SizeLimit is the most file data, in bytes, the filesystem holds
	// (Linux's size= option); writes beyond it fail with ENOSPC. Zero means
	// no limit but the memory file's.
	SizeLimit uint64
	// Name is the filesystem type that /proc/PID/mounts and mountinfo
	// show; tmpfs if empty. The Sentry serves some placeholder
	// filesystems (an empty mqueue) with a tmpfs.
	Name string
}

// filesystem is one tmpfs instance.
type filesystem struct {
	// mem holds file data. Immutable.
	mem MemoryFile
	// dev is the device number reported as st_dev. Immutable.
	dev uint64
	// name is the type name mountinfo shows. Immutable.
	name string
	// lastIno is the last inode number handed out.
	lastIno atomic.Uint64
	// maxPages is the page limit (0: none). Immutable.
	maxPages int64
	// usedPages counts pages of file data held.
	usedPages atomic.Int64
	// mu protects the metadata of every inode (owner, link count, times)
	// and the contents of every directory.
	mu sync.Mutex
}

var _ vfs.FilesystemImpl = (*filesystem)(nil)

// New returns a new, empty tmpfs.
func New(ctx context.Context, opts Options) (*vfs.Filesystem, error) {
	if opts.Mem == nil {
		return nil, unix.EINVAL
	}
	fs := &filesystem{mem: opts.Mem, dev: vfs.AnonDevice(), name: opts.Name, maxPages: int64(opts.SizeLimit / pageSize)}
	if fs.name == "" {
		fs.name = Name
	}
	if opts.SizeLimit != 0 && fs.maxPages == 0 {
		fs.maxPages = 1
	}
	mode := opts.RootMode & 07777
	if mode == 0 {
		mode = 01777
	}
	root := fs.newDir(nil, &vfs.CreateOptions{Mode: unix.S_IFDIR | mode, UID: opts.RootUID, GID: opts.RootGID})
	return vfs.NewFilesystem(fs, root), nil
}

// allocPage returns a zeroed page of the memory file, within the size
// limit.
func (fs *filesystem) allocPage() (memory.Range, error) {
	return fs.allocPages(1)
}

// allocPages returns n contiguous zeroed pages of the memory file (one
// reference each page), within the size limit.
func (fs *filesystem) allocPages(n int64) (memory.Range, error) {
	if used := fs.usedPages.Add(n); fs.maxPages != 0 && used > fs.maxPages {
		fs.usedPages.Add(-n)
		return memory.Range{}, unix.ENOSPC
	}
	r, err := fs.mem.Allocate(uint64(n) * pageSize)
	if err != nil {
		fs.usedPages.Add(-n)
		return memory.Range{}, unix.ENOSPC
	}
	return r, nil
}

// unallocPages gives back pages of r that were allocated but never used.
func (fs *filesystem) unallocPages(r memory.Range) {
	if r.Length() == 0 {
		return
	}
	fs.mem.DecRef(r)
	fs.usedPages.Add(-int64(r.Length() / pageSize))
}

// freePages frees and removes the pages of a file from index from on. It
// releases them in memory-file order, merging neighbours, so the memory
// file's free list stays short (freeing in map order fragmented it and made
// deleting a large file quadratic).
func (fs *filesystem) freePages(pages map[int64]memory.Range, from int64) {
	var rs []memory.Range
	for idx, r := range pages {
		if idx >= from {
			rs = append(rs, r)
			delete(pages, idx)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	for i := 0; i < len(rs); {
		run := rs[i]
		j := i + 1
		for ; j < len(rs) && rs[j].Start == run.End; j++ {
			run.End = rs[j].End
		}
		fs.mem.DecRef(run)
		i = j
	}
	fs.usedPages.Add(-int64(len(rs)))
}

// Name implements vfs.FilesystemImpl.Name.
func (fs *filesystem) Name() string { return fs.name }

// Release implements vfs.FilesystemImpl.Release.
func (fs *filesystem) Release(ctx context.Context) {}

// now returns the current time as a statx timestamp.
func now() unix.StatxTimestamp {
	t := time.Now()
	return unix.StatxTimestamp{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())}
}

// inode holds what all tmpfs files have in common.
type inode struct {
	// fs is the owning filesystem. Immutable.
	fs *filesystem
	// ino is the inode number. Immutable.
	ino uint64
	// refs counts directory entries and VFS references.
	refs refs.Count
	// mode is the type and permission bits. Written under fs.mu; read
	// atomically.
	mode atomic.Uint32
	// uid, gid, nlink, rdev and the times are protected by fs.mu.
	uid, gid                   uint32
	nlink                      uint32
	rdev                       uint64
	atime, mtime, ctime, btime unix.StatxTimestamp
	// release frees type-specific resources when refs reaches zero.
	// Immutable.
	release func()
	// xattrs are the extended attributes (nil until the first is set).
	// Protected by fs.mu.
	xattrs map[string][]byte
	// xflags are the file attributes (file_setattr(2)): only
	// FS_XFLAG_NODUMP. Protected by fs.mu.
	xflags uint64
	// linkable is set on an O_TMPFILE file until it gets a name (Linux:
	// I_LINKABLE). Protected by fs.mu.
	linkable bool
}

func (fs *filesystem) initInode(i *inode, opts *vfs.CreateOptions) {
	t := now()
	*i = inode{fs: fs, ino: fs.lastIno.Add(1), uid: opts.UID, gid: opts.GID, nlink: 1, rdev: opts.Dev,
		atime: t, mtime: t, ctime: t, btime: t}
	i.refs.Init(i)
	i.mode.Store(opts.Mode)
}

// IncRef implements vfs.Inode.IncRef.
func (i *inode) IncRef() { i.refs.IncRef() }

// DecRef implements vfs.Inode.DecRef.
func (i *inode) DecRef(ctx context.Context) {
	if i.refs.DecRef() && i.release != nil {
		i.release()
	}
}

// Mode implements vfs.Inode.Mode.
func (i *inode) Mode() uint32 { return i.mode.Load() }

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (i *inode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	i.fs.mu.Lock()
	uid, gid := i.uid, i.gid
	i.fs.mu.Unlock()
	return vfs.GenericCheckPermissions(creds, ats, i.Mode(), uid, gid)
}

// statLocked fills the attributes common to all files, with size and
// blocks given.
//
// Preconditions: fs.mu is held.
func (i *inode) statLocked(size uint64, blocks uint64) unix.Statx_t {
	return unix.Statx_t{
		Mask:       unix.STATX_BASIC_STATS | unix.STATX_BTIME,
		Blksize:    pageSize,
		Nlink:      i.nlink,
		Uid:        i.uid,
		Gid:        i.gid,
		Mode:       uint16(i.Mode()),
		Ino:        i.ino,
		Size:       size,
		Blocks:     blocks,
		Atime:      i.atime,
		Btime:      i.btime,
		Ctime:      i.ctime,
		Mtime:      i.mtime,
		Rdev_major: unix.Major(i.rdev),
		Rdev_minor: unix.Minor(i.rdev),
		Dev_major:  unix.Major(i.fs.dev),
		Dev_minor:  unix.Minor(i.fs.dev),
	}
}

// setStatLocked applies the attribute changes other than size.
//
// Preconditions: fs.mu is held.
func (i *inode) setStatLocked(opts *vfs.SetStatOptions) {
	t := now()
	if opts.Mask&unix.STATX_MODE != 0 {
		i.mode.Store(i.Mode()&unix.S_IFMT | opts.Mode&07777)
	}
	if opts.Mask&unix.STATX_UID != 0 {
		i.uid = opts.UID
	}
	if opts.Mask&unix.STATX_GID != 0 {
		i.gid = opts.GID
	}
	if opts.Mask&unix.STATX_ATIME != 0 {
		i.atime = unix.StatxTimestamp{Sec: opts.Atime.Sec, Nsec: uint32(opts.Atime.Nsec)}
	}
	if opts.Mask&unix.STATX_MTIME != 0 {
		i.mtime = unix.StatxTimestamp{Sec: opts.Mtime.Sec, Nsec: uint32(opts.Mtime.Nsec)}
	}
	i.ctime = t
}

// Stat implements vfs.Inode.Stat for files with no data.
func (i *inode) Stat(ctx context.Context) (unix.Statx_t, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.statLocked(0, 0), nil
}

// SetStat implements vfs.Inode.SetStat for files with no data.
func (i *inode) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
	if opts.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	i.setStatLocked(opts)
	return nil
}

// specialInode is a device, FIFO or socket node.
type specialInode struct {
	inode
	// pipe is the pipe of a FIFO (nil for other types). Immutable.
	pipe *pipe.Pipe
}

var _ vfs.Inode = (*specialInode)(nil)

// Open implements vfs.Inode.Open. FIFOs open their pipe; character devices
// are opened by the VFS through their driver; block devices and sockets
// cannot be opened (ENXIO), as on Linux.
func (s *specialInode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	if s.pipe != nil {
		return s.pipe.Open(ctx, opts.Flags)
	}
	return nil, unix.ENXIO
}

// symlinkInode is a symbolic link.
type symlinkInode struct {
	inode
	// target is the link's target. Immutable.
	target string
}

var _ vfs.SymlinkInode = (*symlinkInode)(nil)

// Readlink implements vfs.SymlinkInode.Readlink.
func (s *symlinkInode) Readlink(ctx context.Context) (string, error) { return s.target, nil }

// Stat implements vfs.Inode.Stat.
func (s *symlinkInode) Stat(ctx context.Context) (unix.Statx_t, error) {
	s.fs.mu.Lock()
	defer s.fs.mu.Unlock()
	return s.statLocked(uint64(len(s.target)), 0), nil
}

// Open implements vfs.Inode.Open; the VFS never opens a symlink itself.
func (s *symlinkInode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return nil, unix.ELOOP
}
