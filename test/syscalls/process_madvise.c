/* process_madvise(2) and process_mrelease(2): advice and early release
 * of a process's memory, named by a pidfd. */
#include "test.h"

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/uio.h>

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static long process_madvise_(int pidfd, const struct iovec *iov, size_t n, int advice, unsigned flags)
{
	return syscall(SYS_process_madvise, pidfd, iov, n, advice, flags);
}

static void drop_all_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	ASSERT_SYSCALL_OK(syscall(SYS_capset, &h, d));
}

/* A child that waits until the returned pipe end is closed. */
static pid_t waiting_child(int *release)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	*release = p[1];
	return pid;
}

static void end_child(pid_t pid, int release)
{
	close(release);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(process_madvise, own_memory_returns_the_bytes_advised)
{
	if (geteuid() != 0)
		TEST_SKIP("older kernels want CAP_SYS_NICE even for the caller's own memory");
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	int fd = pidfd_open_(getpid());
	ASSERT_SYSCALL_OK(fd);
	struct iovec iov[2] = {{p, 4096}, {p + 2 * 4096, 4096}};
	EXPECT_EQ(process_madvise_(fd, iov, 2, MADV_COLD, 0), 8192);
	EXPECT_EQ(process_madvise_(fd, iov, 1, MADV_WILLNEED, 0), 4096);
	EXPECT_EQ(process_madvise_(fd, iov, 0, MADV_COLD, 0), 0);
}

TEST(process_madvise, stops_at_the_first_range_that_fails)
{
	if (geteuid() != 0)
		TEST_SKIP("older kernels want CAP_SYS_NICE even for the caller's own memory");
	char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p + 4096, 4096));
	int fd = pidfd_open_(getpid());
	ASSERT_SYSCALL_OK(fd);
	struct iovec iov[3] = {{p, 4096}, {p + 4096, 4096}, {p, 4096}};
	EXPECT_EQ(process_madvise_(fd, iov, 3, MADV_COLD, 0), 4096);
	EXPECT_ERRNO(process_madvise_(fd, iov + 1, 2, MADV_COLD, 0), ENOMEM);
	struct iovec odd = {p + 1, 4096};
	EXPECT_ERRNO(process_madvise_(fd, &odd, 1, MADV_COLD, 0), EINVAL);
}

TEST(process_madvise, another_process_with_a_hint)
{
	if (geteuid() != 0)
		TEST_SKIP("needs CAP_SYS_NICE");
	int release;
	/* The child's copy of this mapping is at the same address. */
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	pid_t pid = waiting_child(&release);
	int fd = pidfd_open_(pid);
	ASSERT_SYSCALL_OK(fd);
	struct iovec iov = {p, 4096};
	EXPECT_EQ(process_madvise_(fd, &iov, 1, MADV_COLD, 0), 4096);
	EXPECT_EQ(process_madvise_(fd, &iov, 1, MADV_PAGEOUT, 0), 4096);
	EXPECT_EQ(process_madvise_(fd, &iov, 1, MADV_WILLNEED, 0), 4096);
	/* Advice that would change the other process's memory. */
	EXPECT_ERRNO(process_madvise_(fd, &iov, 1, MADV_DONTNEED, 0), EINVAL);
	EXPECT_ERRNO(process_madvise_(fd, &iov, 1, MADV_FREE, 0), EINVAL);
	end_child(pid, release);
}

TEST(process_madvise, another_process_without_CAP_SYS_NICE_is_EPERM)
{
	int release;
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	/* The child has no more capabilities than the caller, so that the
	 * ptrace access check passes (EACCES otherwise). */
	drop_all_caps();
	pid_t pid = waiting_child(&release);
	int fd = pidfd_open_(pid);
	ASSERT_SYSCALL_OK(fd);
	struct iovec iov = {p, 4096};
	EXPECT_ERRNO(process_madvise_(fd, &iov, 1, MADV_COLD, 0), EPERM);
	end_child(pid, release);
}

TEST(process_madvise, argument_errors_in_Linux_order)
{
	int fd = pidfd_open_(getpid());
	ASSERT_SYSCALL_OK(fd);
	struct iovec iov = {NULL, 0};
	/* Flags first, then the vector, then the pidfd. */
	EXPECT_ERRNO(process_madvise_(-1, (void *)1, 1, MADV_COLD, 1), EINVAL);
	EXPECT_ERRNO(process_madvise_(-1, (void *)1, 1, MADV_COLD, 0), EFAULT);
	EXPECT_ERRNO(process_madvise_(-1, &iov, 1025, MADV_COLD, 0), EINVAL);
	EXPECT_ERRNO(process_madvise_(-1, &iov, 1, MADV_COLD, 0), EBADF);
	/* A descriptor that is not a pidfd. */
	EXPECT_ERRNO(process_madvise_(0, &iov, 1, MADV_COLD, 0), EBADF);
	int devnull = open("/dev/null", O_RDONLY);
	ASSERT_SYSCALL_OK(devnull);
	EXPECT_ERRNO(process_madvise_(devnull, &iov, 1, MADV_COLD, 0), EBADF);
}

TEST(process_madvise, process_that_has_exited_is_ESRCH)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(0);
	int fd = pidfd_open_(pid);
	ASSERT_SYSCALL_OK(fd);
	siginfo_t si;
	/* Wait for the exit without reaping: a zombie has no memory. */
	ASSERT_SYSCALL_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	struct iovec iov = {NULL, 0};
	EXPECT_ERRNO(process_madvise_(fd, &iov, 1, MADV_COLD, 0), ESRCH);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_ERRNO(process_madvise_(fd, &iov, 1, MADV_COLD, 0), ESRCH);
}

TEST(process_mrelease, live_process_is_EINVAL)
{
	int fd = pidfd_open_(getpid());
	ASSERT_SYSCALL_OK(fd);
	EXPECT_ERRNO(syscall(SYS_process_mrelease, fd, 0), EINVAL);
	int release;
	pid_t pid = waiting_child(&release);
	int cfd = pidfd_open_(pid);
	ASSERT_SYSCALL_OK(cfd);
	EXPECT_ERRNO(syscall(SYS_process_mrelease, cfd, 0), EINVAL);
	end_child(pid, release);
}

TEST(process_mrelease, argument_errors)
{
	int fd = pidfd_open_(getpid());
	ASSERT_SYSCALL_OK(fd);
	EXPECT_ERRNO(syscall(SYS_process_mrelease, -1, 1), EINVAL);
	EXPECT_ERRNO(syscall(SYS_process_mrelease, fd, 1), EINVAL);
	EXPECT_ERRNO(syscall(SYS_process_mrelease, -1, 0), EBADF);
	EXPECT_ERRNO(syscall(SYS_process_mrelease, 0, 0), EBADF);
}

TEST(process_mrelease, process_that_has_exited_is_ESRCH)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(0);
	int fd = pidfd_open_(pid);
	ASSERT_SYSCALL_OK(fd);
	siginfo_t si;
	ASSERT_SYSCALL_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	EXPECT_ERRNO(syscall(SYS_process_mrelease, fd, 0), ESRCH);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_ERRNO(syscall(SYS_process_mrelease, fd, 0), ESRCH);
}

TEST(process_madvise, another_users_process_is_EACCES)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	int p[2], ready[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(pipe(ready));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c = 0;
		close(p[1]);
		close(ready[0]);
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		ASSERT_EQ(write(ready[1], &c, 1), 1);
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	int fd = pidfd_open_(pid);
	ASSERT_SYSCALL_OK(fd);
	drop_all_caps();
	struct iovec iov = {&c, 1};
	EXPECT_ERRNO(process_madvise_(fd, &iov, 1, MADV_COLD, 0), EACCES);
	close(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
