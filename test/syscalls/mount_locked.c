/*
 * Locked mounts (mount_namespaces(7), "Restrictions on mount namespaces"):
 * the mounts a mount namespace inherits from a more privileged one come as
 * a unit. Root in the less privileged namespace may mount over them and
 * unmount what it mounted itself, but umount2(2) and MS_MOVE of a locked
 * mount fail with EINVAL, so does a bind without MS_REC of a tree with
 * locked mounts in it, and a remount that clears a flag the mount was
 * locked with fails with EPERM.
 *
 * Natively each case (as root) first builds a small tree in a mount
 * namespace of its own: a tmpfs T with the tmpfs mounts T/plain and T/ro
 * (ro, nosuid, nodev, noexec) and the directory T/free, then enters a new
 * user namespace with a new mount namespace (unshare(CLONE_NEWUSER |
 * CLONE_NEWNS), mapping root to itself), where every inherited mount is
 * locked. Without root or user namespaces the cases return early.
 *
 * The sandbox has no user namespaces: there its own mounts are locked (the
 * guest must never see what they cover), and the cases, after
 * unshare(CLONE_NEWNS) so that what they mount stays their own, use them:
 * "/" for T (with /proc below it and /etc free of mounts), /tmp for
 * T/plain and /sys (ro, nosuid, nodev, noexec) for T/ro. The sandbox says
 * who it is in uname(2)'s version ("... Palisade").
 */
#include "test.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/utsname.h>

#ifndef MS_REC
#define MS_REC 16384
#endif

/* The locked mounts a case works on. */
struct locked {
	/* tree is the root of a mount with locked mounts below it; child
	 * is the name of one (a directory of tree's mount), free that of a
	 * directory of tree's mount with no mount at or below it. */
	const char *tree, *child, *free;
	/* plain is a locked, writable mount with no mounts below it. */
	const char *plain;
	/* ro is a locked mount with ro, nosuid, nodev and noexec. */
	const char *ro;
};

static int in_sandbox(void)
{
	struct utsname u;
	return uname(&u) == 0 && strstr(u.version, "Palisade") != NULL;
}

static void write_file(const char *path, const char *s)
{
	int fd = ASSERT_SYSCALL_OK(open(path, O_WRONLY));
	ASSERT_EQ(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* Returns a + "/" + b in one of a ring of static buffers. */
static const char *join(const char *a, const char *b)
{
	static char bufs[8][512];
	static int next;
	char *p = bufs[next++ % 8];
	snprintf(p, sizeof(bufs[0]), "%s/%s", a, b);
	return p;
}

static const char *mkdir_in(const char *dir, const char *name)
{
	const char *p = join(dir, name);
	ASSERT_SYSCALL_OK(mkdir(p, 0755));
	return p;
}

/* Sets up l as the comment at the top says; returns 0 if the case can't
 * run here and should return. */
static int enter_locked(struct locked *l)
{
	if (in_sandbox()) {
		ASSERT_SYSCALL_OK(unshare(CLONE_NEWNS));
		*l = (struct locked){.tree = "/", .child = "proc", .free = "etc", .plain = "/tmp", .ro = "/sys"};
		return 1;
	}
	if (!test_enter_private_mount_ns())
		return 0;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	const char *t = mkdir_in(test_tmpdir(), "t");
	ASSERT_SYSCALL_OK(mount("none", t, "tmpfs", 0, NULL));
	ASSERT_SYSCALL_OK(mount("none", mkdir_in(t, "plain"), "tmpfs", 0, NULL));
	ASSERT_SYSCALL_OK(mount("none", mkdir_in(t, "ro"), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	mkdir_in(t, "free");
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
		return 0; /* no user namespaces here (disabled, or chrooted) */
	char map[64];
	write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	write_file("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	write_file("/proc/self/gid_map", map);
	static char plain[512], ro[512];
	snprintf(plain, sizeof(plain), "%s/plain", t);
	snprintf(ro, sizeof(ro), "%s/ro", t);
	*l = (struct locked){.tree = t, .child = "plain", .free = "free", .plain = plain, .ro = ro};
	return 1;
}

static dev_t dev_of(const char *p)
{
	struct stat st;
	ASSERT_SYSCALL_OK(stat(p, &st));
	return st.st_dev;
}

TEST(mount_locked, umount_of_a_locked_mount_fails_with_EINVAL)
{
	struct locked l;
	if (!enter_locked(&l))
		return;
	dev_t before = dev_of(l.plain);
	EXPECT_ERRNO(umount2(l.plain, 0), EINVAL);
	EXPECT_ERRNO(umount2(l.plain, MNT_DETACH), EINVAL);
	EXPECT_ERRNO(umount2(l.plain, MNT_FORCE), EINVAL);
	EXPECT_ERRNO(umount2(l.ro, MNT_DETACH), EINVAL);
	EXPECT_ERRNO(umount2(join(l.tree, l.child), MNT_DETACH), EINVAL);
	EXPECT_EQ(dev_of(l.plain), before);
}

TEST(mount_locked, mount_over_a_locked_mount_can_be_unmounted)
{
	struct locked l;
	if (!enter_locked(&l))
		return;
	dev_t before = dev_of(l.plain);
	ASSERT_SYSCALL_OK(mount("none", l.plain, "tmpfs", 0, NULL));
	EXPECT_NE(dev_of(l.plain), before);
	EXPECT_SYSCALL_OK(umount2(l.plain, 0));
	EXPECT_EQ(dev_of(l.plain), before);
}

TEST(mount_locked, MS_MOVE_of_a_locked_mount_fails_with_EINVAL)
{
	struct locked l;
	if (!enter_locked(&l))
		return;
	const char *to = mkdir_in(test_tmpdir(), "to");
	EXPECT_ERRNO(mount(l.plain, to, NULL, MS_MOVE, NULL), EINVAL);
	EXPECT_ERRNO(mount(l.ro, to, NULL, MS_MOVE, NULL), EINVAL);
	/* A mount of its own moves. */
	const char *own = mkdir_in(test_tmpdir(), "own");
	ASSERT_SYSCALL_OK(mount("none", own, "tmpfs", 0, NULL));
	close(ASSERT_SYSCALL_OK(open(join(own, "f"), O_CREAT | O_WRONLY, 0644)));
	EXPECT_SYSCALL_OK(mount(own, to, NULL, MS_MOVE, NULL));
	EXPECT_SYSCALL_OK(access(join(to, "f"), F_OK));
	EXPECT_ERRNO(access(join(own, "f"), F_OK), ENOENT);
}

TEST(mount_locked, bind_without_MS_REC_of_a_tree_with_locked_mounts_fails_with_EINVAL)
{
	struct locked l;
	if (!enter_locked(&l))
		return;
	const char *to = mkdir_in(test_tmpdir(), "to");
	EXPECT_ERRNO(mount(l.tree, to, NULL, MS_BIND, NULL), EINVAL);
	/* Nothing locked at or below the source: fine, even if locked
	 * itself. */
	EXPECT_SYSCALL_OK(mount(join(l.tree, l.free), to, NULL, MS_BIND, NULL));
	EXPECT_SYSCALL_OK(mount(l.plain, mkdir_in(test_tmpdir(), "to2"), NULL, MS_BIND, NULL));
	EXPECT_SYSCALL_OK(mount(l.ro, mkdir_in(test_tmpdir(), "to3"), NULL, MS_BIND, NULL));
}

TEST(mount_locked, recursive_bind_keeps_the_copies_locked_but_not_its_top)
{
	struct locked l;
	if (!enter_locked(&l))
		return;
	const char *to = mkdir_in(test_tmpdir(), "to");
	ASSERT_SYSCALL_OK(mount(l.tree, to, NULL, MS_BIND | MS_REC, NULL));
	EXPECT_EQ(dev_of(join(to, l.child)), dev_of(join(l.tree, l.child)));
	EXPECT_ERRNO(umount2(join(to, l.child), MNT_DETACH), EINVAL);
	EXPECT_ERRNO(mount(join(to, l.child), mkdir_in(test_tmpdir(), "m"), NULL, MS_MOVE, NULL), EINVAL);
	EXPECT_SYSCALL_OK(umount2(to, MNT_DETACH));
}

TEST(mount_locked, lazy_umount_of_a_copy_leaves_its_locked_mounts_attached)
{
	struct locked l;
	if (!enter_locked(&l))
		return;
	const char *to = mkdir_in(test_tmpdir(), "to");
	ASSERT_SYSCALL_OK(mount(l.tree, to, NULL, MS_BIND | MS_REC, NULL));
	/* A mount of its own on the copy is not locked. */
	ASSERT_SYSCALL_OK(mount("none", join(to, l.free), "tmpfs", 0, NULL));
	int fd = ASSERT_SYSCALL_OK(open(to, O_RDONLY | O_DIRECTORY));
	struct stat top, child, own;
	ASSERT_SYSCALL_OK(fstat(fd, &top));
	ASSERT_SYSCALL_OK(fstatat(fd, l.child, &child, 0));
	ASSERT_SYSCALL_OK(fstatat(fd, l.free, &own, 0));
	ASSERT_NE(child.st_dev, top.st_dev);
	ASSERT_NE(own.st_dev, top.st_dev);
	ASSERT_SYSCALL_OK(umount2(to, MNT_DETACH));
	struct stat st;
	/* Still reachable through fd, the locked one still covers its
	 * directory, and the one of its own is gone. */
	ASSERT_SYSCALL_OK(fstatat(fd, l.child, &st, 0));
	EXPECT_EQ(st.st_dev, child.st_dev);
	ASSERT_SYSCALL_OK(fstatat(fd, l.free, &st, 0));
	EXPECT_EQ(st.st_dev, top.st_dev);
	close(fd);
}

TEST(mount_locked, remount_clearing_a_locked_flag_fails_with_EPERM)
{
	struct locked l;
	if (!enter_locked(&l))
		return;
	const unsigned long all = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	EXPECT_ERRNO(mount(NULL, l.ro, NULL, MS_REMOUNT | MS_BIND | (all & ~MS_RDONLY), NULL), EPERM);
	EXPECT_ERRNO(mount(NULL, l.ro, NULL, MS_REMOUNT | MS_BIND | (all & ~MS_NOSUID), NULL), EPERM);
	EXPECT_ERRNO(mount(NULL, l.ro, NULL, MS_REMOUNT | MS_BIND | (all & ~MS_NODEV), NULL), EPERM);
	EXPECT_ERRNO(mount(NULL, l.ro, NULL, MS_REMOUNT | MS_BIND | (all & ~MS_NOEXEC), NULL), EPERM);
	EXPECT_ERRNO(mount(NULL, l.ro, NULL, MS_REMOUNT | (all & ~MS_RDONLY), NULL), EPERM);
	/* The access-time flags are locked too. */
	EXPECT_ERRNO(mount(NULL, l.ro, NULL, MS_REMOUNT | MS_BIND | all | MS_NOATIME, NULL), EPERM);
	/* Keeping them all (the access time too: none given) is fine. */
	EXPECT_SYSCALL_OK(mount(NULL, l.ro, NULL, MS_REMOUNT | MS_BIND | all, NULL));
	EXPECT_ERRNO(mkdir(join(l.ro, "x"), 0755), EROFS);
}

TEST(mount_locked, unshare_CLONE_NEWNS_keeps_the_locks)
{
	struct locked l;
	if (!enter_locked(&l))
		return;
	ASSERT_SYSCALL_OK(unshare(CLONE_NEWNS));
	EXPECT_ERRNO(umount2(l.plain, MNT_DETACH), EINVAL);
	EXPECT_ERRNO(mount(l.tree, mkdir_in(test_tmpdir(), "to"), NULL, MS_BIND, NULL), EINVAL);
	EXPECT_ERRNO(mount(NULL, l.ro, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), EPERM);
}

/* A directory for the case below plain: its test_tmpdir() if that is
 * below plain (the sandbox's /tmp), or plain/w. Returns the path as seen
 * from plain. */
static const char *work_below(const char *plain)
{
	size_t n = strlen(plain);
	const char *t = test_tmpdir();
	if (strncmp(t, plain, n) == 0 && t[n] == '/')
		return t + n;
	ASSERT_SYSCALL_OK(mkdir(join(plain, "w"), 0755));
	return "/w";
}

TEST(pivot_root, to_a_locked_mount_fails_with_EINVAL)
{
	struct locked l;
	if (!enter_locked(&l))
		return;
	char w[512];
	snprintf(w, sizeof(w), "%s%s", l.plain, work_below(l.plain));
	EXPECT_ERRNO(syscall(SYS_pivot_root, l.plain, mkdir_in(w, "old")), EINVAL);
}

TEST(pivot_root, from_a_locked_root_passes_the_lock_to_the_new_root)
{
	struct locked l;
	if (!enter_locked(&l))
		return;
	const char *w = work_below(l.plain);
	ASSERT_SYSCALL_OK(chroot(l.plain));
	ASSERT_SYSCALL_OK(chdir("/"));
	const char *nr = mkdir_in(w, "new");
	ASSERT_SYSCALL_OK(mount("none", nr, "tmpfs", 0, NULL));
	const char *old = mkdir_in(nr, "old");
	/* The root is the locked plain now. */
	EXPECT_ERRNO(umount2("/", MNT_DETACH), EINVAL);
	ASSERT_SYSCALL_OK(syscall(SYS_pivot_root, nr, old));
	ASSERT_SYSCALL_OK(chdir("/"));
	/* The new root took over the old one's lock, and the old one, now
	 * below /old, is the caller's own. */
	EXPECT_ERRNO(umount2("/", MNT_DETACH), EINVAL);
	EXPECT_SYSCALL_OK(umount2("/old", MNT_DETACH));
}
