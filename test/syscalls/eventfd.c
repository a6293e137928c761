/* eventfd(2), eventfd2(2). */
#include "test.h"

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

static uint64_t rd(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, 8) != 8)
		return (uint64_t)-1;
	return v;
}

static int wr(int fd, uint64_t v)
{
	return write(fd, &v, 8);
}

TEST(eventfd, read_returns_the_counter_and_resets_it)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(5, EFD_NONBLOCK));
	ASSERT_EQ(wr(fd, 3), 8);
	EXPECT_EQ(rd(fd), 8);
	uint64_t v;
	EXPECT_ERRNO(read(fd, &v, 8), EAGAIN);
}

TEST(eventfd, old_eventfd_call_takes_an_initial_value)
{
	int fd = ASSERT_SYSCALL_OK(syscall(SYS_eventfd, 42));
	EXPECT_EQ(rd(fd), 42);
	EXPECT_EQ(fcntl(fd, F_GETFL) & (O_NONBLOCK | O_ACCMODE), O_RDWR);
}

TEST(eventfd, semaphore_mode_read_returns_1_and_decrements)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK));
	EXPECT_EQ(rd(fd), 1);
	EXPECT_EQ(rd(fd), 1);
	uint64_t v;
	EXPECT_ERRNO(read(fd, &v, 8), EAGAIN);
}

TEST(eventfd, unknown_flags_fail_with_EINVAL)
{
	EXPECT_ERRNO(syscall(SYS_eventfd2, 0, 0x2), EINVAL);
	EXPECT_ERRNO(syscall(SYS_eventfd2, 0, O_RDWR), EINVAL);
}

TEST(eventfd, EFD_CLOEXEC_and_EFD_NONBLOCK_set_the_descriptor_flags)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	int fd2 = ASSERT_SYSCALL_OK(eventfd(0, 0));
	EXPECT_EQ(fcntl(fd2, F_GETFD), 0);
	EXPECT_EQ(fcntl(fd2, F_GETFL) & O_NONBLOCK, 0);
}

TEST(eventfd, reads_and_writes_shorter_than_8_bytes_fail_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(1, EFD_NONBLOCK));
	char buf[16];
	EXPECT_ERRNO(read(fd, buf, 4), EINVAL);
	EXPECT_ERRNO(write(fd, buf, 7), EINVAL);
	/* Longer buffers transfer 8 bytes. */
	EXPECT_EQ(read(fd, buf, 16), 8);
}

TEST(eventfd, writing_UINT64_MAX_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(0, EFD_NONBLOCK));
	EXPECT_ERRNO(wr(fd, UINT64_MAX), EINVAL);
}

TEST(eventfd, write_past_the_maximum_fails_with_EAGAIN_when_nonblocking)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(0, EFD_NONBLOCK));
	ASSERT_EQ(wr(fd, UINT64_MAX - 1), 8);
	EXPECT_ERRNO(wr(fd, 1), EAGAIN);
	EXPECT_EQ(wr(fd, 0), 8);
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLIN);
	EXPECT_EQ(rd(fd), UINT64_MAX - 1);
}

TEST(eventfd, read_into_a_bad_buffer_fails_with_EFAULT)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(1, EFD_NONBLOCK));
	EXPECT_ERRNO(syscall(SYS_read, fd, NULL, 8), EFAULT);
	EXPECT_ERRNO(syscall(SYS_write, fd, (void *)8, 8), EFAULT);
}

TEST(eventfd, poll_reports_readable_only_when_the_counter_is_nonzero)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(0, EFD_NONBLOCK));
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLOUT);
	ASSERT_EQ(wr(fd, 1), 8);
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLIN | POLLOUT);
}

static void *post(void *p)
{
	int fd = *(int *)p;
	return wr(fd, 7) == 8 ? p : NULL;
}

TEST(eventfd, blocking_read_wakes_when_another_thread_writes)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(0, 0));
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, post, &fd), 0);
	EXPECT_EQ(rd(fd), 7);
	void *ret;
	ASSERT_EQ(pthread_join(th, &ret), 0);
	EXPECT_EQ(ret, &fd);
}

TEST(eventfd, epoll_edge_triggered_reports_each_write)
{
	int fd = ASSERT_SYSCALL_OK(eventfd(0, EFD_NONBLOCK));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 1};
	ASSERT_SYSCALL_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	EXPECT_EQ(epoll_wait(ep, &ev, 1, 0), 0);
	ASSERT_EQ(wr(fd, 1), 8);
	EXPECT_EQ(epoll_wait(ep, &ev, 1, 0), 1);
	EXPECT_EQ(epoll_wait(ep, &ev, 1, 0), 0);
	ASSERT_EQ(wr(fd, 1), 8);
	EXPECT_EQ(epoll_wait(ep, &ev, 1, 0), 1);
	EXPECT_EQ(rd(fd), 2);
}
