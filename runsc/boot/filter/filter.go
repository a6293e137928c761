// Package filter builds and installs the seccomp-bpf filter of the Sentry,
// the `runsc boot` process, once start-up is over.
//
// The filter is an allow-list. It checks, in order:
//
//  1. that the call uses the x86-64 ABI (AUDIT_ARCH_X86_64), else the
//     process is killed;
//  2. that it is not an x32 call (number with bit 30 set), else killed;
//  3. the rules of Rules, one block per system call, first match wins;
//  4. anything else kills the whole process (SECCOMP_RET_KILL_PROCESS).
//
// It enforces the invariant that the Sentry opens no host path after
// start-up: open, openat, openat2 and creat fail with EPERM (a bug that
// tries to open a path fails loudly but cleanly), and execve, new
// sockets, mount, chroot and the rest of the kernel's path interface are
// not on the list at all. Host files reach the Sentry only as descriptors
// donated by the gofer, which it may read, write, map and stat.
//
// There is no way to turn the filter off or to relax it at run time: no
// flag, no environment variable. A missing rule shows up as the sandbox
// dying of SIGSYS; the kernel's audit log (dmesg) names the call
// ("type=1326 ... syscall=N").
package filter

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Action is what the filter returns for a call: a SECCOMP_RET_* value,
// with the errno in its low 16 bits for SECCOMP_RET_ERRNO.
type Action uint32

// Actions the Sentry's filter uses.
const (
	// Allow lets the call through.
	Allow Action = unix.SECCOMP_RET_ALLOW
	// KillProcess kills every thread of the process with SIGSYS, as if
	// by a core-dumping signal that cannot be caught.
	KillProcess Action = unix.SECCOMP_RET_KILL_PROCESS
)

// Errno returns the action that fails a call with e without running it.
func Errno(e unix.Errno) Action {
	return Action(unix.SECCOMP_RET_ERRNO | uint32(e)&unix.SECCOMP_RET_DATA)
}

// String returns "allow", "kill" or "errno NAME".
func (a Action) String() string {
	switch {
	case a == Allow:
		return "allow"
	case a == KillProcess:
		return "kill"
	case uint32(a)&unix.SECCOMP_RET_ACTION_FULL == unix.SECCOMP_RET_ERRNO:
		return "errno " + unix.ErrnoName(unix.Errno(uint32(a)&unix.SECCOMP_RET_DATA))
	}
	return fmt.Sprintf("action %#x", uint32(a))
}

// Cond is a condition on one argument of a call: the argument must equal
// one of Values.
type Cond struct {
	// Arg is the argument's index, 0 to 5.
	Arg int
	// Wide compares all 64 bits. Otherwise only the low 32 bits are
	// compared, as the kernel itself truncates int and unsigned int
	// arguments (a caller may leave garbage in the upper half).
	Wide bool
	// Values are the allowed values.
	Values []uint64
}

// In32 returns the condition that the low 32 bits of argument arg are one
// of values.
func In32(arg int, values ...uint32) Cond {
	c := Cond{Arg: arg}
	for _, v := range values {
		c.Values = append(c.Values, uint64(v))
	}
	return c
}

// In64 returns the condition that all 64 bits of argument arg are one of
// values.
func In64(arg int, values ...uint64) Cond {
	return Cond{Arg: arg, Wide: true, Values: values}
}

// String describes c, e.g. "arg0 in {0x1, 0x2}".
func (c Cond) String() string {
	s := fmt.Sprintf("arg%d", c.Arg)
	if !c.Wide {
		s += " (32 bits)"
	}
	if len(c.Values) == 1 {
		return fmt.Sprintf("%s == %#x", s, c.Values[0])
	}
	s += " in {"
	for i, v := range c.Values {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%#x", v)
	}
	return s + "}"
}

// Rule says what the filter does with one system call.
type Rule struct {
	// Name is the call's name, as in syscalls(2).
	Name string
	// Nr is the x86-64 system call number.
	Nr uint32
	// Action is taken when every condition in Conds holds.
	Action Action
	// Conds must all hold for Action; none means always.
	Conds []Cond
	// Else is taken when some condition fails; zero means KillProcess.
	Else Action
	// Why says who makes the call and why it is safe.
	Why string
}

// String describes r in one line, for docs and logs.
func (r Rule) String() string {
	s := fmt.Sprintf("%s (%d): %v", r.Name, r.Nr, r.Action)
	if len(r.Conds) > 0 {
		s += " if"
		for i, c := range r.Conds {
			if i > 0 {
				s += " and"
			}
			s += " " + c.String()
		}
		s += fmt.Sprintf(", else %v", r.elseAction())
	}
	return s + " — " + r.Why
}

func (r Rule) elseAction() Action {
	if r.Else == 0 {
		return KillProcess
	}
	return r.Else
}

// Offsets into struct seccomp_data (seccomp(2)).
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// x32Bit marks the x32 ABI's system call numbers (__X32_SYSCALL_BIT).
const x32Bit = 0x40000000

// Build compiles rules into a seccomp program as described in the package
// comment. A call number may appear in at most one rule.
func Build(rules []Rule) ([]unix.SockFilter, error) {
	var a Assembler
	kill := a.NewLabel()

	a.LoadWord(offArch)
	a.JumpIfEqual(unix.AUDIT_ARCH_X86_64, 0, kill)
	a.LoadWord(offNr)
	a.JumpIfAnySet(x32Bit, kill, 0)

	seen := make(map[uint32]string)
	for _, r := range rules {
		if prev, ok := seen[r.Nr]; ok {
			return nil, fmt.Errorf("filter: %s and %s both have number %d", prev, r.Name, r.Nr)
		}
		seen[r.Nr] = r.Name
		if err := emitRule(&a, r); err != nil {
			return nil, err
		}
	}

	a.Bind(kill)
	a.Return(uint32(KillProcess))
	return a.Assemble()
}

// emitRule emits the block for r. It is entered with the call number in
// the accumulator and leaves it there when it falls through to the next
// block; every other path through it returns.
func emitRule(a *Assembler, r Rule) error {
	next := a.NewLabel()
	a.JumpIfEqual(r.Nr, 0, next)
	var fail Label
	if len(r.Conds) > 0 {
		fail = a.NewLabel()
	}
	for _, c := range r.Conds {
		if c.Arg < 0 || c.Arg > 5 || len(c.Values) == 0 {
			return fmt.Errorf("filter: %s: bad condition %v", r.Name, c)
		}
		ok := a.NewLabel()
		lo := uint32(offArgs + 8*c.Arg) // little-endian: low word first
		if !c.Wide {
			a.LoadWord(lo)
		}
		for i, v := range c.Values {
			last := i == len(c.Values)-1
			miss := fail
			if !last {
				miss = a.NewLabel()
			}
			if c.Wide {
				a.LoadWord(lo)
				a.JumpIfEqual(uint32(v), 0, miss)
				a.LoadWord(lo + 4)
				a.JumpIfEqual(uint32(v>>32), ok, miss)
			} else {
				if v>>32 != 0 {
					return fmt.Errorf("filter: %s: 32-bit condition on %#x", r.Name, v)
				}
				a.JumpIfEqual(uint32(v), ok, miss)
			}
			if !last {
				a.Bind(miss)
			}
		}
		a.Bind(ok)
	}
	a.Return(uint32(r.Action))
	if len(r.Conds) > 0 {
		a.Bind(fail)
		a.Return(uint32(r.elseAction()))
	}
	a.Bind(next)
	return nil
}
