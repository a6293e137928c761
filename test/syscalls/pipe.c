/* pipe(2), pipe2(2) and pipe I/O semantics from pipe(7). */
#include "test.h"

#include <limits.h>
#include <sys/uio.h>
#include <sys/vfs.h>

TEST(pipe, data_written_to_write_end_is_read_from_read_end)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_EQ(write(p[1], "hello", 5), 5);
	char buf[8] = {0};
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 5);
	EXPECT_STREQ(buf, "hello");
}

TEST(pipe, read_end_is_opened_read_only_and_write_end_write_only)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_EQ(fcntl(p[0], F_GETFL) & O_ACCMODE, O_RDONLY);
	EXPECT_EQ(fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY);
	char c;
	EXPECT_ERRNO(write(p[0], "x", 1), EBADF);
	EXPECT_ERRNO(read(p[1], &c, 1), EBADF);
}

TEST(pipe, read_with_all_write_ends_closed_returns_end_of_file)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_EQ(write(p[1], "ab", 2), 2);
	ASSERT_SYSCALL_OK(close(p[1]));
	char buf[4];
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 2);
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 0);
}

TEST(pipe, write_with_no_readers_and_SIGPIPE_ignored_fails_with_EPIPE)
{
	signal(SIGPIPE, SIG_IGN);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(close(p[0]));
	EXPECT_ERRNO(write(p[1], "x", 1), EPIPE);
}

TEST(pipe, read_from_empty_O_NONBLOCK_pipe_fails_with_EAGAIN)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_NONBLOCK));
	char c;
	EXPECT_ERRNO(read(p[0], &c, 1), EAGAIN);
}

TEST(pipe, write_to_full_O_NONBLOCK_pipe_fails_with_EAGAIN)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_NONBLOCK));
	int cap = ASSERT_SYSCALL_OK(fcntl(p[1], F_GETPIPE_SZ));
	char *buf = calloc(1, cap);
	ASSERT_TRUE(buf != NULL);
	EXPECT_EQ(write(p[1], buf, cap), cap);
	EXPECT_ERRNO(write(p[1], "x", 1), EAGAIN);
	free(buf);
}

TEST(pipe2, O_CLOEXEC_sets_close_on_exec_on_both_ends)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_CLOEXEC));
	EXPECT_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(fcntl(p[1], F_GETFD), FD_CLOEXEC);
}

TEST(pipe2, invalid_flags_fail_with_EINVAL)
{
	int p[2];
	EXPECT_ERRNO(pipe2(p, O_APPEND), EINVAL);
}

TEST(pipe, fstat_reports_a_FIFO)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct stat a, b;
	ASSERT_SYSCALL_OK(fstat(p[0], &a));
	ASSERT_SYSCALL_OK(fstat(p[1], &b));
	EXPECT_TRUE(S_ISFIFO(a.st_mode));
	EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(pipe, capacity_F_GETPIPE_SZ_is_at_least_PIPE_BUF)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_GE(fcntl(p[0], F_GETPIPE_SZ), PIPE_BUF);
}

TEST(pipe, connects_parent_and_child_across_fork)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(p[0]);
		ASSERT_EQ(write(p[1], "from child", 10), 10);
		_exit(0);
	}
	close(p[1]);
	char buf[16] = {0};
	size_t got = 0;
	ssize_t n;
	while ((n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	EXPECT_EQ(n, 0);
	EXPECT_STREQ(buf, "from child");
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(pipe, large_write_is_delivered_completely_and_in_order)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	enum { N = 1 << 20 };
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(p[0]);
		unsigned char *b = malloc(N);
		for (int i = 0; i < N; i++)
			b[i] = (unsigned char)(i * 7);
		ASSERT_EQ(write(p[1], b, N), N);
		_exit(0);
	}
	close(p[1]);
	unsigned char *b = malloc(N + 1);
	size_t got = 0;
	ssize_t n;
	while ((n = read(p[0], b + got, N + 1 - got)) > 0)
		got += n;
	EXPECT_EQ(got, N);
	int bad = 0;
	for (int i = 0; i < N; i++)
		bad += b[i] != (unsigned char)(i * 7);
	EXPECT_EQ(bad, 0);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(pipe, positioned_vector_io_fails_with_ESPIPE)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	char c = 'x';
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	EXPECT_ERRNO(pwritev(p[1], &iov, 1, 0), ESPIPE);
	ASSERT_EQ(write(p[1], "y", 1), 1);
	EXPECT_ERRNO(preadv(p[0], &iov, 1, 0), ESPIPE);
	EXPECT_ERRNO(pread(p[0], &c, 1, 0), ESPIPE);
	EXPECT_ERRNO(pwrite(p[1], &c, 1, 0), ESPIPE);
	/* The byte is still there. */
	EXPECT_EQ(read(p[0], &c, 1), 1);
	EXPECT_EQ(c, 'y');
}

TEST(pipe, fstatfs_reports_pipefs)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct statfs sf;
	ASSERT_SYSCALL_OK(fstatfs(p[0], &sf));
	EXPECT_EQ(sf.f_type, 0x50495045); /* PIPEFS_MAGIC */
}
