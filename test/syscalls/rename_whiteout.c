/* renameat2(2) with RENAME_WHITEOUT. */
#include "test.h"

#include <sys/sysmacros.h>

static void make_file(const char *p, const char *text)
{
	int fd = ASSERT_SYSCALL_OK(open(p, O_CREAT | O_WRONLY | O_EXCL, 0644));
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

TEST(rename_whiteout, old_name_becomes_a_0_0_character_device)
{
	const char *a = test_path("a"), *b = test_path("b");
	make_file(a, "data");
	ASSERT_SYSCALL_OK(test_renameat2(a, b, RENAME_WHITEOUT));
	struct stat st;
	ASSERT_SYSCALL_OK(lstat(a, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(major(st.st_rdev), 0);
	EXPECT_EQ(minor(st.st_rdev), 0);
	EXPECT_EQ(st.st_uid, geteuid());
	char buf[8];
	int fd = ASSERT_SYSCALL_OK(open(b, O_RDONLY));
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 4);
	EXPECT_MEMEQ(buf, "data", 4);
	close(fd);
	/* The whiteout is an ordinary entry: it can be removed. */
	EXPECT_SYSCALL_OK(unlink(a));
}

TEST(rename_whiteout, replaces_an_existing_target_and_works_for_directories)
{
	const char *a = test_path("a"), *b = test_path("b");
	const char *d = test_path("d"), *e = test_path("e");
	make_file(a, "new");
	make_file(b, "old");
	ASSERT_SYSCALL_OK(test_renameat2(a, b, RENAME_WHITEOUT));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(b, &st));
	EXPECT_EQ(st.st_size, 3);
	ASSERT_SYSCALL_OK(lstat(a, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_SYSCALL_OK(mkdir(d, 0755));
	ASSERT_SYSCALL_OK(test_renameat2(d, e, RENAME_WHITEOUT));
	ASSERT_SYSCALL_OK(lstat(d, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_SYSCALL_OK(stat(e, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST(rename_whiteout, with_RENAME_EXCHANGE_fails_with_EINVAL)
{
	const char *a = test_path("a"), *b = test_path("b");
	make_file(a, "1");
	make_file(b, "2");
	EXPECT_ERRNO(test_renameat2(a, b, RENAME_WHITEOUT | RENAME_EXCHANGE), EINVAL);
	struct stat st;
	ASSERT_SYSCALL_OK(lstat(a, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST(rename_whiteout, with_RENAME_NOREPLACE_refuses_an_existing_target)
{
	const char *a = test_path("a"), *b = test_path("b"), *c = test_path("c");
	make_file(a, "1");
	make_file(b, "2");
	EXPECT_ERRNO(test_renameat2(a, b, RENAME_WHITEOUT | RENAME_NOREPLACE), EEXIST);
	ASSERT_SYSCALL_OK(test_renameat2(a, c, RENAME_WHITEOUT | RENAME_NOREPLACE));
	struct stat st;
	ASSERT_SYSCALL_OK(lstat(a, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
}

/*
 * Linux before 5.8 required CAP_MKNOD; since then a whiteout is made
 * without privilege and is owned by the caller.
 */
TEST(rename_whiteout, works_without_CAP_MKNOD)
{
	if (geteuid() != 0)
		return;
	const char *a = test_path("a"), *b = test_path("b");
	make_file(a, "1");
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0777));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setuid(65534));
		EXPECT_SYSCALL_OK(test_renameat2(a, b, RENAME_WHITEOUT));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	struct stat st;
	ASSERT_SYSCALL_OK(lstat(a, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(st.st_uid, 65534);
}
