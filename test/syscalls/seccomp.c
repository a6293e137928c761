/* seccomp(2) and prctl(PR_SET_SECCOMP/PR_GET_SECCOMP): syscall filtering. */
#include "test.h"

#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <ucontext.h>

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#ifndef SECCOMP_RET_LOG
#define SECCOMP_RET_LOG 0x7ffc0000U
#endif
#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef SECCOMP_GET_NOTIF_SIZES
#define SECCOMP_GET_NOTIF_SIZES 3
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* The call the filters below act on: the test framework never makes it. */
#define TARGET_NR SYS_getppid

static long sys_seccomp(unsigned op, unsigned flags, void *args)
{
	return syscall(SYS_seccomp, op, flags, args);
}

/* Installs a filter that answers action for TARGET_NR and allows the rest;
 * returns seccomp(2)'s result. */
static long install_target_filter(unsigned flags, unsigned action)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TARGET_NR, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	return sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static void set_nnp(void)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}

/* Runs fn in a forked child and returns its wait status. */
static int in_child(void (*fn)(void))
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	return test_wait_exit(pid);
}

/* ---- strict mode ---- */

static void strict_then_write_and_exit(void)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
	/* Only read, write, exit and rt_sigreturn from here on. */
	if (write(1, "", 0) != 0)
		syscall(SYS_exit, 2);
	syscall(SYS_exit, 7);
}

TEST(seccomp, strict_mode_allows_write_and_exit)
{
	EXPECT_EXIT_STATUS(in_child(strict_then_write_and_exit), 7);
}

static void strict_then_getppid(void)
{
	ASSERT_SYSCALL_OK(sys_seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL));
	syscall(TARGET_NR);
	syscall(SYS_exit, 3);
}

TEST(seccomp, strict_mode_kills_any_other_call_with_SIGKILL)
{
	EXPECT_KILLED_BY(in_child(strict_then_getppid), SIGKILL);
}

static void strict_then_exit_group(void)
{
	ASSERT_SYSCALL_OK(sys_seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL));
	syscall(SYS_exit_group, 3);
}

TEST(seccomp, strict_mode_kills_exit_group_with_SIGKILL)
{
	EXPECT_KILLED_BY(in_child(strict_then_exit_group), SIGKILL);
}

TEST(seccomp, strict_mode_with_flags_or_args_fails_with_EINVAL)
{
	EXPECT_ERRNO(sys_seccomp(SECCOMP_SET_MODE_STRICT, 1, NULL), EINVAL);
	EXPECT_ERRNO(sys_seccomp(SECCOMP_SET_MODE_STRICT, 0, (void *)8), EINVAL);
}

/* ---- filter mode: actions ---- */

static void errno_filter(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ERRNO | ENOMSG));
	ASSERT_ERRNO(syscall(TARGET_NR), ENOMSG);
	/* Other calls go through. */
	ASSERT_EQ(syscall(SYS_getpid), getpid());
}

TEST(seccomp, filter_returning_ERRNO_fails_the_call_with_the_data)
{
	EXPECT_EXIT_STATUS(in_child(errno_filter), 0);
}

static void errno_filter_capped(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ERRNO | 0xffff));
	ASSERT_ERRNO(syscall(TARGET_NR), 4095);
}

TEST(seccomp, ERRNO_data_above_MAX_ERRNO_is_capped_at_4095)
{
	EXPECT_EXIT_STATUS(in_child(errno_filter_capped), 0);
}

static void errno_zero(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ERRNO | 0));
	/* The call is skipped and returns 0: not the parent's PID. */
	ASSERT_EQ(syscall(TARGET_NR), 0);
}

TEST(seccomp, ERRNO_zero_skips_the_call_and_returns_0)
{
	EXPECT_EXIT_STATUS(in_child(errno_zero), 0);
}

static volatile sig_atomic_t trap_seen;
static volatile long trap_syscall, trap_arch, trap_errno, trap_code, trap_rax;
static volatile void *trap_addr, *trap_rip;

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	(void)sig;
	trap_seen = 1;
	trap_code = si->si_code;
	trap_errno = si->si_errno;
	trap_syscall = si->si_syscall;
	trap_arch = si->si_arch;
	trap_addr = si->si_call_addr;
	trap_rip = (void *)uc->uc_mcontext.gregs[REG_RIP];
	trap_rax = uc->uc_mcontext.gregs[REG_RAX];
	/* Make the trapped call return -EHOSTDOWN to its caller. */
	uc->uc_mcontext.gregs[REG_RAX] = -EHOSTDOWN;
}

static void trap_filter(void)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	ASSERT_SYSCALL_OK(sigaction(SIGSYS, &sa, NULL));
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_TRAP | 0x1234));
	ASSERT_ERRNO(syscall(TARGET_NR), EHOSTDOWN);
	ASSERT_TRUE(trap_seen);
	EXPECT_EQ(trap_code, SYS_SECCOMP);
	EXPECT_EQ(trap_errno, 0x1234);
	EXPECT_EQ(trap_syscall, TARGET_NR);
	EXPECT_EQ(trap_arch, AUDIT_ARCH_X86_64);
	/* si_call_addr is the address after the syscall instruction, where
	 * the handler's context resumes. */
	EXPECT_TRUE(trap_addr != NULL);
	EXPECT_EQ((long)trap_addr, (long)trap_rip);
	/* The handler sees the registers as at the call: rax holds the
	 * syscall number. */
	EXPECT_EQ(trap_rax, TARGET_NR);
}

TEST(seccomp, TRAP_raises_SIGSYS_with_SYS_SECCOMP_siginfo)
{
	EXPECT_EXIT_STATUS(in_child(trap_filter), 0);
}

static void trap_blocked(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_TRAP));
	syscall(TARGET_NR);
	_exit(5);
}

TEST(seccomp, TRAP_with_SIGSYS_blocked_kills_with_SIGSYS)
{
	EXPECT_KILLED_BY(in_child(trap_blocked), SIGSYS);
}

static void kill_process_filter(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_KILL_PROCESS));
	syscall(TARGET_NR);
	_exit(5);
}

TEST(seccomp, KILL_PROCESS_kills_the_process_with_SIGSYS)
{
	EXPECT_KILLED_BY(in_child(kill_process_filter), SIGSYS);
}

static void *thread_getppid(void *arg)
{
	(void)arg;
	syscall(TARGET_NR);
	return NULL;
}

static void kill_process_from_thread(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_KILL_PROCESS));
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, thread_getppid, NULL), 0);
	pthread_join(th, NULL);
	_exit(5);
}

TEST(seccomp, KILL_PROCESS_in_a_thread_kills_every_thread)
{
	EXPECT_KILLED_BY(in_child(kill_process_from_thread), SIGSYS);
}

static void kill_thread_filter(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_KILL_THREAD));
	syscall(TARGET_NR);
	_exit(5);
}

TEST(seccomp, KILL_THREAD_of_the_only_thread_ends_the_process_with_SIGSYS)
{
	EXPECT_KILLED_BY(in_child(kill_thread_filter), SIGSYS);
}

static void trace_without_tracer(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_TRACE | 7));
	ASSERT_ERRNO(syscall(TARGET_NR), ENOSYS);
}

TEST(seccomp, TRACE_without_a_tracer_fails_the_call_with_ENOSYS)
{
	EXPECT_EXIT_STATUS(in_child(trace_without_tracer), 0);
}

static void log_filter(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_LOG));
	ASSERT_EQ(syscall(TARGET_NR), getppid());
}

TEST(seccomp, LOG_runs_the_call)
{
	EXPECT_EXIT_STATUS(in_child(log_filter), 0);
}

static void filter_flags(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(SECCOMP_FILTER_FLAG_LOG, SECCOMP_RET_ERRNO | 1));
	ASSERT_SYSCALL_OK(install_target_filter(SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_RET_ERRNO | 2));
	ASSERT_SYSCALL_OK(install_target_filter(SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_RET_ERRNO | 3));
	ASSERT_ERRNO(syscall(TARGET_NR), 3);
	ASSERT_ERRNO(install_target_filter(1U << 30, SECCOMP_RET_ALLOW), EINVAL);
}

TEST(seccomp, filter_flags_TSYNC_LOG_SPEC_ALLOW_are_accepted_unknown_is_EINVAL)
{
	EXPECT_EXIT_STATUS(in_child(filter_flags), 0);
}

/* ---- stacking, inheritance ---- */

static void stacked(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ERRNO | ENOMSG));
	/* A later ALLOW does not override an earlier ERRNO. */
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ALLOW));
	ASSERT_ERRNO(syscall(TARGET_NR), ENOMSG);
	/* Of two ERRNO results, the newest filter's data is used. */
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ERRNO | EXDEV));
	ASSERT_ERRNO(syscall(TARGET_NR), EXDEV);
	/* TRACE ranks below ERRNO: no change. */
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_TRACE));
	ASSERT_ERRNO(syscall(TARGET_NR), EXDEV);
	/* KILL_PROCESS ranks above everything. */
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_KILL_PROCESS));
	syscall(TARGET_NR);
	_exit(5);
}

TEST(seccomp, stacked_filters_all_run_and_the_highest_precedence_action_wins)
{
	EXPECT_KILLED_BY(in_child(stacked), SIGSYS);
}

static void inherited_by_fork(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ERRNO | ENOMSG));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_ERRNO(syscall(TARGET_NR), ENOMSG);
		ASSERT_EQ(prctl(PR_GET_SECCOMP), 2);
		_exit(0);
	}
	ASSERT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(seccomp, filters_are_inherited_by_fork)
{
	EXPECT_EXIT_STATUS(in_child(inherited_by_fork), 0);
}

static void *thread_errno(void *arg)
{
	(void)arg;
	errno = 0;
	long r = syscall(TARGET_NR);
	return (void *)(long)(r == -1 ? errno : 0);
}

static void inherited_by_thread(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ERRNO | ENOMSG));
	pthread_t th;
	void *ret;
	ASSERT_EQ(pthread_create(&th, NULL, thread_errno, NULL), 0);
	ASSERT_EQ(pthread_join(th, &ret), 0);
	ASSERT_EQ((long)ret, ENOMSG);
}

TEST(seccomp, filters_are_inherited_by_new_threads)
{
	EXPECT_EXIT_STATUS(in_child(inherited_by_thread), 0);
}

static int tsync_go[2], tsync_done[2];

static void *thread_wait_then_call(void *arg)
{
	(void)arg;
	char c;
	if (read(tsync_go[0], &c, 1) != 1)
		return (void *)-1L;
	errno = 0;
	long r = syscall(TARGET_NR);
	return (void *)(long)(r == -1 ? errno : 0);
}

static void tsync(void)
{
	ASSERT_SYSCALL_OK(pipe(tsync_go));
	ASSERT_SYSCALL_OK(pipe(tsync_done));
	pthread_t th;
	void *ret;
	ASSERT_EQ(pthread_create(&th, NULL, thread_wait_then_call, NULL), 0);
	set_nnp();
	ASSERT_EQ(install_target_filter(SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_RET_ERRNO | ENOMSG), 0);
	ASSERT_EQ(write(tsync_go[1], "g", 1), 1);
	ASSERT_EQ(pthread_join(th, &ret), 0);
	ASSERT_EQ((long)ret, ENOMSG);
}

TEST(seccomp, TSYNC_applies_the_filter_to_existing_threads)
{
	EXPECT_EXIT_STATUS(in_child(tsync), 0);
}

static void *thread_installs(void *arg)
{
	(void)arg;
	return (void *)install_target_filter(0, SECCOMP_RET_ERRNO | EXDEV);
}

static void tsync_diverged(void)
{
	set_nnp();
	pthread_t th;
	void *ret;
	ASSERT_EQ(pthread_create(&th, NULL, thread_installs, NULL), 0);
	ASSERT_EQ(pthread_join(th, &ret), 0);
	ASSERT_EQ((long)ret, 0);
	/* The thread has exited: nothing diverges any more. */
	ASSERT_EQ(install_target_filter(SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_RET_ERRNO | ENOMSG), 0);
}

TEST(seccomp, TSYNC_ignores_threads_that_have_exited)
{
	EXPECT_EXIT_STATUS(in_child(tsync_diverged), 0);
}

static int tsync_block[2];
static volatile pid_t tsync_tid;

static void *thread_installs_and_waits(void *arg)
{
	(void)arg;
	long r = install_target_filter(0, SECCOMP_RET_ERRNO | EXDEV);
	tsync_tid = syscall(SYS_gettid);
	char c = r == 0 ? 'y' : 'n';
	if (write(tsync_done[1], &c, 1) != 1)
		return NULL;
	/* Stay alive until the main thread has tried TSYNC. */
	if (read(tsync_block[0], &c, 1) != 1)
		return NULL;
	return NULL;
}

static void tsync_conflict(void)
{
	ASSERT_SYSCALL_OK(pipe(tsync_done));
	ASSERT_SYSCALL_OK(pipe(tsync_block));
	set_nnp();
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, thread_installs_and_waits, NULL), 0);
	char c;
	ASSERT_EQ(read(tsync_done[0], &c, 1), 1);
	ASSERT_EQ(c, 'y');
	/* The thread has a filter the caller lacks: TSYNC fails and
	 * returns its thread ID. */
	EXPECT_EQ(install_target_filter(SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_RET_ERRNO | ENOMSG), tsync_tid);
	ASSERT_EQ(write(tsync_block[1], "x", 1), 1);
	ASSERT_EQ(pthread_join(th, NULL), 0);
}

TEST(seccomp, TSYNC_returns_the_TID_of_a_thread_with_a_diverged_filter)
{
	EXPECT_EXIT_STATUS(in_child(tsync_conflict), 0);
}

TEST_HELPER(call_target)
{
	(void)argc;
	(void)argv;
	errno = 0;
	if (syscall(TARGET_NR) != -1)
		return 100;
	if (prctl(PR_GET_SECCOMP) != 2)
		return 101;
	return errno;
}

static void kept_across_exec(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ERRNO | ENOMSG));
	char *argv[] = {(char *)test_self_exe(), "--helper", "call_target", NULL};
	char *envp[] = {NULL};
	execve(argv[0], argv, envp);
	_exit(99);
}

TEST(seccomp, filters_are_kept_across_execve)
{
	EXPECT_EXIT_STATUS(in_child(kept_across_exec), ENOMSG);
}

/* ---- permission and validation ---- */

static void eacces_without_nnp(void)
{
	if (geteuid() == 0) {
		/* Drop every capability with the root identity. */
		ASSERT_SYSCALL_OK(setresgid(65534, 65534, 65534));
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
	}
	ASSERT_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
	ASSERT_ERRNO(install_target_filter(0, SECCOMP_RET_ERRNO | 1), EACCES);
	ASSERT_ERRNO(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL), EFAULT);
	/* With no_new_privs it is allowed. */
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ERRNO | 1));
}

TEST(seccomp, filter_without_no_new_privs_or_CAP_SYS_ADMIN_fails_with_EACCES)
{
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 0)
		TEST_SKIP("no_new_privs is already set");
	EXPECT_EXIT_STATUS(in_child(eacces_without_nnp), 0);
}

static void cap_sys_admin_no_nnp(void)
{
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ERRNO | ENOMSG));
	ASSERT_ERRNO(syscall(TARGET_NR), ENOMSG);
}

TEST(seccomp, filter_with_CAP_SYS_ADMIN_needs_no_no_new_privs)
{
	if (geteuid() != 0 || prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) != 1)
		TEST_SKIP("needs CAP_SYS_ADMIN");
	EXPECT_EXIT_STATUS(in_child(cap_sys_admin_no_nnp), 0);
}

/* Installs prog (n instructions) and returns seccomp(2)'s errno, or 0. */
static int try_install(struct sock_filter *f, unsigned short n)
{
	struct sock_fprog prog = {.len = n, .filter = f};
	errno = 0;
	long r = sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog);
	return r == 0 ? 0 : errno;
}

#define TRY(...)                                                             \
	({                                                                   \
		struct sock_filter f_[] = {__VA_ARGS__};                     \
		try_install(f_, sizeof(f_) / sizeof(f_[0]));                 \
	})

static void bad_programs(void)
{
	set_nnp();
	struct sock_filter ret_allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/* Empty program. */
	EXPECT_EQ(try_install(&ret_allow, 0), EINVAL);
	/* Longer than BPF_MAXINSNS (4096). */
	static struct sock_filter big[4097];
	for (int i = 0; i < 4097; i++)
		big[i] = ret_allow;
	EXPECT_EQ(try_install(big, 4097), EINVAL);
	/* Does not end with a return. */
	EXPECT_EQ(TRY(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0)), EINVAL);
	/* Jumps past the end. */
	EXPECT_EQ(TRY(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
		      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)), EINVAL);
	EXPECT_EQ(TRY(BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
		      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)), EINVAL);
	/* An opcode that does not exist. */
	EXPECT_EQ(TRY(BPF_STMT(0xffff, 0), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)), EINVAL);
	/* A classic BPF opcode seccomp refuses: byte and half-word loads,
	 * indirect loads, modulo. */
	EXPECT_EQ(TRY(BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	EXPECT_EQ(TRY(BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	EXPECT_EQ(TRY(BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	EXPECT_EQ(TRY(BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	/* Loads outside seccomp_data, or not aligned on 4 bytes. */
	EXPECT_EQ(TRY(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	EXPECT_EQ(TRY(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	/* Scratch memory has 16 words. */
	EXPECT_EQ(TRY(BPF_STMT(BPF_ST, 16), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	EXPECT_EQ(TRY(BPF_STMT(BPF_LD | BPF_MEM, 16), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	/* A scratch word read before anything stored it. */
	EXPECT_EQ(TRY(BPF_STMT(BPF_LD | BPF_MEM, 3), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	/* Division by a constant zero. */
	EXPECT_EQ(TRY(BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	/* Shift by 32 or more. */
	EXPECT_EQ(TRY(BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), BPF_STMT(BPF_RET | BPF_K, 0)), EINVAL);
	/* Nothing got installed. */
	EXPECT_EQ(prctl(PR_GET_SECCOMP), 0);
	/* The same shapes done right are accepted. */
	EXPECT_EQ(TRY(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), /* nr: not 0 */
		      BPF_STMT(BPF_ST, 15),
		      BPF_STMT(BPF_LDX | BPF_MEM, 15),
		      BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
		      BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		      BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0),
		      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)), 0);
}

TEST(seccomp, invalid_programs_fail_with_EINVAL)
{
	if (prctl(PR_GET_SECCOMP) != 0)
		TEST_SKIP("already under a seccomp filter");
	EXPECT_EXIT_STATUS(in_child(bad_programs), 0);
}

static void bad_pointers(void)
{
	set_nnp();
	EXPECT_ERRNO(sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, (void *)8), EFAULT);
	struct sock_fprog prog = {.len = 1, .filter = (struct sock_filter *)8};
	EXPECT_ERRNO(sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog), EFAULT);
	EXPECT_ERRNO(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (void *)8), EFAULT);
}

TEST(seccomp, bad_pointers_fail_with_EFAULT)
{
	EXPECT_EXIT_STATUS(in_child(bad_pointers), 0);
}

static void total_length(void)
{
	set_nnp();
	/* 4096 instructions each; every filter costs its length plus 4
	 * towards a 32768-instruction total. */
	static struct sock_filter f[4096];
	for (int i = 0; i < 4095; i++)
		f[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0);
	f[4095] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (int i = 0; i < 7; i++)
		ASSERT_EQ(try_install(f, 4096), 0);
	EXPECT_EQ(try_install(f, 4096), ENOMEM);
	/* A shorter one still fits. */
	EXPECT_EQ(try_install(f + 4095, 1), 0);
}

TEST(seccomp, filters_over_32768_instructions_in_total_fail_with_ENOMEM)
{
	if (prctl(PR_GET_SECCOMP) != 0)
		TEST_SKIP("already under a seccomp filter");
	EXPECT_EXIT_STATUS(in_child(total_length), 0);
}

TEST(seccomp, unknown_operation_fails_with_EINVAL)
{
	EXPECT_ERRNO(sys_seccomp(99, 0, NULL), EINVAL);
}

/* ---- modes ---- */

static void get_seccomp(void)
{
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ALLOW));
	ASSERT_EQ(prctl(PR_GET_SECCOMP), 2);
	/* Filter mode can't go back to strict. */
	ASSERT_ERRNO(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT), EINVAL);
	ASSERT_ERRNO(sys_seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL), EINVAL);
}

TEST(seccomp, PR_GET_SECCOMP_is_2_after_a_filter_and_strict_is_then_EINVAL)
{
	EXPECT_EXIT_STATUS(in_child(get_seccomp), 0);
}

TEST(seccomp, PR_SET_SECCOMP_with_an_unknown_mode_fails_with_EINVAL)
{
	EXPECT_ERRNO(prctl(PR_SET_SECCOMP, 3, 0), EINVAL);
}

static void prctl_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TARGET_NR, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOMSG),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = 4, .filter = f};
	set_nnp();
	ASSERT_SYSCALL_OK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
	ASSERT_ERRNO(syscall(TARGET_NR), ENOMSG);
}

TEST(seccomp, PR_SET_SECCOMP_installs_a_filter)
{
	EXPECT_EXIT_STATUS(in_child(prctl_filter), 0);
}

/* Reads "Name:\t<n>" from /proc/self/status; -1 if absent. */
static long status_field(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	long v = -1;
	size_t n = strlen(name);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static void proc_status(void)
{
	long before = status_field("Seccomp_filters");
	ASSERT_GE(before, 0);
	set_nnp();
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ALLOW));
	ASSERT_SYSCALL_OK(install_target_filter(0, SECCOMP_RET_ALLOW));
	EXPECT_EQ(status_field("Seccomp"), 2);
	EXPECT_EQ(status_field("Seccomp_filters"), before + 2);
}

TEST(seccomp, proc_status_shows_the_mode_and_the_filter_count)
{
	EXPECT_EXIT_STATUS(in_child(proc_status), 0);
}

/* ---- GET_ACTION_AVAIL, GET_NOTIF_SIZES ---- */

TEST(seccomp, GET_ACTION_AVAIL_knows_every_action_but_unknown_ones)
{
	unsigned actions[] = {
		SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP,
		SECCOMP_RET_ERRNO, SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW,
	};
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		EXPECT_SYSCALL_OK(sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &actions[i]));
	unsigned unknown = 0x00010000;
	EXPECT_ERRNO(sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &unknown), EOPNOTSUPP);
	EXPECT_ERRNO(sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 1, &actions[0]), EINVAL);
	EXPECT_ERRNO(sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, (void *)8), EFAULT);
}

TEST(seccomp, GET_NOTIF_SIZES_reports_the_seccomp_data_size)
{
	unsigned short sizes[3] = {0, 0, 0};
	ASSERT_SYSCALL_OK(sys_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, sizes));
	EXPECT_EQ(sizes[2], 64); /* struct seccomp_data */
	EXPECT_GE(sizes[0], 80); /* struct seccomp_notif */
	EXPECT_GE(sizes[1], 24); /* struct seccomp_notif_resp */
	EXPECT_ERRNO(sys_seccomp(SECCOMP_GET_NOTIF_SIZES, 1, sizes), EINVAL);
}
