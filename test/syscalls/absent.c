/* Calls whose amd64 numbers Linux reserves but does not implement, or has
 * removed: Linux answers ENOSYS, and so must the sandbox. */
#include "test.h"

struct absent {
	const char *name;
	long nr;
};

static const struct absent absent_calls[] = {
	{"create_module", 174},  {"get_kernel_syms", 177},
	{"query_module", 178},   {"nfsservctl", 180},
	{"getpmsg", 181},        {"putpmsg", 182},
	{"afs_syscall", 183},    {"tuxcall", 184},
	{"security", 185},       {"vserver", 236},
	{"epoll_ctl_old", 214},  {"epoll_wait_old", 215},
	{"lookup_dcookie", 212}, {"_sysctl", 156},
};

TEST(absent, reserved_and_removed_calls_are_ENOSYS)
{
	for (size_t i = 0; i < sizeof(absent_calls) / sizeof(absent_calls[0]); i++) {
		errno = 0;
		long r = syscall(absent_calls[i].nr, 0, 0, 0, 0, 0, 0);
		if (r != -1 || errno != ENOSYS)
			test_fail(__FILE__, __LINE__, 0,
				  "%s (%ld) returned %ld, errno %s; want ENOSYS",
				  absent_calls[i].name, absent_calls[i].nr, r,
				  test_errno_name(errno));
	}
}

TEST(absent, ENOSYS_whatever_the_arguments)
{
	/* Bad pointers everywhere: no argument is looked at. */
	EXPECT_ERRNO(syscall(174, 1, 1, 1, 1, 1, 1), ENOSYS);
	EXPECT_ERRNO(syscall(214, -1, -1, -1, -1, -1, -1), ENOSYS);
	EXPECT_ERRNO(syscall(156, 1), ENOSYS);
}

TEST(absent, uselib_is_ENOSYS_where_the_kernel_lacks_it)
{
	errno = 0;
	long r = syscall(134, NULL);
	if (!test_in_sandbox() && !(r == -1 && errno == ENOSYS))
		TEST_SKIP("this kernel still has uselib (CONFIG_USELIB)");
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, ENOSYS);
}
