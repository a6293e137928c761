package proc

import (
	"context"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/synthetic"
)

// taskRef names the process or thread a file of /proc/PID describes.
// It survives the process: every use re-resolves it and fails with ESRCH
// once the process is gone (or its PID reused).
type taskRef struct {
	fs *filesystem
	// pid is the process; tid is the thread for /proc/PID/task/TID, or 0
	// for the process's main thread. start is the process's start time.
	// Immutable.
	pid, tid int32
	start    time.Time
}

// process returns the process, or nil if it is gone.
func (r *taskRef) process() Process {
	p := r.fs.k.Process(r.pid)
	if p == nil || !p.StartTime().Equal(r.start) {
		return nil
	}
	return p
}

// thread returns the thread (the main thread at process level), or nil.
func (r *taskRef) thread() Thread {
	p := r.process()
	if p == nil {
		return nil
	}
	if r.tid == 0 {
		return p.MainThread()
	}
	return p.Thread(r.tid)
}

// key returns the process's key in filesystem.oomScoreAdj.
func (r *taskRef) key() procKey { return procKey{r.pid, r.start.UnixNano()} }

// node is the part every procfs inode shares. Inodes are garbage
// collected: reference counting frees nothing.
type node struct {
	fs *filesystem
	// ino and mode are immutable.
	ino  uint64
	mode uint32
	// task is the process the file describes, or nil for files outside
	// /proc/PID. Immutable.
	task *taskRef
}

var (
	_ vfs.Inode          = (*node)(nil)
	_ vfs.DirInode       = (*dirNode)(nil)
	_ vfs.Revalidator    = (*dirNode)(nil)
	_ vfs.SymlinkInode   = (*symlinkNode)(nil)
	_ vfs.MagicLinkInode = (*magicLinkNode)(nil)
)

// IncRef implements vfs.Inode.IncRef.
func (n *node) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (n *node) DecRef(ctx context.Context) {}

// Mode implements vfs.Inode.Mode.
func (n *node) Mode() uint32 { return n.mode }

// owner returns the file's owner: the process's effective IDs (as Linux
// shows a dumpable task's files), or root.
func (n *node) owner() (uint32, uint32) {
	if n.task == nil {
		return 0, 0
	}
	if t := n.task.thread(); t != nil {
		c := t.Credentials()
		return c.EffectiveUID, c.EffectiveGID
	}
	return 0, 0
}

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (n *node) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	uid, gid := n.owner()
	return vfs.GenericCheckPermissions(creds, ats, n.mode, uid, gid)
}

// Stat implements vfs.Inode.Stat.
func (n *node) Stat(ctx context.Context) (unix.Statx_t, error) {
	uid, gid := n.owner()
	t := n.fs.k.BootTime()
	if n.task != nil {
		t = n.task.start
	}
	ts := unix.StatxTimestamp{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())}
	nlink := uint32(1)
	if n.mode&unix.S_IFMT == unix.S_IFDIR {
		nlink = 2
	}
	return unix.Statx_t{
		Mask:      unix.STATX_BASIC_STATS,
		Blksize:   4096,
		Nlink:     nlink,
		Uid:       uid,
		Gid:       gid,
		Mode:      uint16(n.mode),
		Ino:       n.ino,
		Atime:     ts,
		Mtime:     ts,
		Ctime:     ts,
		Dev_major: unix.Major(n.fs.dev),
		Dev_minor: unix.Minor(n.fs.dev),
	}, nil
}

// SetStat implements vfs.Inode.SetStat: attributes are fixed.
func (n *node) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
	return unix.EPERM
}

// Open implements vfs.Inode.Open.
func (n *node) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return nil, unix.ENXIO
}

// fileNode is a regular file whose contents are generated at open.
type fileNode struct {
	node
	// gen produces the contents. Immutable.
	gen func(ctx context.Context) ([]byte, error)
	// write consumes one write(2), or is nil for a read-only file.
	// Immutable.
	write func(ctx context.Context, src []byte) error
}

// newFile returns a read-only file with permissions perm.
func (fs *filesystem) newFile(ino uint64, perm uint32, task *taskRef, gen func(ctx context.Context) ([]byte, error)) *fileNode {
	return &fileNode{node: node{fs: fs, ino: ino, mode: unix.S_IFREG | perm, task: task}, gen: gen}
}

// staticFile returns a generator of fixed text.
func staticFile(s string) func(context.Context) ([]byte, error) {
	return func(context.Context) ([]byte, error) { return []byte(s), nil }
}

// SetStat implements vfs.Inode.SetStat: truncation (O_TRUNC) of a
// writable file is accepted and ignored, as Linux's procfs does.
func (f *fileNode) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
	if opts.Mask == unix.STATX_SIZE && f.write != nil {
		return nil
	}
	return unix.EPERM
}

// Open implements vfs.Inode.Open.
func (f *fileNode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	acc := opts.Flags & unix.O_ACCMODE
	if acc != unix.O_RDONLY && f.write == nil {
		return nil, unix.EACCES
	}
	fd := &fileFD{file: f}
	if acc != unix.O_WRONLY {
		data, err := f.gen(ctx)
		if err != nil {
			return nil, err
		}
		fd.data = data
	}
	return fd, nil
}

// fileFD is an open fileNode: a snapshot of its contents.
type fileFD struct {
	vfs.FileDescriptionDefaultImpl
	// file is the file. Immutable.
	file *fileNode
	// data is the snapshot taken at open. Immutable.
	data []byte
}

// Read implements vfs.FileDescriptionImpl.Read.
func (fd *fileFD) Read(ctx context.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if off >= int64(len(fd.data)) {
		return 0, nil
	}
	return copy(dst, fd.data[off:]), nil
}

// Write implements vfs.FileDescriptionImpl.Write.
func (fd *fileFD) Write(ctx context.Context, _ *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	if fd.file.write == nil {
		return 0, off, unix.EACCES
	}
	if err := fd.file.write(ctx, src); err != nil {
		return 0, off, err
	}
	return len(src), off + int64(len(src)), nil
}

// Seek implements vfs.FileDescriptionImpl.Seek.
func (fd *fileFD) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	return vfs.GenericSeek(cur, off, whence, int64(len(fd.data)))
}

// symlinkNode is a symbolic link whose target is computed on each
// readlink.
type symlinkNode struct {
	node
	// target computes the target. Immutable.
	target func(ctx context.Context) (string, error)
}

func (fs *filesystem) newSymlink(ino uint64, task *taskRef, target func(ctx context.Context) (string, error)) *symlinkNode {
	return &symlinkNode{node: node{fs: fs, ino: ino, mode: unix.S_IFLNK | 0o777, task: task}, target: target}
}

// Readlink implements vfs.SymlinkInode.Readlink.
func (s *symlinkNode) Readlink(ctx context.Context) (string, error) { return s.target(ctx) }

// magicLinkNode is a link that a walk follows by jumping to a file
// (cwd, root, exe, fd/N).
type magicLinkNode struct {
	symlinkNode
	// getLink returns the location with a reference, or an error
	// (ENOENT if there is none). It must not call into the VFS: the walk
	// holds VFS locks. target, which serves only readlink(2), may.
	// Immutable.
	getLink func(ctx context.Context) (vfs.VirtualDentry, error)
}

func (fs *filesystem) newMagicLink(ino uint64, task *taskRef, target func(ctx context.Context) (string, error), getLink func(ctx context.Context) (vfs.VirtualDentry, error)) *magicLinkNode {
	return &magicLinkNode{symlinkNode: *fs.newSymlink(ino, task, target), getLink: getLink}
}

// GetLink implements vfs.MagicLinkInode.GetLink.
func (m *magicLinkNode) GetLink(ctx context.Context) (vfs.VirtualDentry, error) {
	return m.getLink(ctx)
}

// dynamicEntry is a directory entry computed at listing time.
type dynamicEntry struct {
	// name, typ and ino are the entry's.
	name string
	typ  uint8
	ino  uint64
	// pos is the entry's position in the directory (at least
	// dirNode.dynBase(), increasing along the listing).
	pos int64
}

// dynamicDir provides the entries of a directory that change with the
// processes (the root's PIDs, fd/, task/).
type dynamicDir interface {
	// list returns the entries in increasing position order.
	list(ctx context.Context) []dynamicEntry
	// lookup returns the entry called name, or ENOENT.
	lookup(ctx context.Context, name string) (vfs.Inode, error)
	// valid reports whether a cached entry still names the same thing.
	valid(ctx context.Context, name string, child vfs.Inode) bool
}

// staticEntry is a fixed directory entry.
type staticEntry struct {
	name string
	// mode is the entry's type and permissions (for the listing).
	mode uint32
	// make builds the inode, whose number is ino. Called on every
	// lookup.
	make func(ino uint64) vfs.Inode
}

// dirNode is a directory of fixed entries followed by dynamic ones.
type dirNode struct {
	// The guest cannot create or remove entries: EACCES, as Linux's
	// procfs.
	synthetic.ReadOnlyDirDefaults
	node
	// parentIno is the inode number of "..". Immutable.
	parentIno uint64
	// prefix is the directory's path relative to /proc, or to /proc/PID
	// (or /proc/PID/task/TID) for directories with a task, with a
	// trailing slash ("" for /proc/PID itself): with the task it
	// determines the children's inode numbers. Immutable.
	prefix string
	// static are the fixed entries in listing order, and byName indexes
	// them. Immutable.
	static []staticEntry
	byName map[string]int
	// dyn provides the dynamic entries, or is nil. Immutable.
	dyn dynamicDir
}

// newDir returns a directory with permissions perm.
func (fs *filesystem) newDir(ino, parentIno uint64, prefix string, perm uint32, task *taskRef, static []staticEntry, dyn dynamicDir) *dirNode {
	d := &dirNode{
		node:      node{fs: fs, ino: ino, mode: unix.S_IFDIR | perm, task: task},
		parentIno: parentIno,
		prefix:    prefix,
		static:    static,
		byName:    make(map[string]int, len(static)),
		dyn:       dyn,
	}
	d.Errno = unix.EACCES
	for i, e := range static {
		d.byName[e.name] = i
	}
	return d
}

// dynBase is the position of the first dynamic entry.
func (d *dirNode) dynBase() int64 { return int64(len(d.static)) + 2 }

// Open implements vfs.Inode.Open.
func (d *dirNode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return &synthetic.DirFD{Dir: d}, nil
}

// Lookup implements vfs.DirInode.Lookup.
func (d *dirNode) Lookup(ctx context.Context, name string) (vfs.Inode, error) {
	if i, ok := d.byName[name]; ok {
		return d.static[i].make(d.childIno(name)), nil
	}
	if d.dyn != nil {
		return d.dyn.lookup(ctx, name)
	}
	return nil, unix.ENOENT
}

// Revalidate implements vfs.Revalidator.
func (d *dirNode) Revalidate(ctx context.Context, name string, child vfs.Inode) bool {
	if d.task != nil && !d.task.alive() {
		return false
	}
	if _, ok := d.byName[name]; ok {
		return true
	}
	if d.dyn != nil {
		return d.dyn.valid(ctx, name, child)
	}
	return false
}

// IterDirents implements synthetic.Lister. Positions 0 and 1 are "." and
// "..", then the fixed entries, then the dynamic ones at positions they
// choose (a PID's or descriptor's number plus a base), so a listing
// resumes correctly while entries come and go.
func (d *dirNode) IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error {
	if d.task != nil && !d.task.alive() {
		return unix.ENOENT
	}
	off, ok := synthetic.EmitDots(off, d.ino, d.parentIno, emit)
	if !ok {
		return nil
	}
	for ; off < d.dynBase(); off++ {
		e := d.static[off-2]
		de := vfs.Dirent{Name: e.name, Type: vfs.DirentType(e.mode), Ino: d.childIno(e.name), NextOff: off + 1}
		if !emit(de) {
			return nil
		}
	}
	if d.dyn == nil {
		return nil
	}
	entries := d.dyn.list(ctx)
	i := sort.Search(len(entries), func(i int) bool { return entries[i].pos >= off })
	for _, e := range entries[i:] {
		if !emit(vfs.Dirent{Name: e.name, Type: e.typ, Ino: e.ino, NextOff: e.pos + 1}) {
			return nil
		}
	}
	return nil
}

// childIno returns the inode number of the fixed entry name.
func (d *dirNode) childIno(name string) uint64 {
	var pid, tid int32
	if d.task != nil {
		pid, tid = d.task.pid, d.task.tid
	}
	return inoOf(pid, tid, d.prefix+name)
}
