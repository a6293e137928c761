/* umask(2). */
#include "test.h"

TEST(umask, returns_the_previous_mask)
{
	umask(022);
	EXPECT_EQ(umask(077), 022);
	EXPECT_EQ(umask(022), 077);
}

TEST(umask, uses_only_the_permission_bits_of_mask)
{
	umask(07777);
	EXPECT_EQ(umask(022), 0777);
}

TEST(umask, clears_bits_from_mode_of_new_file)
{
	umask(027);
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0777));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_mode & 0777, 0750);
}

TEST(umask, clears_bits_from_mode_of_new_directory)
{
	umask(0);
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0777));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_path("d"), &st));
	EXPECT_EQ(st.st_mode & 0777, 0777);
}

TEST(umask, does_not_restrict_chmod)
{
	umask(0777);
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0666));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_mode & 0777, 0);
	ASSERT_SYSCALL_OK(fchmod(fd, 0640));
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_mode & 0777, 0640);
}

TEST(umask, is_inherited_by_fork_child)
{
	umask(0123);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(umask(0) == 0123 ? 0 : 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(umask(0), 0123);
}
