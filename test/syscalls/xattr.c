/* Extended attributes: {,l,f}{get,set,list,remove}xattr(2). */
#include "test.h"

#include <sys/xattr.h>

static int mkfile(const char *p, mode_t mode)
{
	int fd = open(p, O_CREAT | O_WRONLY, mode);
	if (fd < 0)
		return -1;
	close(fd);
	return chmod(p, mode);
}

TEST(xattr, set_then_get_returns_the_value_and_size_0_asks_for_the_size)
{
	ASSERT_EQ(mkfile(test_path("f"), 0644), 0);
	ASSERT_SYSCALL_OK(setxattr(test_path("f"), "user.k", "value", 5, 0));
	EXPECT_EQ(getxattr(test_path("f"), "user.k", NULL, 0), 5);
	char buf[16];
	EXPECT_EQ(getxattr(test_path("f"), "user.k", buf, sizeof(buf)), 5);
	EXPECT_MEMEQ(buf, "value", 5);
	EXPECT_ERRNO(getxattr(test_path("f"), "user.k", buf, 4), ERANGE);
	/* An empty value is a value. */
	ASSERT_SYSCALL_OK(setxattr(test_path("f"), "user.empty", "", 0, 0));
	EXPECT_EQ(getxattr(test_path("f"), "user.empty", buf, sizeof(buf)), 0);
}

TEST(xattr, XATTR_CREATE_and_XATTR_REPLACE)
{
	ASSERT_EQ(mkfile(test_path("f"), 0644), 0);
	EXPECT_ERRNO(setxattr(test_path("f"), "user.k", "a", 1, XATTR_REPLACE), ENODATA);
	ASSERT_SYSCALL_OK(setxattr(test_path("f"), "user.k", "a", 1, XATTR_CREATE));
	EXPECT_ERRNO(setxattr(test_path("f"), "user.k", "b", 1, XATTR_CREATE), EEXIST);
	ASSERT_SYSCALL_OK(setxattr(test_path("f"), "user.k", "bb", 2, XATTR_REPLACE));
	char buf[4];
	EXPECT_EQ(getxattr(test_path("f"), "user.k", buf, sizeof(buf)), 2);
	EXPECT_ERRNO(setxattr(test_path("f"), "user.k", "b", 1, 4), EINVAL);
}

TEST(xattr, missing_attributes_give_ENODATA)
{
	ASSERT_EQ(mkfile(test_path("f"), 0644), 0);
	char buf[4];
	EXPECT_ERRNO(getxattr(test_path("f"), "user.none", buf, sizeof(buf)), ENODATA);
	EXPECT_ERRNO(removexattr(test_path("f"), "user.none"), ENODATA);
}

static int has_name(const char *list, ssize_t n, const char *name)
{
	for (const char *p = list; p < list + n; p += strlen(p) + 1)
		if (strcmp(p, name) == 0)
			return 1;
	return 0;
}

TEST(xattr, list_reports_size_ERANGE_and_names)
{
	ASSERT_EQ(mkfile(test_path("f"), 0644), 0);
	ASSERT_SYSCALL_OK(setxattr(test_path("f"), "user.a", "1", 1, 0));
	ASSERT_SYSCALL_OK(setxattr(test_path("f"), "user.bb", "2", 1, 0));
	ssize_t need = listxattr(test_path("f"), NULL, 0);
	ASSERT_GE(need, 15);
	char buf[256];
	EXPECT_ERRNO(listxattr(test_path("f"), buf, 3), ERANGE);
	ssize_t n = ASSERT_SYSCALL_OK(listxattr(test_path("f"), buf, sizeof(buf)));
	EXPECT_EQ(n, need);
	EXPECT_TRUE(has_name(buf, n, "user.a"));
	EXPECT_TRUE(has_name(buf, n, "user.bb"));
	ASSERT_SYSCALL_OK(removexattr(test_path("f"), "user.a"));
	n = ASSERT_SYSCALL_OK(listxattr(test_path("f"), buf, sizeof(buf)));
	EXPECT_FALSE(has_name(buf, n, "user.a"));
	EXPECT_TRUE(has_name(buf, n, "user.bb"));
}

TEST(xattr, size_and_name_limits)
{
	ASSERT_EQ(mkfile(test_path("f"), 0644), 0);
	static char big[65537];
	EXPECT_ERRNO(setxattr(test_path("f"), "user.big", big, sizeof(big), 0), E2BIG);
	char name[300] = "user.";
	memset(name + 5, 'n', 260);
	name[265] = 0;
	EXPECT_ERRNO(setxattr(test_path("f"), name, "v", 1, 0), ERANGE);
	EXPECT_ERRNO(getxattr(test_path("f"), name, NULL, 0), ERANGE);
	EXPECT_ERRNO(setxattr(test_path("f"), "", "v", 1, 0), ERANGE);
	EXPECT_ERRNO(setxattr(test_path("f"), "user.", "v", 1, 0), EINVAL);
}

TEST(xattr, unknown_namespace_fails_with_EOPNOTSUPP)
{
	ASSERT_EQ(mkfile(test_path("f"), 0644), 0);
	EXPECT_ERRNO(setxattr(test_path("f"), "bogus.k", "v", 1, 0), EOPNOTSUPP);
	EXPECT_ERRNO(getxattr(test_path("f"), "nonamespace", NULL, 0), EOPNOTSUPP);
}

TEST(xattr, user_attributes_are_refused_on_symlinks_and_fifos)
{
	ASSERT_EQ(mkfile(test_path("f"), 0644), 0);
	ASSERT_SYSCALL_OK(symlink("f", test_path("l")));
	ASSERT_SYSCALL_OK(mkfifo(test_path("p"), 0644));
	EXPECT_ERRNO(lsetxattr(test_path("l"), "user.k", "v", 1, 0), EPERM);
	EXPECT_ERRNO(lgetxattr(test_path("l"), "user.k", NULL, 0), ENODATA);
	EXPECT_ERRNO(setxattr(test_path("p"), "user.k", "v", 1, 0), EPERM);
	/* Following the link reaches the file. */
	ASSERT_SYSCALL_OK(setxattr(test_path("l"), "user.k", "v", 1, 0));
	EXPECT_EQ(getxattr(test_path("f"), "user.k", NULL, 0), 1);
}

TEST(xattr, descriptor_calls_work_and_O_PATH_gives_EBADF)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	int fd = ASSERT_SYSCALL_OK(open(test_path("d"), O_RDONLY | O_DIRECTORY));
	ASSERT_SYSCALL_OK(fsetxattr(fd, "user.dir", "xyz", 3, 0));
	char buf[8];
	EXPECT_EQ(fgetxattr(fd, "user.dir", buf, sizeof(buf)), 3);
	EXPECT_GE(flistxattr(fd, NULL, 0), 9);
	ASSERT_SYSCALL_OK(fremovexattr(fd, "user.dir"));
	EXPECT_ERRNO(fgetxattr(fd, "user.dir", buf, sizeof(buf)), ENODATA);
	int pfd = ASSERT_SYSCALL_OK(open(test_path("d"), O_PATH));
	EXPECT_ERRNO(fgetxattr(pfd, "user.dir", buf, sizeof(buf)), EBADF);
	EXPECT_ERRNO(fsetxattr(-1, "user.dir", "v", 1, 0), EBADF);
}

TEST(xattr, user_attributes_need_write_permission_to_change)
{
	ASSERT_EQ(mkfile(test_path("f"), 0644), 0);
	ASSERT_SYSCALL_OK(setxattr(test_path("f"), "user.k", "v", 1, 0));
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0755));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setresgid(65534, 65534, 65534));
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		char buf[4];
		EXPECT_EQ(getxattr(test_path("f"), "user.k", buf, sizeof(buf)), 1);
		EXPECT_ERRNO(setxattr(test_path("f"), "user.k", "w", 1, 0), EACCES);
		EXPECT_ERRNO(removexattr(test_path("f"), "user.k"), EACCES);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(xattr, trusted_attributes_need_CAP_SYS_ADMIN)
{
	ASSERT_EQ(mkfile(test_path("f"), 0666), 0);
	ASSERT_SYSCALL_OK(setxattr(test_path("f"), "trusted.t", "v", 1, 0));
	char buf[256];
	EXPECT_EQ(getxattr(test_path("f"), "trusted.t", buf, sizeof(buf)), 1);
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0755));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		EXPECT_ERRNO(getxattr(test_path("f"), "trusted.t", buf, sizeof(buf)), ENODATA);
		EXPECT_ERRNO(setxattr(test_path("f"), "trusted.u", "v", 1, 0), EPERM);
		ssize_t n = listxattr(test_path("f"), buf, sizeof(buf));
		EXPECT_GE(n, 0);
		EXPECT_FALSE(has_name(buf, n, "trusted.t"));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(xattr, removed_file_path_gives_ENOENT)
{
	EXPECT_ERRNO(setxattr(test_path("missing"), "user.k", "v", 1, 0), ENOENT);
	EXPECT_ERRNO(listxattr(test_path("missing"), NULL, 0), ENOENT);
}
