/*
 * Memory-management calls over huge ranges: mincore(2), msync(2),
 * mlock(2)/mlock2(2)/munlock(2)/mlockall(2), madvise(2), mprotect(2),
 * mremap(2) and munmap(2) over a 64 TiB PROT_NONE reservation. The kernel
 * must answer without spending memory (or time) in proportion to the
 * range: each case finishes at once natively.
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/resource.h>

#define PAGE 4096UL
#define TIB (1UL << 40)
/* Large enough that a byte (or bit) a page would exhaust memory; small
 * enough to fit below a non-PIE static binary's stack on 47-bit x86-64. */
#define HUGE (64 * TIB)
/* The first address above x86-64 user space (TASK_SIZE_MAX). */
#define USER_END 0x7ffffffff000UL

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

static char *reserve(size_t len)
{
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	return p;
}

/* Sets the soft RLIMIT_MEMLOCK (lowering it needs no privilege). */
static void set_memlock(rlim_t soft)
{
	struct rlimit rl;
	ASSERT_SYSCALL_OK(getrlimit(RLIMIT_MEMLOCK, &rl));
	rl.rlim_cur = soft;
	ASSERT_SYSCALL_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
}

TEST(huge_ranges, mincore_writes_the_vector_in_order_until_it_faults)
{
	char *p = reserve(HUGE);
	/* A one-page writable vector followed by an inaccessible page. */
	unsigned char *vec = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(vec, MAP_FAILED);
	ASSERT_SYSCALL_OK(mprotect(vec + PAGE, PAGE, PROT_NONE));
	memset(vec, 0xee, PAGE);
	EXPECT_ERRNO(syscall(SYS_mincore, p, HUGE, vec), EFAULT);
	/* The first page of results was written: no page is resident. */
	EXPECT_EQ(vec[0], 0);
	EXPECT_EQ(vec[PAGE - 1], 0);
}

TEST(huge_ranges, mincore_into_an_inaccessible_huge_vector_fails_with_EFAULT)
{
	char *p = reserve(HUGE);
	unsigned char *vec = (unsigned char *)reserve(HUGE / PAGE);
	EXPECT_ERRNO(syscall(SYS_mincore, p, HUGE, vec), EFAULT);
	ASSERT_SYSCALL_OK(mprotect(vec, HUGE / PAGE, PROT_READ));
	EXPECT_ERRNO(syscall(SYS_mincore, p, HUGE, vec), EFAULT);
}

TEST(huge_ranges, mincore_vector_reaching_past_user_space_fails_with_EFAULT)
{
	char *p = reserve(HUGE);
	EXPECT_ERRNO(syscall(SYS_mincore, p, HUGE, (void *)(USER_END - PAGE)), EFAULT);
}

TEST(huge_ranges, mincore_range_reaching_past_user_space_fails_with_ENOMEM)
{
	char *p = reserve(HUGE);
	unsigned char vec[1];
	EXPECT_ERRNO(syscall(SYS_mincore, p, USER_END, vec), ENOMEM);
	EXPECT_ERRNO(syscall(SYS_mincore, p, -PAGE, vec), ENOMEM);
}

TEST(huge_ranges, mincore_writes_results_before_a_hole_then_fails_with_ENOMEM)
{
	char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	memset(p, 1, 3 * PAGE);
	ASSERT_SYSCALL_OK(munmap(p + PAGE, PAGE));
	unsigned char vec[3] = {0xee, 0xee, 0xee};
	EXPECT_ERRNO(syscall(SYS_mincore, p, 3 * PAGE, vec), ENOMEM);
	EXPECT_EQ(vec[0] & 1, 1);
	EXPECT_EQ(vec[1], 0xee);
	EXPECT_EQ(vec[2], 0xee);
}

TEST(huge_ranges, mincore_of_zero_length_succeeds_even_when_unmapped)
{
	char *p = reserve(PAGE);
	ASSERT_SYSCALL_OK(munmap(p, PAGE));
	unsigned char vec[1] = {0xee};
	EXPECT_SYSCALL_OK(syscall(SYS_mincore, p, 0, vec));
	EXPECT_EQ(vec[0], 0xee);
}

TEST(huge_ranges, msync_of_a_huge_mapping_succeeds_with_every_flag)
{
	char *p = reserve(HUGE);
	EXPECT_SYSCALL_OK(msync(p, HUGE, MS_ASYNC));
	EXPECT_SYSCALL_OK(msync(p, HUGE, MS_SYNC));
	EXPECT_SYSCALL_OK(msync(p, HUGE, MS_INVALIDATE));
	EXPECT_SYSCALL_OK(msync(p, HUGE, MS_ASYNC | MS_INVALIDATE));
}

TEST(huge_ranges, msync_past_the_end_of_a_huge_mapping_fails_with_ENOMEM)
{
	char *p = reserve(HUGE + PAGE);
	ASSERT_SYSCALL_OK(munmap(p + HUGE, PAGE));
	EXPECT_ERRNO(msync(p, HUGE + PAGE, MS_ASYNC), ENOMEM);
	EXPECT_ERRNO(msync(p, -PAGE, MS_SYNC), ENOMEM);
}

TEST(huge_ranges, msync_length_that_rounds_up_to_zero_succeeds)
{
	/* The length is rounded up to pages modulo 2^64. */
	char *p = reserve(PAGE);
	ASSERT_SYSCALL_OK(munmap(p, PAGE));
	EXPECT_SYSCALL_OK(syscall(SYS_msync, p, -1UL, MS_ASYNC));
}

TEST(huge_ranges, mlock2_ONFAULT_of_a_huge_mapping_needs_CAP_IPC_LOCK_beyond_the_limit)
{
	char *p = reserve(HUGE);
	set_memlock(64 * 1024);
	if (geteuid() == 0)
		EXPECT_SYSCALL_OK(syscall(SYS_mlock2, p, HUGE, MLOCK_ONFAULT));
	else
		EXPECT_ERRNO(syscall(SYS_mlock2, p, HUGE, MLOCK_ONFAULT), ENOMEM);
	EXPECT_SYSCALL_OK(munlock(p, HUGE));
}

TEST(huge_ranges, mlock_of_a_huge_PROT_NONE_mapping_fails_with_ENOMEM)
{
	/* Privileged, the range is locked but can't be faulted in. */
	char *p = reserve(HUGE);
	set_memlock(64 * 1024);
	EXPECT_ERRNO(mlock(p, HUGE), ENOMEM);
	EXPECT_SYSCALL_OK(munlock(p, HUGE));
}

TEST(huge_ranges, mlock_of_a_PROT_NONE_page_fails_but_mlock2_ONFAULT_succeeds)
{
	char *p = reserve(PAGE);
	set_memlock(64 * 1024);
	EXPECT_ERRNO(mlock(p, PAGE), ENOMEM);
	EXPECT_SYSCALL_OK(syscall(SYS_mlock2, p, PAGE, MLOCK_ONFAULT));
	EXPECT_SYSCALL_OK(munlock(p, PAGE));
}

TEST(huge_ranges, mlock_with_a_zero_limit_fails_with_EPERM_unless_privileged)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	set_memlock(0);
	if (geteuid() == 0) {
		EXPECT_SYSCALL_OK(mlock(p, PAGE));
		EXPECT_SYSCALL_OK(munlock(p, PAGE));
	} else {
		EXPECT_ERRNO(mlock(p, PAGE), EPERM);
		/* Checked before the length: even an empty range. */
		EXPECT_ERRNO(mlock(p, 0), EPERM);
	}
}

TEST(huge_ranges, mlock_of_a_wrapping_range_fails_with_EINVAL_or_ENOMEM)
{
	char *p = reserve(PAGE);
	set_memlock(64 * 1024);
	/* Privileged, the limit doesn't apply and the range wraps. */
	EXPECT_ERRNO(mlock(p, -2 * PAGE), geteuid() == 0 ? EINVAL : ENOMEM);
	EXPECT_ERRNO(munlock(p, -2 * PAGE), EINVAL);
	/* A length within a page of 2^64 rounds up to 0. */
	EXPECT_SYSCALL_OK(mlock(p, -1UL));
	EXPECT_SYSCALL_OK(munlock(p, -1UL));
}

TEST(huge_ranges, munlock_across_a_hole_fails_with_ENOMEM)
{
	char *p = reserve(HUGE + PAGE);
	ASSERT_SYSCALL_OK(munmap(p + HUGE, PAGE));
	EXPECT_ERRNO(munlock(p, HUGE + PAGE), ENOMEM);
	set_memlock(64 * 1024);
	EXPECT_ERRNO(syscall(SYS_mlock2, p, HUGE + PAGE, MLOCK_ONFAULT), ENOMEM);
}

TEST(huge_ranges, mlockall_current_counts_huge_reservations_against_the_limit)
{
	reserve(HUGE);
	set_memlock(64 * 1024);
	if (geteuid() == 0) {
		EXPECT_SYSCALL_OK(mlockall(MCL_CURRENT));
		EXPECT_SYSCALL_OK(munlockall());
	} else {
		EXPECT_ERRNO(mlockall(MCL_CURRENT), ENOMEM);
	}
}

TEST(huge_ranges, madvise_over_a_huge_mapping_succeeds)
{
	char *p = reserve(HUGE);
	EXPECT_SYSCALL_OK(madvise(p, HUGE, MADV_NORMAL));
	EXPECT_SYSCALL_OK(madvise(p, HUGE, MADV_WILLNEED));
	EXPECT_SYSCALL_OK(madvise(p, HUGE, MADV_DONTNEED));
	EXPECT_SYSCALL_OK(madvise(p, HUGE, MADV_FREE));
}

TEST(huge_ranges, madvise_past_the_end_of_a_huge_mapping_fails_with_ENOMEM)
{
	char *p = reserve(HUGE + PAGE);
	ASSERT_SYSCALL_OK(munmap(p + HUGE, PAGE));
	EXPECT_ERRNO(madvise(p, HUGE + PAGE, MADV_DONTNEED), ENOMEM);
}

TEST(huge_ranges, mprotect_of_a_huge_mapping_changes_every_page)
{
	char *p = reserve(HUGE);
	ASSERT_SYSCALL_OK(mprotect(p, HUGE, PROT_READ | PROT_WRITE));
	p[0] = 1;
	p[HUGE - 1] = 2;
	EXPECT_EQ(p[0] + p[HUGE - 1], 3);
	ASSERT_SYSCALL_OK(mprotect(p + PAGE, HUGE - 2 * PAGE, PROT_NONE));
	EXPECT_EQ(p[HUGE - 1], 2);
}

TEST(huge_ranges, mremap_shrinks_and_regrows_a_huge_mapping)
{
	char *p = reserve(HUGE);
	EXPECT_EQ(mremap(p, HUGE, PAGE, 0), p);
	char *q = mremap(p, PAGE, HUGE, MREMAP_MAYMOVE);
	ASSERT_NE(q, MAP_FAILED);
	EXPECT_SYSCALL_OK(msync(q, HUGE, MS_ASYNC));
	EXPECT_SYSCALL_OK(munmap(q, HUGE));
}

TEST(huge_ranges, munmap_of_a_huge_mapping_leaves_nothing_mapped)
{
	char *p = reserve(HUGE);
	ASSERT_SYSCALL_OK(munmap(p, HUGE));
	unsigned char vec[1];
	EXPECT_ERRNO(syscall(SYS_mincore, p, PAGE, vec), ENOMEM);
	EXPECT_ERRNO(syscall(SYS_mincore, p + HUGE - PAGE, PAGE, vec), ENOMEM);
}

/* Returns the maps line of the VMA starting at p, or "" if none. */
static const char *maps_line(void *p)
{
	static char line[512];
	char want[32];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	FILE *f = fopen("/proc/self/maps", "r");
	ASSERT_NE(f, NULL);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)) == 0) {
			fclose(f);
			return line;
		}
	}
	fclose(f);
	return "";
}

/*
 * The limit on VMAs itself (vm.max_map_count, ENOMEM beyond it) takes some
 * 32000 mprotect calls to reach, which is too slow to be reliable on a busy
 * machine in the sandbox: sentry/mm's TestMapCountLimit checks it. Merging,
 * which keeps ordinary programs well below it, is checked here.
 */
TEST(map_count, adjacent_anonymous_mappings_with_equal_protection_merge)
{
	char *p = reserve(4 * PAGE);
	for (int i = 0; i < 3; i++)
		ASSERT_NE(mmap(p + i * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), MAP_FAILED);
	char want[64];
	snprintf(want, sizeof(want), "%lx-%lx r--p", (unsigned long)p, (unsigned long)(p + 3 * PAGE));
	EXPECT_EQ(strncmp(maps_line(p), want, strlen(want)), 0);
	/* Re-protecting the middle splits it; protecting it back merges. */
	ASSERT_SYSCALL_OK(mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE));
	snprintf(want, sizeof(want), "%lx-%lx r--p", (unsigned long)p, (unsigned long)(p + PAGE));
	EXPECT_EQ(strncmp(maps_line(p), want, strlen(want)), 0);
	ASSERT_SYSCALL_OK(mprotect(p + PAGE, PAGE, PROT_READ));
	snprintf(want, sizeof(want), "%lx-%lx r--p", (unsigned long)p, (unsigned long)(p + 3 * PAGE));
	EXPECT_EQ(strncmp(maps_line(p), want, strlen(want)), 0);
}
