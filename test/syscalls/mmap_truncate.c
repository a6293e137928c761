/* Shared mappings of a tmpfs file follow the file when it shrinks or has
 * holes punched: pages wholly past the new end raise SIGBUS, re-grown or
 * punched pages read as zero and are the file's again, in the truncating
 * process and in others that map the file. */
#include "test.h"

#include <sys/mman.h>

#define PAGE 4096

static int shm_file(long size)
{
	char name[64];
	snprintf(name, sizeof(name), "/dev/shm/palisade-mmap-truncate-%d", getpid());
	int fd = ASSERT_SYSCALL_OK(open(name, O_CREAT | O_EXCL | O_RDWR, 0600));
	ASSERT_SYSCALL_OK(unlink(name));
	ASSERT_SYSCALL_OK(ftruncate(fd, size));
	return fd;
}

static char *map_shared(int fd, long len)
{
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	return m;
}

/* Touches *p in a child and returns its wait status. */
static int touch_in_child(volatile char *p)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		(void)*p;
		_exit(0);
	}
	return test_wait_exit(pid);
}

TEST(mmap_truncate, pages_past_the_new_end_raise_SIGBUS)
{
	int fd = shm_file(3 * PAGE);
	char *m = map_shared(fd, 3 * PAGE);
	memset(m, 'a', 3 * PAGE); /* every page mapped before the truncate */
	ASSERT_SYSCALL_OK(ftruncate(fd, PAGE));
	EXPECT_KILLED_BY(touch_in_child(m + PAGE), SIGBUS);
	EXPECT_KILLED_BY(touch_in_child(m + 2 * PAGE + 7), SIGBUS);
	EXPECT_EQ(m[PAGE - 1], 'a');
}

TEST(mmap_truncate, partial_last_page_stays_mapped_with_its_tail_zeroed)
{
	int fd = shm_file(2 * PAGE);
	char *m = map_shared(fd, 2 * PAGE);
	memset(m, 'b', 2 * PAGE);
	ASSERT_SYSCALL_OK(ftruncate(fd, PAGE + 100));
	EXPECT_EQ(m[PAGE + 99], 'b');
	EXPECT_EQ(m[PAGE + 100], 0);
	EXPECT_EQ(m[2 * PAGE - 1], 0);
}

TEST(mmap_truncate, regrown_pages_read_zero_and_are_the_files_again)
{
	int fd = shm_file(3 * PAGE);
	char *m = map_shared(fd, 3 * PAGE);
	memset(m, 'c', 3 * PAGE);
	ASSERT_SYSCALL_OK(ftruncate(fd, 0));
	ASSERT_SYSCALL_OK(ftruncate(fd, 3 * PAGE));
	EXPECT_EQ(m[0], 0);
	EXPECT_EQ(m[2 * PAGE + 5], 0);
	/* The mapping and the file are one again both ways. */
	EXPECT_EQ(pwrite(fd, "W", 1, PAGE + 1), 1);
	EXPECT_EQ(m[PAGE + 1], 'W');
	m[2 * PAGE] = 'M';
	char c = 0;
	EXPECT_EQ(pread(fd, &c, 1, 2 * PAGE), 1);
	EXPECT_EQ(c, 'M');
}

TEST(mmap_truncate, punched_hole_reads_zero_through_the_mapping)
{
	int fd = shm_file(3 * PAGE);
	char *m = map_shared(fd, 3 * PAGE);
	memset(m, 'd', 3 * PAGE);
	ASSERT_SYSCALL_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE, PAGE));
	EXPECT_EQ(m[PAGE], 0);
	EXPECT_EQ(m[2 * PAGE - 1], 0);
	EXPECT_EQ(m[PAGE - 1], 'd');
	EXPECT_EQ(m[2 * PAGE], 'd');
	m[PAGE + 3] = 'y';
	char c = 0;
	EXPECT_EQ(pread(fd, &c, 1, PAGE + 3), 1);
	EXPECT_EQ(c, 'y');
}

TEST(mmap_truncate, another_process_mapping_the_file_sees_the_new_pages)
{
	int fd = shm_file(2 * PAGE);
	int go[2], done[2];
	ASSERT_SYSCALL_OK(pipe(go));
	ASSERT_SYSCALL_OK(pipe(done));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char *m = map_shared(fd, 2 * PAGE);
		memset(m, 'e', 2 * PAGE); /* map both pages */
		char b = 0;
		ASSERT_EQ(write(done[1], "r", 1), 1);
		ASSERT_EQ(read(go[0], &b, 1), 1);
		/* The parent truncated, re-grew and wrote the file meanwhile. */
		EXPECT_EQ(m[0], 0);
		EXPECT_EQ(m[PAGE], 'N');
		m[PAGE + 1] = 'C';
		ASSERT_EQ(write(done[1], "r", 1), 1);
		ASSERT_EQ(read(go[0], &b, 1), 1);
		/* Past the end after the second truncate. */
		EXPECT_KILLED_BY(touch_in_child(m + PAGE), SIGBUS);
		_exit(0);
	}
	char b;
	ASSERT_EQ(read(done[0], &b, 1), 1);
	ASSERT_SYSCALL_OK(ftruncate(fd, 0));
	ASSERT_SYSCALL_OK(ftruncate(fd, 2 * PAGE));
	EXPECT_EQ(pwrite(fd, "N", 1, PAGE), 1);
	ASSERT_EQ(write(go[1], "g", 1), 1);
	ASSERT_EQ(read(done[0], &b, 1), 1);
	char c = 0;
	EXPECT_EQ(pread(fd, &c, 1, PAGE + 1), 1);
	EXPECT_EQ(c, 'C');
	ASSERT_SYSCALL_OK(ftruncate(fd, PAGE));
	ASSERT_EQ(write(go[1], "g", 1), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(mmap_truncate, shared_pages_fault_in_in_any_order)
{
	int fd = shm_file(40 * PAGE);
	EXPECT_EQ(pwrite(fd, "L", 1, 39 * PAGE), 1);
	char *m = map_shared(fd, 40 * PAGE);
	/* Backwards and skipping: each fault must reach its own page. */
	EXPECT_EQ(m[39 * PAGE], 'L');
	EXPECT_EQ(m[0], 0);
	EXPECT_EQ(m[17 * PAGE + 3], 0);
	m[5 * PAGE] = 'Q';
	m[2 * PAGE] = 'R';
	char c[2] = {0};
	EXPECT_EQ(pread(fd, &c[0], 1, 5 * PAGE), 1);
	EXPECT_EQ(pread(fd, &c[1], 1, 2 * PAGE), 1);
	EXPECT_EQ(c[0], 'Q');
	EXPECT_EQ(c[1], 'R');
}
