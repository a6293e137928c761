package linux

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// FlagName names one value of a flag set or enumeration, for --strace.
type FlagName struct {
	// Value is the flag's bits, or the field's value if Mask is set.
	Value uint64
	// Name is the flag's name as strace prints it.
	Name string
	// Mask, if nonzero, selects a multi-bit field (O_ACCMODE, MAP_TYPE)
	// that must equal Value for Name to apply.
	Mask uint64
}

// FormatFlags renders v as the '|'-joined names of the flags of table it
// holds, in table order, followed by any bits no entry names in hex:
// "O_RDONLY|O_CLOEXEC|0x80000000". An entry whose bits an earlier entry
// already named is skipped, so a multi-bit flag (O_SYNC) listed before its
// subset (O_DSYNC) wins. A zero v prints the table's zero-valued entry
// without a mask (PROT_NONE), or "0".
func FormatFlags(v uint64, table []FlagName) string {
	var b strings.Builder
	var named uint64
	for _, f := range table {
		m := f.Mask
		if m == 0 {
			m = f.Value
		}
		if m == 0 || m&named != 0 || v&m != f.Value {
			continue
		}
		named |= m
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(f.Name)
	}
	if rest := v &^ named; rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("0x" + strconv.FormatUint(rest, 16))
	}
	if b.Len() == 0 {
		for _, f := range table {
			if f.Value == 0 && f.Mask == 0 {
				return f.Name
			}
		}
		return "0"
	}
	return b.String()
}

// LookupName returns the name of the entry of table whose Value is v.
func LookupName(v uint64, table []FlagName) (string, bool) {
	for _, f := range table {
		if f.Value == v {
			return f.Name, true
		}
	}
	return "", false
}

// FormatValue returns the name of enumeration value v from table, or v in
// hex if table does not name it.
func FormatValue(v uint64, table []FlagName) string {
	if n, ok := LookupName(v, table); ok {
		return n
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// OpenFlags names the flags of open(2) and openat(2).
var OpenFlags = []FlagName{
	{0, "O_RDONLY", unix.O_ACCMODE},
	{unix.O_WRONLY, "O_WRONLY", unix.O_ACCMODE},
	{unix.O_RDWR, "O_RDWR", unix.O_ACCMODE},
	{unix.O_CREAT, "O_CREAT", 0},
	{unix.O_EXCL, "O_EXCL", 0},
	{unix.O_NOCTTY, "O_NOCTTY", 0},
	{unix.O_TRUNC, "O_TRUNC", 0},
	{unix.O_APPEND, "O_APPEND", 0},
	{unix.O_NONBLOCK, "O_NONBLOCK", 0},
	{unix.O_SYNC, "O_SYNC", 0},
	{unix.O_DSYNC, "O_DSYNC", 0},
	{unix.O_ASYNC, "O_ASYNC", 0},
	{unix.O_DIRECT, "O_DIRECT", 0},
	{O_LARGEFILE, "O_LARGEFILE", 0},
	{unix.O_TMPFILE, "O_TMPFILE", 0},
	{unix.O_DIRECTORY, "O_DIRECTORY", 0},
	{unix.O_NOFOLLOW, "O_NOFOLLOW", 0},
	{unix.O_NOATIME, "O_NOATIME", 0},
	{unix.O_CLOEXEC, "O_CLOEXEC", 0},
	{unix.O_PATH, "O_PATH", 0},
}

// FDCreateFlags names the flags of calls that create file descriptors
// (pipe2, dup3, eventfd2, epoll_create1, inotify_init1, signalfd4,
// timerfd_create, accept4), which share O_CLOEXEC and O_NONBLOCK's bits.
var FDCreateFlags = []FlagName{
	{unix.O_NONBLOCK, "O_NONBLOCK", 0},
	{unix.O_DIRECT, "O_DIRECT", 0},
	{unix.O_CLOEXEC, "O_CLOEXEC", 0},
}

// ProtFlags names mmap(2) and mprotect(2) protections.
var ProtFlags = []FlagName{
	{unix.PROT_NONE, "PROT_NONE", 0},
	{unix.PROT_READ, "PROT_READ", 0},
	{unix.PROT_WRITE, "PROT_WRITE", 0},
	{unix.PROT_EXEC, "PROT_EXEC", 0},
	{0x8, "PROT_SEM", 0},
	{unix.PROT_GROWSDOWN, "PROT_GROWSDOWN", 0},
	{unix.PROT_GROWSUP, "PROT_GROWSUP", 0},
}

// MapFlags names mmap(2) flags.
var MapFlags = []FlagName{
	{unix.MAP_SHARED, "MAP_SHARED", unix.MAP_TYPE},
	{unix.MAP_PRIVATE, "MAP_PRIVATE", unix.MAP_TYPE},
	{unix.MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE", unix.MAP_TYPE},
	{unix.MAP_DROPPABLE, "MAP_DROPPABLE", unix.MAP_TYPE},
	{unix.MAP_FIXED, "MAP_FIXED", 0},
	{unix.MAP_ANONYMOUS, "MAP_ANONYMOUS", 0},
	{unix.MAP_32BIT, "MAP_32BIT", 0},
	{unix.MAP_GROWSDOWN, "MAP_GROWSDOWN", 0},
	{unix.MAP_DENYWRITE, "MAP_DENYWRITE", 0},
	{unix.MAP_EXECUTABLE, "MAP_EXECUTABLE", 0},
	{unix.MAP_LOCKED, "MAP_LOCKED", 0},
	{unix.MAP_NORESERVE, "MAP_NORESERVE", 0},
	{unix.MAP_POPULATE, "MAP_POPULATE", 0},
	{unix.MAP_NONBLOCK, "MAP_NONBLOCK", 0},
	{unix.MAP_STACK, "MAP_STACK", 0},
	{unix.MAP_HUGETLB, "MAP_HUGETLB", 0},
	{unix.MAP_SYNC, "MAP_SYNC", 0},
	{unix.MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE", 0},
	{0x4000000, "MAP_UNINITIALIZED", 0},
}

// MremapFlags names mremap(2) flags.
var MremapFlags = []FlagName{
	{unix.MREMAP_MAYMOVE, "MREMAP_MAYMOVE", 0},
	{unix.MREMAP_FIXED, "MREMAP_FIXED", 0},
	{unix.MREMAP_DONTUNMAP, "MREMAP_DONTUNMAP", 0},
}

// CloneFlags names clone(2), clone3(2) and unshare(2) flags. For clone(2)
// the low byte (CSIGNAL) is the exit signal and must be masked off first.
var CloneFlags = []FlagName{
	{unix.CLONE_VM, "CLONE_VM", 0},
	{unix.CLONE_FS, "CLONE_FS", 0},
	{unix.CLONE_FILES, "CLONE_FILES", 0},
	{unix.CLONE_SIGHAND, "CLONE_SIGHAND", 0},
	{unix.CLONE_PIDFD, "CLONE_PIDFD", 0},
	{unix.CLONE_PTRACE, "CLONE_PTRACE", 0},
	{unix.CLONE_VFORK, "CLONE_VFORK", 0},
	{unix.CLONE_PARENT, "CLONE_PARENT", 0},
	{unix.CLONE_THREAD, "CLONE_THREAD", 0},
	{unix.CLONE_NEWNS, "CLONE_NEWNS", 0},
	{unix.CLONE_SYSVSEM, "CLONE_SYSVSEM", 0},
	{unix.CLONE_SETTLS, "CLONE_SETTLS", 0},
	{unix.CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID", 0},
	{unix.CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID", 0},
	{unix.CLONE_DETACHED, "CLONE_DETACHED", 0},
	{unix.CLONE_UNTRACED, "CLONE_UNTRACED", 0},
	{unix.CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID", 0},
	{unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP", 0},
	{unix.CLONE_NEWUTS, "CLONE_NEWUTS", 0},
	{unix.CLONE_NEWIPC, "CLONE_NEWIPC", 0},
	{unix.CLONE_NEWUSER, "CLONE_NEWUSER", 0},
	{unix.CLONE_NEWPID, "CLONE_NEWPID", 0},
	{unix.CLONE_NEWNET, "CLONE_NEWNET", 0},
	{unix.CLONE_IO, "CLONE_IO", 0},
	{unix.CLONE_CLEAR_SIGHAND, "CLONE_CLEAR_SIGHAND", 0},
	{unix.CLONE_INTO_CGROUP, "CLONE_INTO_CGROUP", 0},
	{unix.CLONE_NEWTIME, "CLONE_NEWTIME", 0},
}

// ATFlags names the AT_* flags of the *at(2) calls.
var ATFlags = []FlagName{
	{unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW", 0},
	{unix.AT_REMOVEDIR, "AT_REMOVEDIR", 0},
	{unix.AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW", 0},
	{unix.AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT", 0},
	{unix.AT_EMPTY_PATH, "AT_EMPTY_PATH", 0},
	{unix.AT_STATX_FORCE_SYNC, "AT_STATX_FORCE_SYNC", 0},
	{unix.AT_STATX_DONT_SYNC, "AT_STATX_DONT_SYNC", 0},
	{unix.AT_RECURSIVE, "AT_RECURSIVE", 0},
}

// AccessATFlags names the flags of faccessat2(2), where 0x200 means
// AT_EACCESS rather than AT_REMOVEDIR.
var AccessATFlags = []FlagName{
	{unix.AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW", 0},
	{unix.AT_EACCESS, "AT_EACCESS", 0},
	{unix.AT_EMPTY_PATH, "AT_EMPTY_PATH", 0},
}

// AccessModes names access(2) modes.
var AccessModes = []FlagName{
	{unix.F_OK, "F_OK", 0},
	{unix.R_OK, "R_OK", 0},
	{unix.W_OK, "W_OK", 0},
	{unix.X_OK, "X_OK", 0},
}

// FcntlCommands names fcntl(2) commands.
var FcntlCommands = []FlagName{
	{unix.F_DUPFD, "F_DUPFD", 0},
	{unix.F_GETFD, "F_GETFD", 0},
	{unix.F_SETFD, "F_SETFD", 0},
	{unix.F_GETFL, "F_GETFL", 0},
	{unix.F_SETFL, "F_SETFL", 0},
	{unix.F_GETLK, "F_GETLK", 0},
	{unix.F_SETLK, "F_SETLK", 0},
	{unix.F_SETLKW, "F_SETLKW", 0},
	{unix.F_SETOWN, "F_SETOWN", 0},
	{unix.F_GETOWN, "F_GETOWN", 0},
	{unix.F_SETSIG, "F_SETSIG", 0},
	{unix.F_GETSIG, "F_GETSIG", 0},
	{unix.F_SETOWN_EX, "F_SETOWN_EX", 0},
	{unix.F_GETOWN_EX, "F_GETOWN_EX", 0},
	{unix.F_OFD_GETLK, "F_OFD_GETLK", 0},
	{unix.F_OFD_SETLK, "F_OFD_SETLK", 0},
	{unix.F_OFD_SETLKW, "F_OFD_SETLKW", 0},
	{unix.F_SETLEASE, "F_SETLEASE", 0},
	{unix.F_GETLEASE, "F_GETLEASE", 0},
	{unix.F_NOTIFY, "F_NOTIFY", 0},
	{unix.F_DUPFD_QUERY, "F_DUPFD_QUERY", 0},
	{1029, "F_CANCELLK", 0},
	{unix.F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC", 0},
	{unix.F_SETPIPE_SZ, "F_SETPIPE_SZ", 0},
	{unix.F_GETPIPE_SZ, "F_GETPIPE_SZ", 0},
	{unix.F_ADD_SEALS, "F_ADD_SEALS", 0},
	{unix.F_GET_SEALS, "F_GET_SEALS", 0},
	{unix.F_GET_RW_HINT, "F_GET_RW_HINT", 0},
	{unix.F_SET_RW_HINT, "F_SET_RW_HINT", 0},
	{unix.F_GET_FILE_RW_HINT, "F_GET_FILE_RW_HINT", 0},
	{unix.F_SET_FILE_RW_HINT, "F_SET_FILE_RW_HINT", 0},
}

// FDFlags names file descriptor flags (F_GETFD, F_SETFD).
var FDFlags = []FlagName{
	{unix.FD_CLOEXEC, "FD_CLOEXEC", 0},
}

// IoctlRequests names the ioctl(2) requests of terminals and the generic
// file ioctls.
var IoctlRequests = []FlagName{
	{unix.TCGETS, "TCGETS", 0},
	{unix.TCSETS, "TCSETS", 0},
	{unix.TCSETSW, "TCSETSW", 0},
	{unix.TCSETSF, "TCSETSF", 0},
	{unix.TCSBRK, "TCSBRK", 0},
	{unix.TCXONC, "TCXONC", 0},
	{unix.TCFLSH, "TCFLSH", 0},
	{unix.TIOCEXCL, "TIOCEXCL", 0},
	{unix.TIOCNXCL, "TIOCNXCL", 0},
	{unix.TIOCSCTTY, "TIOCSCTTY", 0},
	{unix.TIOCGPGRP, "TIOCGPGRP", 0},
	{unix.TIOCSPGRP, "TIOCSPGRP", 0},
	{unix.TIOCOUTQ, "TIOCOUTQ", 0},
	{unix.TIOCSTI, "TIOCSTI", 0},
	{unix.TIOCGWINSZ, "TIOCGWINSZ", 0},
	{unix.TIOCSWINSZ, "TIOCSWINSZ", 0},
	{unix.TIOCMGET, "TIOCMGET", 0},
	{unix.TIOCMSET, "TIOCMSET", 0},
	{FIONREAD, "FIONREAD", 0},
	{unix.TIOCLINUX, "TIOCLINUX", 0},
	{unix.TIOCCONS, "TIOCCONS", 0},
	{unix.TIOCPKT, "TIOCPKT", 0},
	{FIONBIO, "FIONBIO", 0},
	{unix.TIOCNOTTY, "TIOCNOTTY", 0},
	{unix.TIOCSETD, "TIOCSETD", 0},
	{unix.TIOCGETD, "TIOCGETD", 0},
	{unix.TIOCSBRK, "TIOCSBRK", 0},
	{unix.TIOCCBRK, "TIOCCBRK", 0},
	{unix.TIOCGSID, "TIOCGSID", 0},
	{unix.TCGETS2, "TCGETS2", 0},
	{unix.TCSETS2, "TCSETS2", 0},
	{unix.TIOCGPTN, "TIOCGPTN", 0},
	{unix.TIOCSPTLCK, "TIOCSPTLCK", 0},
	{unix.TIOCGDEV, "TIOCGDEV", 0},
	{unix.TIOCSIG, "TIOCSIG", 0},
	{unix.TIOCVHANGUP, "TIOCVHANGUP", 0},
	{unix.TIOCGPKT, "TIOCGPKT", 0},
	{unix.TIOCGPTLCK, "TIOCGPTLCK", 0},
	{unix.TIOCGEXCL, "TIOCGEXCL", 0},
	{unix.TIOCGPTPEER, "TIOCGPTPEER", 0},
	{FIONCLEX, "FIONCLEX", 0},
	{FIOCLEX, "FIOCLEX", 0},
	{FIOASYNC, "FIOASYNC", 0},
}

// MadviseAdvice names madvise(2) advice values.
var MadviseAdvice = []FlagName{
	{unix.MADV_NORMAL, "MADV_NORMAL", 0},
	{unix.MADV_RANDOM, "MADV_RANDOM", 0},
	{unix.MADV_SEQUENTIAL, "MADV_SEQUENTIAL", 0},
	{unix.MADV_WILLNEED, "MADV_WILLNEED", 0},
	{unix.MADV_DONTNEED, "MADV_DONTNEED", 0},
	{unix.MADV_FREE, "MADV_FREE", 0},
	{unix.MADV_REMOVE, "MADV_REMOVE", 0},
	{unix.MADV_DONTFORK, "MADV_DONTFORK", 0},
	{unix.MADV_DOFORK, "MADV_DOFORK", 0},
	{unix.MADV_MERGEABLE, "MADV_MERGEABLE", 0},
	{unix.MADV_UNMERGEABLE, "MADV_UNMERGEABLE", 0},
	{unix.MADV_HUGEPAGE, "MADV_HUGEPAGE", 0},
	{unix.MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE", 0},
	{unix.MADV_DONTDUMP, "MADV_DONTDUMP", 0},
	{unix.MADV_DODUMP, "MADV_DODUMP", 0},
	{unix.MADV_WIPEONFORK, "MADV_WIPEONFORK", 0},
	{unix.MADV_KEEPONFORK, "MADV_KEEPONFORK", 0},
	{unix.MADV_COLD, "MADV_COLD", 0},
	{unix.MADV_PAGEOUT, "MADV_PAGEOUT", 0},
	{unix.MADV_POPULATE_READ, "MADV_POPULATE_READ", 0},
	{unix.MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE", 0},
	{unix.MADV_DONTNEED_LOCKED, "MADV_DONTNEED_LOCKED", 0},
	{unix.MADV_COLLAPSE, "MADV_COLLAPSE", 0},
	{unix.MADV_HWPOISON, "MADV_HWPOISON", 0},
	{101, "MADV_SOFT_OFFLINE", 0},
	{unix.MADV_GUARD_INSTALL, "MADV_GUARD_INSTALL", 0},
	{unix.MADV_GUARD_REMOVE, "MADV_GUARD_REMOVE", 0},
}

// SigprocmaskHow names rt_sigprocmask(2)'s how argument.
var SigprocmaskHow = []FlagName{
	{unix.SIG_BLOCK, "SIG_BLOCK", 0},
	{unix.SIG_UNBLOCK, "SIG_UNBLOCK", 0},
	{unix.SIG_SETMASK, "SIG_SETMASK", 0},
}

// SigactionFlags names struct sigaction's sa_flags.
var SigactionFlags = []FlagName{
	{SA_NOCLDSTOP, "SA_NOCLDSTOP", 0},
	{SA_NOCLDWAIT, "SA_NOCLDWAIT", 0},
	{SA_SIGINFO, "SA_SIGINFO", 0},
	{SA_UNSUPPORTED, "SA_UNSUPPORTED", 0},
	{SA_EXPOSE_TAGBITS, "SA_EXPOSE_TAGBITS", 0},
	{SA_RESTORER, "SA_RESTORER", 0},
	{SA_ONSTACK, "SA_ONSTACK", 0},
	{SA_RESTART, "SA_RESTART", 0},
	{SA_NODEFER, "SA_NODEFER", 0},
	{SA_RESETHAND, "SA_RESETHAND", 0},
}

// WaitOptions names the options of wait4(2) and waitid(2).
var WaitOptions = []FlagName{
	{unix.WNOHANG, "WNOHANG", 0},
	{unix.WUNTRACED, "WUNTRACED", 0},
	{unix.WEXITED, "WEXITED", 0},
	{unix.WCONTINUED, "WCONTINUED", 0},
	{unix.WNOWAIT, "WNOWAIT", 0},
	{unix.WNOTHREAD, "__WNOTHREAD", 0},
	{unix.WALL, "__WALL", 0},
	{unix.WCLONE, "__WCLONE", 0},
}

// FutexOps names futex(2) operations, without FUTEX_PRIVATE_FLAG and
// FUTEX_CLOCK_REALTIME (mask with FUTEX_CMD_MASK first).
var FutexOps = []FlagName{
	{FUTEX_WAIT, "FUTEX_WAIT", 0},
	{FUTEX_WAKE, "FUTEX_WAKE", 0},
	{FUTEX_FD, "FUTEX_FD", 0},
	{FUTEX_REQUEUE, "FUTEX_REQUEUE", 0},
	{FUTEX_CMP_REQUEUE, "FUTEX_CMP_REQUEUE", 0},
	{FUTEX_WAKE_OP, "FUTEX_WAKE_OP", 0},
	{FUTEX_LOCK_PI, "FUTEX_LOCK_PI", 0},
	{FUTEX_UNLOCK_PI, "FUTEX_UNLOCK_PI", 0},
	{FUTEX_TRYLOCK_PI, "FUTEX_TRYLOCK_PI", 0},
	{FUTEX_WAIT_BITSET, "FUTEX_WAIT_BITSET", 0},
	{FUTEX_WAKE_BITSET, "FUTEX_WAKE_BITSET", 0},
	{FUTEX_WAIT_REQUEUE_PI, "FUTEX_WAIT_REQUEUE_PI", 0},
	{FUTEX_CMP_REQUEUE_PI, "FUTEX_CMP_REQUEUE_PI", 0},
	{FUTEX_LOCK_PI2, "FUTEX_LOCK_PI2", 0},
}

// PrctlOptions names prctl(2) options.
var PrctlOptions = []FlagName{
	{unix.PR_SET_PDEATHSIG, "PR_SET_PDEATHSIG", 0},
	{unix.PR_GET_PDEATHSIG, "PR_GET_PDEATHSIG", 0},
	{unix.PR_GET_DUMPABLE, "PR_GET_DUMPABLE", 0},
	{unix.PR_SET_DUMPABLE, "PR_SET_DUMPABLE", 0},
	{unix.PR_GET_KEEPCAPS, "PR_GET_KEEPCAPS", 0},
	{unix.PR_SET_KEEPCAPS, "PR_SET_KEEPCAPS", 0},
	{unix.PR_GET_TIMING, "PR_GET_TIMING", 0},
	{unix.PR_SET_TIMING, "PR_SET_TIMING", 0},
	{unix.PR_SET_NAME, "PR_SET_NAME", 0},
	{unix.PR_GET_NAME, "PR_GET_NAME", 0},
	{unix.PR_GET_ENDIAN, "PR_GET_ENDIAN", 0},
	{unix.PR_SET_ENDIAN, "PR_SET_ENDIAN", 0},
	{unix.PR_GET_SECCOMP, "PR_GET_SECCOMP", 0},
	{unix.PR_SET_SECCOMP, "PR_SET_SECCOMP", 0},
	{unix.PR_CAPBSET_READ, "PR_CAPBSET_READ", 0},
	{unix.PR_CAPBSET_DROP, "PR_CAPBSET_DROP", 0},
	{unix.PR_GET_TSC, "PR_GET_TSC", 0},
	{unix.PR_SET_TSC, "PR_SET_TSC", 0},
	{unix.PR_GET_SECUREBITS, "PR_GET_SECUREBITS", 0},
	{unix.PR_SET_SECUREBITS, "PR_SET_SECUREBITS", 0},
	{unix.PR_SET_TIMERSLACK, "PR_SET_TIMERSLACK", 0},
	{unix.PR_GET_TIMERSLACK, "PR_GET_TIMERSLACK", 0},
	{unix.PR_TASK_PERF_EVENTS_DISABLE, "PR_TASK_PERF_EVENTS_DISABLE", 0},
	{unix.PR_TASK_PERF_EVENTS_ENABLE, "PR_TASK_PERF_EVENTS_ENABLE", 0},
	{unix.PR_MCE_KILL, "PR_MCE_KILL", 0},
	{unix.PR_MCE_KILL_GET, "PR_MCE_KILL_GET", 0},
	{unix.PR_SET_MM, "PR_SET_MM", 0},
	{unix.PR_SET_CHILD_SUBREAPER, "PR_SET_CHILD_SUBREAPER", 0},
	{unix.PR_GET_CHILD_SUBREAPER, "PR_GET_CHILD_SUBREAPER", 0},
	{unix.PR_SET_NO_NEW_PRIVS, "PR_SET_NO_NEW_PRIVS", 0},
	{unix.PR_GET_NO_NEW_PRIVS, "PR_GET_NO_NEW_PRIVS", 0},
	{unix.PR_GET_TID_ADDRESS, "PR_GET_TID_ADDRESS", 0},
	{unix.PR_SET_THP_DISABLE, "PR_SET_THP_DISABLE", 0},
	{unix.PR_GET_THP_DISABLE, "PR_GET_THP_DISABLE", 0},
	{unix.PR_SET_FP_MODE, "PR_SET_FP_MODE", 0},
	{unix.PR_GET_FP_MODE, "PR_GET_FP_MODE", 0},
	{unix.PR_CAP_AMBIENT, "PR_CAP_AMBIENT", 0},
	{unix.PR_GET_SPECULATION_CTRL, "PR_GET_SPECULATION_CTRL", 0},
	{unix.PR_SET_SPECULATION_CTRL, "PR_SET_SPECULATION_CTRL", 0},
	{unix.PR_SET_IO_FLUSHER, "PR_SET_IO_FLUSHER", 0},
	{unix.PR_GET_IO_FLUSHER, "PR_GET_IO_FLUSHER", 0},
	{unix.PR_SET_SYSCALL_USER_DISPATCH, "PR_SET_SYSCALL_USER_DISPATCH", 0},
	{unix.PR_SCHED_CORE, "PR_SCHED_CORE", 0},
	{unix.PR_SET_MDWE, "PR_SET_MDWE", 0},
	{unix.PR_GET_MDWE, "PR_GET_MDWE", 0},
	{unix.PR_SET_MEMORY_MERGE, "PR_SET_MEMORY_MERGE", 0},
	{unix.PR_GET_MEMORY_MERGE, "PR_GET_MEMORY_MERGE", 0},
	{unix.PR_GET_AUXV, "PR_GET_AUXV", 0},
	{unix.PR_SET_VMA, "PR_SET_VMA", 0},
	{unix.PR_SET_PTRACER, "PR_SET_PTRACER", 0},
}

// ArchPrctlCodes names arch_prctl(2) codes.
var ArchPrctlCodes = []FlagName{
	{ARCH_SET_GS, "ARCH_SET_GS", 0},
	{ARCH_SET_FS, "ARCH_SET_FS", 0},
	{ARCH_GET_FS, "ARCH_GET_FS", 0},
	{ARCH_GET_GS, "ARCH_GET_GS", 0},
	{ARCH_GET_CPUID, "ARCH_GET_CPUID", 0},
	{ARCH_SET_CPUID, "ARCH_SET_CPUID", 0},
	{ARCH_GET_XCOMP_SUPP, "ARCH_GET_XCOMP_SUPP", 0},
	{ARCH_GET_XCOMP_PERM, "ARCH_GET_XCOMP_PERM", 0},
	{ARCH_REQ_XCOMP_PERM, "ARCH_REQ_XCOMP_PERM", 0},
	{ARCH_GET_XCOMP_GUEST_PERM, "ARCH_GET_XCOMP_GUEST_PERM", 0},
	{ARCH_REQ_XCOMP_GUEST_PERM, "ARCH_REQ_XCOMP_GUEST_PERM", 0},
	{ARCH_MAP_VDSO_X32, "ARCH_MAP_VDSO_X32", 0},
	{ARCH_MAP_VDSO_32, "ARCH_MAP_VDSO_32", 0},
	{ARCH_MAP_VDSO_64, "ARCH_MAP_VDSO_64", 0},
	{ARCH_GET_UNTAG_MASK, "ARCH_GET_UNTAG_MASK", 0},
	{ARCH_ENABLE_TAGGED_ADDR, "ARCH_ENABLE_TAGGED_ADDR", 0},
	{ARCH_GET_MAX_TAG_BITS, "ARCH_GET_MAX_TAG_BITS", 0},
	{ARCH_FORCE_TAGGED_SVA, "ARCH_FORCE_TAGGED_SVA", 0},
	{ARCH_SHSTK_ENABLE, "ARCH_SHSTK_ENABLE", 0},
	{ARCH_SHSTK_DISABLE, "ARCH_SHSTK_DISABLE", 0},
	{ARCH_SHSTK_LOCK, "ARCH_SHSTK_LOCK", 0},
	{ARCH_SHSTK_UNLOCK, "ARCH_SHSTK_UNLOCK", 0},
	{ARCH_SHSTK_STATUS, "ARCH_SHSTK_STATUS", 0},
}

// SeekWhence names lseek(2)'s whence argument.
var SeekWhence = []FlagName{
	{unix.SEEK_SET, "SEEK_SET", 0},
	{unix.SEEK_CUR, "SEEK_CUR", 0},
	{unix.SEEK_END, "SEEK_END", 0},
	{unix.SEEK_DATA, "SEEK_DATA", 0},
	{unix.SEEK_HOLE, "SEEK_HOLE", 0},
}

// SocketFamilies names the common address families of socket(2).
var SocketFamilies = []FlagName{
	{unix.AF_UNSPEC, "AF_UNSPEC", 0},
	{unix.AF_UNIX, "AF_UNIX", 0},
	{unix.AF_INET, "AF_INET", 0},
	{unix.AF_INET6, "AF_INET6", 0},
	{unix.AF_NETLINK, "AF_NETLINK", 0},
	{unix.AF_PACKET, "AF_PACKET", 0},
	{unix.AF_VSOCK, "AF_VSOCK", 0},
	{unix.AF_ALG, "AF_ALG", 0},
}

// SocketTypes names socket(2)'s type argument: a type in the low bits plus
// SOCK_NONBLOCK and SOCK_CLOEXEC.
var SocketTypes = []FlagName{
	{unix.SOCK_STREAM, "SOCK_STREAM", 0xf},
	{unix.SOCK_DGRAM, "SOCK_DGRAM", 0xf},
	{unix.SOCK_RAW, "SOCK_RAW", 0xf},
	{unix.SOCK_RDM, "SOCK_RDM", 0xf},
	{unix.SOCK_SEQPACKET, "SOCK_SEQPACKET", 0xf},
	{unix.SOCK_DCCP, "SOCK_DCCP", 0xf},
	{unix.SOCK_PACKET, "SOCK_PACKET", 0xf},
	{unix.SOCK_NONBLOCK, "SOCK_NONBLOCK", 0},
	{unix.SOCK_CLOEXEC, "SOCK_CLOEXEC", 0},
}

// ClockIDs names the clocks of clock_gettime(2) and friends.
var ClockIDs = []FlagName{
	{unix.CLOCK_REALTIME, "CLOCK_REALTIME", 0},
	{unix.CLOCK_MONOTONIC, "CLOCK_MONOTONIC", 0},
	{unix.CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID", 0},
	{unix.CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID", 0},
	{unix.CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW", 0},
	{unix.CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE", 0},
	{unix.CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE", 0},
	{unix.CLOCK_BOOTTIME, "CLOCK_BOOTTIME", 0},
	{unix.CLOCK_REALTIME_ALARM, "CLOCK_REALTIME_ALARM", 0},
	{unix.CLOCK_BOOTTIME_ALARM, "CLOCK_BOOTTIME_ALARM", 0},
	{unix.CLOCK_TAI, "CLOCK_TAI", 0},
}

// EpollCtlOps names epoll_ctl(2) operations.
var EpollCtlOps = []FlagName{
	{unix.EPOLL_CTL_ADD, "EPOLL_CTL_ADD", 0},
	{unix.EPOLL_CTL_DEL, "EPOLL_CTL_DEL", 0},
	{unix.EPOLL_CTL_MOD, "EPOLL_CTL_MOD", 0},
}

// PollEvents names poll(2) event bits.
var PollEvents = []FlagName{
	{unix.POLLIN, "POLLIN", 0},
	{unix.POLLPRI, "POLLPRI", 0},
	{unix.POLLOUT, "POLLOUT", 0},
	{unix.POLLERR, "POLLERR", 0},
	{unix.POLLHUP, "POLLHUP", 0},
	{unix.POLLNVAL, "POLLNVAL", 0},
	{0x40, "POLLRDNORM", 0},
	{0x80, "POLLRDBAND", 0},
	{0x100, "POLLWRNORM", 0},
	{0x200, "POLLWRBAND", 0},
	{0x400, "POLLMSG", 0},
	{unix.POLLRDHUP, "POLLRDHUP", 0},
}
