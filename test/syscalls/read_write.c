/* read(2), write(2), pread(2), pwrite(2), readv(2), writev(2). */
#include "test.h"

#include <sys/uio.h>

static int make_file(const char *name, const char *content)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path(name), O_RDWR | O_CREAT | O_TRUNC, 0644));
	if (content)
		ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	return fd;
}

TEST(read, returns_bytes_written_by_write_from_file_offset)
{
	int fd = make_file("f", "hello world");
	ASSERT_SYSCALL_OK(lseek(fd, 6, SEEK_SET));
	char buf[32] = {0};
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 5);
	EXPECT_STREQ(buf, "world");
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 11);
}

TEST(read, at_end_of_file_returns_zero)
{
	int fd = make_file("f", "abc");
	char buf[8];
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 0);
}

TEST(read, of_zero_bytes_returns_zero_and_does_not_move_offset)
{
	int fd = make_file("f", "abc");
	ASSERT_SYSCALL_OK(lseek(fd, 1, SEEK_SET));
	char buf[1];
	EXPECT_EQ(read(fd, buf, 0), 0);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 1);
}

TEST(read, from_fd_not_open_for_reading_fails_with_EBADF)
{
	close(make_file("f", "abc"));
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_WRONLY));
	char buf[4];
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EBADF);
}

TEST(write, to_fd_not_open_for_writing_fails_with_EBADF)
{
	close(make_file("f", NULL));
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDONLY));
	EXPECT_ERRNO(write(fd, "x", 1), EBADF);
}

TEST(read, on_directory_fails_with_EISDIR)
{
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[16];
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EISDIR);
}

TEST(write, with_O_APPEND_always_writes_at_end_of_file)
{
	close(make_file("f", "abc"));
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDWR | O_APPEND));
	ASSERT_SYSCALL_OK(lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(write(fd, "de", 2), 2);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 5);
	char buf[8] = {0};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 5);
	EXPECT_STREQ(buf, "abcde");
}

TEST(write, past_end_of_file_extends_it)
{
	int fd = make_file("f", "ab");
	EXPECT_EQ(pwrite(fd, "z", 1, 9), 1);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 10);
	char buf[10];
	EXPECT_EQ(pread(fd, buf, 10, 0), 10);
	EXPECT_MEMEQ(buf, "ab\0\0\0\0\0\0\0z", 10);
}

TEST(write, to_dev_full_fails_with_ENOSPC)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/full", O_WRONLY));
	EXPECT_ERRNO(write(fd, "x", 1), ENOSPC);
}

TEST(read, from_dev_zero_fills_buffer_with_zeros)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/zero", O_RDONLY));
	char buf[300];
	memset(buf, 0x5a, sizeof(buf));
	EXPECT_EQ(read(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	char zero[300] = {0};
	EXPECT_MEMEQ(buf, zero, sizeof(buf));
}

TEST(read, from_dev_null_returns_end_of_file)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDWR));
	char buf[4];
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 0);
	EXPECT_EQ(write(fd, "abcd", 4), 4);
}

TEST(pread, does_not_change_file_offset)
{
	int fd = make_file("f", "0123456789");
	ASSERT_SYSCALL_OK(lseek(fd, 2, SEEK_SET));
	char buf[4] = {0};
	EXPECT_EQ(pread(fd, buf, 3, 5), 3);
	EXPECT_STREQ(buf, "567");
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 2);
}

TEST(pwrite, writes_at_given_offset_without_moving_file_offset)
{
	int fd = make_file("f", "0123456789");
	ASSERT_SYSCALL_OK(lseek(fd, 1, SEEK_SET));
	EXPECT_EQ(pwrite(fd, "ab", 2, 4), 2);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 1);
	char buf[11] = {0};
	EXPECT_EQ(pread(fd, buf, 10, 0), 10);
	EXPECT_STREQ(buf, "0123ab6789");
}

TEST(pread, with_negative_offset_fails_with_EINVAL)
{
	int fd = make_file("f", "abc");
	char buf[4];
	EXPECT_ERRNO(syscall(SYS_pread64, fd, buf, 1, -1L), EINVAL);
}

TEST(pread, on_pipe_fails_with_ESPIPE)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	char buf[4];
	EXPECT_ERRNO(pread(p[0], buf, 1, 0), ESPIPE);
	EXPECT_ERRNO(pwrite(p[1], "x", 1, 0), ESPIPE);
}

TEST(readv, scatters_data_into_buffers_in_array_order)
{
	int fd = make_file("f", "abcdefgh");
	ASSERT_SYSCALL_OK(lseek(fd, 0, SEEK_SET));
	char a[3] = {0}, b[5] = {0};
	struct iovec iov[2] = {{a, 2}, {b, 4}};
	EXPECT_EQ(readv(fd, iov, 2), 6);
	EXPECT_STREQ(a, "ab");
	EXPECT_STREQ(b, "cdef");
}

TEST(writev, gathers_buffers_in_array_order)
{
	int fd = make_file("f", NULL);
	struct iovec iov[3] = {{"one ", 4}, {"", 0}, {"two", 3}};
	EXPECT_EQ(writev(fd, iov, 3), 7);
	char buf[8] = {0};
	EXPECT_EQ(pread(fd, buf, 7, 0), 7);
	EXPECT_STREQ(buf, "one two");
}

TEST(readv, with_negative_iovcnt_fails_with_EINVAL)
{
	int fd = make_file("f", "abc");
	char a[2];
	struct iovec iov = {a, 1};
	EXPECT_ERRNO(syscall(SYS_readv, fd, &iov, -1), EINVAL);
}
