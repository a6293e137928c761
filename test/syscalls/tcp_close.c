/* Ending TCP connections over IPv4 loopback: shutdown(2), close(2),
 * SO_LINGER, RST, TIME_WAIT and SO_REUSEADDR; tcp(7), socket(7). */
#include "test.h"
#include "inet_test.h"

#include <pthread.h>

/* ---- shutdown ---- */

TEST(tcp_close, shutdown_SHUT_WR_makes_the_peer_read_end_of_file)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "last", 4), 4);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	char buf[4];
	read_exact(s, buf, 4);
	EXPECT_MEMEQ(buf, "last", 4);
	EXPECT_EQ(read(s, buf, 4), 0);
}

TEST(tcp_close, after_SHUT_WR_the_peer_can_still_send_to_the_half_closed_side)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	char b;
	ASSERT_EQ(read(s, &b, 1), 0);
	ASSERT_EQ(write(s, "back", 4), 4);
	char buf[4];
	read_exact(c, buf, 4);
	EXPECT_MEMEQ(buf, "back", 4);
}

TEST(tcp_close, read_after_SHUT_RD_returns_0_without_blocking)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(s, SHUT_RD));
	char b;
	EXPECT_EQ(read(s, &b, 1), 0);
}

TEST(tcp_close, write_after_SHUT_RD_still_reaches_the_peer)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(s, SHUT_RD));
	ASSERT_EQ(write(s, "w", 1), 1);
	char b = 0;
	EXPECT_EQ(read(c, &b, 1), 1);
	EXPECT_EQ(b, 'w');
}

TEST(tcp_close, shutdown_SHUT_RDWR_ends_both_directions)
{
	ignore_sigpipe();
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_RDWR));
	char b;
	EXPECT_EQ(read(s, &b, 1), 0);
	EXPECT_EQ(read(c, &b, 1), 0);
	EXPECT_ERRNO(write(c, "x", 1), EPIPE);
}

TEST(tcp_close, shutdown_SHUT_WR_twice_succeeds)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_SYSCALL_OK(shutdown(c, SHUT_WR));
	EXPECT_SYSCALL_OK(shutdown(c, SHUT_WR));
}

TEST(tcp_close, shutdown_of_an_unconnected_socket_fails_ENOTCONN)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(shutdown(s, SHUT_WR), ENOTCONN);
	EXPECT_ERRNO(shutdown(s, SHUT_RDWR), ENOTCONN);
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET, &a, 0)));
	EXPECT_ERRNO(shutdown(s, SHUT_RD), ENOTCONN);
}

TEST(tcp_close, shutdown_with_an_invalid_how_fails_EINVAL)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_ERRNO(shutdown(c, 3), EINVAL);
	EXPECT_ERRNO(shutdown(c, -1), EINVAL);
	/* The connection is untouched. */
	ASSERT_EQ(write(c, "k", 1), 1);
	char b;
	EXPECT_EQ(read(s, &b, 1), 1);
}

TEST(tcp_close, shutdown_on_a_non_socket_fails_ENOTSOCK)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERRNO(shutdown(fd, SHUT_RD), ENOTSOCK);
}

TEST(tcp_close, shutdown_SHUT_RD_on_a_listener_stops_it_listening)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	EXPECT_SYSCALL_OK(shutdown(l, SHUT_RD));
	EXPECT_ERRNO(accept(l, NULL, NULL), EINVAL);
	EXPECT_EQ(int_opt(l, SOL_SOCKET, SO_ACCEPTCONN), 0);
}

static void *accept_thread(void *arg)
{
	int l = *(int *)arg;
	long r = accept(l, NULL, NULL);
	return (void *)(r < 0 ? (long)errno : -1L);
}

TEST(tcp_close, shutdown_SHUT_RD_on_a_listener_wakes_a_blocked_accept_with_EINVAL)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	pthread_t t;
	ASSERT_EQ(pthread_create(&t, NULL, accept_thread, &l), 0);
	/* Whether accept is already waiting or not, it ends with EINVAL. */
	ASSERT_SYSCALL_OK(shutdown(l, SHUT_RD));
	void *ret;
	ASSERT_EQ(pthread_join(t, &ret), 0);
	EXPECT_EQ((long)ret, EINVAL);
}

TEST(tcp_close, shutdown_applies_to_every_descriptor_of_the_socket)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int d = ASSERT_SYSCALL_OK(dup(c));
	ASSERT_SYSCALL_OK(shutdown(d, SHUT_WR));
	char b;
	EXPECT_EQ(read(s, &b, 1), 0);
	ignore_sigpipe();
	EXPECT_ERRNO(write(c, "x", 1), EPIPE);
}

/* ---- close ---- */

TEST(tcp_close, close_of_one_duplicate_keeps_the_connection_open)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int d = ASSERT_SYSCALL_OK(dup(c));
	ASSERT_SYSCALL_OK(close(c));
	ASSERT_EQ(write(d, "d", 1), 1);
	char b = 0;
	EXPECT_EQ(read(s, &b, 1), 1);
	EXPECT_EQ(b, 'd');
	EXPECT_EQ(net_poll_now(s, POLLIN), 0);
}

TEST(tcp_close, close_in_a_child_keeps_the_parents_connection_open)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(c);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	ASSERT_EQ(write(c, "p", 1), 1);
	char b = 0;
	EXPECT_EQ(read(s, &b, 1), 1);
	EXPECT_EQ(b, 'p');
}

TEST(tcp_close, data_written_before_close_is_delivered_before_end_of_file)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	static char buf[200000];
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(s);
		memset(buf, 'q', sizeof(buf));
		write_all(c, buf, sizeof(buf));
		close(c);
		_exit(0);
	}
	close(c);
	size_t got = 0;
	for (;;) {
		ssize_t r = read(s, buf, sizeof(buf));
		ASSERT_GE(r, 0);
		if (r == 0)
			break;
		got += (size_t)r;
	}
	EXPECT_EQ(got, sizeof(buf));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(tcp_close, close_with_unread_data_resets_the_connection)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "unread", 6), 6);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	ASSERT_SYSCALL_OK(close(s));
	net_wait_error(c);
	char b;
	EXPECT_ERRNO(read(c, &b, 1), ECONNRESET);
}

TEST(tcp_close, close_without_unread_data_sends_end_of_file_not_a_reset)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(s, "bye", 3), 3);
	ASSERT_SYSCALL_OK(close(s));
	char buf[3];
	read_exact(c, buf, 3);
	EXPECT_EQ(read(c, buf, 3), 0);
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), 0);
}

TEST(tcp_close, read_after_a_reported_ECONNRESET_returns_0)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_SYSCALL_OK(close(s));
	net_wait_error(c);
	char b;
	ASSERT_ERRNO(read(c, &b, 1), ECONNRESET);
	EXPECT_EQ(read(c, &b, 1), 0);
}

TEST(tcp_close, SO_LINGER_with_zero_timeout_resets_the_peer)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_SYSCALL_OK(close(s));
	EXPECT_TRUE(net_wait_error(c) & POLLERR);
	char b;
	EXPECT_ERRNO(recv(c, &b, 1, 0), ECONNRESET);
}

TEST(tcp_close, SO_ERROR_reports_ECONNRESET_once_after_a_reset)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_SYSCALL_OK(close(s));
	net_wait_error(c);
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), ECONNRESET);
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), 0);
	char b;
	EXPECT_EQ(read(c, &b, 1), 0);
}

TEST(tcp_close, getpeername_after_a_reset_fails_ENOTCONN)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_SYSCALL_OK(close(s));
	net_wait_error(c);
	inet_addr_t p;
	socklen_t len = sizeof(p);
	EXPECT_ERRNO(getpeername(c, &p.sa, &len), ENOTCONN);
}

TEST(tcp_close, getpeername_after_the_peer_closed_still_reports_the_peer)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	inet_addr_t want, got;
	inet_sockname(s, &want);
	ASSERT_SYSCALL_OK(close(s));
	char b;
	ASSERT_EQ(read(c, &b, 1), 0);
	inet_peername(c, &got);
	EXPECT_EQ(inet_port(&got), inet_port(&want));
}

TEST(tcp_close, SO_LINGER_with_a_timeout_delivers_the_data_before_close_returns)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct linger lg = {.l_onoff = 1, .l_linger = 5};
	ASSERT_SYSCALL_OK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_EQ(write(c, "linger", 6), 6);
	EXPECT_SYSCALL_OK(close(c));
	char buf[6];
	read_exact(s, buf, 6);
	EXPECT_MEMEQ(buf, "linger", 6);
	EXPECT_EQ(read(s, buf, 6), 0);
}

/* Closes a connection from the client side first, so the client's port
 * ends in TIME_WAIT; returns that address. */
static void client_port_in_time_wait(inet_addr_t *client, int reuse)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	if (reuse)
		set_int_opt(c, SOL_SOCKET, SO_REUSEADDR, 1);
	ASSERT_SYSCALL_OK(bind(c, &client->sa, inet_loopback(AF_INET, client, 0)));
	inet_sockname(c, client);
	ASSERT_SYSCALL_OK(connect(c, &a.sa, sizeof(a.in4)));
	int s = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	close(l);
	/* Client sends FIN first; the server answers with its own FIN. */
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	char b;
	ASSERT_EQ(read(s, &b, 1), 0);
	ASSERT_SYSCALL_OK(close(s));
	ASSERT_EQ(read(c, &b, 1), 0);
	ASSERT_SYSCALL_OK(close(c));
}

TEST(tcp_close, bind_to_a_port_in_TIME_WAIT_fails_EADDRINUSE)
{
	inet_addr_t client;
	client_port_in_time_wait(&client, 0);
	int n = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(bind(n, &client.sa, sizeof(client.in4)), EADDRINUSE);
}

TEST(tcp_close, SO_REUSEADDR_allows_binding_a_port_in_TIME_WAIT)
{
	inet_addr_t client;
	client_port_in_time_wait(&client, 1);
	int n = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int_opt(n, SOL_SOCKET, SO_REUSEADDR, 1);
	EXPECT_SYSCALL_OK(bind(n, &client.sa, sizeof(client.in4)));
	/* and listening there works too */
	EXPECT_SYSCALL_OK(listen(n, 1));
}

TEST(tcp_close, SO_REUSEADDR_on_the_new_socket_alone_does_not_allow_binding_a_port_in_TIME_WAIT)
{
	/* Linux lets a port in TIME_WAIT be bound again only if the socket
	 * that left it there had SO_REUSEADDR too. */
	inet_addr_t client;
	client_port_in_time_wait(&client, 0);
	int n = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int_opt(n, SOL_SOCKET, SO_REUSEADDR, 1);
	EXPECT_ERRNO(bind(n, &client.sa, sizeof(client.in4)), EADDRINUSE);
}

TEST(tcp_close, SO_LINGER_zero_close_leaves_no_TIME_WAIT_so_the_port_can_be_bound)
{
	inet_addr_t a, client;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(c, &client.sa, inet_loopback(AF_INET, &client, 0)));
	inet_sockname(c, &client);
	ASSERT_SYSCALL_OK(connect(c, &a.sa, sizeof(a.in4)));
	int s = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	(void)s;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	ASSERT_SYSCALL_OK(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_SYSCALL_OK(close(c));
	int n = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_SYSCALL_OK(bind(n, &client.sa, sizeof(client.in4)));
}

TEST(tcp_close, port_of_a_closed_listener_without_connections_can_be_bound_again)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	ASSERT_SYSCALL_OK(close(l));
	int n = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_SYSCALL_OK(bind(n, &a.sa, sizeof(a.in4)));
}

TEST(tcp_close, close_of_a_listener_resets_its_pending_connections)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 2);
	int c = tcp_connect(AF_INET, &a);
	ASSERT_TRUE(net_wait(l, POLLIN) & POLLIN);
	ASSERT_SYSCALL_OK(close(l));
	net_wait_error(c);
	char b;
	EXPECT_ERRNO(read(c, &b, 1), ECONNRESET);
}

TEST(tcp_close, connect_after_the_listener_closed_fails_ECONNREFUSED)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	/* Keep the port bound (and so unusable by others) but not
	 * listening. */
	ASSERT_SYSCALL_OK(shutdown(l, SHUT_RD));
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), ECONNREFUSED);
}

TEST(tcp_close, accepted_connection_outlives_the_closed_listener)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = tcp_connect(AF_INET, &a);
	int s = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	ASSERT_SYSCALL_OK(close(l));
	ASSERT_EQ(write(c, "o", 1), 1);
	char b = 0;
	EXPECT_EQ(read(s, &b, 1), 1);
	EXPECT_EQ(b, 'o');
}
