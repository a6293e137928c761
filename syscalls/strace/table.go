package strace

import (
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/abi/linux"
)

// call describes how to render one system call.
type call struct {
	args []arg
	ret  retKind
}

// Argument descriptors shared by many calls.
var (
	aHex      = arg{kind: kHex}
	aPtr      = arg{kind: kPtr}
	aInt      = arg{kind: kInt}
	aLong     = arg{kind: kLong}
	aSize     = arg{kind: kUint}
	aUint32   = arg{kind: kUint32}
	aFD       = arg{kind: kFD}
	aDirFD    = arg{kind: kDirFD}
	aPath     = arg{kind: kPath}
	aString   = arg{kind: kString}
	aMode     = arg{kind: kMode}
	aSignal   = arg{kind: kSignal}
	aSigset   = arg{kind: kSigset}
	aTimespec = arg{kind: kTimespec}
	aOutBuf   = arg{kind: kOutBuf}
	aOutStat  = arg{kind: kOutStat}
	aOutPair  = arg{kind: kOutFDPair}
	aOutTime  = arg{kind: kOutTimespec}
	aATFlags  = flags(linux.ATFlags)
	aFDFlags  = flags(linux.FDCreateFlags)
	aClock    = enum(linux.ClockIDs)
)

// flags is an argument holding flags named by table.
func flags(table []linux.FlagName) arg { return arg{kind: kFlags, table: table} }

// enum is an argument holding a value named by table.
func enum(table []linux.FlagName) arg { return arg{kind: kEnum, table: table} }

// inBuf is a buffer the call reads, whose length is argument n.
func inBuf(n int) arg { return arg{kind: kInBuf, ref: n} }

// ofArg is an argument of kind k that refers to argument n.
func ofArg(k kind, n int) arg { return arg{kind: k, ref: n} }

// c makes a call description from its arguments.
func c(args ...arg) call { return call{args: args} }

// hexCall describes a call the table does not know: n arguments in hex.
func hexCall(n int) call {
	args := make([]arg, n)
	for i := range args {
		args[i] = aHex
	}
	return call{args: args}
}

// withRet sets how a call's return value is rendered.
func (cl call) withRet(r retKind) call {
	cl.ret = r
	return cl
}

// calls describes the common system calls, keyed by number.
var calls = map[uintptr]call{
	// Files.
	unix.SYS_READ:              c(aFD, aOutBuf, aSize),
	unix.SYS_WRITE:             c(aFD, inBuf(2), aSize),
	unix.SYS_OPEN:              c(aPath, flags(linux.OpenFlags), ofArg(kOpenMode, 1)),
	unix.SYS_CLOSE:             c(aFD),
	unix.SYS_STAT:              c(aPath, aOutStat),
	unix.SYS_FSTAT:             c(aFD, aOutStat),
	unix.SYS_LSTAT:             c(aPath, aOutStat),
	unix.SYS_LSEEK:             c(aFD, aLong, enum(linux.SeekWhence)),
	unix.SYS_IOCTL:             c(aFD, enum(linux.IoctlRequests), aHex),
	unix.SYS_PREAD64:           c(aFD, aOutBuf, aSize, aLong),
	unix.SYS_PWRITE64:          c(aFD, inBuf(2), aSize, aLong),
	unix.SYS_READV:             c(aFD, aPtr, aInt),
	unix.SYS_WRITEV:            c(aFD, ofArg(kIovec, 2), aInt),
	unix.SYS_PREADV:            c(aFD, aPtr, aInt, aLong, aHex),
	unix.SYS_PWRITEV:           c(aFD, ofArg(kIovec, 2), aInt, aLong, aHex),
	unix.SYS_ACCESS:            c(aPath, flags(linux.AccessModes)),
	unix.SYS_PIPE:              c(aOutPair),
	unix.SYS_PIPE2:             c(aOutPair, aFDFlags),
	unix.SYS_DUP:               c(aFD),
	unix.SYS_DUP2:              c(aFD, aFD),
	unix.SYS_DUP3:              c(aFD, aFD, aFDFlags),
	unix.SYS_SENDFILE:          c(aFD, aFD, aPtr, aSize),
	unix.SYS_FCNTL:             c(aFD, enum(linux.FcntlCommands), ofArg(kFcntlArg, 1)),
	unix.SYS_FLOCK:             c(aFD, aHex),
	unix.SYS_FSYNC:             c(aFD),
	unix.SYS_FDATASYNC:         c(aFD),
	unix.SYS_TRUNCATE:          c(aPath, aLong),
	unix.SYS_FTRUNCATE:         c(aFD, aLong),
	unix.SYS_GETDENTS:          c(aFD, aPtr, aSize),
	unix.SYS_GETDENTS64:        c(aFD, aPtr, aSize),
	unix.SYS_GETCWD:            c(ofArg(kOutPath, 1), aSize),
	unix.SYS_CHDIR:             c(aPath),
	unix.SYS_FCHDIR:            c(aFD),
	unix.SYS_RENAME:            c(aPath, aPath),
	unix.SYS_MKDIR:             c(aPath, aMode),
	unix.SYS_RMDIR:             c(aPath),
	unix.SYS_CREAT:             c(aPath, aMode),
	unix.SYS_LINK:              c(aPath, aPath),
	unix.SYS_UNLINK:            c(aPath),
	unix.SYS_SYMLINK:           c(aPath, aPath),
	unix.SYS_READLINK:          c(aPath, arg{kind: kOutString}, aSize),
	unix.SYS_CHMOD:             c(aPath, aMode),
	unix.SYS_FCHMOD:            c(aFD, aMode),
	unix.SYS_CHOWN:             c(aPath, aInt, aInt),
	unix.SYS_FCHOWN:            c(aFD, aInt, aInt),
	unix.SYS_LCHOWN:            c(aPath, aInt, aInt),
	unix.SYS_UMASK:             c(aMode).withRet(retOct),
	unix.SYS_MKNOD:             c(aPath, aMode, aHex),
	unix.SYS_STATFS:            c(aPath, aPtr),
	unix.SYS_FSTATFS:           c(aFD, aPtr),
	unix.SYS_CHROOT:            c(aPath),
	unix.SYS_SYNC:              c(),
	unix.SYS_SYNCFS:            c(aFD),
	unix.SYS_MOUNT:             c(aString, aPath, aString, aHex, aPtr),
	unix.SYS_UMOUNT2:           c(aPath, aHex),
	unix.SYS_SETXATTR:          c(aPath, aString, inBuf(3), aSize, aHex),
	unix.SYS_LSETXATTR:         c(aPath, aString, inBuf(3), aSize, aHex),
	unix.SYS_FSETXATTR:         c(aFD, aString, inBuf(3), aSize, aHex),
	unix.SYS_GETXATTR:          c(aPath, aString, aOutBuf, aSize),
	unix.SYS_LGETXATTR:         c(aPath, aString, aOutBuf, aSize),
	unix.SYS_FGETXATTR:         c(aFD, aString, aOutBuf, aSize),
	unix.SYS_LISTXATTR:         c(aPath, aPtr, aSize),
	unix.SYS_LLISTXATTR:        c(aPath, aPtr, aSize),
	unix.SYS_FLISTXATTR:        c(aFD, aPtr, aSize),
	unix.SYS_REMOVEXATTR:       c(aPath, aString),
	unix.SYS_LREMOVEXATTR:      c(aPath, aString),
	unix.SYS_FREMOVEXATTR:      c(aFD, aString),
	unix.SYS_FADVISE64:         c(aFD, aLong, aLong, aInt),
	unix.SYS_OPENAT:            c(aDirFD, aPath, flags(linux.OpenFlags), ofArg(kOpenMode, 2)),
	unix.SYS_MKDIRAT:           c(aDirFD, aPath, aMode),
	unix.SYS_MKNODAT:           c(aDirFD, aPath, aMode, aHex),
	unix.SYS_FCHOWNAT:          c(aDirFD, aPath, aInt, aInt, aATFlags),
	unix.SYS_NEWFSTATAT:        c(aDirFD, aPath, aOutStat, aATFlags),
	unix.SYS_UNLINKAT:          c(aDirFD, aPath, aATFlags),
	unix.SYS_RENAMEAT:          c(aDirFD, aPath, aDirFD, aPath),
	unix.SYS_RENAMEAT2:         c(aDirFD, aPath, aDirFD, aPath, aHex),
	unix.SYS_LINKAT:            c(aDirFD, aPath, aDirFD, aPath, aATFlags),
	unix.SYS_SYMLINKAT:         c(aPath, aDirFD, aPath),
	unix.SYS_READLINKAT:        c(aDirFD, aPath, arg{kind: kOutString}, aSize),
	unix.SYS_FCHMODAT:          c(aDirFD, aPath, aMode),
	unix.SYS_FCHMODAT2:         c(aDirFD, aPath, aMode, aATFlags),
	unix.SYS_FACCESSAT:         c(aDirFD, aPath, flags(linux.AccessModes)),
	unix.SYS_FACCESSAT2:        c(aDirFD, aPath, flags(linux.AccessModes), flags(linux.AccessATFlags)),
	unix.SYS_UTIMENSAT:         c(aDirFD, aPath, aPtr, aATFlags),
	unix.SYS_FALLOCATE:         c(aFD, aHex, aLong, aLong),
	unix.SYS_STATX:             c(aDirFD, aPath, aATFlags, aHex, aPtr),
	unix.SYS_OPENAT2:           c(aDirFD, aPath, aPtr, aSize),
	unix.SYS_CLOSE_RANGE:       c(aUint32, aUint32, aHex),
	unix.SYS_COPY_FILE_RANGE:   c(aFD, aPtr, aFD, aPtr, aSize, aHex),
	unix.SYS_SPLICE:            c(aFD, aPtr, aFD, aPtr, aSize, aHex),
	unix.SYS_TEE:               c(aFD, aFD, aSize, aHex),
	unix.SYS_INOTIFY_INIT1:     c(aFDFlags),
	unix.SYS_INOTIFY_ADD_WATCH: c(aFD, aPath, aHex),
	unix.SYS_INOTIFY_RM_WATCH:  c(aFD, aInt),
	unix.SYS_MEMFD_CREATE:      c(aString, aHex),
	unix.SYS_EVENTFD:           c(aUint32),
	unix.SYS_EVENTFD2:          c(aUint32, aFDFlags),
	unix.SYS_IO_SETUP:          c(aUint32, aPtr),
	unix.SYS_IO_DESTROY:        c(aHex),
	unix.SYS_IO_SUBMIT:         c(aHex, aLong, aPtr),
	unix.SYS_IO_CANCEL:         c(aHex, aPtr, aPtr),
	unix.SYS_IO_GETEVENTS:      c(aHex, aLong, aLong, aPtr, aTimespec),
	unix.SYS_IO_PGETEVENTS:     c(aHex, aLong, aLong, aPtr, aTimespec, aPtr),

	// Memory.
	unix.SYS_MMAP:     c(aPtr, aSize, flags(linux.ProtFlags), flags(linux.MapFlags), aFD, aHex).withRet(retHex),
	unix.SYS_MPROTECT: c(aPtr, aSize, flags(linux.ProtFlags)),
	unix.SYS_MUNMAP:   c(aPtr, aSize),
	unix.SYS_BRK:      c(aPtr).withRet(retHex),
	unix.SYS_MREMAP:   c(aPtr, aSize, aSize, flags(linux.MremapFlags), aPtr).withRet(retHex),
	unix.SYS_MSYNC:    c(aPtr, aSize, aHex),
	unix.SYS_MINCORE:  c(aPtr, aSize, aPtr),
	unix.SYS_MADVISE:  c(aPtr, aSize, enum(linux.MadviseAdvice)),
	unix.SYS_MLOCK:    c(aPtr, aSize),
	unix.SYS_MUNLOCK:  c(aPtr, aSize),
	unix.SYS_SHMAT:    c(aInt, aPtr, aHex).withRet(retHex),
	unix.SYS_SHMDT:    c(aPtr),
	unix.SYS_SHMGET:   c(aHex, aSize, aHex),
	unix.SYS_SHMCTL:   c(aInt, aInt, aPtr),

	// System V semaphores and messages, POSIX message queues.
	unix.SYS_SEMGET:          c(aHex, aInt, aHex),
	unix.SYS_SEMOP:           c(aInt, aPtr, aInt),
	unix.SYS_SEMTIMEDOP:      c(aInt, aPtr, aInt, aPtr),
	unix.SYS_SEMCTL:          c(aInt, aInt, aInt, aHex),
	unix.SYS_MSGGET:          c(aHex, aHex),
	unix.SYS_MSGSND:          c(aInt, aPtr, aSize, aHex),
	unix.SYS_MSGRCV:          c(aInt, aPtr, aSize, aLong, aHex),
	unix.SYS_MSGCTL:          c(aInt, aInt, aPtr),
	unix.SYS_MQ_OPEN:         c(aString, flags(linux.OpenFlags), aMode, aPtr),
	unix.SYS_MQ_UNLINK:       c(aString),
	unix.SYS_MQ_TIMEDSEND:    c(aFD, aPtr, aSize, aInt, aPtr),
	unix.SYS_MQ_TIMEDRECEIVE: c(aFD, aPtr, aSize, aPtr, aPtr),
	unix.SYS_MQ_NOTIFY:       c(aFD, aPtr),
	unix.SYS_MQ_GETSETATTR:   c(aFD, aPtr, aPtr),
	unix.SYS_MSEAL:           c(aPtr, aSize, aHex),

	// Personality, pidfds, membarrier, scheduling attributes, time
	// setting and the other small calls of docs/kernel.md.
	unix.SYS_PERSONALITY:           c(aHex).withRet(retHex),
	unix.SYS_PIDFD_GETFD:           c(aFD, aInt, aHex),
	unix.SYS_MEMBARRIER:            c(aHex, aHex, aInt).withRet(retHex),
	unix.SYS_PREADV2:               c(aFD, aPtr, aInt, aLong, aHex, aHex),
	unix.SYS_PWRITEV2:              c(aFD, aPtr, aInt, aLong, aHex, aHex),
	unix.SYS_SCHED_SETATTR:         c(aInt, aPtr, aHex),
	unix.SYS_SCHED_GETATTR:         c(aInt, aPtr, aSize, aHex),
	unix.SYS_SCHED_RR_GET_INTERVAL: c(aInt, aPtr),
	unix.SYS_READAHEAD:             c(aFD, aLong, aSize),
	unix.SYS_SYNC_FILE_RANGE:       c(aFD, aLong, aLong, aHex),
	unix.SYS_KCMP:                  c(aInt, aInt, aInt, aHex, aHex),
	unix.SYS_SYSLOG:                c(aInt, aPtr, aInt),
	unix.SYS_VHANGUP:               c(),
	unix.SYS_SETTIMEOFDAY:          c(aPtr, aPtr),
	unix.SYS_ADJTIMEX:              c(aPtr),
	unix.SYS_CLOCK_ADJTIME:         c(aClock, aPtr),
	unix.SYS_MLOCK2:                c(aPtr, aSize, aHex),
	unix.SYS_MLOCKALL:              c(aHex),
	unix.SYS_MUNLOCKALL:            c(),

	// Processes and threads.
	unix.SYS_CLONE:             c(arg{kind: kCloneFlags}, aPtr, aPtr, aPtr, aHex),
	unix.SYS_CLONE3:            c(aPtr, aSize),
	unix.SYS_FORK:              c(),
	unix.SYS_VFORK:             c(),
	unix.SYS_EXECVE:            c(aPath, arg{kind: kArgv}, arg{kind: kEnvp}),
	unix.SYS_EXECVEAT:          c(aDirFD, aPath, arg{kind: kArgv}, arg{kind: kEnvp}, aATFlags),
	unix.SYS_EXIT:              c(aInt),
	unix.SYS_EXIT_GROUP:        c(aInt),
	unix.SYS_WAIT4:             c(aInt, arg{kind: kOutStatus}, flags(linux.WaitOptions), aPtr),
	unix.SYS_WAITID:            c(aInt, aInt, aPtr, flags(linux.WaitOptions), aPtr),
	unix.SYS_GETPID:            c(),
	unix.SYS_GETPPID:           c(),
	unix.SYS_GETTID:            c(),
	unix.SYS_GETUID:            c(),
	unix.SYS_GETEUID:           c(),
	unix.SYS_GETGID:            c(),
	unix.SYS_GETEGID:           c(),
	unix.SYS_SETUID:            c(aInt),
	unix.SYS_SETGID:            c(aInt),
	unix.SYS_SETPGID:           c(aInt, aInt),
	unix.SYS_GETPGID:           c(aInt),
	unix.SYS_GETPGRP:           c(),
	unix.SYS_SETSID:            c(),
	unix.SYS_GETSID:            c(aInt),
	unix.SYS_SETRESUID:         c(aInt, aInt, aInt),
	unix.SYS_SETRESGID:         c(aInt, aInt, aInt),
	unix.SYS_GETGROUPS:         c(aInt, aPtr),
	unix.SYS_SETGROUPS:         c(aInt, aPtr),
	unix.SYS_UNAME:             c(aPtr),
	unix.SYS_PRCTL:             c(enum(linux.PrctlOptions), aHex, aHex, aHex, aHex),
	unix.SYS_ARCH_PRCTL:        c(enum(linux.ArchPrctlCodes), aHex),
	unix.SYS_SET_TID_ADDRESS:   c(aPtr),
	unix.SYS_SET_ROBUST_LIST:   c(aPtr, aSize),
	unix.SYS_RSEQ:              c(aPtr, aUint32, aHex, aHex),
	unix.SYS_GETRLIMIT:         c(aInt, aPtr),
	unix.SYS_SETRLIMIT:         c(aInt, aPtr),
	unix.SYS_PRLIMIT64:         c(aInt, aInt, aPtr, aPtr),
	unix.SYS_GETRUSAGE:         c(aInt, aPtr),
	unix.SYS_UNSHARE:           c(flags(linux.CloneFlags)),
	unix.SYS_SETNS:             c(aFD, flags(linux.CloneFlags)),
	unix.SYS_PIDFD_OPEN:        c(aInt, aHex),
	unix.SYS_SCHED_YIELD:       c(),
	unix.SYS_SCHED_GETAFFINITY: c(aInt, aSize, aPtr),
	unix.SYS_SCHED_SETAFFINITY: c(aInt, aSize, aPtr),
	unix.SYS_GETRANDOM:         c(aOutBuf, aSize, aHex),
	unix.SYS_SECCOMP:           c(aInt, aHex, aPtr),
	unix.SYS_PTRACE:            c(aInt, aInt, aPtr, aPtr),
	unix.SYS_FUTEX:             c(aPtr, arg{kind: kFutexOp}, aInt, aPtr, aPtr, aInt),

	// Signals.
	unix.SYS_RT_SIGACTION:      c(aSignal, arg{kind: kSigaction}, aPtr, aSize),
	unix.SYS_RT_SIGPROCMASK:    c(enum(linux.SigprocmaskHow), aSigset, aPtr, aSize),
	unix.SYS_RT_SIGRETURN:      c(),
	unix.SYS_RT_SIGPENDING:     c(aPtr, aSize),
	unix.SYS_RT_SIGTIMEDWAIT:   c(aSigset, aPtr, aTimespec, aSize),
	unix.SYS_RT_SIGQUEUEINFO:   c(aInt, aSignal, aPtr),
	unix.SYS_RT_SIGSUSPEND:     c(aSigset, aSize),
	unix.SYS_SIGALTSTACK:       c(aPtr, aPtr),
	unix.SYS_KILL:              c(aInt, aSignal),
	unix.SYS_TKILL:             c(aInt, aSignal),
	unix.SYS_TGKILL:            c(aInt, aInt, aSignal),
	unix.SYS_PAUSE:             c(),
	unix.SYS_SIGNALFD:          c(aFD, aSigset, aSize),
	unix.SYS_SIGNALFD4:         c(aFD, aSigset, aSize, aFDFlags),
	unix.SYS_PIDFD_SEND_SIGNAL: c(aFD, aSignal, aPtr, aHex),

	// Time.
	unix.SYS_NANOSLEEP:       c(aTimespec, aPtr),
	unix.SYS_CLOCK_NANOSLEEP: c(aClock, aHex, aTimespec, aPtr),
	unix.SYS_CLOCK_GETTIME:   c(aClock, aOutTime),
	unix.SYS_CLOCK_GETRES:    c(aClock, aOutTime),
	unix.SYS_CLOCK_SETTIME:   c(aClock, aTimespec),
	unix.SYS_GETTIMEOFDAY:    c(aPtr, aPtr),
	unix.SYS_TIME:            c(aPtr),
	unix.SYS_ALARM:           c(aUint32),
	unix.SYS_GETITIMER:       c(aInt, aPtr),
	unix.SYS_SETITIMER:       c(aInt, aPtr, aPtr),
	unix.SYS_TIMER_CREATE:    c(aClock, aPtr, aPtr),
	unix.SYS_TIMER_SETTIME:   c(aInt, aHex, aPtr, aPtr),
	unix.SYS_TIMER_GETTIME:   c(aInt, aPtr),
	unix.SYS_TIMER_DELETE:    c(aInt),
	unix.SYS_TIMERFD_CREATE:  c(aClock, aFDFlags),
	unix.SYS_TIMERFD_SETTIME: c(aFD, aHex, aPtr, aPtr),
	unix.SYS_TIMERFD_GETTIME: c(aFD, aPtr),
	unix.SYS_TIMES:           c(aPtr),
	unix.SYS_SYSINFO:         c(aPtr),

	// Sockets.
	unix.SYS_SOCKET:      c(enum(linux.SocketFamilies), flags(linux.SocketTypes), aInt),
	unix.SYS_SOCKETPAIR:  c(enum(linux.SocketFamilies), flags(linux.SocketTypes), aInt, aOutPair),
	unix.SYS_CONNECT:     c(aFD, ofArg(kSockaddr, 2), aUint32),
	unix.SYS_BIND:        c(aFD, ofArg(kSockaddr, 2), aUint32),
	unix.SYS_LISTEN:      c(aFD, aInt),
	unix.SYS_ACCEPT:      c(aFD, aPtr, aPtr),
	unix.SYS_ACCEPT4:     c(aFD, aPtr, aPtr, flags(linux.SocketTypes)),
	unix.SYS_SENDTO:      c(aFD, inBuf(2), aSize, aHex, ofArg(kSockaddr, 5), aUint32),
	unix.SYS_RECVFROM:    c(aFD, aOutBuf, aSize, aHex, aPtr, aPtr),
	unix.SYS_SENDMSG:     c(aFD, aPtr, aHex),
	unix.SYS_RECVMSG:     c(aFD, aPtr, aHex),
	unix.SYS_SENDMMSG:    c(aFD, aPtr, aUint32, aHex),
	unix.SYS_RECVMMSG:    c(aFD, aPtr, aUint32, aHex, aTimespec),
	unix.SYS_SHUTDOWN:    c(aFD, aInt),
	unix.SYS_GETSOCKNAME: c(aFD, aPtr, aPtr),
	unix.SYS_GETPEERNAME: c(aFD, aPtr, aPtr),
	unix.SYS_SETSOCKOPT:  c(aFD, aInt, aInt, aPtr, aUint32),
	unix.SYS_GETSOCKOPT:  c(aFD, aInt, aInt, aPtr, aPtr),

	// Polling.
	unix.SYS_POLL:          c(ofArg(kPollFDs, 1), aUint32, aInt),
	unix.SYS_PPOLL:         c(ofArg(kPollFDs, 1), aUint32, aTimespec, aSigset, aSize),
	unix.SYS_SELECT:        c(aInt, aPtr, aPtr, aPtr, aPtr),
	unix.SYS_PSELECT6:      c(aInt, aPtr, aPtr, aPtr, aTimespec, aPtr),
	unix.SYS_EPOLL_CREATE:  c(aInt),
	unix.SYS_EPOLL_CREATE1: c(aFDFlags),
	unix.SYS_EPOLL_CTL:     c(aFD, enum(linux.EpollCtlOps), aFD, aPtr),
	unix.SYS_EPOLL_WAIT:    c(aFD, aPtr, aInt, aInt),
	unix.SYS_EPOLL_PWAIT:   c(aFD, aPtr, aInt, aInt, aSigset, aSize),
	unix.SYS_EPOLL_PWAIT2:  c(aFD, aPtr, aInt, aTimespec, aSigset, aSize),

	// Host administration, I/O priorities, NUMA, protection keys.
	unix.SYS_ACCT:                    c(aPath),
	unix.SYS_SWAPON:                  c(aPath, aHex),
	unix.SYS_SWAPOFF:                 c(aPath),
	unix.SYS_REBOOT:                  c(aHex, aHex, aHex, aPtr),
	unix.SYS_IOPL:                    c(aInt),
	unix.SYS_IOPERM:                  c(aHex, aSize, aInt),
	unix.SYS_INIT_MODULE:             c(aPtr, aSize, aString),
	unix.SYS_FINIT_MODULE:            c(aFD, aString, aHex),
	unix.SYS_DELETE_MODULE:           c(aString, aHex),
	unix.SYS_KEXEC_LOAD:              c(aHex, aSize, aPtr, aHex),
	unix.SYS_KEXEC_FILE_LOAD:         c(aFD, aFD, aSize, aString, aHex),
	unix.SYS_QUOTACTL:                c(aHex, aPath, aInt, aPtr),
	unix.SYS_QUOTACTL_FD:             c(aFD, aHex, aInt, aPtr),
	unix.SYS_IOPRIO_SET:              c(aInt, aInt, aHex),
	unix.SYS_IOPRIO_GET:              c(aInt, aInt),
	unix.SYS_SET_MEMPOLICY:           c(aHex, aPtr, aSize),
	unix.SYS_GET_MEMPOLICY:           c(aPtr, aPtr, aSize, aPtr, aHex),
	unix.SYS_MBIND:                   c(aPtr, aSize, aHex, aPtr, aSize, aHex),
	unix.SYS_SET_MEMPOLICY_HOME_NODE: c(aPtr, aSize, aSize, aHex),
	unix.SYS_MIGRATE_PAGES:           c(aInt, aSize, aPtr, aPtr),
	unix.SYS_MOVE_PAGES:              c(aInt, aSize, aPtr, aPtr, aPtr, aHex),
	unix.SYS_PKEY_ALLOC:              c(aHex, aHex),
	unix.SYS_PKEY_FREE:               c(aInt),
	unix.SYS_PKEY_MPROTECT:           c(aPtr, aSize, flags(linux.ProtFlags), aInt),
	unix.SYS_PROCESS_MADVISE:         c(aFD, aPtr, aSize, enum(linux.MadviseAdvice), aHex),
	unix.SYS_PROCESS_MRELEASE:        c(aFD, aHex),
	unix.SYS_SYSFS:                   c(aInt, aHex, aPtr),
	unix.SYS_USTAT:                   c(aHex, aPtr),
	// futex2, *xattrat, memory and attribute calls of Linux 6.5 to 6.17.
	unix.SYS_FUTEX_WAKE:        c(aPtr, aHex, aInt, aHex),
	unix.SYS_FUTEX_WAIT:        c(aPtr, aHex, aHex, aHex, aPtr, aClock),
	unix.SYS_FUTEX_REQUEUE:     c(aPtr, aHex, aInt, aInt),
	unix.SYS_SETXATTRAT:        c(aDirFD, aPath, aATFlags, aString, aPtr, aSize),
	unix.SYS_GETXATTRAT:        c(aDirFD, aPath, aATFlags, aString, aPtr, aSize),
	unix.SYS_LISTXATTRAT:       c(aDirFD, aPath, aATFlags, aPtr, aSize),
	unix.SYS_REMOVEXATTRAT:     c(aDirFD, aPath, aATFlags, aString),
	unix.SYS_CACHESTAT:         c(aFD, aPtr, aPtr, aHex),
	unix.SYS_MAP_SHADOW_STACK:  c(aPtr, aSize, aHex),
	unix.SYS_LSM_GET_SELF_ATTR: c(aInt, aPtr, aPtr, aHex),
	unix.SYS_LSM_SET_SELF_ATTR: c(aInt, aPtr, aSize, aHex),
	unix.SYS_LSM_LIST_MODULES:  c(aPtr, aPtr, aHex),
	unix.SYS_FILE_GETATTR:      c(aDirFD, aPath, aPtr, aSize, aATFlags),
	unix.SYS_FILE_SETATTR:      c(aDirFD, aPath, aPtr, aSize, aATFlags),
}
