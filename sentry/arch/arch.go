// Package arch knows the x86-64 user-mode machine: system call argument
// registers, the initial FP state, and the layout of signal frames that the
// Sentry builds on guest stacks and reads back in rt_sigreturn.
//
// Registers are unix.PtraceRegs (the kernel's user_regs_struct) and the FP
// state is the 512-byte fxsave area, exactly what the platform moves in and
// out of the host.
package arch

import (
	"golang.org/x/sys/unix"
)

// FPState is the FPU/SSE/AVX state in the XSAVE standard format: the
// 512-byte legacy (fxsave) region, the 64-byte XSAVE header, then the
// extended components.
type FPState = []byte

// FPLayout describes the host's XSAVE area.
type FPLayout struct {
	// Size is the size of the area in bytes.
	Size int
	// Features are the state components (XCR0 bits) it holds.
	Features uint64
}

// Offsets and defaults in the XSAVE area (Intel SDM vol. 1, 10.5.1 and
// 13.4).
const (
	fxsaveFCW        = 0
	fxsaveMXCSR      = 24
	fxsaveMXCSRMask  = 28
	xsaveHeader      = 512
	xsaveHeaderSize  = 64
	legacySize       = 512
	defaultFCW       = 0x037f
	defaultMXCSR     = 0x1f80
	defaultMXCSRMask = 0xffbf
	fxsaveXMM        = 160 // XMM0-15, 16 bytes each
	fxsaveXMMSize    = 256

	// XSTATE_BV bits of the components that carry MXCSR.
	xfeatureFP  = 1 << 0
	xfeatureSSE = 1 << 1
	xfeatureYMM = 1 << 2
)

// NewFP returns the FP state a new program starts with.
func NewFP(l FPLayout) FPState {
	fp := make(FPState, max(l.Size, legacySize+xsaveHeaderSize))
	InitFP(fp)
	return fp
}

// InitFP sets fp to the state a new program starts with: all x87 and SSE
// exceptions masked, round to nearest, every extended component in its
// initial state (XSTATE_BV clear).
func InitFP(fp FPState) {
	clear(fp)
	fp[fxsaveFCW] = defaultFCW & 0xff
	fp[fxsaveFCW+1] = defaultFCW >> 8
	putU32(fp[fxsaveMXCSR:], defaultMXCSR)
	putU32(fp[fxsaveMXCSRMask:], defaultMXCSRMask)
}

// sanitizeFP makes state restored from guest memory loadable: MXCSR bits
// the CPU would refuse are cleared, and the XSAVE header may name only the
// host's components in the standard (uncompacted) format, with its
// reserved bytes zero.
func sanitizeFP(fp FPState, l FPLayout) {
	mx := getU32(fp[fxsaveMXCSR:])
	putU32(fp[fxsaveMXCSR:], mx&defaultMXCSRMask)
	putU32(fp[fxsaveMXCSRMask:], defaultMXCSRMask)
	if len(fp) >= xsaveHeader+xsaveHeaderSize {
		bv := getU64(fp[xsaveHeader:]) & l.Features
		if bv&(xfeatureFP|xfeatureSSE|xfeatureYMM) == 0 && l.Features&xfeatureSSE != 0 {
			// XRSTOR, which Linux's sigreturn uses, loads MXCSR
			// whatever XSTATE_BV says, but the host's PTRACE_SETREGSET
			// takes it only with one of these bits. Mark SSE present
			// with its registers in their initial state (zero), as
			// XRSTOR would leave them, so a handler's MXCSR holds.
			bv |= xfeatureSSE
			clear(fp[fxsaveXMM : fxsaveXMM+fxsaveXMMSize])
		}
		clear(fp[xsaveHeader : xsaveHeader+xsaveHeaderSize])
		putU64(fp[xsaveHeader:], bv)
	}
}

// InitRegs returns the registers a new program starts with.
func InitRegs(entry, sp uint64) unix.PtraceRegs {
	// The user code and stack selectors are what a tracer reads back
	// (gdb tells a 64-bit tracee by cs); the platform sets its own.
	return unix.PtraceRegs{Rip: entry, Rsp: sp, Eflags: flagIF | flagReserved, Cs: userCS, Ss: userSS}
}

// The x86-64 Linux user code and stack segment selectors.
const (
	userCS = 0x33
	userSS = 0x2b
)

// Flags bits (Intel SDM vol. 1, 3.4.3).
const (
	flagCF       = 1 << 0
	flagReserved = 1 << 1
	flagPF       = 1 << 2
	flagAF       = 1 << 4
	flagZF       = 1 << 6
	flagSF       = 1 << 7
	flagTF       = 1 << 8
	flagIF       = 1 << 9
	flagDF       = 1 << 10
	flagOF       = 1 << 11
	flagRF       = 1 << 16
	flagAC       = 1 << 18
	// userFlags are the bits a program may change (rt_sigreturn).
	userFlags = flagCF | flagPF | flagAF | flagZF | flagSF | flagTF | flagDF | flagOF | flagRF | flagAC
)

// SyscallArgs are the six argument registers of a system call.
type SyscallArgs [6]uint64

// Args returns the system call number and arguments in regs.
func Args(regs *unix.PtraceRegs) (uint64, SyscallArgs) {
	return regs.Orig_rax, SyscallArgs{regs.Rdi, regs.Rsi, regs.Rdx, regs.R10, regs.R8, regs.R9}
}

// SetReturn sets the system call return value.
func SetReturn(regs *unix.PtraceRegs, v uint64) { regs.Rax = v }

// RestartSyscall rewinds regs so the system call instruction runs again
// with number nr (after a signal handler, or with restart_syscall).
func RestartSyscall(regs *unix.PtraceRegs, nr uint64) {
	regs.Rax = nr
	regs.Rip -= 2 // the syscall instruction is two bytes
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func getU64(b []byte) uint64 { return uint64(getU32(b)) | uint64(getU32(b[4:]))<<32 }

func getU32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
