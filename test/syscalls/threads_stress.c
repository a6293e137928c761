/*
 * Threads under load: many creations and exits, threads making threads,
 * contended pthread mutexes and condition variables, exit_group and
 * execve from a thread that is not the leader, pthread_cancel of a
 * blocked thread, a POSIX timer aimed at a thread that exits, and
 * PR_SET_CHILD_SUBREAPER.
 */
#include "test.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <time.h>

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static _Atomic int ran;

static void *count_and_exit(void *p)
{
	atomic_fetch_add(&ran, 1);
	return p;
}

TEST(threads, one_thousand_threads_are_created_and_joined)
{
	enum { TOTAL = 1000, BATCH = 50 };
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int done = 0; done < TOTAL; done += BATCH) {
		pthread_t th[BATCH];
		for (int i = 0; i < BATCH; i++)
			ASSERT_EQ(pthread_create(&th[i], &attr, count_and_exit, (void *)(long)(done + i)), 0);
		for (int i = 0; i < BATCH; i++) {
			void *ret;
			ASSERT_EQ(pthread_join(th[i], &ret), 0);
			ASSERT_EQ((long)ret, done + i);
		}
	}
	EXPECT_EQ(atomic_load(&ran), TOTAL);
}

/* tree makes two children, each of which makes two, depth levels deep. */
static void *tree(void *p)
{
	long depth = (long)p;
	atomic_fetch_add(&ran, 1);
	if (depth == 0)
		return (void *)1L;
	pthread_t a, b;
	void *ra, *rb;
	if (pthread_create(&a, NULL, tree, (void *)(depth - 1)) != 0)
		return NULL;
	if (pthread_create(&b, NULL, tree, (void *)(depth - 1)) != 0)
		return NULL;
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	return (void *)(1 + (long)ra + (long)rb);
}

TEST(threads, threads_created_by_threads_all_run_and_are_joined)
{
	pthread_t root;
	void *n;
	ASSERT_EQ(pthread_create(&root, NULL, tree, (void *)6L), 0);
	ASSERT_EQ(pthread_join(root, &n), 0);
	EXPECT_EQ((long)n, 127);
	EXPECT_EQ(atomic_load(&ran), 127);
}

static _Atomic int detached_left;

static void *detached_exit(void *p)
{
	(void)p;
	if (atomic_fetch_sub(&detached_left, 1) == 1)
		syscall(SYS_futex, &detached_left, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

TEST(threads, detached_threads_exit_on_their_own)
{
	enum { N = 200 };
	atomic_store(&detached_left, N);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < N; i++) {
		pthread_t th;
		ASSERT_EQ(pthread_create(&th, &attr, detached_exit, NULL), 0);
	}
	int v;
	while ((v = atomic_load(&detached_left)) != 0)
		syscall(SYS_futex, &detached_left, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
	EXPECT_EQ(atomic_load(&detached_left), 0);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;

static void *increment(void *p)
{
	(void)p;
	for (int i = 0; i < 10000; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

TEST(threads, contended_mutex_loses_no_increment)
{
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, increment, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(counter, 40000);
}

/* Ping-pong through a condition variable: turn says whose move it is. */
static int turn;

static void *take_turns(void *p)
{
	long me = (long)p;
	for (int i = 0; i < 2500; i++) {
		pthread_mutex_lock(&mu);
		while (turn % 4 != me)
			pthread_cond_wait(&cv, &mu);
		turn++;
		counter++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

TEST(threads, condition_variable_hands_turns_between_four_threads)
{
	pthread_t th[4];
	for (long i = 0; i < 4; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, take_turns, (void *)i), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(turn, 10000);
	EXPECT_EQ(counter, 10000);
}

static void *block_forever(void *p)
{
	int *fds = p;
	char b;
	atomic_fetch_add(&ran, 1);
	if (fds)
		read(fds[0], &b, 1);
	else
		for (;;)
			pause();
	return NULL;
}

static void *exit_group_when_all_run(void *p)
{
	long n = (long)p;
	while (atomic_load(&ran) < n)
		sched_yield();
	syscall(SYS_exit_group, 42);
	return NULL;
}

TEST(threads, exit_group_from_a_non_main_thread_ends_blocked_threads)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		static int fds[2];
		if (pipe(fds) != 0)
			_exit(1);
		pthread_t th;
		for (int i = 0; i < 8; i++)
			pthread_create(&th, NULL, block_forever, i % 2 ? fds : NULL);
		pthread_create(&th, NULL, exit_group_when_all_run, (void *)8L);
		/* The main thread blocks too. */
		pthread_join(th, NULL);
		_exit(3);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 42);
}

static int last_in, last_out;

static void *last_thread(void *p)
{
	(void)p;
	char b;
	if (read(last_in, &b, 1) != 1)
		return NULL;
	write(last_out, "y", 1);
	return NULL;
}

TEST(threads, process_outlives_its_main_thread_until_the_last_thread_exits)
{
	int in[2], out[2];
	ASSERT_SYSCALL_OK(pipe(in));
	ASSERT_SYSCALL_OK(pipe(out));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		last_in = in[0];
		last_out = out[1];
		close(out[0]);
		pthread_t th;
		pthread_create(&th, NULL, last_thread, NULL);
		pthread_exit(NULL); /* status 0 comes from the last thread */
	}
	close(out[1]);
	close(in[0]);
	ASSERT_EQ(write(in[1], "x", 1), 1);
	char b;
	EXPECT_EQ(read(out[0], &b, 1), 1);
	EXPECT_EQ(read(out[0], &b, 1), 0); /* every thread is gone */
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST_HELPER(exec_from_thread)
{
	if (argc != 2)
		return 10;
	if (getpid() != atoi(argv[1]))
		return 11;
	if (gettid_() != getpid())
		return 12;
	/* Only one thread is left. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)getpid());
	struct stat st;
	if (stat(path, &st) != 0)
		return 13;
	return 0;
}

static void *exec_self(void *p)
{
	(void)p;
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	execl(test_self_exe(), test_self_exe(), "--helper", "exec_from_thread", pid, (char *)NULL);
	return NULL;
}

TEST(threads, execve_from_a_non_leader_thread_keeps_the_pid_and_takes_the_leader_tid)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		pthread_t th;
		for (int i = 0; i < 3; i++)
			pthread_create(&th, NULL, block_forever, NULL);
		pthread_create(&th, NULL, exec_self, NULL);
		for (;;)
			pause();
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

static _Atomic int cancel_ready;

static void *read_until_cancelled(void *p)
{
	int *fds = p;
	char b;
	atomic_store(&cancel_ready, 1);
	read(fds[0], &b, 1);
	return (void *)1L;
}

TEST(threads, pthread_cancel_ends_a_thread_blocked_in_read)
{
	int fds[2];
	ASSERT_SYSCALL_OK(pipe(fds));
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, read_until_cancelled, fds), 0);
	while (!atomic_load(&cancel_ready))
		sched_yield();
	usleep(1000); /* not needed for correctness: cancelled before read too */
	ASSERT_EQ(pthread_cancel(th), 0);
	void *ret;
	ASSERT_EQ(pthread_join(th, &ret), 0);
	EXPECT_EQ(ret, PTHREAD_CANCELED);
}

static _Atomic int timer_signals;

static void count_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&timer_signals, 1);
}

struct timer_target {
	_Atomic pid_t tid;
	_Atomic int go;
};

static void *timer_target(void *p)
{
	struct timer_target *t = p;
	atomic_store(&t->tid, gettid_());
	while (!atomic_load(&t->go))
		sched_yield();
	/* Spin a little while the timer fires at us, then exit. */
	for (volatile int i = 0; i < 100000; i++)
		;
	return NULL;
}

TEST(threads, thread_exits_while_a_SIGEV_THREAD_ID_timer_fires_at_it)
{
	struct sigaction sa = {.sa_handler = count_signal};
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	for (int round = 0; round < 20; round++) {
		struct timer_target t = {0};
		pthread_t th;
		ASSERT_EQ(pthread_create(&th, NULL, timer_target, &t), 0);
		while (atomic_load(&t.tid) == 0)
			sched_yield();
		struct sigevent ev = {0};
		ev.sigev_notify = SIGEV_THREAD_ID;
		ev.sigev_signo = SIGUSR1;
		ev._sigev_un._tid = atomic_load(&t.tid);
		timer_t id;
		ASSERT_SYSCALL_OK(timer_create(CLOCK_MONOTONIC, &ev, &id));
		struct itimerspec its = {{0, 100000}, {0, 100000}};
		ASSERT_SYSCALL_OK(timer_settime(id, 0, &its, NULL));
		atomic_store(&t.go, 1);
		ASSERT_EQ(pthread_join(th, NULL), 0);
		/* The timer keeps firing at a thread that is gone. */
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
		EXPECT_SYSCALL_OK(timer_delete(id));
	}
	/* Still alive, and the signals delivered went to handlers. */
	EXPECT_GE(atomic_load(&timer_signals), 0);
}

/* ---- PR_SET_CHILD_SUBREAPER ---- */

TEST(prctl, PR_GET_CHILD_SUBREAPER_reports_what_PR_SET_CHILD_SUBREAPER_set)
{
	int v = -1;
	ASSERT_SYSCALL_OK(prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
	EXPECT_EQ(v, 0);
	ASSERT_SYSCALL_OK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	ASSERT_SYSCALL_OK(prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
	EXPECT_EQ(v, 1);
	/* Not inherited by fork. */
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		int c = -1;
		prctl(PR_GET_CHILD_SUBREAPER, &c, 0, 0, 0);
		_exit(c == 0 ? 0 : 1);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	ASSERT_SYSCALL_OK(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0));
	ASSERT_SYSCALL_OK(prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
	EXPECT_EQ(v, 0);
	EXPECT_ERRNO(prctl(PR_GET_CHILD_SUBREAPER, (int *)8, 0, 0, 0), EFAULT);
}

/*
 * orphan_reports_new_parent forks a grandchild that waits until its parent
 * (the caller) is gone and writes its new parent's PID to fd; the caller
 * then exits.
 */
static void orphan_reports_new_parent(int fd)
{
	pid_t me = getpid();
	pid_t g = fork();
	if (g == 0) {
		while (getppid() == me)
			sched_yield();
		pid_t pp = getppid();
		write(fd, &pp, sizeof(pp));
		_exit(0);
	}
	_exit(g > 0 ? 0 : 1);
}

TEST(prctl, orphans_are_reparented_to_the_subreaper)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t mid = fork();
	ASSERT_SYSCALL_OK(mid);
	if (mid == 0)
		orphan_reports_new_parent(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(mid), 0);
	pid_t pp = 0;
	ASSERT_EQ(read(p[0], &pp, sizeof(pp)), (ssize_t)sizeof(pp));
	EXPECT_EQ(pp, getpid());
	/* The grandchild is ours to wait for now. */
	int ws;
	pid_t g = wait(&ws);
	EXPECT_GT(g, 0);
	EXPECT_EXIT_STATUS(ws, 0);
	EXPECT_ERRNO(wait(&ws), ECHILD);
}

TEST(prctl, orphans_skip_ancestors_that_are_not_subreapers)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	int p[2], hold[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(pipe(hold));
	pid_t outer = fork();
	ASSERT_SYSCALL_OK(outer);
	if (outer == 0) {
		/* A live non-subreaper between us and the dying parent. */
		close(hold[1]);
		pid_t mid = fork();
		if (mid == 0)
			orphan_reports_new_parent(p[1]);
		int ws;
		waitpid(mid, &ws, 0);
		char b;
		read(hold[0], &b, 1); /* stay alive until told */
		_exit(WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 1);
	}
	close(hold[0]);
	pid_t pp = 0;
	ASSERT_EQ(read(p[0], &pp, sizeof(pp)), (ssize_t)sizeof(pp));
	EXPECT_EQ(pp, getpid());
	close(hold[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(outer), 0);
	int ws;
	EXPECT_GT(wait(&ws), 0);
	EXPECT_ERRNO(wait(&ws), ECHILD);
}
