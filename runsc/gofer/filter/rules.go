package filter

import (
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/runsc/seccomp"
)

// atFDCWD is AT_FDCWD as the kernel reads a dirfd argument: an int, so
// the low 32 bits of the register.
const atFDCWD = uint32(0xffff_ff9c)

// relative is the condition that argument arg, a dirfd, is a descriptor
// and not AT_FDCWD: the gofer resolves nothing from its working directory.
func relative(arg int) seccomp.Cond { return seccomp.NotIn32(arg, atFDCWD) }

// oTmpfileBit is __O_TMPFILE, the bit that O_TMPFILE adds to O_DIRECTORY.
const oTmpfileBit = unix.O_TMPFILE &^ unix.O_DIRECTORY

// openatFlags returns the condition on openat's flags: O_NOFOLLOW always,
// never O_TRUNC or O_TMPFILE, and O_CREAT only with O_EXCL for a writable
// server (never for a read-only one).
func openatFlags(readOnly bool) seccomp.Cond {
	const mask = unix.O_NOFOLLOW | unix.O_CREAT | unix.O_EXCL | unix.O_TRUNC | oTmpfileBit
	if readOnly {
		return seccomp.Masked32(2, mask, unix.O_NOFOLLOW)
	}
	return seccomp.Masked32(2, mask, unix.O_NOFOLLOW, unix.O_NOFOLLOW|unix.O_CREAT|unix.O_EXCL)
}

// fcntlCommands are the fcntl(2) commands the gofer uses after start-up:
// clearing O_NONBLOCK on a file it re-opened (package gofer's reopen).
var fcntlCommands = []uint32{unix.F_GETFL, unix.F_SETFL}

// commonRules are allowed for every gofer: serving a read-only tree and
// running the Go runtime. The filter tests rules in order, so the calls
// seen most often come first (counts from a gofer traced while a sandbox
// listed, read and ran programs from its root).
func commonRules(readOnly bool) []seccomp.Rule {
	return []seccomp.Rule{
		{Name: "nanosleep", Nr: unix.SYS_NANOSLEEP, Action: seccomp.Allow,
			Why: "Go runtime usleep"},
		{Name: "futex", Nr: unix.SYS_FUTEX, Action: seccomp.Allow,
			Why: "Go runtime: locks and thread parking"},
		{Name: "epoll_pwait", Nr: unix.SYS_EPOLL_PWAIT, Action: seccomp.Allow,
			Why: "Go runtime network poller waits on the socket"},
		{Name: "recvmsg", Nr: unix.SYS_RECVMSG, Action: seccomp.Allow,
			Why: "gofer protocol: requests from the Sentry"},
		{Name: "sendmsg", Nr: unix.SYS_SENDMSG, Action: seccomp.Allow,
			Why: "gofer protocol: responses, descriptors donated with SCM_RIGHTS"},
		{Name: "openat", Nr: unix.SYS_OPENAT, Action: seccomp.Allow, Else: seccomp.Errno(unix.EPERM),
			Conds: []seccomp.Cond{relative(0), openatFlags(readOnly)},
			Why:   "one validated component relative to a node's descriptor, never following a symlink; otherwise EPERM"},
		{Name: "fstat", Nr: unix.SYS_FSTAT, Action: seccomp.Allow,
			Why: "attributes of nodes and checks that a re-opened file is the node's inode"},
		{Name: "close", Nr: unix.SYS_CLOSE, Action: seccomp.Allow,
			Why: "releasing nodes and donated descriptors"},
		{Name: "sched_yield", Nr: unix.SYS_SCHED_YIELD, Action: seccomp.Allow,
			Why: "Go runtime spinning"},
		{Name: "fcntl", Nr: unix.SYS_FCNTL, Action: seccomp.Allow, Conds: []seccomp.Cond{seccomp.In32(1, fcntlCommands...)},
			Why: "F_GETFL/F_SETFL: clearing O_NONBLOCK on a re-opened file"},
		{Name: "sched_getaffinity", Nr: unix.SYS_SCHED_GETAFFINITY, Action: seccomp.Allow,
			Why: "Go runtime recomputes GOMAXPROCS (sysmon)"},
		{Name: "pread64", Nr: unix.SYS_PREAD64, Action: seccomp.Allow,
			Why: "Go runtime rereads cgroup CPU limits through descriptors opened at start-up"},
		{Name: "mmap", Nr: unix.SYS_MMAP, Action: seccomp.Allow,
			Why: "Go heap"},
		{Name: "rt_sigprocmask", Nr: unix.SYS_RT_SIGPROCMASK, Action: seccomp.Allow,
			Why: "Go runtime"},
		{Name: "sigaltstack", Nr: unix.SYS_SIGALTSTACK, Action: seccomp.Allow,
			Why: "Go runtime, on each new thread"},
		{Name: "gettid", Nr: unix.SYS_GETTID, Action: seccomp.Allow,
			Why: "Go runtime"},
		{Name: "tgkill", Nr: unix.SYS_TGKILL, Action: seccomp.Allow,
			Why: "Go runtime preemption (SIGURG)"},
		{Name: "rt_sigreturn", Nr: unix.SYS_RT_SIGRETURN, Action: seccomp.Allow,
			Why: "Go runtime signal handlers"},
		{Name: "restart_syscall", Nr: unix.SYS_RESTART_SYSCALL, Action: seccomp.Allow,
			Why: "the kernel restarts an interrupted sleep"},
		{Name: "getpid", Nr: unix.SYS_GETPID, Action: seccomp.Allow,
			Why: "Go runtime, with tgkill"},
		{Name: "clone", Nr: unix.SYS_CLONE, Action: seccomp.Allow,
			Conds: []seccomp.Cond{seccomp.In64(0, seccomp.GoThreadCloneFlags|unix.CLONE_SETTLS, seccomp.GoThreadCloneFlags)},
			Why:   "Go runtime starts threads; forking and new namespaces are not allowed"},
		{Name: "readlinkat", Nr: unix.SYS_READLINKAT, Action: seccomp.Allow, Conds: []seccomp.Cond{relative(0)},
			Why: "Readlink: the target of a symlink node, read through its O_PATH descriptor with an empty path"},

		// Not seen in that trace but needed: the rest of the Go
		// runtime, and the end of the process.
		{Name: "read", Nr: unix.SYS_READ, Action: seccomp.Allow,
			Why: "Go runtime poller drains its wake-up eventfd"},
		{Name: "write", Nr: unix.SYS_WRITE, Action: seccomp.Allow,
			Why: "Go runtime poller wake-ups (eventfd); errors and panics on stderr"},
		{Name: "epoll_ctl", Nr: unix.SYS_EPOLL_CTL, Action: seccomp.Allow,
			Why: "Go runtime poller: the socket is deregistered when the connection closes"},
		{Name: "munmap", Nr: unix.SYS_MUNMAP, Action: seccomp.Allow,
			Why: "Go heap"},
		{Name: "madvise", Nr: unix.SYS_MADVISE, Action: seccomp.Allow,
			Why: "Go heap scavenger"},
		{Name: "mprotect", Nr: unix.SYS_MPROTECT, Action: seccomp.Allow,
			Why: "Go runtime"},
		{Name: "rt_sigaction", Nr: unix.SYS_RT_SIGACTION, Action: seccomp.Allow,
			Why: "Go runtime"},
		{Name: "getrandom", Nr: unix.SYS_GETRANDOM, Action: seccomp.Allow,
			Why: "Go runtime (map seeds, crypto/rand)"},
		{Name: "clock_gettime", Nr: unix.SYS_CLOCK_GETTIME, Action: seccomp.Allow,
			Why: "time, when the vDSO cannot answer"},
		{Name: "exit", Nr: unix.SYS_EXIT, Action: seccomp.Allow,
			Why: "Go runtime thread exit"},
		{Name: "exit_group", Nr: unix.SYS_EXIT_GROUP, Action: seccomp.Allow,
			Why: "the gofer exits when the Sentry closes its end"},
		{Name: "prctl", Nr: unix.SYS_PRCTL, Action: seccomp.Allow, Conds: []seccomp.Cond{seccomp.In32(0, unix.PR_SET_VMA)}, Else: seccomp.Errno(unix.EPERM),
			Why: "Go runtime names its mappings (PR_SET_VMA_ANON_NAME); other options fail with EPERM"},
		{Name: "clone3", Nr: unix.SYS_CLONE3, Action: seccomp.Errno(unix.ENOSYS),
			Why: "its flags live in memory the filter cannot read; ENOSYS makes callers fall back to clone"},

		// Path calls that must fail cleanly, as in the Sentry.
		{Name: "open", Nr: unix.SYS_OPEN, Action: seccomp.Errno(unix.EPERM),
			Why: "the gofer resolves no path from its working directory"},
		{Name: "creat", Nr: unix.SYS_CREAT, Action: seccomp.Errno(unix.EPERM),
			Why: "the gofer resolves no path from its working directory"},
		{Name: "openat2", Nr: unix.SYS_OPENAT2, Action: seccomp.Errno(unix.EPERM),
			Why: "its flags live in memory the filter cannot read; the gofer uses openat"},
	}
}

// writableRules are allowed only for a writable server: the mutations of
// package gofer's ops.go, each relative to a node's descriptor and with
// exactly the flags the server passes.
var writableRules = []seccomp.Rule{
	{Name: "mkdirat", Nr: unix.SYS_MKDIRAT, Action: seccomp.Allow, Conds: []seccomp.Cond{relative(0)},
		Why: "Mkdir"},
	{Name: "symlinkat", Nr: unix.SYS_SYMLINKAT, Action: seccomp.Allow, Conds: []seccomp.Cond{relative(1)},
		Why: "Symlink"},
	{Name: "linkat", Nr: unix.SYS_LINKAT, Action: seccomp.Allow,
		Conds: []seccomp.Cond{relative(0), relative(2), seccomp.In32(4, 0, unix.AT_EMPTY_PATH)},
		Why:   "Link, by descriptor (AT_EMPTY_PATH) or by parent and name; never AT_SYMLINK_FOLLOW"},
	{Name: "unlinkat", Nr: unix.SYS_UNLINKAT, Action: seccomp.Allow,
		Conds: []seccomp.Cond{relative(0), seccomp.In32(2, 0, unix.AT_REMOVEDIR)},
		Why:   "Unlink; undoing a failed Create, Mkdir or Symlink"},
	{Name: "renameat2", Nr: unix.SYS_RENAMEAT2, Action: seccomp.Allow,
		Conds: []seccomp.Cond{relative(0), relative(2), seccomp.In32(4, 0, unix.RENAME_NOREPLACE, unix.RENAME_EXCHANGE)},
		Why:   "Rename (RENAME_WHITEOUT is not allowed)"},
	{Name: "fchownat", Nr: unix.SYS_FCHOWNAT, Action: seccomp.Allow,
		Conds: []seccomp.Cond{relative(0), seccomp.In32(4, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)},
		Why:   "SetAttr, Create, Mkdir, Symlink: owner of exactly a node's file"},
	{Name: "fchmodat2", Nr: unix.SYS_FCHMODAT2, Action: seccomp.Allow,
		Conds: []seccomp.Cond{relative(0), seccomp.In32(3, unix.AT_EMPTY_PATH)},
		Why:   "SetAttr: mode of exactly a node's file through its O_PATH descriptor"},
	{Name: "fchmodat", Nr: unix.SYS_FCHMODAT, Action: seccomp.Allow, Conds: []seccomp.Cond{relative(0)},
		Why: "Mkdir, SetAttr of a directory: fchmodat(fd, \".\") through the directory's own descriptor"},
	{Name: "fchmod", Nr: unix.SYS_FCHMOD, Action: seccomp.Allow,
		Why: "Create, SetAttr of a regular file: mode through an open descriptor"},
	{Name: "utimensat", Nr: unix.SYS_UTIMENSAT, Action: seccomp.Allow,
		Conds: []seccomp.Cond{relative(0), seccomp.In32(3, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)},
		Why:   "SetAttr: times of exactly a node's file"},
	{Name: "ftruncate", Nr: unix.SYS_FTRUNCATE, Action: seccomp.Allow,
		Why: "Open with O_TRUNC and SetAttr of the size, once the descriptor is checked to be the node's file"},
}

// Rules returns the gofer's filter rules in the order the filter tests
// them, for a read-only or a writable server. Calls not listed kill the
// process.
func Rules(readOnly bool) []seccomp.Rule {
	rules := commonRules(readOnly)
	if !readOnly {
		rules = append(rules, writableRules...)
	}
	return rules
}
