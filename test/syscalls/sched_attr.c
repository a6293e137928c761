/* sched_setattr(2), sched_getattr(2), sched_rr_get_interval(2). */
#include "test.h"

#include <sched.h>
#include <sys/resource.h>
#include <time.h>

struct attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};

#define FLAG_RESET_ON_FORK 0x01
#define FLAG_KEEP_POLICY 0x08

static long setattr(pid_t pid, void *a, unsigned flags) { return syscall(SYS_sched_setattr, pid, a, flags); }
static long getattr(pid_t pid, void *a, unsigned size, unsigned flags)
{
	return syscall(SYS_sched_getattr, pid, a, size, flags);
}

static pid_t reaped_pid(void)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(test_wait_exit(pid), 0);
	return pid;
}

TEST(sched_rr_get_interval, reports_a_time_slice_below_a_second)
{
	struct timespec ts = {99, 99};
	EXPECT_SYSCALL_OK(sched_rr_get_interval(0, &ts));
	EXPECT_EQ(ts.tv_sec, 0);
	EXPECT_GE(ts.tv_nsec, 0);
	EXPECT_LT(ts.tv_nsec, 1000000000);
	EXPECT_SYSCALL_OK(sched_rr_get_interval(getpid(), &ts));
}

TEST(sched_rr_get_interval, errors)
{
	struct timespec ts;
	EXPECT_ERRNO(syscall(SYS_sched_rr_get_interval, -1, &ts), EINVAL);
	EXPECT_ERRNO(syscall(SYS_sched_rr_get_interval, reaped_pid(), &ts), ESRCH);
	EXPECT_ERRNO(syscall(SYS_sched_rr_get_interval, 0, (void *)8), EFAULT);
}

TEST(sched_getattr, reports_SCHED_OTHER_and_the_nice_value)
{
	ASSERT_SYSCALL_OK(setpriority(PRIO_PROCESS, 0, 3));
	struct attr a;
	memset(&a, 0xff, sizeof(a));
	EXPECT_SYSCALL_OK(getattr(0, &a, sizeof(a), 0));
	EXPECT_GE(a.size, sizeof(a));
	EXPECT_EQ(a.sched_policy, SCHED_OTHER);
	EXPECT_EQ(a.sched_flags, 0);
	EXPECT_EQ(a.sched_nice, 3);
	EXPECT_EQ(a.sched_priority, 0);
}

TEST(sched_getattr, a_larger_buffer_gets_the_kernel_size_a_smaller_is_filled_to_its_size)
{
	char buf[128];
	memset(buf, 0x55, sizeof(buf));
	EXPECT_SYSCALL_OK(getattr(0, buf, sizeof(buf), 0));
	uint32_t size;
	memcpy(&size, buf, 4);
	EXPECT_GE(size, 56);
	EXPECT_LT(size, sizeof(buf));
	memset(buf, 0x55, sizeof(buf));
	EXPECT_SYSCALL_OK(getattr(0, buf, 48, 0));
	memcpy(&size, buf, 4);
	EXPECT_EQ(size, 48);
	EXPECT_EQ((unsigned char)buf[48], 0x55);
}

TEST(sched_getattr, errors)
{
	struct attr a;
	EXPECT_ERRNO(getattr(0, &a, 47, 0), EINVAL);
	EXPECT_ERRNO(getattr(0, &a, 4097, 0), EINVAL);
	EXPECT_ERRNO(getattr(0, &a, sizeof(a), 1), EINVAL);
	EXPECT_ERRNO(getattr(0, NULL, sizeof(a), 0), EINVAL);
	EXPECT_ERRNO(getattr(-1, &a, sizeof(a), 0), EINVAL);
	EXPECT_ERRNO(getattr(reaped_pid(), &a, sizeof(a), 0), ESRCH);
	EXPECT_ERRNO(getattr(0, (void *)8, sizeof(a), 0), EFAULT);
}

TEST(sched_setattr, SCHED_BATCH_with_a_higher_nice_is_reported_back)
{
	struct attr a = {.size = sizeof(a), .sched_policy = SCHED_BATCH, .sched_nice = 7};
	EXPECT_SYSCALL_OK(setattr(0, &a, 0));
	EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH);
	errno = 0;
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 7);
	struct attr b;
	EXPECT_SYSCALL_OK(getattr(0, &b, sizeof(b), 0));
	EXPECT_EQ(b.sched_policy, SCHED_BATCH);
	EXPECT_EQ(b.sched_nice, 7);
}

TEST(sched_setattr, KEEP_POLICY_keeps_the_policy)
{
	struct attr a = {.size = sizeof(a), .sched_policy = SCHED_BATCH, .sched_nice = 4};
	ASSERT_SYSCALL_OK(setattr(0, &a, 0));
	struct attr k = {.size = sizeof(k), .sched_policy = SCHED_OTHER, .sched_flags = FLAG_KEEP_POLICY, .sched_nice = 6};
	EXPECT_SYSCALL_OK(setattr(0, &k, 0));
	EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH);
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 6);
}

TEST(sched_setattr, size_zero_means_the_first_version)
{
	struct attr a = {.size = 0, .sched_policy = SCHED_OTHER, .sched_nice = 2};
	EXPECT_SYSCALL_OK(setattr(0, &a, 0));
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 2);
}

TEST(sched_setattr, a_size_too_small_fails_with_E2BIG_and_writes_the_kernel_size)
{
	struct attr a = {.size = 47, .sched_policy = SCHED_OTHER};
	EXPECT_ERRNO(setattr(0, &a, 0), E2BIG);
	EXPECT_GE(a.size, 56);
	a.size = 8192;
	EXPECT_ERRNO(setattr(0, &a, 0), E2BIG);
	EXPECT_GE(a.size, 56);
}

TEST(sched_setattr, a_larger_size_needs_zeros_past_the_kernel_struct)
{
	char buf[256];
	memset(buf, 0, sizeof(buf));
	struct attr *a = (struct attr *)buf;
	a->size = sizeof(buf);
	a->sched_policy = SCHED_OTHER;
	EXPECT_SYSCALL_OK(setattr(0, buf, 0));
	buf[200] = 1;
	a->size = sizeof(buf);
	EXPECT_ERRNO(setattr(0, buf, 0), E2BIG);
	EXPECT_GE(a->size, 56);
}

TEST(sched_setattr, bad_arguments_fail_with_EINVAL)
{
	struct attr a = {.size = sizeof(a), .sched_policy = SCHED_OTHER};
	EXPECT_ERRNO(setattr(0, &a, 1), EINVAL);
	EXPECT_ERRNO(setattr(0, NULL, 0), EINVAL);
	EXPECT_ERRNO(setattr(-1, &a, 0), EINVAL);
	a.sched_policy = 7;
	EXPECT_ERRNO(setattr(0, &a, 0), EINVAL);
	a.sched_policy = -1;
	EXPECT_ERRNO(setattr(0, &a, 0), EINVAL);
	a.sched_policy = SCHED_OTHER;
	a.sched_priority = 1;
	EXPECT_ERRNO(setattr(0, &a, 0), EINVAL);
	a.sched_policy = SCHED_FIFO;
	a.sched_priority = 0;
	EXPECT_ERRNO(setattr(0, &a, 0), EINVAL);
	a.sched_priority = 100;
	EXPECT_ERRNO(setattr(0, &a, 0), EINVAL);
	a.sched_policy = SCHED_OTHER;
	a.sched_priority = 0;
	a.sched_flags = 0x1000;
	EXPECT_ERRNO(setattr(0, &a, 0), EINVAL);
	EXPECT_ERRNO(setattr(0, (void *)8, 0), EFAULT);
}

TEST(sched_setattr, a_reaped_process_fails_with_ESRCH)
{
	struct attr a = {.size = sizeof(a), .sched_policy = SCHED_OTHER};
	EXPECT_ERRNO(setattr(reaped_pid(), &a, 0), ESRCH);
}

TEST(sched_setattr, unprivileged_callers_cannot_lower_nice_or_go_real_time)
{
	if (geteuid() == 0)
		TEST_SKIP("root has CAP_SYS_NICE");
	struct attr a = {.size = sizeof(a), .sched_policy = SCHED_OTHER, .sched_nice = 5};
	ASSERT_SYSCALL_OK(setattr(0, &a, 0));
	a.sched_nice = 4;
	EXPECT_ERRNO(setattr(0, &a, 0), EPERM);
	a.sched_nice = 5;
	a.sched_policy = SCHED_FIFO;
	a.sched_priority = 10;
	EXPECT_ERRNO(setattr(0, &a, 0), EPERM);
	a.sched_policy = SCHED_RR;
	EXPECT_ERRNO(setattr(0, &a, 0), EPERM);
}

TEST(sched_setattr, unprivileged_callers_cannot_leave_SCHED_IDLE)
{
	if (geteuid() == 0)
		TEST_SKIP("root has CAP_SYS_NICE");
	struct attr a = {.size = sizeof(a), .sched_policy = SCHED_IDLE};
	ASSERT_SYSCALL_OK(setattr(0, &a, 0));
	EXPECT_EQ(sched_getscheduler(0), SCHED_IDLE);
	a.sched_policy = SCHED_OTHER;
	EXPECT_ERRNO(setattr(0, &a, 0), EPERM);
}

TEST(sched_setattr, root_may_lower_nice)
{
	if (geteuid() != 0)
		TEST_SKIP("needs CAP_SYS_NICE");
	struct attr a = {.size = sizeof(a), .sched_policy = SCHED_OTHER, .sched_nice = -3};
	EXPECT_SYSCALL_OK(setattr(0, &a, 0));
	EXPECT_EQ(getpriority(PRIO_PROCESS, 0), -3);
}

TEST(sched_setattr, RESET_ON_FORK_is_not_inherited_and_a_fair_policy_stays)
{
	struct attr a = {.size = sizeof(a), .sched_policy = SCHED_BATCH, .sched_flags = FLAG_RESET_ON_FORK, .sched_nice = 2};
	ASSERT_SYSCALL_OK(setattr(0, &a, 0));
	EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH | SCHED_RESET_ON_FORK);
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(sched_getscheduler(0) == SCHED_BATCH && getpriority(PRIO_PROCESS, 0) == 2 ? 0 : 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(sched_setattr, policy_and_nice_are_inherited_by_fork)
{
	struct attr a = {.size = sizeof(a), .sched_policy = SCHED_BATCH, .sched_nice = 3};
	ASSERT_SYSCALL_OK(setattr(0, &a, 0));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(sched_getscheduler(0) == SCHED_BATCH && getpriority(PRIO_PROCESS, 0) == 3 ? 0 : 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
