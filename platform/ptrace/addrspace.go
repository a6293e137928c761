package ptrace

import (
	"fmt"
	"sync"

	"github.com/palisade-sandbox/palisade/platform"
	"golang.org/x/sys/unix"
)

// addressSpace is a stub process. It is created lazily, on the first Switch
// into it, so that the thread that runs the guest is the one that traces
// it; mapping changes made before that are queued and replayed.
type addressSpace struct {
	p *Platform

	mu sync.Mutex
	// pid is the stub process, or 0 before the first Switch. Protected by mu.
	pid int
	// threads holds the stub threads of this process by tracer tid.
	// Protected by mu.
	threads map[int]*thread
	// pending holds mapping changes made before the stub existed.
	// Protected by mu.
	pending []mapOp
	// released is set by Release. Protected by mu.
	released bool
}

var _ platform.AddressSpace = (*addressSpace)(nil)

// mapOp is one queued mapping change.
type mapOp struct {
	nr   uintptr
	args [6]uintptr
}

// MapFile implements platform.AddressSpace.MapFile.
func (as *addressSpace) MapFile(addr, offset, length uint64, at platform.Access) error {
	return as.do(mapOp{unix.SYS_MMAP, [6]uintptr{uintptr(addr), uintptr(length), uintptr(at.Prot()), unix.MAP_SHARED | unix.MAP_FIXED, stubMemFD, uintptr(offset)}})
}

// Protect implements platform.AddressSpace.Protect.
func (as *addressSpace) Protect(addr, length uint64, at platform.Access) error {
	return as.do(mapOp{unix.SYS_MPROTECT, [6]uintptr{uintptr(addr), uintptr(length), uintptr(at.Prot())}})
}

// Unmap implements platform.AddressSpace.Unmap.
func (as *addressSpace) Unmap(addr, length uint64) error {
	return as.do(mapOp{unix.SYS_MUNMAP, [6]uintptr{uintptr(addr), uintptr(length)}})
}

// do applies op now through the caller's stub thread, or queues it if the
// stub does not exist yet.
func (as *addressSpace) do(op mapOp) error {
	if op.args[0] >= stubAddr || op.args[0]+op.args[1] > stubAddr || op.args[0]+op.args[1] < op.args[0] {
		return fmt.Errorf("ptrace: mapping change %#x+%#x overlaps the stub", op.args[0], op.args[1])
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.pid == 0 {
		as.pending = append(as.pending, op)
		return nil
	}
	t := as.threads[unix.Gettid()]
	if t == nil {
		// Another OS thread traces this stub. Multi-threaded guests
		// (several tracers per address space) are not supported yet.
		return fmt.Errorf("ptrace: address space %d changed from an OS thread that does not trace it", as.pid)
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
		return nil, fmt.Errorf("ptrace: address space %d is traced by another OS thread (multi-threaded guests are not supported yet)", as.pid)
	}
	pid, err := as.p.master.fork()
	if err != nil {
		return nil, err
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

// Release implements platform.AddressSpace.Release.
func (as *addressSpace) Release() {
	as.mu.Lock()
	defer as.mu.Unlock()
	as.released = true
	as.pending = nil
	for _, t := range as.threads {
		t.kill()
	}
	as.threads = nil
}
