package kernel

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"golang.org/x/sys/unix"
)

// CloneOptions are clone(2)'s arguments.
type CloneOptions struct {
	Flags                      uint64
	Stack, ParentTID, ChildTID uint64
	TLS                        uint64
	// ExitSignal is sent to the parent when the child exits.
	ExitSignal int
	// PIDFD, when set, is bound to the new process (CLONE_PIDFD).
	PIDFD *PIDFD
}

// supportedCloneFlags are the flags Clone implements.
const supportedCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_VFORK | unix.CLONE_PARENT | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID |
	unix.CLONE_CHILD_SETTID | unix.CLONE_CHILD_CLEARTID | unix.CLONE_SYSVSEM | unix.CLONE_DETACHED | unix.CLONE_THREAD

// Clone implements clone(2): new processes (fork, vfork and their
// variants) and new threads (CLONE_THREAD). It returns the child's thread
// ID.
func (t *Task) Clone(opts CloneOptions) (int32, error) {
	f := opts.Flags
	if f&^uint64(supportedCloneFlags) != 0 {
		t.k.Warnf("task %d: clone flags %#x not supported", t.tid, f&^uint64(supportedCloneFlags))
		return 0, unix.EINVAL
	}
	if f&unix.CLONE_THREAD != 0 && f&unix.CLONE_SIGHAND == 0 {
		return 0, unix.EINVAL
	}
	if f&unix.CLONE_SIGHAND != 0 && f&unix.CLONE_VM == 0 {
		return 0, unix.EINVAL
	}
	if opts.ExitSignal < 0 || opts.ExitSignal > linux.NumSignals {
		return 0, unix.EINVAL
	}
	if f&unix.CLONE_SETTLS != 0 && opts.TLS >= linux.TASK_SIZE_MAX {
		// As arch_prctl(ARCH_SET_FS): the host would refuse the base
		// at the child's first switch.
		return 0, unix.EPERM
	}
	k := t.k
	creds := t.Credentials()
	limit := t.tg.Limit(unix.RLIMIT_NPROC).Cur
	k.mu.Lock()
	err := k.reserveTaskLocked(creds, limit)
	k.mu.Unlock()
	if err != nil {
		return 0, err
	}
	// The task is counted from here on: every failure below gives the
	// reservation back, and everything made so far.

	var childMM *mm.MemoryManager
	if f&unix.CLONE_VM != 0 {
		if err := t.mm.AddressSpace().PrepareThread(); err != nil {
			k.Warnf("task %d: clone(CLONE_VM): %v", t.tid, err)
			k.unreserveTask(creds.RealUID)
			return 0, creationErrno(err)
		}
		t.mm.IncUsers()
		childMM = t.mm
	} else {
		var err error
		if childMM, err = t.mm.Fork(); err != nil {
			k.Warnf("task %d: clone: copying the address space: %v", t.tid, err)
			k.unreserveTask(creds.RealUID)
			return 0, creationErrno(err)
		}
	}
	fdTable := t.fdTable
	if f&unix.CLONE_FILES != 0 {
		fdTable.IncRef()
	} else {
		fdTable = fdTable.Fork()
	}
	fs := t.fs
	if f&unix.CLONE_FS != 0 {
		fs.IncRef()
	} else {
		fs = fs.Fork()
	}
	// abort undoes the above after a late failure.
	abort := func() (int32, error) {
		if f&unix.CLONE_VM != 0 {
			t.mm.AddressSpace().UnprepareThread()
		}
		childMM.DecUsers()
		fdTable.DecRef(t)
		fs.DecRef(t)
		k.unreserveTask(creds.RealUID)
		return 0, unix.EAGAIN
	}

	child := &Task{
		k: k, mm: childMM, fdTable: fdTable, fs: fs,
		interruptCh: make(chan struct{}, 1),
		nprocUID:    creds.RealUID,
	}
	child.creds.Store(creds)
	child.st.Regs = t.st.Regs
	child.st.FP = append(arch.FPState(nil), t.FPState()...)
	child.st.FPValid = true
	child.st.Regs.Rax = 0
	child.st.Regs.Orig_rax = ^uint64(0)
	if opts.Stack != 0 {
		child.st.Regs.Rsp = opts.Stack
	}
	if f&unix.CLONE_SETTLS != 0 {
		child.st.Regs.Fs_base = opts.TLS
	}
	if f&unix.CLONE_CHILD_CLEARTID != 0 {
		child.clearChildTID = opts.ChildTID
	}
	var vforkDone chan struct{}
	if f&unix.CLONE_VFORK != 0 {
		vforkDone = make(chan struct{})
		child.vforkDone = vforkDone
	}

	k.mu.Lock()
	tid, err := k.allocIDLocked()
	if err != nil {
		k.mu.Unlock()
		return abort()
	}
	if f&unix.CLONE_THREAD != 0 && (t.tg.exiting || t.exiting) {
		// The process is exiting, or another thread's execve is
		// killing this one.
		k.mu.Unlock()
		return abort()
	}
	// Linux: a successful copy_process clears PF_NPROC_EXCEEDED.
	t.nprocExceeded = false
	child.tid = tid
	child.comm = t.comm
	child.sigMask = t.sigMask
	child.altStack = t.altStack
	if f&unix.CLONE_VM != 0 && f&unix.CLONE_VFORK == 0 {
		child.altStack = linux.SignalStack{Flags: linux.SS_DISABLE}
	}
	parent := t.tg
	if f&unix.CLONE_PARENT != 0 && t.tg.parent != nil {
		parent = t.tg.parent
	}
	if f&unix.CLONE_THREAD != 0 {
		child.tg = t.tg
		t.tg.tasks[child] = struct{}{}
		t.InheritPrctlStateLocked(child)
		t.inheritExeLocked(child)
		t.ptraceInheritLocked(child, opts)
		k.tasks[tid] = child
		k.live++
		k.mu.Unlock()
		return t.startChild(child, opts, childMM, nil)
	}
	handlers := t.tg.handlers
	if f&unix.CLONE_SIGHAND == 0 {
		handlers = handlers.fork()
	}
	tg := &ThreadGroup{
		k: k, id: tid, leader: child, tasks: map[*Task]struct{}{child: {}},
		parent: parent, children: map[*ThreadGroup]struct{}{},
		pgid: t.tg.pgid, sid: t.tg.sid, handlers: handlers, hostArgs: t.tg.hostArgs,
		exitSignal: opts.ExitSignal, childEvents: make(chan struct{}),
		limits: t.tg.copyLimits(), startTime: time.Now(), exited: make(chan struct{}),
	}
	child.tg = tg
	parent.children[tg] = struct{}{}
	if opts.PIDFD != nil {
		opts.PIDFD.tg = tg
	}
	t.InheritPrctlStateLocked(child)
	t.inheritExeLocked(child)
	t.ptraceInheritLocked(child, opts)
	k.tasks[tid] = child
	k.groups[tid] = tg
	k.live++
	k.mu.Unlock()
	return t.startChild(child, opts, childMM, vforkDone)
}

// creationErrno is the errno clone returns when the platform or the memory
// file could not give a new task what it needs: ENOMEM or EAGAIN as the
// host said, EAGAIN for anything else (Linux's fork fails with one of the
// two when it runs out of resources).
func creationErrno(err error) error {
	var e unix.Errno
	if errors.As(err, &e) && e == unix.ENOMEM {
		return unix.ENOMEM
	}
	return unix.EAGAIN
}

// startChild finishes a clone: it writes the requested TIDs, starts the
// child and, for vfork, waits for it to exec or exit.
func (t *Task) startChild(child *Task, opts CloneOptions, childMM *mm.MemoryManager, vforkDone chan struct{}) (int32, error) {
	f := opts.Flags
	tid := child.tid
	child.ctx = child.newContext()
	var tidBytes [4]byte
	binary.LittleEndian.PutUint32(tidBytes[:], uint32(tid))
	if f&unix.CLONE_PARENT_SETTID != 0 {
		t.mm.CopyOut(opts.ParentTID, tidBytes[:])
	}
	if f&unix.CLONE_CHILD_SETTID != 0 {
		childMM.CopyOut(opts.ChildTID, tidBytes[:])
	}
	if childMM != t.mm {
		// A new address space (fork): its host process shows what the
		// parent's does.
		child.updateHostTitle()
	}
	child.Start()
	t.ptraceCloneDone(opts, tid)
	if vforkDone != nil {
		<-vforkDone
		t.ptraceVforkDone(tid)
	}
	return tid, nil
}

// inheritExeLocked gives child, a new task that shares or copies t's
// address space, t's program location (Linux: dup_mm copies exe_file).
//
// Preconditions: Kernel.mu is held; child is not yet visible.
func (t *Task) inheritExeLocked(child *Task) {
	child.exe = t.exe
	if child.exe.Ok() {
		child.exe.IncRef()
	}
}
