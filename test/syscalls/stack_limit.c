// RLIMIT_STACK bounds how far the main thread's stack grows.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static int recurse(int n)
{
	volatile char buf[4096];
	memset((char *)buf, n & 0x7f, sizeof(buf));
	return n == 0 ? buf[1] : recurse(n - 1) + buf[2];
}

// grow_stack recurses through argv[1] KiB of stack.
TEST_HELPER(grow_stack)
{
	if (argc != 2)
		return 9;
	recurse(atoi(argv[1]) / 4);
	return 0;
}

// run_with_stack_limit execs the helper with RLIMIT_STACK set to limit
// bytes and returns its wait status.
static int run_with_stack_limit(rlim_t limit, const char *kib)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = {limit, limit};
		if (setrlimit(RLIMIT_STACK, &rl) != 0)
			_exit(8);
		execl(test_self_exe(), test_self_exe(), "--helper", "grow_stack", kib, (char *)NULL);
		_exit(7);
	}
	return test_wait_exit(pid);
}

TEST(setrlimit, RLIMIT_STACK_larger_than_default_lets_the_stack_grow_past_8MiB)
{
	EXPECT_EXIT_STATUS(run_with_stack_limit(64 << 20, "16384"), 0);
}

TEST(setrlimit, RLIMIT_STACK_smaller_than_the_need_ends_in_SIGSEGV)
{
	EXPECT_KILLED_BY(run_with_stack_limit(2 << 20, "8192"), SIGSEGV);
}
