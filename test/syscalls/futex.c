/*
 * futex(2): waiting, waking, requeueing, WAKE_OP, timeouts, argument
 * errors, priority-inheritance (PI) futexes and futex_waitv(2).
 *
 * Tests that need waiters to be asleep in the kernel find out with
 * wait_for_waiters(), which counts them by requeueing them to a scratch
 * futex and back (FUTEX_CMP_REQUEUE returns how many it moved), so no case
 * depends on timing.
 */
#include "test.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

static long futex(void *uaddr, int op, uint32_t val, const void *timeout_or_val2, void *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

static long futex_wait(_Atomic uint32_t *f, uint32_t val)
{
	return futex((void *)f, FUTEX_WAIT, val, NULL, NULL, 0);
}

static long futex_wake(_Atomic uint32_t *f, int n)
{
	return futex((void *)f, FUTEX_WAKE, n, NULL, NULL, 0);
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/*
 * wait_for_waiters returns once exactly n tasks wait on f (whose value
 * must stay val meanwhile): it moves every waiter to a scratch word and
 * back, counting them.
 */
static void wait_for_waiters(_Atomic uint32_t *f, uint32_t val, int n)
{
	static _Atomic uint32_t scratch;
	for (int i = 0; i < 100000; i++) {
		long moved = futex((void *)f, FUTEX_CMP_REQUEUE, 0, (void *)(long)INT_MAX, (void *)&scratch, val);
		ASSERT_GE(moved, 0);
		long back = futex((void *)&scratch, FUTEX_REQUEUE, 0, (void *)(long)INT_MAX, (void *)f, 0);
		ASSERT_EQ(back, moved);
		if (moved == n)
			return;
		ASSERT_LT(moved, n);
		usleep(200);
	}
	test_fail(__FILE__, __LINE__, 1, "waiters never reached %d", n);
}

static struct timespec now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts;
}

static long ms_since(struct timespec a, clockid_t c)
{
	struct timespec b = now(c);
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

static struct timespec add_ms(struct timespec ts, long ms)
{
	ts.tv_nsec += (ms % 1000) * 1000000;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

/* ---- argument checking ---- */

TEST(futex, FUTEX_WAIT_when_the_value_changed_fails_with_EAGAIN)
{
	_Atomic uint32_t f = 5;
	EXPECT_ERRNO(futex_wait(&f, 4), EAGAIN);
	EXPECT_ERRNO(futex((void *)&f, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 6, NULL, NULL, FUTEX_BITSET_MATCH_ANY), EAGAIN);
}

TEST(futex, misaligned_address_fails_with_EINVAL)
{
	uint32_t words[2] = {0, 0};
	char *p = (char *)words + 1;
	EXPECT_ERRNO(futex(p, FUTEX_WAIT, 0, NULL, NULL, 0), EINVAL);
	EXPECT_ERRNO(futex(p, FUTEX_WAKE, 1, NULL, NULL, 0), EINVAL);
	EXPECT_ERRNO(futex(p, FUTEX_LOCK_PI, 0, NULL, NULL, 0), EINVAL);
}

TEST(futex, FUTEX_WAIT_on_an_unmapped_address_fails_with_EFAULT)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(munmap(p, 4096));
	EXPECT_ERRNO(futex(p, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
	EXPECT_ERRNO(futex(p, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), EFAULT);
	EXPECT_ERRNO(futex(p, FUTEX_WAKE_OP, 1, (void *)1, p, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)), EFAULT);
	EXPECT_ERRNO(futex(p, FUTEX_LOCK_PI, 0, NULL, NULL, 0), EFAULT);
	/* A private wake never touches the word. */
	EXPECT_EQ(futex(p, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
}

TEST(futex, invalid_timeout_fails_with_EINVAL)
{
	_Atomic uint32_t f = 0;
	struct timespec bad = {0, 1000000000};
	EXPECT_ERRNO(futex((void *)&f, FUTEX_WAIT, 0, &bad, NULL, 0), EINVAL);
	struct timespec neg = {-1, 0};
	EXPECT_ERRNO(futex((void *)&f, FUTEX_WAIT, 0, &neg, NULL, 0), EINVAL);
}

TEST(futex, FUTEX_WAIT_BITSET_with_zero_bitset_fails_with_EINVAL)
{
	_Atomic uint32_t f = 0;
	EXPECT_ERRNO(futex((void *)&f, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0), EINVAL);
	EXPECT_ERRNO(futex((void *)&f, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0), EINVAL);
}

TEST(futex, unknown_operation_fails_with_ENOSYS)
{
	_Atomic uint32_t f = 0;
	EXPECT_ERRNO(futex((void *)&f, 99, 0, NULL, NULL, 0), ENOSYS);
}

/* ---- timeouts ---- */

TEST(futex, FUTEX_WAIT_relative_timeout_expires_with_ETIMEDOUT)
{
	_Atomic uint32_t f = 0;
	struct timespec rel = {0, 50 * 1000000};
	struct timespec start = now(CLOCK_MONOTONIC);
	EXPECT_ERRNO(futex((void *)&f, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0), ETIMEDOUT);
	EXPECT_GE(ms_since(start, CLOCK_MONOTONIC), 50);
}

TEST(futex, FUTEX_WAIT_BITSET_absolute_CLOCK_REALTIME_deadline_expires)
{
	_Atomic uint32_t f = 0;
	struct timespec start = now(CLOCK_REALTIME);
	struct timespec deadline = add_ms(start, 60);
	EXPECT_ERRNO(futex((void *)&f, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &deadline, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
	EXPECT_GE(ms_since(start, CLOCK_REALTIME), 60);
}

TEST(futex, FUTEX_WAIT_BITSET_absolute_monotonic_deadline_expires)
{
	_Atomic uint32_t f = 0;
	struct timespec start = now(CLOCK_MONOTONIC);
	struct timespec deadline = add_ms(start, 40);
	EXPECT_ERRNO(futex((void *)&f, FUTEX_WAIT_BITSET_PRIVATE, 0, &deadline, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
	EXPECT_GE(ms_since(start, CLOCK_MONOTONIC), 40);
	/* A deadline in the past times out at once. */
	struct timespec past = {1, 0};
	EXPECT_ERRNO(futex((void *)&f, FUTEX_WAIT_BITSET_PRIVATE, 0, &past, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
}

/* ---- waking ---- */

struct waiter_arg {
	_Atomic uint32_t *word;
	uint32_t bitset;
	_Atomic int *woke;
};

/* waiter sleeps on *word until it becomes non-zero. */
static void *waiter(void *p)
{
	struct waiter_arg *a = p;
	while (atomic_load(a->word) == 0) {
		long r = futex((void *)a->word, FUTEX_WAIT_BITSET, 0, NULL, NULL, a->bitset ? a->bitset : FUTEX_BITSET_MATCH_ANY);
		if (r != 0 && errno != EAGAIN && errno != EINTR)
			test_fail(__FILE__, __LINE__, 0, "futex wait: %s", test_errno_name(errno));
	}
	atomic_fetch_add(a->woke, 1);
	return NULL;
}

TEST(futex, wake_storm_wakes_every_waiter)
{
	enum { N = 64 };
	static _Atomic uint32_t word;
	static _Atomic int woke;
	pthread_t th[N];
	struct waiter_arg a = {&word, 0, &woke};
	for (int i = 0; i < N; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, waiter, &a), 0);
	wait_for_waiters(&word, 0, N);
	atomic_store(&word, 1);
	EXPECT_EQ(futex_wake(&word, INT_MAX), N);
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(atomic_load(&woke), N);
	EXPECT_EQ(futex_wake(&word, INT_MAX), 0);
}

TEST(futex, FUTEX_WAKE_wakes_at_most_the_requested_count)
{
	enum { N = 10 };
	static _Atomic uint32_t word;
	static _Atomic int woke;
	pthread_t th[N];
	struct waiter_arg a = {&word, 0, &woke};
	for (int i = 0; i < N; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, waiter, &a), 0);
	wait_for_waiters(&word, 0, N);
	/* Linux wakes one waiter even for a count of 0. */
	EXPECT_EQ(futex_wake(&word, 0), 1);
	wait_for_waiters(&word, 0, N);
	/* Woken waiters see 0 and sleep again; the count says who woke. */
	EXPECT_EQ(futex_wake(&word, 3), 3);
	wait_for_waiters(&word, 0, N);
	EXPECT_EQ(futex_wake(&word, 1), 1);
	wait_for_waiters(&word, 0, N);
	atomic_store(&word, 1);
	EXPECT_EQ(futex_wake(&word, INT_MAX), N);
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(atomic_load(&woke), N);
}

TEST(futex, FUTEX_WAKE_BITSET_wakes_only_waiters_with_a_common_bit)
{
	static _Atomic uint32_t word;
	static _Atomic int woke;
	pthread_t th[2];
	struct waiter_arg a1 = {&word, 1, &woke}, a2 = {&word, 2, &woke};
	ASSERT_EQ(pthread_create(&th[0], NULL, waiter, &a1), 0);
	ASSERT_EQ(pthread_create(&th[1], NULL, waiter, &a2), 0);
	wait_for_waiters(&word, 0, 2);
	EXPECT_EQ(futex((void *)&word, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 4), 0);
	atomic_store(&word, 1);
	EXPECT_EQ(futex((void *)&word, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 2), 1);
	pthread_join(th[1], NULL);
	EXPECT_EQ(atomic_load(&woke), 1);
	EXPECT_EQ(futex((void *)&word, FUTEX_WAKE_BITSET, INT_MAX, NULL, NULL, 3), 1);
	pthread_join(th[0], NULL);
	EXPECT_EQ(atomic_load(&woke), 2);
}

TEST(futex, FUTEX_CMP_REQUEUE_wakes_some_and_moves_the_rest)
{
	enum { N = 8 };
	static _Atomic uint32_t a, b;
	static _Atomic int woke;
	pthread_t th[N];
	/* The waiters loop on a's value, so set it first: woken ones leave. */
	struct waiter_arg arg = {&a, 0, &woke};
	for (int i = 0; i < N; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, waiter, &arg), 0);
	wait_for_waiters(&a, 0, N);
	EXPECT_ERRNO(futex((void *)&a, FUTEX_CMP_REQUEUE, 1, (void *)5L, (void *)&b, 7), EAGAIN);
	/* 2 woken + 5 moved; 1 left on a, joined by the 2 woken ones, which
	 * see a still 0 and wait again. */
	EXPECT_EQ(futex((void *)&a, FUTEX_CMP_REQUEUE, 2, (void *)5L, (void *)&b, 0), 7);
	wait_for_waiters(&a, 0, 3);
	wait_for_waiters(&b, 0, 5);
	atomic_store(&a, 1);
	EXPECT_EQ(futex_wake(&a, INT_MAX), 3);
	EXPECT_EQ(futex_wake(&b, INT_MAX), 5);
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(atomic_load(&woke), N);
}

TEST(futex, FUTEX_REQUEUE_moves_waiters_without_checking_the_value)
{
	enum { N = 4 };
	static _Atomic uint32_t a, b;
	static _Atomic int woke;
	pthread_t th[N];
	struct waiter_arg arg = {&a, 0, &woke};
	for (int i = 0; i < N; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, waiter, &arg), 0);
	wait_for_waiters(&a, 0, N);
	EXPECT_EQ(futex((void *)&a, FUTEX_REQUEUE, 0, (void *)(long)INT_MAX, (void *)&b, 12345), N);
	EXPECT_EQ(futex_wake(&a, INT_MAX), 0);
	atomic_store(&a, 1);
	EXPECT_EQ(futex_wake(&b, INT_MAX), N);
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(atomic_load(&woke), N);
	/* Negative counts are rejected. */
	EXPECT_ERRNO(futex((void *)&a, FUTEX_REQUEUE, -1, (void *)1L, (void *)&b, 0), EINVAL);
}

TEST(futex, FUTEX_WAKE_OP_updates_the_second_word_and_wakes_by_its_old_value)
{
	static _Atomic uint32_t a, b;
	static _Atomic int woke;
	pthread_t ta, tb;
	struct waiter_arg wa = {&a, 0, &woke}, wb = {&b, 0, &woke};
	ASSERT_EQ(pthread_create(&ta, NULL, waiter, &wa), 0);
	ASSERT_EQ(pthread_create(&tb, NULL, waiter, &wb), 0);
	wait_for_waiters(&a, 0, 1);
	wait_for_waiters(&b, 0, 1);
	/* b = b + 5 (0 -> 5); old value 0 > 0 is false: only a's waiter wakes... */
	atomic_store(&a, 1);
	EXPECT_EQ(futex((void *)&a, FUTEX_WAKE_OP, 1, (void *)1L, (void *)&b, FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_GT, 0)), 1);
	EXPECT_EQ(atomic_load(&b), 5u);
	pthread_join(ta, NULL);
	/* ...b's waiter sees 5 != 0 only after it is woken: old value 5 == 5. */
	EXPECT_EQ(futex((void *)&a, FUTEX_WAKE_OP, 1, (void *)1L, (void *)&b, FUTEX_OP(FUTEX_OP_OR, 2, FUTEX_OP_CMP_EQ, 5)), 1);
	EXPECT_EQ(atomic_load(&b), 7u);
	pthread_join(tb, NULL);
	EXPECT_EQ(atomic_load(&woke), 2);
	/* FUTEX_OP_OPARG_SHIFT: oparg is 1 << 4; ANDN clears it. */
	atomic_store(&b, 0xff);
	EXPECT_EQ(futex((void *)&a, FUTEX_WAKE_OP, 1, (void *)1L, (void *)&b, FUTEX_OP((FUTEX_OP_ANDN | FUTEX_OP_OPARG_SHIFT), 4, FUTEX_OP_CMP_EQ, 0)), 0);
	EXPECT_EQ(atomic_load(&b), 0xefu);
}

TEST(futex, FUTEX_WAIT_in_shared_memory_is_woken_from_another_process)
{
	_Atomic uint32_t *f = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(f, MAP_FAILED);
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		while (atomic_load(f) == 0)
			futex_wait(f, 0);
		_exit(atomic_load(f) == 2 ? 0 : 1);
	}
	wait_for_waiters(f, 0, 1);
	atomic_store(f, 2);
	EXPECT_EQ(futex_wake(f, 1), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

/* ---- PI futexes ---- */

TEST(futex_pi, FUTEX_LOCK_PI_on_a_free_word_stores_the_callers_tid)
{
	_Atomic uint32_t f = 0;
	EXPECT_SYSCALL_OK(futex((void *)&f, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0));
	EXPECT_EQ(atomic_load(&f), (uint32_t)gettid_());
	EXPECT_ERRNO(futex((void *)&f, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), EDEADLK);
	EXPECT_ERRNO(futex((void *)&f, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0), EDEADLK);
	EXPECT_SYSCALL_OK(futex((void *)&f, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0));
	EXPECT_EQ(atomic_load(&f), 0u);
	EXPECT_SYSCALL_OK(futex((void *)&f, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0));
	EXPECT_EQ(atomic_load(&f), (uint32_t)gettid_());
}

TEST(futex_pi, FUTEX_LOCK_PI_of_a_word_owned_by_no_thread_fails_with_ESRCH)
{
	/* No thread has this TID: waiting for it to unlock would be forever. */
	_Atomic uint32_t f = 0x3ffffff0;
	EXPECT_ERRNO(futex((void *)&f, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), ESRCH);
#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif
	atomic_store(&f, 0x3ffffff0);
	EXPECT_ERRNO(futex((void *)&f, FUTEX_LOCK_PI2 | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0), ESRCH);
	/* A trylock fails the same way or with EAGAIN, never waits. */
	atomic_store(&f, 0x3ffffff0);
	long r = futex((void *)&f, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
	EXPECT_EQ(r, -1);
	EXPECT_TRUE(errno == ESRCH || errno == EAGAIN);
}

/* other_tid returns the TID of a live thread that is not the caller. */
static pid_t other_tid(void)
{
	/* The runner that forked this case. */
	return getppid();
}

TEST(futex_pi, FUTEX_UNLOCK_PI_of_a_lock_owned_by_another_thread_fails_with_EPERM)
{
	_Atomic uint32_t f = (uint32_t)other_tid();
	EXPECT_ERRNO(futex((void *)&f, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), EPERM);
	atomic_store(&f, 0);
	EXPECT_ERRNO(futex((void *)&f, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), EPERM);
}

struct pi_arg {
	_Atomic uint32_t *word;
	_Atomic int state;
	long ret;
	int err;
	pid_t tid;
	uint32_t seen;
};

static void *pi_locker(void *p)
{
	struct pi_arg *a = p;
	a->tid = gettid_();
	atomic_store(&a->state, 1);
	a->ret = futex((void *)a->word, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
	a->err = errno;
	a->seen = atomic_load(a->word);
	atomic_store(&a->state, 2);
	if (a->ret == 0)
		futex((void *)a->word, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
	return NULL;
}

TEST(futex_pi, contended_lock_sets_FUTEX_WAITERS_and_unlock_hands_it_to_the_waiter)
{
	static _Atomic uint32_t f;
	ASSERT_SYSCALL_OK(futex((void *)&f, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
	struct pi_arg a = {.word = &f};
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, pi_locker, &a), 0);
	/* The waiter sets FUTEX_WAITERS before it sleeps. */
	for (int i = 0; i < 100000 && !(atomic_load(&f) & FUTEX_WAITERS); i++)
		usleep(100);
	EXPECT_EQ(atomic_load(&f), (uint32_t)gettid_() | FUTEX_WAITERS);
	EXPECT_ERRNO(futex((void *)&f, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), EDEADLK);
	EXPECT_SYSCALL_OK(futex((void *)&f, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
	pthread_join(th, NULL);
	EXPECT_EQ(a.ret, 0);
	EXPECT_EQ(a.seen & FUTEX_TID_MASK, (uint32_t)a.tid);
	EXPECT_EQ(atomic_load(&f), 0u);
}

static void *pi_trylock(void *p)
{
	struct pi_arg *a = p;
	a->ret = futex((void *)a->word, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0);
	a->err = errno;
	return NULL;
}

TEST(futex_pi, FUTEX_TRYLOCK_PI_from_another_thread_fails_with_EAGAIN)
{
	static _Atomic uint32_t f;
	ASSERT_SYSCALL_OK(futex((void *)&f, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
	struct pi_arg a = {.word = &f};
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, pi_trylock, &a), 0);
	pthread_join(th, NULL);
	EXPECT_EQ(a.ret, -1);
	EXPECT_EQ(a.err, EAGAIN);
	/* Linux may leave FUTEX_WAITERS set; the owner stays. */
	EXPECT_EQ(atomic_load(&f) & FUTEX_TID_MASK, (uint32_t)gettid_());
}

struct timed_arg {
	_Atomic uint32_t *f;
	struct timespec deadline;
	long r;
	int err;
};

static void *pi_timed_locker(void *p)
{
	struct timed_arg *t = p;
	t->r = futex((void *)t->f, FUTEX_LOCK_PI, 0, &t->deadline, NULL, 0);
	t->err = errno;
	return NULL;
}

TEST(futex_pi, FUTEX_LOCK_PI_times_out_at_an_absolute_CLOCK_REALTIME_deadline)
{
	static _Atomic uint32_t f;
	ASSERT_SYSCALL_OK(futex((void *)&f, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
	struct timespec start = now(CLOCK_REALTIME);
	struct timed_arg a = {&f, add_ms(start, 50), 0, 0};
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, pi_timed_locker, &a), 0);
	pthread_join(th, NULL);
	EXPECT_EQ(a.r, -1);
	EXPECT_EQ(a.err, ETIMEDOUT);
	EXPECT_GE(ms_since(start, CLOCK_REALTIME), 50);
	/* The waiter left; the lock keeps its owner. */
	EXPECT_EQ(atomic_load(&f) & FUTEX_TID_MASK, (uint32_t)gettid_());
	EXPECT_SYSCALL_OK(futex((void *)&f, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
	EXPECT_EQ(atomic_load(&f), 0u);
}

static pthread_mutex_t pi_mutex;
static long pi_counter;

static void *pi_incrementer(void *p)
{
	(void)p;
	for (int i = 0; i < 10000; i++) {
		if (pthread_mutex_lock(&pi_mutex) != 0)
			abort();
		pi_counter++;
		pthread_mutex_unlock(&pi_mutex);
	}
	return NULL;
}

TEST(futex_pi, PTHREAD_PRIO_INHERIT_mutex_under_contention_counts_exactly)
{
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	ASSERT_EQ(pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT), 0);
	ASSERT_EQ(pthread_mutex_init(&pi_mutex, &attr), 0);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, pi_incrementer, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(pi_counter, 40000);
	EXPECT_EQ(pthread_mutex_trylock(&pi_mutex), 0);
	EXPECT_EQ(pi_mutex.__data.__lock & FUTEX_TID_MASK, gettid_());
	EXPECT_EQ(pthread_mutex_unlock(&pi_mutex), 0);
	EXPECT_EQ(pi_mutex.__data.__lock, 0);
}

static void *lock_and_exit(void *p)
{
	pthread_mutex_lock(p);
	return NULL;
}

TEST(futex_pi, robust_PI_mutex_of_an_exited_owner_returns_EOWNERDEAD)
{
	static pthread_mutex_t m;
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	ASSERT_EQ(pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT), 0);
	ASSERT_EQ(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST), 0);
	ASSERT_EQ(pthread_mutex_init(&m, &attr), 0);
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, lock_and_exit, &m), 0);
	pthread_join(th, NULL);
	EXPECT_EQ(pthread_mutex_lock(&m), EOWNERDEAD);
	EXPECT_EQ(pthread_mutex_consistent(&m), 0);
	EXPECT_EQ(pthread_mutex_unlock(&m), 0);
	EXPECT_EQ(pthread_mutex_lock(&m), 0);
	EXPECT_EQ(pthread_mutex_unlock(&m), 0);
}

struct robust_arg {
	pthread_mutex_t *m;
	_Atomic int locked;
	_Atomic int go;
};

static void *lock_wait_exit(void *p)
{
	struct robust_arg *a = p;
	pthread_mutex_lock(a->m);
	atomic_store(&a->locked, 1);
	while (!atomic_load(&a->go))
		futex((void *)&a->go, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

static pthread_mutex_t robust_m;
static struct robust_arg robust_a;

/* releaser lets the owner exit once a waiter has set FUTEX_WAITERS. */
static void *releaser(void *p)
{
	(void)p;
	_Atomic uint32_t *word = (_Atomic uint32_t *)&robust_m.__data.__lock;
	while (!(atomic_load(word) & FUTEX_WAITERS))
		usleep(100);
	atomic_store(&robust_a.go, 1);
	futex((void *)&robust_a.go, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

TEST(futex_pi, waiter_on_a_robust_PI_mutex_gets_EOWNERDEAD_when_the_owner_exits)
{
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	ASSERT_EQ(pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT), 0);
	ASSERT_EQ(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST), 0);
	ASSERT_EQ(pthread_mutex_init(&robust_m, &attr), 0);
	robust_a.m = &robust_m;
	pthread_t th, rel;
	ASSERT_EQ(pthread_create(&th, NULL, lock_wait_exit, &robust_a), 0);
	while (!atomic_load(&robust_a.locked))
		sched_yield();
	/* The owner exits only once we are blocked (see releaser). */
	ASSERT_EQ(pthread_create(&rel, NULL, releaser, NULL), 0);
	EXPECT_EQ(pthread_mutex_lock(&robust_m), EOWNERDEAD);
	pthread_join(rel, NULL);
	pthread_join(th, NULL);
	EXPECT_EQ(pthread_mutex_consistent(&robust_m), 0);
	EXPECT_EQ(pthread_mutex_unlock(&robust_m), 0);
	EXPECT_EQ(robust_m.__data.__lock, 0);
}

/* ---- futex_waitv ---- */

struct futex_waitv_ {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t reserved;
};

static _Atomic uint32_t wv_words[3];

static void *waitv_waker(void *p)
{
	(void)p;
	wait_for_waiters(&wv_words[2], 0, 1);
	atomic_store(&wv_words[2], 1);
	futex_wake(&wv_words[2], 1);
	return NULL;
}

TEST(futex_waitv, returns_the_index_of_the_woken_futex)
{
	struct futex_waitv_ w[3];
	for (int i = 0; i < 3; i++)
		w[i] = (struct futex_waitv_){.val = 0, .uaddr = (uintptr_t)&wv_words[i], .flags = 2 /* FUTEX2_SIZE_U32 */};
	atomic_store(&wv_words[1], 9);
	/* A word that no longer holds its value: EAGAIN at once. */
	EXPECT_ERRNO(syscall(SYS_futex_waitv, w, 3, 0, NULL, CLOCK_MONOTONIC), EAGAIN);
	atomic_store(&wv_words[1], 0);
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, waitv_waker, NULL), 0);
	EXPECT_EQ(syscall(SYS_futex_waitv, w, 3, 0, NULL, CLOCK_MONOTONIC), 2);
	pthread_join(th, NULL);
	EXPECT_ERRNO(syscall(SYS_futex_waitv, w, 0, 0, NULL, CLOCK_MONOTONIC), EINVAL);
	w[0].flags = 0;
	EXPECT_ERRNO(syscall(SYS_futex_waitv, w, 1, 0, NULL, CLOCK_MONOTONIC), EINVAL);
}
