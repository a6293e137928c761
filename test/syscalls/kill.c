/* kill(2), tgkill(2), tkill(2). */
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

static volatile sig_atomic_t hits;
static volatile pid_t handler_tid;
static void count(int sig)
{
	(void)sig;
	handler_tid = syscall(SYS_gettid);
	hits++;
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	ASSERT_GT(pid, 0);
	test_wait_exit(pid);
	return pid;
}

TEST(kill, signal_zero_checks_that_the_process_exists)
{
	EXPECT_SYSCALL_OK(kill(getpid(), 0));
	EXPECT_ERRNO(kill(dead_pid(), 0), ESRCH);
}

TEST(kill, nonexistent_pid_fails_with_ESRCH)
{
	EXPECT_ERRNO(kill(dead_pid(), SIGTERM), ESRCH);
}

TEST(kill, invalid_signal_fails_with_EINVAL)
{
	EXPECT_ERRNO(kill(getpid(), 65), EINVAL);
	EXPECT_ERRNO(kill(getpid(), -1), EINVAL);
}

TEST(kill, SIGKILL_terminates_child_that_cannot_catch_it)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		read(p[0], &c, 1);
		_exit(0);
	}
	ASSERT_SYSCALL_OK(kill(pid, SIGKILL));
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGKILL);
}

TEST(kill, SIGTERM_default_action_terminates_child)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		read(p[0], &c, 1);
		_exit(0);
	}
	ASSERT_SYSCALL_OK(kill(pid, SIGTERM));
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGTERM);
}

TEST(kill, signal_to_self_is_delivered_before_kill_returns)
{
	signal(SIGUSR1, count);
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	EXPECT_EQ(hits, 1);
}

TEST(kill, pid_zero_signals_every_process_in_callers_process_group)
{
	signal(SIGUSR1, count);
	ASSERT_SYSCALL_OK(setpgid(0, 0));
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &s, NULL)); /* inherited */
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(sigwaitinfo(&s, NULL) == SIGUSR1 ? 0 : 1);
	ASSERT_SYSCALL_OK(kill(0, SIGUSR1));
	ASSERT_SYSCALL_OK(sigprocmask(SIG_UNBLOCK, &s, NULL));
	EXPECT_EQ(hits, 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(kill, negative_pid_signals_that_process_group)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char c;
		setpgid(0, 0);
		close(p[1]);
		read(p[0], &c, 1);
		_exit(0);
	}
	ASSERT_SYSCALL_OK(setpgid(pid, pid)); /* either side may win the race */
	ASSERT_SYSCALL_OK(kill(-pid, SIGTERM));
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGTERM);
}

TEST(tgkill, delivers_to_the_named_thread)
{
	signal(SIGUSR1, count);
	pid_t tid = syscall(SYS_gettid);
	ASSERT_SYSCALL_OK(syscall(SYS_tgkill, getpid(), tid, SIGUSR1));
	EXPECT_EQ(hits, 1);
	EXPECT_EQ(handler_tid, tid);
}

static pid_t other_tid;
static int go_pipe[2];
static void *wait_on_pipe(void *arg)
{
	(void)arg;
	other_tid = syscall(SYS_gettid);
	char c;
	/* Wake the main thread, then sleep until the main thread closes the pipe. */
	while (read(go_pipe[0], &c, 1) == -1 && errno == EINTR)
		;
	return NULL;
}

TEST(tgkill, signal_to_another_thread_runs_handler_in_that_thread)
{
	signal(SIGUSR1, count);
	ASSERT_SYSCALL_OK(pipe(go_pipe));
	pthread_t t;
	ASSERT_EQ(pthread_create(&t, NULL, wait_on_pipe, NULL), 0);
	while (__atomic_load_n(&other_tid, __ATOMIC_SEQ_CST) == 0)
		sched_yield();
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &s, NULL)); /* main won't take it */
	ASSERT_SYSCALL_OK(syscall(SYS_tgkill, getpid(), other_tid, SIGUSR1));
	while (hits == 0)
		sched_yield();
	EXPECT_EQ(handler_tid, other_tid);
	close(go_pipe[1]);
	pthread_join(t, NULL);
}

TEST(tgkill, wrong_thread_group_fails_with_ESRCH)
{
	pid_t tid = syscall(SYS_gettid);
	EXPECT_ERRNO(syscall(SYS_tgkill, dead_pid(), tid, SIGUSR1), ESRCH);
}

TEST(tgkill, invalid_tid_fails_with_EINVAL)
{
	EXPECT_ERRNO(syscall(SYS_tgkill, getpid(), 0, SIGUSR1), EINVAL);
	EXPECT_ERRNO(syscall(SYS_tgkill, getpid(), -1, SIGUSR1), EINVAL);
}

TEST(tkill, delivers_to_thread_with_given_tid)
{
	signal(SIGUSR2, count);
	ASSERT_SYSCALL_OK(syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR2));
	EXPECT_EQ(hits, 1);
}

/* Runs fn in a child that has become user 65534 (all its UIDs, so no
 * capability is left) and returns its exit status; root only. */
static int as_other_user(void (*fn)(pid_t parent))
{
	pid_t parent = getpid();
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setresgid(65534, 65534, 65534));
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		fn(parent);
		_exit(0);
	}
	return test_wait_exit(pid);
}

static void kill_parent_is_refused(pid_t parent)
{
	ASSERT_ERRNO(kill(parent, 0), EPERM);
	ASSERT_ERRNO(kill(parent, SIGTERM), EPERM);
}

TEST(kill, a_process_of_another_user_cannot_be_signalled_EPERM)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	EXPECT_EXIT_STATUS(as_other_user(kill_parent_is_refused), 0);
}

static void kill_parent_group_is_refused(pid_t parent)
{
	/* A group of its own, holding only the (root) parent. */
	ASSERT_ERRNO(kill(-getpgid(parent), SIGTERM), EPERM);
}

TEST(kill, a_process_group_of_another_user_cannot_be_signalled_EPERM)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	/* The case runs as its group's leader: move to a group holding only
	 * this process, so the child is outside it. */
	ASSERT_SYSCALL_OK(setpgid(0, 0));
	pid_t parent = getpid();
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setpgid(0, 0));
		ASSERT_SYSCALL_OK(setresgid(65534, 65534, 65534));
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		kill_parent_group_is_refused(parent);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

static void tgkill_parent_is_refused(pid_t parent)
{
	ASSERT_ERRNO(syscall(SYS_tgkill, parent, parent, SIGTERM), EPERM);
	ASSERT_ERRNO(syscall(SYS_tkill, parent, 0), EPERM);
}

TEST(tgkill, a_thread_of_another_user_cannot_be_signalled_EPERM)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	EXPECT_EXIT_STATUS(as_other_user(tgkill_parent_is_refused), 0);
}

static void sigcont_parent_is_allowed(pid_t parent)
{
	/* Same session: SIGCONT may go to any of its processes. */
	ASSERT_SYSCALL_OK(kill(parent, SIGCONT));
}

TEST(kill, SIGCONT_may_go_to_another_users_process_in_the_same_session)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	EXPECT_EXIT_STATUS(as_other_user(sigcont_parent_is_allowed), 0);
}

static void kill_all_checks_only(pid_t parent)
{
	(void)parent;
	/* Signal 0 only: -1 reaches every process the caller may signal and
	 * skips the others without failing. */
	ASSERT_SYSCALL_OK(kill(-1, 0));
}

TEST(kill, minus_one_skips_processes_the_caller_may_not_signal)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	EXPECT_EXIT_STATUS(as_other_user(kill_all_checks_only), 0);
}
