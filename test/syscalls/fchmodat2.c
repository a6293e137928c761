/* fchmodat2(2): fchmodat with flags that work, AT_SYMLINK_NOFOLLOW and
 * AT_EMPTY_PATH; a symlink's own mode cannot be changed. */
#include "test.h"

#include <linux/capability.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static long fchmodat2_(int dirfd, const char *path, mode_t mode, int flags)
{
	return syscall(SYS_fchmodat2, dirfd, path, mode, flags);
}

/* Skips the case natively on kernels before 6.6, which lack the call. */
static void need_fchmodat2(void)
{
	if (!test_in_sandbox() && fchmodat2_(AT_FDCWD, "/", 0, 0x80000000) == -1 && errno == ENOSYS)
		TEST_SKIP("the host kernel has no fchmodat2 (before Linux 6.6)");
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static const char *make_file(const char *name)
{
	const char *p = test_path(name);
	int fd = open(p, O_CREAT | O_WRONLY, 0600);
	ASSERT_SYSCALL_OK(fd);
	close(fd);
	return p;
}

TEST(fchmodat2, changes_the_mode_like_fchmodat)
{
	need_fchmodat2();
	const char *f = make_file("f");
	ASSERT_SYSCALL_OK(fchmodat2_(AT_FDCWD, f, 0640, 0));
	EXPECT_EQ(mode_of(f), 0640);
	ASSERT_SYSCALL_OK(fchmodat2_(AT_FDCWD, f, 04755, AT_SYMLINK_NOFOLLOW));
	EXPECT_EQ(mode_of(f), 04755);
}

TEST(fchmodat2, relative_to_dirfd)
{
	need_fchmodat2();
	make_file("f");
	int dir = open(test_tmpdir(), O_RDONLY | O_DIRECTORY);
	ASSERT_SYSCALL_OK(dir);
	ASSERT_SYSCALL_OK(fchmodat2_(dir, "f", 0604, 0));
	EXPECT_EQ(mode_of(test_path("f")), 0604);
	close(dir);
}

TEST(fchmodat2, follows_a_final_symlink_without_AT_SYMLINK_NOFOLLOW)
{
	need_fchmodat2();
	const char *f = make_file("f");
	const char *l = test_path("l");
	ASSERT_SYSCALL_OK(symlink(f, l));
	ASSERT_SYSCALL_OK(fchmodat2_(AT_FDCWD, l, 0611, 0));
	EXPECT_EQ(mode_of(f), 0611);
}

TEST(fchmodat2, symlink_with_AT_SYMLINK_NOFOLLOW_is_EOPNOTSUPP)
{
	need_fchmodat2();
	const char *f = make_file("f");
	const char *l = test_path("l");
	ASSERT_SYSCALL_OK(symlink(f, l));
	EXPECT_ERRNO(fchmodat2_(AT_FDCWD, l, 0611, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
	EXPECT_EQ(mode_of(f), 0600);
	/* Even for a caller who could not change it anyway. */
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0755));
	if (geteuid() == 0)
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	ASSERT_SYSCALL_OK(syscall(SYS_capset, &h, d));
	EXPECT_ERRNO(fchmodat2_(AT_FDCWD, l, 0611, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
}

TEST(fchmodat2, AT_EMPTY_PATH_changes_the_file_of_dirfd)
{
	need_fchmodat2();
	const char *f = make_file("f");
	int fd = open(f, O_RDONLY);
	ASSERT_SYSCALL_OK(fd);
	ASSERT_SYSCALL_OK(fchmodat2_(fd, "", 0620, AT_EMPTY_PATH));
	EXPECT_EQ(mode_of(f), 0620);
	close(fd);
	/* An O_PATH descriptor too. */
	fd = open(f, O_PATH);
	ASSERT_SYSCALL_OK(fd);
	ASSERT_SYSCALL_OK(fchmodat2_(fd, "", 0660, AT_EMPTY_PATH));
	EXPECT_EQ(mode_of(f), 0660);
	close(fd);
}

TEST(fchmodat2, AT_EMPTY_PATH_on_an_O_PATH_symlink_is_EOPNOTSUPP)
{
	need_fchmodat2();
	const char *f = make_file("f");
	const char *l = test_path("l");
	ASSERT_SYSCALL_OK(symlink(f, l));
	int fd = open(l, O_PATH | O_NOFOLLOW);
	ASSERT_SYSCALL_OK(fd);
	EXPECT_ERRNO(fchmodat2_(fd, "", 0611, AT_EMPTY_PATH), EOPNOTSUPP);
	EXPECT_EQ(mode_of(f), 0600);
	close(fd);
}

TEST(fchmodat2, empty_path_without_AT_EMPTY_PATH_is_ENOENT)
{
	need_fchmodat2();
	const char *f = make_file("f");
	int fd = open(f, O_RDONLY);
	ASSERT_SYSCALL_OK(fd);
	EXPECT_ERRNO(fchmodat2_(fd, "", 0620, 0), ENOENT);
	close(fd);
}

TEST(fchmodat2, unknown_flag_is_EINVAL_before_the_path)
{
	need_fchmodat2();
	EXPECT_ERRNO(fchmodat2_(AT_FDCWD, (char *)1, 0600, AT_REMOVEDIR), EINVAL);
	EXPECT_ERRNO(fchmodat2_(-1, "/nonexistent", 0600, 0x80000000), EINVAL);
}

TEST(fchmodat2, path_errors)
{
	need_fchmodat2();
	EXPECT_ERRNO(fchmodat2_(AT_FDCWD, (char *)1, 0600, 0), EFAULT);
	EXPECT_ERRNO(fchmodat2_(AT_FDCWD, test_path("missing"), 0600, 0), ENOENT);
	EXPECT_ERRNO(fchmodat2_(-1, "relative", 0600, 0), EBADF);
}

TEST(fchmodat2, another_users_file_is_EPERM)
{
	need_fchmodat2();
	if (geteuid() != 0)
		TEST_SKIP("needs root to own a file as another user");
	const char *f = make_file("f");
	ASSERT_SYSCALL_OK(chown(f, 12345, 12345));
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0755));
	ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
	EXPECT_ERRNO(fchmodat2_(AT_FDCWD, f, 0777, 0), EPERM);
}
