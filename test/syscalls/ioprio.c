/* ioprio_set(2), ioprio_get(2): per-thread I/O priorities, set for a
 * thread, a process group or a user, reported back, inherited on fork. */
#include "test.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>

#define WHO_PROCESS 1
#define WHO_PGRP 2
#define WHO_USER 3
#define CLASS_NONE 0
#define CLASS_RT 1
#define CLASS_BE 2
#define CLASS_IDLE 3
#define PRIO(class, level) (((class) << 13) | (level))

static long ioprio_set(int which, int who, int prio)
{
	return syscall(SYS_ioprio_set, which, who, prio);
}

static long ioprio_get(int which, int who)
{
	return syscall(SYS_ioprio_get, which, who);
}

static void drop_all_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	ASSERT_SYSCALL_OK(syscall(SYS_capset, &h, d));
}

TEST(ioprio, set_best_effort_level_is_reported_back)
{
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_BE, 5)));
	EXPECT_EQ(ioprio_get(WHO_PROCESS, 0), PRIO(CLASS_BE, 5));
	EXPECT_EQ(ioprio_get(WHO_PROCESS, getpid()), PRIO(CLASS_BE, 5));
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, getpid(), PRIO(CLASS_BE, 0)));
	EXPECT_EQ(ioprio_get(WHO_PROCESS, 0), PRIO(CLASS_BE, 0));
}

TEST(ioprio, set_idle_class_is_reported_back)
{
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_IDLE, 0)));
	EXPECT_EQ(ioprio_get(WHO_PROCESS, 0), PRIO(CLASS_IDLE, 0));
}

TEST(ioprio, class_none_takes_back_a_priority_set)
{
	/* With no class the priority follows the nice value: Linux reports
	 * it as no class (recent kernels) or as the best-effort level
	 * (nice + 20) / 5 (older ones). */
	ASSERT_SYSCALL_OK(setpriority(PRIO_PROCESS, 0, 10));
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_IDLE, 0)));
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_NONE, 0)));
	long r = ioprio_get(WHO_PROCESS, 0);
	EXPECT_TRUE(r == 0 || r == PRIO(CLASS_BE, 6));
}

TEST(ioprio, is_inherited_on_fork)
{
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_BE, 3)));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		EXPECT_EQ(ioprio_get(WHO_PROCESS, 0), PRIO(CLASS_BE, 3));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(ioprio, is_per_thread_of_the_target_only)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_BE, 2)));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, pid, PRIO(CLASS_IDLE, 0)));
	EXPECT_EQ(ioprio_get(WHO_PROCESS, pid), PRIO(CLASS_IDLE, 0));
	EXPECT_EQ(ioprio_get(WHO_PROCESS, 0), PRIO(CLASS_BE, 2));
	close(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(ioprio, process_group_get_reports_the_best_of_its_members)
{
	/* The case leads a process group of its own. */
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_BE, 6)));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c;
		close(p[1]);
		ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_BE, 1)));
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	/* Wait until the child has set its own. */
	while (ioprio_get(WHO_PROCESS, pid) != PRIO(CLASS_BE, 1))
		sched_yield();
	EXPECT_EQ(ioprio_get(WHO_PGRP, 0), PRIO(CLASS_BE, 1));
	EXPECT_EQ(ioprio_get(WHO_PGRP, getpgrp()), PRIO(CLASS_BE, 1));
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PGRP, 0, PRIO(CLASS_IDLE, 0)));
	EXPECT_EQ(ioprio_get(WHO_PROCESS, pid), PRIO(CLASS_IDLE, 0));
	EXPECT_EQ(ioprio_get(WHO_PROCESS, 0), PRIO(CLASS_IDLE, 0));
	close(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(ioprio, unknown_which_is_EINVAL)
{
	EXPECT_ERRNO(ioprio_get(0, 0), EINVAL);
	EXPECT_ERRNO(ioprio_get(4, 0), EINVAL);
	EXPECT_ERRNO(ioprio_set(0, 0, PRIO(CLASS_BE, 4)), EINVAL);
	EXPECT_ERRNO(ioprio_set(4, 0, PRIO(CLASS_BE, 4)), EINVAL);
}

TEST(ioprio, invalid_class_or_level_is_EINVAL_before_which_is_checked)
{
	EXPECT_ERRNO(ioprio_set(WHO_PROCESS, 0, PRIO(4, 0)), EINVAL);
	EXPECT_ERRNO(ioprio_set(WHO_PROCESS, 0, PRIO(7, 0)), EINVAL);
	EXPECT_ERRNO(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_NONE, 1)), EINVAL);
	EXPECT_ERRNO(ioprio_set(WHO_PROCESS, -1, PRIO(5, 0)), EINVAL);
}

TEST(ioprio, no_such_target_is_ESRCH)
{
	EXPECT_ERRNO(ioprio_get(WHO_PROCESS, 0x3ffffff0), ESRCH);
	EXPECT_ERRNO(ioprio_get(WHO_PROCESS, -1), ESRCH);
	EXPECT_ERRNO(ioprio_set(WHO_PROCESS, 0x3ffffff0, PRIO(CLASS_BE, 4)), ESRCH);
	EXPECT_ERRNO(ioprio_get(WHO_PGRP, 0x3ffffff0), ESRCH);
	EXPECT_ERRNO(ioprio_set(WHO_PGRP, 0x3ffffff0, PRIO(CLASS_BE, 4)), ESRCH);
	/* A user no process runs as. */
	EXPECT_ERRNO(ioprio_get(WHO_USER, 54321), ESRCH);
	EXPECT_ERRNO(ioprio_set(WHO_USER, 54321, PRIO(CLASS_BE, 4)), ESRCH);
}

TEST(ioprio, user_target_covers_the_callers_processes)
{
	ASSERT_SYSCALL_OK(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_BE, 0)));
	/* The best of every process of the user: at most BE 0. */
	long r = ioprio_get(WHO_USER, getuid());
	ASSERT_SYSCALL_OK(r);
	EXPECT_LE(r, PRIO(CLASS_BE, 0));
}

TEST(ioprio, real_time_class_without_CAP_SYS_ADMIN_or_CAP_SYS_NICE_is_EPERM)
{
	drop_all_caps();
	EXPECT_ERRNO(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_RT, 4)), EPERM);
	/* The priority is checked before the target. */
	EXPECT_ERRNO(ioprio_set(9, 0, PRIO(CLASS_RT, 4)), EPERM);
	EXPECT_SYSCALL_OK(ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_IDLE, 0)));
}

TEST(ioprio, real_time_class_with_CAP_SYS_ADMIN_is_set)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root");
	long r = ioprio_set(WHO_PROCESS, 0, PRIO(CLASS_RT, 7));
	if (r == -1 && errno == EPERM && !test_in_sandbox())
		TEST_SKIP("root here holds no capability in the initial user namespace");
	ASSERT_SYSCALL_OK(r);
	EXPECT_EQ(ioprio_get(WHO_PROCESS, 0), PRIO(CLASS_RT, 7));
}

TEST(ioprio, another_users_process_without_CAP_SYS_NICE_is_EPERM)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c;
		close(p[1]);
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	while (ioprio_get(WHO_USER, 65534) == -1 && errno == ESRCH)
		sched_yield();
	drop_all_caps();
	EXPECT_ERRNO(ioprio_set(WHO_PROCESS, pid, PRIO(CLASS_BE, 4)), EPERM);
	close(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
