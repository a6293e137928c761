// Package mqueue implements POSIX message queues (mq_overview(7)): named
// queues of prioritised messages, their descriptors (files that poll,
// select and epoll see readable while a message waits and writable while
// there is room), mq_notify's one registration per queue, and the limits
// of /proc/sys/fs/mqueue.
//
// A Registry holds the queues of one sandbox by name (there is one IPC
// namespace per sandbox). The mqueue filesystem shows the same registry.
//
// Lock order: Registry.mu, then Queue.mu, then waiter.Queue.mu (through
// Notify), then kernel.Kernel.mu (a notification signal is sent after
// Queue.mu is released).
package mqueue

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// Linux's fixed limits (include/linux/ipc_namespace.h, mqueue.h).
const (
	// PrioMax is MQ_PRIO_MAX: priorities are below it.
	PrioMax = 32768
	// HardMsgMax and HardMsgSizeMax bound msg_max and msgsize_max, and
	// what CAP_SYS_RESOURCE may ask for.
	HardMsgMax     = 65536
	HardMsgSizeMax = 16 << 20
	// HardQueuesMax bounds queues_max.
	HardQueuesMax = 1024
	// MaxQueues bounds the queues of the sandbox even for
	// CAP_SYS_RESOURCE, which Linux lets pass queues_max.
	MaxQueues = 65536
	// MaxQueuedBytes bounds the bytes queued in all queues of the
	// sandbox: a send beyond it fails with ENOMEM. RLIMIT_MSGQUEUE bounds
	// each user's queues too, but root may raise it.
	MaxQueuedBytes = 256 << 20
	nameMax        = 255
)

// Limits are /proc/sys/fs/mqueue's values.
type Limits struct {
	QueuesMax, MsgMax, MsgSizeMax, MsgDefault, MsgSizeDefault int64
}

// DefaultLimits are Linux's defaults.
func DefaultLimits() Limits {
	return Limits{QueuesMax: 256, MsgMax: 10, MsgSizeMax: 8192, MsgDefault: 10, MsgSizeDefault: 8192}
}

// Registry is the set of queues of one IPC namespace.
type Registry struct {
	mu     sync.Mutex
	queues map[string]*Queue
	limits Limits
	// queued counts the bytes of every queued message.
	queued int64
	// userBytes counts RLIMIT_MSGQUEUE's meter per user.
	userBytes map[uint32]int64
	// nextIno numbers the queues' inodes (the root is 1).
	nextIno uint64
}

// registries maps each kernel to its registry.
var registries sync.Map // *kernel.Kernel -> *Registry

// For returns the registry of k's sandbox, made on first use.
func For(k *kernel.Kernel) *Registry {
	if r, ok := registries.Load(k); ok {
		return r.(*Registry)
	}
	r, _ := registries.LoadOrStore(k, NewRegistry())
	return r.(*Registry)
}

// NewRegistry returns an empty registry with Linux's default limits.
func NewRegistry() *Registry {
	return &Registry{queues: make(map[string]*Queue), limits: DefaultLimits(), userBytes: make(map[uint32]int64)}
}

// Limits returns the limits.
func (r *Registry) Limits() Limits {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limits
}

// SetLimits replaces the limits; the caller has checked their bounds.
func (r *Registry) SetLimits(l Limits) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limits = l
}

// message is one queued message.
type message struct {
	prio uint32
	data []byte
}

// notification is a process's mq_notify registration.
type notification struct {
	tg     *kernel.ThreadGroup
	notify int32
	signo  int32
	value  uint64
}

// Queue is a message queue. Linux: struct mqueue_inode_info.
type Queue struct {
	reg  *Registry
	name string
	// Immutable after creation.
	maxMsg, msgSize int64
	uid, gid        uint32
	// accounted is what the queue charges to its creator's
	// RLIMIT_MSGQUEUE.
	accounted int64
	// chargedUID is the user accounted is charged to.
	chargedUID uint32
	created    time.Time
	ino        uint64

	mu sync.Mutex
	// msgs are sorted by priority, highest first, FIFO within one.
	msgs   []message
	qsize  int64
	mode   uint32
	notify *notification
	// receiving counts the callers blocked in mq_timedreceive.
	receiving int
	linked    bool
	// opens counts the open descriptions. Protected by reg.mu.
	opens int
	// events wakes readers, writers and pollers.
	events waiter.Queue
}

// Attr is struct mq_attr.
type Attr struct {
	Flags, MaxMsg, MsgSize, CurMsgs int64
}

// Name returns the queue's name (without the leading slash).
func (q *Queue) Name() string { return q.name }

// Owner returns the queue's owner, group and permission bits.
func (q *Queue) Owner() (uid, gid, mode uint32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.uid, q.gid, q.mode
}

// Created returns when the queue was made.
func (q *Queue) Created() time.Time { return q.created }

// Info returns what reading the queue's file shows, as Linux does.
func (q *Queue) Info() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var notify, signo, pid int32
	if n := q.notify; n != nil {
		notify, pid = n.notify, n.tg.ID()
		if n.notify == kernel.SIGEV_SIGNAL {
			signo = n.signo
		}
	}
	return fmt.Sprintf("QSIZE:%-10d NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", q.qsize, notify, signo, pid)
}

// Names returns the names of the linked queues, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.queues))
	for n := range r.queues {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the queue named name, or nil.
func (r *Registry) Lookup(name string) *Queue {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.queues[name]
}

// Caller is who calls mq_open.
type Caller struct {
	UID, GID uint32
	Groups   []uint32
	// Resource is CAP_SYS_RESOURCE, DACOverride CAP_DAC_OVERRIDE,
	// FOwner CAP_FOWNER.
	Resource, DACOverride, FOwner bool
	// RlimitMsgQueue is the caller's RLIMIT_MSGQUEUE (soft).
	RlimitMsgQueue uint64
}

// access checks mode bits for want (4 read, 2 write).
func (c *Caller) access(uid, gid, mode uint32, want uint32) bool {
	if c.DACOverride {
		return true
	}
	switch {
	case c.UID == uid:
		mode >>= 6
	case c.inGroup(gid):
		mode >>= 3
	}
	return want&^mode&7 == 0
}

func (c *Caller) inGroup(g uint32) bool {
	if c.GID == g {
		return true
	}
	for _, x := range c.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// CheckName validates a queue name as the kernel gets it (glibc strips
// the leading slash): ENOENT for an empty name (getname), EACCES for
// ".", ".." or a name with a slash (Linux's lookup_one_len), ENAMETOOLONG
// beyond NAME_MAX.
func CheckName(name string) error {
	if name == "" {
		return unix.ENOENT
	}
	if len(name) > nameMax {
		return unix.ENAMETOOLONG
	}
	if name == "." || name == ".." {
		return unix.EACCES
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return unix.EACCES
		}
	}
	return nil
}

// MaxMsgSize returns the message size of the queue f describes.
func MaxMsgSize(f *vfs.FileDescription) int64 { return QueueOf(f).msgSize }

// Open implements mq_open(2) for a checked name: it returns a new open
// description of the queue, created if flags has O_CREAT. attr is nil
// for the default attributes.
func (r *Registry) Open(c *Caller, name string, flags int32, mode uint32, attr *Attr) (*vfs.FileDescription, error) {
	acc := flags & unix.O_ACCMODE
	if acc == unix.O_ACCMODE {
		return nil, unix.EINVAL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queues[name]
	if q != nil {
		if flags&unix.O_CREAT != 0 && flags&unix.O_EXCL != 0 {
			return nil, unix.EEXIST
		}
		want := uint32(4)
		switch acc {
		case unix.O_WRONLY:
			want = 2
		case unix.O_RDWR:
			want = 6
		}
		uid, gid, m := q.Owner()
		if !c.access(uid, gid, m, want) {
			return nil, unix.EACCES
		}
		return q.newFDLocked(flags), nil
	}
	if flags&unix.O_CREAT == 0 {
		return nil, unix.ENOENT
	}
	q, err := r.createLocked(c, name, mode, attr)
	if err != nil {
		return nil, err
	}
	return q.newFDLocked(flags), nil
}

// createLocked makes the queue name (which does not exist).
//
// Preconditions: r.mu is held.
func (r *Registry) createLocked(c *Caller, name string, mode uint32, attr *Attr) (*Queue, error) {
	l := r.limits
	maxMsg, msgSize := min(l.MsgDefault, l.MsgMax), min(l.MsgSizeDefault, l.MsgSizeMax)
	if attr != nil {
		if attr.MaxMsg <= 0 || attr.MsgSize <= 0 {
			return nil, unix.EINVAL
		}
		if c.Resource {
			if attr.MaxMsg > HardMsgMax || attr.MsgSize > HardMsgSizeMax {
				return nil, unix.EINVAL
			}
		} else if attr.MaxMsg > l.MsgMax || attr.MsgSize > l.MsgSizeMax {
			return nil, unix.EINVAL
		}
		maxMsg, msgSize = attr.MaxMsg, attr.MsgSize
	}
	if (int64(len(r.queues)) >= l.QueuesMax && !c.Resource) || len(r.queues) >= MaxQueues {
		return nil, unix.ENOSPC
	}
	// Linux's charge: a pointer per message slot plus the data.
	cost := maxMsg*8 + maxMsg*msgSize
	if lim := c.RlimitMsgQueue; lim != unix.RLIM_INFINITY && uint64(r.userBytes[c.UID]+cost) > lim {
		return nil, unix.EMFILE
	}
	r.nextIno++
	q := &Queue{reg: r, name: name, maxMsg: maxMsg, msgSize: msgSize, uid: c.UID, gid: c.GID,
		mode: mode & 0o777, accounted: cost, chargedUID: c.UID, created: time.Now(), linked: true, ino: r.nextIno + 1}
	r.userBytes[c.UID] += cost
	r.queues[name] = q
	return q, nil
}

// Unlink implements mq_unlink(2): the name goes at once, the queue when
// its last descriptor is closed.
func (r *Registry) Unlink(c *Caller, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queues[name]
	if q == nil {
		return unix.ENOENT
	}
	// Only the queue's owner (or CAP_FOWNER) removes it; Linux says
	// EACCES (mq_unlink(3)).
	if c.UID != q.uid && !c.FOwner {
		return unix.EACCES
	}
	r.unlinkLocked(q)
	return nil
}

// unlinkLocked removes q's name; q goes with its last description.
//
// Preconditions: r.mu is held.
func (r *Registry) unlinkLocked(q *Queue) {
	delete(r.queues, q.name)
	q.mu.Lock()
	q.linked = false
	q.mu.Unlock()
	if q.opens == 0 {
		r.freeLocked(q)
	}
}

// freeLocked drops what an unlinked, closed queue holds.
//
// Preconditions: r.mu is held; q is unlinked and has no description.
func (r *Registry) freeLocked(q *Queue) {
	q.mu.Lock()
	r.queued -= q.qsize
	q.msgs, q.qsize = nil, 0
	q.mu.Unlock()
	r.userBytes[q.chargedUID] -= q.accounted
	if r.userBytes[q.chargedUID] <= 0 {
		delete(r.userBytes, q.chargedUID)
	}
}

// fd is an open queue description. Linux: a file of the mqueue
// filesystem.
type fd struct {
	vfs.FileDescriptionDefaultImpl
	q *Queue
}

var _ vfs.FileDescriptionImpl = (*fd)(nil)

// newFDLocked returns a new open description of q.
//
// Preconditions: q.reg.mu is held.
func (q *Queue) newFDLocked(flags int32) *vfs.FileDescription {
	q.opens++
	return vfs.NewFileDescription(&fd{q: q}, uint32(flags&(unix.O_ACCMODE|unix.O_NONBLOCK)), vfs.VirtualDentry{})
}

// QueueOf returns the queue f describes, or nil if f is not a queue
// descriptor.
func QueueOf(f *vfs.FileDescription) *Queue {
	if d, ok := f.Impl().(*fd); ok {
		return d.q
	}
	return nil
}

// Release implements vfs.FileDescriptionImpl.Release: the registration of
// a process that closes its last description goes, and an unlinked queue
// with no description left is freed.
func (d *fd) Release(ctx context.Context) {
	q := d.q
	r := q.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	q.opens--
	q.mu.Lock()
	if t := kernel.TaskFromContext(ctx); t != nil && q.notify != nil && q.notify.tg == t.ThreadGroup() {
		q.notify = nil
	}
	gone := q.opens == 0 && !q.linked
	q.mu.Unlock()
	if gone {
		r.freeLocked(q)
	}
}

// Stat implements vfs.FileDescriptionImpl.Stat: a regular file of the
// mqueue filesystem whose size is the bytes queued.
func (d *fd) Stat(context.Context) (unix.Statx_t, error) {
	q := d.q
	q.mu.Lock()
	defer q.mu.Unlock()
	ts := unix.StatxTimestamp{Sec: q.created.Unix(), Nsec: uint32(q.created.Nanosecond())}
	return unix.Statx_t{Mask: unix.STATX_BASIC_STATS, Mode: unix.S_IFREG | uint16(q.mode), Nlink: 1,
		Uid: q.uid, Gid: q.gid, Size: uint64(q.qsize), Blksize: 4096, Atime: ts, Mtime: ts, Ctime: ts}, nil
}

// Read implements vfs.FileDescriptionImpl.Read: the queue's status line.
func (d *fd) Read(ctx context.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	s := d.q.Info()
	if off >= int64(len(s)) {
		return 0, nil
	}
	return copy(dst, s[off:]), nil
}

// Readiness implements vfs.FileDescriptionImpl.Readiness.
func (d *fd) Readiness(mask uint32) uint32 {
	q := d.q
	q.mu.Lock()
	defer q.mu.Unlock()
	var r uint32
	if len(q.msgs) > 0 {
		r |= unix.EPOLLIN | unix.EPOLLRDNORM
	}
	if int64(len(q.msgs)) < q.maxMsg {
		r |= unix.EPOLLOUT | unix.EPOLLWRNORM
	}
	return r & mask
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (d *fd) EventRegister(e *waiter.Entry) { d.q.events.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (d *fd) EventUnregister(e *waiter.Entry) { d.q.events.EventUnregister(e) }

// wait blocks until e fires, the deadline (zero: none) passes (ETIMEDOUT)
// or a signal arrives (vfs.ErrInterrupted, restartable as Linux's
// ERESTARTSYS).
func wait(ctx context.Context, e *waiter.Entry, deadline time.Time) error {
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return unix.ETIMEDOUT
		}
		timer := time.AfterFunc(d, func() {
			select {
			case e.C <- struct{}{}:
			default:
			}
		})
		defer timer.Stop()
	}
	if err := vfs.Block(ctx, e.C); err != nil {
		return err
	}
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return unix.ETIMEDOUT
	}
	return nil
}

// Send implements mq_timedsend(2) once the message is copied in: prio and
// the timeout were checked, f is open for writing.
func Send(ctx context.Context, f *vfs.FileDescription, data []byte, prio uint32, deadline time.Time, sender Sender) error {
	q := QueueOf(f)
	if int64(len(data)) > q.msgSize {
		return unix.EMSGSIZE
	}
	var e *waiter.Entry
	defer func() {
		if e != nil {
			q.events.EventUnregister(e)
		}
	}()
	for {
		q.mu.Lock()
		if int64(len(q.msgs)) < q.maxMsg {
			r := q.reg
			r.mu.Lock()
			if r.queued+int64(len(data)) > MaxQueuedBytes {
				r.mu.Unlock()
				q.mu.Unlock()
				return unix.ENOMEM
			}
			r.queued += int64(len(data))
			r.mu.Unlock()
			i := sort.Search(len(q.msgs), func(i int) bool { return q.msgs[i].prio < prio })
			q.msgs = append(q.msgs, message{})
			copy(q.msgs[i+1:], q.msgs[i:])
			q.msgs[i] = message{prio: prio, data: data}
			q.qsize += int64(len(data))
			var n *notification
			if len(q.msgs) == 1 && q.receiving == 0 && q.notify != nil {
				n, q.notify = q.notify, nil
			}
			q.mu.Unlock()
			q.events.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
			if n != nil && n.notify == kernel.SIGEV_SIGNAL {
				info := linux.SignalInfo{Signo: n.signo, Code: linux.SI_MESGQ}
				info.SetPID(sender.PID)
				info.SetUID(sender.UID)
				info.SetValue(n.value)
				if l := n.tg.Leader(); l != nil {
					l.SendSignal(&info, true)
				}
			}
			return nil
		}
		q.mu.Unlock()
		if f.StatusFlags()&unix.O_NONBLOCK != 0 {
			return unix.EAGAIN
		}
		if e == nil {
			e = q.events.Register(unix.EPOLLOUT)
			continue
		}
		if err := wait(ctx, e, deadline); err != nil {
			return err
		}
	}
}

// Receive implements mq_timedreceive(2): f is open for reading; size is
// the caller's buffer size.
func Receive(ctx context.Context, f *vfs.FileDescription, size int64, deadline time.Time) ([]byte, uint32, error) {
	q := QueueOf(f)
	if size < q.msgSize {
		return nil, 0, unix.EMSGSIZE
	}
	var e *waiter.Entry
	waiting := false
	defer func() {
		if e != nil {
			q.events.EventUnregister(e)
		}
		if waiting {
			q.mu.Lock()
			q.receiving--
			q.mu.Unlock()
		}
	}()
	for {
		q.mu.Lock()
		if len(q.msgs) > 0 {
			m := q.msgs[0]
			q.msgs = q.msgs[1:]
			q.qsize -= int64(len(m.data))
			q.mu.Unlock()
			q.reg.mu.Lock()
			q.reg.queued -= int64(len(m.data))
			q.reg.mu.Unlock()
			q.events.Notify(unix.EPOLLOUT | unix.EPOLLWRNORM)
			return m.data, m.prio, nil
		}
		if f.StatusFlags()&unix.O_NONBLOCK != 0 {
			q.mu.Unlock()
			return nil, 0, unix.EAGAIN
		}
		if !waiting {
			waiting = true
			q.receiving++
		}
		q.mu.Unlock()
		if e == nil {
			e = q.events.Register(unix.EPOLLIN)
			continue
		}
		if err := wait(ctx, e, deadline); err != nil {
			return nil, 0, err
		}
	}
}

// Notify implements mq_notify(2): ev nil removes the caller's
// registration; otherwise ev.notify is SIGEV_NONE or SIGEV_SIGNAL
// (checked by the caller). EBUSY if another process is registered.
func Notify(f *vfs.FileDescription, tg *kernel.ThreadGroup, ev *Event) error {
	q := QueueOf(f)
	q.mu.Lock()
	defer q.mu.Unlock()
	if ev == nil {
		if q.notify != nil && q.notify.tg == tg {
			q.notify = nil
		}
		return nil
	}
	if q.notify != nil {
		return unix.EBUSY
	}
	q.notify = &notification{tg: tg, notify: ev.Notify, signo: ev.Signo, value: ev.Value}
	return nil
}

// Sender identifies the sender in a notification's siginfo.
type Sender struct {
	PID int32
	UID uint32
}

// Event is the part of struct sigevent mq_notify uses.
type Event struct {
	Notify, Signo int32
	Value         uint64
}

// GetAttr returns f's attributes (mq_getsetattr's old value).
func GetAttr(f *vfs.FileDescription) Attr {
	q := QueueOf(f)
	q.mu.Lock()
	defer q.mu.Unlock()
	return Attr{Flags: int64(f.StatusFlags() & unix.O_NONBLOCK), MaxMsg: q.maxMsg, MsgSize: q.msgSize, CurMsgs: int64(len(q.msgs))}
}

// Seek implements vfs.FileDescriptionImpl.Seek over the status line.
func (d *fd) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	return vfs.GenericSeek(cur, off, whence, int64(len(d.q.Info())))
}
