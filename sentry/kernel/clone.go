package kernel

import (
	"encoding/binary"
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"golang.org/x/sys/unix"
)

// CloneOptions are clone(2)'s arguments.
type CloneOptions struct {
	Flags                      uint64
	Stack, ParentTID, ChildTID uint64
	TLS                        uint64
	// ExitSignal is sent to the parent when the child exits.
	ExitSignal int
}

// supportedCloneFlags are the flags Clone implements.
const supportedCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_VFORK | unix.CLONE_PARENT | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID |
	unix.CLONE_CHILD_SETTID | unix.CLONE_CHILD_CLEARTID | unix.CLONE_SYSVSEM | unix.CLONE_DETACHED

// Clone implements clone(2) for new processes (fork, vfork and their
// variants) and returns the child's thread ID.
//
// CLONE_VM without CLONE_THREAD (vfork, posix_spawn) gives the child a
// copy-on-write copy of the address space rather than the same one: the
// ptrace platform runs one address space from one host thread for now.
// The parent still waits for the child to exec or exit, so the only
// visible difference is that the child's writes to memory are not seen by
// the parent (docs/kernel.md).
func (t *Task) Clone(opts CloneOptions) (int32, error) {
	f := opts.Flags
	if f&unix.CLONE_THREAD != 0 {
		t.k.Warnf("task %d: clone with CLONE_THREAD: threads are not implemented yet (issue 4)", t.tid)
		return 0, unix.ENOSYS
	}
	if f&^uint64(supportedCloneFlags) != 0 {
		t.k.Warnf("task %d: clone flags %#x not supported", t.tid, f&^uint64(supportedCloneFlags))
		return 0, unix.EINVAL
	}
	if f&unix.CLONE_SIGHAND != 0 && f&unix.CLONE_VM == 0 {
		return 0, unix.EINVAL
	}
	if opts.ExitSignal < 0 || opts.ExitSignal > linux.NumSignals {
		return 0, unix.EINVAL
	}
	k := t.k

	childMM, err := t.mm.Fork()
	if err != nil {
		return 0, err
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

	child := &Task{
		k: k, mm: childMM, fdTable: fdTable, fs: fs,
		interruptCh: make(chan struct{}, 1),
	}
	child.creds.Store(t.Credentials())
	child.st.Regs = t.st.Regs
	child.st.FP = *t.FPState()
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
		childMM.DecUsers()
		fdTable.DecRef(t)
		fs.DecRef(t)
		return 0, unix.EAGAIN
	}
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
	handlers := t.tg.handlers
	if f&unix.CLONE_SIGHAND == 0 {
		handlers = handlers.fork()
	}
	tg := &ThreadGroup{
		k: k, id: tid, leader: child, tasks: map[*Task]struct{}{child: {}},
		parent: parent, children: map[*ThreadGroup]struct{}{},
		pgid: t.tg.pgid, sid: t.tg.sid, handlers: handlers,
		exitSignal: opts.ExitSignal, childEvents: make(chan struct{}),
		limits: t.tg.limits, startTime: time.Now(),
	}
	child.tg = tg
	parent.children[tg] = struct{}{}
	k.tasks[tid] = child
	k.groups[tid] = tg
	k.live++
	k.mu.Unlock()
	child.ctx = child.newContext()

	var tidBytes [4]byte
	binary.LittleEndian.PutUint32(tidBytes[:], uint32(tid))
	if f&unix.CLONE_PARENT_SETTID != 0 {
		t.mm.CopyOut(opts.ParentTID, tidBytes[:])
	}
	if f&unix.CLONE_CHILD_SETTID != 0 {
		childMM.CopyOut(opts.ChildTID, tidBytes[:])
	}
	child.Start()
	if vforkDone != nil {
		<-vforkDone
	}
	return tid, nil
}
