/* madvise(2), mincore(2). */
#include "test.h"

#include <sys/mman.h>

#define PAGE 4096

TEST(madvise, MADV_DONTNEED_on_private_anonymous_memory_refills_with_zeros)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	memset(p, 'x', 2 * PAGE);
	ASSERT_SYSCALL_OK(madvise(p, PAGE, MADV_DONTNEED));
	EXPECT_EQ(p[0], 0);
	EXPECT_EQ(p[PAGE - 1], 0);
	EXPECT_EQ(p[PAGE], 'x');
}

TEST(madvise, MADV_DONTNEED_on_shared_file_mapping_keeps_data)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	ASSERT_SYSCALL_OK(ftruncate(fd, PAGE));
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	p[0] = 'd';
	ASSERT_SYSCALL_OK(madvise(p, PAGE, MADV_DONTNEED));
	EXPECT_EQ(p[0], 'd');
}

TEST(madvise, MADV_NORMAL_and_MADV_WILLNEED_are_accepted)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_SYSCALL_OK(madvise(p, PAGE, MADV_NORMAL));
	EXPECT_SYSCALL_OK(madvise(p, PAGE, MADV_WILLNEED));
}

TEST(madvise, unknown_advice_fails_with_EINVAL)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(madvise(p, PAGE, 12345), EINVAL);
}

TEST(madvise, unaligned_addr_fails_with_EINVAL)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(madvise(p + 1, PAGE, MADV_NORMAL), EINVAL);
}

TEST(madvise, range_with_unmapped_pages_fails_with_ENOMEM)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p + PAGE, PAGE));
	EXPECT_ERRNO(madvise(p, 2 * PAGE, MADV_WILLNEED), ENOMEM);
}

TEST(mincore, reports_a_touched_page_as_resident)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	p[0] = 1;
	unsigned char vec[1] = {0};
	ASSERT_SYSCALL_OK(mincore(p, PAGE, vec));
	EXPECT_EQ(vec[0] & 1, 1);
}

TEST(mincore, fills_one_byte_per_page)
{
	char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	memset(p, 1, 3 * PAGE);
	unsigned char vec[4] = {0, 0, 0, 0xee};
	ASSERT_SYSCALL_OK(mincore(p, 3 * PAGE, vec));
	EXPECT_EQ(vec[0] & 1, 1);
	EXPECT_EQ(vec[2] & 1, 1);
	EXPECT_EQ(vec[3], 0xee);
}

TEST(mincore, range_with_unmapped_pages_fails_with_ENOMEM)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p, PAGE));
	unsigned char vec[1];
	EXPECT_ERRNO(mincore(p, PAGE, vec), ENOMEM);
}

TEST(mincore, unaligned_addr_fails_with_EINVAL)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	unsigned char vec[1];
	EXPECT_ERRNO(mincore(p + 1, PAGE, vec), EINVAL);
}

TEST(mincore, bad_vec_pointer_fails_with_EFAULT)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	p[0] = 1;
	EXPECT_ERRNO(syscall(SYS_mincore, p, PAGE, (void *)8), EFAULT);
}
