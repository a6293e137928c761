// Scheduling parameters, capabilities and memory locking.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

TEST(sched_setaffinity, mask_that_was_set_is_reported_by_sched_getaffinity)
{
	cpu_set_t set, got;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_SYSCALL_OK(sched_setaffinity(0, sizeof(set), &set));
	ASSERT_SYSCALL_OK(sched_getaffinity(0, sizeof(got), &got));
	EXPECT_TRUE(CPU_ISSET(0, &got));
	EXPECT_EQ(CPU_COUNT(&got), 1);
}

TEST(sched_setaffinity, empty_mask_fails_with_EINVAL)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	EXPECT_ERRNO(sched_setaffinity(0, sizeof(set), &set), EINVAL);
}

TEST(sched_getaffinity, too_small_size_fails_with_EINVAL)
{
	uint32_t small;
	EXPECT_ERRNO(syscall(SYS_sched_getaffinity, 0, 4, &small), EINVAL);
}

TEST(sched_getaffinity, of_nonexistent_pid_fails_with_ESRCH)
{
	cpu_set_t set;
	EXPECT_ERRNO(sched_getaffinity(999999, sizeof(set), &set), ESRCH);
}

TEST(setpriority, raising_nice_is_seen_by_getpriority)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		if (setpriority(PRIO_PROCESS, 0, 7) != 0)
			_exit(1);
		errno = 0;
		int p = getpriority(PRIO_PROCESS, 0);
		_exit(p == 7 && errno == 0 ? 0 : 2);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(getpriority, raw_syscall_returns_twenty_minus_nice)
{
	int nice = getpriority(PRIO_PROCESS, 0);
	EXPECT_EQ(syscall(SYS_getpriority, PRIO_PROCESS, 0), 20 - nice);
}

TEST(getpriority, invalid_which_fails_with_EINVAL)
{
	EXPECT_ERRNO(getpriority(42, 0), EINVAL);
}

TEST(sched_getscheduler, reports_SCHED_OTHER)
{
	EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
}

TEST(sched_get_priority_max, is_99_for_SCHED_FIFO_and_0_for_SCHED_OTHER)
{
	EXPECT_EQ(sched_get_priority_max(SCHED_FIFO), 99);
	EXPECT_EQ(sched_get_priority_max(SCHED_OTHER), 0);
	EXPECT_ERRNO(sched_get_priority_max(1234), EINVAL);
}

TEST(sched_setscheduler, SCHED_OTHER_with_nonzero_priority_fails_with_EINVAL)
{
	struct sched_param p = {.sched_priority = 5};
	EXPECT_ERRNO(sched_setscheduler(0, SCHED_OTHER, &p), EINVAL);
}

TEST(capget, unknown_version_fails_with_EINVAL_and_reports_v3)
{
	struct __user_cap_header_struct h = {.version = 0x1234, .pid = 0};
	struct __user_cap_data_struct d[2];
	EXPECT_ERRNO(syscall(SYS_capget, &h, d), EINVAL);
	EXPECT_EQ(h.version, _LINUX_CAPABILITY_VERSION_3);
}

TEST(capset, dropping_a_capability_removes_it_from_capget)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
		struct __user_cap_data_struct d[2];
		if (syscall(SYS_capget, &h, d) != 0)
			_exit(1);
		d[0].effective &= ~(1u << CAP_CHOWN);
		d[0].permitted &= ~(1u << CAP_CHOWN);
		if (syscall(SYS_capset, &h, d) != 0)
			_exit(2);
		struct __user_cap_data_struct e[2];
		if (syscall(SYS_capget, &h, e) != 0)
			_exit(3);
		if (e[0].permitted & (1u << CAP_CHOWN))
			_exit(4);
		// Raising it again is not allowed.
		d[0].permitted |= 1u << CAP_CHOWN;
		_exit(syscall(SYS_capset, &h, d) == -1 && errno == EPERM ? 0 : 5);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(mlock, of_mapped_memory_succeeds_and_unmapped_fails_with_ENOMEM)
{
	char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_SYSCALL_OK(mlock(p, 4096));
	EXPECT_SYSCALL_OK(munlock(p, 4096));
	ASSERT_SYSCALL_OK(munmap(p + 4096, 4096));
	EXPECT_ERRNO(mlock(p, 2 * 4096), ENOMEM);
}

TEST(mlockall, with_no_flags_fails_with_EINVAL)
{
	EXPECT_ERRNO(mlockall(0), EINVAL);
}

TEST(mlock2, unknown_flag_fails_with_EINVAL)
{
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(syscall(SYS_mlock2, p, 4096, 0x100), EINVAL);
}
