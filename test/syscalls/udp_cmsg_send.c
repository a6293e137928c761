/* Control messages on a send, ip(7) and ipv6(7): IP_TTL, IP_TOS and
 * IP_PKTINFO (ip_cmsg_send), IPV6_HOPLIMIT, IPV6_TCLASS and IPV6_PKTINFO
 * (ip6_datagram_send_ctl) set the one datagram's IP fields; the receiver's
 * IP_RECVTTL, IP_RECVTOS, IPV6_RECVHOPLIMIT and IPV6_RECVTCLASS show them.
 * Wrong lengths and values are EINVAL. */
#include "test.h"
#include "inet_test.h"

/* A bound UDP socket of family on loopback, its address in a. */
static int udp_bound(int family, inet_addr_t *a)
{
	int s = socket(family, SOCK_DGRAM, 0);
	if (s < 0 && family == AF_INET6 && errno == EAFNOSUPPORT)
		TEST_SKIP("no IPv6");
	ASSERT_TRUE(s >= 0);
	socklen_t len = inet_loopback(family, a, 0);
	ASSERT_SYSCALL_OK(bind(s, &a->sa, len));
	inet_sockname(s, a);
	return s;
}

/* Sends "cmsg" from s to a with one control message of level, type and
 * data[n]; returns sendmsg's result. */
static ssize_t send_cmsg(int s, const inet_addr_t *a, int level, int type, const void *data, size_t n)
{
	union {
		char b[CMSG_SPACE(64)];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {(void *)"cmsg", 4};
	struct msghdr m = {.msg_name = (void *)a, .msg_namelen = inet_len(a->sa.sa_family),
			   .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			   .msg_controllen = CMSG_SPACE(n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(n);
	memcpy(CMSG_DATA(c), data, n);
	return sendmsg(s, &m, 0);
}

/* Receives one datagram on s and returns the int (or byte, when one byte
 * long) of its control message level/type; fails if there is none. */
static int recv_cmsg_int(int s, int level, int type)
{
	net_wait(s, POLLIN);
	char buf[64];
	union {
		char b[256];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	ASSERT_EQ(recvmsg(s, &m, 0), 4);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != level || c->cmsg_type != type)
			continue;
		if (c->cmsg_len == CMSG_LEN(1))
			return *(unsigned char *)CMSG_DATA(c);
		int v;
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		return v;
	}
	ASSERT_TRUE(0);
	return -1;
}

TEST(udp_cmsg_send, ip_ttl_round_trips_to_ip_recvttl)
{
	inet_addr_t ra, sa;
	int rx = udp_bound(AF_INET, &ra), tx = udp_bound(AF_INET, &sa);
	set_int_opt(rx, SOL_IP, IP_RECVTTL, 1);
	int ttl = 7;
	ASSERT_EQ(send_cmsg(tx, &ra, SOL_IP, IP_TTL, &ttl, sizeof(ttl)), 4);
	EXPECT_EQ(recv_cmsg_int(rx, SOL_IP, IP_TTL), 7);
	/* Only that datagram: the next one has the socket's TTL. */
	ASSERT_EQ(sendto(tx, "next", 4, 0, &ra.sa, sizeof(ra.in4)), 4);
	EXPECT_EQ(recv_cmsg_int(rx, SOL_IP, IP_TTL), 64);
}

TEST(udp_cmsg_send, ip_tos_round_trips_to_ip_recvtos_as_int_or_byte)
{
	inet_addr_t ra, sa;
	int rx = udp_bound(AF_INET, &ra), tx = udp_bound(AF_INET, &sa);
	set_int_opt(rx, SOL_IP, IP_RECVTOS, 1);
	int tos = 0x28;
	ASSERT_EQ(send_cmsg(tx, &ra, SOL_IP, IP_TOS, &tos, sizeof(tos)), 4);
	EXPECT_EQ(recv_cmsg_int(rx, SOL_IP, IP_TOS), 0x28);
	unsigned char b = 0x10;
	ASSERT_EQ(send_cmsg(tx, &ra, SOL_IP, IP_TOS, &b, 1), 4);
	EXPECT_EQ(recv_cmsg_int(rx, SOL_IP, IP_TOS), 0x10);
}

TEST(udp_cmsg_send, bad_ip_ttl_and_ip_tos_values_and_lengths_are_EINVAL)
{
	inet_addr_t ra, sa;
	udp_bound(AF_INET, &ra);
	int tx = udp_bound(AF_INET, &sa);
	int v = 0;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	v = 256;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	unsigned char b = 9;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IP, IP_TTL, &b, 1), EINVAL);
	v = 256;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IP, IP_TOS, &v, sizeof(v)), EINVAL);
	short sh = 1;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IP, IP_TOS, &sh, sizeof(sh)), EINVAL);
	v = 1;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IP, IP_RECVERR, &v, sizeof(v)), EINVAL);
}

TEST(udp_cmsg_send, ip_pktinfo_source_must_be_local_and_its_ifindex_must_exist)
{
	inet_addr_t ra, sa;
	int rx = udp_bound(AF_INET, &ra);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_TRUE(tx >= 0);
	struct in_pktinfo pi;
	memset(&pi, 0, sizeof(pi));
	inet_pton(AF_INET, "203.0.113.1", &pi.ipi_spec_dst);
	/* ip_route_output_key: no route from a source not of this host. */
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), ENETUNREACH);
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IP, IP_PKTINFO, &pi, sizeof(pi) - 1), EINVAL);
	memset(&pi, 0, sizeof(pi));
	pi.ipi_ifindex = 99999;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), ENODEV);
	/* The loopback interface and address: delivered, from 127.0.0.1. */
	pi.ipi_ifindex = 1;
	pi.ipi_spec_dst.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(send_cmsg(tx, &ra, SOL_IP, IP_PKTINFO, &pi, sizeof(pi)), 4);
	net_wait(rx, POLLIN);
	char buf[8];
	socklen_t fl = sizeof(sa);
	ASSERT_EQ(recvfrom(rx, buf, sizeof(buf), 0, &sa.sa, &fl), 4);
	EXPECT_EQ(ntohl(sa.in4.sin_addr.s_addr), INADDR_LOOPBACK);
}

TEST(udp_cmsg_send, ipv6_hoplimit_and_tclass_round_trip)
{
	inet_addr_t ra, sa;
	int rx = udp_bound(AF_INET6, &ra), tx = udp_bound(AF_INET6, &sa);
	set_int_opt(rx, SOL_IPV6, IPV6_RECVHOPLIMIT, 1);
	set_int_opt(rx, SOL_IPV6, IPV6_RECVTCLASS, 1);
	int v = 7;
	ASSERT_EQ(send_cmsg(tx, &ra, SOL_IPV6, IPV6_HOPLIMIT, &v, sizeof(v)), 4);
	EXPECT_EQ(recv_cmsg_int(rx, SOL_IPV6, IPV6_HOPLIMIT), 7);
	v = -1; /* the socket's default */
	ASSERT_EQ(send_cmsg(tx, &ra, SOL_IPV6, IPV6_HOPLIMIT, &v, sizeof(v)), 4);
	EXPECT_EQ(recv_cmsg_int(rx, SOL_IPV6, IPV6_HOPLIMIT), 64);
	v = 0x28;
	ASSERT_EQ(send_cmsg(tx, &ra, SOL_IPV6, IPV6_TCLASS, &v, sizeof(v)), 4);
	EXPECT_EQ(recv_cmsg_int(rx, SOL_IPV6, IPV6_TCLASS), 0x28);
}

TEST(udp_cmsg_send, bad_ipv6_values_are_EINVAL_and_a_missing_interface_ENODEV)
{
	inet_addr_t ra, sa;
	udp_bound(AF_INET6, &ra);
	int tx = udp_bound(AF_INET6, &sa);
	int v = 256;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IPV6, IPV6_HOPLIMIT, &v, sizeof(v)), EINVAL);
	v = -2;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IPV6, IPV6_TCLASS, &v, sizeof(v)), EINVAL);
	unsigned char b = 1;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IPV6, IPV6_HOPLIMIT, &b, 1), EINVAL);
	struct in6_pktinfo pi;
	memset(&pi, 0, sizeof(pi));
	inet_pton(AF_INET6, "2001:db8::1", &pi.ipi6_addr);
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi)), EINVAL);
	memset(&pi, 0, sizeof(pi));
	pi.ipi6_ifindex = 99999;
	EXPECT_ERRNO(send_cmsg(tx, &ra, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi)), ENODEV);
	pi.ipi6_ifindex = 0;
	pi.ipi6_addr = in6addr_loopback;
	EXPECT_EQ(send_cmsg(tx, &ra, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi)), 4);
}

TEST(udp_cmsg_send, ip_level_messages_are_ignored_on_an_ipv6_socket)
{
	inet_addr_t ra, sa;
	int rx = udp_bound(AF_INET6, &ra), tx = udp_bound(AF_INET6, &sa);
	set_int_opt(rx, SOL_IPV6, IPV6_RECVHOPLIMIT, 1);
	int v = 0; /* EINVAL on an AF_INET socket */
	ASSERT_EQ(send_cmsg(tx, &ra, SOL_IP, IP_TTL, &v, sizeof(v)), 4);
	EXPECT_EQ(recv_cmsg_int(rx, SOL_IPV6, IPV6_HOPLIMIT), 64);
}

TEST(udp_cmsg_send, ip_recverr_and_ipv6_recverr_read_back_what_was_set)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_TRUE(s >= 0);
	EXPECT_EQ(int_opt(s, SOL_IP, IP_RECVERR), 0);
	set_int_opt(s, SOL_IP, IP_RECVERR, 1);
	EXPECT_EQ(int_opt(s, SOL_IP, IP_RECVERR), 1);
	int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	if (s6 < 0)
		return;
	set_int_opt(s6, SOL_IPV6, IPV6_RECVERR, 1);
	EXPECT_EQ(int_opt(s6, SOL_IPV6, IPV6_RECVERR), 1);
}

TEST(udp_cmsg_send, tcp_ignores_ip_level_messages_but_checks_sol_socket_ones)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	inet_addr_t peer;
	inet_peername(c, &peer);
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {(void *)"t", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_IP;
	cm->cmsg_type = IP_TTL;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	int v = 0; /* EINVAL on a UDP socket */
	memcpy(CMSG_DATA(cm), &v, sizeof(v));
	EXPECT_EQ(sendmsg(c, &m, 0), 1);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SO_PEEK_OFF; /* not a control message type */
	EXPECT_ERRNO(sendmsg(c, &m, 0), EINVAL);
	(void)s;
}
