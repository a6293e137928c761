package mqueue

import (
	"context"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/synthetic"
)

// The mqueue filesystem (mount -t mqueue, /dev/mqueue): a directory of the
// registry's queues. Reading a queue file shows its status line; open(2)
// with O_CREAT makes a queue with the default attributes and unlink(2)
// removes one, as on Linux. Every mount of it shows the same registry.

// FilesystemName is the type name.
const FilesystemName = "mqueue"

type filesystem struct {
	r    *Registry
	dev  uint64
	root *rootDir
}

// Name implements vfs.FilesystemImpl.Name.
func (*filesystem) Name() string { return FilesystemName }

// Release implements vfs.FilesystemImpl.Release.
func (*filesystem) Release(context.Context) {}

// NewFilesystem returns, with one reference, an mqueue filesystem showing
// r's queues.
func NewFilesystem(r *Registry) *vfs.Filesystem {
	fs := &filesystem{r: r, dev: vfs.AnonDevice()}
	now := time.Now()
	fs.root = &rootDir{fs: fs, ctime: unix.StatxTimestamp{Sec: now.Unix(), Nsec: uint32(now.Nanosecond())}}
	return vfs.NewFilesystem(fs, fs.root)
}

// rootDir is the filesystem's only directory: mode 01777, owned by root.
type rootDir struct {
	synthetic.ReadOnlyDirDefaults
	fs    *filesystem
	ctime unix.StatxTimestamp
}

var (
	_ vfs.DirInode    = (*rootDir)(nil)
	_ vfs.Revalidator = (*rootDir)(nil)
	_ vfs.Inode       = (*queueInode)(nil)
)

const rootMode = unix.S_IFDIR | 0o1777

// IncRef implements vfs.Inode.IncRef.
func (*rootDir) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (*rootDir) DecRef(context.Context) {}

// Mode implements vfs.Inode.Mode.
func (*rootDir) Mode() uint32 { return rootMode }

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (d *rootDir) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	return vfs.GenericCheckPermissions(creds, ats, rootMode, 0, 0)
}

// Stat implements vfs.Inode.Stat.
func (d *rootDir) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{
		Mask: unix.STATX_BASIC_STATS, Blksize: 4096, Nlink: 2, Mode: rootMode, Ino: 1,
		Atime: d.ctime, Mtime: d.ctime, Ctime: d.ctime,
		Dev_major: unix.Major(d.fs.dev), Dev_minor: unix.Minor(d.fs.dev),
	}, nil
}

// SetStat implements vfs.Inode.SetStat.
func (*rootDir) SetStat(context.Context, *vfs.SetStatOptions) error { return unix.EPERM }

// Open implements vfs.Inode.Open.
func (d *rootDir) Open(context.Context, vfs.VirtualDentry, *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return &synthetic.DirFD{Dir: d}, nil
}

// Lookup implements vfs.DirInode.Lookup.
func (d *rootDir) Lookup(ctx context.Context, name string) (vfs.Inode, error) {
	if q := d.fs.r.Lookup(name); q != nil {
		return &queueInode{fs: d.fs, q: q}, nil
	}
	return nil, unix.ENOENT
}

// Revalidate implements vfs.Revalidator: a name stays valid while it names
// the same queue.
func (d *rootDir) Revalidate(ctx context.Context, name string, child vfs.Inode) bool {
	qi, ok := child.(*queueInode)
	return ok && d.fs.r.Lookup(name) == qi.q
}

// Create implements vfs.DirInode.Create: a queue with the default
// attributes (Linux's mqueue_create).
func (d *rootDir) Create(ctx context.Context, name string, opts *vfs.CreateOptions) (vfs.Inode, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	r := d.fs.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.queues[name] != nil {
		return nil, unix.EEXIST
	}
	c := &Caller{UID: opts.UID, GID: opts.GID, RlimitMsgQueue: unix.RLIM_INFINITY}
	q, err := r.createLocked(c, name, opts.Mode, nil)
	if err != nil {
		return nil, err
	}
	return &queueInode{fs: d.fs, q: q}, nil
}

// Unlink implements vfs.DirInode.Unlink (the VFS checked the directory's
// permissions and sticky bit).
func (d *rootDir) Unlink(ctx context.Context, name string, child vfs.Inode) error {
	r := d.fs.r
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queues[name]
	if q == nil {
		return unix.ENOENT
	}
	r.unlinkLocked(q)
	return nil
}

// IterDirents implements synthetic.Lister: after "." and "..", each queue
// sits at position 2 + its inode number, so a listing resumes correctly
// while queues come and go.
func (d *rootDir) IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error {
	off, ok := synthetic.EmitDots(off, 1, 1, emit)
	if !ok {
		return nil
	}
	r := d.fs.r
	r.mu.Lock()
	var qs []*Queue
	for _, q := range r.queues {
		if int64(q.ino)+2 >= off {
			qs = append(qs, q)
		}
	}
	r.mu.Unlock()
	sort.Slice(qs, func(a, b int) bool { return qs[a].ino < qs[b].ino })
	for _, q := range qs {
		if !emit(vfs.Dirent{Name: q.name, Type: unix.DT_REG, Ino: q.ino, NextOff: int64(q.ino) + 3}) {
			return nil
		}
	}
	return nil
}

// queueInode is a queue's file.
type queueInode struct {
	fs *filesystem
	q  *Queue
}

// IncRef implements vfs.Inode.IncRef.
func (*queueInode) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (*queueInode) DecRef(context.Context) {}

// Mode implements vfs.Inode.Mode.
func (i *queueInode) Mode() uint32 {
	_, _, mode := i.q.Owner()
	return unix.S_IFREG | mode
}

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (i *queueInode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	uid, gid, mode := i.q.Owner()
	return vfs.GenericCheckPermissions(creds, ats, unix.S_IFREG|mode, uid, gid)
}

// Stat implements vfs.Inode.Stat.
func (i *queueInode) Stat(ctx context.Context) (unix.Statx_t, error) {
	st, err := (&fd{q: i.q}).Stat(ctx)
	st.Ino = i.q.ino
	st.Dev_major, st.Dev_minor = unix.Major(i.fs.dev), unix.Minor(i.fs.dev)
	return st, err
}

// SetStat implements vfs.Inode.SetStat: chmod and chown, as on Linux;
// truncation (O_TRUNC) is ignored.
func (i *queueInode) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
	q := i.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if opts.Mask&unix.STATX_MODE != 0 {
		q.mode = opts.Mode & 0o777
	}
	if opts.Mask&unix.STATX_UID != 0 {
		q.uid = opts.UID
	}
	if opts.Mask&unix.STATX_GID != 0 {
		q.gid = opts.GID
	}
	return nil
}

// Open implements vfs.Inode.Open: a queue descriptor, as mq_open's.
func (i *queueInode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	r := i.q.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	i.q.opens++
	return &fd{q: i.q}, nil
}
