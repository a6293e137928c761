/* open(2) with O_TMPFILE, and naming the file with linkat(2). */
#include "test.h"

#include <dirent.h>

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

TEST(tmpfile, creates_an_unnamed_regular_file)
{
	mode_t old = umask(022);
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_TMPFILE | O_RDWR, 0666));
	umask(old);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_mode & 0777, 0644);
	EXPECT_EQ(st.st_nlink, 0);
	EXPECT_EQ(st.st_uid, geteuid());
	ASSERT_EQ(write(fd, "hello", 5), 5);
	char buf[8];
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 5);
	EXPECT_MEMEQ(buf, "hello", 5);
	EXPECT_EQ(count_entries(test_tmpdir()), 2);
}

TEST(tmpfile, proc_fd_link_shows_hash_ino_deleted)
{
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_TMPFILE | O_WRONLY, 0600));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	char link[64], want[4200], got[4200];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	snprintf(want, sizeof(want), "%s/#%llu (deleted)", test_tmpdir(), (unsigned long long)st.st_ino);
	ssize_t n = ASSERT_SYSCALL_OK(readlink(link, got, sizeof(got) - 1));
	got[n] = 0;
	EXPECT_STREQ(got, want);
}

TEST(tmpfile, linkat_through_proc_gives_it_a_name)
{
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_TMPFILE | O_RDWR, 0600));
	ASSERT_EQ(write(fd, "data", 4), 4);
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ASSERT_SYSCALL_OK(linkat(AT_FDCWD, link, AT_FDCWD, test_path("named"), AT_SYMLINK_FOLLOW));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_nlink, 1);
	struct stat st2;
	ASSERT_SYSCALL_OK(stat(test_path("named"), &st2));
	EXPECT_EQ(st2.st_ino, st.st_ino);
	EXPECT_EQ(st2.st_size, 4);
}

TEST(tmpfile, linkat_AT_EMPTY_PATH_gives_it_a_name)
{
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_TMPFILE | O_RDWR, 0600));
	ASSERT_SYSCALL_OK(linkat(fd, "", AT_FDCWD, test_path("named"), AT_EMPTY_PATH));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(test_path("named"), &st));
	EXPECT_EQ(st.st_nlink, 1);
	/* Once named and unlinked again, it cannot be linked back. */
	ASSERT_SYSCALL_OK(unlink(test_path("named")));
	EXPECT_ERRNO(linkat(fd, "", AT_FDCWD, test_path("again"), AT_EMPTY_PATH), ENOENT);
}

TEST(tmpfile, O_EXCL_forbids_linking)
{
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_TMPFILE | O_EXCL | O_RDWR, 0600));
	EXPECT_ERRNO(linkat(fd, "", AT_FDCWD, test_path("named"), AT_EMPTY_PATH), ENOENT);
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	EXPECT_ERRNO(linkat(AT_FDCWD, link, AT_FDCWD, test_path("named"), AT_SYMLINK_FOLLOW), ENOENT);
}

TEST(tmpfile, path_must_be_an_existing_directory)
{
	int f = ASSERT_SYSCALL_OK(open(test_path("file"), O_CREAT | O_WRONLY, 0600));
	close(f);
	EXPECT_ERRNO(open(test_path("file"), O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	EXPECT_ERRNO(open(test_path("missing"), O_TMPFILE | O_RDWR, 0600), ENOENT);
	EXPECT_ERRNO(open(test_tmpdir(), O_TMPFILE | O_RDONLY, 0600), EINVAL);
}

TEST(tmpfile, needs_write_permission_on_the_directory)
{
	ASSERT_SYSCALL_OK(mkdir(test_path("ro"), 0555));
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0755));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		EXPECT_ERRNO(open(test_path("ro"), O_TMPFILE | O_RDWR, 0600), EACCES);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(tmpfile, data_goes_away_on_close_and_file_does_not_appear)
{
	int fd = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_TMPFILE | O_RDWR, 0600));
	ASSERT_EQ(ftruncate(fd, 1 << 20), 0);
	close(fd);
	EXPECT_EQ(count_entries(test_tmpdir()), 2);
}
