/* readlink(2), readlinkat(2). */
#include "test.h"

TEST(readlink, returns_target_length_without_terminating_nul)
{
	ASSERT_SYSCALL_OK(symlink("some/target", test_path("l")));
	char buf[64];
	memset(buf, 'X', sizeof(buf));
	EXPECT_EQ(readlink(test_path("l"), buf, sizeof(buf)), 11);
	EXPECT_MEMEQ(buf, "some/target", 11);
	EXPECT_EQ(buf[11], 'X');
}

TEST(readlink, truncates_target_to_bufsiz)
{
	ASSERT_SYSCALL_OK(symlink("abcdefgh", test_path("l")));
	char buf[8];
	memset(buf, 'X', sizeof(buf));
	EXPECT_EQ(readlink(test_path("l"), buf, 3), 3);
	EXPECT_MEMEQ(buf, "abcX", 4);
}

TEST(readlink, of_path_that_is_not_a_symlink_fails_with_EINVAL)
{
	char buf[16];
	EXPECT_ERRNO(readlink(test_tmpdir(), buf, sizeof(buf)), EINVAL);
	EXPECT_ERRNO(readlink("/dev/null", buf, sizeof(buf)), EINVAL);
}

TEST(readlink, of_nonexistent_path_fails_with_ENOENT)
{
	char buf[16];
	EXPECT_ERRNO(readlink(test_path("missing"), buf, sizeof(buf)), ENOENT);
}

TEST(readlink, with_bufsiz_zero_fails_with_EINVAL)
{
	ASSERT_SYSCALL_OK(symlink("t", test_path("l")));
	char buf[4];
	EXPECT_ERRNO(syscall(SYS_readlink, test_path("l"), buf, 0), EINVAL);
}

TEST(readlink, follows_symlinks_in_leading_components_but_not_the_last)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	ASSERT_SYSCALL_OK(symlink("inner-target", test_path("d/inner")));
	ASSERT_SYSCALL_OK(symlink("d", test_path("dl")));
	char buf[32] = {0};
	EXPECT_EQ(readlink(test_path("dl/inner"), buf, sizeof(buf) - 1), 12);
	EXPECT_STREQ(buf, "inner-target");
}

TEST(readlinkat, resolves_relative_path_against_dirfd)
{
	ASSERT_SYSCALL_OK(symlink("/x/y", test_path("l")));
	int dfd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[16] = {0};
	EXPECT_EQ(readlinkat(dfd, "l", buf, sizeof(buf) - 1), 4);
	EXPECT_STREQ(buf, "/x/y");
}

TEST(readlinkat, empty_path_reads_symlink_opened_with_O_PATH_O_NOFOLLOW)
{
	ASSERT_SYSCALL_OK(symlink("tgt", test_path("l")));
	int fd = ASSERT_SYSCALL_OK(open(test_path("l"), O_PATH | O_NOFOLLOW));
	char buf[16] = {0};
	EXPECT_EQ(readlinkat(fd, "", buf, sizeof(buf) - 1), 3);
	EXPECT_STREQ(buf, "tgt");
}
