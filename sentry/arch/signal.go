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
	fpAreaSize    = 512
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
}

// PushSignalFrame writes an rt_sigframe for f on the guest stack and points
// regs at the handler. regs and fp are the interrupted state.
func PushSignalFrame(mem Memory, regs *unix.PtraceRegs, fp *FPState, f *SignalFrame) error {
	sp := regs.Rsp
	alt := f.AltStack
	onAlt := alt.Flags&linux.SS_DISABLE == 0 && alt.Contains(sp)
	if f.UseAltStack && alt.Flags&linux.SS_DISABLE == 0 && !onAlt {
		sp = alt.Addr + alt.Size
	} else {
		sp -= redZone
	}
	sp = (sp - fpAreaSize) &^ 63
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
	uc.Flags = linux.UC_SIGCONTEXT_SS

	if _, err := mem.CopyOut(fpAddr, fp[:]); err != nil {
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
func PopSignalFrame(mem Memory, regs *unix.PtraceRegs, fp *FPState) (linux.SignalSet, linux.SignalStack, error) {
	var uc linux.UContext
	buf := make([]byte, ucontextSize)
	if _, err := mem.CopyIn(regs.Rsp, buf); err != nil {
		return 0, linux.SignalStack{}, err
	}
	linux.FromBytes(buf, &uc)
	mc := &uc.MContext
	if mc.Fpstate != 0 {
		var nfp FPState
		if _, err := mem.CopyIn(mc.Fpstate, nfp[:]); err != nil {
			return 0, linux.SignalStack{}, err
		}
		sanitizeFP(&nfp)
		*fp = nfp
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
