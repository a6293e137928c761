// Package seccomp compiles allow-lists of system calls into seccomp-bpf
// programs and installs them on every thread of the calling process. It is
// shared by the two confined processes of a sandbox: the Sentry (`runsc
// boot`, rules in runsc/boot/filter) and the file server (`runsc gofer`,
// rules in runsc/gofer/filter).
//
// A program built by Build checks, in order:
//
//  1. that the call uses the x86-64 ABI (AUDIT_ARCH_X86_64), else the
//     process is killed;
//  2. that it is not an x32 call (number with bit 30 set), else killed;
//  3. the rules, one block per system call, in the order given (so the
//     calls made most often should come first); the first rule whose
//     number matches decides;
//  4. anything else kills the whole process (SECCOMP_RET_KILL_PROCESS).
//
// A rule may put conditions on the call's arguments (Cond): equal to one of
// some values, equal to none of them, or equal to one of them once masked.
// Pointers cannot be followed: a filter sees argument registers only, never
// the memory they point to (a path, a clone_args struct).
//
// Main types: Rule and Cond (what to allow), Assembler (classic BPF with
// labels), Build (rules to program), Install (no_new_privs, then the
// program on all threads with SECCOMP_FILTER_FLAG_TSYNC), Evaluate and
// CheckReached (run a program in Go, for tests).
package seccomp

import (
	"fmt"
	"math/bits"

	"golang.org/x/sys/unix"
)

// Action is what the filter returns for a call: a SECCOMP_RET_* value,
// with the errno in its low 16 bits for SECCOMP_RET_ERRNO.
type Action uint32

// Actions the filters use.
const (
	// Allow lets the call through.
	Allow Action = unix.SECCOMP_RET_ALLOW
	// KillProcess kills every thread of the process with SIGSYS, as if
	// by a core-dumping signal that cannot be caught.
	KillProcess Action = unix.SECCOMP_RET_KILL_PROCESS
	// Trap refuses the call and raises SIGSYS (si_code SYS_SECCOMP) in
	// the calling thread, which a tracer sees as a signal stop.
	Trap Action = unix.SECCOMP_RET_TRAP
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
	case a == Trap:
		return "trap"
	case uint32(a)&unix.SECCOMP_RET_ACTION_FULL == unix.SECCOMP_RET_ERRNO:
		return "errno " + unix.ErrnoName(unix.Errno(uint32(a)&unix.SECCOMP_RET_DATA))
	}
	return fmt.Sprintf("action %#x", uint32(a))
}

// GoThreadCloneFlags are the flags the Go runtime passes to clone(2) to
// start an OS thread: runtime.cloneFlags, to which runtime.clone adds
// CLONE_SETTLS when it starts an M (always, in practice). A confined
// process allows clone with exactly these flags, with or without
// CLONE_SETTLS; any other clone, a fork in particular, is refused.
const GoThreadCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES |
	unix.CLONE_SIGHAND | unix.CLONE_SYSVSEM | unix.CLONE_THREAD

// Op is how a condition compares an argument with its values.
type Op int

// Comparisons a Cond can make.
const (
	// OpIn holds when the argument equals one of Values.
	OpIn Op = iota
	// OpNotIn holds when the argument equals none of Values.
	OpNotIn
	// OpMaskedIn holds when the argument ANDed with Mask equals one of
	// Values: bits that must be set, bits that must be clear, a field
	// such as the access mode that must have one of some values.
	OpMaskedIn
)

// Cond is a condition on one argument of a call.
type Cond struct {
	// Arg is the argument's index, 0 to 5.
	Arg int
	// Wide compares all 64 bits (OpIn only). Otherwise only the low 32
	// bits are compared, as the kernel itself truncates int and
	// unsigned int arguments (a caller may leave garbage in the upper
	// half).
	Wide bool
	// Op is the comparison.
	Op Op
	// Mask is ANDed with the argument before comparing, for OpMaskedIn.
	Mask uint32
	// Values are the values compared with.
	Values []uint64
}

// In32 returns the condition that the low 32 bits of argument arg are one
// of values.
func In32(arg int, values ...uint32) Cond {
	return Cond{Arg: arg, Op: OpIn, Values: widen(values)}
}

// In64 returns the condition that all 64 bits of argument arg are one of
// values.
func In64(arg int, values ...uint64) Cond {
	return Cond{Arg: arg, Wide: true, Op: OpIn, Values: values}
}

// NotIn32 returns the condition that the low 32 bits of argument arg are
// none of values; e.g. NotIn32(0, AT_FDCWD) for a call that must be
// relative to a directory descriptor.
func NotIn32(arg int, values ...uint32) Cond {
	return Cond{Arg: arg, Op: OpNotIn, Values: widen(values)}
}

// Masked32 returns the condition that the low 32 bits of argument arg,
// ANDed with mask, are one of values; e.g. Masked32(2, O_NOFOLLOW|O_CREAT,
// O_NOFOLLOW) for flags that must have O_NOFOLLOW and not O_CREAT.
func Masked32(arg int, mask uint32, values ...uint32) Cond {
	return Cond{Arg: arg, Op: OpMaskedIn, Mask: mask, Values: widen(values)}
}

func widen(values []uint32) []uint64 {
	out := make([]uint64, len(values))
	for i, v := range values {
		out[i] = uint64(v)
	}
	return out
}

// Holds reports whether argument value v satisfies c. It is the meaning
// of c in Go, which the compiled program must agree with.
func (c Cond) Holds(v uint64) bool {
	if !c.Wide {
		v = uint64(uint32(v))
	}
	if c.Op == OpMaskedIn {
		v &= uint64(c.Mask)
	}
	for _, want := range c.Values {
		if v == want {
			return c.Op != OpNotIn
		}
	}
	return c.Op == OpNotIn
}

// String describes c, e.g. "arg0 in {0x1, 0x2}".
func (c Cond) String() string {
	s := fmt.Sprintf("arg%d", c.Arg)
	if !c.Wide {
		s += " (32 bits)"
	}
	if c.Op == OpMaskedIn {
		s += fmt.Sprintf(" & %#x", c.Mask)
	}
	in := " in"
	if c.Op == OpNotIn {
		if len(c.Values) == 1 {
			return fmt.Sprintf("%s != %#x", s, c.Values[0])
		}
		in = " not in"
	}
	if len(c.Values) == 1 {
		return fmt.Sprintf("%s == %#x", s, c.Values[0])
	}
	s += in + " {"
	for i, v := range c.Values {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%#x", v)
	}
	return s + "}"
}

// check reports a condition the builder cannot compile.
func (c Cond) check() error {
	switch {
	case c.Arg < 0 || c.Arg > 5:
		return fmt.Errorf("argument index %d out of range", c.Arg)
	case len(c.Values) == 0:
		return fmt.Errorf("no values")
	case c.Op < OpIn || c.Op > OpMaskedIn:
		return fmt.Errorf("unknown comparison %d", c.Op)
	case c.Wide && c.Op != OpIn:
		return fmt.Errorf("64-bit comparisons are equality only")
	case c.Op == OpMaskedIn && c.Mask == 0:
		return fmt.Errorf("empty mask")
	}
	for _, v := range c.Values {
		if !c.Wide && v>>32 != 0 {
			return fmt.Errorf("32-bit condition on %#x", v)
		}
		if c.Op == OpMaskedIn && uint32(v)&^c.Mask != 0 {
			return fmt.Errorf("value %#x has bits outside mask %#x: never equal", v, c.Mask)
		}
	}
	return nil
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
		s += fmt.Sprintf(", else %v", r.ElseAction())
	}
	return s + " — " + r.Why
}

// ElseAction returns the action taken when one of r's conditions fails.
func (r Rule) ElseAction() Action {
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
	// dataSize is sizeof(struct seccomp_data).
	dataSize = 64
)

// x32Bit marks the x32 ABI's system call numbers (__X32_SYSCALL_BIT).
const x32Bit = 0x40000000

// Build compiles rules into a seccomp program as described in the package
// comment. A call number may appear in at most one rule.
func Build(rules []Rule) ([]unix.SockFilter, error) {
	var a Assembler
	// The ABI checks kill through a return of their own, right after
	// them: the final one may be further than a conditional jump reaches.
	badABI, start := a.NewLabel(), a.NewLabel()

	a.LoadWord(offArch)
	a.JumpIfEqual(unix.AUDIT_ARCH_X86_64, 0, badABI)
	a.LoadWord(offNr)
	a.JumpIfAnySet(x32Bit, badABI, start)
	a.Bind(badABI)
	a.Return(uint32(KillProcess))
	a.Bind(start)

	seen := make(map[uint32]string)
	for _, r := range rules {
		if prev, ok := seen[r.Nr]; ok {
			return nil, fmt.Errorf("seccomp: %s and %s both have number %d", prev, r.Name, r.Nr)
		}
		seen[r.Nr] = r.Name
		if err := emitRule(&a, r); err != nil {
			return nil, err
		}
	}

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
		if err := c.check(); err != nil {
			return fmt.Errorf("seccomp: %s: condition %v: %w", r.Name, c, err)
		}
		emitCond(a, c, fail)
	}
	a.Return(uint32(r.Action))
	if len(r.Conds) > 0 {
		a.Bind(fail)
		a.Return(uint32(r.ElseAction()))
	}
	a.Bind(next)
	return nil
}

// emitCond emits the test of c: it falls through if c holds and jumps to
// fail if not. The accumulator is clobbered.
func emitCond(a *Assembler, c Cond, fail Label) {
	lo := uint32(offArgs + 8*c.Arg) // little-endian: low word first
	ok := a.NewLabel()
	switch {
	case c.Wide:
		for i, v := range c.Values {
			miss := fail
			if i < len(c.Values)-1 {
				miss = a.NewLabel()
			}
			a.LoadWord(lo)
			a.JumpIfEqual(uint32(v), 0, miss)
			a.LoadWord(lo + 4)
			a.JumpIfEqual(uint32(v>>32), ok, miss)
			if miss != fail {
				a.Bind(miss)
			}
		}
	case c.Op == OpNotIn:
		a.LoadWord(lo)
		for _, v := range c.Values {
			a.JumpIfEqual(uint32(v), fail, 0)
		}
	default: // OpIn or OpMaskedIn, 32 bits
		a.LoadWord(lo)
		if c.Op == OpMaskedIn {
			a.And(c.Mask)
		}
		for i, v := range c.Values {
			if i == len(c.Values)-1 {
				a.JumpIfEqual(uint32(v), ok, fail)
			} else {
				a.JumpIfEqual(uint32(v), ok, 0)
			}
		}
	}
	a.Bind(ok)
}

// probeValues returns argument values that exercise c: each of its
// values, each with its mask's complement or other bits, and a few that
// match nothing in particular.
func probeValues(c Cond) []uint64 {
	out := []uint64{0, 1, ^uint64(0), 0x1234_5678_9abc_def0}
	for _, v := range c.Values {
		out = append(out, v, v|0xdead_0000_0000_0000, v^1)
		if c.Op == OpMaskedIn {
			out = append(out, v|uint64(^c.Mask), v|uint64(bits.Reverse32(c.Mask)&^c.Mask))
			for m := c.Mask; m != 0; m &= m - 1 {
				out = append(out, v^uint64(m&-m))
			}
		}
	}
	return out
}

// satisfying returns an argument value for which c holds, or false.
func satisfying(c Cond) (uint64, bool) {
	for _, v := range probeValues(c) {
		if c.Holds(v) {
			return v, true
		}
	}
	return 0, false
}
