/* readahead(2) and sync_file_range(2). */
#include "test.h"

#include <sys/socket.h>

static int regular_file(void)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDWR | O_CREAT, 0600));
	ASSERT_EQ(write(fd, "hello", 5), 5);
	return fd;
}

TEST(readahead, on_a_regular_file_succeeds)
{
	int fd = regular_file();
	EXPECT_EQ(syscall(SYS_readahead, fd, 0, 4096), 0);
	EXPECT_EQ(syscall(SYS_readahead, fd, 1 << 20, 1 << 20), 0);
	EXPECT_EQ(syscall(SYS_readahead, fd, 0, 0), 0);
	close(fd);
}

TEST(readahead, a_bad_descriptor_fails_with_EBADF)
{
	EXPECT_ERRNO(syscall(SYS_readahead, -1, 0, 10), EBADF);
	int fd = ASSERT_SYSCALL_OK(open(test_path("w"), O_WRONLY | O_CREAT, 0600));
	EXPECT_ERRNO(syscall(SYS_readahead, fd, 0, 10), EBADF);
	close(fd);
	fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_PATH));
	EXPECT_ERRNO(syscall(SYS_readahead, fd, 0, 10), EBADF);
	close(fd);
}

TEST(readahead, a_file_that_is_not_regular_fails_with_EINVAL)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(syscall(SYS_readahead, p[0], 0, 10), EINVAL);
	close(p[0]);
	close(p[1]);
	int d = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	EXPECT_ERRNO(syscall(SYS_readahead, d, 0, 10), EINVAL);
	close(d);
	int n = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERRNO(syscall(SYS_readahead, n, 0, 10), EINVAL);
	close(n);
	int s[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	EXPECT_ERRNO(syscall(SYS_readahead, s[0], 0, 10), EINVAL);
	close(s[0]);
	close(s[1]);
}

#define SFR_ALL (SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER)

TEST(sync_file_range, on_a_regular_file_succeeds_with_any_valid_flags)
{
	int fd = regular_file();
	EXPECT_EQ(sync_file_range(fd, 0, 0, 0), 0);
	EXPECT_EQ(sync_file_range(fd, 0, 5, SYNC_FILE_RANGE_WRITE), 0);
	EXPECT_EQ(sync_file_range(fd, 100, 1 << 20, SFR_ALL), 0);
	close(fd);
}

TEST(sync_file_range, unknown_flags_fail_with_EINVAL)
{
	int fd = regular_file();
	EXPECT_ERRNO(sync_file_range(fd, 0, 0, 8), EINVAL);
	EXPECT_ERRNO(sync_file_range(fd, 0, 0, 0x80000000u), EINVAL);
	close(fd);
}

TEST(sync_file_range, a_negative_offset_or_overflowing_range_fails_with_EINVAL)
{
	int fd = regular_file();
	EXPECT_ERRNO(sync_file_range(fd, -1, 0, 0), EINVAL);
	EXPECT_ERRNO(sync_file_range(fd, 0, -1, 0), EINVAL);
	EXPECT_ERRNO(sync_file_range(fd, 0x7fffffffffffff00LL, 0x1000, 0), EINVAL);
	close(fd);
}

TEST(sync_file_range, a_bad_descriptor_fails_with_EBADF)
{
	EXPECT_ERRNO(sync_file_range(-1, 0, 0, 0), EBADF);
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_PATH));
	EXPECT_ERRNO(sync_file_range(fd, 0, 0, 0), EBADF);
	close(fd);
}

TEST(sync_file_range, a_pipe_or_socket_fails_with_ESPIPE)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(sync_file_range(p[1], 0, 0, 0), ESPIPE);
	close(p[0]);
	close(p[1]);
	int s[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	EXPECT_ERRNO(sync_file_range(s[0], 0, 0, 0), ESPIPE);
	close(s[0]);
	close(s[1]);
}

TEST(sync_file_range, a_directory_is_accepted)
{
	int d = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	EXPECT_EQ(sync_file_range(d, 0, 0, SFR_ALL), 0);
	close(d);
}
