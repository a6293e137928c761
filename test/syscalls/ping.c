/* ICMP echo ("ping") sockets, icmp(7): socket(AF_INET, SOCK_DGRAM,
 * IPPROTO_ICMP) and its IPv6 twin, permitted to the groups in
 * net.ipv4.ping_group_range. The sandbox permits every group; natively the
 * cases follow the host's setting. */
#include "test.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <sys/socket.h>

/* Reports whether one of our groups is in ping_group_range (a missing file
 * means no restriction). */
static int ping_allowed(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "r");
	if (!f)
		return 1;
	long lo, hi;
	int n = fscanf(f, "%ld %ld", &lo, &hi);
	fclose(f);
	if (n != 2)
		return 1;
	gid_t groups[256];
	int ng = getgroups(256, groups);
	if ((long)getegid() >= lo && (long)getegid() <= hi)
		return 1;
	for (int i = 0; i < ng; i++)
		if ((long)groups[i] >= lo && (long)groups[i] <= hi)
			return 1;
	return 0;
}

/* Opens a ping socket or skips the case when this host forbids it. */
static int ping_socket(int family)
{
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	if (!ping_allowed())
		TEST_SKIP("net.ipv4.ping_group_range excludes our groups");
	int s = socket(family, SOCK_DGRAM, proto);
	if (s < 0 && family == AF_INET6 && errno == EAFNOSUPPORT)
		TEST_SKIP("no IPv6");
	ASSERT_TRUE(s >= 0);
	return s;
}

static struct sockaddr_in lo4(void)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

TEST(ping, socket_is_allowed_exactly_to_the_groups_in_ping_group_range)
{
	int allowed = ping_allowed();
	int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (allowed) {
		EXPECT_TRUE(s >= 0);
		int type = 0;
		socklen_t len = sizeof(type);
		EXPECT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &type, &len));
		EXPECT_EQ(type, IPPROTO_ICMP);
	} else {
		EXPECT_EQ(s, -1);
		EXPECT_ERRNO(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), EACCES);
	}
	if (s >= 0)
		close(s);
}

TEST(ping, icmpv6_protocol_on_AF_INET_is_EPROTONOSUPPORT)
{
	EXPECT_ERRNO(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMPV6), EPROTONOSUPPORT);
}

TEST(ping, echo_request_to_loopback_gets_the_reply)
{
	int s = ping_socket(AF_INET);
	struct sockaddr_in dst = lo4(), from;
	unsigned char msg[16] = {ICMP_ECHO, 0, 0, 0, 0, 0, 0x12, 0x34, 'p', 'a', 'y', 'l', 'o', 'a', 'd', '!'};
	EXPECT_EQ(sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&dst, sizeof(dst)), (ssize_t)sizeof(msg));
	unsigned char in[64];
	socklen_t len = sizeof(from);
	EXPECT_EQ(recvfrom(s, in, sizeof(in), 0, (struct sockaddr *)&from, &len), (ssize_t)sizeof(msg));
	EXPECT_EQ(in[0], ICMP_ECHOREPLY);
	EXPECT_EQ(in[1], 0);
	EXPECT_EQ(in[6], 0x12); /* sequence */
	EXPECT_EQ(in[7], 0x34);
	EXPECT_MEMEQ(in + 8, "payload!", 8);
	EXPECT_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	close(s);
}

TEST(ping, identifier_is_the_sockets_port)
{
	int s = ping_socket(AF_INET);
	struct sockaddr_in dst = lo4(), me;
	unsigned char msg[8] = {ICMP_ECHO, 0, 0, 0, 0xde, 0xad, 0, 1};
	EXPECT_EQ(sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&dst, sizeof(dst)), 8);
	socklen_t len = sizeof(me);
	ASSERT_SYSCALL_OK(getsockname(s, (struct sockaddr *)&me, &len));
	EXPECT_NE(me.sin_port, 0);
	unsigned char in[64];
	EXPECT_EQ(recv(s, in, sizeof(in), 0), 8);
	uint16_t id;
	memcpy(&id, in + 4, 2);
	EXPECT_EQ(id, me.sin_port);
	close(s);
}

TEST(ping, message_that_is_not_an_echo_request_is_EINVAL)
{
	int s = ping_socket(AF_INET);
	struct sockaddr_in dst = lo4();
	unsigned char msg[8] = {ICMP_ECHOREPLY, 0, 0, 0, 0, 0, 0, 1};
	EXPECT_ERRNO(sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&dst, sizeof(dst)), EINVAL);
	msg[0] = ICMP_ECHO;
	msg[1] = 1;
	EXPECT_ERRNO(sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&dst, sizeof(dst)), EINVAL);
	close(s);
}

TEST(ping, message_shorter_than_the_icmp_header_is_EINVAL)
{
	int s = ping_socket(AF_INET);
	struct sockaddr_in dst = lo4();
	unsigned char msg[4] = {ICMP_ECHO, 0, 0, 0};
	EXPECT_ERRNO(sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&dst, sizeof(dst)), EINVAL);
	close(s);
}

TEST(ping, connected_socket_sends_with_send)
{
	int s = ping_socket(AF_INET);
	struct sockaddr_in dst = lo4();
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	unsigned char msg[8] = {ICMP_ECHO, 0, 0, 0, 0, 0, 0, 9};
	EXPECT_EQ(send(s, msg, sizeof(msg), 0), 8);
	unsigned char in[64];
	EXPECT_EQ(recv(s, in, sizeof(in), 0), 8);
	EXPECT_EQ(in[0], ICMP_ECHOREPLY);
	EXPECT_EQ(in[7], 9);
	close(s);
}

TEST(ping, bind_sets_the_identifier)
{
	int s = ping_socket(AF_INET);
	struct sockaddr_in me = lo4();
	me.sin_port = htons(4242);
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)&me, sizeof(me)));
	struct sockaddr_in got;
	socklen_t len = sizeof(got);
	ASSERT_SYSCALL_OK(getsockname(s, (struct sockaddr *)&got, &len));
	EXPECT_EQ(ntohs(got.sin_port), 4242);
	close(s);
}

TEST(ping, icmpv6_echo_to_loopback_gets_the_reply)
{
	int s = ping_socket(AF_INET6);
	struct sockaddr_in6 dst;
	memset(&dst, 0, sizeof(dst));
	dst.sin6_family = AF_INET6;
	dst.sin6_addr = in6addr_loopback;
	unsigned char msg[12] = {ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 0, 0, 5, 's', 'i', 'x', '!'};
	ssize_t n = sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&dst, sizeof(dst));
	if (n < 0 && errno == EADDRNOTAVAIL)
		TEST_SKIP("no IPv6 loopback");
	EXPECT_EQ(n, (ssize_t)sizeof(msg));
	unsigned char in[64];
	EXPECT_EQ(recv(s, in, sizeof(in), 0), (ssize_t)sizeof(msg));
	EXPECT_EQ(in[0], ICMP6_ECHO_REPLY);
	EXPECT_EQ(in[7], 5);
	EXPECT_MEMEQ(in + 8, "six!", 4);
	close(s);
}
