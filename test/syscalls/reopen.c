// Reaching files through /proc/self/fd and /dev/fd, and advice calls.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "test.h"

TEST(proc_self_fd, opening_a_pipe_read_end_reaches_the_same_pipe)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	int r = ASSERT_SYSCALL_OK(open(path, O_RDONLY));
	ASSERT_EQ(write(p[1], "xy", 2), 2);
	char buf[4];
	EXPECT_EQ(read(r, buf, sizeof(buf)), 2);
	EXPECT_MEMEQ(buf, "xy", 2);
}

TEST(proc_self_fd, opening_a_pipe_does_not_wait_for_a_writer)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	close(p[1]);
	char path[64];
	snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
	int r = ASSERT_SYSCALL_OK(open(path, O_RDONLY));
	char c;
	EXPECT_EQ(read(r, &c, 1), 0);
}

TEST(proc_self_fd, reopened_pipe_has_the_same_inode)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	int w = ASSERT_SYSCALL_OK(open(path, O_WRONLY));
	struct stat a, b;
	ASSERT_SYSCALL_OK(fstat(p[1], &a));
	ASSERT_SYSCALL_OK(fstat(w, &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_TRUE(S_ISFIFO(b.st_mode));
}

TEST(proc_self_fd, readlink_of_a_pipe_is_pipe_and_inode)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(p[0], &st));
	char path[64], want[64], got[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
	ASSERT_SYSCALL_OK(readlink(path, got, sizeof(got) - 1));
	EXPECT_STREQ(got, want);
}

TEST(posix_fadvise, on_a_regular_file_succeeds)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	EXPECT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0);
}

TEST(posix_fadvise, on_a_pipe_fails_with_ESPIPE)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_EQ(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL), ESPIPE);
}

TEST(posix_fadvise, bad_advice_fails_with_EINVAL_and_bad_fd_with_EBADF)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	EXPECT_EQ(posix_fadvise(fd, 0, 0, 99), EINVAL);
	EXPECT_EQ(posix_fadvise(-1, 0, 0, POSIX_FADV_NORMAL), EBADF);
}

TEST(getxattr, of_missing_file_fails_with_ENOENT)
{
	char buf[8];
	EXPECT_ERRNO(getxattr("/nonexistent-palisade", "user.x", buf, sizeof(buf)), ENOENT);
}
