/* open(2), openat(2), creat(2), close(2). */
#include "test.h"

TEST(open, returns_lowest_numbered_unused_fd)
{
	int a = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	int b = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_EQ(b, a + 1);
	ASSERT_SYSCALL_OK(close(a));
	EXPECT_EQ(open("/dev/null", O_RDONLY), a);
}

TEST(open, O_CREAT_creates_file_with_mode_masked_by_umask)
{
	umask(022);
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0666));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_mode & 07777, 0644);
	EXPECT_EQ(st.st_size, 0);
}

TEST(open, O_CREAT_and_O_EXCL_on_existing_file_fails_with_EEXIST)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	EXPECT_ERRNO(open(test_path("f"), O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
}

TEST(open, O_CREAT_and_O_EXCL_on_symlink_fails_with_EEXIST_even_if_dangling)
{
	ASSERT_SYSCALL_OK(symlink("nowhere", test_path("l")));
	EXPECT_ERRNO(open(test_path("l"), O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
	EXPECT_ERRNO(access(test_path("nowhere"), F_OK), ENOENT);
}

TEST(open, nonexistent_file_without_O_CREAT_fails_with_ENOENT)
{
	EXPECT_ERRNO(open(test_path("missing"), O_RDONLY), ENOENT);
}

TEST(open, O_CREAT_in_missing_directory_fails_with_ENOENT)
{
	EXPECT_ERRNO(open(test_path("nodir/f"), O_CREAT | O_WRONLY, 0600), ENOENT);
}

TEST(open, O_TRUNC_truncates_existing_regular_file_to_length_zero)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600));
	ASSERT_EQ(write(fd, "hello", 5), 5);
	close(fd);
	fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_WRONLY | O_TRUNC));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 0);
}

TEST(open, O_DIRECTORY_on_non_directory_fails_with_ENOTDIR)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	EXPECT_ERRNO(open(test_path("f"), O_RDONLY | O_DIRECTORY), ENOTDIR);
}

TEST(open, directory_for_writing_fails_with_EISDIR)
{
	EXPECT_ERRNO(open(test_tmpdir(), O_WRONLY), EISDIR);
	EXPECT_ERRNO(open(test_tmpdir(), O_RDWR), EISDIR);
}

TEST(open, path_component_that_is_not_a_directory_fails_with_ENOTDIR)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	EXPECT_ERRNO(open(test_path("f/x"), O_RDONLY), ENOTDIR);
}

TEST(open, O_CLOEXEC_sets_close_on_exec_flag)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	int fd2 = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_EQ(fcntl(fd2, F_GETFD), 0);
}

TEST(open, O_NOFOLLOW_on_symlink_fails_with_ELOOP)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	ASSERT_SYSCALL_OK(symlink(test_path("f"), test_path("l")));
	EXPECT_ERRNO(open(test_path("l"), O_RDONLY | O_NOFOLLOW), ELOOP);
	int fd = EXPECT_SYSCALL_OK(open(test_path("l"), O_RDONLY));
	close(fd);
}

TEST(open, O_PATH_descriptor_cannot_be_read_EBADF)
{
	int fd = ASSERT_SYSCALL_OK(open("/etc/passwd", O_PATH));
	char buf[4];
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EBADF);
	struct stat st;
	EXPECT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(openat, relative_path_is_resolved_against_dirfd)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	int dfd = ASSERT_SYSCALL_OK(open(test_path("d"), O_RDONLY | O_DIRECTORY));
	int fd = ASSERT_SYSCALL_OK(openat(dfd, "f", O_CREAT | O_WRONLY, 0600));
	close(fd);
	EXPECT_SYSCALL_OK(access(test_path("d/f"), F_OK));
}

TEST(openat, AT_FDCWD_resolves_relative_path_against_cwd)
{
	ASSERT_SYSCALL_OK(chdir(test_tmpdir()));
	int fd = ASSERT_SYSCALL_OK(openat(AT_FDCWD, "g", O_CREAT | O_WRONLY, 0600));
	close(fd);
	EXPECT_SYSCALL_OK(access(test_path("g"), F_OK));
}

TEST(openat, dirfd_that_is_not_a_directory_fails_with_ENOTDIR)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERRNO(openat(fd, "x", O_RDONLY), ENOTDIR);
}

TEST(openat, invalid_dirfd_with_relative_path_fails_with_EBADF)
{
	EXPECT_ERRNO(openat(9999, "x", O_RDONLY), EBADF);
}

TEST(openat, absolute_path_ignores_dirfd)
{
	int fd = EXPECT_SYSCALL_OK(openat(9999, "/dev/null", O_RDONLY));
	close(fd);
}

TEST(creat, is_open_with_O_CREAT_O_WRONLY_O_TRUNC)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600));
	ASSERT_EQ(write(fd, "abc", 3), 3);
	close(fd);
	fd = ASSERT_SYSCALL_OK(creat(test_path("f"), 0600));
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 0);
}

TEST(close, of_closed_fd_fails_with_EBADF)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_SYSCALL_OK(close(fd));
	EXPECT_ERRNO(close(fd), EBADF);
}
