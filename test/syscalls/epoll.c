/* epoll_create(2), epoll_create1(2), epoll_ctl(2), epoll_wait(2),
 * epoll_pwait(2), epoll_pwait2(2) and the semantics of epoll(7). */
#include "test.h"

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <time.h>

static int watch(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int wait0(int ep, struct epoll_event *evs, int max)
{
	return epoll_wait(ep, evs, max, 0);
}

TEST(epoll, create_with_size_zero_or_negative_fails_with_EINVAL)
{
	EXPECT_ERRNO(syscall(SYS_epoll_create, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_epoll_create, -1), EINVAL);
	EXPECT_SYSCALL_OK(syscall(SYS_epoll_create, 1));
}

TEST(epoll, create1_with_unknown_flags_fails_with_EINVAL)
{
	EXPECT_ERRNO(epoll_create1(1), EINVAL);
	EXPECT_ERRNO(epoll_create1(O_NONBLOCK), EINVAL);
}

TEST(epoll, create1_EPOLL_CLOEXEC_sets_close_on_exec)
{
	int a = ASSERT_SYSCALL_OK(epoll_create1(EPOLL_CLOEXEC));
	int b = ASSERT_SYSCALL_OK(epoll_create1(0));
	EXPECT_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(fcntl(b, F_GETFD), 0);
}

TEST(epoll, ctl_ADD_of_a_watched_fd_fails_with_EEXIST)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	EXPECT_SYSCALL_OK(watch(ep, p[0], EPOLLIN, 0));
	EXPECT_ERRNO(watch(ep, p[0], EPOLLIN, 0), EEXIST);
}

TEST(epoll, ctl_MOD_and_DEL_of_an_unwatched_fd_fail_with_ENOENT)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN};
	EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT);
	EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
}

TEST(epoll, ctl_with_a_bad_descriptor_fails_with_EBADF)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN};
	EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, 1000, &ev), EBADF);
	EXPECT_ERRNO(epoll_ctl(1000, EPOLL_CTL_ADD, p[0], &ev), EBADF);
	EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_ADD, -1, &ev), EBADF);
}

TEST(epoll, ctl_ADD_of_a_regular_file_or_directory_fails_with_EPERM)
{
	int f = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	int d = ASSERT_SYSCALL_OK(open(test_tmpdir(), O_RDONLY | O_DIRECTORY));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	EXPECT_ERRNO(watch(ep, f, EPOLLIN, 0), EPERM);
	EXPECT_ERRNO(watch(ep, d, EPOLLIN, 0), EPERM);
}

TEST(epoll, ctl_on_a_non_epoll_descriptor_or_itself_fails_with_EINVAL)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	EXPECT_ERRNO(watch(p[0], p[1], EPOLLIN, 0), EINVAL);
	EXPECT_ERRNO(watch(ep, ep, EPOLLIN, 0), EINVAL);
	struct epoll_event ev = {.events = EPOLLIN};
	EXPECT_ERRNO(epoll_ctl(ep, 42, p[0], &ev), EINVAL);
}

TEST(epoll, ctl_with_a_bad_event_pointer_fails_with_EFAULT)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	EXPECT_ERRNO(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], NULL), EFAULT);
	EXPECT_ERRNO(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], (void *)1), EFAULT);
	/* DEL does not read the event. */
	EXPECT_SYSCALL_OK(watch(ep, p[0], EPOLLIN, 0));
	EXPECT_SYSCALL_OK(syscall(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, p[0], (void *)1));
}

TEST(epoll, EPOLLEXCLUSIVE_is_accepted_on_ADD_only)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	int inner = ASSERT_SYSCALL_OK(epoll_create1(0));
	EXPECT_ERRNO(watch(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 0), EINVAL);
	EXPECT_ERRNO(watch(ep, inner, EPOLLIN | EPOLLEXCLUSIVE, 0), EINVAL);
	EXPECT_SYSCALL_OK(watch(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0));
	struct epoll_event ev = {.events = EPOLLIN};
	EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), EINVAL);
}

TEST(epoll, wait_with_zero_timeout_returns_0_when_nothing_is_ready)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, p[0], EPOLLIN, 7));
	struct epoll_event evs[4];
	EXPECT_EQ(wait0(ep, evs, 4), 0);
}

TEST(epoll, level_triggered_reports_a_readable_pipe_until_it_is_drained)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, p[0], EPOLLIN, 0x1234567890ull));
	ASSERT_EQ(write(p[1], "ab", 2), 2);
	struct epoll_event evs[4];
	ASSERT_EQ(wait0(ep, evs, 4), 1);
	EXPECT_EQ(evs[0].events, EPOLLIN);
	EXPECT_EQ(evs[0].data.u64, 0x1234567890ull);
	EXPECT_EQ(wait0(ep, evs, 4), 1);
	char buf[2];
	ASSERT_EQ(read(p[0], buf, 2), 2);
	EXPECT_EQ(wait0(ep, evs, 4), 0);
}

TEST(epoll, edge_triggered_reports_once_per_new_event)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, p[0], EPOLLIN | EPOLLET, 1));
	struct epoll_event evs[4];
	EXPECT_EQ(wait0(ep, evs, 4), 0);
	ASSERT_EQ(write(p[1], "a", 1), 1);
	ASSERT_EQ(wait0(ep, evs, 4), 1);
	EXPECT_EQ(evs[0].events, EPOLLIN);
	/* Still readable, but no new event: not reported again. */
	EXPECT_EQ(wait0(ep, evs, 4), 0);
	/* More data is a new event. */
	ASSERT_EQ(write(p[1], "b", 1), 1);
	EXPECT_EQ(wait0(ep, evs, 4), 1);
	EXPECT_EQ(wait0(ep, evs, 4), 0);
}

TEST(epoll, EPOLLONESHOT_disables_the_entry_until_MOD)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, p[0], EPOLLIN | EPOLLONESHOT, 3));
	ASSERT_EQ(write(p[1], "a", 1), 1);
	struct epoll_event evs[4];
	ASSERT_EQ(wait0(ep, evs, 4), 1);
	EXPECT_EQ(evs[0].data.u64, 3);
	ASSERT_EQ(write(p[1], "b", 1), 1);
	EXPECT_EQ(wait0(ep, evs, 4), 0);
	/* Still watched: ADD fails, MOD re-arms. */
	EXPECT_ERRNO(watch(ep, p[0], EPOLLIN, 0), EEXIST);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 4};
	ASSERT_SYSCALL_OK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	ASSERT_EQ(wait0(ep, evs, 4), 1);
	EXPECT_EQ(evs[0].data.u64, 4);
}

TEST(epoll, DEL_stops_reports)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, p[0], EPOLLIN, 0));
	ASSERT_EQ(write(p[1], "a", 1), 1);
	struct epoll_event evs[4];
	ASSERT_EQ(wait0(ep, evs, 4), 1);
	ASSERT_SYSCALL_OK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	EXPECT_EQ(wait0(ep, evs, 4), 0);
}

TEST(epoll, EPOLLHUP_is_reported_without_being_asked_for)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, p[0], 0, 0));
	struct epoll_event evs[4];
	EXPECT_EQ(wait0(ep, evs, 4), 0);
	ASSERT_SYSCALL_OK(close(p[1]));
	ASSERT_EQ(wait0(ep, evs, 4), 1);
	EXPECT_EQ(evs[0].events, EPOLLHUP);
}

TEST(epoll, EPOLLOUT_is_reported_for_a_pipe_with_room)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, p[1], EPOLLIN | EPOLLOUT, 9));
	struct epoll_event evs[4];
	ASSERT_EQ(wait0(ep, evs, 4), 1);
	EXPECT_EQ(evs[0].events, EPOLLOUT);
	EXPECT_EQ(evs[0].data.u64, 9);
}

TEST(epoll, maxevents_smaller_than_the_ready_count_takes_turns)
{
	int a[2], b[2];
	ASSERT_SYSCALL_OK(pipe(a));
	ASSERT_SYSCALL_OK(pipe(b));
	ASSERT_EQ(write(a[1], "a", 1), 1);
	ASSERT_EQ(write(b[1], "b", 1), 1);
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, a[0], EPOLLIN, 1));
	ASSERT_SYSCALL_OK(watch(ep, b[0], EPOLLIN, 2));
	struct epoll_event ev;
	ASSERT_EQ(wait0(ep, &ev, 1), 1);
	EXPECT_EQ(ev.data.u64, 1);
	ASSERT_EQ(wait0(ep, &ev, 1), 1);
	EXPECT_EQ(ev.data.u64, 2);
	ASSERT_EQ(wait0(ep, &ev, 1), 1);
	EXPECT_EQ(ev.data.u64, 1);
}

TEST(epoll, nested_epoll_is_readable_when_the_inner_one_has_events)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int inner = ASSERT_SYSCALL_OK(epoll_create1(0));
	int outer = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(inner, p[0], EPOLLIN, 1));
	ASSERT_SYSCALL_OK(watch(outer, inner, EPOLLIN, 2));
	struct epoll_event evs[4];
	EXPECT_EQ(wait0(outer, evs, 4), 0);
	struct pollfd pfd = {.fd = inner, .events = POLLIN};
	EXPECT_EQ(poll(&pfd, 1, 0), 0);
	ASSERT_EQ(write(p[1], "a", 1), 1);
	ASSERT_EQ(wait0(outer, evs, 4), 1);
	EXPECT_EQ(evs[0].events, EPOLLIN);
	EXPECT_EQ(evs[0].data.u64, 2);
	EXPECT_EQ(poll(&pfd, 1, 0), 1);
	EXPECT_EQ(pfd.revents, POLLIN);
	ASSERT_EQ(wait0(inner, evs, 4), 1);
	EXPECT_EQ(evs[0].data.u64, 1);
}

TEST(epoll, watching_an_epoll_that_watches_us_fails_with_ELOOP)
{
	int a = ASSERT_SYSCALL_OK(epoll_create1(0));
	int b = ASSERT_SYSCALL_OK(epoll_create1(0));
	int c = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(a, b, EPOLLIN, 0));
	ASSERT_SYSCALL_OK(watch(b, c, EPOLLIN, 0));
	EXPECT_ERRNO(watch(c, a, EPOLLIN, 0), ELOOP);
	EXPECT_ERRNO(watch(b, a, EPOLLIN, 0), ELOOP);
}

struct writer_arg {
	int gate; /* read end: the writer waits for a byte */
	int fd;   /* where it writes */
};

static void *writer(void *p)
{
	struct writer_arg *a = p;
	char c;
	if (read(a->gate, &c, 1) != 1)
		return NULL;
	if (write(a->fd, "x", 1) != 1)
		return NULL;
	return p;
}

TEST(epoll, wait_wakes_when_another_thread_writes_a_watched_pipe)
{
	int p[2], gate[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(pipe(gate));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, p[0], EPOLLIN, 5));
	struct writer_arg a = {gate[0], p[1]};
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, writer, &a), 0);
	/* Let the writer go; it may write before or after we block. */
	ASSERT_EQ(write(gate[1], "g", 1), 1);
	struct epoll_event ev;
	ASSERT_EQ(epoll_wait(ep, &ev, 1, -1), 1);
	EXPECT_EQ(ev.events, EPOLLIN);
	EXPECT_EQ(ev.data.u64, 5);
	void *ret;
	ASSERT_EQ(pthread_join(th, &ret), 0);
	EXPECT_EQ(ret, &a);
}

TEST(epoll, wait_wakes_when_another_thread_adds_a_ready_file)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_EQ(write(p[1], "x", 1), 1);
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* The child shares the epoll instance. */
		_exit(watch(ep, p[0], EPOLLIN, 6) == 0 ? 0 : 1);
	}
	struct epoll_event ev;
	ASSERT_EQ(epoll_wait(ep, &ev, 1, 5000), 1);
	EXPECT_EQ(ev.data.u64, 6);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(epoll, wait_with_bad_maxevents_fails_with_EINVAL)
{
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ev;
	EXPECT_ERRNO(syscall(SYS_epoll_wait, ep, &ev, 0, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_epoll_wait, ep, &ev, -1, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_epoll_wait, ep, &ev, INT32_MAX, 0), EINVAL);
}

TEST(epoll, wait_on_a_bad_or_non_epoll_descriptor_fails)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct epoll_event ev;
	EXPECT_ERRNO(epoll_wait(1000, &ev, 1, 0), EBADF);
	EXPECT_ERRNO(epoll_wait(p[0], &ev, 1, 0), EINVAL);
}

TEST(epoll, wait_with_a_bad_events_pointer_fails_with_EFAULT)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, p[0], EPOLLIN, 0));
	ASSERT_EQ(write(p[1], "a", 1), 1);
	EXPECT_ERRNO(syscall(SYS_epoll_wait, ep, (void *)8, 1, 0), EFAULT);
	EXPECT_ERRNO(syscall(SYS_epoll_wait, ep, (void *)-4096L, 1, 0), EFAULT);
	/* The event was not lost. */
	struct epoll_event ev;
	EXPECT_EQ(wait0(ep, &ev, 1), 1);
}

TEST(epoll, closing_the_only_descriptor_removes_the_entry)
{
	signal(SIGPIPE, SIG_IGN);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	ASSERT_SYSCALL_OK(watch(ep, p[0], EPOLLIN, 0));
	ASSERT_EQ(write(p[1], "a", 1), 1);
	ASSERT_SYSCALL_OK(close(p[0]));
	struct epoll_event ev;
	EXPECT_EQ(wait0(ep, &ev, 1), 0);
	/* The read end is really closed. */
	EXPECT_ERRNO(write(p[1], "b", 1), EPIPE);
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

TEST(epoll, pwait_unblocking_a_pending_signal_fails_with_EINTR)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	sigset_t block, empty;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&empty);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &block, NULL));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	EXPECT_EQ(got_usr1, 0);
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ev;
	/* Not restarted even with SA_RESTART. */
	EXPECT_ERRNO(epoll_pwait(ep, &ev, 1, -1, &empty), EINTR);
	EXPECT_EQ(got_usr1, 1);
	/* The original mask is back. */
	sigset_t cur;
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, NULL, &cur));
	EXPECT_TRUE(sigismember(&cur, SIGUSR1));
}

TEST(epoll, pwait_with_a_bad_sigset_size_fails_with_EINVAL)
{
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	sigset_t empty;
	sigemptyset(&empty);
	struct epoll_event ev;
	EXPECT_ERRNO(syscall(SYS_epoll_pwait, ep, &ev, 1, 0, &empty, 4), EINVAL);
	EXPECT_ERRNO(syscall(SYS_epoll_pwait, ep, &ev, 1, 0, (void *)1, 8), EFAULT);
	EXPECT_EQ(syscall(SYS_epoll_pwait, ep, &ev, 1, 0, NULL, 4), 0);
}

TEST(epoll, pwait2_takes_a_timespec_timeout)
{
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ev;
	struct timespec zero = {0, 0}, bad = {0, 1000000000}, neg = {-1, 0};
	struct timespec short_ = {0, 20 * 1000 * 1000};
	EXPECT_EQ(syscall(SYS_epoll_pwait2, ep, &ev, 1, &zero, NULL, 8), 0);
	EXPECT_ERRNO(syscall(SYS_epoll_pwait2, ep, &ev, 1, &bad, NULL, 8), EINVAL);
	EXPECT_ERRNO(syscall(SYS_epoll_pwait2, ep, &ev, 1, &neg, NULL, 8), EINVAL);
	EXPECT_ERRNO(syscall(SYS_epoll_pwait2, ep, &ev, 1, (void *)1, NULL, 8), EFAULT);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(syscall(SYS_epoll_pwait2, ep, &ev, 1, &short_, NULL, 8), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	EXPECT_GE(ms, 19);
}
