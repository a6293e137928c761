/* AF_UNIX sockets: unix(7), socket(2), socketpair(2), bind(2), listen(2),
 * accept(2), connect(2), send(2), recv(2), shutdown(2), getsockopt(2). */
#include "test.h"

#include <stddef.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

/* Fills sa with a filesystem name; returns its length. */
static socklen_t path_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

/* Fills sa with an abstract name unique to this process; returns its
 * length. */
static socklen_t abstract_addr(struct sockaddr_un *sa, const char *tag)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
			 "palisade-%d-%s", getpid(), tag);
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

/* Returns a listening socket of type on an abstract name. */
static int abstract_listener(int type, const char *tag, struct sockaddr_un *sa,
			     socklen_t *len)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, type, 0));
	*len = abstract_addr(sa, tag);
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)sa, *len));
	ASSERT_SYSCALL_OK(listen(s, 8));
	return s;
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig)
{
	(void)sig;
	got_signal++;
}

/* ---- socket, socketpair ---- */

TEST(unix_socket, socketpair_stream_carries_data_both_ways)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	char buf[16] = {0};
	EXPECT_EQ(write(sv[0], "ping", 4), 4);
	EXPECT_EQ(read(sv[1], buf, sizeof(buf)), 4);
	EXPECT_STREQ(buf, "ping");
	EXPECT_EQ(send(sv[1], "pong", 4, 0), 4);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(recv(sv[0], buf, sizeof(buf), 0), 4);
	EXPECT_STREQ(buf, "pong");
}

TEST(unix_socket, socket_rejects_bad_type_protocol_and_flags)
{
	EXPECT_ERRNO(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
	EXPECT_ERRNO(socket(AF_UNIX, SOCK_STREAM, 7), EPROTONOSUPPORT);
	EXPECT_ERRNO(socket(AF_UNIX, SOCK_STREAM | 0x100, 0), EINVAL);
	EXPECT_ERRNO(socket(AF_UNIX, 12, 0), EINVAL);
	EXPECT_ERRNO(socket(1000, SOCK_STREAM, 0), EAFNOSUPPORT);
	int s = EXPECT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, PF_UNIX));
	close(s);
}

TEST(unix_socket, socketpair_of_inet_family_fails_with_EOPNOTSUPP)
{
	int sv[2];
	EXPECT_ERRNO(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
}

TEST(unix_socket, socketpair_with_bad_pointer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, 8L), EFAULT);
}

TEST(unix_socket, SOCK_NONBLOCK_and_SOCK_CLOEXEC_set_descriptor_flags)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
	EXPECT_TRUE(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(fcntl(sv[0], F_GETFL) & O_ACCMODE, O_RDWR);
	EXPECT_TRUE(fcntl(sv[1], F_GETFD) & FD_CLOEXEC);
	char c;
	EXPECT_ERRNO(read(sv[0], &c, 1), EAGAIN);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(sv[0], &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

TEST(unix_socket, socket_calls_on_a_pipe_fail_with_ENOTSOCK)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	EXPECT_ERRNO(getsockname(p[0], (struct sockaddr *)&sa, &len), ENOTSOCK);
	EXPECT_ERRNO(listen(p[0], 1), ENOTSOCK);
	EXPECT_ERRNO(send(p[1], "x", 1, 0), ENOTSOCK);
	EXPECT_ERRNO(shutdown(p[0], SHUT_RD), ENOTSOCK);
	EXPECT_ERRNO(listen(999, 1), EBADF);
}

/* ---- stream semantics ---- */

TEST(unix_socket, closing_the_peer_gives_end_of_file_after_the_data)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(write(sv[0], "ab", 2), 2);
	ASSERT_SYSCALL_OK(close(sv[0]));
	char buf[4];
	EXPECT_EQ(read(sv[1], buf, sizeof(buf)), 2);
	EXPECT_EQ(read(sv[1], buf, sizeof(buf)), 0);
}

TEST(unix_socket, write_to_closed_peer_raises_SIGPIPE_and_fails_with_EPIPE)
{
	struct sigaction sa = {.sa_handler = on_signal};
	ASSERT_SYSCALL_OK(sigaction(SIGPIPE, &sa, NULL));
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_SYSCALL_OK(close(sv[1]));
	EXPECT_ERRNO(write(sv[0], "x", 1), EPIPE);
	EXPECT_EQ(got_signal, 1);
	EXPECT_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	EXPECT_EQ(got_signal, 1);
}

TEST(unix_socket, closing_with_unread_data_resets_the_peer)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(write(sv[0], "x", 1), 1);
	ASSERT_SYSCALL_OK(close(sv[1]));
	int err = -1;
	socklen_t len = sizeof(err);
	ASSERT_SYSCALL_OK(getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(err, ECONNRESET);
	/* SO_ERROR cleared the error: reads see end of file. */
	char c;
	EXPECT_EQ(read(sv[0], &c, 1), 0);
	int sv2[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2));
	ASSERT_EQ(write(sv2[0], "x", 1), 1);
	ASSERT_SYSCALL_OK(close(sv2[1]));
	EXPECT_ERRNO(read(sv2[0], &c, 1), ECONNRESET);
	EXPECT_EQ(read(sv2[0], &c, 1), 0);
}

TEST(unix_socket, shutdown_of_an_unconnected_socket_succeeds)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_SYSCALL_OK(shutdown(s, SHUT_RDWR));
	int d = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	EXPECT_SYSCALL_OK(shutdown(d, SHUT_WR));
	EXPECT_ERRNO(send(d, "x", 1, MSG_NOSIGNAL), EPIPE);
}

TEST(unix_socket, SHUT_WR_gives_the_peer_EOF_and_the_writer_EPIPE)
{
	signal(SIGPIPE, SIG_IGN);
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(write(sv[0], "a", 1), 1);
	ASSERT_SYSCALL_OK(shutdown(sv[0], SHUT_WR));
	char buf[4];
	EXPECT_EQ(read(sv[1], buf, sizeof(buf)), 1);
	EXPECT_EQ(read(sv[1], buf, sizeof(buf)), 0);
	EXPECT_ERRNO(write(sv[0], "b", 1), EPIPE);
	/* The other direction still works. */
	EXPECT_EQ(write(sv[1], "c", 1), 1);
	EXPECT_EQ(read(sv[0], buf, sizeof(buf)), 1);
}

TEST(unix_socket, SHUT_RD_makes_reads_return_EOF_and_peer_writes_fail_with_EPIPE)
{
	signal(SIGPIPE, SIG_IGN);
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_SYSCALL_OK(shutdown(sv[0], SHUT_RD));
	char c;
	EXPECT_EQ(read(sv[0], &c, 1), 0);
	EXPECT_ERRNO(write(sv[1], "x", 1), EPIPE);
	EXPECT_ERRNO(shutdown(sv[0], 3), EINVAL);
	EXPECT_ERRNO(shutdown(sv[0], -1), EINVAL);
}

TEST(unix_socket, MSG_PEEK_leaves_the_data_queued)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(write(sv[0], "hello", 5), 5);
	char buf[8] = {0};
	EXPECT_EQ(recv(sv[1], buf, 3, MSG_PEEK), 3);
	EXPECT_MEMEQ(buf, "hel", 3);
	EXPECT_EQ(recv(sv[1], buf, sizeof(buf), 0), 5);
	EXPECT_MEMEQ(buf, "hello", 5);
}

TEST(unix_socket, MSG_DONTWAIT_fails_with_EAGAIN_on_an_empty_blocking_socket)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	char c;
	EXPECT_ERRNO(recv(sv[0], &c, 1, MSG_DONTWAIT), EAGAIN);
	EXPECT_FALSE(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
}

TEST(unix_socket, MSG_WAITALL_waits_for_the_whole_buffer)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		for (int i = 0; i < 4; i++) {
			usleep(20000);
			if (write(sv[1], "ab", 2) != 2)
				_exit(1);
		}
		_exit(0);
	}
	char buf[8];
	EXPECT_EQ(recv(sv[0], buf, sizeof(buf), MSG_WAITALL), 8);
	EXPECT_MEMEQ(buf, "abababab", 8);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(unix_socket, readv_and_writev_work_on_sockets)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct iovec out[2] = {{"abc", 3}, {"de", 2}};
	EXPECT_EQ(writev(sv[0], out, 2), 5);
	char a[2], b[3];
	struct iovec in[2] = {{a, 2}, {b, 3}};
	EXPECT_EQ(readv(sv[1], in, 2), 5);
	EXPECT_MEMEQ(a, "ab", 2);
	EXPECT_MEMEQ(b, "cde", 3);
}

TEST(unix_socket, FIONREAD_reports_queued_bytes)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(write(sv[0], "12345", 5), 5);
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(sv[1], FIONREAD, &n));
	EXPECT_EQ(n, 5);
}

TEST(unix_socket, nonblocking_writer_fills_the_buffer_then_gets_EAGAIN)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
	static char chunk[4096];
	long total = 0;
	for (;;) {
		ssize_t n = write(sv[0], chunk, sizeof(chunk));
		if (n < 0) {
			EXPECT_EQ(errno, EAGAIN);
			break;
		}
		total += n;
		ASSERT_LT(total, 16L << 20);
	}
	EXPECT_GT(total, 4096);
	struct pollfd p = {.fd = sv[0], .events = POLLOUT};
	EXPECT_EQ(poll(&p, 1, 0), 0);
}

TEST(unix_socket, blocking_read_is_interrupted_by_a_signal_with_EINTR)
{
	struct sigaction sa = {.sa_handler = on_signal};
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t parent = getpid();
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		usleep(50000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	char c;
	EXPECT_ERRNO(read(sv[0], &c, 1), EINTR);
	EXPECT_EQ(got_signal, 1);
	test_wait_exit(pid);
}

TEST(unix_socket, SO_RCVTIMEO_makes_a_blocking_read_time_out_with_EAGAIN)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	ASSERT_SYSCALL_OK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	struct timeval got;
	socklen_t len = sizeof(got);
	ASSERT_SYSCALL_OK(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &len));
	EXPECT_EQ(len, sizeof(got));
	EXPECT_EQ(got.tv_usec, 100000);
	char c;
	EXPECT_ERRNO(read(sv[0], &c, 1), EAGAIN);
	tv.tv_usec = 2000000;
	EXPECT_ERRNO(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), EDOM);
}

/* ---- datagram and seqpacket ---- */

TEST(unix_socket, datagrams_keep_their_boundaries)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	ASSERT_EQ(send(sv[0], "one", 3, 0), 3);
	ASSERT_EQ(send(sv[0], "", 0, 0), 0);
	ASSERT_EQ(send(sv[0], "three", 5, 0), 5);
	char buf[16];
	EXPECT_EQ(recv(sv[1], buf, sizeof(buf), 0), 3);
	EXPECT_EQ(recv(sv[1], buf, sizeof(buf), 0), 0);
	EXPECT_EQ(recv(sv[1], buf, sizeof(buf), 0), 5);
	EXPECT_MEMEQ(buf, "three", 5);
}

TEST(unix_socket, short_datagram_read_truncates_and_reports_MSG_TRUNC)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	ASSERT_EQ(send(sv[0], "abcdef", 6, 0), 6);
	ASSERT_EQ(send(sv[0], "ghijkl", 6, 0), 6);
	char buf[4];
	struct iovec iov = {buf, 4};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	EXPECT_EQ(recvmsg(sv[1], &m, 0), 4);
	EXPECT_TRUE(m.msg_flags & MSG_TRUNC);
	EXPECT_MEMEQ(buf, "abcd", 4);
	/* The rest of the datagram is gone; MSG_TRUNC returns the real length. */
	EXPECT_EQ(recv(sv[1], buf, 2, MSG_TRUNC), 6);
	EXPECT_MEMEQ(buf, "gh", 2);
}

TEST(unix_socket, oversized_datagram_fails_with_EMSGSIZE)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	int sz = 8192;
	ASSERT_SYSCALL_OK(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
	static char big[32768];
	EXPECT_ERRNO(send(sv[0], big, sizeof(big), 0), EMSGSIZE);
}

TEST(unix_socket, seqpacket_keeps_records_and_reports_EOF)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	ASSERT_EQ(send(sv[0], "rec1", 4, 0), 4);
	ASSERT_EQ(send(sv[0], "record2", 7, 0), 7);
	char buf[16];
	EXPECT_EQ(recv(sv[1], buf, 2, 0), 2);
	EXPECT_EQ(recv(sv[1], buf, sizeof(buf), 0), 7);
	EXPECT_MEMEQ(buf, "record2", 7);
	ASSERT_SYSCALL_OK(close(sv[0]));
	EXPECT_EQ(recv(sv[1], buf, sizeof(buf), 0), 0);
	EXPECT_ERRNO(send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
}

TEST(unix_socket, dgram_sendto_a_bound_path_reports_the_sender_address)
{
	struct sockaddr_un ra, sa, from;
	socklen_t rlen = path_addr(&ra, test_path("recv.sock"));
	socklen_t slen = path_addr(&sa, test_path("send.sock"));
	int r = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(bind(r, (struct sockaddr *)&ra, rlen));
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)&sa, slen));
	EXPECT_EQ(sendto(s, "hi", 2, 0, (struct sockaddr *)&ra, rlen), 2);
	char buf[4];
	socklen_t flen = sizeof(from);
	EXPECT_EQ(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen), 2);
	EXPECT_EQ(flen, slen);
	EXPECT_STREQ(from.sun_path, sa.sun_path);
}

TEST(unix_socket, unnamed_datagram_sender_has_an_empty_address)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	ASSERT_EQ(send(sv[0], "x", 1, 0), 1);
	struct sockaddr_un from;
	socklen_t flen = sizeof(from);
	char c;
	EXPECT_EQ(recvfrom(sv[1], &c, 1, 0, (struct sockaddr *)&from, &flen), 1);
	EXPECT_EQ(flen, 0);
}

TEST(unix_socket, unconnected_dgram_send_without_address_fails_with_ENOTCONN)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	EXPECT_ERRNO(send(s, "x", 1, 0), ENOTCONN);
	struct sockaddr_un sa;
	socklen_t len = abstract_addr(&sa, "nobody");
	EXPECT_ERRNO(sendto(s, "x", 1, 0, (struct sockaddr *)&sa, len), ECONNREFUSED);
}

TEST(unix_socket, dgram_send_after_the_peer_closes_fails_with_ECONNREFUSED)
{
	struct sockaddr_un sa;
	socklen_t len = abstract_addr(&sa, "dgram");
	int r = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(bind(r, (struct sockaddr *)&sa, len));
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&sa, len));
	EXPECT_EQ(send(s, "x", 1, 0), 1);
	ASSERT_SYSCALL_OK(close(r));
	EXPECT_ERRNO(send(s, "x", 1, 0), ECONNREFUSED);
	EXPECT_ERRNO(send(s, "x", 1, 0), ENOTCONN);
}

TEST(unix_socket, dgram_to_a_socket_connected_elsewhere_fails_with_EPERM)
{
	struct sockaddr_un a, b;
	socklen_t alen = abstract_addr(&a, "a"), blen = abstract_addr(&b, "b");
	int sa = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	int sb = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	int sc = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(bind(sa, (struct sockaddr *)&a, alen));
	ASSERT_SYSCALL_OK(bind(sb, (struct sockaddr *)&b, blen));
	ASSERT_SYSCALL_OK(connect(sa, (struct sockaddr *)&b, blen));
	EXPECT_ERRNO(sendto(sc, "x", 1, 0, (struct sockaddr *)&a, alen), EPERM);
	EXPECT_ERRNO(connect(sc, (struct sockaddr *)&a, alen), EPERM);
	EXPECT_EQ(sendto(sb, "y", 1, 0, (struct sockaddr *)&a, alen), 1);
}

/* ---- names, listen, accept, connect ---- */

TEST(unix_socket, abstract_listener_accepts_a_connection)
{
	struct sockaddr_un sa;
	socklen_t len;
	int l = abstract_listener(SOCK_STREAM, "accept", &sa, &len);
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&sa, len));
	struct sockaddr_un peer;
	socklen_t plen = sizeof(peer);
	int a = ASSERT_SYSCALL_OK(accept(l, (struct sockaddr *)&peer, &plen));
	EXPECT_EQ(plen, offsetof(struct sockaddr_un, sun_path));
	EXPECT_EQ(write(c, "hey", 3), 3);
	char buf[4];
	EXPECT_EQ(read(a, buf, sizeof(buf)), 3);
	/* Both ends report the listener's name. */
	struct sockaddr_un got;
	socklen_t glen = sizeof(got);
	ASSERT_SYSCALL_OK(getpeername(c, (struct sockaddr *)&got, &glen));
	EXPECT_EQ(glen, len);
	EXPECT_MEMEQ(got.sun_path, sa.sun_path, len - 2);
	glen = sizeof(got);
	ASSERT_SYSCALL_OK(getsockname(a, (struct sockaddr *)&got, &glen));
	EXPECT_EQ(glen, len);
	EXPECT_MEMEQ(got.sun_path, sa.sun_path, len - 2);
}

TEST(unix_socket, accept4_sets_SOCK_NONBLOCK_and_SOCK_CLOEXEC)
{
	struct sockaddr_un sa;
	socklen_t len;
	int l = abstract_listener(SOCK_SEQPACKET, "accept4", &sa, &len);
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&sa, len));
	int a = ASSERT_SYSCALL_OK(accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
	EXPECT_TRUE(fcntl(a, F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(a, F_GETFD) & FD_CLOEXEC);
	char c1;
	EXPECT_ERRNO(recv(a, &c1, 1, 0), EAGAIN);
	EXPECT_ERRNO(accept4(l, NULL, NULL, 0x4), EINVAL);
}

TEST(unix_socket, nonblocking_accept_with_no_pending_connection_fails_with_EAGAIN)
{
	struct sockaddr_un sa;
	socklen_t len;
	int l = abstract_listener(SOCK_STREAM, "eagain", &sa, &len);
	ASSERT_SYSCALL_OK(fcntl(l, F_SETFL, O_NONBLOCK));
	EXPECT_ERRNO(accept(l, NULL, NULL), EAGAIN);
}

TEST(unix_socket, blocking_accept_waits_for_a_connection)
{
	struct sockaddr_un sa;
	socklen_t len;
	int l = abstract_listener(SOCK_STREAM, "wait", &sa, &len);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		usleep(30000);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&sa, len) < 0)
			_exit(1);
		if (write(c, "z", 1) != 1)
			_exit(2);
		_exit(0);
	}
	int a = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	char c;
	EXPECT_EQ(read(a, &c, 1), 1);
	EXPECT_EQ(c, 'z');
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(unix_socket, abstract_name_in_use_fails_with_EADDRINUSE)
{
	struct sockaddr_un sa;
	socklen_t len = abstract_addr(&sa, "dup");
	int a = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	int b = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(a, (struct sockaddr *)&sa, len));
	EXPECT_ERRNO(bind(b, (struct sockaddr *)&sa, len), EADDRINUSE);
	struct sockaddr_un other;
	socklen_t olen = abstract_addr(&other, "other");
	EXPECT_ERRNO(bind(a, (struct sockaddr *)&other, olen), EINVAL);
	/* Closing frees the name. */
	ASSERT_SYSCALL_OK(close(a));
	EXPECT_SYSCALL_OK(bind(b, (struct sockaddr *)&sa, len));
}

TEST(unix_socket, bind_with_only_the_family_autobinds_an_abstract_name)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa_family_t)));
	socklen_t len = sizeof(sa);
	ASSERT_SYSCALL_OK(getsockname(s, (struct sockaddr *)&sa, &len));
	EXPECT_EQ(len, offsetof(struct sockaddr_un, sun_path) + 6);
	EXPECT_EQ(sa.sun_path[0], 0);
}

TEST(unix_socket, path_bind_creates_a_socket_file_and_reuse_fails_with_EADDRINUSE)
{
	struct sockaddr_un sa;
	socklen_t len = path_addr(&sa, test_path("s.sock"));
	int a = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(a, (struct sockaddr *)&sa, len));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(sa.sun_path, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	int b = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_ERRNO(bind(b, (struct sockaddr *)&sa, len), EADDRINUSE);
	/* The file outlives the socket. */
	ASSERT_SYSCALL_OK(close(a));
	EXPECT_ERRNO(bind(b, (struct sockaddr *)&sa, len), EADDRINUSE);
	struct sockaddr_un got;
	socklen_t glen = sizeof(got);
	ASSERT_SYSCALL_OK(getsockname(b, (struct sockaddr *)&got, &glen));
	EXPECT_EQ(glen, sizeof(sa_family_t));
}

TEST(unix_socket, path_listener_accepts_and_getsockname_returns_the_path)
{
	struct sockaddr_un sa;
	socklen_t len = path_addr(&sa, test_path("l.sock"));
	int l = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&sa, len));
	ASSERT_SYSCALL_OK(listen(l, 1));
	struct sockaddr_un got;
	socklen_t glen = sizeof(got);
	ASSERT_SYSCALL_OK(getsockname(l, (struct sockaddr *)&got, &glen));
	EXPECT_EQ(glen, len);
	EXPECT_STREQ(got.sun_path, sa.sun_path);
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&sa, len));
	int a = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	EXPECT_EQ(send(a, "ok", 2, 0), 2);
	char buf[2];
	EXPECT_EQ(recv(c, buf, 2, 0), 2);
	/* A short buffer gets a truncated name and the real length. */
	char small[4];
	socklen_t slen = sizeof(small);
	ASSERT_SYSCALL_OK(getpeername(c, (struct sockaddr *)small, &slen));
	EXPECT_EQ(slen, len);
}

TEST(unix_socket, connect_to_a_missing_path_fails_with_ENOENT)
{
	struct sockaddr_un sa;
	socklen_t len = path_addr(&sa, test_path("missing.sock"));
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_ERRNO(connect(c, (struct sockaddr *)&sa, len), ENOENT);
}

TEST(unix_socket, connect_to_an_unlinked_socket_path_fails_with_ENOENT)
{
	struct sockaddr_un sa;
	socklen_t len = path_addr(&sa, test_path("gone.sock"));
	int l = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&sa, len));
	ASSERT_SYSCALL_OK(listen(l, 1));
	ASSERT_SYSCALL_OK(unlink(sa.sun_path));
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_ERRNO(connect(c, (struct sockaddr *)&sa, len), ENOENT);
}

TEST(unix_socket, connect_to_a_regular_file_or_closed_socket_fails_with_ECONNREFUSED)
{
	struct sockaddr_un sa;
	socklen_t len = path_addr(&sa, test_path("file"));
	int fd = ASSERT_SYSCALL_OK(open(sa.sun_path, O_CREAT | O_WRONLY, 0666));
	close(fd);
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_ERRNO(connect(c, (struct sockaddr *)&sa, len), ECONNREFUSED);
	len = path_addr(&sa, test_path("closed.sock"));
	int l = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&sa, len));
	ASSERT_SYSCALL_OK(close(l));
	EXPECT_ERRNO(connect(c, (struct sockaddr *)&sa, len), ECONNREFUSED);
}

TEST(unix_socket, connect_to_missing_or_non_listening_abstract_name_fails_with_ECONNREFUSED)
{
	struct sockaddr_un sa;
	socklen_t len = abstract_addr(&sa, "absent");
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_ERRNO(connect(c, (struct sockaddr *)&sa, len), ECONNREFUSED);
	int b = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(b, (struct sockaddr *)&sa, len));
	EXPECT_ERRNO(connect(c, (struct sockaddr *)&sa, len), ECONNREFUSED);
}

TEST(unix_socket, connect_to_a_path_listener_of_another_type_fails_with_EPROTOTYPE)
{
	struct sockaddr_un sa;
	socklen_t len = path_addr(&sa, test_path("type.sock"));
	int l = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&sa, len));
	ASSERT_SYSCALL_OK(listen(l, 1));
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	EXPECT_ERRNO(connect(c, (struct sockaddr *)&sa, len), EPROTOTYPE);
}

TEST(unix_socket, each_socket_type_has_its_own_abstract_namespace)
{
	struct sockaddr_un sa;
	socklen_t len;
	abstract_listener(SOCK_STREAM, "pertype", &sa, &len);
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	EXPECT_ERRNO(connect(c, (struct sockaddr *)&sa, len), ECONNREFUSED);
	int d = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	EXPECT_SYSCALL_OK(bind(d, (struct sockaddr *)&sa, len));
}

TEST(unix_socket, connect_twice_fails_with_EISCONN)
{
	struct sockaddr_un sa;
	socklen_t len;
	abstract_listener(SOCK_STREAM, "twice", &sa, &len);
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&sa, len));
	EXPECT_ERRNO(connect(c, (struct sockaddr *)&sa, len), EISCONN);
	EXPECT_ERRNO(sendto(c, "x", 1, 0, (struct sockaddr *)&sa, len), EISCONN);
}

TEST(unix_socket, connect_without_write_permission_fails_with_EACCES)
{
	ASSERT_SYSCALL_OK(chmod(test_tmpdir(), 0777));
	struct sockaddr_un sa;
	socklen_t len = path_addr(&sa, test_path("perm.sock"));
	int l = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&sa, len));
	ASSERT_SYSCALL_OK(listen(l, 1));
	ASSERT_SYSCALL_OK(chmod(sa.sun_path, 0755));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&sa, len) == 0)
			_exit(1);
		_exit(errno == EACCES ? 0 : 2);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(unix_socket, unconnected_stream_send_fails_with_ENOTCONN_and_peer_calls_too)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_ERRNO(send(s, "x", 1, 0), ENOTCONN);
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	EXPECT_ERRNO(getpeername(s, (struct sockaddr *)&sa, &len), ENOTCONN);
	char c;
	EXPECT_ERRNO(recv(s, &c, 1, 0), EINVAL);
}

TEST(unix_socket, listen_and_accept_check_the_socket_state)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_ERRNO(listen(s, 1), EINVAL);
	EXPECT_ERRNO(accept(s, NULL, NULL), EINVAL);
	int d = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	EXPECT_ERRNO(listen(d, 1), EOPNOTSUPP);
	EXPECT_ERRNO(accept(d, NULL, NULL), EOPNOTSUPP);
}

TEST(unix_socket, full_backlog_makes_a_nonblocking_connect_fail_with_EAGAIN)
{
	struct sockaddr_un sa;
	socklen_t len = abstract_addr(&sa, "backlog");
	int l = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&sa, len));
	ASSERT_SYSCALL_OK(listen(l, 0));
	int ok = 0, err = 0;
	for (int i = 0; i < 8; i++) {
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(c, (struct sockaddr *)&sa, len) == 0) {
			ok++;
		} else {
			err = errno;
			break;
		}
	}
	EXPECT_GE(ok, 1);
	EXPECT_EQ(err, EAGAIN);
}

TEST(unix_socket, bind_checks_the_address)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un sa;
	socklen_t len = abstract_addr(&sa, "bad");
	EXPECT_ERRNO(bind(s, (struct sockaddr *)8, len), EFAULT);
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&sa, 1), EINVAL);
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&sa, 200), EINVAL);
	sa.sun_family = AF_INET;
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&sa, len), EINVAL);
}

/* ---- options ---- */

TEST(unix_socket, getsockopt_reports_type_domain_and_state)
{
	int v;
	socklen_t len = sizeof(v);
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
	EXPECT_EQ(v, SOCK_SEQPACKET);
	EXPECT_EQ(len, sizeof(int));
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &len));
	EXPECT_EQ(v, AF_UNIX);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &len));
	EXPECT_EQ(v, 0);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len));
	EXPECT_EQ(v, 0);
	struct sockaddr_un sa;
	socklen_t alen = abstract_addr(&sa, "opt");
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)&sa, alen));
	ASSERT_SYSCALL_OK(listen(s, 1));
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &len));
	EXPECT_EQ(v, 1);
	EXPECT_ERRNO(getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE + 1000, &v, &len), ENOPROTOOPT);
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof(v)), ENOPROTOOPT);
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL);
	EXPECT_ERRNO(getsockopt(s, SOL_SOCKET, SO_TYPE, (void *)8, &len), EFAULT);
	len = (socklen_t)-1;
	EXPECT_ERRNO(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len), EINVAL);
}

TEST(unix_socket, SO_SNDBUF_is_doubled_and_flags_are_stored)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	int v = 16384, got;
	socklen_t len = sizeof(got);
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_SNDBUF, &got, &len));
	EXPECT_EQ(got, 32768);
	v = 1;
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &got, &len));
	EXPECT_EQ(got, 1);
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)));
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &got, &len));
	EXPECT_EQ(got, 1);
}

TEST(unix_socket, SO_PEERCRED_reports_the_socketpair_creator)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct ucred cr;
	socklen_t len = sizeof(cr);
	ASSERT_SYSCALL_OK(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &len));
	EXPECT_EQ(len, sizeof(cr));
	EXPECT_EQ(cr.pid, getpid());
	EXPECT_EQ(cr.uid, geteuid());
	EXPECT_EQ(cr.gid, getegid());
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len));
	EXPECT_EQ(cr.pid, 0);
	EXPECT_EQ(cr.uid, (uid_t)-1);
}

TEST(unix_socket, SO_PEERCRED_of_an_accepted_socket_is_the_connecting_process)
{
	struct sockaddr_un sa;
	socklen_t len;
	int l = abstract_listener(SOCK_STREAM, "peercred", &sa, &len);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&sa, len) < 0)
			_exit(1);
		struct ucred cr;
		socklen_t clen = sizeof(cr);
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &clen) < 0 || cr.pid != getppid())
			_exit(2);
		char ch;
		read(c, &ch, 1);
		_exit(0);
	}
	int a = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	struct ucred cr;
	socklen_t clen = sizeof(cr);
	ASSERT_SYSCALL_OK(getsockopt(a, SOL_SOCKET, SO_PEERCRED, &cr, &clen));
	EXPECT_EQ(cr.pid, pid);
	close(a);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

/* ---- ancillary data ---- */

/* Sends data with one descriptor attached. */
static ssize_t send_fd(int s, const char *data, size_t n, int fd)
{
	struct iovec iov = {(void *)data, n};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(s, &m, 0);
}

TEST(unix_socket, SCM_RIGHTS_passes_an_open_file)
{
	int sv[2], p[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_EQ(send_fd(sv[0], "f", 1, p[1]), 1);
	ASSERT_SYSCALL_OK(close(p[1]));
	char c;
	struct iovec iov = {&c, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	ASSERT_EQ(recvmsg(sv[1], &m, 0), 1);
	EXPECT_EQ(m.msg_flags & MSG_CTRUNC, 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(cm != NULL);
	EXPECT_EQ(cm->cmsg_level, SOL_SOCKET);
	EXPECT_EQ(cm->cmsg_type, SCM_RIGHTS);
	EXPECT_EQ(cm->cmsg_len, CMSG_LEN(sizeof(int)));
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	EXPECT_FALSE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* The received descriptor is the pipe's write end. */
	EXPECT_EQ(write(fd, "!", 1), 1);
	char got;
	EXPECT_EQ(read(p[0], &got, 1), 1);
	EXPECT_EQ(got, '!');
}

TEST(unix_socket, SCM_RIGHTS_with_MSG_CMSG_CLOEXEC_sets_FD_CLOEXEC)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	ASSERT_EQ(send_fd(sv[0], "f", 1, 0), 1);
	char c;
	struct iovec iov = {&c, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	ASSERT_EQ(recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC), 1);
	int fd;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

TEST(unix_socket, SCM_RIGHTS_without_room_sets_MSG_CTRUNC_and_drops_the_file)
{
	int sv[2], p[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_EQ(send_fd(sv[0], "f", 1, p[1]), 1);
	ASSERT_SYSCALL_OK(close(p[1]));
	char c;
	struct iovec iov = {&c, 1};
	char small[sizeof(struct cmsghdr)];
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = small,
			   .msg_controllen = sizeof(small)};
	ASSERT_EQ(recvmsg(sv[1], &m, 0), 1);
	EXPECT_TRUE(m.msg_flags & MSG_CTRUNC);
	EXPECT_EQ(m.msg_controllen, 0);
	/* The write end was closed with the message: the pipe is at EOF. */
	EXPECT_EQ(read(p[0], &c, 1), 0);
}

TEST(unix_socket, SCM_RIGHTS_with_a_bad_descriptor_fails_with_EBADF)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_ERRNO(send_fd(sv[0], "f", 1, 999), EBADF);
	char c;
	EXPECT_ERRNO(recv(sv[1], &c, 1, MSG_DONTWAIT), EAGAIN);
}

TEST(unix_socket, malformed_control_message_fails_with_EINVAL)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct iovec iov = {"x", 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = sizeof(u.buf) + 8;
	EXPECT_ERRNO(sendmsg(sv[0], &m, 0), EINVAL);
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_type = 77;
	EXPECT_ERRNO(sendmsg(sv[0], &m, 0), EINVAL);
}

TEST(unix_socket, SO_PASSCRED_delivers_the_senders_credentials)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	int one = 1;
	ASSERT_SYSCALL_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
	ASSERT_EQ(send(sv[0], "c", 1, 0), 1);
	char c;
	struct iovec iov = {&c, 1};
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	ASSERT_EQ(recvmsg(sv[1], &m, 0), 1);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(cm != NULL);
	EXPECT_EQ(cm->cmsg_type, SCM_CREDENTIALS);
	EXPECT_EQ(cm->cmsg_len, CMSG_LEN(sizeof(struct ucred)));
	struct ucred cr;
	memcpy(&cr, CMSG_DATA(cm), sizeof(cr));
	EXPECT_EQ(cr.pid, getpid());
	EXPECT_EQ(cr.uid, getuid());
	EXPECT_EQ(cr.gid, getgid());
}

TEST(unix_socket, explicit_SCM_CREDENTIALS_are_checked_and_delivered)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	int one = 1;
	ASSERT_SYSCALL_OK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
	struct iovec iov = {"c", 1};
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred cr = {.pid = getpid(), .uid = getuid(), .gid = getgid()};
	memcpy(CMSG_DATA(c), &cr, sizeof(cr));
	ASSERT_EQ(sendmsg(sv[0], &m, 0), 1);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		/* An unprivileged process may not claim another pid. */
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		struct ucred bad = {.pid = 1, .uid = 65534, .gid = 65534};
		memcpy(CMSG_DATA(c), &bad, sizeof(bad));
		if (sendmsg(sv[0], &m, 0) == 0)
			_exit(1);
		_exit(errno == EPERM ? 0 : 2);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	char ch;
	struct iovec riov = {&ch, 1};
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} r;
	struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = r.buf,
			    .msg_controllen = sizeof(r.buf)};
	ASSERT_EQ(recvmsg(sv[1], &rm, 0), 1);
	struct ucred got;
	memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&rm)), sizeof(got));
	EXPECT_EQ(got.pid, getpid());
}

/* ---- poll ---- */

TEST(unix_socket, poll_reports_readable_writable_and_hangup)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct pollfd p = {.fd = sv[1], .events = POLLIN | POLLOUT};
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLOUT);
	ASSERT_EQ(write(sv[0], "x", 1), 1);
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLIN | POLLOUT);
	ASSERT_SYSCALL_OK(close(sv[0]));
	p.events = POLLIN | POLLRDHUP;
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLIN | POLLRDHUP | POLLHUP);
}

TEST(unix_socket, poll_wakes_when_data_arrives_and_a_listener_is_readable_on_connect)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(write(sv[0], "x", 1) == 1 ? 0 : 1);
	}
	struct pollfd p = {.fd = sv[1], .events = POLLIN};
	EXPECT_EQ(poll(&p, 1, 5000), 1);
	EXPECT_EQ(p.revents, POLLIN);
	test_wait_exit(pid);

	struct sockaddr_un sa;
	socklen_t len;
	int l = abstract_listener(SOCK_STREAM, "poll", &sa, &len);
	struct pollfd lp = {.fd = l, .events = POLLIN | POLLOUT};
	EXPECT_EQ(poll(&lp, 1, 0), 0);
	int c = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&sa, len));
	EXPECT_EQ(poll(&lp, 1, 0), 1);
	EXPECT_EQ(lp.revents, POLLIN);
}

/* ---- misc ---- */

TEST(unix_socket, proc_fd_link_names_the_socket_inode)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	char path[64], link[64] = {0}, want[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s);
	ASSERT_SYSCALL_OK(readlink(path, link, sizeof(link) - 1));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(s, &st));
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	EXPECT_STREQ(link, want);
	EXPECT_ERRNO(open(path, O_RDWR), ENXIO);
}

TEST(unix_socket, seqpacket_send_to_a_closed_peer_fails_with_EPIPE_but_raises_no_SIGPIPE)
{
	struct sigaction sa = {.sa_handler = on_signal};
	ASSERT_SYSCALL_OK(sigaction(SIGPIPE, &sa, NULL));
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	ASSERT_SYSCALL_OK(close(sv[1]));
	EXPECT_ERRNO(send(sv[0], "x", 1, 0), EPIPE);
	EXPECT_EQ(got_signal, 0);
}

TEST(unix_socket, sendmmsg_and_recvmmsg_move_several_datagrams)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	struct iovec o[2] = {{"a", 1}, {"bc", 2}};
	struct mmsghdr om[2] = {{.msg_hdr = {.msg_iov = &o[0], .msg_iovlen = 1}},
				{.msg_hdr = {.msg_iov = &o[1], .msg_iovlen = 1}}};
	EXPECT_EQ(sendmmsg(sv[0], om, 2, 0), 2);
	EXPECT_EQ(om[1].msg_len, 2);
	char b0[4], b1[4];
	struct iovec i[2] = {{b0, 4}, {b1, 4}};
	struct mmsghdr im[2] = {{.msg_hdr = {.msg_iov = &i[0], .msg_iovlen = 1}},
				{.msg_hdr = {.msg_iov = &i[1], .msg_iovlen = 1}}};
	EXPECT_EQ(recvmmsg(sv[1], im, 2, MSG_DONTWAIT, NULL), 2);
	EXPECT_EQ(im[0].msg_len, 1);
	EXPECT_EQ(im[1].msg_len, 2);
	EXPECT_MEMEQ(b1, "bc", 2);
}

TEST(unix_socket, recvmsg_with_too_many_iovecs_fails_with_EMSGSIZE)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	static struct iovec iov[1025];
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 1025};
	EXPECT_ERRNO(recvmsg(sv[0], &m, MSG_DONTWAIT), EMSGSIZE);
	EXPECT_ERRNO(sendmsg(sv[0], &m, 0), EMSGSIZE);
	m.msg_iovlen = 1;
	m.msg_iov = (struct iovec *)8;
	EXPECT_ERRNO(sendmsg(sv[0], &m, 0), EFAULT);
	EXPECT_ERRNO(recvmsg(sv[0], (struct msghdr *)8, 0), EFAULT);
}

TEST(unix_socket, passed_socket_keeps_working_after_the_sender_closes_it)
{
	int carrier[2], pair[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, carrier));
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair));
	ASSERT_EQ(send_fd(carrier[0], "s", 1, pair[1]), 1);
	ASSERT_SYSCALL_OK(close(pair[1]));
	char c;
	struct iovec iov = {&c, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	ASSERT_EQ(recvmsg(carrier[1], &m, 0), 1);
	int fd;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	EXPECT_EQ(write(pair[0], "q", 1), 1);
	EXPECT_EQ(read(fd, &c, 1), 1);
	EXPECT_EQ(c, 'q');
}

TEST(write, on_seqpacket_socket_with_closed_peer_fails_with_EPIPE_without_SIGPIPE)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	close(sv[1]);
	// SIGPIPE keeps its default action: if it were raised, the case
	// would die.
	signal(SIGPIPE, SIG_DFL);
	EXPECT_ERRNO(write(sv[0], "x", 1), EPIPE);
}
