/*
 * setitimer(2), getitimer(2): ITIMER_VIRTUAL and ITIMER_PROF. ITIMER_REAL
 * is left alone: the framework's per-case timeout is alarm(2).
 */
#include "test.h"

#include <sys/time.h>
#include <time.h>

static long long mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static volatile sig_atomic_t hits;

static void count(int sig)
{
	(void)sig;
	hits++;
}

static void catch(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = count;
	sigaction(sig, &sa, NULL);
}

/* Spins until want signals arrived or ms of wall time passed. */
static void spin_until_hits(int want, long ms)
{
	long long end = mono_ns() + ms * 1000000LL;
	volatile unsigned long x = 0;
	while (hits < want && mono_ns() < end)
		for (int i = 0; i < 10000; i++)
			x += i;
}

static int set(int which, long value_us, long interval_us, struct itimerval *old)
{
	struct itimerval it = {
		.it_interval = {interval_us / 1000000, interval_us % 1000000},
		.it_value = {value_us / 1000000, value_us % 1000000},
	};
	return setitimer(which, &it, old);
}

TEST(setitimer, ITIMER_VIRTUAL_sends_SIGVTALRM_to_a_computing_process)
{
	catch(SIGVTALRM);
	ASSERT_SYSCALL_OK(set(ITIMER_VIRTUAL, 50000, 0, NULL));
	spin_until_hits(1, 5000);
	EXPECT_EQ(hits, 1);
}

TEST(setitimer, ITIMER_PROF_sends_SIGPROF_to_a_computing_process)
{
	catch(SIGPROF);
	ASSERT_SYSCALL_OK(set(ITIMER_PROF, 50000, 0, NULL));
	spin_until_hits(1, 5000);
	EXPECT_EQ(hits, 1);
}

TEST(setitimer, ITIMER_PROF_with_an_interval_fires_repeatedly)
{
	catch(SIGPROF);
	ASSERT_SYSCALL_OK(set(ITIMER_PROF, 20000, 20000, NULL));
	spin_until_hits(4, 5000);
	EXPECT_GE(hits, 4);
	ASSERT_SYSCALL_OK(set(ITIMER_PROF, 0, 0, NULL));
}

TEST(setitimer, ITIMER_VIRTUAL_does_not_count_time_asleep)
{
	sigset_t set_;
	sigemptyset(&set_);
	sigaddset(&set_, SIGVTALRM);
	sigprocmask(SIG_BLOCK, &set_, NULL);
	ASSERT_SYSCALL_OK(set(ITIMER_VIRTUAL, 100000, 0, NULL));
	struct timespec wait = {0, 400000000};
	EXPECT_ERRNO(sigtimedwait(&set_, NULL, &wait), EAGAIN);
	struct itimerval cur;
	ASSERT_SYSCALL_OK(getitimer(ITIMER_VIRTUAL, &cur));
	EXPECT_GT(cur.it_value.tv_sec * 1000000 + cur.it_value.tv_usec, 0);
}

TEST(getitimer, reports_the_remaining_time_and_interval)
{
	ASSERT_SYSCALL_OK(set(ITIMER_VIRTUAL, 30000000, 250000, NULL));
	struct itimerval cur;
	ASSERT_SYSCALL_OK(getitimer(ITIMER_VIRTUAL, &cur));
	long long left = cur.it_value.tv_sec * 1000000LL + cur.it_value.tv_usec;
	EXPECT_GT(left, 20000000LL);
	EXPECT_LE(left, 30010000LL); /* Linux may add a tick */
	EXPECT_EQ(cur.it_interval.tv_sec, 0);
	EXPECT_EQ(cur.it_interval.tv_usec, 250000);
	ASSERT_SYSCALL_OK(getitimer(ITIMER_PROF, &cur));
	EXPECT_EQ(cur.it_value.tv_sec, 0);
	EXPECT_EQ(cur.it_value.tv_usec, 0);
}

TEST(setitimer, returns_the_old_setting_and_zero_value_disarms)
{
	struct itimerval old;
	ASSERT_SYSCALL_OK(set(ITIMER_PROF, 40000000, 1000000, NULL));
	ASSERT_SYSCALL_OK(set(ITIMER_PROF, 0, 0, &old));
	EXPECT_GT(old.it_value.tv_sec, 30);
	EXPECT_EQ(old.it_interval.tv_sec, 1);
	struct itimerval cur;
	ASSERT_SYSCALL_OK(getitimer(ITIMER_PROF, &cur));
	EXPECT_EQ(cur.it_value.tv_sec, 0);
	EXPECT_EQ(cur.it_value.tv_usec, 0);
}

TEST(setitimer, bad_which_or_timeval_is_EINVAL)
{
	struct itimerval it = {{0, 0}, {0, 1000000}};
	EXPECT_ERRNO(setitimer(ITIMER_VIRTUAL, &it, NULL), EINVAL);
	it.it_value.tv_usec = -1;
	EXPECT_ERRNO(setitimer(ITIMER_PROF, &it, NULL), EINVAL);
	it.it_value.tv_usec = 0;
	it.it_interval.tv_usec = 1000000;
	EXPECT_ERRNO(setitimer(ITIMER_PROF, &it, NULL), EINVAL);
	it.it_interval.tv_usec = 0;
	EXPECT_ERRNO(syscall(SYS_setitimer, 3, &it, NULL), EINVAL);
	struct itimerval cur;
	EXPECT_ERRNO(syscall(SYS_getitimer, 3, &cur), EINVAL);
	EXPECT_ERRNO(syscall(SYS_getitimer, ITIMER_VIRTUAL, (void *)8), EFAULT);
	EXPECT_ERRNO(syscall(SYS_setitimer, ITIMER_VIRTUAL, (void *)8, NULL), EFAULT);
}

TEST(fork, child_does_not_inherit_cpu_itimers)
{
	ASSERT_SYSCALL_OK(set(ITIMER_VIRTUAL, 30000000, 0, NULL));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct itimerval cur;
		getitimer(ITIMER_VIRTUAL, &cur);
		_exit(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 ? 0 : 1);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST_HELPER(check_itimer_virtual)
{
	(void)argc;
	(void)argv;
	struct itimerval cur;
	if (getitimer(ITIMER_VIRTUAL, &cur) != 0)
		return 2;
	return cur.it_value.tv_sec > 0 ? 0 : 3;
}

TEST(execve, preserves_cpu_itimers)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		set(ITIMER_VIRTUAL, 30000000, 0, NULL);
		char *argv[] = {(char *)test_self_exe(), "--helper", "check_itimer_virtual", NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
