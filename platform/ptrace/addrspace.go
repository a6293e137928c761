package ptrace

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/palisade-sandbox/palisade/platform"
	"golang.org/x/sys/unix"
)

// addressSpace is a stub process. It is forked when the address space is
// made (so that a fork the host refuses fails the guest's fork or exec),
// but attached only on the first Switch into it, so that the thread that
// runs the guest is the one that traces it; mapping changes made before
// that are queued and replayed.
type addressSpace struct {
	p *Platform

	mu sync.Mutex
	// pid is the stub process, or 0 before the first Switch. Protected by mu.
	pid int
	// forked is the stub process forked for this address space by
	// NewAddressSpace, stopped and not yet traced: the first Switch
	// attaches to it and sets pid. Protected by mu.
	forked int
	// threads holds the stub threads of this process by tracer tid.
	// Protected by mu.
	threads map[int]*thread
	// pending holds mapping changes made before the stub existed.
	// Protected by mu.
	pending []mapOp
	// spare holds threads made by PrepareThread that no tracer has
	// claimed yet. Protected by mu.
	spare []int
	// released is set by Release. Protected by mu.
	released bool
	// deferred holds unmaps asked for by OS threads that run no guest
	// thread here, for the next Switch into the address space to apply.
	// Protected by mu; hasDeferred mirrors len(deferred) != 0 so Switch
	// can check without the lock.
	deferred    []deferredUnmap
	hasDeferred atomic.Bool
	// wantComm and wantArgs are the host title last asked for
	// (SetHostTitle); comm and args the one the stub shows, if named.
	// Protected by mu; hasTitle is set while they differ, so Switch can
	// check without the lock.
	wantComm, wantArgs string
	comm, args         string
	named              bool
	hasTitle           atomic.Bool
}

// deferredUnmap is an unmap waiting for a stub thread to run it.
type deferredUnmap struct {
	op   mapOp
	done func()
}

var (
	_ platform.AddressSpace = (*addressSpace)(nil)
	_ platform.HostProcess  = (*addressSpace)(nil)
	_ platform.HostTitler   = (*addressSpace)(nil)
)

// HostPID implements platform.HostProcess.HostPID: the stub process, once
// a guest thread has run in it.
func (as *addressSpace) HostPID() int {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released {
		return 0
	}
	return as.pid
}

// mapOp is one queued mapping change.
type mapOp struct {
	nr   uintptr
	args [6]uintptr
	// aux is passed to the systrap server's new thread (its slot).
	aux uintptr
}

// MapFile implements platform.AddressSpace.MapFile.
func (as *addressSpace) MapFile(addr, offset, length uint64, at platform.Access) error {
	return as.do(mapOp{nr: unix.SYS_MMAP, args: [6]uintptr{uintptr(addr), uintptr(length), uintptr(at.Prot()), unix.MAP_SHARED | unix.MAP_FIXED, stubMemFD, uintptr(offset)}})
}

// Protect implements platform.AddressSpace.Protect.
func (as *addressSpace) Protect(addr, length uint64, at platform.Access) error {
	return as.do(mapOp{nr: unix.SYS_MPROTECT, args: [6]uintptr{uintptr(addr), uintptr(length), uintptr(at.Prot())}})
}

// Unmap implements platform.AddressSpace.Unmap.
func (as *addressSpace) Unmap(addr, length uint64) error {
	return as.do(mapOp{nr: unix.SYS_MUNMAP, args: [6]uintptr{uintptr(addr), uintptr(length)}})
}

// UnmapAsync implements platform.AddressSpace.UnmapAsync.
func (as *addressSpace) UnmapAsync(addr, length uint64, done func()) error {
	op := mapOp{nr: unix.SYS_MUNMAP, args: [6]uintptr{uintptr(addr), uintptr(length)}}
	if err := checkOp(op); err != nil {
		return err
	}
	as.mu.Lock()
	if t := as.threads[unix.Gettid()]; t != nil && as.pid != 0 {
		err := as.applyLocked(t, op)
		as.mu.Unlock()
		if err == nil {
			done()
		}
		return err
	}
	if as.pid == 0 || as.released {
		// No guest thread has run (queued maps are applied in order
		// before the first does) or ever will again: nothing can
		// reach the pages.
		if as.pid == 0 && !as.released {
			as.pending = append(as.pending, op)
		}
		as.mu.Unlock()
		done()
		return nil
	}
	as.deferred = append(as.deferred, deferredUnmap{op, done})
	as.hasDeferred.Store(true)
	as.mu.Unlock()
	return nil
}

// applyDeferred runs the unmaps others asked for through t, before the
// guest runs again, and tells their callers.
func (as *addressSpace) applyDeferred(t *thread) error {
	as.mu.Lock()
	todo := as.deferred
	as.deferred = nil
	as.hasDeferred.Store(false)
	var err error
	for _, d := range todo {
		if err = as.applyLocked(t, d.op); err != nil {
			break
		}
	}
	as.mu.Unlock()
	if err != nil {
		return err
	}
	for _, d := range todo {
		d.done()
	}
	return nil
}

// checkOp refuses mapping changes that would touch the stub's own pages.
func checkOp(op mapOp) error {
	if op.args[0] >= stubAddr || op.args[0]+op.args[1] > stubAddr || op.args[0]+op.args[1] < op.args[0] {
		return fmt.Errorf("ptrace: mapping change %#x+%#x overlaps the stub", op.args[0], op.args[1])
	}
	return nil
}

// do applies op now through the caller's stub thread, or queues it if the
// stub does not exist yet.
func (as *addressSpace) do(op mapOp) error {
	if err := checkOp(op); err != nil {
		return err
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.pid == 0 {
		as.pending = append(as.pending, op)
		return nil
	}
	t := as.threads[unix.Gettid()]
	if t == nil {
		// Only a thread that runs this address space traces a stub
		// thread in it (the Sentry reading another process's memory for
		// /proc, for example).
		return platform.ErrForeignThread
	}
	return as.applyLocked(t, op)
}

func (as *addressSpace) applyLocked(t *thread, op mapOp) error {
	if _, err := t.syscall(op.nr, op.args[:]...); err != nil {
		return fmt.Errorf("ptrace: stub syscall %d%v: %w", op.nr, op.args, err)
	}
	return nil
}

// threadFor returns the calling OS thread's stub thread, creating the stub
// process on first use.
func (as *addressSpace) threadFor(tracer int) (*thread, error) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if t := as.threads[tracer]; t != nil {
		return t, nil
	}
	if as.released {
		return nil, fmt.Errorf("ptrace: switch into a released address space")
	}
	if as.pid != 0 {
		if len(as.spare) == 0 {
			return nil, fmt.Errorf("ptrace: address space %d has no thread prepared for OS thread %d", as.pid, tracer)
		}
		tid := as.spare[0]
		as.spare = as.spare[1:]
		t, err := attachThread(as.pid, tid)
		if err != nil {
			return nil, err
		}
		as.threads[tracer] = t
		return t, nil
	}
	pid := as.forked
	as.forked = 0
	if pid == 0 {
		var err error
		if pid, err = as.p.master.fork(); err != nil {
			return nil, err
		}
	}
	t, err := attach(pid)
	if err != nil {
		return nil, err
	}
	as.pid = pid
	as.threads[tracer] = t
	for _, op := range as.pending {
		if err := as.applyLocked(t, op); err != nil {
			return nil, err
		}
	}
	as.pending = nil
	return t, nil
}

// threadFlags are the clone flags of an added stub thread.
const threadFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM

// PrepareThread implements platform.AddressSpace.PrepareThread: the calling
// OS thread, which runs a guest thread in as, adds a stub thread that
// another OS thread will claim on its first Switch.
func (as *addressSpace) PrepareThread() error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.pid == 0 {
		// Not started yet: whoever switches first creates the process,
		// and a later tracer needs a thread of its own.
		return fmt.Errorf("ptrace: PrepareThread on an address space that has not run")
	}
	t := as.threads[unix.Gettid()]
	if t == nil {
		return fmt.Errorf("ptrace: PrepareThread from an OS thread that does not run address space %d", as.pid)
	}
	tid, err := t.syscallAt(stubAddr+stubCloneThread, unix.SYS_CLONE, threadFlags, 0, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("ptrace: adding a stub thread: %w", err)
	}
	as.spare = append(as.spare, int(tid))
	return nil
}

// UnprepareThread implements platform.AddressSpace.UnprepareThread: the
// calling OS thread seizes the newest unclaimed stub thread and makes it
// exit, leaving the rest of the stub process alone.
func (as *addressSpace) UnprepareThread() {
	as.mu.Lock()
	defer as.mu.Unlock()
	if len(as.spare) == 0 || as.pid == 0 {
		return
	}
	tid := as.spare[len(as.spare)-1]
	as.spare = as.spare[:len(as.spare)-1]
	t, err := attachThread(as.pid, tid)
	if err != nil {
		// It stays in pause(2), harmless, until its process ends.
		return
	}
	t.exitThread()
}

// dropThread ends the stub thread traced by tracer, if any, leaving the
// rest of the process running. It must be called on tracer's OS thread.
func (as *addressSpace) dropThread(tracer int) {
	as.mu.Lock()
	defer as.mu.Unlock()
	t := as.threads[tracer]
	if t == nil {
		return
	}
	delete(as.threads, tracer)
	if len(as.threads) == 0 && len(as.spare) == 0 {
		// The last thread: the whole process goes.
		t.kill()
		return
	}
	t.exitThread()
}

// Release implements platform.AddressSpace.Release.
func (as *addressSpace) Release() {
	as.mu.Lock()
	as.released = true
	as.pending = nil
	if as.pid != 0 {
		unix.Kill(as.pid, unix.SIGKILL)
	}
	if as.forked != 0 {
		// Never attached: the master, its parent, reaps it.
		unix.Kill(as.forked, unix.SIGKILL)
		as.forked = 0
	}
	for _, t := range as.threads {
		t.kill()
	}
	as.threads = nil
	as.spare = nil
	deferred := as.deferred
	as.deferred = nil
	as.hasDeferred.Store(false)
	as.mu.Unlock()
	// The stub will never run guest code again.
	for _, d := range deferred {
		d.done()
	}
}
