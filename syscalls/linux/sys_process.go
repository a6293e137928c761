package linux

import (
	"encoding/binary"
	"fmt"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_FORK, Fork)
	full(unix.SYS_VFORK, Vfork)
	partial(unix.SYS_CLONE, "no CLONE_NEWNS/CLONE_NEWPID/... namespaces or CLONE_IO (EINVAL with a log line); CLONE_PIDFD with CLONE_THREAD is EINVAL (before Linux 6.9)", Clone)
	partial(unix.SYS_CLONE3, "as clone; no set_tid or cgroup", Clone3)
	full(unix.SYS_EXECVE, Execve)
	full(unix.SYS_EXECVEAT, Execveat)
	full(unix.SYS_EXIT, Exit)
	full(unix.SYS_EXIT_GROUP, ExitGroup)
	partial(unix.SYS_WAIT4, "rusage has CPU times and maxrss only", Wait4)
	full(unix.SYS_WAITID, Waitid)
	full(unix.SYS_GETPID, Getpid)
	full(unix.SYS_GETPPID, Getppid)
	full(unix.SYS_GETTID, Gettid)
	full(unix.SYS_SET_TID_ADDRESS, SetTidAddress)
	full(unix.SYS_SET_ROBUST_LIST, SetRobustList)
	full(unix.SYS_GET_ROBUST_LIST, GetRobustList)
	full(unix.SYS_ARCH_PRCTL, ArchPrctl)
	full(unix.SYS_GETPGID, Getpgid)
	full(unix.SYS_GETPGRP, Getpgrp)
	full(unix.SYS_SETPGID, Setpgid)
	full(unix.SYS_GETSID, Getsid)
	full(unix.SYS_SETSID, Setsid)
	full(unix.SYS_RESTART_SYSCALL, RestartSyscall)
}

// Fork implements fork(2).
func Fork(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	tid, err := t.Clone(kernel.CloneOptions{ExitSignal: int(unix.SIGCHLD)})
	return uint64(tid), err
}

// Vfork implements vfork(2).
func Vfork(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	tid, err := t.Clone(kernel.CloneOptions{Flags: unix.CLONE_VM | unix.CLONE_VFORK, ExitSignal: int(unix.SIGCHLD)})
	return uint64(tid), err
}

// Clone implements clone(2): flags, stack, parent_tid, child_tid, tls.
func Clone(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	flags, stack, parentTID, childTID, tls := args[0], args[1], args[2], args[3], args[4]
	// CLONE_PIDFD writes the pidfd where CLONE_PARENT_SETTID writes
	// the TID: both at once is EINVAL.
	if flags&unix.CLONE_PIDFD != 0 && flags&unix.CLONE_PARENT_SETTID != 0 {
		return 0, unix.EINVAL
	}
	return cloneWithPIDFD(t, kernel.CloneOptions{
		Flags: flags &^ 0xff, ExitSignal: int(flags & 0xff),
		Stack: stack, ParentTID: parentTID, ChildTID: childTID, TLS: tls,
	}, parentTID)
}

// cloneWithPIDFD runs a clone, making the pidfd at pidfdAddr first if
// CLONE_PIDFD asks. Linux 6.9 also accepts CLONE_PIDFD with CLONE_THREAD
// (a thread pidfd); this is EINVAL here, as before 6.9.
func cloneWithPIDFD(t *kernel.Task, opts kernel.CloneOptions, pidfdAddr uint64) (uint64, error) {
	if opts.Flags&unix.CLONE_PIDFD == 0 {
		tid, err := t.Clone(opts)
		return uint64(tid), err
	}
	if opts.Flags&(unix.CLONE_DETACHED|unix.CLONE_THREAD) != 0 {
		return 0, unix.EINVAL
	}
	p, undo, err := clonePIDFD(t, pidfdAddr)
	if err != nil {
		return 0, err
	}
	opts.Flags &^= unix.CLONE_PIDFD
	opts.PIDFD = p
	tid, err := t.Clone(opts)
	if err != nil {
		undo()
		return 0, err
	}
	return uint64(tid), nil
}

// Clone3 implements clone3(2).
func Clone3(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	cargsAddr, size := args[0], args[1]
	if size < 64 || size > 4096 {
		return 0, unix.EINVAL
	}
	b := make([]byte, size)
	if err := copyIn(t, cargsAddr, b); err != nil {
		return 0, err
	}
	// struct clone_args grows at the end; bytes past what we know must
	// be zero.
	if size > 88 {
		for _, c := range b[88:] {
			if c != 0 {
				return 0, unix.E2BIG
			}
		}
	}
	b = append(b, make([]byte, 88)...) // zero the fields an older caller left out
	u := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	// pidfd (u(1)) is read only with CLONE_PIDFD; glibc fills it anyway.
	flags, pidfdAddr, childTID, parentTID, exitSignal, stack, stackSize, tls := u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7)
	if flags&(unix.CLONE_INTO_CGROUP|unix.CLONE_CLEAR_SIGHAND) != 0 {
		t.Kernel().Warnf("task %d: clone3 flags %#x are not supported", t.ThreadID(), flags)
		return 0, unix.EINVAL
	}
	if exitSignal > abi.NumSignals || (stack == 0) != (stackSize == 0) {
		return 0, unix.EINVAL
	}
	if u(9) != 0 {
		t.Kernel().Warnf("task %d: clone3 set_tid is not supported", t.ThreadID())
		return 0, unix.EINVAL
	}
	sp := uint64(0)
	if stack != 0 {
		sp = stack + stackSize
	}
	return cloneWithPIDFD(t, kernel.CloneOptions{Flags: flags, ExitSignal: int(exitSignal), Stack: sp, ParentTID: parentTID, ChildTID: childTID, TLS: tls}, pidfdAddr)
}

// maxArgs bounds argv and envp (Linux: MAX_ARG_STRINGS).
const maxArgs = 0x7fffffff

// copyInStringArray reads a NULL-terminated array of string pointers.
func copyInStringArray(t *kernel.Task, addr uint64) ([]string, error) {
	var out []string
	if addr == 0 {
		return nil, nil
	}
	total := 0
	for i := 0; ; i++ {
		var p [8]byte
		if err := copyIn(t, addr+uint64(8*i), p[:]); err != nil {
			return nil, err
		}
		ptr := binary.LittleEndian.Uint64(p[:])
		if ptr == 0 {
			return out, nil
		}
		s, err := t.CopyInString(ptr, 32*4096)
		if err != nil {
			if err == unix.EFAULT {
				return nil, err
			}
			return nil, unix.E2BIG
		}
		total += len(s) + 1 + 8
		if total > 2<<20 || i >= maxArgs {
			return nil, unix.E2BIG
		}
		out = append(out, s)
	}
}

func execve(t *kernel.Task, dirfd int32, pathAddr, argvAddr, envvAddr uint64, flags int32) (uint64, error) {
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	path, err := copyInPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	argv, err := copyInStringArray(t, argvAddr)
	if err != nil {
		return 0, err
	}
	envv, err := copyInStringArray(t, envvAddr)
	if err != nil {
		return 0, err
	}
	var start vfs.VirtualDentry
	fdFile := false
	if dirfd != unix.AT_FDCWD && (path == "" || path[0] != '/') {
		f, err := getFile(t, dirfd)
		if err != nil {
			return 0, err
		}
		start = f.VirtualDentry()
		f.DecRef(t.Context())
		if !start.Ok() {
			return 0, unix.EACCES
		}
		start.IncRef()
		defer start.DecRef(t.Context())
		if path == "" {
			if flags&unix.AT_EMPTY_PATH == 0 {
				return 0, unix.ENOENT
			}
			// Linux names such a program /dev/fd/N.
			path, fdFile = fmt.Sprintf("/dev/fd/%d", dirfd), true
		}
	} else if path == "" {
		return 0, unix.ENOENT
	}
	return 0, t.Execve(start, path, fdFile, argv, envv)
}

// Execve implements execve(2).
func Execve(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pathAddr, argvAddr, envpAddr := args[0], args[1], args[2]
	return execve(t, unix.AT_FDCWD, pathAddr, argvAddr, envpAddr, 0)
}

// Execveat implements execveat(2).
func Execveat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	dirfd, pathAddr, argvAddr, envpAddr, flags := fdArg(args[0]), args[1], args[2], args[3], intArg(args[4])
	return execve(t, dirfd, pathAddr, argvAddr, envpAddr, flags)
}

// Exit implements exit(2).
func Exit(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	status := int(args[0] & 0xff)
	t.Exit(kernel.WaitStatusExited(status))
	return 0, kernel.ErrNoSysReturn
}

// ExitGroup implements exit_group(2).
func ExitGroup(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	status := int(args[0] & 0xff)
	t.ExitGroup(kernel.WaitStatusExited(status))
	return 0, kernel.ErrNoSysReturn
}

// Wait4 implements wait4(2).
func Wait4(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, statusAddr, options, rusage := intArg(args[0]), args[1], intArg(args[2]), args[3]
	if uint32(options)&^uint32(unix.WNOHANG|unix.WUNTRACED|unix.WCONTINUED|unix.WALL|unix.WCLONE|unix.WNOTHREAD) != 0 {
		return 0, unix.EINVAL
	}
	if pid == -1<<31 {
		return 0, unix.ESRCH
	}
	r, err := t.Wait(kernel.WaitOptions{PID: pid, Exited: true, NoHang: options&unix.WNOHANG != 0,
		Stopped: options&unix.WUNTRACED != 0, Continued: options&unix.WCONTINUED != 0})
	if err != nil || r == nil {
		return 0, err
	}
	if statusAddr != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(r.Status))
		if err := copyOut(t, statusAddr, b[:]); err != nil {
			return 0, err
		}
	}
	if rusage != 0 {
		ru := ChildRusage(t, r.PID)
		if err := copyOut(t, rusage, abi.AsBytes(&ru)); err != nil {
			return 0, err
		}
	}
	return uint64(r.PID), nil
}

// pPIDFD is waitid's P_PIDFD: id is a pidfd.
const pPIDFD = 3

// Waitid implements waitid(2).
func Waitid(t *kernel.Task, args arch.SyscallArgs) (_ uint64, err error) {
	var r *kernel.WaitResult
	idtype, id, infop, options := intArg(args[0]), intArg(args[1]), args[2], intArg(args[3])
	if uint32(options)&^uint32(unix.WNOHANG|unix.WEXITED|unix.WSTOPPED|unix.WCONTINUED|unix.WNOWAIT|unix.WALL|unix.WCLONE|unix.WNOTHREAD) != 0 ||
		options&(unix.WEXITED|unix.WSTOPPED|unix.WCONTINUED) == 0 {
		return 0, unix.EINVAL
	}
	opts := kernel.WaitOptions{Exited: options&unix.WEXITED != 0, NoHang: options&unix.WNOHANG != 0, NoWait: options&unix.WNOWAIT != 0,
		Stopped: options&unix.WSTOPPED != 0, Continued: options&unix.WCONTINUED != 0}
	switch idtype {
	case unix.P_ALL:
		opts.PID = -1
	case unix.P_PID:
		if id <= 0 {
			return 0, unix.EINVAL
		}
		opts.PID = id
	case unix.P_PGID:
		if id < 0 {
			return 0, unix.EINVAL
		}
		opts.PID = -id
		if id == 0 {
			opts.PID = 0
		}
	case pPIDFD:
		if id < 0 {
			return 0, unix.EINVAL
		}
		f, ferr := getOpenFile(t, id)
		if ferr != nil {
			return 0, ferr
		}
		tg, ferr := kernel.PIDFDGroup(f)
		nonblock := f.StatusFlags()&unix.O_NONBLOCK != 0
		f.DecRef(t.Context())
		if ferr != nil {
			return 0, ferr
		}
		opts.Group = tg
		// A non-blocking pidfd makes the wait non-blocking: EAGAIN
		// rather than WNOHANG's empty answer.
		if nonblock && !opts.NoHang {
			opts.NoHang = true
			defer func() {
				if r == nil && err == nil {
					err = unix.EAGAIN
				}
			}()
		}
	default:
		return 0, unix.EINVAL
	}
	r, err = t.Wait(opts)
	if err != nil {
		return 0, err
	}
	if infop == 0 {
		return 0, nil
	}
	var info abi.SignalInfo
	if r != nil {
		info.Signo = int32(unix.SIGCHLD)
		info.SetPID(r.PID)
		info.SetUID(r.UID)
		if r.Trapped {
			info.Code = abi.CLD_TRAPPED
			info.SetStatus(int32(r.Status >> 8))
		} else if sig, ok := r.Status.StopSignal(); ok {
			info.Code = abi.CLD_STOPPED
			info.SetStatus(int32(sig))
		} else if r.Status == kernel.WaitStatusContinued {
			info.Code = abi.CLD_CONTINUED
			info.SetStatus(int32(unix.SIGCONT))
		} else if sig, ok := r.Status.Signaled(); ok {
			info.Code = abi.CLD_KILLED
			if r.Status&0x80 != 0 {
				info.Code = abi.CLD_DUMPED
			}
			info.SetStatus(int32(sig))
		} else {
			code, _ := r.Status.Exited()
			info.Code = abi.CLD_EXITED
			info.SetStatus(int32(code))
		}
	}
	return 0, copyOut(t, infop, abi.AsBytes(&info))
}

// Getpid implements getpid(2).
func Getpid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return uint64(t.ThreadGroup().ID()), nil
}

// Getppid implements getppid(2).
func Getppid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return uint64(t.ThreadGroup().ParentID()), nil
}

// Gettid implements gettid(2).
func Gettid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return uint64(t.ThreadID()), nil
}

// SetTidAddress implements set_tid_address(2).
func SetTidAddress(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	tidAddr := args[0]
	t.SetClearChildTID(tidAddr)
	return uint64(t.ThreadID()), nil
}

// robustListHeadSize is sizeof(struct robust_list_head).
const robustListHeadSize = 24

// SetRobustList implements set_robust_list(2).
func SetRobustList(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	head, size := args[0], args[1]
	if size != robustListHeadSize {
		return 0, unix.EINVAL
	}
	t.SetRobustList(head, size)
	return 0, nil
}

// GetRobustList implements get_robust_list(2).
func GetRobustList(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, headAddr, sizeAddr := intArg(args[0]), args[1], args[2]
	target := t
	if pid != 0 {
		target = t.Kernel().TaskByID(pid)
		if target == nil {
			return 0, unix.ESRCH
		}
	}
	head, _ := target.RobustList()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], head)
	if err := copyOut(t, headAddr, b[:]); err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint64(b[:], robustListHeadSize)
	return 0, copyOut(t, sizeAddr, b[:])
}

// ArchPrctl implements arch_prctl(2).
func ArchPrctl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	code, addr := args[0], args[1]
	regs := t.Regs()
	var b [8]byte
	switch code {
	case abi.ARCH_SET_FS:
		if addr >= abi.TASK_SIZE_MAX {
			return 0, unix.EPERM
		}
		regs.Fs_base = addr
	case abi.ARCH_GET_FS:
		binary.LittleEndian.PutUint64(b[:], regs.Fs_base)
		return 0, copyOut(t, addr, b[:])
	case abi.ARCH_SET_GS:
		if addr >= abi.TASK_SIZE_MAX {
			return 0, unix.EPERM
		}
		regs.Gs_base = addr
	case abi.ARCH_GET_GS:
		binary.LittleEndian.PutUint64(b[:], regs.Gs_base)
		return 0, copyOut(t, addr, b[:])
	case abi.ARCH_GET_CPUID, abi.ARCH_SET_CPUID:
		if code == abi.ARCH_GET_CPUID {
			return 1, nil // cpuid is not faulting
		}
		return 0, unix.ENODEV
	default:
		return 0, unix.EINVAL
	}
	return 0, nil
}

// Getpgid implements getpgid(2).
func Getpgid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid := intArg(args[0])
	tg, err := processArg(t, pid)
	if err != nil {
		return 0, err
	}
	return uint64(tg.ProcessGroupID()), nil
}

// Getpgrp implements getpgrp(2).
func Getpgrp(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return uint64(t.ThreadGroup().ProcessGroupID()), nil
}

// Setpgid implements setpgid(2).
func Setpgid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, pgid := intArg(args[0]), intArg(args[1])
	return 0, t.SetProcessGroup(pid, pgid)
}

// Getsid implements getsid(2).
func Getsid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid := intArg(args[0])
	tg, err := processArg(t, pid)
	if err != nil {
		return 0, err
	}
	return uint64(tg.SessionID()), nil
}

// Setsid implements setsid(2).
func Setsid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	sid, err := t.SetSession()
	return uint64(sid), err
}

// processArg returns the process pid names (0: the caller's), or ESRCH.
func processArg(t *kernel.Task, pid int32) (*kernel.ThreadGroup, error) {
	if pid == 0 {
		return t.ThreadGroup(), nil
	}
	if pid < 0 {
		return nil, unix.EINVAL
	}
	target := t.Kernel().TaskByID(pid)
	if target == nil {
		return nil, unix.ESRCH
	}
	return target.ThreadGroup(), nil
}

// RestartSyscall implements restart_syscall(2).
func RestartSyscall(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return t.RestartSyscall()
}
