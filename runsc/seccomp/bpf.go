package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Classic BPF opcodes (Documentation/networking/filter.rst): the class in
// the low three bits, then size and mode for loads, or operation and
// source for jumps. Only the instructions a seccomp filter here needs.
const (
	opLoadWordAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opJumpAlways  = unix.BPF_JMP | unix.BPF_JA
	opJumpEqual   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJumpSet     = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	opAndConst    = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	opReturn      = unix.BPF_RET | unix.BPF_K
)

// maxInstructions is BPF_MAXINSNS, the longest program the kernel accepts.
const maxInstructions = 4096

// Label names a position in a program that jumps can target. The zero
// Label is the next instruction: a conditional jump that does not name a
// label for one of its outcomes falls through on that outcome.
type Label int

// Assembler builds a classic BPF program from instructions and labels and
// resolves jump offsets when the program is complete. Jumps only go
// forward, as classic BPF requires; a conditional jump reaches at most
// 255 instructions ahead.
//
// Errors are sticky: the first one is returned by Assemble.
type Assembler struct {
	insns []unix.SockFilter
	// targets[l-1] is the instruction index bound to Label l, or -1.
	targets []int
	// jumps lists the instructions whose offsets name labels.
	jumps []jump
	err   error
}

// jump is an unresolved jump: instruction at, whose true (or only) and
// false outcomes go to labels jt and jf.
type jump struct {
	at     int
	jt, jf Label
}

// NewLabel returns a fresh, unbound label.
func (a *Assembler) NewLabel() Label {
	a.targets = append(a.targets, -1)
	return Label(len(a.targets))
}

// Bind places l at the next instruction to be emitted.
func (a *Assembler) Bind(l Label) {
	switch {
	case l <= 0 || int(l) > len(a.targets):
		a.fail(fmt.Errorf("bpf: binding unknown label %d", l))
	case a.targets[l-1] >= 0:
		a.fail(fmt.Errorf("bpf: label %d bound twice", l))
	default:
		a.targets[l-1] = len(a.insns)
	}
}

// LoadWord loads the 32-bit word at offset off of the input (for seccomp,
// struct seccomp_data) into the accumulator.
func (a *Assembler) LoadWord(off uint32) {
	a.emit(unix.SockFilter{Code: opLoadWordAbs, K: off})
}

// And replaces the accumulator with its bitwise AND with k.
func (a *Assembler) And(k uint32) {
	a.emit(unix.SockFilter{Code: opAndConst, K: k})
}

// JumpIfEqual jumps to jt if the accumulator equals k, else to jf.
func (a *Assembler) JumpIfEqual(k uint32, jt, jf Label) {
	a.jumps = append(a.jumps, jump{at: len(a.insns), jt: jt, jf: jf})
	a.emit(unix.SockFilter{Code: opJumpEqual, K: k})
}

// JumpIfAnySet jumps to jt if the accumulator has any bit of k set, else
// to jf.
func (a *Assembler) JumpIfAnySet(k uint32, jt, jf Label) {
	a.jumps = append(a.jumps, jump{at: len(a.insns), jt: jt, jf: jf})
	a.emit(unix.SockFilter{Code: opJumpSet, K: k})
}

// Jump jumps to l unconditionally; its offset may be up to 2^32-1.
func (a *Assembler) Jump(l Label) {
	a.jumps = append(a.jumps, jump{at: len(a.insns), jt: l})
	a.emit(unix.SockFilter{Code: opJumpAlways})
}

// Return ends the program with result k.
func (a *Assembler) Return(k uint32) {
	a.emit(unix.SockFilter{Code: opReturn, K: k})
}

// Assemble resolves the jumps and returns the program. It fails if a label
// is unbound, a jump goes backwards or too far, the program is empty or
// too long, or its last instruction is not a return (the kernel's checker
// rejects all of these).
func (a *Assembler) Assemble() ([]unix.SockFilter, error) {
	if a.err != nil {
		return nil, a.err
	}
	n := len(a.insns)
	if n == 0 || n > maxInstructions {
		return nil, fmt.Errorf("bpf: program has %d instructions, want 1 to %d", n, maxInstructions)
	}
	if a.insns[n-1].Code != opReturn {
		return nil, fmt.Errorf("bpf: last instruction is %#x, want a return", a.insns[n-1].Code)
	}
	out := make([]unix.SockFilter, n)
	copy(out, a.insns)
	for _, j := range a.jumps {
		jt, err := a.offset(j.at, j.jt)
		if err != nil {
			return nil, err
		}
		if out[j.at].Code == opJumpAlways {
			out[j.at].K = uint32(jt)
			continue
		}
		jf, err := a.offset(j.at, j.jf)
		if err != nil {
			return nil, err
		}
		if jt > 255 || jf > 255 {
			return nil, fmt.Errorf("bpf: conditional jump at %d skips %d/%d instructions, at most 255", j.at, jt, jf)
		}
		out[j.at].Jt, out[j.at].Jf = uint8(jt), uint8(jf)
	}
	return out, nil
}

// offset returns how many instructions a jump at index at skips to reach l.
func (a *Assembler) offset(at int, l Label) (int, error) {
	if l == 0 {
		return 0, nil
	}
	if l < 0 || int(l) > len(a.targets) {
		return 0, fmt.Errorf("bpf: jump at %d to unknown label %d", at, l)
	}
	to := a.targets[l-1]
	switch {
	case to < 0:
		return 0, fmt.Errorf("bpf: jump at %d to unbound label %d", at, l)
	case to <= at:
		return 0, fmt.Errorf("bpf: jump at %d to label %d at %d goes backwards", at, l, to)
	case to >= len(a.insns):
		return 0, fmt.Errorf("bpf: jump at %d to label %d past the end", at, l)
	}
	return to - at - 1, nil
}

func (a *Assembler) emit(i unix.SockFilter) {
	a.insns = append(a.insns, i)
}

func (a *Assembler) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}
