/* pkey_alloc(2), pkey_free(2), pkey_mprotect(2). On a CPU without
 * protection keys (and in the sandbox, which exposes none) no key can be
 * allocated; pkey_mprotect with key -1 is mprotect(2). */
#include "test.h"

#include <setjmp.h>
#include <sys/mman.h>

static long pkey_alloc_(unsigned long flags, unsigned long rights)
{
	return syscall(SYS_pkey_alloc, flags, rights);
}

TEST(pkey_alloc, unknown_flags_or_rights_are_EINVAL)
{
	EXPECT_ERRNO(pkey_alloc_(1, 0), EINVAL);
	EXPECT_ERRNO(pkey_alloc_(-1UL, 0), EINVAL);
	EXPECT_ERRNO(pkey_alloc_(0, 4), EINVAL);
	EXPECT_ERRNO(pkey_alloc_(0, -1UL), EINVAL);
}

TEST(pkey_alloc, without_protection_keys_no_key_is_given)
{
	long a = pkey_alloc_(0, 0);
	if (a >= 0) {
		if (test_in_sandbox())
			test_fail(__FILE__, __LINE__, 0, "the sandbox allocated key %ld", a);
		syscall(SYS_pkey_free, a);
		TEST_SKIP("this CPU has protection keys");
	}
	/* Linux without keys: EINVAL the first time (it fails to set the
	 * rights of key 0 and keeps it), ENOSPC after; the sandbox: ENOSPC. */
	EXPECT_TRUE(errno == EINVAL || errno == ENOSPC);
	EXPECT_ERRNO(pkey_alloc_(0, 3), ENOSPC);
	EXPECT_ERRNO(pkey_alloc_(0, 1), ENOSPC);
}

TEST(pkey_free, a_key_never_allocated_is_EINVAL)
{
	EXPECT_ERRNO(syscall(SYS_pkey_free, 15), EINVAL);
	EXPECT_ERRNO(syscall(SYS_pkey_free, 16), EINVAL);
	EXPECT_ERRNO(syscall(SYS_pkey_free, -1), EINVAL);
	EXPECT_ERRNO(syscall(SYS_pkey_free, 1 << 20), EINVAL);
}

static sigjmp_buf segv_jmp;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

TEST(pkey_mprotect, key_minus_1_is_mprotect)
{
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	m[0] = 1;
	ASSERT_SYSCALL_OK(syscall(SYS_pkey_mprotect, m, 4096, PROT_READ, -1));
	struct sigaction sa = {.sa_handler = on_segv};
	ASSERT_SYSCALL_OK(sigaction(SIGSEGV, &sa, NULL));
	volatile int faulted = 0;
	if (sigsetjmp(segv_jmp, 1) == 0)
		((volatile char *)m)[0] = 2;
	else
		faulted = 1;
	EXPECT_TRUE(faulted);
	EXPECT_EQ(m[0], 1);
	m[4096] = 3; /* the second page is still writable */
	/* mprotect's own errors. */
	EXPECT_ERRNO(syscall(SYS_pkey_mprotect, m + 1, 4096, PROT_READ, -1), EINVAL);
	EXPECT_ERRNO(syscall(SYS_pkey_mprotect, m, 4096, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP, -1), EINVAL);
	ASSERT_SYSCALL_OK(munmap(m, 8192));
	EXPECT_ERRNO(syscall(SYS_pkey_mprotect, m, 4096, PROT_READ, -1), ENOMEM);
}

TEST(pkey_mprotect, unallocated_key_is_EINVAL)
{
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	EXPECT_ERRNO(syscall(SYS_pkey_mprotect, m, 4096, PROT_READ, 5), EINVAL);
	EXPECT_ERRNO(syscall(SYS_pkey_mprotect, m, 4096, PROT_READ, -2), EINVAL);
	EXPECT_ERRNO(syscall(SYS_pkey_mprotect, m, 4096, PROT_READ, 16), EINVAL);
	/* Unchanged: still writable. */
	m[0] = 1;
	EXPECT_EQ(m[0], 1);
}

TEST(pkey_mprotect, range_checks_come_before_the_key)
{
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	/* An empty range succeeds whatever the key. */
	EXPECT_EQ(syscall(SYS_pkey_mprotect, m, 0, PROT_READ, 5), 0);
	/* A range that wraps is ENOMEM. */
	EXPECT_ERRNO(syscall(SYS_pkey_mprotect, m, -4096UL, PROT_READ, 5), ENOMEM);
	EXPECT_ERRNO(syscall(SYS_pkey_mprotect, m + 1, 0, PROT_READ, 5), EINVAL);
}
