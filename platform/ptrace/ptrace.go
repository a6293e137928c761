// Package ptrace implements the platform with ptrace(2).
//
// Each guest address space is a stub process: a one-page program (see
// stub.go) whose address space holds only that page and guest memory mapped
// from the memory file. Each guest thread runs in a stub thread that is
// traced by the Sentry OS thread running that task, so a guest system call
// costs one ptrace stop and no cross-thread hand-off. Guest threads are
// resumed with PTRACE_SYSEMU: a syscall instruction stops the thread before
// the host kernel serves it, and the Sentry serves it instead.
//
// Stubs are never forked from the Sentry (a multithreaded Go process): one
// master stub is started at start-up by exec'ing the stub program, and
// every further stub is forked from it by a system call injected into it
// (see master.go). Every stub is traced with PTRACE_O_EXITKILL and forked
// with PR_SET_PDEATHSIG, so none outlives the Sentry.
//
// Lock order: addressSpace.mu is a leaf.
package ptrace

import (
	"fmt"
	"sync/atomic"

	"github.com/palisade-sandbox/palisade/platform"
	"golang.org/x/sys/unix"
)

// Platform is the ptrace platform.
type Platform struct {
	master *master
	// cpus are the CPUs the Sentry may use; next picks the next one for
	// a new context.
	cpus []int
	next atomic.Uint32
	// xsize and xfeatures describe the host's XSAVE area. Immutable.
	xsize     int
	xfeatures uint64
	// title is the stubs' argument area (see title.go). Immutable.
	title titleArea
}

// FPLayout implements platform.Platform.FPLayout.
func (p *Platform) FPLayout() (int, uint64) { return p.xsize, p.xfeatures }

// nextCPU returns the CPU for a new context, or -1 if unknown.
func (p *Platform) nextCPU() int {
	if len(p.cpus) == 0 {
		return -1
	}
	return p.cpus[int(p.next.Add(1)-1)%len(p.cpus)]
}

var _ platform.Platform = (*Platform)(nil)

// Options configure the stub processes.
type Options struct {
	// StubFilter is a seccomp program installed, with no_new_privs, in
	// the master stub before it runs anything else, and so inherited by
	// every stub. It must allow StubSyscalls. Empty means no filter.
	StubFilter []unix.SockFilter
	// StubDir is a writable directory, on a file system that allows
	// exec, where New writes the stub program to start it (and removes
	// it at once). The stubs get the caller's root and working
	// directory, so a caller confined to an empty directory passes that.
	// Empty means exec through /proc/self/fd from a memfd.
	StubDir string

	// systrap, set by NewSystrap, adds the systrap platform's code and
	// data to the stub page and its set-up to the master stub.
	systrap *systrapImage
}

// StubSyscalls are the host system calls a stub process makes: the ones
// the platform injects (mapping changes, forking stubs, adding threads,
// reaping, thread exit, PR_SET_NAME at StubNameAddr) and those of the stub's own trampolines
// (PR_SET_PDEATHSIG, waiting in pause). A stub filter allows
// these with the arguments StubMemFD, StubThreadCloneFlags and the
// comments in stub.go describe, and nothing else.
var StubSyscalls = []uintptr{
	unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MPROTECT, unix.SYS_FORK, unix.SYS_CLONE,
	unix.SYS_WAIT4, unix.SYS_PRCTL, unix.SYS_PAUSE, unix.SYS_EXIT,
}

// StubMemFD is the descriptor of the memory file in every stub: the only
// file a stub maps.
const StubMemFD = stubMemFD

// StubNameAddr is the only address a stub passes to prctl(PR_SET_NAME):
// the name slot in the stub page.
const StubNameAddr = stubAddr + stubName

// StubThreadCloneFlags are the flags of the clone(2) that adds a thread
// to a stub.
const StubThreadCloneFlags = threadFlags

// New starts the master stub. memFD is the memory file; stubs inherit it.
func New(memFD int, opts Options) (*Platform, error) {
	if err := quietStopNotifications(); err != nil {
		return nil, fmt.Errorf("SIGCHLD action: %w", err)
	}
	m, err := startMaster(memFD, opts)
	if err != nil {
		return nil, err
	}
	p := &Platform{master: m, xsize: m.xsize, xfeatures: m.xfeatures, title: m.title}
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		for cpu := 0; cpu < 1024; cpu++ {
			if set.IsSet(cpu) {
				p.cpus = append(p.cpus, cpu)
			}
		}
	}
	return p, nil
}

// MinUserAddress implements platform.Platform.
func (*Platform) MinUserAddress() uint64 { return 0x10000 }

// MaxUserAddress implements platform.Platform.
func (*Platform) MaxUserAddress() uint64 { return stubAddr }

// NewAddressSpace implements platform.Platform.
// The stub process is forked now, so that a host out of processes fails
// the guest's fork or exec with EAGAIN; the first Switch attaches to it.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	pid, err := p.master.fork()
	if err != nil {
		return nil, err
	}
	return &addressSpace{p: p, threads: map[int]*thread{}, forked: pid}, nil
}

// NewContext implements platform.Platform.
func (p *Platform) NewContext() (platform.Context, error) {
	return newContext(p), nil
}
