/* uretprobe(2) and uprobe(2) outside the uprobe trampolines they are made
 * for: Linux kills with SIGILL and answers ENXIO. */
#include "test.h"

#ifndef SYS_uretprobe
#define SYS_uretprobe 335
#endif
#ifndef SYS_uprobe
#define SYS_uprobe 336
#endif

/* Runs the call in a child with SIGILL blocked and ignored; returns its
 * wait status, or skips natively if the kernel lacks the call. */
static int uretprobe_status(int block)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		close(p[0]);
		if (block) {
			sigset_t s;
			sigemptyset(&s);
			sigaddset(&s, SIGILL);
			sigprocmask(SIG_BLOCK, &s, NULL);
			signal(SIGILL, SIG_IGN);
		}
		errno = 0;
		long r = syscall(SYS_uretprobe);
		int e = errno;
		(void)!write(p[1], &e, sizeof(e));
		_exit(r == -1 ? 2 : 3);
	}
	close(p[1]);
	int st = test_wait_exit(pid), e = 0;
	(void)!read(p[0], &e, sizeof(e));
	if (!test_in_sandbox() && WIFEXITED(st) && e == ENOSYS)
		TEST_SKIP("the host kernel has no uretprobe (before Linux 6.11)");
	return st;
}

TEST(uretprobe, outside_a_trampoline_kills_with_SIGILL)
{
	EXPECT_KILLED_BY(uretprobe_status(0), SIGILL);
}

TEST(uretprobe, SIGILL_is_forced_through_block_and_ignore)
{
	EXPECT_KILLED_BY(uretprobe_status(1), SIGILL);
}

TEST(uprobe, outside_a_trampoline_is_ENXIO)
{
	errno = 0;
	long r = syscall(SYS_uprobe);
	if (!test_in_sandbox() && r == -1 && errno == ENOSYS)
		TEST_SKIP("the host kernel has no uprobe syscall");
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, ENXIO);
}
