/*
 * ipc_bench MODE N: round trips between threads or processes, printed as
 * "<ns> ns/op" (one op = one round trip or one create+join).
 *
 *   futex   two threads hand a token back and forth with FUTEX_WAIT/WAKE
 *   pipe    two processes ping-pong one byte over two pipes
 *   signal  a process sends itself a signal and its handler runs
 *   thread  pthread_create + pthread_join of an empty thread
 *   epoll   one thread writes an eventfd, the other wakes in epoll_wait
 *           and answers on a second eventfd (wake-up latency, both ways)
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static long n;

static _Atomic int token;

static void fwait(_Atomic int *addr, int val)
{
	while (atomic_load(addr) == val)
		syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void fset(_Atomic int *addr, int val)
{
	atomic_store(addr, val);
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *futex_peer(void *arg)
{
	(void)arg;
	for (long i = 0; i < n; i++) {
		fwait(&token, 0);
		fset(&token, 0);
	}
	return NULL;
}

static void bench_futex(void)
{
	pthread_t t;
	pthread_create(&t, NULL, futex_peer, NULL);
	for (long i = 0; i < n; i++) {
		fset(&token, 1);
		fwait(&token, 1);
	}
	pthread_join(t, NULL);
}

static void bench_pipe(void)
{
	int a[2], b[2];
	char c = 0;
	if (pipe(a) || pipe(b))
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		for (long i = 0; i < n; i++) {
			if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	for (long i = 0; i < n; i++) {
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			exit(1);
	}
	int ws;
	waitpid(pid, &ws, 0);
}

static volatile sig_atomic_t hits;

static void on_signal(int sig)
{
	(void)sig;
	hits++;
}

static void bench_signal(void)
{
	signal(SIGUSR1, on_signal);
	pid_t pid = getpid();
	for (long i = 0; i < n; i++)
		kill(pid, SIGUSR1);
	if (hits != n) {
		fprintf(stderr, "ipc_bench: %ld signals, %d handled\n", n, (int)hits);
		exit(1);
	}
}

static void *empty(void *arg) { return arg; }

static void bench_thread(void)
{
	for (long i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, empty, NULL) != 0)
			exit(1);
		pthread_join(t, NULL);
	}
}

static int ev_ping, ev_pong;

static void *epoll_peer(void *arg)
{
	(void)arg;
	int ep = epoll_create1(0);
	struct epoll_event e = {.events = EPOLLIN};
	epoll_ctl(ep, EPOLL_CTL_ADD, ev_ping, &e);
	uint64_t v;
	for (long i = 0; i < n; i++) {
		if (epoll_wait(ep, &e, 1, -1) != 1 || read(ev_ping, &v, 8) != 8)
			exit(1);
		v = 1;
		write(ev_pong, &v, 8);
	}
	return NULL;
}

static void bench_epoll(void)
{
	ev_ping = eventfd(0, 0);
	ev_pong = eventfd(0, 0);
	pthread_t t;
	pthread_create(&t, NULL, epoll_peer, NULL);
	uint64_t v = 1;
	for (long i = 0; i < n; i++) {
		v = 1;
		if (write(ev_ping, &v, 8) != 8 || read(ev_pong, &v, 8) != 8)
			exit(1);
	}
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ipc_bench futex|pipe|signal|thread|epoll [N]\n");
		return 2;
	}
	n = parse_count(argc, argv, 2, 10000);
	void (*fn)(void) = NULL;
	if (!strcmp(argv[1], "futex"))
		fn = bench_futex;
	else if (!strcmp(argv[1], "pipe"))
		fn = bench_pipe;
	else if (!strcmp(argv[1], "signal"))
		fn = bench_signal;
	else if (!strcmp(argv[1], "thread"))
		fn = bench_thread;
	else if (!strcmp(argv[1], "epoll"))
		fn = bench_epoll;
	if (!fn) {
		fprintf(stderr, "ipc_bench: unknown mode %s\n", argv[1]);
		return 2;
	}
	long long t0 = now_ns();
	fn();
	long long t1 = now_ns();
	printf("%.1f ns/op (%ld %s)\n", (double)(t1 - t0) / n, n, argv[1]);
	return 0;
}
