/*
 * memfd_secret(2) (Linux 5.14): either the kernel has secret memory
 * disabled, and then the call is ENOSYS before any argument is looked at
 * (Palisade's answer), or it gives a descriptor with secretmem's rules.
 */
#include "test.h"

#include <sys/mman.h>

#define NR_memfd_secret 447

TEST(memfd_secret, ENOSYS_before_flags_or_a_secretmem_file)
{
	long fd = syscall(NR_memfd_secret, 0);
	if (fd < 0) {
		EXPECT_EQ(errno, ENOSYS);
		EXPECT_ERRNO(syscall(NR_memfd_secret, 0x1234), ENOSYS);
		return;
	}
	if (test_in_sandbox())
		test_fail(__FILE__, __LINE__, 1, "the sandbox gave a secretmem descriptor");
	/* Only O_CLOEXEC is a flag. */
	EXPECT_ERRNO(syscall(NR_memfd_secret, O_NONBLOCK), EINVAL);
	long fd2 = syscall(NR_memfd_secret, O_CLOEXEC);
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(fcntl((int)fd2, F_GETFD), FD_CLOEXEC);
	/* No read or write: only shared mappings. */
	char b;
	EXPECT_ERRNO(read((int)fd, &b, 1), EINVAL);
	EXPECT_ERRNO(write((int)fd, "x", 1), EINVAL);
	ASSERT_SYSCALL_OK(ftruncate((int)fd, 4096));
	EXPECT_TRUE(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, (int)fd, 0) == MAP_FAILED && errno == EINVAL);
	/* The size can be set only once. */
	EXPECT_ERRNO(ftruncate((int)fd, 8192), EINVAL);
}
