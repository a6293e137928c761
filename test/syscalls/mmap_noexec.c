/* mmap(2) and mprotect(2) of files on a noexec mount: never executable. */
#include "test.h"

#include <sys/mman.h>
#include <sys/mount.h>

/* Creates a one-page file on a fresh tmpfs mounted with flags and returns
 * an fd open O_RDWR; -1 if the case may not mount. */
static int file_on_tmpfs(unsigned long flags)
{
	if (!test_enter_private_mount_ns())
		return -1;
	const char *dir = test_tmpdir();
	ASSERT_SYSCALL_OK(mount("none", dir, "tmpfs", flags, NULL));
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0755));
	ASSERT_SYSCALL_OK(ftruncate(fd, 4096));
	return fd;
}

TEST(mmap_noexec, PROT_EXEC_mapping_of_a_noexec_file_fails_with_EPERM)
{
	int fd = file_on_tmpfs(MS_NOEXEC);
	if (fd < 0)
		return;
	EXPECT_TRUE(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	EXPECT_TRUE(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0) == MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
}

TEST(mmap_noexec, mprotect_to_PROT_EXEC_of_a_noexec_mapping_fails_with_EACCES)
{
	int fd = file_on_tmpfs(MS_NOEXEC);
	if (fd < 0)
		return;
	char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	EXPECT_ERRNO(mprotect(m, 4096, PROT_READ | PROT_EXEC), EACCES);
	/* Other changes still work. */
	EXPECT_SYSCALL_OK(mprotect(m, 4096, PROT_READ | PROT_WRITE));
}

TEST(mmap_noexec, exec_mappings_work_on_an_ordinary_mount)
{
	int fd = file_on_tmpfs(0);
	if (fd < 0)
		return;
	char *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	EXPECT_TRUE(m != MAP_FAILED);
	char *s = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(s != MAP_FAILED);
	EXPECT_SYSCALL_OK(mprotect(s, 4096, PROT_READ | PROT_EXEC));
}
