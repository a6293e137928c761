package kernel

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"golang.org/x/sys/unix"
)

// Exit implements exit(2) for the calling thread. The process ends when its
// last thread does.
func (t *Task) Exit(status WaitStatus) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	t.exiting = true
	if len(t.tg.tasks) == 1 && !t.tg.exiting {
		t.tg.exiting = true
		t.tg.exitStatus = status
	}
}

// exitGroup makes the whole process exit with status (exit_group(2)).
func (t *Task) exitGroup(status WaitStatus) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	k.killGroupLocked(t.tg, status)
}

// ExitGroup implements exit_group(2).
func (t *Task) ExitGroup(status WaitStatus) { t.exitGroup(status) }

// finishExit releases the task's resources and, for the last thread,
// turns the process into a zombie and tells its parent.
func (t *Task) finishExit() {
	k := t.k
	t.exitRobustList()
	if t.clearChildTID != 0 {
		// Linux writes 0 and wakes a futex waiter (pthread_join).
		var zero [4]byte
		binary.LittleEndian.PutUint32(zero[:], 0)
		if _, err := t.mm.CopyOut(t.clearChildTID, zero[:]); err == nil {
			t.FutexWake(t.clearChildTID, false, 1, FutexBitsetMatchAny)
		}
	}
	t.mm.DecUsers()
	t.fdTable.DecRef(t)
	t.fs.DecRef(t)

	k.mu.Lock()
	defer k.mu.Unlock()
	if t.vforkDone != nil {
		close(t.vforkDone)
		t.vforkDone = nil
	}
	tg := t.tg
	delete(tg.tasks, t)
	delete(k.tasks, t.tid)
	k.live--
	if tg.threadExited != nil {
		close(tg.threadExited)
		tg.threadExited = nil
	}
	if len(tg.tasks) == 0 {
		tg.zombie = true
		tg.uid = t.Credentials().RealUID
		if tg.leader == t {
			tg.leader = nil
		}
		k.orphanChildrenLocked(tg)
		k.notifyParentLocked(tg)
		if tg == k.init {
			k.initStatus = tg.exitStatus
			// Like a PID namespace: when init dies, everyone dies.
			for _, g := range k.groups {
				if !g.zombie {
					k.killGroupLocked(g, WaitStatusSignaled(int(unix.SIGKILL), false))
				}
			}
		}
	}
	if k.init != nil && k.init.zombie && k.live == 0 {
		select {
		case <-k.done:
		default:
			close(k.done)
		}
	}
}

// orphanChildrenLocked gives tg's children to init.
func (k *Kernel) orphanChildrenLocked(tg *ThreadGroup) {
	for child := range tg.children {
		delete(tg.children, child)
		if k.init == nil || k.init == tg || k.init.zombie {
			child.parent = nil
			if child.zombie {
				delete(k.groups, child.id)
			}
			continue
		}
		child.parent = k.init
		k.init.children[child] = struct{}{}
		if child.zombie {
			k.init.notifyChildEventLocked()
		}
	}
}

// notifyParentLocked sends the exit signal to tg's parent and wakes its
// waiters, or reaps tg at once if the parent doesn't wait for children.
func (k *Kernel) notifyParentLocked(tg *ThreadGroup) {
	parent := tg.parent
	if parent == nil {
		if tg != k.init {
			delete(k.groups, tg.id)
		}
		return
	}
	act := parent.handlers.actions[unix.SIGCHLD]
	if tg.exitSignal == int(unix.SIGCHLD) && (act.Handler == linux.SIG_IGN || act.Flags&linux.SA_NOCLDWAIT != 0) {
		// POSIX: children of a process ignoring SIGCHLD are reaped
		// automatically.
		k.reapLocked(tg)
		parent.notifyChildEventLocked()
		return
	}
	if tg.exitSignal > 0 && parent.leader != nil {
		info := linux.SignalInfo{Signo: int32(tg.exitSignal)}
		if sig, ok := tg.exitStatus.Signaled(); ok {
			info.Code = linux.CLD_KILLED
			if tg.exitStatus&0x80 != 0 {
				info.Code = linux.CLD_DUMPED
			}
			info.SetStatus(int32(sig))
		} else {
			code, _ := tg.exitStatus.Exited()
			info.Code = linux.CLD_EXITED
			info.SetStatus(int32(code))
		}
		info.SetPID(tg.id)
		info.SetUID(tg.uid)
		k.sendLocked(parent.leader, &info, true)
	}
	parent.notifyChildEventLocked()
}

// killOtherThreads makes every other thread of t's process exit and waits
// until they have (execve's de_thread).
func (t *Task) killOtherThreads() {
	k := t.k
	for {
		k.mu.Lock()
		if len(t.tg.tasks) == 1 {
			k.mu.Unlock()
			return
		}
		for m := range t.tg.tasks {
			if m != t {
				m.exiting = true
				m.wakeLocked()
			}
		}
		if t.tg.threadExited == nil {
			t.tg.threadExited = make(chan struct{})
		}
		ch := t.tg.threadExited
		k.mu.Unlock()
		<-ch
	}
}
