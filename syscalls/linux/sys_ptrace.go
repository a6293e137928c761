package linux

import (
	"encoding/binary"
	"fmt"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_PTRACE, "guest tasks tracing each other, emulated in the Sentry (docs/kernel.md); "+
		"no PTRACE_ARCH_PRCTL, seccomp filter requests or hardware breakpoints (EIO, logged); "+
		"segment selectors cannot be changed", Ptrace)
}

// Ptrace implements ptrace(2). The checks come in Linux's order:
// TRACEME first, then the target (ESRCH), attach requests, then whether
// the caller traces the target and (for most requests) it is stopped.
func Ptrace(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	req, pid, addr, data := args[0], intArg(args[1]), args[2], args[3]
	switch req {
	case unix.PTRACE_TRACEME:
		return 0, t.PtraceTraceme()
	case unix.PTRACE_ATTACH:
		return 0, t.PtraceAttach(pid, false, 0)
	case unix.PTRACE_SEIZE:
		if t.Kernel().TaskByID(pid) == nil {
			return 0, unix.ESRCH
		}
		if addr != 0 {
			return 0, unix.EIO
		}
		if data > 0xffffffff {
			return 0, unix.EIO
		}
		return 0, t.PtraceAttach(pid, true, uint32(data))
	case unix.PTRACE_KILL:
		return 0, t.PtraceKill(pid)
	case unix.PTRACE_INTERRUPT:
		return 0, t.PtraceInterrupt(pid)
	}
	tracee, err := t.PtraceStopped(pid)
	if err != nil {
		return 0, err
	}
	switch req {
	case unix.PTRACE_PEEKTEXT, unix.PTRACE_PEEKDATA:
		v, err := tracee.Peek(addr)
		if err != nil {
			return 0, err
		}
		return 0, copyOutWord(t, data, v)
	case unix.PTRACE_POKETEXT, unix.PTRACE_POKEDATA:
		return 0, tracee.Poke(addr, data)
	case unix.PTRACE_PEEKUSR:
		v, err := tracee.PeekUser(addr)
		if err != nil {
			return 0, err
		}
		return 0, copyOutWord(t, data, v)
	case unix.PTRACE_POKEUSR:
		return 0, tracee.PokeUser(addr, data)
	case unix.PTRACE_CONT:
		return 0, tracee.Cont(int(int64(data)))
	case unix.PTRACE_SYSCALL:
		return 0, tracee.Syscall(int(int64(data)))
	case unix.PTRACE_SYSEMU:
		return 0, tracee.Sysemu(int(int64(data)))
	case unix.PTRACE_SINGLESTEP:
		return 0, tracee.SingleStep(int(int64(data)))
	case unix.PTRACE_SYSEMU_SINGLESTEP:
		return 0, tracee.SysemuSingleStep(int(int64(data)))
	case unix.PTRACE_DETACH:
		return 0, tracee.Detach(int(int64(data)))
	case unix.PTRACE_LISTEN:
		return 0, tracee.Listen()
	case unix.PTRACE_SETOPTIONS:
		if data > 0xffffffff {
			return 0, unix.EINVAL
		}
		return 0, tracee.SetOptions(uint32(data))
	case unix.PTRACE_GETEVENTMSG:
		v, err := tracee.EventMsg()
		if err != nil {
			return 0, err
		}
		return 0, copyOutWord(t, data, v)
	case unix.PTRACE_GETSIGINFO:
		info, err := tracee.SigInfo()
		if err != nil {
			return 0, err
		}
		return 0, copyOut(t, data, abi.AsBytes(&info))
	case unix.PTRACE_SETSIGINFO:
		var info abi.SignalInfo
		if err := copyIn(t, data, abi.AsBytes(&info)); err != nil {
			return 0, err
		}
		return 0, tracee.SetSigInfo(&info)
	case unix.PTRACE_GETREGS:
		regs, err := tracee.Regs()
		if err != nil {
			return 0, err
		}
		return 0, copyOut(t, data, abi.AsBytes(&regs))
	case unix.PTRACE_SETREGS:
		var regs unix.PtraceRegs
		if err := copyIn(t, data, abi.AsBytes(&regs)); err != nil {
			return 0, err
		}
		return 0, tracee.SetRegs(&regs)
	case unix.PTRACE_GETFPREGS:
		fp, err := tracee.FPRegs(false)
		if err != nil {
			return 0, err
		}
		return 0, copyOut(t, data, fp)
	case unix.PTRACE_SETFPREGS:
		fp := make([]byte, arch.FXSaveSize)
		if err := copyIn(t, data, fp); err != nil {
			return 0, err
		}
		return 0, tracee.SetFPRegs(fp)
	case unix.PTRACE_GETREGSET:
		return 0, ptraceGetRegset(t, tracee, addr, data)
	case unix.PTRACE_SETREGSET:
		return 0, ptraceSetRegset(t, tracee, addr, data)
	case unix.PTRACE_GET_SYSCALL_INFO:
		return ptraceSyscallInfo(t, tracee, addr, data)
	case unix.PTRACE_PEEKSIGINFO:
		return ptracePeekSigInfo(t, tracee, addr, data)
	case unix.PTRACE_GETSIGMASK:
		if addr != 8 {
			return 0, unix.EINVAL
		}
		m, err := tracee.SigMask()
		if err != nil {
			return 0, err
		}
		return 0, copyOutWord(t, data, uint64(m))
	case unix.PTRACE_SETSIGMASK:
		if addr != 8 {
			return 0, unix.EINVAL
		}
		var b [8]byte
		if err := copyIn(t, data, b[:]); err != nil {
			return 0, err
		}
		return 0, tracee.SetSigMask(abi.SignalSet(binary.LittleEndian.Uint64(b[:])))
	}
	t.WarnPtraceUnimplemented(ptraceRequestName(req))
	return 0, unix.EIO
}

// ptraceRequestName names a request for the unimplemented log line.
func ptraceRequestName(req uint64) string {
	switch req {
	case unix.PTRACE_GETSIGMASK:
		return "PTRACE_GETSIGMASK"
	case unix.PTRACE_SETSIGMASK:
		return "PTRACE_SETSIGMASK"
	case unix.PTRACE_SECCOMP_GET_FILTER:
		return "PTRACE_SECCOMP_GET_FILTER"
	case unix.PTRACE_ARCH_PRCTL:
		return "PTRACE_ARCH_PRCTL"
	}
	return fmt.Sprintf("ptrace request %#x", req)
}

// copyOutWord writes a word for PEEK* and GETEVENTMSG.
func copyOutWord(t *kernel.Task, addr, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return copyOut(t, addr, b[:])
}

// ptraceIovec reads GETREGSET/SETREGSET's iovec.
func ptraceIovec(t *kernel.Task, addr uint64) (base, length uint64, err error) {
	var b [16]byte
	if err := copyIn(t, addr, b[:]); err != nil {
		return 0, 0, err
	}
	return binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:]), nil
}

// ptraceRegset returns register set typ of tracee, as bytes.
func ptraceRegset(tracee kernel.PtraceTracee, typ uint64) ([]byte, error) {
	switch typ {
	case unix.NT_PRSTATUS:
		regs, err := tracee.Regs()
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), abi.AsBytes(&regs)...), nil
	case unix.NT_PRFPREG:
		return tracee.FPRegs(false)
	case unix.NT_X86_XSTATE:
		return tracee.FPRegs(true)
	}
	return nil, unix.EINVAL
}

// ptraceGetRegset implements PTRACE_GETREGSET: the iovec's length must be
// a multiple of the set's word (8 bytes); at most the set is copied and
// the length is updated to what was.
func ptraceGetRegset(t *kernel.Task, tracee kernel.PtraceTracee, typ, iovAddr uint64) error {
	base, length, err := ptraceIovec(t, iovAddr)
	if err != nil {
		return err
	}
	set, err := ptraceRegset(tracee, typ)
	if err != nil {
		return err
	}
	if length%8 != 0 {
		return unix.EINVAL
	}
	n := min(length, uint64(len(set)))
	if err := copyOut(t, base, set[:n]); err != nil {
		return err
	}
	return copyOutWord(t, iovAddr+8, n)
}

// ptraceSetRegset implements PTRACE_SETREGSET: the general registers may
// be set in part (the rest keep their values); NT_PRFPREG in part too;
// NT_X86_XSTATE needs the whole area, as Linux.
func ptraceSetRegset(t *kernel.Task, tracee kernel.PtraceTracee, typ, iovAddr uint64) error {
	base, length, err := ptraceIovec(t, iovAddr)
	if err != nil {
		return err
	}
	set, err := ptraceRegset(tracee, typ)
	if err != nil {
		return err
	}
	if length%8 != 0 {
		return unix.EINVAL
	}
	n := min(length, uint64(len(set)))
	if typ == unix.NT_X86_XSTATE && n != uint64(len(set)) {
		return unix.EFAULT
	}
	if err := copyIn(t, base, set[:n]); err != nil {
		return err
	}
	switch typ {
	case unix.NT_PRSTATUS:
		var regs unix.PtraceRegs
		abi.FromBytes(set, &regs)
		err = tracee.SetRegs(&regs)
	default:
		err = tracee.SetFPRegs(set)
	}
	if err != nil {
		return err
	}
	return copyOutWord(t, iovAddr+8, n)
}

// auditArchX86_64 is AUDIT_ARCH_X86_64.
const auditArchX86_64 = 0xc000003e

// ptraceSyscallInfo implements PTRACE_GET_SYSCALL_INFO: it writes at most
// size bytes of struct ptrace_syscall_info and returns the size of the
// whole answer.
func ptraceSyscallInfo(t *kernel.Task, tracee kernel.PtraceTracee, size, addr uint64) (uint64, error) {
	si, err := tracee.SyscallInfo()
	if err != nil {
		return 0, err
	}
	var b [88]byte
	b[0] = si.Op
	binary.LittleEndian.PutUint32(b[4:], auditArchX86_64)
	binary.LittleEndian.PutUint64(b[8:], si.IP)
	binary.LittleEndian.PutUint64(b[16:], si.SP)
	n := 24
	switch si.Op {
	case kernel.SyscallInfoEntry:
		binary.LittleEndian.PutUint64(b[24:], si.Nr)
		for i, a := range si.Args {
			binary.LittleEndian.PutUint64(b[32+8*i:], a)
		}
		n = 80
	case kernel.SyscallInfoExit:
		binary.LittleEndian.PutUint64(b[24:], uint64(si.RVal))
		if si.IsError {
			b[32] = 1
		}
		n = 33
	}
	if err := copyOut(t, addr, b[:min(uint64(n), size)]); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// peekSigInfoShared is PTRACE_PEEKSIGINFO_SHARED.
const peekSigInfoShared = 1

// ptracePeekSigInfo implements PTRACE_PEEKSIGINFO: it copies up to nr
// pending siginfos from index off of the thread's (or, with
// PTRACE_PEEKSIGINFO_SHARED, the process's) queue and returns how many
// it copied, one at a time so nothing scales with nr.
func ptracePeekSigInfo(t *kernel.Task, tracee kernel.PtraceTracee, argsAddr, buf uint64) (uint64, error) {
	var b [16]byte
	if err := copyIn(t, argsAddr, b[:]); err != nil {
		return 0, err
	}
	off := binary.LittleEndian.Uint64(b[:8])
	flags := binary.LittleEndian.Uint32(b[8:12])
	nr := int32(binary.LittleEndian.Uint32(b[12:]))
	if flags&^peekSigInfoShared != 0 || nr < 0 {
		return 0, unix.EINVAL
	}
	var done uint64
	for ; done < uint64(nr); done++ {
		info, ok, err := tracee.PendingSigInfo(flags&peekSigInfoShared != 0, off+done)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		if err := copyOut(t, buf+done*uint64(len(abi.AsBytes(&info))), abi.AsBytes(&info)); err != nil {
			if done == 0 {
				return 0, err
			}
			break
		}
	}
	return done, nil
}
