/*
 * cachestat(2) (Linux 6.5): page-cache residency of a file range. memfd
 * (shmem) pages are counted as cached, never dirty or evicted here.
 */
#include "test.h"

#include <sys/mman.h>
#include <sys/socket.h>

#define NR_cachestat 451
#define PG 4096

struct cachestat_range {
	uint64_t off;
	uint64_t len;
};

struct cachestat {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

static long cachestat_(int fd, struct cachestat_range *r, struct cachestat *cs, unsigned flags)
{
	return syscall(NR_cachestat, fd, r, cs, flags);
}

static void skip_if_missing(void)
{
	if (cachestat_(-1, NULL, NULL, 0) < 0 && errno == ENOSYS)
		TEST_SKIP("no cachestat (Linux < 6.5)");
}

/* cached returns nr_cache of [off, off+len) of fd, checking the rest. */
static uint64_t cached(int fd, uint64_t off, uint64_t len)
{
	struct cachestat_range r = {off, len};
	struct cachestat cs;
	memset(&cs, 0xff, sizeof(cs));
	ASSERT_EQ(cachestat_(fd, &r, &cs, 0), 0);
	EXPECT_EQ(cs.nr_writeback, 0u);
	EXPECT_EQ(cs.nr_evicted, 0u);
	EXPECT_EQ(cs.nr_recently_evicted, 0u);
	return cs.nr_cache;
}

static int memfd_with_pages(int n)
{
	int fd = memfd_create("cachestat", 0);
	ASSERT_GE(fd, 0);
	char buf[PG];
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < n; i++)
		ASSERT_EQ(write(fd, buf, sizeof(buf)), PG);
	return fd;
}

TEST(cachestat, counts_the_pages_a_memfd_holds)
{
	skip_if_missing();
	int fd = memfd_with_pages(3);
	EXPECT_EQ(cached(fd, 0, 0), 3u);
	EXPECT_EQ(cached(fd, 0, 3 * PG), 3u);
	/* A byte range counts every page it touches. */
	EXPECT_EQ(cached(fd, PG, 1), 1u);
	EXPECT_EQ(cached(fd, PG - 1, 2), 2u);
	EXPECT_EQ(cached(fd, 2 * PG, 0), 1u);
	EXPECT_EQ(cached(fd, 100 * PG, PG), 0u);
	/* shmem pages are not reported dirty. */
	struct cachestat_range r = {0, 0};
	struct cachestat cs;
	ASSERT_EQ(cachestat_(fd, &r, &cs, 0), 0);
	EXPECT_EQ(cs.nr_dirty, 0u);
	close(fd);
}

TEST(cachestat, holes_are_not_cached_until_filled)
{
	skip_if_missing();
	int fd = memfd_with_pages(1);
	ASSERT_SYSCALL_OK(ftruncate(fd, 10 * PG));
	EXPECT_EQ(cached(fd, 0, 0), 1u);
	ASSERT_SYSCALL_OK(fallocate(fd, 0, 5 * PG, PG));
	EXPECT_EQ(cached(fd, 0, 0), 2u);
	EXPECT_EQ(cached(fd, 5 * PG, PG), 1u);
	char *m = mmap(NULL, 10 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE((void *)m, MAP_FAILED);
	m[7 * PG] = 1;
	EXPECT_EQ(cached(fd, 0, 0), 3u);
	EXPECT_EQ(cached(fd, 7 * PG, PG), 1u);
	ASSERT_SYSCALL_OK(ftruncate(fd, PG));
	EXPECT_EQ(cached(fd, 0, 0), 1u);
	munmap(m, 10 * PG);
	close(fd);
}

TEST(cachestat, a_range_that_wraps_holds_no_page)
{
	skip_if_missing();
	int fd = memfd_with_pages(1);
	EXPECT_EQ(cached(fd, ~0ull - 10, 100), 0u);
	close(fd);
}

TEST(cachestat, pipes_sockets_and_directories_report_zero)
{
	skip_if_missing();
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_EQ(write(p[1], "x", 1), 1);
	EXPECT_EQ(cached(p[0], 0, 0), 0u);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_GE(s, 0);
	EXPECT_EQ(cached(s, 0, 0), 0u);
	int d = open(test_tmpdir(), O_RDONLY | O_DIRECTORY);
	ASSERT_GE(d, 0);
	EXPECT_EQ(cached(d, 0, 0), 0u);
}

TEST(cachestat, errors_in_order)
{
	skip_if_missing();
	int fd = memfd_with_pages(1);
	struct cachestat_range r = {0, 0};
	struct cachestat cs;
	EXPECT_ERRNO(cachestat_(-1, &r, &cs, 0), EBADF);
	EXPECT_ERRNO(cachestat_(999, NULL, &cs, 1), EBADF);
	int o = open(test_tmpdir(), O_PATH);
	ASSERT_GE(o, 0);
	EXPECT_ERRNO(cachestat_(o, &r, &cs, 0), EBADF);
	/* The range is read before the flags are looked at. */
	EXPECT_ERRNO(cachestat_(fd, NULL, &cs, 1), EFAULT);
	EXPECT_ERRNO(cachestat_(fd, &r, &cs, 1), EINVAL);
	EXPECT_ERRNO(cachestat_(fd, &r, &cs, 0x80000000u), EINVAL);
	EXPECT_ERRNO(cachestat_(fd, &r, NULL, 0), EFAULT);
	EXPECT_ERRNO(cachestat_(fd, &r, (void *)8, 0), EFAULT);
	close(fd);
}

/* Only who could write the file may ask (Linux 6.14+). */
TEST(cachestat, a_file_the_caller_could_not_write_is_EPERM)
{
	skip_if_missing();
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0)
			_exit(10);
		/* "/" belongs to root and is not writable by others. */
		int d = open("/", O_RDONLY | O_DIRECTORY);
		if (d < 0)
			_exit(11);
		struct cachestat_range r = {0, 0};
		struct cachestat cs;
		long ret = cachestat_(d, &r, &cs, 0);
		if (ret == 0 && !test_in_sandbox())
			_exit(77); /* Linux < 6.14 */
		_exit(ret == -1 && errno == EPERM ? 0 : 1);
	}
	int st = test_wait_exit(pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		TEST_SKIP("cachestat has no permission check (Linux < 6.14)");
	EXPECT_EXIT_STATUS(st, 0);
	/* Its owner may. */
	ASSERT_SYSCALL_OK(mkdir(test_path("d"), 0500));
	int d = open(test_path("d"), O_RDONLY | O_DIRECTORY);
	ASSERT_GE(d, 0);
	EXPECT_EQ(cached(d, 0, 0), 0u);
}
