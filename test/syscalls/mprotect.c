/* mprotect(2). */
#include "test.h"

#include <setjmp.h>
#include <sys/mman.h>

#define PAGE 4096

static sigjmp_buf jump;
static volatile siginfo_t fault;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fault.si_signo = si->si_signo;
	fault.si_code = si->si_code;
	fault.si_addr = si->si_addr;
	siglongjmp(jump, 1);
}

static void catch_segv(void)
{
	struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO};
	ASSERT_SYSCALL_OK(sigaction(SIGSEGV, &sa, NULL));
	memset((void *)&fault, 0, sizeof(fault));
}

/* Returns 1 if writing *p faulted. */
static int write_faults(volatile char *p)
{
	if (sigsetjmp(jump, 1))
		return 1;
	*p = 1;
	return 0;
}

static int read_faults(volatile char *p)
{
	if (sigsetjmp(jump, 1))
		return 1;
	(void)*p;
	return 0;
}

TEST(mprotect, write_to_PROT_READ_page_raises_SIGSEGV_with_SEGV_ACCERR_and_si_addr)
{
	catch_segv();
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(mprotect(p, PAGE, PROT_READ));
	EXPECT_TRUE(write_faults(p + 123));
	EXPECT_EQ(fault.si_signo, SIGSEGV);
	EXPECT_EQ(fault.si_code, SEGV_ACCERR);
	EXPECT_EQ(fault.si_addr, p + 123);
	EXPECT_FALSE(read_faults(p));
}

TEST(mprotect, adding_PROT_WRITE_back_allows_writes_and_keeps_contents)
{
	catch_segv();
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	p[5] = 'k';
	ASSERT_SYSCALL_OK(mprotect(p, PAGE, PROT_READ));
	EXPECT_TRUE(write_faults(p));
	ASSERT_SYSCALL_OK(mprotect(p, PAGE, PROT_READ | PROT_WRITE));
	EXPECT_FALSE(write_faults(p));
	EXPECT_EQ(p[5], 'k');
}

TEST(mprotect, read_of_PROT_NONE_page_raises_SIGSEGV)
{
	catch_segv();
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(mprotect(p, PAGE, PROT_NONE));
	EXPECT_TRUE(read_faults(p));
	EXPECT_EQ(fault.si_code, SEGV_ACCERR);
}

TEST(mprotect, access_to_unmapped_page_has_si_code_SEGV_MAPERR)
{
	catch_segv();
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p, PAGE));
	EXPECT_TRUE(read_faults(p));
	EXPECT_EQ(fault.si_code, SEGV_MAPERR);
	EXPECT_EQ(fault.si_addr, p);
}

TEST(mprotect, on_middle_page_changes_only_that_page)
{
	catch_segv();
	char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(mprotect(p + PAGE, PAGE, PROT_READ));
	EXPECT_FALSE(write_faults(p));
	EXPECT_TRUE(write_faults(p + PAGE));
	EXPECT_FALSE(write_faults(p + 2 * PAGE));
}

TEST(mprotect, unaligned_addr_fails_with_EINVAL)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(mprotect(p + 1, PAGE, PROT_READ), EINVAL);
}

TEST(mprotect, range_containing_unmapped_pages_fails_with_ENOMEM)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p + PAGE, PAGE));
	EXPECT_ERRNO(mprotect(p, 2 * PAGE, PROT_READ | PROT_WRITE), ENOMEM);
}

TEST(mprotect, invalid_prot_bits_fail_with_EINVAL)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(mprotect(p, PAGE, 0x100), EINVAL);
}

TEST(mprotect, PROT_WRITE_on_shared_mapping_of_read_only_fd_fails_with_EACCES)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	ASSERT_SYSCALL_OK(ftruncate(fd, PAGE));
	close(fd);
	fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDONLY));
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(mprotect(p, PAGE, PROT_READ | PROT_WRITE), EACCES);
}

TEST(mprotect, length_zero_succeeds_and_changes_nothing)
{
	catch_segv();
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_SYSCALL_OK(mprotect(p, 0, PROT_NONE));
	EXPECT_FALSE(write_faults(p));
}
