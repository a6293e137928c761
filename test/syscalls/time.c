/* clock_gettime(2), clock_getres(2), gettimeofday(2), time(2),
 * nanosleep(2), clock_nanosleep(2). */
#include "test.h"

#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

TEST(clock_gettime, CLOCK_REALTIME_agrees_with_time)
{
	struct timespec ts;
	time_t before = time(NULL);
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_REALTIME, &ts));
	time_t after = time(NULL);
	EXPECT_GE(ts.tv_sec, before);
	EXPECT_LE(ts.tv_sec, after);
	EXPECT_GT(ts.tv_sec, 1600000000); /* after September 2020 */
	EXPECT_LT(ts.tv_nsec, 1000000000);
}

TEST(clock_gettime, raw_syscall_agrees_with_vdso)
{
	struct timespec a, b, c;
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_MONOTONIC, &a));
	ASSERT_SYSCALL_OK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b));
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_MONOTONIC, &c));
	EXPECT_LE(ns(a), ns(b));
	EXPECT_LE(ns(b), ns(c));
}

TEST(clock_gettime, CLOCK_MONOTONIC_never_goes_backwards)
{
	struct timespec prev, cur;
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_MONOTONIC, &prev));
	int backwards = 0;
	for (int i = 0; i < 10000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &cur);
		backwards += ns(cur) < ns(prev);
		prev = cur;
	}
	EXPECT_EQ(backwards, 0);
}

TEST(clock_gettime, invalid_clock_id_fails_with_EINVAL)
{
	struct timespec ts;
	EXPECT_ERRNO(syscall(SYS_clock_gettime, 12345, &ts), EINVAL);
}

TEST(clock_gettime, CLOCK_PROCESS_CPUTIME_ID_advances_with_work)
{
	struct timespec a, b;
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a));
	volatile unsigned long x = 0;
	do {
		for (int i = 0; i < 1000000; i++)
			x += i;
		ASSERT_SYSCALL_OK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b));
	} while (ns(b) <= ns(a));
	EXPECT_GT(ns(b), ns(a));
}

TEST(clock_getres, CLOCK_MONOTONIC_resolution_is_at_most_one_millisecond)
{
	struct timespec res = {-1, -1};
	ASSERT_SYSCALL_OK(clock_getres(CLOCK_MONOTONIC, &res));
	EXPECT_EQ(res.tv_sec, 0);
	EXPECT_GT(res.tv_nsec, 0);
	EXPECT_LE(res.tv_nsec, 1000000);
}

TEST(gettimeofday, agrees_with_CLOCK_REALTIME)
{
	struct timespec a, b;
	struct timeval tv;
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_REALTIME, &a));
	ASSERT_SYSCALL_OK(gettimeofday(&tv, NULL));
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_REALTIME, &b));
	long long t = tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
	EXPECT_GE(t, ns(a) - 1000);
	EXPECT_LE(t, ns(b));
	EXPECT_LT(tv.tv_usec, 1000000);
}

TEST(time, stores_result_in_tloc_too)
{
	time_t t = 0;
	time_t r = syscall(SYS_time, &t);
	EXPECT_EQ(r, t);
	EXPECT_GT(r, 1600000000);
}

TEST(nanosleep, sleeps_at_least_the_requested_time)
{
	struct timespec a, b, req = {0, 20 * 1000000};
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_MONOTONIC, &a));
	ASSERT_SYSCALL_OK(nanosleep(&req, NULL));
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_MONOTONIC, &b));
	EXPECT_GE(ns(b) - ns(a), 20 * 1000000LL);
}

TEST(nanosleep, tv_nsec_out_of_range_fails_with_EINVAL)
{
	struct timespec req = {0, 1000000000};
	EXPECT_ERRNO(nanosleep(&req, NULL), EINVAL);
	struct timespec neg = {-1, 0};
	EXPECT_ERRNO(nanosleep(&neg, NULL), EINVAL);
}

TEST(clock_nanosleep, TIMER_ABSTIME_in_the_past_returns_at_once)
{
	struct timespec past = {1, 0};
	EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL), 0);
}

TEST(clock_nanosleep, TIMER_ABSTIME_sleeps_until_the_deadline)
{
	struct timespec now, deadline;
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_MONOTONIC, &now));
	deadline = now;
	deadline.tv_nsec += 10 * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	EXPECT_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL), 0);
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_MONOTONIC, &now));
	EXPECT_GE(ns(now), ns(deadline));
}

TEST(clock_nanosleep, invalid_clock_returns_EINVAL)
{
	struct timespec req = {0, 1};
	EXPECT_EQ(clock_nanosleep(12345, 0, &req, NULL), EINVAL);
}
