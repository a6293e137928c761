/* UDP over IPv6 loopback and dual-stack sockets, as ipv6(7) and udp(7)
 * describe them: IPV6_V6ONLY, v4-mapped addresses, sockaddr_in6 checks,
 * IPV6_RECVPKTINFO and hop limits. */
#include "test.h"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

static struct sockaddr_in6 addr6(const struct in6_addr *a, uint16_t port)
{
	struct sockaddr_in6 sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(port);
	sa.sin6_addr = *a;
	return sa;
}

static struct sockaddr_in6 mapped(uint32_t v4, uint16_t port)
{
	struct in6_addr a = IN6ADDR_ANY_INIT;
	a.s6_addr[10] = a.s6_addr[11] = 0xff;
	uint32_t n = htonl(v4);
	memcpy(&a.s6_addr[12], &n, 4);
	return addr6(&a, port);
}

static int have_ipv6(void)
{
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	if (s < 0)
		return 0;
	struct sockaddr_in6 sa = addr6(&in6addr_loopback, 0);
	int ok = bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(s);
	return ok;
}

#define NEED_IPV6()                                                  \
	do {                                                         \
		if (!have_ipv6())                                    \
			TEST_SKIP("no IPv6 loopback on this host");  \
	} while (0)

/* A UDP socket bound to a on an ephemeral port; its address in *sa. */
static int bound6(const struct in6_addr *a, struct sockaddr_in6 *sa)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	*sa = addr6(a, 0);
	socklen_t len = sizeof(*sa);
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)sa, sizeof(*sa)));
	ASSERT_SYSCALL_OK(getsockname(s, (struct sockaddr *)sa, &len));
	return s;
}

static int getint(int s, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	ASSERT_SYSCALL_OK(getsockopt(s, level, name, &v, &len));
	return v;
}

static void setint(int s, int level, int name, int v)
{
	ASSERT_SYSCALL_OK(setsockopt(s, level, name, &v, sizeof(v)));
}

TEST(udp6, datagram_over_loopback_reports_its_source)
{
	NEED_IPV6();
	struct sockaddr_in6 dst, from, me;
	int r = bound6(&in6addr_loopback, &dst);
	int s = bound6(&in6addr_loopback, &me);
	EXPECT_EQ(sendto(s, "six", 3, 0, (struct sockaddr *)&dst, sizeof(dst)), 3);
	char buf[8] = {0};
	socklen_t len = sizeof(from);
	EXPECT_EQ(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len), 3);
	EXPECT_STREQ(buf, "six");
	EXPECT_EQ(len, sizeof(from));
	EXPECT_EQ(from.sin6_family, AF_INET6);
	EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&from.sin6_addr));
	EXPECT_EQ(from.sin6_port, me.sin6_port);
	close(r);
	close(s);
}

TEST(udp6, getsockname_returns_a_sockaddr_in6)
{
	NEED_IPV6();
	struct sockaddr_in6 sa;
	int s = bound6(&in6addr_loopback, &sa);
	EXPECT_EQ(sa.sin6_family, AF_INET6);
	EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&sa.sin6_addr));
	EXPECT_NE(sa.sin6_port, 0);
	close(s);
}

TEST(udp6, bind_with_short_address_is_EINVAL_and_other_family_EAFNOSUPPORT)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	struct sockaddr_in6 sa = addr6(&in6addr_any, 0);
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&sa, 20), EINVAL);
	sa.sin6_family = AF_INET;
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&sa, sizeof(sa)), EAFNOSUPPORT);
	close(s);
}

TEST(udp6, dual_stack_socket_receives_ipv4_as_v4_mapped)
{
	int r = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	setint(r, SOL_IPV6, IPV6_V6ONLY, 0);
	struct sockaddr_in6 any = addr6(&in6addr_any, 0), from;
	socklen_t len = sizeof(any);
	ASSERT_SYSCALL_OK(bind(r, (struct sockaddr *)&any, sizeof(any)));
	ASSERT_SYSCALL_OK(getsockname(r, (struct sockaddr *)&any, &len));
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = any.sin6_port,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	EXPECT_EQ(sendto(s, "four", 4, 0, (struct sockaddr *)&dst, sizeof(dst)), 4);
	char buf[8];
	len = sizeof(from);
	EXPECT_EQ(recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len), 4);
	EXPECT_EQ(from.sin6_family, AF_INET6);
	EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&from.sin6_addr));
	EXPECT_EQ(from.sin6_addr.s6_addr[12], 127);
	EXPECT_EQ(from.sin6_addr.s6_addr[15], 1);
	close(r);
	close(s);
}

TEST(udp6, dual_stack_socket_sends_to_v4_mapped_address)
{
	struct sockaddr_in dst;
	int r = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(dst);
	ASSERT_SYSCALL_OK(bind(r, (struct sockaddr *)&dst, sizeof(dst)));
	ASSERT_SYSCALL_OK(getsockname(r, (struct sockaddr *)&dst, &len));
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	setint(s, SOL_IPV6, IPV6_V6ONLY, 0);
	struct sockaddr_in6 m = mapped(INADDR_LOOPBACK, ntohs(dst.sin_port));
	EXPECT_EQ(sendto(s, "m", 1, 0, (struct sockaddr *)&m, sizeof(m)), 1);
	char c = 0;
	EXPECT_EQ(recv(r, &c, 1, 0), 1);
	EXPECT_EQ(c, 'm');
	close(r);
	close(s);
}

TEST(udp6, v6only_socket_refuses_v4_mapped_addresses)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	setint(s, SOL_IPV6, IPV6_V6ONLY, 1);
	EXPECT_EQ(getint(s, SOL_IPV6, IPV6_V6ONLY), 1);
	struct sockaddr_in6 m = mapped(INADDR_LOOPBACK, 9);
	EXPECT_ERRNO(sendto(s, "m", 1, 0, (struct sockaddr *)&m, sizeof(m)), ENETUNREACH);
	m.sin6_port = 0;
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&m, sizeof(m)), EINVAL);
	close(s);
}

TEST(udp6, ipv6_v6only_cannot_change_after_bind)
{
	NEED_IPV6();
	struct sockaddr_in6 sa;
	int s = bound6(&in6addr_loopback, &sa);
	int v = 1;
	EXPECT_ERRNO(setsockopt(s, SOL_IPV6, IPV6_V6ONLY, &v, sizeof(v)), EINVAL);
	close(s);
}

TEST(udp6, dual_stack_any_port_clashes_with_ipv4_any_and_v6only_does_not)
{
	int v4 = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in a4 = {.sin_family = AF_INET};
	socklen_t len = sizeof(a4);
	ASSERT_SYSCALL_OK(bind(v4, (struct sockaddr *)&a4, sizeof(a4)));
	ASSERT_SYSCALL_OK(getsockname(v4, (struct sockaddr *)&a4, &len));
	int dual = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	setint(dual, SOL_IPV6, IPV6_V6ONLY, 0);
	struct sockaddr_in6 a6 = addr6(&in6addr_any, ntohs(a4.sin_port));
	EXPECT_ERRNO(bind(dual, (struct sockaddr *)&a6, sizeof(a6)), EADDRINUSE);
	int only = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	setint(only, SOL_IPV6, IPV6_V6ONLY, 1);
	EXPECT_SYSCALL_OK(bind(only, (struct sockaddr *)&a6, sizeof(a6)));
	close(v4);
	close(dual);
	close(only);
}

TEST(udp6, connect_with_a_sockaddr_in_reaches_the_ipv4_peer)
{
	struct sockaddr_in dst;
	int r = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(dst);
	ASSERT_SYSCALL_OK(bind(r, (struct sockaddr *)&dst, sizeof(dst)));
	ASSERT_SYSCALL_OK(getsockname(r, (struct sockaddr *)&dst, &len));
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	setint(s, SOL_IPV6, IPV6_V6ONLY, 0);
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	struct sockaddr_in6 peer;
	len = sizeof(peer);
	ASSERT_SYSCALL_OK(getpeername(s, (struct sockaddr *)&peer, &len));
	EXPECT_EQ(len, sizeof(peer));
	EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr));
	EXPECT_EQ(peer.sin6_port, dst.sin_port);
	EXPECT_EQ(send(s, "c", 1, 0), 1);
	char c = 0;
	EXPECT_EQ(recv(r, &c, 1, 0), 1);
	EXPECT_EQ(c, 'c');
	close(r);
	close(s);
}

TEST(udp6, ipv6_recvpktinfo_reports_the_destination)
{
	NEED_IPV6();
	struct sockaddr_in6 dst;
	int r = bound6(&in6addr_loopback, &dst);
	setint(r, SOL_IPV6, IPV6_RECVPKTINFO, 1);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	EXPECT_EQ(sendto(s, "p", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	char buf[4], ctl[256];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	EXPECT_EQ(recvmsg(r, &m, 0), 1);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(c != NULL);
	EXPECT_EQ(c->cmsg_level, SOL_IPV6);
	EXPECT_EQ(c->cmsg_type, IPV6_PKTINFO);
	struct in6_pktinfo pi;
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&pi.ipi6_addr));
	EXPECT_GT(pi.ipi6_ifindex, 0);
	close(r);
	close(s);
}

TEST(udp6, ipv6_recvhoplimit_reports_the_senders_unicast_hops)
{
	NEED_IPV6();
	struct sockaddr_in6 dst;
	int r = bound6(&in6addr_loopback, &dst);
	setint(r, SOL_IPV6, IPV6_RECVHOPLIMIT, 1);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	setint(s, SOL_IPV6, IPV6_UNICAST_HOPS, 9);
	EXPECT_EQ(getint(s, SOL_IPV6, IPV6_UNICAST_HOPS), 9);
	EXPECT_EQ(sendto(s, "h", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	char buf[4], ctl[256];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	EXPECT_EQ(recvmsg(r, &m, 0), 1);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(c != NULL);
	EXPECT_EQ(c->cmsg_type, IPV6_HOPLIMIT);
	int hops;
	memcpy(&hops, CMSG_DATA(c), sizeof(hops));
	EXPECT_EQ(hops, 9);
	close(r);
	close(s);
}

TEST(udp6, ipv6_recverr_can_be_set_and_read_back)
{
	NEED_IPV6();
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	EXPECT_EQ(getint(s, SOL_IPV6, IPV6_RECVERR), 0);
	setint(s, SOL_IPV6, IPV6_RECVERR, 1);
	EXPECT_EQ(getint(s, SOL_IPV6, IPV6_RECVERR), 1);
	setint(s, SOL_IPV6, IPV6_RECVERR, 0);
	EXPECT_EQ(getint(s, SOL_IPV6, IPV6_RECVERR), 0);
	close(s);
}

/* With IPV6_RECVERR an ICMPv6 port unreachable is queued on the error
 * queue (ipv6(7), ip(7)): MSG_ERRQUEUE returns the datagram, its
 * destination and an IPV6_RECVERR message with the ICMPv6 type, code
 * and sender; POLLERR stays until the queue is read. */
TEST(udp6, ipv6_recverr_queues_port_unreachable_for_msg_errqueue)
{
	NEED_IPV6();
	struct sockaddr_in6 dst, me;
	close(bound6(&in6addr_loopback, &dst));
	int s = bound6(&in6addr_loopback, &me);
	setint(s, SOL_IPV6, IPV6_RECVERR, 1);
	EXPECT_EQ(sendto(s, "ping", 4, 0, (struct sockaddr *)&dst, sizeof(dst)), 4);
	struct pollfd p = {.fd = s, .events = 0};
	ASSERT_EQ(poll(&p, 1, 5000), 1);
	EXPECT_TRUE(p.revents & POLLERR);

	char buf[16] = {0};
	union {
		char b[256];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_in6 from;
	memset(&from, 0, sizeof(from));
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
	EXPECT_EQ(recvmsg(s, &m, MSG_ERRQUEUE), 4);
	EXPECT_EQ(memcmp(buf, "ping", 4), 0);
	EXPECT_TRUE(m.msg_flags & MSG_ERRQUEUE);
	EXPECT_EQ(from.sin6_family, AF_INET6);
	EXPECT_EQ(from.sin6_port, dst.sin6_port);
	EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&from.sin6_addr));
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ASSERT_TRUE(c != NULL);
	EXPECT_EQ(c->cmsg_level, SOL_IPV6);
	EXPECT_EQ(c->cmsg_type, IPV6_RECVERR);
	ASSERT_EQ(c->cmsg_len, CMSG_LEN(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6)));
	struct sock_extended_err ee;
	memcpy(&ee, CMSG_DATA(c), sizeof(ee));
	EXPECT_EQ(ee.ee_errno, ECONNREFUSED);
	EXPECT_EQ(ee.ee_origin, SO_EE_ORIGIN_ICMP6);
	EXPECT_EQ(ee.ee_type, 1); /* destination unreachable */
	EXPECT_EQ(ee.ee_code, 4); /* port unreachable */
	struct sockaddr_in6 off;
	memcpy(&off, CMSG_DATA(c) + sizeof(ee), sizeof(off));
	EXPECT_EQ(off.sin6_family, AF_INET6);
	EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&off.sin6_addr));
	EXPECT_TRUE(CMSG_NXTHDR(&m, c) == NULL);

	p.revents = 0;
	EXPECT_EQ(poll(&p, 1, 0), 0);
	m.msg_controllen = sizeof(ctl.b);
	EXPECT_ERRNO(recvmsg(s, &m, MSG_ERRQUEUE), EAGAIN);
	close(s);
}

TEST(udp6, datagram_over_65527_bytes_is_EMSGSIZE)
{
	NEED_IPV6();
	struct sockaddr_in6 dst;
	int r = bound6(&in6addr_loopback, &dst);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	static char big[65528];
	EXPECT_ERRNO(sendto(s, big, sizeof(big), 0, (struct sockaddr *)&dst, sizeof(dst)), EMSGSIZE);
	close(r);
	close(s);
}

TEST(udp6, connected_send_to_closed_port_gives_ECONNREFUSED)
{
	NEED_IPV6();
	struct sockaddr_in6 dst;
	int c = bound6(&in6addr_loopback, &dst);
	close(c);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	ASSERT_SYSCALL_OK(connect(s, (struct sockaddr *)&dst, sizeof(dst)));
	EXPECT_EQ(send(s, "x", 1, 0), 1);
	char ch;
	EXPECT_ERRNO(recv(s, &ch, 1, 0), ECONNREFUSED);
	close(s);
}
