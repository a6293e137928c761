/* Linux native AIO: io_setup(2), io_submit(2), io_getevents(2),
 * io_pgetevents, io_cancel(2), io_destroy(2). Raw syscalls only (no
 * libaio). */
#include "test.h"

#include <linux/aio_abi.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>

/* The ring header the context id points at (Linux: struct aio_ring). */
struct ring {
	unsigned id, nr, head, tail, magic, compat_features, incompat_features,
	    header_length;
	struct io_event events[];
};

#define RING_MAGIC 0xa10a10a1u

static long io_setup(unsigned nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}
static long io_destroy(aio_context_t ctx) { return syscall(SYS_io_destroy, ctx); }
static long io_submit(aio_context_t ctx, long nr, struct iocb **iocbs)
{
	return syscall(SYS_io_submit, ctx, nr, iocbs);
}
static long io_getevents(aio_context_t ctx, long min, long nr, struct io_event *ev,
			 struct timespec *ts)
{
	return syscall(SYS_io_getevents, ctx, min, nr, ev, ts);
}
static long io_cancel(aio_context_t ctx, struct iocb *iocb, struct io_event *ev)
{
	return syscall(SYS_io_cancel, ctx, iocb, ev);
}

static aio_context_t setup(unsigned nr)
{
	aio_context_t ctx = 0;
	ASSERT_SYSCALL_OK(io_setup(nr, &ctx));
	ASSERT_NE(ctx, 0);
	return ctx;
}

static int tmpfile_rw(void)
{
	int fd = open(test_path("f"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_SYSCALL_OK(fd);
	return fd;
}

static void prep(struct iocb *cb, int op, int fd, void *buf, size_t n, off_t off)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = op;
	cb->aio_fildes = fd;
	cb->aio_buf = (uintptr_t)buf;
	cb->aio_nbytes = n;
	cb->aio_offset = off;
	cb->aio_data = 0x1234;
}

/* submit1 submits one iocb and returns io_submit's result. */
static long submit1(aio_context_t ctx, struct iocb *cb)
{
	struct iocb *p[1] = {cb};
	return io_submit(ctx, 1, p);
}

/* wait1 waits for one event and checks it belongs to cb. */
static struct io_event wait1(aio_context_t ctx, struct iocb *cb)
{
	struct io_event ev;
	memset(&ev, 0, sizeof(ev));
	ASSERT_EQ(io_getevents(ctx, 1, 1, &ev, NULL), 1);
	EXPECT_EQ(ev.obj, (uintptr_t)cb);
	EXPECT_EQ(ev.data, cb->aio_data);
	return ev;
}

static long read_proc_long(const char *path)
{
	FILE *f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	long v = -1;
	ASSERT_EQ(fscanf(f, "%ld", &v), 1);
	fclose(f);
	return v;
}

TEST(aio, setup_with_zero_events_is_EINVAL)
{
	aio_context_t ctx = 0;
	EXPECT_ERRNO(io_setup(0, &ctx), EINVAL);
}

TEST(aio, setup_with_nonzero_context_is_EINVAL)
{
	aio_context_t ctx = 1;
	EXPECT_ERRNO(io_setup(1, &ctx), EINVAL);
}

TEST(aio, setup_with_bad_pointer_is_EFAULT)
{
	EXPECT_ERRNO(io_setup(1, (aio_context_t *)8), EFAULT);
}

TEST(aio, setup_with_absurd_event_count_is_EINVAL)
{
	aio_context_t ctx = 0;
	EXPECT_ERRNO(io_setup(0x40000000u, &ctx), EINVAL);
	EXPECT_ERRNO(io_setup(~0u, &ctx), EINVAL);
	/* Doubled in 32 bits, 2^31 wraps to 0: too many all the same. */
	EXPECT_ERRNO(io_setup(0x80000000u, &ctx), EAGAIN);
}

TEST(aio, setup_past_aio_max_nr_is_EAGAIN)
{
	long max = read_proc_long("/proc/sys/fs/aio-max-nr");
	if (max >= 0x400000)
		TEST_SKIP("aio-max-nr too large to exceed");
	aio_context_t ctx = 0;
	EXPECT_ERRNO(io_setup(max + 1, &ctx), EAGAIN);
}

TEST(aio, setup_counts_in_aio_nr)
{
	aio_context_t ctx = setup(4096);
	EXPECT_GE(read_proc_long("/proc/sys/fs/aio-nr"), 4096);
	EXPECT_SYSCALL_OK(io_destroy(ctx));
}

TEST(aio, context_is_a_ring_with_magic_header)
{
	aio_context_t ctx = setup(8);
	struct ring *r = (struct ring *)ctx;
	EXPECT_EQ(r->magic, RING_MAGIC);
	EXPECT_GE(r->nr, 8);
	EXPECT_EQ(r->head, 0);
	EXPECT_EQ(r->tail, 0);
	EXPECT_EQ(r->compat_features, 1);
	EXPECT_EQ(r->incompat_features, 0);
	EXPECT_EQ(r->header_length, sizeof(struct ring));
	EXPECT_EQ(ctx % 4096, 0);
}

TEST(aio, ring_shows_in_maps_as_aio_deleted)
{
	aio_context_t ctx = setup(8);
	FILE *f = fopen("/proc/self/maps", "r");
	ASSERT_TRUE(f != NULL);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3)
			continue;
		if (start == ctx) {
			found = 1;
			EXPECT_STREQ(perms, "rw-s");
			EXPECT_TRUE(strstr(line, "/[aio] (deleted)") != NULL);
		}
	}
	fclose(f);
	EXPECT_TRUE(found);
}

TEST(aio, pwrite_then_pread_regular_file)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	char out[] = "hello aio", in[sizeof(out)] = {0};
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, out, sizeof(out), 100);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	struct io_event ev = wait1(ctx, &cb);
	EXPECT_EQ(ev.res, sizeof(out));
	EXPECT_EQ(ev.res2, 0);
	prep(&cb, IOCB_CMD_PREAD, fd, in, sizeof(in), 100);
	cb.aio_data = 77;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	ev = wait1(ctx, &cb);
	EXPECT_EQ(ev.res, sizeof(in));
	EXPECT_MEMEQ(in, out, sizeof(out));
	/* The file position does not move. */
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), 0);
}

TEST(aio, pread_past_end_of_file_returns_0)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	char in[16];
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, fd, in, sizeof(in), 4096);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 0);
}

TEST(aio, pwritev_and_preadv_scatter_gather)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	char a[] = "abc", b[] = "defg", r1[3], r2[4];
	struct iovec w[2] = {{a, 3}, {b, 4}}, r[2] = {{r1, 3}, {r2, 4}};
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITEV, fd, w, 2, 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 7);
	prep(&cb, IOCB_CMD_PREADV, fd, r, 2, 1);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 6);
	EXPECT_MEMEQ(r1, "bcd", 3);
	EXPECT_MEMEQ(r2, "efg", 3);
}

TEST(aio, fsync_and_fdsync_complete_with_0)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_FSYNC, fd, NULL, 0, 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 0);
	prep(&cb, IOCB_CMD_FDSYNC, fd, NULL, 0, 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 0);
}

TEST(aio, fsync_with_nonzero_fields_is_EINVAL)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	char buf[4];
	prep(&cb, IOCB_CMD_FSYNC, fd, buf, sizeof(buf), 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
}

TEST(aio, noop_and_unknown_opcodes_are_EINVAL)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_NOOP, fd, NULL, 0, 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
	prep(&cb, 4, fd, NULL, 0, 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
	prep(&cb, 99, fd, NULL, 0, 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
}

TEST(aio, reserved2_nonzero_is_EINVAL)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	char buf[4];
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, fd, buf, sizeof(buf), 0);
	cb.aio_reserved2 = 1;
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
}

TEST(aio, unknown_aio_flags_are_ignored)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, "ab", 2, 0);
	cb.aio_flags = 1u << 5;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 2);
}

TEST(aio, bad_descriptor_is_EBADF)
{
	aio_context_t ctx = setup(8);
	char buf[4];
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, 999, buf, sizeof(buf), 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EBADF);
}

TEST(aio, read_of_write_only_descriptor_is_EBADF)
{
	aio_context_t ctx = setup(8);
	int fd = open(test_path("w"), O_WRONLY | O_CREAT, 0600);
	ASSERT_SYSCALL_OK(fd);
	char buf[4];
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, fd, buf, sizeof(buf), 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EBADF);
	prep(&cb, IOCB_CMD_PWRITE, open(test_path("w"), O_RDONLY), buf, sizeof(buf), 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EBADF);
}

TEST(aio, unknown_rw_flags_are_EOPNOTSUPP)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	char buf[4];
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, fd, buf, sizeof(buf), 0);
	cb.aio_rw_flags = 0x40000000;
	EXPECT_ERRNO(submit1(ctx, &cb), EOPNOTSUPP);
}

TEST(aio, rwf_append_write_goes_to_end_of_file)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	ASSERT_EQ(write(fd, "12345", 5), 5);
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, "xy", 2, 0);
	cb.aio_rw_flags = RWF_APPEND;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 2);
	char buf[8] = {0};
	EXPECT_EQ(pread(fd, buf, sizeof(buf), 0), 7);
	EXPECT_MEMEQ(buf, "12345xy", 7);
}

TEST(aio, kernel_address_buffer_is_EFAULT)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, fd, (void *)0xffff800000000000ul, 16, 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EFAULT);
}

TEST(aio, unmapped_iovec_array_is_EFAULT)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREADV, fd, (void *)8, 1, 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EFAULT);
}

TEST(aio, unmapped_user_buffer_completes_with_EFAULT)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	ASSERT_EQ(write(fd, "data", 4), 4);
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, fd, (void *)8, 4, 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, -EFAULT);
}

TEST(aio, submit_returns_how_many_were_queued)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	char buf[4];
	struct iocb a, b, c;
	prep(&a, IOCB_CMD_PWRITE, fd, "abcd", 4, 0);
	prep(&b, IOCB_CMD_NOOP, fd, buf, 4, 0);
	prep(&c, IOCB_CMD_PWRITE, fd, "efgh", 4, 4);
	struct iocb *p[3] = {&a, &b, &c};
	EXPECT_EQ(io_submit(ctx, 3, p), 1);
	struct io_event ev[4];
	EXPECT_EQ(io_getevents(ctx, 1, 4, ev, NULL), 1);
	EXPECT_EQ(ev[0].obj, (uintptr_t)&a);
}

TEST(aio, submit_of_nothing_returns_0_and_negative_is_EINVAL)
{
	aio_context_t ctx = setup(8);
	EXPECT_EQ(io_submit(ctx, 0, NULL), 0);
	EXPECT_ERRNO(io_submit(ctx, -1, NULL), EINVAL);
}

TEST(aio, submit_with_bad_iocb_pointers_is_EFAULT)
{
	aio_context_t ctx = setup(8);
	EXPECT_ERRNO(io_submit(ctx, 1, (struct iocb **)8), EFAULT);
	struct iocb *p[1] = {(struct iocb *)8};
	EXPECT_ERRNO(io_submit(ctx, 1, p), EFAULT);
}

TEST(aio, submit_sets_aio_key_to_0)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, "a", 1, 0);
	cb.aio_key = 55;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(cb.aio_key, 0);
}

TEST(aio, submit_past_ring_capacity_is_EAGAIN)
{
	aio_context_t ctx = setup(1);
	unsigned cap = ((struct ring *)ctx)->nr;
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, "a", 1, 0);
	unsigned n = 0;
	long r;
	while ((r = submit1(ctx, &cb)) == 1 && n <= cap)
		n++;
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EAGAIN);
	EXPECT_GE(n, 1);
	EXPECT_LE(n, cap);
	/* Reaping makes room again. */
	struct io_event ev;
	EXPECT_EQ(io_getevents(ctx, 1, 1, &ev, NULL), 1);
	EXPECT_EQ(submit1(ctx, &cb), 1);
}

TEST(aio, bad_context_is_EINVAL_everywhere)
{
	aio_context_t bad = 0x12345000;
	struct iocb cb;
	struct iocb *p[1] = {&cb};
	struct io_event ev;
	prep(&cb, IOCB_CMD_PWRITE, 1, "a", 1, 0);
	EXPECT_ERRNO(io_submit(bad, 1, p), EINVAL);
	EXPECT_ERRNO(io_getevents(bad, 0, 1, &ev, NULL), EINVAL);
	EXPECT_ERRNO(io_cancel(bad, &cb, &ev), EINVAL);
	EXPECT_ERRNO(io_destroy(bad), EINVAL);
	EXPECT_ERRNO(io_destroy(0), EINVAL);
}

TEST(aio, completions_can_be_reaped_from_the_ring)
{
	aio_context_t ctx = setup(8);
	struct ring *r = (struct ring *)ctx;
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, "abc", 3, 0);
	cb.aio_data = 0xfeed;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	struct io_event ev;
	struct timespec zero = {0, 0};
	/* Wait (without taking the event) until it is in the ring. */
	while (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == r->head)
		;
	EXPECT_EQ(r->tail, 1);
	EXPECT_EQ(r->events[0].obj, (uintptr_t)&cb);
	EXPECT_EQ(r->events[0].data, 0xfeed);
	EXPECT_EQ(r->events[0].res, 3);
	__atomic_store_n(&r->head, r->tail, __ATOMIC_RELEASE);
	EXPECT_EQ(io_getevents(ctx, 0, 1, &ev, &zero), 0);
}

TEST(aio, getevents_argument_checks)
{
	aio_context_t ctx = setup(8);
	struct io_event ev[2];
	EXPECT_ERRNO(io_getevents(ctx, 2, 1, ev, NULL), EINVAL);
	EXPECT_ERRNO(io_getevents(ctx, -1, 1, ev, NULL), EINVAL);
	EXPECT_ERRNO(io_getevents(ctx, 0, -1, ev, NULL), EINVAL);
	EXPECT_ERRNO(io_getevents(ctx, 1, 1, ev, (struct timespec *)8), EFAULT);
}

TEST(aio, getevents_zero_timeout_returns_0_at_once)
{
	aio_context_t ctx = setup(8);
	struct io_event ev;
	struct timespec zero = {0, 0};
	EXPECT_EQ(io_getevents(ctx, 1, 1, &ev, &zero), 0);
	struct timespec short_ts = {0, 1000000};
	EXPECT_EQ(io_getevents(ctx, 1, 1, &ev, &short_ts), 0);
}

TEST(aio, getevents_returns_at_most_nr)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb[3];
	struct iocb *p[3] = {&cb[0], &cb[1], &cb[2]};
	for (int i = 0; i < 3; i++)
		prep(&cb[i], IOCB_CMD_PWRITE, fd, "x", 1, i);
	ASSERT_EQ(io_submit(ctx, 3, p), 3);
	struct io_event ev[3];
	EXPECT_EQ(io_getevents(ctx, 2, 2, ev, NULL), 2);
	EXPECT_EQ(io_getevents(ctx, 1, 3, ev, NULL), 1);
}

TEST(aio, getevents_to_unmapped_array_is_EFAULT)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, "x", 1, 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_ERRNO(io_getevents(ctx, 1, 1, (struct io_event *)8, NULL), EFAULT);
}

static void on_usr1(int sig) { (void)sig; }

static void handle_usr1(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
}

TEST(aio, getevents_interrupted_by_signal_is_EINTR)
{
	aio_context_t ctx = setup(8);
	handle_usr1();
	pid_t parent = getpid();
	pid_t child = fork();
	ASSERT_SYSCALL_OK(child);
	if (child == 0) {
		for (;;) {
			kill(parent, SIGUSR1);
			usleep(10000);
		}
	}
	struct io_event ev;
	EXPECT_ERRNO(io_getevents(ctx, 1, 1, &ev, NULL), EINTR);
	kill(child, SIGKILL);
	test_wait_exit(child);
}

struct sigarg {
	const sigset_t *mask;
	size_t size;
};

TEST(aio, pgetevents_applies_its_signal_mask)
{
	aio_context_t ctx = setup(8);
	handle_usr1();
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &block, NULL));
	raise(SIGUSR1);
	struct io_event ev;
	struct timespec zero = {0, 0};
	/* With SIGUSR1 still blocked, nothing interrupts a zero wait. */
	struct sigarg keep = {&block, 8};
	EXPECT_EQ(syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, &zero, &keep), 0);
	/* Unblocked during the call, the pending signal interrupts it. */
	struct sigarg open_ = {&none, 8};
	EXPECT_ERRNO(syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, NULL, &open_), EINTR);
	/* ... and the old mask is back. */
	sigset_t cur;
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, NULL, &cur));
	EXPECT_TRUE(sigismember(&cur, SIGUSR1));
	sigset_t pend;
	sigpending(&pend);
	EXPECT_FALSE(sigismember(&pend, SIGUSR1));
}

TEST(aio, pgetevents_bad_sigset_size_is_EINVAL)
{
	aio_context_t ctx = setup(8);
	sigset_t none;
	sigemptyset(&none);
	struct io_event ev;
	struct timespec zero = {0, 0};
	struct sigarg bad = {&none, 4};
	EXPECT_ERRNO(syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, &zero, &bad), EINVAL);
	EXPECT_ERRNO(syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, &zero, (void *)8), EFAULT);
	struct sigarg nomask = {NULL, 8};
	EXPECT_EQ(syscall(SYS_io_pgetevents, ctx, 1, 1, &ev, &zero, &nomask), 0);
}

TEST(aio, cancel_of_completed_request_is_EINVAL)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	struct io_event ev;
	prep(&cb, IOCB_CMD_PWRITE, fd, "x", 1, 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_ERRNO(io_cancel(ctx, &cb, &ev), EINVAL);
	EXPECT_ERRNO(io_cancel(ctx, (struct iocb *)8, &ev), EFAULT);
	cb.aio_key = 1;
	EXPECT_ERRNO(io_cancel(ctx, &cb, &ev), EINVAL);
}

TEST(aio, poll_completes_when_the_file_becomes_ready)
{
	aio_context_t ctx = setup(8);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct iocb cb;
	prep(&cb, IOCB_CMD_POLL, p[0], NULL, 0, 0);
	cb.aio_buf = POLLIN;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	struct io_event ev;
	struct timespec zero = {0, 0};
	EXPECT_EQ(io_getevents(ctx, 1, 1, &ev, &zero), 0);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	ev = wait1(ctx, &cb);
	EXPECT_TRUE(ev.res & POLLIN);
	EXPECT_FALSE(ev.res & POLLOUT);
}

TEST(aio, poll_of_ready_file_completes_at_once)
{
	aio_context_t ctx = setup(8);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct iocb cb;
	prep(&cb, IOCB_CMD_POLL, p[1], NULL, 0, 0);
	cb.aio_buf = POLLOUT | POLLIN;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, POLLOUT);
}

TEST(aio, poll_with_offset_or_length_is_EINVAL)
{
	aio_context_t ctx = setup(8);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct iocb cb;
	prep(&cb, IOCB_CMD_POLL, p[0], NULL, 1, 0);
	cb.aio_buf = POLLIN;
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
	prep(&cb, IOCB_CMD_POLL, p[0], NULL, 0, 0);
	cb.aio_buf = POLLIN | (1ull << 40);
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
}

TEST(aio, cancel_of_pending_poll_is_EINPROGRESS_and_completes_it)
{
	aio_context_t ctx = setup(8);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct iocb cb;
	prep(&cb, IOCB_CMD_POLL, p[0], NULL, 0, 0);
	cb.aio_buf = POLLIN;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	struct io_event ev;
	EXPECT_ERRNO(io_cancel(ctx, &cb, &ev), EINPROGRESS);
	ev = wait1(ctx, &cb);
	EXPECT_EQ(ev.res, 0);
	/* Cancelled once, it is no longer there. */
	EXPECT_ERRNO(io_cancel(ctx, &cb, &ev), EINVAL);
}

TEST(aio, resfd_eventfd_is_signalled_on_completion)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	int efd = eventfd(0, 0);
	ASSERT_SYSCALL_OK(efd);
	struct iocb cb[2];
	struct iocb *p[2] = {&cb[0], &cb[1]};
	for (int i = 0; i < 2; i++) {
		prep(&cb[i], IOCB_CMD_PWRITE, fd, "x", 1, i);
		cb[i].aio_flags = IOCB_FLAG_RESFD;
		cb[i].aio_resfd = efd;
	}
	ASSERT_EQ(io_submit(ctx, 2, p), 2);
	struct io_event ev[2];
	ASSERT_EQ(io_getevents(ctx, 2, 2, ev, NULL), 2);
	uint64_t n = 0;
	EXPECT_EQ(read(efd, &n, 8), 8);
	EXPECT_EQ(n, 2);
}

TEST(aio, resfd_that_is_not_an_eventfd_is_rejected)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, "x", 1, 0);
	cb.aio_flags = IOCB_FLAG_RESFD;
	cb.aio_resfd = fd;
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
	cb.aio_resfd = 999;
	EXPECT_ERRNO(submit1(ctx, &cb), EBADF);
}

TEST(aio, ioprio_flag_checks_the_priority)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, "x", 1, 0);
	cb.aio_flags = IOCB_FLAG_IOPRIO;
	cb.aio_reqprio = (2 << 13) | 4; /* IOPRIO_CLASS_BE, level 4 */
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 1);
	cb.aio_reqprio = (5 << 13); /* no class 5 */
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
}

TEST(aio, read_of_empty_nonblocking_pipe_completes_with_EAGAIN)
{
	aio_context_t ctx = setup(8);
	int p[2];
	ASSERT_SYSCALL_OK(pipe2(p, O_NONBLOCK));
	char buf[4];
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, p[0], buf, sizeof(buf), 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, -EAGAIN);
	ASSERT_EQ(write(p[1], "ab", 2), 2);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 2);
	EXPECT_MEMEQ(buf, "ab", 2);
}

TEST(aio, destroy_makes_the_context_unusable)
{
	aio_context_t ctx = setup(8);
	struct io_event ev;
	EXPECT_SYSCALL_OK(io_destroy(ctx));
	EXPECT_ERRNO(io_getevents(ctx, 0, 1, &ev, NULL), EINVAL);
	EXPECT_ERRNO(io_destroy(ctx), EINVAL);
}

TEST(aio, destroy_with_pending_poll_finishes)
{
	aio_context_t ctx = setup(8);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct iocb cb;
	prep(&cb, IOCB_CMD_POLL, p[0], NULL, 0, 0);
	cb.aio_buf = POLLIN;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_SYSCALL_OK(io_destroy(ctx));
}

TEST(aio, exit_with_pending_poll_finishes)
{
	pid_t child = fork();
	ASSERT_SYSCALL_OK(child);
	if (child == 0) {
		aio_context_t ctx = setup(8);
		int p[2];
		ASSERT_SYSCALL_OK(pipe(p));
		struct iocb cb;
		prep(&cb, IOCB_CMD_POLL, p[0], NULL, 0, 0);
		cb.aio_buf = POLLIN;
		ASSERT_EQ(submit1(ctx, &cb), 1);
		_exit(7);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(child), 7);
}

TEST(aio, unmapped_ring_makes_the_context_unusable)
{
	aio_context_t ctx = setup(8);
	unsigned nr = ((struct ring *)ctx)->nr;
	size_t len = (32 + (size_t)nr * 32 + 4095) & ~4095ul;
	ASSERT_SYSCALL_OK(munmap((void *)ctx, len));
	struct io_event ev;
	EXPECT_ERRNO(io_getevents(ctx, 0, 1, &ev, NULL), EINVAL);
	EXPECT_ERRNO(io_destroy(ctx), EINVAL);
}

TEST(aio, forked_child_does_not_inherit_contexts)
{
	aio_context_t ctx = setup(8);
	pid_t child = fork();
	ASSERT_SYSCALL_OK(child);
	if (child == 0) {
		struct io_event ev;
		EXPECT_ERRNO(io_getevents(ctx, 0, 1, &ev, NULL), EINVAL);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(child), 0);
	struct io_event ev;
	struct timespec zero = {0, 0};
	EXPECT_EQ(io_getevents(ctx, 0, 1, &ev, &zero), 0);
}

TEST(aio, contexts_are_distinct)
{
	aio_context_t a = setup(8), b = setup(8);
	EXPECT_NE(a, b);
	EXPECT_SYSCALL_OK(io_destroy(a));
	struct io_event ev;
	struct timespec zero = {0, 0};
	EXPECT_EQ(io_getevents(b, 0, 1, &ev, &zero), 0);
}

TEST(aio, blocking_pipe_read_waits_in_submit_and_a_signal_ends_it_with_EINTR)
{
	aio_context_t ctx = setup(8);
	handle_usr1();
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t parent = getpid();
	pid_t child = fork();
	ASSERT_SYSCALL_OK(child);
	if (child == 0) {
		for (;;) {
			kill(parent, SIGUSR1);
			usleep(10000);
		}
	}
	char buf[4];
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, p[0], buf, sizeof(buf), 0);
	EXPECT_EQ(submit1(ctx, &cb), 1);
	kill(child, SIGKILL);
	test_wait_exit(child);
	EXPECT_EQ(wait1(ctx, &cb).res, -EINTR);
}

TEST(aio, exit_while_blocked_in_submit_finishes)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t child = fork();
	ASSERT_SYSCALL_OK(child);
	if (child == 0) {
		aio_context_t ctx = setup(8);
		char buf[4];
		struct iocb cb;
		prep(&cb, IOCB_CMD_PREAD, p[0], buf, sizeof(buf), 0);
		submit1(ctx, &cb);
		_exit(1);
	}
	kill(child, SIGKILL);
	EXPECT_KILLED_BY(test_wait_exit(child), SIGKILL);
}

TEST(aio, garbage_ring_head_is_survived)
{
	aio_context_t ctx = setup(8);
	struct ring *r = (struct ring *)ctx;
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, "x", 1, 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	r->head = 0xfffffff0u;
	struct io_event ev[64];
	struct timespec zero = {0, 0};
	long n = io_getevents(ctx, 0, 64, ev, &zero);
	EXPECT_GE(n, 0);
	EXPECT_LE(n, r->nr);
	/* The context still works. */
	EXPECT_EQ(submit1(ctx, &cb), 1);
}

TEST(aio, many_polls_then_destroy)
{
	aio_context_t ctx = setup(64);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	static struct iocb cb[32];
	struct iocb *ptrs[32];
	for (int i = 0; i < 32; i++) {
		prep(&cb[i], IOCB_CMD_POLL, p[0], NULL, 0, 0);
		cb[i].aio_buf = POLLIN;
		ptrs[i] = &cb[i];
	}
	ASSERT_EQ(io_submit(ctx, 32, ptrs), 32);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	struct io_event ev[32];
	EXPECT_GE(io_getevents(ctx, 1, 32, ev, NULL), 1);
	EXPECT_SYSCALL_OK(io_destroy(ctx));
}

TEST(aio, poll_on_eventfd_with_resfd_on_itself)
{
	aio_context_t ctx = setup(8);
	int efd = eventfd(0, 0);
	ASSERT_SYSCALL_OK(efd);
	struct iocb cb;
	prep(&cb, IOCB_CMD_POLL, efd, NULL, 0, 0);
	cb.aio_buf = POLLIN;
	cb.aio_flags = IOCB_FLAG_RESFD;
	cb.aio_resfd = efd;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	uint64_t one = 1;
	ASSERT_EQ(write(efd, &one, 8), 8);
	struct io_event ev = wait1(ctx, &cb);
	EXPECT_TRUE(ev.res & POLLIN);
	uint64_t n = 0;
	EXPECT_EQ(read(efd, &n, 8), 8);
	EXPECT_EQ(n, 2);
}

TEST(aio, getevents_timeout_is_not_validated)
{
	/* Linux converts the timespec without checking it: a tv_nsec of
	 * a whole second is one second, not EINVAL. */
	aio_context_t ctx = setup(8);
	struct io_event ev;
	struct timespec second = {0, 1000000000};
	EXPECT_EQ(io_getevents(ctx, 1, 1, &ev, &second), 0);
}

static int ring_mapped(aio_context_t ctx)
{
	FILE *f = fopen("/proc/self/maps", "r");
	ASSERT_TRUE(f != NULL);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start <= ctx && ctx < end)
			found = 1;
	}
	fclose(f);
	return found;
}

TEST(aio, destroy_unmaps_the_ring)
{
	aio_context_t ctx = setup(8);
	EXPECT_TRUE(ring_mapped(ctx));
	EXPECT_SYSCALL_OK(io_destroy(ctx));
	EXPECT_FALSE(ring_mapped(ctx));
}

#include <pthread.h>

struct worker {
	aio_context_t ctx;
	int fd;
	long reaped;
};

static void *submit_and_reap(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 200; i++) {
		struct iocb cb;
		prep(&cb, IOCB_CMD_PWRITE, w->fd, "z", 1, i);
		struct iocb *p[1] = {&cb};
		long r;
		while ((r = io_submit(w->ctx, 1, p)) == -1 && errno == EAGAIN) {
			struct io_event ev;
			struct timespec zero = {0, 0};
			long n = io_getevents(w->ctx, 0, 1, &ev, &zero);
			if (n > 0)
				__atomic_add_fetch(&w->reaped, n, __ATOMIC_RELAXED);
		}
		if (r != 1)
			return (void *)1;
	}
	return NULL;
}

TEST(aio, threads_share_a_context)
{
	aio_context_t ctx = setup(16);
	int fd = tmpfile_rw();
	struct worker w = {ctx, fd, 0};
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, submit_and_reap, &w), 0);
	for (int i = 0; i < 4; i++) {
		void *ret;
		ASSERT_EQ(pthread_join(th[i], &ret), 0);
		EXPECT_TRUE(ret == NULL);
	}
	struct io_event ev[64];
	struct timespec zero = {0, 0};
	long n;
	while ((n = io_getevents(ctx, 0, 64, ev, &zero)) > 0)
		w.reaped += n;
	EXPECT_EQ(w.reaped, 800);
}

TEST(aio, context_follows_its_ring_when_mremap_moves_it)
{
	aio_context_t ctx = setup(8);
	unsigned nr = ((struct ring *)ctx)->nr;
	size_t len = (32 + (size_t)nr * 32 + 4095) & ~4095ul;
	void *dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(dst != MAP_FAILED);
	void *moved = mremap((void *)ctx, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_TRUE(moved == dst);
	aio_context_t nctx = (aio_context_t)moved;
	struct io_event ev;
	struct timespec zero = {0, 0};
	EXPECT_ERRNO(io_getevents(ctx, 0, 1, &ev, &zero), EINVAL);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, fd, "m", 1, 0);
	ASSERT_EQ(submit1(nctx, &cb), 1);
	EXPECT_EQ(wait1(nctx, &cb).res, 1);
	EXPECT_SYSCALL_OK(io_destroy(nctx));
	EXPECT_FALSE(ring_mapped(nctx));
}

static void write_proc_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fprintf(f, "%ld\n", v);
	ASSERT_EQ(fclose(f), 0);
}

TEST(aio, lowered_aio_max_nr_limits_setup)
{
	/* Changing the host's sysctl would disturb everything else on it. */
	SKIP_UNLESS_IN_SANDBOX();
	if (geteuid() != 0)
		TEST_SKIP("writing aio-max-nr needs root");
	long old = read_proc_long("/proc/sys/fs/aio-max-nr");
	long used = read_proc_long("/proc/sys/fs/aio-nr");
	write_proc_long("/proc/sys/fs/aio-max-nr", used + 100);
	EXPECT_EQ(read_proc_long("/proc/sys/fs/aio-max-nr"), used + 100);
	aio_context_t ctx = 0;
	EXPECT_ERRNO(io_setup(101, &ctx), EAGAIN);
	aio_context_t a = setup(60);
	EXPECT_ERRNO(io_setup(41, &ctx), EAGAIN);
	EXPECT_SYSCALL_OK(io_destroy(a));
	aio_context_t b = setup(100);
	EXPECT_SYSCALL_OK(io_destroy(b));
	write_proc_long("/proc/sys/fs/aio-max-nr", old);
}

TEST(aio, fsync_of_a_pipe_is_EINVAL)
{
	aio_context_t ctx = setup(8);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct iocb cb;
	prep(&cb, IOCB_CMD_FSYNC, p[1], NULL, 0, 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
}

TEST(aio, read_of_a_directory)
{
	aio_context_t ctx = setup(8);
	int fd = open(test_tmpdir(), O_RDONLY | O_DIRECTORY);
	ASSERT_SYSCALL_OK(fd);
	char buf[16];
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, fd, buf, sizeof(buf), 0);
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
}

TEST(aio, negative_offset_is_EINVAL)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	char buf[16];
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, fd, buf, sizeof(buf), -1);
	EXPECT_ERRNO(submit1(ctx, &cb), EINVAL);
}

TEST(aio, poll_of_a_regular_file_is_ready)
{
	aio_context_t ctx = setup(8);
	int fd = tmpfile_rw();
	struct iocb cb;
	prep(&cb, IOCB_CMD_POLL, fd, NULL, 0, 0);
	cb.aio_buf = POLLIN | POLLOUT;
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, POLLIN | POLLOUT);
}

#include <sys/socket.h>
#include <netinet/in.h>

TEST(aio, read_and_write_on_a_unix_socket_pair)
{
	aio_context_t ctx = setup(8);
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct iocb cb;
	prep(&cb, IOCB_CMD_PWRITE, sv[0], "sock", 4, 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 4);
	char buf[8] = {0};
	prep(&cb, IOCB_CMD_PREAD, sv[1], buf, sizeof(buf), 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 4);
	EXPECT_MEMEQ(buf, "sock", 4);
}

TEST(aio, read_and_poll_on_a_tcp_connection)
{
	aio_context_t ctx = setup(8);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_SYSCALL_OK(l);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_SYSCALL_OK(listen(l, 1));
	ASSERT_SYSCALL_OK(getsockname(l, (struct sockaddr *)&a, &al));
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_SYSCALL_OK(connect(c, (struct sockaddr *)&a, sizeof(a)));
	int s = accept(l, NULL, NULL);
	ASSERT_SYSCALL_OK(s);
	struct iocb pcb;
	prep(&pcb, IOCB_CMD_POLL, s, NULL, 0, 0);
	pcb.aio_buf = POLLIN;
	ASSERT_EQ(submit1(ctx, &pcb), 1);
	ASSERT_EQ(write(c, "tcp!", 4), 4);
	struct io_event ev = wait1(ctx, &pcb);
	EXPECT_TRUE(ev.res & POLLIN);
	char buf[8] = {0};
	struct iocb cb;
	prep(&cb, IOCB_CMD_PREAD, s, buf, sizeof(buf), 0);
	ASSERT_EQ(submit1(ctx, &cb), 1);
	EXPECT_EQ(wait1(ctx, &cb).res, 4);
	EXPECT_MEMEQ(buf, "tcp!", 4);
}

TEST_HELPER(aio_exec_target)
{
	/* Exits 0 if aio-nr is back to argv[1] after the exec. */
	if (argc < 2)
		return 2;
	return read_proc_long("/proc/sys/fs/aio-nr") == atol(argv[1]) ? 0 : 1;
}

TEST(aio, exit_and_exec_give_the_events_back_to_aio_nr)
{
	/* aio-nr is host-wide natively: other programs move it. */
	SKIP_UNLESS_IN_SANDBOX();
	long base = read_proc_long("/proc/sys/fs/aio-nr");
	char arg[32];
	snprintf(arg, sizeof(arg), "%ld", base);
	pid_t child = fork();
	ASSERT_SYSCALL_OK(child);
	if (child == 0) {
		setup(4096);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(child), 0);
	EXPECT_EQ(read_proc_long("/proc/sys/fs/aio-nr"), base);
	child = fork();
	ASSERT_SYSCALL_OK(child);
	if (child == 0) {
		setup(4096);
		execl(test_self_exe(), test_self_exe(), "--helper", "aio_exec_target", arg, (char *)NULL);
		_exit(127);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(child), 0);
}

TEST(aio, contexts_stop_at_aio_max_nr)
{
	/* Natively this would take the whole host's AIO budget. */
	SKIP_UNLESS_IN_SANDBOX();
	long max = read_proc_long("/proc/sys/fs/aio-max-nr");
	static aio_context_t ctx[1024];
	int n = 0;
	long r;
	for (;;) {
		ASSERT_LT(n, 1024);
		ctx[n] = 0;
		r = io_setup(1000, &ctx[n]);
		if (r != 0)
			break;
		n++;
	}
	EXPECT_EQ(errno, EAGAIN);
	EXPECT_LE((long)n * 1000, max);
	/* The one refused would not have fitted. */
	EXPECT_GT(read_proc_long("/proc/sys/fs/aio-nr") + 1000, max);
	for (int i = 0; i < n; i++)
		EXPECT_SYSCALL_OK(io_destroy(ctx[i]));
	aio_context_t again = setup(1000);
	EXPECT_SYSCALL_OK(io_destroy(again));
}

struct churn {
	aio_context_t ctx;
	int p[2];
	struct iocb cb[16];
	volatile int stop;
};

static void *churn_writer(void *arg)
{
	struct churn *c = arg;
	while (!c->stop) {
		char x;
		if (write(c->p[1], "w", 1) == 1)
			(void)!read(c->p[0], &x, 1);
	}
	return NULL;
}

static void *churn_canceller(void *arg)
{
	struct churn *c = arg;
	while (!c->stop)
		for (int i = 0; i < 16; i++) {
			struct io_event ev;
			io_cancel(c->ctx, &c->cb[i], &ev);
		}
	return NULL;
}

TEST(aio, polls_cancels_and_destroy_race_without_harm)
{
	static struct churn c;
	c.ctx = setup(64);
	c.stop = 0;
	ASSERT_SYSCALL_OK(pipe2(c.p, O_NONBLOCK));
	pthread_t w, k;
	ASSERT_EQ(pthread_create(&w, NULL, churn_writer, &c), 0);
	ASSERT_EQ(pthread_create(&k, NULL, churn_canceller, &c), 0);
	long completed = 0;
	for (int round = 0; round < 200; round++) {
		struct iocb *ptrs[16];
		for (int i = 0; i < 16; i++) {
			prep(&c.cb[i], IOCB_CMD_POLL, c.p[0], NULL, 0, 0);
			c.cb[i].aio_buf = POLLIN;
			ptrs[i] = &c.cb[i];
		}
		long n = io_submit(c.ctx, 16, ptrs);
		ASSERT_EQ(n, 16);
		struct io_event ev[16];
		long got = 0;
		while (got < 16) {
			long r = io_getevents(c.ctx, 1, 16 - got, ev, NULL);
			ASSERT_GT(r, 0);
			got += r;
		}
		completed += got;
	}
	EXPECT_EQ(completed, 200 * 16);
	/* Destroy with polls pending and both threads still going. */
	struct iocb *ptrs[16];
	for (int i = 0; i < 16; i++) {
		prep(&c.cb[i], IOCB_CMD_POLL, c.p[1], NULL, 0, 0);
		c.cb[i].aio_buf = POLLPRI;
		ptrs[i] = &c.cb[i];
	}
	EXPECT_EQ(io_submit(c.ctx, 16, ptrs), 16);
	EXPECT_SYSCALL_OK(io_destroy(c.ctx));
	c.stop = 1;
	pthread_join(w, NULL);
	pthread_join(k, NULL);
}
