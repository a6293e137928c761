/* /proc/net/unix, snmp, snmp6 and netstat (proc(5), unix(7)): the
 * sockets and counters of the network namespace. Natively the namespace is
 * shared with the rest of the machine, so counters are only checked to
 * grow by what the case itself did, never for exact values. */
#include "test.h"
#include "inet_test.h"

#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

/* The largest file read (a busy host's /proc/net/unix can be long). */
#define MAX_FILE (16 << 20)

/* Reads a whole file; returns a malloc'd NUL-terminated buffer. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	ASSERT_TRUE(buf != NULL);
	for (;;) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
		if (n == cap - 1) {
			ASSERT_LT(cap, (size_t)MAX_FILE);
			cap *= 2;
			buf = realloc(buf, cap);
			ASSERT_TRUE(buf != NULL);
		}
	}
	fclose(f);
	buf[n] = 0;
	return buf;
}

static unsigned long inode_of(int fd)
{
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	return st.st_ino;
}

/* A line of /proc/net/unix. */
struct unix_line {
	unsigned refcount, protocol, flags, type, st;
	unsigned long inode;
	char path[256];
};

/* Finds the /proc/net/unix line of inode ino. */
static int find_unix(unsigned long ino, struct unix_line *out)
{
	char *buf = slurp("/proc/net/unix");
	ASSERT_TRUE(strncmp(buf, "Num       RefCount Protocol Flags    Type St Inode Path\n", 55) == 0);
	int found = 0;
	for (char *line = strchr(buf, '\n') + 1; *line; ) {
		char *end = strchr(line, '\n');
		ASSERT_TRUE(end != NULL);
		*end = 0;
		struct unix_line u = {0};
		int consumed = 0;
		if (sscanf(line, "%*x: %x %x %x %x %x %lu%n", &u.refcount, &u.protocol, &u.flags, &u.type, &u.st,
			   &u.inode, &consumed) == 6 &&
		    u.inode == ino) {
			const char *p = line + consumed;
			if (*p == ' ')
				p++;
			snprintf(u.path, sizeof u.path, "%s", p);
			*out = u;
			found = 1;
			break;
		}
		line = end + 1;
	}
	free(buf);
	return found;
}

TEST(proc_net_unix, lists_a_bound_listener_with_its_path_and_inode)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", test_path("sock"));
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)&a, sizeof a));
	ASSERT_SYSCALL_OK(listen(s, 1));
	struct unix_line u;
	ASSERT_TRUE(find_unix(inode_of(s), &u));
	EXPECT_STREQ(u.path, a.sun_path);
	EXPECT_EQ(u.flags, 0x10000u); /* __SO_ACCEPTCON */
	EXPECT_EQ(u.type, (unsigned)SOCK_STREAM);
	EXPECT_EQ(u.st, 1u); /* SS_UNCONNECTED */
	EXPECT_EQ(u.protocol, 0u);
}

TEST(proc_net_unix, shows_an_abstract_name_with_at_signs_for_NULs)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_DGRAM, 0));
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "palisade-%d", (int)getpid());
	a.sun_path[1 + n] = 0; /* a NUL inside the name */
	a.sun_path[2 + n] = 'x';
	ASSERT_SYSCALL_OK(bind(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 3 + n));
	struct unix_line u;
	ASSERT_TRUE(find_unix(inode_of(s), &u));
	char want[64];
	snprintf(want, sizeof want, "@palisade-%d@x", (int)getpid());
	EXPECT_STREQ(u.path, want);
	EXPECT_EQ(u.type, (unsigned)SOCK_DGRAM);
	EXPECT_EQ(u.flags, 0u);
}

TEST(proc_net_unix, shows_a_connected_pair_as_connected_without_a_path)
{
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	for (int i = 0; i < 2; i++) {
		struct unix_line u;
		ASSERT_TRUE(find_unix(inode_of(sv[i]), &u));
		EXPECT_EQ(u.type, (unsigned)SOCK_SEQPACKET);
		EXPECT_EQ(u.st, 3u); /* SS_CONNECTED */
		EXPECT_STREQ(u.path, "");
	}
}

TEST(proc_net_unix, a_closed_socket_is_no_longer_listed)
{
	int s = ASSERT_SYSCALL_OK(socket(AF_UNIX, SOCK_STREAM, 0));
	unsigned long ino = inode_of(s);
	struct unix_line u;
	ASSERT_TRUE(find_unix(ino, &u));
	ASSERT_SYSCALL_OK(close(s));
	EXPECT_FALSE(find_unix(ino, &u));
}

/* Finds counter name of group in a /proc/net/snmp-style file (header and
 * value line pairs); checks each pair has as many fields. */
static int pair_value(const char *path, const char *group, const char *name, long long *v)
{
	char *buf = slurp(path);
	char prefix[64];
	snprintf(prefix, sizeof prefix, "%s:", group);
	int found = 0;
	char *save = NULL;
	char *hdr = strtok_r(buf, "\n", &save);
	while (hdr && !found) {
		char *val = strtok_r(NULL, "\n", &save);
		ASSERT_TRUE(val != NULL);
		char *hs = NULL, *vs = NULL;
		char *h = strtok_r(hdr, " ", &hs), *x = strtok_r(val, " ", &vs);
		ASSERT_TRUE(h != NULL && x != NULL);
		ASSERT_STREQ(h, x);
		int match = strcmp(h, prefix) == 0;
		for (;;) {
			h = strtok_r(NULL, " ", &hs);
			x = strtok_r(NULL, " ", &vs);
			ASSERT_EQ(h == NULL, x == NULL);
			if (!h)
				break;
			if (match && strcmp(h, name) == 0) {
				*v = strtoll(x, NULL, 10);
				found = 1;
				break;
			}
		}
		hdr = strtok_r(NULL, "\n", &save);
	}
	free(buf);
	return found;
}

static long long snmp(const char *group, const char *name)
{
	long long v = 0;
	if (!pair_value("/proc/net/snmp", group, name, &v)) {
		fprintf(stderr, "no %s %s in /proc/net/snmp\n", group, name);
		ASSERT_TRUE(0);
	}
	return v;
}

/* Finds counter name in /proc/net/snmp6 ("name value" lines). */
static long long snmp6(const char *name)
{
	char *buf = slurp("/proc/net/snmp6");
	long long v = -1;
	int found = 0;
	for (char *line = buf; *line; ) {
		char *end = strchr(line, '\n');
		ASSERT_TRUE(end != NULL);
		*end = 0;
		char n[64];
		long long x;
		ASSERT_EQ(sscanf(line, "%63s %lld", n, &x), 2);
		if (strcmp(n, name) == 0) {
			v = x;
			found = 1;
		}
		line = end + 1;
	}
	free(buf);
	if (!found)
		fprintf(stderr, "no %s in /proc/net/snmp6\n", name);
	ASSERT_TRUE(found);
	return v;
}

TEST(proc_net_snmp, has_linux_groups_in_order_with_paired_lines)
{
	char *buf = slurp("/proc/net/snmp");
	EXPECT_TRUE(strncmp(buf, "Ip: Forwarding DefaultTTL InReceives ", 37) == 0);
	const char *groups[] = {"\nIcmp: InMsgs ", "\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens ",
				"\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors ",
				"\nUdpLite: InDatagrams "};
	const char *prev = buf;
	for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) {
		const char *p = strstr(buf, groups[i]);
		EXPECT_TRUE(p != NULL && p > prev);
		if (p)
			prev = p;
	}
	free(buf);
	EXPECT_EQ(snmp("Tcp", "MaxConn"), -1);
	EXPECT_EQ(snmp("Tcp", "RtoAlgorithm"), 1);
	EXPECT_GE(snmp("Ip", "DefaultTTL"), 1);
}

TEST(proc_net_snmp, tcp_opens_grow_after_a_loopback_connection)
{
	long long active = snmp("Tcp", "ActiveOpens"), passive = snmp("Tcp", "PassiveOpens");
	long long out = snmp("Tcp", "OutSegs"), in = snmp("Tcp", "InSegs");
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_GE(snmp("Tcp", "ActiveOpens"), active + 1);
	EXPECT_GE(snmp("Tcp", "PassiveOpens"), passive + 1);
	/* SYN, SYN-ACK, ACK: each end sent and received at least one. */
	EXPECT_GE(snmp("Tcp", "OutSegs"), out + 3);
	EXPECT_GE(snmp("Tcp", "InSegs"), in + 3);
	/* Both ends of the connection are established. */
	EXPECT_GE(snmp("Tcp", "CurrEstab"), 2);
}

TEST(proc_net_snmp, udp_and_ip_counters_grow_after_a_loopback_datagram)
{
	long long udpOut = snmp("Udp", "OutDatagrams"), udpIn = snmp("Udp", "InDatagrams");
	long long ipOut = snmp("Ip", "OutRequests"), ipIn = snmp("Ip", "InReceives");
	long long ipDeliv = snmp("Ip", "InDelivers");
	int r = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int w = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	inet_addr_t a;
	socklen_t len = inet_loopback(AF_INET, &a, 0);
	ASSERT_SYSCALL_OK(bind(r, &a.sa, len));
	inet_sockname(r, &a);
	ASSERT_EQ(sendto(w, "ping", 4, 0, &a.sa, len), 4);
	net_wait(r, POLLIN);
	char buf[8];
	ASSERT_EQ(recv(r, buf, sizeof buf, 0), 4); /* Linux counts InDatagrams when read */
	EXPECT_GE(snmp("Udp", "OutDatagrams"), udpOut + 1);
	EXPECT_GE(snmp("Udp", "InDatagrams"), udpIn + 1);
	EXPECT_GE(snmp("Ip", "OutRequests"), ipOut + 1);
	EXPECT_GE(snmp("Ip", "InReceives"), ipIn + 1);
	EXPECT_GE(snmp("Ip", "InDelivers"), ipDeliv + 1);
}

/* Makes the counters the case's own: natively, a new network namespace
 * with lo up (root only, else the case is skipped); in the sandbox, its
 * stack, which nothing else uses. Also keeps the case on one CPU, so that
 * natively loopback packets are handled in the order they were sent. */
static void isolate_network(void)
{
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
	sched_setaffinity(0, sizeof one, &one); /* best effort */
	if (test_in_sandbox())
		return;
	if (unshare(CLONE_NEWNET) != 0)
		TEST_SKIP("a private network namespace needs CAP_SYS_ADMIN");
	int s = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	ASSERT_SYSCALL_OK(ioctl(s, SIOCGIFFLAGS, &ifr));
	ifr.ifr_flags |= IFF_UP;
	ASSERT_SYSCALL_OK(ioctl(s, SIOCSIFFLAGS, &ifr));
	close(s);
}

TEST(proc_net_snmp, exact_tcp_counts_for_one_connection_of_our_own)
{
	isolate_network();
	long long active = snmp("Tcp", "ActiveOpens"), passive = snmp("Tcp", "PassiveOpens");
	long long estab = snmp("Tcp", "CurrEstab");
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	EXPECT_EQ(snmp("Tcp", "ActiveOpens"), active + 1);
	EXPECT_EQ(snmp("Tcp", "PassiveOpens"), passive + 1);
	EXPECT_EQ(snmp("Tcp", "CurrEstab"), estab + 2);
}

TEST(proc_net_snmp, udp_InDatagrams_counts_reads_not_peeks)
{
	isolate_network();
	int r = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int w = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	inet_addr_t a;
	socklen_t len = inet_loopback(AF_INET, &a, 0);
	ASSERT_SYSCALL_OK(bind(r, &a.sa, len));
	inet_sockname(r, &a);
	long long in = snmp("Udp", "InDatagrams"), out = snmp("Udp", "OutDatagrams");
	ASSERT_EQ(sendto(w, "ping", 4, 0, &a.sa, len), 4);
	net_wait(r, POLLIN);
	EXPECT_EQ(snmp("Udp", "OutDatagrams"), out + 1);
	char buf[8];
	ASSERT_EQ(recv(r, buf, sizeof buf, MSG_PEEK), 4);
	EXPECT_EQ(snmp("Udp", "InDatagrams"), in);
	ASSERT_EQ(recv(r, buf, sizeof buf, 0), 4);
	EXPECT_EQ(snmp("Udp", "InDatagrams"), in + 1);
}

TEST(proc_net_snmp, udp_drops_for_a_full_receive_buffer_count_as_RcvbufErrors_and_InErrors)
{
	isolate_network();
	int r = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int small = 1; /* raised to the minimum */
	ASSERT_SYSCALL_OK(setsockopt(r, SOL_SOCKET, SO_RCVBUF, &small, sizeof small));
	int marker = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	int w = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	inet_addr_t a, m;
	socklen_t len = inet_loopback(AF_INET, &a, 0);
	ASSERT_SYSCALL_OK(bind(r, &a.sa, len));
	inet_sockname(r, &a);
	ASSERT_SYSCALL_OK(bind(marker, &m.sa, inet_loopback(AF_INET, &m, 0)));
	inet_sockname(marker, &m);
	long long rcvbuf = snmp("Udp", "RcvbufErrors"), inerr = snmp("Udp", "InErrors");
	char payload[1000] = {0};
	for (int i = 0; i < 64; i++)
		ASSERT_EQ(sendto(w, payload, sizeof payload, 0, &a.sa, len), (ssize_t)sizeof payload);
	/* Loopback delivers in order: once the marker is there, so are the
	 * drops. */
	ASSERT_EQ(sendto(w, "m", 1, 0, &m.sa, len), 1);
	net_wait(marker, POLLIN);
	long long drops = snmp("Udp", "RcvbufErrors") - rcvbuf;
	EXPECT_GE(drops, 1);
	EXPECT_EQ(snmp("Udp", "InErrors") - inerr, drops);
}

TEST(proc_net_snmp6, counts_a_udp_datagram_over_ipv6_loopback)
{
	int r = socket(AF_INET6, SOCK_DGRAM, 0);
	if (r < 0)
		TEST_SKIP("no IPv6");
	inet_addr_t a;
	socklen_t len = inet_loopback(AF_INET6, &a, 0);
	if (bind(r, &a.sa, len) < 0)
		TEST_SKIP("no ::1");
	inet_sockname(r, &a);
	long long out = snmp6("Udp6OutDatagrams"), in = snmp6("Udp6InDatagrams");
	long long ipOut = snmp6("Ip6OutRequests"), ipIn = snmp6("Ip6InReceives");
	long long udp4Out = snmp("Udp", "OutDatagrams");
	int w = ASSERT_SYSCALL_OK(socket(AF_INET6, SOCK_DGRAM, 0));
	ASSERT_EQ(sendto(w, "ping", 4, 0, &a.sa, len), 4);
	net_wait(r, POLLIN);
	char buf[8];
	ASSERT_EQ(recv(r, buf, sizeof buf, 0), 4); /* Linux counts InDatagrams when read */
	EXPECT_GE(snmp6("Udp6OutDatagrams"), out + 1);
	EXPECT_GE(snmp6("Udp6InDatagrams"), in + 1);
	EXPECT_GE(snmp6("Ip6OutRequests"), ipOut + 1);
	EXPECT_GE(snmp6("Ip6InReceives"), ipIn + 1);
	/* The IPv4 group is not where IPv6 datagrams are counted. */
	if (test_in_sandbox())
		EXPECT_EQ(snmp("Udp", "OutDatagrams"), udp4Out);
}

TEST(proc_net_snmp6, lines_are_a_padded_name_a_tab_and_a_value)
{
	char *buf = slurp("/proc/net/snmp6");
	int lines = 0;
	for (char *line = buf; *line; lines++) {
		char *end = strchr(line, '\n');
		ASSERT_TRUE(end != NULL);
		*end = 0;
		char *tab = strchr(line, '\t');
		ASSERT_TRUE(tab != NULL);
		EXPECT_GE(tab - line, 32); /* "%-32s\t%lu" */
		EXPECT_TRUE(tab[1] >= '0' && tab[1] <= '9');
		line = end + 1;
	}
	free(buf);
	EXPECT_GE(lines, 50);
	EXPECT_GE(snmp6("Ip6InReceives"), 0);
	EXPECT_GE(snmp6("Icmp6InMsgs"), 0);
	EXPECT_GE(snmp6("UdpLite6MemErrors"), 0);
}

TEST(proc_net_netstat, has_TcpExt_and_IpExt_and_counts_octets)
{
	long long v;
	ASSERT_TRUE(pair_value("/proc/net/netstat", "TcpExt", "ListenDrops", &v));
	ASSERT_TRUE(pair_value("/proc/net/netstat", "TcpExt", "TCPTimeouts", &v));
	long long in = 0, out = 0;
	ASSERT_TRUE(pair_value("/proc/net/netstat", "IpExt", "InOctets", &in));
	ASSERT_TRUE(pair_value("/proc/net/netstat", "IpExt", "OutOctets", &out));
	int c, s;
	tcp_pair(AF_INET, &c, &s);
	long long in2 = 0, out2 = 0;
	ASSERT_TRUE(pair_value("/proc/net/netstat", "IpExt", "InOctets", &in2));
	ASSERT_TRUE(pair_value("/proc/net/netstat", "IpExt", "OutOctets", &out2));
	/* Three segments of at least 40 bytes each way. */
	EXPECT_GE(in2, in + 120);
	EXPECT_GE(out2, out + 120);
}

/* Opens and closes sockets of every kind until told to stop (at most 200
 * rounds, so a fast host does not pile up TIME-WAIT connections). */
static volatile int churn_stop;
static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200 && !churn_stop; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
			close(sv[0]);
			close(sv[1]);
		}
		int c, s;
		tcp_pair(AF_INET, &c, &s);
		close(c);
		close(s);
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		if (u >= 0)
			close(u);
	}
	return NULL;
}

TEST(proc_net, files_stay_well_formed_while_sockets_come_and_go)
{
	pthread_t t;
	ASSERT_EQ(pthread_create(&t, NULL, churn, NULL), 0);
	const char *files[] = {"/proc/net/unix", "/proc/net/tcp", "/proc/net/udp", "/proc/net/snmp",
			       "/proc/net/netstat", "/proc/net/snmp6", "/proc/net/tcp6"};
	for (int i = 0; i < 30; i++) {
		for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
			char *buf = slurp(files[f]);
			size_t n = strlen(buf);
			EXPECT_GT(n, 0u);
			if (n)
				EXPECT_EQ(buf[n - 1], '\n');
			free(buf);
		}
		long long v;
		EXPECT_TRUE(pair_value("/proc/net/snmp", "Tcp", "CurrEstab", &v));
	}
	churn_stop = 1;
	ASSERT_EQ(pthread_join(t, NULL), 0);
}
