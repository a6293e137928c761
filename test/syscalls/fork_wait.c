/* fork(2), wait4(2)/waitpid(2), waitid(2). */
#include "test.h"

#include <sys/resource.h>

TEST(fork, returns_zero_in_child_and_child_pid_in_parent)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pid_t me = getpid();
		ASSERT_EQ(write(p[1], &me, sizeof(me)), (ssize_t)sizeof(me));
		_exit(0);
	}
	EXPECT_GT(pid, 0);
	EXPECT_NE(pid, getpid());
	pid_t reported = 0;
	EXPECT_EQ(read(p[0], &reported, sizeof(reported)), (ssize_t)sizeof(reported));
	EXPECT_EQ(reported, pid);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fork, child_getppid_is_the_parent_pid)
{
	pid_t parent = getpid();
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(getppid() == parent ? 0 : 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fork, child_gets_a_copy_of_memory_not_shared)
{
	static volatile int value = 1;
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		value = 2;
		_exit(value);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 2);
	EXPECT_EQ(value, 1);
}

TEST(fork, child_inherits_open_fds_sharing_the_file_offset)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_EQ(write(fd, "child", 5), 5);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 5);
}

TEST(waitpid, reports_exit_status_of_child)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(77);
	int ws;
	EXPECT_EQ(waitpid(pid, &ws, 0), pid);
	EXPECT_EXIT_STATUS(ws, 77);
}

TEST(waitpid, with_no_children_fails_with_ECHILD)
{
	int ws;
	EXPECT_ERRNO(waitpid(-1, &ws, 0), ECHILD);
	EXPECT_ERRNO(wait(&ws), ECHILD);
}

TEST(waitpid, for_pid_that_is_not_a_child_fails_with_ECHILD)
{
	int ws;
	EXPECT_ERRNO(waitpid(getppid(), &ws, 0), ECHILD);
}

TEST(waitpid, WNOHANG_returns_zero_while_child_is_running)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		_exit(read(p[0], &c, 1) == 0 ? 0 : 1);
	}
	close(p[0]);
	int ws;
	EXPECT_EQ(waitpid(pid, &ws, WNOHANG), 0);
	close(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(waitpid, minus_one_waits_for_any_child)
{
	pid_t a = ASSERT_SYSCALL_OK(fork());
	if (a == 0)
		_exit(1);
	pid_t b = ASSERT_SYSCALL_OK(fork());
	if (b == 0)
		_exit(2);
	int sum = 0, ws;
	for (int i = 0; i < 2; i++) {
		pid_t r = waitpid(-1, &ws, 0);
		EXPECT_TRUE(r == a || r == b);
		sum += WEXITSTATUS(ws);
	}
	EXPECT_EQ(sum, 3);
	EXPECT_ERRNO(waitpid(-1, &ws, 0), ECHILD);
}

TEST(waitpid, reports_signal_that_killed_the_child)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		raise(SIGTERM);
		_exit(0);
	}
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGTERM);
}

TEST(waitpid, WUNTRACED_reports_stopped_child_and_WCONTINUED_its_resumption)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		raise(SIGSTOP);
		_exit(read(p[0], &c, 1) == 0 ? 5 : 6);
	}
	close(p[0]);
	int ws;
	ASSERT_EQ(waitpid(pid, &ws, WUNTRACED), pid);
	EXPECT_TRUE(WIFSTOPPED(ws));
	EXPECT_EQ(WSTOPSIG(ws), SIGSTOP);
	ASSERT_SYSCALL_OK(kill(pid, SIGCONT));
	ASSERT_EQ(waitpid(pid, &ws, WCONTINUED), pid);
	EXPECT_TRUE(WIFCONTINUED(ws));
	close(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 5);
}

TEST(waitpid, invalid_options_fail_with_EINVAL)
{
	int ws;
	EXPECT_ERRNO(waitpid(-1, &ws, 0x40000), EINVAL);
}

TEST(waitid, WEXITED_fills_siginfo_with_pid_status_and_CLD_EXITED)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(9);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ASSERT_SYSCALL_OK(waitid(P_PID, pid, &si, WEXITED));
	EXPECT_EQ(si.si_signo, SIGCHLD);
	EXPECT_EQ(si.si_code, CLD_EXITED);
	EXPECT_EQ(si.si_pid, pid);
	EXPECT_EQ(si.si_status, 9);
	EXPECT_EQ(si.si_uid, getuid());
}

TEST(waitid, WNOWAIT_leaves_the_child_waitable)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(4);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ASSERT_SYSCALL_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	EXPECT_EQ(si.si_pid, pid);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 4);
}

TEST(waitid, without_WEXITED_WSTOPPED_or_WCONTINUED_fails_with_EINVAL)
{
	siginfo_t si;
	EXPECT_ERRNO(waitid(P_ALL, 0, &si, WNOHANG), EINVAL);
}

TEST(wait4, fills_rusage_of_the_child)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(0);
	int ws;
	struct rusage ru;
	memset(&ru, 0xff, sizeof(ru));
	EXPECT_EQ(wait4(pid, &ws, 0, &ru), pid);
	EXPECT_GE(ru.ru_utime.tv_sec, 0);
	EXPECT_LT(ru.ru_utime.tv_usec, 1000000);
	EXPECT_GE(ru.ru_maxrss, 0);
}

TEST(fork, many_children_can_be_created_and_reaped)
{
	enum { N = 50 };
	for (int i = 0; i < N; i++) {
		pid_t pid = ASSERT_SYSCALL_OK(fork());
		if (pid == 0)
			_exit(i);
	}
	int sum = 0, ws;
	for (int i = 0; i < N; i++) {
		ASSERT_GT(waitpid(-1, &ws, 0), 0);
		sum += WEXITSTATUS(ws);
	}
	EXPECT_EQ(sum, N * (N - 1) / 2);
}
