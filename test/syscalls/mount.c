/*
 * mount(2), umount2(2), pivot_root(2) and unshare(CLONE_NEWNS).
 *
 * Natively these run as root on the host: every case first enters a mount
 * namespace of its own with every mount private
 * (test_enter_private_mount_ns), so nothing it mounts is seen outside the
 * case. Without CAP_SYS_ADMIN (an unprivileged run) the cases that need it
 * return early.
 */
#include "test.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>

#ifndef MS_REC
#define MS_REC 16384
#endif

/* Makes test_path(name) a directory and returns its path. */
static const char *mkdir_path(const char *name)
{
	const char *p = test_path(name);
	ASSERT_SYSCALL_OK(mkdir(p, 0755));
	return p;
}

static int exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* Mounts a tmpfs with options opts on a new directory and returns a
 * descriptor of a new file in it, open for writing. */
static int create_in_tmpfs(const char *opts)
{
	const char *d = mkdir_path("d");
	ASSERT_SYSCALL_OK(mount("none", d, "tmpfs", 0, opts));
	char f[512];
	snprintf(f, sizeof(f), "%s/big", d);
	return ASSERT_SYSCALL_OK(open(f, O_CREAT | O_WRONLY, 0644));
}

/* Returns the contents of a /proc file (static buffer). */
static const char *read_proc(const char *p)
{
	static char buf[65536];
	int fd = ASSERT_SYSCALL_OK(open(p, O_RDONLY));
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return buf;
}

/* Finds the /proc/self/mounts line whose mount point is mp. */
static int mounts_line(const char *mp, char *out, size_t outlen)
{
	const char *s = read_proc("/proc/self/mounts");
	char want[512];
	snprintf(want, sizeof(want), " %s ", mp);
	const char *found = NULL;
	for (const char *l = s; *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char line[1024];
		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		if (strstr(line, want))
			found = l; /* the last one is the topmost */
		l += len + (e != NULL);
	}
	if (!found)
		return 0;
	const char *e = strchr(found, '\n');
	snprintf(out, outlen, "%.*s", (int)(e ? e - found : (long)strlen(found)), found);
	return 1;
}

TEST(mount, tmpfs_on_a_directory_hides_its_contents_and_holds_new_files)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	char f[512];
	snprintf(f, sizeof(f), "%s/below", d);
	close(ASSERT_SYSCALL_OK(open(f, O_CREAT | O_WRONLY, 0644)));
	struct stat before, after;
	ASSERT_SYSCALL_OK(stat(d, &before));
	ASSERT_SYSCALL_OK(mount("palisade-test", d, "tmpfs", 0, NULL));
	ASSERT_SYSCALL_OK(stat(d, &after));
	EXPECT_NE(before.st_dev, after.st_dev);
	EXPECT_FALSE(exists(f));
	char g[512];
	snprintf(g, sizeof(g), "%s/new", d);
	int fd = ASSERT_SYSCALL_OK(open(g, O_CREAT | O_RDWR, 0644));
	EXPECT_EQ(write(fd, "hello", 5), 5);
	close(fd);
	struct statfs sfs;
	ASSERT_SYSCALL_OK(statfs(d, &sfs));
	EXPECT_EQ(sfs.f_type, 0x01021994);
	ASSERT_SYSCALL_OK(umount(d));
	EXPECT_TRUE(exists(f));
	EXPECT_FALSE(exists(g));
}

TEST(mount, tmpfs_size_option_limits_the_data_it_holds)
{
	if (!test_enter_private_mount_ns())
		return;
	int fd = create_in_tmpfs("size=16k");
	char buf[4096];
	memset(buf, 'x', sizeof(buf));
	long total = 0;
	ssize_t n;
	while ((n = write(fd, buf, sizeof(buf))) > 0 && total < (1 << 20))
		total += n;
	EXPECT_EQ(n, -1);
	EXPECT_EQ(errno, ENOSPC);
	EXPECT_LE(total, 16384);
	close(fd);
}

TEST(mount, tmpfs_full_mid_write_returns_the_bytes_that_fit_then_ENOSPC)
{
	if (!test_enter_private_mount_ns())
		return;
	int fd = create_in_tmpfs("size=64k");
	static char buf[1 << 20];
	memset(buf, 'y', sizeof(buf));
	EXPECT_EQ(write(fd, buf, 1000), 1000);
	EXPECT_EQ(write(fd, buf, sizeof(buf)), 65536 - 1000);
	EXPECT_ERRNO(write(fd, buf, 1), ENOSPC);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 65536);
	close(fd);
}

TEST(mount, tmpfs_mode_uid_and_gid_options_set_the_root_directory)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	ASSERT_SYSCALL_OK(mount("none", d, "tmpfs", 0, "mode=0710,uid=123,gid=456"));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(d, &st));
	EXPECT_EQ(st.st_mode & 07777, 0710);
	EXPECT_EQ(st.st_uid, 123);
	EXPECT_EQ(st.st_gid, 456);
}

TEST(mount, bad_tmpfs_option_fails_with_EINVAL)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	EXPECT_ERRNO(mount("none", d, "tmpfs", 0, "mode=99999999"), EINVAL);
}

TEST(mount, read_only_mount_fails_writes_with_EROFS)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	ASSERT_SYSCALL_OK(mount("none", d, "tmpfs", MS_RDONLY, NULL));
	char f[512];
	snprintf(f, sizeof(f), "%s/f", d);
	EXPECT_ERRNO(open(f, O_CREAT | O_WRONLY, 0644), EROFS);
	EXPECT_ERRNO(mkdir(f, 0755), EROFS);
}

TEST(mount, remount_switches_between_read_only_and_read_write)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	ASSERT_SYSCALL_OK(mount("none", d, "tmpfs", 0, NULL));
	char f[512];
	snprintf(f, sizeof(f), "%s/f", d);
	close(ASSERT_SYSCALL_OK(open(f, O_CREAT | O_WRONLY, 0644)));
	ASSERT_SYSCALL_OK(mount(NULL, d, NULL, MS_REMOUNT | MS_RDONLY, NULL));
	EXPECT_ERRNO(open(f, O_WRONLY), EROFS);
	EXPECT_SYSCALL_OK(close(ASSERT_SYSCALL_OK(open(f, O_RDONLY))));
	ASSERT_SYSCALL_OK(mount(NULL, d, NULL, MS_REMOUNT, NULL));
	EXPECT_SYSCALL_OK(close(ASSERT_SYSCALL_OK(open(f, O_WRONLY))));
}

TEST(mount, remount_of_a_non_mount_point_fails_with_EINVAL)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	EXPECT_ERRNO(mount(NULL, d, NULL, MS_REMOUNT | MS_RDONLY, NULL), EINVAL);
}

TEST(mount, bind_mount_shows_the_same_files_at_both_places)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *a = mkdir_path("a");
	const char *b = mkdir_path("b");
	char p[512];
	snprintf(p, sizeof(p), "%s/f", a);
	close(ASSERT_SYSCALL_OK(open(p, O_CREAT | O_WRONLY, 0644)));
	ASSERT_SYSCALL_OK(mount(a, b, NULL, MS_BIND, NULL));
	snprintf(p, sizeof(p), "%s/f", b);
	EXPECT_TRUE(exists(p));
	snprintf(p, sizeof(p), "%s/g", b);
	close(ASSERT_SYSCALL_OK(open(p, O_CREAT | O_WRONLY, 0644)));
	snprintf(p, sizeof(p), "%s/g", a);
	EXPECT_TRUE(exists(p));
	struct stat sa, sb;
	ASSERT_SYSCALL_OK(stat(a, &sa));
	ASSERT_SYSCALL_OK(stat(b, &sb));
	EXPECT_EQ(sa.st_ino, sb.st_ino);
	EXPECT_EQ(sa.st_dev, sb.st_dev);
}

TEST(mount, bind_remount_read_only_affects_only_the_bind_mount)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *a = mkdir_path("a");
	const char *b = mkdir_path("b");
	ASSERT_SYSCALL_OK(mount("none", a, "tmpfs", 0, NULL));
	ASSERT_SYSCALL_OK(mount(a, b, NULL, MS_BIND, NULL));
	ASSERT_SYSCALL_OK(mount(NULL, b, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL));
	char p[512];
	snprintf(p, sizeof(p), "%s/x", b);
	EXPECT_ERRNO(open(p, O_CREAT | O_WRONLY, 0644), EROFS);
	snprintf(p, sizeof(p), "%s/x", a);
	EXPECT_SYSCALL_OK(close(ASSERT_SYSCALL_OK(open(p, O_CREAT | O_WRONLY, 0644))));
}

TEST(mount, recursive_bind_copies_the_mounts_below_the_source)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *a = mkdir_path("a");
	const char *b = mkdir_path("b");
	const char *c = mkdir_path("c");
	char sub[512], p[600];
	snprintf(sub, sizeof(sub), "%s/sub", a);
	ASSERT_SYSCALL_OK(mkdir(sub, 0755));
	ASSERT_SYSCALL_OK(mount("none", sub, "tmpfs", 0, NULL));
	snprintf(p, sizeof(p), "%s/file", sub);
	close(ASSERT_SYSCALL_OK(open(p, O_CREAT | O_WRONLY, 0644)));
	ASSERT_SYSCALL_OK(mount(a, b, NULL, MS_BIND | MS_REC, NULL));
	ASSERT_SYSCALL_OK(mount(a, c, NULL, MS_BIND, NULL));
	snprintf(p, sizeof(p), "%s/sub/file", b);
	EXPECT_TRUE(exists(p));
	snprintf(p, sizeof(p), "%s/sub/file", c);
	EXPECT_FALSE(exists(p));
}

TEST(mount, bind_of_an_unbindable_mount_fails_with_EINVAL)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *a = mkdir_path("a");
	const char *b = mkdir_path("b");
	ASSERT_SYSCALL_OK(mount("none", a, "tmpfs", 0, NULL));
	ASSERT_SYSCALL_OK(mount(NULL, a, NULL, MS_UNBINDABLE, NULL));
	EXPECT_ERRNO(mount(a, b, NULL, MS_BIND, NULL), EINVAL);
}

TEST(mount, propagation_types_are_accepted_one_at_a_time)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *a = mkdir_path("a");
	ASSERT_SYSCALL_OK(mount("none", a, "tmpfs", 0, NULL));
	EXPECT_SYSCALL_OK(mount(NULL, a, NULL, MS_SHARED, NULL));
	EXPECT_SYSCALL_OK(mount(NULL, a, NULL, MS_SLAVE, NULL));
	EXPECT_SYSCALL_OK(mount(NULL, a, NULL, MS_PRIVATE | MS_REC, NULL));
	EXPECT_ERRNO(mount(NULL, a, NULL, MS_PRIVATE | MS_SHARED, NULL), EINVAL);
	const char *n = mkdir_path("n");
	EXPECT_ERRNO(mount(NULL, n, NULL, MS_PRIVATE, NULL), EINVAL);
}

TEST(mount, shared_mount_shows_its_peer_group_in_mountinfo)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *a = mkdir_path("a");
	ASSERT_SYSCALL_OK(mount("none", a, "tmpfs", 0, NULL));
	ASSERT_SYSCALL_OK(mount(NULL, a, NULL, MS_SHARED, NULL));
	const char *s = read_proc("/proc/self/mountinfo");
	char want[512];
	snprintf(want, sizeof(want), " %s rw,relatime shared:", a);
	EXPECT_TRUE(strstr(s, want) != NULL);
}

TEST(umount2, busy_mount_fails_with_EBUSY_and_MNT_DETACH_detaches_it)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	ASSERT_SYSCALL_OK(mount("none", d, "tmpfs", 0, NULL));
	char f[512];
	snprintf(f, sizeof(f), "%s/f", d);
	int fd = ASSERT_SYSCALL_OK(open(f, O_CREAT | O_RDWR, 0644));
	EXPECT_EQ(write(fd, "data", 4), 4);
	EXPECT_ERRNO(umount2(d, 0), EBUSY);
	EXPECT_ERRNO(umount2(d, MNT_FORCE), EBUSY);
	ASSERT_SYSCALL_OK(umount2(d, MNT_DETACH));
	EXPECT_FALSE(exists(f));
	char buf[8] = {0};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 4);
	EXPECT_STREQ(buf, "data");
	close(fd);
	EXPECT_ERRNO(umount2(d, 0), EINVAL);
}

TEST(umount2, mount_with_a_working_directory_inside_is_busy)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	ASSERT_SYSCALL_OK(mount("none", d, "tmpfs", 0, NULL));
	ASSERT_SYSCALL_OK(chdir(d));
	EXPECT_ERRNO(umount2(d, 0), EBUSY);
	ASSERT_SYSCALL_OK(chdir("/"));
	EXPECT_SYSCALL_OK(umount2(d, 0));
}

TEST(umount2, mount_with_a_mount_below_it_is_busy)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	ASSERT_SYSCALL_OK(mount("none", d, "tmpfs", 0, NULL));
	char sub[512];
	snprintf(sub, sizeof(sub), "%s/sub", d);
	ASSERT_SYSCALL_OK(mkdir(sub, 0755));
	ASSERT_SYSCALL_OK(mount("none", sub, "tmpfs", 0, NULL));
	EXPECT_ERRNO(umount2(d, 0), EBUSY);
	EXPECT_SYSCALL_OK(umount2(sub, 0));
	EXPECT_SYSCALL_OK(umount2(d, 0));
}

TEST(umount2, non_mount_point_fails_with_EINVAL)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	EXPECT_ERRNO(umount2(d, 0), EINVAL);
	EXPECT_ERRNO(umount2(test_path("missing"), 0), ENOENT);
	EXPECT_ERRNO(umount2(d, 0x80000000), EINVAL);
}

TEST(mount, noexec_mount_makes_execve_fail_with_EACCES)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *a = mkdir_path("a");
	const char *b = mkdir_path("b");
	ASSERT_SYSCALL_OK(mount("none", a, "tmpfs", MS_NOEXEC, NULL));
	ASSERT_SYSCALL_OK(mount("none", b, "tmpfs", 0, NULL));
	char pa[512], pb[512];
	snprintf(pa, sizeof(pa), "%s/prog", a);
	snprintf(pb, sizeof(pb), "%s/prog", b);
	const char *paths[2] = {pa, pb};
	for (int i = 0; i < 2; i++) {
		int fd = ASSERT_SYSCALL_OK(open(paths[i], O_CREAT | O_WRONLY, 0755));
		EXPECT_EQ(write(fd, "junk", 4), 4);
		close(fd);
	}
	char *argv[] = {"prog", NULL};
	char *envp[] = {NULL};
	EXPECT_ERRNO(execve(pa, argv, envp), EACCES);
	EXPECT_ERRNO(execve(pb, argv, envp), ENOEXEC);
}

TEST(mount, nodev_mount_makes_opening_devices_fail_with_EACCES)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *a = mkdir_path("a");
	const char *b = mkdir_path("b");
	ASSERT_SYSCALL_OK(mount("none", a, "tmpfs", MS_NODEV, NULL));
	ASSERT_SYSCALL_OK(mount("none", b, "tmpfs", 0, NULL));
	char pa[512], pb[512];
	snprintf(pa, sizeof(pa), "%s/null", a);
	snprintf(pb, sizeof(pb), "%s/null", b);
	ASSERT_SYSCALL_OK(mknod(pa, S_IFCHR | 0666, makedev(1, 3)));
	ASSERT_SYSCALL_OK(mknod(pb, S_IFCHR | 0666, makedev(1, 3)));
	EXPECT_ERRNO(open(pa, O_RDWR), EACCES);
	EXPECT_SYSCALL_OK(close(ASSERT_SYSCALL_OK(open(pb, O_RDWR))));
}

TEST(mount, unknown_filesystem_type_fails_with_ENODEV)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	EXPECT_ERRNO(mount("none", d, "palisade-no-such-fs", 0, NULL), ENODEV);
}

TEST(mount, missing_target_fails_with_ENOENT)
{
	if (!test_enter_private_mount_ns())
		return;
	EXPECT_ERRNO(mount("none", test_path("missing"), "tmpfs", 0, NULL), ENOENT);
}

TEST(mount, without_CAP_SYS_ADMIN_fails_with_EPERM)
{
	if (!test_enter_private_mount_ns()) {
		/* Unprivileged already: mount must be refused. */
		EXPECT_ERRNO(mount("none", test_tmpdir(), "tmpfs", 0, NULL), EPERM);
		return;
	}
	/* Let the unprivileged child reach d. */
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0755));
	const char *d = mkdir_path("d");
	ASSERT_SYSCALL_OK(mount("none", d, "tmpfs", 0, NULL));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setuid(65534));
		EXPECT_ERRNO(mount("none", d, "tmpfs", 0, NULL), EPERM);
		EXPECT_ERRNO(umount2(d, 0), EPERM);
		EXPECT_ERRNO(unshare(CLONE_NEWNS), EPERM);
		EXPECT_ERRNO(syscall(SYS_pivot_root, d, d), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(mount, proc_mounts_and_mountinfo_list_the_new_mount)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	ASSERT_SYSCALL_OK(mount("palisade-src", d, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL));
	char line[1024];
	ASSERT_TRUE(mounts_line(d, line, sizeof(line)));
	char want[1024];
	snprintf(want, sizeof(want), "palisade-src %s tmpfs ro,nosuid,nodev,noexec,relatime", d);
	EXPECT_TRUE(strncmp(line, want, strlen(want)) == 0);
	if (strncmp(line, want, strlen(want)) != 0)
		fprintf(stderr, "line: %s\nwant: %s\n", line, want);

	/* mountinfo: ID, parent ID, major:minor, root, mount point, options. */
	const char *s = read_proc("/proc/self/mountinfo");
	snprintf(want, sizeof(want), " / %s ro,nosuid,nodev,noexec,relatime ", d);
	const char *l = strstr(s, want);
	ASSERT_TRUE(l != NULL);
	while (l > s && l[-1] != '\n')
		l--;
	int id, parent;
	unsigned maj, min;
	ASSERT_EQ(sscanf(l, "%d %d %u:%u", &id, &parent, &maj, &min), 4);
	EXPECT_NE(id, parent);
	struct stat st;
	ASSERT_SYSCALL_OK(stat(d, &st));
	EXPECT_EQ(maj, major(st.st_dev));
	EXPECT_EQ(min, minor(st.st_dev));
	const char *tail = strstr(l, " - tmpfs palisade-src ro");
	const char *eol = strchr(l, '\n');
	EXPECT_TRUE(tail != NULL && (eol == NULL || tail < eol));
}

TEST(mount, bind_mount_of_a_subdirectory_shows_its_root_in_mountinfo)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *a = mkdir_path("a");
	const char *b = mkdir_path("b");
	ASSERT_SYSCALL_OK(mount("none", a, "tmpfs", 0, NULL));
	char sub[512];
	snprintf(sub, sizeof(sub), "%s/x", a);
	ASSERT_SYSCALL_OK(mkdir(sub, 0755));
	ASSERT_SYSCALL_OK(mount(sub, b, NULL, MS_BIND, NULL));
	const char *s = read_proc("/proc/self/mountinfo");
	char want[512];
	snprintf(want, sizeof(want), " /x %s rw", b);
	EXPECT_TRUE(strstr(s, want) != NULL);
}

TEST(unshare, CLONE_NEWNS_keeps_the_childs_mounts_from_its_parent)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *d = mkdir_path("d");
	char f[512];
	snprintf(f, sizeof(f), "%s/child", d);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(unshare(CLONE_NEWNS));
		ASSERT_SYSCALL_OK(mount("none", d, "tmpfs", 0, NULL));
		close(ASSERT_SYSCALL_OK(open(f, O_CREAT | O_WRONLY, 0644)));
		ASSERT_TRUE(exists(f));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_FALSE(exists(f));
	EXPECT_ERRNO(umount2(d, 0), EINVAL);
}

TEST(pivot_root, moves_the_root_to_new_root_and_the_old_one_to_put_old)
{
	if (!test_enter_private_mount_ns())
		return;
	const char *nr = mkdir_path("newroot");
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(unshare(CLONE_NEWNS));
		ASSERT_SYSCALL_OK(mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL));
		ASSERT_SYSCALL_OK(mount("none", nr, "tmpfs", 0, NULL));
		char p[512];
		snprintf(p, sizeof(p), "%s/old", nr);
		ASSERT_SYSCALL_OK(mkdir(p, 0755));
		snprintf(p, sizeof(p), "%s/marker", nr);
		close(ASSERT_SYSCALL_OK(open(p, O_CREAT | O_WRONLY, 0644)));
		snprintf(p, sizeof(p), "%s/old", nr);
		ASSERT_SYSCALL_OK(syscall(SYS_pivot_root, nr, p));
		ASSERT_SYSCALL_OK(chdir("/"));
		EXPECT_TRUE(exists("/marker"));
		/* The old root, with the test directory, is now below /old. */
		snprintf(p, sizeof(p), "/old%s", nr);
		EXPECT_TRUE(exists(p));
		ASSERT_SYSCALL_OK(umount2("/old", MNT_DETACH));
		EXPECT_FALSE(exists(p));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	/* The parent's root is unchanged. */
	char p[512];
	snprintf(p, sizeof(p), "%s/marker", nr);
	EXPECT_FALSE(exists(p));
}

TEST(pivot_root, follows_the_rules_on_new_root_and_put_old)
{
	if (!test_enter_private_mount_ns())
		return;
	/* Everything below a tmpfs of its own, off the root mount. */
	const char *base = mkdir_path("base");
	ASSERT_SYSCALL_OK(mount("none", base, "tmpfs", 0, NULL));
	static char nr[512], other[512];
	snprintf(nr, sizeof(nr), "%s/newroot", base);
	snprintf(other, sizeof(other), "%s/other", base);
	ASSERT_SYSCALL_OK(mkdir(nr, 0755));
	ASSERT_SYSCALL_OK(mkdir(other, 0755));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(unshare(CLONE_NEWNS));
		ASSERT_SYSCALL_OK(mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL));
		char old[600];
		snprintf(old, sizeof(old), "%s/old", nr);
		ASSERT_SYSCALL_OK(mkdir(old, 0755));
		/* new_root is not a mount point. */
		EXPECT_ERRNO(syscall(SYS_pivot_root, nr, old), EINVAL);
		ASSERT_SYSCALL_OK(mount("none", nr, "tmpfs", 0, NULL));
		ASSERT_SYSCALL_OK(mkdir(old, 0755));
		/* put_old is not below new_root. */
		EXPECT_ERRNO(syscall(SYS_pivot_root, nr, other), EINVAL);
		/* new_root is not a directory. */
		char f[600];
		snprintf(f, sizeof(f), "%s/file", nr);
		close(ASSERT_SYSCALL_OK(open(f, O_CREAT | O_WRONLY, 0644)));
		EXPECT_ERRNO(syscall(SYS_pivot_root, f, old), ENOTDIR);
		/* new_root on the current root mount. */
		EXPECT_ERRNO(syscall(SYS_pivot_root, "/", old), EBUSY);
		EXPECT_ERRNO(syscall(SYS_pivot_root, nr, test_path("missing")), ENOENT);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
