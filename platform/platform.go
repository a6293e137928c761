// Package platform defines how the Sentry runs guest code: it creates
// address spaces, maps ranges of the memory file into them, and switches a
// guest thread into an address space until the thread makes a system call,
// faults, or receives a signal. Implementations live in subpackages
// (platform/ptrace today).
//
// The platform knows nothing of tasks, VMAs or files: the Sentry's mm package
// decides what is mapped where; the platform only mirrors those decisions in
// the host.
package platform

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Access is a set of page permissions.
type Access struct {
	Read, Write, Execute bool
}

// Prot returns a as PROT_* bits.
func (a Access) Prot() int {
	p := unix.PROT_NONE
	if a.Read {
		p |= unix.PROT_READ
	}
	if a.Write {
		p |= unix.PROT_WRITE
	}
	if a.Execute {
		p |= unix.PROT_EXEC
	}
	return p
}

// String formats a like the permission column of /proc/PID/maps.
func (a Access) String() string {
	b := []byte("---")
	if a.Read {
		b[0] = 'r'
	}
	if a.Write {
		b[1] = 'w'
	}
	if a.Execute {
		b[2] = 'x'
	}
	return string(b)
}

// Common access sets.
var (
	NoAccess  = Access{}
	Read      = Access{Read: true}
	ReadWrite = Access{Read: true, Write: true}
	AnyAccess = Access{Read: true, Write: true, Execute: true}
)

// State is the user-visible CPU state of one guest thread.
type State struct {
	// Regs are the general purpose registers.
	Regs unix.PtraceRegs

	// FP is the FPU/SSE/AVX state in the XSAVE standard format, of the
	// size Platform.FPLayout gives. It is authoritative only when FPValid
	// is true; otherwise the live state is held by the platform (in the
	// host thread that last ran this guest thread) and Context.PullFP
	// fetches it.
	FP []byte

	// FPValid says FP holds the current state. Setting it (after writing
	// FP, for example in rt_sigreturn) makes the platform load FP into the
	// host thread before the guest runs again.
	FPValid bool
}

// EventKind says why Switch returned.
type EventKind int

// Reasons for leaving guest mode.
const (
	// EventSyscall: the guest executed a syscall instruction. Regs.Orig_rax
	// holds the number, Regs.Rip points after the instruction.
	EventSyscall EventKind = iota
	// EventFault: the guest touched memory that is not mapped with the
	// needed access (SIGSEGV or SIGBUS from the host). Addr is the faulting
	// address.
	EventFault
	// EventSignal: the guest raised another synchronous signal (SIGFPE,
	// SIGILL, SIGTRAP, ...); Info holds the host's siginfo.
	EventSignal
	// EventInterrupted: Context.Interrupt was called.
	EventInterrupted
)

// Event describes why Switch returned.
type Event struct {
	Kind EventKind
	// Signo and Code are the host signal number and si_code for EventFault
	// and EventSignal.
	Signo int
	Code  int32
	// Addr is si_addr for EventFault and EventSignal.
	Addr uint64
}

// String formats e for debug logs.
func (e Event) String() string {
	switch e.Kind {
	case EventSyscall:
		return "syscall"
	case EventFault:
		return fmt.Sprintf("fault(signal %d, code %d, addr %#x)", e.Signo, e.Code, e.Addr)
	case EventSignal:
		return fmt.Sprintf("signal(%d, code %d, addr %#x)", e.Signo, e.Code, e.Addr)
	default:
		return "interrupted"
	}
}

// ErrForeignThread is returned by AddressSpace methods called from an OS
// thread that runs no guest thread in that address space. For MapFile it
// is harmless: the mapping is made when the guest faults on it.
var ErrForeignThread = errors.New("platform: address space changed from an OS thread that does not run it")

// Platform creates address spaces and execution contexts.
type Platform interface {
	// NewAddressSpace returns an empty address space. It makes the host
	// resources the address space needs at once, so that running out of
	// them (EAGAIN, ENOMEM) fails the fork or exec that asked, not the
	// new process's first Switch.
	NewAddressSpace() (AddressSpace, error)

	// NewContext returns the execution context of one guest thread. It
	// must be called, and the context used, on one locked OS thread (see
	// runtime.LockOSThread) for the context's whole life.
	NewContext() (Context, error)

	// FPLayout returns the size of the XSAVE area and the state
	// components (XCR0 bits) the host enables.
	FPLayout() (size int, features uint64)

	// MinUserAddress and MaxUserAddress bound the guest's usable
	// addresses: [MinUserAddress, MaxUserAddress).
	MinUserAddress() uint64
	MaxUserAddress() uint64
}

// AddressSpace is the host side of one guest address space. Its methods may
// be called from any goroutine, but only one at a time (mm serialises them).
type AddressSpace interface {
	// MapFile maps the memory file range [offset, offset+length) at addr
	// with the given access, replacing whatever was mapped there.
	MapFile(addr, offset, length uint64, at Access) error

	// Protect changes the access of [addr, addr+length), which must be
	// mapped.
	Protect(addr, length uint64, at Access) error

	// Unmap removes every mapping in [addr, addr+length). When Unmap
	// returns, no guest thread can reach the old pages any more, so the
	// caller may free them.
	Unmap(addr, length uint64) error

	// UnmapAsync removes every mapping in [addr, addr+length) on behalf
	// of a caller that may not run the address space (a file truncated by
	// another process): at once if the calling OS thread runs a guest
	// thread in it, otherwise before any guest thread of it next enters
	// guest code (one running guest code meanwhile keeps its view until
	// it next stops). done is called when no guest thread can reach the
	// old pages any more; the caller must not free them before.
	UnmapAsync(addr, length uint64, done func()) error

	// PrepareThread readies the address space to be run by one more OS
	// thread (a guest thread or vfork child sharing it). It must be
	// called on an OS thread that runs a guest thread in it; the next
	// Switch into it from a new OS thread takes what it prepared.
	PrepareThread() error

	// UnprepareThread undoes one PrepareThread whose thread no Switch
	// has taken (a clone that failed after preparing it). It must be
	// called on the OS thread that called PrepareThread.
	UnprepareThread()

	// Release destroys the address space. It must not be in use.
	Release()
}

// HostProcess is implemented by address spaces that run in a host process
// of their own (the ptrace platform's stubs).
type HostProcess interface {
	// HostPID returns the host process running the address space, as
	// numbered in the Sentry's PID namespace, or 0 if there is none (yet,
	// or any more).
	HostPID() int
}

// Context runs one guest thread.
type Context interface {
	// Switch runs the guest thread described by st in as until an event.
	// It updates st.Regs (and clears st.FPValid when the guest ran). An
	// error means the host side of the guest is gone (for example the
	// stub was killed); the task cannot continue.
	Switch(as AddressSpace, st *State) (Event, error)

	// PullFP makes st.FP authoritative, fetching it from the host thread
	// that last ran st if needed.
	PullFP(st *State) error

	// Interrupt makes a current or the next Switch return
	// EventInterrupted as soon as possible. It may be called from any
	// goroutine.
	Interrupt()

	// Release frees the context. It must be called on the context's
	// OS thread.
	Release()
}

// HostTitler is implemented by address spaces whose host process can show
// host tools (ps, docker top) the guest's command instead of the
// platform's own name (the ptrace platform's stubs).
type HostTitler interface {
	// SetHostTitle asks the host process to show comm as its name
	// (truncated to 15 bytes, as Linux does) and args as its command line
	// (truncated to what the platform has room for). It takes effect at
	// the latest when a guest thread next runs in the address space, and
	// costs next to nothing when the title has not changed. It may be
	// called from any goroutine.
	SetHostTitle(comm, args string)
}

// MemoryBarrierer is implemented by platforms that can make every guest
// thread pass a full memory barrier (membarrier(2)).
type MemoryBarrierer interface {
	// MemoryBarrier returns once every guest thread of every address
	// space has executed a full memory barrier, or is stopped, since the
	// call began. It returns an error if the host cannot do it.
	MemoryBarrier() error
	// CanMemoryBarrier reports whether MemoryBarrier works on this
	// host, without making a barrier.
	CanMemoryBarrier() bool
}
