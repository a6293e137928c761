/* lseek(2). */
#include "test.h"

static int file_with(const char *content)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR | O_TRUNC, 0600));
	ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	return fd;
}

TEST(lseek, SEEK_SET_sets_offset_to_offset_bytes)
{
	int fd = file_with("0123456789");
	EXPECT_EQ(lseek(fd, 3, SEEK_SET), 3);
	char c;
	ASSERT_EQ(read(fd, &c, 1), 1);
	EXPECT_EQ(c, '3');
}

TEST(lseek, SEEK_CUR_adds_offset_to_current_location)
{
	int fd = file_with("0123456789");
	ASSERT_EQ(lseek(fd, 4, SEEK_SET), 4);
	EXPECT_EQ(lseek(fd, 2, SEEK_CUR), 6);
	EXPECT_EQ(lseek(fd, -5, SEEK_CUR), 1);
}

TEST(lseek, SEEK_END_is_relative_to_size_of_file)
{
	int fd = file_with("0123456789");
	EXPECT_EQ(lseek(fd, 0, SEEK_END), 10);
	EXPECT_EQ(lseek(fd, -3, SEEK_END), 7);
}

TEST(lseek, beyond_end_then_write_leaves_a_hole_that_reads_as_zeros)
{
	int fd = file_with("ab");
	EXPECT_EQ(lseek(fd, 100, SEEK_SET), 100);
	ASSERT_EQ(write(fd, "z", 1), 1);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 101);
	char buf[98], zero[98] = {0};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 2), (ssize_t)sizeof(buf));
	EXPECT_MEMEQ(buf, zero, sizeof(buf));
}

TEST(lseek, resulting_negative_offset_fails_with_EINVAL)
{
	int fd = file_with("abc");
	ASSERT_EQ(lseek(fd, 1, SEEK_SET), 1);
	EXPECT_ERRNO(lseek(fd, -2, SEEK_CUR), EINVAL);
	EXPECT_ERRNO(lseek(fd, -1, SEEK_SET), EINVAL);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 1);
}

TEST(lseek, invalid_whence_fails_with_EINVAL)
{
	int fd = file_with("abc");
	EXPECT_ERRNO(lseek(fd, 0, 42), EINVAL);
}

TEST(lseek, on_pipe_fails_with_ESPIPE)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(lseek(p[0], 0, SEEK_CUR), ESPIPE);
}

TEST(lseek, on_bad_fd_fails_with_EBADF)
{
	EXPECT_ERRNO(lseek(9999, 0, SEEK_SET), EBADF);
}

TEST(lseek, SEEK_DATA_at_or_beyond_end_of_file_fails_with_ENXIO)
{
	int fd = file_with("abc");
	EXPECT_ERRNO(lseek(fd, 3, SEEK_DATA), ENXIO);
	EXPECT_EQ(lseek(fd, 0, SEEK_DATA), 0);
}

TEST(lseek, SEEK_HOLE_finds_implicit_hole_at_end_of_file)
{
	int fd = file_with("abc");
	EXPECT_EQ(lseek(fd, 0, SEEK_HOLE), 3);
	EXPECT_ERRNO(lseek(fd, 4, SEEK_HOLE), ENXIO);
}
