/* Path resolution (path_resolution(7)): "..", ".", symlinks, ELOOP,
 * ENAMETOOLONG, AT_* flags and crossing the mount at /tmp. */
#include "test.h"

#include <limits.h>

static void same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	ASSERT_SYSCALL_OK(stat(a, &sa));
	ASSERT_SYSCALL_OK(stat(b, &sb));
	EXPECT_EQ(sa.st_dev, sb.st_dev);
	EXPECT_EQ(sa.st_ino, sb.st_ino);
}

TEST(path_resolution, dotdot_in_root_directory_refers_to_root)
{
	same_file("/..", "/");
	same_file("/../../..", "/");
}

TEST(path_resolution, dotdot_from_tmp_crosses_the_mount_back_to_root)
{
	same_file("/tmp/..", "/");
	same_file("/tmp/../tmp", "/tmp");
}

TEST(path_resolution, dot_and_repeated_slashes_are_ignored)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s//././/f", test_tmpdir());
	same_file(p, test_path("f"));
}

TEST(path_resolution, trailing_slash_on_regular_file_fails_with_ENOTDIR)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	struct stat st;
	EXPECT_ERRNO(stat(test_path("f/"), &st), ENOTDIR);
	EXPECT_SYSCALL_OK(stat(test_path("."), &st));
}

TEST(path_resolution, dotdot_after_symlink_to_directory_is_physical)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("a"), 0755));
	ASSERT_SYSCALL_OK(mkdir(test_path("b"), 0755));
	ASSERT_SYSCALL_OK(mkdir(test_path("b/c"), 0755));
	ASSERT_SYSCALL_OK(symlink("../b/c", test_path("a/link")));
	same_file(test_path("a/link/.."), test_path("b"));
}

TEST(path_resolution, symlink_in_middle_of_path_is_followed)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("real"), 0755));
	close(ASSERT_SYSCALL_OK(open(test_path("real/f"), O_CREAT | O_WRONLY, 0600)));
	ASSERT_SYSCALL_OK(symlink("real", test_path("alias")));
	same_file(test_path("alias/f"), test_path("real/f"));
}

TEST(path_resolution, more_than_40_symlinks_in_a_chain_fail_with_ELOOP)
{
	close(ASSERT_SYSCALL_OK(open(test_path("l0"), O_CREAT | O_WRONLY, 0600)));
	char name[16], target[16];
	for (int i = 1; i <= 45; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		snprintf(target, sizeof(target), "l%d", i - 1);
		ASSERT_SYSCALL_OK(symlink(target, test_path(name)));
	}
	struct stat st;
	EXPECT_SYSCALL_OK(stat(test_path("l20"), &st));
	EXPECT_ERRNO(stat(test_path("l45"), &st), ELOOP);
}

TEST(path_resolution, component_longer_than_NAME_MAX_fails_with_ENAMETOOLONG)
{
	char name[NAME_MAX + 2];
	memset(name, 'n', NAME_MAX + 1);
	name[NAME_MAX + 1] = '\0';
	EXPECT_ERRNO(open(test_path(name), O_CREAT | O_WRONLY, 0600), ENAMETOOLONG);
	name[NAME_MAX] = '\0';
	int fd = EXPECT_SYSCALL_OK(open(test_path(name), O_CREAT | O_WRONLY, 0600));
	close(fd);
}

TEST(path_resolution, path_of_PATH_MAX_bytes_or_more_fails_with_ENAMETOOLONG)
{
	char *p = malloc(PATH_MAX + 16);
	strcpy(p, "/");
	while (strlen(p) < PATH_MAX + 4)
		strcat(p, "./");
	struct stat st;
	EXPECT_ERRNO(stat(p, &st), ENAMETOOLONG);
	free(p);
}

TEST(path_resolution, empty_path_fails_with_ENOENT)
{
	struct stat st;
	EXPECT_ERRNO(stat("", &st), ENOENT);
	EXPECT_ERRNO(open("", O_RDONLY), ENOENT);
}

TEST(path_resolution, dotdot_through_a_non_directory_fails_with_ENOTDIR)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	struct stat st;
	EXPECT_ERRNO(stat(test_path("f/.."), &st), ENOTDIR);
}

TEST(path_resolution, relative_path_starts_at_cwd)
{
	ASSERT_SYSCALL_OK(chdir(test_tmpdir()));
	ASSERT_SYSCALL_OK(mkdir("sub", 0755));
	same_file("sub/..", test_tmpdir());
	same_file("sub/../../..", "/");
}

TEST(linkat, without_AT_SYMLINK_FOLLOW_links_the_symlink_itself)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	ASSERT_SYSCALL_OK(symlink("f", test_path("l")));
	ASSERT_SYSCALL_OK(linkat(AT_FDCWD, test_path("l"), AT_FDCWD, test_path("nofollow"), 0));
	ASSERT_SYSCALL_OK(linkat(AT_FDCWD, test_path("l"), AT_FDCWD, test_path("follow"), AT_SYMLINK_FOLLOW));
	struct stat st;
	ASSERT_SYSCALL_OK(lstat(test_path("nofollow"), &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	ASSERT_SYSCALL_OK(lstat(test_path("follow"), &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_nlink, 2);
}

TEST(fchownat, AT_SYMLINK_NOFOLLOW_changes_the_link_not_the_target)
{
	if (geteuid() != 0) {
		EXPECT_ERRNO(chown("/", 0, 0), EPERM);
		return;
	}
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	ASSERT_SYSCALL_OK(symlink("f", test_path("l")));
	ASSERT_SYSCALL_OK(fchownat(AT_FDCWD, test_path("l"), 1234, 5678, AT_SYMLINK_NOFOLLOW));
	struct stat st;
	ASSERT_SYSCALL_OK(lstat(test_path("l"), &st));
	EXPECT_EQ(st.st_uid, 1234);
	EXPECT_EQ(st.st_gid, 5678);
	ASSERT_SYSCALL_OK(stat(test_path("f"), &st));
	EXPECT_EQ(st.st_uid, 0);
}

TEST(openat, AT_FDCWD_and_dirfd_of_cwd_resolve_the_same_file)
{
	ASSERT_SYSCALL_OK(chdir(test_tmpdir()));
	close(ASSERT_SYSCALL_OK(open("f", O_CREAT | O_WRONLY, 0600)));
	int dfd = ASSERT_SYSCALL_OK(open(".", O_RDONLY | O_DIRECTORY));
	struct stat a, b;
	ASSERT_SYSCALL_OK(fstatat(AT_FDCWD, "f", &a, 0));
	ASSERT_SYSCALL_OK(fstatat(dfd, "f", &b, 0));
	EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(openat, dirfd_keeps_referring_to_directory_after_it_is_renamed)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("old"), 0755));
	int dfd = ASSERT_SYSCALL_OK(open(test_path("old"), O_RDONLY | O_DIRECTORY));
	ASSERT_SYSCALL_OK(rename(test_path("old"), test_path("new")));
	close(ASSERT_SYSCALL_OK(openat(dfd, "f", O_CREAT | O_WRONLY, 0600)));
	EXPECT_SYSCALL_OK(access(test_path("new/f"), F_OK));
}

TEST(path_resolution, search_permission_is_required_on_each_directory)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("locked"), 0700));
	close(ASSERT_SYSCALL_OK(open(test_path("locked/f"), O_CREAT | O_WRONLY, 0644)));
	ASSERT_SYSCALL_OK(chmod(test_path("locked"), 0600)); /* no x */
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0755));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		if (geteuid() == 0) {
			ASSERT_SYSCALL_OK(setgid(65534));
			ASSERT_SYSCALL_OK(setuid(65534));
		}
		struct stat st;
		EXPECT_ERRNO(stat(test_path("locked/f"), &st), EACCES);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
