package kernel

import (
	"encoding/binary"
	"sync"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/lock"
	"golang.org/x/sys/unix"
)

// Exit implements exit(2) for the calling thread. The process ends when its
// last thread does.
func (t *Task) Exit(status WaitStatus) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	t.exiting = true
	tg := t.tg
	if tg.exiting {
		return
	}
	// Without a group exit, wait(2) reports the code of the thread that
	// exits last, as Linux does; threads exiting at once may not see
	// each other as the last, so each records its status.
	tg.exitStatus = status
	if len(tg.tasks) == 1 {
		tg.exiting = true
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
	exe := t.exe
	t.exe = vfs.VirtualDentry{}
	k.mu.Unlock()
	if exe.Ok() {
		exe.DecRef(t.ctx)
	}

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
	if len(tg.tasks) == 0 {
		// The zombie keeps counting until it is reaped, as in Linux
		// (release_task).
		tg.zombieCounted, tg.zombieUID = true, t.nprocUID
	} else {
		k.unreserveTaskLocked(t.nprocUID)
	}
	k.SendParentDeathSignalsLocked(t)
	if tg.threadExited != nil {
		close(tg.threadExited)
		tg.threadExited = nil
	}
	if len(tg.tasks) == 0 {
		tg.exiting = true
		tg.zombie = true
		close(tg.exited)
		tg.pidfdQueue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
		tg.uid = t.Credentials().RealUID
		lock.ReleaseProcess(tg.id)
		k.exitIPCLocked(tg)
		if tg.leader == t {
			tg.leader = nil
		}
		k.ReleaseControllingTTYLocked(tg)
		k.orphanChildrenLocked(tg)
		k.notifyParentLocked(tg)
	}
	status := tg.exitStatus
	t.ptraceExitLocked(status)
	if len(tg.tasks) == 0 {
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
	k.checkDoneLocked()
}

// checkDoneLocked closes done once init has exited and every task is
// gone.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) checkDoneLocked() {
	if k.init != nil && k.init.zombie && k.live == 0 {
		select {
		case <-k.done:
		default:
			close(k.done)
		}
	}
}

// subreapers records the processes that called
// prctl(PR_SET_CHILD_SUBREAPER, 1) (Linux:
// signal_struct::is_child_subreaper). It belongs in ThreadGroup; it is
// kept here, under its own leaf lock, until that file's owner moves it.
// Entries go when the process becomes a zombie.
var subreapers struct {
	mu  sync.Mutex
	set map[*ThreadGroup]struct{}
}

// SetChildSubreaper implements prctl(PR_SET_CHILD_SUBREAPER): orphaned
// descendants of t's process are given to it rather than to init.
func (t *Task) SetChildSubreaper(on bool) {
	subreapers.mu.Lock()
	defer subreapers.mu.Unlock()
	if !on {
		delete(subreapers.set, t.tg)
		return
	}
	if subreapers.set == nil {
		subreapers.set = map[*ThreadGroup]struct{}{}
	}
	subreapers.set[t.tg] = struct{}{}
}

// IsChildSubreaper implements prctl(PR_GET_CHILD_SUBREAPER).
func (t *Task) IsChildSubreaper() bool {
	return isSubreaper(t.tg)
}

func isSubreaper(tg *ThreadGroup) bool {
	subreapers.mu.Lock()
	defer subreapers.mu.Unlock()
	_, ok := subreapers.set[tg]
	return ok
}

// newReaperLocked returns the process that inherits the children of tg,
// which is exiting: the nearest ancestor that is a child subreaper and
// still has a live thread, else init (nil if init is gone). Linux:
// find_new_reaper.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) newReaperLocked(tg *ThreadGroup) *ThreadGroup {
	for a := tg.parent; a != nil && a != k.init; a = a.parent {
		if !a.exiting && !a.zombie && len(a.tasks) > 0 && isSubreaper(a) {
			return a
		}
	}
	if k.init == nil || k.init == tg || k.init.zombie {
		return nil
	}
	return k.init
}

// orphanChildrenLocked gives tg's children to the nearest subreaper or to
// init. A reparented child's exit signal becomes SIGCHLD; a zombie child
// is reported to its new parent at once.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) orphanChildrenLocked(tg *ThreadGroup) {
	reaper := k.newReaperLocked(tg)
	subreapers.mu.Lock()
	delete(subreapers.set, tg)
	subreapers.mu.Unlock()
	for child := range tg.children {
		delete(tg.children, child)
		if reaper == nil {
			child.parent = nil
			if child.zombie {
				delete(k.groups, child.id)
				k.releaseZombieLocked(child)
			}
			continue
		}
		child.parent = reaper
		child.exitSignal = int(unix.SIGCHLD)
		reaper.children[child] = struct{}{}
		if child.zombie {
			k.notifyParentLocked(child)
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
			k.releaseZombieLocked(tg)
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
// until they have (execve's de_thread). It returns false if t itself must
// exit instead: another thread is exec'ing (and has told t to exit) or the
// process is exiting.
func (t *Task) killOtherThreads() bool {
	k := t.k
	for {
		k.mu.Lock()
		if t.exiting {
			k.mu.Unlock()
			return false
		}
		if len(t.tg.tasks) == 1 {
			k.mu.Unlock()
			return true
		}
		for m := range t.tg.tasks {
			if m != t {
				m.exiting = true
				if m == t.tg.leader {
					// t takes its place: a tracer is not told of
					// its death (ptrace(2), execve under ptrace).
					m.ptrace.hideExit = true
				}
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

// becomeLeader makes t, the last thread of its process, the thread group
// leader with the leader's TID, as Linux's de_thread does for a thread
// that calls execve: afterwards gettid() == getpid(). The old leader has
// exited (killOtherThreads), so its TID is free in Kernel.tasks; it
// stays reserved meanwhile because allocIDLocked skips thread group IDs.
//
// t.tid is written under Kernel.mu; other goroutines read it under
// Kernel.mu (the task tables) or through the task itself.
func (t *Task) becomeLeader() {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	tg.leader = t
	if t.tid == tg.id {
		return
	}
	if k.tasks[t.tid] == t {
		delete(k.tasks, t.tid)
	}
	t.tid = tg.id
	k.tasks[t.tid] = t
}
