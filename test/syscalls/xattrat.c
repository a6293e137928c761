/*
 * setxattrat(2), getxattrat(2), listxattrat(2), removexattrat(2) (Linux
 * 6.13): the *at forms of the xattr calls, with struct xattr_args.
 */
#include "test.h"

#include <sys/xattr.h>

#define NR_setxattrat 463
#define NR_getxattrat 464
#define NR_listxattrat 465
#define NR_removexattrat 466

struct xattr_args {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

static long setxattrat_(int dfd, const char *path, unsigned at, const char *name, const void *v, uint32_t size,
			uint32_t flags)
{
	struct xattr_args a = {.value = (uintptr_t)v, .size = size, .flags = flags};
	return syscall(NR_setxattrat, dfd, path, at, name, &a, sizeof(a));
}

static long getxattrat_(int dfd, const char *path, unsigned at, const char *name, void *v, uint32_t size)
{
	struct xattr_args a = {.value = (uintptr_t)v, .size = size};
	return syscall(NR_getxattrat, dfd, path, at, name, &a, sizeof(a));
}

static void skip_if_missing(void)
{
	if (syscall(NR_listxattrat, -1, NULL, 0x7fffffff, NULL, 0) < 0 && errno == ENOSYS)
		TEST_SKIP("no *xattrat calls (Linux < 6.13)");
}

static int mkfile(const char *p)
{
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		return -1;
	return close(fd);
}

TEST(xattrat, set_get_list_remove_relative_to_a_directory_fd)
{
	skip_if_missing();
	ASSERT_EQ(mkfile(test_path("f")), 0);
	int dfd = open(test_tmpdir(), O_RDONLY | O_DIRECTORY);
	ASSERT_GE(dfd, 0);
	EXPECT_SYSCALL_OK(setxattrat_(dfd, "f", 0, "user.k", "value", 5, 0));
	char buf[32];
	EXPECT_EQ(getxattrat_(dfd, "f", 0, "user.k", NULL, 0), 5);
	EXPECT_EQ(getxattrat_(dfd, "f", 0, "user.k", buf, sizeof(buf)), 5);
	EXPECT_MEMEQ(buf, "value", 5);
	EXPECT_ERRNO(getxattrat_(dfd, "f", 0, "user.k", buf, 4), ERANGE);
	/* The other interface sees it. */
	EXPECT_EQ(getxattr(test_path("f"), "user.k", buf, sizeof(buf)), 5);
	long n = syscall(NR_listxattrat, dfd, "f", 0, buf, sizeof(buf));
	EXPECT_GE(n, 7);
	EXPECT_TRUE(memmem(buf, n, "user.k\0", 7) != NULL);
	EXPECT_EQ(syscall(NR_listxattrat, dfd, "f", 0, NULL, 0), n);
	EXPECT_ERRNO(syscall(NR_listxattrat, dfd, "f", 0, buf, 1), ERANGE);
	EXPECT_SYSCALL_OK(syscall(NR_removexattrat, dfd, "f", 0, "user.k"));
	EXPECT_ERRNO(getxattrat_(dfd, "f", 0, "user.k", buf, sizeof(buf)), ENODATA);
	EXPECT_ERRNO(syscall(NR_removexattrat, dfd, "f", 0, "user.k"), ENODATA);
	close(dfd);
}

TEST(xattrat, AT_EMPTY_PATH_with_an_empty_or_NULL_path_uses_the_fd)
{
	skip_if_missing();
	int fd = open(test_path("f"), O_CREAT | O_RDWR, 0644);
	ASSERT_GE(fd, 0);
	EXPECT_SYSCALL_OK(setxattrat_(fd, "", AT_EMPTY_PATH, "user.a", "1", 1, 0));
	EXPECT_SYSCALL_OK(setxattrat_(fd, NULL, AT_EMPTY_PATH, "user.b", "22", 2, 0));
	char buf[8];
	EXPECT_EQ(getxattrat_(fd, NULL, AT_EMPTY_PATH, "user.a", buf, sizeof(buf)), 1);
	EXPECT_EQ(getxattrat_(fd, "", AT_EMPTY_PATH, "user.b", buf, sizeof(buf)), 2);
	EXPECT_EQ(syscall(NR_listxattrat, fd, NULL, AT_EMPTY_PATH, NULL, 0), 14);
	EXPECT_SYSCALL_OK(syscall(NR_removexattrat, fd, "", AT_EMPTY_PATH, "user.a"));
	EXPECT_ERRNO(getxattr(test_path("f"), "user.a", buf, sizeof(buf)), ENODATA);
	/* Without AT_EMPTY_PATH an empty path is ENOENT and NULL is EFAULT. */
	EXPECT_ERRNO(getxattrat_(fd, "", 0, "user.b", buf, sizeof(buf)), ENOENT);
	EXPECT_ERRNO(getxattrat_(fd, NULL, 0, "user.b", buf, sizeof(buf)), EFAULT);
	/* AT_FDCWD names the working directory. */
	ASSERT_SYSCALL_OK(chdir(test_tmpdir()));
	EXPECT_ERRNO(getxattrat_(AT_FDCWD, NULL, AT_EMPTY_PATH, "user.b", buf, sizeof(buf)), ENODATA);
	EXPECT_SYSCALL_OK(setxattrat_(AT_FDCWD, "", AT_EMPTY_PATH, "user.d", "333", 3, 0));
	EXPECT_EQ(getxattr(test_tmpdir(), "user.d", buf, sizeof(buf)), 3);
	EXPECT_ERRNO(syscall(NR_listxattrat, 999, NULL, AT_EMPTY_PATH, NULL, 0), EBADF);
	/* An O_PATH descriptor is no open file for these calls. */
	int o = open(test_path("f"), O_PATH);
	ASSERT_GE(o, 0);
	EXPECT_ERRNO(getxattrat_(o, NULL, AT_EMPTY_PATH, "user.b", buf, sizeof(buf)), EBADF);
	EXPECT_ERRNO(setxattrat_(o, "", AT_EMPTY_PATH, "user.c", "1", 1, 0), EBADF);
	close(fd);
}

TEST(xattrat, AT_SYMLINK_NOFOLLOW_acts_on_the_link)
{
	skip_if_missing();
	ASSERT_EQ(mkfile(test_path("f")), 0);
	ASSERT_SYSCALL_OK(symlink("f", test_path("l")));
	ASSERT_SYSCALL_OK(setxattr(test_path("f"), "user.k", "v", 1, 0));
	char buf[8];
	EXPECT_EQ(getxattrat_(AT_FDCWD, test_path("l"), 0, "user.k", buf, sizeof(buf)), 1);
	EXPECT_ERRNO(getxattrat_(AT_FDCWD, test_path("l"), AT_SYMLINK_NOFOLLOW, "user.k", buf, sizeof(buf)),
		     ENODATA);
	/* user.* attributes are refused on symlinks. */
	EXPECT_ERRNO(setxattrat_(AT_FDCWD, test_path("l"), AT_SYMLINK_NOFOLLOW, "user.k", "v", 1, 0), EPERM);
}

TEST(xattrat, unknown_at_flags_are_EINVAL_before_the_name)
{
	skip_if_missing();
	ASSERT_EQ(mkfile(test_path("f")), 0);
	char buf[8];
	EXPECT_ERRNO(setxattrat_(AT_FDCWD, test_path("f"), AT_REMOVEDIR, "user.k", "v", 1, 0), EINVAL);
	EXPECT_ERRNO(getxattrat_(AT_FDCWD, test_path("f"), AT_NO_AUTOMOUNT, NULL, buf, sizeof(buf)), EINVAL);
	EXPECT_ERRNO(syscall(NR_listxattrat, AT_FDCWD, test_path("f"), 1, buf, sizeof(buf)), EINVAL);
	EXPECT_ERRNO(syscall(NR_removexattrat, AT_FDCWD, test_path("f"), AT_STATX_DONT_SYNC, "user.k"), EINVAL);
	/* A bad name is checked before the path. */
	EXPECT_ERRNO(getxattrat_(AT_FDCWD, test_path("none"), 0, "", buf, sizeof(buf)), ERANGE);
	EXPECT_ERRNO(syscall(NR_removexattrat, AT_FDCWD, test_path("none"), 0, (void *)8), EFAULT);
	EXPECT_ERRNO(getxattrat_(AT_FDCWD, test_path("none"), 0, "user.k", buf, sizeof(buf)), ENOENT);
}

TEST(xattrat, xattr_args_size_is_checked)
{
	skip_if_missing();
	ASSERT_EQ(mkfile(test_path("f")), 0);
	char big[4097] = {0};
	struct xattr_args *a = (struct xattr_args *)big;
	a->value = (uintptr_t) "v";
	a->size = 1;
	EXPECT_ERRNO(syscall(NR_setxattrat, AT_FDCWD, test_path("f"), 0, "user.k", a, 15), EINVAL);
	EXPECT_ERRNO(syscall(NR_setxattrat, AT_FDCWD, test_path("f"), 0, "user.k", a, 4097), E2BIG);
	EXPECT_ERRNO(syscall(NR_getxattrat, AT_FDCWD, test_path("f"), 0, "user.k", a, 0), EINVAL);
	EXPECT_ERRNO(syscall(NR_getxattrat, AT_FDCWD, test_path("f"), 0, "user.k", a, 8192), E2BIG);
	/* A longer struct is fine if the bytes we don't know are zero. */
	EXPECT_SYSCALL_OK(syscall(NR_setxattrat, AT_FDCWD, test_path("f"), 0, "user.k", a, 4096));
	big[20] = 1;
	EXPECT_ERRNO(syscall(NR_setxattrat, AT_FDCWD, test_path("f"), 0, "user.k", a, 24), E2BIG);
	EXPECT_ERRNO(syscall(NR_setxattrat, AT_FDCWD, test_path("f"), 0, "user.k", (void *)8, 16), EFAULT);
	EXPECT_ERRNO(syscall(NR_getxattrat, AT_FDCWD, test_path("f"), 0, "user.k", (void *)8, 16), EFAULT);
}

TEST(xattrat, xattr_args_flags)
{
	skip_if_missing();
	ASSERT_EQ(mkfile(test_path("f")), 0);
	EXPECT_ERRNO(setxattrat_(AT_FDCWD, test_path("f"), 0, "user.k", "v", 1, XATTR_REPLACE), ENODATA);
	EXPECT_SYSCALL_OK(setxattrat_(AT_FDCWD, test_path("f"), 0, "user.k", "v", 1, XATTR_CREATE));
	EXPECT_ERRNO(setxattrat_(AT_FDCWD, test_path("f"), 0, "user.k", "w", 1, XATTR_CREATE), EEXIST);
	EXPECT_ERRNO(setxattrat_(AT_FDCWD, test_path("f"), 0, "user.k", "w", 1, 4), EINVAL);
	/* getxattrat takes no flags. */
	char buf[8];
	struct xattr_args a = {.value = (uintptr_t)buf, .size = sizeof(buf), .flags = XATTR_CREATE};
	EXPECT_ERRNO(syscall(NR_getxattrat, AT_FDCWD, test_path("f"), 0, "user.k", &a, sizeof(a)), EINVAL);
	/* A value larger than XATTR_SIZE_MAX. */
	EXPECT_ERRNO(setxattrat_(AT_FDCWD, test_path("f"), 0, "user.k", "v", 65537, 0), E2BIG);
	/* A value pointer that faults. */
	EXPECT_ERRNO(setxattrat_(AT_FDCWD, test_path("f"), 0, "user.k", (void *)8, 1, 0), EFAULT);
}
