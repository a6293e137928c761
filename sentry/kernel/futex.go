package kernel

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/palisade-sandbox/palisade/sentry/mm"
	"golang.org/x/sys/unix"
)

// futexKey identifies a futex word: a memory-file offset for shared
// mappings (mm nil), or an address within one address space.
type futexKey struct {
	mm   *mm.MemoryManager
	addr uint64
}

// futexWaiter is one task blocked in FUTEX_WAIT.
type futexWaiter struct {
	key    futexKey
	bitset uint32
	// woken is closed by the waker. Protected by futexTable.mu.
	woken chan struct{}
}

// futexTable holds the waiters of every futex in the sandbox.
//
// Lock order: futexTable.mu, then mm.MemoryManager.mu (values are read and
// written under mu, so compare-and-block is atomic against wakers).
type futexTable struct {
	mu      sync.Mutex
	waiters map[futexKey][]*futexWaiter
}

// FutexBitsetMatchAny matches every waiter.
const FutexBitsetMatchAny = ^uint32(0)

func (t *Task) futexKey(addr uint64, private bool) (futexKey, error) {
	key, shared, err := t.mm.FutexKey(addr)
	if err != nil {
		return futexKey{}, err
	}
	if shared && !private {
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

// FutexWait implements FUTEX_WAIT and FUTEX_WAIT_BITSET: if the word at
// addr still holds val, sleep until woken, the deadline (zero: none)
// passes (ETIMEDOUT), or a signal arrives.
func (t *Task) FutexWait(addr uint64, private bool, val, bitset uint32, deadline time.Time) error {
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
	w := &futexWaiter{key: key, bitset: bitset, woken: make(chan struct{})}
	if ft.waiters == nil {
		ft.waiters = map[futexKey][]*futexWaiter{}
	}
	ft.waiters[key] = append(ft.waiters[key], w)
	ft.mu.Unlock()

	wait := w.woken
	var timedOut chan struct{}
	if !deadline.IsZero() {
		timedOut = make(chan struct{})
		timer := time.AfterFunc(time.Until(deadline), func() { close(timedOut) })
		defer timer.Stop()
		either, stop := make(chan struct{}), make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-w.woken:
			case <-timedOut:
			case <-stop:
				return
			}
			close(either)
		}()
		wait = either
	}
	err = t.Block(wait)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	select {
	case <-w.woken:
		return nil
	default:
	}
	ft.removeLocked(w)
	if err != nil {
		return err
	}
	return unix.ETIMEDOUT
}

func (ft *futexTable) removeLocked(w *futexWaiter) {
	ws := ft.waiters[w.key]
	for i, x := range ws {
		if x == w {
			ft.waiters[w.key] = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(ft.waiters[w.key]) == 0 {
		delete(ft.waiters, w.key)
	}
}

// wakeLocked wakes up to n waiters of key matching bitset.
func (ft *futexTable) wakeLocked(key futexKey, n int, bitset uint32) int {
	woken := 0
	ws := ft.waiters[key]
	kept := ws[:0]
	for _, w := range ws {
		if woken < n && w.bitset&bitset != 0 {
			close(w.woken)
			woken++
			continue
		}
		kept = append(kept, w)
	}
	if len(kept) == 0 {
		delete(ft.waiters, key)
	} else {
		ft.waiters[key] = kept
	}
	return woken
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

// FutexRequeue implements FUTEX_REQUEUE and (with check) FUTEX_CMP_REQUEUE:
// wake nwake waiters of addr and move up to nrequeue others to addr2.
func (t *Task) FutexRequeue(addr, addr2 uint64, private bool, nwake, nrequeue int, check bool, val uint32) (int, error) {
	key, err := t.futexKey(addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := t.futexKey(addr2, private)
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
	done := ft.wakeLocked(key, nwake, FutexBitsetMatchAny)
	moved := 0
	ws := ft.waiters[key]
	for len(ws) > 0 && moved < nrequeue && key != key2 {
		w := ws[0]
		ws = ws[1:]
		w.key = key2
		ft.waiters[key2] = append(ft.waiters[key2], w)
		moved++
	}
	if len(ws) == 0 {
		delete(ft.waiters, key)
	} else {
		ft.waiters[key] = ws
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
	if op>>31 != 0 { // FUTEX_OP_OPARG_SHIFT
		if oparg >= 32 {
			return 0, unix.EINVAL
		}
		oparg = 1 << oparg
	}
	// Sign-extend the 12-bit arguments.
	soparg := uint32(int32(oparg<<20) >> 20)
	if op>>31 != 0 {
		soparg = oparg
	}
	scmparg := int32(cmparg<<20) >> 20
	ft := &t.k.futexes
	ft.mu.Lock()
	defer ft.mu.Unlock()
	old, err := t.loadFutexWord(addr2)
	if err != nil {
		return 0, err
	}
	var nv uint32
	switch opType {
	case 0:
		nv = soparg
	case 1:
		nv = old + soparg
	case 2:
		nv = old | soparg
	case 3:
		nv = old &^ soparg
	case 4:
		nv = old ^ soparg
	default:
		return 0, unix.ENOSYS
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], nv)
	if _, err := t.mm.CopyOut(addr2, b[:]); err != nil {
		return 0, unix.EFAULT
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
	case 5:
		ok = o >= scmparg
	default:
		return 0, unix.ENOSYS
	}
	if ok {
		n += ft.wakeLocked(key2, nwake2, FutexBitsetMatchAny)
	}
	return n, nil
}

// Robust futex word bits (futex(2), "Robust futexes").
const (
	futexTIDMask    = 0x3fffffff
	futexOwnerDied  = 0x40000000
	futexWaiters    = 0x80000000
	robustListLimit = 2048
)

// exitRobustList marks the robust futexes t still holds as owner-died and
// wakes one waiter of each, as Linux does when a thread exits.
func (t *Task) exitRobustList() {
	head := t.robustList
	if head == 0 {
		return
	}
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
			t.handleFutexDeath((entry &^ 1) + offset)
		}
	}
	if pending != 0 {
		t.handleFutexDeath((pending &^ 1) + offset)
	}
}

// handleFutexDeath releases the futex word at addr if t owns it.
func (t *Task) handleFutexDeath(addr uint64) {
	ft := &t.k.futexes
	ft.mu.Lock()
	val, err := t.loadFutexWord(addr)
	if err != nil || val&futexTIDMask != uint32(t.tid) {
		ft.mu.Unlock()
		return
	}
	nv := val&futexWaiters | futexOwnerDied
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], nv)
	_, err = t.mm.CopyOut(addr, b[:])
	ft.mu.Unlock()
	if err == nil && val&futexWaiters != 0 {
		t.FutexWake(addr, false, 1, FutexBitsetMatchAny)
	}
}
