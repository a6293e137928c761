/* SOL_SOCKET and IPPROTO_IP options of TCP sockets: socket(7), ip(7),
 * getsockopt(2)/setsockopt(2). */
#include "test.h"
#include "inet_test.h"

#include <limits.h>
#include <sys/time.h>

static int fresh(void)
{
	return ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
}

TEST(inet_sockopt, SO_TYPE_is_SOCK_STREAM)
{
	EXPECT_EQ(int_opt(fresh(), SOL_SOCKET, SO_TYPE), SOCK_STREAM);
}

TEST(inet_sockopt, SO_DOMAIN_is_AF_INET)
{
	EXPECT_EQ(int_opt(fresh(), SOL_SOCKET, SO_DOMAIN), AF_INET);
}

TEST(inet_sockopt, SO_PROTOCOL_is_IPPROTO_TCP)
{
	EXPECT_EQ(int_opt(fresh(), SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
}

TEST(inet_sockopt, SO_TYPE_cannot_be_set_ENOPROTOOPT)
{
	int s = fresh();
	int v = SOCK_DGRAM;
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof(v)),
		     ENOPROTOOPT);
}

TEST(inet_sockopt, SO_ACCEPTCONN_is_1_only_on_a_listener)
{
	inet_addr_t a;
	int s = fresh();
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_ACCEPTCONN), 0);
	int l = tcp_listener(AF_INET, &a, 1);
	EXPECT_EQ(int_opt(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
	int c = tcp_connect(AF_INET, &a);
	int n = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ACCEPTCONN), 0);
	EXPECT_EQ(int_opt(n, SOL_SOCKET, SO_ACCEPTCONN), 0);
}

TEST(inet_sockopt, SO_ERROR_of_a_new_socket_is_0)
{
	EXPECT_EQ(int_opt(fresh(), SOL_SOCKET, SO_ERROR), 0);
}

TEST(inet_sockopt, SO_ERROR_cannot_be_set_ENOPROTOOPT)
{
	int s = fresh();
	int v = 1;
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_ERROR, &v, sizeof(v)),
		     ENOPROTOOPT);
}

TEST(inet_sockopt, SO_ERROR_is_cleared_by_the_read_that_reports_it)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_SYSCALL_OK(close(s));
	net_wait_error(c);
	char b;
	ASSERT_ERRNO(read(c, &b, 1), ECONNRESET);
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), 0);
}

TEST(inet_sockopt, SO_KEEPALIVE_is_off_by_default_and_can_be_set)
{
	int s = fresh();
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_KEEPALIVE), 0);
	set_int_opt(s, SOL_SOCKET, SO_KEEPALIVE, 1);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_KEEPALIVE), 1);
}

TEST(inet_sockopt, SO_REUSEADDR_and_SO_REUSEPORT_read_back_what_was_set)
{
	int s = fresh();
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_REUSEADDR), 0);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_REUSEPORT), 0);
	set_int_opt(s, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int_opt(s, SOL_SOCKET, SO_REUSEPORT, 1);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_REUSEADDR), 1);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_REUSEPORT), 1);
}

TEST(inet_sockopt, SO_OOBINLINE_reads_back_what_was_set)
{
	int s = fresh();
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_OOBINLINE), 0);
	set_int_opt(s, SOL_SOCKET, SO_OOBINLINE, 1);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_OOBINLINE), 1);
}

TEST(inet_sockopt, SO_RCVBUF_is_doubled)
{
	int s = fresh();
	set_int_opt(s, SOL_SOCKET, SO_RCVBUF, 32768);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_RCVBUF), 65536);
}

TEST(inet_sockopt, SO_SNDBUF_is_doubled)
{
	int s = fresh();
	set_int_opt(s, SOL_SOCKET, SO_SNDBUF, 32768);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_SNDBUF), 65536);
}

TEST(inet_sockopt, SO_RCVBUF_has_a_minimum_of_at_least_256)
{
	int s = fresh();
	set_int_opt(s, SOL_SOCKET, SO_RCVBUF, 1);
	int one = int_opt(s, SOL_SOCKET, SO_RCVBUF);
	EXPECT_GE(one, 256);
	set_int_opt(s, SOL_SOCKET, SO_RCVBUF, 0);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_RCVBUF), one);
}

TEST(inet_sockopt, SO_SNDBUF_has_a_minimum_of_at_least_2048)
{
	int s = fresh();
	set_int_opt(s, SOL_SOCKET, SO_SNDBUF, 1);
	int one = int_opt(s, SOL_SOCKET, SO_SNDBUF);
	EXPECT_GE(one, 2048);
	set_int_opt(s, SOL_SOCKET, SO_SNDBUF, 0);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_SNDBUF), one);
}

TEST(inet_sockopt, SO_RCVBUF_is_capped_at_twice_rmem_max)
{
	int max;
	if (sysctl_int("/proc/sys/net/core/rmem_max", &max) != 0)
		TEST_SKIP("no /proc/sys/net/core/rmem_max");
	int s = fresh();
	set_int_opt(s, SOL_SOCKET, SO_RCVBUF, INT_MAX / 2);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_RCVBUF), 2 * max);
}

TEST(inet_sockopt, SO_SNDBUF_is_capped_at_twice_wmem_max)
{
	int max;
	if (sysctl_int("/proc/sys/net/core/wmem_max", &max) != 0)
		TEST_SKIP("no /proc/sys/net/core/wmem_max");
	int s = fresh();
	set_int_opt(s, SOL_SOCKET, SO_SNDBUF, INT_MAX / 2);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_SNDBUF), 2 * max);
}

TEST(inet_sockopt, SO_RCVBUFFORCE_without_CAP_NET_ADMIN_fails_EPERM)
{
	if (geteuid() == 0)
		TEST_SKIP("root holds CAP_NET_ADMIN");
	int s = fresh();
	int v = 65536;
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)),
		     EPERM);
}

TEST(inet_sockopt, SO_LINGER_reads_back_with_l_onoff_as_1)
{
	int s = fresh();
	struct linger lg = {.l_onoff = 5, .l_linger = 7};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	struct linger got = {-1, -1};
	socklen_t len = sizeof(got);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_LINGER, &got, &len));
	EXPECT_EQ(len, sizeof(got));
	EXPECT_EQ(got.l_onoff, 1);
	EXPECT_EQ(got.l_linger, 7);
}

TEST(inet_sockopt, SO_LINGER_with_optlen_shorter_than_struct_linger_fails_EINVAL)
{
	int s = fresh();
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(int)),
		     EINVAL);
}

TEST(inet_sockopt, SO_RCVLOWAT_defaults_to_1_and_0_reads_back_as_1)
{
	int s = fresh();
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_RCVLOWAT), 1);
	set_int_opt(s, SOL_SOCKET, SO_RCVLOWAT, 10);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_RCVLOWAT), 10);
	set_int_opt(s, SOL_SOCKET, SO_RCVLOWAT, 0);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_RCVLOWAT), 1);
}

TEST(inet_sockopt, SO_RCVTIMEO_reads_back_what_was_set)
{
	int s = fresh();
	struct timeval tv = {.tv_sec = 2, .tv_usec = 500000}, got;
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	socklen_t len = sizeof(got);
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
	EXPECT_EQ(got.tv_sec, 2);
	EXPECT_EQ(got.tv_usec, 500000);
}

TEST(inet_sockopt, SO_SNDTIMEO_with_tv_usec_out_of_range_fails_EDOM)
{
	int s = fresh();
	struct timeval tv = {.tv_sec = 0, .tv_usec = 1000000};
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)),
		     EDOM);
}

TEST(inet_sockopt, SO_PRIORITY_reads_back_what_was_set)
{
	int s = fresh();
	set_int_opt(s, SOL_SOCKET, SO_PRIORITY, 3);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_PRIORITY), 3);
}

TEST(inet_sockopt, unknown_SOL_SOCKET_option_fails_ENOPROTOOPT)
{
	int s = fresh();
	int v = 1;
	socklen_t len = sizeof(v);
	EXPECT_ERRNO(getsockopt(s, SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, 9999, &v, sizeof(v)),
		     ENOPROTOOPT);
}

TEST(inet_sockopt, unknown_IPPROTO_IP_option_fails_ENOPROTOOPT)
{
	int s = fresh();
	int v = 1;
	socklen_t len = sizeof(v);
	EXPECT_ERRNO(getsockopt(s, IPPROTO_IP, 9999, &v, &len), ENOPROTOOPT);
	EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, 9999, &v, sizeof(v)),
		     ENOPROTOOPT);
}

TEST(inet_sockopt, setsockopt_of_an_int_option_with_short_optlen_fails_EINVAL)
{
	int s = fresh();
	int v = 1;
	EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, 2), EINVAL);
}

TEST(inet_sockopt, getsockopt_with_negative_optlen_fails_EINVAL)
{
	int s = fresh();
	int v;
	int len = -1;
	EXPECT_ERRNO(syscall(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, &v, &len),
		     EINVAL);
}

TEST(inet_sockopt, getsockopt_into_a_bad_optval_fails_EFAULT)
{
	int s = fresh();
	socklen_t len = sizeof(int);
	EXPECT_ERRNO(syscall(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, (void *)8,
			     &len),
		     EFAULT);
}

TEST(inet_sockopt, getsockopt_with_a_bad_optlen_pointer_fails_EFAULT)
{
	int s = fresh();
	int v;
	EXPECT_ERRNO(syscall(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, &v,
			     (void *)8),
		     EFAULT);
}

TEST(inet_sockopt, setsockopt_from_a_bad_optval_fails_EFAULT)
{
	int s = fresh();
	EXPECT_ERRNO(syscall(SYS_setsockopt, s, SOL_SOCKET, SO_KEEPALIVE,
			     (void *)8, sizeof(int)),
		     EFAULT);
}

TEST(inet_sockopt, getsockopt_with_a_short_optlen_truncates_the_value)
{
	int s = fresh();
	unsigned char buf[4] = {0xee, 0xee, 0xee, 0xee};
	socklen_t len = 1;
	ASSERT_SYSCALL_OK(getsockopt(s, SOL_SOCKET, SO_TYPE, buf, &len));
	EXPECT_EQ(len, 1);
	EXPECT_EQ(buf[0], SOCK_STREAM);
	EXPECT_EQ(buf[1], 0xee);
}

TEST(inet_sockopt, getsockopt_on_a_non_socket_fails_ENOTSOCK)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	int v;
	socklen_t len = sizeof(v);
	EXPECT_ERRNO(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), ENOTSOCK);
}

/* ---- IPPROTO_IP ---- */

TEST(inet_sockopt, IP_TOS_is_0_by_default_and_reads_back_what_was_set)
{
	int s = fresh();
	EXPECT_EQ(int_opt(s, IPPROTO_IP, IP_TOS), 0);
	set_int_opt(s, IPPROTO_IP, IP_TOS, 0x10);
	EXPECT_EQ(int_opt(s, IPPROTO_IP, IP_TOS), 0x10);
}

TEST(inet_sockopt, IP_TOS_on_TCP_leaves_the_ECN_bits_to_the_stack)
{
	int s = fresh();
	set_int_opt(s, IPPROTO_IP, IP_TOS, 0x13);
	EXPECT_EQ(int_opt(s, IPPROTO_IP, IP_TOS), 0x10);
}

TEST(inet_sockopt, IP_TTL_reads_back_what_was_set)
{
	int s = fresh();
	set_int_opt(s, IPPROTO_IP, IP_TTL, 32);
	EXPECT_EQ(int_opt(s, IPPROTO_IP, IP_TTL), 32);
}

TEST(inet_sockopt, IP_TTL_defaults_to_ip_default_ttl_and_minus_1_restores_it)
{
	int s = fresh();
	int def = int_opt(s, IPPROTO_IP, IP_TTL);
	EXPECT_GE(def, 1);
	EXPECT_LE(def, 255);
	int want;
	if (sysctl_int("/proc/sys/net/ipv4/ip_default_ttl", &want) == 0)
		EXPECT_EQ(def, want);
	set_int_opt(s, IPPROTO_IP, IP_TTL, 7);
	set_int_opt(s, IPPROTO_IP, IP_TTL, -1);
	EXPECT_EQ(int_opt(s, IPPROTO_IP, IP_TTL), def);
}

TEST(inet_sockopt, IP_TTL_out_of_range_fails_EINVAL)
{
	int s = fresh();
	int v = 0;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	v = 256;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof(v)), EINVAL);
}

TEST(inet_sockopt, IP_OPTIONS_of_a_new_socket_are_empty)
{
	int s = fresh();
	char buf[40];
	socklen_t len = sizeof(buf);
	ASSERT_SYSCALL_OK(getsockopt(s, IPPROTO_IP, IP_OPTIONS, buf, &len));
	EXPECT_EQ(len, 0);
}

TEST(inet_sockopt, IP_MTU_of_an_unconnected_socket_fails_ENOTCONN)
{
	int s = fresh();
	int v;
	socklen_t len = sizeof(v);
	EXPECT_ERRNO(getsockopt(s, IPPROTO_IP, IP_MTU, &v, &len), ENOTCONN);
}

TEST(inet_sockopt, IP_MTU_of_a_loopback_connection_is_positive)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_GE(int_opt(c, IPPROTO_IP, IP_MTU), 576);
}

TEST(inet_sockopt, accepted_socket_inherits_SO_KEEPALIVE_and_TCP_NODELAY_from_the_listener)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	set_int_opt(l, SOL_SOCKET, SO_KEEPALIVE, 1);
	set_int_opt(l, IPPROTO_TCP, TCP_NODELAY, 1);
	int c = tcp_connect(AF_INET, &a);
	(void)c;
	int n = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	EXPECT_EQ(int_opt(n, SOL_SOCKET, SO_KEEPALIVE), 1);
	EXPECT_EQ(int_opt(n, IPPROTO_TCP, TCP_NODELAY), 1);
}
