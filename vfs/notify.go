package vfs

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Filesystem change notification (Linux: fsnotify). Watches attach to
// inodes, so every hard link of a file reports to the same watches. The VFS
// reports events at a handful of points (create, remove, rename, attribute
// changes, and open, read, write and close of a file description); inotify
// (sentry/kernel/inotify) is the only consumer. When nothing is watched,
// each report costs one atomic load.
//
// Events are reported after the change is made, with VFS locks possibly
// held (a directory's dirMu, VirtualFilesystem.mu): a Watch must not call
// back into path operations. It may call AddWatch and RemoveWatch.

// Watch receives the events of one inode.
type Watch interface {
	// Notify reports an event. ev.Name is empty for an event on the watched
	// inode itself, or the name of the child the event is about when the
	// watched inode is a directory.
	Notify(ev *NotifyEvent)
}

// NotifyEvent is one change to report.
type NotifyEvent struct {
	// Mask is one IN_* event bit, with IN_ISDIR if the subject is a
	// directory.
	Mask uint32
	// Cookie ties an IN_MOVED_FROM to its IN_MOVED_TO (0 otherwise).
	Cookie uint32
	// Name is the child's name for events reported to a directory about a
	// child, "" for events about the watched inode itself.
	Name string
	// Unlinked is set for events on a child that was already removed from
	// the directory (IN_EXCL_UNLINK drops them).
	Unlinked bool
}

// watchRegistry maps inodes to their watches.
var watchRegistry struct {
	// count is the number of inodes with at least one watch. Read
	// atomically on every report; written under mu.
	count atomic.Int64
	// mu protects m.
	mu sync.RWMutex
	// m maps an inode to its watches, in the order they were added.
	m map[Inode][]Watch
}

// moveCookie hands out the cookies of rename events.
var moveCookie atomic.Uint32

// CanWatch reports whether inode can be watched: it must be comparable,
// to key the registry (every inode in the tree is a pointer or a struct of
// pointers; guard anyway).
func CanWatch(inode Inode) bool {
	return inode != nil && reflect.TypeOf(inode).Comparable()
}

// AddWatch attaches w to inode. The caller keeps a reference on inode for
// as long as the watch exists. Adding the same w twice is a no-op.
func AddWatch(inode Inode, w Watch) error {
	if !CanWatch(inode) {
		return unix.EOPNOTSUPP
	}
	watchRegistry.mu.Lock()
	defer watchRegistry.mu.Unlock()
	if watchRegistry.m == nil {
		watchRegistry.m = make(map[Inode][]Watch)
	}
	ws := watchRegistry.m[inode]
	for _, x := range ws {
		if x == w {
			return nil
		}
	}
	if len(ws) == 0 {
		watchRegistry.count.Add(1)
	}
	watchRegistry.m[inode] = append(ws, w)
	return nil
}

// RemoveWatch detaches w from inode and reports whether it was attached.
func RemoveWatch(inode Inode, w Watch) bool {
	if !CanWatch(inode) {
		return false
	}
	watchRegistry.mu.Lock()
	defer watchRegistry.mu.Unlock()
	ws := watchRegistry.m[inode]
	for i, x := range ws {
		if x != w {
			continue
		}
		if len(ws) == 1 {
			delete(watchRegistry.m, inode)
			watchRegistry.count.Add(-1)
		} else {
			watchRegistry.m[inode] = append(ws[:i:i], ws[i+1:]...)
		}
		return true
	}
	return false
}

// watchesOf returns a snapshot of inode's watches.
func watchesOf(inode Inode) []Watch {
	if !CanWatch(inode) {
		return nil
	}
	watchRegistry.mu.RLock()
	defer watchRegistry.mu.RUnlock()
	return watchRegistry.m[inode]
}

// deliver reports ev to inode's watches.
func deliver(inode Inode, ev NotifyEvent) {
	for _, w := range watchesOf(inode) {
		e := ev
		w.Notify(&e)
	}
}

// isDirFlag returns IN_ISDIR for directories.
func isDirFlag(inode Inode) uint32 {
	if fileType(inode.Mode()) == unix.S_IFDIR {
		return unix.IN_ISDIR
	}
	return 0
}

// notifyInode reports mask about inode to inode's own watches only
// (IN_DELETE_SELF, IN_MOVE_SELF, link count changes).
func notifyInode(inode Inode, mask uint32) {
	if watchRegistry.count.Load() != 0 {
		deliver(inode, NotifyEvent{Mask: mask | isDirFlag(inode)})
	}
}

// notifyChild reports mask about the child called name to the watches of
// directory dir (IN_CREATE, IN_DELETE, IN_MOVED_FROM, IN_MOVED_TO).
func notifyChild(dir Inode, mask, cookie uint32, name string, child Inode) {
	if watchRegistry.count.Load() != 0 {
		deliver(dir, NotifyEvent{Mask: mask | isDirFlag(child), Cookie: cookie, Name: name})
	}
}

// notifyCreated reports IN_CREATE of name, a file of type mode, to the
// watches of directory dir.
func notifyCreated(dir Inode, name string, mode uint32) {
	if watchRegistry.count.Load() != 0 {
		var isDir uint32
		if fileType(mode) == unix.S_IFDIR {
			isDir = unix.IN_ISDIR
		}
		deliver(dir, NotifyEvent{Mask: unix.IN_CREATE | isDir, Name: name})
	}
}

// notifyDentry reports mask about d's inode to its watches and to those of
// its parent directory, with d's name (IN_ACCESS, IN_MODIFY, IN_ATTRIB,
// IN_OPEN, IN_CLOSE_*).
func notifyDentry(d *Dentry, mask uint32) {
	if watchRegistry.count.Load() != 0 && d != nil {
		notifyDentrySlow(d, mask)
	}
}

func notifyDentrySlow(d *Dentry, mask uint32) {
	mask |= isDirFlag(d.inode)
	deliver(d.inode, NotifyEvent{Mask: mask})
	parent := d.parent.Load()
	if parent == nil {
		return
	}
	parent.childMu.Lock()
	if d.parent.Load() != parent {
		// Renamed meanwhile: not worth chasing.
		parent.childMu.Unlock()
		return
	}
	name := d.name
	parent.childMu.Unlock()
	deliver(parent.inode, NotifyEvent{Mask: mask, Name: name, Unlinked: d.dead.Load()})
}

// notifyRemoved reports the removal of name (child) from dir: IN_ATTRIB
// for a non-directory's link count, IN_DELETE_SELF if no link is left,
// then IN_DELETE to dir.
func notifyRemoved(ctx context.Context, dir Inode, name string, child Inode) {
	if watchRegistry.count.Load() != 0 {
		notifyRemovedSlow(ctx, dir, name, child, false)
	}
}

func notifyRemovedSlow(ctx context.Context, dir Inode, name string, child Inode, replaced bool) {
	isDir := fileType(child.Mode()) == unix.S_IFDIR
	if !isDir {
		notifyInode(child, unix.IN_ATTRIB)
	}
	if st, err := child.Stat(ctx); err == nil && (st.Nlink == 0 || isDir) {
		notifyInode(child, unix.IN_DELETE_SELF)
	}
	if !replaced {
		notifyChild(dir, unix.IN_DELETE, 0, name, child)
	}
}

// notifyRenamed reports a rename of child from oldDir/oldName to
// newDir/newName that replaced replaced (nil if none).
func notifyRenamed(ctx context.Context, oldDir Inode, oldName string, newDir Inode, newName string, child, replaced Inode, exchange bool) {
	if watchRegistry.count.Load() == 0 {
		return
	}
	cookie := moveCookie.Add(1)
	notifyChild(oldDir, unix.IN_MOVED_FROM, cookie, oldName, child)
	notifyChild(newDir, unix.IN_MOVED_TO, cookie, newName, child)
	if exchange {
		cookie = moveCookie.Add(1)
		notifyChild(newDir, unix.IN_MOVED_FROM, cookie, newName, replaced)
		notifyChild(oldDir, unix.IN_MOVED_TO, cookie, oldName, replaced)
		notifyInode(replaced, unix.IN_MOVE_SELF)
	} else if replaced != nil {
		notifyRemovedSlow(ctx, newDir, newName, replaced, true)
	}
	notifyInode(child, unix.IN_MOVE_SELF)
}

// setStatEvent returns the event a successful attribute change reports
// (Linux: fsnotify_change).
func setStatEvent(mask uint32) uint32 {
	var ev uint32
	if mask&(unix.STATX_UID|unix.STATX_GID|unix.STATX_MODE) != 0 {
		ev = unix.IN_ATTRIB
	}
	if mask&unix.STATX_SIZE != 0 {
		ev |= unix.IN_MODIFY
	}
	switch mask & (unix.STATX_ATIME | unix.STATX_MTIME) {
	case unix.STATX_ATIME | unix.STATX_MTIME:
		ev |= unix.IN_ATTRIB
	case unix.STATX_ATIME:
		ev |= unix.IN_ACCESS
	case unix.STATX_MTIME:
		ev |= unix.IN_MODIFY
	}
	return ev
}

// notifySetStat reports an attribute change to vd's watchers.
func notifySetStat(d *Dentry, statxMask uint32) {
	if watchRegistry.count.Load() == 0 {
		return
	}
	ev := setStatEvent(statxMask)
	for _, bit := range []uint32{unix.IN_MODIFY, unix.IN_ATTRIB, unix.IN_ACCESS} {
		if ev&bit != 0 {
			notifyDentrySlow(d, bit)
		}
	}
}

// notifyClose reports the release of fd.
func notifyClose(fd *FileDescription) {
	if watchRegistry.count.Load() == 0 || fd.isPath || !fd.vd.Ok() {
		return
	}
	if fd.writable {
		notifyDentrySlow(fd.vd.dentry, unix.IN_CLOSE_WRITE)
	} else {
		notifyDentrySlow(fd.vd.dentry, unix.IN_CLOSE_NOWRITE)
	}
}

// CheckAccess checks that the caller may access the file at vd as ats
// asks (inotify_add_watch needs MayRead).
func CheckAccess(ctx context.Context, vd VirtualDentry, ats AccessTypes) error {
	return vd.dentry.inode.CheckPermissions(ctx, credsOf(ctx, "access check"), ats)
}
