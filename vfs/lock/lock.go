// Package lock implements advisory file locks: flock(2) locks and the
// byte-range record locks of fcntl(2), both POSIX (process-owned) and OFD
// (open-file-description-owned) ones.
//
// Locks live on the file, not on the descriptor: every lock is kept in a
// table keyed by the file's identity (vfs.FileDescription.LockKey, the
// inode). Per file there are two independent sets, as on Linux:
//
//   - flock locks: whole-file, shared or exclusive, owned by an open file
//     description (so shared by dup and fork) and dropped when its last
//     reference goes;
//   - record locks: read or write locks on byte ranges, owned by a process
//     (POSIX locks, Owner.PID) or an open file description (OFD locks,
//     Owner.File). A process's POSIX locks on a file go when it closes any
//     descriptor of that file (ReleasePOSIX) and when it exits
//     (ReleaseProcess). An owner's ranges never overlap each other: setting
//     a lock splits, replaces and merges them.
//
// Blocking requests wait with vfs.Block on a per-file channel that is closed
// whenever a lock on the file is dropped or weakened, so a signal interrupts
// them (vfs.ErrInterrupted). A POSIX request that would wait in a cycle of
// processes waiting for each other fails with EDEADLK instead.
//
// Lock order: mu is a leaf; nothing is called with it held, and it is
// never held while blocking. Callers may hold Kernel.mu.
package lock

import (
	"context"
	"math"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// Type is a lock type: unix.F_RDLCK, unix.F_WRLCK or unix.F_UNLCK. flock's
// LOCK_SH and LOCK_EX map to F_RDLCK and F_WRLCK.
type Type int16

// Lock types.
const (
	ReadLock  Type = unix.F_RDLCK
	WriteLock Type = unix.F_WRLCK
	Unlock    Type = unix.F_UNLCK
)

// MaxOffset is the last byte a range can cover: a range ending there runs
// to the end of the file, however long it grows. Linux: OFFSET_MAX.
const MaxOffset = math.MaxInt64

// Range is the inclusive byte range [Start, End], 0 <= Start <= End.
type Range struct {
	Start, End int64
}

func (r Range) overlaps(o Range) bool { return r.Start <= o.End && o.Start <= r.End }

// Owner owns a record lock: a process for a POSIX lock, an open file
// description for an OFD lock. Exactly one field is set.
type Owner struct {
	// PID is the owning process's thread-group ID (POSIX locks).
	PID int32
	// File is the owning open file description (OFD locks).
	File *vfs.FileDescription
}

// POSIXOwner returns the owner of process tgid's POSIX locks.
func POSIXOwner(tgid int32) Owner { return Owner{PID: tgid} }

// OFDOwner returns the owner of fd's OFD locks.
func OFDOwner(fd *vfs.FileDescription) Owner { return Owner{File: fd} }

func (o Owner) isPOSIX() bool { return o.File == nil }

// Conflict describes a lock that stands in a request's way, as F_GETLK
// reports it.
type Conflict struct {
	Type  Type
	Range Range
	// PID is the owning process of a POSIX lock, -1 for an OFD lock.
	PID int32
}

// record is one record lock.
type record struct {
	owner Owner
	typ   Type
	rng   Range
}

// fileLocks are the locks on one file.
type fileLocks struct {
	// flocks maps each open file description holding a flock lock to its
	// type.
	flocks map[*vfs.FileDescription]Type
	// records are the record locks, sorted by Range.Start.
	records []record
	// changed is closed (and cleared) when a lock is dropped or weakened;
	// waiters block on it. Created on demand.
	changed chan struct{}
}

// waiter is a POSIX request blocked in SetRecord, for deadlock detection.
type waiter struct {
	key   any
	owner Owner
	typ   Type
	rng   Range
}

var (
	// mu protects everything below.
	mu sync.Mutex
	// files holds the locks of each file, by lock key; a file with no lock
	// has no entry.
	files = map[any]*fileLocks{}
	// posixFiles lists, per process, the keys of the files where it may
	// hold POSIX locks (for ReleaseProcess).
	posixFiles = map[int32]map[any]struct{}{}
	// waiting lists the blocked POSIX requests of each process. Linux:
	// blocked_hash.
	waiting = map[int32][]*waiter{}
)

// posixRecords counts the POSIX records held anywhere, so that closing a
// descriptor needs no lock when nobody uses record locks.
var posixRecords atomic.Int64

// releaseHook drops fd's flock and OFD locks when fd goes away.
var releaseHook = vfs.ReleaseHook(func(_ context.Context, fd *vfs.FileDescription) { releaseFile(fd) })

// keyOf returns the table key for fd's file.
func keyOf(fd *vfs.FileDescription) any {
	k := fd.LockKey()
	if k == nil || !reflect.TypeOf(k).Comparable() {
		// A file with no identity of its own locks only against itself.
		return fd
	}
	return k
}

// getLocked returns the locks of key, creating the entry if create.
//
// Preconditions: mu is held.
func getLocked(key any, create bool) *fileLocks {
	fl := files[key]
	if fl == nil && create {
		fl = &fileLocks{flocks: map[*vfs.FileDescription]Type{}}
		files[key] = fl
	}
	return fl
}

// wakeLocked wakes every waiter on fl and forgets fl's entry if it holds
// no lock any more.
//
// Preconditions: mu is held.
func wakeLocked(key any, fl *fileLocks) {
	if fl.changed != nil {
		close(fl.changed)
		fl.changed = nil
	}
	if len(fl.flocks) == 0 && len(fl.records) == 0 {
		delete(files, key)
	}
}

// waitChanLocked returns the channel closed at fl's next change.
//
// Preconditions: mu is held.
func (fl *fileLocks) waitChanLocked() <-chan struct{} {
	if fl.changed == nil {
		fl.changed = make(chan struct{})
	}
	return fl.changed
}

// Flock implements flock(2) on fd: typ ReadLock (LOCK_SH), WriteLock
// (LOCK_EX) or Unlock (LOCK_UN). A conversion first drops the lock fd
// holds, as Linux does, so it is not atomic. If the lock is held elsewhere
// Flock fails with EWOULDBLOCK unless block, in which case it waits
// (vfs.ErrInterrupted on a signal).
func Flock(ctx context.Context, fd *vfs.FileDescription, typ Type, block bool) error {
	key := keyOf(fd)
	mu.Lock()
	fl := getLocked(key, typ != Unlock)
	if fl == nil {
		mu.Unlock()
		return nil
	}
	if cur, ok := fl.flocks[fd]; ok {
		if cur == typ {
			mu.Unlock()
			return nil
		}
		delete(fl.flocks, fd)
		wakeLocked(key, fl)
	}
	if typ == Unlock {
		mu.Unlock()
		return nil
	}
	for {
		fl = getLocked(key, true)
		if !flockConflictLocked(fl, fd, typ) {
			fl.flocks[fd] = typ
			mu.Unlock()
			fd.SetReleaseHook(&releaseHook)
			return nil
		}
		if !block {
			wakeLocked(key, fl) // forget an entry created for nothing
			mu.Unlock()
			return unix.EWOULDBLOCK
		}
		ch := fl.waitChanLocked()
		mu.Unlock()
		if err := vfs.Block(ctx, ch); err != nil {
			return err
		}
		mu.Lock()
	}
}

// flockConflictLocked reports whether a flock lock of type typ by fd
// conflicts with one held by another open file description.
//
// Preconditions: mu is held.
func flockConflictLocked(fl *fileLocks, fd *vfs.FileDescription, typ Type) bool {
	for other, t := range fl.flocks {
		if other != fd && (t == WriteLock || typ == WriteLock) {
			return true
		}
	}
	return false
}

// conflictsLocked returns the record locks of owners other than owner that
// a request for typ on rng conflicts with, in offset order.
//
// Preconditions: mu is held.
func (fl *fileLocks) conflictsLocked(owner Owner, typ Type, rng Range) []record {
	var out []record
	for _, r := range fl.records {
		if r.owner != owner && r.rng.overlaps(rng) && (r.typ == WriteLock || typ == WriteLock) {
			out = append(out, r)
		}
	}
	return out
}

// TestRecord implements F_GETLK and F_OFD_GETLK: it returns the first
// record lock on fd's file that would keep owner from locking rng with typ
// (ReadLock or WriteLock), and whether there is one.
func TestRecord(fd *vfs.FileDescription, owner Owner, typ Type, rng Range) (Conflict, bool) {
	mu.Lock()
	defer mu.Unlock()
	fl := getLocked(keyOf(fd), false)
	if fl == nil {
		return Conflict{}, false
	}
	c := fl.conflictsLocked(owner, typ, rng)
	if len(c) == 0 {
		return Conflict{}, false
	}
	pid := int32(-1)
	if c[0].owner.isPOSIX() {
		pid = c[0].owner.PID
	}
	return Conflict{Type: c[0].typ, Range: c[0].rng, PID: pid}, true
}

// SetRecord implements F_SETLK/F_SETLKW and their OFD forms: owner's locks
// on rng of fd's file become typ (Unlock removes them). A conflicting lock
// makes it fail with EAGAIN unless block; then it waits (vfs.ErrInterrupted
// on a signal), or fails with EDEADLK if owner is a process and waiting
// would close a cycle of processes waiting for each other's POSIX locks.
func SetRecord(ctx context.Context, fd *vfs.FileDescription, owner Owner, typ Type, rng Range, block bool) error {
	key := keyOf(fd)
	mu.Lock()
	for {
		fl := getLocked(key, typ != Unlock)
		if fl == nil {
			mu.Unlock()
			return nil
		}
		var blockers []record
		if typ != Unlock {
			blockers = fl.conflictsLocked(owner, typ, rng)
		}
		if len(blockers) == 0 {
			fl.setLocked(owner, typ, rng)
			if owner.isPOSIX() && typ != Unlock {
				files := posixFiles[owner.PID]
				if files == nil {
					files = map[any]struct{}{}
					posixFiles[owner.PID] = files
				}
				files[key] = struct{}{}
			}
			wakeLocked(key, fl)
			mu.Unlock()
			if !owner.isPOSIX() {
				fd.SetReleaseHook(&releaseHook)
			}
			return nil
		}
		if !block {
			wakeLocked(key, fl)
			mu.Unlock()
			return unix.EAGAIN
		}
		if owner.isPOSIX() && deadlockLocked(owner.PID, blockers) {
			mu.Unlock()
			return unix.EDEADLK
		}
		ch := fl.waitChanLocked()
		var w *waiter
		if owner.isPOSIX() {
			w = &waiter{key: key, owner: owner, typ: typ, rng: rng}
			waiting[owner.PID] = append(waiting[owner.PID], w)
		}
		mu.Unlock()
		err := vfs.Block(ctx, ch)
		mu.Lock()
		if w != nil {
			removeWaiterLocked(w)
		}
		if err != nil {
			mu.Unlock()
			return err
		}
	}
}

// removeWaiterLocked forgets the blocked request w.
//
// Preconditions: mu is held.
func removeWaiterLocked(w *waiter) {
	ws := waiting[w.owner.PID]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(waiting, w.owner.PID)
	} else {
		waiting[w.owner.PID] = ws
	}
}

// deadlockLocked reports whether process pid, about to wait for the
// blockers' owners, would wait for itself: whether some POSIX owner among
// them is (transitively) blocked waiting for a lock of pid. OFD owners end
// the search, as on Linux.
//
// Preconditions: mu is held.
func deadlockLocked(pid int32, blockers []record) bool {
	seen := map[int32]bool{}
	stack := make([]int32, 0, len(blockers))
	for _, b := range blockers {
		if b.owner.isPOSIX() {
			stack = append(stack, b.owner.PID)
		}
	}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if p == pid {
			return true
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		for _, w := range waiting[p] {
			fl := files[w.key]
			if fl == nil {
				continue
			}
			for _, r := range fl.conflictsLocked(w.owner, w.typ, w.rng) {
				if r.owner.isPOSIX() {
					stack = append(stack, r.owner.PID)
				}
			}
		}
	}
	return false
}

// setLocked makes owner's locks on rng of type typ (Unlock: none), keeping
// the rest of owner's ranges outside rng and merging the new range with
// owner's adjacent or overlapping ranges of the same type.
//
// Preconditions: mu is held; no other owner's lock conflicts.
func (fl *fileLocks) setLocked(owner Owner, typ Type, rng Range) {
	out := fl.records[:0:0]
	for _, r := range fl.records {
		if r.owner != owner {
			out = append(out, r)
			continue
		}
		touches := r.rng.overlaps(rng) ||
			(rng.End != MaxOffset && r.rng.Start == rng.End+1) ||
			(r.rng.End != MaxOffset && r.rng.End+1 == rng.Start)
		if !touches {
			out = append(out, r)
			continue
		}
		if typ != Unlock && r.typ == typ {
			// Same type, overlapping or adjacent: absorb it.
			rng.Start = min(rng.Start, r.rng.Start)
			rng.End = max(rng.End, r.rng.End)
			continue
		}
		if !r.rng.overlaps(rng) {
			out = append(out, r) // adjacent, other type
			continue
		}
		// Keep the parts of r outside rng.
		if r.rng.Start < rng.Start {
			out = append(out, record{owner, r.typ, Range{r.rng.Start, rng.Start - 1}})
		}
		if r.rng.End > rng.End {
			out = append(out, record{owner, r.typ, Range{rng.End + 1, r.rng.End}})
		}
	}
	if typ != Unlock {
		out = append(out, record{owner, typ, rng})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].rng.Start < out[j].rng.Start })
	if owner.isPOSIX() {
		posixRecords.Add(int64(countOwner(out, owner) - countOwner(fl.records, owner)))
	}
	fl.records = out
}

func countOwner(rs []record, owner Owner) int {
	n := 0
	for _, r := range rs {
		if r.owner == owner {
			n++
		}
	}
	return n
}

// dropOwnerLocked removes every record lock of owner on key's file.
//
// Preconditions: mu is held.
func dropOwnerLocked(key any, owner Owner) {
	fl := files[key]
	if fl == nil {
		return
	}
	fl.setLocked(owner, Unlock, Range{0, MaxOffset})
	wakeLocked(key, fl)
}

// ReleasePOSIX drops the POSIX locks process tgid holds on fd's file, for
// close(2) of any descriptor of the file (and the descriptors close-on-exec,
// dup2 or close_range close). Linux: locks_remove_posix.
func ReleasePOSIX(fd *vfs.FileDescription, tgid int32) {
	if posixRecords.Load() == 0 {
		return
	}
	key := keyOf(fd)
	mu.Lock()
	defer mu.Unlock()
	files := posixFiles[tgid]
	if _, ok := files[key]; !ok {
		return
	}
	delete(files, key)
	if len(files) == 0 {
		delete(posixFiles, tgid)
	}
	dropOwnerLocked(key, POSIXOwner(tgid))
}

// ReleaseProcess drops every POSIX lock of process tgid, when it exits.
func ReleaseProcess(tgid int32) {
	mu.Lock()
	defer mu.Unlock()
	for key := range posixFiles[tgid] {
		dropOwnerLocked(key, POSIXOwner(tgid))
	}
	delete(posixFiles, tgid)
}

// releaseFile drops fd's flock and OFD locks: fd's last reference is gone.
// Linux: locks_remove_file.
func releaseFile(fd *vfs.FileDescription) {
	key := keyOf(fd)
	mu.Lock()
	defer mu.Unlock()
	fl := files[key]
	if fl == nil {
		return
	}
	delete(fl.flocks, fd)
	fl.setLocked(OFDOwner(fd), Unlock, Range{0, MaxOffset})
	wakeLocked(key, fl)
}
