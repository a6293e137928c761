/* CPU-time clocks, times(2), getrusage(2), wait4's rusage and RLIMIT_CPU. */
#include "test.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>

static long long ns_of(clockid_t clock)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts) != 0)
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long tv_ns(struct timeval tv)
{
	return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
}

/* Spins in user code until the thread has used ms milliseconds of CPU,
 * or 4*ms + 2 s of wall time have passed (a clock that never advances must
 * fail the case, not hang it). Spinning for wall time instead made the
 * CPU-time checks fail on a loaded machine. */
static void spin_ms(long ms)
{
	long long cpu_end = ns_of(CLOCK_THREAD_CPUTIME_ID) + ms * 1000000LL;
	long long wall_end = ns_of(CLOCK_MONOTONIC) + (4 * ms + 2000) * 1000000LL;
	volatile unsigned long x = 0;
	while (ns_of(CLOCK_THREAD_CPUTIME_ID) < cpu_end && ns_of(CLOCK_MONOTONIC) < wall_end)
		for (int i = 0; i < 10000; i++)
			x += i;
}

/* The clock IDs clock_getcpuclockid and pthread_getcpuclockid make. */
static clockid_t process_clock(pid_t pid) { return (clockid_t)((~pid << 3) | 2); }
static clockid_t thread_clock(pid_t tid) { return (clockid_t)((~tid << 3) | 6); }

TEST(clock_gettime, CLOCK_PROCESS_CPUTIME_ID_advances_while_the_process_computes)
{
	long long before = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	ASSERT_GE(before, 0);
	spin_ms(200);
	long long after = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	EXPECT_GE(after - before, 50000000LL);
}

TEST(clock_gettime, CLOCK_THREAD_CPUTIME_ID_advances_and_never_exceeds_the_process_clock)
{
	long long t0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	spin_ms(200);
	long long t1 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	long long p1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	EXPECT_GE(t1 - t0, 50000000LL);
	EXPECT_LE(t1, p1);
}

TEST(clock_gettime, a_threads_cpu_clock_never_runs_faster_than_the_wall_clock)
{
	/* Mostly system calls: a Sentry that charged the cost of a guest
	 * syscall both as user and as system time ran its clock 1.5x fast. */
	long long w0 = ns_of(CLOCK_MONOTONIC), c0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	while (ns_of(CLOCK_MONOTONIC) < w0 + 300000000LL)
		syscall(SYS_getppid);
	long long w1 = ns_of(CLOCK_MONOTONIC), c1 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	EXPECT_LE(c1 - c0, (w1 - w0) + 20000000LL);
}

TEST(clock_gettime, cpu_clock_does_not_advance_while_the_thread_sleeps)
{
	long long before = ns_of(CLOCK_THREAD_CPUTIME_ID);
	struct timespec d = {0, 300000000};
	ASSERT_SYSCALL_OK(nanosleep(&d, NULL));
	long long after = ns_of(CLOCK_THREAD_CPUTIME_ID);
	EXPECT_LT(after - before, 100000000LL);
}

TEST(clock_getcpuclockid, clock_of_own_pid_reads_like_CLOCK_PROCESS_CPUTIME_ID)
{
	clockid_t c;
	ASSERT_EQ(clock_getcpuclockid(getpid(), &c), 0);
	EXPECT_EQ(c, process_clock(getpid()));
	spin_ms(50);
	long long a = ns_of(c);
	long long b = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	ASSERT_GE(a, 0);
	EXPECT_LE(a, b);
	EXPECT_GE(a, b / 2);
	/* pid 0 means the caller. */
	EXPECT_GE(ns_of(process_clock(0)), a);
}

TEST(clock_getcpuclockid, clock_of_an_exited_unreaped_child_holds_its_cpu_time)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		spin_ms(200);
		_exit(0);
	}
	siginfo_t si;
	ASSERT_SYSCALL_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	long long child = ns_of(process_clock(pid));
	EXPECT_GE(child, 50000000LL);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(clock_gettime, cpu_clock_of_a_missing_process_or_a_bad_kind_is_EINVAL)
{
	struct timespec ts;
	EXPECT_ERRNO(syscall(SYS_clock_gettime, process_clock(0x3fffff0), &ts), EINVAL);
	/* Kind 3 (CPUCLOCK_MAX) does not exist. */
	EXPECT_ERRNO(syscall(SYS_clock_gettime, (clockid_t)((~0 << 3) | 3), &ts), EINVAL);
	EXPECT_ERRNO(syscall(SYS_clock_getres, (clockid_t)((~0 << 3) | 3), &ts), EINVAL);
	EXPECT_ERRNO(syscall(SYS_clock_gettime, 1000, &ts), EINVAL);
}

TEST(clock_getres, CPU_clocks_have_a_resolution_below_a_second)
{
	struct timespec ts;
	ASSERT_SYSCALL_OK(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &ts));
	EXPECT_EQ(ts.tv_sec, 0);
	EXPECT_GT(ts.tv_nsec, 0);
	ASSERT_SYSCALL_OK(clock_getres(CLOCK_THREAD_CPUTIME_ID, &ts));
	EXPECT_EQ(ts.tv_sec, 0);
	EXPECT_GT(ts.tv_nsec, 0);
}

static volatile int stop_spinning;
static pid_t spinner_tid;

static void *spinner(void *arg)
{
	(void)arg;
	spinner_tid = gettid();
	volatile unsigned long x = 0;
	while (!stop_spinning)
		x++;
	return NULL;
}

TEST(pthread_getcpuclockid, clock_of_another_thread_counts_that_threads_time)
{
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, spinner, NULL), 0);
	clockid_t c;
	ASSERT_EQ(pthread_getcpuclockid(th, &c), 0);
	/* Wait (sleeping) until the spinner has used 50 ms. */
	long long deadline = ns_of(CLOCK_MONOTONIC) + 5000000000LL;
	long long spun;
	while ((spun = ns_of(c)) < 50000000LL && ns_of(CLOCK_MONOTONIC) < deadline) {
		struct timespec d = {0, 10000000};
		nanosleep(&d, NULL);
	}
	EXPECT_GE(spun, 50000000LL);
	/* This thread slept: its own clock stayed well behind. */
	EXPECT_LT(ns_of(CLOCK_THREAD_CPUTIME_ID), spun);
	EXPECT_EQ(c, thread_clock(spinner_tid));
	stop_spinning = 1;
	pthread_join(th, NULL);
}

TEST(clock_gettime, thread_clock_of_a_thread_in_another_process_is_EINVAL)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pause();
		_exit(0);
	}
	struct timespec ts;
	EXPECT_ERRNO(syscall(SYS_clock_gettime, thread_clock(pid), &ts), EINVAL);
	/* Its process clock is readable. */
	EXPECT_SYSCALL_OK(syscall(SYS_clock_gettime, process_clock(pid), &ts));
	kill(pid, SIGKILL);
	test_wait_exit(pid);
}

TEST(getrusage, RUSAGE_SELF_user_time_grows_while_computing)
{
	struct rusage a, b;
	ASSERT_SYSCALL_OK(getrusage(RUSAGE_SELF, &a));
	spin_ms(200);
	ASSERT_SYSCALL_OK(getrusage(RUSAGE_SELF, &b));
	EXPECT_GE(tv_ns(b.ru_utime) - tv_ns(a.ru_utime), 50000000LL);
	EXPECT_GT(b.ru_maxrss, 0);
}

TEST(getrusage, RUSAGE_SELF_system_time_grows_with_kernel_work)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/zero", O_RDONLY));
	static char buf[1 << 20];
	struct rusage a, b;
	ASSERT_SYSCALL_OK(getrusage(RUSAGE_SELF, &a));
	long long end = ns_of(CLOCK_MONOTONIC) + 2000000000LL;
	do {
		for (int i = 0; i < 64; i++)
			ASSERT_EQ(read(fd, buf, sizeof buf), (ssize_t)sizeof buf);
		ASSERT_SYSCALL_OK(getrusage(RUSAGE_SELF, &b));
	} while (tv_ns(b.ru_stime) == tv_ns(a.ru_stime) && ns_of(CLOCK_MONOTONIC) < end);
	EXPECT_GT(tv_ns(b.ru_stime), tv_ns(a.ru_stime));
	close(fd);
}

static void *report_thread_usage(void *arg)
{
	struct rusage *ru = arg;
	getrusage(RUSAGE_THREAD, ru);
	return NULL;
}

TEST(getrusage, RUSAGE_THREAD_counts_only_the_calling_thread)
{
	spin_ms(200);
	struct rusage self, mine, other;
	ASSERT_SYSCALL_OK(getrusage(RUSAGE_THREAD, &mine));
	ASSERT_SYSCALL_OK(getrusage(RUSAGE_SELF, &self));
	EXPECT_GE(tv_ns(mine.ru_utime), 50000000LL);
	EXPECT_LE(tv_ns(mine.ru_utime), tv_ns(self.ru_utime));
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, report_thread_usage, &other), 0);
	pthread_join(th, NULL);
	EXPECT_LT(tv_ns(other.ru_utime), 50000000LL);
}

TEST(getrusage, bad_who_is_EINVAL_and_bad_pointer_EFAULT)
{
	struct rusage ru;
	EXPECT_ERRNO(syscall(SYS_getrusage, 7, &ru), EINVAL);
	EXPECT_ERRNO(syscall(SYS_getrusage, RUSAGE_SELF, (void *)8), EFAULT);
}

TEST(getrusage, RUSAGE_CHILDREN_counts_children_once_they_are_waited_for)
{
	struct rusage before, zombie, after;
	ASSERT_SYSCALL_OK(getrusage(RUSAGE_CHILDREN, &before));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		spin_ms(200);
		_exit(0);
	}
	siginfo_t si;
	ASSERT_SYSCALL_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	ASSERT_SYSCALL_OK(getrusage(RUSAGE_CHILDREN, &zombie));
	EXPECT_EQ(tv_ns(zombie.ru_utime), tv_ns(before.ru_utime));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	ASSERT_SYSCALL_OK(getrusage(RUSAGE_CHILDREN, &after));
	EXPECT_GE(tv_ns(after.ru_utime) - tv_ns(before.ru_utime), 50000000LL);
}

TEST(getrusage, RUSAGE_CHILDREN_includes_grandchildren_their_parent_waited_for)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0) {
			spin_ms(200);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	struct rusage ru;
	ASSERT_SYSCALL_OK(getrusage(RUSAGE_CHILDREN, &ru));
	EXPECT_GE(tv_ns(ru.ru_utime), 50000000LL);
}

TEST(wait4, fills_rusage_with_the_childs_cpu_time)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		spin_ms(200);
		_exit(3);
	}
	int status;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	ASSERT_EQ(wait4(pid, &status, 0, &ru), pid);
	EXPECT_EXIT_STATUS(status, 3);
	EXPECT_GE(tv_ns(ru.ru_utime), 50000000LL);
}

TEST(times, reports_user_ticks_of_self_and_waited_children)
{
	struct tms a, b;
	clock_t r0 = times(&a);
	ASSERT_NE(r0, (clock_t)-1);
	spin_ms(200);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		spin_ms(200);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	clock_t r1 = times(&b);
	long hz = sysconf(_SC_CLK_TCK);
	EXPECT_GE(r1 - r0, hz / 5 + hz / 5 - 1);
	EXPECT_GE(b.tms_utime - a.tms_utime, hz / 20);
	EXPECT_GE(b.tms_cutime - a.tms_cutime, hz / 20);
}

TEST(setrlimit, RLIMIT_CPU_soft_limit_raises_SIGXCPU)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct rlimit rl = {1, 3};
		if (setrlimit(RLIMIT_CPU, &rl) != 0)
			_exit(1);
		spin_ms(8000);
		_exit(2);
	}
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGXCPU);
}

TEST(setrlimit, RLIMIT_CPU_hard_limit_kills_with_SIGKILL_after_SIGXCPU)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		signal(SIGXCPU, SIG_IGN);
		struct rlimit rl = {1, 2};
		if (setrlimit(RLIMIT_CPU, &rl) != 0)
			_exit(1);
		spin_ms(8000);
		_exit(2);
	}
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGKILL);
}
