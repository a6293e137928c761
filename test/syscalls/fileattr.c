/*
 * file_getattr(2), file_setattr(2) (Linux 6.17): struct file_attr, the
 * FS_IOC_FSGETXATTR attributes by path. Cases use regular files and
 * directories of the test's directory (whatever its filesystem, as long
 * as it has file attributes) and files that never have any (pipes,
 * procfs, devices, symlinks).
 */
#include "test.h"

#define NR_file_getattr 468
#define NR_file_setattr 469

#define FS_XFLAG_NODUMP 0x80

struct file_attr {
	uint64_t fa_xflags;
	uint32_t fa_extsize;
	uint32_t fa_nextents;
	uint32_t fa_projid;
	uint32_t fa_cowextsize;
};

static long getattr_(int dfd, const char *path, void *fa, size_t usize, unsigned at)
{
	return syscall(NR_file_getattr, dfd, path, fa, usize, at);
}

static long setattr_(int dfd, const char *path, const void *fa, size_t usize, unsigned at)
{
	return syscall(NR_file_setattr, dfd, path, fa, usize, at);
}

/* mkfile_with_attrs makes test_path("f") and skips if it has no attributes. */
static void mkfile_with_attrs(void)
{
	int fd = open(test_path("f"), O_CREAT | O_WRONLY, 0644);
	ASSERT_GE(fd, 0);
	close(fd);
	struct file_attr fa;
	long r = getattr_(AT_FDCWD, test_path("f"), &fa, sizeof(fa), 0);
	if (r < 0 && errno == ENOSYS)
		TEST_SKIP("no file_getattr (Linux < 6.17)");
	if (r < 0 && errno == EOPNOTSUPP && !test_in_sandbox())
		TEST_SKIP("the test directory's filesystem has no file attributes");
}

TEST(file_getattr, a_new_file_has_no_common_flags)
{
	mkfile_with_attrs();
	struct file_attr fa;
	memset(&fa, 0x55, sizeof(fa));
	ASSERT_EQ(getattr_(AT_FDCWD, test_path("f"), &fa, sizeof(fa), 0), 0);
	/* immutable, append, sync, noatime, nodump, dax */
	EXPECT_EQ(fa.fa_xflags & (0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x8000), 0u);
	memset(&fa, 0x55, sizeof(fa));
	int dfd = open(test_tmpdir(), O_RDONLY | O_DIRECTORY);
	ASSERT_GE(dfd, 0);
	EXPECT_EQ(getattr_(dfd, "f", &fa, sizeof(fa), 0), 0);
	EXPECT_EQ(fa.fa_xflags & 0x80, 0u);
	/* The directory itself, by descriptor. */
	EXPECT_EQ(getattr_(dfd, NULL, &fa, sizeof(fa), AT_EMPTY_PATH), 0);
	EXPECT_EQ(getattr_(dfd, "", &fa, sizeof(fa), AT_EMPTY_PATH), 0);
}

TEST(file_getattr, a_larger_struct_gets_zeros_past_the_known_fields)
{
	mkfile_with_attrs();
	unsigned char buf[64];
	memset(buf, 0x55, sizeof(buf));
	ASSERT_EQ(getattr_(AT_FDCWD, test_path("f"), buf, 40, 0), 0);
	for (int i = 24; i < 40; i++)
		EXPECT_EQ(buf[i], 0);
	EXPECT_EQ(buf[40], 0x55);
}

TEST(file_getattr, argument_errors_in_order)
{
	mkfile_with_attrs();
	struct file_attr fa;
	EXPECT_ERRNO(getattr_(AT_FDCWD, test_path("f"), &fa, sizeof(fa), AT_REMOVEDIR), EINVAL);
	EXPECT_ERRNO(getattr_(AT_FDCWD, test_path("none"), &fa, 4097, AT_REMOVEDIR), EINVAL);
	EXPECT_ERRNO(getattr_(AT_FDCWD, test_path("none"), &fa, 4097, 0), E2BIG);
	EXPECT_ERRNO(getattr_(AT_FDCWD, test_path("none"), &fa, 23, 0), EINVAL);
	EXPECT_ERRNO(getattr_(AT_FDCWD, test_path("none"), (void *)8, sizeof(fa), 0), ENOENT);
	EXPECT_ERRNO(getattr_(AT_FDCWD, NULL, &fa, sizeof(fa), 0), EFAULT);
	EXPECT_ERRNO(getattr_(AT_FDCWD, test_path("f"), (void *)8, sizeof(fa), 0), EFAULT);
	EXPECT_ERRNO(getattr_(999, NULL, &fa, sizeof(fa), AT_EMPTY_PATH), EBADF);
	int o = open(test_path("f"), O_PATH);
	ASSERT_GE(o, 0);
	EXPECT_ERRNO(getattr_(o, NULL, &fa, sizeof(fa), AT_EMPTY_PATH), EBADF);
}

TEST(file_getattr, files_without_attributes_are_EOPNOTSUPP)
{
	mkfile_with_attrs();
	struct file_attr fa;
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(getattr_(p[0], NULL, &fa, sizeof(fa), AT_EMPTY_PATH), EOPNOTSUPP);
	EXPECT_ERRNO(getattr_(AT_FDCWD, "/proc/self/status", &fa, sizeof(fa), 0), EOPNOTSUPP);
	EXPECT_ERRNO(getattr_(AT_FDCWD, "/dev/null", &fa, sizeof(fa), 0), EOPNOTSUPP);
	ASSERT_SYSCALL_OK(symlink("f", test_path("l")));
	EXPECT_ERRNO(getattr_(AT_FDCWD, test_path("l"), &fa, sizeof(fa), AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
	EXPECT_EQ(getattr_(AT_FDCWD, test_path("l"), &fa, sizeof(fa), 0), 0);
	struct file_attr zero = {0};
	EXPECT_ERRNO(setattr_(AT_FDCWD, test_path("l"), &zero, sizeof(zero), AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
	EXPECT_ERRNO(setattr_(p[0], NULL, &zero, sizeof(zero), AT_EMPTY_PATH), EOPNOTSUPP);
}

TEST(file_setattr, sets_and_clears_nodump)
{
	mkfile_with_attrs();
	struct file_attr fa = {.fa_xflags = FS_XFLAG_NODUMP};
	ASSERT_EQ(setattr_(AT_FDCWD, test_path("f"), &fa, sizeof(fa), 0), 0);
	memset(&fa, 0, sizeof(fa));
	ASSERT_EQ(getattr_(AT_FDCWD, test_path("f"), &fa, sizeof(fa), 0), 0);
	EXPECT_EQ(fa.fa_xflags & FS_XFLAG_NODUMP, (uint64_t)FS_XFLAG_NODUMP);
	/* By descriptor this time; fa_nextents is output only. */
	int fd = open(test_path("f"), O_RDONLY);
	ASSERT_GE(fd, 0);
	fa.fa_xflags = 0;
	fa.fa_nextents = 7;
	ASSERT_EQ(setattr_(fd, NULL, &fa, sizeof(fa), AT_EMPTY_PATH), 0);
	ASSERT_EQ(getattr_(fd, "", &fa, sizeof(fa), AT_EMPTY_PATH), 0);
	EXPECT_EQ(fa.fa_xflags & FS_XFLAG_NODUMP, 0u);
}

TEST(file_setattr, argument_errors_in_order)
{
	mkfile_with_attrs();
	struct file_attr fa = {0};
	EXPECT_ERRNO(setattr_(AT_FDCWD, test_path("f"), &fa, sizeof(fa), AT_REMOVEDIR), EINVAL);
	EXPECT_ERRNO(setattr_(AT_FDCWD, test_path("f"), &fa, 4097, 0), E2BIG);
	EXPECT_ERRNO(setattr_(AT_FDCWD, test_path("f"), &fa, 16, 0), EINVAL);
	/* The struct is read before the path is looked up. */
	EXPECT_ERRNO(setattr_(AT_FDCWD, test_path("none"), (void *)8, sizeof(fa), 0), EFAULT);
	unsigned char big[32] = {0};
	big[30] = 1;
	EXPECT_ERRNO(setattr_(AT_FDCWD, test_path("none"), big, sizeof(big), 0), E2BIG);
	/* Undefined flags, before the path too. */
	fa.fa_xflags = 0x4;
	EXPECT_ERRNO(setattr_(AT_FDCWD, test_path("none"), &fa, sizeof(fa), 0), EINVAL);
	fa.fa_xflags = 1ull << 32;
	EXPECT_ERRNO(setattr_(AT_FDCWD, test_path("none"), &fa, sizeof(fa), 0), EINVAL);
	fa.fa_xflags = 0;
	EXPECT_ERRNO(setattr_(AT_FDCWD, test_path("none"), &fa, sizeof(fa), 0), ENOENT);
}

TEST(file_setattr, only_the_owner_may_set)
{
	mkfile_with_attrs();
	ASSERT_SYSCALL_OK(chmod(test_path("f"), 0666));
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0755));
	if (geteuid() != 0)
		TEST_SKIP("needs root to act as another user");
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		struct file_attr fa = {0};
		/* Anyone may read them. */
		if (getattr_(AT_FDCWD, test_path("f"), &fa, sizeof(fa), 0) != 0)
			_exit(11);
		if (setattr_(AT_FDCWD, test_path("f"), &fa, sizeof(fa), 0) == 0 || errno != EPERM)
			_exit(12);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
