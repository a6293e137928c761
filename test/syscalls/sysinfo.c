/* sysinfo(2). */
#include "test.h"

#include <sys/sysinfo.h>

TEST(sysinfo, reports_nonzero_total_ram_and_free_ram_not_above_it)
{
	struct sysinfo si;
	memset(&si, 0, sizeof(si));
	ASSERT_SYSCALL_OK(sysinfo(&si));
	EXPECT_GE(si.mem_unit, 1);
	EXPECT_GT(si.totalram, 0);
	EXPECT_LE(si.freeram, si.totalram);
	EXPECT_GE((unsigned long long)si.totalram * si.mem_unit, 16ULL << 20);
}

TEST(sysinfo, uptime_is_positive_and_does_not_go_backwards)
{
	struct sysinfo a, b;
	ASSERT_SYSCALL_OK(sysinfo(&a));
	ASSERT_SYSCALL_OK(sysinfo(&b));
	EXPECT_GE(a.uptime, 0);
	EXPECT_GE(b.uptime, a.uptime);
}

TEST(sysinfo, counts_at_least_the_calling_process)
{
	struct sysinfo si;
	ASSERT_SYSCALL_OK(sysinfo(&si));
	EXPECT_GE(si.procs, 1);
}

TEST(sysinfo, bad_pointer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_sysinfo, (void *)8), EFAULT);
}
