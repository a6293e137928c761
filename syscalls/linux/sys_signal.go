package linux

import (
	"encoding/binary"
	"time"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_RT_SIGACTION, RtSigaction)
	full(unix.SYS_RT_SIGPROCMASK, RtSigprocmask)
	full(unix.SYS_RT_SIGRETURN, RtSigreturn)
	full(unix.SYS_RT_SIGSUSPEND, RtSigsuspend)
	full(unix.SYS_RT_SIGPENDING, RtSigpending)
	full(unix.SYS_SIGALTSTACK, Sigaltstack)
	full(unix.SYS_PAUSE, Pause)
	full(unix.SYS_KILL, Kill)
	full(unix.SYS_TKILL, Tkill)
	full(unix.SYS_TGKILL, Tgkill)
	full(unix.SYS_RT_SIGTIMEDWAIT, RtSigtimedwait)
	full(unix.SYS_RT_SIGQUEUEINFO, RtSigqueueinfo)
	full(unix.SYS_RT_TGSIGQUEUEINFO, RtTgsigqueueinfo)
}

// sigsetArg reads a sigset_t whose size must be 8.
func sigsetArg(t *kernel.Task, addr, size uint64) (abi.SignalSet, error) {
	if size != abi.SignalSetSize {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return 0, err
	}
	return abi.SignalSet(binary.LittleEndian.Uint64(b[:])), nil
}

func copyOutSigset(t *kernel.Task, addr uint64, s abi.SignalSet) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(s))
	return copyOut(t, addr, b[:])
}

// RtSigaction implements rt_sigaction(2).
func RtSigaction(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	sig, newAddr, oldAddr, size := int(intArg(args[0])), args[1], args[2], args[3]
	if size != abi.SignalSetSize {
		return 0, unix.EINVAL
	}
	var act *abi.SigAction
	if newAddr != 0 {
		act = new(abi.SigAction)
		b := abi.AsBytes(act)
		if err := copyIn(t, newAddr, b); err != nil {
			return 0, err
		}
	}
	old, err := t.SigAction(sig, act)
	if err != nil {
		return 0, err
	}
	if oldAddr != 0 {
		return 0, copyOut(t, oldAddr, abi.AsBytes(&old))
	}
	return 0, nil
}

// RtSigprocmask implements rt_sigprocmask(2).
func RtSigprocmask(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	how, setAddr, oldAddr, size := int(intArg(args[0])), args[1], args[2], args[3]
	if size != abi.SignalSetSize {
		return 0, unix.EINVAL
	}
	var set *abi.SignalSet
	if setAddr != 0 {
		s, err := sigsetArg(t, setAddr, size)
		if err != nil {
			return 0, err
		}
		set = &s
	}
	old, err := t.SigProcMask(how, set)
	if err != nil {
		return 0, err
	}
	if oldAddr != 0 {
		return 0, copyOutSigset(t, oldAddr, old)
	}
	return 0, nil
}

// RtSigreturn implements rt_sigreturn(2).
func RtSigreturn(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, t.SigReturn()
}

// RtSigsuspend implements rt_sigsuspend(2).
func RtSigsuspend(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	maskAddr, size := args[0], args[1]
	mask, err := sigsetArg(t, maskAddr, size)
	if err != nil {
		return 0, err
	}
	return 0, t.SigSuspend(mask)
}

// RtSigpending implements rt_sigpending(2).
func RtSigpending(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	setAddr, size := args[0], args[1]
	if size > abi.SignalSetSize {
		return 0, unix.EINVAL
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(t.SigPending()))
	return 0, copyOut(t, setAddr, b[:size])
}

// Sigaltstack implements sigaltstack(2).
func Sigaltstack(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	ssAddr, oldAddr := args[0], args[1]
	var ss *abi.SignalStack
	if ssAddr != 0 {
		ss = new(abi.SignalStack)
		if err := copyIn(t, ssAddr, abi.AsBytes(ss)); err != nil {
			return 0, err
		}
	}
	old, err := t.SigAltStack(ss)
	if err != nil {
		return 0, err
	}
	if oldAddr != 0 {
		return 0, copyOut(t, oldAddr, abi.AsBytes(&old))
	}
	return 0, nil
}

// Pause implements pause(2).
func Pause(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	for {
		if err := t.Block(nil); err != nil {
			return 0, abi.ERESTARTNOHAND
		}
	}
}

// userSignal builds the siginfo of a signal sent by t with kill(2).
func userSignal(t *kernel.Task, sig int, code int32) (*abi.SignalInfo, error) {
	if sig < 0 || sig > abi.NumSignals {
		return nil, unix.EINVAL
	}
	info := &abi.SignalInfo{Signo: int32(sig), Code: code}
	info.SetPID(t.ThreadGroup().ID())
	info.SetUID(t.Credentials().RealUID)
	return info, nil
}

// Kill implements kill(2).
func Kill(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, sig := intArg(args[0]), int(intArg(args[1]))
	info, err := userSignal(t, sig, abi.SI_USER)
	if err != nil {
		return 0, err
	}
	if pid == -1<<31 {
		return 0, unix.ESRCH
	}
	return 0, t.Kill(pid, info)
}

// Tkill implements tkill(2).
func Tkill(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	tid, sig := intArg(args[0]), int(intArg(args[1]))
	if tid <= 0 {
		return 0, unix.EINVAL
	}
	info, err := userSignal(t, sig, abi.SI_TKILL)
	if err != nil {
		return 0, err
	}
	return 0, t.Tgkill(-1, tid, info)
}

// Tgkill implements tgkill(2).
func Tgkill(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	tgid, tid, sig := intArg(args[0]), intArg(args[1]), int(intArg(args[2]))
	if tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	info, err := userSignal(t, sig, abi.SI_TKILL)
	if err != nil {
		return 0, err
	}
	return 0, t.Tgkill(tgid, tid, info)
}

// RtSigtimedwait implements rt_sigtimedwait(2).
func RtSigtimedwait(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	setAddr, infoAddr, timeoutAddr, size := args[0], args[1], args[2], args[3]
	set, err := sigsetArg(t, setAddr, size)
	if err != nil {
		return 0, err
	}
	timeout := time.Duration(-1)
	if timeoutAddr != 0 {
		if timeout, err = copyInTimespec(t, timeoutAddr); err != nil {
			return 0, err
		}
	}
	info, err := t.SigTimedWait(set, timeout)
	if err != nil {
		return 0, err
	}
	if infoAddr != 0 {
		if err := copyOut(t, infoAddr, abi.AsBytes(&info)); err != nil {
			return 0, err
		}
	}
	return uint64(info.Signo), nil
}

// queuedSignal reads rt_sigqueueinfo's siginfo and checks its number.
func queuedSignal(t *kernel.Task, sig uint64, addr uint64) (*abi.SignalInfo, error) {
	if sig > abi.NumSignals {
		return nil, unix.EINVAL
	}
	info := new(abi.SignalInfo)
	if err := copyIn(t, addr, abi.AsBytes(info)); err != nil {
		return nil, err
	}
	info.Signo = int32(sig)
	return info, nil
}

// RtSigqueueinfo implements rt_sigqueueinfo(2).
func RtSigqueueinfo(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	tgid, sig, infoAddr := intArg(args[0]), args[1], args[2]
	info, err := queuedSignal(t, sig, infoAddr)
	if err != nil {
		return 0, err
	}
	return 0, t.QueueSignal(tgid, -1, info)
}

// RtTgsigqueueinfo implements rt_tgsigqueueinfo(2).
func RtTgsigqueueinfo(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	tgid, tid, sig, infoAddr := intArg(args[0]), intArg(args[1]), args[2], args[3]
	if tgid <= 0 || tid <= 0 {
		return 0, unix.EINVAL
	}
	info, err := queuedSignal(t, sig, infoAddr)
	if err != nil {
		return 0, err
	}
	return 0, t.QueueSignal(tgid, tid, info)
}
