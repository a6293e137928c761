/* ioctl(2) on things that are not terminals: ioctl_tty(2), ioctl_fionread. */
#include "test.h"

#include <sys/ioctl.h>
#include <termios.h>

TEST(ioctl, TCGETS_on_pipe_fails_with_ENOTTY)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct termios t;
	EXPECT_ERRNO(ioctl(p[0], TCGETS, &t), ENOTTY);
}

TEST(ioctl, TCGETS_on_dev_null_fails_with_ENOTTY)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDWR));
	struct termios t;
	EXPECT_ERRNO(ioctl(fd, TCGETS, &t), ENOTTY);
}

TEST(ioctl, TCGETS_on_regular_file_fails_with_ENOTTY)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	struct termios t;
	EXPECT_ERRNO(ioctl(fd, TCGETS, &t), ENOTTY);
}

TEST(isatty, on_pipe_returns_zero_and_sets_ENOTTY)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	errno = 0;
	EXPECT_EQ(isatty(p[1]), 0);
	EXPECT_EQ(errno, ENOTTY);
}

TEST(ioctl, TIOCGWINSZ_on_pipe_fails_with_ENOTTY)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct winsize ws;
	EXPECT_ERRNO(ioctl(p[1], TIOCGWINSZ, &ws), ENOTTY);
}

TEST(ioctl, TIOCGPGRP_on_regular_file_fails_with_ENOTTY)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	pid_t pg;
	EXPECT_ERRNO(ioctl(fd, TIOCGPGRP, &pg), ENOTTY);
}

TEST(ioctl, FIONREAD_on_pipe_reports_bytes_available)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(p[0], FIONREAD, &n));
	EXPECT_EQ(n, 0);
	ASSERT_EQ(write(p[1], "12345", 5), 5);
	ASSERT_SYSCALL_OK(ioctl(p[0], FIONREAD, &n));
	EXPECT_EQ(n, 5);
}

TEST(ioctl, FIONREAD_on_regular_file_reports_bytes_until_end_of_file)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	ASSERT_EQ(write(fd, "abcdefgh", 8), 8);
	ASSERT_SYSCALL_OK(lseek(fd, 3, SEEK_SET));
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(fd, FIONREAD, &n));
	EXPECT_EQ(n, 5);
}

TEST(ioctl, FIONBIO_sets_and_clears_O_NONBLOCK)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int on = 1, off = 0;
	ASSERT_SYSCALL_OK(ioctl(p[0], FIONBIO, &on));
	EXPECT_TRUE(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	char c;
	EXPECT_ERRNO(read(p[0], &c, 1), EAGAIN);
	ASSERT_SYSCALL_OK(ioctl(p[0], FIONBIO, &off));
	EXPECT_FALSE(fcntl(p[0], F_GETFL) & O_NONBLOCK);
}

TEST(ioctl, FIOCLEX_and_FIONCLEX_set_and_clear_close_on_exec)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	ASSERT_SYSCALL_OK(ioctl(fd, FIOCLEX));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	ASSERT_SYSCALL_OK(ioctl(fd, FIONCLEX));
	EXPECT_EQ(fcntl(fd, F_GETFD), 0);
}

TEST(ioctl, on_bad_fd_fails_with_EBADF)
{
	int n;
	EXPECT_ERRNO(ioctl(9999, FIONREAD, &n), EBADF);
}

TEST(ioctl, FIONREAD_with_bad_pointer_fails_with_EFAULT)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(syscall(SYS_ioctl, p[0], FIONREAD, (void *)8), EFAULT);
}
