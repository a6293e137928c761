/*
 * POSIX timers: timer_create(2), timer_settime(2), timer_gettime(2),
 * timer_getoverrun(2), timer_delete(2). Raw syscalls, so that the kernel's
 * timer IDs and errors are seen as they are. No SIGALRM: the framework's
 * timeout uses it.
 */
#include "test.h"

#include <time.h>

static int tcreate(clockid_t clock, struct sigevent *sev, int *id)
{
	return syscall(SYS_timer_create, clock, sev, id);
}

static int tset(int id, int flags, long long value_ns, long long interval_ns, struct itimerspec *old)
{
	struct itimerspec its = {
		.it_interval = {interval_ns / 1000000000, interval_ns % 1000000000},
		.it_value = {value_ns / 1000000000, value_ns % 1000000000},
	};
	return syscall(SYS_timer_settime, id, flags, &its, old);
}

static int tget(int id, struct itimerspec *cur)
{
	return syscall(SYS_timer_gettime, id, cur);
}

static long long ts_ns(struct timespec ts)
{
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts_ns(ts);
}

/* Blocks sig and returns a set holding only it. */
static sigset_t block(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return set;
}

/* Waits up to 5 s for a signal of set; returns its number or -1. */
static int wait_sig(const sigset_t *set, siginfo_t *si)
{
	struct timespec t = {5, 0};
	return sigtimedwait(set, si, &t);
}

static struct sigevent signal_event(int sig, long value)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = sig;
	sev.sigev_value.sival_ptr = (void *)value;
	return sev;
}

TEST(timer_create, SIGEV_SIGNAL_timer_sends_SI_TIMER_with_timer_id_and_value)
{
	sigset_t set = block(SIGUSR1);
	struct sigevent sev = signal_event(SIGUSR1, 0x1234567);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	ASSERT_SYSCALL_OK(tset(id, 0, 20000000, 0, NULL));
	siginfo_t si;
	ASSERT_EQ(wait_sig(&set, &si), SIGUSR1);
	EXPECT_EQ(si.si_code, SI_TIMER);
	EXPECT_EQ(si.si_timerid, id);
	EXPECT_EQ(si.si_overrun, 0);
	EXPECT_EQ((long)si.si_value.sival_ptr, 0x1234567);
	EXPECT_SYSCALL_OK(syscall(SYS_timer_delete, id));
}

TEST(timer_create, timers_get_distinct_ids)
{
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int a, b, c;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &a));
	ASSERT_SYSCALL_OK(tcreate(CLOCK_REALTIME, &sev, &b));
	ASSERT_SYSCALL_OK(tcreate(CLOCK_BOOTTIME, &sev, &c));
	EXPECT_NE(a, b);
	EXPECT_NE(b, c);
	EXPECT_NE(a, c);
}

TEST(timer_create, NULL_sevp_makes_an_unarmed_timer)
{
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, NULL, &id));
	struct itimerspec cur;
	ASSERT_SYSCALL_OK(tget(id, &cur));
	EXPECT_EQ(ts_ns(cur.it_value), 0);
	EXPECT_EQ(ts_ns(cur.it_interval), 0);
}

TEST(timer_create, SIGEV_NONE_timer_counts_down_without_a_signal)
{
	sigset_t set = block(SIGUSR2);
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_NONE;
	sev.sigev_signo = SIGUSR2;
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	ASSERT_SYSCALL_OK(tset(id, 0, 100000000, 0, NULL));
	struct itimerspec cur;
	ASSERT_SYSCALL_OK(tget(id, &cur));
	EXPECT_GT(ts_ns(cur.it_value), 0);
	EXPECT_LE(ts_ns(cur.it_value), 100000000);
	struct timespec wait = {0, 300000000};
	EXPECT_ERRNO(sigtimedwait(&set, NULL, &wait), EAGAIN);
	ASSERT_SYSCALL_OK(tget(id, &cur));
	EXPECT_EQ(ts_ns(cur.it_value), 0);
}

TEST(timer_create, SIGEV_THREAD_ID_signals_the_named_thread)
{
	sigset_t set = block(SIGUSR1);
	struct sigevent sev = signal_event(SIGUSR1, 7);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev._sigev_un._tid = gettid();
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	ASSERT_SYSCALL_OK(tset(id, 0, 10000000, 0, NULL));
	siginfo_t si;
	ASSERT_EQ(wait_sig(&set, &si), SIGUSR1);
	EXPECT_EQ(si.si_code, SI_TIMER);
	EXPECT_EQ(si.si_value.sival_int, 7);
}

TEST(timer_create, SIGEV_THREAD_ID_of_a_thread_outside_the_process_is_EINVAL)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	struct sigevent sev = signal_event(SIGUSR1, 0);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev._sigev_un._tid = pid;
	int id;
	EXPECT_ERRNO(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	kill(pid, SIGKILL);
	test_wait_exit(pid);
}

TEST(timer_create, bad_clock_signal_or_notify_is_EINVAL)
{
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int id;
	EXPECT_ERRNO(tcreate(1000, &sev, &id), EINVAL);
	EXPECT_ERRNO(tcreate((clockid_t)((~0x3ffff0 << 3) | 2), &sev, &id), EINVAL);
	sev.sigev_signo = 0;
	EXPECT_ERRNO(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev.sigev_signo = 65;
	EXPECT_ERRNO(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
	sev.sigev_signo = SIGUSR1;
	sev.sigev_notify = 99;
	EXPECT_ERRNO(tcreate(CLOCK_MONOTONIC, &sev, &id), EINVAL);
}

TEST(timer_create, clocks_without_timers_are_EOPNOTSUPP)
{
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int id;
	EXPECT_ERRNO(tcreate(CLOCK_MONOTONIC_RAW, &sev, &id), EOPNOTSUPP);
	EXPECT_ERRNO(tcreate(CLOCK_REALTIME_COARSE, &sev, &id), EOPNOTSUPP);
}

TEST(timer_create, bad_pointers_are_EFAULT)
{
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int id;
	EXPECT_ERRNO(tcreate(CLOCK_MONOTONIC, (void *)8, &id), EFAULT);
	EXPECT_ERRNO(tcreate(CLOCK_MONOTONIC, &sev, (void *)8), EFAULT);
}

TEST(timer_settime, bad_id_or_timespec_is_EINVAL)
{
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	EXPECT_ERRNO(tset(id + 100, 0, 1000000, 0, NULL), EINVAL);
	EXPECT_ERRNO(tset(-1, 0, 1000000, 0, NULL), EINVAL);
	struct itimerspec its = {{0, 0}, {0, 1000000000}};
	EXPECT_ERRNO(syscall(SYS_timer_settime, id, 0, &its, NULL), EINVAL);
	its.it_value.tv_nsec = -1;
	EXPECT_ERRNO(syscall(SYS_timer_settime, id, 0, &its, NULL), EINVAL);
	its.it_value.tv_nsec = 0;
	its.it_value.tv_sec = -1;
	EXPECT_ERRNO(syscall(SYS_timer_settime, id, 0, &its, NULL), EINVAL);
	its.it_value.tv_sec = 1;
	its.it_interval.tv_nsec = 1000000000;
	EXPECT_ERRNO(syscall(SYS_timer_settime, id, 0, &its, NULL), EINVAL);
	EXPECT_ERRNO(syscall(SYS_timer_settime, id, 0, NULL, NULL), EINVAL);
	EXPECT_ERRNO(syscall(SYS_timer_settime, id, 0, (void *)8, NULL), EFAULT);
	struct itimerspec cur;
	ASSERT_SYSCALL_OK(tget(id, &cur));
	EXPECT_EQ(ts_ns(cur.it_value), 0);
}

TEST(timer_settime, returns_the_old_setting_and_gettime_the_interval)
{
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	ASSERT_SYSCALL_OK(tset(id, 0, 50LL * 1000000000, 3000000000LL, NULL));
	struct itimerspec cur, old;
	ASSERT_SYSCALL_OK(tget(id, &cur));
	EXPECT_GT(cur.it_value.tv_sec, 40);
	EXPECT_LE(cur.it_value.tv_sec, 50);
	EXPECT_EQ(cur.it_interval.tv_sec, 3);
	ASSERT_SYSCALL_OK(tset(id, 0, 0, 0, &old));
	EXPECT_GT(old.it_value.tv_sec, 40);
	EXPECT_EQ(old.it_interval.tv_sec, 3);
	ASSERT_SYSCALL_OK(tget(id, &cur));
	EXPECT_EQ(ts_ns(cur.it_value), 0);
}

TEST(timer_settime, TIMER_ABSTIME_in_the_past_expires_at_once)
{
	sigset_t set = block(SIGUSR2);
	struct sigevent sev = signal_event(SIGUSR2, 0);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_REALTIME, &sev, &id));
	ASSERT_SYSCALL_OK(tset(id, TIMER_ABSTIME, 1000000000LL, 0, NULL));
	siginfo_t si;
	EXPECT_EQ(wait_sig(&set, &si), SIGUSR2);
}

TEST(timer_settime, TIMER_ABSTIME_deadline_on_CLOCK_MONOTONIC_is_honoured)
{
	sigset_t set = block(SIGUSR2);
	struct sigevent sev = signal_event(SIGUSR2, 0);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	long long deadline = now_ns(CLOCK_MONOTONIC) + 100000000LL;
	ASSERT_SYSCALL_OK(tset(id, TIMER_ABSTIME, deadline, 0, NULL));
	siginfo_t si;
	ASSERT_EQ(wait_sig(&set, &si), SIGUSR2);
	EXPECT_GE(now_ns(CLOCK_MONOTONIC), deadline);
}

TEST(timer_settime, periodic_timer_fires_repeatedly)
{
	sigset_t set = block(SIGUSR1);
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	ASSERT_SYSCALL_OK(tset(id, 0, 10000000, 10000000, NULL));
	siginfo_t si;
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(wait_sig(&set, &si), SIGUSR1);
	ASSERT_SYSCALL_OK(tset(id, 0, 0, 0, NULL));
}

TEST(timer_getoverrun, counts_expiries_while_the_signal_was_pending)
{
	sigset_t set = block(SIGRTMIN);
	struct sigevent sev = signal_event(SIGRTMIN, 0);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	ASSERT_SYSCALL_OK(tset(id, 0, 1000000, 1000000, NULL));
	/* Waiting for the timer just set: 100 periods pass meanwhile. */
	struct timespec d = {0, 100000000};
	nanosleep(&d, NULL);
	siginfo_t si;
	ASSERT_EQ(wait_sig(&set, &si), SIGRTMIN);
	/* A real-time signal, yet one timer had only one queued. */
	EXPECT_GE(si.si_overrun, 20);
	EXPECT_EQ(syscall(SYS_timer_getoverrun, id), si.si_overrun);
	ASSERT_SYSCALL_OK(tset(id, 0, 0, 0, NULL));
}

TEST(timer_delete, deleted_or_unknown_timer_is_EINVAL)
{
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	ASSERT_SYSCALL_OK(syscall(SYS_timer_delete, id));
	struct itimerspec cur;
	EXPECT_ERRNO(tget(id, &cur), EINVAL);
	EXPECT_ERRNO(syscall(SYS_timer_delete, id), EINVAL);
	EXPECT_ERRNO(syscall(SYS_timer_getoverrun, id), EINVAL);
	EXPECT_ERRNO(tset(id, 0, 1000000, 0, NULL), EINVAL);
}

TEST(timer_delete, a_deleted_timer_sends_nothing)
{
	sigset_t set = block(SIGUSR1);
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	ASSERT_SYSCALL_OK(tset(id, 0, 50000000, 0, NULL));
	ASSERT_SYSCALL_OK(syscall(SYS_timer_delete, id));
	struct timespec wait = {0, 200000000};
	EXPECT_ERRNO(sigtimedwait(&set, NULL, &wait), EAGAIN);
}

TEST(fork, child_does_not_inherit_posix_timers)
{
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_MONOTONIC, &sev, &id));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct itimerspec cur;
		_exit(tget(id, &cur) == -1 && errno == EINVAL ? 0 : 1);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST_HELPER(timer_is_gone)
{
	if (argc < 1)
		return 2;
	struct itimerspec cur;
	int id = atoi(argv[argc - 1]);
	return tget(id, &cur) == -1 && errno == EINVAL ? 0 : 1;
}

TEST(execve, deletes_posix_timers)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		sigset_t set = block(SIGUSR1);
		(void)set;
		struct sigevent sev = signal_event(SIGUSR1, 0);
		int id;
		if (tcreate(CLOCK_MONOTONIC, &sev, &id) != 0)
			_exit(3);
		tset(id, 0, 30LL * 1000000000, 0, NULL);
		char num[16];
		snprintf(num, sizeof num, "%d", id);
		char *argv[] = {(char *)test_self_exe(), "--helper", "timer_is_gone", num, NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(timer_create, CPU_clock_timer_fires_after_cpu_time_is_used)
{
	sigset_t set = block(SIGUSR1);
	struct sigevent sev = signal_event(SIGUSR1, 0);
	int id;
	ASSERT_SYSCALL_OK(tcreate(CLOCK_PROCESS_CPUTIME_ID, &sev, &id));
	ASSERT_SYSCALL_OK(tset(id, 0, 50000000, 0, NULL));
	long long start = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	long long end = now_ns(CLOCK_MONOTONIC) + 5000000000LL;
	volatile unsigned long x = 0;
	while (now_ns(CLOCK_MONOTONIC) < end) {
		for (int i = 0; i < 10000; i++)
			x += i;
		sigset_t pending;
		sigpending(&pending);
		if (sigismember(&pending, SIGUSR1))
			break;
	}
	siginfo_t si;
	struct timespec zero = {0, 0};
	ASSERT_EQ(sigtimedwait(&set, &si, &zero), SIGUSR1);
	EXPECT_EQ(si.si_code, SI_TIMER);
	EXPECT_GE(now_ns(CLOCK_PROCESS_CPUTIME_ID) - start, 40000000LL);
}
