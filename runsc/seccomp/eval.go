package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Evaluate runs prog, which may use only the instructions Assembler emits,
// on a call with number nr and arguments args made with the ABI arch
// (AUDIT_ARCH_*), and returns the action it reaches. It is how the tests
// see what the kernel would decide without installing anything.
func Evaluate(prog []unix.SockFilter, arch, nr uint32, args ...uint64) (Action, error) {
	if len(args) > 6 {
		return 0, fmt.Errorf("seccomp: %d arguments, at most 6", len(args))
	}
	data := make([]byte, dataSize)
	binary.LittleEndian.PutUint32(data[offNr:], nr)
	binary.LittleEndian.PutUint32(data[offArch:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[offArgs+8*i:], a)
	}
	ret, err := run(prog, data)
	return Action(ret), err
}

// run interprets prog on input, a struct seccomp_data, and returns the
// value of the return it reaches.
func run(prog []unix.SockFilter, input []byte) (uint32, error) {
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case opLoadWordAbs:
			if int(in.K)+4 > len(input) {
				return 0, fmt.Errorf("pc %d: load at %d past the input", pc, in.K)
			}
			acc = binary.LittleEndian.Uint32(input[in.K:])
		case opAndConst:
			acc &= in.K
		case opJumpAlways:
			pc += int(in.K)
		case opJumpEqual:
			if acc == in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case opJumpSet:
			if acc&in.K != 0 {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case opReturn:
			return in.K, nil
		default:
			return 0, fmt.Errorf("pc %d: unknown opcode %#x", pc, in.Code)
		}
	}
	return 0, fmt.Errorf("ran off the end of the program")
}

// CheckReached builds rules and checks, by running the program, that each
// rule decides its own call as its conditions say: with no conditions, its
// action for any arguments; with conditions, its action whenever all hold
// and its else action otherwise, for every listed value of each condition
// and values around them. It catches a rule shadowed by another and a
// condition compiled wrongly. It returns every disagreement.
func CheckReached(rules []Rule) error {
	prog, err := Build(rules)
	if err != nil {
		return err
	}
	var errs []error
	decide := func(r Rule, args []uint64) {
		want := r.Action
		for _, c := range r.Conds {
			if !c.Holds(args[c.Arg]) {
				want = r.ElseAction()
			}
		}
		got, err := Evaluate(prog, unix.AUDIT_ARCH_X86_64, r.Nr, args...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s with %#x: %w", r.Name, args, err))
		} else if got != want {
			errs = append(errs, fmt.Errorf("%s with %#x: filter says %v, want %v", r.Name, args, got, want))
		}
	}
	for _, r := range rules {
		if len(r.Conds) == 0 {
			decide(r, []uint64{0, 0, 0, 0, 0, 0})
			all := ^uint64(0)
			decide(r, []uint64{all, all, all, all, all, all})
			continue
		}
		// A base where every condition holds.
		base := make([]uint64, 6)
		for _, c := range r.Conds {
			v, ok := satisfying(c)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: no value satisfies %v", r.Name, c))
				continue
			}
			base[c.Arg] = v
		}
		decide(r, base)
		// Vary one condition's argument at a time.
		for _, c := range r.Conds {
			for _, v := range probeValues(c) {
				args := append([]uint64(nil), base...)
				args[c.Arg] = v
				decide(r, args)
			}
		}
	}
	return errors.Join(errs...)
}
