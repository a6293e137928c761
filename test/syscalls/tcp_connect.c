/* TCP over IPv4 loopback: socket(2), bind(2), listen(2), accept(2),
 * connect(2), getsockname(2), getpeername(2); tcp(7), ip(7). */
#include "test.h"
#include "inet_test.h"

#include <sys/syscall.h>

/* ---- socket ---- */

TEST(tcp_connect, socket_AF_INET_SOCK_STREAM_with_protocol_0_or_IPPROTO_TCP_succeeds)
{
	int a = EXPECT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	int b = EXPECT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
	EXPECT_EQ(int_opt(a, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	EXPECT_EQ(int_opt(b, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
}

TEST(tcp_connect, socket_SOCK_STREAM_with_IPPROTO_UDP_fails_EPROTONOSUPPORT)
{
	EXPECT_ERRNO(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP),
		     EPROTONOSUPPORT);
}

TEST(tcp_connect, socket_with_an_unknown_type_fails_EINVAL)
{
	EXPECT_ERRNO(socket(AF_INET, 77, 0), EINVAL);
}

TEST(tcp_connect, socket_with_an_unknown_type_flag_fails_EINVAL)
{
	EXPECT_ERRNO(socket(AF_INET, SOCK_STREAM | 0x40000000, 0), EINVAL);
}

TEST(tcp_connect, socket_SOCK_NONBLOCK_and_SOCK_CLOEXEC_set_O_NONBLOCK_and_FD_CLOEXEC)
{
	int s = ASSERT_SYSCALL_OK(
		socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	EXPECT_TRUE(fcntl(s, F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(s, F_GETFD) & FD_CLOEXEC);
	int t = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_FALSE(fcntl(t, F_GETFL) & O_NONBLOCK);
	EXPECT_FALSE(fcntl(t, F_GETFD) & FD_CLOEXEC);
}

TEST(tcp_connect, fstat_reports_S_ISSOCK)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(s, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

/* ---- bind ---- */

TEST(tcp_connect, bind_port_0_assigns_an_ephemeral_port)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET, &a, 0)));
	inet_addr_t got;
	EXPECT_EQ(inet_sockname(s, &got), sizeof(struct sockaddr_in));
	EXPECT_EQ(got.sa.sa_family, AF_INET);
	EXPECT_NE(inet_port(&got), 0);
	EXPECT_TRUE(inet_is_loopback(&got));
}

TEST(tcp_connect, bind_port_0_twice_gives_distinct_ports)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	int t = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t a, ga, gb;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET, &a, 0)));
	ASSERT_SYSCALL_OK(bind(t, &a.sa, inet_loopback(AF_INET, &a, 0)));
	inet_sockname(s, &ga);
	inet_sockname(t, &gb);
	EXPECT_NE(inet_port(&ga), inet_port(&gb));
}

TEST(tcp_connect, bind_INADDR_ANY_is_reported_as_0_0_0_0)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t a, got;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_any(AF_INET, &a, 0)));
	inet_sockname(s, &got);
	EXPECT_EQ(got.in4.sin_addr.s_addr, htonl(INADDR_ANY));
	EXPECT_NE(inet_port(&got), 0);
}

TEST(tcp_connect, bind_of_a_bound_socket_fails_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET, &a, 0)));
	EXPECT_ERRNO(bind(s, &a.sa, inet_loopback(AF_INET, &a, 0)), EINVAL);
}

TEST(tcp_connect, bind_to_the_port_of_a_listener_fails_EADDRINUSE)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	(void)l;
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(bind(s, &a.sa, sizeof(a.in4)), EADDRINUSE);
}

TEST(tcp_connect, bind_to_the_port_of_a_bound_socket_fails_EADDRINUSE)
{
	inet_addr_t a;
	int b = inet_closed_port(AF_INET, &a);
	(void)b;
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(bind(s, &a.sa, sizeof(a.in4)), EADDRINUSE);
}

TEST(tcp_connect, bind_INADDR_ANY_to_a_port_bound_on_loopback_fails_EADDRINUSE)
{
	inet_addr_t a;
	int b = inet_closed_port(AF_INET, &a);
	(void)b;
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t any;
	inet_any(AF_INET, &any, inet_port(&a));
	EXPECT_ERRNO(bind(s, &any.sa, sizeof(any.in4)), EADDRINUSE);
}

TEST(tcp_connect, SO_REUSEADDR_on_both_lets_two_unlistened_sockets_share_a_port)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	int t = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int_opt(s, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int_opt(t, SOL_SOCKET, SO_REUSEADDR, 1);
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET, &a, 0)));
	inet_sockname(s, &a);
	EXPECT_SYSCALL_OK(bind(t, &a.sa, sizeof(a.in4)));
}

TEST(tcp_connect, SO_REUSEADDR_does_not_allow_binding_the_port_of_a_listener)
{
	int l = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int_opt(l, SOL_SOCKET, SO_REUSEADDR, 1);
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(l, &a.sa, inet_loopback(AF_INET, &a, 0)));
	ASSERT_SYSCALL_OK(listen(l, 1));
	inet_sockname(l, &a);
	int t = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int_opt(t, SOL_SOCKET, SO_REUSEADDR, 1);
	EXPECT_ERRNO(bind(t, &a.sa, sizeof(a.in4)), EADDRINUSE);
}

TEST(tcp_connect, listen_on_a_port_shared_with_SO_REUSEADDR_fails_EADDRINUSE)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	int t = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int_opt(s, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int_opt(t, SOL_SOCKET, SO_REUSEADDR, 1);
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET, &a, 0)));
	inet_sockname(s, &a);
	ASSERT_SYSCALL_OK(bind(t, &a.sa, sizeof(a.in4)));
	ASSERT_SYSCALL_OK(listen(s, 1));
	EXPECT_ERRNO(listen(t, 1), EADDRINUSE);
}

TEST(tcp_connect, SO_REUSEPORT_lets_two_listeners_share_a_port)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	int t = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int_opt(s, SOL_SOCKET, SO_REUSEPORT, 1);
	set_int_opt(t, SOL_SOCKET, SO_REUSEPORT, 1);
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET, &a, 0)));
	ASSERT_SYSCALL_OK(listen(s, 4));
	inet_sockname(s, &a);
	ASSERT_SYSCALL_OK(bind(t, &a.sa, sizeof(a.in4)));
	ASSERT_SYSCALL_OK(listen(t, 4));
	/* A connection reaches one of them. */
	int c = tcp_connect(AF_INET, &a);
	(void)c;
	struct pollfd p[2] = {{.fd = s, .events = POLLIN},
			      {.fd = t, .events = POLLIN}};
	ASSERT_GE(poll(p, 2, NET_WAIT_MS), 1);
	int l = (p[0].revents & POLLIN) ? s : t;
	EXPECT_SYSCALL_OK(accept(l, NULL, NULL));
}

TEST(tcp_connect, SO_REUSEPORT_on_one_socket_only_fails_EADDRINUSE)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	int t = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	set_int_opt(s, SOL_SOCKET, SO_REUSEPORT, 1);
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET, &a, 0)));
	ASSERT_SYSCALL_OK(listen(s, 4));
	inet_sockname(s, &a);
	EXPECT_ERRNO(bind(t, &a.sa, sizeof(a.in4)), EADDRINUSE);
}

TEST(tcp_connect, bind_to_a_non_local_address_fails_EADDRNOTAVAIL)
{
	int nonlocal = 0;
	if (sysctl_int("/proc/sys/net/ipv4/ip_nonlocal_bind", &nonlocal) == 0 &&
	    nonlocal)
		TEST_SKIP("ip_nonlocal_bind is set");
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = {.sin_family = AF_INET};
	/* TEST-NET-3 (RFC 5737): documentation only, never a local address.
	 * Only bound, never sent to. */
	ASSERT_EQ(inet_pton(AF_INET, "203.0.113.1", &a.sin_addr), 1);
	EXPECT_ERRNO(bind(s, (struct sockaddr *)&a, sizeof(a)), EADDRNOTAVAIL);
}

TEST(tcp_connect, bind_with_addrlen_shorter_than_sockaddr_in_fails_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t a;
	inet_loopback(AF_INET, &a, 0);
	EXPECT_ERRNO(bind(s, &a.sa, sizeof(a.in4) - 1), EINVAL);
	EXPECT_ERRNO(bind(s, &a.sa, 0), EINVAL);
}

TEST(tcp_connect, bind_with_addrlen_above_sockaddr_storage_fails_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	char buf[sizeof(struct sockaddr_storage) + 8];
	memset(buf, 0, sizeof(buf));
	inet_addr_t a;
	inet_loopback(AF_INET, &a, 0);
	memcpy(buf, &a.in4, sizeof(a.in4));
	EXPECT_ERRNO(bind(s, (struct sockaddr *)buf,
			  sizeof(struct sockaddr_storage) + 1),
		     EINVAL);
	/* Up to sizeof(struct sockaddr_storage) is accepted. */
	EXPECT_SYSCALL_OK(bind(s, (struct sockaddr *)buf,
			       sizeof(struct sockaddr_storage)));
}

TEST(tcp_connect, bind_with_a_foreign_family_fails_EAFNOSUPPORT)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t a;
	inet_loopback(AF_INET, &a, 0);
	a.sa.sa_family = AF_UNIX;
	EXPECT_ERRNO(bind(s, &a.sa, sizeof(a.in4)), EAFNOSUPPORT);
	a.sa.sa_family = AF_INET6;
	EXPECT_ERRNO(bind(s, &a.sa, sizeof(a.in4)), EAFNOSUPPORT);
}

TEST(tcp_connect, bind_with_a_bad_address_pointer_fails_EFAULT)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(syscall(SYS_bind, s, (void *)8, sizeof(struct sockaddr_in)),
		     EFAULT);
}

TEST(tcp_connect, bind_on_a_non_socket_fails_ENOTSOCK)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	inet_addr_t a;
	EXPECT_ERRNO(bind(fd, &a.sa, inet_loopback(AF_INET, &a, 0)),
		     ENOTSOCK);
}

TEST(tcp_connect, bind_below_ip_unprivileged_port_start_as_unprivileged_fails_EACCES)
{
	if (geteuid() == 0)
		TEST_SKIP("root may bind privileged ports");
	int start;
	if (sysctl_int("/proc/sys/net/ipv4/ip_unprivileged_port_start",
		       &start) != 0)
		start = 1024;
	if (start <= 1)
		TEST_SKIP("ip_unprivileged_port_start allows every port");
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t a;
	socklen_t len = inet_loopback(AF_INET, &a, (uint16_t)(start - 1));
	EXPECT_ERRNO(bind(s, &a.sa, len), EACCES);
}

/* ---- getsockname / getpeername ---- */

TEST(tcp_connect, getsockname_of_an_unbound_socket_reports_0_0_0_0_port_0)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t got;
	memset(&got, 0xff, sizeof(got));
	EXPECT_EQ(inet_sockname(s, &got), sizeof(struct sockaddr_in));
	EXPECT_EQ(got.sa.sa_family, AF_INET);
	EXPECT_EQ(got.in4.sin_addr.s_addr, 0);
	EXPECT_EQ(inet_port(&got), 0);
}

TEST(tcp_connect, getsockname_truncates_to_addrlen_and_reports_the_full_length)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	char buf[sizeof(struct sockaddr_in)];
	memset(buf, 0x5a, sizeof(buf));
	socklen_t len = 4;
	ASSERT_SYSCALL_OK(getsockname(l, (struct sockaddr *)buf, &len));
	EXPECT_EQ(len, sizeof(struct sockaddr_in));
	EXPECT_MEMEQ(buf, &a.in4, 4);
	EXPECT_EQ((unsigned char)buf[4], 0x5a);
}

TEST(tcp_connect, getsockname_with_negative_addrlen_fails_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t a;
	int len = -1;
	EXPECT_ERRNO(syscall(SYS_getsockname, s, &a, &len), EINVAL);
}

TEST(tcp_connect, getpeername_of_an_unconnected_socket_fails_ENOTCONN)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t a;
	socklen_t len = sizeof(a);
	EXPECT_ERRNO(getpeername(s, &a.sa, &len), ENOTCONN);
}

TEST(tcp_connect, getpeername_of_a_listener_fails_ENOTCONN)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	socklen_t len = sizeof(a);
	EXPECT_ERRNO(getpeername(l, &a.sa, &len), ENOTCONN);
}

/* ---- listen / accept ---- */

TEST(tcp_connect, listen_on_an_unbound_socket_binds_an_ephemeral_port)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(listen(s, 1));
	inet_addr_t got;
	inet_sockname(s, &got);
	EXPECT_NE(inet_port(&got), 0);
	EXPECT_EQ(got.in4.sin_addr.s_addr, htonl(INADDR_ANY));
}

TEST(tcp_connect, listen_on_INADDR_ANY_accepts_connections_to_127_0_0_1)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_any(AF_INET, &a, 0)));
	ASSERT_SYSCALL_OK(listen(s, 1));
	inet_addr_t got, to;
	inet_sockname(s, &got);
	inet_loopback(AF_INET, &to, inet_port(&got));
	int c = tcp_connect(AF_INET, &to);
	(void)c;
	int n = EXPECT_SYSCALL_OK(accept(s, NULL, NULL));
	inet_sockname(n, &got);
	EXPECT_TRUE(inet_is_loopback(&got));
}

TEST(tcp_connect, listen_twice_succeeds)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	EXPECT_SYSCALL_OK(listen(l, 8));
	EXPECT_EQ(int_opt(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
}

TEST(tcp_connect, listen_on_a_connected_socket_fails_EINVAL)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_ERRNO(listen(c, 1), EINVAL);
	EXPECT_ERRNO(listen(s, 1), EINVAL);
}

TEST(tcp_connect, accept_on_a_socket_that_is_not_listening_fails_EINVAL)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(accept(s, NULL, NULL), EINVAL);
	inet_addr_t a;
	ASSERT_SYSCALL_OK(bind(s, &a.sa, inet_loopback(AF_INET, &a, 0)));
	EXPECT_ERRNO(accept(s, NULL, NULL), EINVAL);
}

TEST(tcp_connect, accept_on_a_nonblocking_listener_without_connections_fails_EAGAIN)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	ASSERT_SYSCALL_OK(fcntl(l, F_SETFL, O_NONBLOCK));
	EXPECT_ERRNO(accept(l, NULL, NULL), EAGAIN);
}

TEST(tcp_connect, accept4_SOCK_NONBLOCK_without_connections_does_not_make_the_listener_nonblocking)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	ASSERT_SYSCALL_OK(fcntl(l, F_SETFL, O_NONBLOCK));
	EXPECT_ERRNO(accept4(l, NULL, NULL, SOCK_NONBLOCK), EAGAIN);
	ASSERT_SYSCALL_OK(fcntl(l, F_SETFL, 0));
	EXPECT_FALSE(fcntl(l, F_GETFL) & O_NONBLOCK);
}

TEST(tcp_connect, accept_reports_the_peer_address_of_the_client)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = tcp_connect(AF_INET, &a);
	inet_addr_t peer, cname;
	socklen_t len = sizeof(peer);
	int n = ASSERT_SYSCALL_OK(accept(l, &peer.sa, &len));
	(void)n;
	EXPECT_EQ(len, sizeof(struct sockaddr_in));
	inet_sockname(c, &cname);
	EXPECT_EQ(peer.sa.sa_family, AF_INET);
	EXPECT_TRUE(inet_is_loopback(&peer));
	EXPECT_EQ(inet_port(&peer), inet_port(&cname));
}

TEST(tcp_connect, accept_truncates_the_peer_address_to_addrlen)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = tcp_connect(AF_INET, &a);
	(void)c;
	char buf[sizeof(struct sockaddr_in)];
	memset(buf, 0x5a, sizeof(buf));
	socklen_t len = 2;
	ASSERT_SYSCALL_OK(accept(l, (struct sockaddr *)buf, &len));
	EXPECT_EQ(len, sizeof(struct sockaddr_in));
	sa_family_t fam;
	memcpy(&fam, buf, sizeof(fam));
	EXPECT_EQ(fam, AF_INET);
	EXPECT_EQ((unsigned char)buf[2], 0x5a);
}

TEST(tcp_connect, accepted_socket_has_the_listener_address_as_its_name)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = tcp_connect(AF_INET, &a);
	int n = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	inet_addr_t name, peer, cpeer, cname;
	inet_sockname(n, &name);
	inet_peername(n, &peer);
	inet_peername(c, &cpeer);
	inet_sockname(c, &cname);
	EXPECT_MEMEQ(&name.in4, &a.in4, sizeof(a.in4));
	EXPECT_MEMEQ(&cpeer.in4, &a.in4, sizeof(a.in4));
	EXPECT_MEMEQ(&peer.in4, &cname.in4, sizeof(cname.in4));
}

TEST(tcp_connect, accept4_SOCK_NONBLOCK_sets_O_NONBLOCK_on_the_new_socket)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = tcp_connect(AF_INET, &a);
	(void)c;
	int n = ASSERT_SYSCALL_OK(accept4(l, NULL, NULL, SOCK_NONBLOCK));
	EXPECT_TRUE(fcntl(n, F_GETFL) & O_NONBLOCK);
	EXPECT_FALSE(fcntl(n, F_GETFD) & FD_CLOEXEC);
	char b;
	EXPECT_ERRNO(read(n, &b, 1), EAGAIN);
}

TEST(tcp_connect, accept4_SOCK_CLOEXEC_sets_FD_CLOEXEC_on_the_new_socket)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = tcp_connect(AF_INET, &a);
	(void)c;
	int n = ASSERT_SYSCALL_OK(accept4(l, NULL, NULL, SOCK_CLOEXEC));
	EXPECT_TRUE(fcntl(n, F_GETFD) & FD_CLOEXEC);
	EXPECT_FALSE(fcntl(n, F_GETFL) & O_NONBLOCK);
}

TEST(tcp_connect, accept4_with_unknown_flags_fails_EINVAL)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	EXPECT_ERRNO(accept4(l, NULL, NULL, 0x1), EINVAL);
}

TEST(tcp_connect, accepted_socket_does_not_inherit_O_NONBLOCK_from_the_listener)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	ASSERT_SYSCALL_OK(fcntl(l, F_SETFL, O_NONBLOCK));
	int c = tcp_connect(AF_INET, &a);
	(void)c;
	ASSERT_TRUE(net_wait(l, POLLIN) & POLLIN);
	int n = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	EXPECT_FALSE(fcntl(n, F_GETFL) & O_NONBLOCK);
}

TEST(tcp_connect, accept_blocks_until_a_client_connects)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		int c = tcp_connect(AF_INET, &a);
		ASSERT_EQ(write(c, "hi", 2), 2);
		_exit(0);
	}
	int n = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	char buf[2];
	read_exact(n, buf, 2);
	EXPECT_MEMEQ(buf, "hi", 2);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(tcp_connect, accept_returns_connections_in_the_order_they_completed)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 4);
	int c1 = tcp_connect(AF_INET, &a);
	ASSERT_TRUE(net_wait(l, POLLIN) & POLLIN);
	int c2 = tcp_connect(AF_INET, &a);
	inet_addr_t n1, n2, p1, p2;
	inet_sockname(c1, &n1);
	inet_sockname(c2, &n2);
	int a1 = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	int a2 = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	inet_peername(a1, &p1);
	inet_peername(a2, &p2);
	EXPECT_EQ(inet_port(&p1), inet_port(&n1));
	EXPECT_EQ(inet_port(&p2), inet_port(&n2));
}

/* ---- connect ---- */

TEST(tcp_connect, connect_binds_an_ephemeral_local_port_on_loopback)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	(void)l;
	int c = tcp_connect(AF_INET, &a);
	inet_addr_t got, peer;
	inet_sockname(c, &got);
	EXPECT_TRUE(inet_is_loopback(&got));
	EXPECT_NE(inet_port(&got), 0);
	EXPECT_NE(inet_port(&got), inet_port(&a));
	inet_peername(c, &peer);
	EXPECT_MEMEQ(&peer.in4, &a.in4, sizeof(a.in4));
}

TEST(tcp_connect, connect_from_a_bound_socket_keeps_its_port)
{
	inet_addr_t a, b, got;
	int l = tcp_listener(AF_INET, &a, 1);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(bind(c, &b.sa, inet_loopback(AF_INET, &b, 0)));
	inet_sockname(c, &b);
	ASSERT_SYSCALL_OK(connect(c, &a.sa, sizeof(a.in4)));
	inet_sockname(c, &got);
	EXPECT_EQ(inet_port(&got), inet_port(&b));
}

TEST(tcp_connect, connect_to_a_closed_port_fails_ECONNREFUSED)
{
	inet_addr_t a;
	int b = inet_closed_port(AF_INET, &a);
	(void)b;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), ECONNREFUSED);
}

TEST(tcp_connect, connect_after_ECONNREFUSED_may_be_retried)
{
	inet_addr_t a;
	int b = inet_closed_port(AF_INET, &a);
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	ASSERT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), ECONNREFUSED);
	ASSERT_SYSCALL_OK(listen(b, 1));
	EXPECT_SYSCALL_OK(connect(c, &a.sa, sizeof(a.in4)));
}

TEST(tcp_connect, connect_on_a_connected_socket_fails_EISCONN)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	(void)l;
	int c = tcp_connect(AF_INET, &a);
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EISCONN);
}

TEST(tcp_connect, connect_on_a_listener_fails_EISCONN)
{
	inet_addr_t a, b;
	int l = tcp_listener(AF_INET, &a, 1);
	int other = tcp_listener(AF_INET, &b, 1);
	(void)other;
	EXPECT_ERRNO(connect(l, &b.sa, sizeof(b.in4)), EISCONN);
}

TEST(tcp_connect, connect_with_addrlen_shorter_than_sockaddr_in_fails_EINVAL)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in4) - 1), EINVAL);
}

TEST(tcp_connect, connect_with_a_foreign_family_fails_EAFNOSUPPORT)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	a.sa.sa_family = AF_UNIX;
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EAFNOSUPPORT);
}

TEST(tcp_connect, connect_AF_UNSPEC_disconnects_a_connected_socket)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	EXPECT_SYSCALL_OK(connect(c, &unspec, sizeof(unspec)));
	inet_addr_t p;
	socklen_t len = sizeof(p);
	EXPECT_ERRNO(getpeername(c, &p.sa, &len), ENOTCONN);
}

TEST(tcp_connect, connect_AF_UNSPEC_resets_the_peer)
{
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	ASSERT_SYSCALL_OK(connect(c, &unspec, sizeof(unspec)));
	net_wait_error(s);
	char b;
	EXPECT_ERRNO(read(s, &b, 1), ECONNRESET);
}

TEST(tcp_connect, socket_disconnected_by_AF_UNSPEC_can_connect_again)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 2);
	int c = tcp_connect(AF_INET, &a);
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	ASSERT_SYSCALL_OK(connect(c, &unspec, sizeof(unspec)));
	EXPECT_SYSCALL_OK(connect(c, &a.sa, sizeof(a.in4)));
	int n1 = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	int n2 = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	(void)n1;
	ASSERT_EQ(write(c, "z", 1), 1);
	char b = 0;
	EXPECT_EQ(read(n2, &b, 1), 1);
	EXPECT_EQ(b, 'z');
}

TEST(tcp_connect, nonblocking_connect_returns_EINPROGRESS_then_POLLOUT_and_SO_ERROR_0)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EINPROGRESS);
	EXPECT_TRUE(net_wait(c, POLLOUT) & POLLOUT);
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), 0);
	inet_addr_t peer;
	inet_peername(c, &peer);
	EXPECT_EQ(inet_port(&peer), inet_port(&a));
}

TEST(tcp_connect, nonblocking_connect_to_a_closed_port_reports_ECONNREFUSED_in_SO_ERROR)
{
	inet_addr_t a;
	int b = inet_closed_port(AF_INET, &a);
	(void)b;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int r = connect(c, &a.sa, sizeof(a.in4));
	int e = errno;
	ASSERT_EQ(r, -1);
	if (e == ECONNREFUSED)
		return; /* refused before connect returned: also allowed */
	ASSERT_EQ(e, EINPROGRESS);
	EXPECT_TRUE(net_wait(c, POLLOUT) & POLLERR);
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), 0);
}

TEST(tcp_connect, connect_after_a_completed_nonblocking_connect_fails_EISCONN)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	ASSERT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EINPROGRESS);
	ASSERT_TRUE(net_wait(c, POLLOUT) & POLLOUT);
	/* The first call after completion may report success (0); from
	 * then on the socket is connected. */
	int r = connect(c, &a.sa, sizeof(a.in4));
	if (r != 0)
		EXPECT_EQ(errno, EISCONN);
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EISCONN);
}

/*
 * A listener whose accept queue is full: listen(0) and one connection
 * completed and queued (Linux queues backlog + 1). Further SYNs are
 * dropped, so a client's connect stays in progress.
 */
static int full_listener(inet_addr_t *a, int *queued)
{
	int l = tcp_listener(AF_INET, a, 0);
	*queued = tcp_connect(AF_INET, a);
	ASSERT_TRUE(net_wait(l, POLLIN) & POLLIN);
	return l;
}

TEST(tcp_connect, connect_beyond_the_backlog_does_not_fail_but_stays_in_progress)
{
	inet_addr_t a;
	int q;
	int l = full_listener(&a, &q);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EINPROGRESS);
	EXPECT_EQ(net_poll_now(c, POLLOUT), 0);
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), 0);
}

TEST(tcp_connect, second_connect_while_in_progress_fails_EALREADY)
{
	inet_addr_t a;
	int q;
	int l = full_listener(&a, &q);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	ASSERT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EINPROGRESS);
	EXPECT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EALREADY);
}

TEST(tcp_connect, getpeername_while_connect_is_in_progress_fails_ENOTCONN)
{
	inet_addr_t a;
	int q;
	int l = full_listener(&a, &q);
	(void)l;
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	ASSERT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EINPROGRESS);
	inet_addr_t p;
	socklen_t len = sizeof(p);
	EXPECT_ERRNO(getpeername(c, &p.sa, &len), ENOTCONN);
}

TEST(tcp_connect, connect_pending_on_a_full_backlog_completes_once_accept_makes_room)
{
	inet_addr_t a;
	int q;
	int l = full_listener(&a, &q);
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	ASSERT_ERRNO(connect(c, &a.sa, sizeof(a.in4)), EINPROGRESS);
	int n = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	(void)n;
	/* The SYN is retransmitted (after about a second) and now fits. */
	EXPECT_TRUE(net_wait(c, POLLOUT) & POLLOUT);
	EXPECT_EQ(int_opt(c, SOL_SOCKET, SO_ERROR), 0);
	int n2 = EXPECT_SYSCALL_OK(accept(l, NULL, NULL));
	inet_addr_t p, cn;
	inet_peername(n2, &p);
	inet_sockname(c, &cn);
	EXPECT_EQ(inet_port(&p), inet_port(&cn));
}

TEST(tcp_connect, data_written_before_accept_is_read_after_accept)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	int c = tcp_connect(AF_INET, &a);
	ASSERT_EQ(write(c, "early", 5), 5);
	int n = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	char buf[5];
	read_exact(n, buf, 5);
	EXPECT_MEMEQ(buf, "early", 5);
}

TEST(tcp_connect, connect_on_a_non_socket_fails_ENOTSOCK)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	inet_addr_t a;
	EXPECT_ERRNO(connect(fd, &a.sa, inet_loopback(AF_INET, &a, 1)),
		     ENOTSOCK);
}

TEST(tcp_connect, blocking_connect_to_loopback_from_a_child_is_accepted_by_the_parent)
{
	inet_addr_t a;
	int l = tcp_listener(AF_INET, &a, 1);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		int n = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
		ASSERT_EQ(write(n, "c", 1), 1);
		_exit(0);
	}
	int c = tcp_connect(AF_INET, &a);
	char b = 0;
	EXPECT_EQ(read(c, &b, 1), 1);
	EXPECT_EQ(b, 'c');
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
