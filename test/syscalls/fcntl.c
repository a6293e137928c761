/* fcntl(2): descriptor flags, status flags, F_DUPFD, record locks. */
#include "test.h"

TEST(fcntl, F_SETFD_and_F_GETFD_toggle_FD_CLOEXEC)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_EQ(fcntl(fd, F_GETFD), 0);
	ASSERT_SYSCALL_OK(fcntl(fd, F_SETFD, FD_CLOEXEC));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	ASSERT_SYSCALL_OK(fcntl(fd, F_SETFD, 0));
	EXPECT_EQ(fcntl(fd, F_GETFD), 0);
}

TEST(fcntl, F_GETFL_reports_access_mode_and_status_flags)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_WRONLY | O_APPEND));
	int fl = fcntl(fd, F_GETFL);
	EXPECT_EQ(fl & O_ACCMODE, O_WRONLY);
	EXPECT_TRUE(fl & O_APPEND);
	EXPECT_FALSE(fl & O_NONBLOCK);
}

TEST(fcntl, F_SETFL_sets_O_NONBLOCK_and_ignores_access_mode_bits)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	ASSERT_SYSCALL_OK(fcntl(fd, F_SETFL, O_NONBLOCK | O_RDWR));
	int fl = fcntl(fd, F_GETFL);
	EXPECT_TRUE(fl & O_NONBLOCK);
	EXPECT_EQ(fl & O_ACCMODE, O_RDONLY);
}

TEST(fcntl, F_SETFL_O_NONBLOCK_makes_read_of_empty_pipe_fail_with_EAGAIN)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
	char c;
	EXPECT_ERRNO(read(p[0], &c, 1), EAGAIN);
}

TEST(fcntl, F_DUPFD_returns_lowest_fd_greater_or_equal_to_arg)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	EXPECT_EQ(fcntl(fd, F_DUPFD, 100), 100);
	EXPECT_EQ(fcntl(fd, F_DUPFD, 100), 101);
	EXPECT_EQ(fcntl(100, F_GETFD), 0);
}

TEST(fcntl, F_DUPFD_CLOEXEC_sets_close_on_exec_on_duplicate)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	int d = ASSERT_SYSCALL_OK(fcntl(fd, F_DUPFD_CLOEXEC, 20));
	EXPECT_GE(d, 20);
	EXPECT_EQ(fcntl(d, F_GETFD), FD_CLOEXEC);
}

TEST(fcntl, F_DUPFD_with_negative_arg_fails_with_EINVAL)
{
	EXPECT_ERRNO(fcntl(0, F_DUPFD, -1), EINVAL);
}

TEST(fcntl, unknown_cmd_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERRNO(syscall(SYS_fcntl, fd, 0x7fff, 0), EINVAL);
}

TEST(fcntl, on_bad_fd_fails_with_EBADF)
{
	EXPECT_ERRNO(fcntl(9999, F_GETFD), EBADF);
}

TEST(fcntl, F_GETLK_reports_F_UNLCK_when_no_lock_would_conflict)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	ASSERT_SYSCALL_OK(fcntl(fd, F_GETLK, &fl));
	EXPECT_EQ(fl.l_type, F_UNLCK);
}

TEST(fcntl, F_SETLK_conflicting_lock_in_other_process_fails_with_EAGAIN)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	ASSERT_SYSCALL_OK(fcntl(fd, F_SETLK, &fl));
	pid_t parent = getpid();
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		int cfd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDWR));
		struct flock c = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
		/* POSIX allows EACCES too; Linux returns EAGAIN. */
		EXPECT_ERRNO(fcntl(cfd, F_SETLK, &c), EAGAIN);
		struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
		ASSERT_SYSCALL_OK(fcntl(cfd, F_GETLK, &q));
		EXPECT_EQ(q.l_type, F_WRLCK);
		EXPECT_EQ(q.l_pid, parent);
		EXPECT_EQ(q.l_start, 0);
		EXPECT_EQ(q.l_len, 10);
		struct flock free_range = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 5};
		EXPECT_SYSCALL_OK(fcntl(cfd, F_SETLK, &free_range));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fcntl, locks_are_released_when_any_fd_of_the_file_is_closed)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	int other = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDWR));
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	ASSERT_SYSCALL_OK(fcntl(fd, F_SETLK, &fl));
	ASSERT_SYSCALL_OK(close(other));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		int cfd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDWR));
		struct flock c = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
		EXPECT_SYSCALL_OK(fcntl(cfd, F_SETLK, &c));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
