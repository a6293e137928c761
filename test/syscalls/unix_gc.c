/* Garbage collection of AF_UNIX sockets passed with SCM_RIGHTS (unix(7):
 * "sockets in flight"). A socket whose only references are messages
 * queued in sockets nobody can reach any more is collected with the files
 * those messages hold, as Linux's unix_gc does; a socket reachable from a
 * descriptor is not. Collection may be deferred, so each case waits
 * (bounded, see expect_eof) for a pipe's write end carried in the cycle to
 * be released. */
#include "test.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Sends one byte with the descriptors fds[0..n) as SCM_RIGHTS. */
static void send_fds(int s, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {.iov_base = "x", .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			   .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	ASSERT_EQ(sendmsg(s, &m, 0), 1);
}

/* Receives one byte and the single descriptor sent with it. */
static int recv_fd(int s)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char b;
	struct iovec iov = {.iov_base = &b, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ASSERT_EQ(recvmsg(s, &m, 0), 1);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(c != NULL && c->cmsg_type == SCM_RIGHTS);
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

/* Waits (bounded) until the pipe whose read end is r has no writer left.
 * Linux collects on a work queue started when a unix socket is released:
 * a collection that ran between two of a test's closes found the cycle
 * still reachable, and nothing starts another. So each round releases a
 * socket of its own, which starts the collector again, then waits a
 * little for the pipe. */
static void expect_eof(int r)
{
	struct pollfd p = {.fd = r, .events = POLLIN};
	for (int i = 0; i < 50; i++) {
		int s[2];
		ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
		close(s[0]);
		close(s[1]);
		if (poll(&p, 1, 100) == 1)
			break;
	}
	char b;
	EXPECT_EQ(read(r, &b, 1), 0);
}

TEST(unix_gc, a_socket_sent_over_itself_is_collected_with_what_it_carries)
{
	int p[2], s[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	int fds[2] = {s[1], p[1]};
	send_fds(s[0], fds, 2); /* queued at s[1], holding s[1] */
	close(s[0]);
	close(s[1]);
	close(p[1]);
	expect_eof(p[0]);
}

TEST(unix_gc, two_datagram_sockets_holding_each_other_are_collected)
{
	int p[2], a[2], b[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, a));
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, b));
	int to_a[2] = {b[1], p[1]};
	send_fds(a[0], to_a, 2); /* a[1] holds b[1] */
	send_fds(b[0], &a[1], 1); /* b[1] holds a[1] */
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	close(p[1]);
	expect_eof(p[0]);
}

TEST(unix_gc, a_listener_holding_itself_through_an_unaccepted_connection_is_collected)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int l = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sa_family_t);
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&a, len)); /* autobind */
	len = sizeof(a);
	ASSERT_SYSCALL_OK(getsockname(l, (struct sockaddr *)&a, &len));
	ASSERT_SYSCALL_OK(listen(l, 1));
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&a, len));
	int fds[2] = {l, p[1]};
	send_fds(c, fds, 2); /* queued at the embryo in l's accept queue */
	close(c);
	close(l);
	close(p[1]);
	expect_eof(p[0]);
}

TEST(unix_gc, a_passed_socket_reachable_from_a_descriptor_is_kept)
{
	int keep[2], x[2], y[2];
	ASSERT_SYSCALL_OK(pipe(keep));
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, x));
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, y));
	/* y[1] holds the pipe's write end and itself; x[1], which stays
	 * open, holds y[1]. */
	int to_y[2] = {y[1], keep[1]};
	send_fds(y[0], to_y, 2);
	send_fds(x[0], &y[1], 1);
	close(y[0]);
	close(y[1]);
	close(keep[1]);
	/* A real cycle, made and closed after the one above: once it is
	 * collected, a collection has looked at the first one too. */
	int g[2], s[2];
	ASSERT_SYSCALL_OK(pipe(g));
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	int fds[2] = {s[1], g[1]};
	send_fds(s[0], fds, 2);
	close(s[0]);
	close(s[1]);
	close(g[1]);
	expect_eof(g[0]);
	/* The kept chain is intact: y[1] comes out of x[1], and the pipe's
	 * write end out of y[1]. */
	int y1 = recv_fd(x[1]);
	char cbuf[CMSG_SPACE(sizeof(int) * 2)];
	char b;
	struct iovec iov = {.iov_base = &b, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ASSERT_EQ(recvmsg(y1, &m, MSG_DONTWAIT), 1);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(c != NULL && c->cmsg_len == CMSG_LEN(sizeof(int) * 2));
	int got[2];
	memcpy(got, CMSG_DATA(c), sizeof(got));
	ASSERT_EQ(write(got[1], "k", 1), 1);
	EXPECT_EQ(read(keep[0], &b, 1), 1);
	EXPECT_EQ(b, 'k');
}
