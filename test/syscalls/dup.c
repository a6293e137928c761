/* dup(2), dup2(2), dup3(2). */
#include "test.h"

TEST(dup, returns_lowest_numbered_unused_fd)
{
	int a = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	int b = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	ASSERT_SYSCALL_OK(close(a));
	EXPECT_EQ(dup(b), a);
}

TEST(dup, new_fd_shares_file_offset_and_status_flags)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	ASSERT_EQ(write(fd, "abcdef", 6), 6);
	int d = ASSERT_SYSCALL_OK(dup(fd));
	ASSERT_EQ(lseek(fd, 2, SEEK_SET), 2);
	EXPECT_EQ(lseek(d, 0, SEEK_CUR), 2);
	ASSERT_SYSCALL_OK(fcntl(fd, F_SETFL, O_APPEND));
	EXPECT_TRUE(fcntl(d, F_GETFL) & O_APPEND);
}

TEST(dup, does_not_copy_close_on_exec_flag)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	int d = ASSERT_SYSCALL_OK(dup(fd));
	EXPECT_EQ(fcntl(d, F_GETFD), 0);
}

TEST(dup, of_invalid_fd_fails_with_EBADF)
{
	EXPECT_ERRNO(dup(9999), EBADF);
	EXPECT_ERRNO(dup(-1), EBADF);
}

TEST(dup2, onto_open_fd_silently_closes_and_reuses_it)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int fd = ASSERT_SYSCALL_OK(open("/dev/zero", O_RDONLY));
	EXPECT_EQ(dup2(fd, p[0]), p[0]);
	char c = 1;
	EXPECT_EQ(read(p[0], &c, 1), 1);
	EXPECT_EQ(c, 0);
}

TEST(dup2, with_equal_fds_returns_newfd_and_does_nothing)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	EXPECT_EQ(dup2(fd, fd), fd);
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
}

TEST(dup2, with_invalid_oldfd_fails_with_EBADF_and_leaves_newfd_open)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERRNO(dup2(9999, fd), EBADF);
	EXPECT_SYSCALL_OK(fcntl(fd, F_GETFD));
}

TEST(dup2, newfd_out_of_range_fails_with_EBADF)
{
	EXPECT_ERRNO(dup2(0, -1), EBADF);
	EXPECT_ERRNO(dup2(0, 1 << 30), EBADF);
}

TEST(dup3, with_equal_fds_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERRNO(dup3(fd, fd, 0), EINVAL);
}

TEST(dup3, O_CLOEXEC_sets_close_on_exec_on_new_fd)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_EQ(dup3(fd, 50, O_CLOEXEC), 50);
	EXPECT_EQ(fcntl(50, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(fcntl(fd, F_GETFD), 0);
}

TEST(dup3, invalid_flags_fail_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERRNO(dup3(fd, 51, O_NONBLOCK), EINVAL);
}
