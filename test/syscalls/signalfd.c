/* signalfd(2), signalfd4(2). */
#include "test.h"

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

static void block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

static sigset_t set_of(int a, int b)
{
	sigset_t s;
	sigemptyset(&s);
	if (a)
		sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	return s;
}

TEST(signalfd, read_returns_a_blocked_pending_SIGUSR1_and_dequeues_it)
{
	block(SIGUSR1);
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = ASSERT_SYSCALL_OK(signalfd(-1, &m, SFD_NONBLOCK));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	struct signalfd_siginfo si;
	ASSERT_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	EXPECT_EQ(sizeof(si), 128);
	EXPECT_EQ(si.ssi_signo, SIGUSR1);
	EXPECT_EQ(si.ssi_code, SI_USER);
	EXPECT_EQ(si.ssi_pid, getpid());
	EXPECT_EQ(si.ssi_uid, getuid());
	sigset_t pending;
	ASSERT_SYSCALL_OK(sigpending(&pending));
	EXPECT_FALSE(sigismember(&pending, SIGUSR1));
	EXPECT_ERRNO(read(fd, &si, sizeof(si)), EAGAIN);
}

TEST(signalfd, signals_outside_the_mask_are_not_read)
{
	block(SIGUSR2);
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = ASSERT_SYSCALL_OK(signalfd(-1, &m, SFD_NONBLOCK));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR2));
	struct signalfd_siginfo si;
	EXPECT_ERRNO(read(fd, &si, sizeof(si)), EAGAIN);
	sigset_t pending;
	ASSERT_SYSCALL_OK(sigpending(&pending));
	EXPECT_TRUE(sigismember(&pending, SIGUSR2));
}

TEST(signalfd, one_read_returns_as_many_signals_as_fit)
{
	block(SIGUSR1);
	block(SIGUSR2);
	sigset_t m = set_of(SIGUSR1, SIGUSR2);
	int fd = ASSERT_SYSCALL_OK(signalfd(-1, &m, SFD_NONBLOCK));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR2));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	struct signalfd_siginfo si[3];
	ASSERT_EQ(read(fd, si, sizeof(si)), 2 * sizeof(si[0]));
	EXPECT_EQ(si[0].ssi_signo, SIGUSR1);
	EXPECT_EQ(si[1].ssi_signo, SIGUSR2);
}

TEST(signalfd, sigqueue_value_is_reported_in_ssi_int_and_ssi_ptr)
{
	block(SIGRTMIN);
	sigset_t m = set_of(SIGRTMIN, 0);
	int fd = ASSERT_SYSCALL_OK(signalfd(-1, &m, SFD_NONBLOCK));
	union sigval v = {.sival_int = 1234};
	ASSERT_SYSCALL_OK(sigqueue(getpid(), SIGRTMIN, v));
	ASSERT_SYSCALL_OK(sigqueue(getpid(), SIGRTMIN, v));
	struct signalfd_siginfo si;
	ASSERT_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	EXPECT_EQ(si.ssi_signo, SIGRTMIN);
	EXPECT_EQ(si.ssi_code, SI_QUEUE);
	EXPECT_EQ(si.ssi_int, 1234);
	EXPECT_EQ((uint32_t)si.ssi_ptr, 1234);
	EXPECT_EQ(si.ssi_pid, getpid());
	/* Real-time signals queue. */
	EXPECT_EQ(read(fd, &si, sizeof(si)), sizeof(si));
}

TEST(signalfd, read_with_a_buffer_smaller_than_a_record_fails_with_EINVAL)
{
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = ASSERT_SYSCALL_OK(signalfd(-1, &m, SFD_NONBLOCK));
	char buf[127];
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EINVAL);
}

TEST(signalfd, bad_flags_or_sigset_size_fail_with_EINVAL)
{
	sigset_t m = set_of(SIGUSR1, 0);
	EXPECT_ERRNO(syscall(SYS_signalfd4, -1, &m, 8, 1), EINVAL);
	EXPECT_ERRNO(syscall(SYS_signalfd4, -1, &m, 4, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_signalfd, -1, &m, 16), EINVAL);
	EXPECT_SYSCALL_OK(syscall(SYS_signalfd, -1, &m, 8));
}

TEST(signalfd, a_bad_mask_pointer_fails_with_EFAULT)
{
	EXPECT_ERRNO(syscall(SYS_signalfd4, -1, NULL, 8, 0), EFAULT);
	EXPECT_ERRNO(syscall(SYS_signalfd4, -1, (void *)8, 8, 0), EFAULT);
}

TEST(signalfd, SFD_CLOEXEC_and_SFD_NONBLOCK_set_the_descriptor_flags)
{
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = ASSERT_SYSCALL_OK(signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
}

TEST(signalfd, an_existing_descriptor_gets_the_new_mask)
{
	block(SIGUSR1);
	block(SIGUSR2);
	sigset_t m1 = set_of(SIGUSR1, 0), m2 = set_of(SIGUSR2, 0);
	int fd = ASSERT_SYSCALL_OK(signalfd(-1, &m1, SFD_NONBLOCK));
	EXPECT_EQ(signalfd(fd, &m2, 0), fd);
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR2));
	struct signalfd_siginfo si[2];
	/* Flags are not changed by an update: still non-blocking. */
	ASSERT_EQ(read(fd, si, sizeof(si)), sizeof(si[0]));
	EXPECT_EQ(si[0].ssi_signo, SIGUSR2);
	EXPECT_ERRNO(read(fd, si, sizeof(si)), EAGAIN);
}

TEST(signalfd, updating_a_bad_or_non_signalfd_descriptor_fails)
{
	sigset_t m = set_of(SIGUSR1, 0);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(signalfd(p[0], &m, 0), EINVAL);
	EXPECT_ERRNO(signalfd(1000, &m, 0), EBADF);
	EXPECT_ERRNO(signalfd(-2, &m, 0), EBADF);
}

TEST(signalfd, poll_and_epoll_report_readable_while_a_signal_is_pending)
{
	block(SIGUSR1);
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = ASSERT_SYSCALL_OK(signalfd(-1, &m, SFD_NONBLOCK));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	EXPECT_EQ(poll(&p, 1, 0), 0);
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 1};
	ASSERT_SYSCALL_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	EXPECT_EQ(epoll_wait(ep, &ev, 1, 0), 0);
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLIN);
	EXPECT_EQ(epoll_wait(ep, &ev, 1, 0), 1);
	struct signalfd_siginfo si;
	ASSERT_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	EXPECT_EQ(poll(&p, 1, 0), 0);
}

static void *send_usr1(void *p)
{
	(void)p;
	return kill(getpid(), SIGUSR1) == 0 ? p : NULL;
}

TEST(signalfd, blocking_read_wakes_when_another_thread_signals_the_process)
{
	block(SIGUSR1); /* before the thread starts: it inherits the mask */
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = ASSERT_SYSCALL_OK(signalfd(-1, &m, 0));
	pthread_t th;
	static int token;
	ASSERT_EQ(pthread_create(&th, NULL, send_usr1, &token), 0);
	struct signalfd_siginfo si;
	ASSERT_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	EXPECT_EQ(si.ssi_signo, SIGUSR1);
	void *ret;
	ASSERT_EQ(pthread_join(th, &ret), 0);
	EXPECT_EQ(ret, &token);
}

TEST(signalfd, epoll_wait_wakes_for_a_signal_sent_by_another_process)
{
	block(SIGUSR1);
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = ASSERT_SYSCALL_OK(signalfd(-1, &m, SFD_NONBLOCK));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 3};
	ASSERT_SYSCALL_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	pid_t parent = getpid();
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(kill(parent, SIGUSR1) == 0 ? 0 : 1);
	ASSERT_EQ(epoll_wait(ep, &ev, 1, 5000), 1);
	EXPECT_EQ(ev.data.u32, 3);
	struct signalfd_siginfo si;
	ASSERT_EQ(read(fd, &si, sizeof(si)), sizeof(si));
	EXPECT_EQ(si.ssi_pid, pid);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
