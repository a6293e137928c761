/* preadv2(2) and pwritev2(2). */
#include "test.h"

#include <sys/uio.h>

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x1
#define RWF_DSYNC 0x2
#define RWF_SYNC 0x4
#define RWF_NOWAIT 0x8
#endif
#ifndef RWF_APPEND
#define RWF_APPEND 0x10
#endif

static long preadv2_(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return syscall(SYS_preadv2, fd, iov, cnt, off, 0, flags);
}

static long pwritev2_(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return syscall(SYS_pwritev2, fd, iov, cnt, off, 0, flags);
}

static int file_with(const char *content)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDWR | O_CREAT | O_TRUNC, 0600));
	ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

TEST(preadv2, at_an_offset_reads_there_and_keeps_the_position)
{
	int fd = file_with("abcdef");
	char a[2], b[2];
	struct iovec iov[2] = {{a, 2}, {b, 2}};
	EXPECT_EQ(preadv2_(fd, iov, 2, 1, 0), 4);
	EXPECT_MEMEQ(a, "bc", 2);
	EXPECT_MEMEQ(b, "de", 2);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
	close(fd);
}

TEST(preadv2, offset_minus_one_uses_and_moves_the_file_position)
{
	int fd = file_with("abcdef");
	ASSERT_EQ(lseek(fd, 2, SEEK_SET), 2);
	char a[3];
	struct iovec iov = {a, 3};
	EXPECT_EQ(preadv2_(fd, &iov, 1, -1, 0), 3);
	EXPECT_MEMEQ(a, "cde", 3);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 5);
	close(fd);
}

TEST(preadv2, an_offset_below_minus_one_fails_with_EINVAL)
{
	int fd = file_with("abc");
	char a[1];
	struct iovec iov = {a, 1};
	EXPECT_ERRNO(preadv2_(fd, &iov, 1, -2, 0), EINVAL);
	/* Before the descriptor is looked at. */
	EXPECT_ERRNO(preadv2_(-1, &iov, 1, -2, 0), EINVAL);
	close(fd);
}

TEST(preadv2, a_bad_descriptor_fails_with_EBADF)
{
	char a[1];
	struct iovec iov = {a, 1};
	EXPECT_ERRNO(preadv2_(-1, &iov, 1, 0, 0), EBADF);
	EXPECT_ERRNO(preadv2_(-1, &iov, 1, -1, 0), EBADF);
}

TEST(preadv2, a_write_only_descriptor_fails_with_EBADF)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("w"), O_WRONLY | O_CREAT, 0600));
	char a[1];
	struct iovec iov = {a, 1};
	EXPECT_ERRNO(preadv2_(fd, &iov, 1, 0, 0), EBADF);
	close(fd);
}

TEST(preadv2, unknown_flags_fail_with_EOPNOTSUPP)
{
	int fd = file_with("abc");
	char a[1];
	struct iovec iov = {a, 1};
	EXPECT_ERRNO(preadv2_(fd, &iov, 1, 0, 0x40000000), EOPNOTSUPP);
	EXPECT_ERRNO(pwritev2_(fd, &iov, 1, 0, 0x40000000), EOPNOTSUPP);
	close(fd);
}

TEST(preadv2, an_empty_transfer_returns_0_before_the_flags_are_checked)
{
	int fd = file_with("abc");
	char a[1];
	struct iovec iov = {a, 0};
	EXPECT_EQ(preadv2_(fd, &iov, 1, 0, 0x40000000), 0);
	EXPECT_EQ(pwritev2_(fd, &iov, 1, 0, 0x40000000), 0);
	close(fd);
}

TEST(preadv2, HIPRI_DSYNC_and_SYNC_are_accepted)
{
	int fd = file_with("abc");
	char a[3];
	struct iovec iov = {a, 3};
	EXPECT_EQ(preadv2_(fd, &iov, 1, 0, RWF_HIPRI), 3);
	EXPECT_EQ(pwritev2_(fd, &iov, 1, 3, RWF_DSYNC), 3);
	EXPECT_EQ(pwritev2_(fd, &iov, 1, 6, RWF_SYNC), 3);
	EXPECT_EQ(pwritev2_(fd, &iov, 1, 9, RWF_DSYNC | RWF_SYNC | RWF_HIPRI), 3);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 12);
	close(fd);
}

TEST(preadv2, on_a_pipe_with_an_offset_fails_with_ESPIPE)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	char a[1] = {'x'};
	struct iovec iov = {a, 1};
	EXPECT_ERRNO(pwritev2_(p[1], &iov, 1, 0, 0), ESPIPE);
	EXPECT_ERRNO(preadv2_(p[0], &iov, 1, 0, 0), ESPIPE);
	EXPECT_EQ(pwritev2_(p[1], &iov, 1, -1, 0), 1);
	EXPECT_EQ(preadv2_(p[0], &iov, 1, -1, 0), 1);
	close(p[0]);
	close(p[1]);
}

TEST(preadv2, RWF_NOWAIT_on_an_empty_pipe_fails_with_EAGAIN)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	char a[1];
	struct iovec iov = {a, 1};
	EXPECT_ERRNO(preadv2_(p[0], &iov, 1, -1, RWF_NOWAIT), EAGAIN);
	ASSERT_EQ(write(p[1], "z", 1), 1);
	EXPECT_EQ(preadv2_(p[0], &iov, 1, -1, RWF_NOWAIT), 1);
	EXPECT_EQ(a[0], 'z');
	close(p[0]);
	close(p[1]);
}

TEST(pwritev2, RWF_NOWAIT_on_a_full_pipe_fails_with_EAGAIN)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_NONBLOCK));
	char buf[4096];
	memset(buf, 'q', sizeof(buf));
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	ASSERT_EQ(errno, EAGAIN);
	/* Blocking again: only RWF_NOWAIT keeps the write from waiting. */
	ASSERT_SYSCALL_OK(fcntl(p[1], F_SETFL, 0));
	struct iovec iov = {buf, 1};
	EXPECT_ERRNO(pwritev2_(p[1], &iov, 1, -1, RWF_NOWAIT), EAGAIN);
	close(p[0]);
	close(p[1]);
}

TEST(pwritev2, RWF_APPEND_writes_at_the_end_whatever_the_offset)
{
	int fd = file_with("abc");
	struct iovec iov = {"de", 2};
	EXPECT_EQ(pwritev2_(fd, &iov, 1, 0, RWF_APPEND), 2);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
	char buf[8] = {0};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 5);
	EXPECT_STREQ(buf, "abcde");
	close(fd);
}

TEST(pwritev2, RWF_APPEND_at_offset_minus_one_moves_the_position_to_the_end)
{
	int fd = file_with("abc");
	struct iovec iov = {"XY", 2};
	EXPECT_EQ(pwritev2_(fd, &iov, 1, -1, RWF_APPEND), 2);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 5);
	char buf[8] = {0};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 5);
	EXPECT_STREQ(buf, "abcXY");
	close(fd);
}

TEST(pwritev2, RWF_APPEND_is_ignored_by_preadv2)
{
	int fd = file_with("abc");
	char a[2];
	struct iovec iov = {a, 2};
	EXPECT_EQ(preadv2_(fd, &iov, 1, 1, RWF_APPEND), 2);
	EXPECT_MEMEQ(a, "bc", 2);
	close(fd);
}

TEST(pwritev2, at_an_offset_writes_there_and_keeps_the_position)
{
	int fd = file_with("abcdef");
	struct iovec iov[2] = {{"X", 1}, {"YZ", 2}};
	EXPECT_EQ(pwritev2_(fd, iov, 2, 2, 0), 3);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
	char buf[8] = {0};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 6);
	EXPECT_STREQ(buf, "abXYZf");
	close(fd);
}

TEST(preadv2, an_O_PATH_descriptor_fails_with_EBADF)
{
	int fd = open(test_tmpdir(), O_PATH);
	ASSERT_SYSCALL_OK(fd);
	char b[4];
	struct iovec v = {b, sizeof(b)};
	EXPECT_ERRNO(syscall(SYS_preadv2, fd, &v, 1, 0, 0, 0), EBADF);
	EXPECT_ERRNO(syscall(SYS_pwritev2, fd, &v, 1, 0, 0, 0), EBADF);
}
