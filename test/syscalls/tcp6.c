/* TCP over IPv6 loopback (::1) and dual-stack sockets: ipv6(7), tcp(7),
 * bind(2), connect(2), accept(2). */
#include "test.h"
#include "inet_test.h"

static int v6only_default(void)
{
	int v = 0;
	if (sysctl_int("/proc/sys/net/ipv6/bindv6only", &v) != 0)
		return 0;
	return v;
}

TEST(tcp6, SO_DOMAIN_of_an_AF_INET6_socket_is_AF_INET6)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_DOMAIN), AF_INET6);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
}

TEST(tcp6, getsockname_of_an_unbound_socket_reports_the_unspecified_address)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	inet_addr_t got;
	memset(&got, 0xff, sizeof(got));
	EXPECT_EQ(inet_sockname(s, &got), sizeof(struct sockaddr_in6));
	EXPECT_EQ(got.sa.sa_family, AF_INET6);
	EXPECT_MEMEQ(&got.in6.sin6_addr, &in6addr_any, 16);
	EXPECT_EQ(inet_port(&got), 0);
}

TEST(tcp6, bind_to_loopback_port_0_assigns_an_ephemeral_port)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	inet_addr_t a, got;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET6, &a, 0)));
	inet_sockname(s, &got);
	EXPECT_TRUE(inet_is_loopback(&got));
	EXPECT_NE(inet_port(&got), 0);
	EXPECT_EQ(got.in6.sin6_flowinfo, 0);
	EXPECT_EQ(got.in6.sin6_scope_id, 0);
}

TEST(tcp6, bind_with_addrlen_below_24_fails_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	inet_addr_t a;
	inet_loopback(AF_INET6, &a, 0);
	EXPECT_ERRNO(bind(s, &a.sa, 23), EINVAL);
	EXPECT_ERRNO(bind(s, &a.sa, sizeof(struct sockaddr_in)), EINVAL);
}

TEST(tcp6, bind_accepts_the_RFC_2133_length_without_scope_id)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	inet_addr_t a;
	inet_loopback(AF_INET6, &a, 0);
	EXPECT_SYSCALL_OK(bind(s, &a.sa, 24));
}

TEST(tcp6, bind_with_AF_INET_family_fails_EAFNOSUPPORT)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	inet_addr_t a;
	inet_loopback(AF_INET6, &a, 0);
	a.sa.sa_family = AF_INET;
	EXPECT_ERRNO(bind(s, &a.sa, sizeof(a.in6)), EAFNOSUPPORT);
}

TEST(tcp6, bind_to_a_non_local_address_fails_EADDRNOTAVAIL)
{
	int nonlocal = 0;
	if (sysctl_int("/proc/sys/net/ipv6/ip_nonlocal_bind", &nonlocal) == 0 &&
	    nonlocal)
		TEST_SKIP("ip_nonlocal_bind is set");
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	struct sockaddr_in6 a = {.sin6_family = AF_INET6};
	/* Documentation prefix (RFC 3849): bound, never sent to. */
	ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::1", &a.sin6_addr), 1);
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, sizeof(a)), EADDRNOTAVAIL);
}

TEST(tcp6, bind_to_the_port_of_a_listener_fails_EADDRINUSE)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET6, &a, 1);
	(void)l;
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	EXPECT_ERRNO(bind(s, &a.sa, sizeof(a.in6)), EADDRINUSE);
}

TEST(tcp6, connect_to_a_listener_on_loopback_carries_data)
{
	int c, s;
	tcp_pair(AF_INET6, &c, &s);
	ASSERT_EQ(write(c, "six", 3), 3);
	char buf[3];
	read_exact(s, buf, 3);
	EXPECT_MEMEQ(buf, "six", 3);
}

TEST(tcp6, accept_reports_the_clients_address)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET6, &a, 1);
	int c = tcp_connect(AF_INET6, &a);
	inet_addr_t peer, cname;
	socklen_t len = sizeof(peer);
	int n = ASSERT_SYSCALL_OK(accept(l, &peer.sa, &len));
	(void)n;
	EXPECT_EQ(len, sizeof(struct sockaddr_in6));
	EXPECT_EQ(peer.sa.sa_family, AF_INET6);
	EXPECT_TRUE(inet_is_loopback(&peer));
	inet_sockname(c, &cname);
	EXPECT_EQ(inet_port(&peer), inet_port(&cname));
}

TEST(tcp6, getpeername_of_a_client_reports_the_listener)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET6, &a, 1);
	(void)l;
	int c = tcp_connect(AF_INET6, &a);
	inet_addr_t p;
	EXPECT_EQ(inet_peername(c, &p), sizeof(struct sockaddr_in6));
	EXPECT_TRUE(inet_is_loopback(&p));
	EXPECT_EQ(inet_port(&p), inet_port(&a));
}

TEST(tcp6, connect_to_a_closed_port_fails_ECONNREFUSED)
{
	inet_addr_t a;
	int b = inet_closed_port(AF_INET6, &a);
	(void)b;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in6)), ECONNREFUSED);
}

TEST(tcp6, connect_with_addrlen_below_24_fails_EINVAL)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET6, &a, 1);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(struct sockaddr_in)), EINVAL);
}

TEST(tcp6, nonblocking_connect_returns_EINPROGRESS_then_POLLOUT)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET6, &a, 1);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0));
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in6)), EINPROGRESS);
	EXPECT_TRUE(net_wait(c, POLLOUT) & POLLOUT);
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), 0);
}

TEST(tcp6, close_with_unread_data_resets_the_peer)
{
	int c, s;
	tcp_pair(AF_INET6, &c, &s);
	ASSERT_EQ(write(c, "x", 1), 1);
	ASSERT_TRUE(net_wait(s, POLLIN) & POLLIN);
	ASSERT_SYSCALL_OK(close(s));
	net_wait_error(c);
	char b;
	EXPECT_ERRNO(read(c, &b, 1), ECONNRESET);
}

TEST(tcp6, shutdown_SHUT_WR_makes_the_peer_read_end_of_file)
{
	int c, s;
	tcp_pair(AF_INET6, &c, &s);
	ASSERT_SYSCALL_OK(shutdown(c, SHUT_WR));
	char b;
	EXPECT_EQ(read(s, &b, 1), 0);
	ASSERT_EQ(write(s, "h", 1), 1);
	EXPECT_EQ(read(c, &b, 1), 1);
}

/* ---- IPV6_V6ONLY and dual stack ---- */

TEST(tcp6, IPV6_V6ONLY_defaults_to_bindv6only_and_reads_back)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	EXPECT_EQ(int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY), v6only_default());
	set_int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	EXPECT_EQ(int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	set_int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY, 0);
	EXPECT_EQ(int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY), 0);
}

TEST(tcp6, IPV6_V6ONLY_after_bind_fails_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET6, &a, 0)));
	int v = 1;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)),
		     EINVAL);
}

TEST(tcp6, IPV6_V6ONLY_on_an_AF_INET_socket_fails_ENOPROTOOPT)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	int v = 1;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)),
		     ENOPROTOOPT);
}

/* A dual-stack (IPV6_V6ONLY 0) or v6-only listener on the wildcard
 * address. */
static int any6_listener(int v6only, inet_addr_t *a)
{
	int l = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	set_int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY, v6only);
	ASSERT_SYSCALL_OK(bind(l, &a->sa, inet_any(AF_INET6, a, 0)));
	ASSERT_SYSCALL_OK(listen(l, 2));
	inet_sockname(l, a);
	return l;
}

TEST(tcp6, dual_stack_listener_accepts_IPv4_clients_with_v4_mapped_addresses)
{
	inet_addr_t a, to, peer, name, cname;
	int l = any6_listener(0, &a);
	inet_loopback(AF_INET, &to, inet_port(&a));
	int c = tcp_connect(AF_INET, &to);
	socklen_t len = sizeof(peer);
	int n = ASSERT_SYSCALL_OK(accept(l, &peer.sa, &len));
	EXPECT_EQ(len, sizeof(struct sockaddr_in6));
	EXPECT_TRUE(inet_is_mapped_loopback(&peer));
	inet_sockname(c, &cname);
	EXPECT_EQ(inet_port(&peer), inet_port(&cname));
	inet_sockname(n, &name);
	EXPECT_TRUE(inet_is_mapped_loopback(&name));
	EXPECT_EQ(inet_port(&name), inet_port(&a));
	ASSERT_EQ(write(n, "4", 1), 1);
	char b = 0;
	EXPECT_EQ(read(c, &b, 1), 1);
	EXPECT_EQ(b, '4');
}

TEST(tcp6, dual_stack_listener_accepts_IPv6_clients_too)
{
	inet_addr_t a, to, peer;
	int l = any6_listener(0, &a);
	inet_loopback(AF_INET6, &to, inet_port(&a));
	int c = tcp_connect(AF_INET6, &to);
	(void)c;
	socklen_t len = sizeof(peer);
	ASSERT_SYSCALL_OK(accept(l, &peer.sa, &len));
	EXPECT_TRUE(inet_is_loopback(&peer));
}

TEST(tcp6, v6_only_listener_refuses_IPv4_clients)
{
	inet_addr_t a, to;
	int l = any6_listener(1, &a);
	(void)l;
	inet_loopback(AF_INET, &to, inet_port(&a));
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(connect(c, &to.sa, sizeof(to.in4)), ECONNREFUSED);
}

TEST(tcp6, v6_only_wildcard_port_can_also_be_bound_by_IPv4)
{
	inet_addr_t a, to;
	int l = any6_listener(1, &a);
	(void)l;
	inet_loopback(AF_INET, &to, inet_port(&a));
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_SYSCALL_OK(bind(s, &to.sa, sizeof(to.in4)));
}

TEST(tcp6, dual_stack_wildcard_port_cannot_be_bound_by_IPv4)
{
	inet_addr_t a, to;
	int l = any6_listener(0, &a);
	(void)l;
	inet_loopback(AF_INET, &to, inet_port(&a));
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(bind(s, &to.sa, sizeof(to.in4)), EADDRINUSE);
}

TEST(tcp6, IPv6_loopback_and_IPv4_loopback_ports_are_independent)
{
	inet_addr_t a, to;
	int l = tcp_listener(AF_INET6, &a, 1);
	(void)l;
	inet_loopback(AF_INET, &to, inet_port(&a));
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_SYSCALL_OK(bind(s, &to.sa, sizeof(to.in4)));
}

TEST(tcp6, bind_to_a_v4_mapped_address_reports_it_in_getsockname)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	set_int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY, 0);
	inet_addr_t a, got;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_mapped_loopback(&a, 0)));
	inet_sockname(s, &got);
	EXPECT_TRUE(inet_is_mapped_loopback(&got));
	EXPECT_NE(inet_port(&got), 0);
}

TEST(tcp6, bind_to_a_v4_mapped_address_on_a_v6_only_socket_fails_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	set_int_opt(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	inet_addr_t a;
	EXPECT_ERRNO(bind(s, &a.sa, inet_mapped_loopback(&a, 0)), EINVAL);
}

TEST(tcp6, connect_to_a_v4_mapped_address_reaches_an_IPv4_listener)
{
	inet_addr_t a, to, peer, name;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	set_int_opt(c, IPPROTO_IPV6, IPV6_V6ONLY, 0);
	ASSERT_SYSCALL_OK(connect(c, &to.sa, inet_mapped_loopback(&to, inet_port(&a))));
	inet_peername(c, &peer);
	EXPECT_TRUE(inet_is_mapped_loopback(&peer));
	EXPECT_EQ(inet_port(&peer), inet_port(&a));
	inet_sockname(c, &name);
	EXPECT_TRUE(inet_is_mapped_loopback(&name));
	int n = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	inet_addr_t np;
	EXPECT_EQ(inet_peername(n, &np), sizeof(struct sockaddr_in));
	EXPECT_TRUE(inet_is_loopback(&np));
	EXPECT_EQ(inet_port(&np), inet_port(&name));
}

TEST(tcp6, connect_to_a_v4_mapped_address_on_a_v6_only_socket_fails_ENETUNREACH)
{
	inet_addr_t a, to;
	int l = tcp_listener(AF_INET, &a, 1);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	set_int_opt(c, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	EXPECT_ERRNO(connect(c, &to.sa, inet_mapped_loopback(&to, inet_port(&a))),
		     ENETUNREACH);
}

/* ---- IPv6 options ---- */

TEST(tcp6, IPV6_UNICAST_HOPS_reads_back_and_minus_1_restores_the_default)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	int def = int_opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS);
	EXPECT_GE(def, 1);
	EXPECT_LE(def, 255);
	set_int_opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9);
	EXPECT_EQ(int_opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 9);
	set_int_opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -1);
	EXPECT_EQ(int_opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS), def);
}

TEST(tcp6, IPV6_UNICAST_HOPS_out_of_range_fails_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	int v = 256;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v)),
		     EINVAL);
	v = -2;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v)),
		     EINVAL);
}

TEST(tcp6, IPV6_TCLASS_reads_back_what_was_set)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	EXPECT_EQ(int_opt(s, IPPROTO_IPV6, IPV6_TCLASS), 0);
	set_int_opt(s, IPPROTO_IPV6, IPV6_TCLASS, 0x20);
	EXPECT_EQ(int_opt(s, IPPROTO_IPV6, IPV6_TCLASS), 0x20);
	int v = 256;
	EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v)),
		     EINVAL);
}

TEST(tcp6, unknown_IPPROTO_IPV6_option_fails_ENOPROTOOPT)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_STREAM, 0));
	int v = 1;
	socklen_t len = sizeof(v);
	EXPECT_ERRNO(getsockopt(s, IPPROTO_IPV6, 9999, &v, &len), ENOPROTOOPT);
	EXPECT_ERRNO(setsockopt(s, IPPROTO_IPV6, 9999, &v, sizeof(v)),
		     ENOPROTOOPT);
}

TEST(tcp6, TCP_INFO_of_an_IPv6_connection_is_ESTABLISHED)
{
	int c, s;
	tcp_pair(AF_INET6, &c, &s);
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	ASSERT_SYSCALL_OK(getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len));
	EXPECT_EQ(ti.tcpi_state, 1);
}
