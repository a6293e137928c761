/* set_tid_address(2), CLONE_CHILD_CLEARTID, set_robust_list(2),
 * get_robust_list(2) and robust futexes. */
#include "test.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>

struct robust_head {
	void *list;
	long futex_offset;
	void *list_op_pending;
};

TEST(set_tid_address, returns_the_callers_thread_id)
{
	static int dummy;
	EXPECT_EQ(syscall(SYS_set_tid_address, &dummy), syscall(SYS_gettid));
}

static volatile int clear_me;

static void *set_tid_address_then_exit(void *arg)
{
	(void)arg;
	clear_me = syscall(SYS_gettid);
	syscall(SYS_set_tid_address, &clear_me);
	syscall(SYS_exit, 0); /* thread exit only */
	return NULL;
}

TEST(set_tid_address, thread_exit_writes_zero_and_wakes_a_futex_waiter)
{
	clear_me = -1;
	pthread_t t;
	ASSERT_EQ(pthread_create(&t, NULL, set_tid_address_then_exit, NULL), 0);
	/* Wait for the kernel to clear it: FUTEX_WAIT returns when woken, or
	 * at once (EAGAIN) if the value already changed. */
	int v;
	while ((v = __atomic_load_n(&clear_me, __ATOMIC_SEQ_CST)) != 0) {
		long r = syscall(SYS_futex, &clear_me, FUTEX_WAIT, v, NULL, NULL, 0);
		if (r == -1 && errno != EAGAIN && errno != EINTR)
			ASSERT_SYSCALL_OK(r);
	}
	EXPECT_EQ(clear_me, 0);
	/* pthread_join would wait forever: the thread's own tid word was
	 * replaced, so it is deliberately left unjoined. */
}

TEST(get_robust_list, of_self_returns_head_registered_by_set_robust_list)
{
	struct robust_head *old = NULL;
	size_t old_len = 0;
	ASSERT_SYSCALL_OK(syscall(SYS_get_robust_list, 0, &old, &old_len));
	static struct robust_head mine;
	mine.list = &mine.list;
	mine.futex_offset = 0;
	mine.list_op_pending = NULL;
	ASSERT_SYSCALL_OK(syscall(SYS_set_robust_list, &mine, sizeof(mine)));
	struct robust_head *got = NULL;
	size_t len = 0;
	ASSERT_SYSCALL_OK(syscall(SYS_get_robust_list, 0, &got, &len));
	EXPECT_EQ(got, &mine);
	EXPECT_EQ(len, sizeof(struct robust_head));
	if (old)
		ASSERT_SYSCALL_OK(syscall(SYS_set_robust_list, old, old_len));
}

TEST(set_robust_list, with_wrong_length_fails_with_EINVAL)
{
	static struct robust_head h;
	EXPECT_ERRNO(syscall(SYS_set_robust_list, &h, sizeof(h) + 1), EINVAL);
}

TEST(get_robust_list, of_nonexistent_thread_fails_with_ESRCH)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(0);
	test_wait_exit(pid);
	void *head;
	size_t len;
	EXPECT_ERRNO(syscall(SYS_get_robust_list, pid, &head, &len), ESRCH);
}

static pthread_mutex_t robust;

static void *lock_and_die(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&robust);
	return NULL; /* exits holding the lock */
}

TEST(robust_futex, lock_held_by_exited_thread_returns_EOWNERDEAD)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	ASSERT_EQ(pthread_mutex_init(&robust, &a), 0);
	pthread_t t;
	ASSERT_EQ(pthread_create(&t, NULL, lock_and_die, NULL), 0);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	EXPECT_EQ(pthread_mutex_lock(&robust), EOWNERDEAD);
	EXPECT_EQ(pthread_mutex_consistent(&robust), 0);
	EXPECT_EQ(pthread_mutex_unlock(&robust), 0);
}

TEST(robust_futex, lock_in_shared_memory_held_by_dead_process_returns_EOWNERDEAD)
{
	pthread_mutex_t *m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(m, MAP_FAILED);
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	ASSERT_EQ(pthread_mutex_init(m, &a), 0);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pthread_mutex_lock(m);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(pthread_mutex_lock(m), EOWNERDEAD);
}

TEST(futex, FUTEX_WAIT_with_mismatched_value_fails_with_EAGAIN)
{
	static int word = 1;
	EXPECT_ERRNO(syscall(SYS_futex, &word, FUTEX_WAIT, 2, NULL, NULL, 0), EAGAIN);
}

TEST(futex, FUTEX_WAIT_with_timeout_fails_with_ETIMEDOUT)
{
	static int word = 1;
	struct timespec ts = {0, 1000000};
	EXPECT_ERRNO(syscall(SYS_futex, &word, FUTEX_WAIT, 1, &ts, NULL, 0), ETIMEDOUT);
}

TEST(futex, FUTEX_WAKE_with_no_waiters_returns_zero)
{
	static int word;
	EXPECT_EQ(syscall(SYS_futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
}
