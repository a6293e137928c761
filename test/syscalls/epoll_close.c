/* What closing a watched descriptor does to an epoll instance: the entry
 * belongs to the open file description, not to the descriptor. It stays
 * while another descriptor (a dup) keeps the description open, and goes,
 * releasing nothing, when the description's last descriptor is closed:
 * epoll holds no reference that would keep the file alive. */
#include "test.h"

#include <sys/epoll.h>
#include <sys/socket.h>

static int watch(int ep, int fd, uint64_t data)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

TEST(epoll_close, closing_the_last_descriptor_releases_the_file_at_once)
{
	signal(SIGPIPE, SIG_IGN);
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(watch(ep, p[0], 1));
	ASSERT_SYSCALL_OK(close(p[0]));
	/* No epoll_wait in between: the read end is gone, so no readers. */
	EXPECT_ERRNO(write(p[1], "x", 1), EPIPE);
	struct epoll_event out;
	EXPECT_EQ(epoll_wait(ep, &out, 1, 0), 0);
}

TEST(epoll_close, socket_peer_sees_end_of_file_when_the_watched_end_is_closed)
{
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	int s[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s));
	ASSERT_SYSCALL_OK(watch(ep, s[0], 1));
	ASSERT_SYSCALL_OK(close(s[0]));
	char c;
	EXPECT_EQ(read(s[1], &c, 1), 0);
}

TEST(epoll_close, entry_survives_closing_one_of_two_descriptors)
{
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int dup_fd = ASSERT_SYSCALL_OK(dup(p[0]));
	ASSERT_SYSCALL_OK(watch(ep, p[0], 42));
	ASSERT_SYSCALL_OK(close(p[0]));
	ASSERT_EQ(write(p[1], "x", 1), 1);
	struct epoll_event out = {0};
	EXPECT_EQ(epoll_wait(ep, &out, 1, 0), 1);
	EXPECT_EQ(out.data.u64, 42);
	EXPECT_TRUE(out.events & EPOLLIN);
	/* The entry is keyed by the closed number: it can't be named. */
	EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), EBADF);
	/* Closing the last descriptor removes it. */
	ASSERT_SYSCALL_OK(close(dup_fd));
	EXPECT_EQ(epoll_wait(ep, &out, 1, 0), 0);
}

TEST(epoll_close, a_reused_descriptor_number_is_a_new_entry)
{
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	int p[2], q[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(watch(ep, p[0], 1));
	int old = p[0];
	ASSERT_SYSCALL_OK(close(p[0]));
	ASSERT_SYSCALL_OK(pipe(q)); /* takes the lowest free number: old */
	ASSERT_EQ(q[0], old);
	/* The old entry went with its file, so the number can be added. */
	EXPECT_SYSCALL_OK(watch(ep, q[0], 2));
	ASSERT_EQ(write(q[1], "y", 1), 1);
	struct epoll_event out[2];
	EXPECT_EQ(epoll_wait(ep, out, 2, 0), 1);
	EXPECT_EQ(out[0].data.u64, 2);
}

TEST(epoll_close, closing_the_epoll_instance_leaves_watched_files_open)
{
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(watch(ep, p[0], 1));
	ASSERT_SYSCALL_OK(close(ep));
	ASSERT_EQ(write(p[1], "z", 1), 1);
	char c = 0;
	EXPECT_EQ(read(p[0], &c, 1), 1);
	EXPECT_EQ(c, 'z');
}
