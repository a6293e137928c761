/* getdents64(2). */
#include "test.h"

#include <dirent.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Reads all entries of fd; returns how many; records type of each name. */
static int list_dir(int fd, const char *want, int *want_type, uint64_t *want_ino, int *dot, int *dotdot)
{
	char buf[4096];
	int count = 0;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		ASSERT_NE(n, -1);
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			count++;
			if (strcmp(d->d_name, ".") == 0)
				(*dot)++;
			else if (strcmp(d->d_name, "..") == 0)
				(*dotdot)++;
			else if (want && strcmp(d->d_name, want) == 0) {
				*want_type = d->d_type;
				*want_ino = d->d_ino;
			}
			ASSERT_GT(d->d_reclen, 0);
			off += d->d_reclen;
		}
	}
	return count;
}

TEST(getdents64, lists_dot_dotdot_and_every_entry_once)
{
	for (int i = 0; i < 50; i++) {
		char name[16];
		snprintf(name, sizeof(name), "file%02d", i);
		close(ASSERT_SYSCALL_OK(open(test_path(name), O_CREAT | O_WRONLY, 0600)));
	}
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	int type = -1, dot = 0, dotdot = 0;
	uint64_t ino = 0;
	EXPECT_EQ(list_dir(fd, "file07", &type, &ino, &dot, &dotdot), 52);
	EXPECT_EQ(dot, 1);
	EXPECT_EQ(dotdot, 1);
	EXPECT_EQ(type, DT_REG);
}

TEST(getdents64, d_type_reports_directory_regular_file_and_symlink)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0755));
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	ASSERT_SYSCALL_OK(symlink("f", test_path("l")));
	const char *names[] = {"d", "f", "l"};
	int types[] = {DT_DIR, DT_REG, DT_LNK};
	for (int i = 0; i < 3; i++) {
		int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
		int type = -1, dot = 0, dotdot = 0;
		uint64_t ino = 0;
		list_dir(fd, names[i], &type, &ino, &dot, &dotdot);
		EXPECT_EQ(type, types[i]);
		close(fd);
	}
}

TEST(getdents64, d_ino_matches_st_ino_from_stat)
{
	close(ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_WRONLY, 0600)));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_path("f"), &st));
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	int type = -1, dot = 0, dotdot = 0;
	uint64_t ino = 0;
	list_dir(fd, "f", &type, &ino, &dot, &dotdot);
	EXPECT_EQ(ino, st.st_ino);
}

TEST(getdents64, at_end_of_directory_returns_zero)
{
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[4096];
	EXPECT_GT(syscall(SYS_getdents64, fd, buf, sizeof(buf)), 0);
	EXPECT_EQ(syscall(SYS_getdents64, fd, buf, sizeof(buf)), 0);
}

TEST(getdents64, lseek_to_zero_rewinds_the_directory_stream)
{
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[4096];
	long first = syscall(SYS_getdents64, fd, buf, sizeof(buf));
	EXPECT_GT(first, 0);
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
	EXPECT_EQ(syscall(SYS_getdents64, fd, buf, sizeof(buf)), first);
}

TEST(getdents64, on_non_directory_fails_with_ENOTDIR)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	char buf[4096];
	EXPECT_ERRNO(syscall(SYS_getdents64, fd, buf, sizeof(buf)), ENOTDIR);
}

TEST(getdents64, result_buffer_too_small_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	char buf[8];
	EXPECT_ERRNO(syscall(SYS_getdents64, fd, buf, sizeof(buf)), EINVAL);
}

TEST(getdents64, on_bad_fd_fails_with_EBADF)
{
	char buf[4096];
	EXPECT_ERRNO(syscall(SYS_getdents64, 9999, buf, sizeof(buf)), EBADF);
}

TEST(getdents64, unlinked_entry_is_not_listed)
{
	close(ASSERT_SYSCALL_OK(open(test_path("gone"), O_CREAT | O_WRONLY, 0600)));
	ASSERT_SYSCALL_OK(unlink(test_path("gone")));
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	int type = -1, dot = 0, dotdot = 0;
	uint64_t ino = 0;
	EXPECT_EQ(list_dir(fd, "gone", &type, &ino, &dot, &dotdot), 2);
	EXPECT_EQ(type, -1);
}

/* While a large directory is read in small pieces, half of its entries
 * are unlinked: every entry that stays is still listed exactly once
 * (whether a removed one is listed is unspecified, readdir(3)), and no
 * entry is listed twice. */
TEST(getdents64, entries_that_stay_are_listed_once_while_others_are_removed)
{
	enum { N = 2000 };
	static unsigned char seen[N];
	memset(seen, 0, sizeof(seen));
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		close(ASSERT_SYSCALL_OK(open(test_path(name), O_CREAT | O_WRONLY, 0600)));
	}
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	int removed = 0;
	char buf[128];
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		ASSERT_NE(n, -1);
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			int k;
			if (sscanf(d->d_name, "e%d", &k) == 1) {
				ASSERT_TRUE(k >= 0 && k < N);
				EXPECT_EQ(seen[k] & 1, 0); /* not twice */
				seen[k] |= 1;
			}
			off += d->d_reclen;
		}
		/* Remove the odd entries, a few per call, seen or not. */
		for (int j = 0; j < 4 && removed < N / 2; j++, removed++) {
			snprintf(name, sizeof(name), "e%d", 2 * removed + 1);
			ASSERT_SYSCALL_OK(unlink(test_path(name)));
			seen[2 * removed + 1] |= 2;
		}
	}
	for (int i = 0; i < N; i++) {
		if (!(seen[i] & 2) && !(seen[i] & 1)) {
			EXPECT_TRUE(seen[i] & 1); /* a remaining entry was missed */
			break;
		}
	}
	close(fd);
}
