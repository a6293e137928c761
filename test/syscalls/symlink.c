/* symlink(2), symlinkat(2) and how path resolution follows symlinks. */
#include "test.h"

#include <limits.h>

TEST(symlink, creates_link_whose_contents_are_the_target_string)
{
	ASSERT_SYSCALL_OK(symlink("any string at all", test_path("l")));
	char buf[64] = {0};
	EXPECT_EQ(readlink(test_path("l"), buf, sizeof(buf) - 1), 17);
	EXPECT_STREQ(buf, "any string at all");
}

TEST(symlink, existing_linkpath_fails_with_EEXIST)
{
	ASSERT_SYSCALL_OK(symlink("a", test_path("l")));
	EXPECT_ERRNO(symlink("b", test_path("l")), EEXIST);
}

TEST(symlink, empty_target_fails_with_ENOENT)
{
	EXPECT_ERRNO(symlink("", test_path("l")), ENOENT);
}

TEST(symlink, dangling_link_open_fails_with_ENOENT_but_lstat_succeeds)
{
	ASSERT_SYSCALL_OK(symlink("missing", test_path("l")));
	EXPECT_ERRNO(open(test_path("l"), O_RDONLY), ENOENT);
	struct stat st;
	EXPECT_SYSCALL_OK(lstat(test_path("l"), &st));
}

TEST(symlink, O_CREAT_through_dangling_link_creates_the_target)
{
	ASSERT_SYSCALL_OK(symlink("created", test_path("l")));
	int fd = ASSERT_SYSCALL_OK(open(test_path("l"), O_CREAT | O_WRONLY, 0600));
	close(fd);
	EXPECT_SYSCALL_OK(access(test_path("created"), F_OK));
}

TEST(symlink, relative_target_is_resolved_from_the_links_directory)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	close(ASSERT_SYSCALL_OK(open(test_path("target"), O_CREAT | O_WRONLY, 0600)));
	ASSERT_SYSCALL_OK(symlink("../target", test_path("d/l")));
	ASSERT_SYSCALL_OK(chdir("/"));
	EXPECT_SYSCALL_OK(access(test_path("d/l"), F_OK));
}

TEST(symlink, absolute_target_is_resolved_from_root)
{
	ASSERT_SYSCALL_OK(symlink("/etc/passwd", test_path("l")));
	struct stat a, b;
	ASSERT_SYSCALL_OK(stat(test_path("l"), &a));
	ASSERT_SYSCALL_OK(stat("/etc/passwd", &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(a.st_dev, b.st_dev);
}

TEST(symlink, link_to_itself_fails_with_ELOOP)
{
	ASSERT_SYSCALL_OK(symlink("self", test_path("self")));
	EXPECT_ERRNO(open(test_path("self"), O_RDONLY), ELOOP);
}

TEST(symlink, two_links_pointing_at_each_other_fail_with_ELOOP)
{
	ASSERT_SYSCALL_OK(symlink("b", test_path("a")));
	ASSERT_SYSCALL_OK(symlink("a", test_path("b")));
	struct stat st;
	EXPECT_ERRNO(stat(test_path("a"), &st), ELOOP);
}

TEST(symlinkat, creates_link_relative_to_dirfd)
{
	int dfd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	ASSERT_SYSCALL_OK(symlinkat("/dev/null", dfd, "l"));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_path("l"), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(symlink, target_longer_than_PATH_MAX_fails_with_ENAMETOOLONG)
{
	char *t = malloc(PATH_MAX + 2);
	memset(t, 'a', PATH_MAX + 1);
	t[PATH_MAX + 1] = '\0';
	EXPECT_ERRNO(symlink(t, test_path("l")), ENAMETOOLONG);
	free(t);
}

TEST(symlink, chmod_through_link_changes_target_mode)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	ASSERT_SYSCALL_OK(symlink("f", test_path("l")));
	ASSERT_SYSCALL_OK(chmod(test_path("l"), 0604));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_path("f"), &st));
	EXPECT_EQ(st.st_mode & 0777, 0604);
}
