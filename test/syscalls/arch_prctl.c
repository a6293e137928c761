/* arch_prctl(2): the FS and GS segment bases on x86-64. */
#include "test.h"

#include <asm/prctl.h>

/* A raw syscall that touches no TLS (errno lives in TLS, addressed via FS). */
static long raw2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return ret;
}

TEST(arch_prctl, ARCH_GET_FS_returns_the_thread_pointer)
{
	unsigned long fs = 0, self;
	ASSERT_SYSCALL_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
	/* The x86-64 TLS ABI stores the thread pointer at %fs:0. */
	__asm__("mov %%fs:0, %0" : "=r"(self));
	EXPECT_NE(fs, 0);
	EXPECT_EQ(fs, self);
}

TEST(arch_prctl, ARCH_SET_FS_changes_the_base_seen_through_fs)
{
	static unsigned long block[4];
	unsigned long old = 0, got = 0, seen = 0;
	ASSERT_SYSCALL_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &old));
	block[0] = 0xfeedface;
	block[1] = 0x12345678;
	long r1 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)block);
	__asm__ volatile("mov %%fs:8, %0" : "=r"(seen));
	long r2 = raw2(SYS_arch_prctl, ARCH_GET_FS, (long)&got);
	long r3 = raw2(SYS_arch_prctl, ARCH_SET_FS, (long)old);
	ASSERT_EQ(r3, 0);
	EXPECT_EQ(r1, 0);
	EXPECT_EQ(r2, 0);
	EXPECT_EQ(seen, 0x12345678);
	EXPECT_EQ(got, (unsigned long)block);
}

TEST(arch_prctl, ARCH_SET_GS_then_ARCH_GET_GS_round_trips)
{
	static unsigned long block[2] = {0, 0xabcdef};
	unsigned long got = 0, seen = 0;
	ASSERT_SYSCALL_OK(syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)block));
	ASSERT_SYSCALL_OK(syscall(SYS_arch_prctl, ARCH_GET_GS, &got));
	EXPECT_EQ(got, (unsigned long)block);
	__asm__ volatile("mov %%gs:8, %0" : "=r"(seen));
	EXPECT_EQ(seen, 0xabcdef);
}

TEST(arch_prctl, FS_base_is_per_thread_and_inherited_by_fork)
{
	unsigned long fs = 0;
	ASSERT_SYSCALL_OK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		unsigned long child_fs = 0;
		syscall(SYS_arch_prctl, ARCH_GET_FS, &child_fs);
		_exit(child_fs == fs ? 0 : 1);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(arch_prctl, unknown_code_fails_with_EINVAL)
{
	unsigned long v;
	EXPECT_ERRNO(syscall(SYS_arch_prctl, 0x9999, &v), EINVAL);
}

TEST(arch_prctl, ARCH_GET_FS_to_bad_address_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_arch_prctl, ARCH_GET_FS, (void *)8), EFAULT);
}

TEST(arch_prctl, ARCH_SET_FS_to_non_canonical_address_fails_with_EPERM)
{
	EXPECT_ERRNO(syscall(SYS_arch_prctl, ARCH_SET_FS, 0x8000000000000000UL), EPERM);
}

TEST(arch_prctl, bases_from_the_last_user_page_up_fail_with_EPERM_and_the_thread_lives_on)
{
	/* TASK_SIZE_MAX is 2^47 - 4096: the last page below 2^47 is not
	 * user space, and the host refuses such a base. */
	EXPECT_ERRNO(syscall(SYS_arch_prctl, ARCH_SET_GS, 0x7ffffffff000UL), EPERM);
	EXPECT_ERRNO(syscall(SYS_arch_prctl, ARCH_SET_FS, 0x7ffffffff000UL), EPERM);
	EXPECT_ERRNO(syscall(SYS_arch_prctl, ARCH_SET_GS, 0x7fffffffffffUL), EPERM);
	EXPECT_SYSCALL_OK(syscall(SYS_arch_prctl, ARCH_SET_GS, 0x7fffffffe000UL));
	unsigned long gs = 0;
	EXPECT_SYSCALL_OK(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs));
	EXPECT_EQ(gs, 0x7fffffffe000UL);
	/* Still running (the next switch into the guest worked). */
	EXPECT_EQ(getpid(), getpid());
}
