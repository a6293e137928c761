package overlay

import (
	"context"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/vfs"
)

// inode is one overlay file (Linux: struct ovl_inode).
type inode struct {
	fs *filesystem
	// refs counts the VFS's references and those of child inodes (through
	// parent).
	refs refs.Count
	// ino is the inode number reported. Immutable.
	ino uint64
	// lower is the lower file, or nil; the inode holds a reference.
	// Immutable.
	lower vfs.Inode

	// mu protects the fields below (written only with filesystem.mu also
	// held, so holding either is enough to read them).
	mu sync.Mutex
	// upper is the upper file, or nil until the file is copied up; the
	// inode holds a reference. It never changes once set.
	upper vfs.Inode
	// upperIno is upper's inode number in the upper filesystem.
	upperIno uint64
	// opaque is set for a directory whose lower part is hidden.
	opaque bool
	// parent is the containing directory (nil for the root), with a
	// reference, and name the file's name in it: where a copy-up puts the
	// file. For a file with an upper part they may be stale (a hard link
	// elsewhere); they are used only before copy-up.
	parent *inode
	name   string
	// dead is set when the file was removed before being copied up; it
	// can then no longer be copied up.
	dead bool
}

// inode carries the methods of every file type; the VFS sees it through
// the view vfsInode returns, whose method set matches the file's type
// (vfs.ByKind).
var (
	_ vfs.KindedInode = (*inode)(nil)
)

// vfsInode returns i as the VFS sees it.
func (i *inode) vfsInode() vfs.Inode { return vfs.ByKind(i) }

// baseOf returns the *inode behind a vfs.Inode of this package, or nil.
func baseOf(v vfs.Inode) *inode {
	i, _ := vfs.Unwrap[*inode](v)
	return i
}

// newInode returns the overlay inode, with a new reference, for a file
// named name in parent whose layers are upper and lower (either may be
// nil; the caller's references on them pass to the inode). A live inode
// for the same upper file is returned instead if there is one.
func (fs *filesystem) newInode(ctx context.Context, parent *inode, name string, upper, lower vfs.Inode) (*inode, error) {
	drop := func() {
		if upper != nil {
			upper.DecRef(ctx)
		}
		if lower != nil {
			lower.DecRef(ctx)
		}
	}
	i := &inode{fs: fs, lower: lower, upper: upper, parent: parent, name: name}
	i.refs.Init(i)
	if upper != nil {
		st, err := upper.Stat(ctx)
		if err != nil {
			drop()
			return nil, err
		}
		i.upperIno = st.Ino
		i.ino = fs.inoOfUpper(st.Ino)
		i.opaque = isDir(upper) && fs.isOpaque(st.Ino)
	} else {
		st, err := lower.Stat(ctx)
		if err != nil {
			drop()
			return nil, err
		}
		i.ino = st.Ino
	}
	if upper != nil {
		fs.metaMu.Lock()
		if e := fs.byUpper[upper]; e != nil && e.tryIncRef() {
			fs.metaMu.Unlock()
			drop()
			return e, nil
		}
		fs.byUpper[upper] = i
		fs.metaMu.Unlock()
	}
	if parent != nil {
		parent.IncRef()
	}
	return i, nil
}

// IncRef implements vfs.Inode.IncRef.
func (i *inode) IncRef() { i.refs.IncRef() }

// tryIncRef takes a reference unless the count already reached zero.
func (i *inode) tryIncRef() bool { return i.refs.TryIncRef() }

// DecRef implements vfs.Inode.DecRef.
func (i *inode) DecRef(ctx context.Context) {
	if !i.refs.DecRef() {
		return
	}
	// No one else can reach i now (byUpper lookups fail tryIncRef), so its
	// fields are stable.
	if i.upper != nil {
		i.fs.metaMu.Lock()
		if i.fs.byUpper[i.upper] == i {
			delete(i.fs.byUpper, i.upper)
		}
		i.fs.metaMu.Unlock()
		i.upper.DecRef(ctx)
	}
	if i.lower != nil {
		i.lower.DecRef(ctx)
	}
	if i.parent != nil {
		i.parent.DecRef(ctx)
	}
}

// current returns the layer file that holds the file's data and
// attributes now: the upper one if any, else the lower one. No reference
// is taken: both live as long as i.
func (i *inode) current() vfs.Inode {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.upper != nil {
		return i.upper
	}
	return i.lower
}

// layers returns the upper file (or nil) and the lower file if it is
// visible (nil if none or hidden by an opaque directory).
func (i *inode) layers() (upper, lower vfs.Inode) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.opaque {
		return i.upper, nil
	}
	return i.upper, i.lower
}

// Mode implements vfs.Inode.Mode.
func (i *inode) Mode() uint32 { return i.current().Mode() }

// CheckPermissions implements vfs.Inode.CheckPermissions with the current
// layer's attributes.
func (i *inode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	return i.current().CheckPermissions(ctx, creds, ats)
}

// Stat implements vfs.Inode.Stat: the current layer's attributes with the
// overlay's device and inode number. A merged directory reports one link,
// as Linux does (counting subdirectories of both layers is not worth it).
func (i *inode) Stat(ctx context.Context) (unix.Statx_t, error) {
	upper, lower := i.layers()
	cur := upper
	if cur == nil {
		cur = lower
	}
	st, err := cur.Stat(ctx)
	if err != nil {
		return st, err
	}
	st.Ino = i.ino
	st.Dev_major, st.Dev_minor = unix.Major(i.fs.dev), unix.Minor(i.fs.dev)
	if upper != nil && lower != nil && isDir(upper) {
		st.Nlink = 1
	}
	return st, nil
}

// SetStat implements vfs.Inode.SetStat: the file is copied up first.
func (i *inode) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
	if err := i.copyUp(ctx, withData); err != nil {
		return err
	}
	return i.current().SetStat(ctx, opts)
}

// Open implements vfs.Inode.Open. Regular files opened for writing or
// truncation are copied up first; the open file is the layer's own,
// except for directories, which list both layers.
func (i *inode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	switch i.Mode() & unix.S_IFMT {
	case unix.S_IFDIR:
		return &dirFD{dir: i}, nil
	case unix.S_IFREG:
		trunc := opts.Flags&unix.O_TRUNC != 0
		if opts.Flags&unix.O_ACCMODE != unix.O_RDONLY || trunc {
			data := withData
			if trunc {
				data = withoutData
			}
			if err := i.copyUp(ctx, data); err != nil {
				return nil, err
			}
		}
	}
	return i.current().Open(ctx, vd, opts)
}

// Readlink implements vfs.SymlinkInode.Readlink.
func (l *inode) Readlink(ctx context.Context) (string, error) {
	s, ok := l.current().(vfs.SymlinkInode)
	if !ok {
		return "", unix.EINVAL
	}
	return s.Readlink(ctx)
}
