/*
 * net_bench MODE N: TCP over the loopback interface (127.0.0.1), between
 * two processes, printed as "<ns> ns/op".
 *
 *   rr      request/response: a 1-byte ping-pong with TCP_NODELAY; one op is
 *           one round trip (TCP_RR)
 *   cps     connections: connect, accept, close on both sides; one op is one
 *           connection (TCP_CRR without the data)
 *   stream  bulk transfer from one process to the other in 128 KiB writes;
 *           one op is one MiB received (1e9/ns*8*1.048576 = Gbit/s)
 *
 * Traffic stays on 127.0.0.1. The loops are bounded by N.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* listener returns a listening socket on 127.0.0.1 and its address. */
static int listener(struct sockaddr_in *a)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		die("socket");
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)a, sizeof *a) < 0 || listen(l, 128) < 0)
		die("bind/listen");
	socklen_t len = sizeof *a;
	if (getsockname(l, (struct sockaddr *)a, &len) < 0)
		die("getsockname");
	return l;
}

static int dial(const struct sockaddr_in *a)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0)
		die("socket");
	if (connect(c, (const struct sockaddr *)a, sizeof *a) < 0)
		die("connect");
	return c;
}

static void full_read(int fd, char *buf, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, buf, n);
		if (r <= 0)
			die("read");
		buf += r;
		n -= r;
	}
}

static void full_write(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w <= 0)
			die("write");
		buf += w;
		n -= w;
	}
}

static int reap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "net_bench: the peer process failed\n");
		return 1;
	}
	return 0;
}

static int bench_rr(long n)
{
	struct sockaddr_in a;
	int l = listener(&a);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int s = accept(l, NULL, NULL);
		if (s < 0)
			die("accept");
		int one = 1;
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		char c;
		for (long i = 0; i < n; i++) {
			full_read(s, &c, 1);
			full_write(s, &c, 1);
		}
		_exit(0);
	}
	int c = dial(&a);
	int one = 1;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	char b = 'x';
	/* One round trip first, so the timing starts with the peer ready. */
	full_write(c, &b, 1);
	full_read(c, &b, 1);
	long long t0 = now_ns();
	for (long i = 1; i < n; i++) {
		full_write(c, &b, 1);
		full_read(c, &b, 1);
	}
	long long t1 = now_ns();
	close(c);
	if (reap(pid))
		return 1;
	printf("%.1f ns/op\n", (double)(t1 - t0) / (n > 1 ? n - 1 : 1));
	return 0;
}

static int bench_cps(long n)
{
	struct sockaddr_in a;
	int l = listener(&a);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (long i = 0; i < n; i++) {
			int s = accept(l, NULL, NULL);
			if (s < 0)
				die("accept");
			close(s);
		}
		_exit(0);
	}
	close(l);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int c = dial(&a);
		close(c);
	}
	if (reap(pid))
		return 1;
	long long t1 = now_ns();
	printf("%.1f ns/op\n", (double)(t1 - t0) / n);
	return 0;
}

enum { CHUNK = 128 << 10 };

static int bench_stream(long mib)
{
	struct sockaddr_in a;
	int l = listener(&a);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int s = accept(l, NULL, NULL);
		if (s < 0)
			die("accept");
		static char buf[CHUNK];
		memset(buf, 'x', sizeof buf);
		for (long i = 0; i < mib * ((1 << 20) / CHUNK); i++)
			full_write(s, buf, sizeof buf);
		close(s);
		_exit(0);
	}
	int c = dial(&a);
	static char buf[CHUNK];
	long long got = 0, t0 = now_ns();
	for (;;) {
		ssize_t r = read(c, buf, sizeof buf);
		if (r < 0)
			die("read");
		if (r == 0)
			break;
		got += r;
	}
	long long t1 = now_ns();
	close(c);
	if (reap(pid))
		return 1;
	if (got != mib << 20) {
		fprintf(stderr, "net_bench: received %lld bytes, want %ld MiB\n", got, mib);
		return 1;
	}
	printf("%.1f ns/op\n", (double)(t1 - t0) / mib);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s rr|cps|stream N\n", argv[0]);
		return 2;
	}
	long n = parse_count(argc, argv, 2, 1000);
	if (strcmp(argv[1], "rr") == 0)
		return bench_rr(n);
	if (strcmp(argv[1], "cps") == 0)
		return bench_cps(n);
	if (strcmp(argv[1], "stream") == 0)
		return bench_stream(n);
	fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[1]);
	return 2;
}
