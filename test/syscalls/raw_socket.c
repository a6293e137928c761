/* Raw IP sockets, raw(7) and ipv6(7): socket(AF_INET or AF_INET6,
 * SOCK_RAW, protocol) for a holder of CAP_NET_RAW. An IPv4 raw socket
 * reads every matching packet with its IP header, and builds the header on
 * send unless IP_HDRINCL; an IPv6 one reads the data only and computes the
 * checksum at IPV6_CHECKSUM's offset. Natively the cases run in the host's
 * namespace: other traffic of the same protocol may arrive, so they use a
 * protocol number nobody uses (253, RFC 3692's experimentation value) or
 * look for their own ICMP identifier, and read until their own packet. */
#include "test.h"
#include "inet_test.h"

#include <linux/capability.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>

#define PROTO_TEST 253
#define PROTO_SENTINEL 254

#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif
#ifndef IPV6_CHECKSUM
#define IPV6_CHECKSUM 7
#endif

static int raw_or_skip(int family, int proto)
{
	int s = socket(family, SOCK_RAW, proto);
	if (s < 0 && errno == EPERM && geteuid() != 0)
		TEST_SKIP("needs CAP_NET_RAW");
	if (s < 0 && family == AF_INET6 && errno == EAFNOSUPPORT)
		TEST_SKIP("no IPv6");
	ASSERT_TRUE(s >= 0);
	return s;
}

static uint16_t csum(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;
	for (; n > 1; n -= 2, b += 2)
		sum += (uint32_t)b[0] << 8 | b[1];
	if (n)
		sum += (uint32_t)b[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Receives on s (bounded wait) until a packet whose bytes at off match
 * want[0..wn) arrives; returns its length, the packet in buf. */
static ssize_t recv_match(int s, void *buf, size_t cap, size_t off,
			  const void *want, size_t wn, inet_addr_t *from)
{
	for (int i = 0; i < 1000; i++) {
		net_wait(s, POLLIN);
		socklen_t fl = sizeof(*from);
		ssize_t n = recvfrom(s, buf, cap, 0, &from->sa, &fl);
		ASSERT_TRUE(n >= 0);
		if ((size_t)n >= off + wn && memcmp((char *)buf + off, want, wn) == 0)
			return n;
	}
	ASSERT_TRUE(0);
	return -1;
}

TEST(raw_socket, protocol_0_is_EPROTONOSUPPORT_and_a_negative_one_EINVAL)
{
	EXPECT_ERRNO(socket(AF_INET, SOCK_RAW, -1), EINVAL);
	if (geteuid() == 0) {
		EXPECT_ERRNO(socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
		EXPECT_ERRNO(socket(AF_INET6, SOCK_RAW, 0), EPROTONOSUPPORT);
	}
}

TEST(raw_socket, without_CAP_NET_RAW_socket_is_EPERM)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	ASSERT_SYSCALL_OK(syscall(SYS_capget, &h, d));
	d[0].effective &= ~(1u << CAP_NET_RAW);
	ASSERT_SYSCALL_OK(syscall(SYS_capset, &h, d));
	EXPECT_ERRNO(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
	EXPECT_ERRNO(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM);
	EXPECT_ERRNO(socket(AF_INET, SOCK_RAW, IPPROTO_RAW), EPERM);
}

TEST(raw_socket, ipv4_receive_includes_the_ip_header_built_by_the_stack)
{
	int rx = raw_or_skip(AF_INET, PROTO_TEST);
	int tx = raw_or_skip(AF_INET, PROTO_TEST);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	const char msg[] = "raw-ipv4-header-cookie";
	ASSERT_EQ(sendto(tx, msg, sizeof(msg), 0, &lo.sa, len), (ssize_t)sizeof(msg));
	char buf[256];
	inet_addr_t from;
	ssize_t n = recv_match(rx, buf, sizeof(buf), 20, msg, sizeof(msg), &from);
	ASSERT_EQ(n, 20 + (ssize_t)sizeof(msg));
	struct iphdr ih;
	memcpy(&ih, buf, sizeof(ih));
	EXPECT_EQ(ih.version, 4);
	EXPECT_EQ(ih.ihl, 5);
	EXPECT_EQ(ih.protocol, PROTO_TEST);
	EXPECT_EQ(ntohs(ih.tot_len), n);
	EXPECT_EQ(ih.ttl, 64);
	EXPECT_EQ(ntohl(ih.saddr), INADDR_LOOPBACK);
	EXPECT_EQ(ntohl(ih.daddr), INADDR_LOOPBACK);
	EXPECT_EQ(csum(buf, 20, 0), 0);
	EXPECT_EQ(from.in4.sin_family, AF_INET);
	EXPECT_EQ(ntohl(from.in4.sin_addr.s_addr), INADDR_LOOPBACK);
	EXPECT_EQ(from.in4.sin_port, 0);
}

TEST(raw_socket, getsockname_shows_the_protocol_as_the_port)
{
	int s = raw_or_skip(AF_INET, PROTO_TEST);
	inet_addr_t a;
	inet_sockname(s, &a);
	EXPECT_EQ(ntohs(a.in4.sin_port), PROTO_TEST);
	EXPECT_EQ(a.in4.sin_addr.s_addr, htonl(INADDR_ANY));
}

TEST(raw_socket, send_without_a_destination_is_EDESTADDRREQ_and_listen_EOPNOTSUPP)
{
	int s = raw_or_skip(AF_INET, PROTO_TEST);
	EXPECT_ERRNO(send(s, "x", 1, 0), EDESTADDRREQ);
	EXPECT_ERRNO(listen(s, 1), EOPNOTSUPP);
}

TEST(raw_socket, bind_to_a_foreign_address_is_EADDRNOTAVAIL)
{
	int s = raw_or_skip(AF_INET, PROTO_TEST);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "203.0.113.1", &a.sin_addr);
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, sizeof(a)), EADDRNOTAVAIL);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	EXPECT_SYSCALL_OK(bind(s, &lo.sa, len));
}

TEST(raw_socket, connected_socket_sends_without_an_address_and_reads_its_peer)
{
	int s = raw_or_skip(AF_INET, PROTO_TEST);
	inet_addr_t lo, peer;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	ASSERT_SYSCALL_OK(connect(s, &lo.sa, len));
	/* inet_getname: a peer without a port is no peer. */
	socklen_t pl = sizeof(peer);
	EXPECT_ERRNO(getpeername(s, &peer.sa, &pl), ENOTCONN);
	const char msg[] = "raw-connected-cookie";
	ASSERT_EQ(send(s, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
	char buf[256];
	inet_addr_t from;
	EXPECT_EQ(recv_match(s, buf, sizeof(buf), 20, msg, sizeof(msg), &from), 20 + (ssize_t)sizeof(msg));
}

TEST(raw_socket, ip_ttl_control_message_sets_the_sent_packets_ttl)
{
	int rx = raw_or_skip(AF_INET, PROTO_TEST);
	int tx = raw_or_skip(AF_INET, PROTO_TEST);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	const char msg[] = "raw-cmsg-ttl-cookie";
	struct iovec iov = {(void *)msg, sizeof(msg)};
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr m = {.msg_name = &lo, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_IP;
	c->cmsg_type = IP_TTL;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	int ttl = 7;
	memcpy(CMSG_DATA(c), &ttl, sizeof(ttl));
	ASSERT_EQ(sendmsg(tx, &m, 0), (ssize_t)sizeof(msg));
	char buf[256];
	inet_addr_t from;
	recv_match(rx, buf, sizeof(buf), 20, msg, sizeof(msg), &from);
	EXPECT_EQ(((struct iphdr *)buf)->ttl, 7);
}

/* Builds a 20-byte IPv4 header to 127.0.0.1 of protocol PROTO_TEST. */
static void guest_header(char *b, size_t total)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	b[2] = 0x12; /* a wrong total length: the kernel fills it in */
	b[3] = 0x34;
	b[8] = 33; /* TTL */
	b[9] = PROTO_TEST;
	uint32_t d = htonl(INADDR_LOOPBACK);
	memcpy(b + 16, &d, 4);
	(void)total;
}

TEST(raw_socket, ip_hdrincl_fills_in_length_checksum_source_and_id)
{
	int rx = raw_or_skip(AF_INET, PROTO_TEST);
	int tx = raw_or_skip(AF_INET, PROTO_TEST);
	set_int_opt(tx, SOL_IP, IP_HDRINCL, 1);
	EXPECT_EQ(int_opt(tx, SOL_IP, IP_HDRINCL), 1);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	const char msg[] = "raw-hdrincl-cookie";
	char pkt[20 + sizeof(msg)];
	guest_header(pkt, sizeof(pkt));
	memcpy(pkt + 20, msg, sizeof(msg));
	ASSERT_EQ(sendto(tx, pkt, sizeof(pkt), 0, &lo.sa, len), (ssize_t)sizeof(pkt));
	char buf[256];
	inet_addr_t from;
	ssize_t n = recv_match(rx, buf, sizeof(buf), 20, msg, sizeof(msg), &from);
	ASSERT_EQ(n, (ssize_t)sizeof(pkt));
	struct iphdr ih;
	memcpy(&ih, buf, sizeof(ih));
	EXPECT_EQ(ntohs(ih.tot_len), sizeof(pkt));
	EXPECT_EQ(ih.ttl, 33);
	EXPECT_EQ(ntohl(ih.saddr), INADDR_LOOPBACK);
	EXPECT_NE(ih.id, 0);
	EXPECT_EQ(csum(buf, 20, 0), 0);
}

TEST(raw_socket, ip_hdrincl_header_shorter_than_its_ihl_is_EINVAL)
{
	int tx = raw_or_skip(AF_INET, PROTO_TEST);
	set_int_opt(tx, SOL_IP, IP_HDRINCL, 1);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	char pkt[64];
	guest_header(pkt, 20);
	EXPECT_ERRNO(sendto(tx, pkt, 10, 0, &lo.sa, len), EINVAL); /* shorter than a header */
	EXPECT_ERRNO(sendto(tx, pkt, 0, 0, &lo.sa, len), EINVAL);
	pkt[0] = 0x44; /* IHL 4 */
	EXPECT_ERRNO(sendto(tx, pkt, 20, 0, &lo.sa, len), EINVAL);
	pkt[0] = 0x46; /* IHL 6 in 20 bytes */
	EXPECT_ERRNO(sendto(tx, pkt, 20, 0, &lo.sa, len), EINVAL);
}

TEST(raw_socket, ipproto_raw_implies_ip_hdrincl)
{
	int s = raw_or_skip(AF_INET, IPPROTO_RAW);
	EXPECT_EQ(int_opt(s, SOL_IP, IP_HDRINCL), 1);
	int t = raw_or_skip(AF_INET, PROTO_TEST);
	EXPECT_EQ(int_opt(t, SOL_IP, IP_HDRINCL), 0);
}

/* Sends an ICMP echo request with identifier id from s to 127.0.0.1. */
static void send_echo4(int s, uint16_t id)
{
	struct icmphdr h = {.type = ICMP_ECHO};
	h.un.echo.id = htons(id);
	h.un.echo.sequence = htons(1);
	h.checksum = htons(csum(&h, sizeof(h), 0));
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	ASSERT_EQ(sendto(s, &h, sizeof(h), 0, &lo.sa, len), (ssize_t)sizeof(h));
}

/* Returns the ICMP type of the first packet with identifier id on s. */
static int first_echo_type4(int s, uint16_t id)
{
	char buf[512];
	for (int i = 0; i < 1000; i++) {
		net_wait(s, POLLIN);
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		ASSERT_TRUE(n >= 28);
		struct icmphdr h;
		memcpy(&h, buf + 20, sizeof(h));
		if ((h.type == ICMP_ECHO || h.type == ICMP_ECHOREPLY) && ntohs(h.un.echo.id) == id)
			return h.type;
	}
	ASSERT_TRUE(0);
	return -1;
}

TEST(raw_socket, icmp_socket_sees_its_echo_request_then_the_reply)
{
	int s = raw_or_skip(AF_INET, IPPROTO_ICMP);
	uint16_t id = (uint16_t)(getpid() ^ 0x5a5a);
	send_echo4(s, id);
	EXPECT_EQ(first_echo_type4(s, id), ICMP_ECHO);
	EXPECT_EQ(first_echo_type4(s, id), ICMP_ECHOREPLY);
}

TEST(raw_socket, icmp_filter_drops_the_filtered_types)
{
	int s = raw_or_skip(AF_INET, IPPROTO_ICMP);
	uint32_t f = 1u << ICMP_ECHO;
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_RAW, ICMP_FILTER, &f, sizeof(f)));
	uint32_t g = 0;
	socklen_t gl = 8;
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_RAW, ICMP_FILTER, &g, &gl));
	EXPECT_EQ(gl, 4);
	EXPECT_EQ(g, f);
	uint16_t id = (uint16_t)(getpid() ^ 0xa5a5);
	send_echo4(s, id);
	EXPECT_EQ(first_echo_type4(s, id), ICMP_ECHOREPLY);
}

TEST(raw_socket, icmp_filter_on_a_non_icmp_socket_is_EOPNOTSUPP)
{
	int s = raw_or_skip(AF_INET, PROTO_TEST);
	uint32_t f = 0;
	EXPECT_ERRNO(setsockopt(s, SOL_RAW, ICMP_FILTER, &f, sizeof(f)), EOPNOTSUPP);
}

TEST(raw_socket, receive_queue_is_bounded_by_so_rcvbuf)
{
	int rx = raw_or_skip(AF_INET, PROTO_TEST);
	int sentinel = raw_or_skip(AF_INET, PROTO_SENTINEL);
	int tx = raw_or_skip(AF_INET, PROTO_TEST);
	set_int_opt(rx, SOL_SOCKET, SO_RCVBUF, 1);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	ASSERT_SYSCALL_OK(connect(rx, &lo.sa, len));
	char msg[1000];
	memset(msg, 'q', sizeof(msg));
	for (int i = 0; i < 64; i++)
		ASSERT_EQ(sendto(tx, msg, sizeof(msg), 0, &lo.sa, len), (ssize_t)sizeof(msg));
	/* Loopback keeps order: once the sentinel is here, so are the 64. */
	int ts = raw_or_skip(AF_INET, PROTO_SENTINEL);
	const char end[] = "raw-rcvbuf-sentinel";
	ASSERT_EQ(sendto(ts, end, sizeof(end), 0, &lo.sa, len), (ssize_t)sizeof(end));
	char buf[2048];
	inet_addr_t from;
	recv_match(sentinel, buf, sizeof(buf), 20, end, sizeof(end), &from);
	int got = 0;
	while (recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	EXPECT_GT(got, 0);
	EXPECT_LT(got, 64);
}

TEST(raw_socket, poll_shows_pollin_once_a_packet_is_queued_and_pollout_always)
{
	int rx = raw_or_skip(AF_INET, PROTO_TEST);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	ASSERT_SYSCALL_OK(connect(rx, &lo.sa, len));
	EXPECT_EQ(net_poll_now(rx, POLLOUT), POLLOUT);
	ASSERT_EQ(send(rx, "p", 1, 0), 1);
	EXPECT_TRUE(net_wait(rx, POLLIN) & POLLIN);
	int n = 0;
	ASSERT_SYSCALL_OK(ioctl(rx, FIONREAD, &n));
	EXPECT_GE(n, 21);
}

TEST(raw_socket, ipv6_receive_has_no_header_and_ipv6_checksum_is_computed)
{
	int rx = raw_or_skip(AF_INET6, PROTO_TEST);
	int tx = raw_or_skip(AF_INET6, PROTO_TEST);
	EXPECT_EQ(int_opt(tx, SOL_RAW, IPV6_CHECKSUM), -1);
	int odd = 3;
	EXPECT_ERRNO(setsockopt(tx, SOL_RAW, IPV6_CHECKSUM, &odd, sizeof(odd)), EINVAL);
	set_int_opt(tx, SOL_RAW, IPV6_CHECKSUM, 2);
	EXPECT_EQ(int_opt(tx, SOL_RAW, IPV6_CHECKSUM), 2);
	set_int_opt(rx, SOL_RAW, IPV6_CHECKSUM, 2);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET6, &lo, 0);
	EXPECT_ERRNO(sendto(tx, "x", 1, 0, &lo.sa, len), EINVAL); /* no room for the checksum */
	char msg[] = "..raw-ipv6-cookie";
	ASSERT_EQ(sendto(tx, msg, sizeof(msg), 0, &lo.sa, len), (ssize_t)sizeof(msg));
	char buf[256];
	inet_addr_t from;
	ssize_t n = recv_match(rx, buf, sizeof(buf), 4, msg + 4, sizeof(msg) - 4, &from);
	ASSERT_EQ(n, (ssize_t)sizeof(msg));
	/* The pseudo-header: ::1 twice, the length, the protocol. */
	uint8_t ph[40] = {0};
	ph[15] = 1;
	ph[31] = 1;
	ph[35] = (uint8_t)n;
	ph[39] = PROTO_TEST;
	uint16_t s = csum(ph, sizeof(ph), 0);
	EXPECT_EQ(csum(buf, n, (uint16_t)~s), 0);
	EXPECT_EQ(from.in6.sin6_family, AF_INET6);
	EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&from.in6.sin6_addr));
}

TEST(raw_socket, icmpv6_socket_checksum_is_fixed_at_2_for_sol_ipv6)
{
	int s = raw_or_skip(AF_INET6, IPPROTO_ICMPV6);
	EXPECT_EQ(int_opt(s, SOL_RAW, IPV6_CHECKSUM), 2);
	int v = 4;
	EXPECT_ERRNO(setsockopt(s, SOL_IPV6, IPV6_CHECKSUM, &v, sizeof(v)), EINVAL);
	struct icmp6_filter f;
	EXPECT_ERRNO(setsockopt(raw_or_skip(AF_INET6, PROTO_TEST), SOL_ICMPV6, ICMP6_FILTER, &f, sizeof(f)), EOPNOTSUPP);
}

TEST(raw_socket, icmpv6_echo_with_a_filter_passing_only_replies)
{
	int s = raw_or_skip(AF_INET6, IPPROTO_ICMPV6);
	struct icmp6_filter f;
	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_ICMPV6, ICMP6_FILTER, &f, sizeof(f)));
	struct icmp6_filter g;
	socklen_t gl = sizeof(g) + 8;
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_ICMPV6, ICMP6_FILTER, &g, &gl));
	EXPECT_EQ(gl, sizeof(g));
	EXPECT_MEMEQ(&f, &g, sizeof(f));
	uint16_t id = (uint16_t)(getpid() ^ 0x3c3c);
	struct icmp6_hdr h = {.icmp6_type = ICMP6_ECHO_REQUEST};
	h.icmp6_id = htons(id);
	h.icmp6_seq = htons(1);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET6, &lo, 0);
	ASSERT_EQ(sendto(s, &h, sizeof(h), 0, &lo.sa, len), (ssize_t)sizeof(h));
	char buf[512];
	for (int i = 0; i < 1000; i++) {
		net_wait(s, POLLIN);
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		ASSERT_TRUE(n >= (ssize_t)sizeof(h));
		struct icmp6_hdr r;
		memcpy(&r, buf, sizeof(r));
		EXPECT_EQ(r.icmp6_type, ICMP6_ECHO_REPLY);
		if (ntohs(r.icmp6_id) == id)
			return;
	}
	ASSERT_TRUE(0);
}

TEST(raw_socket, ipv6_2292hoplimit_reports_the_hop_limit_under_its_own_type)
{
	int s = raw_or_skip(AF_INET6, PROTO_TEST);
	set_int_opt(s, SOL_IPV6, IPV6_2292HOPLIMIT, 1);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET6, &lo, 0);
	ASSERT_SYSCALL_OK(connect(s, &lo.sa, len));
	const char msg[] = "raw-2292-cookie";
	ASSERT_EQ(send(s, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
	char buf[64];
	union {
		char b[256];
		struct cmsghdr align;
	} ctl;
	for (int i = 0; i < 1000; i++) {
		net_wait(s, POLLIN);
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
		ssize_t n = recvmsg(s, &m, 0);
		ASSERT_TRUE(n >= 0);
		if (n != (ssize_t)sizeof(msg) || memcmp(buf, msg, n) != 0)
			continue;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		ASSERT_TRUE(c != NULL);
		EXPECT_EQ(c->cmsg_level, SOL_IPV6);
		EXPECT_EQ(c->cmsg_type, IPV6_2292HOPLIMIT);
		int hops;
		memcpy(&hops, CMSG_DATA(c), sizeof(hops));
		EXPECT_EQ(hops, 64);
		return;
	}
	ASSERT_TRUE(0);
}

/* A ping socket (icmp(7)) applies IP_TTL from a control message: a raw
 * ICMP socket sees the echo request go by with that TTL. Natively this
 * needs ping_group_range to hold our group. */
TEST(raw_socket, ping_socket_applies_an_ip_ttl_control_message)
{
	int raw = raw_or_skip(AF_INET, IPPROTO_ICMP);
	int p = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (p < 0 && errno == EACCES)
		TEST_SKIP("net.ipv4.ping_group_range excludes our groups");
	ASSERT_TRUE(p >= 0);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	struct icmphdr h = {.type = ICMP_ECHO};
	h.un.echo.sequence = htons(0x7777);
	struct iovec iov = {&h, sizeof(h)};
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr m = {.msg_name = &lo, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_IP;
	c->cmsg_type = IP_TTL;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	int ttl = 7;
	memcpy(CMSG_DATA(c), &ttl, sizeof(ttl));
	ASSERT_EQ(sendmsg(p, &m, 0), (ssize_t)sizeof(h));
	inet_addr_t me;
	inet_sockname(p, &me);
	char buf[512];
	for (int i = 0; i < 1000; i++) {
		net_wait(raw, POLLIN);
		ssize_t n = recv(raw, buf, sizeof(buf), 0);
		ASSERT_TRUE(n >= 28);
		struct icmphdr r;
		memcpy(&r, buf + 20, sizeof(r));
		if (r.type != ICMP_ECHO || r.un.echo.id != me.in4.sin_port || r.un.echo.sequence != htons(0x7777))
			continue;
		EXPECT_EQ(((struct iphdr *)buf)->ttl, 7);
		return;
	}
	ASSERT_TRUE(0);
}

/* Sends a header-included packet of protocol proto to 127.0.0.1, then an
 * echo request with identifier id from icmp; returns whether icmp sees a
 * protocol unreachable quoting proto before the echo reply (the error is
 * made as the first packet is handled, the reply as the request is, and
 * the loopback keeps order). */
static int proto_unreachable_before_echo(int icmp, int proto, uint16_t id)
{
	int tx = raw_or_skip(AF_INET, IPPROTO_RAW);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET, &lo, 0);
	char pkt[28];
	guest_header(pkt, sizeof(pkt));
	pkt[9] = (char)proto;
	memset(pkt + 20, 0x5c, 8);
	ASSERT_EQ(sendto(tx, pkt, sizeof(pkt), 0, &lo.sa, len), (ssize_t)sizeof(pkt));
	send_echo4(icmp, id);
	char buf[512];
	for (int i = 0; i < 1000; i++) {
		net_wait(icmp, POLLIN);
		ssize_t n = recv(icmp, buf, sizeof(buf), 0);
		ASSERT_TRUE(n >= 28);
		struct icmphdr h;
		memcpy(&h, buf + 20, sizeof(h));
		if (h.type == ICMP_ECHOREPLY && ntohs(h.un.echo.id) == id)
			return 0;
		if (h.type == ICMP_DEST_UNREACH && h.code == ICMP_PROT_UNREACH && n >= 48 &&
		    (unsigned char)buf[28 + 9] == proto)
			return 1;
	}
	ASSERT_TRUE(0);
	return -1;
}

TEST(raw_socket, a_protocol_a_raw_socket_takes_gets_no_protocol_unreachable)
{
	int icmp = raw_or_skip(AF_INET, IPPROTO_ICMP);
	EXPECT_EQ(proto_unreachable_before_echo(icmp, 252, (uint16_t)(getpid() ^ 0x1111)), 1);
	int taker = raw_or_skip(AF_INET, 252);
	EXPECT_EQ(proto_unreachable_before_echo(icmp, 252, (uint16_t)(getpid() ^ 0x2222)), 0);
	close(taker);
}

/* Returns whether /proc/net/FILE has a line for inode ino (the 10th
 * column) whose local address (2nd) ends in port and state (4th) is st. */
static int proc_net_has(const char *file, unsigned long ino, const char *port, const char *st)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/net/%s", file);
	FILE *f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		char *col[12] = {0}, *save = NULL;
		int n = 0;
		for (char *t = strtok_r(line, " \n", &save); t && n < 12; t = strtok_r(NULL, " \n", &save))
			col[n++] = t;
		if (n < 10 || strtoul(col[9], NULL, 10) != ino)
			continue;
		size_t l = strlen(col[1]), pl = strlen(port);
		found = l > pl && strcmp(col[1] + l - pl, port) == 0 && strcmp(col[3], st) == 0;
	}
	fclose(f);
	return found;
}

TEST(raw_socket, proc_net_raw_lists_the_socket_with_its_protocol_as_port)
{
	int s = raw_or_skip(AF_INET, PROTO_TEST);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(s, &st));
	EXPECT_TRUE(proc_net_has("raw", st.st_ino, ":00FD", "07"));
	EXPECT_FALSE(proc_net_has("raw6", st.st_ino, ":00FD", "07"));
	int s6 = raw_or_skip(AF_INET6, PROTO_TEST);
	ASSERT_SYSCALL_OK(fstat(s6, &st));
	EXPECT_TRUE(proc_net_has("raw6", st.st_ino, ":00FD", "07"));
}

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

TEST(raw_socket, ipv6_ipproto_raw_sends_the_callers_header)
{
	int tx = raw_or_skip(AF_INET6, IPPROTO_RAW);
	EXPECT_EQ(int_opt(tx, SOL_IPV6, IPV6_HDRINCL), 1);
	int rx = raw_or_skip(AF_INET6, PROTO_TEST);
	inet_addr_t lo;
	socklen_t len = inet_loopback(AF_INET6, &lo, 0);
	const char msg[] = "raw-ipv6-hdrincl-cookie";
	char pkt[40 + sizeof(msg)];
	memset(pkt, 0, 40);
	pkt[0] = 0x60;
	pkt[4] = 0;
	pkt[5] = sizeof(msg);
	pkt[6] = PROTO_TEST;
	pkt[7] = 17; /* hop limit */
	memcpy(pkt + 8, &in6addr_loopback, 16);
	memcpy(pkt + 24, &in6addr_loopback, 16);
	memcpy(pkt + 40, msg, sizeof(msg));
	EXPECT_ERRNO(sendto(tx, pkt, 39, 0, &lo.sa, len), EINVAL);
	ASSERT_EQ(sendto(tx, pkt, sizeof(pkt), 0, &lo.sa, len), (ssize_t)sizeof(pkt));
	char buf[256];
	inet_addr_t from;
	EXPECT_EQ(recv_match(rx, buf, sizeof(buf), 0, msg, sizeof(msg), &from), (ssize_t)sizeof(msg));
}
