package ipc

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// semaphore is one semaphore of a set. Linux: struct sem.
type semaphore struct {
	val int32
	pid int32
	// ncnt and zcnt count the callers blocked waiting for val to grow
	// and to be zero.
	ncnt, zcnt int32
}

// semSet is a semaphore set. Linux: struct sem_array.
type semSet struct {
	object
	sems         []semaphore
	otime, ctime int64
	waiters      waitQueue
}

func semObj(s *semSet) *object { return &s.object }

// SemBuf is one operation of semop(2). Linux: struct sembuf.
type SemBuf struct {
	Num  uint16
	Op   int16
	Flag int16
}

// SemBufSize is the size of struct sembuf in guest memory.
const SemBufSize = 6

// ParseSemBufs decodes n sembufs.
func ParseSemBufs(b []byte) []SemBuf {
	ops := make([]SemBuf, len(b)/SemBufSize)
	le := binary.LittleEndian
	for i := range ops {
		o := b[i*SemBufSize:]
		ops[i] = SemBuf{Num: le.Uint16(o), Op: int16(le.Uint16(o[2:])), Flag: int16(le.Uint16(o[4:]))}
	}
	return ops
}

// SemOPM returns the limit on operations per semop call.
func (ns *Namespace) SemOPM() int {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return int(ns.limits.SemOPM)
}

// Semget implements semget(2).
func (ns *Namespace) Semget(c *Creds, key, nsems, flags int32) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	l := ns.limits
	if nsems < 0 || nsems > l.SemMSL {
		return 0, unix.EINVAL
	}
	if key != IPCPrivate {
		if idx, ok := ns.sems.keyIndex(key); ok {
			s := ns.sems.objs[idx]
			if flags&IPCCreat != 0 && flags&IPCExcl != 0 {
				return 0, unix.EEXIST
			}
			if int(nsems) > len(s.sems) {
				return 0, unix.EINVAL
			}
			if !s.perm.check(c, uint16(flags)) {
				return 0, unix.EACCES
			}
			return s.id, nil
		}
		if flags&IPCCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	if nsems == 0 {
		return 0, unix.EINVAL
	}
	if ns.semTotal+int(nsems) > int(l.SemMNS) {
		return 0, unix.ENOSPC
	}
	idx := ns.sems.allocIndex(int(l.SemMNI))
	if idx < 0 {
		return 0, unix.ENOSPC
	}
	s := &semSet{sems: make([]semaphore, nsems), ctime: now()}
	s.perm = Perm{Key: key, UID: c.UID, GID: c.GID, CUID: c.UID, CGID: c.GID, Mode: uint16(flags & 0o777)}
	ns.semTotal += int(nsems)
	return ns.sems.add(idx, key, s, &s.object), nil
}

// Semop implements semop(2) and semtimedop(2) (deadline non-zero): the
// operations are done all at once or not at all. The caller has checked
// nsops against semopm.
func (ns *Namespace) Semop(b Blocker, c *Creds, id int32, ops []SemBuf, deadline time.Time) error {
	maxNum, undo, alter := uint16(0), false, false
	for _, o := range ops {
		maxNum = max(maxNum, o.Num)
		undo = undo || o.Flag&SemUndo != 0
		alter = alter || o.Op != 0
	}
	want := uint16(permRead)
	if alter {
		want = permWrite
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	s, ok := ns.sems.lookup(id, semObj)
	if !ok {
		return unix.EINVAL
	}
	if int(maxNum) >= len(s.sems) {
		return unix.EFBIG
	}
	if !s.perm.check(c, want) {
		return unix.EACCES
	}
	// interrupted is the error of a wait that ended by a signal or the
	// timeout: it is returned unless the retry that follows succeeds
	// (a change that lets the operations through still wins, as in
	// Linux where the waker completes them).
	var interrupted error
	for {
		var adj []int16
		if undo {
			adj = ns.undoLocked(c.PID, s, false)
			if adj == nil && ns.undoEntries+len(s.sems) > MaxUndoEntries {
				return unix.ENOMEM
			}
		}
		blocking, err := s.tryLocked(ops, adj)
		if err != nil {
			return err
		}
		if blocking < 0 {
			for _, o := range ops {
				s.sems[o.Num].pid = c.PID
			}
			if undo {
				adj = ns.undoLocked(c.PID, s, true)
				for _, o := range ops {
					if o.Flag&SemUndo != 0 {
						adj[o.Num] -= o.Op
					}
				}
			}
			s.otime = now()
			if alter {
				s.waiters.wakeAll()
			}
			return nil
		}
		if interrupted != nil {
			return interrupted
		}
		o := ops[blocking]
		if o.Flag&IPCNoWait != 0 {
			return unix.EAGAIN
		}
		cnt := &s.sems[o.Num].ncnt
		if o.Op == 0 {
			cnt = &s.sems[o.Num].zcnt
		}
		*cnt++
		w := newWaiter()
		s.waiters.add(w)
		ns.mu.Unlock()
		timedOut, err := block(b, w, deadline)
		ns.mu.Lock()
		if s.removed {
			return unix.EIDRM
		}
		*cnt--
		delete(s.waiters, w)
		switch {
		case timedOut:
			interrupted = errTimeout
		case err != nil:
			interrupted = unix.EINTR
		}
	}
}

// tryLocked checks ops against the set's values, in order, each seeing
// the ones before: it returns the index of the first operation that
// would block, -1 if all can be done (and does them), or ERANGE.
//
// Preconditions: ns.mu is held.
func (s *semSet) tryLocked(ops []SemBuf, adj []int16) (int, error) {
	vals := make(map[uint16]int32, len(ops))
	adjs := make(map[uint16]int32)
	for i, o := range ops {
		v, ok := vals[o.Num]
		if !ok {
			v = s.sems[o.Num].val
		}
		if o.Op == 0 {
			if v != 0 {
				return i, nil
			}
			continue
		}
		v += int32(o.Op)
		if v < 0 {
			return i, nil
		}
		if v > SemVMX {
			return 0, unix.ERANGE
		}
		vals[o.Num] = v
		if o.Flag&SemUndo != 0 {
			a, ok := adjs[o.Num]
			if !ok && adj != nil {
				a = int32(adj[o.Num])
			}
			a -= int32(o.Op)
			if a < -SemAEM-1 || a > SemAEM {
				return 0, unix.ERANGE
			}
			adjs[o.Num] = a
		}
	}
	for n, v := range vals {
		s.sems[n].val = v
	}
	return -1, nil
}

// undoLocked returns pid's adjustments for s (nil if it has none and
// create is false).
//
// Preconditions: ns.mu is held.
func (ns *Namespace) undoLocked(pid int32, s *semSet, create bool) []int16 {
	m := ns.undo[pid]
	if m == nil {
		if !create {
			return nil
		}
		m = make(map[int32][]int16)
		ns.undo[pid] = m
	}
	a := m[s.id]
	if a == nil && create {
		a = make([]int16, len(s.sems))
		m[s.id] = a
		ns.undoEntries += len(a)
	}
	return a
}

// clearUndoLocked forgets every process's adjustment of semaphore num of
// s (all of them if num < 0), as SETVAL, SETALL and IPC_RMID do.
//
// Preconditions: ns.mu is held.
func (ns *Namespace) clearUndoLocked(s *semSet, num int) {
	for pid, m := range ns.undo {
		a := m[s.id]
		if a == nil {
			continue
		}
		if num >= 0 {
			a[num] = 0
			continue
		}
		ns.undoEntries -= len(a)
		delete(m, s.id)
		if len(m) == 0 {
			delete(ns.undo, pid)
		}
	}
}

// ExitProcess applies the SEM_UNDO adjustments of process pid, which is
// exiting: each value moves by its adjustment, clamped to [0, SEMVMX],
// as Linux's exit_sem does.
func (ns *Namespace) ExitProcess(pid int32) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	m := ns.undo[pid]
	delete(ns.undo, pid)
	for id, a := range m {
		ns.undoEntries -= len(a)
		s, ok := ns.sems.lookup(id, semObj)
		if !ok {
			continue
		}
		changed := false
		for i, d := range a {
			if d == 0 {
				continue
			}
			v := min(max(s.sems[i].val+int32(d), 0), SemVMX)
			s.sems[i].val, s.sems[i].pid = v, pid
			changed = true
		}
		if changed {
			s.otime = now()
			s.waiters.wakeAll()
		}
	}
}

// removeSemLocked implements IPC_RMID: waiters get EIDRM.
func (ns *Namespace) removeSemLocked(s *semSet) {
	ns.sems.remove(&s.object)
	s.removed = true
	ns.semTotal -= len(s.sems)
	ns.clearUndoLocked(s, -1)
	s.waiters.wakeAll()
}

const semidDSSize = 104

// Semctl implements semctl(2); arg is the fourth argument (a value for
// SETVAL, a guest address otherwise).
func (ns *Namespace) Semctl(c *Creds, mem Memory, id, num, cmd int32, arg uint64) (int32, error) {
	cmd &^= IPC64
	if id < 0 {
		return 0, unix.EINVAL
	}
	le := binary.LittleEndian
	switch cmd {
	case IPCInfo, SemInfo:
		ns.mu.Lock()
		l := ns.limits
		b := make([]byte, 40)
		put := func(i int, v int32) { le.PutUint32(b[i*4:], uint32(v)) }
		put(0, l.SemMNS) // semmap
		put(1, l.SemMNI)
		put(2, l.SemMNS)
		put(3, l.SemMNS) // semmnu
		put(4, l.SemMSL)
		put(5, l.SemOPM)
		put(6, l.SemOPM) // semume
		put(7, 20)       // semusz
		put(8, SemVMX)
		put(9, SemAEM)
		if cmd == SemInfo {
			put(7, int32(len(ns.sems.objs)))
			put(9, int32(ns.semTotal))
		}
		maxIdx := ns.sems.maxIndex()
		ns.mu.Unlock()
		return maxIdx, copyOut(mem, arg, b)
	case IPCStat, SemStat, SemStatAny:
		ns.mu.Lock()
		var s *semSet
		var ok bool
		if cmd == IPCStat {
			s, ok = ns.sems.lookup(id, semObj)
		} else {
			s, ok = ns.sems.objs[id]
		}
		if !ok {
			ns.mu.Unlock()
			return 0, unix.EINVAL
		}
		if cmd != SemStatAny && !s.perm.check(c, permRead) {
			ns.mu.Unlock()
			return 0, unix.EACCES
		}
		b := make([]byte, semidDSSize)
		putPerm(b, &s.perm)
		le.PutUint64(b[48:], uint64(s.otime))
		le.PutUint64(b[64:], uint64(s.ctime))
		le.PutUint64(b[80:], uint64(len(s.sems)))
		ret := int32(0)
		if cmd != IPCStat {
			ret = s.id
		}
		ns.mu.Unlock()
		return ret, copyOut(mem, arg, b)
	case GetAll, GetVal, GetPID, GetNCnt, GetZCnt, SetAll:
		return ns.semctlMain(c, mem, id, num, cmd, arg)
	case SetVal:
		val := int32(uint32(arg))
		if val > SemVMX || val < 0 {
			return 0, unix.ERANGE
		}
		ns.mu.Lock()
		defer ns.mu.Unlock()
		s, ok := ns.sems.lookup(id, semObj)
		if !ok {
			return 0, unix.EINVAL
		}
		if num < 0 || int(num) >= len(s.sems) {
			return 0, unix.EINVAL
		}
		if !s.perm.check(c, permWrite) {
			return 0, unix.EACCES
		}
		ns.clearUndoLocked(s, int(num))
		s.sems[num].val, s.sems[num].pid = val, c.PID
		s.ctime = now()
		s.waiters.wakeAll()
		return 0, nil
	case IPCSet, IPCRmid:
		var b [semidDSSize]byte
		if cmd == IPCSet {
			if err := copyIn(mem, arg, b[:]); err != nil {
				return 0, err
			}
		}
		ns.mu.Lock()
		defer ns.mu.Unlock()
		s, ok := ns.sems.lookup(id, semObj)
		if !ok {
			return 0, unix.EINVAL
		}
		if !s.perm.isOwner(c) {
			return 0, unix.EPERM
		}
		if cmd == IPCRmid {
			ns.removeSemLocked(s)
			return 0, nil
		}
		s.perm.set(getSet(b[:]))
		s.ctime = now()
		return 0, nil
	}
	return 0, unix.EINVAL
}

func (ns *Namespace) semctlMain(c *Creds, mem Memory, id, num, cmd int32, arg uint64) (int32, error) {
	ns.mu.Lock()
	s, ok := ns.sems.lookup(id, semObj)
	if !ok {
		ns.mu.Unlock()
		return 0, unix.EINVAL
	}
	want := uint16(permRead)
	if cmd == SetAll {
		want = permWrite
	}
	if !s.perm.check(c, want) {
		ns.mu.Unlock()
		return 0, unix.EACCES
	}
	n := len(s.sems)
	switch cmd {
	case GetAll:
		b := make([]byte, 2*n)
		for i := range s.sems {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(s.sems[i].val))
		}
		ns.mu.Unlock()
		return 0, copyOut(mem, arg, b)
	case SetAll:
		// n is bounded by semmsl.
		ns.mu.Unlock()
		b := make([]byte, 2*n)
		if err := copyIn(mem, arg, b); err != nil {
			return 0, err
		}
		for i := 0; i < n; i++ {
			if binary.LittleEndian.Uint16(b[2*i:]) > SemVMX {
				return 0, unix.ERANGE
			}
		}
		ns.mu.Lock()
		defer ns.mu.Unlock()
		if s.removed {
			return 0, unix.EIDRM
		}
		for i := range s.sems {
			s.sems[i].val = int32(binary.LittleEndian.Uint16(b[2*i:]))
			s.sems[i].pid = c.PID
		}
		ns.clearUndoLocked(s, -1)
		s.ctime = now()
		s.waiters.wakeAll()
		return 0, nil
	}
	defer ns.mu.Unlock()
	if num < 0 || int(num) >= n {
		return 0, unix.EINVAL
	}
	sem := &s.sems[num]
	switch cmd {
	case GetVal:
		return sem.val, nil
	case GetPID:
		return sem.pid, nil
	case GetNCnt:
		return sem.ncnt, nil
	default: // GetZCnt
		return sem.zcnt, nil
	}
}
