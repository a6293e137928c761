// fallocate(2).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

static int new_file(void)
{
	return open(test_path("f"), O_CREAT | O_RDWR | O_TRUNC, 0600);
}

TEST(fallocate, mode_zero_extends_the_file_with_zeroes)
{
	int fd = ASSERT_SYSCALL_OK(new_file());
	ASSERT_SYSCALL_OK(fallocate(fd, 0, 4096, 8192));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 12288);
	char buf[16];
	memset(buf, 1, sizeof(buf));
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 6000), (ssize_t)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		EXPECT_EQ(buf[i], 0);
}

TEST(fallocate, KEEP_SIZE_does_not_change_the_size)
{
	int fd = ASSERT_SYSCALL_OK(new_file());
	ASSERT_EQ(write(fd, "abc", 3), 3);
	ASSERT_SYSCALL_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 65536));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 3);
}

TEST(fallocate, PUNCH_HOLE_zeroes_the_range_and_keeps_the_size)
{
	int fd = ASSERT_SYSCALL_OK(new_file());
	char data[3 * 4096];
	memset(data, 'x', sizeof(data));
	ASSERT_EQ(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	ASSERT_SYSCALL_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 5000));
	char buf[sizeof(data)];
	ASSERT_EQ(pread(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	EXPECT_EQ(buf[99], 'x');
	EXPECT_EQ(buf[100], 0);
	EXPECT_EQ(buf[5099], 0);
	EXPECT_EQ(buf[5100], 'x');
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, (off_t)sizeof(data));
}

TEST(fallocate, PUNCH_HOLE_without_KEEP_SIZE_fails_with_EOPNOTSUPP)
{
	int fd = ASSERT_SYSCALL_OK(new_file());
	EXPECT_ERRNO(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);
}

TEST(fallocate, zero_length_or_negative_offset_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(new_file());
	EXPECT_ERRNO(fallocate(fd, 0, 0, 0), EINVAL);
	EXPECT_ERRNO(fallocate(fd, 0, -1, 10), EINVAL);
}

TEST(fallocate, on_a_read_only_descriptor_fails_with_EBADF)
{
	int fd = ASSERT_SYSCALL_OK(new_file());
	close(fd);
	fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDONLY));
	EXPECT_ERRNO(fallocate(fd, 0, 0, 4096), EBADF);
}

TEST(fallocate, on_a_pipe_fails_with_ESPIPE)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(fallocate(p[1], 0, 0, 4096), ESPIPE);
}

TEST(fallocate, more_than_the_tmpfs_holds_fails_with_ENOSPC_at_once_and_changes_nothing)
{
	char name[64];
	snprintf(name, sizeof(name), "/dev/shm/palisade-falloc-%d", getpid());
	int fd = ASSERT_SYSCALL_OK(open(name, O_CREAT | O_EXCL | O_RDWR, 0600));
	ASSERT_SYSCALL_OK(unlink(name));
	ASSERT_SYSCALL_OK(fallocate(fd, 0, 0, 8192));
	/* 1 TiB: more than /dev/shm's size limit (half of RAM) on any
	 * machine this runs on. The case's 10 s timeout catches a Sentry
	 * that allocates page by page before giving up. */
	EXPECT_ERRNO(fallocate(fd, 0, 4096, 1LL << 40), ENOSPC);
	EXPECT_ERRNO(fallocate(fd, FALLOC_FL_KEEP_SIZE, 1LL << 40, 1LL << 40), ENOSPC);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 8192);
	EXPECT_EQ(st.st_blocks, 16);
}
