package arch

import (
	"github.com/palisade-sandbox/palisade/abi/linux"
	"golang.org/x/sys/unix"
)

// Memory is guest memory as the signal code needs it.
type Memory interface {
	CopyIn(addr uint64, dst []byte) (int, error)
	CopyOut(addr uint64, src []byte) (int, error)
}

// Frame sizes: an rt_sigframe is the restorer address, a ucontext and a
// siginfo; the FP state sits above it, 64-byte aligned.
const (
	redZone       = 128
	ucontextSize  = 304
	siginfoSize   = 128
	frameSize     = 8 + ucontextSize + siginfoSize
	ucontextOff   = 8
	siginfoOff    = 8 + ucontextSize
	sigmaskOffset = 296 // of uc_sigmask within ucontext
)

// SignalFrame is what the Sentry needs to deliver one signal to a handler.
type SignalFrame struct {
	Signo   int
	Info    linux.SignalInfo
	Handler uint64
	// Restorer is sa_restorer, where the handler returns to.
	Restorer uint64
	// OldMask is the signal mask to restore in rt_sigreturn.
	OldMask linux.SignalSet
	// AltStack is the thread's alternate stack (SS_DISABLE if none);
	// UseAltStack says the action asked for it (SA_ONSTACK).
	AltStack    linux.SignalStack
	UseAltStack bool
	// FP describes the XSAVE area saved in the frame.
	FP FPLayout
}

// Software-reserved words of an XSAVE area in a signal frame (struct
// _fpx_sw_bytes at byte 464, and a trailing magic): they tell the reader
// the area is a full XSAVE image and how large it is.
const (
	fpxSwBytes      = 464
	fpXStateMagic1  = 0x46505853
	fpXStateMagic2  = 0x46505845
	fpXStateMagic2Z = 4
)

// PushSignalFrame writes an rt_sigframe for f on the guest stack and points
// regs at the handler. regs and fp are the interrupted state.
func PushSignalFrame(mem Memory, regs *unix.PtraceRegs, fp FPState, f *SignalFrame) error {
	sp := regs.Rsp
	alt := f.AltStack
	onAlt := alt.Flags&linux.SS_DISABLE == 0 && alt.Contains(sp)
	if f.UseAltStack && alt.Flags&linux.SS_DISABLE == 0 && !onAlt {
		sp = alt.Addr + alt.Size
	} else {
		sp -= redZone
	}
	area := make([]byte, len(fp)+fpXStateMagic2Z)
	copy(area, fp)
	putU32(area[fpxSwBytes:], fpXStateMagic1)
	putU32(area[fpxSwBytes+4:], uint32(len(area)))
	putU64(area[fpxSwBytes+8:], f.FP.Features)
	putU32(area[fpxSwBytes+16:], uint32(len(fp)))
	putU32(area[len(fp):], fpXStateMagic2)
	sp = (sp - uint64(len(area))) &^ 63
	fpAddr := sp
	sp -= frameSize
	sp = ((sp + 8) &^ 15) - 8

	var uc linux.UContext
	uc.Stack = alt
	if alt.Flags&linux.SS_DISABLE == 0 {
		if onAlt {
			uc.Stack.Flags = linux.SS_ONSTACK
		} else {
			uc.Stack.Flags = 0
		}
	}
	mc := &uc.MContext
	mc.R8, mc.R9, mc.R10, mc.R11 = regs.R8, regs.R9, regs.R10, regs.R11
	mc.R12, mc.R13, mc.R14, mc.R15 = regs.R12, regs.R13, regs.R14, regs.R15
	mc.Rdi, mc.Rsi, mc.Rbp, mc.Rbx = regs.Rdi, regs.Rsi, regs.Rbp, regs.Rbx
	mc.Rdx, mc.Rax, mc.Rcx, mc.Rsp = regs.Rdx, regs.Rax, regs.Rcx, regs.Rsp
	mc.Rip, mc.Eflags = regs.Rip, regs.Eflags
	mc.Cs, mc.Ss = 0x33, 0x2b
	mc.Fpstate = fpAddr
	if f.Signo == int(unix.SIGSEGV) || f.Signo == int(unix.SIGBUS) {
		mc.Cr2 = f.Info.Addr()
	}
	uc.Sigmask = f.OldMask
	uc.Flags = linux.UC_SIGCONTEXT_SS | linux.UC_FP_XSTATE

	if _, err := mem.CopyOut(fpAddr, area); err != nil {
		return err
	}
	frame := make([]byte, frameSize)
	putU64(frame, f.Restorer)
	copy(frame[ucontextOff:], linux.AsBytes(&uc))
	copy(frame[siginfoOff:], linux.AsBytes(&f.Info))
	if _, err := mem.CopyOut(sp, frame); err != nil {
		return err
	}
	regs.Rsp = sp
	regs.Rip = f.Handler
	regs.Rdi = uint64(f.Signo)
	regs.Rsi = sp + siginfoOff
	regs.Rdx = sp + ucontextOff
	regs.Rax = 0
	regs.Eflags &^= flagDF | flagTF | flagRF | flagAC
	return nil
}

// PopSignalFrame implements rt_sigreturn: it reads the ucontext at regs.Rsp
// (the handler has returned into the restorer, popping the return
// address), restores regs and fp, and returns the mask and alternate stack
// saved in the frame.
func PopSignalFrame(mem Memory, regs *unix.PtraceRegs, fp FPState, l FPLayout) (linux.SignalSet, linux.SignalStack, error) {
	var uc linux.UContext
	buf := make([]byte, ucontextSize)
	if _, err := mem.CopyIn(regs.Rsp, buf); err != nil {
		return 0, linux.SignalStack{}, err
	}
	linux.FromBytes(buf, &uc)
	mc := &uc.MContext
	if mc.Fpstate != 0 {
		nfp := make(FPState, len(fp))
		n := len(nfp)
		if uc.Flags&linux.UC_FP_XSTATE == 0 {
			// A legacy frame holds only the fxsave region; the
			// extended state returns to its initial values.
			n = legacySize
		}
		if _, err := mem.CopyIn(mc.Fpstate, nfp[:n]); err != nil {
			return 0, linux.SignalStack{}, err
		}
		sanitizeFP(nfp, l)
		copy(fp, nfp)
	} else {
		InitFP(fp)
	}
	regs.R8, regs.R9, regs.R10, regs.R11 = mc.R8, mc.R9, mc.R10, mc.R11
	regs.R12, regs.R13, regs.R14, regs.R15 = mc.R12, mc.R13, mc.R14, mc.R15
	regs.Rdi, regs.Rsi, regs.Rbp, regs.Rbx = mc.Rdi, mc.Rsi, mc.Rbp, mc.Rbx
	regs.Rdx, regs.Rax, regs.Rcx, regs.Rsp = mc.Rdx, mc.Rax, mc.Rcx, mc.Rsp
	regs.Rip = mc.Rip
	regs.Eflags = regs.Eflags&^userFlags | mc.Eflags&userFlags
	// The return value register is what the interrupted code had: do
	// not let the syscall exit path overwrite it.
	regs.Orig_rax = ^uint64(0)
	return uc.Sigmask, uc.Stack, nil
}

func putU64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}
