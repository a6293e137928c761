/* sysfs(2), the filesystem type index, and ustat(2), a filesystem's free
 * space by device number: obsolete calls, answered as Linux does. */
#include "test.h"

#include <sys/statfs.h>
#include <sys/sysmacros.h>

/* struct ustat (x86_64). */
struct ustat_ {
	int f_tfree;
	unsigned long f_tinode;
	char f_fname[6];
	char f_fpack[6];
};

/* Skips natively where the kernel lacks sysfs (CONFIG_SYSFS_SYSCALL). */
static void need_sysfs(void)
{
	errno = 0;
	if (!test_in_sandbox() && syscall(SYS_sysfs, 3) == -1 && errno == ENOSYS)
		TEST_SKIP("the host kernel is built without sysfs(2)");
}

/* Whether /proc/filesystems names type. */
static int listed(const char *type)
{
	FILE *f = fopen("/proc/filesystems", "r");
	char line[128];
	int found = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char *name = strchr(line, '\t');
		name = name ? name + 1 : line;
		name[strcspn(name, "\n")] = 0;
		if (strcmp(name, type) == 0)
			found = 1;
	}
	if (f)
		fclose(f);
	return found;
}

TEST(sysfs, count_and_names_agree_with_proc_filesystems)
{
	need_sysfs();
	long n = syscall(SYS_sysfs, 3);
	ASSERT_GT(n, 0);
	for (long i = 0; i < n; i++) {
		char name[256] = {0};
		ASSERT_SYSCALL_OK(syscall(SYS_sysfs, 2, i, name));
		EXPECT_TRUE(listed(name));
		/* And back from the name to its index. */
		EXPECT_EQ(syscall(SYS_sysfs, 1, name), i);
	}
	char name[256];
	EXPECT_ERRNO(syscall(SYS_sysfs, 2, n, name), EINVAL);
	EXPECT_ERRNO(syscall(SYS_sysfs, 2, -1, name), EINVAL);
}

TEST(sysfs, proc_and_tmpfs_have_indexes)
{
	need_sysfs();
	EXPECT_GE(syscall(SYS_sysfs, 1, "proc"), 0);
	EXPECT_GE(syscall(SYS_sysfs, 1, "tmpfs"), 0);
}

TEST(sysfs, errors)
{
	need_sysfs();
	EXPECT_ERRNO(syscall(SYS_sysfs, 1, "no-such-filesystem"), EINVAL);
	EXPECT_ERRNO(syscall(SYS_sysfs, 1, (char *)1), EFAULT);
	EXPECT_ERRNO(syscall(SYS_sysfs, 1, ""), ENOENT);
	EXPECT_ERRNO(syscall(SYS_sysfs, 2, 0, (char *)1), EFAULT);
	EXPECT_ERRNO(syscall(SYS_sysfs, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_sysfs, 4), EINVAL);
	EXPECT_ERRNO(syscall(SYS_sysfs, -1), EINVAL);
}

/* The new encoding of a device number ustat(2) takes. */
static unsigned new_encode_dev(dev_t d)
{
	unsigned major = major(d), minor = minor(d);
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

TEST(ustat, reports_the_free_space_of_a_mounted_filesystem)
{
	struct stat st;
	ASSERT_SYSCALL_OK(stat("/proc", &st));
	struct ustat_ u;
	memset(&u, 0x55, sizeof(u));
	ASSERT_SYSCALL_OK(syscall(SYS_ustat, new_encode_dev(st.st_dev), &u));
	struct statfs sf;
	ASSERT_SYSCALL_OK(statfs("/proc", &sf));
	EXPECT_EQ(u.f_tfree, (int)sf.f_bfree);
	EXPECT_EQ(u.f_tinode, sf.f_ffree);
	char zero[6] = {0};
	EXPECT_MEMEQ(u.f_fname, zero, 6);
	EXPECT_MEMEQ(u.f_fpack, zero, 6);
}

TEST(ustat, device_with_no_filesystem_is_EINVAL)
{
	struct ustat_ u;
	/* 4095:1048575, a device nothing is mounted from. */
	EXPECT_ERRNO(syscall(SYS_ustat, 0xfffffffful, &u), EINVAL);
}

TEST(ustat, bad_buffer_is_EFAULT)
{
	struct stat st;
	ASSERT_SYSCALL_OK(stat("/proc", &st));
	EXPECT_ERRNO(syscall(SYS_ustat, new_encode_dev(st.st_dev), (void *)1), EFAULT);
}
