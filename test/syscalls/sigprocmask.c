/* sigprocmask(2)/rt_sigprocmask, sigpending(2), sigwaitinfo(2), sigtimedwait(2). */
#include "test.h"

#include <time.h>

static volatile sig_atomic_t hits;
static void count(int sig)
{
	(void)sig;
	hits++;
}

static sigset_t just(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	return s;
}

TEST(sigprocmask, blocked_signal_stays_pending_and_is_not_delivered)
{
	signal(SIGUSR1, count);
	sigset_t s = just(SIGUSR1), pending;
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	EXPECT_EQ(hits, 0);
	ASSERT_SYSCALL_OK(sigpending(&pending));
	EXPECT_TRUE(sigismember(&pending, SIGUSR1));
}

TEST(sigprocmask, unblocking_delivers_the_pending_signal_before_returning)
{
	signal(SIGUSR1, count);
	sigset_t s = just(SIGUSR1);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	ASSERT_SYSCALL_OK(sigprocmask(SIG_UNBLOCK, &s, NULL));
	EXPECT_EQ(hits, 1);
	sigset_t pending;
	ASSERT_SYSCALL_OK(sigpending(&pending));
	EXPECT_FALSE(sigismember(&pending, SIGUSR1));
}

TEST(sigprocmask, SIG_SETMASK_replaces_mask_and_returns_the_old_one)
{
	sigset_t a = just(SIGUSR1), b = just(SIGUSR2), old, cur;
	ASSERT_SYSCALL_OK(sigprocmask(SIG_SETMASK, &a, NULL));
	ASSERT_SYSCALL_OK(sigprocmask(SIG_SETMASK, &b, &old));
	EXPECT_TRUE(sigismember(&old, SIGUSR1));
	EXPECT_FALSE(sigismember(&old, SIGUSR2));
	ASSERT_SYSCALL_OK(sigprocmask(SIG_SETMASK, NULL, &cur));
	EXPECT_FALSE(sigismember(&cur, SIGUSR1));
	EXPECT_TRUE(sigismember(&cur, SIGUSR2));
}

TEST(sigprocmask, SIGKILL_and_SIGSTOP_cannot_be_blocked)
{
	sigset_t all, cur;
	sigfillset(&all);
	ASSERT_SYSCALL_OK(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8));
	ASSERT_SYSCALL_OK(sigprocmask(SIG_SETMASK, NULL, &cur));
	EXPECT_FALSE(sigismember(&cur, SIGKILL));
	EXPECT_FALSE(sigismember(&cur, SIGSTOP));
	EXPECT_TRUE(sigismember(&cur, SIGTERM));
}

TEST(sigprocmask, invalid_how_fails_with_EINVAL)
{
	sigset_t s = just(SIGUSR1);
	EXPECT_ERRNO(syscall(SYS_rt_sigprocmask, 99, &s, NULL, 8), EINVAL);
}

TEST(rt_sigprocmask, wrong_sigsetsize_fails_with_EINVAL)
{
	sigset_t s = just(SIGUSR1);
	EXPECT_ERRNO(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &s, NULL, 4), EINVAL);
}

TEST(sigprocmask, mask_is_inherited_by_fork_child)
{
	sigset_t s = just(SIGUSR2);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		sigset_t cur;
		sigprocmask(SIG_SETMASK, NULL, &cur);
		_exit(sigismember(&cur, SIGUSR2) ? 0 : 1);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(sigprocmask, pending_signals_are_not_inherited_by_fork_child)
{
	sigset_t s = just(SIGUSR1);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		sigset_t pending;
		sigpending(&pending);
		_exit(sigismember(&pending, SIGUSR1) ? 1 : 0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(sigwaitinfo, accepts_a_pending_blocked_signal_without_running_handler)
{
	signal(SIGUSR1, count);
	sigset_t s = just(SIGUSR1);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	EXPECT_EQ(sigwaitinfo(&s, &si), SIGUSR1);
	EXPECT_EQ(si.si_signo, SIGUSR1);
	EXPECT_EQ(si.si_pid, getpid());
	EXPECT_EQ(hits, 0);
	sigset_t pending;
	ASSERT_SYSCALL_OK(sigpending(&pending));
	EXPECT_FALSE(sigismember(&pending, SIGUSR1));
}

TEST(sigtimedwait, with_zero_timeout_and_nothing_pending_fails_with_EAGAIN)
{
	sigset_t s = just(SIGUSR1);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	struct timespec zero = {0, 0};
	EXPECT_ERRNO(sigtimedwait(&s, NULL, &zero), EAGAIN);
}

TEST(sigtimedwait, waits_for_signal_sent_by_another_process)
{
	sigset_t s = just(SIGUSR2);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &s, NULL));
	pid_t parent = getpid();
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		kill(parent, SIGUSR2);
		_exit(0);
	}
	struct timespec ts = {5, 0};
	siginfo_t si;
	EXPECT_EQ(sigtimedwait(&s, &si, &ts), SIGUSR2);
	EXPECT_EQ(si.si_pid, pid);
	test_wait_exit(pid);
}
