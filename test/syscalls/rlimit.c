/* getrlimit(2), setrlimit(2), prlimit(2). */
#include "test.h"

#include <sys/mman.h>
#include <sys/resource.h>

TEST(getrlimit, soft_limit_never_exceeds_hard_limit)
{
	int res[] = {RLIMIT_NOFILE, RLIMIT_STACK, RLIMIT_AS, RLIMIT_CORE, RLIMIT_NPROC, RLIMIT_FSIZE};
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		struct rlimit rl;
		ASSERT_SYSCALL_OK(getrlimit(res[i], &rl));
		EXPECT_TRUE(rl.rlim_max == RLIM_INFINITY || rl.rlim_cur <= rl.rlim_max);
	}
}

TEST(setrlimit, lowering_RLIMIT_NOFILE_makes_open_fail_with_EMFILE)
{
	struct rlimit rl = {16, 16};
	ASSERT_SYSCALL_OK(setrlimit(RLIMIT_NOFILE, &rl));
	int last = -1, fd;
	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		last = fd;
	EXPECT_EQ(errno, EMFILE);
	EXPECT_EQ(last, 15);
	EXPECT_ERRNO(dup(0), EMFILE);
	EXPECT_ERRNO(fcntl(0, F_DUPFD, 16), EINVAL);
}

TEST(setrlimit, soft_limit_above_hard_limit_fails_with_EINVAL)
{
	struct rlimit rl = {100, 50};
	EXPECT_ERRNO(setrlimit(RLIMIT_NOFILE, &rl), EINVAL);
}

TEST(setrlimit, unknown_resource_fails_with_EINVAL)
{
	struct rlimit rl;
	EXPECT_ERRNO(syscall(SYS_getrlimit, 1000, &rl), EINVAL);
}

TEST(setrlimit, raising_hard_limit_without_privilege_fails_with_EPERM)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct rlimit rl = {32, 64};
		ASSERT_SYSCALL_OK(setrlimit(RLIMIT_NOFILE, &rl));
		if (geteuid() == 0) {
			ASSERT_SYSCALL_OK(setgid(65534));
			ASSERT_SYSCALL_OK(setuid(65534));
		}
		struct rlimit up = {32, 128};
		EXPECT_ERRNO(setrlimit(RLIMIT_NOFILE, &up), EPERM);
		struct rlimit down = {32, 48};
		EXPECT_SYSCALL_OK(setrlimit(RLIMIT_NOFILE, &down));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(prlimit, sets_new_limit_and_returns_old_one)
{
	struct rlimit old, now, want = {20, 30};
	ASSERT_SYSCALL_OK(prlimit(0, RLIMIT_NOFILE, NULL, &old));
	ASSERT_SYSCALL_OK(prlimit(0, RLIMIT_NOFILE, &want, &now));
	EXPECT_EQ(now.rlim_cur, old.rlim_cur);
	EXPECT_EQ(now.rlim_max, old.rlim_max);
	ASSERT_SYSCALL_OK(getrlimit(RLIMIT_NOFILE, &now));
	EXPECT_EQ(now.rlim_cur, 20);
	EXPECT_EQ(now.rlim_max, 30);
}

TEST(setrlimit, RLIMIT_FSIZE_write_beyond_limit_is_short_then_fails_with_EFBIG)
{
	signal(SIGXFSZ, SIG_IGN);
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600));
	struct rlimit rl = {10, 10};
	ASSERT_SYSCALL_OK(setrlimit(RLIMIT_FSIZE, &rl));
	EXPECT_EQ(write(fd, "0123456789abcdef", 16), 10);
	EXPECT_ERRNO(write(fd, "x", 1), EFBIG);
}

TEST(setrlimit, RLIMIT_FSIZE_exceeded_raises_SIGXFSZ_by_default)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct rlimit rl = {4, 4};
		setrlimit(RLIMIT_FSIZE, &rl);
		ASSERT_EQ(write(fd, "abcd", 4), 4);
		write(fd, "e", 1);
		_exit(0);
	}
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGXFSZ);
}

TEST(setrlimit, RLIMIT_AS_makes_large_mmap_fail_with_ENOMEM)
{
	struct rlimit rl = {1UL << 30, 1UL << 30};
	ASSERT_SYSCALL_OK(setrlimit(RLIMIT_AS, &rl));
	void *p = mmap(NULL, 2UL << 30, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_EQ(p, MAP_FAILED);
	EXPECT_EQ(errno, ENOMEM);
	void *q = mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_NE(q, MAP_FAILED);
}

TEST(setrlimit, limits_are_inherited_by_fork_child)
{
	struct rlimit rl = {40, 50};
	ASSERT_SYSCALL_OK(setrlimit(RLIMIT_NOFILE, &rl));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct rlimit c;
		getrlimit(RLIMIT_NOFILE, &c);
		_exit(c.rlim_cur == 40 && c.rlim_max == 50 ? 0 : 1);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
