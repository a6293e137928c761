/* sysfs: the files runtimes read to size themselves. */
#include "test.h"

#include <dirent.h>
#include <sys/statfs.h>

/* Parses a cpulist ("0-3,5") and returns the number of CPUs in it. */
static int count_cpulist(const char *s)
{
	int n = 0;
	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10);
		long b = a;
		if (end == s)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		n += b - a + 1;
		s = end;
		if (*s == ',')
			s++;
	}
	return n;
}

static int read_file(const char *p, char *buf, size_t len)
{
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return (int)n;
}

TEST(sysfs, sys_is_a_sysfs_mount)
{
	struct statfs sfs;
	ASSERT_SYSCALL_OK(statfs("/sys", &sfs));
	EXPECT_EQ(sfs.f_type, 0x62656572);
}

TEST(sysfs, cpu_online_matches_sysconf_NPROCESSORS_ONLN)
{
	char buf[256];
	ASSERT_GT(read_file("/sys/devices/system/cpu/online", buf, sizeof(buf)), 0);
	int n = count_cpulist(buf);
	EXPECT_GT(n, 0);
	EXPECT_EQ(n, sysconf(_SC_NPROCESSORS_ONLN));
}

TEST(sysfs, cpu_possible_and_present_cover_the_online_cpus)
{
	char buf[256];
	ASSERT_GT(read_file("/sys/devices/system/cpu/online", buf, sizeof(buf)), 0);
	int online = count_cpulist(buf);
	ASSERT_GT(read_file("/sys/devices/system/cpu/possible", buf, sizeof(buf)), 0);
	EXPECT_GE(count_cpulist(buf), online);
	ASSERT_GT(read_file("/sys/devices/system/cpu/present", buf, sizeof(buf)), 0);
	EXPECT_GE(count_cpulist(buf), online);
}

TEST(sysfs, there_is_a_cpuN_directory_for_each_present_cpu)
{
	char buf[256];
	ASSERT_GT(read_file("/sys/devices/system/cpu/present", buf, sizeof(buf)), 0);
	int present = count_cpulist(buf);
	DIR *d = opendir("/sys/devices/system/cpu");
	ASSERT_TRUE(d != NULL);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "cpu", 3) == 0 && e->d_name[3] >= '0' && e->d_name[3] <= '9')
			n++;
	}
	closedir(d);
	EXPECT_GE(n, present);
	struct stat st;
	ASSERT_SYSCALL_OK(stat("/sys/devices/system/cpu/cpu0", &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_GE(sysconf(_SC_NPROCESSORS_CONF), present);
}

TEST(sysfs, transparent_hugepage_enabled_brackets_the_current_mode)
{
	char buf[256];
	if (read_file("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf)) < 0) {
		/* A host kernel without THP. */
		EXPECT_EQ(errno, ENOENT);
		return;
	}
	char *l = strchr(buf, '['), *r = strchr(buf, ']');
	EXPECT_TRUE(l != NULL && r != NULL && l < r);
}

TEST(sysfs, sys_fs_cgroup_is_a_directory)
{
	struct stat st;
	ASSERT_SYSCALL_OK(stat("/sys/fs/cgroup", &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
}

/* On a cgroup2 view (the sandbox's, or a cgroup2 host), the limits parse;
 * a cgroup v1 host has no cgroup.controllers at the top and is skipped. */
TEST(sysfs, cgroup2_limits_parse)
{
	char buf[256];
	if (read_file("/sys/fs/cgroup/cgroup.controllers", buf, sizeof(buf)) < 0)
		return;
	ASSERT_GT(read_file("/sys/fs/cgroup/memory.max", buf, sizeof(buf)), 0);
	if (strcmp(buf, "max\n") != 0) {
		char *end;
		unsigned long long v = strtoull(buf, &end, 10);
		EXPECT_GT(v, 0);
		EXPECT_STREQ(end, "\n");
	}
	if (read_file("/sys/fs/cgroup/cpu.max", buf, sizeof(buf)) > 0) {
		char quota[32];
		long period = 0;
		EXPECT_EQ(sscanf(buf, "%31s %ld", quota, &period), 2);
		EXPECT_GT(period, 0);
	}
	if (read_file("/sys/fs/cgroup/pids.max", buf, sizeof(buf)) > 0)
		EXPECT_TRUE(strcmp(buf, "max\n") == 0 || atol(buf) > 0);
	if (read_file("/sys/fs/cgroup/memory.current", buf, sizeof(buf)) > 0) {
		char *end;
		strtoull(buf, &end, 10);
		EXPECT_STREQ(end, "\n");
	}
}
