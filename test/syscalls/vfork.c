/* vfork(2). */
#include "test.h"

static volatile int shared_value;

TEST(vfork, child_shares_memory_and_parent_resumes_after_child_exits)
{
	shared_value = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		shared_value = 123;
		_exit(0);
	}
	ASSERT_NE(pid, -1);
	/* The parent was suspended until _exit, so the write is visible. */
	EXPECT_EQ(shared_value, 123);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(vfork, child_has_its_own_pid)
{
	static volatile pid_t child_pid;
	pid_t parent = getpid();
	pid_t pid = vfork();
	if (pid == 0) {
		child_pid = syscall(SYS_getpid);
		_exit(0);
	}
	ASSERT_NE(pid, -1);
	EXPECT_EQ(child_pid, pid);
	EXPECT_NE(child_pid, parent);
	test_wait_exit(pid);
}

TEST(vfork, child_execve_releases_parent_and_exit_status_is_reported)
{
	char *argv[] = {"/bin/sh", "-c", "exit 17", NULL};
	char *envp[] = {NULL};
	pid_t pid = vfork();
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	ASSERT_NE(pid, -1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 17);
}

TEST(vfork, failed_execve_in_child_lets_child_report_errno)
{
	static volatile int child_errno;
	char *argv[] = {"/nonexistent/program", NULL};
	char *envp[] = {NULL};
	pid_t pid = vfork();
	if (pid == 0) {
		execve(argv[0], argv, envp);
		child_errno = errno;
		_exit(127);
	}
	ASSERT_NE(pid, -1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 127);
	EXPECT_EQ(child_errno, ENOENT);
}
