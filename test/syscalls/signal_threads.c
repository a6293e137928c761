/*
 * Signals aimed at one thread of a process (tgkill) while it is blocked:
 * the handler runs in that thread, and the blocked call fails with EINTR
 * or, with SA_RESTART, restarts, as signal(7) lists for each call.
 *
 * The target announces that it is about to block; the sender then signals
 * it repeatedly until the call returns (when it must fail) or a few times
 * (when it must restart). A signal that lands before the call blocks only
 * runs the handler early, so no case depends on timing.
 */
#include "test.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static _Atomic pid_t handler_tid;
static _Atomic int handled;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&handler_tid, gettid_());
	atomic_fetch_add(&handled, 1);
}

static void install(int flags)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
}

/* A blocking call run in a thread, and what it returned. */
struct call {
	long (*fn)(struct call *);
	_Atomic pid_t tid;
	_Atomic int done;
	long ret;
	int err;
	int fds[2];
	_Atomic uint32_t word;
	struct timespec rem;
};

static void *run_call(void *p)
{
	struct call *c = p;
	atomic_store(&c->tid, gettid_());
	errno = 0;
	c->ret = c->fn(c);
	c->err = errno;
	atomic_store(&c->done, 1);
	return NULL;
}

static void start(struct call *c, pthread_t *th)
{
	ASSERT_EQ(pthread_create(th, NULL, run_call, c), 0);
	while (atomic_load(&c->tid) == 0)
		sched_yield();
}

/* interrupt signals c's thread until its call returns. */
static void interrupt(struct call *c)
{
	for (int i = 0; i < 5000 && !atomic_load(&c->done); i++) {
		ASSERT_SYSCALL_OK(syscall(SYS_tgkill, getpid(), atomic_load(&c->tid), SIGUSR1));
		usleep(1000);
	}
	ASSERT_TRUE(atomic_load(&c->done));
}

/* poke signals c's thread a few times while its call should keep going.
 * Each signal is handled before the next is sent: a standard signal sent
 * while the previous one is still pending merges with it, so counting
 * handler runs against signals sent would wait forever on a busy
 * machine. */
static void poke(struct call *c)
{
	for (int i = 0; i < 5; i++) {
		int before = atomic_load(&handled);
		ASSERT_SYSCALL_OK(syscall(SYS_tgkill, getpid(), atomic_load(&c->tid), SIGUSR1));
		while (atomic_load(&handled) == before)
			sched_yield();
		/* Give the thread time to block in its call again (spacing
		 * only: the checks hold whether or not it did). */
		usleep(1000);
	}
	EXPECT_FALSE(atomic_load(&c->done));
}

static long do_futex_wait(struct call *c)
{
	return syscall(SYS_futex, &c->word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static long do_futex_wait_timeout(struct call *c)
{
	struct timespec ts = {30, 0};
	return syscall(SYS_futex, &c->word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
}

static long do_read(struct call *c)
{
	char b;
	return read(c->fds[0], &b, 1);
}

static long do_epoll_wait(struct call *c)
{
	struct epoll_event ev;
	return epoll_wait(c->fds[0], &ev, 1, -1);
}

static long do_nanosleep(struct call *c)
{
	struct timespec ts = {30, 0};
	return nanosleep(&ts, &c->rem);
}

TEST(signal_threads, tgkill_interrupts_futex_wait_with_EINTR_in_the_target_thread)
{
	install(0);
	struct call c = {.fn = do_futex_wait};
	pthread_t th;
	start(&c, &th);
	interrupt(&c);
	pthread_join(th, NULL);
	EXPECT_EQ(c.ret, -1);
	EXPECT_EQ(c.err, EINTR);
	EXPECT_EQ(atomic_load(&handler_tid), atomic_load(&c.tid));
}

TEST(signal_threads, futex_wait_without_timeout_restarts_after_an_SA_RESTART_handler)
{
	install(SA_RESTART);
	struct call c = {.fn = do_futex_wait};
	pthread_t th;
	start(&c, &th);
	poke(&c);
	/* Still waiting: wake it for real. */
	atomic_store(&c.word, 1);
	while (!atomic_load(&c.done))
		syscall(SYS_futex, &c.word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	pthread_join(th, NULL);
	/* Woken (0) or, if the last restart saw word == 1, EAGAIN: never EINTR. */
	EXPECT_TRUE(c.ret == 0 || c.err == EAGAIN);
	EXPECT_EQ(atomic_load(&handler_tid), atomic_load(&c.tid));
}

TEST(signal_threads, futex_wait_with_timeout_fails_with_EINTR_even_with_SA_RESTART)
{
	install(SA_RESTART);
	struct call c = {.fn = do_futex_wait_timeout};
	pthread_t th;
	start(&c, &th);
	interrupt(&c);
	pthread_join(th, NULL);
	EXPECT_EQ(c.ret, -1);
	EXPECT_EQ(c.err, EINTR);
}

static _Atomic uint32_t *shared_word;

static void *timed_wait_on_shared(void *p)
{
	(void)p;
	struct timespec ts = {30, 0};
	while (atomic_load(shared_word) == 0) {
		if (syscall(SYS_futex, shared_word, FUTEX_WAIT, 0, &ts, NULL, 0) == -1 && errno != EAGAIN)
			return (void *)(long)errno;
	}
	return NULL;
}

TEST(signal_threads, stop_and_continue_resume_a_timed_futex_wait_in_a_thread)
{
	/* Without a handler, a wait interrupted by a job-control stop is
	 * restarted, not failed with EINTR. */
	shared_word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(shared_word, MAP_FAILED);
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		pthread_t th;
		void *ret;
		if (pthread_create(&th, NULL, timed_wait_on_shared, NULL) != 0)
			_exit(2);
		pthread_join(th, &ret);
		_exit(ret == NULL ? 0 : 1);
	}
	int ws;
	for (int i = 0; i < 3; i++) {
		ASSERT_SYSCALL_OK(kill(pid, SIGSTOP));
		ASSERT_EQ(waitpid(pid, &ws, WUNTRACED), pid);
		ASSERT_TRUE(WIFSTOPPED(ws));
		ASSERT_SYSCALL_OK(kill(pid, SIGCONT));
	}
	atomic_store(shared_word, 1);
	syscall(SYS_futex, shared_word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(signal_threads, tgkill_interrupts_a_pipe_read_with_EINTR)
{
	install(0);
	struct call c = {.fn = do_read};
	ASSERT_SYSCALL_OK(pipe(c.fds));
	pthread_t th;
	start(&c, &th);
	interrupt(&c);
	pthread_join(th, NULL);
	EXPECT_EQ(c.ret, -1);
	EXPECT_EQ(c.err, EINTR);
	EXPECT_EQ(atomic_load(&handler_tid), atomic_load(&c.tid));
}

TEST(signal_threads, pipe_read_restarts_after_an_SA_RESTART_handler)
{
	install(SA_RESTART);
	struct call c = {.fn = do_read};
	ASSERT_SYSCALL_OK(pipe(c.fds));
	pthread_t th;
	start(&c, &th);
	poke(&c);
	ASSERT_EQ(write(c.fds[1], "x", 1), 1);
	pthread_join(th, NULL);
	EXPECT_EQ(c.ret, 1);
	EXPECT_EQ(atomic_load(&handler_tid), atomic_load(&c.tid));
}

TEST(signal_threads, epoll_wait_fails_with_EINTR_even_with_SA_RESTART)
{
	install(SA_RESTART);
	struct call c = {.fn = do_epoll_wait};
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	c.fds[0] = epoll_create1(0);
	ASSERT_SYSCALL_OK(c.fds[0]);
	struct epoll_event ev = {.events = EPOLLIN};
	ASSERT_SYSCALL_OK(epoll_ctl(c.fds[0], EPOLL_CTL_ADD, p[0], &ev));
	pthread_t th;
	start(&c, &th);
	interrupt(&c);
	pthread_join(th, NULL);
	EXPECT_EQ(c.ret, -1);
	EXPECT_EQ(c.err, EINTR);
	EXPECT_EQ(atomic_load(&handler_tid), atomic_load(&c.tid));
}

TEST(signal_threads, nanosleep_fails_with_EINTR_and_the_remaining_time_even_with_SA_RESTART)
{
	install(SA_RESTART);
	struct call c = {.fn = do_nanosleep};
	pthread_t th;
	start(&c, &th);
	interrupt(&c);
	pthread_join(th, NULL);
	EXPECT_EQ(c.ret, -1);
	EXPECT_EQ(c.err, EINTR);
	EXPECT_GT(c.rem.tv_sec, 20);
	EXPECT_LE(c.rem.tv_sec, 30);
	EXPECT_EQ(atomic_load(&handler_tid), atomic_load(&c.tid));
}

static _Atomic int blocked_ready;

static void *block_usr1_and_wait(void *p)
{
	(void)p;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	atomic_store(&blocked_ready, 1);
	/* Wait for the case to end. */
	for (;;)
		pause();
	return NULL;
}

TEST(signal_threads, process_signal_goes_to_a_thread_that_does_not_block_it)
{
	install(0);
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		atomic_store(&blocked_ready, 0);
		ASSERT_EQ(pthread_create(&th[i], NULL, block_usr1_and_wait, NULL), 0);
		while (!atomic_load(&blocked_ready))
			sched_yield();
	}
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	while (atomic_load(&handled) == 0)
		sched_yield();
	EXPECT_EQ(atomic_load(&handler_tid), gettid_());
}

static void *raise_in_thread(void *p)
{
	(void)p;
	raise(SIGUSR1); /* tgkill(getpid(), gettid()) */
	return (void *)(long)gettid_();
}

TEST(signal_threads, raise_runs_the_handler_in_the_raising_thread)
{
	install(0);
	pthread_t th;
	void *tid;
	ASSERT_EQ(pthread_create(&th, NULL, raise_in_thread, NULL), 0);
	pthread_join(th, &tid);
	EXPECT_EQ(atomic_load(&handled), 1);
	EXPECT_EQ(atomic_load(&handler_tid), (pid_t)(long)tid);
}

TEST(signal_threads, tgkill_with_the_wrong_tgid_fails_with_ESRCH)
{
	EXPECT_ERRNO(syscall(SYS_tgkill, getppid(), gettid_(), 0), ESRCH);
	EXPECT_ERRNO(syscall(SYS_tgkill, getpid(), gettid_(), -1), EINVAL);
	EXPECT_SYSCALL_OK(syscall(SYS_tgkill, getpid(), gettid_(), 0));
}
