/* IPPROTO_TCP socket options over IPv4 loopback: tcp(7),
 * getsockopt(2)/setsockopt(2). */
#include "test.h"
#include "inet_test.h"

static int fresh(void)
{
	return ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
}

TEST(tcp_options, TCP_NODELAY_is_off_by_default_and_can_be_set)
{
	int s = fresh();
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_NODELAY), 0);
	set_int_opt(s, IPPROTO_TCP, TCP_NODELAY, 1);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_NODELAY), 1);
	set_int_opt(s, IPPROTO_TCP, TCP_NODELAY, 0);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_NODELAY), 0);
}

TEST(tcp_options, TCP_NODELAY_reads_back_a_nonzero_value_as_1)
{
	int s = fresh();
	set_int_opt(s, IPPROTO_TCP, TCP_NODELAY, 5);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_NODELAY), 1);
}

TEST(tcp_options, TCP_NODELAY_with_optlen_shorter_than_int_fails_EINVAL)
{
	int s = fresh();
	int one = 1;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, 2), EINVAL);
}

TEST(tcp_options, TCP_NODELAY_on_a_connection_lets_small_writes_through)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	set_int_opt(c, IPPROTO_TCP, TCP_NODELAY, 1);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(write(c, "n", 1), 1);
		char b;
		read_exact(s, &b, 1);
		EXPECT_EQ(b, 'n');
	}
}

TEST(tcp_options, TCP_CORK_can_be_set_and_cleared)
{
	int s = fresh();
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_CORK), 0);
	set_int_opt(s, IPPROTO_TCP, TCP_CORK, 1);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_CORK), 1);
	set_int_opt(s, IPPROTO_TCP, TCP_CORK, 0);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_CORK), 0);
}

TEST(tcp_options, clearing_TCP_CORK_sends_the_corked_data)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	set_int_opt(c, IPPROTO_TCP, TCP_CORK, 1);
	ASSERT_EQ(write(c, "co", 2), 2);
	ASSERT_EQ(write(c, "rk", 2), 2);
	set_int_opt(c, IPPROTO_TCP, TCP_CORK, 0);
	char buf[4];
	read_exact(s, buf, 4);
	EXPECT_MEMEQ(buf, "cork", 4);
}

TEST(tcp_options, TCP_MAXSEG_below_the_minimum_fails_EINVAL)
{
	int s = fresh();
	int v = 12;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)),
		     EINVAL);
}

TEST(tcp_options, TCP_MAXSEG_above_the_maximum_fails_EINVAL)
{
	int s = fresh();
	int v = 65536;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)),
		     EINVAL);
}

TEST(tcp_options, TCP_MAXSEG_set_before_connect_bounds_the_segment_size_of_both_ends)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = fresh();
	set_int_opt(c, IPPROTO_TCP, TCP_MAXSEG, 1000);
	ASSERT_SYSCALL_OK(connect(c, &a.sa, sizeof(a.in4)));
	int s = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	int cm = int_opt(c, IPPROTO_TCP, TCP_MAXSEG);
	int sm = int_opt(s, IPPROTO_TCP, TCP_MAXSEG);
	EXPECT_GT(cm, 0);
	EXPECT_LE(cm, 1000);
	/* The peer honours the MSS we announced. */
	EXPECT_GT(sm, 0);
	EXPECT_LE(sm, 1000);
}

TEST(tcp_options, TCP_MAXSEG_of_a_connection_is_positive)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_GT(int_opt(c, IPPROTO_TCP, TCP_MAXSEG), 0);
}

TEST(tcp_options, TCP_KEEPIDLE_KEEPINTVL_and_KEEPCNT_read_back_what_was_set)
{
	int s = fresh();
	set_int_opt(s, IPPROTO_TCP, TCP_KEEPIDLE, 100);
	set_int_opt(s, IPPROTO_TCP, TCP_KEEPINTVL, 7);
	set_int_opt(s, IPPROTO_TCP, TCP_KEEPCNT, 3);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_KEEPIDLE), 100);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_KEEPINTVL), 7);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_KEEPCNT), 3);
}

TEST(tcp_options, TCP_KEEPIDLE_default_is_tcp_keepalive_time)
{
	int want;
	if (sysctl_int("/proc/sys/net/ipv4/tcp_keepalive_time", &want) != 0)
		TEST_SKIP("no /proc/sys/net/ipv4/tcp_keepalive_time");
	int s = fresh();
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_KEEPIDLE), want);
}

TEST(tcp_options, TCP_KEEPIDLE_out_of_range_fails_EINVAL)
{
	int s = fresh();
	int v = 0;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)),
		     EINVAL);
	v = 32768;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)),
		     EINVAL);
	v = 32767;
	EXPECT_SYSCALL_OK(setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)));
}

TEST(tcp_options, TCP_KEEPINTVL_out_of_range_fails_EINVAL)
{
	int s = fresh();
	int v = 0;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v)),
		     EINVAL);
	v = 32768;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v)),
		     EINVAL);
}

TEST(tcp_options, TCP_KEEPCNT_out_of_range_fails_EINVAL)
{
	int s = fresh();
	int v = 0;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)),
		     EINVAL);
	v = 128;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)),
		     EINVAL);
	v = 127;
	EXPECT_SYSCALL_OK(setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)));
}

TEST(tcp_options, TCP_USER_TIMEOUT_reads_back_and_rejects_negative_values)
{
	int s = fresh();
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
	set_int_opt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, 1500);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_USER_TIMEOUT), 1500);
	int v = -1;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof(v)),
		     EINVAL);
}

TEST(tcp_options, TCP_SYNCNT_reads_back_and_rejects_out_of_range_values)
{
	int s = fresh();
	set_int_opt(s, IPPROTO_TCP, TCP_SYNCNT, 3);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_SYNCNT), 3);
	int v = 0;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v)),
		     EINVAL);
	v = 128;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v)),
		     EINVAL);
}

TEST(tcp_options, TCP_LINGER2_reads_back_in_seconds)
{
	int s = fresh();
	set_int_opt(s, IPPROTO_TCP, TCP_LINGER2, 10);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_LINGER2), 10);
}

TEST(tcp_options, TCP_NOTSENT_LOWAT_reads_back_what_was_set)
{
	int s = fresh();
	set_int_opt(s, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 16384);
	EXPECT_EQ(int_opt(s, IPPROTO_TCP, TCP_NOTSENT_LOWAT), 16384);
}

TEST(tcp_options, TCP_CONGESTION_names_an_algorithm_and_accepts_reno)
{
	int s = fresh();
	char name[16] = {0};
	socklen_t len = sizeof(name);
	ASSERT_SYSCALL_OK(getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, name, &len));
	EXPECT_GT(strlen(name), 0);
	ASSERT_SYSCALL_OK(setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, "reno", 4));
	memset(name, 0, sizeof(name));
	len = sizeof(name);
	ASSERT_SYSCALL_OK(getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, name, &len));
	EXPECT_STREQ(name, "reno");
}

TEST(tcp_options, TCP_CONGESTION_with_an_unknown_name_fails_ENOENT)
{
	int s = fresh();
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, "no-such-cc", 10),
		     ENOENT);
}

TEST(tcp_options, unknown_TCP_option_fails_ENOPROTOOPT)
{
	int s = fresh();
	int v = 1;
	socklen_t len = sizeof(v);
	EXPECT_ERRNO(getsockopt(s, IPPROTO_TCP, 9999, &v, &len), ENOPROTOOPT);
	EXPECT_ERRNO(setsockopt(s, IPPROTO_TCP, 9999, &v, sizeof(v)),
		     ENOPROTOOPT);
}

TEST(tcp_options, TCP_option_get_with_negative_optlen_fails_EINVAL)
{
	int s = fresh();
	int v;
	int len = -1;
	EXPECT_ERRNO(syscall(SYS_getsockopt, s, IPPROTO_TCP, TCP_NODELAY, &v,
			     &len),
		     EINVAL);
}

/* ---- TCP_INFO ---- */

static int tcp_state(int fd)
{
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	socklen_t len = sizeof(ti);
	ASSERT_SYSCALL_OK(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len));
	ASSERT_GT(len, 0);
	return ti.tcpi_state;
}

/* TCP states as numbered by Linux (include/net/tcp_states.h). */
enum {
	ST_ESTABLISHED = 1,
	ST_CLOSE = 7,
	ST_CLOSE_WAIT = 8,
	ST_LISTEN = 10,
};

TEST(tcp_options, TCP_INFO_state_of_a_new_socket_is_CLOSE)
{
	EXPECT_EQ(tcp_state(fresh()), ST_CLOSE);
}

TEST(tcp_options, TCP_INFO_state_of_a_listener_is_LISTEN)
{
	inet_addr_t a;
	EXPECT_EQ(tcp_state(tcp_listener(AF_INET, &a, 1)), ST_LISTEN);
}

TEST(tcp_options, TCP_INFO_state_of_both_ends_of_a_connection_is_ESTABLISHED)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_EQ(tcp_state(c), ST_ESTABLISHED);
	EXPECT_EQ(tcp_state(s), ST_ESTABLISHED);
}

TEST(tcp_options, TCP_INFO_state_after_the_peers_FIN_is_CLOSE_WAIT)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(s, SHUT_WR));
	char b;
	ASSERT_EQ(read(c, &b, 1), 0);
	EXPECT_EQ(tcp_state(c), ST_CLOSE_WAIT);
}

TEST(tcp_options, TCP_INFO_state_after_a_reset_is_CLOSE)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	ASSERT_SYSCALL_OK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_SYSCALL_OK(close(s));
	net_wait_error(c);
	EXPECT_EQ(tcp_state(c), ST_CLOSE);
}

TEST(tcp_options, TCP_INFO_with_a_short_optlen_returns_a_prefix)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	unsigned char buf[4] = {0xee, 0xee, 0xee, 0xee};
	socklen_t len = 1;
	ASSERT_SYSCALL_OK(getsockopt(l, IPPROTO_TCP, TCP_INFO, buf, &len));
	EXPECT_EQ(len, 1);
	EXPECT_EQ(buf[0], ST_LISTEN);
	EXPECT_EQ(buf[1], 0xee);
}
