/* clock_settime(2), settimeofday(2), adjtimex(2), clock_adjtime(2): the
 * checks before anything is set, and reads. Nothing here sets the clock. */
#include "test.h"

#include <linux/capability.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

static void drop_sys_time(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	ASSERT_SYSCALL_OK(syscall(SYS_capget, &h, d));
	d[0].effective &= ~(1u << CAP_SYS_TIME);
	ASSERT_SYSCALL_OK(syscall(SYS_capset, &h, d));
}

static long settime(clockid_t id, const struct timespec *ts) { return syscall(SYS_clock_settime, id, ts); }

TEST(clock_settime, clocks_that_cannot_be_set_fail_with_EINVAL)
{
	struct timespec ts = {1000, 0};
	EXPECT_ERRNO(settime(CLOCK_MONOTONIC, &ts), EINVAL);
	EXPECT_ERRNO(settime(CLOCK_BOOTTIME, &ts), EINVAL);
	EXPECT_ERRNO(settime(CLOCK_MONOTONIC_RAW, &ts), EINVAL);
	EXPECT_ERRNO(settime(CLOCK_REALTIME_COARSE, &ts), EINVAL);
	EXPECT_ERRNO(settime(1000, &ts), EINVAL);
	/* Before the argument is read. */
	EXPECT_ERRNO(settime(CLOCK_MONOTONIC, (void *)8), EINVAL);
}

TEST(clock_settime, the_cputime_clock_ids_fail_with_EINVAL)
{
	struct timespec ts = {1000, 0};
	EXPECT_ERRNO(settime(CLOCK_PROCESS_CPUTIME_ID, &ts), EINVAL);
	EXPECT_ERRNO(settime(CLOCK_THREAD_CPUTIME_ID, &ts), EINVAL);
}

TEST(clock_settime, a_process_cpu_clock_fails_with_EPERM_after_reading_the_time)
{
	clockid_t id;
	ASSERT_EQ(clock_getcpuclockid(getpid(), &id), 0);
	struct timespec ts = {1000, 0};
	EXPECT_ERRNO(settime(id, &ts), EPERM);
	EXPECT_ERRNO(settime(id, (void *)8), EFAULT);
}

TEST(clock_settime, realtime_checks_the_value_then_the_capability)
{
	drop_sys_time();
	struct timespec bad = {1000, 1000000000};
	EXPECT_ERRNO(settime(CLOCK_REALTIME, &bad), EINVAL);
	struct timespec neg = {-1, 0};
	EXPECT_ERRNO(settime(CLOCK_REALTIME, &neg), EINVAL);
	EXPECT_ERRNO(settime(CLOCK_REALTIME, (void *)8), EFAULT);
	struct timespec now;
	ASSERT_SYSCALL_OK(clock_gettime(CLOCK_REALTIME, &now));
	EXPECT_ERRNO(settime(CLOCK_REALTIME, &now), EPERM);
}

TEST(settimeofday, without_CAP_SYS_TIME_fails_with_EPERM)
{
	drop_sys_time();
	struct timeval tv;
	ASSERT_SYSCALL_OK(gettimeofday(&tv, NULL));
	EXPECT_ERRNO(syscall(SYS_settimeofday, &tv, NULL), EPERM);
	EXPECT_ERRNO(syscall(SYS_settimeofday, NULL, NULL), EPERM);
}

TEST(settimeofday, bad_values_fail_with_EINVAL_before_the_capability)
{
	drop_sys_time();
	struct timeval tv = {1000, 1000000};
	EXPECT_ERRNO(syscall(SYS_settimeofday, &tv, NULL), EINVAL);
	tv.tv_usec = -1;
	EXPECT_ERRNO(syscall(SYS_settimeofday, &tv, NULL), EINVAL);
	tv.tv_sec = -1;
	tv.tv_usec = 0;
	EXPECT_ERRNO(syscall(SYS_settimeofday, &tv, NULL), EINVAL);
	EXPECT_ERRNO(syscall(SYS_settimeofday, (void *)8, NULL), EFAULT);
	EXPECT_ERRNO(syscall(SYS_settimeofday, NULL, (void *)8), EFAULT);
}

TEST(settimeofday, with_CAP_SYS_TIME_and_nothing_to_set_succeeds)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	ASSERT_SYSCALL_OK(syscall(SYS_capget, &h, d));
	if (!(d[0].effective & (1u << CAP_SYS_TIME)))
		TEST_SKIP("needs CAP_SYS_TIME");
	EXPECT_EQ(syscall(SYS_settimeofday, NULL, NULL), 0);
	/* A time zone out of range is EINVAL. */
	struct timezone tz = {16 * 60, 0};
	EXPECT_ERRNO(syscall(SYS_settimeofday, NULL, &tz), EINVAL);
}

TEST(adjtimex, reading_needs_no_privilege)
{
	drop_sys_time();
	struct timex tx;
	memset(&tx, 0, sizeof(tx));
	int state = EXPECT_SYSCALL_OK(adjtimex(&tx));
	EXPECT_GE(state, TIME_OK);
	EXPECT_LE(state, TIME_ERROR);
	struct timeval now;
	ASSERT_SYSCALL_OK(gettimeofday(&now, NULL));
	EXPECT_LE(tx.time.tv_sec, now.tv_sec);
	EXPECT_GE(tx.time.tv_sec, now.tv_sec - 5);
	EXPECT_GT(tx.tick, 9000);
	EXPECT_LT(tx.tick, 11000);
	EXPECT_GT(tx.tolerance, 0);
}

TEST(adjtimex, changes_without_CAP_SYS_TIME_fail_with_EPERM)
{
	drop_sys_time();
	struct timex tx;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_FREQUENCY;
	EXPECT_ERRNO(adjtimex(&tx), EPERM);
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_OFFSET_SINGLESHOT;
	EXPECT_ERRNO(adjtimex(&tx), EPERM);
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_OFFSET_SS_READ;
	EXPECT_SYSCALL_OK(adjtimex(&tx));
	EXPECT_ERRNO(syscall(SYS_adjtimex, (void *)8), EFAULT);
}

TEST(adjtimex, ADJ_ADJTIME_without_SINGLESHOT_fails_with_EINVAL)
{
	struct timex tx;
	memset(&tx, 0, sizeof(tx));
	tx.modes = 0x8000;
	EXPECT_ERRNO(adjtimex(&tx), EINVAL);
}

TEST(clock_adjtime, realtime_reads_and_other_clocks_are_not_adjustable)
{
	struct timex tx;
	memset(&tx, 0, sizeof(tx));
	EXPECT_SYSCALL_OK(syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx));
	memset(&tx, 0, sizeof(tx));
	EXPECT_ERRNO(syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx), EOPNOTSUPP);
	EXPECT_ERRNO(syscall(SYS_clock_adjtime, 1000, &tx), EINVAL);
}
