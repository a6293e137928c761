/* process_vm_readv(2), process_vm_writev(2). */
#include "test.h"

#include <sys/mman.h>
#include <sys/uio.h>

static char remote_buf[64] = "hello from the other side";

/* Forks a child that waits until *release_fd is closed, and exits 42 if
 * remote_buf then starts with 'X'. If touch, the child first writes to
 * remote_buf itself (its page is then its own, not shared copy-on-write
 * with ours). Returns the pid. */
static pid_t spawn_child(int *release_fd, int touch)
{
	int p[2], ready[2];
	if (pipe(p) != 0 || pipe(ready) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (touch)
			remote_buf[40] = 't';
		close(ready[1]);
		char c;
		while (read(p[0], &c, 1) > 0)
			;
		_exit(remote_buf[0] == 'X' ? 42 : 0);
	}
	close(p[0]);
	close(ready[1]);
	char c;
	read(ready[0], &c, 1); /* EOF once the child is ready */
	close(ready[0]);
	*release_fd = p[1];
	return pid;
}

static pid_t spawn_waiting_child(int *release_fd) { return spawn_child(release_fd, 0); }

TEST(process_vm, readv_from_self_copies_memory)
{
	char dst[32] = {0};
	struct iovec l = {dst, 5}, r = {remote_buf, 5};
	EXPECT_EQ(process_vm_readv(getpid(), &l, 1, &r, 1, 0), 5);
	EXPECT_MEMEQ(dst, "hello", 5);
}

TEST(process_vm, readv_from_child_reads_its_memory)
{
	int rel;
	pid_t pid = ASSERT_SYSCALL_OK(spawn_waiting_child(&rel));
	/* Change ours after the fork: the child's copy keeps the old text. */
	memcpy(remote_buf, "CHANGED", 7);
	char a[3] = {0}, b[5] = {0};
	struct iovec l[2] = {{a, 3}, {b, 5}};
	struct iovec r[2] = {{remote_buf, 2}, {remote_buf + 2, 6}};
	EXPECT_EQ(process_vm_readv(pid, l, 2, r, 2, 0), 8);
	EXPECT_MEMEQ(a, "hel", 3);
	EXPECT_MEMEQ(b, "lo fr", 5);
	close(rel);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(process_vm, writev_to_child_changes_its_memory)
{
	int rel;
	pid_t pid = ASSERT_SYSCALL_OK(spawn_child(&rel, 1));
	char x = 'X';
	struct iovec l = {&x, 1}, r = {remote_buf, 1};
	EXPECT_EQ(process_vm_writev(pid, &l, 1, &r, 1, 0), 1);
	EXPECT_EQ(remote_buf[0], 'h'); /* ours is unchanged */
	close(rel);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 42);
}

TEST(process_vm, writev_to_child_page_shared_copy_on_write_changes_only_its_copy)
{
	int rel;
	pid_t pid = ASSERT_SYSCALL_OK(spawn_child(&rel, 0));
	char x = 'X';
	struct iovec l = {&x, 1}, r = {remote_buf, 1};
	EXPECT_EQ(process_vm_writev(pid, &l, 1, &r, 1, 0), 1);
	EXPECT_EQ(remote_buf[0], 'h'); /* ours is unchanged */
	close(rel);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 42);
}

TEST(process_vm, readv_stops_at_an_unmapped_remote_page_with_a_partial_count)
{
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(m != MAP_FAILED);
	memset(m, 'a', 4096);
	ASSERT_SYSCALL_OK(munmap(m + 4096, 4096));
	static char dst[8192];
	struct iovec l = {dst, 8192}, r = {m + 4000, 200};
	EXPECT_EQ(process_vm_readv(getpid(), &l, 1, &r, 1, 0), 96);
	EXPECT_EQ(dst[95], 'a');
}

TEST(process_vm, readv_with_only_bad_remote_address_fails_with_EFAULT)
{
	char dst[8];
	struct iovec l = {dst, 8}, r = {(void *)8, 8};
	EXPECT_ERRNO(process_vm_readv(getpid(), &l, 1, &r, 1, 0), EFAULT);
}

TEST(process_vm, readv_with_bad_local_address_fails_with_EFAULT)
{
	struct iovec l = {(void *)8, 8}, r = {remote_buf, 8};
	EXPECT_ERRNO(process_vm_readv(getpid(), &l, 1, &r, 1, 0), EFAULT);
}

TEST(process_vm, bad_iovec_array_fails_with_EFAULT)
{
	char dst[8];
	struct iovec l = {dst, 8};
	EXPECT_ERRNO(process_vm_readv(getpid(), &l, 1, (void *)8, 1, 0), EFAULT);
	EXPECT_ERRNO(process_vm_readv(getpid(), (void *)8, 1, &l, 1, 0), EFAULT);
}

TEST(process_vm, nonzero_flags_fail_with_EINVAL)
{
	char dst[8];
	struct iovec l = {dst, 8}, r = {remote_buf, 8};
	EXPECT_ERRNO(process_vm_readv(getpid(), &l, 1, &r, 1, 1), EINVAL);
	EXPECT_ERRNO(process_vm_writev(getpid(), &l, 1, &r, 1, 1), EINVAL);
}

TEST(process_vm, more_than_IOV_MAX_iovecs_fail_with_EINVAL)
{
	char dst[8];
	struct iovec l = {dst, 8}, r = {remote_buf, 8};
	EXPECT_ERRNO(process_vm_readv(getpid(), &l, 1, &r, 1025, 0), EINVAL);
	EXPECT_ERRNO(process_vm_readv(getpid(), &l, 1025, &r, 1, 0), EINVAL);
}

TEST(process_vm, nonexistent_pid_fails_with_ESRCH)
{
	char dst[8];
	struct iovec l = {dst, 8}, r = {remote_buf, 8};
	EXPECT_ERRNO(process_vm_readv(0x3ffffff, &l, 1, &r, 1, 0), ESRCH);
}

TEST(process_vm, empty_local_iovec_returns_0_without_checking_pid)
{
	char dst[8];
	struct iovec l = {dst, 0}, r = {remote_buf, 8};
	EXPECT_EQ(process_vm_readv(0x3ffffff, &l, 1, &r, 1, 0), 0);
}

TEST(process_vm, other_users_process_fails_with_EPERM)
{
	if (geteuid() != 0) {
		EXPECT_TRUE(1); /* needs root to make a process of another user */
		return;
	}
	int rel;
	pid_t pid = ASSERT_SYSCALL_OK(spawn_waiting_child(&rel));
	pid_t reader = ASSERT_SYSCALL_OK(fork());
	if (reader == 0) {
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		char dst[8];
		struct iovec l = {dst, 8}, r = {remote_buf, 8};
		ASSERT_ERRNO(process_vm_readv(pid, &l, 1, &r, 1, 0), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(reader), 0);
	close(rel);
	test_wait_exit(pid);
}

TEST(process_vm, writev_into_a_page_both_processes_still_share_reaches_only_the_child)
{
	/* A page of its own, written before the fork and by neither process
	 * after it: the write must copy it for the child alone, and the child
	 * must then see the new bytes, not the page it shared. */
	char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	memset(page, 'o', 4096);
	int go[2], res[2];
	ASSERT_SYSCALL_OK(pipe(go));
	ASSERT_SYSCALL_OK(pipe(res));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char c;
		ASSERT_EQ(read(go[0], &c, 1), 1);
		char seen[2] = {page[100], page[101]};
		ASSERT_EQ(write(res[1], seen, 2), 2);
		_exit(0);
	}
	struct iovec l = {"NW", 2}, r = {page + 100, 2};
	EXPECT_EQ(process_vm_writev(pid, &l, 1, &r, 1, 0), 2);
	EXPECT_EQ(page[100], 'o');
	ASSERT_EQ(write(go[1], "g", 1), 1);
	char seen[2] = {0};
	EXPECT_EQ(read(res[0], seen, 2), 2);
	EXPECT_MEMEQ(seen, "NW", 2);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(page[100], 'o');
}
