/* write(2)/pwrite(2) into tmpfs files: writes that grow a file fill fresh
 * pages, writes over existing pages overwrite them, and the two mix within
 * one call; a fault part-way through a write keeps what came before it. */
#include "test.h"

#include <sys/mman.h>
#include <sys/uio.h>
#include <pthread.h>

#define PAGE 4096

/* Opens a fresh, already unlinked file on tmpfs (/dev/shm is tmpfs both
 * natively and in the sandbox). */
static int shm_file(void)
{
	char name[64];
	snprintf(name, sizeof(name), "/dev/shm/palisade-tmpfs-write-%d", getpid());
	int fd = ASSERT_SYSCALL_OK(open(name, O_CREAT | O_EXCL | O_RDWR, 0600));
	ASSERT_SYSCALL_OK(unlink(name));
	return fd;
}

/* The byte expected at offset off of a file written from pattern(). */
static char pattern_at(long off, int salt)
{
	return (char)((off * 7 + off / PAGE + salt) & 0xff);
}

static char *pattern(long off, long n, int salt)
{
	char *b = malloc(n);
	ASSERT_TRUE(b != NULL);
	for (long i = 0; i < n; i++)
		b[i] = pattern_at(off + i, salt);
	return b;
}

TEST(tmpfs_write, one_write_across_holes_and_existing_pages_lands_everywhere)
{
	int fd = shm_file();
	/* Pages 3 and 6 exist before the big write; the rest are holes. */
	char *early = pattern(0, PAGE, 1);
	EXPECT_EQ(pwrite(fd, early, PAGE, 3 * PAGE), PAGE);
	EXPECT_EQ(pwrite(fd, early, 100, 6 * PAGE + 50), 100);
	long off = 1000, len = 700 * PAGE + 123; /* longer than one fill run */
	char *big = pattern(off, len, 2);
	EXPECT_EQ(pwrite(fd, big, len, off), len);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, off + len);
	char *got = malloc(off + len);
	EXPECT_EQ(pread(fd, got, off + len, 0), off + len);
	for (long i = 0; i < off; i++)
		if (got[i] != 0) {
			EXPECT_EQ(got[i], 0);
			break;
		}
	EXPECT_MEMEQ(got + off, big, len);
	free(got);
	free(big);
	free(early);
}

TEST(tmpfs_write, partial_pages_of_a_fresh_page_read_as_zero)
{
	int fd = shm_file();
	EXPECT_EQ(pwrite(fd, "abc", 3, 5 * PAGE + 10), 3);
	EXPECT_EQ(pwrite(fd, "z", 1, 9 * PAGE - 1), 1);
	char got[PAGE];
	EXPECT_EQ(pread(fd, got, PAGE, 5 * PAGE), PAGE);
	char want[PAGE] = {0};
	memcpy(want + 10, "abc", 3);
	EXPECT_MEMEQ(got, want, PAGE);
	EXPECT_EQ(pread(fd, got, PAGE, 8 * PAGE), PAGE);
	memset(want, 0, PAGE);
	want[PAGE - 1] = 'z';
	EXPECT_MEMEQ(got, want, PAGE);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 9 * PAGE);
	/* Only the two pages written hold blocks. */
	EXPECT_EQ(st.st_blocks, 2 * PAGE / 512);
}

TEST(tmpfs_write, fault_part_way_keeps_the_bytes_before_it)
{
	int fd = shm_file();
	char *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(m + 3 * PAGE, PAGE));
	for (long i = 0; i < 3 * PAGE; i++)
		m[i] = pattern_at(i, 3);
	/* Source ends at an unmapped page: Linux writes what it could read. */
	ssize_t n = write(fd, m + 100, 3 * PAGE);
	EXPECT_EQ(n, 3 * PAGE - 100);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 3 * PAGE - 100);
	char got[3 * PAGE];
	EXPECT_EQ(pread(fd, got, sizeof(got), 0), 3 * PAGE - 100);
	EXPECT_MEMEQ(got, m + 100, 3 * PAGE - 100);
	/* Nothing readable at all: EFAULT and no change. */
	EXPECT_ERRNO(write(fd, m + 3 * PAGE, 10), EFAULT);
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	EXPECT_EQ(st.st_size, 3 * PAGE - 100);
}

TEST(tmpfs_write, source_may_be_a_shared_mapping_of_the_same_file)
{
	int fd = shm_file();
	char *p = pattern(0, 2 * PAGE, 4);
	EXPECT_EQ(pwrite(fd, p, 2 * PAGE, 0), 2 * PAGE);
	char *m = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	/* Copy the file's first two pages to fresh pages 10 and 11. */
	EXPECT_EQ(pwrite(fd, m, 2 * PAGE, 10 * PAGE), 2 * PAGE);
	char got[2 * PAGE];
	EXPECT_EQ(pread(fd, got, sizeof(got), 10 * PAGE), 2 * PAGE);
	EXPECT_MEMEQ(got, p, 2 * PAGE);
	free(p);
}

TEST(tmpfs_write, writev_fills_fresh_pages_from_every_vector)
{
	int fd = shm_file();
	char *a = pattern(0, 3 * PAGE + 5, 5), *b = pattern(0, 17, 6), *c = pattern(0, 2 * PAGE, 7);
	struct iovec iov[3] = {{a, 3 * PAGE + 5}, {b, 17}, {c, 2 * PAGE}};
	long total = 3 * PAGE + 5 + 17 + 2 * PAGE;
	EXPECT_EQ(writev(fd, iov, 3), total);
	char *got = malloc(total);
	EXPECT_EQ(pread(fd, got, total, 0), total);
	EXPECT_MEMEQ(got, a, 3 * PAGE + 5);
	EXPECT_MEMEQ(got + 3 * PAGE + 5, b, 17);
	EXPECT_MEMEQ(got + 3 * PAGE + 22, c, 2 * PAGE);
	free(got);
}

struct fault_loop {
	char *map;
	volatile int stop;
	long faults;
};

static void *fault_in_a_loop(void *arg)
{
	struct fault_loop *l = arg;
	while (!l->stop) {
		madvise(l->map, PAGE, MADV_DONTNEED);
		l->faults += l->map[0] == 'q';
	}
	return NULL;
}

TEST(tmpfs_write, writes_race_page_faults_on_a_mapping_of_the_same_file)
{
	/* One thread faults pages of a shared mapping of the file in while
	 * another writes to the file from memory it has not touched yet: each
	 * takes the file's data and the address space's locks, and must not
	 * wait for the other forever. */
	int fd = shm_file();
	ASSERT_SYSCALL_OK(ftruncate(fd, PAGE));
	struct fault_loop l = {0};
	l.map = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(l.map != MAP_FAILED);
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, fault_in_a_loop, &l), 0);
	const long len = 256 * PAGE;
	for (int i = 0; i < 200; i++) {
		char *src = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_TRUE(src != MAP_FAILED);
		EXPECT_EQ(pwrite(fd, src, len, 0), len);
		munmap(src, len);
	}
	l.stop = 1;
	pthread_join(th, NULL);
}
