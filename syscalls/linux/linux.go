// Package linux is the Linux system call table of the Sentry: one entry per
// amd64 system call with its name, handler and support level, and one file
// per area (sys_file.go, sys_mmap.go, ...) whose handlers decode arguments,
// validate them, and delegate to the kernel, vfs and mm layers.
//
// A handler returns its result or an error: a unix.Errno (what the guest
// sees), vfs.ErrInterrupted (the call is restarted or fails with EINTR,
// as Linux's ERESTARTSYS), or kernel.ErrNoSysReturn when it has set the
// task's registers itself.
package linux

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/syscalls/strace"
	"golang.org/x/sys/unix"
)

// Support says how completely a system call is implemented.
type Support int

// Support levels.
const (
	// Unimplemented calls return ENOSYS and are logged once.
	Unimplemented Support = iota
	// Partial calls work for common uses; Note says what is missing.
	Partial
	// Full calls behave as Linux's.
	Full
	// NotInLinux calls have a number in the amd64 table but no
	// implementation in Linux either (create_module, tuxcall, ...): Linux
	// answers them with ENOSYS, and so does the Sentry, without logging
	// them, since no program can need them. They are not counted as
	// unimplemented.
	NotInLinux
)

// String names the level as docs/compatibility.md shows it.
func (s Support) String() string {
	switch s {
	case Full:
		return "full"
	case Partial:
		return "partial"
	case NotInLinux:
		return "absent"
	}
	return "unimplemented"
}

// Handler serves one system call.
type Handler func(t *kernel.Task, args arch.SyscallArgs) (uint64, error)

// Syscall is one table entry.
type Syscall struct {
	Name string
	// Handler serves the call; nil for unimplemented calls, which the
	// dispatcher answers with ENOSYS.
	Handler Handler
	Support Support
	// Note says what a partial implementation lacks, or why a call is
	// unimplemented.
	Note string
	// Quiet is set for unimplemented calls whose ENOSYS callers expect
	// (they fall back): their use is not logged.
	Quiet bool
}

// table maps syscall numbers to entries. Written only by init functions.
var table = map[uint64]Syscall{}

// register adds an entry; the name comes from the ABI table.
// Unimplemented entries have no handler, every other has one: there is
// one way to answer ENOSYS (the dispatcher's), so the table and
// docs/compatibility.md are the whole truth.
func register(s Syscall, nr uint64) {
	if _, dup := table[nr]; dup {
		panic(fmt.Sprintf("syscall %d registered twice", nr))
	}
	if s.Support.answersENOSYS() != (s.Handler == nil) {
		panic(fmt.Sprintf("syscall %d: support %v with handler %v", nr, s.Support, s.Handler != nil))
	}
	s.Name = abi.SyscallName(uintptr(nr))
	table[nr] = s
}

// full registers a call implemented as Linux does.
func full(nr uint64, h Handler) { register(Syscall{Handler: h, Support: Full}, nr) }

// partial registers a call with known gaps.
func partial(nr uint64, note string, h Handler) {
	register(Syscall{Handler: h, Support: Partial, Note: note}, nr)
}

// enosysLogging says whether the dispatcher logs an unimplemented call.
type enosysLogging int

const (
	// logFirstUse logs the first use of the call: a program may need it.
	logFirstUse enosysLogging = iota
	// expectedENOSYS logs nothing: callers are known to fall back
	// (glibc's rseq, membarrier).
	expectedENOSYS
)

// unimplemented marks a call that returns ENOSYS, with why (the note
// docs/compatibility.md shows). Calls absent from the table are
// unimplemented too, with no note; a handler never answers ENOSYS for a
// whole call by itself.
func unimplemented(nr uint64, note string, logging enosysLogging) {
	register(Syscall{Support: Unimplemented, Note: note, Quiet: logging == expectedENOSYS}, nr)
}

// notInLinux marks a call that Linux does not have on amd64 either (its
// number is reserved, or the call was removed): ENOSYS, as Linux answers,
// without a log line. why says since when or why Linux lacks it.
func notInLinux(nr uint64, why string) {
	register(Syscall{Support: NotInLinux, Note: why, Quiet: true}, nr)
}

// answersENOSYS reports whether calls of this level have no handler and
// are answered ENOSYS by the dispatcher.
func (s Support) answersENOSYS() bool { return s == Unimplemented || s == NotInLinux }

// Lookup returns the entry for nr.
func Lookup(nr uint64) Syscall {
	if s, ok := table[nr]; ok {
		return s
	}
	return Syscall{Name: abi.SyscallName(uintptr(nr)), Support: Unimplemented}
}

// Dispatcher implements kernel.SyscallDispatcher.
type Dispatcher struct {
	// Strace, when set, receives a line per syscall entry and exit.
	Strace io.Writer
	// Warn logs the first use of each unimplemented syscall.
	Warn func(format string, args ...any)

	straceMu sync.Mutex
	// reported marks unimplemented syscalls already logged.
	reported [abi.MaxSyscallNumber + 1]atomic.Bool
	// unknownReported is set once an out-of-range number was logged.
	unknownReported atomic.Bool
	// testPanicNr is 1 + the syscall number that panics, or 0 (see
	// SetTestOnlyPanicOnSyscall). Set before the first task runs.
	testPanicNr uint64
}

// SetTestOnlyPanicOnSyscall makes every later call of syscall nr panic in
// the dispatcher, as a buggy handler would. It exists only so that tests
// can check how the sandbox ends on a Sentry bug (runsc's hidden
// --testonly-panic-on-syscall flag); the guest cannot set it. Call it
// before the first task runs.
func (d *Dispatcher) SetTestOnlyPanicOnSyscall(nr uint64) { d.testPanicNr = nr + 1 }

var _ kernel.SyscallDispatcher = (*Dispatcher)(nil)

// Dispatch implements kernel.SyscallDispatcher.Dispatch.
func (d *Dispatcher) Dispatch(t *kernel.Task, nr uint64, args arch.SyscallArgs) (uint64, error) {
	if d.testPanicNr != 0 && nr+1 == d.testPanicNr {
		panic(fmt.Sprintf("test-only panic on syscall %s (%d), as --testonly-panic-on-syscall asked", abi.SyscallName(uintptr(nr)), nr))
	}
	s := Lookup(nr)
	if d.Strace != nil {
		d.straceEnter(t, nr, args)
	}
	var ret uint64
	var err error
	if s.Handler == nil {
		if !s.Quiet {
			d.reportMissing(t, nr)
		}
		err = unix.ENOSYS
	} else {
		ret, err = s.Handler(t, args)
	}
	if d.Strace != nil && err != kernel.ErrNoSysReturn {
		d.straceExit(t, nr, args, ret, err)
	}
	return ret, err
}

func (d *Dispatcher) reportMissing(t *kernel.Task, nr uint64) {
	if nr <= abi.MaxSyscallNumber {
		if d.reported[nr].Swap(true) {
			return
		}
	} else if d.unknownReported.Swap(true) {
		return
	}
	if d.Warn != nil {
		d.Warn("unimplemented syscall %s (%d) called by task %d (%s): returning ENOSYS", abi.SyscallName(uintptr(nr)), nr, t.ThreadID(), t.Name())
	}
}

// straceMemory reads guest memory for strace.
type straceMemory struct{ t *kernel.Task }

func (m straceMemory) ReadString(addr uintptr, max int) (string, error) {
	return m.t.CopyInString(uint64(addr), max)
}

func (m straceMemory) ReadBytes(addr uintptr, n int) ([]byte, error) {
	b := make([]byte, n)
	got, err := m.t.CopyIn(uint64(addr), b)
	return b[:got], err
}

func toStraceArgs(args arch.SyscallArgs) [6]uintptr {
	var a [6]uintptr
	for i, v := range args {
		a[i] = uintptr(v)
	}
	return a
}

func (d *Dispatcher) straceEnter(t *kernel.Task, nr uint64, args arch.SyscallArgs) {
	line := strace.Enter(straceMemory{t}, uintptr(nr), toStraceArgs(args))
	d.straceMu.Lock()
	defer d.straceMu.Unlock()
	fmt.Fprintf(d.Strace, "[%4d] %s\n", t.ThreadID(), line)
}

func (d *Dispatcher) straceExit(t *kernel.Task, nr uint64, args arch.SyscallArgs, ret uint64, err error) {
	var errno unix.Errno
	if err != nil {
		if e, ok := err.(unix.Errno); ok {
			errno = e
		} else {
			errno = abi.ERESTARTSYS
		}
	}
	line := strace.Exit(straceMemory{t}, uintptr(nr), toStraceArgs(args), uintptr(ret), errno)
	d.straceMu.Lock()
	defer d.straceMu.Unlock()
	fmt.Fprintf(d.Strace, "[%4d] %s %s\n", t.ThreadID(), abi.SyscallName(uintptr(nr)), line)
}
