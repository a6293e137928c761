// Package seccomp checks and runs the classic BPF programs of guest
// seccomp filters (seccomp(2), SECCOMP_SET_MODE_FILTER) in Go.
//
// Compile validates a program as Linux does when it is installed
// (bpf_check_classic, then seccomp_check_filter): at most 4096
// instructions, only the opcodes a seccomp filter may use, jumps inside
// the program, scratch words 0..15 stored before they are loaded, loads
// only of aligned words of the 64-byte struct seccomp_data, and a return
// as the last instruction. A Program that passed Compile always ends:
// classic BPF jumps only forward, so Run executes each instruction at
// most once.
//
// Main types: Instruction (struct sock_filter), Program (a validated
// filter), Data (struct seccomp_data), and the SECCOMP_RET_* actions with
// their precedence (Stronger).
//
// The package has no state and takes no locks.
package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Limits of Linux.
const (
	// MaxInstructions is BPF_MAXINSNS, the longest program.
	MaxInstructions = 4096
	// MaxTotalInstructions is MAX_INSNS_PER_PATH: the sum over a task's
	// filters of their lengths plus FilterOverhead each may not exceed
	// it (ENOMEM).
	MaxTotalInstructions = 32768
	// FilterOverhead is the penalty counted for each installed filter
	// towards MaxTotalInstructions.
	FilterOverhead = 4
	// InstructionSize is sizeof(struct sock_filter).
	InstructionSize = 8
	// DataSize is sizeof(struct seccomp_data).
	DataSize = 64
	// MaxErrno is the largest errno SECCOMP_RET_ERRNO returns: larger
	// data is capped to it (MAX_ERRNO).
	MaxErrno = 4095
	// SigsysCode is the si_code of TRAP's SIGSYS (SYS_SECCOMP).
	SigsysCode = 1
	// scratchWords is BPF_MEMWORDS.
	scratchWords = 16
)

// Actions: the high 16 bits of a filter's return value (SECCOMP_RET_*).
const (
	ActionKillProcess uint32 = 0x80000000
	ActionKillThread  uint32 = 0x00000000
	ActionTrap        uint32 = 0x00030000
	ActionErrno       uint32 = 0x00050000
	ActionUserNotif   uint32 = 0x7fc00000
	ActionTrace       uint32 = 0x7ff00000
	ActionLog         uint32 = 0x7ffc0000
	ActionAllow       uint32 = 0x7fff0000

	// ActionMask selects the action of a return value
	// (SECCOMP_RET_ACTION_FULL); DataMask its data (SECCOMP_RET_DATA).
	ActionMask uint32 = 0xffff0000
	DataMask   uint32 = 0x0000ffff
)

// Action returns the action part of a filter's return value.
func Action(ret uint32) uint32 { return ret & ActionMask }

// Stronger reports whether return value a takes precedence over b when
// several filters run: the lower action, compared as a signed number,
// wins (KILL_PROCESS < KILL_THREAD < TRAP < ERRNO < USER_NOTIF < TRACE <
// LOG < ALLOW), as Linux's seccomp_run_filters does. Values with equal
// actions do not take precedence over each other.
func Stronger(a, b uint32) bool { return int32(Action(a)) < int32(Action(b)) }

// Known reports whether action is one Linux defines
// (SECCOMP_GET_ACTION_AVAIL).
func Known(action uint32) bool {
	switch action {
	case ActionKillProcess, ActionKillThread, ActionTrap, ActionErrno,
		ActionUserNotif, ActionTrace, ActionLog, ActionAllow:
		return true
	}
	return false
}

// Instruction is one classic BPF instruction. Linux: struct sock_filter.
type Instruction struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// DecodeInstructions decodes len(b)/InstructionSize instructions laid out
// as in guest memory (little-endian struct sock_filter).
func DecodeInstructions(b []byte) []Instruction {
	out := make([]Instruction, len(b)/InstructionSize)
	for i := range out {
		r := b[i*InstructionSize:]
		out[i] = Instruction{
			Code: binary.LittleEndian.Uint16(r),
			Jt:   r[2], Jf: r[3],
			K: binary.LittleEndian.Uint32(r[4:]),
		}
	}
	return out
}

// Classic BPF opcode parts (linux/bpf_common.h, linux/filter.h).
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	szW = 0x00

	modeIMM = 0x00
	modeABS = 0x20
	modeMEM = 0x60
	modeLEN = 0x80

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	retK = 0x00
	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80
)

// The opcodes a seccomp filter may use, as whole 16-bit codes (Linux
// refuses any other bits).
const (
	opRetK    = clsRET | retK
	opRetA    = clsRET | retA
	opLdAbs   = clsLD | szW | modeABS
	opLdLen   = clsLD | szW | modeLEN
	opLdxLen  = clsLDX | szW | modeLEN
	opLdImm   = clsLD | modeIMM
	opLdxImm  = clsLDX | modeIMM
	opLdMem   = clsLD | modeMEM
	opLdxMem  = clsLDX | modeMEM
	opSt      = clsST
	opStx     = clsSTX
	opTax     = clsMISC | miscTAX
	opTxa     = clsMISC | miscTXA
	opJa      = clsJMP | jmpJA
	opAluNeg  = clsALU | aluNEG
	opAluDivK = clsALU | aluDIV | srcK
	opAluLshK = clsALU | aluLSH | srcK
	opAluRshK = clsALU | aluRSH | srcK
)

// allowed reports whether code is an opcode seccomp accepts.
func allowed(code uint16) bool {
	switch code {
	case opRetK, opRetA, opLdAbs, opLdLen, opLdxLen, opLdImm, opLdxImm,
		opLdMem, opLdxMem, opSt, opStx, opTax, opTxa, opJa, opAluNeg:
		return true
	}
	switch code &^ srcX {
	case clsALU | aluADD, clsALU | aluSUB, clsALU | aluMUL, clsALU | aluDIV,
		clsALU | aluAND, clsALU | aluOR, clsALU | aluXOR, clsALU | aluLSH, clsALU | aluRSH,
		clsJMP | jmpJEQ, clsJMP | jmpJGT, clsJMP | jmpJGE, clsJMP | jmpJSET:
		return true
	}
	return false
}

// conditional reports whether code is a conditional jump (valid ones only).
func conditional(code uint16) bool {
	return code&0x07 == clsJMP && code != opJa
}

// ValidationError says why Compile refused a program. It unwraps to
// EINVAL, the errno seccomp(2) returns for it.
type ValidationError struct {
	// PC is the offending instruction, or -1 for the program as a whole.
	PC     int
	Reason string
}

func (e *ValidationError) Error() string {
	if e.PC < 0 {
		return "seccomp: invalid filter: " + e.Reason
	}
	return fmt.Sprintf("seccomp: invalid filter: instruction %d: %s", e.PC, e.Reason)
}

// Unwrap returns EINVAL.
func (e *ValidationError) Unwrap() error { return unix.EINVAL }

// Program is a validated seccomp filter. Immutable once compiled; safe
// to share between tasks.
type Program struct {
	insns []Instruction
}

// Len returns the number of instructions.
func (p *Program) Len() int { return len(p.insns) }

// Instructions returns a copy of the program.
func (p *Program) Instructions() []Instruction { return append([]Instruction(nil), p.insns...) }

// Compile validates insns as Linux does when a filter is installed and
// returns the program, which keeps its own copy. A refused program gives
// a *ValidationError.
func Compile(insns []Instruction) (*Program, error) {
	n := len(insns)
	if n == 0 || n > MaxInstructions {
		return nil, &ValidationError{PC: -1, Reason: fmt.Sprintf("%d instructions, want 1..%d", n, MaxInstructions)}
	}
	for pc, in := range insns {
		if !allowed(in.Code) {
			return nil, &ValidationError{PC: pc, Reason: fmt.Sprintf("opcode %#x is not allowed", in.Code)}
		}
		switch {
		case in.Code == opAluDivK && in.K == 0:
			return nil, &ValidationError{PC: pc, Reason: "division by zero"}
		case (in.Code == opAluLshK || in.Code == opAluRshK) && in.K >= 32:
			return nil, &ValidationError{PC: pc, Reason: "shift by 32 or more"}
		case (in.Code == opLdMem || in.Code == opLdxMem || in.Code == opSt || in.Code == opStx) && in.K >= scratchWords:
			return nil, &ValidationError{PC: pc, Reason: fmt.Sprintf("scratch word %d out of range", in.K)}
		case in.Code == opLdAbs && (in.K >= DataSize || in.K%4 != 0):
			return nil, &ValidationError{PC: pc, Reason: fmt.Sprintf("load at offset %d of seccomp_data", in.K)}
		case in.Code == opJa && uint64(in.K) >= uint64(n-1-pc):
			return nil, &ValidationError{PC: pc, Reason: "jump past the end"}
		case conditional(in.Code) && (pc+int(in.Jt)+1 >= n || pc+int(in.Jf)+1 >= n):
			return nil, &ValidationError{PC: pc, Reason: "jump past the end"}
		}
	}
	if last := insns[n-1].Code; last != opRetK && last != opRetA {
		return nil, &ValidationError{PC: n - 1, Reason: "the last instruction is not a return"}
	}
	if err := checkScratch(insns); err != nil {
		return nil, err
	}
	return &Program{insns: append([]Instruction(nil), insns...)}, nil
}

// checkScratch refuses a program that may load a scratch word no store
// has written on some path to the load. valid[pc] holds the words stored
// on every jump into pc seen so far; falling through from pc-1 adds its
// own state. Jumps only go forward, so one pass suffices.
//
// Preconditions: jumps and scratch indices are in range.
func checkScratch(insns []Instruction) error {
	valid := make([]uint16, len(insns))
	for i := range valid {
		valid[i] = 0xffff
	}
	var cur uint16 // words written on the path falling into pc
	for pc, in := range insns {
		cur &= valid[pc]
		switch {
		case in.Code == opSt || in.Code == opStx:
			cur |= 1 << in.K
		case in.Code == opLdMem || in.Code == opLdxMem:
			if cur&(1<<in.K) == 0 {
				return &ValidationError{PC: pc, Reason: fmt.Sprintf("scratch word %d may be read before it is written", in.K)}
			}
		case in.Code == opJa:
			valid[pc+1+int(in.K)] &= cur
			cur = 0xffff // nothing falls through
		case conditional(in.Code):
			valid[pc+1+int(in.Jt)] &= cur
			valid[pc+1+int(in.Jf)] &= cur
			cur = 0xffff
		}
	}
	return nil
}

// Data is the input of a filter. Linux: struct seccomp_data.
type Data struct {
	// Nr is the system call number.
	Nr int32
	// Arch is an AUDIT_ARCH_* value.
	Arch uint32
	// InstructionPointer is the address after the syscall instruction.
	InstructionPointer uint64
	// Args are the six argument registers.
	Args [6]uint64
}

// word returns the 32-bit word at off of the struct's little-endian
// layout. Compile has checked off is aligned and below DataSize.
func (d *Data) word(off uint32) uint32 {
	switch {
	case off == 0:
		return uint32(d.Nr)
	case off == 4:
		return d.Arch
	case off < 16:
		return uint32(d.InstructionPointer >> (8 * (off - 8)))
	}
	a := d.Args[(off-16)/8]
	return uint32(a >> (8 * ((off - 16) % 8)))
}

// Run executes p on d and returns the filter's value.
func (p *Program) Run(d *Data) uint32 {
	var a, x uint32
	var mem [scratchWords]uint32
	insns := p.insns
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		switch in.Code {
		case opRetK:
			return in.K
		case opRetA:
			return a
		case opLdAbs:
			a = d.word(in.K)
		case opLdLen:
			a = DataSize
		case opLdxLen:
			x = DataSize
		case opLdImm:
			a = in.K
		case opLdxImm:
			x = in.K
		case opLdMem:
			a = mem[in.K]
		case opLdxMem:
			x = mem[in.K]
		case opSt:
			mem[in.K] = a
		case opStx:
			mem[in.K] = x
		case opTax:
			x = a
		case opTxa:
			a = x
		case opJa:
			pc += int(in.K)
		case opAluNeg:
			a = -a
		default:
			operand := in.K
			if in.Code&srcX != 0 {
				operand = x
			}
			if in.Code&0x07 == clsJMP {
				var taken bool
				switch in.Code & 0xf0 {
				case jmpJEQ:
					taken = a == operand
				case jmpJGT:
					taken = a > operand
				case jmpJGE:
					taken = a >= operand
				case jmpJSET:
					taken = a&operand != 0
				}
				if taken {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
				continue
			}
			switch in.Code & 0xf0 {
			case aluADD:
				a += operand
			case aluSUB:
				a -= operand
			case aluMUL:
				a *= operand
			case aluDIV:
				if operand == 0 {
					// Linux ends a classic program that divides
					// by a zero X with the value 0.
					return 0
				}
				a /= operand
			case aluAND:
				a &= operand
			case aluOR:
				a |= operand
			case aluXOR:
				a ^= operand
			case aluLSH:
				a <<= operand & 31
			case aluRSH:
				a >>= operand & 31
			}
		}
	}
	// Unreachable for a compiled program: its last instruction returns.
	return 0
}
