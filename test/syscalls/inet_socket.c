/* AF_INET and AF_INET6 socket basics: socket(2), bind(2), getsockname(2),
 * getpeername(2), getsockopt(2)/setsockopt(2) at SOL_SOCKET and SOL_IP,
 * fstat(2) and /proc/PID/fd, as socket(7), ip(7) and udp(7) describe
 * them. Traffic stays on loopback. */
#include "test.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

static struct sockaddr_in lo4(uint16_t port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static int getint(int s, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	ASSERT_SYSCALL_OK(getsockopt(s, level, name, &v, &len));
	EXPECT_EQ(len, sizeof(v));
	return v;
}

static void setint(int s, int level, int name, int v)
{
	ASSERT_SYSCALL_OK(setsockopt(s, level, name, &v, sizeof(v)));
}

/* Reads a one-line sysctl of two integers; returns 0 if missing. */
static int read_pair(const char *path, long *a, long *b)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = fscanf(f, "%ld %ld", a, b);
	fclose(f);
	return n == 2;
}

TEST(inet_socket, udp_socket_reports_type_domain_and_protocol)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(getint(s, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	EXPECT_EQ(getint(s, SOL_SOCKET, SO_DOMAIN), AF_INET);
	EXPECT_EQ(getint(s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
	close(s);
}

TEST(inet_socket, udp6_socket_reports_domain_and_protocol)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP));
	EXPECT_EQ(getint(s, SOL_SOCKET, SO_DOMAIN), AF_INET6);
	EXPECT_EQ(getint(s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
	close(s);
}

TEST(inet_socket, seqpacket_type_is_ESOCKTNOSUPPORT)
{
	EXPECT_ERRNO(socket(AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
}

TEST(inet_socket, dgram_with_tcp_protocol_is_EPROTONOSUPPORT)
{
	EXPECT_ERRNO(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	EXPECT_ERRNO(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMPV6), EPROTONOSUPPORT);
}

TEST(inet_socket, raw_socket_without_CAP_NET_RAW_is_EPERM)
{
	if (geteuid() == 0)
		TEST_SKIP("root has CAP_NET_RAW");
	EXPECT_ERRNO(socket(AF_INET, SOCK_RAW, IPPROTO_UDP), EPERM);
}

TEST(inet_socket, socketpair_is_EOPNOTSUPP)
{
	int sv[2];
	EXPECT_ERRNO(socketpair(AF_INET, SOCK_DGRAM, 0, sv), EOPNOTSUPP);
}

TEST(inet_socket, bind_with_short_address_is_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in sa = lo4(0);
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&sa, sizeof(sa) - 1), EINVAL);
	close(s);
}

TEST(inet_socket, bind_with_other_family_is_EAFNOSUPPORT)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in sa = lo4(0);
	sa.sin_family = AF_INET6;
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&sa, sizeof(sa)), EAFNOSUPPORT);
	close(s);
}

TEST(inet_socket, bind_to_address_not_on_this_host_is_EADDRNOTAVAIL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in sa = lo4(0);
	sa.sin_addr.s_addr = inet_addr("198.51.100.77"); /* TEST-NET-2 */
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&sa, sizeof(sa)), EADDRNOTAVAIL);
	close(s);
}

TEST(inet_socket, second_bind_is_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in sa = lo4(0);
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&sa, sizeof(sa)), EINVAL);
	close(s);
}

TEST(inet_socket, bind_to_a_port_in_use_is_EADDRINUSE)
{
	int a = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int b = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in sa = lo4(0);
	socklen_t len = sizeof(sa);
	ASSERT_SYSCALL_OK(bind(a, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_SYSCALL_OK(getsockname(a, (struct sockaddr *)&sa, &len));
	EXPECT_ERRNO(bind(b, (struct sockaddr *)&sa, sizeof(sa)), EADDRINUSE);
	/* INADDR_ANY on the same port overlaps 127.0.0.1 too. */
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	EXPECT_ERRNO(bind(b, (struct sockaddr *)&sa, sizeof(sa)), EADDRINUSE);
	close(a);
	close(b);
}

TEST(inet_socket, bind_port_0_picks_a_port_in_ip_local_port_range)
{
	long lo = 32768, hi = 60999;
	read_pair("/proc/sys/net/ipv4/ip_local_port_range", &lo, &hi);
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in sa = lo4(0);
	socklen_t len = sizeof(sa);
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_SYSCALL_OK(getsockname(s, (struct sockaddr *)&sa, &len));
	EXPECT_GE(ntohs(sa.sin_port), lo);
	EXPECT_LE(ntohs(sa.sin_port), hi);
	EXPECT_EQ(sa.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	close(s);
}

TEST(inet_socket, getsockname_of_unbound_socket_is_any_port_0)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in sa;
	memset(&sa, 0xff, sizeof(sa));
	socklen_t len = sizeof(sa);
	ASSERT_SYSCALL_OK(getsockname(s, (struct sockaddr *)&sa, &len));
	EXPECT_EQ(len, sizeof(sa));
	EXPECT_EQ(sa.sin_family, AF_INET);
	EXPECT_EQ(sa.sin_port, 0);
	EXPECT_EQ(sa.sin_addr.s_addr, htonl(INADDR_ANY));
	close(s);
}

TEST(inet_socket, getsockname_truncates_and_reports_the_full_length)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	char buf[16];
	memset(buf, 0x55, sizeof(buf));
	socklen_t len = 4;
	ASSERT_SYSCALL_OK(getsockname(s, (struct sockaddr *)buf, &len));
	EXPECT_EQ(len, sizeof(struct sockaddr_in));
	EXPECT_EQ(buf[0], AF_INET);
	EXPECT_EQ((unsigned char)buf[4], 0x55);
	close(s);
}

TEST(inet_socket, getpeername_of_unconnected_socket_is_ENOTCONN)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	EXPECT_ERRNO(getpeername(s, (struct sockaddr *)&sa, &len), ENOTCONN);
	close(s);
}

TEST(inet_socket, fstat_reports_a_socket_and_proc_fd_names_its_inode)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(s, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	char path[64], link[64], want[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s);
	ssize_t n = ASSERT_SYSCALL_OK(readlink(path, link, sizeof(link) - 1));
	link[n] = 0;
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	EXPECT_STREQ(link, want);
	close(s);
}

TEST(inet_socket, listen_and_accept_on_udp_are_EOPNOTSUPP)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_ERRNO(listen(s, 1), EOPNOTSUPP);
	EXPECT_ERRNO(accept(s, NULL, NULL), EOPNOTSUPP);
	close(s);
}

TEST(inet_socket, unknown_option_is_ENOPROTOOPT)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int v = 1;
	socklen_t len = sizeof(v);
	EXPECT_ERRNO(getsockopt(s, SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
	EXPECT_ERRNO(setsockopt(s, SOL_IP, 9999, &v, sizeof(v)), ENOPROTOOPT);
	close(s);
}

TEST(inet_socket, so_rcvbuf_and_so_sndbuf_are_doubled_with_minimums)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	setint(s, SOL_SOCKET, SO_RCVBUF, 10000);
	EXPECT_EQ(getint(s, SOL_SOCKET, SO_RCVBUF), 20000);
	setint(s, SOL_SOCKET, SO_SNDBUF, 10000);
	EXPECT_EQ(getint(s, SOL_SOCKET, SO_SNDBUF), 20000);
	setint(s, SOL_SOCKET, SO_RCVBUF, 1);
	EXPECT_EQ(getint(s, SOL_SOCKET, SO_RCVBUF), 2304);
	setint(s, SOL_SOCKET, SO_SNDBUF, 1);
	EXPECT_EQ(getint(s, SOL_SOCKET, SO_SNDBUF), 4608);
	close(s);
}

TEST(inet_socket, so_rcvtimeo_ends_a_blocking_recv_with_EAGAIN)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in sa = lo4(0);
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	struct timeval tv = {0, 20000}, got;
	socklen_t len = sizeof(got);
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
	EXPECT_EQ(got.tv_sec, 0);
	EXPECT_GE(got.tv_usec, 20000);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char c;
	EXPECT_ERRNO(recv(s, &c, 1, 0), EAGAIN);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
	EXPECT_GE(us, 19000);
	close(s);
}

TEST(inet_socket, so_rcvtimeo_with_bad_microseconds_is_EDOM)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct timeval tv = {0, 1000000};
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), EDOM);
	close(s);
}

TEST(inet_socket, ip_ttl_defaults_to_ip_default_ttl_and_rejects_0)
{
	long def = 64, unused;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_default_ttl", "r");
	if (f) {
		if (fscanf(f, "%ld", &def) != 1)
			def = 64;
		fclose(f);
	}
	(void)unused;
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(getint(s, SOL_IP, IP_TTL), def);
	int v = 0;
	EXPECT_ERRNO(setsockopt(s, SOL_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	v = 256;
	EXPECT_ERRNO(setsockopt(s, SOL_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	setint(s, SOL_IP, IP_TTL, 7);
	EXPECT_EQ(getint(s, SOL_IP, IP_TTL), 7);
	close(s);
}

TEST(inet_socket, ip_tos_is_stored)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(getint(s, SOL_IP, IP_TOS), 0);
	setint(s, SOL_IP, IP_TOS, 0x10);
	EXPECT_EQ(getint(s, SOL_IP, IP_TOS), 0x10);
	close(s);
}

TEST(inet_socket, so_error_is_0_on_a_fresh_socket)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_EQ(getint(s, SOL_SOCKET, SO_ERROR), 0);
	close(s);
}

TEST(inet_socket, so_bindtodevice_takes_an_interface_name)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "nosuchdev0", 11), ENODEV);
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
	char name[IFNAMSIZ] = {0};
	socklen_t len = sizeof(name);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, name, &len));
	EXPECT_STREQ(name, "lo");
	EXPECT_EQ(len, 3);
	close(s);
}

TEST(inet_socket, shutdown_of_unconnected_udp_is_ENOTCONN_and_bad_how_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	EXPECT_ERRNO(shutdown(s, 7), EINVAL);
	EXPECT_ERRNO(shutdown(s, SHUT_RDWR), ENOTCONN);
	close(s);
}

TEST(inet_socket, fionread_is_0_with_nothing_queued)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(s, FIONREAD, &n));
	EXPECT_EQ(n, 0);
	close(s);
}

TEST(inet_socket, bind_below_1024_without_CAP_NET_BIND_SERVICE_is_EACCES)
{
	if (geteuid() == 0)
		TEST_SKIP("root may bind privileged ports");
	long start = 1024, unused;
	/* Some hosts lower the bound for everyone. */
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
	if (f) {
		if (fscanf(f, "%ld", &start) != 1)
			start = 1024;
		fclose(f);
	}
	(void)unused;
	if (start <= 7)
		TEST_SKIP("ip_unprivileged_port_start lets anyone bind port 7");
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in sa = lo4(7);
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&sa, sizeof(sa)), EACCES);
	close(s);
}
