/*
 * inet_test.h — helpers shared by the AF_INET/AF_INET6 TCP tests
 * (tcp_*.c, tcp6.c, inet_*.c). Include after test.h.
 *
 * Every address used is loopback: 127.0.0.1 or ::1 (and ::ffff:127.0.0.1).
 * The only other addresses that appear are documentation addresses
 * (TEST-NET-3 203.0.113.1, 2001:db8::1) given to bind(2) to check
 * EADDRNOTAVAIL; nothing is ever sent to them.
 *
 * Waits are poll(2) calls with a generous timeout (NET_WAIT_MS) that only
 * bounds a failure; nothing sleeps for synchronisation.
 */
#ifndef PALISADE_INET_TEST_H
#define PALISADE_INET_TEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* How long a wait for something the test caused may take before it counts
 * as a failure. Generous: the machine may be busy. */
#define NET_WAIT_MS 5000

/* An address of either family. */
typedef union {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
} inet_addr_t;

/* Fills a with family's loopback address and port; returns its length. */
static inline socklen_t inet_loopback(int family, inet_addr_t *a,
				      uint16_t port)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET6) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_addr = in6addr_loopback;
		a->in6.sin6_port = htons(port);
		return sizeof(a->in6);
	}
	a->in4.sin_family = AF_INET;
	a->in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->in4.sin_port = htons(port);
	return sizeof(a->in4);
}

/* Fills a with family's wildcard address and port; returns its length. */
static inline socklen_t inet_any(int family, inet_addr_t *a, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET6) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_addr = in6addr_any;
		a->in6.sin6_port = htons(port);
		return sizeof(a->in6);
	}
	a->in4.sin_family = AF_INET;
	a->in4.sin_addr.s_addr = htonl(INADDR_ANY);
	a->in4.sin_port = htons(port);
	return sizeof(a->in4);
}

/* Fills a with ::ffff:127.0.0.1 and port; returns its length. */
static inline socklen_t inet_mapped_loopback(inet_addr_t *a, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->in6.sin6_family = AF_INET6;
	a->in6.sin6_addr.s6_addr[10] = 0xff;
	a->in6.sin6_addr.s6_addr[11] = 0xff;
	a->in6.sin6_addr.s6_addr[12] = 127;
	a->in6.sin6_addr.s6_addr[15] = 1;
	a->in6.sin6_port = htons(port);
	return sizeof(a->in6);
}

static inline socklen_t inet_len(int family)
{
	return family == AF_INET6 ? sizeof(struct sockaddr_in6)
				  : sizeof(struct sockaddr_in);
}

/* The port of a, in host order. */
static inline uint16_t inet_port(const inet_addr_t *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->in6.sin6_port
						 : a->in4.sin_port);
}

/* 1 if a is family's loopback address. */
static inline int inet_is_loopback(const inet_addr_t *a)
{
	if (a->sa.sa_family == AF_INET6)
		return memcmp(&a->in6.sin6_addr, &in6addr_loopback, 16) == 0;
	return a->sa.sa_family == AF_INET &&
	       a->in4.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

/* 1 if a is AF_INET6 ::ffff:127.0.0.1. */
static inline int inet_is_mapped_loopback(const inet_addr_t *a)
{
	inet_addr_t m;
	inet_mapped_loopback(&m, 0);
	return a->sa.sa_family == AF_INET6 &&
	       memcmp(&a->in6.sin6_addr, &m.in6.sin6_addr, 16) == 0;
}

/* getsockname into a; returns the length reported. */
static inline socklen_t inet_sockname(int fd, inet_addr_t *a)
{
	socklen_t len = sizeof(*a);
	memset(a, 0, sizeof(*a));
	ASSERT_SYSCALL_OK(getsockname(fd, &a->sa, &len));
	return len;
}

/* getpeername into a; returns the length reported. */
static inline socklen_t inet_peername(int fd, inet_addr_t *a)
{
	socklen_t len = sizeof(*a);
	memset(a, 0, sizeof(*a));
	ASSERT_SYSCALL_OK(getpeername(fd, &a->sa, &len));
	return len;
}

/* A TCP socket of family bound to loopback port 0 and listening with
 * backlog; its address goes to *a. */
static inline int tcp_listener(int family, inet_addr_t *a, int backlog)
{
	int s = ASSERT_SYSCALL_OK(socket(family, SOCK_STREAM, 0));
	socklen_t len = inet_loopback(family, a, 0);
	ASSERT_SYSCALL_OK(bind(s, &a->sa, len));
	ASSERT_SYSCALL_OK(listen(s, backlog));
	inet_sockname(s, a);
	return s;
}

/* A TCP socket of family, connected (blocking) to a. */
static inline int tcp_connect(int family, const inet_addr_t *a)
{
	int c = ASSERT_SYSCALL_OK(socket(family, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(connect(c, &a->sa, inet_len(a->sa.sa_family)));
	return c;
}

/* A connected pair over family's loopback: *client connected, *server
 * accepted. The listener is closed. */
static inline void tcp_pair(int family, int *client, int *server)
{
	inet_addr_t a;
	int l = tcp_listener(family, &a, 4);
	*client = tcp_connect(family, &a);
	*server = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
	close(l);
}

/* A TCP socket bound to a loopback port but not listening, so a connection
 * to *a is refused; the caller keeps it open so nobody else takes the
 * port. */
static inline int inet_closed_port(int family, inet_addr_t *a)
{
	int s = ASSERT_SYSCALL_OK(socket(family, SOCK_STREAM, 0));
	socklen_t len = inet_loopback(family, a, 0);
	ASSERT_SYSCALL_OK(bind(s, &a->sa, len));
	inet_sockname(s, a);
	return s;
}

/* Polls fd for events for up to NET_WAIT_MS; fails the case if nothing in
 * events (or POLLERR/POLLHUP) arrives. Returns revents. */
static inline short net_wait(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;
	do {
		r = poll(&p, 1, NET_WAIT_MS);
	} while (r < 0 && errno == EINTR);
	ASSERT_EQ(r, 1);
	return p.revents;
}

/* Polls fd with a zero timeout; returns revents (0 if nothing). */
static inline short net_poll_now(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r = poll(&p, 1, 0);
	ASSERT_GE(r, 0);
	return r ? p.revents : 0;
}

/* Waits (bounded) until fd reports POLLERR or POLLHUP: the peer's RST or
 * an error has arrived. Returns revents. */
static inline short net_wait_error(int fd)
{
	short r = net_wait(fd, 0);
	ASSERT_TRUE(r & (POLLERR | POLLHUP));
	return r;
}

/* Writes all n bytes of buf. */
static inline void write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		ASSERT_GT(w, 0);
		p += w;
		n -= (size_t)w;
	}
}

/* Reads exactly n bytes into buf; fails on EOF or error. */
static inline void read_exact(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		ASSERT_GT(r, 0);
		p += r;
		n -= (size_t)r;
	}
}

/* getsockopt of an int option. */
static inline int int_opt(int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	ASSERT_SYSCALL_OK(getsockopt(fd, level, name, &v, &len));
	ASSERT_EQ(len, sizeof(v));
	return v;
}

/* setsockopt of an int option. */
static inline void set_int_opt(int fd, int level, int name, int v)
{
	ASSERT_SYSCALL_OK(setsockopt(fd, level, name, &v, sizeof(v)));
}

/* Reads an integer from a /proc/sys file into *v; returns 0 on success,
 * -1 if the file cannot be read. */
static inline int sysctl_int(const char *path, int *v)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fscanf(f, "%d", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static volatile sig_atomic_t inet_sigpipes;
static inline void inet_on_sigpipe(int sig)
{
	(void)sig;
	inet_sigpipes++;
}

/* Installs a counting SIGPIPE handler (the case must not rely on the
 * disposition it inherited). */
static inline void catch_sigpipe(void)
{
	struct sigaction sa = {.sa_handler = inet_on_sigpipe};
	sigemptyset(&sa.sa_mask);
	ASSERT_SYSCALL_OK(sigaction(SIGPIPE, &sa, NULL));
	inet_sigpipes = 0;
}

/* Ignores SIGPIPE explicitly, for cases about errno only. */
static inline void ignore_sigpipe(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sigemptyset(&sa.sa_mask);
	ASSERT_SYSCALL_OK(sigaction(SIGPIPE, &sa, NULL));
}

#endif /* PALISADE_INET_TEST_H */
