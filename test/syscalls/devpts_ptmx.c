/* devpts's own multiplexer node, /dev/pts/ptmx (pts(4), Linux's
 * Documentation/filesystems/devpts.rst): a character device 5:2 listed
 * in /dev/pts that opens a new master, as /dev/ptmx does. Container
 * runtimes make /dev/ptmx a symlink to it. */
#include "test.h"

#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

TEST(devpts_ptmx, is_a_character_device_5_2)
{
	struct stat st;
	ASSERT_SYSCALL_OK(stat("/dev/pts/ptmx", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(major(st.st_rdev), 5);
	EXPECT_EQ(minor(st.st_rdev), 2);
}

TEST(devpts_ptmx, is_listed_in_dev_pts)
{
	DIR *d = opendir("/dev/pts");
	ASSERT_TRUE(d != NULL);
	int found = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, "ptmx") == 0)
			found = de->d_type == DT_CHR;
	closedir(d);
	EXPECT_TRUE(found);
}

TEST(devpts_ptmx, opens_a_new_master)
{
	int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY);
	if (m < 0 && errno == EACCES)
		TEST_SKIP("/dev/pts/ptmx is mode 0000 here (devpts without ptmxmode=)");
	ASSERT_SYSCALL_OK(m);
	unsigned n = ~0u;
	ASSERT_SYSCALL_OK(ioctl(m, TIOCGPTN, &n));
	EXPECT_NE(n, ~0u);
	char path[32];
	snprintf(path, sizeof path, "/dev/pts/%u", n);
	struct stat st;
	EXPECT_SYSCALL_OK(stat(path, &st));
	close(m);
}
