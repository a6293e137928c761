package linux

import "strconv"

// MaxSyscallNumber is the highest amd64 system call number this package
// knows.
const MaxSyscallNumber = 471

// syscallInfo describes one amd64 system call.
type syscallInfo struct {
	name  string
	nargs int
}

// syscalls is indexed by amd64 system call number. Linux:
// arch/x86/entry/syscalls/syscall_64.tbl. Numbers 335..423 are unused
// except 335 and 336.
var syscalls = [MaxSyscallNumber + 1]syscallInfo{
	0: {"read", 3}, {"write", 3}, {"open", 3}, {"close", 1}, {"stat", 2},
	5: {"fstat", 2}, {"lstat", 2}, {"poll", 3}, {"lseek", 3}, {"mmap", 6},
	10: {"mprotect", 3}, {"munmap", 2}, {"brk", 1}, {"rt_sigaction", 4}, {"rt_sigprocmask", 4},
	15: {"rt_sigreturn", 0}, {"ioctl", 3}, {"pread64", 4}, {"pwrite64", 4}, {"readv", 3},
	20: {"writev", 3}, {"access", 2}, {"pipe", 1}, {"select", 5}, {"sched_yield", 0},
	25: {"mremap", 5}, {"msync", 3}, {"mincore", 3}, {"madvise", 3}, {"shmget", 3},
	30: {"shmat", 3}, {"shmctl", 3}, {"dup", 1}, {"dup2", 2}, {"pause", 0},
	35: {"nanosleep", 2}, {"getitimer", 2}, {"alarm", 1}, {"setitimer", 3}, {"getpid", 0},
	40: {"sendfile", 4}, {"socket", 3}, {"connect", 3}, {"accept", 3}, {"sendto", 6},
	45: {"recvfrom", 6}, {"sendmsg", 3}, {"recvmsg", 3}, {"shutdown", 2}, {"bind", 3},
	50: {"listen", 2}, {"getsockname", 3}, {"getpeername", 3}, {"socketpair", 4}, {"setsockopt", 5},
	55: {"getsockopt", 5}, {"clone", 5}, {"fork", 0}, {"vfork", 0}, {"execve", 3},
	60: {"exit", 1}, {"wait4", 4}, {"kill", 2}, {"uname", 1}, {"semget", 3},
	65: {"semop", 3}, {"semctl", 4}, {"shmdt", 1}, {"msgget", 2}, {"msgsnd", 4},
	70: {"msgrcv", 5}, {"msgctl", 3}, {"fcntl", 3}, {"flock", 2}, {"fsync", 1},
	75: {"fdatasync", 1}, {"truncate", 2}, {"ftruncate", 2}, {"getdents", 3}, {"getcwd", 2},
	80: {"chdir", 1}, {"fchdir", 1}, {"rename", 2}, {"mkdir", 2}, {"rmdir", 1},
	85: {"creat", 2}, {"link", 2}, {"unlink", 1}, {"symlink", 2}, {"readlink", 3},
	90: {"chmod", 2}, {"fchmod", 2}, {"chown", 3}, {"fchown", 3}, {"lchown", 3},
	95: {"umask", 1}, {"gettimeofday", 2}, {"getrlimit", 2}, {"getrusage", 2}, {"sysinfo", 1},
	100: {"times", 1}, {"ptrace", 4}, {"getuid", 0}, {"syslog", 3}, {"getgid", 0},
	105: {"setuid", 1}, {"setgid", 1}, {"geteuid", 0}, {"getegid", 0}, {"setpgid", 2},
	110: {"getppid", 0}, {"getpgrp", 0}, {"setsid", 0}, {"setreuid", 2}, {"setregid", 2},
	115: {"getgroups", 2}, {"setgroups", 2}, {"setresuid", 3}, {"getresuid", 3}, {"setresgid", 3},
	120: {"getresgid", 3}, {"getpgid", 1}, {"setfsuid", 1}, {"setfsgid", 1}, {"getsid", 1},
	125: {"capget", 2}, {"capset", 2}, {"rt_sigpending", 2}, {"rt_sigtimedwait", 4}, {"rt_sigqueueinfo", 3},
	130: {"rt_sigsuspend", 2}, {"sigaltstack", 2}, {"utime", 2}, {"mknod", 3}, {"uselib", 1},
	135: {"personality", 1}, {"ustat", 2}, {"statfs", 2}, {"fstatfs", 2}, {"sysfs", 3},
	140: {"getpriority", 2}, {"setpriority", 3}, {"sched_setparam", 2}, {"sched_getparam", 2}, {"sched_setscheduler", 3},
	145: {"sched_getscheduler", 1}, {"sched_get_priority_max", 1}, {"sched_get_priority_min", 1}, {"sched_rr_get_interval", 2}, {"mlock", 2},
	150: {"munlock", 2}, {"mlockall", 1}, {"munlockall", 0}, {"vhangup", 0}, {"modify_ldt", 3},
	155: {"pivot_root", 2}, {"_sysctl", 1}, {"prctl", 5}, {"arch_prctl", 2}, {"adjtimex", 1},
	160: {"setrlimit", 2}, {"chroot", 1}, {"sync", 0}, {"acct", 1}, {"settimeofday", 2},
	165: {"mount", 5}, {"umount2", 2}, {"swapon", 2}, {"swapoff", 1}, {"reboot", 4},
	170: {"sethostname", 2}, {"setdomainname", 2}, {"iopl", 1}, {"ioperm", 3}, {"create_module", 2},
	175: {"init_module", 3}, {"delete_module", 2}, {"get_kernel_syms", 1}, {"query_module", 5}, {"quotactl", 4},
	180: {"nfsservctl", 3}, {"getpmsg", 5}, {"putpmsg", 5}, {"afs_syscall", 5}, {"tuxcall", 3},
	185: {"security", 3}, {"gettid", 0}, {"readahead", 3}, {"setxattr", 5}, {"lsetxattr", 5},
	190: {"fsetxattr", 5}, {"getxattr", 4}, {"lgetxattr", 4}, {"fgetxattr", 4}, {"listxattr", 3},
	195: {"llistxattr", 3}, {"flistxattr", 3}, {"removexattr", 2}, {"lremovexattr", 2}, {"fremovexattr", 2},
	200: {"tkill", 2}, {"time", 1}, {"futex", 6}, {"sched_setaffinity", 3}, {"sched_getaffinity", 3},
	205: {"set_thread_area", 1}, {"io_setup", 2}, {"io_destroy", 1}, {"io_getevents", 5}, {"io_submit", 3},
	210: {"io_cancel", 3}, {"get_thread_area", 1}, {"lookup_dcookie", 3}, {"epoll_create", 1}, {"epoll_ctl_old", 4},
	215: {"epoll_wait_old", 4}, {"remap_file_pages", 5}, {"getdents64", 3}, {"set_tid_address", 1}, {"restart_syscall", 0},
	220: {"semtimedop", 4}, {"fadvise64", 4}, {"timer_create", 3}, {"timer_settime", 4}, {"timer_gettime", 2},
	225: {"timer_getoverrun", 1}, {"timer_delete", 1}, {"clock_settime", 2}, {"clock_gettime", 2}, {"clock_getres", 2},
	230: {"clock_nanosleep", 4}, {"exit_group", 1}, {"epoll_wait", 4}, {"epoll_ctl", 4}, {"tgkill", 3},
	235: {"utimes", 2}, {"vserver", 5}, {"mbind", 6}, {"set_mempolicy", 3}, {"get_mempolicy", 5},
	240: {"mq_open", 4}, {"mq_unlink", 1}, {"mq_timedsend", 5}, {"mq_timedreceive", 5}, {"mq_notify", 2},
	245: {"mq_getsetattr", 3}, {"kexec_load", 4}, {"waitid", 5}, {"add_key", 5}, {"request_key", 4},
	250: {"keyctl", 5}, {"ioprio_set", 3}, {"ioprio_get", 2}, {"inotify_init", 0}, {"inotify_add_watch", 3},
	255: {"inotify_rm_watch", 2}, {"migrate_pages", 4}, {"openat", 4}, {"mkdirat", 3}, {"mknodat", 4},
	260: {"fchownat", 5}, {"futimesat", 3}, {"newfstatat", 4}, {"unlinkat", 3}, {"renameat", 4},
	265: {"linkat", 5}, {"symlinkat", 3}, {"readlinkat", 4}, {"fchmodat", 3}, {"faccessat", 3},
	270: {"pselect6", 6}, {"ppoll", 5}, {"unshare", 1}, {"set_robust_list", 2}, {"get_robust_list", 3},
	275: {"splice", 6}, {"tee", 4}, {"sync_file_range", 4}, {"vmsplice", 4}, {"move_pages", 6},
	280: {"utimensat", 4}, {"epoll_pwait", 6}, {"signalfd", 3}, {"timerfd_create", 2}, {"eventfd", 1},
	285: {"fallocate", 4}, {"timerfd_settime", 4}, {"timerfd_gettime", 2}, {"accept4", 4}, {"signalfd4", 4},
	290: {"eventfd2", 2}, {"epoll_create1", 1}, {"dup3", 3}, {"pipe2", 2}, {"inotify_init1", 1},
	295: {"preadv", 5}, {"pwritev", 5}, {"rt_tgsigqueueinfo", 4}, {"perf_event_open", 5}, {"recvmmsg", 5},
	300: {"fanotify_init", 2}, {"fanotify_mark", 5}, {"prlimit64", 4}, {"name_to_handle_at", 5}, {"open_by_handle_at", 3},
	305: {"clock_adjtime", 2}, {"syncfs", 1}, {"sendmmsg", 4}, {"setns", 2}, {"getcpu", 3},
	310: {"process_vm_readv", 6}, {"process_vm_writev", 6}, {"kcmp", 5}, {"finit_module", 3}, {"sched_setattr", 3},
	315: {"sched_getattr", 4}, {"renameat2", 5}, {"seccomp", 3}, {"getrandom", 3}, {"memfd_create", 2},
	320: {"kexec_file_load", 5}, {"bpf", 3}, {"execveat", 5}, {"userfaultfd", 1}, {"membarrier", 3},
	325: {"mlock2", 3}, {"copy_file_range", 6}, {"preadv2", 6}, {"pwritev2", 6}, {"pkey_mprotect", 4},
	330: {"pkey_alloc", 2}, {"pkey_free", 1}, {"statx", 5}, {"io_pgetevents", 6}, {"rseq", 4},
	335: {"uretprobe", 0}, {"uprobe", 0},
	424: {"pidfd_send_signal", 4}, {"io_uring_setup", 2}, {"io_uring_enter", 6}, {"io_uring_register", 4}, {"open_tree", 3},
	429: {"move_mount", 5}, {"fsopen", 2}, {"fsconfig", 5}, {"fsmount", 3}, {"fspick", 3},
	434: {"pidfd_open", 2}, {"clone3", 2}, {"close_range", 3}, {"openat2", 4}, {"pidfd_getfd", 3},
	439: {"faccessat2", 4}, {"process_madvise", 5}, {"epoll_pwait2", 6}, {"mount_setattr", 5}, {"quotactl_fd", 4},
	444: {"landlock_create_ruleset", 3}, {"landlock_add_rule", 4}, {"landlock_restrict_self", 2}, {"memfd_secret", 1}, {"process_mrelease", 2},
	449: {"futex_waitv", 5}, {"set_mempolicy_home_node", 4}, {"cachestat", 4}, {"fchmodat2", 4}, {"map_shadow_stack", 3},
	454: {"futex_wake", 4}, {"futex_wait", 6}, {"futex_requeue", 4}, {"statmount", 4}, {"listmount", 4},
	459: {"lsm_get_self_attr", 4}, {"lsm_set_self_attr", 4}, {"lsm_list_modules", 3}, {"mseal", 3}, {"setxattrat", 6},
	464: {"getxattrat", 6}, {"listxattrat", 5}, {"removexattrat", 4}, {"open_tree_attr", 5}, {"file_getattr", 5},
	469: {"file_setattr", 5}, {"listns", 4}, {"rseq_slice_yield", 0},
}

// syscallNumbers maps a syscall name to its number.
var syscallNumbers = func() map[string]uintptr {
	m := make(map[string]uintptr, len(syscalls))
	for nr, s := range syscalls {
		if s.name != "" {
			m[s.name] = uintptr(nr)
		}
	}
	return m
}()

// SyscallName returns the name of amd64 system call nr, or "syscall_N" for a
// number that is not a system call.
func SyscallName(nr uintptr) string {
	if nr < uintptr(len(syscalls)) && syscalls[nr].name != "" {
		return syscalls[nr].name
	}
	return "syscall_" + strconv.FormatUint(uint64(nr), 10)
}

// SyscallNumber returns the amd64 number of the system call named name.
func SyscallNumber(name string) (uintptr, bool) {
	nr, ok := syscallNumbers[name]
	return nr, ok
}

// SyscallArgCount returns how many arguments system call nr takes, or 6 for
// an unknown number.
func SyscallArgCount(nr uintptr) int {
	if nr < uintptr(len(syscalls)) && syscalls[nr].name != "" {
		return syscalls[nr].nargs
	}
	return 6
}

// SyscallNumbers returns every valid amd64 system call number, sorted.
func SyscallNumbers() []uintptr {
	nrs := make([]uintptr, 0, len(syscallNumbers))
	for nr, s := range syscalls {
		if s.name != "" {
			nrs = append(nrs, uintptr(nr))
		}
	}
	return nrs
}
