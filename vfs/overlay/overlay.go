// Package overlay implements an overlay filesystem with one read-only
// lower layer and one writable upper layer, with the semantics of Linux's
// overlayfs for a single lower layer. The container root uses it: the
// lower layer is the gofer-backed image, the upper a tmpfs in Sentry
// memory, so the guest may change any file while the image on the host is
// never written.
//
// Model:
//
//   - Every overlay file (inode) has an upper file, a lower file, or both
//     (a merged directory, or a file that was copied up). Lookups consult
//     the upper layer first; a directory present in both layers merges.
//   - Whiteouts: removing a name that exists in the lower layer leaves a
//     character device 0/0 at that name in the upper layer (as Linux does);
//     whiteouts are hidden from lookup and readdir and hide the lower
//     entry.
//   - Opaque directories: a directory created in (or moved to) the upper
//     layer where the lower layer has an entry of that name hides the
//     lower directory's contents; so does a merged directory emptied to
//     be removed or renamed over. Linux records this in an xattr; here the
//     filesystem keeps the set of opaque upper directories (by upper inode
//     number).
//   - Copy-up: the first change to a lower file (open for writing,
//     truncate, chmod, chown, utimes, setxattr/removexattr, link, rename)
//     copies it, its data, attributes and extended attributes (where both
//     layers store them) to the upper layer, after copying up its parent
//     directories. A copy is built in a private work directory of the
//     upper filesystem and renamed into place, so no one sees a partial
//     copy. Files opened read-only before a copy-up keep reading the lower
//     file, as on Linux.
//   - Redirects: renaming a directory that has a visible lower part (a
//     merged directory, or a lower one, which is copied up first) moves
//     its upper directory and records which lower directory it continues,
//     as Linux's overlayfs with redirect_dir=on does with the
//     trusted.overlay.redirect xattr; here the filesystem keeps the map
//     from upper inode number to the lower directory itself. A lookup of
//     a redirected upper directory merges it with that lower directory
//     instead of the lower entry of the same name, wherever the directory
//     now is (after renames back and forth, or of its parents). The old
//     name becomes a whiteout in the same step if the lower layer has it.
//     A directory of the upper layer alone that moves onto a name the
//     lower layer has becomes opaque instead. Redirects and opaque marks
//     are recorded before the upper rename, where they change nothing, so
//     a lookup never sees a moved directory without them.
//   - rename: RENAME_NOREPLACE and RENAME_EXCHANGE work on every kind of
//     file (both files of an exchange are copied up; directories keep
//     their lower parts through redirects); RENAME_WHITEOUT fails with
//     EINVAL, as on Linux's overlayfs.
//   - Inode numbers: a file with a lower part reports the lower file's
//     inode number, also after copy-up and renames (the filesystem
//     remembers each copy's origin); a file that exists only in the upper
//     layer reports its upper number with bit 63 set. st_dev is the
//     overlay's own anonymous device.
//
// The upper filesystem must be empty when the overlay is created: the
// overlay makes two directories in its root, "upper" (the upper layer's
// root) and "work" (scratch space for copy-up and whiteouts).
//
// Open files are the layers' own: opening a file returns the upper or
// lower file's FileDescriptionImpl, so tmpfs pages stay mappable with
// MAP_SHARED and lower files are mapped privately through reads, as
// without the overlay. Directories are listed through a merging file
// (dirFD).
//
// Lock order:
//
//	filesystem.mu (changes to the upper layer's layout: copy-up, create, remove, rename, link)
//	  inode.mu
//	  filesystem.metaMu
//	  (locks of the layers' filesystems)
//	dirFD.mu (independent of the above except the layers' locks)
package overlay

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// Name is the filesystem type name shown in /proc/mounts.
const Name = "overlay"

// upperOnlyInoBit marks the inode numbers of files that exist only in the
// upper layer, keeping them apart from the lower layer's numbers.
const upperOnlyInoBit = 1 << 63

// Options configure a new overlay.
type Options struct {
	// Lower is the read-only lower layer. The overlay never changes it.
	Lower *vfs.Filesystem
	// Upper is the writable upper layer: an empty filesystem (a tmpfs)
	// used by nothing else.
	Upper *vfs.Filesystem
}

// filesystem is one overlay instance.
type filesystem struct {
	// lowerFS and upperFS are the layers; the overlay holds a reference on
	// each. Immutable.
	lowerFS, upperFS *vfs.Filesystem
	// dev is the device number reported as st_dev. Immutable.
	dev uint64
	// work is the scratch directory of the upper filesystem; the
	// filesystem holds a reference. Immutable.
	work vfs.DirInode

	// mu serialises every change to the upper layer's layout, so that a
	// copy-up sees its parents and names stable and two copy-ups of one
	// file do not race.
	mu sync.Mutex
	// workSeq numbers temporary names in work. Protected by mu.
	workSeq uint64

	// metaMu protects the maps below. It is a leaf lock.
	metaMu sync.Mutex
	// opaque holds the upper inode numbers of opaque directories.
	opaque map[uint64]struct{}
	// origin maps the upper inode number of a copied-up file to the
	// overlay inode number it had before the copy-up (its lower number).
	origin map[uint64]uint64
	// byUpper maps upper files to their live overlay inode, so that hard
	// links of one upper file are one overlay inode.
	byUpper map[vfs.Inode]*inode
	// redirect maps the upper inode number of a directory that was renamed
	// while it had a visible lower part to that lower directory, on which
	// the map holds a reference (Linux: the trusted.overlay.redirect
	// xattr).
	redirect map[uint64]vfs.Inode
}

var _ vfs.FilesystemImpl = (*filesystem)(nil)

// New returns an overlay of opts.Upper on opts.Lower, with one reference
// (the caller's). It takes its own references on both layers.
func New(ctx context.Context, opts Options) (*vfs.Filesystem, error) {
	if opts.Lower == nil || opts.Upper == nil {
		return nil, unix.EINVAL
	}
	lowerRoot, ok := opts.Lower.Root().Inode().(vfs.DirInode)
	if !ok {
		return nil, unix.ENOTDIR
	}
	upperTop, ok := opts.Upper.Root().Inode().(vfs.DirInode)
	if !ok {
		return nil, unix.ENOTDIR
	}
	lst, err := lowerRoot.Stat(ctx)
	if err != nil {
		return nil, err
	}
	mkdir := func(name string, copts *vfs.CreateOptions) (vfs.DirInode, error) {
		if err := upperTop.Mkdir(ctx, name, copts); err != nil {
			return nil, err
		}
		c, err := upperTop.Lookup(ctx, name)
		if err != nil {
			return nil, err
		}
		d, ok := c.(vfs.DirInode)
		if !ok {
			c.DecRef(ctx)
			return nil, unix.ENOTDIR
		}
		return d, nil
	}
	work, err := mkdir("work", &vfs.CreateOptions{Mode: unix.S_IFDIR | 0o700})
	if err != nil {
		return nil, err
	}
	upperRoot, err := mkdir("upper", &vfs.CreateOptions{Mode: unix.S_IFDIR | uint32(lst.Mode)&0o7777, UID: lst.Uid, GID: lst.Gid})
	if err != nil {
		work.DecRef(ctx)
		return nil, err
	}
	upperRoot.SetStat(ctx, &vfs.SetStatOptions{Mask: unix.STATX_ATIME | unix.STATX_MTIME, Atime: timespec(lst.Atime), Mtime: timespec(lst.Mtime)})
	fs := &filesystem{
		lowerFS:  opts.Lower,
		upperFS:  opts.Upper,
		dev:      vfs.AnonDevice(),
		work:     work,
		opaque:   make(map[uint64]struct{}),
		origin:   make(map[uint64]uint64),
		byUpper:  make(map[vfs.Inode]*inode),
		redirect: make(map[uint64]vfs.Inode),
	}
	opts.Lower.IncRef()
	opts.Upper.IncRef()
	lowerRoot.IncRef()
	ust, err := upperRoot.Stat(ctx)
	if err != nil {
		upperRoot.DecRef(ctx)
		lowerRoot.DecRef(ctx)
		fs.Release(ctx)
		return nil, err
	}
	fs.origin[ust.Ino] = lst.Ino
	root, err := fs.newInode(ctx, nil, "", upperRoot, lowerRoot)
	if err != nil {
		fs.Release(ctx)
		return nil, err
	}
	return vfs.NewFilesystem(fs, root.vfsInode()), nil
}

// Name implements vfs.FilesystemImpl.Name.
func (fs *filesystem) Name() string { return Name }

// Release implements vfs.FilesystemImpl.Release.
func (fs *filesystem) Release(ctx context.Context) {
	fs.metaMu.Lock()
	redirects := fs.redirect
	fs.redirect = nil
	fs.metaMu.Unlock()
	for _, l := range redirects {
		l.DecRef(ctx)
	}
	fs.work.DecRef(ctx)
	fs.lowerFS.DecRef(ctx)
	fs.upperFS.DecRef(ctx)
}

// tempNameLocked returns a fresh name for a file in the work directory.
//
// Preconditions: fs.mu is held.
func (fs *filesystem) tempNameLocked() string {
	fs.workSeq++
	return fmt.Sprintf("#%x", fs.workSeq)
}

// isOpaque reports whether the upper directory with inode number ino is
// opaque.
func (fs *filesystem) isOpaque(ino uint64) bool {
	fs.metaMu.Lock()
	defer fs.metaMu.Unlock()
	_, ok := fs.opaque[ino]
	return ok
}

// forgetUpper drops what the filesystem remembers about the upper file
// with inode number ino, which has just been removed for good.
func (fs *filesystem) forgetUpper(ctx context.Context, ino uint64) {
	fs.metaMu.Lock()
	delete(fs.opaque, ino)
	delete(fs.origin, ino)
	l := fs.redirect[ino]
	delete(fs.redirect, ino)
	fs.metaMu.Unlock()
	if l != nil {
		l.DecRef(ctx)
	}
}

// redirectOf returns, with a new reference, the lower directory that the
// upper directory upper continues after a rename, or nil if it has no
// redirect.
func (fs *filesystem) redirectOf(ctx context.Context, upper vfs.Inode) vfs.Inode {
	fs.metaMu.Lock()
	none := len(fs.redirect) == 0
	fs.metaMu.Unlock()
	if none {
		return nil
	}
	st, err := upper.Stat(ctx)
	if err != nil {
		return nil
	}
	fs.metaMu.Lock()
	defer fs.metaMu.Unlock()
	l := fs.redirect[st.Ino]
	if l != nil {
		l.IncRef()
	}
	return l
}

// setRedirect records that the upper directory with inode number upperIno
// continues the lower directory lower, and reports whether that is new.
func (fs *filesystem) setRedirect(ctx context.Context, upperIno uint64, lower vfs.Inode) bool {
	lower.IncRef()
	fs.metaMu.Lock()
	old, had := fs.redirect[upperIno]
	fs.redirect[upperIno] = lower
	fs.metaMu.Unlock()
	if had {
		old.DecRef(ctx)
	}
	return !had
}

// setOpaque marks the upper directory of i opaque (with inode number
// upperIno), hiding i's lower part, and reports whether that is new.
//
// Preconditions: fs.mu is held.
func (fs *filesystem) setOpaque(i *inode, upperIno uint64) bool {
	fs.metaMu.Lock()
	_, had := fs.opaque[upperIno]
	fs.opaque[upperIno] = struct{}{}
	fs.metaMu.Unlock()
	i.mu.Lock()
	i.opaque = true
	i.mu.Unlock()
	return !had
}

// inoOfUpper returns the overlay inode number of the upper file with
// inode number upperIno: its origin if it was copied up, otherwise the
// upper number marked with upperOnlyInoBit.
func (fs *filesystem) inoOfUpper(upperIno uint64) uint64 {
	fs.metaMu.Lock()
	defer fs.metaMu.Unlock()
	if o, ok := fs.origin[upperIno]; ok {
		return o
	}
	return upperIno | upperOnlyInoBit
}

// timespec converts a statx timestamp to a SetStatOptions time.
func timespec(t unix.StatxTimestamp) unix.Timespec {
	return unix.Timespec{Sec: t.Sec, Nsec: int64(t.Nsec)}
}

// isWhiteout reports whether the upper file i is a whiteout.
func isWhiteout(ctx context.Context, i vfs.Inode) bool {
	if i.Mode()&unix.S_IFMT != unix.S_IFCHR {
		return false
	}
	st, err := i.Stat(ctx)
	return err == nil && st.Rdev_major == 0 && st.Rdev_minor == 0
}

// isDir reports whether i is a directory.
func isDir(i vfs.Inode) bool { return i.Mode()&unix.S_IFMT == unix.S_IFDIR }
