// aiofuzz: a random fuzzer of the Linux AIO calls (io_setup, io_submit,
// io_getevents, io_pgetevents, io_cancel, io_destroy) and of what a guest
// may do to their rings (scribble on the header, munmap, mremap), with
// several threads and forks racing.
//
// Usage: aiofuzz SEED ITERATIONS
//
// Run it only inside the sandbox (bin/runsc do test/fuzz/bin/aiofuzz 1
// 20000): natively it would take the host's AIO budget. It passes if the
// sandbox neither crashes nor hangs; the results of the calls do not
// matter.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NCTX 8
#define NFD 8

static aio_context_t ctxs[NCTX];
static int fds[NFD];
static char bufs[4][8192];
static struct iocb iocbs[64];
static long iters;

/* Another thread may unmap a ring while this one scribbles on it. */
static __thread sigjmp_buf scribble_jb;
static __thread int scribbling;

static void on_segv(int sig)
{
	if (scribbling)
		siglongjmp(scribble_jb, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t pick_addr(uint64_t *s)
{
	switch (rnd(s) % 6) {
	case 0: return 0;
	case 1: return 8;
	case 2: return 0xffff800000000000ull;
	case 3: return (uintptr_t)bufs[rnd(s) % 4] + rnd(s) % 64;
	case 4: return ctxs[rnd(s) % NCTX];
	default: return rnd(s);
	}
}

static void random_iocb(uint64_t *s, struct iocb *cb)
{
	static struct iovec iov[4];
	memset(cb, 0, sizeof(*cb));
	cb->aio_data = rnd(s);
	cb->aio_lio_opcode = rnd(s) % 4 ? rnd(s) % 9 : rnd(s);
	cb->aio_fildes = rnd(s) % 8 ? fds[rnd(s) % NFD] : rnd(s);
	switch (cb->aio_lio_opcode) {
	case IOCB_CMD_PREADV:
	case IOCB_CMD_PWRITEV:
		for (int i = 0; i < 4; i++) {
			iov[i].iov_base = (void *)pick_addr(s);
			iov[i].iov_len = rnd(s) % 4096;
		}
		cb->aio_buf = rnd(s) % 4 ? (uintptr_t)iov : pick_addr(s);
		cb->aio_nbytes = rnd(s) % 6;
		break;
	case IOCB_CMD_POLL:
		cb->aio_buf = rnd(s) % 4 ? (POLLIN | POLLOUT | POLLPRI) & rnd(s) : rnd(s);
		break;
	default:
		cb->aio_buf = pick_addr(s);
		cb->aio_nbytes = rnd(s) % 4 ? rnd(s) % 8192 : rnd(s);
	}
	cb->aio_offset = rnd(s) % 4 ? (int64_t)(rnd(s) % 65536) : (int64_t)rnd(s);
	if (rnd(s) % 8 == 0)
		cb->aio_rw_flags = rnd(s) % 2 ? 1u << (rnd(s) % 8) : (uint32_t)rnd(s);
	if (rnd(s) % 8 == 0) {
		cb->aio_flags = IOCB_FLAG_RESFD;
		cb->aio_resfd = fds[rnd(s) % NFD];
	}
	if (rnd(s) % 16 == 0) {
		cb->aio_flags |= IOCB_FLAG_IOPRIO;
		cb->aio_reqprio = rnd(s);
	}
	if (rnd(s) % 32 == 0)
		cb->aio_reserved2 = 1;
}

static void one_call(uint64_t *s)
{
	aio_context_t *cp = &ctxs[rnd(s) % NCTX];
	aio_context_t ctx = rnd(s) % 16 ? *cp : pick_addr(s);
	struct io_event ev[16];
	struct timespec zero = {0, 0}, tiny = {0, 100000};
	switch (rnd(s) % 12) {
	case 0:
		if (*cp == 0 || rnd(s) % 4 == 0) {
			aio_context_t n = 0;
			unsigned nr = rnd(s) % 4 ? 1 + rnd(s) % 256 : (unsigned)rnd(s);
			if (syscall(SYS_io_setup, nr, &n) == 0)
				*cp = n;
		}
		break;
	case 1:
	case 2:
	case 3: {
		struct iocb *ptrs[16];
		int n = rnd(s) % 16;
		for (int i = 0; i < n; i++) {
			struct iocb *cb = &iocbs[rnd(s) % 64];
			random_iocb(s, cb);
			ptrs[i] = rnd(s) % 32 ? cb : (struct iocb *)pick_addr(s);
		}
		syscall(SYS_io_submit, ctx, rnd(s) % 16 ? n : (long)rnd(s), rnd(s) % 32 ? ptrs : (void *)pick_addr(s));
		break;
	}
	case 4:
	case 5:
		syscall(SYS_io_getevents, ctx, rnd(s) % 3, 1 + rnd(s) % 16,
			rnd(s) % 16 ? ev : (void *)pick_addr(s), rnd(s) % 2 ? &zero : &tiny);
		break;
	case 6: {
		sigset_t none;
		sigemptyset(&none);
		struct {
			void *m;
			size_t n;
		} sig = {&none, rnd(s) % 8 ? 8 : rnd(s) % 16};
		syscall(SYS_io_pgetevents, ctx, 0, 1 + rnd(s) % 16, ev, &zero, rnd(s) % 8 ? (void *)&sig : (void *)pick_addr(s));
		break;
	}
	case 7:
		syscall(SYS_io_cancel, ctx, rnd(s) % 8 ? (void *)&iocbs[rnd(s) % 64] : (void *)pick_addr(s), ev);
		break;
	case 8:
		if (rnd(s) % 4 == 0 && syscall(SYS_io_destroy, ctx) == 0 && ctx == *cp)
			*cp = 0;
		break;
	case 9: /* scribble on a ring's header */
		if (*cp && rnd(s) % 2) {
			unsigned *h = (unsigned *)*cp;
			unsigned off = rnd(s) % 8;
			unsigned v = rnd(s);
			if ((off != 0 || rnd(s) % 8 == 0) && sigsetjmp(scribble_jb, 1) == 0) {
				scribbling = 1;
				__atomic_store_n(&h[off], v, __ATOMIC_RELAXED);
			}
			scribbling = 0;
		}
		break;
	case 10: /* unmap or move a ring */
		if (*cp && rnd(s) % 8 == 0) {
			if (rnd(s) % 2) {
				/* The context stays, unreachable, until exit. */
				munmap((void *)*cp, 4096 * (1 + rnd(s) % 2));
				*cp = 0;
			} else {
				void *to = mremap((void *)*cp, 4096, 4096, MREMAP_MAYMOVE);
				if (to != MAP_FAILED)
					*cp = (uintptr_t)to;
			}
		}
		break;
	default: /* make files ready or not */
		/* Not fds[6] and [7], whose reads may block for good. */
		if (rnd(s) % 2)
			(void)!write(fds[rnd(s) % 6], "x", 1);
		else
			(void)!read(fds[rnd(s) % 6], bufs[0], 64);
	}
}

static void *worker(void *arg)
{
	uint64_t s = (uintptr_t)arg | 1;
	for (long i = 0; i < iters; i++)
		one_call(&s);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: aiofuzz SEED ITERATIONS\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[1], NULL, 0);
	iters = atol(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	int p[2], sv[2];
	if (pipe2(p, O_NONBLOCK) || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		return 2;
	char path[] = "/tmp/aiofuzz.XXXXXX";
	fds[0] = p[0];
	fds[1] = p[1];
	fds[2] = sv[0];
	fds[3] = sv[1];
	fds[4] = mkstemp(path);
	unlink(path);
	fds[5] = eventfd(0, EFD_NONBLOCK);
	fds[6] = open("/tmp", O_RDONLY | O_DIRECTORY);
	fds[7] = eventfd(0, 0);
	for (int round = 0; round < 4; round++) {
		pid_t child = fork();
		if (child == 0) {
			pthread_t th[3];
			for (int i = 0; i < 3; i++)
				pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(seed * 131 + round * 7 + i));
			worker((void *)(uintptr_t)(seed * 131 + round * 7 + 3));
			/* Exit with threads possibly blocked and polls pending. */
			_exit(0);
		}
		/* A worker may block for good (a read of the blocking
		 * eventfd, as on Linux): after 5 s the round is killed, and the kill must
		 * end it, whatever its threads wait for. */
		int st = 0;
		pid_t r = 0;
		for (int i = 0; i < 50 && r == 0; i++) {
			r = waitpid(child, &st, WNOHANG);
			if (r == 0)
				usleep(100000);
		}
		if (r == 0) {
			kill(child, SIGKILL);
			r = waitpid(child, &st, 0);
		}
		if (r != child)
			return 1;
		printf("aiofuzz: round %d: %s %d\n", round, WIFEXITED(st) ? "exit" : "signal",
		       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	}
	printf("aiofuzz: seed %llu done\n", (unsigned long long)seed);
	return 0;
}
