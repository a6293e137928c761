package linux

import (
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Signal numbering limits. Linux: arch/x86/include/uapi/asm/signal.h.
const (
	// SIGRTMIN is the kernel's first realtime signal (glibc reserves
	// 32 and 33 and reports 34 as its SIGRTMIN).
	SIGRTMIN = 32
	// SIGRTMAX is the last realtime signal.
	SIGRTMAX = 64
	// NumSignals is the number of signals, _NSIG; they are numbered
	// 1..NumSignals.
	NumSignals = 64
	// SignalSetSize is sizeof(sigset_t) as the kernel sees it, the only
	// sigsetsize rt_sig* calls accept.
	SignalSetSize = 8
)

// Signal handler sentinels (sa_handler values).
const (
	SIG_DFL = 0 // default action
	SIG_IGN = 1 // ignore the signal
)

// Flags of struct sigaction's sa_flags. Linux:
// include/uapi/asm-generic/signal-defs.h, arch/x86/include/uapi/asm/signal.h.
const (
	SA_NOCLDSTOP      = 0x1
	SA_NOCLDWAIT      = 0x2
	SA_SIGINFO        = 0x4
	SA_UNSUPPORTED    = 0x400
	SA_EXPOSE_TAGBITS = 0x800
	SA_RESTORER       = 0x04000000
	SA_ONSTACK        = 0x08000000
	SA_RESTART        = 0x10000000
	SA_NODEFER        = 0x40000000
	SA_RESETHAND      = 0x80000000
)

// Flags of stack_t's ss_flags, and alternate stack sizes.
const (
	SS_ONSTACK    = 1
	SS_DISABLE    = 2
	SS_AUTODISARM = 1 << 31
	MINSIGSTKSZ   = 2048
	SIGSTKSZ      = 8192
)

// siginfo si_code values. Linux: include/uapi/asm-generic/siginfo.h.
const (
	SI_USER    = 0
	SI_KERNEL  = 0x80
	SI_QUEUE   = -1
	SI_TIMER   = -2
	SI_MESGQ   = -3
	SI_ASYNCIO = -4
	SI_SIGIO   = -5
	SI_TKILL   = -6

	CLD_EXITED    = 1
	CLD_KILLED    = 2
	CLD_DUMPED    = 3
	CLD_TRAPPED   = 4
	CLD_STOPPED   = 5
	CLD_CONTINUED = 6

	SEGV_MAPERR = 1
	SEGV_ACCERR = 2
	SEGV_PKUERR = 4

	BUS_ADRALN = 1
	BUS_ADRERR = 2
	BUS_OBJERR = 3

	ILL_ILLOPC = 1
	ILL_ILLOPN = 2

	FPE_INTDIV = 1

	TRAP_BRKPT = 1
	TRAP_TRACE = 2
)

// SignalName returns the name of signal sig: "SIGSEGV", "SIGRTMIN",
// "SIGRTMIN+3", or the number in decimal if sig is not a signal.
func SignalName(sig int) string {
	switch {
	case sig >= 1 && sig < SIGRTMIN:
		if n := unix.SignalName(syscall.Signal(sig)); n != "" {
			return n
		}
	case sig == SIGRTMIN:
		return "SIGRTMIN"
	case sig > SIGRTMIN && sig <= SIGRTMAX:
		return "SIGRTMIN+" + strconv.Itoa(sig-SIGRTMIN)
	}
	return strconv.Itoa(sig)
}

// SignalSet is a kernel sigset_t: bit sig-1 stands for signal sig.
type SignalSet uint64

// SignalSetOf returns the set holding the given signals.
func SignalSetOf(sigs ...int) SignalSet {
	var s SignalSet
	for _, sig := range sigs {
		s |= 1 << uint(sig-1)
	}
	return s
}

// Has reports whether s holds sig.
func (s SignalSet) Has(sig int) bool {
	return sig >= 1 && sig <= NumSignals && s&(1<<uint(sig-1)) != 0
}
