package gofer

import (
	"container/list"
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/vfs"
)

// inode is one file: a node held by the server, with the O_PATH descriptor
// the server donated for it.
type inode struct {
	fs *filesystem
	// id names the node on the server. Immutable.
	id protocol.NodeID
	// pathFD is the donated O_PATH|O_NOFOLLOW descriptor. Immutable; closed
	// with the last reference.
	pathFD int
	// refs counts references (the VFS's dentries, the lookup cache).
	refs refs.Count
	// mode caches attr.Mode for Mode(), which must not block.
	mode atomic.Uint32

	// mu guards attr and readFD, and serialises appending writes.
	mu sync.Mutex
	// attr are the attributes last fetched. Protected by mu.
	attr protocol.Attr
	// readFD is a read-only host descriptor of a regular file that every
	// read-only open of it shares (files are read with pread, so no
	// offset is shared), or -1: only the first open costs a server round
	// trip. Closed with the last reference. Protected by mu.
	readFD int

	// cached indexes this directory's entries in the lookup cache.
	// Protected by filesystem.cacheMu.
	cached map[string]*list.Element
	// listing is what this directory's recent listing left to look up,
	// or nil (see takeSiblings). Protected by filesystem.cacheMu.
	listing *listing
}

// inode carries the methods of every file type; the VFS sees it through
// the view vfsInode returns, whose method set matches the file's type
// (vfs.ByKind).
var (
	_ vfs.KindedInode = (*inode)(nil)
	_ vfs.Revalidator = (*inode)(nil)
)

// vfsInode returns i as the VFS sees it.
func (i *inode) vfsInode() vfs.Inode { return vfs.ByKind(i) }

// baseOf returns the *inode behind a vfs.Inode of this package, or nil.
func baseOf(v vfs.Inode) *inode {
	i, _ := vfs.Unwrap[*inode](v)
	return i
}

// newInode returns an inode with one reference for a node the client
// returned; it takes ownership of the node and its descriptor.
func (fs *filesystem) newInode(n protocol.Node) *inode {
	i := &inode{fs: fs, id: n.ID, pathFD: n.FD, attr: n.Attr, readFD: -1}
	i.refs.Init(i)
	i.mode.Store(n.Attr.Mode)
	return i
}

// IncRef implements vfs.Inode.
func (i *inode) IncRef() { i.refs.IncRef() }

// DecRef implements vfs.Inode. The last reference closes the descriptor and
// releases the node on the server.
func (i *inode) DecRef(ctx context.Context) {
	if !i.refs.DecRef() {
		return
	}
	i.fs.forgetDir(ctx, i)
	unix.Close(i.pathFD)
	if i.readFD >= 0 {
		unix.Close(i.readFD)
	}
	i.fs.releaseNode(i.id)
}

// Mode implements vfs.Inode.
func (i *inode) Mode() uint32 { return i.mode.Load() }

// attrs returns the cached attributes.
func (i *inode) attrs() protocol.Attr {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.attr
}

// setAttr records fresh attributes. The file type never changes.
func (i *inode) setAttr(a protocol.Attr) {
	i.mu.Lock()
	i.attr = a
	i.mode.Store(a.Mode)
	i.mu.Unlock()
}

// refresh re-reads the attributes from the host through the O_PATH
// descriptor (no server round trip). Ownership is kept from what the
// server last said: the Sentry runs in a user namespace that maps only its
// own root, so its fstat shows every other host ID as the overflow ID.
func (i *inode) refresh() (protocol.Attr, error) {
	var st unix.Stat_t
	if err := fstat(i.pathFD, &st); err != nil {
		return protocol.Attr{}, err
	}
	a := protocol.AttrFromStat(&st)
	i.mu.Lock()
	a.UID, a.GID = i.attr.UID, i.attr.GID
	i.attr = a
	i.mode.Store(a.Mode)
	i.mu.Unlock()
	return a, nil
}

// CheckPermissions implements vfs.Inode with the cached attributes.
func (i *inode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	a := i.attrs()
	return vfs.GenericCheckPermissions(creds, ats, a.Mode, a.UID, a.GID)
}

// Stat implements vfs.Inode, refreshing the attributes from the host.
func (i *inode) Stat(ctx context.Context) (unix.Statx_t, error) {
	a, err := i.refresh()
	if err != nil {
		return unix.Statx_t{}, err
	}
	return i.fs.statx(&a), nil
}

// statx converts attributes to what the guest sees.
func (fs *filesystem) statx(a *protocol.Attr) unix.Statx_t {
	ts := func(ns int64) unix.StatxTimestamp {
		sec, nsec := ns/1e9, ns%1e9
		if nsec < 0 {
			sec, nsec = sec-1, nsec+1e9
		}
		return unix.StatxTimestamp{Sec: sec, Nsec: uint32(nsec)}
	}
	return unix.Statx_t{
		Mask:       unix.STATX_BASIC_STATS,
		Blksize:    uint32(a.Blksize),
		Nlink:      uint32(a.Nlink),
		Uid:        a.UID,
		Gid:        a.GID,
		Mode:       uint16(a.Mode),
		Ino:        fs.inoFor(a.Dev, a.Ino),
		Size:       uint64(a.Size),
		Blocks:     uint64(a.Blocks),
		Atime:      ts(a.Atime),
		Ctime:      ts(a.Ctime),
		Mtime:      ts(a.Mtime),
		Rdev_major: unix.Major(a.Rdev),
		Rdev_minor: unix.Minor(a.Rdev),
		Dev_major:  unix.Major(fs.dev),
		Dev_minor:  unix.Minor(fs.dev),
	}
}

// SetStat implements vfs.Inode.
func (i *inode) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
	req := protocol.SetAttrReq{Node: i.id, Mode: opts.Mode, UID: opts.UID, GID: opts.GID}
	m := opts.Mask
	if m&unix.STATX_MODE != 0 {
		req.Mask |= protocol.SetAttrMode
	}
	if m&unix.STATX_UID != 0 {
		req.Mask |= protocol.SetAttrUID
	}
	if m&unix.STATX_GID != 0 {
		req.Mask |= protocol.SetAttrGID
	}
	if m&unix.STATX_SIZE != 0 {
		if opts.Size > 1<<63-1 {
			return unix.EFBIG
		}
		req.Mask |= protocol.SetAttrSize
		req.Size = int64(opts.Size)
	}
	if m&unix.STATX_ATIME != 0 {
		req.Mask |= protocol.SetAttrAtime
		req.Atime = opts.Atime.Nano()
	}
	if m&unix.STATX_MTIME != 0 {
		req.Mask |= protocol.SetAttrMtime
		req.Mtime = opts.Mtime.Nano()
	}
	if req.Mask == 0 {
		return nil
	}
	a, err := i.fs.client.SetAttr(req)
	if err != nil {
		return toErrno(err)
	}
	i.setAttr(a)
	return nil
}

// Open implements vfs.Inode.
func (i *inode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	switch i.Mode() & unix.S_IFMT {
	case unix.S_IFREG:
		// O_TRUNC is done by the VFS through SetStat; O_APPEND by Write.
		flags := opts.Flags & (unix.O_ACCMODE | unix.O_SYNC | unix.O_DSYNC)
		if flags == unix.O_RDONLY {
			i.mu.Lock()
			fd := i.readFD
			i.mu.Unlock()
			if fd >= 0 {
				return &regularFile{inode: i, hostFD: fd, shared: true}, nil
			}
		}
		fd, a, err := i.fs.client.Open(i.id, flags)
		if err != nil {
			return nil, toErrno(err)
		}
		i.setAttr(a)
		if flags == unix.O_RDONLY {
			i.mu.Lock()
			defer i.mu.Unlock()
			if i.readFD < 0 {
				i.readFD = fd
				return &regularFile{inode: i, hostFD: fd, shared: true}, nil
			}
		}
		return &regularFile{inode: i, hostFD: fd}, nil
	case unix.S_IFDIR:
		fd, a, err := i.fs.client.Open(i.id, unix.O_RDONLY|unix.O_DIRECTORY)
		if err != nil {
			return nil, toErrno(err)
		}
		i.setAttr(a)
		return &dirFile{inode: i, hostFD: fd}, nil
	case unix.S_IFLNK:
		return nil, unix.ELOOP
	}
	// TODO: FIFOs on the host need the Sentry's waiter integrated with the
	// host descriptor (epoll) before they can block correctly; devices are
	// refused by the server; sockets cannot be opened (ENXIO, as Linux).
	return nil, unix.ENXIO
}

// Readlink implements vfs.SymlinkInode from the donated O_PATH descriptor.
func (l *inode) Readlink(ctx context.Context) (string, error) {
	buf := make([]byte, protocol.MaxPathLen+1)
	for {
		n, err := unix.Readlinkat(l.pathFD, "", buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		if n > protocol.MaxPathLen {
			return "", unix.ENAMETOOLONG
		}
		return string(buf[:n]), nil
	}
}

// Lookup implements vfs.DirInode: from the lookup cache if it holds a valid
// entry, else by a WalkSiblings request together with other names of a
// recent listing of d, else by a Walk request.
func (d *inode) Lookup(ctx context.Context, name string) (vfs.Inode, error) {
	fs := d.fs
	if strings.ContainsAny(name, "/\x00") {
		// No single component contains these; the server would say the
		// same without the round trip.
		return nil, unix.EINVAL
	}
	if c := fs.cached(d, name); c != nil {
		if c.valid() {
			return c.vfsInode(), nil
		}
		c.DecRef(ctx)
		fs.forget(ctx, d, name)
	}
	if names := fs.takeSiblings(d, name); len(names) > 1 {
		return d.lookupBatch(ctx, names)
	}
	nodes, err := fs.client.Walk(d.id, []string{name})
	if err != nil {
		for _, n := range nodes {
			unix.Close(n.FD)
			fs.releaseNode(n.ID)
		}
		return nil, toErrno(err)
	}
	return d.adopt(ctx, name, nodes[0]).vfsInode(), nil
}

// valid reports whether the file still has a name somewhere.
func (i *inode) valid() bool {
	a, err := i.refresh()
	return err == nil && a.Nlink > 0
}

// Revalidate implements vfs.Revalidator: a cached child is valid while its
// file still has links.
func (d *inode) Revalidate(ctx context.Context, name string, child vfs.Inode) bool {
	c := baseOf(child)
	if c == nil || !c.valid() {
		d.fs.forget(ctx, d, name)
		return false
	}
	return true
}

// adopt makes a node the server returned for name in d into an inode (with
// one reference, the caller's) and caches it.
func (d *inode) adopt(ctx context.Context, name string, n protocol.Node) *inode {
	c := d.fs.newInode(n)
	d.fs.remember(ctx, d, name, c)
	return c
}

// Create implements vfs.DirInode.
func (d *inode) Create(ctx context.Context, name string, opts *vfs.CreateOptions) (vfs.Inode, error) {
	if t := opts.Mode & unix.S_IFMT; t != unix.S_IFREG && t != 0 {
		return nil, unix.EPERM
	}
	n, fd, err := d.fs.client.Create(d.id, name, unix.O_RDONLY, opts.Mode&0o7777, opts.UID, opts.GID)
	if err != nil {
		return nil, toErrno(err)
	}
	// The VFS opens the file next, with the caller's flags.
	unix.Close(fd)
	return d.adopt(ctx, name, n).vfsInode(), nil
}

// Mkdir implements vfs.DirInode.
func (d *inode) Mkdir(ctx context.Context, name string, opts *vfs.CreateOptions) error {
	n, err := d.fs.client.Mkdir(d.id, name, opts.Mode&0o7777, opts.UID, opts.GID)
	if err != nil {
		return toErrno(err)
	}
	d.adopt(ctx, name, n).DecRef(ctx)
	return nil
}

// Mknod implements vfs.DirInode. The protocol has no mknod: a device file
// would designate a host device, and FIFOs and sockets are not served yet.
func (d *inode) Mknod(ctx context.Context, name string, opts *vfs.CreateOptions) error {
	return unix.EPERM
}

// Symlink implements vfs.DirInode.
func (d *inode) Symlink(ctx context.Context, name, target string, opts *vfs.CreateOptions) error {
	n, err := d.fs.client.Symlink(d.id, name, target, opts.UID, opts.GID)
	if err != nil {
		return toErrno(err)
	}
	d.adopt(ctx, name, n).DecRef(ctx)
	return nil
}

// Link implements vfs.DirInode.
func (d *inode) Link(ctx context.Context, name string, target vfs.Inode) error {
	t := baseOf(target)
	if t == nil || t.fs != d.fs {
		return unix.EXDEV
	}
	n, err := d.fs.client.Link(d.id, name, t.id)
	if err != nil {
		return toErrno(err)
	}
	d.adopt(ctx, name, n).DecRef(ctx)
	t.refresh()
	return nil
}

// Unlink implements vfs.DirInode.
func (d *inode) Unlink(ctx context.Context, name string, child vfs.Inode) error {
	return d.remove(ctx, name, child, 0)
}

// Rmdir implements vfs.DirInode.
func (d *inode) Rmdir(ctx context.Context, name string, child vfs.Inode) error {
	return d.remove(ctx, name, child, unix.AT_REMOVEDIR)
}

func (d *inode) remove(ctx context.Context, name string, child vfs.Inode, flags uint32) error {
	err := d.fs.client.Unlink(d.id, name, flags)
	d.fs.forget(ctx, d, name)
	if err != nil {
		return toErrno(err)
	}
	if c := baseOf(child); c != nil {
		c.refresh()
	}
	return nil
}

// Rename implements vfs.DirInode.
func (d *inode) Rename(ctx context.Context, oldName string, child vfs.Inode, newDir vfs.DirInode, newName string, replaced vfs.Inode, flags uint32) error {
	nd := baseOf(newDir)
	if nd == nil || nd.fs != d.fs {
		return unix.EXDEV
	}
	err := d.fs.client.Rename(d.id, oldName, nd.id, newName, flags)
	d.fs.forget(ctx, d, oldName)
	d.fs.forget(ctx, nd, newName)
	if err != nil {
		return toErrno(err)
	}
	if r := baseOf(replaced); r != nil {
		r.refresh()
	}
	return nil
}

// fstat wraps fstat(2), retrying EINTR.
func fstat(fd int, st *unix.Stat_t) error {
	for {
		err := unix.Fstat(fd, st)
		if err != unix.EINTR {
			return err
		}
	}
}
