/* Bad input from a hostile or buggy program: wild pointers give EFAULT, bad
 * fds EBADF, bad flags and lengths EINVAL, unknown system calls ENOSYS -- and
 * the program keeps running afterwards. */
#include "test.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>

#define BAD ((void *)8)		/* in the never-mapped first page */
#define KERNEL ((void *)0xffff880000000000UL)

static void *unmapped_page(void)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p, 4096));
	return p;
}

TEST(hostile, read_into_bad_buffer_fails_with_EFAULT)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/zero", O_RDONLY));
	EXPECT_ERRNO(syscall(SYS_read, fd, BAD, 16), EFAULT);
	EXPECT_ERRNO(syscall(SYS_read, fd, KERNEL, 16), EFAULT);
	EXPECT_ERRNO(syscall(SYS_read, fd, unmapped_page(), 16), EFAULT);
}

TEST(hostile, read_into_read_only_memory_fails_with_EFAULT)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/zero", O_RDONLY));
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(syscall(SYS_read, fd, p, 16), EFAULT);
}

TEST(hostile, write_from_bad_buffer_fails_with_EFAULT)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(syscall(SYS_write, p[1], BAD, 16), EFAULT);
	int n = -1;
	EXPECT_EQ(syscall(SYS_ioctl, p[0], 0x541B /* FIONREAD */, &n), 0);
	EXPECT_EQ(n, 0);
}

TEST(hostile, stat_with_bad_path_or_buffer_fails_with_EFAULT)
{
	struct stat st;
	EXPECT_ERRNO(syscall(SYS_stat, BAD, &st), EFAULT);
	EXPECT_ERRNO(syscall(SYS_stat, "/", BAD), EFAULT);
	EXPECT_ERRNO(syscall(SYS_fstat, 0, KERNEL), EFAULT);
}

TEST(hostile, open_with_bad_path_pointer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_open, BAD, O_RDONLY), EFAULT);
	EXPECT_ERRNO(syscall(SYS_openat, AT_FDCWD, KERNEL, O_RDONLY), EFAULT);
}

TEST(hostile, path_running_into_unmapped_memory_fails_with_EFAULT)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p + 4096, 4096));
	memset(p, 'a', 4096); /* no terminating NUL before the hole */
	EXPECT_ERRNO(syscall(SYS_open, p + 4096 - 10, O_RDONLY), EFAULT);
}

TEST(hostile, pipe_with_bad_fd_array_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_pipe, BAD), EFAULT);
	EXPECT_ERRNO(syscall(SYS_pipe2, KERNEL, 0), EFAULT);
}

TEST(hostile, clock_gettime_with_bad_pointer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD), EFAULT);
	EXPECT_ERRNO(syscall(SYS_gettimeofday, BAD, NULL), EFAULT);
}

TEST(hostile, nanosleep_with_bad_request_pointer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_nanosleep, BAD, NULL), EFAULT);
}

TEST(hostile, getcwd_into_bad_buffer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_getcwd, BAD, 4096), EFAULT);
}

TEST(hostile, writev_with_bad_iovec_array_fails_with_EFAULT)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_WRONLY));
	EXPECT_ERRNO(syscall(SYS_writev, fd, BAD, 2), EFAULT);
	struct iovec iov[1] = {{BAD, 10}};
	EXPECT_ERRNO(syscall(SYS_readv, ASSERT_SYSCALL_OK(open("/dev/zero", O_RDONLY)), iov, 1), EFAULT);
}

TEST(hostile, readv_with_more_than_IOV_MAX_vectors_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/zero", O_RDONLY));
	static struct iovec iov[1025];
	static char c;
	for (int i = 0; i < 1025; i++) {
		iov[i].iov_base = &c;
		iov[i].iov_len = 1;
	}
	EXPECT_ERRNO(syscall(SYS_readv, fd, iov, 1025), EINVAL);
}

TEST(hostile, rt_sigaction_with_bad_act_pointer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, BAD, NULL, 8), EFAULT);
	EXPECT_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, BAD, 8), EFAULT);
}

TEST(hostile, poll_with_bad_fds_pointer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_poll, BAD, 1, 0), EFAULT);
}

TEST(hostile, operations_on_bad_fds_fail_with_EBADF)
{
	char buf[4];
	struct stat st;
	EXPECT_ERRNO(syscall(SYS_read, -1, buf, 1), EBADF);
	EXPECT_ERRNO(syscall(SYS_read, 9999, buf, 1), EBADF);
	EXPECT_ERRNO(syscall(SYS_write, 1 << 20, buf, 1), EBADF);
	EXPECT_ERRNO(syscall(SYS_close, -1), EBADF);
	EXPECT_ERRNO(syscall(SYS_fstat, 9999, &st), EBADF);
	EXPECT_ERRNO(syscall(SYS_lseek, -5, 0, SEEK_SET), EBADF);
	EXPECT_ERRNO(syscall(SYS_fsync, 9999), EBADF);
}

TEST(hostile, mmap_of_absurd_length_fails_with_ENOMEM)
{
	void *p = (void *)syscall(SYS_mmap, NULL, (size_t)-4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_EQ(p, MAP_FAILED);
	EXPECT_EQ(errno, ENOMEM);
}

TEST(hostile, mmap_MAP_SHARED_VALIDATE_with_unknown_flag_fails_with_EOPNOTSUPP)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	ASSERT_SYSCALL_OK(ftruncate(fd, 4096));
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, fd, 0);
	EXPECT_EQ(p, MAP_FAILED);
	EXPECT_EQ(errno, EOPNOTSUPP);
	void *q = mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE, fd, 0);
	EXPECT_NE(q, MAP_FAILED);
}

TEST(hostile, open_with_O_TMPFILE_without_write_access_fails_with_EINVAL)
{
	EXPECT_ERRNO(open(test_tmpdir(), O_TMPFILE | O_RDONLY, 0600), EINVAL);
}

TEST(hostile, kill_with_huge_signal_number_fails_with_EINVAL)
{
	EXPECT_ERRNO(syscall(SYS_kill, getpid(), 1000), EINVAL);
}

TEST(hostile, unknown_syscall_number_500_fails_with_ENOSYS_and_process_continues)
{
	EXPECT_ERRNO(syscall(500), ENOSYS);
	EXPECT_ERRNO(syscall(1000, 1, 2, 3, 4, 5, 6), ENOSYS);
	EXPECT_EQ(syscall(SYS_getpid), getpid());
}

TEST(hostile, syscall_number_minus_one_fails_with_ENOSYS_and_process_continues)
{
	EXPECT_ERRNO(syscall(-1), ENOSYS);
	EXPECT_ERRNO(syscall(-1000), ENOSYS);
	int p[2];
	EXPECT_SYSCALL_OK(pipe(p));
}

TEST(hostile, many_faulting_calls_in_a_row_leave_the_process_healthy)
{
	for (int i = 0; i < 1000; i++) {
		if (syscall(SYS_read, 0, BAD, 1) != -1)
			break;
		if (syscall(SYS_stat, BAD, BAD) != -1)
			break;
	}
	int fd = ASSERT_SYSCALL_OK(open("/dev/zero", O_RDONLY));
	char buf[8] = {1};
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 8);
	EXPECT_EQ(buf[0], 0);
}

TEST(hostile, wait4_with_bad_rusage_pointer_fails_with_EFAULT)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(0);
	int ws;
	EXPECT_ERRNO(syscall(SYS_wait4, pid, &ws, 0, BAD), EFAULT);
}
