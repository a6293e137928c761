/* access(2), faccessat(2), faccessat2. */
#include "test.h"

static void make_file(const char *name, mode_t mode)
{
	close(ASSERT_SYSCALL_OK(open(test_path(name), O_CREAT | O_WRONLY, 0600)));
	ASSERT_SYSCALL_OK(chmod(test_path(name), mode));
}

TEST(access, F_OK_on_existing_file_succeeds)
{
	make_file("f", 0);
	EXPECT_SYSCALL_OK(access(test_path("f"), F_OK));
}

TEST(access, F_OK_on_missing_file_fails_with_ENOENT)
{
	EXPECT_ERRNO(access(test_path("missing"), F_OK), ENOENT);
}

TEST(access, X_OK_fails_with_EACCES_when_no_execute_bit_is_set_even_for_root)
{
	make_file("f", 0666);
	EXPECT_ERRNO(access(test_path("f"), X_OK), EACCES);
	ASSERT_SYSCALL_OK(chmod(test_path("f"), 0700));
	EXPECT_SYSCALL_OK(access(test_path("f"), X_OK));
}

TEST(access, R_OK_and_W_OK_on_mode_000_file_depend_on_privilege)
{
	make_file("f", 0);
	if (geteuid() == 0) {
		EXPECT_SYSCALL_OK(access(test_path("f"), R_OK | W_OK));
	} else {
		EXPECT_ERRNO(access(test_path("f"), R_OK), EACCES);
		EXPECT_ERRNO(access(test_path("f"), W_OK), EACCES);
	}
}

TEST(access, unprivileged_user_is_denied_by_permission_bits)
{
	if (geteuid() != 0) {
		make_file("f", 0);
		EXPECT_ERRNO(access(test_path("f"), R_OK), EACCES);
		return;
	}
	make_file("f", 0600);
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0755));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setgid(65534));
		ASSERT_SYSCALL_OK(setuid(65534));
		EXPECT_ERRNO(access(test_path("f"), R_OK), EACCES);
		EXPECT_ERRNO(access(test_path("f"), W_OK), EACCES);
		EXPECT_SYSCALL_OK(access(test_path("f"), F_OK));
		EXPECT_SYSCALL_OK(access("/etc/passwd", R_OK));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(access, X_OK_on_bin_sh_succeeds)
{
	EXPECT_SYSCALL_OK(access("/bin/sh", X_OK));
}

TEST(access, invalid_mode_fails_with_EINVAL)
{
	EXPECT_ERRNO(syscall(SYS_access, "/", 0100), EINVAL);
}

TEST(access, search_permission_on_path_component_that_is_a_file_fails_with_ENOTDIR)
{
	make_file("f", 0644);
	EXPECT_ERRNO(access(test_path("f/x"), F_OK), ENOTDIR);
}

TEST(faccessat2, AT_SYMLINK_NOFOLLOW_checks_the_dangling_symlink_itself)
{
	ASSERT_SYSCALL_OK(symlink("missing", test_path("l")));
	EXPECT_ERRNO(syscall(SYS_faccessat2, AT_FDCWD, test_path("l"), F_OK, 0), ENOENT);
	EXPECT_SYSCALL_OK(syscall(SYS_faccessat2, AT_FDCWD, test_path("l"), F_OK, AT_SYMLINK_NOFOLLOW));
}

TEST(faccessat2, invalid_flags_fail_with_EINVAL)
{
	EXPECT_ERRNO(syscall(SYS_faccessat2, AT_FDCWD, "/", F_OK, 0x1), EINVAL);
}

TEST(faccessat, relative_path_is_resolved_against_dirfd)
{
	make_file("f", 0644);
	int dfd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	EXPECT_SYSCALL_OK(syscall(SYS_faccessat, dfd, "f", R_OK));
	EXPECT_ERRNO(syscall(SYS_faccessat, dfd, "g", R_OK), ENOENT);
}
