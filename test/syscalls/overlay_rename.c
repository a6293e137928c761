/*
 * rename(2) and renameat2(2) on an overlay filesystem whose directories
 * have lower parts, as Linux's overlayfs with redirect_dir=on behaves:
 * directories from the lower layer (or merged ones) can be renamed, in
 * their parent or into another, and keep their contents; RENAME_EXCHANGE
 * swaps files and directories; RENAME_WHITEOUT fails with EINVAL.
 *
 * The cases work in a directory of the image that has package-like
 * subdirectories holding only small regular files (/usr/share/doc; the
 * first of lower_candidates that has enough of them), and pick those
 * subdirectories by listing it, so they know nothing of the image.
 *
 * In the sandbox (statfs("/") says overlayfs) the root is the Sentry's
 * in-memory overlay on the host image: the cases rename the image's own
 * directories, and nothing reaches the host. The cases of one binary share
 * that sandbox, so each gives its new names a prefix of its own, and picks
 * only directories that earlier cases left as they were (names without
 * the "pal-" prefix, holding only regular files).
 *
 * Natively (as root) each case enters a mount namespace of its own and
 * mounts a real overlayfs with redirect_dir=on whose lower layer is that
 * image directory and whose upper and work directories are in the case's
 * test_tmpdir(), so the host's files are never changed. Without
 * CAP_SYS_ADMIN natively the cases return early.
 */
#include "test.h"

#include <dirent.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

/* Directories of the image that may serve as the lower directory. */
static const char *const lower_candidates[] = {
	"/usr/share/doc",
	"/usr/share/man",
	"/usr/lib/x86_64-linux-gnu",
	NULL,
};

/* A candidate subdirectory holds 1..max_files regular files of at most
 * max_file_size bytes each, and nothing else (in particular no "pal-"
 * names that an earlier case of the same sandbox made). */
enum { max_files = 16, max_file_size = 256 << 10, max_names = 64 };

/* base is the merged directory the case works in. */
static char base[512];

/* at returns base/rel in one of a ring of static buffers. */
static const char *at(const char *rel)
{
	static char bufs[8][1024];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof(bufs[0]), "%s/%s", base, rel);
	return b;
}

/* cat2 returns a "/" b in one of a ring of static buffers. */
static const char *cat2(const char *a, const char *b)
{
	static char bufs[8][1024];
	static int next;
	char *r = bufs[next++ % 8];
	snprintf(r, sizeof(bufs[0]), "%s/%s", a, b);
	return r;
}

/* suitable reports whether dir holds only 1..max_files small regular
 * files; if so and first is not NULL, it gets the name of one of them. */
static int suitable(const char *dir, char *first, size_t n)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	int files = 0, ok = 1;
	struct dirent *e;
	while (ok && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (strncmp(e->d_name, "pal-", 4) == 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_size > max_file_size ||
		    ++files > max_files) {
			ok = 0;
			break;
		}
		if (first != NULL && files == 1)
			snprintf(first, n, "%s", e->d_name);
	}
	closedir(d);
	return ok && files > 0;
}

/* count_suitable returns how many subdirectories of dir are suitable
 * (stopping at limit). */
static int count_suitable(const char *dir, int limit)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	int n = 0;
	struct dirent *e;
	while (n < limit && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, "pal-", 4) == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) && suitable(cat2(dir, e->d_name), NULL, 0))
			n++;
	}
	closedir(d);
	return n;
}

/* lower_dir returns the first candidate with enough suitable
 * subdirectories for every case of this file. */
static const char *lower_dir(void)
{
	for (int i = 0; lower_candidates[i] != NULL; i++) {
		if (count_suitable(lower_candidates[i], 40) >= 40)
			return lower_candidates[i];
	}
	test_fail(__FILE__, __LINE__, 1, "no image directory with 40 subdirectories of small regular files");
	return NULL;
}

/*
 * setup makes base the merged directory to work in and returns 1, or
 * returns 0 if the case cannot run (natively without the privilege to
 * mount).
 */
static int setup(void)
{
	struct statfs sf;
	ASSERT_SYSCALL_OK(statfs("/", &sf));
	const char *lower = lower_dir();
	if (sf.f_type == OVERLAYFS_SUPER_MAGIC) {
		snprintf(base, sizeof(base), "%s", lower);
		return 1;
	}
	if (!test_enter_private_mount_ns())
		return 0;
	const char *u = test_path("u"), *w = test_path("w"), *m = test_path("m");
	ASSERT_SYSCALL_OK(mkdir(u, 0755));
	ASSERT_SYSCALL_OK(mkdir(w, 0755));
	ASSERT_SYSCALL_OK(mkdir(m, 0755));
	char opts[2048];
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=on", lower, u, w);
	ASSERT_SYSCALL_OK(mount("overlay", m, "overlay", 0, opts));
	snprintf(base, sizeof(base), "%s", m);
	return 1;
}

/* find_dir returns (in a static ring) the name of a suitable subdirectory
 * of base other than except (may be NULL), and stores one of its files'
 * names in file if not NULL. */
static const char *find_dir(const char *const *except, char *file, size_t n)
{
	static char bufs[4][256];
	static int next;
	char *out = bufs[next++ % 4];
	DIR *d = opendir(base);
	if (d == NULL)
		test_fail(__FILE__, __LINE__, 1, "opendir(%s): %s", base, test_errno_name(errno));
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, "pal-", 4) == 0)
			continue;
		int skip = 0;
		for (int i = 0; except != NULL && except[i] != NULL; i++)
			skip |= strcmp(except[i], e->d_name) == 0;
		struct stat st;
		if (skip || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if (suitable(cat2(base, e->d_name), file, n)) {
			snprintf(out, sizeof(bufs[0]), "%s", e->d_name);
			closedir(d);
			return out;
		}
	}
	closedir(d);
	test_fail(__FILE__, __LINE__, 1, "no suitable directory left in %s", base);
	return NULL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/*
 * listing returns the sorted names in dir (without "." and ".."),
 * space-separated, in a new buffer, and fails the case if readdir lists a
 * name twice.
 */
static char *listing(const char *dir)
{
	static char names[max_names * 4][256];
	int n = 0;
	DIR *d = opendir(dir);
	if (d == NULL) {
		test_fail(__FILE__, __LINE__, 1, "opendir(%s): %s", dir, test_errno_name(errno));
		return NULL;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == (int)(sizeof(names) / sizeof(names[0])))
			break;
		for (int i = 0; i < n; i++) {
			if (strcmp(names[i], e->d_name) == 0)
				test_fail(__FILE__, __LINE__, 0, "readdir(%s) lists %s twice", dir, e->d_name);
		}
		snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	char *out = calloc(1, (size_t)n * 257 + 1);
	ASSERT_TRUE(out != NULL);
	for (int i = 0; i < n; i++) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, names[i]);
	}
	return out;
}

/* listed returns how many times readdir of dir lists name. */
static int listed(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		test_fail(__FILE__, __LINE__, 1, "opendir(%s): %s", dir, test_errno_name(errno));
		return 0;
	}
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, name) == 0;
	closedir(d);
	return n;
}

/* slurp returns the content of path in a new NUL-terminated buffer and its
 * length in *len. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		test_fail(__FILE__, __LINE__, 1, "open(%s): %s", path, test_errno_name(errno));
		return NULL;
	}
	size_t cap = max_file_size + 64, n = 0;
	char *buf = malloc(cap + 1);
	ASSERT_TRUE(buf != NULL);
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);
		ASSERT_TRUE(r >= 0);
		if (r == 0)
			break;
		n += (size_t)r;
		ASSERT_TRUE(n < cap);
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* expect_same_file fails unless path holds len bytes equal to want. */
#define expect_same_file(path, want, len)                            \
	do {                                                         \
		size_t got_len_;                                     \
		char *got_ = slurp((path), &got_len_);               \
		EXPECT_EQ(got_len_, (len));                          \
		if (got_len_ == (len))                               \
			EXPECT_MEMEQ(got_, (want), (len));           \
		free(got_);                                          \
	} while (0)

static void put(const char *path, int flags, const char *text)
{
	int fd = ASSERT_SYSCALL_OK(open(path, O_WRONLY | flags, 0644));
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void expect_gone(const char *path)
{
	struct stat st;
	EXPECT_ERRNO(lstat(path, &st), ENOENT);
}

static ino_t ino_of(const char *path)
{
	struct stat st;
	ASSERT_SYSCALL_OK(lstat(path, &st));
	return st.st_ino;
}

/* free_all frees each of its arguments (buffers from listing and slurp). */
#define free_all(...) \
	free_each((void *[]){__VA_ARGS__}, sizeof((void *[]){__VA_ARGS__}) / sizeof(void *))

static void free_each(void *bufs[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(bufs[i]);
}

/* expect_listing fails unless listing(dir) is want. */
static void expect_listing(const char *dir, const char *want)
{
	char *got = listing(dir);
	if (strcmp(got, want) != 0)
		test_fail(__FILE__, __LINE__, 0, "expected readdir(%s) to list \"%s\", got \"%s\"", dir, want, got);
	free(got);
}

/*
 * rename_expect_moved renames the directory from to to (with rename(2), or
 * renameat2(2) if flags is not 0) and checks that to lists want and that
 * from is gone.
 */
static void rename_expect_moved(const char *from, const char *to, unsigned flags, const char *want)
{
	if (flags == 0)
		ASSERT_SYSCALL_OK(rename(from, to));
	else
		ASSERT_SYSCALL_OK(test_renameat2(from, to, flags));
	expect_listing(to, want);
	expect_gone(from);
}

/* expect_entry_moved checks that readdir lists old_name in old_dir no more,
 * and new_name in new_dir once. */
static void expect_entry_moved(const char *old_dir, const char *old_name, const char *new_dir, const char *new_name)
{
	EXPECT_EQ(listed(old_dir, old_name), 0);
	EXPECT_EQ(listed(new_dir, new_name), 1);
}

/* append_expect appends suffix to path, whose content was data (len bytes),
 * checks that it now reads as data followed by suffix, and returns that
 * content in a new buffer. */
static char *append_expect(const char *path, const char *data, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	put(path, O_APPEND, suffix);
	char *want = malloc(len + n + 1);
	ASSERT_TRUE(want != NULL);
	memcpy(want, data, len);
	memcpy(want + len, suffix, n + 1);
	expect_same_file(path, want, len + n);
	return want;
}

/* exchange_expect swaps p and q with RENAME_EXCHANGE and checks that p
 * then holds p_want (p_len bytes) and q holds q_want (q_len bytes). */
static void exchange_expect(const char *p, const char *q, const char *p_want, size_t p_len, const char *q_want, size_t q_len)
{
	ASSERT_SYSCALL_OK(test_renameat2(p, q, RENAME_EXCHANGE));
	expect_same_file(p, p_want, p_len);
	expect_same_file(q, q_want, q_len);
}

/* A pick is a suitable directory of base, one of its files and that file's
 * content when it was picked. */
struct pick {
	const char *dir; /* the directory's name in base */
	char file[256];  /* the name of one of its files */
	char *data;      /* file's content (free it) */
	size_t len;      /* data's length */
};

/* pick_dir picks a suitable directory of base other than except (may be
 * NULL) and reads one of its files. */
static struct pick pick_dir(const char *const *except)
{
	struct pick p;
	p.dir = find_dir(except, p.file, sizeof(p.file));
	p.data = slurp(cat2(at(p.dir), p.file), &p.len);
	return p;
}

TEST(overlay_rename, lower_directory_renamed_in_its_parent_keeps_entries_contents_and_inode_numbers)
{
	if (!setup())
		return;
	struct pick a = pick_dir(NULL);
	char *before = listing(at(a.dir));
	ino_t dino = ino_of(at(a.dir)), fino = ino_of(cat2(at(a.dir), a.file));

	rename_expect_moved(at(a.dir), at("pal-same"), 0, before);
	expect_same_file(cat2(at("pal-same"), a.file), a.data, a.len);
	EXPECT_EQ(ino_of(at("pal-same")), dino);
	EXPECT_EQ(ino_of(cat2(at("pal-same"), a.file)), fino);
	expect_gone(cat2(at(a.dir), a.file));
	expect_entry_moved(base, a.dir, base, "pal-same");
	free_all(before, a.data);
}

TEST(overlay_rename, merged_directory_renamed_into_another_directory_keeps_upper_changes_and_whiteouts)
{
	if (!setup())
		return;
	char file[256];
	const char *a = find_dir(NULL, file, sizeof(file));
	const char *except[] = {a, NULL};
	const char *b = find_dir(except, NULL, 0);
	/* Make a merged: a new upper file and a whiteout. */
	put(cat2(at(a), "pal-new"), O_CREAT | O_EXCL, "new");
	ASSERT_SYSCALL_OK(unlink(cat2(at(a), file)));
	char *before = listing(at(a));
	char *b_before = listing(at(b));

	const char *moved = cat2(at(b), "pal-moved");
	rename_expect_moved(at(a), moved, 0, before);
	expect_same_file(cat2(moved, "pal-new"), "new", 3);
	expect_gone(cat2(moved, file));
	expect_entry_moved(base, a, at(b), "pal-moved");
	/* b keeps its own entries. */
	ASSERT_SYSCALL_OK(rename(moved, at("pal-moved-out")));
	expect_listing(at(b), b_before);
	expect_listing(at("pal-moved-out"), before);
	free_all(before, b_before);
}

TEST(overlay_rename, file_inside_a_renamed_directory_is_copied_up_on_write)
{
	if (!setup())
		return;
	struct pick a = pick_dir(NULL);
	ino_t fino = ino_of(cat2(at(a.dir), a.file));

	ASSERT_SYSCALL_OK(rename(at(a.dir), at("pal-cu")));
	const char *f = cat2(at("pal-cu"), a.file);
	char *want = append_expect(f, a.data, a.len, "+palisade");
	EXPECT_EQ(ino_of(f), fino);
	ASSERT_SYSCALL_OK(chmod(f, 0600));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(f, &st));
	EXPECT_EQ(st.st_mode & 07777, 0600);
	put(cat2(at("pal-cu"), "pal-created"), O_CREAT | O_EXCL, "c");

	/* The copy stays with the directory through a second rename. */
	ASSERT_SYSCALL_OK(rename(at("pal-cu"), at("pal-cu2")));
	expect_same_file(cat2(at("pal-cu2"), a.file), want, a.len + 9);
	expect_same_file(cat2(at("pal-cu2"), "pal-created"), "c", 1);
	expect_gone(at("pal-cu"));
	expect_gone(at(a.dir));
	free_all(a.data, want);
}

TEST(overlay_rename, old_name_is_gone_and_renaming_back_restores_it)
{
	if (!setup())
		return;
	struct pick a = pick_dir(NULL);
	char *before = listing(at(a.dir));

	ASSERT_SYSCALL_OK(rename(at(a.dir), at("pal-back")));
	expect_gone(at(a.dir));
	EXPECT_ERRNO(open(cat2(at(a.dir), a.file), O_RDONLY), ENOENT);
	EXPECT_ERRNO(opendir(at(a.dir)) == NULL ? -1 : 0, ENOENT);
	expect_entry_moved(base, a.dir, base, "pal-back");

	rename_expect_moved(at("pal-back"), at(a.dir), 0, before);
	expect_same_file(cat2(at(a.dir), a.file), a.data, a.len);
	expect_entry_moved(base, "pal-back", base, a.dir);

	/* And away again. */
	rename_expect_moved(at(a.dir), at("pal-back2"), 0, before);
	free_all(before, a.data);
}

TEST(overlay_rename, rename_over_an_empty_directory_replaces_it_and_over_a_non_empty_one_fails_with_ENOTEMPTY)
{
	if (!setup())
		return;
	const char *a = find_dir(NULL, NULL, 0);
	const char *ex1[] = {a, NULL};
	const char *b = find_dir(ex1, NULL, 0);
	const char *ex2[] = {a, b, NULL};
	const char *c = find_dir(ex2, NULL, 0);
	char *a_list = listing(at(a));
	char *c_list = listing(at(c));

	EXPECT_ERRNO(rename(at(a), at(b)), ENOTEMPTY);
	/* Empty b of its lower files: an empty merged directory. */
	char *b_list = listing(at(b));
	for (char *save, *name = strtok_r(b_list, " ", &save); name != NULL; name = strtok_r(NULL, " ", &save))
		ASSERT_SYSCALL_OK(unlink(cat2(at(b), name)));
	expect_listing(at(b), "");
	rename_expect_moved(at(a), at(b), 0, a_list);
	EXPECT_EQ(listed(base, b), 1);

	/* Over an empty directory of the upper layer. */
	ASSERT_SYSCALL_OK(mkdir(at("pal-empty"), 0755));
	rename_expect_moved(at(c), at("pal-empty"), 0, c_list);
	free_all(a_list, b_list, c_list);
}

TEST(overlay_rename, nested_renamed_directories_keep_their_contents)
{
	if (!setup())
		return;
	const char *a = find_dir(NULL, NULL, 0);
	const char *ex[] = {a, NULL};
	struct pick b = pick_dir(ex);
	char *a_list = listing(at(a));
	char *b_list = listing(at(b.dir));

	ASSERT_SYSCALL_OK(rename(at(a), at("pal-n1")));
	ASSERT_SYSCALL_OK(rename(at(b.dir), cat2(at("pal-n1"), "pal-inner")));
	ASSERT_SYSCALL_OK(rename(at("pal-n1"), at("pal-n2")));
	const char *inner = cat2(at("pal-n2"), "pal-inner");
	expect_listing(inner, b_list);
	expect_same_file(cat2(inner, b.file), b.data, b.len);
	EXPECT_EQ(listed(at("pal-n2"), "pal-inner"), 1);
	/* pal-n2 holds a's entries and pal-inner. */
	ASSERT_SYSCALL_OK(rename(inner, at("pal-n3")));
	expect_listing(at("pal-n2"), a_list);
	put(cat2(at("pal-n3"), b.file), O_TRUNC, "rewritten");
	expect_same_file(cat2(at("pal-n3"), b.file), "rewritten", 9);
	expect_gone(at(a));
	expect_gone(at(b.dir));
	expect_gone(at("pal-n1"));
	free_all(a_list, b_list, b.data);
}

TEST(overlay_rename, RENAME_EXCHANGE_swaps_a_lower_file_and_an_upper_file)
{
	if (!setup())
		return;
	struct pick a = pick_dir(NULL);
	const char *lower = cat2(at(a.dir), a.file), *upper = cat2(at(a.dir), "pal-xup");
	put(upper, O_CREAT | O_EXCL, "upper");

	exchange_expect(lower, upper, "upper", 5, a.data, a.len);
	EXPECT_EQ(listed(at(a.dir), a.file), 1);
	EXPECT_EQ(listed(at(a.dir), "pal-xup"), 1);
	exchange_expect(lower, upper, a.data, a.len, "upper", 5);

	/* Across directories: a lower file with an upper file of base. */
	const char *ex[] = {a.dir, NULL};
	struct pick b = pick_dir(ex);
	put(at("pal-xfile"), O_CREAT | O_EXCL, "x");
	exchange_expect(cat2(at(b.dir), b.file), at("pal-xfile"), "x", 1, b.data, b.len);
	free_all(a.data, b.data);
}

TEST(overlay_rename, RENAME_EXCHANGE_swaps_two_directories)
{
	if (!setup())
		return;
	struct pick a = pick_dir(NULL);
	const char *ex1[] = {a.dir, NULL};
	const char *b = find_dir(ex1, NULL, 0);
	char *a_list = listing(at(a.dir)), *b_list = listing(at(b));
	/* Make b merged. */
	put(cat2(at(b), "pal-in-b"), O_CREAT | O_EXCL, "b");
	char *b_merged = listing(at(b));

	ASSERT_SYSCALL_OK(test_renameat2(at(a.dir), at(b), RENAME_EXCHANGE));
	expect_listing(at(a.dir), b_merged);
	expect_listing(at(b), a_list);
	expect_same_file(cat2(at(b), a.file), a.data, a.len);
	expect_same_file(cat2(at(a.dir), "pal-in-b"), "b", 1);
	char *want = append_expect(cat2(at(b), a.file), a.data, a.len, "!");

	/* A lower directory with one of the upper layer. */
	const char *ex2[] = {a.dir, b, NULL};
	const char *c = find_dir(ex2, NULL, 0);
	char *c_list = listing(at(c));
	ASSERT_SYSCALL_OK(mkdir(at("pal-ud"), 0755));
	put(at("pal-ud/pal-x"), O_CREAT | O_EXCL, "x");
	ASSERT_SYSCALL_OK(test_renameat2(at(c), at("pal-ud"), RENAME_EXCHANGE));
	expect_listing(at(c), "pal-x");
	expect_listing(at("pal-ud"), c_list);
	EXPECT_EQ(listed(base, c), 1);
	EXPECT_EQ(listed(base, "pal-ud"), 1);
	free_all(a_list, b_list, b_merged, c_list, a.data, want);
}

TEST(overlay_rename, RENAME_NOREPLACE_refuses_an_existing_directory_and_moves_to_a_free_name)
{
	if (!setup())
		return;
	const char *a = find_dir(NULL, NULL, 0);
	const char *ex[] = {a, NULL};
	const char *b = find_dir(ex, NULL, 0);
	char *a_list = listing(at(a));
	EXPECT_ERRNO(test_renameat2(at(a), at(b), RENAME_NOREPLACE), EEXIST);
	rename_expect_moved(at(a), at("pal-nr"), RENAME_NOREPLACE, a_list);
	free(a_list);
}

TEST(overlay_rename, RENAME_WHITEOUT_fails_with_EINVAL)
{
	if (!setup())
		return;
	char file[256];
	const char *a = find_dir(NULL, file, sizeof(file));
	char *before = listing(at(a));
	EXPECT_ERRNO(test_renameat2(cat2(at(a), file), cat2(at(a), "pal-wh"), RENAME_WHITEOUT), EINVAL);
	put(cat2(at(a), "pal-wh-up"), O_CREAT | O_EXCL, "u");
	EXPECT_ERRNO(test_renameat2(cat2(at(a), "pal-wh-up"), cat2(at(a), "pal-wh"), RENAME_WHITEOUT), EINVAL);
	EXPECT_ERRNO(test_renameat2(at(a), at("pal-wh"), RENAME_WHITEOUT), EINVAL);
	ASSERT_SYSCALL_OK(unlink(cat2(at(a), "pal-wh-up")));
	expect_listing(at(a), before);
	expect_gone(at("pal-wh"));
	free(before);
}
