/*
 * map_shadow_stack(2) (Linux 6.6) on a CPU or kernel without user shadow
 * stacks: EOPNOTSUPP before any argument is looked at. A kernel built
 * without CONFIG_X86_USER_SHADOW_STACK answers ENOSYS, and one running on
 * a CPU with shadow stacks maps one: both skip.
 */
#include "test.h"

#include <sys/mman.h>

#define NR_map_shadow_stack 453
#define SHADOW_STACK_SET_TOKEN 1

static long map_shadow_stack(unsigned long addr, unsigned long size, unsigned flags)
{
	long r = syscall(NR_map_shadow_stack, addr, size, flags);
	if (r < 0 && errno == ENOSYS && !test_in_sandbox())
		TEST_SKIP("kernel without CONFIG_X86_USER_SHADOW_STACK");
	if (r >= 0 && !test_in_sandbox()) {
		munmap((void *)r, size);
		TEST_SKIP("the host has user shadow stacks");
	}
	return r;
}

TEST(map_shadow_stack, without_user_shadow_stacks_is_EOPNOTSUPP)
{
	EXPECT_ERRNO(map_shadow_stack(0, 4096, SHADOW_STACK_SET_TOKEN), EOPNOTSUPP);
	EXPECT_ERRNO(map_shadow_stack(0, 4096, 0), EOPNOTSUPP);
}

TEST(map_shadow_stack, even_bad_arguments_are_EOPNOTSUPP)
{
	/* Unknown flags, a zero or unaligned size, an unaligned address. */
	EXPECT_ERRNO(map_shadow_stack(0, 4096, 0x80), EOPNOTSUPP);
	EXPECT_ERRNO(map_shadow_stack(0, 0, 0), EOPNOTSUPP);
	EXPECT_ERRNO(map_shadow_stack(1, 4095, 0), EOPNOTSUPP);
}
