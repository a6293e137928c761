/* /proc/net (proc(5)): the network stack's tables as files. */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <poll.h>

/* Reads a whole file into buf (NUL-terminated); returns its length. */
static size_t slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	size_t got = fread(buf, 1, n - 1, f);
	fclose(f);
	buf[got] = 0;
	return got;
}

/* Finds the line of /proc/net/FILE whose inode column is ino and returns
 * its local address, remote address and state through the pointers. */
static int find_socket(const char *file, unsigned long ino, char *local, char *remote, unsigned *st)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/net/%s", file);
	FILE *f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	char line[512];
	int found = 0;
	ASSERT_TRUE(fgets(line, sizeof line, f) != NULL); /* the header */
	while (fgets(line, sizeof line, f)) {
		unsigned long inode;
		unsigned uid;
		if (sscanf(line, " %*d: %63s %63s %x %*x:%*x %*x:%*x %*x %u %*d %lu", local, remote, st, &uid, &inode) == 5 &&
		    inode == ino) {
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static unsigned long inode_of(int fd)
{
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(fd, &st));
	return st.st_ino;
}

TEST(proc_net, proc_net_is_a_link_to_self_net)
{
	char target[64] = {0};
	ASSERT_SYSCALL_OK(readlink("/proc/net", target, sizeof target - 1));
	EXPECT_STREQ(target, "self/net");
}

TEST(proc_net, dev_lists_the_loopback_interface)
{
	char buf[8192];
	slurp("/proc/net/dev", buf, sizeof buf);
	EXPECT_TRUE(strncmp(buf, "Inter-|   Receive", 17) == 0);
	EXPECT_TRUE(strstr(buf, "    lo:") != NULL);
}

TEST(proc_net, tcp_shows_a_listener_with_its_address_state_and_inode)
{
	int l = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&a, sizeof a));
	ASSERT_SYSCALL_OK(listen(l, 1));
	socklen_t len = sizeof a;
	ASSERT_SYSCALL_OK(getsockname(l, (struct sockaddr *)&a, &len));
	char local[64], remote[64], want[64];
	unsigned st;
	ASSERT_TRUE(find_socket("tcp", inode_of(l), local, remote, &st));
	/* The address is the 32-bit word in host order, the port in hex. */
	snprintf(want, sizeof want, "%08X:%04X", (unsigned)a.sin_addr.s_addr, ntohs(a.sin_port));
	EXPECT_STREQ(local, want);
	EXPECT_STREQ(remote, "00000000:0000");
	EXPECT_EQ(st, 0x0Au); /* TCP_LISTEN */
	close(l);
}

TEST(proc_net, tcp_shows_both_ends_of_a_loopback_connection_established)
{
	int l = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&a, sizeof a));
	ASSERT_SYSCALL_OK(listen(l, 1));
	socklen_t len = sizeof a;
	ASSERT_SYSCALL_OK(getsockname(l, (struct sockaddr *)&a, &len));
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&a, sizeof a));
	int s = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	char local[64], remote[64], clocal[64], cremote[64];
	unsigned st;
	ASSERT_TRUE(find_socket("tcp", inode_of(s), local, remote, &st));
	EXPECT_EQ(st, 0x01u); /* TCP_ESTABLISHED */
	ASSERT_TRUE(find_socket("tcp", inode_of(c), clocal, cremote, &st));
	EXPECT_EQ(st, 0x01u);
	/* Each end's local address is the other's remote one. */
	EXPECT_STREQ(clocal, remote);
	EXPECT_STREQ(cremote, local);
	close(s);
	close(c);
	close(l);
}

TEST(proc_net, udp_shows_a_bound_socket_and_tcp_does_not)
{
	int u = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ASSERT_SYSCALL_OK(bind(u, (struct sockaddr *)&a, sizeof a));
	char local[64], remote[64];
	unsigned st;
	ASSERT_TRUE(find_socket("udp", inode_of(u), local, remote, &st));
	EXPECT_EQ(st, 0x07u); /* TCP_CLOSE: unconnected */
	EXPECT_FALSE(find_socket("tcp", inode_of(u), local, remote, &st));
	close(u);
}

TEST(proc_net, tcp6_shows_an_IPv6_listener_with_four_words)
{
	int l = socket(AF_INET6, SOCK_STREAM, 0);
	if (l < 0)
		TEST_SKIP("no IPv6");
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	if (bind(l, (struct sockaddr *)&a, sizeof a) != 0)
		TEST_SKIP("no ::1");
	ASSERT_SYSCALL_OK(listen(l, 1));
	socklen_t len = sizeof a;
	ASSERT_SYSCALL_OK(getsockname(l, (struct sockaddr *)&a, &len));
	char local[64], remote[64], want[64];
	unsigned st;
	ASSERT_TRUE(find_socket("tcp6", inode_of(l), local, remote, &st));
	/* ::1: three zero words and the word whose last byte is 1. */
	uint32_t w;
	memcpy(&w, &a.sin6_addr.s6_addr[12], 4);
	snprintf(want, sizeof want, "000000000000000000000000%08X:%04X", w, ntohs(a.sin6_port));
	EXPECT_STREQ(local, want);
	EXPECT_EQ(st, 0x0Au);
	close(l);
}

/* Reads the tx_queue and rx_queue columns of ino's line in /proc/net/tcp. */
static int find_queues(unsigned long ino, unsigned *tx, unsigned *rx)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	ASSERT_TRUE(f != NULL);
	char line[512];
	int found = 0;
	ASSERT_TRUE(fgets(line, sizeof line, f) != NULL);
	while (fgets(line, sizeof line, f)) {
		unsigned long inode;
		if (sscanf(line, " %*d: %*s %*s %*x %x:%x %*x:%*x %*x %*u %*d %lu", tx, rx, &inode) == 3 && inode == ino) {
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

TEST(proc_net, tcp_shows_unread_bytes_as_rx_queue_and_pending_connections_on_a_listener)
{
	int l = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&a, sizeof a));
	ASSERT_SYSCALL_OK(listen(l, 4));
	socklen_t len = sizeof a;
	ASSERT_SYSCALL_OK(getsockname(l, (struct sockaddr *)&a, &len));
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&a, sizeof a));
	/* The connection waits in the accept queue once the listener is
	 * readable. */
	struct pollfd p = {.fd = l, .events = POLLIN};
	ASSERT_EQ(poll(&p, 1, 10000), 1);
	unsigned tx, rx;
	ASSERT_TRUE(find_queues(inode_of(l), &tx, &rx));
	EXPECT_EQ(rx, 1u);
	EXPECT_EQ(tx, 0u);
	int s = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	ASSERT_EQ(write(c, "hello", 5), 5);
	p = (struct pollfd){.fd = s, .events = POLLIN};
	ASSERT_EQ(poll(&p, 1, 10000), 1);
	int inq = 0;
	/* Loopback may deliver in pieces: wait until all five are there. */
	for (int i = 0; i < 10000 && inq < 5; i++) {
		ASSERT_SYSCALL_OK(ioctl(s, FIONREAD, &inq));
		if (inq < 5)
			poll(NULL, 0, 1);
	}
	ASSERT_EQ(inq, 5);
	ASSERT_TRUE(find_queues(inode_of(s), &tx, &rx));
	EXPECT_EQ(rx, 5u);
	close(s);
	close(c);
	close(l);
}
