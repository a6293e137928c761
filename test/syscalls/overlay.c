/*
 * Changing files outside /tmp: create, overwrite, append, unlink, rename,
 * link, symlink, mkdir/rmdir and readdir after changes.
 *
 * Natively these run as root on the host, so each case works in its own
 * scratch directory under /var/tmp (removed when the case ends). In the
 * sandbox /var/tmp is part of the root overlay (vfs/overlay): /var and
 * /var/tmp come from the read-only host image and are copied up to the
 * in-memory upper layer by the first change, and nothing reaches the host.
 */
#include "test.h"

#include <dirent.h>
#include <ftw.h>

static char scratch_dir[64];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/*
 * in_scratch runs body in a child process, in a fresh directory under
 * /var/tmp that is removed afterwards whatever happened to the child (an
 * ASSERT ends it with _exit, so atexit handlers would not run).
 */
static void in_scratch(void (*body)(void))
{
	strcpy(scratch_dir, "/var/tmp/palisade-overlay-XXXXXX");
	if (mkdtemp(scratch_dir) == NULL)
		test_fail(__FILE__, __LINE__, 1, "mkdtemp under /var/tmp: %s", test_errno_name(errno));
	pid_t pid = fork();
	if (pid < 0)
		test_fail(__FILE__, __LINE__, 0, "fork: %s", test_errno_name(errno));
	if (pid == 0) {
		body();
		_exit(0);
	}
	if (pid > 0)
		EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	nftw(scratch_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* OVERLAY_TEST declares a case whose body runs via in_scratch. */
#define OVERLAY_TEST(name)                                 \
	static void body_##name(void);                     \
	TEST(overlay, name) { in_scratch(body_##name); } \
	static void body_##name(void)

/* scratch returns the path of name in this case's directory under /var/tmp. */
static const char *scratch(const char *name)
{
	static char bufs[4][256];
	static int next;
	char *b = bufs[next++ % 4];
	snprintf(b, sizeof(bufs[0]), "%s/%s", scratch_dir, name);
	return b;
}

static void put(const char *name, int flags, const char *content)
{
	int fd = ASSERT_SYSCALL_OK(open(scratch(name), O_WRONLY | flags, 0644));
	ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void expect_content(const char *name, const char *want)
{
	char buf[128] = {0};
	int fd = ASSERT_SYSCALL_OK(open(scratch(name), O_RDONLY));
	ASSERT_SYSCALL_OK(read(fd, buf, sizeof(buf) - 1));
	close(fd);
	EXPECT_STREQ(buf, want);
}

/* listing returns the sorted names in dir (without . and ..), space-separated,
 * and fails the case if a name appears twice. */
static const char *listing(const char *dir)
{
	static char out[1024];
	char names[32][256];
	int n = 0;
	DIR *d = opendir(scratch(dir));
	if (d == NULL) {
		test_fail(__FILE__, __LINE__, 1, "opendir: %s", test_errno_name(errno));
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 32) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (strcmp(names[i], e->d_name) == 0)
				test_fail(__FILE__, __LINE__, 0, "readdir lists %s twice", e->d_name);
		}
		snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, names[i]);
	}
	return out;
}

OVERLAY_TEST(create_outside_tmp_then_read_back)
{
	put("f", O_CREAT | O_EXCL, "hello");
	expect_content("f", "hello");
	struct stat st;
	ASSERT_SYSCALL_OK(stat(scratch("f"), &st));
	EXPECT_EQ(st.st_size, 5);
	EXPECT_TRUE(S_ISREG(st.st_mode));
}

OVERLAY_TEST(overwrite_with_O_TRUNC_replaces_content)
{
	put("f", O_CREAT, "a long first version");
	put("f", O_TRUNC, "short");
	expect_content("f", "short");
}

OVERLAY_TEST(append_to_existing_file_keeps_old_data)
{
	put("f", O_CREAT, "one\n");
	put("f", O_APPEND, "two\n");
	expect_content("f", "one\ntwo\n");
}

OVERLAY_TEST(unlink_removes_the_name_but_open_file_stays_readable)
{
	put("f", O_CREAT, "data");
	int fd = ASSERT_SYSCALL_OK(open(scratch("f"), O_RDONLY));
	ASSERT_SYSCALL_OK(unlink(scratch("f")));
	struct stat st;
	EXPECT_ERRNO(stat(scratch("f"), &st), ENOENT);
	char buf[8] = {0};
	EXPECT_EQ(read(fd, buf, sizeof(buf) - 1), 4);
	EXPECT_STREQ(buf, "data");
	close(fd);
	EXPECT_STREQ(listing(""), "");
}

OVERLAY_TEST(rename_replaces_target_and_keeps_inode_number)
{
	put("a", O_CREAT, "A");
	put("b", O_CREAT, "B");
	struct stat before, after;
	ASSERT_SYSCALL_OK(stat(scratch("a"), &before));
	ASSERT_SYSCALL_OK(rename(scratch("a"), scratch("b")));
	ASSERT_SYSCALL_OK(stat(scratch("b"), &after));
	EXPECT_EQ(before.st_ino, after.st_ino);
	EXPECT_EQ(before.st_dev, after.st_dev);
	expect_content("b", "A");
	EXPECT_ERRNO(access(scratch("a"), F_OK), ENOENT);
}

OVERLAY_TEST(mkdir_then_rmdir_and_rmdir_of_nonempty_fails_with_ENOTEMPTY)
{
	ASSERT_SYSCALL_OK(mkdir(scratch("d"), 0755));
	put("d/f", O_CREAT, "x");
	EXPECT_ERRNO(rmdir(scratch("d")), ENOTEMPTY);
	ASSERT_SYSCALL_OK(unlink(scratch("d/f")));
	ASSERT_SYSCALL_OK(rmdir(scratch("d")));
	struct stat st;
	EXPECT_ERRNO(stat(scratch("d"), &st), ENOENT);
}

OVERLAY_TEST(rename_of_directory_moves_its_contents)
{
	ASSERT_SYSCALL_OK(mkdir(scratch("d"), 0755));
	put("d/f", O_CREAT, "in d");
	ASSERT_SYSCALL_OK(rename(scratch("d"), scratch("e")));
	expect_content("e/f", "in d");
	EXPECT_ERRNO(access(scratch("d"), F_OK), ENOENT);
}

OVERLAY_TEST(readdir_after_changes_lists_each_name_once)
{
	put("a", O_CREAT, "");
	put("b", O_CREAT, "");
	put("c", O_CREAT, "");
	ASSERT_SYSCALL_OK(unlink(scratch("b")));
	ASSERT_SYSCALL_OK(rename(scratch("c"), scratch("d")));
	ASSERT_SYSCALL_OK(mkdir(scratch("e"), 0700));
	put("b", O_CREAT, "again");
	EXPECT_STREQ(listing(""), "a b d e");
}

OVERLAY_TEST(readdir_inode_numbers_match_stat)
{
	put("f", O_CREAT, "");
	ASSERT_SYSCALL_OK(mkdir(scratch("d"), 0700));
	DIR *d = opendir(scratch(""));
	ASSERT_TRUE(d != NULL);
	struct dirent *e;
	int seen = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, "f") != 0 && strcmp(e->d_name, "d") != 0)
			continue;
		struct stat st;
		ASSERT_SYSCALL_OK(stat(scratch(e->d_name), &st));
		EXPECT_EQ(e->d_ino, st.st_ino);
		seen++;
	}
	closedir(d);
	EXPECT_EQ(seen, 2);
}

OVERLAY_TEST(hard_link_shares_inode_and_data)
{
	put("f", O_CREAT, "shared");
	ASSERT_SYSCALL_OK(link(scratch("f"), scratch("g")));
	struct stat a, b;
	ASSERT_SYSCALL_OK(stat(scratch("f"), &a));
	ASSERT_SYSCALL_OK(stat(scratch("g"), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(a.st_nlink, 2);
	put("g", O_APPEND, "!");
	expect_content("f", "shared!");
}

OVERLAY_TEST(symlink_is_readable_and_followed)
{
	put("target", O_CREAT, "via link");
	ASSERT_SYSCALL_OK(symlink("target", scratch("link")));
	char buf[64] = {0};
	EXPECT_EQ(readlink(scratch("link"), buf, sizeof(buf) - 1), 6);
	EXPECT_STREQ(buf, "target");
	expect_content("link", "via link");
}

OVERLAY_TEST(chmod_and_truncate_apply)
{
	put("f", O_CREAT, "0123456789");
	ASSERT_SYSCALL_OK(chmod(scratch("f"), 0600));
	ASSERT_SYSCALL_OK(truncate(scratch("f"), 4));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(scratch("f"), &st));
	EXPECT_EQ(st.st_mode & 07777, 0600);
	EXPECT_EQ(st.st_size, 4);
	expect_content("f", "0123");
}
