/* fcntl(2) F_SETOWN, F_SETOWN_EX, F_SETSIG and O_ASYNC (signal-driven I/O). */
#include "test.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#ifndef F_SETOWN_EX
#define F_SETOWN_EX 15
#define F_GETOWN_EX 16
#define F_OWNER_TID 0
#define F_OWNER_PID 1
#define F_OWNER_PGRP 2
struct f_owner_ex {
	int type;
	pid_t pid;
};
#endif

/* Waits for one of the signals in sig (blocked), bounded so a missing
 * signal fails instead of hanging. */
static int wait_sig(int sig, siginfo_t *si)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	struct timespec ts = {5, 0};
	return sigtimedwait(&s, si, &ts);
}

static void block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

TEST(fcntl_async, F_GETOWN_returns_what_F_SETOWN_set)
{
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	EXPECT_EQ(fcntl(p[0], F_GETOWN), 0);
	EXPECT_EQ(fcntl(p[0], F_SETOWN, getpid()), 0);
	EXPECT_EQ(fcntl(p[0], F_GETOWN), getpid());
	struct f_owner_ex o = {-1, -1};
	EXPECT_EQ(fcntl(p[0], F_GETOWN_EX, &o), 0);
	EXPECT_EQ(o.type, F_OWNER_PID);
	EXPECT_EQ(o.pid, getpid());
	/* A negative argument is a process group. */
	EXPECT_EQ(fcntl(p[0], F_SETOWN, -getpgrp()), 0);
	EXPECT_EQ(fcntl(p[0], F_GETOWN), -getpgrp());
	EXPECT_EQ(fcntl(p[0], F_GETOWN_EX, &o), 0);
	EXPECT_EQ(o.type, F_OWNER_PGRP);
	EXPECT_EQ(o.pid, getpgrp());
	/* The other descriptor of the pipe has its own owner. */
	EXPECT_EQ(fcntl(p[1], F_GETOWN), 0);
	close(p[0]);
	close(p[1]);
}

TEST(fcntl_async, F_SETOWN_EX_sets_a_thread_owner_and_checks_the_type)
{
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	struct f_owner_ex o = {F_OWNER_TID, (pid_t)syscall(SYS_gettid)};
	EXPECT_EQ(fcntl(p[0], F_SETOWN_EX, &o), 0);
	struct f_owner_ex g = {-1, -1};
	EXPECT_EQ(fcntl(p[0], F_GETOWN_EX, &g), 0);
	EXPECT_EQ(g.type, F_OWNER_TID);
	EXPECT_EQ(g.pid, o.pid);
	o.type = 7;
	errno = 0;
	EXPECT_EQ(fcntl(p[0], F_SETOWN_EX, &o), -1);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(fcntl(p[0], F_SETOWN_EX, (void *)1), -1);
	EXPECT_EQ(errno, EFAULT);
	close(p[0]);
	close(p[1]);
}

TEST(fcntl_async, F_GETSIG_returns_what_F_SETSIG_set)
{
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	EXPECT_EQ(fcntl(p[0], F_GETSIG), 0);
	EXPECT_EQ(fcntl(p[0], F_SETSIG, SIGRTMIN + 1), 0);
	EXPECT_EQ(fcntl(p[0], F_GETSIG), SIGRTMIN + 1);
	errno = 0;
	EXPECT_EQ(fcntl(p[0], F_SETSIG, 65), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(fcntl(p[0], F_SETSIG, 0), 0);
	EXPECT_EQ(fcntl(p[0], F_GETSIG), 0);
	close(p[0]);
	close(p[1]);
}

/* Sets O_ASYNC on fd with the caller as owner and sig (0: SIGIO). */
static void make_async(int fd, int sig)
{
	ASSERT_EQ(fcntl(fd, F_SETOWN, getpid()), 0);
	if (sig)
		ASSERT_EQ(fcntl(fd, F_SETSIG, sig), 0);
	ASSERT_EQ(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC), 0);
	EXPECT_TRUE(fcntl(fd, F_GETFL) & O_ASYNC);
}

TEST(fcntl_async, pipe_becoming_readable_sends_SIGIO_to_the_owner)
{
	block(SIGIO);
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	make_async(p[0], 0);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	siginfo_t si;
	EXPECT_EQ(wait_sig(SIGIO, &si), SIGIO);
	close(p[0]);
	close(p[1]);
}

TEST(fcntl_async, F_SETSIG_signal_carries_POLL_IN_si_fd_and_si_band)
{
	int sig = SIGRTMIN + 2;
	block(sig);
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	int fd = dup(p[0]); /* a number other than the pipe's first */
	ASSERT_GE(fd, 0);
	make_async(fd, sig);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(wait_sig(sig, &si), sig);
	EXPECT_EQ(si.si_code, POLL_IN);
	EXPECT_EQ(si.si_fd, fd);
	EXPECT_TRUE(si.si_band & POLLIN);
	close(fd);
	close(p[0]);
	close(p[1]);
}

TEST(fcntl_async, unix_socket_data_sends_the_signal)
{
	int sig = SIGRTMIN + 3;
	block(sig);
	int s[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	make_async(s[0], sig);
	ASSERT_EQ(write(s[1], "x", 1), 1);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(wait_sig(sig, &si), sig);
	EXPECT_EQ(si.si_code, POLL_IN);
	EXPECT_EQ(si.si_fd, s[0]);
	close(s[0]);
	close(s[1]);
}

TEST(fcntl_async, the_owner_process_gets_the_signal_from_another_process)
{
	block(SIGIO);
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	make_async(p[0], 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		_exit(write(p[1], "x", 1) == 1 ? 0 : 1);
	}
	siginfo_t si;
	EXPECT_EQ(wait_sig(SIGIO, &si), SIGIO);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(p[0]);
	close(p[1]);
}

TEST(fcntl_async, pty_output_sends_the_signal_to_the_master_owner)
{
	int sig = SIGRTMIN + 6;
	block(sig);
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	ASSERT_GE(m, 0);
	ASSERT_EQ(grantpt(m), 0);
	ASSERT_EQ(unlockpt(m), 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	ASSERT_GE(s, 0);
	make_async(m, sig);
	ASSERT_EQ(write(s, "x", 1), 1);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(wait_sig(sig, &si), sig);
	EXPECT_EQ(si.si_fd, m);
	close(s);
	close(m);
}

TEST(fcntl_async, FIOASYNC_enables_the_signal)
{
	block(SIGIO);
	int s[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, s), 0);
	ASSERT_EQ(fcntl(s[0], F_SETOWN, getpid()), 0);
	int on = 1;
	ASSERT_EQ(ioctl(s[0], FIOASYNC, &on), 0);
	EXPECT_TRUE(fcntl(s[0], F_GETFL) & O_ASYNC);
	ASSERT_EQ(write(s[1], "x", 1), 1);
	siginfo_t si;
	EXPECT_EQ(wait_sig(SIGIO, &si), SIGIO);
	close(s[0]);
	close(s[1]);
}

TEST(fcntl_async, tcp_data_sends_the_signal)
{
	int sig = SIGRTMIN + 7;
	block(sig);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(l, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ASSERT_EQ(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	ASSERT_EQ(getsockname(l, (struct sockaddr *)&a, &len), 0);
	ASSERT_EQ(listen(l, 1), 0);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(c, 0);
	ASSERT_EQ(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	int s = accept(l, NULL, NULL);
	ASSERT_GE(s, 0);
	make_async(s, sig);
	ASSERT_EQ(write(c, "x", 1), 1);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(wait_sig(sig, &si), sig);
	EXPECT_EQ(si.si_fd, s);
	EXPECT_EQ(si.si_code, POLL_IN);
	close(s);
	close(c);
	close(l);
}

TEST(fcntl_async, owner_that_does_not_exist_is_ESRCH)
{
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	/* A child reaped is a PID that no longer exists (until reused, which
	 * the next few forks do not do). */
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(0);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	errno = 0;
	EXPECT_EQ(fcntl(p[0], F_SETOWN, pid), -1);
	EXPECT_EQ(errno, ESRCH);
	struct f_owner_ex o = {F_OWNER_PID, -5};
	errno = 0;
	EXPECT_EQ(fcntl(p[0], F_SETOWN_EX, &o), -1);
	EXPECT_EQ(errno, ESRCH);
	EXPECT_EQ(fcntl(p[0], F_GETOWN), 0);
	close(p[0]);
	close(p[1]);
}

TEST(fcntl_async, O_ASYNC_is_not_kept_by_files_without_signal_driven_IO)
{
	int e = eventfd(0, 0);
	ASSERT_GE(e, 0);
	ASSERT_EQ(fcntl(e, F_SETFL, O_ASYNC), 0);
	EXPECT_FALSE(fcntl(e, F_GETFL) & O_ASYNC);
	int r = open(test_path("f"), O_CREAT | O_RDWR, 0600);
	ASSERT_GE(r, 0);
	ASSERT_EQ(fcntl(r, F_SETFL, O_ASYNC), 0);
	EXPECT_FALSE(fcntl(r, F_GETFL) & O_ASYNC);
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(fcntl(p[0], F_SETFL, O_ASYNC), 0);
	EXPECT_TRUE(fcntl(p[0], F_GETFL) & O_ASYNC);
	close(e);
	close(r);
	close(p[0]);
	close(p[1]);
}

TEST(fcntl_async, tcp_urgent_data_sends_SIGURG_to_the_owner_without_O_ASYNC)
{
	block(SIGURG);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(l, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ASSERT_EQ(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	ASSERT_EQ(getsockname(l, (struct sockaddr *)&a, &len), 0);
	ASSERT_EQ(listen(l, 1), 0);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(c, 0);
	ASSERT_EQ(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	int s = accept(l, NULL, NULL);
	ASSERT_GE(s, 0);
	ASSERT_EQ(fcntl(s, F_SETOWN, getpid()), 0);
	ASSERT_EQ(send(c, "u", 1, MSG_OOB), 1);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(wait_sig(SIGURG, &si), SIGURG);
	EXPECT_EQ(si.si_code, SI_KERNEL);
	close(s);
	close(c);
	close(l);
}
