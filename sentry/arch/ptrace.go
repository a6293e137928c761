package arch

import (
	"errors"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"golang.org/x/sys/unix"
)

// What a guest tracer (ptrace(2)) may read and change of a tracee's
// registers. Everything it writes is guest input: the values are checked
// as Linux's putreg does, so the platform is never handed state the host
// would refuse.

// ErrBadRegister is returned for a register value a tracer may not set
// (ptrace answers EIO).
var ErrBadRegister = errors.New("arch: invalid register value")

// Offsets in struct user (sys/user.h) for PTRACE_PEEKUSER/POKEUSER.
const (
	// UserSize is sizeof(struct user) as the kernel has it (glibc's
	// lacks the trailing error_code and fault_address words).
	UserSize = 928
	// UserDebugReg is offsetof(struct user, u_debugreg).
	UserDebugReg = 848
)

// FXSaveSize is sizeof(struct user_i387_struct), the fxsave area that
// PTRACE_GETFPREGS and NT_PRFPREG move.
const FXSaveSize = legacySize

// SetRegsFromTracer replaces regs with nr as PTRACE_SETREGS does:
// segment selectors cannot change (a tracer writing back what it read is
// the only use), fs_base and gs_base must be user addresses, and only the
// flags a program may change are taken.
func SetRegsFromTracer(regs *unix.PtraceRegs, nr *unix.PtraceRegs) error {
	if nr.Cs != regs.Cs || nr.Ss != regs.Ss || nr.Ds != regs.Ds || nr.Es != regs.Es ||
		nr.Fs != regs.Fs || nr.Gs != regs.Gs {
		return ErrBadRegister
	}
	if nr.Fs_base >= linux.TASK_SIZE_MAX || nr.Gs_base >= linux.TASK_SIZE_MAX {
		return ErrBadRegister
	}
	flags := regs.Eflags&^userFlags | nr.Eflags&userFlags
	*regs = *nr
	regs.Eflags = flags
	return nil
}

// PeekUser returns the word at off in struct user (PTRACE_PEEKUSER):
// a register, or zero (debug registers and the rest). off must be
// aligned and inside the struct.
func PeekUser(regs *unix.PtraceRegs, off uint64) (uint64, error) {
	if off%8 != 0 || off >= UserSize {
		return 0, ErrBadRegister
	}
	if off < uint64(UserRegsSize) {
		return regWords(regs)[off/8], nil
	}
	return 0, nil
}

// PokeUser sets the word at off in struct user (PTRACE_POKEUSER) with
// SetRegsFromTracer's checks. Debug registers take only zero (hardware
// breakpoints are not supported); other words are refused, as Linux
// does.
func PokeUser(regs *unix.PtraceRegs, off, v uint64) error {
	if off%8 != 0 || off >= UserSize {
		return ErrBadRegister
	}
	if off < uint64(UserRegsSize) {
		nr := *regs
		regWords(&nr)[off/8] = v
		return SetRegsFromTracer(regs, &nr)
	}
	if off >= UserDebugReg && off < UserDebugReg+64 && v == 0 {
		return nil
	}
	return ErrBadRegister
}

// XStateForTracer returns the XSAVE area of fp as NT_X86_XSTATE shows
// it: the software-reserved bytes hold XCR0, the features the area may
// hold, in their first word (where gdb reads it), the rest zero.
func XStateForTracer(fp FPState, l FPLayout) []byte {
	area := append([]byte(nil), fp...)
	clear(area[fpxSwBytes:legacySize])
	putU64(area[fpxSwBytes:], l.Features)
	return area
}

// SetFPFromTracer loads data, a tracer's fxsave area (PTRACE_SETFPREGS)
// or a whole XSAVE area (NT_X86_XSTATE), into fp, made loadable as
// rt_sigreturn's state is.
func SetFPFromTracer(fp FPState, data []byte, l FPLayout) {
	nfp := append(FPState(nil), fp...)
	copy(nfp, data)
	if len(data) <= legacySize && len(nfp) >= xsaveHeader+8 {
		// The x87 and SSE state now comes from data: XRSTOR must
		// load it rather than the initial state.
		putU64(nfp[xsaveHeader:], getU64(nfp[xsaveHeader:])|3)
	}
	sanitizeFP(nfp, l)
	copy(fp, nfp)
}

// TrapFlag is the flags register's single-step bit (TF).
const TrapFlag = flagTF
