package ptrace

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Host titles: what host tools (ps, docker top) show for a stub is the
// guest command it runs, not "palisade-stub".
//
// The name (/proc/PID/comm, what `ps -e` and, with an empty command line,
// `ps -ef` in brackets show) is set by an injected prctl(PR_SET_NAME)
// whose argument is always the name slot of the stub page (stubName); the
// Sentry writes the name there first with PTRACE_POKEDATA. The page is
// shared copy-on-write with the master, so each stub gets its own copy on
// its first name and several tracers naming different stubs at once never
// meet.
//
// The command line (/proc/PID/cmdline) is where Linux reads it: the bytes
// at the argument area [arg_start, arg_end) that exec recorded for the
// master stub, inherited by every fork. Moving that area needs
// PR_SET_MM (CAP_SYS_RESOURCE), which stubs must not have; rewriting it in
// place needs nothing. So the master is exec'd with ASLR off (its stack,
// and with it the argument area, then ends at the top of the user range,
// above the stub page, where the guest can map nothing) and one argument
// of titleRoom bytes. Before it runs anything the platform replaces the
// pages holding the area with a fresh anonymous mapping (no stack left to
// grow, nothing of the exec's stack kept), inaccessible while the command
// line is empty and read-only otherwise, whose last argument byte is not
// NUL: Linux then treats the area like a
// setproctitle(3) one and shows the string at arg_start up to its NUL.
// A stub's title is written there with PTRACE_POKEDATA (which, like a
// debugger's breakpoint, writes through the read-only protection), again
// into the stub's own copy of the page. If the kernel put the area
// anywhere else, stubs get names but no command line.
//
// The guest can read both (they are its own name and arguments), write
// neither, and the stub makes no call beyond prctl(PR_SET_NAME, the slot).

// titleRoom is the size of the master stub's argument area: the longest
// command line a stub shows is titleRoom-2 bytes (its NUL and the
// marker byte follow).
const titleRoom = 512

// stubArgv is the master stub's argument list: one argument that fills
// the argument area with its NUL.
var stubArgv = []string{"palisade-stub" + strings.Repeat("-", titleRoom-1-len("palisade-stub"))}

// titleArea is the argument area of the stubs, or zero if they have
// none the platform can use.
type titleArea struct {
	start, end uint64
}

// addrNoRandomize is the personality(2) flag ADDR_NO_RANDOMIZE.
const addrNoRandomize = 0x0040000

// stubStackLimit is the soft RLIMIT_STACK the master stub is exec'd with.
// Exec makes the initial stack at least min(128 KiB, RLIMIT_STACK) long;
// without ASLR, 128 KiB from the top of the user range would reach the
// stub page, where the stub program must then load, and the exec would
// fail.
const stubStackLimit = 64 << 10

// stubExecMu serialises stubExecLimits: the limit is the whole process's.
var stubExecMu sync.Mutex

// stubExecLimits prepares the calling thread to exec the master stub
// without ASLR and with a short stack (see title.go), and returns a
// function undoing it. The caller must be locked to its OS thread. The
// personality is the thread's; the stack limit is the process's, so a
// program another goroutine starts meanwhile gets it too (the Sentry
// starts none; tests might).
func stubExecLimits() func() {
	stubExecMu.Lock()
	undo := []func(){stubExecMu.Unlock}
	done := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_STACK, &lim) == nil && lim.Cur > stubStackLimit {
		short := unix.Rlimit{Cur: stubStackLimit, Max: lim.Max}
		if unix.Setrlimit(unix.RLIMIT_STACK, &short) == nil {
			undo = append(undo, func() { unix.Setrlimit(unix.RLIMIT_STACK, &lim) })
		}
	}
	old, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if e != 0 {
		return done
	}
	if _, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, old|addrNoRandomize, 0, 0); e == 0 {
		undo = append(undo, func() { unix.RawSyscall(unix.SYS_PERSONALITY, old, 0, 0) })
	}
	return done
}

// setupTitleArea finds the argument area of the freshly exec'd master stub
// t and, if it lies above the stub page, replaces the pages holding it with
// a read-only anonymous mapping whose only non-zero byte is the marker at
// arg_end-1. It runs before the stub's seccomp filter is installed (the
// anonymous mmap is not among the stub's calls) and before the Sentry's
// (process_vm_readv is not among the Sentry's: it is made only here, at
// start-up).
func setupTitleArea(t *thread) (titleArea, error) {
	// At the exec stop rsp points at argc, followed by argv[0].
	var buf [8]byte
	local := []unix.Iovec{{Base: &buf[0], Len: 8}}
	remote := []unix.RemoteIovec{{Base: uintptr(t.initRegs.Rsp + 8), Len: 8}}
	if n, err := unix.ProcessVMReadv(t.pid, local, remote, 0); err != nil || n != 8 {
		return titleArea{}, nil
	}
	argv0 := binary.LittleEndian.Uint64(buf[:])
	a := titleArea{start: argv0, end: argv0 + titleRoom}
	if a.start < stubAddr+stubSize || a.end > userTop || a.end < a.start {
		// ASLR could not be turned off: no command lines.
		return titleArea{}, nil
	}
	base := a.start &^ (stubSize - 1)
	if _, err := t.syscall(unix.SYS_MMAP, uintptr(base), uintptr(userTop-base), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED, ^uintptr(0), 0); err != nil {
		return titleArea{}, fmt.Errorf("ptrace: mapping the stub's argument area: %w", err)
	}
	if err := pokeImage(t.tid, a, nil, a.image("")); err != nil {
		return titleArea{}, err
	}
	if err := a.protect(t, false); err != nil {
		return titleArea{}, err
	}
	return a, nil
}

// protect makes the pages of the argument area readable, if show, or
// inaccessible. An empty command line must read as no bytes at all, not as
// a NUL (which ps shows as "?", where for no bytes it shows the name in
// brackets): Linux's /proc/PID/cmdline reads nothing from pages without
// PROT_READ. PTRACE_POKEDATA writes them either way.
func (a titleArea) protect(t *thread, show bool) error {
	prot := uintptr(unix.PROT_NONE)
	if show {
		prot = unix.PROT_READ
	}
	base := a.start &^ (stubSize - 1)
	if _, err := t.syscall(unix.SYS_MPROTECT, uintptr(base), uintptr(userTop-base), prot); err != nil {
		return fmt.Errorf("ptrace: protecting the stub's argument area: %w", err)
	}
	return nil
}

// base returns the word-aligned address image bytes start at.
func (a titleArea) base() uint64 { return a.start &^ 7 }

// image returns the words covering the argument area as they are when it
// shows args: args (cut to fit, NULs made spaces), a NUL, zeros, and the
// non-NUL marker at the area's last byte.
func (a titleArea) image(args string) []byte {
	img := make([]byte, ((a.end+7)&^7)-a.base())
	off := a.start - a.base()
	if max := int(a.end - a.start - 2); len(args) > max {
		args = args[:max]
	}
	n := copy(img[off:], args)
	for i := off; i < off+uint64(n); i++ {
		if img[i] == 0 {
			img[i] = ' '
		}
	}
	img[a.end-1-a.base()] = '-'
	return img
}

// pokeImage writes the words of img that differ from old (all, if old is
// nil) at a.base() in stopped stub thread tid.
func pokeImage(tid int, a titleArea, old, img []byte) error {
	for i := 0; i < len(img); i += 8 {
		if old != nil && string(old[i:i+8]) == string(img[i:i+8]) {
			continue
		}
		if err := pokeWord(tid, a.base()+uint64(i), img[i:i+8]); err != nil {
			return err
		}
	}
	return nil
}

// pokeWord writes 8 bytes at addr, an aligned address, in stopped stub
// thread tid.
func pokeWord(tid int, addr uint64, b []byte) error {
	var w uint64
	for i := 7; i >= 0; i-- {
		w = w<<8 | uint64(b[i])
	}
	if err := ptraceRaw(unix.PTRACE_POKEDATA, tid, uintptr(addr), uintptr(w)); err != nil {
		return fmt.Errorf("ptrace(PTRACE_POKEDATA, %#x): %w", addr, err)
	}
	return nil
}

// SetHostTitle implements platform.HostTitler.SetHostTitle: the next
// Switch into the address space applies it.
func (as *addressSpace) SetHostTitle(comm, args string) {
	if len(comm) > 15 {
		comm = comm[:15]
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released || (as.named && comm == as.comm && args == as.args) {
		as.wantComm, as.wantArgs = comm, args
		return
	}
	as.wantComm, as.wantArgs = comm, args
	as.hasTitle.Store(true)
}

// applyTitle gives the stub the name and command line last asked for,
// through t, one of its stopped threads traced by the caller.
func (as *addressSpace) applyTitle(t *thread) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	as.hasTitle.Store(false)
	comm, args := as.wantComm, as.wantArgs
	if !as.named || comm != as.comm {
		var slot [16]byte
		copy(slot[:15], comm)
		if err := pokeWord(t.tid, stubAddr+stubName, slot[:8]); err != nil {
			return err
		}
		if err := pokeWord(t.tid, stubAddr+stubName+8, slot[8:]); err != nil {
			return err
		}
		if _, err := t.syscall(unix.SYS_PRCTL, unix.PR_SET_NAME, stubAddr+stubName); err != nil {
			return fmt.Errorf("ptrace: naming stub %d: %w", t.pid, err)
		}
	}
	if a := as.p.title; a.end != 0 && (!as.named || args != as.args) {
		old := a.image(as.args)
		if err := pokeImage(t.tid, a, old, a.image(args)); err != nil {
			return err
		}
		if (as.args == "") != (args == "") {
			if err := a.protect(t, args != ""); err != nil {
				return err
			}
		}
	}
	as.named, as.comm, as.args = true, comm, args
	return nil
}
