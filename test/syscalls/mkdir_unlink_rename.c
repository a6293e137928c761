/* mkdir(2), rmdir(2), unlink(2), unlinkat(2), link(2), rename(2), renameat2(2). */
#include "test.h"

static void make_file(const char *name, const char *content)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path(name), O_CREAT | O_WRONLY | O_TRUNC, 0644));
	ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void expect_content(const char *name, const char *want)
{
	char buf[64] = {0};
	int fd = ASSERT_SYSCALL_OK(open(test_path(name), O_RDONLY));
	ASSERT_SYSCALL_OK(read(fd, buf, sizeof(buf) - 1));
	close(fd);
	EXPECT_STREQ(buf, want);
}

TEST(mkdir, creates_directory_with_mode_masked_by_umask)
{
	umask(027);
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0777));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_path("d"), &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(st.st_mode & 0777, 0750);
}

TEST(mkdir, existing_path_fails_with_EEXIST)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	EXPECT_ERRNO(mkdir(test_path("d"), 0755), EEXIST);
	make_file("f", "");
	EXPECT_ERRNO(mkdir(test_path("f"), 0755), EEXIST);
}

TEST(mkdir, missing_parent_fails_with_ENOENT)
{
	EXPECT_ERRNO(mkdir(test_path("a/b"), 0755), ENOENT);
}

TEST(rmdir, removes_empty_directory)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	EXPECT_SYSCALL_OK(rmdir(test_path("d")));
	EXPECT_ERRNO(access(test_path("d"), F_OK), ENOENT);
}

TEST(rmdir, non_empty_directory_fails_with_ENOTEMPTY)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	make_file("d/f", "");
	EXPECT_ERRNO(rmdir(test_path("d")), ENOTEMPTY);
}

TEST(rmdir, path_with_last_component_dot_fails_with_EINVAL)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	EXPECT_ERRNO(rmdir(test_path("d/.")), EINVAL);
}

TEST(rmdir, on_regular_file_fails_with_ENOTDIR)
{
	make_file("f", "");
	EXPECT_ERRNO(rmdir(test_path("f")), ENOTDIR);
}

TEST(unlink, removes_name_but_open_fd_still_reads_the_data)
{
	make_file("f", "still here");
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDONLY));
	ASSERT_SYSCALL_OK(unlink(test_path("f")));
	EXPECT_ERRNO(access(test_path("f"), F_OK), ENOENT);
	char buf[16] = {0};
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 10);
	EXPECT_STREQ(buf, "still here");
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_nlink, 0);
}

TEST(unlink, of_directory_fails_with_EISDIR)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	EXPECT_ERRNO(unlink(test_path("d")), EISDIR);
}

TEST(unlink, of_missing_file_fails_with_ENOENT)
{
	EXPECT_ERRNO(unlink(test_path("missing")), ENOENT);
}

TEST(unlink, of_symlink_removes_link_not_target)
{
	make_file("f", "x");
	ASSERT_SYSCALL_OK(symlink("f", test_path("l")));
	ASSERT_SYSCALL_OK(unlink(test_path("l")));
	EXPECT_SYSCALL_OK(access(test_path("f"), F_OK));
	struct stat st;
	EXPECT_ERRNO(lstat(test_path("l"), &st), ENOENT);
}

TEST(unlinkat, AT_REMOVEDIR_removes_directory)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	int dfd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	EXPECT_ERRNO(unlinkat(dfd, "d", 0), EISDIR);
	EXPECT_SYSCALL_OK(unlinkat(dfd, "d", AT_REMOVEDIR));
	EXPECT_ERRNO(access(test_path("d"), F_OK), ENOENT);
}

TEST(unlinkat, invalid_flags_fail_with_EINVAL)
{
	make_file("f", "");
	EXPECT_ERRNO(unlinkat(AT_FDCWD, test_path("f"), 0x1), EINVAL);
}

TEST(link, creates_second_name_for_the_same_inode)
{
	make_file("f", "shared");
	ASSERT_SYSCALL_OK(link(test_path("f"), test_path("g")));
	expect_content("g", "shared");
	ASSERT_SYSCALL_OK(unlink(test_path("f")));
	expect_content("g", "shared");
}

TEST(link, to_existing_newpath_fails_with_EEXIST)
{
	make_file("f", "");
	make_file("g", "");
	EXPECT_ERRNO(link(test_path("f"), test_path("g")), EEXIST);
}

TEST(link, of_directory_fails_with_EPERM)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	EXPECT_ERRNO(link(test_path("d"), test_path("e")), EPERM);
}

TEST(rename, moves_file_to_new_name)
{
	make_file("a", "data");
	ASSERT_SYSCALL_OK(rename(test_path("a"), test_path("b")));
	EXPECT_ERRNO(access(test_path("a"), F_OK), ENOENT);
	expect_content("b", "data");
}

TEST(rename, replaces_existing_newpath_atomically)
{
	make_file("a", "new");
	make_file("b", "old");
	int old_fd = ASSERT_SYSCALL_OK(open(test_path("b"), O_RDONLY));
	ASSERT_SYSCALL_OK(rename(test_path("a"), test_path("b")));
	expect_content("b", "new");
	char buf[8] = {0};
	EXPECT_EQ(read(old_fd, buf, sizeof(buf)), 3);
	EXPECT_STREQ(buf, "old");
}

TEST(rename, of_hard_links_to_same_file_does_nothing)
{
	make_file("a", "x");
	ASSERT_SYSCALL_OK(link(test_path("a"), test_path("b")));
	EXPECT_SYSCALL_OK(rename(test_path("a"), test_path("b")));
	EXPECT_SYSCALL_OK(access(test_path("a"), F_OK));
	EXPECT_SYSCALL_OK(access(test_path("b"), F_OK));
}

TEST(rename, directory_onto_non_empty_directory_fails_with_ENOTEMPTY)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("a"), 0755));
	ASSERT_SYSCALL_OK(mkdir(test_path("b"), 0755));
	make_file("b/f", "");
	EXPECT_ERRNO(rename(test_path("a"), test_path("b")), ENOTEMPTY);
}

TEST(rename, directory_onto_empty_directory_replaces_it)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("a"), 0755));
	make_file("a/f", "");
	ASSERT_SYSCALL_OK(mkdir(test_path("b"), 0755));
	EXPECT_SYSCALL_OK(rename(test_path("a"), test_path("b")));
	EXPECT_SYSCALL_OK(access(test_path("b/f"), F_OK));
}

TEST(rename, directory_into_its_own_subdirectory_fails_with_EINVAL)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("a"), 0755));
	ASSERT_SYSCALL_OK(mkdir(test_path("a/sub"), 0755));
	EXPECT_ERRNO(rename(test_path("a"), test_path("a/sub/a")), EINVAL);
}

TEST(rename, file_onto_directory_fails_with_EISDIR)
{
	make_file("f", "");
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	EXPECT_ERRNO(rename(test_path("f"), test_path("d")), EISDIR);
}

TEST(rename, directory_onto_file_fails_with_ENOTDIR)
{
	make_file("f", "");
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	EXPECT_ERRNO(rename(test_path("d"), test_path("f")), ENOTDIR);
}

TEST(rename, missing_oldpath_fails_with_ENOENT)
{
	EXPECT_ERRNO(rename(test_path("missing"), test_path("b")), ENOENT);
}

TEST(renameat2, RENAME_NOREPLACE_with_existing_newpath_fails_with_EEXIST)
{
	make_file("a", "a");
	make_file("b", "b");
	EXPECT_ERRNO(syscall(SYS_renameat2, AT_FDCWD, test_path("a"), AT_FDCWD, test_path("b"), RENAME_NOREPLACE), EEXIST);
	expect_content("b", "b");
}

TEST(renameat2, RENAME_EXCHANGE_swaps_the_two_names)
{
	make_file("a", "first");
	make_file("b", "second");
	ASSERT_SYSCALL_OK(syscall(SYS_renameat2, AT_FDCWD, test_path("a"), AT_FDCWD, test_path("b"), RENAME_EXCHANGE));
	expect_content("a", "second");
	expect_content("b", "first");
}

TEST(renameat2, RENAME_NOREPLACE_with_RENAME_EXCHANGE_fails_with_EINVAL)
{
	make_file("a", "");
	make_file("b", "");
	EXPECT_ERRNO(syscall(SYS_renameat2, AT_FDCWD, test_path("a"), AT_FDCWD, test_path("b"),
			     RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
}
