/* ptrace(2): syscall stops (PTRACE_SYSCALL, PTRACE_SYSEMU,
 * PTRACE_GET_SYSCALL_INFO), event stops (PTRACE_O_TRACEEXEC, TRACEFORK)
 * and group-stops of seized tracees (PTRACE_LISTEN). */
#include "test.h"

#include <stddef.h>
#include <linux/ptrace.h>
#include <sys/prctl.h>
#include <sys/user.h>

/* glibc's sys/ptrace.h clashes with linux/ptrace.h: use the raw call. */
static long pt(long req, pid_t pid, void *addr, void *data)
{
	return syscall(SYS_ptrace, req, pid, addr, data);
}

static int wait_stop(pid_t pid)
{
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, __WALL), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	return ws;
}

static long peek_user(pid_t pid, size_t off)
{
	long v;
	ASSERT_SYSCALL_OK(pt(PTRACE_PEEKUSR, pid, (void *)off, &v));
	return v;
}

#define REG(name) offsetof(struct user_regs_struct, name)

/* Forks a child that asks to be traced and stops with a raw kill(2);
 * the tracer has it stopped and sets options. */
static pid_t start_traced(int (*body)(void), long options)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(100);
		syscall(SYS_kill, getpid(), SIGSTOP);
		_exit(body());
	}
	int ws = wait_stop(pid);
	ASSERT_EQ(WSTOPSIG(ws), SIGSTOP);
	ASSERT_SYSCALL_OK(pt(PTRACE_SETOPTIONS, pid, 0, (void *)options));
	return pid;
}

/* Lets the tracee run to its exit, passing on signals it gets (a
 * SIGCHLD from its own child). */
static void cont_to_exit(pid_t pid, int code)
{
	int ws, sig = 0;
	for (;;) {
		ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, (void *)(long)sig));
		ASSERT_EQ(waitpid(pid, &ws, __WALL), pid);
		if (!WIFSTOPPED(ws))
			break;
		sig = WSTOPSIG(ws) == SIGCHLD ? SIGCHLD : 0;
	}
	EXPECT_EXIT_STATUS(ws, code);
}

static int do_getppid(void)
{
	return syscall(SYS_getppid) == getppid() ? 0 : 1;
}

TEST(ptrace_syscall, syscall_stops_at_entry_and_exit_with_TRACESYSGOOD)
{
	pid_t pid = start_traced(do_getppid, PTRACE_O_TRACESYSGOOD);
	ASSERT_SYSCALL_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
	int ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGTRAP | 0x80);
	EXPECT_EQ(peek_user(pid, REG(orig_rax)), SYS_getppid);
	EXPECT_EQ(peek_user(pid, REG(rax)), -ENOSYS);
	struct ptrace_syscall_info info;
	memset(&info, 0xff, sizeof(info));
	long n = pt(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info);
	EXPECT_EQ(n, offsetof(struct ptrace_syscall_info, entry.args) + sizeof(info.entry.args));
	EXPECT_EQ(info.op, PTRACE_SYSCALL_INFO_ENTRY);
	EXPECT_EQ(info.arch, 0xc000003e);
	EXPECT_EQ(info.entry.nr, SYS_getppid);
	/* A short buffer gets the start of the answer only. */
	memset(&info, 0xff, sizeof(info));
	EXPECT_EQ(pt(PTRACE_GET_SYSCALL_INFO, pid, (void *)1, &info), n);
	EXPECT_EQ(info.op, PTRACE_SYSCALL_INFO_ENTRY);
	EXPECT_EQ(info.arch, 0xffffffff);

	ASSERT_SYSCALL_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
	ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGTRAP | 0x80);
	EXPECT_EQ(peek_user(pid, REG(rax)), getpid());
	memset(&info, 0, sizeof(info));
	n = pt(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info);
	EXPECT_EQ(n, offsetof(struct ptrace_syscall_info, exit.is_error) + 1);
	EXPECT_EQ(info.op, PTRACE_SYSCALL_INFO_EXIT);
	EXPECT_EQ(info.exit.rval, getpid());
	EXPECT_EQ(info.exit.is_error, 0);
	cont_to_exit(pid, 0);
}

TEST(ptrace_syscall, without_TRACESYSGOOD_stops_are_plain_SIGTRAP_and_info_says_none)
{
	pid_t pid = start_traced(do_getppid, 0);
	ASSERT_SYSCALL_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
	int ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGTRAP);
	EXPECT_EQ(peek_user(pid, REG(orig_rax)), SYS_getppid);
	struct ptrace_syscall_info info;
	memset(&info, 0xff, sizeof(info));
	EXPECT_EQ(pt(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info),
		  offsetof(struct ptrace_syscall_info, entry));
	EXPECT_EQ(info.op, PTRACE_SYSCALL_INFO_NONE);
	cont_to_exit(pid, 0);
}

static int getppid_is_own_tid(void)
{
	pid_t me = getpid();
	return syscall(SYS_getppid) == me ? 0 : 1;
}

TEST(ptrace_syscall, changing_orig_rax_at_entry_runs_another_call)
{
	pid_t pid = start_traced(getppid_is_own_tid, PTRACE_O_TRACESYSGOOD);
	for (;;) {
		ASSERT_SYSCALL_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
		wait_stop(pid);
		if (peek_user(pid, REG(orig_rax)) == SYS_getppid)
			break;
		/* getpid's entry: run on to its exit. */
		ASSERT_SYSCALL_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
		wait_stop(pid);
	}
	ASSERT_SYSCALL_OK(pt(PTRACE_POKEUSR, pid, (void *)REG(orig_rax), (void *)SYS_gettid));
	cont_to_exit(pid, 0);
}

static int close_fd_3(void)
{
	long r = syscall(SYS_close, 3);
	int e = errno;
	if (r != -1 || e != ENOSYS)
		return 1;
	return fcntl(3, F_GETFD) == -1 ? 2 : 0;
}

TEST(ptrace_syscall, orig_rax_minus_1_skips_the_call_leaving_ENOSYS)
{
	ASSERT_EQ(dup2(0, 3), 3);
	pid_t pid = start_traced(close_fd_3, PTRACE_O_TRACESYSGOOD);
	ASSERT_SYSCALL_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
	wait_stop(pid);
	ASSERT_EQ(peek_user(pid, REG(orig_rax)), SYS_close);
	ASSERT_SYSCALL_OK(pt(PTRACE_POKEUSR, pid, (void *)REG(orig_rax), (void *)-1L));
	ASSERT_SYSCALL_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
	int ws = wait_stop(pid);
	/* The exit stop still comes, with rax untouched. */
	EXPECT_EQ(WSTOPSIG(ws), SIGTRAP | 0x80);
	EXPECT_EQ(peek_user(pid, REG(rax)), -ENOSYS);
	cont_to_exit(pid, 0);
}

static int close_fd_3_emulated(void)
{
	long r = syscall(SYS_close, 3);
	syscall(SYS_getppid);
	if (r != 77)
		return 1;
	return fcntl(3, F_GETFD) == -1 ? 2 : 0;
}

TEST(ptrace_syscall, sysemu_stops_at_entry_only_and_never_runs_the_call)
{
	ASSERT_EQ(dup2(0, 3), 3);
	pid_t pid = start_traced(close_fd_3_emulated, PTRACE_O_TRACESYSGOOD);
	ASSERT_SYSCALL_OK(pt(PTRACE_SYSEMU, pid, 0, 0));
	int ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGTRAP | 0x80);
	ASSERT_EQ(peek_user(pid, REG(orig_rax)), SYS_close);
	ASSERT_SYSCALL_OK(pt(PTRACE_POKEUSR, pid, (void *)REG(rax), (void *)77));
	/* Resumed with SYSEMU: the next stop is the next call's entry, not
	 * close's exit. */
	ASSERT_SYSCALL_OK(pt(PTRACE_SYSEMU, pid, 0, 0));
	wait_stop(pid);
	EXPECT_EQ(peek_user(pid, REG(orig_rax)), SYS_getppid);
	/* Resumed with SYSCALL: the emulated call has an exit stop, with
	 * the tracer's rax. */
	ASSERT_SYSCALL_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
	wait_stop(pid);
	EXPECT_EQ(peek_user(pid, REG(orig_rax)), SYS_getppid);
	EXPECT_EQ(peek_user(pid, REG(rax)), -ENOSYS);
	cont_to_exit(pid, 0);
}

TEST_HELPER(exit_3)
{
	(void)argc;
	(void)argv;
	return 3;
}

static int exec_exit_3(void)
{
	char *argv[] = {(char *)test_self_exe(), "--helper", "exit_3", NULL};
	execv(argv[0], argv);
	return 99;
}

TEST(ptrace_syscall, TRACEEXEC_stops_after_exec_with_the_old_tid_as_event_message)
{
	pid_t pid = start_traced(exec_exit_3, PTRACE_O_TRACEEXEC);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	int ws = wait_stop(pid);
	EXPECT_EQ(ws >> 8, SIGTRAP | (PTRACE_EVENT_EXEC << 8));
	unsigned long msg = 0;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETEVENTMSG, pid, 0, &msg));
	EXPECT_EQ(msg, pid);
	/* The new program's registers: 64-bit user selectors (gdb tells
	 * a 64-bit tracee by cs). */
	EXPECT_EQ(peek_user(pid, REG(cs)), 0x33);
	EXPECT_EQ(peek_user(pid, REG(ss)), 0x2b);
	cont_to_exit(pid, 3);
}

TEST(ptrace_syscall, exec_without_TRACEEXEC_raises_SIGTRAP)
{
	pid_t pid = start_traced(exec_exit_3, 0);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	int ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGTRAP);
	EXPECT_EQ(ws >> 16, 0);
	siginfo_t si;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETSIGINFO, pid, 0, &si));
	EXPECT_EQ(si.si_signo, SIGTRAP);
	cont_to_exit(pid, 3);
}

static int fork_child_exiting_4(void)
{
	pid_t gc = fork();
	if (gc < 0)
		return 1;
	if (gc == 0)
		_exit(4);
	int ws;
	if (waitpid(gc, &ws, 0) != gc)
		return 2;
	return WIFEXITED(ws) && WEXITSTATUS(ws) == 4 ? 0 : 3;
}

TEST(ptrace_syscall, TRACEFORK_reports_the_fork_and_attaches_the_new_child)
{
	pid_t pid = start_traced(fork_child_exiting_4, PTRACE_O_TRACEFORK);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	int ws = wait_stop(pid);
	EXPECT_EQ(ws >> 8, SIGTRAP | (PTRACE_EVENT_FORK << 8));
	unsigned long gc = 0;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETEVENTMSG, pid, 0, &gc));
	ASSERT_GT(gc, 0);
	/* The new child starts traced, stopped by SIGSTOP. */
	ws = wait_stop(gc);
	EXPECT_EQ(WSTOPSIG(ws), SIGSTOP);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, gc, 0, 0));
	/* The tracer hears of its tracee's exit though not its parent. */
	ASSERT_EQ(waitpid(gc, &ws, __WALL), (pid_t)gc);
	EXPECT_EXIT_STATUS(ws, 4);
	cont_to_exit(pid, 0);
}

TEST(ptrace_syscall, seized_group_stop_is_PTRACE_EVENT_STOP_and_listen_waits_for_SIGCONT)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c;
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		syscall(SYS_kill, getpid(), SIGSTOP);
		_exit(6);
	}
	close(p[0]);
	ASSERT_SYSCALL_OK(pt(PTRACE_SEIZE, pid, 0, 0));
	ASSERT_EQ(write(p[1], "x", 1), 1);
	int ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGSTOP);
	EXPECT_EQ(ws >> 16, 0);
	/* LISTEN is only for group-stops. */
	EXPECT_ERRNO(pt(PTRACE_LISTEN, pid, 0, 0), EIO);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, (void *)(long)SIGSTOP));
	ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGSTOP);
	EXPECT_EQ(ws >> 16, PTRACE_EVENT_STOP);
	ASSERT_SYSCALL_OK(pt(PTRACE_LISTEN, pid, 0, 0));
	/* Listening: stopped, but not for requests. */
	EXPECT_EQ(waitpid(pid, &ws, __WALL | WNOHANG), 0);
	ASSERT_SYSCALL_OK(kill(pid, SIGCONT));
	ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGTRAP);
	EXPECT_EQ(ws >> 16, PTRACE_EVENT_STOP);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGCONT);
	cont_to_exit(pid, 6);
}

TEST(ptrace_syscall, tracer_exit_during_a_stop_lets_the_tracee_run_on)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	int p[2], tp[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(pipe(tp));
	pid_t tracer = fork();
	ASSERT_SYSCALL_OK(tracer);
	if (tracer == 0) {
		pid_t c = fork();
		ASSERT_SYSCALL_OK(c);
		if (c == 0) {
			char ch;
			ssize_t n = read(p[0], &ch, 1);
			_exit(n == 1 ? 5 : 6);
		}
		ASSERT_SYSCALL_OK(pt(PTRACE_SEIZE, c, 0, (void *)(long)PTRACE_O_TRACESYSGOOD));
		ASSERT_SYSCALL_OK(pt(PTRACE_INTERRUPT, c, 0, 0));
		int ws = wait_stop(c);
		ASSERT_EQ(ws >> 16, PTRACE_EVENT_STOP);
		/* Leave it in a syscall-entry stop. */
		ASSERT_SYSCALL_OK(pt(PTRACE_SYSCALL, c, 0, 0));
		wait_stop(c);
		ASSERT_EQ(write(tp[1], &c, sizeof(c)), (ssize_t)sizeof(c));
		_exit(0);
	}
	pid_t tracee;
	ASSERT_EQ(read(tp[0], &tracee, sizeof(tracee)), (ssize_t)sizeof(tracee));
	EXPECT_EXIT_STATUS(test_wait_exit(tracer), 0);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	int ws;
	ASSERT_EQ(waitpid(tracee, &ws, 0), tracee);
	EXPECT_EXIT_STATUS(ws, 5);
}

TEST(ptrace_syscall, seizing_a_stopped_process_reports_its_group_stop_and_listen_after_SIGCONT_retraps)
{
	/* What strace does to start its command. */
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		syscall(SYS_kill, getpid(), SIGSTOP);
		_exit(8);
	}
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, WUNTRACED), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	ASSERT_SYSCALL_OK(pt(PTRACE_SEIZE, pid, 0, 0));
	ASSERT_SYSCALL_OK(pt(PTRACE_INTERRUPT, pid, 0, 0));
	ASSERT_SYSCALL_OK(kill(pid, SIGCONT));
	ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGSTOP);
	EXPECT_EQ(ws >> 16, PTRACE_EVENT_STOP);
	/* The group-stop has ended: LISTEN re-traps at once. */
	ASSERT_SYSCALL_OK(pt(PTRACE_LISTEN, pid, 0, 0));
	ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGTRAP);
	EXPECT_EQ(ws >> 16, PTRACE_EVENT_STOP);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	ws = wait_stop(pid);
	EXPECT_EQ(WSTOPSIG(ws), SIGCONT);
	cont_to_exit(pid, 8);
}

static int exit_9(void)
{
	return 9;
}

static int die_by_sigterm(void)
{
	signal(SIGTERM, SIG_DFL);
	syscall(SYS_kill, getpid(), SIGTERM);
	return 1;
}

TEST(ptrace_syscall, TRACEEXIT_stops_before_exit_with_the_status_as_event_message)
{
	pid_t pid = start_traced(exit_9, PTRACE_O_TRACEEXIT);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	int ws = wait_stop(pid);
	EXPECT_EQ(ws >> 8, SIGTRAP | (PTRACE_EVENT_EXIT << 8));
	unsigned long msg = 0;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETEVENTMSG, pid, 0, &msg));
	EXPECT_EXIT_STATUS((int)msg, 9);
	cont_to_exit(pid, 9);

	pid = start_traced(die_by_sigterm, PTRACE_O_TRACEEXIT);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	ws = wait_stop(pid);
	ASSERT_EQ(WSTOPSIG(ws), SIGTERM);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, (void *)(long)SIGTERM));
	ws = wait_stop(pid);
	EXPECT_EQ(ws >> 8, SIGTRAP | (PTRACE_EVENT_EXIT << 8));
	ASSERT_SYSCALL_OK(pt(PTRACE_GETEVENTMSG, pid, 0, &msg));
	EXPECT_KILLED_BY((int)msg, SIGTERM);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	EXPECT_KILLED_BY(ws, SIGTERM);
}

/* Two processes tracing each other: each stops, neither can resume the
 * other; SIGKILL still ends both. */
TEST(ptrace_syscall, mutual_tracing_deadlocks_only_the_guests_and_SIGKILL_ends_it)
{
	int ready[2], to_a[2];
	ASSERT_SYSCALL_OK(pipe(ready));
	ASSERT_SYSCALL_OK(pipe(to_a));
	pid_t a = fork();
	ASSERT_SYSCALL_OK(a);
	if (a == 0) {
		pid_t b = fork();
		if (b < 0)
			_exit(1);
		if (b == 0) {
			/* b traces its parent a, which traces b. */
			if (pt(PTRACE_SEIZE, getppid(), 0, 0) != 0)
				_exit(2);
			pid_t me = getpid();
			if (write(to_a[1], &me, sizeof(me)) != sizeof(me))
				_exit(3);
			for (;;)
				pause();
		}
		pid_t got;
		if (read(to_a[0], &got, sizeof(got)) != sizeof(got) || got != b)
			_exit(4);
		if (pt(PTRACE_SEIZE, b, 0, 0) != 0)
			_exit(4);
		if (write(ready[1], &b, sizeof(b)) != sizeof(b))
			_exit(5);
		for (;;)
			pause();
	}
	pid_t b;
	ASSERT_EQ(read(ready[0], &b, sizeof(b)), (ssize_t)sizeof(b));
	/* Stop both: a's signal stops it for b, and b's SIGCHLD stops it
	 * for a. */
	ASSERT_SYSCALL_OK(kill(a, SIGSTOP));
	ASSERT_SYSCALL_OK(kill(b, SIGSTOP));
	/* Tracer first: a traced process is reported to its parent only
	 * once its tracer has let go (Linux). */
	ASSERT_SYSCALL_OK(kill(b, SIGKILL));
	ASSERT_SYSCALL_OK(kill(a, SIGKILL));
	int ws;
	ASSERT_EQ(waitpid(a, &ws, 0), a);
	EXPECT_KILLED_BY(ws, SIGKILL);
}

TEST(ptrace_syscall, tracer_exit_during_a_signal_delivery_stop_drops_the_signal)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	int tp[2];
	ASSERT_SYSCALL_OK(pipe(tp));
	pid_t tracer = fork();
	ASSERT_SYSCALL_OK(tracer);
	if (tracer == 0) {
		int go[2];
		ASSERT_SYSCALL_OK(pipe(go));
		pid_t c = fork();
		ASSERT_SYSCALL_OK(c);
		if (c == 0) {
			char ch;
			signal(SIGUSR1, SIG_DFL);
			if (read(go[0], &ch, 1) != 1)
				_exit(1);
			syscall(SYS_kill, getpid(), SIGUSR1);
			_exit(2);
		}
		ASSERT_SYSCALL_OK(pt(PTRACE_SEIZE, c, 0, 0));
		ASSERT_EQ(write(go[1], "x", 1), 1);
		int ws = wait_stop(c);
		ASSERT_EQ(WSTOPSIG(ws), SIGUSR1);
		ASSERT_EQ(write(tp[1], &c, sizeof(c)), (ssize_t)sizeof(c));
		_exit(0);
	}
	pid_t tracee;
	ASSERT_EQ(read(tp[0], &tracee, sizeof(tracee)), (ssize_t)sizeof(tracee));
	EXPECT_EXIT_STATUS(test_wait_exit(tracer), 0);
	int ws;
	ASSERT_EQ(waitpid(tracee, &ws, 0), tracee);
	EXPECT_EXIT_STATUS(ws, 2);
}

TEST(ptrace_syscall, detach_from_a_syscall_stop_with_a_signal_sends_it)
{
	pid_t pid = start_traced(do_getppid, PTRACE_O_TRACESYSGOOD);
	ASSERT_SYSCALL_OK(pt(PTRACE_SYSCALL, pid, 0, 0));
	int ws = wait_stop(pid);
	ASSERT_EQ(WSTOPSIG(ws), SIGTRAP | 0x80);
	ASSERT_SYSCALL_OK(pt(PTRACE_DETACH, pid, 0, (void *)(long)SIGUSR1));
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	EXPECT_KILLED_BY(ws, SIGUSR1);
}

#include <linux/filter.h>
#include <linux/seccomp.h>

static int getppid_traced_by_seccomp(void)
{
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 42),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog fprog = {sizeof(prog) / sizeof(prog[0]), prog};
	pid_t me = getpid();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
		return 10;
	/* The tracer turns it into gettid. */
	if (syscall(SYS_getppid) != me)
		return 11;
	/* The tracer skips it, returning 55. */
	if (syscall(SYS_getppid) != 55)
		return 12;
	return 0;
}

TEST(ptrace_syscall, seccomp_RET_TRACE_stops_a_TRACESECCOMP_tracee_which_may_change_or_skip_the_call)
{
	pid_t pid = start_traced(getppid_traced_by_seccomp, PTRACE_O_TRACESECCOMP);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	int ws = wait_stop(pid);
	ASSERT_EQ(ws >> 8, SIGTRAP | (PTRACE_EVENT_SECCOMP << 8));
	unsigned long msg = 0;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETEVENTMSG, pid, 0, &msg));
	EXPECT_EQ(msg, 42);
	EXPECT_EQ(peek_user(pid, REG(orig_rax)), SYS_getppid);
	EXPECT_EQ(peek_user(pid, REG(rax)), -ENOSYS);
	ASSERT_SYSCALL_OK(pt(PTRACE_POKEUSR, pid, (void *)REG(orig_rax), (void *)SYS_gettid));
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	ws = wait_stop(pid);
	ASSERT_EQ(ws >> 8, SIGTRAP | (PTRACE_EVENT_SECCOMP << 8));
	ASSERT_SYSCALL_OK(pt(PTRACE_POKEUSR, pid, (void *)REG(orig_rax), (void *)-1L));
	ASSERT_SYSCALL_OK(pt(PTRACE_POKEUSR, pid, (void *)REG(rax), (void *)55));
	cont_to_exit(pid, 0);
}

#include <pthread.h>

static void *thread_exits(void *arg)
{
	return arg;
}

static int run_a_thread(void)
{
	pthread_t th;
	if (pthread_create(&th, NULL, thread_exits, NULL) != 0)
		return 1;
	return pthread_join(th, NULL) == 0 ? 0 : 2;
}

TEST(ptrace_syscall, TRACECLONE_attaches_new_threads_whose_exit_the_tracer_sees)
{
	pid_t pid = start_traced(run_a_thread, PTRACE_O_TRACECLONE);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	int ws = wait_stop(pid);
	ASSERT_EQ(ws >> 8, SIGTRAP | (PTRACE_EVENT_CLONE << 8));
	unsigned long tid = 0;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETEVENTMSG, pid, 0, &tid));
	ASSERT_GT(tid, 0);
	EXPECT_NE(tid, pid);
	/* Resume both; run each to its end, passing nothing on. */
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	int thread_done = 0, main_done = 0;
	while (!main_done) {
		pid_t w = waitpid(-1, &ws, __WALL);
		ASSERT_GT(w, 0);
		if (WIFSTOPPED(ws)) {
			/* The new thread's first stop is SIGSTOP. */
			if (w == (pid_t)tid && !thread_done)
				EXPECT_TRUE(WSTOPSIG(ws) == SIGSTOP || WSTOPSIG(ws) == SIGTRAP);
			ASSERT_SYSCALL_OK(pt(PTRACE_CONT, w, 0, 0));
			continue;
		}
		if (w == (pid_t)tid) {
			EXPECT_EXIT_STATUS(ws, 0);
			thread_done = 1;
		} else {
			ASSERT_EQ(w, pid);
			EXPECT_EXIT_STATUS(ws, 0);
			main_done = 1;
		}
	}
	EXPECT_TRUE(thread_done);
}

static int getppid_returns_99(void)
{
	return syscall(SYS_getppid) == 99 ? 0 : 1;
}

TEST(ptrace_syscall, sysemu_singlestep_steps_until_a_syscall_which_it_stops_at_and_skips)
{
	pid_t pid = start_traced(getppid_returns_99, PTRACE_O_TRACESYSGOOD);
	int steps = 0, ws;
	for (;;) {
		ASSERT_SYSCALL_OK(pt(PTRACE_SYSEMU_SINGLESTEP, pid, 0, 0));
		ws = wait_stop(pid);
		if (WSTOPSIG(ws) == (SIGTRAP | 0x80))
			break;
		ASSERT_EQ(WSTOPSIG(ws), SIGTRAP);
		ASSERT_LT(++steps, 10000);
	}
	EXPECT_GT(steps, 0);
	EXPECT_EQ(peek_user(pid, REG(orig_rax)), SYS_getppid);
	ASSERT_SYSCALL_OK(pt(PTRACE_POKEUSR, pid, (void *)REG(rax), (void *)99));
	cont_to_exit(pid, 0);
}

TEST(ptrace_syscall, singlestep_over_a_syscall_instruction_stops_right_after_it)
{
	pid_t pid = start_traced(do_getppid, 0);
	int steps = 0, ws;
	for (;;) {
		ASSERT_SYSCALL_OK(pt(PTRACE_SINGLESTEP, pid, 0, 0));
		ws = wait_stop(pid);
		ASSERT_EQ(WSTOPSIG(ws), SIGTRAP);
		ASSERT_LT(++steps, 10000);
		if (peek_user(pid, REG(orig_rax)) == SYS_getppid)
			break;
	}
	/* Stopped after the syscall instruction, the call done. */
	long rip = peek_user(pid, REG(rip));
	long word;
	ASSERT_SYSCALL_OK(pt(PTRACE_PEEKTEXT, pid, (void *)(rip - 2), &word));
	EXPECT_EQ(word & 0xffff, 0x050f);
	EXPECT_EQ(peek_user(pid, REG(rax)), getpid());
	cont_to_exit(pid, 0);
}

static void *thread_execs(void *arg)
{
	(void)arg;
	exec_exit_3();
	return NULL;
}

static int exec_from_a_thread(void)
{
	pthread_t th;
	if (pthread_create(&th, NULL, thread_execs, NULL) != 0)
		return 1;
	for (;;)
		pause();
}

TEST(ptrace_syscall, exec_from_a_thread_hides_the_old_leaders_death_and_reports_the_old_tid)
{
	pid_t pid = start_traced(exec_from_a_thread, PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	int ws, exec_seen = 0;
	unsigned long thread_tid = 0;
	for (;;) {
		pid_t w = waitpid(-1, &ws, __WALL);
		ASSERT_GT(w, 0);
		if (!WIFSTOPPED(ws)) {
			/* The only death reported is the process's own. */
			ASSERT_EQ(w, pid);
			EXPECT_TRUE(exec_seen);
			EXPECT_EXIT_STATUS(ws, 3);
			break;
		}
		if (ws >> 8 == (SIGTRAP | (PTRACE_EVENT_CLONE << 8)))
			ASSERT_SYSCALL_OK(pt(PTRACE_GETEVENTMSG, w, 0, &thread_tid));
		if (ws >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
			/* The exec'ing thread now has the leader's ID. */
			EXPECT_EQ(w, pid);
			unsigned long old = 0;
			ASSERT_SYSCALL_OK(pt(PTRACE_GETEVENTMSG, w, 0, &old));
			EXPECT_EQ(old, thread_tid);
			exec_seen = 1;
		}
		ASSERT_SYSCALL_OK(pt(PTRACE_CONT, w, 0, 0));
	}
}
