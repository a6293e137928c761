package linux

import "encoding/binary"

// SignalInfo is the kernel's siginfo_t for amd64: three ints, padding, and a
// 112-byte union whose meaning depends on the signal and Code. Accessors
// read and write the union members. Linux:
// include/uapi/asm-generic/siginfo.h.
type SignalInfo struct {
	Signo int32 // si_signo
	Errno int32 // si_errno
	Code  int32 // si_code
	_     int32
	// Fields is the union _sifields.
	Fields [112]byte
}

// Offsets of union members within SignalInfo.Fields.
const (
	siPID     = 0  // _kill._pid, _rt._pid, _sigchld._pid
	siUID     = 4  // _kill._uid, _rt._uid, _sigchld._uid
	siTimerID = 0  // _timer._tid
	siOverrun = 4  // _timer._overrun
	siValue   = 8  // _rt._sigval, _timer._sigval
	siStatus  = 8  // _sigchld._status
	siUtime   = 16 // _sigchld._utime
	siStime   = 24 // _sigchld._stime
	siAddr    = 0  // _sigfault._addr, _sigsys._call_addr
	siBand    = 0  // _sigpoll._band
	siFD      = 8  // _sigpoll._fd
	siSyscall = 8  // _sigsys._syscall
	siArch    = 12 // _sigsys._arch
)

func (s *SignalInfo) get32(off int) int32 {
	return int32(binary.LittleEndian.Uint32(s.Fields[off:]))
}

func (s *SignalInfo) set32(off int, v int32) {
	binary.LittleEndian.PutUint32(s.Fields[off:], uint32(v))
}

func (s *SignalInfo) get64(off int) uint64 {
	return binary.LittleEndian.Uint64(s.Fields[off:])
}

func (s *SignalInfo) set64(off int, v uint64) {
	binary.LittleEndian.PutUint64(s.Fields[off:], v)
}

// PID returns the sending or child process ID (kill, rt and SIGCHLD forms).
func (s *SignalInfo) PID() int32 { return s.get32(siPID) }

// SetPID sets the sending or child process ID.
func (s *SignalInfo) SetPID(pid int32) { s.set32(siPID, pid) }

// UID returns the sender's real user ID (kill, rt and SIGCHLD forms).
func (s *SignalInfo) UID() uint32 { return uint32(s.get32(siUID)) }

// SetUID sets the sender's real user ID.
func (s *SignalInfo) SetUID(uid uint32) { s.set32(siUID, int32(uid)) }

// Status returns the SIGCHLD exit status or signal.
func (s *SignalInfo) Status() int32 { return s.get32(siStatus) }

// SetStatus sets the SIGCHLD exit status or signal.
func (s *SignalInfo) SetStatus(status int32) { s.set32(siStatus, status) }

// Utime returns the SIGCHLD child's user time, in clock ticks.
func (s *SignalInfo) Utime() int64 { return int64(s.get64(siUtime)) }

// SetUtime sets the SIGCHLD child's user time, in clock ticks.
func (s *SignalInfo) SetUtime(t int64) { s.set64(siUtime, uint64(t)) }

// Stime returns the SIGCHLD child's system time, in clock ticks.
func (s *SignalInfo) Stime() int64 { return int64(s.get64(siStime)) }

// SetStime sets the SIGCHLD child's system time, in clock ticks.
func (s *SignalInfo) SetStime(t int64) { s.set64(siStime, uint64(t)) }

// Addr returns the faulting address (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
// SIGTRAP) or, for SIGSYS, the address of the system call instruction.
func (s *SignalInfo) Addr() uint64 { return s.get64(siAddr) }

// SetAddr sets the faulting or calling address.
func (s *SignalInfo) SetAddr(addr uint64) { s.set64(siAddr, addr) }

// Value returns the sigval_t carried by rt and timer signals.
func (s *SignalInfo) Value() uint64 { return s.get64(siValue) }

// SetValue sets the sigval_t carried by rt and timer signals.
func (s *SignalInfo) SetValue(v uint64) { s.set64(siValue, v) }

// TimerID returns the POSIX timer ID of a timer signal.
func (s *SignalInfo) TimerID() int32 { return s.get32(siTimerID) }

// SetTimerID sets the POSIX timer ID of a timer signal.
func (s *SignalInfo) SetTimerID(id int32) { s.set32(siTimerID, id) }

// Overrun returns a timer signal's overrun count.
func (s *SignalInfo) Overrun() int32 { return s.get32(siOverrun) }

// SetOverrun sets a timer signal's overrun count.
func (s *SignalInfo) SetOverrun(n int32) { s.set32(siOverrun, n) }

// Band returns a SIGPOLL's band event.
func (s *SignalInfo) Band() int64 { return int64(s.get64(siBand)) }

// SetBand sets a SIGPOLL's band event.
func (s *SignalInfo) SetBand(band int64) { s.set64(siBand, uint64(band)) }

// FD returns a SIGPOLL's file descriptor.
func (s *SignalInfo) FD() int32 { return s.get32(siFD) }

// SetFD sets a SIGPOLL's file descriptor.
func (s *SignalInfo) SetFD(fd int32) { s.set32(siFD, fd) }

// Syscall returns the system call number of a seccomp SIGSYS.
func (s *SignalInfo) Syscall() int32 { return s.get32(siSyscall) }

// SetSyscall sets the system call number of a seccomp SIGSYS.
func (s *SignalInfo) SetSyscall(nr int32) { s.set32(siSyscall, nr) }

// Arch returns the AUDIT_ARCH_* value of a seccomp SIGSYS.
func (s *SignalInfo) Arch() uint32 { return uint32(s.get32(siArch)) }

// SetArch sets the AUDIT_ARCH_* value of a seccomp SIGSYS.
func (s *SignalInfo) SetArch(arch uint32) { s.set32(siArch, int32(arch)) }

// SignalStack is stack_t, an alternate signal stack (sigaltstack(2)).
type SignalStack struct {
	Addr  uint64 // ss_sp
	Flags int32  // ss_flags: SS_ONSTACK, SS_DISABLE, SS_AUTODISARM
	_     int32
	Size  uint64 // ss_size
}

// Contains reports whether stack pointer sp is on the stack, that is in
// (Addr, Addr+Size], as the kernel's on_sig_stack checks for a stack that
// grows down.
func (s *SignalStack) Contains(sp uint64) bool {
	return sp > s.Addr && sp-s.Addr <= s.Size
}

// SigContext is struct sigcontext for x86-64: the registers saved in a
// signal frame. Linux: arch/x86/include/uapi/asm/sigcontext.h.
type SigContext struct {
	R8, R9, R10, R11, R12, R13, R14, R15 uint64
	Rdi, Rsi, Rbp, Rbx, Rdx, Rax, Rcx    uint64
	Rsp, Rip, Eflags                     uint64
	Cs, Gs, Fs, Ss                       uint16
	Err, Trapno                          uint64
	// Oldmask is unused on x86-64; the mask lives in UContext.Sigmask.
	Oldmask uint64
	Cr2     uint64
	// Fpstate points to the XSAVE area in guest memory, or is 0.
	Fpstate  uint64
	Reserved [8]uint64
}

// UContext is the kernel's struct ucontext for x86-64, which an rt signal
// frame holds after its return address. Linux:
// arch/x86/include/uapi/asm/ucontext.h, include/uapi/asm-generic/ucontext.h.
type UContext struct {
	Flags    uint64 // uc_flags: UC_FP_XSTATE, UC_SIGCONTEXT_SS, ...
	Link     uint64 // uc_link
	Stack    SignalStack
	MContext SigContext
	Sigmask  SignalSet
}

// uc_flags bits. Linux: arch/x86/include/uapi/asm/ucontext.h.
const (
	UC_FP_XSTATE         = 0x1
	UC_SIGCONTEXT_SS     = 0x2
	UC_STRICT_RESTORE_SS = 0x4
)

// SigAction is the kernel's struct sigaction for x86-64, as rt_sigaction(2)
// reads and writes it.
type SigAction struct {
	Handler  uint64 // sa_handler or sa_sigaction; SIG_DFL, SIG_IGN or an address
	Flags    uint64 // sa_flags: SA_*
	Restorer uint64 // sa_restorer, used with SA_RESTORER
	Mask     SignalSet
}
