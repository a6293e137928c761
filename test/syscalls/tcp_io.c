/* Data on TCP connections over IPv4 loopback: read(2)/write(2), send(2),
 * recv(2) and their flags, urgent data, ioctls, sendfile(2), splice(2);
 * tcp(7), socket(7). */
#include "test.h"
#include "inet_test.h"

#include <linux/sockios.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

TEST(tcp_io, write_then_read_carries_data_both_ways)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	char buf[8];
	ASSERT_EQ(write(c, "ping", 4), 4);
	read_exact(s, buf, 4);
	EXPECT_MEMEQ(buf, "ping", 4);
	ASSERT_EQ(write(s, "pong", 4), 4);
	read_exact(c, buf, 4);
	EXPECT_MEMEQ(buf, "pong", 4);
}

TEST(tcp_io, read_returns_at_most_the_buffer_size_and_keeps_the_rest)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "0123456789", 10), 10);
	char buf[10];
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	EXPECT_EQ(read(s, buf, 4), 4);
	EXPECT_MEMEQ(buf, "0123", 4);
	read_exact(s, buf, 6);
	EXPECT_MEMEQ(buf, "456789", 6);
}

TEST(tcp_io, read_of_zero_bytes_returns_0)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	char b;
	EXPECT_EQ(read(s, &b, 0), 0);
	EXPECT_EQ(write(c, &b, 0), 0);
}

TEST(tcp_io, read_returns_0_after_the_peer_closes)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "x", 1), 1);
	ASSERT_SYSCALL_OK(close(c));
	char b;
	EXPECT_EQ(read(s, &b, 1), 1);
	EXPECT_EQ(read(s, &b, 1), 0);
	EXPECT_EQ(read(s, &b, 1), 0);
}

TEST(tcp_io, bytes_arrive_in_order_across_many_small_writes)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		for (int i = 0; i < 2000; i++) {
			unsigned char v = (unsigned char)(i * 7);
			ASSERT_EQ(write(c, &v, 1), 1);
		}
		_exit(0);
	}
	close(c);
	static unsigned char buf[2000];
	read_exact(s, buf, sizeof(buf));
	for (int i = 0; i < 2000; i++)
		if (buf[i] != (unsigned char)(i * 7))
			ASSERT_EQ(buf[i], (unsigned char)(i * 7));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

/* ---- recv flags ---- */

TEST(tcp_io, recv_MSG_PEEK_leaves_the_data_queued)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "peek", 4), 4);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	char buf[8] = {0};
	EXPECT_EQ(recv(s, buf, sizeof(buf), MSG_PEEK), 4);
	EXPECT_MEMEQ(buf, "peek", 4);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(recv(s, buf, sizeof(buf), MSG_PEEK), 4);
	EXPECT_MEMEQ(buf, "peek", 4);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(read(s, buf, sizeof(buf)), 4);
	EXPECT_MEMEQ(buf, "peek", 4);
}

TEST(tcp_io, recv_MSG_PEEK_with_a_small_buffer_returns_a_prefix)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "abcdef", 6), 6);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	char buf[3];
	EXPECT_EQ(recv(s, buf, 3, MSG_PEEK), 3);
	EXPECT_MEMEQ(buf, "abc", 3);
	EXPECT_EQ(recv(s, buf, 3, 0), 3);
	EXPECT_MEMEQ(buf, "abc", 3);
}

TEST(tcp_io, recv_MSG_DONTWAIT_without_data_fails_EAGAIN)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	char b;
	EXPECT_ERRNO(recv(s, &b, 1, MSG_DONTWAIT), EAGAIN);
	/* The socket itself stays blocking. */
	EXPECT_FALSE(fcntl(s, F_GETFL) & O_NONBLOCK);
}

TEST(tcp_io, recv_MSG_DONTWAIT_returns_queued_data)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "q", 1), 1);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	char b = 0;
	EXPECT_EQ(recv(s, &b, 1, MSG_DONTWAIT), 1);
	EXPECT_EQ(b, 'q');
}

TEST(tcp_io, read_on_a_nonblocking_socket_without_data_fails_EAGAIN)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	char b;
	EXPECT_ERRNO(read(s, &b, 1), EAGAIN);
}

TEST(tcp_io, recv_MSG_WAITALL_returns_the_full_length_written_in_pieces)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "abcd", 4), 4);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_EQ(write(c, "ef", 2), 2);
		ASSERT_EQ(write(c, "gh", 2), 2);
		_exit(0);
	}
	char buf[8];
	EXPECT_EQ(recv(s, buf, 8, MSG_WAITALL), 8);
	EXPECT_MEMEQ(buf, "abcdefgh", 8);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(tcp_io, recv_MSG_WAITALL_returns_a_short_count_at_end_of_file)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "abc", 3), 3);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	char buf[8];
	EXPECT_EQ(recv(s, buf, 8, MSG_WAITALL), 3);
	EXPECT_MEMEQ(buf, "abc", 3);
}

TEST(tcp_io, recv_MSG_TRUNC_discards_the_bytes_without_copying)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "abcdef", 6), 6);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	EXPECT_EQ(recv(s, NULL, 3, MSG_TRUNC), 3);
	char buf[3];
	read_exact(s, buf, 3);
	EXPECT_MEMEQ(buf, "def", 3);
}

TEST(tcp_io, recv_MSG_ERRQUEUE_without_errors_fails_EAGAIN)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	char b;
	EXPECT_ERRNO(recv(s, &b, 1, MSG_ERRQUEUE), EAGAIN);
}

TEST(tcp_io, recvfrom_on_TCP_reports_an_address_length_of_0)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "r", 1), 1);
	inet_addr_t from;
	socklen_t len = sizeof(from);
	char b;
	EXPECT_EQ(recvfrom(s, &b, 1, 0, &from.sa, &len), 1);
	EXPECT_EQ(len, 0);
}

TEST(tcp_io, sendmsg_and_recvmsg_gather_and_scatter_iovecs)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct iovec out[2] = {{.iov_base = "hel", .iov_len = 3},
			       {.iov_base = "lo!", .iov_len = 3}};
	struct msghdr m = {.msg_iov = out, .msg_iovlen = 2};
	EXPECT_EQ(sendmsg(c, &m, 0), 6);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	char a[2], b[4];
	struct iovec in[2] = {{.iov_base = a, .iov_len = 2},
			      {.iov_base = b, .iov_len = 4}};
	struct msghdr r = {.msg_iov = in, .msg_iovlen = 2};
	EXPECT_EQ(recvmsg(s, &r, MSG_WAITALL), 6);
	EXPECT_MEMEQ(a, "he", 2);
	EXPECT_MEMEQ(b, "llo!", 4);
}

TEST(tcp_io, recvmsg_on_TCP_sets_msg_namelen_to_0)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "n", 1), 1);
	char b;
	inet_addr_t from;
	struct iovec iov = {.iov_base = &b, .iov_len = 1};
	struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof(from),
			   .msg_iov = &iov, .msg_iovlen = 1};
	EXPECT_EQ(recvmsg(s, &m, 0), 1);
	EXPECT_EQ(m.msg_namelen, 0);
}

TEST(tcp_io, writev_and_readv_carry_every_iovec)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct iovec out[3] = {{.iov_base = "a", .iov_len = 1},
			       {.iov_base = "", .iov_len = 0},
			       {.iov_base = "bc", .iov_len = 2}};
	EXPECT_EQ(writev(c, out, 3), 3);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	char x[1], y[2];
	struct iovec in[2] = {{.iov_base = x, .iov_len = 1},
			      {.iov_base = y, .iov_len = 2}};
	ssize_t got = 0;
	while (got < 3) {
		/* readv may return early; read the rest plainly. */
		ssize_t r = got == 0 ? readv(s, in, 2) : read(s, y + (got - 1), (size_t)(3 - got));
		ASSERT_GT(r, 0);
		got += r;
	}
	EXPECT_EQ(x[0], 'a');
	EXPECT_MEMEQ(y, "bc", 2);
}

TEST(tcp_io, read_into_a_bad_buffer_fails_EFAULT)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "f", 1), 1);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	EXPECT_ERRNO(syscall(SYS_read, s, (void *)8, 1), EFAULT);
	char b = 0;
	EXPECT_EQ(read(s, &b, 1), 1);
	EXPECT_EQ(b, 'f');
}

TEST(tcp_io, write_from_a_bad_buffer_fails_EFAULT)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_ERRNO(syscall(SYS_write, c, (void *)8, 1), EFAULT);
}

TEST(tcp_io, SO_RCVTIMEO_makes_a_blocking_recv_fail_EAGAIN)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	char b;
	EXPECT_ERRNO(recv(s, &b, 1, 0), EAGAIN);
}

/* ---- unconnected sockets ---- */

TEST(tcp_io, send_on_an_unconnected_socket_fails_EPIPE)
{
	ignore_sigpipe();
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
}

TEST(tcp_io, write_on_an_unconnected_socket_raises_SIGPIPE)
{
	catch_sigpipe();
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(write(s, "x", 1), EPIPE);
	EXPECT_EQ(inet_sigpipes, 1);
}

TEST(tcp_io, write_on_a_listener_fails_EPIPE)
{
	ignore_sigpipe();
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	EXPECT_ERRNO(write(l, "x", 1), EPIPE);
}

TEST(tcp_io, recv_on_an_unconnected_socket_fails_ENOTCONN)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	char b;
	EXPECT_ERRNO(recv(s, &b, 1, 0), ENOTCONN);
	EXPECT_ERRNO(read(s, &b, 1), ENOTCONN);
}

TEST(tcp_io, recv_on_a_listener_fails_ENOTCONN)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	char b;
	EXPECT_ERRNO(recv(l, &b, 1, 0), ENOTCONN);
}

/* ---- EPIPE and SIGPIPE ---- */

TEST(tcp_io, write_after_SHUT_WR_fails_EPIPE_and_raises_SIGPIPE)
{
	catch_sigpipe();
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	EXPECT_ERRNO(write(c, "x", 1), EPIPE);
	EXPECT_EQ(inet_sigpipes, 1);
}

TEST(tcp_io, send_MSG_NOSIGNAL_after_SHUT_WR_fails_EPIPE_without_SIGPIPE)
{
	catch_sigpipe();
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	EXPECT_ERRNO(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	EXPECT_EQ(inet_sigpipes, 0);
}

TEST(tcp_io, SIGPIPE_default_action_terminates_the_writer)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (write(c, "x", 1) < 0)
			_exit(2);
		_exit(3);
	}
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGPIPE);
}

TEST(tcp_io, write_after_the_peer_closed_is_answered_by_RST_then_fails_EPIPE)
{
	catch_sigpipe();
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(close(s));
	/* The FIN arrives: end of file. */
	ASSERT_TRUE(net_wait(c, POLLIN) & POLLIN);
	char b;
	ASSERT_EQ(read(c, &b, 1), 0);
	/* Writing to a closed peer is allowed once; the peer answers RST. */
	EXPECT_EQ(write(c, "x", 1), 1);
	net_wait_error(c);
	EXPECT_ERRNO(write(c, "y", 1), EPIPE);
	EXPECT_EQ(inet_sigpipes, 1);
}

TEST(tcp_io, write_after_the_peer_reset_fails_ECONNRESET_then_EPIPE)
{
	catch_sigpipe();
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_SYSCALL_OK(close(s));
	net_wait_error(c);
	EXPECT_ERRNO(write(c, "x", 1), ECONNRESET);
	EXPECT_EQ(inet_sigpipes, 0);
	EXPECT_ERRNO(write(c, "x", 1), EPIPE);
	EXPECT_EQ(inet_sigpipes, 1);
}

/* ---- urgent data ---- */

TEST(tcp_io, recv_MSG_OOB_without_urgent_data_fails_EINVAL)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "n", 1), 1);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	char b;
	EXPECT_ERRNO(recv(s, &b, 1, MSG_OOB), EINVAL);
}

TEST(tcp_io, send_MSG_OOB_makes_the_last_byte_urgent_for_recv_MSG_OOB)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_EQ(send(c, "abc", 3, MSG_OOB), 3);
	ASSERT_TRUE(net_wait(s, POLLPRI) & POLLPRI);
	char b = 0;
	EXPECT_EQ(recv(s, &b, 1, MSG_OOB), 1);
	EXPECT_EQ(b, 'c');
	/* Read once, it is gone. */
	EXPECT_ERRNO(recv(s, &b, 1, MSG_OOB), EINVAL);
}

TEST(tcp_io, urgent_byte_is_not_in_the_normal_stream)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(send(c, "abc", 3, MSG_OOB), 3);
	ASSERT_EQ(write(c, "de", 2), 2);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	ASSERT_TRUE(net_wait(s, POLLPRI) & POLLPRI);
	char buf[8];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(s, buf + got, sizeof(buf) - got);
		ASSERT_GE(r, 0);
		if (r == 0)
			break;
		got += (size_t)r;
	}
	EXPECT_EQ(got, 4);
	EXPECT_MEMEQ(buf, "abde", 4);
}

TEST(tcp_io, read_stops_at_the_urgent_mark_and_SIOCATMARK_reports_it)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(send(c, "abc", 3, MSG_OOB), 3);
	ASSERT_EQ(write(c, "de", 2), 2);
	ASSERT_TRUE(net_wait(s, POLLPRI) & POLLPRI);
	int mark = -1;
	ASSERT_SYSCALL_OK(ioctl(s, SIOCATMARK, &mark));
	EXPECT_EQ(mark, 0);
	char buf[8];
	EXPECT_EQ(read(s, buf, sizeof(buf)), 2);
	EXPECT_MEMEQ(buf, "ab", 2);
	ASSERT_SYSCALL_OK(ioctl(s, SIOCATMARK, &mark));
	EXPECT_EQ(mark, 1);
}

TEST(tcp_io, SO_OOBINLINE_keeps_the_urgent_byte_in_the_stream)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	set_int_opt(s, SOL_SOCKET, SO_OOBINLINE, 1);
	ASSERT_EQ(send(c, "abc", 3, MSG_OOB), 3);
	ASSERT_TRUE(net_wait(s, POLLPRI) & POLLPRI);
	char b;
	EXPECT_ERRNO(recv(s, &b, 1, MSG_OOB), EINVAL);
	char buf[3];
	read_exact(s, buf, 3);
	EXPECT_MEMEQ(buf, "abc", 3);
}

TEST(tcp_io, end_of_file_after_an_urgent_byte_read_with_MSG_OOB)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(send(c, "!", 1, MSG_OOB), 1);
	ASSERT_TRUE(net_wait(s, POLLPRI) & POLLPRI);
	char b = 0;
	ASSERT_EQ(recv(s, &b, 1, MSG_OOB), 1);
	EXPECT_EQ(b, '!');
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	/* The urgent byte is not in the stream: only the end of file is. */
	EXPECT_EQ(read(s, &b, 1), 0);
}

/* ---- ioctls ---- */

TEST(tcp_io, FIONREAD_reports_the_bytes_queued_for_reading)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(s, FIONREAD, &n));
	EXPECT_EQ(n, 0);
	ASSERT_EQ(write(c, "hello", 5), 5);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	ASSERT_SYSCALL_OK(ioctl(s, FIONREAD, &n));
	EXPECT_EQ(n, 5);
	char b[2];
	read_exact(s, b, 2);
	ASSERT_SYSCALL_OK(ioctl(s, FIONREAD, &n));
	EXPECT_EQ(n, 3);
}

TEST(tcp_io, SIOCINQ_equals_FIONREAD)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_EQ(write(c, "abc", 3), 3);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(s, SIOCINQ, &n));
	EXPECT_EQ(n, 3);
}

TEST(tcp_io, SIOCINQ_on_a_listener_fails_EINVAL)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int n;
	EXPECT_ERRNO(ioctl(l, SIOCINQ, &n), EINVAL);
	EXPECT_ERRNO(ioctl(l, SIOCOUTQ, &n), EINVAL);
}

TEST(tcp_io, SIOCOUTQ_of_a_connection_that_sent_nothing_is_0)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(c, SIOCOUTQ, &n));
	EXPECT_EQ(n, 0);
	n = -1;
	ASSERT_SYSCALL_OK(ioctl(c, SIOCOUTQNSD, &n));
	EXPECT_EQ(n, 0);
}

TEST(tcp_io, SIOCOUTQ_counts_unacknowledged_bytes_while_the_peer_is_full)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(fcntl(c, F_SETFL, O_NONBLOCK));
	static char chunk[65536];
	long total = 0;
	for (;;) {
		ssize_t w = write(c, chunk, sizeof(chunk));
		if (w < 0) {
			ASSERT_EQ(errno, EAGAIN);
			break;
		}
		total += w;
		ASSERT_LT(total, 256L << 20);
	}
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(c, SIOCOUTQ, &n));
	EXPECT_GT(n, 0);
	EXPECT_LE(n, total);
}

/* ---- flow control ---- */

TEST(tcp_io, nonblocking_write_fails_EAGAIN_when_the_buffers_are_full_and_everything_written_arrives)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(fcntl(c, F_SETFL, O_NONBLOCK));
	ASSERT_SYSCALL_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	static char chunk[65536];
	memset(chunk, 'w', sizeof(chunk));
	long total = 0;
	for (;;) {
		ssize_t w = write(c, chunk, sizeof(chunk));
		if (w < 0) {
			EXPECT_EQ(errno, EAGAIN);
			break;
		}
		total += w;
		ASSERT_LT(total, 256L << 20);
	}
	EXPECT_GT(total, 0);
	/* Drain the peer until the writer is writable again. */
	long got = 0;
	static char in[65536];
	for (;;) {
		struct pollfd p[2] = {{.fd = c, .events = POLLOUT},
				      {.fd = s, .events = POLLIN}};
		ASSERT_GT(poll(p, 2, NET_WAIT_MS), 0);
		if (p[1].revents & POLLIN) {
			ssize_t r = read(s, in, sizeof(in));
			if (r > 0)
				got += r;
		}
		if (p[0].revents & POLLOUT)
			break;
	}
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	ASSERT_SYSCALL_OK(fcntl(s, F_SETFL, 0));
	for (;;) {
		ssize_t r = read(s, in, sizeof(in));
		ASSERT_GE(r, 0);
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (in[i] != 'w')
				ASSERT_EQ(in[i], 'w');
		got += r;
	}
	EXPECT_EQ(got, total);
}

/* ---- large transfers ---- */

#define BIG (4 << 20)

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static uint64_t checksum_stream(int fd, size_t *count)
{
	static unsigned char buf[65536];
	uint64_t sum = 1469598103934665603ull;
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		ASSERT_GE(r, 0);
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			sum = (sum ^ buf[i]) * 1099511628211ull;
		n += (size_t)r;
	}
	*count = n;
	return sum;
}

static uint64_t checksum_pattern(size_t len)
{
	uint64_t sum = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		sum = (sum ^ pattern(i)) * 1099511628211ull;
	return sum;
}

static void send_pattern(int fd, size_t len)
{
	static unsigned char buf[100003];
	size_t off = 0;
	while (off < len) {
		size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + i);
		write_all(fd, buf, n);
		off += n;
	}
}

TEST(tcp_io, megabytes_sent_by_a_child_arrive_intact)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(s);
		send_pattern(c, BIG);
		_exit(0);
	}
	close(c);
	size_t n;
	uint64_t sum = checksum_stream(s, &n);
	EXPECT_EQ(n, BIG);
	EXPECT_EQ(sum, checksum_pattern(BIG));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(tcp_io, megabytes_sent_to_a_child_arrive_intact)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(c);
		size_t n;
		uint64_t sum = checksum_stream(s, &n);
		_exit(n == BIG && sum == checksum_pattern(BIG) ? 0 : 1);
	}
	close(s);
	send_pattern(c, BIG);
	ASSERT_SYSCALL_OK(close(c));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(tcp_io, megabytes_both_ways_at_once_arrive_intact)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	pid_t w1 = ASSERT_SYSCALL_OK(fork());
	if (w1 == 0) {
		send_pattern(c, BIG / 2);
		ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
		_exit(0);
	}
	pid_t w2 = ASSERT_SYSCALL_OK(fork());
	if (w2 == 0) {
		send_pattern(s, BIG / 2);
		ASSERT_SYSCALL_OK(shutdown(s, SHUT_WR));
		_exit(0);
	}
	pid_t r1 = ASSERT_SYSCALL_OK(fork());
	if (r1 == 0) {
		size_t n;
		uint64_t sum = checksum_stream(c, &n);
		_exit(n == BIG / 2 && sum == checksum_pattern(BIG / 2) ? 0 : 1);
	}
	size_t n;
	uint64_t sum = checksum_stream(s, &n);
	EXPECT_EQ(n, BIG / 2);
	EXPECT_EQ(sum, checksum_pattern(BIG / 2));
	EXPECT_EXIT_STATUS(test_wait_exit(w1), 0);
	EXPECT_EXIT_STATUS(test_wait_exit(w2), 0);
	EXPECT_EXIT_STATUS(test_wait_exit(r1), 0);
}

/* ---- sendfile, splice ---- */

static int pattern_file(size_t len)
{
	int fd = ASSERT_SYSCALL_OK(
		open(test_path("data"), O_RDWR | O_CREAT | O_TRUNC, 0600));
	send_pattern(fd, len);
	ASSERT_SYSCALL_OK(lseek(fd, 0, SEEK_SET));
	return fd;
}

TEST(tcp_io, sendfile_from_a_file_to_a_TCP_socket_sends_its_contents)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	const size_t len = 1 << 20;
	int f = pattern_file(len);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(c);
		size_t n;
		uint64_t sum = checksum_stream(s, &n);
		_exit(n == len && sum == checksum_pattern(len) ? 0 : 1);
	}
	close(s);
	size_t sent = 0;
	while (sent < len) {
		ssize_t r = sendfile(c, f, NULL, len - sent);
		ASSERT_GT(r, 0);
		sent += (size_t)r;
	}
	EXPECT_EQ(lseek(f, 0, SEEK_CUR), (off_t)len);
	ASSERT_SYSCALL_OK(close(c));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(tcp_io, sendfile_with_an_offset_updates_it_and_not_the_file_offset)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int f = pattern_file(4096);
	off_t off = 100;
	EXPECT_EQ(sendfile(c, f, &off, 10), 10);
	EXPECT_EQ(off, 110);
	EXPECT_EQ(lseek(f, 0, SEEK_CUR), 0);
	unsigned char buf[10];
	read_exact(s, buf, 10);
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(buf[i], pattern(100 + (size_t)i));
}

TEST(tcp_io, sendfile_past_end_of_file_sends_what_the_file_holds)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int f = pattern_file(100);
	off_t off = 90;
	EXPECT_EQ(sendfile(c, f, &off, 1000), 10);
	EXPECT_EQ(off, 100);
	EXPECT_EQ(sendfile(c, f, &off, 1000), 0);
}

TEST(tcp_io, splice_from_a_pipe_to_a_TCP_socket)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_EQ(write(p[1], "spliced", 7), 7);
	EXPECT_EQ(splice(p[0], NULL, c, NULL, 7, 0), 7);
	char buf[7];
	read_exact(s, buf, 7);
	EXPECT_MEMEQ(buf, "spliced", 7);
}

TEST(tcp_io, splice_from_a_TCP_socket_to_a_pipe)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_EQ(write(c, "to pipe", 7), 7);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	size_t got = 0;
	while (got < 7) {
		ssize_t r = splice(s, NULL, p[1], NULL, 7 - got, 0);
		ASSERT_GT(r, 0);
		got += (size_t)r;
	}
	char buf[7];
	read_exact(p[0], buf, 7);
	EXPECT_MEMEQ(buf, "to pipe", 7);
	/* At end of file splice returns 0. */
	EXPECT_EQ(splice(s, NULL, p[1], NULL, 7, 0), 0);
}

TEST(tcp_io, splice_from_a_file_through_a_pipe_to_a_TCP_socket)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	const size_t len = 256 << 10;
	int f = pattern_file(len);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(c);
		size_t n;
		uint64_t sum = checksum_stream(s, &n);
		_exit(n == len && sum == checksum_pattern(len) ? 0 : 1);
	}
	close(s);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	size_t done = 0;
	while (done < len) {
		ssize_t in = splice(f, NULL, p[1], NULL, len - done, 0);
		ASSERT_GT(in, 0);
		ssize_t moved = 0;
		while (moved < in) {
			ssize_t out = splice(p[0], NULL, c, NULL,
					     (size_t)(in - moved), 0);
			ASSERT_GT(out, 0);
			moved += out;
		}
		done += (size_t)in;
	}
	ASSERT_SYSCALL_OK(close(c));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(tcp_io, splice_from_a_nonblocking_TCP_socket_without_data_fails_EAGAIN)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(splice(s, NULL, p[1], NULL, 16, 0), EAGAIN);
}
