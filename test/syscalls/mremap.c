/* mremap(2). */
#include "test.h"

#include <sys/mman.h>

#define PAGE 4096

static char *map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	return p;
}

TEST(mremap, growing_with_MREMAP_MAYMOVE_preserves_contents)
{
	char *p = map(PAGE);
	memcpy(p, "keep me", 8);
	/* Block in-place growth so the mapping must move. */
	char *q = mmap(p + PAGE, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	char *r = mremap(p, PAGE, 4 * PAGE, MREMAP_MAYMOVE);
	ASSERT_NE(r, MAP_FAILED);
	EXPECT_STREQ(r, "keep me");
	if (q != MAP_FAILED)
		EXPECT_NE(r, p);
	r[4 * PAGE - 1] = 1;
	EXPECT_EQ(r[3 * PAGE], 0);
}

TEST(mremap, shrinking_keeps_address_and_unmaps_the_tail)
{
	char *p = map(4 * PAGE);
	p[0] = 'a';
	char *r = mremap(p, 4 * PAGE, PAGE, 0);
	EXPECT_EQ(r, p);
	EXPECT_EQ(r[0], 'a');
	/* The tail is free again: a no-replace mapping there succeeds. */
	char *t = mmap(p + PAGE, 3 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	EXPECT_EQ(t, p + PAGE);
}

TEST(mremap, growing_in_place_when_blocked_without_MAYMOVE_fails_with_ENOMEM)
{
	char *p = map(2 * PAGE);
	ASSERT_SYSCALL_OK(munmap(p + PAGE, PAGE));
	char *q = mmap(p + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(q, p + PAGE);
	EXPECT_EQ(mremap(p, PAGE, 2 * PAGE, 0), MAP_FAILED);
	EXPECT_EQ(errno, ENOMEM);
}

TEST(mremap, MREMAP_FIXED_without_MREMAP_MAYMOVE_fails_with_EINVAL)
{
	char *p = map(PAGE);
	char *dst = map(PAGE);
	EXPECT_EQ(mremap(p, PAGE, PAGE, MREMAP_FIXED, dst), MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
}

TEST(mremap, MREMAP_FIXED_moves_mapping_to_new_address_and_unmaps_old)
{
	char *p = map(PAGE);
	char *dst = map(2 * PAGE);
	strcpy(p, "moved");
	char *r = mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PAGE);
	EXPECT_EQ(r, dst + PAGE);
	EXPECT_STREQ(dst + PAGE, "moved");
	char *t = mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	EXPECT_EQ(t, p);
}

TEST(mremap, unaligned_old_address_fails_with_EINVAL)
{
	char *p = map(PAGE);
	EXPECT_EQ(mremap(p + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE), MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
}

TEST(mremap, new_size_zero_fails_with_EINVAL)
{
	char *p = map(PAGE);
	EXPECT_EQ(mremap(p, PAGE, 0, MREMAP_MAYMOVE), MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
}

TEST(mremap, of_unmapped_old_address_fails_with_EFAULT)
{
	char *p = map(PAGE);
	ASSERT_SYSCALL_OK(munmap(p, PAGE));
	EXPECT_EQ(mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE), MAP_FAILED);
	EXPECT_EQ(errno, EFAULT);
}

TEST(mremap, moved_shared_mapping_still_shares_with_child)
{
	volatile char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	volatile char *r = mremap((void *)p, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
	ASSERT_NE(r, MAP_FAILED);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		r[0] = 's';
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(r[0], 's');
}
