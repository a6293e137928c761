// Package ipc implements System V IPC (svipc(7)) for one IPC namespace:
// shared memory segments, semaphore sets and message queues, with their
// keys, identifiers, permissions, limits and the text of /proc/sysvipc.
//
// A Namespace is one sandbox's IPC namespace. Its objects are looked up by
// identifier (index + sequence*32768, as Linux builds them) or by key.
// Everything in a namespace is guarded by one mutex, Namespace.mu: SysV IPC
// is rarely hot, and one lock makes semop's all-or-nothing rule and the
// counts of /proc/sysvipc simple to get right.
//
// Blocking (semop, msgsnd, msgrcv) uses a waiter whose channel is closed
// when the object changes, when the object is removed, or when the
// timeout passes; the caller blocks on it through its Blocker (the task),
// which a signal interrupts. After every wake-up the operation is retried
// from the start under the lock.
//
// Lock order: kernel.Kernel.mu, then Namespace.mu (process exit applies
// semaphore adjustments with the kernel's lock held). Namespace.mu is a
// leaf otherwise: nothing here calls out while holding it, except into
// the memory file through tmpfs when a segment is destroyed.
package ipc

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Linux's IPC commands and flags (linux/ipc.h, shm.h, sem.h, msg.h).
const (
	IPCPrivate = 0
	IPCCreat   = 0o1000
	IPCExcl    = 0o2000
	IPCNoWait  = 0o4000

	IPCRmid = 0
	IPCSet  = 1
	IPCStat = 2
	IPCInfo = 3
	// IPC64 is the "new version" bit some libcs add to ctl commands.
	IPC64 = 0x100

	ShmLock    = 11
	ShmUnlock  = 12
	ShmStat    = 13
	ShmInfo    = 14
	ShmStatAny = 15

	ShmRdonly    = 0o10000
	ShmRnd       = 0o20000
	ShmRemap     = 0o40000
	ShmExec      = 0o100000
	ShmHugeTLB   = 0o4000
	ShmNoReserve = 0o10000

	// ShmDest and ShmLocked are mode bits of a segment.
	ShmDest   = 0o1000
	ShmLocked = 0o2000

	GetPID     = 11
	GetVal     = 12
	GetAll     = 13
	GetNCnt    = 14
	GetZCnt    = 15
	SetVal     = 16
	SetAll     = 17
	SemStat    = 18
	SemInfo    = 19
	SemStatAny = 20

	SemUndo = 0x1000

	MsgStat    = 11
	MsgInfo    = 12
	MsgStatAny = 13

	MsgNoError = 0o10000
	MsgExcept  = 0o20000
	MsgCopy    = 0o40000
)

// Fixed limits (Linux's compile-time constants).
const (
	// IPCMNI is the most objects of one kind a namespace holds; it also
	// bounds shmmni, semmni and msgmni.
	IPCMNI = 32768
	// SemVMX is the largest semaphore value; SemAEM the largest
	// adjustment kept for SEM_UNDO.
	SemVMX = 32767
	SemAEM = SemVMX
	// seqMultiplier turns a sequence number and index into an ID.
	seqMultiplier = IPCMNI
	pageSize      = 4096
)

// Bounds of the /proc/sys values, so that a root guest raising them still
// cannot make the Sentry keep unbounded state: every semaphore and every
// queued message costs Sentry memory (segments live in the memory file and
// count against the sandbox's memory like any tmpfs page).
const (
	// MaxSemMSL bounds semmsl (semaphores per set).
	MaxSemMSL = 65536
	// MaxSemMNS bounds the semaphores of the namespace, whatever semmns
	// says (Linux's default semmns is 1024000000; here it is capped).
	MaxSemMNS = 1 << 22
	// MaxSemOPM bounds semopm (operations per semop).
	MaxSemOPM = 4096
	// MaxMsgMax bounds msgmax (bytes per message); MaxMsgMNB bounds
	// msgmnb (bytes per queue).
	MaxMsgMax = 1 << 22
	MaxMsgMNB = 1 << 26
	// MaxMsgBytes bounds the bytes (and MaxMsgCount the messages)
	// queued in all queues of the namespace together: msgsnd fails with
	// ENOMEM beyond them, as Linux's does when memory runs out.
	MaxMsgBytes = 256 << 20
	MaxMsgCount = 1 << 20
	// MaxUndoEntries bounds the SEM_UNDO adjustments kept for all
	// processes (one per semaphore of each set a process used with
	// SEM_UNDO): semop fails with ENOMEM beyond it.
	MaxUndoEntries = 1 << 23
)

// Limits are the namespace's tunables (/proc/sys/kernel).
type Limits struct {
	ShmMax, ShmAll, ShmMNI         uint64
	SemMSL, SemMNS, SemOPM, SemMNI int32
	MsgMax, MsgMNB, MsgMNI         int32
}

// DefaultLimits are Linux's defaults (ipc/util.h, shm.h, sem.h, msg.h),
// with semmns capped at MaxSemMNS.
func DefaultLimits() Limits {
	return Limits{
		ShmMax: 1<<64 - 1 - 1<<24, ShmAll: 1<<64 - 1 - 1<<24, ShmMNI: 4096,
		SemMSL: 32000, SemMNS: MaxSemMNS, SemOPM: 500, SemMNI: 32000,
		MsgMax: 8192, MsgMNB: 16384, MsgMNI: 32000,
	}
}

// Creds are the caller's identity, as the permission checks need it.
type Creds struct {
	UID, GID uint32
	Groups   []uint32
	// IPCOwner is CAP_IPC_OWNER, SysAdmin CAP_SYS_ADMIN, Resource
	// CAP_SYS_RESOURCE, IPCLock CAP_IPC_LOCK.
	IPCOwner, SysAdmin, Resource, IPCLock bool
	// PID is the caller's process ID.
	PID int32
}

func (c *Creds) inGroup(g uint32) bool {
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

// Blocker blocks until ch is closed (nil) or a signal arrives (an
// interruption error). The task implements it.
type Blocker interface {
	Block(ch <-chan struct{}) error
}

// Perm is an object's ipc_perm.
type Perm struct {
	Key                  int32
	UID, GID, CUID, CGID uint32
	Mode                 uint16
	Seq                  uint16
}

// Permission bits the checks ask for.
const (
	permRead  = 4
	permWrite = 2
	permExec  = 1
)

// check is Linux's ipcperms: want (a combination of permRead, permWrite,
// permExec, or the low bits of a flag) against the owner, group or other
// bits of the mode; CAP_IPC_OWNER passes.
func (p *Perm) check(c *Creds, want uint16) bool {
	granted := p.Mode
	switch {
	case c.UID == p.CUID || c.UID == p.UID:
		granted >>= 6
	case c.inGroup(p.CGID) || c.inGroup(p.GID):
		granted >>= 3
	}
	want = (want | want>>3 | want>>6) & 7
	if want&^granted&7 == 0 {
		return true
	}
	return c.IPCOwner
}

// isOwner says whether c may IPC_SET or IPC_RMID the object: its owner or
// creator, or CAP_SYS_ADMIN.
func (p *Perm) isOwner(c *Creds) bool {
	return c.UID == p.CUID || c.UID == p.UID || c.SysAdmin
}

// set applies IPC_SET's uid, gid and mode.
func (p *Perm) set(uid, gid uint32, mode uint16) {
	p.UID, p.GID = uid, gid
	p.Mode = p.Mode&^0o777 | mode&0o777
}

// object is what every IPC object has.
type object struct {
	perm Perm
	id   int32
	// removed is set by IPC_RMID (or, for a segment, once it is gone).
	removed bool
}

// registry maps indexes and keys to objects of one kind.
type registry[T any] struct {
	objs map[int32]T // by index
	keys map[int32]int32
	seq  uint16
}

func (r *registry[T]) init() {
	r.objs = make(map[int32]T)
	r.keys = make(map[int32]int32)
}

// allocIndex returns the lowest free index below max, or -1.
func (r *registry[T]) allocIndex(max int) int32 {
	if max > IPCMNI {
		max = IPCMNI
	}
	if len(r.objs) >= max {
		return -1
	}
	for i := int32(0); i < int32(max); i++ {
		if _, ok := r.objs[i]; !ok {
			return i
		}
	}
	return -1
}

// add places o at a new index and returns its ID.
func (r *registry[T]) add(idx int32, key int32, o T, obj *object) int32 {
	r.seq++
	if r.seq >= 1<<15 {
		r.seq = 0
	}
	obj.perm.Seq = r.seq
	obj.id = int32(r.seq)*seqMultiplier + idx
	r.objs[idx] = o
	if key != IPCPrivate {
		r.keys[key] = idx
	}
	return obj.id
}

// lookup returns the object whose ID is id.
func (r *registry[T]) lookup(id int32, get func(T) *object) (T, bool) {
	var zero T
	if id < 0 {
		return zero, false
	}
	o, ok := r.objs[id%seqMultiplier]
	if !ok || get(o).id != id {
		return zero, false
	}
	return o, true
}

// remove forgets the object at index idx.
func (r *registry[T]) remove(obj *object) {
	idx := obj.id % seqMultiplier
	delete(r.objs, idx)
	if obj.perm.Key != IPCPrivate {
		if i, ok := r.keys[obj.perm.Key]; ok && i == idx {
			delete(r.keys, obj.perm.Key)
		}
	}
}

// maxIndex is the highest index in use, or 0 (IPC_INFO's result).
func (r *registry[T]) maxIndex() int32 {
	m := int32(-1)
	for i := range r.objs {
		m = max(m, i)
	}
	return max(m, 0)
}

// Namespace is one IPC namespace.
type Namespace struct {
	// newSegment creates the memory of a segment (a tmpfs file).
	mem SegmentMemory

	mu     sync.Mutex
	limits Limits
	shms   registry[*Segment]
	sems   registry[*semSet]
	msgs   registry[*msgQueue]
	// shmTotPages counts the pages of every segment (shmall's meter).
	shmTotPages uint64
	// semTotal counts the semaphores of every set (semmns's meter).
	semTotal int
	// msgBytes and msgCount are queued in every queue.
	msgBytes, msgCount int
	// undo holds the SEM_UNDO adjustments of each process, by PID,
	// then by set ID; undoEntries counts their semaphores.
	undo        map[int32]map[int32][]int16
	undoEntries int
}

// NewNamespace returns an empty namespace with Linux's default limits;
// mem creates segment memory.
func NewNamespace(mem SegmentMemory) *Namespace {
	ns := &Namespace{mem: mem, limits: DefaultLimits(), undo: make(map[int32]map[int32][]int16)}
	ns.shms.init()
	ns.sems.init()
	ns.msgs.init()
	return ns
}

// Limits returns the current limits.
func (ns *Namespace) Limits() Limits {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.limits
}

// SetLimits replaces the limits after clamping them to their bounds (a
// write to /proc/sys/kernel).
func (ns *Namespace) SetLimits(l Limits) {
	clamp := func(v *int32, lo, hi int32) { *v = min(max(*v, lo), hi) }
	clamp(&l.SemMSL, 0, MaxSemMSL)
	clamp(&l.SemMNS, 0, MaxSemMNS)
	clamp(&l.SemOPM, 0, MaxSemOPM)
	clamp(&l.SemMNI, 0, IPCMNI)
	clamp(&l.MsgMax, 0, MaxMsgMax)
	clamp(&l.MsgMNB, 0, MaxMsgMNB)
	clamp(&l.MsgMNI, 0, IPCMNI)
	l.ShmMNI = min(l.ShmMNI, IPCMNI)
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ns.limits = l
}

// now is the time stamps' clock.
func now() int64 { return time.Now().Unix() }

// waiter is one blocked caller: ch is closed once, by a change of the
// object it waits on, by the object's removal or by its timeout.
type waiter struct {
	ch   chan struct{}
	once sync.Once
}

func newWaiter() *waiter { return &waiter{ch: make(chan struct{})} }

func (w *waiter) fire() { w.once.Do(func() { close(w.ch) }) }

// waitQueue is a set of waiters, all woken on any change.
type waitQueue map[*waiter]struct{}

func (q *waitQueue) add(w *waiter) {
	if *q == nil {
		*q = make(waitQueue)
	}
	(*q)[w] = struct{}{}
}

func (q waitQueue) wakeAll() {
	for w := range q {
		w.fire()
		delete(q, w)
	}
}

// errTimeout is what a semtimedop whose deadline passed returns.
var errTimeout = unix.EAGAIN

// block waits on w until it fires, a signal interrupts (the blocker's
// error, which the caller turns into EINTR) or deadline passes (zero: no
// deadline). timedOut reports the last case.
func block(b Blocker, w *waiter, deadline time.Time) (timedOut bool, err error) {
	var timer *time.Timer
	var expired bool
	var mu sync.Mutex
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return true, nil
		}
		timer = time.AfterFunc(d, func() {
			mu.Lock()
			expired = true
			mu.Unlock()
			w.fire()
		})
		defer timer.Stop()
	}
	err = b.Block(w.ch)
	mu.Lock()
	defer mu.Unlock()
	return expired, err
}

// zeroTime is no deadline.
var zeroTime time.Time
