package boot

import (
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/kernel/seccomp"
	"golang.org/x/sys/unix"
)

// SeccompFromSpec compiles an OCI linux.seccomp profile into one guest
// seccomp filter, as runc does with libseccomp, for
// kernel.CreateProcessArgs.SeccompFilters. It returns nil and no error
// for a nil profile (no filter).
//
// The contract:
//   - defaultAction (with defaultErrnoRet) answers every call no rule
//     matches; it is required.
//   - syscalls[] rules are grouped by system call, in the order given;
//     the first rule of a call whose argument conditions all hold
//     decides. A rule whose conditions name the same argument twice
//     is split into one rule per condition (any one matching), as
//     runc does. Names x86_64 does not have are skipped, as libseccomp
//     does (docker's profile lists some).
//   - args compare the full 64-bit register, unsigned, with SCMP_CMP_NE,
//     LT, LE, EQ, GE, GT and MASKED_EQ (value is the mask, valueTwo the
//     datum), done on both 32-bit halves.
//   - errnoRet (default EPERM) is allowed only with SCMP_ACT_ERRNO and
//     SCMP_ACT_TRACE, and must fit in 16 bits.
//   - architectures: only x86_64 calls reach guest filters here (int
//     0x80 is refused before). x32 calls (bit 30 of the number set)
//     follow defaultAction when SCMP_ARCH_X32 is listed and are killed
//     (SCMP_ACT_KILL_THREAD, libseccomp's bad-arch action) otherwise;
//     any other arch value is killed likewise.
//   - flags: SECCOMP_FILTER_FLAG_TSYNC, _LOG and _SPEC_ALLOW are
//     accepted (they change nothing for the first process's filter).
//   - SCMP_ACT_NOTIFY, listenerPath, listenerMetadata and
//     SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV need user notification,
//     which the Sentry lacks: an error naming the field.
//
// The caller sets no_new_privs from the spec's process.noNewPrivileges on
// its own: the filter applies either way, as runc installs it before it
// drops privileges. An error means the container must not start.
func SeccompFromSpec(s *specs.LinuxSeccomp) (*seccomp.Program, error) {
	if s == nil {
		return nil, nil
	}
	if s.ListenerPath != "" {
		return nil, fmt.Errorf("linux.seccomp.listenerPath: seccomp user notification is not supported")
	}
	if s.ListenerMetadata != "" {
		return nil, fmt.Errorf("linux.seccomp.listenerMetadata: seccomp user notification is not supported")
	}
	for _, f := range s.Flags {
		switch f {
		case "SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow:
		case specs.LinuxSeccompFlagWaitKillableRecv:
			return nil, fmt.Errorf("linux.seccomp.flags: %s needs seccomp user notification, which is not supported", f)
		default:
			return nil, fmt.Errorf("linux.seccomp.flags: unknown flag %q", f)
		}
	}
	if s.DefaultAction == "" {
		return nil, fmt.Errorf("linux.seccomp.defaultAction is required")
	}
	def, err := seccompAction(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp.defaultAction: %w", err)
	}
	x32 := false
	for _, a := range s.Architectures {
		if a == specs.ArchX32 {
			x32 = true
		}
	}

	// Rules per call, in the order their numbers first appear.
	type rule struct {
		action uint32
		conds  []specs.LinuxSeccompArg
	}
	var order []uint32
	rules := map[uint32][]rule{}
	for i, sc := range s.Syscalls {
		field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
		act, err := seccompAction(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("%s.action: %w", field, err)
		}
		var seen [6]int
		for j, a := range sc.Args {
			if a.Index >= 6 {
				return nil, fmt.Errorf("%s.args[%d].index: %d, want 0..5", field, j, a.Index)
			}
			if !validSeccompOp(a.Op) {
				return nil, fmt.Errorf("%s.args[%d].op: unknown operator %q", field, j, a.Op)
			}
			seen[a.Index]++
		}
		var rs []rule
		if slices.ContainsFunc(seen[:], func(n int) bool { return n > 1 }) {
			for _, a := range sc.Args {
				rs = append(rs, rule{action: act, conds: []specs.LinuxSeccompArg{a}})
			}
		} else {
			rs = []rule{{action: act, conds: sc.Args}}
		}
		for _, name := range sc.Names {
			nr, ok := abi.SyscallNumber(name)
			if !ok {
				continue
			}
			n := uint32(nr)
			if _, ok := rules[n]; !ok {
				order = append(order, n)
			}
			rules[n] = append(rules[n], rs...)
		}
	}

	var a bpfAsm
	// seccomp_data.arch: anything but x86_64 is a bad arch.
	a.stmt(bpfLdAbs, 4)
	a.retUnless(bpfJeqK, unix.AUDIT_ARCH_X86_64, seccomp.ActionKillThread)
	a.stmt(bpfLdAbs, 0)
	x32Action := seccomp.ActionKillThread
	if x32 {
		x32Action = def
	}
	a.retIf(bpfJsetK, 0x40000000, x32Action)
	// Dispatch on the number: a call whose first rule is unconditional
	// returns at once; others jump to the call's block.
	type block struct {
		nr    uint32
		label bpfLabel
	}
	var blocks []block
	for _, nr := range order {
		rs := rules[nr]
		if len(rs[0].conds) == 0 {
			a.retIf(bpfJeqK, nr, rs[0].action)
			continue
		}
		l, skip := a.newLabel(), a.newLabel()
		a.jump(bpfJeqK, nr, 0, skip)
		a.ja(l)
		a.bind(skip)
		blocks = append(blocks, block{nr, l})
	}
	a.stmt(bpfRetK, def)
	for _, b := range blocks {
		a.bind(b.label)
		for _, r := range rules[b.nr] {
			next := a.newLabel()
			for _, c := range r.conds {
				a.condition(c, next)
			}
			a.stmt(bpfRetK, r.action)
			a.bind(next)
			if len(r.conds) == 0 {
				break // later rules are unreachable
			}
		}
		a.stmt(bpfRetK, def)
	}
	insns, err := a.assemble()
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	p, err := seccomp.Compile(insns)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: the profile compiles to an invalid filter (%d instructions): %w", len(insns), err)
	}
	return p, nil
}

// seccompAction turns an OCI action into a filter return value.
func seccompAction(act specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		if act != specs.ActErrno && act != specs.ActTrace {
			return 0, fmt.Errorf("errnoRet is only allowed with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not %s", act)
		}
		if *errnoRet > 0xffff {
			return 0, fmt.Errorf("errnoRet %d does not fit in 16 bits", *errnoRet)
		}
		data = uint32(*errnoRet)
	}
	switch act {
	case specs.ActKill, specs.ActKillThread:
		return seccomp.ActionKillThread, nil
	case specs.ActKillProcess:
		return seccomp.ActionKillProcess, nil
	case specs.ActTrap:
		return seccomp.ActionTrap, nil
	case specs.ActErrno:
		return seccomp.ActionErrno | data, nil
	case specs.ActTrace:
		return seccomp.ActionTrace | data, nil
	case specs.ActAllow:
		return seccomp.ActionAllow, nil
	case specs.ActLog:
		return seccomp.ActionLog, nil
	case specs.ActNotify:
		return 0, fmt.Errorf("SCMP_ACT_NOTIFY: seccomp user notification is not supported")
	}
	return 0, fmt.Errorf("unknown action %q", act)
}

func validSeccompOp(op specs.LinuxSeccompOperator) bool {
	switch op {
	case specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual:
		return true
	}
	return false
}

// Classic BPF opcodes the profile compiler emits.
const (
	bpfLdAbs  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfAndK   = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	bpfJa     = unix.BPF_JMP | unix.BPF_JA
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgtK   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	bpfJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfJsetK  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	bpfRetK   = unix.BPF_RET | unix.BPF_K
	bpfArgOff = 16 // offsetof(struct seccomp_data, args)
)

// bpfLabel names an instruction a jump goes to; label 0 is the next
// instruction.
type bpfLabel int

// bpfAsm assembles a forward-only classic BPF program with labels. A
// conditional jump reaches at most 255 instructions ahead: assemble fails
// past that (a profile's rules for one call are far shorter).
type bpfAsm struct {
	insns []seccomp.Instruction
	// targets[l-1] is the instruction Label l is bound to, or -1.
	targets []int
	fixups  []bpfFixup
}

// bpfFixup is a jump at instruction at whose true and false targets are
// labels (jt, jf; 0 for the next instruction).
type bpfFixup struct {
	at     int
	jt, jf bpfLabel
}

func (a *bpfAsm) newLabel() bpfLabel {
	a.targets = append(a.targets, -1)
	return bpfLabel(len(a.targets))
}

func (a *bpfAsm) bind(l bpfLabel) { a.targets[l-1] = len(a.insns) }

// retIf emits "return v if the accumulator passes the test".
func (a *bpfAsm) retIf(code uint16, k, v uint32) {
	skip := a.newLabel()
	a.jump(code, k, 0, skip)
	a.stmt(bpfRetK, v)
	a.bind(skip)
}

// retUnless emits "return v unless the accumulator passes the test".
func (a *bpfAsm) retUnless(code uint16, k, v uint32) {
	skip := a.newLabel()
	a.jump(code, k, skip, 0)
	a.stmt(bpfRetK, v)
	a.bind(skip)
}

func (a *bpfAsm) stmt(code uint16, k uint32) {
	a.insns = append(a.insns, seccomp.Instruction{Code: code, K: k})
}

// jump emits a conditional jump to labels jt and jf (0: the next
// instruction).
func (a *bpfAsm) jump(code uint16, k uint32, jt, jf bpfLabel) {
	a.fixups = append(a.fixups, bpfFixup{at: len(a.insns), jt: jt, jf: jf})
	a.insns = append(a.insns, seccomp.Instruction{Code: code, K: k})
}

// ja emits an unconditional jump to l.
func (a *bpfAsm) ja(l bpfLabel) {
	a.fixups = append(a.fixups, bpfFixup{at: len(a.insns), jt: l})
	a.insns = append(a.insns, seccomp.Instruction{Code: bpfJa})
}

// condition emits the test of c; it falls through when c holds and jumps
// to fail when not. 64-bit values are compared high half first.
func (a *bpfAsm) condition(c specs.LinuxSeccompArg, fail bpfLabel) {
	lo, hi := uint32(bpfArgOff+8*c.Index), uint32(bpfArgOff+8*c.Index+4)
	vlo, vhi := uint32(c.Value), uint32(c.Value>>32)
	ok := a.newLabel()
	switch c.Op {
	case specs.OpEqualTo:
		a.stmt(bpfLdAbs, hi)
		a.jump(bpfJeqK, vhi, 0, fail)
		a.stmt(bpfLdAbs, lo)
		a.jump(bpfJeqK, vlo, 0, fail)
	case specs.OpNotEqual:
		a.stmt(bpfLdAbs, hi)
		a.jump(bpfJeqK, vhi, 0, ok)
		a.stmt(bpfLdAbs, lo)
		a.jump(bpfJeqK, vlo, fail, 0)
	case specs.OpMaskedEqual:
		dlo, dhi := uint32(c.ValueTwo), uint32(c.ValueTwo>>32)
		a.stmt(bpfLdAbs, hi)
		a.stmt(bpfAndK, vhi)
		a.jump(bpfJeqK, dhi, 0, fail)
		a.stmt(bpfLdAbs, lo)
		a.stmt(bpfAndK, vlo)
		a.jump(bpfJeqK, dlo, 0, fail)
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		a.stmt(bpfLdAbs, hi)
		a.jump(bpfJgtK, vhi, ok, 0)
		a.jump(bpfJeqK, vhi, 0, fail)
		a.stmt(bpfLdAbs, lo)
		if c.Op == specs.OpGreaterThan {
			a.jump(bpfJgtK, vlo, 0, fail)
		} else {
			a.jump(bpfJgeK, vlo, 0, fail)
		}
	case specs.OpLessThan, specs.OpLessEqual:
		a.stmt(bpfLdAbs, hi)
		a.jump(bpfJgtK, vhi, fail, 0)
		a.jump(bpfJeqK, vhi, 0, ok)
		a.stmt(bpfLdAbs, lo)
		if c.Op == specs.OpLessThan {
			a.jump(bpfJgeK, vlo, fail, 0)
		} else {
			a.jump(bpfJgtK, vlo, fail, 0)
		}
	}
	a.bind(ok)
}

// assemble resolves the jumps.
func (a *bpfAsm) assemble() ([]seccomp.Instruction, error) {
	off := func(at int, l bpfLabel) (int, error) {
		if l == 0 {
			return 0, nil
		}
		t := a.targets[l-1]
		if t <= at {
			return 0, fmt.Errorf("bpf: label %d not bound after instruction %d", l, at)
		}
		return t - at - 1, nil
	}
	for _, f := range a.fixups {
		in := &a.insns[f.at]
		jt, err := off(f.at, f.jt)
		if err != nil {
			return nil, err
		}
		if in.Code == bpfJa {
			in.K = uint32(jt)
			continue
		}
		jf, err := off(f.at, f.jf)
		if err != nil {
			return nil, err
		}
		if jt > 255 || jf > 255 {
			return nil, fmt.Errorf("bpf: conditional jump at %d reaches %d/%d instructions ahead, at most 255", f.at, jt, jf)
		}
		in.Jt, in.Jf = uint8(jt), uint8(jf)
	}
	if len(a.insns) > seccomp.MaxInstructions {
		return nil, fmt.Errorf("the filter needs %d instructions, more than %d", len(a.insns), seccomp.MaxInstructions)
	}
	return a.insns, nil
}
