/* stat(2), fstat(2), lstat(2), fstatat(2), statx(2). */
#include "test.h"

#include <sys/sysmacros.h>

static void make_file(const char *name, const char *content)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path(name), O_CREAT | O_WRONLY | O_TRUNC, 0640));
	ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

TEST(stat, reports_size_type_and_permissions_of_regular_file)
{
	make_file("f", "12345");
	ASSERT_SYSCALL_OK(chmod(test_path("f"), 0640));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_path("f"), &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_mode & 07777, 0640);
	EXPECT_EQ(st.st_size, 5);
	EXPECT_EQ(st.st_nlink, 1);
	EXPECT_EQ(st.st_uid, geteuid());
	EXPECT_GT(st.st_blksize, 0);
}

TEST(stat, of_directory_reports_S_IFDIR)
{
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_tmpdir(), &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST(stat, of_dev_null_reports_character_device_1_3)
{
	struct stat st;
	ASSERT_SYSCALL_OK(stat("/dev/null", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(major(st.st_rdev), 1);
	EXPECT_EQ(minor(st.st_rdev), 3);
}

TEST(stat, nonexistent_path_fails_with_ENOENT)
{
	struct stat st;
	EXPECT_ERRNO(stat(test_path("missing"), &st), ENOENT);
}

TEST(fstat, agrees_with_stat_on_device_and_inode)
{
	make_file("f", "x");
	struct stat a, b;
	ASSERT_SYSCALL_OK(stat(test_path("f"), &a));
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDONLY));
	ASSERT_SYSCALL_OK(fstat(fd, &b));
	EXPECT_EQ(a.st_dev, b.st_dev);
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(a.st_size, b.st_size);
}

TEST(fstat, reflects_writes_through_the_fd)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 0);
	ASSERT_EQ(write(fd, "abcdefg", 7), 7);
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 7);
}

TEST(lstat, reports_the_symlink_itself_not_its_target)
{
	make_file("f", "content");
	ASSERT_SYSCALL_OK(symlink("f", test_path("l")));
	struct stat st;
	ASSERT_SYSCALL_OK(lstat(test_path("l"), &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	EXPECT_EQ(st.st_size, 1); /* length of the target "f" */
	ASSERT_SYSCALL_OK(stat(test_path("l"), &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_size, 7);
}

TEST(stat, st_nlink_counts_hard_links)
{
	make_file("f", "x");
	ASSERT_SYSCALL_OK(link(test_path("f"), test_path("g")));
	struct stat a, b;
	ASSERT_SYSCALL_OK(stat(test_path("f"), &a));
	ASSERT_SYSCALL_OK(stat(test_path("g"), &b));
	EXPECT_EQ(a.st_nlink, 2);
	EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(stat, directory_st_nlink_counts_subdirectories)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_path("d"), &st));
	EXPECT_EQ(st.st_nlink, 2);
	ASSERT_SYSCALL_OK(mkdir(test_path("d/s"), 0755));
	ASSERT_SYSCALL_OK(stat(test_path("d"), &st));
	EXPECT_EQ(st.st_nlink, 3);
}

TEST(fstatat, AT_SYMLINK_NOFOLLOW_reports_the_symlink)
{
	ASSERT_SYSCALL_OK(symlink("/etc/passwd", test_path("l")));
	int dfd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	struct stat st;
	ASSERT_SYSCALL_OK(fstatat(dfd, "l", &st, AT_SYMLINK_NOFOLLOW));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	ASSERT_SYSCALL_OK(fstatat(dfd, "l", &st, 0));
	EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(fstatat, AT_EMPTY_PATH_with_empty_path_stats_dirfd_itself)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	struct stat st;
	ASSERT_SYSCALL_OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_ERRNO(fstatat(fd, "", &st, 0), ENOENT);
}

TEST(fstatat, invalid_flags_fail_with_EINVAL)
{
	struct stat st;
	EXPECT_ERRNO(fstatat(AT_FDCWD, "/", &st, 0x40000000), EINVAL);
}

TEST(statx, reports_size_and_mode_requested_in_mask)
{
	make_file("f", "abcdef");
	struct statx sx;
	memset(&sx, 0, sizeof(sx));
	ASSERT_SYSCALL_OK(syscall(SYS_statx, AT_FDCWD, test_path("f"), 0,
				  STATX_BASIC_STATS, &sx));
	EXPECT_EQ(sx.stx_mask & (STATX_SIZE | STATX_MODE), STATX_SIZE | STATX_MODE);
	EXPECT_EQ(sx.stx_size, 6);
	EXPECT_TRUE(S_ISREG(sx.stx_mode));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_path("f"), &st));
	EXPECT_EQ(sx.stx_ino, st.st_ino);
}

TEST(stat, st_mtime_is_updated_by_write)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	struct timespec old[2] = {{1000, 0}, {1000, 0}};
	ASSERT_SYSCALL_OK(futimens(fd, old));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_mtime, 1000);
	ASSERT_EQ(write(fd, "x", 1), 1);
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_GT(st.st_mtime, 1000);
}
