/* getcwd(2), chdir(2), fchdir(2). */
#include "test.h"

#include <limits.h>

TEST(getcwd, returns_absolute_path_of_directory_given_to_chdir)
{
	ASSERT_SYSCALL_OK(chdir(test_tmpdir()));
	char buf[PATH_MAX];
	ASSERT_TRUE(getcwd(buf, sizeof(buf)) != NULL);
	EXPECT_STREQ(buf, test_tmpdir());
}

TEST(getcwd, raw_syscall_returns_length_including_terminating_nul)
{
	ASSERT_SYSCALL_OK(chdir("/"));
	char buf[16];
	EXPECT_EQ(syscall(SYS_getcwd, buf, sizeof(buf)), 2);
	EXPECT_STREQ(buf, "/");
}

TEST(getcwd, buffer_too_small_fails_with_ERANGE)
{
	ASSERT_SYSCALL_OK(chdir(test_tmpdir()));
	char buf[4];
	EXPECT_ERRNO(syscall(SYS_getcwd, buf, sizeof(buf)), ERANGE);
}

TEST(getcwd, after_cwd_is_removed_fails_with_ENOENT)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	ASSERT_SYSCALL_OK(chdir(test_path("d")));
	ASSERT_SYSCALL_OK(rmdir(test_path("d")));
	char buf[PATH_MAX];
	EXPECT_ERRNO(syscall(SYS_getcwd, buf, sizeof(buf)), ENOENT);
}

TEST(chdir, relative_paths_then_resolve_against_new_cwd)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	close(ASSERT_SYSCALL_OK(open(test_path("d/f"), O_CREAT | O_WRONLY, 0600)));
	ASSERT_SYSCALL_OK(chdir(test_path("d")));
	EXPECT_SYSCALL_OK(access("f", F_OK));
	EXPECT_SYSCALL_OK(access("../d/f", F_OK));
}

TEST(chdir, to_nonexistent_directory_fails_with_ENOENT)
{
	EXPECT_ERRNO(chdir(test_path("missing")), ENOENT);
}

TEST(chdir, to_regular_file_fails_with_ENOTDIR)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	EXPECT_ERRNO(chdir(test_path("f")), ENOTDIR);
}

TEST(chdir, dotdot_in_root_directory_stays_in_root)
{
	ASSERT_SYSCALL_OK(chdir("/"));
	ASSERT_SYSCALL_OK(chdir(".."));
	char buf[PATH_MAX];
	ASSERT_TRUE(getcwd(buf, sizeof(buf)) != NULL);
	EXPECT_STREQ(buf, "/");
}

TEST(fchdir, changes_cwd_to_directory_referred_to_by_fd)
{
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	ASSERT_SYSCALL_OK(chdir("/"));
	ASSERT_SYSCALL_OK(fchdir(fd));
	char buf[PATH_MAX];
	ASSERT_TRUE(getcwd(buf, sizeof(buf)) != NULL);
	EXPECT_STREQ(buf, test_tmpdir());
}

TEST(fchdir, on_non_directory_fd_fails_with_ENOTDIR)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERRNO(fchdir(fd), ENOTDIR);
}

TEST(fchdir, on_bad_fd_fails_with_EBADF)
{
	EXPECT_ERRNO(fchdir(9999), EBADF);
}

TEST(chdir, cwd_is_inherited_by_child_but_changes_are_not_shared)
{
	ASSERT_SYSCALL_OK(chdir(test_tmpdir()));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char buf[PATH_MAX];
		ASSERT_TRUE(getcwd(buf, sizeof(buf)) != NULL);
		EXPECT_STREQ(buf, test_tmpdir());
		ASSERT_SYSCALL_OK(chdir("/"));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	char buf[PATH_MAX];
	ASSERT_TRUE(getcwd(buf, sizeof(buf)) != NULL);
	EXPECT_STREQ(buf, test_tmpdir());
}
