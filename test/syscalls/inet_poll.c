/* Readiness of TCP sockets over loopback: poll(2), epoll(7), select(2);
 * tcp(7). */
#include "test.h"
#include "inet_test.h"

#include <sys/epoll.h>
#include <sys/select.h>

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

/* ---- poll ---- */

TEST(inet_poll, connected_socket_is_writable_and_not_readable)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	short r = net_poll_now(c, POLLIN | POLLOUT);
	EXPECT_TRUE(r & POLLOUT);
	EXPECT_FALSE(r & POLLIN);
	EXPECT_FALSE(r & (POLLERR | POLLHUP));
}

TEST(inet_poll, socket_becomes_readable_when_data_arrives)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_EQ(net_poll_now(s, POLLIN), 0);
	ASSERT_EQ(write(c, "d", 1), 1);
	EXPECT_TRUE(net_wait(s, POLLIN) & POLLIN);
	char b;
	ASSERT_EQ(read(s, &b, 1), 1);
	EXPECT_EQ(net_poll_now(s, POLLIN), 0);
}

TEST(inet_poll, blocking_poll_wakes_when_another_process_writes)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_EQ(write(c, "w", 1), 1);
		_exit(0);
	}
	EXPECT_TRUE(net_wait(s, POLLIN) & POLLIN);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(inet_poll, peer_SHUT_WR_reports_POLLIN_and_POLLRDHUP)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	short r = net_wait(s, POLLRDHUP);
	EXPECT_TRUE(r & POLLRDHUP);
	r = net_poll_now(s, POLLIN | POLLRDHUP | POLLOUT);
	EXPECT_TRUE(r & POLLIN);
	EXPECT_TRUE(r & POLLOUT);
	EXPECT_FALSE(r & POLLHUP);
}

TEST(inet_poll, peer_close_reports_POLLIN_and_POLLRDHUP)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(close(c));
	short r = net_wait(s, POLLRDHUP);
	EXPECT_TRUE(r & POLLRDHUP);
	EXPECT_TRUE(net_poll_now(s, POLLIN) & POLLIN);
}

TEST(inet_poll, both_directions_shut_down_reports_POLLHUP)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	ASSERT_TRUE(net_wait(s, POLLRDHUP) & POLLRDHUP);
	ASSERT_SYSCALL_OK(shutdown(s, SHUT_WR));
	EXPECT_TRUE(net_wait(c, 0) & POLLHUP);
	EXPECT_TRUE(net_wait(s, 0) & POLLHUP);
}

TEST(inet_poll, own_SHUT_RDWR_reports_POLLHUP)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_RDWR));
	EXPECT_TRUE(net_poll_now(c, 0) & POLLHUP);
}

TEST(inet_poll, own_SHUT_RD_reports_POLLIN_and_POLLRDHUP)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_RD));
	short r = net_poll_now(c, POLLIN | POLLRDHUP);
	EXPECT_TRUE(r & POLLIN);
	EXPECT_TRUE(r & POLLRDHUP);
}

TEST(inet_poll, own_SHUT_WR_still_reports_POLLOUT)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	EXPECT_TRUE(net_poll_now(c, POLLOUT) & POLLOUT);
}

TEST(inet_poll, reset_connection_reports_POLLERR_and_POLLHUP)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_SYSCALL_OK(close(s));
	short r = net_wait_error(c);
	EXPECT_TRUE(r & POLLERR);
	EXPECT_TRUE(r & POLLHUP);
}

TEST(inet_poll, new_unconnected_socket_reports_POLLOUT_and_POLLHUP)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	short r = net_poll_now(s, POLLIN | POLLOUT);
	EXPECT_TRUE(r & POLLOUT);
	EXPECT_TRUE(r & POLLHUP);
	EXPECT_FALSE(r & POLLIN);
}

TEST(inet_poll, listener_is_readable_only_with_a_pending_connection)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	EXPECT_EQ(net_poll_now(l, POLLIN | POLLOUT), 0);
	int c = tcp_connect(AF_INET, &a);
	(void)c;
	EXPECT_TRUE(net_wait(l, POLLIN) & POLLIN);
	ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	EXPECT_EQ(net_poll_now(l, POLLIN), 0);
}

TEST(inet_poll, connect_in_progress_is_not_writable)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 0);
	int q = tcp_connect(AF_INET, &a);
	(void)q;
	ASSERT_TRUE(net_wait(l, POLLIN) & POLLIN);
	/* The accept queue is full: the next SYN is dropped. */
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	ASSERT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EINPROGRESS);
	EXPECT_EQ(net_poll_now(c, POLLIN | POLLOUT), 0);
}

TEST(inet_poll, refused_nonblocking_connect_reports_POLLERR_and_POLLHUP)
{
	inet_addr_t a;
	int b = inet_closed_port(AF_INET, &a);
	(void)b;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int r = connect(c, &a.sa, sizeof(a.in4));
	int e = errno;
	ASSERT_EQ(r, -1);
	ASSERT_TRUE(e == EINPROGRESS || e == ECONNREFUSED);
	short ev = net_wait(c, POLLOUT);
	if (e == EINPROGRESS)
		EXPECT_TRUE(ev & POLLERR);
	EXPECT_TRUE(ev & POLLHUP);
}

TEST(inet_poll, urgent_data_reports_POLLPRI)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_EQ(net_poll_now(s, POLLPRI), 0);
	ASSERT_EQ(send(c, "u", 1, MSG_OOB), 1);
	EXPECT_TRUE(net_wait(s, POLLPRI) & POLLPRI);
}

TEST(inet_poll, SO_RCVLOWAT_holds_POLLIN_until_that_many_bytes_are_queued)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "12345", 5), 5);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	set_int_opt(s, SOL_SOCKET, SO_RCVLOWAT, 10);
	EXPECT_EQ(net_poll_now(s, POLLIN), 0);
	ASSERT_EQ(write(c, "67890", 5), 5);
	EXPECT_TRUE(net_wait(s, POLLIN) & POLLIN);
	char buf[10];
	EXPECT_EQ(read(s, buf, 10), 10);
}

TEST(inet_poll, writer_becomes_writable_again_after_the_peer_drains)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(fcntl(c, F_SETFL, O_NONBLOCK));
	ASSERT_SYSCALL_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	static char buf[65536];
	long total = 0;
	while (write(c, buf, sizeof(buf)) > 0) {
		total += (long)sizeof(buf);
		ASSERT_LT(total, 256L << 20);
	}
	ASSERT_EQ(errno, EAGAIN);
	for (;;) {
		struct pollfd p[2] = {{.fd = c, .events = POLLOUT},
				      {.fd = s, .events = POLLIN}};
		ASSERT_GT(poll(p, 2, NET_WAIT_MS), 0);
		if (p[0].revents & POLLOUT)
			break;
		if (p[1].revents & POLLIN)
			ASSERT_GT(read(s, buf, sizeof(buf)), 0);
	}
	EXPECT_GT(write(c, "x", 1), 0);
}

/* ---- epoll ---- */

static int epoll_for(int fd, uint32_t events)
{
	int ep = ASSERT_SYSCALL_OK(epoll_create1(EPOLL_CLOEXEC));
	struct epoll_event ev = {.events = events, .data.fd = fd};
	ASSERT_SYSCALL_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	return ep;
}

/* epoll_wait for one event; returns its mask, 0 if none in timeout_ms. */
static uint32_t epoll_one(int ep, int timeout_ms)
{
	struct epoll_event ev;
	int n;
	do {
		n = epoll_wait(ep, &ev, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	ASSERT_GE(n, 0);
	return n ? ev.events : 0;
}

TEST(inet_poll, epoll_reports_EPOLLIN_when_data_arrives)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int ep = epoll_for(s, EPOLLIN);
	EXPECT_EQ(epoll_one(ep, 0), 0);
	ASSERT_EQ(write(c, "e", 1), 1);
	EXPECT_EQ(epoll_one(ep, NET_WAIT_MS), EPOLLIN);
}

TEST(inet_poll, epoll_level_triggered_reports_again_until_read)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int ep = epoll_for(s, EPOLLIN);
	ASSERT_EQ(write(c, "l", 1), 1);
	ASSERT_EQ(epoll_one(ep, NET_WAIT_MS), EPOLLIN);
	EXPECT_EQ(epoll_one(ep, 0), EPOLLIN);
	char b;
	ASSERT_EQ(read(s, &b, 1), 1);
	EXPECT_EQ(epoll_one(ep, 0), 0);
}

TEST(inet_poll, epoll_edge_triggered_reports_new_data_only_once)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int ep = epoll_for(s, EPOLLIN | EPOLLET);
	ASSERT_EQ(write(c, "a", 1), 1);
	EXPECT_EQ(epoll_one(ep, NET_WAIT_MS), EPOLLIN);
	EXPECT_EQ(epoll_one(ep, 0), 0);
	/* More data is a new edge. */
	ASSERT_EQ(write(c, "b", 1), 1);
	EXPECT_EQ(epoll_one(ep, NET_WAIT_MS), EPOLLIN);
	EXPECT_EQ(epoll_one(ep, 0), 0);
}

TEST(inet_poll, epoll_oneshot_reports_once_until_rearmed)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int ep = epoll_for(s, EPOLLIN | EPOLLONESHOT);
	ASSERT_EQ(write(c, "o", 1), 1);
	EXPECT_EQ(epoll_one(ep, NET_WAIT_MS), EPOLLIN);
	EXPECT_EQ(epoll_one(ep, 0), 0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = s};
	ASSERT_SYSCALL_OK(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev));
	EXPECT_EQ(epoll_one(ep, 0), EPOLLIN);
}

TEST(inet_poll, epoll_reports_EPOLLOUT_on_a_connected_socket)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int ep = epoll_for(c, EPOLLOUT);
	EXPECT_EQ(epoll_one(ep, 0), EPOLLOUT);
}

TEST(inet_poll, epoll_reports_EPOLLRDHUP_after_the_peer_shuts_down)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int ep = epoll_for(s, EPOLLIN | EPOLLRDHUP);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	uint32_t e = epoll_one(ep, NET_WAIT_MS);
	EXPECT_TRUE(e & EPOLLRDHUP);
	EXPECT_TRUE(e & EPOLLIN);
	EXPECT_FALSE(e & EPOLLHUP);
}

TEST(inet_poll, epoll_reports_EPOLLHUP_when_both_directions_are_closed)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int ep = epoll_for(s, EPOLLIN);
	ASSERT_SYSCALL_OK(close(c));
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	ASSERT_SYSCALL_OK(shutdown(s, SHUT_WR));
	EXPECT_TRUE(epoll_one(ep, NET_WAIT_MS) & EPOLLHUP);
}

TEST(inet_poll, epoll_reports_EPOLLERR_after_a_reset_without_asking)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int ep = epoll_for(c, 0);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_SYSCALL_OK(close(s));
	uint32_t e = epoll_one(ep, NET_WAIT_MS);
	EXPECT_TRUE(e & EPOLLERR);
	EXPECT_TRUE(e & EPOLLHUP);
}

TEST(inet_poll, epoll_reports_EPOLLIN_on_a_listener_with_a_pending_connection)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int ep = epoll_for(l, EPOLLIN);
	EXPECT_EQ(epoll_one(ep, 0), 0);
	int c = tcp_connect(AF_INET, &a);
	(void)c;
	EXPECT_EQ(epoll_one(ep, NET_WAIT_MS), EPOLLIN);
}

TEST(inet_poll, epoll_reports_EPOLLOUT_when_a_nonblocking_connect_completes)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int ep = epoll_for(c, EPOLLOUT | EPOLLET);
	/* A fresh socket is reported writable (and hung up): consume it. */
	epoll_one(ep, 0);
	ASSERT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EINPROGRESS);
	uint32_t e = epoll_one(ep, NET_WAIT_MS);
	EXPECT_TRUE(e & EPOLLOUT);
	EXPECT_FALSE(e & (EPOLLERR | EPOLLHUP));
}

/* ---- select ---- */

TEST(inet_poll, select_reports_a_readable_socket_after_data_arrives)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "s", 1), 1);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(s, &r);
	struct timeval tv = {.tv_sec = NET_WAIT_MS / 1000};
	EXPECT_EQ(select(s + 1, &r, NULL, NULL, &tv), 1);
	EXPECT_TRUE(FD_ISSET(s, &r));
}

TEST(inet_poll, select_reports_a_connected_socket_writable_and_not_readable)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(c, &r);
	FD_SET(c, &w);
	struct timeval tv = {0, 0};
	EXPECT_EQ(select(c + 1, &r, &w, NULL, &tv), 1);
	EXPECT_FALSE(FD_ISSET(c, &r));
	EXPECT_TRUE(FD_ISSET(c, &w));
}

TEST(inet_poll, select_reports_a_listener_readable_with_a_pending_connection)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = tcp_connect(AF_INET, &a);
	(void)c;
	fd_set r;
	FD_ZERO(&r);
	FD_SET(l, &r);
	struct timeval tv = {.tv_sec = NET_WAIT_MS / 1000};
	EXPECT_EQ(select(l + 1, &r, NULL, NULL, &tv), 1);
	EXPECT_TRUE(FD_ISSET(l, &r));
}

TEST(inet_poll, select_reports_urgent_data_as_an_exceptional_condition)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(send(c, "!", 1, MSG_OOB), 1);
	fd_set x;
	FD_ZERO(&x);
	FD_SET(s, &x);
	struct timeval tv = {.tv_sec = NET_WAIT_MS / 1000};
	EXPECT_EQ(select(s + 1, NULL, NULL, &x, &tv), 1);
	EXPECT_TRUE(FD_ISSET(s, &x));
}

TEST(inet_poll, select_reports_end_of_file_as_readable)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	fd_set r;
	FD_ZERO(&r);
	FD_SET(s, &r);
	struct timeval tv = {.tv_sec = NET_WAIT_MS / 1000};
	EXPECT_EQ(select(s + 1, &r, NULL, NULL, &tv), 1);
	char b;
	EXPECT_EQ(read(s, &b, 1), 0);
}

/* ---- IPv6 ---- */

TEST(inet_poll, IPv6_connection_reports_POLLIN_and_POLLRDHUP)
{
	int c, s;
	tcp_pair(AF_INET6, &c, &s);
	ASSERT_EQ(write(c, "6", 1), 1);
	EXPECT_TRUE(net_wait(s, POLLIN) & POLLIN);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	EXPECT_TRUE(net_wait(s, POLLRDHUP) & POLLRDHUP);
}
