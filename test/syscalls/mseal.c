/*
 * mseal(2) (Linux 6.10): sealed mappings cannot be unmapped, moved,
 * resized, re-protected, mapped over, or (private anonymous read-only
 * ones) discarded with madvise.
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/shm.h>

#define NR_mseal 462
#define PG 4096

static long mseal_(void *addr, unsigned long len, unsigned long flags)
{
	return syscall(NR_mseal, addr, len, flags);
}

static void skip_if_missing(void)
{
	if (mseal_(NULL, 0, 0) < 0 && errno == ENOSYS)
		TEST_SKIP("no mseal (Linux < 6.10)");
}

static char *map(size_t n, int prot)
{
	char *p = mmap(NULL, n, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE((void *)p, MAP_FAILED);
	return p;
}

TEST(mseal, argument_errors)
{
	skip_if_missing();
	char *p = map(2 * PG, PROT_READ | PROT_WRITE);
	EXPECT_ERRNO(mseal_(p, PG, 1), EINVAL);
	EXPECT_ERRNO(mseal_(p + 1, PG, 0), EINVAL);
	/* A length that rounds up to 0, and a range that wraps. */
	EXPECT_ERRNO(mseal_(p, (unsigned long)-1, 0), EINVAL);
	EXPECT_ERRNO(mseal_(p, -(unsigned long)p + PG, 0), EINVAL);
	/* Length 0 does nothing, even unaligned-free of mappings. */
	EXPECT_EQ(mseal_(p, 0, 0), 0);
	EXPECT_EQ(mseal_(NULL, 0, 0), 0);
	/* Nothing was sealed. */
	EXPECT_SYSCALL_OK(munmap(p, 2 * PG));
}

TEST(mseal, unmapped_pages_in_the_range_are_ENOMEM_and_nothing_is_sealed)
{
	skip_if_missing();
	char *p = map(3 * PG, PROT_READ | PROT_WRITE);
	ASSERT_SYSCALL_OK(munmap(p + PG, PG));
	EXPECT_ERRNO(mseal_(p, 3 * PG, 0), ENOMEM);
	EXPECT_ERRNO(mseal_(p + PG, PG, 0), ENOMEM);
	EXPECT_SYSCALL_OK(munmap(p, 3 * PG));
}

TEST(mseal, sealed_mapping_cannot_be_unmapped_remapped_or_reprotected)
{
	skip_if_missing();
	char *p = map(2 * PG, PROT_READ | PROT_WRITE);
	p[0] = 'x';
	ASSERT_EQ(mseal_(p, 2 * PG, 0), 0);
	/* Sealing again is fine; the length is rounded up to a page. */
	EXPECT_EQ(mseal_(p, 1, 0), 0);
	EXPECT_ERRNO(munmap(p, 2 * PG), EPERM);
	EXPECT_ERRNO(munmap(p + PG, PG), EPERM);
	EXPECT_ERRNO(mprotect(p, PG, PROT_READ), EPERM);
	EXPECT_ERRNO(mprotect(p, 2 * PG, PROT_READ | PROT_WRITE), EPERM);
	EXPECT_TRUE(mremap(p, 2 * PG, PG, 0) == MAP_FAILED && errno == EPERM);
	EXPECT_TRUE(mremap(p, 2 * PG, 4 * PG, MREMAP_MAYMOVE) == MAP_FAILED && errno == EPERM);
	EXPECT_TRUE(mmap(p, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED &&
		    errno == EPERM);
	/* Still mapped, still writable, contents kept. */
	EXPECT_EQ(p[0], 'x');
	p[PG] = 'y';
	EXPECT_EQ(p[PG], 'y');
	/* Other memory calls still work. */
	EXPECT_SYSCALL_OK(madvise(p, 2 * PG, MADV_WILLNEED));
	EXPECT_SYSCALL_OK(mlock(p, PG));
	EXPECT_SYSCALL_OK(munlock(p, PG));
}

TEST(mseal, a_range_touching_a_sealed_page_is_refused_whole)
{
	skip_if_missing();
	char *p = map(3 * PG, PROT_READ | PROT_WRITE);
	p[0] = 'a';
	ASSERT_EQ(mseal_(p + PG, PG, 0), 0);
	EXPECT_ERRNO(munmap(p, 3 * PG), EPERM);
	/* Nothing was unmapped. */
	EXPECT_EQ(p[0], 'a');
	p[2 * PG] = 'c';
	/* The unsealed neighbours are ordinary memory. */
	EXPECT_SYSCALL_OK(mprotect(p + 2 * PG, PG, PROT_READ));
	EXPECT_SYSCALL_OK(munmap(p, PG));
	EXPECT_SYSCALL_OK(munmap(p + 2 * PG, PG));
	EXPECT_ERRNO(munmap(p + PG, PG), EPERM);
}

TEST(mseal, mremap_onto_a_sealed_mapping_is_EPERM)
{
	skip_if_missing();
	char *dst = map(PG, PROT_READ | PROT_WRITE);
	char *src = map(PG, PROT_READ | PROT_WRITE);
	ASSERT_EQ(mseal_(dst, PG, 0), 0);
	EXPECT_TRUE(mremap(src, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst) == MAP_FAILED && errno == EPERM);
	EXPECT_SYSCALL_OK(munmap(src, PG));
}

TEST(mseal, discarding_read_only_private_anonymous_pages_is_EPERM)
{
	skip_if_missing();
	char *ro = map(PG, PROT_READ);
	ASSERT_EQ(mseal_(ro, PG, 0), 0);
	EXPECT_ERRNO(madvise(ro, PG, MADV_DONTNEED), EPERM);
	EXPECT_ERRNO(madvise(ro, PG, MADV_FREE), EPERM);
	EXPECT_ERRNO(madvise(ro, PG, MADV_DONTFORK), EPERM);
	EXPECT_SYSCALL_OK(madvise(ro, PG, MADV_NORMAL));
	/* Writable: the caller could zero the pages anyway. */
	char *rw = map(PG, PROT_READ | PROT_WRITE);
	rw[0] = 'z';
	ASSERT_EQ(mseal_(rw, PG, 0), 0);
	EXPECT_SYSCALL_OK(madvise(rw, PG, MADV_DONTNEED));
	EXPECT_EQ(rw[0], 0);
	/* Shared anonymous memory is not "anonymous" to this rule. */
	char *sh = mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE((void *)sh, MAP_FAILED);
	ASSERT_EQ(mseal_(sh, PG, 0), 0);
	EXPECT_SYSCALL_OK(madvise(sh, PG, MADV_DONTNEED));
}

TEST(mseal, the_seal_survives_fork)
{
	skip_if_missing();
	char *p = map(PG, PROT_READ | PROT_WRITE);
	ASSERT_EQ(mseal_(p, PG, 0), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (munmap(p, PG) == 0 || errno != EPERM)
			_exit(1);
		if (mprotect(p, PG, PROT_NONE) == 0 || errno != EPERM)
			_exit(2);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(mseal, shmdt_of_a_sealed_attachment_succeeds_and_leaves_it_mapped)
{
	skip_if_missing();
	int id = shmget(IPC_PRIVATE, PG, IPC_CREAT | 0600);
	ASSERT_GE(id, 0);
	char *p = shmat(id, NULL, 0);
	ASSERT_NE((void *)p, (void *)-1);
	ASSERT_SYSCALL_OK(shmctl(id, IPC_RMID, NULL));
	p[0] = 's';
	ASSERT_EQ(mseal_(p, PG, 0), 0);
	EXPECT_SYSCALL_OK(shmdt(p));
	EXPECT_EQ(p[0], 's');
	EXPECT_ERRNO(munmap(p, PG), EPERM);
}
