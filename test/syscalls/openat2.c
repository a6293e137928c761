/* openat2(2): struct open_how checks and the RESOLVE_* restrictions. */
#include "test.h"

#include <stdint.h>

#ifndef RESOLVE_NO_XDEV
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#endif

struct how {
	uint64_t flags, mode, resolve;
	uint64_t extra;
};

static int openat2_(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct how h = {flags, 0, resolve, 0};
	return syscall(SYS_openat2, dirfd, path, &h, 24);
}

/* Makes tmpdir/a/f and returns an O_PATH descriptor of tmpdir. */
static int setup_tree(void)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("a"), 0755));
	close(ASSERT_SYSCALL_OK(open(test_path("a/f"), O_CREAT | O_WRONLY, 0644)));
	return ASSERT_SYSCALL_OK(open(test_tmpdir(), O_PATH | O_DIRECTORY));
}

TEST(openat2, open_how_size_and_field_checks)
{
	int d = setup_tree();
	struct how h = {O_RDONLY, 0, 0, 0};
	EXPECT_ERRNO(syscall(SYS_openat2, d, "a/f", &h, 16), EINVAL);
	int fd = EXPECT_SYSCALL_OK(syscall(SYS_openat2, d, "a/f", &h, sizeof(h)));
	close(fd);
	h.extra = 1;
	EXPECT_ERRNO(syscall(SYS_openat2, d, "a/f", &h, sizeof(h)), E2BIG);
	h.extra = 0;
	h.resolve = 0x1000;
	EXPECT_ERRNO(syscall(SYS_openat2, d, "a/f", &h, 24), EINVAL);
	h.resolve = RESOLVE_BENEATH | RESOLVE_IN_ROOT;
	EXPECT_ERRNO(syscall(SYS_openat2, d, "a/f", &h, 24), EINVAL);
	h.resolve = 0;
	h.mode = 0644;
	EXPECT_ERRNO(syscall(SYS_openat2, d, "a/f", &h, 24), EINVAL);
	h.mode = 0;
	h.flags = 1ULL << 40;
	EXPECT_ERRNO(syscall(SYS_openat2, d, "a/f", &h, 24), EINVAL);
	close(d);
}

TEST(openat2, beneath_allows_paths_that_stay_below_dirfd)
{
	int d = setup_tree();
	ASSERT_SYSCALL_OK(symlink("a/f", test_path("rel")));
	int fd = EXPECT_SYSCALL_OK(openat2_(d, "a/f", O_RDONLY, RESOLVE_BENEATH));
	close(fd);
	fd = EXPECT_SYSCALL_OK(openat2_(d, "a/../a/./f", O_RDONLY, RESOLVE_BENEATH));
	close(fd);
	fd = EXPECT_SYSCALL_OK(openat2_(d, "rel", O_RDONLY, RESOLVE_BENEATH));
	close(fd);
	close(d);
}

TEST(openat2, beneath_refuses_absolute_paths_dotdot_escapes_and_absolute_symlinks)
{
	int d = setup_tree();
	ASSERT_SYSCALL_OK(symlink(test_path("a/f"), test_path("abs")));
	ASSERT_SYSCALL_OK(symlink("../x", test_path("a/up")));
	EXPECT_ERRNO(openat2_(d, test_path("a/f"), O_RDONLY, RESOLVE_BENEATH), EXDEV);
	EXPECT_ERRNO(openat2_(d, "..", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	EXPECT_ERRNO(openat2_(d, "a/../../x", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	EXPECT_ERRNO(openat2_(d, "abs", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	int a = ASSERT_SYSCALL_OK(openat(d, "a", O_PATH | O_DIRECTORY));
	EXPECT_ERRNO(openat2_(a, "up", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	close(a);
	close(d);
}

TEST(openat2, beneath_and_in_root_refuse_magic_links)
{
	int p = ASSERT_SYSCALL_OK(open("/proc", O_PATH | O_DIRECTORY));
	EXPECT_ERRNO(openat2_(p, "self/fd/0", O_RDONLY, RESOLVE_BENEATH), EXDEV);
	EXPECT_ERRNO(openat2_(p, "self/fd/0", O_RDONLY, RESOLVE_IN_ROOT), EXDEV);
	int fd = EXPECT_SYSCALL_OK(openat2_(p, "self/status", O_RDONLY, RESOLVE_BENEATH));
	close(fd);
	close(p);
}

TEST(openat2, in_root_keeps_dotdot_and_absolute_symlinks_inside)
{
	int d = setup_tree();
	ASSERT_SYSCALL_OK(symlink("/a/f", test_path("abs")));
	int fd = EXPECT_SYSCALL_OK(openat2_(d, "../../../a/f", O_RDONLY, RESOLVE_IN_ROOT));
	close(fd);
	fd = EXPECT_SYSCALL_OK(openat2_(d, "abs", O_RDONLY, RESOLVE_IN_ROOT));
	close(fd);
	fd = EXPECT_SYSCALL_OK(openat2_(d, "/a/f", O_RDONLY, RESOLVE_IN_ROOT));
	close(fd);
	close(d);
}

TEST(openat2, no_symlinks_refuses_any_symlink_walked)
{
	int d = setup_tree();
	ASSERT_SYSCALL_OK(symlink("a", test_path("ldir")));
	ASSERT_SYSCALL_OK(symlink("a/f", test_path("lfile")));
	EXPECT_ERRNO(openat2_(d, "ldir/f", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
	EXPECT_ERRNO(openat2_(d, "lfile", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
	EXPECT_ERRNO(openat2_(d, "lfile", O_CREAT | O_WRONLY, RESOLVE_NO_SYMLINKS), ELOOP);
	/* A final symlink that is not followed is fine. */
	int fd = EXPECT_SYSCALL_OK(openat2_(d, "lfile", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS));
	close(fd);
	fd = EXPECT_SYSCALL_OK(openat2_(d, "a/f", O_RDONLY, RESOLVE_NO_SYMLINKS));
	close(fd);
	EXPECT_ERRNO(openat2_(AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
	close(d);
}

TEST(openat2, no_magiclinks_refuses_proc_fd_links_but_not_symlinks)
{
	int d = setup_tree();
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", d);
	EXPECT_ERRNO(openat2_(AT_FDCWD, p, O_PATH, RESOLVE_NO_MAGICLINKS), ELOOP);
	EXPECT_ERRNO(openat2_(AT_FDCWD, "/proc/self/cwd/.", O_PATH, RESOLVE_NO_MAGICLINKS), ELOOP);
	int fd = EXPECT_SYSCALL_OK(openat2_(AT_FDCWD, p, O_PATH, 0));
	close(fd);
	fd = EXPECT_SYSCALL_OK(openat2_(AT_FDCWD, p, O_PATH | O_NOFOLLOW, RESOLVE_NO_MAGICLINKS));
	close(fd);
	/* /proc/self is an ordinary symlink. */
	fd = EXPECT_SYSCALL_OK(openat2_(AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_NO_MAGICLINKS));
	close(fd);
	close(d);
}

TEST(openat2, no_xdev_refuses_crossing_a_mount_point_either_way)
{
	int root = ASSERT_SYSCALL_OK(open("/", O_PATH | O_DIRECTORY));
	int proc = ASSERT_SYSCALL_OK(open("/proc", O_PATH | O_DIRECTORY));
	EXPECT_ERRNO(openat2_(root, "proc/version", O_RDONLY, RESOLVE_NO_XDEV), EXDEV);
	EXPECT_ERRNO(openat2_(proc, "../proc", O_PATH, RESOLVE_NO_XDEV), EXDEV);
	EXPECT_ERRNO(openat2_(proc, "..", O_PATH, RESOLVE_NO_XDEV), EXDEV);
	int fd = EXPECT_SYSCALL_OK(openat2_(proc, "version", O_RDONLY, RESOLVE_NO_XDEV));
	close(fd);
	fd = EXPECT_SYSCALL_OK(openat2_(proc, ".", O_PATH, RESOLVE_NO_XDEV));
	close(fd);
	close(root);
	close(proc);
}
