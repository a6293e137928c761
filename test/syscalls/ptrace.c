/* ptrace(2): the tracer/tracee link, stops, wait reports, registers and
 * memory (ptrace(2), "Attaching and detaching", "Signal-delivery-stop",
 * PTRACE_PEEK*, PTRACE_GETREGS...). */
#include "test.h"

#include <elf.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

static long pt(long req, pid_t pid, void *addr, void *data)
{
	return syscall(SYS_ptrace, req, pid, addr, data);
}

/* A child that asks to be traced and stops itself with a raw kill(2), so
 * the stop comes at that syscall's return (orig_rax is SYS_kill). After
 * the tracer resumes it, it runs fn and exits with its result. */
static pid_t traced_child(int (*fn)(long killret))
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		if (pt(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(100);
		long r = syscall(SYS_kill, getpid(), SIGSTOP);
		_exit(fn(r));
	}
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	ASSERT_EQ(WSTOPSIG(ws), SIGSTOP);
	return pid;
}

static int exit_7(long r)
{
	(void)r;
	return 7;
}

static void cont_and_expect_exit(pid_t pid, int sig, int code)
{
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, (void *)(long)sig));
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	EXPECT_EXIT_STATUS(ws, code);
}

TEST(ptrace, traceme_child_stopping_itself_is_reported_to_a_plain_waitpid)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		ASSERT_SYSCALL_OK(pt(PTRACE_TRACEME, 0, 0, 0));
		raise(SIGSTOP);
		_exit(7);
	}
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	EXPECT_EQ(WSTOPSIG(ws), SIGSTOP);
	EXPECT_EQ(ws >> 16, 0);
	cont_and_expect_exit(pid, 0, 7);
}

TEST(ptrace, traceme_twice_fails_with_EPERM)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		ASSERT_SYSCALL_OK(pt(PTRACE_TRACEME, 0, 0, 0));
		EXPECT_ERRNO(pt(PTRACE_TRACEME, 0, 0, 0), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(ptrace, waitid_with_only_WEXITED_reports_a_ptrace_stop_as_CLD_TRAPPED)
{
	pid_t pid = traced_child(exit_7);
	/* The stop was taken by traced_child's waitpid: stop again. */
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, (void *)(long)SIGSTOP));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ASSERT_SYSCALL_OK(waitid(P_PID, pid, &si, WEXITED));
	EXPECT_EQ(si.si_pid, pid);
	EXPECT_EQ(si.si_code, CLD_TRAPPED);
	EXPECT_EQ(si.si_status, SIGSTOP);
	cont_and_expect_exit(pid, 0, 7);
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static int exit_if_usr1_handled(long r)
{
	(void)r;
	return got_usr1 ? 42 : 1;
}

TEST(ptrace, cont_with_a_signal_delivers_it_instead)
{
	signal(SIGUSR1, on_usr1);
	pid_t pid = traced_child(exit_if_usr1_handled);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, (void *)(long)SIGUSR1));
	int ws;
	/* The injected signal is delivered without another stop. */
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	EXPECT_EXIT_STATUS(ws, 42);
}

TEST(ptrace, every_signal_but_SIGKILL_stops_the_tracee_and_cont_0_suppresses_it)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		ASSERT_SYSCALL_OK(pt(PTRACE_TRACEME, 0, 0, 0));
		signal(SIGUSR2, SIG_IGN);
		syscall(SYS_kill, getpid(), SIGTERM);
		syscall(SYS_kill, getpid(), SIGUSR2);
		_exit(5);
	}
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	EXPECT_EQ(WSTOPSIG(ws), SIGTERM);
	siginfo_t si;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETSIGINFO, pid, 0, &si));
	EXPECT_EQ(si.si_signo, SIGTERM);
	EXPECT_EQ(si.si_code, SI_USER);
	EXPECT_EQ(si.si_pid, pid);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	/* Even an ignored signal is shown to the tracer. */
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	EXPECT_EQ(WSTOPSIG(ws), SIGUSR2);
	cont_and_expect_exit(pid, 0, 5);
}

TEST(ptrace, setsiginfo_changes_what_the_handler_gets)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		ASSERT_SYSCALL_OK(pt(PTRACE_TRACEME, 0, 0, 0));
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		syscall(SYS_kill, getpid(), SIGUSR1);
		/* Delivered, and so stopped for, once unblocked. */
		signal(SIGUSR1, on_usr1);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		_exit(got_usr1 ? 0 : 1);
	}
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	EXPECT_EQ(WSTOPSIG(ws), SIGUSR1);
	siginfo_t si;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETSIGINFO, pid, 0, &si));
	si.si_code = SI_QUEUE;
	ASSERT_SYSCALL_OK(pt(PTRACE_SETSIGINFO, pid, 0, &si));
	memset(&si, 0, sizeof(si));
	ASSERT_SYSCALL_OK(pt(PTRACE_GETSIGINFO, pid, 0, &si));
	EXPECT_EQ(si.si_code, SI_QUEUE);
	cont_and_expect_exit(pid, SIGUSR1, 0);
}

TEST(ptrace, detach_with_a_signal_delivers_it)
{
	pid_t pid = traced_child(exit_7);
	ASSERT_SYSCALL_OK(pt(PTRACE_DETACH, pid, 0, (void *)(long)SIGUSR1));
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	EXPECT_KILLED_BY(ws, SIGUSR1);
}

TEST(ptrace, detach_0_lets_the_tracee_run_untraced)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		ASSERT_SYSCALL_OK(pt(PTRACE_TRACEME, 0, 0, 0));
		syscall(SYS_kill, getpid(), SIGSTOP);
		/* Untraced now: SIGTERM is not stopped for, it kills. */
		syscall(SYS_kill, getpid(), SIGTERM);
		_exit(1);
	}
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	ASSERT_SYSCALL_OK(pt(PTRACE_DETACH, pid, 0, 0));
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	EXPECT_KILLED_BY(ws, SIGTERM);
}

TEST(ptrace, requests_need_a_stopped_tracee_of_the_caller_else_ESRCH)
{
	int p[2], q[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(pipe(q));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c;
		ASSERT_SYSCALL_OK(pt(PTRACE_TRACEME, 0, 0, 0));
		ASSERT_EQ(write(q[1], "x", 1), 1);
		ASSERT_EQ(read(p[0], &c, 1), 1);
		_exit(0);
	}
	char c;
	ASSERT_EQ(read(q[0], &c, 1), 1);
	struct user_regs_struct regs;
	/* Traced but running. */
	EXPECT_ERRNO(pt(PTRACE_GETREGS, pid, 0, &regs), ESRCH);
	EXPECT_ERRNO(pt(PTRACE_CONT, pid, 0, 0), ESRCH);
	EXPECT_ERRNO(pt(PTRACE_PEEKDATA, pid, &regs, &regs), ESRCH);
	/* Not a task at all. */
	EXPECT_ERRNO(pt(PTRACE_CONT, -5, 0, 0), ESRCH);
	/* Not traced by the caller: its own parent. */
	EXPECT_ERRNO(pt(PTRACE_CONT, getppid(), 0, 0), ESRCH);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

static int thread_tid_pipe[2];

static void *idle_thread(void *arg)
{
	(void)arg;
	pid_t tid = syscall(SYS_gettid);
	if (write(thread_tid_pipe[1], &tid, sizeof(tid)) != sizeof(tid))
		abort();
	pause();
	return NULL;
}

TEST(ptrace, attaching_to_itself_or_its_own_thread_fails_with_EPERM)
{
	EXPECT_ERRNO(pt(PTRACE_ATTACH, getpid(), 0, 0), EPERM);
	EXPECT_ERRNO(pt(PTRACE_SEIZE, getpid(), 0, 0), EPERM);
	pthread_t th;
	ASSERT_SYSCALL_OK(pipe(thread_tid_pipe));
	ASSERT_EQ(pthread_create(&th, NULL, idle_thread, NULL), 0);
	pid_t tid;
	ASSERT_EQ(read(thread_tid_pipe[0], &tid, sizeof(tid)), (ssize_t)sizeof(tid));
	EXPECT_NE(tid, getpid());
	EXPECT_ERRNO(pt(PTRACE_ATTACH, tid, 0, 0), EPERM);
	EXPECT_ERRNO(pt(PTRACE_SEIZE, tid, 0, 0), EPERM);
	EXPECT_ERRNO(pt(PTRACE_ATTACH, 0x7ffffff0, 0, 0), ESRCH);
}

TEST(ptrace, attach_stops_the_target_with_SIGSTOP_and_a_second_attach_is_EPERM)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c;
		close(p[1]);
		ssize_t n = read(p[0], &c, 1);
		_exit(n == 1 ? 3 : 4);
	}
	close(p[0]);
	ASSERT_SYSCALL_OK(pt(PTRACE_ATTACH, pid, 0, 0));
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	EXPECT_EQ(WSTOPSIG(ws), SIGSTOP);
	EXPECT_ERRNO(pt(PTRACE_ATTACH, pid, 0, 0), EPERM);
	EXPECT_ERRNO(pt(PTRACE_SEIZE, pid, 0, 0), EPERM);
	/* Suppress the SIGSTOP: the read goes on. */
	ASSERT_SYSCALL_OK(pt(PTRACE_DETACH, pid, 0, 0));
	ASSERT_EQ(write(p[1], "x", 1), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 3);
}

TEST(ptrace, seize_checks_its_arguments)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	EXPECT_ERRNO(pt(PTRACE_SEIZE, pid, (void *)1, 0), EIO);
	/* Linux gives EIO for bad options here (EINVAL for SETOPTIONS). */
	EXPECT_ERRNO(pt(PTRACE_SEIZE, pid, 0, (void *)(1L << 30)), EIO);
	EXPECT_ERRNO(pt(PTRACE_SEIZE, 0x7ffffff0, 0, 0), ESRCH);
	/* INTERRUPT and LISTEN need a seized tracee. */
	EXPECT_ERRNO(pt(PTRACE_INTERRUPT, pid, 0, 0), ESRCH);
	kill(pid, SIGKILL);
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGKILL);
}

TEST(ptrace, seize_does_not_stop_and_interrupt_stops_with_PTRACE_EVENT_STOP)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c;
		close(p[1]);
		ssize_t n = read(p[0], &c, 1);
		_exit(n == 1 ? 3 : 4);
	}
	close(p[0]);
	ASSERT_SYSCALL_OK(pt(PTRACE_SEIZE, pid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD));
	int ws;
	EXPECT_EQ(waitpid(pid, &ws, WNOHANG), 0);
	ASSERT_SYSCALL_OK(pt(PTRACE_INTERRUPT, pid, 0, 0));
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	EXPECT_EQ(WSTOPSIG(ws), SIGTRAP);
	EXPECT_EQ(ws >> 16, PTRACE_EVENT_STOP);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	/* The interrupted read restarts. */
	ASSERT_EQ(write(p[1], "x", 1), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 3);
}

TEST(ptrace, tracee_killed_while_stopped_is_reported_killed)
{
	pid_t pid = traced_child(exit_7);
	ASSERT_SYSCALL_OK(kill(pid, SIGKILL));
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	EXPECT_KILLED_BY(ws, SIGKILL);
}

TEST(ptrace, ptrace_kill_kills_the_tracee)
{
	pid_t pid = traced_child(exit_7);
	ASSERT_SYSCALL_OK(pt(PTRACE_KILL, pid, 0, 0));
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	EXPECT_KILLED_BY(ws, SIGKILL);
}

/* The tracer is a child that seizes its own child, tells the case the
 * tracee's PID and exits; the case (a subreaper) inherits the tracee. */
static pid_t tracer_exits_leaving(int options, int release_fd_read, int *tracee_out)
{
	int tp[2];
	ASSERT_SYSCALL_OK(pipe(tp));
	pid_t tracer = fork();
	ASSERT_SYSCALL_OK(tracer);
	if (tracer == 0) {
		pid_t c = fork();
		ASSERT_SYSCALL_OK(c);
		if (c == 0) {
			char ch;
			ssize_t n = read(release_fd_read, &ch, 1);
			_exit(n == 1 ? 5 : 6);
		}
		ASSERT_SYSCALL_OK(pt(PTRACE_SEIZE, c, 0, (void *)(long)options));
		ASSERT_EQ(write(tp[1], &c, sizeof(c)), (ssize_t)sizeof(c));
		_exit(0);
	}
	ASSERT_EQ(read(tp[0], tracee_out, sizeof(*tracee_out)), (ssize_t)sizeof(*tracee_out));
	EXPECT_EXIT_STATUS(test_wait_exit(tracer), 0);
	return tracer;
}

TEST(ptrace, tracer_exit_detaches_the_tracee)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int tracee;
	tracer_exits_leaving(0, p[0], &tracee);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	int ws;
	ASSERT_EQ(waitpid(tracee, &ws, 0), tracee);
	EXPECT_EXIT_STATUS(ws, 5);
}

TEST(ptrace, tracer_exit_kills_the_tracee_with_PTRACE_O_EXITKILL)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int tracee;
	tracer_exits_leaving(PTRACE_O_EXITKILL, p[0], &tracee);
	int ws;
	ASSERT_EQ(waitpid(tracee, &ws, 0), tracee);
	EXPECT_KILLED_BY(ws, SIGKILL);
}

TEST(ptrace, a_non_dumpable_process_of_the_same_user_needs_CAP_SYS_PTRACE)
{
	int p[2], q[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(pipe(q));
	pid_t target = fork();
	ASSERT_SYSCALL_OK(target);
	if (target == 0) {
		char c;
		if (geteuid() == 0)
			ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		ASSERT_SYSCALL_OK(prctl(PR_SET_DUMPABLE, 0));
		ASSERT_EQ(write(q[1], "x", 1), 1);
		ASSERT_EQ(read(p[0], &c, 1), 1);
		_exit(0);
	}
	char c;
	ASSERT_EQ(read(q[0], &c, 1), 1);
	pid_t attacker = fork();
	ASSERT_SYSCALL_OK(attacker);
	if (attacker == 0) {
		if (geteuid() == 0)
			ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		EXPECT_ERRNO(pt(PTRACE_ATTACH, target, 0, 0), EPERM);
		EXPECT_ERRNO(pt(PTRACE_SEIZE, target, 0, 0), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(attacker), 0);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(target), 0);
}

/* Memory: the words the tracer reads and writes. */
static volatile long data_word = 0x1111;
static const volatile long ro_word = 0x2222;
static volatile long *ro_page;
static volatile long *shared_ro_page;

static int check_poked(long r)
{
	(void)r;
	if (data_word != 0x3333)
		return 1;
	if (ro_word != 0x4444)
		return 2;
	if (ro_page[0] != 0x5555)
		return 3;
	return 0;
}

TEST(ptrace, peek_and_poke_reach_the_tracee_and_poke_writes_private_read_only_memory)
{
	ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(ro_page != MAP_FAILED);
	shared_ro_page = mmap(NULL, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(shared_ro_page != MAP_FAILED);
	pid_t pid = traced_child(check_poked);
	long v = 0;
	ASSERT_SYSCALL_OK(pt(PTRACE_PEEKDATA, pid, (void *)&data_word, &v));
	EXPECT_EQ(v, 0x1111);
	ASSERT_SYSCALL_OK(pt(PTRACE_PEEKTEXT, pid, (void *)&ro_word, &v));
	EXPECT_EQ(v, 0x2222);
	ASSERT_SYSCALL_OK(pt(PTRACE_POKEDATA, pid, (void *)&data_word, (void *)0x3333));
	ASSERT_SYSCALL_OK(pt(PTRACE_POKETEXT, pid, (void *)&ro_word, (void *)0x4444));
	ASSERT_SYSCALL_OK(pt(PTRACE_POKEDATA, pid, (void *)ro_page, (void *)0x5555));
	/* A shared mapping the tracee may not write stays unwritable. */
	EXPECT_ERRNO(pt(PTRACE_POKEDATA, pid, (void *)shared_ro_page, (void *)1), EIO);
	/* Unmapped. */
	EXPECT_ERRNO(pt(PTRACE_PEEKDATA, pid, (void *)8, &v), EIO);
	EXPECT_ERRNO(pt(PTRACE_POKEDATA, pid, (void *)8, (void *)1), EIO);
	ASSERT_SYSCALL_OK(pt(PTRACE_PEEKDATA, pid, (void *)&data_word, &v));
	EXPECT_EQ(v, 0x3333);
	/* The tracer's own copies are untouched. */
	EXPECT_EQ(data_word, 0x1111);
	EXPECT_EQ(ro_word, 0x2222);
	EXPECT_EQ(ro_page[0], 0);
	cont_and_expect_exit(pid, 0, 0);
}

static int exit_0_if_42(long r)
{
	return r == 42 ? 0 : 1;
}

TEST(ptrace, getregs_shows_the_stopped_syscall_and_setregs_changes_its_result)
{
	pid_t pid = traced_child(exit_0_if_42);
	struct user_regs_struct regs;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGS, pid, 0, &regs));
	EXPECT_EQ(regs.orig_rax, SYS_kill);
	EXPECT_EQ(regs.rax, 0);
	EXPECT_EQ(regs.cs, 0x33);
	EXPECT_EQ(regs.ss, 0x2b);
	regs.rax = 42;
	ASSERT_SYSCALL_OK(pt(PTRACE_SETREGS, pid, 0, &regs));
	struct user_regs_struct again;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGS, pid, 0, &again));
	EXPECT_EQ(again.rax, 42);
	/* Bad values are refused whole. */
	struct user_regs_struct bad = regs;
	bad.cs = 0;
	EXPECT_ERRNO(pt(PTRACE_SETREGS, pid, 0, &bad), EIO);
	bad = regs;
	bad.fs_base = 1UL << 63;
	EXPECT_ERRNO(pt(PTRACE_SETREGS, pid, 0, &bad), EIO);
	EXPECT_ERRNO(pt(PTRACE_GETREGS, pid, 0, (void *)8), EFAULT);
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGS, pid, 0, &again));
	EXPECT_EQ(again.rax, 42);
	EXPECT_EQ(again.fs_base, regs.fs_base);
	cont_and_expect_exit(pid, 0, 0);
}

TEST(ptrace, peekuser_and_pokeuser_use_struct_user_offsets)
{
	pid_t pid = traced_child(exit_0_if_42);
	long v;
	ASSERT_SYSCALL_OK(pt(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user_regs_struct, orig_rax), &v));
	EXPECT_EQ(v, SYS_kill);
	ASSERT_SYSCALL_OK(pt(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user, u_debugreg[7]), &v));
	EXPECT_EQ(v, 0);
	ASSERT_SYSCALL_OK(pt(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user, u_debugreg[0]), &v));
	EXPECT_EQ(v, 0);
	EXPECT_ERRNO(pt(PTRACE_PEEKUSER, pid, (void *)3, &v), EIO);
	/* The kernel's struct user ends with error_code and fault_address,
	 * which glibc's lacks. */
	ASSERT_SYSCALL_OK(pt(PTRACE_PEEKUSER, pid, (void *)sizeof(struct user), &v));
	EXPECT_ERRNO(pt(PTRACE_PEEKUSER, pid, (void *)(sizeof(struct user) + 16), &v), EIO);
	EXPECT_ERRNO(pt(PTRACE_POKEUSER, pid, (void *)offsetof(struct user_regs_struct, cs), 0), EIO);
	ASSERT_SYSCALL_OK(pt(PTRACE_POKEUSER, pid, (void *)offsetof(struct user_regs_struct, rax), (void *)42));
	cont_and_expect_exit(pid, 0, 0);
}

static int exit_0_if_round_toward_zero(long r)
{
	(void)r;
	unsigned int mxcsr;
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	return (mxcsr & 0x6000) == 0x6000 ? 0 : 1;
}

TEST(ptrace, getfpregs_and_setfpregs_move_the_fxsave_area)
{
	pid_t pid = traced_child(exit_0_if_round_toward_zero);
	struct user_fpregs_struct fp;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETFPREGS, pid, 0, &fp));
	EXPECT_EQ(fp.cwd, 0x37f);
	EXPECT_EQ(fp.mxcsr & 0xffff, 0x1f80);
	fp.mxcsr |= 0x6000;
	ASSERT_SYSCALL_OK(pt(PTRACE_SETFPREGS, pid, 0, &fp));
	struct user_fpregs_struct again;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETFPREGS, pid, 0, &again));
	EXPECT_EQ(again.mxcsr & 0xffff, 0x7f80);
	cont_and_expect_exit(pid, 0, 0);
}

TEST(ptrace, getregset_takes_an_iovec_and_shortens_its_length)
{
	pid_t pid = traced_child(exit_7);
	static char buf[65536];
	struct iovec iov = {buf, sizeof(buf)};
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov));
	EXPECT_EQ(iov.iov_len, sizeof(struct user_regs_struct));
	EXPECT_EQ(((struct user_regs_struct *)buf)->orig_rax, SYS_kill);
	iov.iov_len = 8;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov));
	EXPECT_EQ(iov.iov_len, 8);
	iov.iov_len = 7;
	EXPECT_ERRNO(pt(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov), EINVAL);
	iov.iov_len = sizeof(buf);
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGSET, pid, (void *)NT_PRFPREG, &iov));
	EXPECT_EQ(iov.iov_len, sizeof(struct user_fpregs_struct));
	iov.iov_len = sizeof(buf);
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov));
	EXPECT_GE(iov.iov_len, 576);
	/* The software-reserved bytes start with XCR0 (where gdb reads
	 * it): x87 and SSE at least. */
	unsigned long long xcr0;
	memcpy(&xcr0, buf + 464, 8);
	EXPECT_EQ(xcr0 & 3, 3);
	iov.iov_len = sizeof(buf);
	EXPECT_ERRNO(pt(PTRACE_GETREGSET, pid, (void *)0x9999, &iov), EINVAL);
	cont_and_expect_exit(pid, 0, 7);
}

TEST(ptrace, setregset_nt_prstatus_sets_the_registers)
{
	pid_t pid = traced_child(exit_0_if_42);
	struct user_regs_struct regs;
	struct iovec iov = {&regs, sizeof(regs)};
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov));
	regs.rax = 42;
	ASSERT_SYSCALL_OK(pt(PTRACE_SETREGSET, pid, (void *)NT_PRSTATUS, &iov));
	cont_and_expect_exit(pid, 0, 0);
}

TEST(ptrace, unknown_requests_fail_with_EIO)
{
	pid_t pid = traced_child(exit_7);
	EXPECT_ERRNO(pt(0x7777, pid, 0, 0), EIO);
	EXPECT_ERRNO(pt(PTRACE_CONT, pid, 0, (void *)(long)1000), EIO);
	cont_and_expect_exit(pid, 0, 7);
}

static int spin_then_exit_7(long r)
{
	volatile int x = (int)r;
	for (int i = 0; i < 100; i++)
		x += i;
	return 7 + (x - x);
}

TEST(ptrace, singlestep_runs_one_instruction_then_stops_with_SIGTRAP)
{
	pid_t pid = traced_child(spin_then_exit_7);
	struct user_regs_struct before, after;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGS, pid, 0, &before));
	for (int i = 0; i < 3; i++) {
		ASSERT_SYSCALL_OK(pt(PTRACE_SINGLESTEP, pid, 0, 0));
		int ws;
		ASSERT_EQ(waitpid(pid, &ws, 0), pid);
		ASSERT_TRUE(WIFSTOPPED(ws));
		EXPECT_EQ(WSTOPSIG(ws), SIGTRAP);
		ASSERT_SYSCALL_OK(pt(PTRACE_GETREGS, pid, 0, &after));
		/* One instruction on (x86 instructions are at most 15
		 * bytes, and none of these is a jump backwards yet). */
		EXPECT_NE(after.rip, before.rip);
		EXPECT_EQ(after.eflags & 0x100, 0);
		siginfo_t si;
		ASSERT_SYSCALL_OK(pt(PTRACE_GETSIGINFO, pid, 0, &si));
		EXPECT_EQ(si.si_signo, SIGTRAP);
		before = after;
	}
	cont_and_expect_exit(pid, 0, 7);
}

static int exit_0_if_usr2_blocked(long r)
{
	(void)r;
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, SIGUSR2) && !sigismember(&cur, SIGUSR1) ? 0 : 1;
}

TEST(ptrace, getsigmask_and_setsigmask_move_the_blocked_set)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	pid_t pid = traced_child(exit_0_if_usr2_blocked);
	unsigned long m = 0;
	EXPECT_ERRNO(pt(PTRACE_GETSIGMASK, pid, (void *)4, &m), EINVAL);
	ASSERT_SYSCALL_OK(pt(PTRACE_GETSIGMASK, pid, (void *)8, &m));
	EXPECT_EQ(m, 1UL << (SIGUSR1 - 1));
	m = 1UL << (SIGUSR2 - 1) | 1UL << (SIGKILL - 1) | 1UL << (SIGSTOP - 1);
	ASSERT_SYSCALL_OK(pt(PTRACE_SETSIGMASK, pid, (void *)8, &m));
	ASSERT_SYSCALL_OK(pt(PTRACE_GETSIGMASK, pid, (void *)8, &m));
	/* SIGKILL and SIGSTOP can never be blocked. */
	EXPECT_EQ(m, 1UL << (SIGUSR2 - 1));
	cont_and_expect_exit(pid, 0, 0);
}

TEST(ptrace, a_non_canonical_rip_from_the_tracer_faults_in_the_tracee)
{
	pid_t pid = traced_child(exit_7);
	struct user_regs_struct regs;
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGS, pid, 0, &regs));
	regs.rip = 0x8000000000000000UL;
	/* Privileged flags (IOPL, VM) are not taken either. */
	regs.eflags |= 0x3000 | 0x20000;
	ASSERT_SYSCALL_OK(pt(PTRACE_SETREGS, pid, 0, &regs));
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, 0));
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	EXPECT_EQ(WSTOPSIG(ws), SIGSEGV);
	ASSERT_SYSCALL_OK(pt(PTRACE_GETREGS, pid, 0, &regs));
	EXPECT_EQ(regs.eflags & 0x23000, 0);
	ASSERT_SYSCALL_OK(pt(PTRACE_CONT, pid, 0, (void *)(long)SIGSEGV));
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	EXPECT_KILLED_BY(ws, SIGSEGV);
}

struct peeksiginfo_args_ {
	unsigned long long off;
	unsigned int flags;
	int nr;
};

static int ignore_usr_and_exit_0(long r)
{
	(void)r;
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	return 0;
}

TEST(ptrace, peeksiginfo_reads_pending_signals_without_taking_them)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		ASSERT_SYSCALL_OK(pt(PTRACE_TRACEME, 0, 0, 0));
		/* One for the thread, one for the process. */
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
		syscall(SYS_kill, getpid(), SIGUSR2);
		syscall(SYS_kill, getpid(), SIGSTOP);
		_exit(ignore_usr_and_exit_0(0));
	}
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, 0), pid);
	ASSERT_TRUE(WIFSTOPPED(ws));
	siginfo_t si[4];
	memset(si, 0, sizeof(si));
	struct peeksiginfo_args_ a = {0, 0, 4};
	EXPECT_EQ(pt(PTRACE_PEEKSIGINFO, pid, &a, si), 1);
	EXPECT_EQ(si[0].si_signo, SIGUSR1);
	EXPECT_EQ(si[0].si_code, SI_TKILL);
	a.flags = 1; /* PTRACE_PEEKSIGINFO_SHARED */
	EXPECT_EQ(pt(PTRACE_PEEKSIGINFO, pid, &a, si), 1);
	EXPECT_EQ(si[0].si_signo, SIGUSR2);
	EXPECT_EQ(si[0].si_code, SI_USER);
	a.off = 1;
	EXPECT_EQ(pt(PTRACE_PEEKSIGINFO, pid, &a, si), 0);
	a.nr = -1;
	EXPECT_ERRNO(pt(PTRACE_PEEKSIGINFO, pid, &a, si), EINVAL);
	a.nr = 1;
	a.flags = 2;
	EXPECT_ERRNO(pt(PTRACE_PEEKSIGINFO, pid, &a, si), EINVAL);
	/* Still pending: peeking again sees the same. */
	a.off = 0;
	a.flags = 0;
	EXPECT_EQ(pt(PTRACE_PEEKSIGINFO, pid, &a, si), 1);
	cont_and_expect_exit(pid, 0, 0);
}

TEST(ptrace, proc_shows_a_stopped_tracee_in_tracing_stop)
{
	pid_t pid = traced_child(exit_7);
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	int fd = open(path, O_RDONLY);
	ASSERT_SYSCALL_OK(fd);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	close(fd);
	EXPECT_TRUE(strstr(buf, "State:\tt (tracing stop)") != NULL);
	cont_and_expect_exit(pid, 0, 7);
}

TEST(ptrace, pokeuser_past_the_registers_takes_only_debug_registers)
{
	pid_t pid = traced_child(exit_7);
	EXPECT_ERRNO(pt(PTRACE_POKEUSER, pid, (void *)offsetof(struct user, u_comm), (void *)1), EIO);
	EXPECT_ERRNO(pt(PTRACE_POKEUSER, pid, (void *)(sizeof(struct user) + 8), (void *)1), EIO);
	EXPECT_SYSCALL_OK(pt(PTRACE_POKEUSER, pid, (void *)offsetof(struct user, u_debugreg[7]), 0));
	long v = 1;
	ASSERT_SYSCALL_OK(pt(PTRACE_PEEKUSER, pid, (void *)offsetof(struct user, u_comm), &v));
	EXPECT_EQ(v, 0);
	cont_and_expect_exit(pid, 0, 7);
}
