/*
 * futex2: futex_wake(2), futex_wait(2) and futex_requeue(2) (Linux 6.7),
 * their flag, mask and timeout checks, and their interplay with the
 * classic futex(2) queue of the same word.
 *
 * Cases that need a waiter asleep in the kernel find out with
 * wait_for_waiters(), which counts the waiters by requeueing them to a
 * scratch word and back with FUTEX_CMP_REQUEUE, so nothing depends on
 * timing.
 */
#include "test.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#define NR_futex_wake 454
#define NR_futex_wait 455
#define NR_futex_requeue 456

#define F2_U8 0x00
#define F2_U16 0x01
#define F2_U32 0x02
#define F2_U64 0x03
#define F2_NUMA 0x04
#define F2_MPOL 0x08
#define F2_PRIVATE 128

struct waitv {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t reserved;
};

static long f2_wake(void *uaddr, unsigned long mask, int nr, unsigned flags)
{
	return syscall(NR_futex_wake, uaddr, mask, nr, flags);
}

static long f2_wait(void *uaddr, unsigned long val, unsigned long mask, unsigned flags, const struct timespec *ts,
		    clockid_t clk)
{
	return syscall(NR_futex_wait, uaddr, val, mask, flags, ts, clk);
}

static long f2_requeue(struct waitv *w, unsigned flags, int nr_wake, int nr_requeue)
{
	return syscall(NR_futex_requeue, w, flags, nr_wake, nr_requeue);
}

static long futex(void *uaddr, int op, uint32_t val, const void *timeout_or_val2, void *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

/* skip_if_no_futex2 ends the case on a kernel older than 6.7. */
static void skip_if_no_futex2(void)
{
	uint32_t w = 0;
	if (f2_wake(&w, ~0u, 1, F2_U32 | F2_PRIVATE) < 0 && errno == ENOSYS)
		TEST_SKIP("no futex2 calls (Linux < 6.7)");
}

/*
 * wait_for_waiters returns once exactly n tasks wait on f (a private word
 * when op has FUTEX_PRIVATE_FLAG), whose value must stay val meanwhile.
 */
static void wait_for_waiters(_Atomic uint32_t *f, uint32_t val, int n, int private)
{
	static _Atomic uint32_t scratch;
	int pf = private ? FUTEX_PRIVATE_FLAG : 0;
	for (int i = 0; i < 1000000; i++) {
		long moved = futex((void *)f, FUTEX_CMP_REQUEUE | pf, 0, (void *)(long)INT_MAX, (void *)&scratch, val);
		ASSERT_GE(moved, 0);
		long back = futex((void *)&scratch, FUTEX_REQUEUE | pf, 0, (void *)(long)INT_MAX, (void *)f, 0);
		ASSERT_EQ(back, moved);
		if (moved == n)
			return;
		ASSERT_LT(moved, n);
		sched_yield();
	}
	test_fail(__FILE__, __LINE__, 1, "waiters never reached %d", n);
}

static struct timespec in_past(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	ts.tv_sec -= 1;
	return ts;
}

/* ---- futex_wake ---- */

TEST(futex_wake, unknown_flag_is_EINVAL)
{
	skip_if_no_futex2();
	uint32_t w = 0;
	EXPECT_ERRNO(f2_wake(&w, ~0u, 1, F2_U32 | 0x40), EINVAL);
	EXPECT_ERRNO(f2_wake(&w, ~0u, 1, F2_U32 | 0x100), EINVAL);
	EXPECT_ERRNO(f2_wake(&w, ~0u, 1, F2_U32 | 0x80000000u), EINVAL);
	EXPECT_EQ(f2_wake(&w, ~0u, 1, F2_U32), 0);
}

TEST(futex_wake, sizes_other_than_U32_are_EINVAL)
{
	skip_if_no_futex2();
	uint64_t w = 0;
	EXPECT_ERRNO(f2_wake(&w, 1, 1, F2_U8 | F2_PRIVATE), EINVAL);
	EXPECT_ERRNO(f2_wake(&w, 1, 1, F2_U16 | F2_PRIVATE), EINVAL);
	EXPECT_ERRNO(f2_wake(&w, 1, 1, F2_U64 | F2_PRIVATE), EINVAL);
	EXPECT_EQ(f2_wake(&w, 1, 1, F2_U32 | F2_PRIVATE), 0);
}

TEST(futex_wake, zero_mask_and_mask_wider_than_the_word_are_EINVAL)
{
	skip_if_no_futex2();
	uint32_t w = 0;
	EXPECT_ERRNO(f2_wake(&w, 0, 1, F2_U32 | F2_PRIVATE), EINVAL);
	EXPECT_ERRNO(f2_wake(&w, 1ul << 32, 1, F2_U32 | F2_PRIVATE), EINVAL);
	EXPECT_EQ(f2_wake(&w, 0xffffffffu, 1, F2_U32 | F2_PRIVATE), 0);
}

TEST(futex_wake, misaligned_word_is_EINVAL)
{
	skip_if_no_futex2();
	uint32_t w[2] = {0, 0};
	EXPECT_ERRNO(f2_wake((char *)w + 1, ~0u, 1, F2_U32 | F2_PRIVATE), EINVAL);
	EXPECT_ERRNO(f2_wake((char *)w + 2, ~0u, 1, F2_U32), EINVAL);
}

TEST(futex_wake, unmapped_shared_word_is_EFAULT_private_is_not_looked_at)
{
	skip_if_no_futex2();
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_EQ(munmap(p, 4096), 0);
	EXPECT_ERRNO(f2_wake(p, ~0u, 1, F2_U32), EFAULT);
	EXPECT_EQ(f2_wake(p, ~0u, 1, F2_U32 | F2_PRIVATE), 0);
}

/* ---- futex_wait ---- */

TEST(futex_wait, value_mismatch_is_EAGAIN)
{
	skip_if_no_futex2();
	uint32_t w = 5;
	EXPECT_ERRNO(f2_wait(&w, 4, ~0u, F2_U32 | F2_PRIVATE, NULL, 0), EAGAIN);
	EXPECT_ERRNO(f2_wait(&w, 4, ~0u, F2_U32, NULL, 0), EAGAIN);
}

TEST(futex_wait, flags_value_and_mask_are_checked)
{
	skip_if_no_futex2();
	uint32_t w = 0;
	EXPECT_ERRNO(f2_wait(&w, 1, ~0u, F2_U32 | 0x20, NULL, 0), EINVAL);
	EXPECT_ERRNO(f2_wait(&w, 1, ~0u, F2_U64 | F2_PRIVATE, NULL, 0), EINVAL);
	EXPECT_ERRNO(f2_wait(&w, 1, ~0u, F2_U8 | F2_PRIVATE, NULL, 0), EINVAL);
	/* A value or mask wider than 32 bits. */
	EXPECT_ERRNO(f2_wait(&w, 1ul << 32, ~0u, F2_U32 | F2_PRIVATE, NULL, 0), EINVAL);
	EXPECT_ERRNO(f2_wait(&w, 1, 1ul << 32, F2_U32 | F2_PRIVATE, NULL, 0), EINVAL);
	EXPECT_ERRNO(f2_wait((char *)&w + 2, 1, ~0u, F2_U32 | F2_PRIVATE, NULL, 0), EINVAL);
}

TEST(futex_wait, clock_is_checked_only_with_a_timeout)
{
	skip_if_no_futex2();
	uint32_t w = 1;
	struct timespec ts = {0, 0};
	EXPECT_ERRNO(f2_wait(&w, 0, ~0u, F2_U32 | F2_PRIVATE, &ts, CLOCK_BOOTTIME), EINVAL);
	EXPECT_ERRNO(f2_wait(&w, 0, ~0u, F2_U32 | F2_PRIVATE, &ts, CLOCK_PROCESS_CPUTIME_ID), EINVAL);
	EXPECT_ERRNO(f2_wait(&w, 0, ~0u, F2_U32 | F2_PRIVATE, NULL, CLOCK_BOOTTIME), EAGAIN);
}

TEST(futex_wait, bad_timeout_is_EFAULT_or_EINVAL_before_the_word)
{
	skip_if_no_futex2();
	uint32_t w = 1;
	struct timespec bad = {0, 1000000000};
	EXPECT_ERRNO(f2_wait(&w, 0, ~0u, F2_U32 | F2_PRIVATE, (void *)8, CLOCK_MONOTONIC), EFAULT);
	EXPECT_ERRNO(f2_wait(&w, 0, ~0u, F2_U32 | F2_PRIVATE, &bad, CLOCK_MONOTONIC), EINVAL);
	bad.tv_nsec = -1;
	EXPECT_ERRNO(f2_wait(&w, 0, ~0u, F2_U32 | F2_PRIVATE, &bad, CLOCK_REALTIME), EINVAL);
}

TEST(futex_wait, absolute_timeout_in_the_past_is_ETIMEDOUT_on_either_clock)
{
	skip_if_no_futex2();
	uint32_t w = 0;
	struct timespec m = in_past(CLOCK_MONOTONIC), r = in_past(CLOCK_REALTIME);
	EXPECT_ERRNO(f2_wait(&w, 0, ~0u, F2_U32 | F2_PRIVATE, &m, CLOCK_MONOTONIC), ETIMEDOUT);
	EXPECT_ERRNO(f2_wait(&w, 0, ~0u, F2_U32, &r, CLOCK_REALTIME), ETIMEDOUT);
	/* A zero timeout is absolute too: long past. */
	struct timespec zero = {0, 0};
	EXPECT_ERRNO(f2_wait(&w, 0, ~0u, F2_U32 | F2_PRIVATE, &zero, CLOCK_MONOTONIC), ETIMEDOUT);
}

TEST(futex_wait, unmapped_word_is_EFAULT)
{
	skip_if_no_futex2();
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_EQ(munmap(p, 4096), 0);
	EXPECT_ERRNO(f2_wait(p, 0, ~0u, F2_U32 | F2_PRIVATE, NULL, 0), EFAULT);
	EXPECT_ERRNO(f2_wait(p, 0, ~0u, F2_U32, NULL, 0), EFAULT);
}

/* A futex_wait waiter is woken by the classic FUTEX_WAKE of the same word. */
static _Atomic uint32_t interop_word;
static void *f2_waiter(void *arg)
{
	long flags = (long)arg;
	long r = f2_wait((void *)&interop_word, 0, ~0u, (unsigned)flags, NULL, 0);
	return (void *)r;
}

TEST(futex_wait, is_woken_by_classic_FUTEX_WAKE)
{
	skip_if_no_futex2();
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, f2_waiter, (void *)(long)(F2_U32 | F2_PRIVATE)), 0);
	wait_for_waiters(&interop_word, 0, 1, 1);
	EXPECT_EQ(futex((void *)&interop_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
	void *r;
	pthread_join(th, &r);
	EXPECT_EQ((long)r, 0);
}

static void *classic_waiter(void *arg)
{
	(void)arg;
	long r = futex((void *)&interop_word, FUTEX_WAIT, 0, NULL, NULL, 0);
	return (void *)r;
}

TEST(futex_wake, wakes_a_classic_FUTEX_WAIT_waiter_and_nr_0_wakes_none)
{
	skip_if_no_futex2();
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, classic_waiter, NULL), 0);
	wait_for_waiters(&interop_word, 0, 1, 0);
	/* Unlike FUTEX_WAKE, nr 0 wakes nobody. */
	EXPECT_EQ(f2_wake((void *)&interop_word, ~0u, 0, F2_U32), 0);
	wait_for_waiters(&interop_word, 0, 1, 0);
	EXPECT_EQ(f2_wake((void *)&interop_word, ~0u, 5, F2_U32), 1);
	void *r;
	pthread_join(th, &r);
	EXPECT_EQ((long)r, 0);
}

static void *bitset_waiter(void *arg)
{
	(void)arg;
	long r = f2_wait((void *)&interop_word, 0, 0x1, F2_U32 | F2_PRIVATE, NULL, 0);
	return (void *)r;
}

TEST(futex_wake, wakes_only_waiters_whose_mask_intersects)
{
	skip_if_no_futex2();
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, bitset_waiter, NULL), 0);
	wait_for_waiters(&interop_word, 0, 1, 1);
	EXPECT_EQ(f2_wake((void *)&interop_word, 0x6, 1, F2_U32 | F2_PRIVATE), 0);
	EXPECT_EQ(futex((void *)&interop_word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0x2), 0);
	wait_for_waiters(&interop_word, 0, 1, 1);
	EXPECT_EQ(f2_wake((void *)&interop_word, 0x3, 1, F2_U32 | F2_PRIVATE), 1);
	void *r;
	pthread_join(th, &r);
	EXPECT_EQ((long)r, 0);
}

/* A waiter in a shared mapping is found by another process through it. */
TEST(futex_wait, shared_word_across_processes)
{
	skip_if_no_futex2();
	_Atomic uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE((void *)w, MAP_FAILED);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(f2_wait((void *)w, 0, ~0u, F2_U32, NULL, 0) == 0 ? 0 : 1);
	wait_for_waiters(w, 0, 1, 0);
	/* A private wake does not see a shared waiter. */
	EXPECT_EQ(f2_wake((void *)w, ~0u, 1, F2_U32 | F2_PRIVATE), 0);
	EXPECT_EQ(f2_wake((void *)w, ~0u, 1, F2_U32), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

/* ---- FUTEX2_NUMA ---- */

TEST(futex_wait, NUMA_reads_the_node_word_after_the_value)
{
	skip_if_no_futex2();
	uint32_t w[4] __attribute__((aligned(8))) = {0, 0, 0, 0};
	/* The {value, node} pair must be aligned to its size. */
	EXPECT_ERRNO(f2_wake(&w[1], ~0u, 1, F2_U32 | F2_NUMA | F2_PRIVATE), EINVAL);
	/* Node 0 exists everywhere; a node far beyond any machine does not. */
	w[1] = 0;
	EXPECT_EQ(f2_wake(&w[0], ~0u, 1, F2_U32 | F2_NUMA | F2_PRIVATE), 0);
	EXPECT_ERRNO(f2_wait(&w[0], 1, ~0u, F2_U32 | F2_NUMA | F2_PRIVATE, NULL, 0), EAGAIN);
	w[1] = 0x7fffffff;
	EXPECT_ERRNO(f2_wake(&w[0], ~0u, 1, F2_U32 | F2_NUMA | F2_PRIVATE), EINVAL);
	EXPECT_ERRNO(f2_wait(&w[0], 1, ~0u, F2_U32 | F2_NUMA | F2_PRIVATE, NULL, 0), EINVAL);
	/* ~0 means no node yet: the kernel stores the node it picks. */
	w[1] = ~0u;
	EXPECT_EQ(f2_wake(&w[0], ~0u, 1, F2_U32 | F2_NUMA | F2_PRIVATE), 0);
	EXPECT_NE(w[1], ~0u);
	EXPECT_LT(w[1], 1u << 16);
	w[1] = ~0u;
	EXPECT_ERRNO(f2_wait(&w[0], 1, ~0u, F2_U32 | F2_NUMA | F2_PRIVATE, NULL, 0), EAGAIN);
	EXPECT_NE(w[1], ~0u);
	/* Sizes other than U32 stay EINVAL with NUMA. */
	EXPECT_ERRNO(f2_wake(&w[0], ~0u, 1, F2_U64 | F2_NUMA | F2_PRIVATE), EINVAL);
}

TEST(futex_wait, zero_mask_is_EINVAL)
{
	skip_if_no_futex2();
	uint32_t w = 0;
	struct timespec m = in_past(CLOCK_MONOTONIC);
	EXPECT_ERRNO(f2_wait(&w, 0, 0, F2_U32 | F2_PRIVATE, &m, CLOCK_MONOTONIC), EINVAL);
	EXPECT_ERRNO(f2_wait(&w, 1, 0, F2_U32 | F2_PRIVATE, NULL, 0), EINVAL);
	/* The timeout is read first. */
	EXPECT_ERRNO(f2_wait(&w, 1, 0, F2_U32 | F2_PRIVATE, (void *)8, CLOCK_MONOTONIC), EFAULT);
}

TEST(futex_wake, MPOL_is_accepted_with_or_without_NUMA)
{
	skip_if_no_futex2();
	uint32_t w[2] __attribute__((aligned(8))) = {0, ~0u};
	long r = f2_wake(w, ~0u, 1, F2_U32 | F2_MPOL | F2_PRIVATE);
	if (r < 0 && errno == EINVAL && !test_in_sandbox())
		TEST_SKIP("no FUTEX2_MPOL (Linux < 6.16)");
	EXPECT_EQ(r, 0);
	EXPECT_EQ(f2_wake(w, ~0u, 1, F2_U32 | F2_MPOL | F2_NUMA | F2_PRIVATE), 0);
	EXPECT_NE(w[1], ~0u);
}

TEST(futex_waitv, accepts_NUMA_words)
{
	skip_if_no_futex2();
	uint32_t w[2] __attribute__((aligned(8))) = {5, ~0u};
	struct waitv v = {.val = 1, .uaddr = (uintptr_t)w, .flags = F2_U32 | F2_NUMA | F2_PRIVATE};
	EXPECT_ERRNO(syscall(SYS_futex_waitv, &v, 1, 0, NULL, CLOCK_MONOTONIC), EAGAIN);
	EXPECT_NE(w[1], ~0u);
	w[1] = 0x7fffffff;
	EXPECT_ERRNO(syscall(SYS_futex_waitv, &v, 1, 0, NULL, CLOCK_MONOTONIC), EINVAL);
}

TEST(futex_wake, NUMA_node_word_in_unmapped_memory_is_EFAULT)
{
	skip_if_no_futex2();
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE((void *)p, MAP_FAILED);
	ASSERT_EQ(munmap(p + 4096, 4096), 0);
	EXPECT_ERRNO(f2_wake(p + 4096, ~0u, 1, F2_U32 | F2_NUMA | F2_PRIVATE), EFAULT);
	EXPECT_EQ(f2_wake(p + 4088, ~0u, 1, F2_U32 | F2_NUMA | F2_PRIVATE), 0);
}

/* ---- futex_requeue ---- */

TEST(futex_requeue, argument_errors)
{
	skip_if_no_futex2();
	uint32_t a = 0, b = 0;
	struct waitv w[2] = {
		{.val = 0, .uaddr = (uintptr_t)&a, .flags = F2_U32 | F2_PRIVATE},
		{.val = 0, .uaddr = (uintptr_t)&b, .flags = F2_U32 | F2_PRIVATE},
	};
	EXPECT_ERRNO(f2_requeue(w, 1, 1, 1), EINVAL);
	EXPECT_ERRNO(f2_requeue(NULL, 0, 1, 1), EINVAL);
	EXPECT_ERRNO(f2_requeue((void *)8, 0, 1, 1), EFAULT);
	EXPECT_ERRNO(f2_requeue(w, 0, -1, 1), EINVAL);
	EXPECT_ERRNO(f2_requeue(w, 0, 1, -1), EINVAL);
	w[1].reserved = 1;
	EXPECT_ERRNO(f2_requeue(w, 0, 1, 1), EINVAL);
	w[1].reserved = 0;
	w[1].flags = F2_U64 | F2_PRIVATE;
	EXPECT_ERRNO(f2_requeue(w, 0, 1, 1), EINVAL);
	w[1].flags = F2_U32 | F2_PRIVATE | 0x10;
	EXPECT_ERRNO(f2_requeue(w, 0, 1, 1), EINVAL);
	w[1].flags = F2_U32 | F2_PRIVATE;
	w[0].val = 1ull << 32;
	EXPECT_ERRNO(f2_requeue(w, 0, 1, 1), EINVAL);
	w[0].val = 7;
	EXPECT_ERRNO(f2_requeue(w, 0, 1, 1), EAGAIN);
	w[0].val = 0;
	EXPECT_EQ(f2_requeue(w, 0, 1, 1), 0);
	w[1].uaddr = (uintptr_t)&b + 1;
	EXPECT_ERRNO(f2_requeue(w, 0, 1, 1), EINVAL);
}

static _Atomic uint32_t rq_a, rq_b;
static void *rq_waiter(void *arg)
{
	(void)arg;
	long r = futex((void *)&rq_a, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return (void *)r;
}

TEST(futex_requeue, wakes_nr_wake_and_moves_nr_requeue_to_the_second_word)
{
	skip_if_no_futex2();
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, rq_waiter, NULL), 0);
	wait_for_waiters(&rq_a, 0, 3, 1);
	struct waitv w[2] = {
		{.val = 0, .uaddr = (uintptr_t)&rq_a, .flags = F2_U32 | F2_PRIVATE},
		{.val = 0, .uaddr = (uintptr_t)&rq_b, .flags = F2_U32 | F2_PRIVATE},
	};
	/* nr_wake 0 wakes none: both counts are strict. */
	EXPECT_EQ(f2_requeue(w, 0, 0, 0), 0);
	EXPECT_EQ(f2_requeue(w, 0, 1, 1), 2);
	wait_for_waiters(&rq_a, 0, 1, 1);
	wait_for_waiters(&rq_b, 0, 1, 1);
	EXPECT_EQ(f2_wake((void *)&rq_b, ~0u, INT_MAX, F2_U32 | F2_PRIVATE), 1);
	EXPECT_EQ(f2_wake((void *)&rq_a, ~0u, INT_MAX, F2_U32 | F2_PRIVATE), 1);
	for (int i = 0; i < 3; i++) {
		void *r;
		pthread_join(th[i], &r);
		EXPECT_EQ((long)r, 0);
	}
}

/* ---- signals ---- */

static _Atomic uint32_t sig_word;
static _Atomic int sig_seen;
static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&sig_seen, 1);
}

static void *sig_waiter(void *arg)
{
	(void)arg;
	long r = f2_wait((void *)&sig_word, 0, ~0u, F2_U32 | F2_PRIVATE, NULL, 0);
	return (void *)(r == 0 ? 0L : (long)errno);
}

static void interrupt_waiter(int flags, long want)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = flags;
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, sig_waiter, NULL), 0);
	wait_for_waiters(&sig_word, 0, 1, 1);
	ASSERT_EQ(pthread_kill(th, SIGUSR1), 0);
	while (!atomic_load(&sig_seen))
		sched_yield();
	if (want == 0) {
		/* Restarted: it waits again until woken. */
		wait_for_waiters(&sig_word, 0, 1, 1);
		EXPECT_EQ(f2_wake((void *)&sig_word, ~0u, 1, F2_U32 | F2_PRIVATE), 1);
	}
	void *r;
	pthread_join(th, &r);
	EXPECT_EQ((long)r, want);
}

TEST(futex_wait, a_handler_without_SA_RESTART_makes_it_fail_with_EINTR)
{
	skip_if_no_futex2();
	interrupt_waiter(0, EINTR);
}

TEST(futex_wait, a_handler_with_SA_RESTART_restarts_it)
{
	skip_if_no_futex2();
	interrupt_waiter(SA_RESTART, 0);
}
