package filter

import (
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/runsc/seccomp"
)

// Ptrace requests the ptrace platform makes of its stubs, and the few more
// a tracer of stopped stubs naturally needs (register sets, interrupting
// and detaching). PTRACE_TRACEME, PTRACE_PEEK* and PTRACE_ATTACH are not
// among them: stubs are seized, and guest memory is reached through the
// memory file. PTRACE_POKEDATA writes a stub's own pages outside guest
// memory (its name slot and command line, platform/ptrace/title.go); it
// reaches only tracees, which the Sentry already drives register by
// register.
var ptraceRequests = []uint64{
	unix.PTRACE_GETREGS,
	unix.PTRACE_SETREGS,
	unix.PTRACE_GETFPREGS,
	unix.PTRACE_SETFPREGS,
	unix.PTRACE_GETREGSET,
	unix.PTRACE_SETREGSET,
	unix.PTRACE_GETSIGINFO,
	unix.PTRACE_SETSIGINFO,
	unix.PTRACE_SETOPTIONS,
	unix.PTRACE_SEIZE,
	unix.PTRACE_INTERRUPT,
	unix.PTRACE_DETACH,
	unix.PTRACE_CONT,
	unix.PTRACE_SYSEMU,
	unix.PTRACE_SYSEMU_SINGLESTEP,
	unix.PTRACE_POKEDATA,
}

// Terminal ioctls the Sentry passes through to host descriptors
// (vfs/host). TIOCSTI, which pushes input into a terminal, is deliberately
// absent.
var ioctlRequests = []uint32{
	unix.TCGETS, unix.TCSETS, unix.TCSETSW, unix.TCSETSF,
	unix.TIOCGWINSZ, unix.TIOCSWINSZ,
	unix.TIOCGPGRP, unix.TIOCSPGRP,
	unix.TIOCINQ, // FIONREAD
}

// sentryRules is the allow-list. The filter tests rules in order, so the
// calls seen most often come first.
var sentryRules = []seccomp.Rule{
	// Seen in real runs (a shell, ls, python3, pipes and dd in the
	// sandbox, traced after start-up), most frequent first.
	{Name: "ptrace", Nr: unix.SYS_PTRACE, Action: seccomp.Allow, Conds: []seccomp.Cond{seccomp.In64(0, ptraceRequests...)},
		Why: "platform/ptrace drives its stubs; the pid namespace holds only the sandbox's own processes"},
	{Name: "futex", Nr: unix.SYS_FUTEX, Action: seccomp.Allow,
		Why: "Go runtime: locks and thread parking"},
	{Name: "rt_sigreturn", Nr: unix.SYS_RT_SIGRETURN, Action: seccomp.Allow,
		Why: "Go runtime signal handlers (preemption, platform kicks)"},
	{Name: "wait4", Nr: unix.SYS_WAIT4, Action: seccomp.Allow,
		Why: "platform/ptrace waits for stub stops"},
	{Name: "fstat", Nr: unix.SYS_FSTAT, Action: seccomp.Allow,
		Why: "attributes of donated descriptors and the memory file"},
	{Name: "getcpu", Nr: unix.SYS_GETCPU, Action: seccomp.Allow,
		Why: "platform/ptrace keeps a stub on its tracer's CPU"},
	{Name: "nanosleep", Nr: unix.SYS_NANOSLEEP, Action: seccomp.Allow,
		Why: "Go runtime usleep"},
	{Name: "epoll_pwait", Nr: unix.SYS_EPOLL_PWAIT, Action: seccomp.Allow,
		Why: "Go runtime network poller"},
	{Name: "recvmsg", Nr: unix.SYS_RECVMSG, Action: seccomp.Allow,
		Why: "gofer protocol, donated descriptors (SCM_RIGHTS)"},
	{Name: "pread64", Nr: unix.SYS_PREAD64, Action: seccomp.Allow,
		Why: "I/O on donated files; Go runtime rereads cgroup CPU limits"},
	{Name: "gettid", Nr: unix.SYS_GETTID, Action: seccomp.Allow,
		Why: "Go runtime; platform records its tracer threads"},
	{Name: "fallocate", Nr: unix.SYS_FALLOCATE, Action: seccomp.Allow,
		Why: "memory file: punching holes to free pages"},
	{Name: "sendmsg", Nr: unix.SYS_SENDMSG, Action: seccomp.Allow,
		Why: "gofer protocol"},
	{Name: "sched_setaffinity", Nr: unix.SYS_SCHED_SETAFFINITY, Action: seccomp.Allow,
		Why: "platform/ptrace pins stub threads"},
	{Name: "close", Nr: unix.SYS_CLOSE, Action: seccomp.Allow,
		Why: "descriptors"},
	{Name: "tgkill", Nr: unix.SYS_TGKILL, Action: seccomp.Allow,
		Why: "Go runtime preemption (SIGURG); platform kicks a tracer thread"},
	{Name: "getpid", Nr: unix.SYS_GETPID, Action: seccomp.Allow,
		Why: "Go runtime, with tgkill"},
	{Name: "restart_syscall", Nr: unix.SYS_RESTART_SYSCALL, Action: seccomp.Allow,
		Why: "the kernel restarts an interrupted sleep"},
	{Name: "sched_yield", Nr: unix.SYS_SCHED_YIELD, Action: seccomp.Allow,
		Why: "Go runtime spinning"},
	{Name: "readlinkat", Nr: unix.SYS_READLINKAT, Action: seccomp.Allow,
		Why: "vfs/gofer reads symlinks through O_PATH descriptors with an empty path; it opens nothing"},
	{Name: "madvise", Nr: unix.SYS_MADVISE, Action: seccomp.Allow,
		Why: "Go heap scavenger"},
	{Name: "read", Nr: unix.SYS_READ, Action: seccomp.Allow,
		Why: "I/O on donated descriptors, pipes and eventfds"},
	{Name: "write", Nr: unix.SYS_WRITE, Action: seccomp.Allow,
		Why: "I/O on donated descriptors, pipes and eventfds; logs"},
	{Name: "rt_sigprocmask", Nr: unix.SYS_RT_SIGPROCMASK, Action: seccomp.Allow,
		Why: "Go runtime"},
	{Name: "kill", Nr: unix.SYS_KILL, Action: seccomp.Allow,
		Why: "platform/ptrace kills stubs"},
	{Name: "pidfd_open", Nr: unix.SYS_PIDFD_OPEN, Action: seccomp.Allow,
		Why: "the systrap platform takes a new stub's area memfd and pipe end with pidfd_getfd"},
	{Name: "pidfd_getfd", Nr: unix.SYS_PIDFD_GETFD, Action: seccomp.Allow,
		Why: "the systrap platform takes a new stub's area memfd and pipe end (the stub is its tracee then)"},
	{Name: "sigaltstack", Nr: unix.SYS_SIGALTSTACK, Action: seccomp.Allow,
		Why: "Go runtime"},
	{Name: "ioctl", Nr: unix.SYS_IOCTL, Action: seccomp.Allow, Conds: []seccomp.Cond{seccomp.In32(1, ioctlRequests...)},
		Why: "vfs/host passes terminal ioctls through; TIOCSTI and all others kill"},
	{Name: "getdents64", Nr: unix.SYS_GETDENTS64, Action: seccomp.Allow,
		Why: "reading a donated directory"},
	{Name: "clone", Nr: unix.SYS_CLONE, Action: seccomp.Allow, Conds: []seccomp.Cond{seccomp.In64(0, seccomp.GoThreadCloneFlags|unix.CLONE_SETTLS, seccomp.GoThreadCloneFlags)},
		Why: "Go runtime starts threads; forking is not allowed"},
	{Name: "exit", Nr: unix.SYS_EXIT, Action: seccomp.Allow,
		Why: "Go runtime thread exit"},
	{Name: "sched_getaffinity", Nr: unix.SYS_SCHED_GETAFFINITY, Action: seccomp.Allow,
		Why: "Go runtime recomputes GOMAXPROCS (sysmon)"},
	{Name: "sysinfo", Nr: unix.SYS_SYSINFO, Action: seccomp.Allow,
		Why: "guest sysinfo(2) reports the host's memory figures"},
	{Name: "pwrite64", Nr: unix.SYS_PWRITE64, Action: seccomp.Allow,
		Why: "I/O on donated files"},
	{Name: "mmap", Nr: unix.SYS_MMAP, Action: seccomp.Allow,
		Why: "Go heap; mapping the memory file and donated files"},
	{Name: "lseek", Nr: unix.SYS_LSEEK, Action: seccomp.Allow,
		Why: "I/O on donated files"},
	{Name: "mincore", Nr: unix.SYS_MINCORE, Action: seccomp.Allow,
		Why: "memory file: counting resident pages for /proc (VmRSS)"},
	{Name: "membarrier", Nr: unix.SYS_MEMBARRIER, Action: seccomp.Allow,
		Conds: []seccomp.Cond{seccomp.In32(0, 0, 1), seccomp.In32(1, 0)},
		Why:   "guest membarrier(2): MEMBARRIER_CMD_QUERY and _GLOBAL reach every guest thread (platform/ptrace)"},
	{Name: "getrandom", Nr: unix.SYS_GETRANDOM, Action: seccomp.Allow,
		Why: "Go runtime and guest getrandom"},
	{Name: "getrlimit", Nr: unix.SYS_GETRLIMIT, Action: seccomp.Allow,
		Why: "boot reads the host limits for the first process"},

	// Not seen in those runs but needed: the Go runtime's other calls,
	// and calls on host descriptors that other workloads make.
	{Name: "exit_group", Nr: unix.SYS_EXIT_GROUP, Action: seccomp.Allow,
		Why: "the sandbox exits"},
	{Name: "rt_sigaction", Nr: unix.SYS_RT_SIGACTION, Action: seccomp.Allow,
		Why: "Go runtime, os/signal"},
	{Name: "munmap", Nr: unix.SYS_MUNMAP, Action: seccomp.Allow,
		Why: "Go heap; memory file"},
	{Name: "mprotect", Nr: unix.SYS_MPROTECT, Action: seccomp.Allow,
		Why: "Go runtime"},
	{Name: "prctl", Nr: unix.SYS_PRCTL, Action: seccomp.Allow, Conds: []seccomp.Cond{seccomp.In32(0, unix.PR_SET_VMA)}, Else: seccomp.Errno(unix.EPERM),
		Why: "Go runtime names its mappings (PR_SET_VMA_ANON_NAME); other options fail with EPERM"},
	{Name: "clone3", Nr: unix.SYS_CLONE3, Action: seccomp.Errno(unix.ENOSYS),
		Why: "its flags live in memory the filter cannot read; ENOSYS makes callers fall back to clone"},
	{Name: "epoll_wait", Nr: unix.SYS_EPOLL_WAIT, Action: seccomp.Allow,
		Why: "vfs/host waits on host descriptors"},
	{Name: "epoll_ctl", Nr: unix.SYS_EPOLL_CTL, Action: seccomp.Allow,
		Why: "Go runtime poller; vfs/host"},
	{Name: "epoll_create1", Nr: unix.SYS_EPOLL_CREATE1, Action: seccomp.Allow,
		Why: "vfs/host waits on host descriptors"},
	{Name: "eventfd2", Nr: unix.SYS_EVENTFD2, Action: seccomp.Allow,
		Why: "Go runtime poller wake-ups"},
	{Name: "clock_gettime", Nr: unix.SYS_CLOCK_GETTIME, Action: seccomp.Allow,
		Why: "time, when the vDSO cannot answer"},
	{Name: "ftruncate", Nr: unix.SYS_FTRUNCATE, Action: seccomp.Allow,
		Why: "memory file; truncating donated files"},
	{Name: "readv", Nr: unix.SYS_READV, Action: seccomp.Allow,
		Why: "I/O on donated descriptors"},
	{Name: "writev", Nr: unix.SYS_WRITEV, Action: seccomp.Allow,
		Why: "I/O on donated descriptors"},
	{Name: "preadv", Nr: unix.SYS_PREADV, Action: seccomp.Allow,
		Why: "I/O on donated files"},
	{Name: "pwritev", Nr: unix.SYS_PWRITEV, Action: seccomp.Allow,
		Why: "I/O on donated files"},
	{Name: "fsync", Nr: unix.SYS_FSYNC, Action: seccomp.Allow,
		Why: "guest fsync of a donated file"},
	{Name: "fdatasync", Nr: unix.SYS_FDATASYNC, Action: seccomp.Allow,
		Why: "guest fdatasync of a donated file"},
	{Name: "fcntl", Nr: unix.SYS_FCNTL, Action: seccomp.Allow,
		Why: "flags and duplication of descriptors"},
	{Name: "dup", Nr: unix.SYS_DUP, Action: seccomp.Allow,
		Why: "descriptors"},
	{Name: "dup3", Nr: unix.SYS_DUP3, Action: seccomp.Allow,
		Why: "descriptors"},
	{Name: "poll", Nr: unix.SYS_POLL, Action: seccomp.Allow,
		Why: "vfs/host readiness of host descriptors"},
	{Name: "ppoll", Nr: unix.SYS_PPOLL, Action: seccomp.Allow,
		Why: "readiness of host descriptors"},
	{Name: "pipe2", Nr: unix.SYS_PIPE2, Action: seccomp.Allow,
		Why: "anonymous pipes; no path"},
	{Name: "sendto", Nr: unix.SYS_SENDTO, Action: seccomp.Allow,
		Why: "writes on connected sockets"},
	{Name: "recvfrom", Nr: unix.SYS_RECVFROM, Action: seccomp.Allow,
		Why: "reads on connected sockets"},
	{Name: "shutdown", Nr: unix.SYS_SHUTDOWN, Action: seccomp.Allow,
		Why: "closing the gofer connection"},
	{Name: "getsockopt", Nr: unix.SYS_GETSOCKOPT, Action: seccomp.Allow,
		Why: "gofer protocol checks its socket type"},
	{Name: "accept4", Nr: unix.SYS_ACCEPT4, Action: seccomp.Allow,
		Why: "control socket (containers): connections from runsc"},
	{Name: "getsockname", Nr: unix.SYS_GETSOCKNAME, Action: seccomp.Allow,
		Why: "control socket: Go's net.FileListener names the inherited socket"},
	{Name: "getpeername", Nr: unix.SYS_GETPEERNAME, Action: seccomp.Allow,
		Why: "control socket: Go names an accepted connection's peer"},
	{Name: "prlimit64", Nr: unix.SYS_PRLIMIT64, Action: seccomp.Allow, Conds: []seccomp.Cond{seccomp.In64(2, 0)},
		Why: "reading limits only: the new-limit pointer must be NULL"},

	// Path calls that must fail cleanly: the invariant this filter exists
	// for. Other path calls (execve, mount, chroot, stat, ...) kill.
	{Name: "open", Nr: unix.SYS_OPEN, Action: seccomp.Errno(unix.EPERM),
		Why: "the Sentry opens no host path after start-up"},
	{Name: "openat", Nr: unix.SYS_OPENAT, Action: seccomp.Errno(unix.EPERM),
		Why: "the Sentry opens no host path after start-up"},
	{Name: "openat2", Nr: unix.SYS_OPENAT2, Action: seccomp.Errno(unix.EPERM),
		Why: "the Sentry opens no host path after start-up"},
	{Name: "creat", Nr: unix.SYS_CREAT, Action: seccomp.Errno(unix.EPERM),
		Why: "the Sentry opens no host path after start-up"},
}

// Rules returns the Sentry's filter rules in the order the filter tests
// them. Calls not listed kill the process. linkFDs are the packet sockets
// of the sandbox's network links (--network=sandbox): recvmmsg and
// sendmmsg are allowed on exactly those descriptors, non-blocking, and
// come first (they carry every packet); without links they kill.
func Rules(linkFDs ...int) []seccomp.Rule {
	var out []seccomp.Rule
	if len(linkFDs) > 0 {
		fds := make([]uint32, len(linkFDs))
		for i, fd := range linkFDs {
			fds[i] = uint32(fd)
		}
		out = append(out,
			seccomp.Rule{Name: "recvmmsg", Nr: unix.SYS_RECVMMSG, Action: seccomp.Allow,
				Conds: []seccomp.Cond{seccomp.In32(0, fds...), seccomp.In32(3, unix.MSG_DONTWAIT), seccomp.In64(4, 0)},
				Why:   "netstack reads frames from the links' packet sockets (netstack.PacketSocket)"},
			seccomp.Rule{Name: "sendmmsg", Nr: unix.SYS_SENDMMSG, Action: seccomp.Allow,
				Conds: []seccomp.Cond{seccomp.In32(0, fds...), seccomp.In32(3, unix.MSG_DONTWAIT)},
				Why:   "netstack writes frames to the links' packet sockets"})
	}
	return append(out, sentryRules...)
}
