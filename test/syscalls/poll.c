/* poll(2), ppoll(2), select(2), pselect6(2). */
#include "test.h"

#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>

static long elapsed_ms(struct timespec a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

TEST(poll, timeout_expires_with_zero_and_no_events)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct pollfd pf = {p[0], POLLIN, 0};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(poll(&pf, 1, 50), 0);
	EXPECT_EQ(pf.revents, 0);
	EXPECT_GE(elapsed_ms(t0), 45);
}

static void *write_later(void *arg)
{
	usleep(50 * 1000);
	write(*(int *)arg, "x", 1);
	return NULL;
}

TEST(poll, wakes_when_another_thread_makes_a_file_ready)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, write_later, &p[1]), 0);
	struct pollfd pf = {p[0], POLLIN, 0};
	EXPECT_EQ(poll(&pf, 1, 5000), 1);
	EXPECT_EQ(pf.revents, POLLIN);
	pthread_join(th, NULL);
}

TEST(poll, bad_descriptors_are_POLLNVAL_and_negative_ones_ignored)
{
	struct pollfd pf[2] = {{-1, POLLIN, 7}, {999, POLLIN, 0}};
	EXPECT_EQ(poll(pf, 2, 0), 1);
	EXPECT_EQ(pf[0].revents, 0);
	EXPECT_EQ(pf[1].revents, POLLNVAL);
}

TEST(poll, more_descriptors_than_RLIMIT_NOFILE_fails_with_EINVAL)
{
	struct rlimit rl;
	ASSERT_SYSCALL_OK(getrlimit(RLIMIT_NOFILE, &rl));
	EXPECT_ERRNO(poll(NULL, rl.rlim_cur + 1, 0), EINVAL);
}

static void on_usr1(int sig) { (void)sig; }

/* Sends SIGUSR1 to tid every few ms until *stop. */
struct pester {
	pid_t tid;
	volatile int stop;
};

static void *pester_thread(void *arg)
{
	struct pester *p = arg;
	while (!p->stop) {
		syscall(SYS_tgkill, getpid(), p->tid, SIGUSR1);
		usleep(2000);
	}
	return NULL;
}

TEST(poll, timed_waits_interrupted_by_a_handler_fail_with_EINTR_every_time)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1; /* no SA_RESTART: poll never restarts anyway */
	sigaction(SIGUSR1, &sa, NULL);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct pester pe = {(pid_t)syscall(SYS_gettid), 0};
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, pester_thread, &pe), 0);
	int eintr = 0;
	for (int i = 0; i < 200; i++) {
		struct pollfd pf = {p[0], POLLIN, 0};
		int r = poll(&pf, 1, 1000);
		if (r == -1 && errno == EINTR)
			eintr++;
		else
			EXPECT_EQ(r, 0);
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(p[0], &rd);
		struct timeval tv = {1, 0};
		r = select(p[0] + 1, &rd, NULL, NULL, &tv);
		if (r == -1 && errno == EINTR)
			eintr++;
	}
	pe.stop = 1;
	pthread_join(th, NULL);
	EXPECT_GE(eintr, 300);
}

TEST(ppoll, signal_mask_applies_only_during_the_call)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &block, &old));
	raise(SIGUSR1); /* pending, blocked */
	sigset_t during;
	sigemptyset(&during); /* unblock everything during ppoll */
	struct timespec ts = {5, 0};
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct pollfd pf = {p[0], POLLIN, 0};
	EXPECT_ERRNO(ppoll(&pf, 1, &ts, &during), EINTR);
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	EXPECT_TRUE(sigismember(&now, SIGUSR1));
	sigprocmask(SIG_SETMASK, &old, NULL);
}

TEST(select, timeout_is_updated_with_the_time_left)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	struct timeval tv = {0, 50 * 1000};
	EXPECT_EQ(select(p[0] + 1, &rd, NULL, NULL, &tv), 0);
	EXPECT_EQ(tv.tv_sec, 0);
	EXPECT_EQ(tv.tv_usec, 0);
	EXPECT_FALSE(FD_ISSET(p[0], &rd));
}

TEST(select, bad_descriptor_fails_with_EBADF_and_negative_nfds_with_EINVAL)
{
	/* A closed descriptor below the table's size (Linux ignores bits
	 * past the descriptor table). */
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(close(p[0]));
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	struct timeval tv = {0, 0};
	EXPECT_ERRNO(select(p[0] + 1, &rd, NULL, NULL, &tv), EBADF);
	EXPECT_ERRNO(select(-1, NULL, NULL, NULL, &tv), EINVAL);
}

TEST(pselect, zero_timeout_polls_and_returns_ready_descriptors)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_EQ(write(p[1], "y", 1), 1);
	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(p[0], &rd);
	FD_SET(p[1], &wr);
	struct timespec ts = {0, 0};
	EXPECT_EQ(pselect(p[1] + 1, &rd, &wr, NULL, &ts, NULL), 2);
	EXPECT_TRUE(FD_ISSET(p[0], &rd));
	EXPECT_TRUE(FD_ISSET(p[1], &wr));
}

TEST(ppoll, timeout_is_updated_with_the_time_left)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct pollfd pf = {p[0], POLLIN, 0};
	struct timespec ts = {0, 30 * 1000 * 1000};
	EXPECT_EQ(syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8), 0);
	EXPECT_EQ(ts.tv_sec, 0);
	EXPECT_EQ(ts.tv_nsec, 0);
	/* Ready at once: nearly all of it is left. */
	ASSERT_EQ(write(p[1], "x", 1), 1);
	ts.tv_sec = 5;
	ts.tv_nsec = 0;
	EXPECT_EQ(syscall(SYS_ppoll, &pf, 1, &ts, NULL, 8), 1);
	EXPECT_GE(ts.tv_sec, 4);
}
