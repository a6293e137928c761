/* mmap(2), munmap(2). */
#include "test.h"

#include <sys/mman.h>

#define PAGE 4096

/* Runs fn(arg) in a child and returns the child's wait status. */
static int in_child(void (*fn)(void *), void *arg)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return test_wait_exit(pid);
}

static void touch_read(void *p)
{
	(void)*(volatile char *)p;
}

static int file_with(const char *content, size_t len)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR | O_TRUNC, 0600));
	ASSERT_EQ(write(fd, content, len), (ssize_t)len);
	return fd;
}

TEST(mmap, anonymous_private_mapping_is_zero_filled_and_writable)
{
	unsigned char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_EQ((uintptr_t)p % PAGE, 0);
	int nonzero = 0;
	for (int i = 0; i < 3 * PAGE; i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(nonzero, 0);
	p[0] = 1;
	p[3 * PAGE - 1] = 2;
	EXPECT_EQ(p[0] + p[3 * PAGE - 1], 3);
	EXPECT_SYSCALL_OK(munmap(p, 3 * PAGE));
}

TEST(mmap, MAP_SHARED_anonymous_memory_is_shared_with_child_after_fork)
{
	volatile int *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		*p = 42;
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(*p, 42);
}

TEST(mmap, MAP_PRIVATE_memory_is_copy_on_write_across_fork)
{
	volatile int *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	*p = 1;
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		*p = 2;
		_exit(*p == 2 ? 0 : 1);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(*p, 1);
}

TEST(mmap, file_mapping_shows_file_contents_at_offset)
{
	char data[2 * PAGE];
	memset(data, 'a', PAGE);
	memset(data + PAGE, 'b', PAGE);
	int fd = file_with(data, sizeof(data));
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_EQ(p[0], 'b');
	EXPECT_EQ(p[PAGE - 1], 'b');
}

TEST(mmap, MAP_SHARED_file_mapping_writes_reach_the_file)
{
	char zero[PAGE] = {0};
	int fd = file_with(zero, PAGE);
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	memcpy(p + 10, "shared", 6);
	EXPECT_SYSCALL_OK(msync(p, PAGE, MS_SYNC));
	char buf[7] = {0};
	EXPECT_EQ(pread(fd, buf, 6, 10), 6);
	EXPECT_STREQ(buf, "shared");
}

TEST(mmap, MAP_SHARED_file_mapping_sees_later_write_to_file)
{
	char zero[PAGE] = {0};
	int fd = file_with(zero, PAGE);
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_EQ(pwrite(fd, "later", 5, 100), 5);
	EXPECT_MEMEQ(p + 100, "later", 5);
}

TEST(mmap, MAP_PRIVATE_file_mapping_writes_do_not_reach_the_file)
{
	char data[PAGE];
	memset(data, 'x', PAGE);
	int fd = file_with(data, PAGE);
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	p[0] = 'y';
	char c = 0;
	EXPECT_EQ(pread(fd, &c, 1, 0), 1);
	EXPECT_EQ(c, 'x');
	EXPECT_EQ(p[0], 'y');
}

TEST(mmap, tail_of_last_page_beyond_end_of_file_reads_as_zero)
{
	int fd = file_with("abc", 3);
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_MEMEQ(p, "abc\0\0", 5);
	EXPECT_EQ(p[PAGE - 1], 0);
}

TEST(mmap, access_to_page_wholly_beyond_end_of_file_raises_SIGBUS)
{
	int fd = file_with("abc", 3);
	char *p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_KILLED_BY(in_child(touch_read, p + PAGE), SIGBUS);
}

TEST(mmap, length_zero_fails_with_EINVAL)
{
	EXPECT_EQ(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
}

TEST(mmap, neither_MAP_PRIVATE_nor_MAP_SHARED_fails_with_EINVAL)
{
	EXPECT_EQ(mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0), MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
}

TEST(mmap, offset_not_multiple_of_page_size_fails_with_EINVAL)
{
	int fd = file_with("abc", 3);
	EXPECT_EQ(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 1), MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
}

TEST(mmap, file_mapping_of_bad_fd_fails_with_EBADF)
{
	EXPECT_EQ(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 9999, 0), MAP_FAILED);
	EXPECT_EQ(errno, EBADF);
}

TEST(mmap, MAP_SHARED_PROT_WRITE_of_read_only_fd_fails_with_EACCES)
{
	close(file_with("abc", 3));
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDONLY));
	EXPECT_EQ(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
	EXPECT_EQ(errno, EACCES);
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	EXPECT_NE(p, MAP_FAILED);
}

TEST(mmap, of_write_only_fd_fails_with_EACCES)
{
	close(file_with("abc", 3));
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_WRONLY));
	EXPECT_EQ(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0), MAP_FAILED);
	EXPECT_EQ(errno, EACCES);
}

TEST(mmap, MAP_FIXED_places_mapping_exactly_at_addr_replacing_old_one)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	p[PAGE] = 7;
	char *q = mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	EXPECT_EQ(q, p + PAGE);
	EXPECT_EQ(q[0], 0);
}

TEST(mmap, MAP_FIXED_with_unaligned_addr_fails_with_EINVAL)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_EQ(mmap(p + 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
}

TEST(mmap, MAP_FIXED_NOREPLACE_over_existing_mapping_fails_with_EEXIST)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_EQ(mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), MAP_FAILED);
	EXPECT_EQ(errno, EEXIST);
}

TEST(mmap, hint_address_that_is_free_is_used)
{
	char *p = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p, 4 * PAGE));
	EXPECT_EQ(mmap(p + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p + PAGE);
}

TEST(munmap, access_after_unmapping_raises_SIGSEGV)
{
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p, PAGE));
	EXPECT_KILLED_BY(in_child(touch_read, p), SIGSEGV);
}

TEST(munmap, unaligned_addr_fails_with_EINVAL)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_ERRNO(munmap(p + 1, PAGE), EINVAL);
	EXPECT_ERRNO(munmap(p, 0), EINVAL);
}

TEST(munmap, of_range_with_no_mapping_succeeds)
{
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p, PAGE));
	EXPECT_SYSCALL_OK(munmap(p, PAGE));
}

TEST(munmap, middle_page_leaves_both_neighbours_mapped)
{
	char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	p[0] = 1;
	p[2 * PAGE] = 3;
	ASSERT_SYSCALL_OK(munmap(p + PAGE, PAGE));
	EXPECT_EQ(p[0], 1);
	EXPECT_EQ(p[2 * PAGE], 3);
	EXPECT_KILLED_BY(in_child(touch_read, p + PAGE), SIGSEGV);
}
