/* getpid(2), getppid(2), gettid(2), getuid(2) family, setuid(2),
 * getgroups(2), setpgid(2), setsid(2). */
#include "test.h"

#include <grp.h>

TEST(getpid, in_child_equals_pid_returned_to_parent_by_fork)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pid_t me = syscall(SYS_getpid);
		write(p[1], &me, sizeof(me));
		_exit(0);
	}
	pid_t got = 0;
	EXPECT_EQ(read(p[0], &got, sizeof(got)), (ssize_t)sizeof(got));
	EXPECT_EQ(got, pid);
	test_wait_exit(pid);
}

TEST(gettid, equals_getpid_in_the_main_thread)
{
	EXPECT_EQ(syscall(SYS_gettid), syscall(SYS_getpid));
}

TEST(getppid, is_stable_and_not_the_callers_pid)
{
	pid_t a = getppid();
	EXPECT_GT(a, 0);
	EXPECT_NE(a, getpid());
	EXPECT_EQ(getppid(), a);
}

TEST(getresuid, agrees_with_getuid_and_geteuid)
{
	uid_t r, e, s;
	ASSERT_SYSCALL_OK(getresuid(&r, &e, &s));
	EXPECT_EQ(r, getuid());
	EXPECT_EQ(e, geteuid());
	gid_t gr, ge, gs;
	ASSERT_SYSCALL_OK(getresgid(&gr, &ge, &gs));
	EXPECT_EQ(gr, getgid());
	EXPECT_EQ(ge, getegid());
}

TEST(setuid, by_root_sets_all_ids_and_cannot_be_undone)
{
	if (geteuid() != 0) {
		EXPECT_ERRNO(setuid(0), EPERM);
		return;
	}
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setgid(4321));
		ASSERT_SYSCALL_OK(setuid(1234));
		uid_t r, e, s;
		ASSERT_SYSCALL_OK(getresuid(&r, &e, &s));
		EXPECT_EQ(r, 1234);
		EXPECT_EQ(e, 1234);
		EXPECT_EQ(s, 1234);
		EXPECT_EQ(getgid(), 4321);
		EXPECT_ERRNO(setuid(0), EPERM);
		EXPECT_ERRNO(setgid(0), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(seteuid, by_root_keeps_saved_uid_so_root_can_be_regained)
{
	if (geteuid() != 0) {
		EXPECT_ERRNO(seteuid(0), EPERM);
		return;
	}
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setresuid(-1, 1234, -1));
		EXPECT_EQ(geteuid(), 1234);
		EXPECT_EQ(getuid(), 0);
		EXPECT_SYSCALL_OK(setresuid(-1, 0, -1));
		EXPECT_EQ(geteuid(), 0);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(getgroups, with_size_zero_returns_count_and_with_too_small_size_fails_with_EINVAL)
{
	if (geteuid() != 0) {
		EXPECT_GE(getgroups(0, NULL), 0);
		return;
	}
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		gid_t set[3] = {10, 20, 30};
		ASSERT_SYSCALL_OK(setgroups(3, set));
		EXPECT_EQ(getgroups(0, NULL), 3);
		gid_t got[3] = {0};
		EXPECT_EQ(getgroups(3, got), 3);
		EXPECT_EQ(got[0] + got[1] + got[2], 60);
		gid_t small[2];
		EXPECT_ERRNO(getgroups(2, small), EINVAL);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(setpgid, zero_zero_makes_caller_leader_of_its_own_group)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setpgid(0, 0));
		EXPECT_EQ(getpgrp(), getpid());
		EXPECT_EQ(getpgid(0), getpid());
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(setpgid, child_is_born_in_parents_process_group)
{
	pid_t pgrp = getpgrp();
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(getpgrp() == pgrp ? 0 : 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(setpgid, negative_pgid_fails_with_EINVAL)
{
	EXPECT_ERRNO(setpgid(0, -1), EINVAL);
}

TEST(setsid, by_process_group_leader_fails_with_EPERM)
{
	ASSERT_SYSCALL_OK(setpgid(0, 0));
	EXPECT_ERRNO(setsid(), EPERM);
}

TEST(setsid, in_child_creates_new_session_and_group_led_by_caller)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pid_t sid = setsid();
		EXPECT_EQ(sid, getpid());
		EXPECT_EQ(getsid(0), getpid());
		EXPECT_EQ(getpgrp(), getpid());
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(getsid, of_nonexistent_process_fails_with_ESRCH)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(0);
	test_wait_exit(pid);
	EXPECT_ERRNO(getsid(pid), ESRCH);
	/* 0 when the session leader lives in an ancestor PID namespace (as
	 * under a CI runner in a container), so only success is certain. */
	EXPECT_GE(getsid(0), 0);
}
