/* UDP-Lite, udplite(7): socket(AF_INET or AF_INET6, SOCK_DGRAM,
 * IPPROTO_UDPLITE) is UDP with a partial checksum coverage
 * (UDPLITE_SEND_CSCOV), which the receiver may require
 * (UDPLITE_RECV_CSCOV); its ports are its own. */
#include "test.h"
#include "inet_test.h"

#include <netinet/ip.h>

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif
#ifndef SOL_UDPLITE
#define SOL_UDPLITE 136
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11

static int lite_bound(int family, inet_addr_t *a)
{
	int s = socket(family, SOCK_DGRAM, IPPROTO_UDPLITE);
	if (s < 0 && family == AF_INET6 && errno == EAFNOSUPPORT)
		TEST_SKIP("no IPv6");
	ASSERT_TRUE(s >= 0);
	socklen_t len = inet_loopback(family, a, 0);
	ASSERT_SYSCALL_OK(bind(s, &a->sa, len));
	inet_sockname(s, a);
	return s;
}

TEST(udplite, socket_is_a_datagram_socket_of_protocol_136)
{
	int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	ASSERT_TRUE(s >= 0);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDPLITE);
	EXPECT_EQ(int_opt(s, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	EXPECT_ERRNO(socket(AF_INET, SOCK_STREAM, IPPROTO_UDPLITE), EPROTONOSUPPORT);
}

static void round_trip(int family)
{
	inet_addr_t ra, sa, from;
	int rx = lite_bound(family, &ra), tx = lite_bound(family, &sa);
	set_int_opt(tx, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 12);
	const char msg[] = "udplite-round-trip";
	ASSERT_EQ(sendto(tx, msg, sizeof(msg), 0, &ra.sa, inet_len(family)), (ssize_t)sizeof(msg));
	net_wait(rx, POLLIN);
	char buf[64];
	socklen_t fl = sizeof(from);
	ASSERT_EQ(recvfrom(rx, buf, sizeof(buf), 0, &from.sa, &fl), (ssize_t)sizeof(msg));
	EXPECT_MEMEQ(buf, msg, sizeof(msg));
	EXPECT_EQ(inet_port(&from), inet_port(&sa));
}

TEST(udplite, ipv4_datagram_round_trips) { round_trip(AF_INET); }
TEST(udplite, ipv6_datagram_round_trips) { round_trip(AF_INET6); }

TEST(udplite, coverage_options_are_clamped_to_8_and_65535)
{
	int s = socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE);
	if (s < 0)
		s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	ASSERT_TRUE(s >= 0);
	EXPECT_EQ(int_opt(s, SOL_UDPLITE, UDPLITE_SEND_CSCOV), 0);
	EXPECT_EQ(int_opt(s, SOL_UDPLITE, UDPLITE_RECV_CSCOV), 0);
	set_int_opt(s, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 4);
	EXPECT_EQ(int_opt(s, SOL_UDPLITE, UDPLITE_SEND_CSCOV), 8);
	set_int_opt(s, SOL_UDP, UDPLITE_SEND_CSCOV, 20);
	EXPECT_EQ(int_opt(s, SOL_UDP, UDPLITE_SEND_CSCOV), 20);
	set_int_opt(s, SOL_UDPLITE, UDPLITE_RECV_CSCOV, 70000);
	EXPECT_EQ(int_opt(s, SOL_UDPLITE, UDPLITE_RECV_CSCOV), 65535);
	set_int_opt(s, SOL_UDPLITE, UDPLITE_RECV_CSCOV, -1);
	EXPECT_EQ(int_opt(s, SOL_UDPLITE, UDPLITE_RECV_CSCOV), 8);
	short sh = 9;
	EXPECT_ERRNO(setsockopt(s, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &sh, sizeof(sh)), EINVAL);
}

TEST(udplite, coverage_options_on_a_udp_socket_are_ENOPROTOOPT)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int v = 20;
	EXPECT_ERRNO(setsockopt(s, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &v, sizeof(v)), ENOPROTOOPT);
	EXPECT_ERRNO(setsockopt(s, SOL_UDP, UDPLITE_SEND_CSCOV, &v, sizeof(v)), ENOPROTOOPT);
}

TEST(udplite, receiver_drops_datagrams_covered_less_than_its_recv_cscov)
{
	inet_addr_t ra, sa;
	int rx = lite_bound(AF_INET, &ra), tx = lite_bound(AF_INET, &sa);
	set_int_opt(rx, SOL_UDPLITE, UDPLITE_RECV_CSCOV, 20);
	set_int_opt(tx, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 10);
	const char part[] = "partly-covered-datagram";
	ASSERT_EQ(sendto(tx, part, sizeof(part), 0, &ra.sa, sizeof(ra.in4)), (ssize_t)sizeof(part));
	/* Full coverage (0) always passes; it arrives after the partial one. */
	set_int_opt(tx, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 0);
	const char full[] = "fully-covered-datagram";
	ASSERT_EQ(sendto(tx, full, sizeof(full), 0, &ra.sa, sizeof(ra.in4)), (ssize_t)sizeof(full));
	net_wait(rx, POLLIN);
	char buf[64];
	ASSERT_EQ(recv(rx, buf, sizeof(buf), 0), (ssize_t)sizeof(full));
	EXPECT_MEMEQ(buf, full, sizeof(full));
}

TEST(udplite, the_coverage_is_the_length_field_on_the_wire)
{
	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_UDPLITE);
	if (raw < 0 && errno == EPERM)
		TEST_SKIP("needs CAP_NET_RAW");
	ASSERT_TRUE(raw >= 0);
	inet_addr_t ra, sa;
	lite_bound(AF_INET, &ra);
	int tx = lite_bound(AF_INET, &sa);
	set_int_opt(tx, SOL_UDPLITE, UDPLITE_SEND_CSCOV, 12);
	const char msg[] = "udplite-on-the-wire";
	ASSERT_EQ(sendto(tx, msg, sizeof(msg), 0, &ra.sa, sizeof(ra.in4)), (ssize_t)sizeof(msg));
	char buf[256];
	for (int i = 0; i < 1000; i++) {
		net_wait(raw, POLLIN);
		ssize_t n = recv(raw, buf, sizeof(buf), 0);
		ASSERT_TRUE(n >= 28);
		uint16_t sport, len, sum;
		memcpy(&sport, buf + 20, 2);
		if (sport != sa.in4.sin_port)
			continue;
		memcpy(&len, buf + 24, 2);
		memcpy(&sum, buf + 26, 2);
		EXPECT_EQ(ntohs(len), 12);
		EXPECT_NE(sum, 0);
		EXPECT_EQ(n, 28 + (ssize_t)sizeof(msg));
		return;
	}
	ASSERT_TRUE(0);
}

TEST(udplite, ports_are_separate_from_udps)
{
	inet_addr_t a;
	int l = lite_bound(AF_INET, &a);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT_SYSCALL_OK(bind(u, &a.sa, sizeof(a.in4)));
	int l2 = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	EXPECT_ERRNO(bind(l2, &a.sa, sizeof(a.in4)), EADDRINUSE);
	(void)l;
}

/* Returns whether /proc/net/FILE has a line for inode ino (the 10th
 * column). */
static int proc_net_lists(const char *file, unsigned long ino)
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
		if (n >= 10 && strtoul(col[9], NULL, 10) == ino)
			found = 1;
	}
	fclose(f);
	return found;
}

TEST(udplite, proc_net_udplite_lists_the_socket_and_proc_net_udp_does_not)
{
	inet_addr_t a;
	int s = lite_bound(AF_INET, &a);
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(s, &st));
	EXPECT_TRUE(proc_net_lists("udplite", st.st_ino));
	EXPECT_FALSE(proc_net_lists("udp", st.st_ino));
}
