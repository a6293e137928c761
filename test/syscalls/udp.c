/* UDP over IPv4 loopback, as udp(7), ip(7), socket(7), send(2) and recv(2)
 * describe it: datagram boundaries, connected and unconnected sockets,
 * ICMP port unreachable, broadcast, reuse options, ancillary data and the
 * receive buffer. */
#include "test.h"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

static struct sockaddr_in addr4(uint32_t a, uint16_t port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(a);
	return sa;
}

/* Returns a UDP socket bound to 127.0.0.1 on an ephemeral port, its
 * address in *sa. */
static int bound(struct sockaddr_in *sa)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	*sa = addr4(INADDR_LOOPBACK, 0);
	socklen_t len = sizeof(*sa);
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)sa, sizeof(*sa)));
	ASSERT_SYSCALL_OK(getsockname(s, (struct sockaddr *)sa, &len));
	return s;
}

static void setint(int s, int level, int name, int v)
{
	ASSERT_SYSCALL_OK(setsockopt(s, level, name, &v, sizeof(v)));
}

static uint16_t port_of(int s)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	ASSERT_SYSCALL_OK(getsockname(s, (struct sockaddr *)&sa, &len));
	return ntohs(sa.sin_port);
}

/* A port nothing listens on: bind one, close it. */
static struct sockaddr_in closed_port(void)
{
	struct sockaddr_in sa;
	int s = bound(&sa);
	close(s);
	return sa;
}

TEST(udp, sendto_and_recvfrom_carry_a_datagram_and_its_source)
{
	struct sockaddr_in dst, from;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(sendto(s, "hello", 5, 0, (struct sockaddr *)&dst, sizeof(dst)), 5);
	char buf[16] = {0};
	socklen_t len = sizeof(from);
	EXPECT_EQ(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len), 5);
	EXPECT_STREQ(buf, "hello");
	EXPECT_EQ(len, sizeof(from));
	EXPECT_EQ(from.sin_family, AF_INET);
	EXPECT_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	EXPECT_EQ(ntohs(from.sin_port), port_of(s));
	EXPECT_NE(port_of(s), 0);
	close(r);
	close(s);
}

TEST(udp, datagram_boundaries_are_kept)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	EXPECT_EQ(send(s, "ab", 2, 0), 2);
	EXPECT_EQ(send(s, "cde", 3, 0), 3);
	char buf[16];
	EXPECT_EQ(recv(r, buf, sizeof(buf), 0), 2);
	EXPECT_EQ(recv(r, buf, sizeof(buf), 0), 3);
	EXPECT_MEMEQ(buf, "cde", 3);
	close(r);
	close(s);
}

TEST(udp, write_on_unconnected_socket_is_EDESTADDRREQ)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_ERRNO(write(s, "x", 1), EDESTADDRREQ);
	EXPECT_ERRNO(send(s, "x", 1, 0), EDESTADDRREQ);
	close(s);
}

TEST(udp, sendto_port_0_is_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in dst = addr4(INADDR_LOOPBACK, 0);
	EXPECT_ERRNO(sendto(s, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), EINVAL);
	close(s);
}

TEST(udp, sendto_with_short_address_is_EINVAL)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_ERRNO(sendto(s, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst) - 1), EINVAL);
	close(r);
	close(s);
}

TEST(udp, connect_sets_the_peer_and_a_local_address)
{
	struct sockaddr_in dst, got;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	socklen_t len = sizeof(got);
	ASSERT_SYSCALL_OK(getpeername(s, (struct sockaddr *)&got, &len));
	EXPECT_EQ(got.sin_port, dst.sin_port);
	EXPECT_EQ(got.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	len = sizeof(got);
	ASSERT_SYSCALL_OK(getsockname(s, (struct sockaddr *)&got, &len));
	EXPECT_EQ(got.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	EXPECT_NE(got.sin_port, 0);
	close(r);
	close(s);
}

TEST(udp, connect_to_AF_UNSPEC_dissolves_the_association)
{
	struct sockaddr_in dst, got;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	ASSERT_SYSCALL_OK(connect(s, &unspec, sizeof(unspec)));
	socklen_t len = sizeof(got);
	EXPECT_ERRNO(getpeername(s, (struct sockaddr *)&got, &len), ENOTCONN);
	EXPECT_ERRNO(send(s, "x", 1, 0), EDESTADDRREQ);
	close(r);
	close(s);
}

TEST(udp, connected_socket_receives_only_from_its_peer)
{
	struct sockaddr_in ra, pa;
	int r = bound(&ra);
	int peer = bound(&pa);
	int other = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(r, (struct sockaddr *)&pa, sizeof(pa)));
	EXPECT_EQ(sendto(other, "other", 5, 0, (struct sockaddr *)&ra, sizeof(ra)), 5);
	EXPECT_EQ(sendto(peer, "peer", 4, 0, (struct sockaddr *)&ra, sizeof(ra)), 4);
	char buf[16] = {0};
	EXPECT_EQ(recv(r, buf, sizeof(buf), 0), 4);
	EXPECT_STREQ(buf, "peer");
	EXPECT_ERRNO(recv(r, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	close(r);
	close(peer);
	close(other);
}

TEST(udp, connected_send_to_closed_port_makes_recv_fail_with_ECONNREFUSED)
{
	struct sockaddr_in dst = closed_port();
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	EXPECT_EQ(send(s, "x", 1, 0), 1);
	char c;
	/* The ICMP port unreachable arrives; a blocking recv reports it. */
	EXPECT_ERRNO(recv(s, &c, 1, 0), ECONNREFUSED);
	/* SO_ERROR was consumed by the recv. */
	int err = -1;
	socklen_t len = sizeof(err);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(err, 0);
	close(s);
}

TEST(udp, port_unreachable_shows_as_POLLERR_and_SO_ERROR)
{
	struct sockaddr_in dst = closed_port();
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	EXPECT_EQ(send(s, "x", 1, 0), 1);
	struct pollfd p = {.fd = s, .events = POLLIN};
	EXPECT_EQ(poll(&p, 1, 5000), 1);
	EXPECT_TRUE(p.revents & POLLERR);
	int err = -1;
	socklen_t len = sizeof(err);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(err, ECONNREFUSED);
	close(s);
}

TEST(udp, unconnected_socket_ignores_port_unreachable)
{
	struct sockaddr_in dst = closed_port(), me;
	int s = bound(&me);
	EXPECT_EQ(sendto(s, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	/* A datagram to ourselves, sent after, arrives after the error. */
	EXPECT_EQ(sendto(s, "y", 1, 0, (struct sockaddr *)&me, sizeof(me)), 1);
	char c = 0;
	EXPECT_EQ(recv(s, &c, 1, 0), 1);
	EXPECT_EQ(c, 'y');
	int err = -1;
	socklen_t len = sizeof(err);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(err, 0);
	close(s);
}

/* glibc's DNS resolver sets IP_RECVERR on its UDP socket and gives up on
 * the name server if that fails. */
TEST(udp, ip_recverr_can_be_set_and_read_back)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int v = -1;
	socklen_t len = sizeof(v);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_IP, IP_RECVERR, &v, &len));
	EXPECT_EQ(v, 0);
	setint(s, SOL_IP, IP_RECVERR, 1);
	len = sizeof(v);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_IP, IP_RECVERR, &v, &len));
	EXPECT_EQ(v, 1);
	setint(s, SOL_IP, IP_RECVERR, 0);
	len = sizeof(v);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_IP, IP_RECVERR, &v, &len));
	EXPECT_EQ(v, 0);
	close(s);
}

TEST(udp, unconnected_socket_with_ip_recverr_gets_port_unreachable)
{
	struct sockaddr_in dst = closed_port(), me;
	int s = bound(&me);
	setint(s, SOL_IP, IP_RECVERR, 1);
	EXPECT_EQ(sendto(s, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	struct pollfd p = {.fd = s, .events = POLLIN};
	EXPECT_EQ(poll(&p, 1, 5000), 1);
	EXPECT_TRUE(p.revents & POLLERR);
	int err = -1;
	socklen_t len = sizeof(err);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(err, ECONNREFUSED);
	close(s);
}

/* With IP_RECVERR the ICMP error is also queued on the socket's error
 * queue (ip(7)): recvmsg(MSG_ERRQUEUE) returns the datagram that failed,
 * its destination and an IP_RECVERR message (struct sock_extended_err and
 * the ICMP sender); the socket polls POLLERR until the queue is read. */
TEST(udp, ip_recverr_queues_port_unreachable_for_msg_errqueue)
{
	struct sockaddr_in dst = closed_port(), me;
	int s = bound(&me);
	setint(s, SOL_IP, IP_RECVERR, 1);
	EXPECT_EQ(sendto(s, "ping", 4, 0, (struct sockaddr *)&dst, sizeof(dst)), 4);
	struct pollfd p = {.fd = s, .events = 0};
	ASSERT_EQ(poll(&p, 1, 5000), 1);
	EXPECT_TRUE(p.revents & POLLERR);
	/* SO_ERROR is taken; the queued entry keeps POLLERR. */
	int err = -1;
	socklen_t len = sizeof(err);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(err, ECONNREFUSED);
	p.revents = 0;
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_TRUE(p.revents & POLLERR);

	char buf[16] = {0};
	union {
		char b[256];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_in from;
	memset(&from, 0, sizeof(from));
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	EXPECT_EQ(recvmsg(s, &m, MSG_ERRQUEUE), 4);
	EXPECT_EQ(memcmp(buf, "ping", 4), 0);
	EXPECT_TRUE(m.msg_flags & MSG_ERRQUEUE);
	EXPECT_EQ(from.sin_family, AF_INET);
	EXPECT_EQ(from.sin_port, dst.sin_port);
	EXPECT_EQ(from.sin_addr.s_addr, dst.sin_addr.s_addr);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(c != NULL);
	EXPECT_EQ(c->cmsg_level, SOL_IP);
	EXPECT_EQ(c->cmsg_type, IP_RECVERR);
	ASSERT_EQ(c->cmsg_len, CMSG_LEN(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in)));
	struct sock_extended_err ee;
	memcpy(&ee, CMSG_DATA(c), sizeof(ee));
	EXPECT_EQ(ee.ee_errno, ECONNREFUSED);
	EXPECT_EQ(ee.ee_origin, SO_EE_ORIGIN_ICMP);
	EXPECT_EQ(ee.ee_type, 3); /* destination unreachable */
	EXPECT_EQ(ee.ee_code, 3); /* port unreachable */
	struct sockaddr_in off;
	memcpy(&off, CMSG_DATA(c) + sizeof(ee), sizeof(off));
	EXPECT_EQ(off.sin_family, AF_INET);
	EXPECT_EQ(off.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	EXPECT_TRUE(CMSG_NXTHDR(&m, c) == NULL);

	/* The queue is empty now: no POLLERR, and MSG_ERRQUEUE does not
	 * block. */
	p.revents = 0;
	EXPECT_EQ(poll(&p, 1, 0), 0);
	m.msg_controllen = sizeof(ctl.b);
	EXPECT_ERRNO(recvmsg(s, &m, MSG_ERRQUEUE), EAGAIN);
	close(s);
}

TEST(udp, zero_length_datagram_is_delivered)
{
	struct sockaddr_in dst, from;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(sendto(s, "", 0, 0, (struct sockaddr *)&dst, sizeof(dst)), 0);
	char buf[4];
	socklen_t len = sizeof(from);
	EXPECT_EQ(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len), 0);
	EXPECT_EQ(ntohs(from.sin_port), port_of(s));
	close(r);
	close(s);
}

TEST(udp, msg_peek_leaves_the_datagram_queued)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(sendto(s, "peek", 4, 0, (struct sockaddr *)&dst, sizeof(dst)), 4);
	char buf[8] = {0};
	EXPECT_EQ(recv(r, buf, 2, MSG_PEEK), 2);
	EXPECT_MEMEQ(buf, "pe", 2);
	EXPECT_EQ(recv(r, buf, sizeof(buf), 0), 4);
	EXPECT_MEMEQ(buf, "peek", 4);
	EXPECT_ERRNO(recv(r, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	close(r);
	close(s);
}

TEST(udp, short_buffer_truncates_and_discards_the_rest)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(sendto(s, "abcdef", 6, 0, (struct sockaddr *)&dst, sizeof(dst)), 6);
	EXPECT_EQ(sendto(s, "gh", 2, 0, (struct sockaddr *)&dst, sizeof(dst)), 2);
	char buf[8] = {0};
	struct iovec iov = {buf, 3};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	EXPECT_EQ(recvmsg(r, &m, 0), 3);
	EXPECT_TRUE(m.msg_flags & MSG_TRUNC);
	EXPECT_EQ(recv(r, buf, sizeof(buf), 0), 2);
	EXPECT_MEMEQ(buf, "gh", 2);
	close(r);
	close(s);
}

TEST(udp, msg_trunc_returns_the_real_length)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(sendto(s, "abcdef", 6, 0, (struct sockaddr *)&dst, sizeof(dst)), 6);
	char buf[2];
	EXPECT_EQ(recv(r, buf, sizeof(buf), MSG_TRUNC), 6);
	close(r);
	close(s);
}

TEST(udp, datagram_over_65507_bytes_is_EMSGSIZE_and_65507_arrives)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	static char big[65508], in[65600];
	memset(big, 'q', sizeof(big));
	EXPECT_ERRNO(sendto(s, big, 65508, 0, (struct sockaddr *)&dst, sizeof(dst)), EMSGSIZE);
	EXPECT_EQ(sendto(s, big, 65507, 0, (struct sockaddr *)&dst, sizeof(dst)), 65507);
	EXPECT_EQ(recv(r, in, sizeof(in), 0), 65507);
	EXPECT_EQ(in[65506], 'q');
	close(r);
	close(s);
}

TEST(udp, nonblocking_recv_on_empty_queue_is_EAGAIN)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	char c;
	EXPECT_ERRNO(recv(r, &c, 1, MSG_DONTWAIT), EAGAIN);
	int fl = fcntl(r, F_GETFL);
	ASSERT_SYSCALL_OK(fcntl(r, F_SETFL, fl | O_NONBLOCK));
	EXPECT_ERRNO(read(r, &c, 1), EAGAIN);
	close(r);
}

TEST(udp, poll_reports_POLLOUT_always_and_POLLIN_once_a_datagram_is_queued)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	struct pollfd p = {.fd = r, .events = POLLIN | POLLOUT};
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLOUT);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(sendto(s, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	p.events = POLLIN;
	EXPECT_EQ(poll(&p, 1, 5000), 1);
	EXPECT_EQ(p.revents, POLLIN);
	close(r);
	close(s);
}

TEST(udp, fionread_reports_the_size_of_the_next_datagram)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(sendto(s, "12345", 5, 0, (struct sockaddr *)&dst, sizeof(dst)), 5);
	EXPECT_EQ(sendto(s, "12", 2, 0, (struct sockaddr *)&dst, sizeof(dst)), 2);
	char c;
	EXPECT_EQ(recv(r, &c, 1, MSG_PEEK), 1);
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(r, FIONREAD, &n));
	EXPECT_EQ(n, 5);
	close(r);
	close(s);
}

TEST(udp, broadcast_needs_SO_BROADCAST)
{
	int r = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in any = addr4(INADDR_ANY, 0);
	socklen_t len = sizeof(any);
	ASSERT_SYSCALL_OK(bind(r, (struct sockaddr *)&any, sizeof(any)));
	ASSERT_SYSCALL_OK(getsockname(r, (struct sockaddr *)&any, &len));
	/* lo's broadcast address, 127.255.255.255. */
	struct sockaddr_in bc = addr4(0x7fffffff, ntohs(any.sin_port));
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_ERRNO(sendto(s, "b", 1, 0, (struct sockaddr *)&bc, sizeof(bc)), EACCES);
	EXPECT_ERRNO(connect(s, (struct sockaddr *)&bc, sizeof(bc)), EACCES);
	setint(s, SOL_SOCKET, SO_BROADCAST, 1);
	EXPECT_EQ(sendto(s, "b", 1, 0, (struct sockaddr *)&bc, sizeof(bc)), 1);
	char c = 0;
	EXPECT_EQ(recv(r, &c, 1, 0), 1);
	EXPECT_EQ(c, 'b');
	close(r);
	close(s);
}

TEST(udp, so_reuseaddr_on_both_sockets_shares_a_port)
{
	struct sockaddr_in sa = addr4(INADDR_LOOPBACK, 0);
	int a = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int b = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	setint(a, SOL_SOCKET, SO_REUSEADDR, 1);
	setint(b, SOL_SOCKET, SO_REUSEADDR, 1);
	ASSERT_SYSCALL_OK(bind(a, (struct sockaddr *)&sa, sizeof(sa)));
	sa.sin_port = htons(port_of(a));
	EXPECT_SYSCALL_OK(bind(b, (struct sockaddr *)&sa, sizeof(sa)));
	EXPECT_ERRNO(bind(c, (struct sockaddr *)&sa, sizeof(sa)), EADDRINUSE);
	close(a);
	close(b);
	close(c);
}

TEST(udp, so_reuseport_on_both_sockets_shares_a_port)
{
	struct sockaddr_in sa = addr4(INADDR_LOOPBACK, 0);
	int a = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int b = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	setint(a, SOL_SOCKET, SO_REUSEPORT, 1);
	setint(b, SOL_SOCKET, SO_REUSEPORT, 1);
	ASSERT_SYSCALL_OK(bind(a, (struct sockaddr *)&sa, sizeof(sa)));
	sa.sin_port = htons(port_of(a));
	EXPECT_SYSCALL_OK(bind(b, (struct sockaddr *)&sa, sizeof(sa)));
	EXPECT_ERRNO(bind(c, (struct sockaddr *)&sa, sizeof(sa)), EADDRINUSE);
	close(a);
	close(b);
	close(c);
}

/* Receives one datagram into buf with control data into ctl. */
static ssize_t recv_ctl(int s, char *buf, size_t n, char *ctl, size_t cn, struct msghdr *m)
{
	static struct iovec iov;
	iov.iov_base = buf;
	iov.iov_len = n;
	memset(m, 0, sizeof(*m));
	m->msg_iov = &iov;
	m->msg_iovlen = 1;
	m->msg_control = ctl;
	m->msg_controllen = cn;
	return recvmsg(s, m, 0);
}

TEST(udp, ip_pktinfo_reports_the_destination_and_interface)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	setint(r, SOL_IP, IP_PKTINFO, 1);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(sendto(s, "p", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	char buf[4], ctl[256];
	struct msghdr m;
	EXPECT_EQ(recv_ctl(r, buf, sizeof(buf), ctl, sizeof(ctl), &m), 1);
	int found = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			EXPECT_EQ(pi.ipi_addr.s_addr, htonl(INADDR_LOOPBACK));
			EXPECT_GT(pi.ipi_ifindex, 0);
			/* if_nametoindex needs SIOCGIFINDEX, which the
			 * sandbox lacks yet (it returns 0 there). */
			if (if_nametoindex("lo") != 0)
				EXPECT_EQ(pi.ipi_ifindex, (int)if_nametoindex("lo"));
			found = 1;
		}
	}
	EXPECT_TRUE(found);
	close(r);
	close(s);
}

TEST(udp, ip_recvttl_reports_the_ttl_the_sender_set)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	setint(r, SOL_IP, IP_RECVTTL, 1);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	setint(s, SOL_IP, IP_TTL, 33);
	EXPECT_EQ(sendto(s, "t", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	char buf[4], ctl[256];
	struct msghdr m;
	EXPECT_EQ(recv_ctl(r, buf, sizeof(buf), ctl, sizeof(ctl), &m), 1);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(c != NULL);
	EXPECT_EQ(c->cmsg_level, SOL_IP);
	EXPECT_EQ(c->cmsg_type, IP_TTL);
	int ttl;
	memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
	EXPECT_EQ(ttl, 33);
	close(r);
	close(s);
}

TEST(udp, ip_recvtos_reports_the_tos_the_sender_set)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	setint(r, SOL_IP, IP_RECVTOS, 1);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	setint(s, SOL_IP, IP_TOS, 0x20);
	EXPECT_EQ(sendto(s, "t", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	char buf[4], ctl[256];
	struct msghdr m;
	EXPECT_EQ(recv_ctl(r, buf, sizeof(buf), ctl, sizeof(ctl), &m), 1);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(c != NULL);
	EXPECT_EQ(c->cmsg_type, IP_TOS);
	EXPECT_EQ(*(unsigned char *)CMSG_DATA(c), 0x20);
	close(r);
	close(s);
}

TEST(udp, so_timestamp_reports_the_arrival_time)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	setint(r, SOL_SOCKET, SO_TIMESTAMP, 1);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct timeval before, after;
	gettimeofday(&before, NULL);
	EXPECT_EQ(sendto(s, "t", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	char buf[4], ctl[256];
	struct msghdr m;
	EXPECT_EQ(recv_ctl(r, buf, sizeof(buf), ctl, sizeof(ctl), &m), 1);
	gettimeofday(&after, NULL);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(c != NULL);
	EXPECT_EQ(c->cmsg_level, SOL_SOCKET);
	EXPECT_EQ(c->cmsg_type, SCM_TIMESTAMP);
	struct timeval tv;
	memcpy(&tv, CMSG_DATA(c), sizeof(tv));
	/* Within the send..receive window (one second of slack for clocks). */
	EXPECT_GE(tv.tv_sec, before.tv_sec - 1);
	EXPECT_LE(tv.tv_sec, after.tv_sec + 1);
	close(r);
	close(s);
}

TEST(udp, control_buffer_too_small_sets_MSG_CTRUNC)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	setint(r, SOL_SOCKET, SO_TIMESTAMP, 1);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(sendto(s, "t", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	char buf[4], ctl[8];
	struct msghdr m;
	EXPECT_EQ(recv_ctl(r, buf, sizeof(buf), ctl, sizeof(ctl), &m), 1);
	EXPECT_TRUE(m.msg_flags & MSG_CTRUNC);
	close(r);
	close(s);
}

TEST(udp, full_receive_buffer_drops_datagrams)
{
	struct sockaddr_in dst, mark;
	int r = bound(&dst);
	int m = bound(&mark);
	setint(r, SOL_SOCKET, SO_RCVBUF, 1);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	static char data[1024];
	for (int i = 0; i < 64; i++)
		EXPECT_EQ(sendto(s, data, sizeof(data), 0, (struct sockaddr *)&dst, sizeof(dst)), (ssize_t)sizeof(data));
	/* Sent after the 64: once it is here, they have been delivered. */
	EXPECT_EQ(sendto(s, "m", 1, 0, (struct sockaddr *)&mark, sizeof(mark)), 1);
	char c;
	EXPECT_EQ(recv(m, &c, 1, 0), 1);
	int got = 0;
	while (recv(r, data, sizeof(data), MSG_DONTWAIT) == (ssize_t)sizeof(data))
		got++;
	EXPECT_GE(got, 1);
	EXPECT_LT(got, 64);
	close(r);
	close(m);
	close(s);
}

TEST(udp, sendmmsg_and_recvmmsg_move_several_datagrams)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	struct iovec out[3] = {{"a", 1}, {"bb", 2}, {"ccc", 3}};
	struct mmsghdr om[3];
	memset(om, 0, sizeof(om));
	for (int i = 0; i < 3; i++) {
		om[i].msg_hdr.msg_iov = &out[i];
		om[i].msg_hdr.msg_iovlen = 1;
	}
	EXPECT_EQ(sendmmsg(s, om, 3, 0), 3);
	EXPECT_EQ(om[2].msg_len, 3);
	char bufs[3][8];
	struct iovec in[3];
	struct mmsghdr im[3];
	memset(im, 0, sizeof(im));
	for (int i = 0; i < 3; i++) {
		in[i].iov_base = bufs[i];
		in[i].iov_len = sizeof(bufs[i]);
		im[i].msg_hdr.msg_iov = &in[i];
		im[i].msg_hdr.msg_iovlen = 1;
	}
	EXPECT_EQ(recv(r, bufs[0], 1, MSG_PEEK), 1); /* wait for the first */
	int n = recvmmsg(r, im, 3, MSG_WAITFORONE, NULL);
	EXPECT_GE(n, 1);
	EXPECT_EQ(im[0].msg_len, 1);
	close(r);
	close(s);
}

TEST(udp, shutdown_rd_on_connected_socket_makes_recv_return_0)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	ASSERT_SYSCALL_OK(shutdown(s, SHUT_RD));
	char c;
	EXPECT_EQ(recv(s, &c, 1, 0), 0);
	close(r);
	close(s);
}

TEST(udp, sendto_on_connected_socket_may_name_another_destination)
{
	struct sockaddr_in a, b;
	int ra = bound(&a);
	int rb = bound(&b);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(sendto(s, "B", 1, 0, (struct sockaddr *)&b, sizeof(b)), 1);
	char c = 0;
	EXPECT_EQ(recv(rb, &c, 1, 0), 1);
	EXPECT_EQ(c, 'B');
	close(ra);
	close(rb);
	close(s);
}

TEST(udp, writev_and_readv_gather_and_scatter_one_datagram)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	struct iovec w[2] = {{"abc", 3}, {"de", 2}};
	EXPECT_EQ(writev(s, w, 2), 5);
	char x[2], y[8] = {0};
	struct iovec rv[2] = {{x, 2}, {y, sizeof(y)}};
	EXPECT_EQ(readv(r, rv, 2), 5);
	EXPECT_MEMEQ(x, "ab", 2);
	EXPECT_STREQ(y, "cde");
	close(r);
	close(s);
}

TEST(udp, sendmsg_with_SCM_RIGHTS_sends_only_the_data)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	char ctl[CMSG_SPACE(sizeof(int))];
	memset(ctl, 0, sizeof(ctl));
	struct iovec iov = {"x", 1};
	struct msghdr m = {.msg_name = &dst, .msg_namelen = sizeof(dst), .msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &s, sizeof(int));
	EXPECT_EQ(sendmsg(s, &m, 0), 1);
	char buf[4], in[256];
	struct msghdr rm;
	EXPECT_EQ(recv_ctl(r, buf, sizeof(buf), in, sizeof(in), &rm), 1);
	EXPECT_EQ(rm.msg_controllen, 0);
	close(r);
	close(s);
}

TEST(udp, sendto_any_address_reaches_this_host)
{
	struct sockaddr_in dst;
	int r = bound(&dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in any = addr4(INADDR_ANY, ntohs(dst.sin_port));
	EXPECT_EQ(sendto(s, "z", 1, 0, (struct sockaddr *)&any, sizeof(any)), 1);
	char c = 0;
	EXPECT_EQ(recv(r, &c, 1, 0), 1);
	EXPECT_EQ(c, 'z');
	close(r);
	close(s);
}
