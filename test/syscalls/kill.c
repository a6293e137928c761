/* kill(2), tgkill(2), tkill(2). */
#include "test.h"

#include <pthread.h>
#include <sched.h>

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
