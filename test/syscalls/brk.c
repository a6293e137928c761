/* brk(2): the raw system call returns the new program break. */
#include "test.h"

static uintptr_t raw_brk(uintptr_t addr)
{
	return (uintptr_t)syscall(SYS_brk, addr);
}

TEST(brk, with_zero_returns_current_break)
{
	uintptr_t a = raw_brk(0);
	EXPECT_NE(a, 0);
	EXPECT_EQ(raw_brk(0), a);
}

TEST(brk, raising_break_gives_zero_filled_writable_memory)
{
	uintptr_t cur = raw_brk(0);
	uintptr_t want = cur + 64 * 1024;
	ASSERT_EQ(raw_brk(want), want);
	volatile unsigned char *p = (unsigned char *)cur;
	int nonzero = 0;
	for (size_t i = 0; i < 64 * 1024; i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(nonzero, 0);
	p[0] = 1;
	p[64 * 1024 - 1] = 2;
	EXPECT_EQ(p[0] + p[64 * 1024 - 1], 3);
}

TEST(brk, lowering_break_returns_the_new_break)
{
	uintptr_t cur = raw_brk(0);
	ASSERT_EQ(raw_brk(cur + 3 * 4096), cur + 3 * 4096);
	EXPECT_EQ(raw_brk(cur + 4096), cur + 4096);
	EXPECT_EQ(raw_brk(0), cur + 4096);
}

TEST(brk, memory_released_then_regrown_is_zero_filled_again)
{
	uintptr_t cur = (raw_brk(0) + 4095) & ~(uintptr_t)4095;
	ASSERT_EQ(raw_brk(cur + 8192), cur + 8192);
	((volatile char *)cur)[4096] = 'x';
	ASSERT_EQ(raw_brk(cur), cur);
	ASSERT_EQ(raw_brk(cur + 8192), cur + 8192);
	EXPECT_EQ(((volatile char *)cur)[4096], 0);
}

TEST(brk, request_that_fails_returns_the_old_break)
{
	uintptr_t cur = raw_brk(0);
	/* Far beyond any address space the process could get. */
	EXPECT_EQ(raw_brk((uintptr_t)1 << 62), cur);
	EXPECT_EQ(raw_brk(0), cur);
}

TEST(sbrk, returns_the_previous_break)
{
	void *before = sbrk(0);
	void *r = sbrk(4096);
	EXPECT_EQ(r, before);
	EXPECT_EQ(sbrk(0), (char *)before + 4096);
}
