/* membarrier(2). */
#include "test.h"

#include <linux/membarrier.h>

static long mb(int cmd, unsigned flags) { return syscall(SYS_membarrier, cmd, flags, 0); }

static long query(void)
{
	long mask = mb(MEMBARRIER_CMD_QUERY, 0);
	ASSERT_GE(mask, 0);
	return mask;
}

TEST(membarrier, query_reports_the_commands_glibc_and_runtimes_use)
{
	long mask = query();
	EXPECT_EQ(mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED);
	EXPECT_EQ(mask & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
	EXPECT_EQ(mask & MEMBARRIER_CMD_GLOBAL_EXPEDITED, MEMBARRIER_CMD_GLOBAL_EXPEDITED);
	EXPECT_EQ(mask & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED);
}

TEST(membarrier, nonzero_flags_fail_with_EINVAL)
{
	EXPECT_ERRNO(mb(MEMBARRIER_CMD_QUERY, 1), EINVAL);
	EXPECT_ERRNO(mb(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 1), EINVAL);
	EXPECT_ERRNO(mb(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 2), EINVAL);
}

TEST(membarrier, unknown_commands_fail_with_EINVAL)
{
	EXPECT_ERRNO(mb(3, 0), EINVAL);
	EXPECT_ERRNO(mb(-1, 0), EINVAL);
	EXPECT_ERRNO(mb(1 << 20, 0), EINVAL);
}

TEST(membarrier, private_expedited_without_registration_fails_with_EPERM)
{
	EXPECT_ERRNO(mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), EPERM);
}

TEST(membarrier, private_expedited_succeeds_once_registered)
{
	EXPECT_EQ(mb(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	EXPECT_EQ(mb(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	EXPECT_EQ(mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), 0);
}

TEST(membarrier, global_expedited_needs_no_registration)
{
	EXPECT_EQ(mb(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0), 0);
	EXPECT_EQ(mb(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0), 0);
	EXPECT_EQ(mb(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0), 0);
}

TEST(membarrier, global_succeeds_when_queried_as_supported)
{
	if (!(query() & MEMBARRIER_CMD_GLOBAL))
		TEST_SKIP("MEMBARRIER_CMD_GLOBAL unavailable (nohz_full)");
	EXPECT_EQ(mb(MEMBARRIER_CMD_GLOBAL, 0), 0);
}

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)
#endif

TEST(membarrier, get_registrations_lists_the_registered_commands)
{
	if (!(query() & MEMBARRIER_CMD_GET_REGISTRATIONS))
		TEST_SKIP("MEMBARRIER_CMD_GET_REGISTRATIONS needs Linux 6.3");
	EXPECT_EQ(mb(MEMBARRIER_CMD_GET_REGISTRATIONS, 0), 0);
	ASSERT_EQ(mb(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	EXPECT_EQ(mb(MEMBARRIER_CMD_GET_REGISTRATIONS, 0), MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
	ASSERT_EQ(mb(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0), 0);
	EXPECT_EQ(mb(MEMBARRIER_CMD_GET_REGISTRATIONS, 0),
		  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED);
}

TEST(membarrier, registration_is_inherited_by_fork)
{
	ASSERT_EQ(mb(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0 ? 0 : 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST_HELPER(private_expedited_errno)
{
	(void)argc;
	(void)argv;
	return mb(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == -1 && errno == EPERM ? 0 : 1;
}

TEST(membarrier, registration_is_dropped_by_execve)
{
	ASSERT_EQ(mb(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char *argv[] = {(char *)test_self_exe(), "--helper", "private_expedited_errno", NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
