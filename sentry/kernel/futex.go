package kernel

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"golang.org/x/sys/unix"
)

// futexKey identifies a futex word: a memory-file offset for shared
// mappings (mm nil), or an address within one address space.
type futexKey struct {
	mm   *mm.MemoryManager
	addr uint64
}

// futexNotify is how a blocked task learns it was woken. One futex_waitv
// call has one notify shared by the waiters of all its words. Its fields
// are protected by futexTable.mu.
type futexNotify struct {
	// ch is closed by the first wake-up or by the timeout.
	ch     chan struct{}
	closed bool
	// fired is set by a waker (never by the timeout): the wait succeeded.
	// index is then the waiter that was woken (futex_waitv's result).
	fired bool
	index int
}

func newFutexNotify() *futexNotify { return &futexNotify{ch: make(chan struct{})} }

// closeLocked releases the blocked task.
func (n *futexNotify) closeLocked() {
	if !n.closed {
		n.closed = true
		close(n.ch)
	}
}

// fireLocked records a wake-up of waiter index and releases the task. It
// returns false if the task had already been woken.
func (n *futexNotify) fireLocked(index int) bool {
	if n.fired {
		return false
	}
	n.fired, n.index = true, index
	n.closeLocked()
	return true
}

// futexWaiter is one task blocked on one futex word: in FUTEX_WAIT (or
// futex_waitv, one waiter per word) or, with pi set, in FUTEX_LOCK_PI.
type futexWaiter struct {
	key    futexKey
	bitset uint32
	n      *futexNotify
	index  int
	// pi waiters wait for the lock itself: FUTEX_UNLOCK_PI hands it to
	// the first one by storing its tid in the word. t is the waiting task
	// and addr the word's address in its address space.
	pi   bool
	t    *Task
	addr uint64
}

// futexTable holds the waiters of every futex in the sandbox. Linux has
// no priority inheritance to do here: scheduling is the host's, so PI
// futexes are plain sleeping locks whose word follows Linux's protocol
// (owner TID, FUTEX_WAITERS, FUTEX_OWNER_DIED).
//
// Lock order: Kernel.mu, then futexTable.mu, then mm.MemoryManager.mu
// (words are read and written under mu, so compare-and-block is atomic
// against wakers).
type futexTable struct {
	mu sync.Mutex
	// waiters are in arrival order. Protected by mu.
	waiters map[futexKey][]*futexWaiter
}

// FutexBitsetMatchAny matches every waiter.
const FutexBitsetMatchAny = ^uint32(0)

// futexKey returns the key of the word at addr. A private futex (or one
// in a private mapping) is keyed by address space and address; Linux does
// not look at the mapping of a private futex at all, so neither does this.
func (t *Task) futexKey(addr uint64, private bool) (futexKey, error) {
	if addr&3 != 0 {
		return futexKey{}, unix.EINVAL
	}
	if private {
		return futexKey{mm: t.mm, addr: addr}, nil
	}
	key, shared, err := t.mm.FutexKey(addr)
	if err != nil {
		return futexKey{}, err
	}
	if shared {
		return futexKey{addr: key}, nil
	}
	return futexKey{mm: t.mm, addr: addr}, nil
}

func (t *Task) loadFutexWord(addr uint64) (uint32, error) {
	var b [4]byte
	if _, err := t.mm.CopyIn(addr, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// updateFutexWord atomically transforms the word at addr (see
// mm.UpdateUint32); faults become EFAULT.
func (t *Task) updateFutexWord(addr uint64, fn func(old uint32) (uint32, bool)) (uint32, error) {
	old, err := t.mm.UpdateUint32(addr, fn)
	if err != nil {
		return 0, unix.EFAULT
	}
	return old, nil
}

func (ft *futexTable) addLocked(w *futexWaiter) {
	if ft.waiters == nil {
		ft.waiters = map[futexKey][]*futexWaiter{}
	}
	ft.waiters[w.key] = append(ft.waiters[w.key], w)
}

func (ft *futexTable) removeLocked(w *futexWaiter) {
	ws := ft.waiters[w.key]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(ft.waiters, w.key)
	} else {
		ft.waiters[w.key] = ws
	}
}

// wakeLocked wakes up to n waiters of key matching bitset. Like Linux it
// wakes one even when n is 0. PI waiters are left alone.
func (ft *futexTable) wakeLocked(key futexKey, n int, bitset uint32) int {
	woken := 0
	ws := ft.waiters[key]
	kept := ws[:0]
	for _, w := range ws {
		if w.pi || w.bitset&bitset == 0 || (woken > 0 && woken >= n) {
			kept = append(kept, w)
			continue
		}
		if w.n.fireLocked(w.index) {
			woken++
		}
		// A waiter whose task was already woken through another word
		// (futex_waitv) just leaves.
	}
	for i := len(kept); i < len(ws); i++ {
		ws[i] = nil
	}
	if len(kept) == 0 {
		delete(ft.waiters, key)
	} else {
		ft.waiters[key] = kept
	}
	return woken
}

// firstPIWaiterLocked returns the first LOCK_PI waiter of key and whether
// there are others.
func (ft *futexTable) firstPIWaiterLocked(key futexKey) (first *futexWaiter, more bool) {
	for _, w := range ft.waiters[key] {
		if !w.pi {
			continue
		}
		if first != nil {
			return first, true
		}
		first = w
	}
	return first, false
}

// blockOnFutex waits until n is closed, a signal arrives or the deadline
// (zero: none) passes. It returns nil if a waker fired n (whatever else
// happened), vfs.ErrInterrupted for a signal, or ETIMEDOUT; in the last
// two cases the caller still has to remove its waiters.
//
// Preconditions: ft.mu is not held.
func (t *Task) blockOnFutex(n *futexNotify, deadline time.Time) (fired bool, err error) {
	ft := &t.k.futexes
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			ft.mu.Lock()
			n.closeLocked()
			ft.mu.Unlock()
		} else {
			timer := time.AfterFunc(d, func() {
				ft.mu.Lock()
				n.closeLocked()
				ft.mu.Unlock()
			})
			defer timer.Stop()
		}
	}
	err = t.Block(n.ch)
	ft.mu.Lock()
	fired = n.fired
	ft.mu.Unlock()
	if fired {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, unix.ETIMEDOUT
}

// FutexWait implements FUTEX_WAIT and FUTEX_WAIT_BITSET: if the word at
// addr still holds val, sleep until woken, the deadline (zero: none)
// passes (ETIMEDOUT), or a signal arrives. A wait with a deadline that a
// signal interrupts is restarted (restart_syscall) with the same deadline
// unless a handler runs, as Linux's futex_wait_restart.
func (t *Task) FutexWait(addr uint64, private bool, val, bitset uint32, deadline time.Time) error {
	return t.futexWait(addr, private, val, bitset, deadline, true)
}

// FutexWait2 implements futex_wait(2): FutexWait, except that a signal
// that interrupts it restarts the call itself (Linux's ERESTARTSYS), as
// its deadline is always absolute.
func (t *Task) FutexWait2(addr uint64, private bool, val, bitset uint32, deadline time.Time) error {
	return t.futexWait(addr, private, val, bitset, deadline, false)
}

func (t *Task) futexWait(addr uint64, private bool, val, bitset uint32, deadline time.Time, restartBlock bool) error {
	if bitset == 0 {
		return unix.EINVAL
	}
	ft := &t.k.futexes
	key, err := t.futexKey(addr, private)
	if err != nil {
		return err
	}
	ft.mu.Lock()
	cur, err := t.loadFutexWord(addr)
	if err != nil {
		ft.mu.Unlock()
		return err
	}
	if cur != val {
		ft.mu.Unlock()
		return unix.EAGAIN
	}
	w := &futexWaiter{key: key, bitset: bitset, n: newFutexNotify()}
	ft.addLocked(w)
	ft.mu.Unlock()

	fired, err := t.blockOnFutex(w.n, deadline)
	if fired {
		return nil
	}
	ft.mu.Lock()
	// The waiter may have been requeued: remove it by its current key.
	if w.n.fired {
		ft.mu.Unlock()
		return nil
	}
	ft.removeLocked(w)
	ft.mu.Unlock()
	if err == unix.ETIMEDOUT {
		return err
	}
	if restartBlock && !deadline.IsZero() {
		t.SetRestartBlock(func(t *Task) (uint64, error) {
			return 0, t.FutexWait(addr, private, val, bitset, deadline)
		})
		return linux.ERESTART_RESTARTBLOCK
	}
	return err
}

// FutexWake implements FUTEX_WAKE and FUTEX_WAKE_BITSET.
func (t *Task) FutexWake(addr uint64, private bool, n int, bitset uint32) (int, error) {
	if bitset == 0 {
		return 0, unix.EINVAL
	}
	key, err := t.futexKey(addr, private)
	if err != nil {
		return 0, err
	}
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.wakeLocked(key, n, bitset), nil
}

// FutexWake2 implements futex_wake(2): FutexWake, except that n 0 wakes
// nobody (the word is still checked).
func (t *Task) FutexWake2(addr uint64, private bool, n int, bitset uint32) (int, error) {
	if n == 0 && bitset != 0 {
		_, err := t.futexKey(addr, private)
		return 0, err
	}
	return t.FutexWake(addr, private, n, bitset)
}

// FutexNUMANode checks the node word of a FUTEX2_NUMA futex at addr: the
// {value, node} pair must be aligned to its 8 bytes, and the node must be
// 0 (the sandbox has one node) or ~0 (none yet), which is replaced by 0 as
// Linux stores the node it picks. It must be called before the word is
// used, as Linux's get_futex_key does.
func (t *Task) FutexNUMANode(addr uint64) error {
	if addr&7 != 0 {
		return unix.EINVAL
	}
	node, err := t.loadFutexWord(addr + 4)
	if err != nil {
		return err
	}
	switch node {
	case 0:
		return nil
	case futexNoNode:
		_, err := t.updateFutexWord(addr+4, func(old uint32) (uint32, bool) {
			return 0, old == futexNoNode
		})
		return err
	}
	return unix.EINVAL
}

// futexNoNode is FUTEX_NO_NODE: a FUTEX2_NUMA futex not yet on a node.
const futexNoNode = ^uint32(0)

// FutexRequeue implements FUTEX_REQUEUE and (with check) FUTEX_CMP_REQUEUE:
// wake nwake waiters of addr and move up to nrequeue others to addr2.
// private and private2 say how each word is keyed (futex_requeue(2) lets
// them differ).
func (t *Task) FutexRequeue(addr, addr2 uint64, private, private2 bool, nwake, nrequeue int, check bool, val uint32) (int, error) {
	key, err := t.futexKey(addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := t.futexKey(addr2, private2)
	if err != nil {
		return 0, err
	}
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if check {
		cur, err := t.loadFutexWord(addr)
		if err != nil {
			return 0, err
		}
		if cur != val {
			return 0, unix.EAGAIN
		}
	}
	done := 0
	if nwake > 0 {
		done = ft.wakeLocked(key, nwake, FutexBitsetMatchAny)
	}
	moved := 0
	var kept, move []*futexWaiter
	for _, w := range ft.waiters[key] {
		if !w.pi && moved < nrequeue {
			move = append(move, w)
			moved++
			continue
		}
		kept = append(kept, w)
	}
	if len(kept) == 0 {
		delete(ft.waiters, key)
	} else {
		ft.waiters[key] = kept
	}
	for _, w := range move {
		w.key = key2
		ft.addLocked(w)
	}
	return done + moved, nil
}

// FutexWakeOp implements FUTEX_WAKE_OP: atomically update the word at
// addr2 with op, wake nwake waiters of addr, and, if the old value of
// addr2 passes op's comparison, nwake2 waiters of addr2.
func (t *Task) FutexWakeOp(addr, addr2 uint64, private bool, nwake, nwake2 int, op uint32) (int, error) {
	key, err := t.futexKey(addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := t.futexKey(addr2, private)
	if err != nil {
		return 0, err
	}
	opType, cmp := (op>>28)&7, (op>>24)&15
	oparg, cmparg := (op>>12)&0xfff, op&0xfff
	// Sign-extend the 12-bit arguments.
	soparg := uint32(int32(oparg<<20) >> 20)
	if op>>31 != 0 { // FUTEX_OP_OPARG_SHIFT
		if soparg >= 32 {
			return 0, unix.EINVAL
		}
		soparg = 1 << soparg
	}
	scmparg := int32(cmparg<<20) >> 20
	if opType > 4 || cmp > 5 {
		return 0, unix.ENOSYS
	}
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	old, err := t.updateFutexWord(addr2, func(old uint32) (uint32, bool) {
		switch opType {
		case 0:
			return soparg, true
		case 1:
			return old + soparg, true
		case 2:
			return old | soparg, true
		case 3:
			return old &^ soparg, true
		default:
			return old ^ soparg, true
		}
	})
	if err != nil {
		return 0, err
	}
	n := ft.wakeLocked(key, nwake, FutexBitsetMatchAny)
	o := int32(old)
	var ok bool
	switch cmp {
	case 0:
		ok = o == scmparg
	case 1:
		ok = o != scmparg
	case 2:
		ok = o < scmparg
	case 3:
		ok = o <= scmparg
	case 4:
		ok = o > scmparg
	default:
		ok = o >= scmparg
	}
	if ok {
		n += ft.wakeLocked(key2, nwake2, FutexBitsetMatchAny)
	}
	return n, nil
}

// FutexWaitvEntry is one word of futex_waitv(2).
type FutexWaitvEntry struct {
	Addr    uint64
	Val     uint32
	Private bool
}

// FutexWaitv implements futex_waitv(2): sleep until one of the words is
// woken and return its index. It fails with EAGAIN at once if any word
// no longer holds its value.
func (t *Task) FutexWaitv(entries []FutexWaitvEntry, deadline time.Time) (int, error) {
	keys := make([]futexKey, len(entries))
	for i, e := range entries {
		k, err := t.futexKey(e.Addr, e.Private)
		if err != nil {
			return 0, err
		}
		keys[i] = k
	}
	ft := &t.k.futexes
	n := newFutexNotify()
	ws := make([]*futexWaiter, len(entries))
	ft.mu.Lock()
	for i, e := range entries {
		cur, err := t.loadFutexWord(e.Addr)
		if err == nil && cur != e.Val {
			err = unix.EAGAIN
		}
		if err != nil {
			for _, w := range ws[:i] {
				ft.removeLocked(w)
			}
			ft.mu.Unlock()
			return 0, err
		}
		ws[i] = &futexWaiter{key: keys[i], bitset: FutexBitsetMatchAny, n: n, index: i}
		ft.addLocked(ws[i])
	}
	ft.mu.Unlock()

	_, err := t.blockOnFutex(n, deadline)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for _, w := range ws {
		ft.removeLocked(w)
	}
	if n.fired {
		return n.index, nil
	}
	return 0, err
}

// Robust and PI futex word bits (futex(2)).
const (
	futexTIDMask    = 0x3fffffff
	futexOwnerDied  = 0x40000000
	futexWaiters    = 0x80000000
	robustListLimit = 2048
)

// PILockMode says whether FutexLockPI may sleep for a held lock.
type PILockMode int

const (
	// PILockWait sleeps until the holder hands the lock over or the
	// deadline passes (FUTEX_LOCK_PI, FUTEX_LOCK_PI2).
	PILockWait PILockMode = iota
	// PILockTry fails at once if another thread holds the lock
	// (FUTEX_TRYLOCK_PI).
	PILockTry
)

// FutexLockPI implements FUTEX_LOCK_PI (and FUTEX_TRYLOCK_PI with
// PILockTry): take the lock whose word is at addr by storing the caller's
// TID in it, or, if another thread holds it, set FUTEX_WAITERS and sleep
// until the holder hands it over in FUTEX_UNLOCK_PI or the deadline
// passes. A FUTEX_OWNER_DIED bit in a free word is kept for the new owner.
func (t *Task) FutexLockPI(addr uint64, private bool, deadline time.Time, mode PILockMode) error {
	try := mode == PILockTry
	key, err := t.futexKey(addr, private)
	if err != nil {
		return err
	}
	for {
		again, err := t.futexLockPIOnce(addr, key, deadline, try)
		if !again {
			return err
		}
		// Another owner took the lock since it was checked; a guest
		// changing the word all the time keeps the caller here, as it
		// would keep Linux retrying.
		if t.SignalPending() {
			return linux.ERESTARTNOINTR
		}
	}
}

// futexLockPIOnce is one attempt of FutexLockPI; again says the word's
// owner changed between its check and the update.
func (t *Task) futexLockPIOnce(addr uint64, key futexKey, deadline time.Time, try bool) (again bool, err error) {
	tid := uint32(t.tid)
	ft := &t.k.futexes
	// The owner named by the word must exist (Linux's attach_to_pi_owner:
	// ESRCH), or the caller would wait for a thread that can never unlock.
	// It is looked up before ft.mu; the update below starts again if the
	// owner changed meanwhile.
	checked, err := t.loadFutexWord(addr)
	if err != nil {
		return false, err
	}
	checked &= futexTIDMask
	if checked != 0 && checked != tid && !try && t.k.TaskByID(int32(checked)) == nil {
		return false, unix.ESRCH
	}
	ft.mu.Lock()
	var acquired, own, changed bool
	_, err = t.updateFutexWord(addr, func(old uint32) (uint32, bool) {
		acquired, own, changed = false, false, false
		switch owner := old & futexTIDMask; {
		case owner != 0 && owner != tid && !try && owner != checked:
			changed = true
			return old, false
		case owner == 0:
			acquired = true
			nv := tid | old&futexOwnerDied
			if w, _ := ft.firstPIWaiterLocked(key); w != nil {
				nv |= futexWaiters
			}
			return nv, true
		case owner == tid:
			own = true
			return old, false
		case try:
			return old, false
		default:
			return old | futexWaiters, true
		}
	})
	switch {
	case err != nil:
		ft.mu.Unlock()
		return false, err
	case changed:
		ft.mu.Unlock()
		return true, nil
	case acquired:
		ft.mu.Unlock()
		return false, nil
	case own:
		ft.mu.Unlock()
		return false, unix.EDEADLK
	case try:
		ft.mu.Unlock()
		return false, unix.EAGAIN
	}
	w := &futexWaiter{key: key, bitset: FutexBitsetMatchAny, n: newFutexNotify(), pi: true, t: t, addr: addr}
	ft.addLocked(w)
	ft.mu.Unlock()

	fired, err := t.blockOnFutex(w.n, deadline)
	if fired {
		return false, nil // the lock was handed to us
	}
	ft.mu.Lock()
	if w.n.fired {
		ft.mu.Unlock()
		return false, nil
	}
	ft.removeLocked(w)
	ft.mu.Unlock()
	if err == unix.ETIMEDOUT {
		return false, err
	}
	// Linux restarts an interrupted FUTEX_LOCK_PI even after a handler;
	// the deadline is absolute.
	return false, linux.ERESTARTNOINTR
}

// FutexUnlockPI implements FUTEX_UNLOCK_PI: the caller must own the lock;
// it passes to the first waiter (its TID is stored in the word, with
// FUTEX_WAITERS if others still wait), or the word becomes 0.
func (t *Task) FutexUnlockPI(addr uint64, private bool) error {
	key, err := t.futexKey(addr, private)
	if err != nil {
		return err
	}
	tid := uint32(t.tid)
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	next, more := ft.firstPIWaiterLocked(key)
	notOwner := false
	_, err = t.updateFutexWord(addr, func(old uint32) (uint32, bool) {
		if old&futexTIDMask != tid {
			notOwner = true
			return old, false
		}
		notOwner = false
		return handoffValue(next, more, 0), true
	})
	if err != nil {
		return err
	}
	if notOwner {
		return unix.EPERM
	}
	if next != nil {
		ft.removeLocked(next)
		next.n.fireLocked(0)
	}
	return nil
}

// handoffValue is the futex word of a PI lock passed to next (nil: freed),
// with flags added.
func handoffValue(next *futexWaiter, more bool, flags uint32) uint32 {
	if next == nil {
		return flags
	}
	v := uint32(next.t.tid) | flags
	if more {
		v |= futexWaiters
	}
	return v
}

// exitPILocksLocked hands every PI lock the exiting task t still holds
// and others wait for to the first waiter, as Linux's exit_pi_state_list
// does. (Robust PI locks were already marked FUTEX_OWNER_DIED.)
//
// Preconditions: ft.mu is held.
func (t *Task) exitPILocksLocked() {
	ft := &t.k.futexes
	tid := uint32(t.tid)
	for key := range ft.waiters {
		next, more := ft.firstPIWaiterLocked(key)
		if next == nil {
			continue
		}
		handed := false
		next.t.mm.UpdateUint32(next.addr, func(old uint32) (uint32, bool) {
			handed = old&futexTIDMask == tid
			if !handed {
				return old, false
			}
			return handoffValue(next, more, old&futexOwnerDied), true
		})
		if handed {
			ft.removeLocked(next)
			next.n.fireLocked(0)
		}
	}
}

// exitRobustList marks the robust futexes t still holds as owner-died and
// wakes one waiter of each (or, for PI futexes, hands the lock to the
// first waiter), as Linux does when a thread exits.
func (t *Task) exitRobustList() {
	head := t.robustList
	if head != 0 {
		t.walkRobustList(head)
	}
	ft := &t.k.futexes
	ft.mu.Lock()
	t.exitPILocksLocked()
	ft.mu.Unlock()
}

func (t *Task) walkRobustList(head uint64) {
	read64 := func(addr uint64) (uint64, bool) {
		var b [8]byte
		if _, err := t.mm.CopyIn(addr, b[:]); err != nil {
			return 0, false
		}
		return binary.LittleEndian.Uint64(b[:]), true
	}
	next, ok1 := read64(head)
	offset, ok2 := read64(head + 8)
	pending, ok3 := read64(head + 16)
	if !ok1 || !ok2 || !ok3 {
		return
	}
	for i := 0; next != head && next != 0 && i < robustListLimit; i++ {
		entry := next
		if next, ok1 = read64(entry &^ 1); !ok1 {
			break
		}
		if entry != pending {
			t.handleFutexDeath((entry&^1)+offset, entry&1 != 0)
		}
	}
	if pending != 0 {
		t.handleFutexDeath((pending&^1)+offset, pending&1 != 0)
	}
}

// handleFutexDeath releases the robust futex word at addr if t owns it.
func (t *Task) handleFutexDeath(addr uint64, pi bool) {
	if addr&3 != 0 {
		return
	}
	key, err := t.futexKey(addr, false)
	if err != nil {
		return
	}
	tid := uint32(t.tid)
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	var next *futexWaiter
	var more bool
	if pi {
		next, more = ft.firstPIWaiterLocked(key)
	}
	owned := false
	old, err := t.updateFutexWord(addr, func(old uint32) (uint32, bool) {
		owned = old&futexTIDMask == tid
		if !owned {
			return old, false
		}
		if next != nil {
			return handoffValue(next, more, futexOwnerDied), true
		}
		return old&futexWaiters | futexOwnerDied, true
	})
	if err != nil || !owned {
		return
	}
	if next != nil {
		ft.removeLocked(next)
		next.n.fireLocked(0)
		return
	}
	if !pi && old&futexWaiters != 0 {
		ft.wakeLocked(key, 1, FutexBitsetMatchAny)
	}
}
