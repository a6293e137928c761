// Package inotify implements inotify(7) files: a queue of filesystem
// events reported by the VFS (vfs.Watch) for the inodes an instance
// watches, read as struct inotify_event records.
//
// Lock order:
//
//	Inotify.mu
//	  vfs watch registry (vfs.AddWatch, vfs.RemoveWatch)
//	  waiter.Queue.mu (through Notify)
package inotify

import (
	"context"
	"encoding/binary"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// Limits (Linux: /proc/sys/fs/inotify/max_queued_events and
// max_user_watches defaults).
const (
	maxQueuedEvents = 16384
	maxWatches      = 8192
)

// eventHeaderSize is sizeof(struct inotify_event) without the name.
const eventHeaderSize = 16

// Flags of inotify_add_watch that are not events.
const (
	// eventBits are the events a watch may ask for (IN_ALL_EVENTS).
	eventBits = unix.IN_ALL_EVENTS
	// validBits is every bit inotify_add_watch knows (ALL_INOTIFY_BITS).
	validBits = eventBits | unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW | unix.IN_EXCL_UNLINK |
		unix.IN_MASK_ADD | unix.IN_MASK_CREATE | unix.IN_ONESHOT | unix.IN_ISDIR |
		unix.IN_IGNORED | unix.IN_Q_OVERFLOW | unix.IN_UNMOUNT
	// keptFlags are the flags a watch remembers.
	keptFlags = unix.IN_EXCL_UNLINK | unix.IN_ONESHOT
	// selfOnly are the events reported only about the watched inode
	// itself, never about a child.
	selfOnly = unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
)

// event is one queued struct inotify_event.
type event struct {
	wd     int32
	mask   uint32
	cookie uint32
	name   string
}

// size returns the record's size: the header and the name, NUL-padded to
// a multiple of the header size (Linux: round_event_name_len).
func (e *event) size() int {
	return eventHeaderSize + e.nameLen()
}

func (e *event) nameLen() int {
	if e.name == "" {
		return 0
	}
	return (len(e.name) + 1 + eventHeaderSize - 1) &^ (eventHeaderSize - 1)
}

// encode writes the record to dst, which has room for it.
func (e *event) encode(dst []byte) {
	binary.LittleEndian.PutUint32(dst[0:], uint32(e.wd))
	binary.LittleEndian.PutUint32(dst[4:], e.mask)
	binary.LittleEndian.PutUint32(dst[8:], e.cookie)
	binary.LittleEndian.PutUint32(dst[12:], uint32(e.nameLen()))
	n := copy(dst[eventHeaderSize:], e.name)
	clear(dst[eventHeaderSize+n : e.size()])
}

// Watch is one watch descriptor: a vfs.Watch on one inode. Linux: struct
// inotify_inode_mark.
type Watch struct {
	// owner is the instance. Immutable.
	owner *Inotify
	// wd is the watch descriptor. Immutable.
	wd int32
	// inode is the watched inode, on which the watch holds a reference.
	// Immutable.
	inode vfs.Inode
	// mask is the events wanted and keptFlags. Protected by owner.mu.
	mask uint32
	// gone is set once the watch is removed. Protected by owner.mu.
	gone bool
}

var _ vfs.Watch = (*Watch)(nil)

// Inotify is an inotify instance, the implementation of its file. Linux:
// struct fsnotify_group with struct inotify_group_private_data.
type Inotify struct {
	vfs.FileDescriptionDefaultImpl

	// queue holds pollers and blocked readers.
	queue waiter.Queue

	mu sync.Mutex
	// events is the queue of unread events. Protected by mu.
	events []event
	// overflowed is set while the queue ends with IN_Q_OVERFLOW.
	// Protected by mu.
	overflowed bool
	// bytes is the total size of the queued records (FIONREAD).
	// Protected by mu.
	bytes int
	// nextWD is the next watch descriptor. Protected by mu.
	nextWD int32
	// byWD maps watch descriptors to watches. Protected by mu.
	byWD map[int32]*Watch
	// byInode maps watched inodes to watches. Protected by mu.
	byInode map[vfs.Inode]*Watch
}

var _ vfs.FileDescriptionImpl = (*Inotify)(nil)

// New returns a new inotify file with one reference. flags are
// inotify_init1's (IN_NONBLOCK, IN_CLOEXEC; EINVAL for others);
// close-on-exec is the caller's business.
func New(flags uint32) (*vfs.FileDescription, error) {
	if flags&^(unix.IN_NONBLOCK|unix.IN_CLOEXEC) != 0 {
		return nil, unix.EINVAL
	}
	in := &Inotify{nextWD: 1, byWD: make(map[int32]*Watch), byInode: make(map[vfs.Inode]*Watch)}
	return vfs.NewFileDescription(in, unix.O_RDONLY|flags&unix.O_NONBLOCK, vfs.VirtualDentry{}), nil
}

// FromFile returns the instance of an inotify file, or nil.
func FromFile(fd *vfs.FileDescription) *Inotify {
	in, _ := fd.Impl().(*Inotify)
	return in
}

// Stream implements vfs.FileDescriptionImpl.Stream.
func (in *Inotify) Stream() bool { return true }

// Stat implements vfs.FileDescriptionImpl.Stat: an anonymous inode.
func (in *Inotify) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{Mask: unix.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// Release implements vfs.FileDescriptionImpl.Release: every watch goes.
func (in *Inotify) Release(ctx context.Context) {
	in.mu.Lock()
	ws := make([]*Watch, 0, len(in.byWD))
	for _, w := range in.byWD {
		w.gone = true
		vfs.RemoveWatch(w.inode, w)
		ws = append(ws, w)
	}
	in.byWD, in.byInode, in.events = nil, nil, nil
	in.mu.Unlock()
	for _, w := range ws {
		w.inode.DecRef(ctx)
	}
}

// CheckMask returns EINVAL for an inotify_add_watch mask with no known bit,
// or with both IN_MASK_ADD and IN_MASK_CREATE.
func CheckMask(mask uint32) error {
	if mask&validBits == 0 || mask&(unix.IN_MASK_ADD|unix.IN_MASK_CREATE) == unix.IN_MASK_ADD|unix.IN_MASK_CREATE {
		return unix.EINVAL
	}
	return nil
}

// AddWatch implements inotify_add_watch(2) for inode, which the caller
// resolved (honouring IN_DONT_FOLLOW and IN_ONLYDIR) and holds a
// reference on. It returns the watch descriptor.
func (in *Inotify) AddWatch(inode vfs.Inode, mask uint32) (int32, error) {
	if err := CheckMask(mask); err != nil {
		return 0, err
	}
	if !vfs.CanWatch(inode) {
		return 0, unix.EOPNOTSUPP
	}
	want := mask & (eventBits | keptFlags)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.byWD == nil {
		return 0, unix.EBADF
	}
	if w := in.byInode[inode]; w != nil {
		if mask&unix.IN_MASK_CREATE != 0 {
			return 0, unix.EEXIST
		}
		if mask&unix.IN_MASK_ADD != 0 {
			w.mask |= want
		} else {
			w.mask = want
		}
		return w.wd, nil
	}
	if len(in.byWD) >= maxWatches {
		return 0, unix.ENOSPC
	}
	w := &Watch{owner: in, wd: in.nextWD, inode: inode, mask: want}
	if err := vfs.AddWatch(inode, w); err != nil {
		return 0, err
	}
	inode.IncRef()
	in.nextWD++
	in.byWD[w.wd] = w
	in.byInode[inode] = w
	return w.wd, nil
}

// RmWatch implements inotify_rm_watch(2).
func (in *Inotify) RmWatch(ctx context.Context, wd int32) error {
	in.mu.Lock()
	w := in.byWD[wd]
	if w == nil {
		in.mu.Unlock()
		return unix.EINVAL
	}
	in.removeLocked(w)
	in.mu.Unlock()
	in.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
	w.inode.DecRef(ctx)
	return nil
}

// removeLocked detaches w and queues IN_IGNORED; the caller drops w's
// inode reference after unlocking.
//
// Preconditions: in.mu is held; w is not gone.
func (in *Inotify) removeLocked(w *Watch) {
	w.gone = true
	vfs.RemoveWatch(w.inode, w)
	delete(in.byWD, w.wd)
	delete(in.byInode, w.inode)
	in.queueLocked(event{wd: w.wd, mask: unix.IN_IGNORED})
}

// queueLocked appends e, coalescing it with an identical last event and
// replacing it with IN_Q_OVERFLOW when the queue is full.
//
// Preconditions: in.mu is held.
func (in *Inotify) queueLocked(e event) {
	if in.overflowed {
		return
	}
	if n := len(in.events); n > 0 && in.events[n-1] == e {
		return
	}
	if len(in.events) >= maxQueuedEvents {
		e = event{wd: -1, mask: unix.IN_Q_OVERFLOW}
		in.overflowed = true
	}
	in.events = append(in.events, e)
	in.bytes += e.size()
}

// Notify implements vfs.Watch.Notify.
func (w *Watch) Notify(ev *vfs.NotifyEvent) {
	in := w.owner
	var dropRef bool
	in.mu.Lock()
	if w.gone {
		in.mu.Unlock()
		return
	}
	bit := ev.Mask &^ unix.IN_ISDIR
	queued := false
	switch {
	case ev.Name != "" && bit&selfOnly != 0:
	case ev.Name != "" && ev.Unlinked && w.mask&unix.IN_EXCL_UNLINK != 0:
	case w.mask&bit != 0:
		in.queueLocked(event{wd: w.wd, mask: ev.Mask, cookie: ev.Cookie, name: ev.Name})
		queued = true
	}
	if (queued && w.mask&unix.IN_ONESHOT != 0) || (ev.Name == "" && bit == unix.IN_DELETE_SELF) {
		in.removeLocked(w)
		dropRef = true
		queued = true
	}
	in.mu.Unlock()
	if queued {
		in.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
	}
	if dropRef {
		// The watched inode is still referenced by whoever reported
		// the event, so this is never the last reference.
		w.inode.DecRef(context.Background())
	}
}

// Read implements vfs.FileDescriptionImpl.Read: as many whole records as
// fit, waiting for the first; EINVAL if the next does not fit at all.
func (in *Inotify) Read(ctx context.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	if len(dst) == 0 {
		return 0, unix.EINVAL
	}
	var w *waiter.Entry
	defer func() {
		if w != nil {
			in.queue.EventUnregister(w)
		}
	}()
	for {
		in.mu.Lock()
		if len(in.events) > 0 {
			n := 0
			i := 0
			for ; i < len(in.events); i++ {
				e := &in.events[i]
				sz := e.size()
				if n+sz > len(dst) {
					break
				}
				e.encode(dst[n:])
				n += sz
				in.bytes -= sz
				if e.mask == unix.IN_Q_OVERFLOW {
					in.overflowed = false
				}
			}
			in.events = in.events[i:]
			if len(in.events) == 0 {
				in.events = nil
			}
			in.mu.Unlock()
			if n == 0 {
				return 0, unix.EINVAL
			}
			return n, nil
		}
		in.mu.Unlock()
		if fd.StatusFlags()&unix.O_NONBLOCK != 0 {
			return 0, unix.EAGAIN
		}
		if w == nil {
			w = in.queue.Register(unix.EPOLLIN)
			continue
		}
		if err := vfs.Block(ctx, w.C); err != nil {
			return 0, err
		}
	}
}

// Write implements vfs.FileDescriptionImpl.Write: inotify files are not
// writable (they are opened read-only, so the VFS answers EBADF first).
func (in *Inotify) Write(context.Context, *vfs.FileDescription, []byte, int64) (int, int64, error) {
	return 0, 0, unix.EBADF
}

// Ioctl implements vfs.FileDescriptionImpl.Ioctl: FIONREAD.
func (in *Inotify) Ioctl(ctx context.Context, fd *vfs.FileDescription, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	if cmd != linux.FIONREAD {
		return 0, unix.ENOTTY
	}
	in.mu.Lock()
	n := in.bytes
	in.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	if _, err := mem.CopyOut(arg, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// Readiness implements vfs.FileDescriptionImpl.Readiness: readable while
// events are queued.
func (in *Inotify) Readiness(mask uint32) uint32 {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.events) > 0 {
		return mask & (unix.EPOLLIN | unix.EPOLLRDNORM)
	}
	return 0
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (in *Inotify) EventRegister(e *waiter.Entry) { in.queue.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (in *Inotify) EventUnregister(e *waiter.Entry) { in.queue.EventUnregister(e) }
