/* procfs: smaps, ns/, io, wchan, /proc/cmdline, /proc/meminfo and a few /proc/sys files. */
#include "test.h"

#include <sys/mman.h>

static int read_file(const char *p, char *buf, size_t len)
{
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0 || got + n == len - 1) {
			got += n;
			break;
		}
		got += n;
	}
	close(fd);
	buf[got] = 0;
	return (int)got;
}

static char big[1 << 20];

TEST(proc_more, smaps_lists_a_new_mapping_with_its_size)
{
	long pg = sysconf(_SC_PAGESIZE);
	/* PROT_NONE guards on both sides keep the middle from merging. */
	char *p = mmap(NULL, 7 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	char *mid = p + pg;
	ASSERT_SYSCALL_OK(mprotect(mid, 5 * pg, PROT_READ));
	ASSERT_GT(read_file("/proc/self/smaps", big, sizeof(big)), 0);
	char head[64];
	snprintf(head, sizeof(head), "%lx-%lx ", (unsigned long)mid, (unsigned long)(mid + 5 * pg));
	char *at = NULL;
	for (char *line = big; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, head, strlen(head)) == 0) {
			at = line;
			break;
		}
	}
	ASSERT_TRUE(at != NULL);
	char *size = strstr(at, "\nSize:");
	ASSERT_TRUE(size != NULL);
	long kb = strtol(size + strlen("\nSize:"), NULL, 10);
	EXPECT_EQ(kb, 5 * pg / 1024);
	EXPECT_TRUE(strstr(at, "\nRss:") != NULL);
	EXPECT_TRUE(strstr(at, "\nPss:") != NULL);
	munmap(p, 7 * pg);
}

TEST(proc_more, smaps_has_a_block_per_maps_line)
{
	static char maps[1 << 18];
	ASSERT_GT(read_file("/proc/self/maps", maps, sizeof(maps)), 0);
	ASSERT_GT(read_file("/proc/self/smaps", big, sizeof(big)), 0);
	int lines = 0, sizes = 0;
	for (char *s = maps; (s = strchr(s, '\n')); s++)
		lines++;
	for (char *s = big; (s = strstr(s, "\nSize:")); s++)
		sizes++;
	/* The read of smaps may itself add or change a mapping or two. */
	EXPECT_GT(sizes, 0);
	EXPECT_LE(sizes, lines + 4);
	EXPECT_GE(sizes, lines - 4);
}

TEST(proc_more, ns_links_read_as_type_and_inode)
{
	const char *types[] = {"pid", "mnt", "net", "ipc", "uts", "user", "cgroup"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char path[64], target[128], want[32];
		snprintf(path, sizeof(path), "/proc/self/ns/%s", types[i]);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		ASSERT_GT(n, 0);
		target[n] = 0;
		snprintf(want, sizeof(want), "%s:[", types[i]);
		EXPECT_EQ(strncmp(target, want, strlen(want)), 0);
		char *end;
		unsigned long ino = strtoul(target + strlen(want), &end, 10);
		EXPECT_GT(ino, 0);
		EXPECT_STREQ(end, "]");
	}
}

TEST(proc_more, ns_links_are_the_same_for_parent_and_child)
{
	char a[128], b[128];
	ssize_t n = readlink("/proc/self/ns/pid", a, sizeof(a) - 1);
	ASSERT_GT(n, 0);
	a[n] = 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", getppid());
	n = readlink(path, b, sizeof(b) - 1);
	ASSERT_GT(n, 0);
	b[n] = 0;
	EXPECT_STREQ(a, b);
}

TEST(proc_more, io_has_the_counters)
{
	char buf[1024];
	ASSERT_GT(read_file("/proc/self/io", buf, sizeof(buf)), 0);
	const char *keys[] = {"rchar:", "wchar:", "syscr:", "syscw:", "read_bytes:", "write_bytes:"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *at = strstr(buf, keys[i]);
		ASSERT_TRUE(at != NULL);
		char *end;
		strtoull(at + strlen(keys[i]), &end, 10);
		EXPECT_TRUE(end != at + strlen(keys[i]));
	}
}

TEST(proc_more, wchan_reads_a_symbol_or_0)
{
	char buf[256];
	ASSERT_GE(read_file("/proc/self/wchan", buf, sizeof(buf)), 0);
}

TEST(proc_more, cmdline_is_one_nonempty_line)
{
	char buf[4096];
	int n = read_file("/proc/cmdline", buf, sizeof(buf));
	ASSERT_GT(n, 1);
	EXPECT_EQ(buf[n - 1], '\n');
	EXPECT_TRUE(strchr(buf, '\n') == buf + n - 1);
}

TEST(proc_more, pipe_max_size_is_a_pipe_capacity)
{
	char buf[64];
	ASSERT_GT(read_file("/proc/sys/fs/pipe-max-size", buf, sizeof(buf)), 0);
	long v = strtol(buf, NULL, 10);
	EXPECT_GE(v, 4096);
}

TEST(proc_more, yama_ptrace_scope_is_0_to_3_if_present)
{
	char buf[64];
	if (read_file("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf)) < 0) {
		/* A host kernel without Yama. */
		EXPECT_EQ(errno, ENOENT);
		return;
	}
	long v = strtol(buf, NULL, 10);
	EXPECT_GE(v, 0);
	EXPECT_LE(v, 3);
}

TEST(proc_more, random_uuid_is_fresh_each_read)
{
	char a[64], b[64];
	ASSERT_EQ(read_file("/proc/sys/kernel/random/uuid", a, sizeof(a)), 37);
	ASSERT_EQ(read_file("/proc/sys/kernel/random/uuid", b, sizeof(b)), 37);
	EXPECT_STRNE(a, b);
	EXPECT_EQ(a[8], '-');
	EXPECT_EQ(a[14], '4');
}

/* The unit after a /proc/meminfo value ("" or "kB") for key, or NULL if
 * the key is absent. */
static const char *meminfo_unit(const char *mi, const char *key, char *unit, size_t len)
{
	size_t kl = strlen(key);
	for (const char *l = mi; *l;) {
		const char *nl = strchr(l, '\n');
		if (!nl)
			nl = l + strlen(l);
		if ((size_t)(nl - l) > kl && !strncmp(l, key, kl) && l[kl] == ':') {
			const char *p = l + kl + 1;
			while (p < nl && *p == ' ')
				p++;
			while (p < nl && *p >= '0' && *p <= '9')
				p++;
			while (p < nl && *p == ' ')
				p++;
			size_t n = (size_t)(nl - p) < len - 1 ? (size_t)(nl - p) : len - 1;
			memcpy(unit, p, n);
			unit[n] = 0;
			return unit;
		}
		l = *nl ? nl + 1 : nl;
	}
	return NULL;
}

/* proc(5): the HugePages_* lines are counts of huge pages, without a
 * unit; Hugepagesize is in kB. (A kernel without hugetlbfs has none.) */
TEST(proc_more, meminfo_hugepage_counts_have_no_unit)
{
	ASSERT_GT(read_file("/proc/meminfo", big, sizeof(big)), 0);
	char unit[16];
	if (!meminfo_unit(big, "HugePages_Total", unit, sizeof(unit))) {
		EXPECT_TRUE(meminfo_unit(big, "HugePages_Free", unit, sizeof(unit)) == NULL);
		return;
	}
	EXPECT_STREQ(unit, "");
	const char *counts[] = {"HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		EXPECT_TRUE(meminfo_unit(big, counts[i], unit, sizeof(unit)) != NULL);
		EXPECT_STREQ(unit, "");
	}
	EXPECT_TRUE(meminfo_unit(big, "Hugepagesize", unit, sizeof(unit)) != NULL);
	EXPECT_STREQ(unit, "kB");
}
