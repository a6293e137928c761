/* timerfd_create(2), timerfd_settime(2), timerfd_gettime(2). */
#include "test.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>

#define MS (1000 * 1000L)

static uint64_t expirations(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, 8) != 8)
		return 0;
	return v;
}

static int arm(int fd, long value_ns, long interval_ns)
{
	struct itimerspec its = {
		.it_value = {value_ns / 1000000000L, value_ns % 1000000000L},
		.it_interval = {interval_ns / 1000000000L, interval_ns % 1000000000L},
	};
	return timerfd_settime(fd, 0, &its, NULL);
}

TEST(timerfd, create_with_a_bad_clock_or_flags_fails_with_EINVAL)
{
	EXPECT_ERRNO(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
	EXPECT_ERRNO(timerfd_create(1000, 0), EINVAL);
	EXPECT_ERRNO(timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
	EXPECT_SYSCALL_OK(timerfd_create(CLOCK_REALTIME, 0));
	EXPECT_SYSCALL_OK(timerfd_create(CLOCK_BOOTTIME, 0));
}

TEST(timerfd, TFD_CLOEXEC_and_TFD_NONBLOCK_set_the_descriptor_flags)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
}

TEST(timerfd, a_new_timer_is_disarmed)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	struct itimerspec its;
	memset(&its, 0xff, sizeof(its));
	ASSERT_SYSCALL_OK(timerfd_gettime(fd, &its));
	EXPECT_EQ(its.it_value.tv_sec, 0);
	EXPECT_EQ(its.it_value.tv_nsec, 0);
	EXPECT_EQ(its.it_interval.tv_sec, 0);
	EXPECT_EQ(its.it_interval.tv_nsec, 0);
	uint64_t v;
	EXPECT_ERRNO(read(fd, &v, 8), EAGAIN);
}

TEST(timerfd, gettime_reports_the_time_left_and_the_interval)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	ASSERT_SYSCALL_OK(arm(fd, 100 * 1000 * MS, 3 * 1000 * MS));
	struct itimerspec its;
	ASSERT_SYSCALL_OK(timerfd_gettime(fd, &its));
	EXPECT_LE(its.it_value.tv_sec, 100);
	EXPECT_GE(its.it_value.tv_sec, 98);
	EXPECT_EQ(its.it_interval.tv_sec, 3);
	EXPECT_EQ(its.it_interval.tv_nsec, 0);
}

TEST(timerfd, settime_returns_the_old_setting_and_zero_disarms)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	ASSERT_SYSCALL_OK(arm(fd, 50 * 1000 * MS, 7 * MS));
	struct itimerspec zero = {{0, 0}, {0, 0}}, old;
	ASSERT_SYSCALL_OK(timerfd_settime(fd, 0, &zero, &old));
	EXPECT_GE(old.it_value.tv_sec, 48);
	EXPECT_EQ(old.it_interval.tv_nsec, 7 * MS);
	struct itimerspec cur;
	ASSERT_SYSCALL_OK(timerfd_gettime(fd, &cur));
	EXPECT_EQ(cur.it_value.tv_sec, 0);
	EXPECT_EQ(cur.it_value.tv_nsec, 0);
}

TEST(timerfd, blocking_read_waits_for_the_expiry_and_returns_1)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_SYSCALL_OK(arm(fd, 20 * MS, 0));
	EXPECT_EQ(expirations(fd), 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / MS;
	EXPECT_GE(ms, 19);
	/* A one-shot timer is disarmed after expiring. */
	struct itimerspec its;
	ASSERT_SYSCALL_OK(timerfd_gettime(fd, &its));
	EXPECT_EQ(its.it_value.tv_sec, 0);
	EXPECT_EQ(its.it_value.tv_nsec, 0);
}

TEST(timerfd, an_interval_timer_counts_every_expiration)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	int waiter = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	ASSERT_SYSCALL_OK(arm(fd, 1 * MS, 1 * MS));
	/* Wait 30 ms on a second timer. */
	ASSERT_SYSCALL_OK(arm(waiter, 30 * MS, 0));
	ASSERT_EQ(expirations(waiter), 1);
	uint64_t n = expirations(fd);
	EXPECT_GE(n, 10);
	EXPECT_LE(n, 10000);
	/* Still armed. */
	struct itimerspec its;
	ASSERT_SYSCALL_OK(timerfd_gettime(fd, &its));
	EXPECT_EQ(its.it_interval.tv_nsec, 1 * MS);
	EXPECT_GE(expirations(fd), 1);
}

TEST(timerfd, an_absolute_time_in_the_past_expires_at_once)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK));
	struct itimerspec its = {.it_value = {1, 0}};
	ASSERT_SYSCALL_OK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL));
	EXPECT_EQ(expirations(fd), 1);
	uint64_t v;
	EXPECT_ERRNO(read(fd, &v, 8), EAGAIN);
}

TEST(timerfd, an_absolute_monotonic_deadline_is_on_the_monotonic_clock)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	struct itimerspec its = {.it_value = now};
	its.it_value.tv_nsec += 10 * MS;
	if (its.it_value.tv_nsec >= 1000000000L) {
		its.it_value.tv_sec++;
		its.it_value.tv_nsec -= 1000000000L;
	}
	ASSERT_SYSCALL_OK(timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL));
	struct itimerspec cur;
	ASSERT_SYSCALL_OK(timerfd_gettime(fd, &cur));
	EXPECT_EQ(cur.it_value.tv_sec, 0);
	EXPECT_LE(cur.it_value.tv_nsec, 10 * MS);
	EXPECT_EQ(expirations(fd), 1);
}

TEST(timerfd, settime_with_bad_arguments_fails)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, 0));
	struct itimerspec its = {.it_value = {1, 0}};
	EXPECT_ERRNO(timerfd_settime(fd, 4, &its, NULL), EINVAL);
	struct itimerspec bad = {.it_value = {0, 1000000000L}};
	EXPECT_ERRNO(timerfd_settime(fd, 0, &bad, NULL), EINVAL);
	struct itimerspec neg = {.it_interval = {-1, 0}};
	EXPECT_ERRNO(timerfd_settime(fd, 0, &neg, NULL), EINVAL);
	EXPECT_ERRNO(timerfd_settime(fd, 0, (void *)8, NULL), EFAULT);
	EXPECT_ERRNO(timerfd_settime(1000, 0, &its, NULL), EBADF);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(timerfd_settime(p[0], 0, &its, NULL), EINVAL);
	EXPECT_ERRNO(timerfd_gettime(p[0], &its), EINVAL);
	EXPECT_ERRNO(timerfd_gettime(fd, (void *)8), EFAULT);
}

TEST(timerfd, read_shorter_than_8_bytes_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	char buf[4];
	EXPECT_ERRNO(read(fd, buf, 4), EINVAL);
}

TEST(timerfd, poll_and_epoll_report_readable_after_expiry)
{
	int fd = ASSERT_SYSCALL_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	EXPECT_EQ(poll(&p, 1, 0), 0);
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 11};
	ASSERT_SYSCALL_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	ASSERT_SYSCALL_OK(arm(fd, 5 * MS, 0));
	ASSERT_EQ(epoll_wait(ep, &ev, 1, 5000), 1);
	EXPECT_EQ(ev.data.u32, 11);
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLIN);
	EXPECT_EQ(expirations(fd), 1);
	EXPECT_EQ(poll(&p, 1, 0), 0);
}
