/* SIGPIPE: writing to a pipe or socket with no reader (pipe(7), signal(7)). */
#include "test.h"

#include <sys/socket.h>

static volatile sig_atomic_t got_sigpipe;
static void on_sigpipe(int sig)
{
	(void)sig;
	got_sigpipe++;
}

TEST(sigpipe, write_to_closed_read_end_raises_SIGPIPE_and_returns_EPIPE)
{
	struct sigaction sa = {.sa_handler = on_sigpipe};
	ASSERT_SYSCALL_OK(sigaction(SIGPIPE, &sa, NULL));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(close(p[0]));
	EXPECT_ERRNO(write(p[1], "x", 1), EPIPE);
	EXPECT_EQ(got_sigpipe, 1);
}

TEST(sigpipe, default_action_terminates_the_writer)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	/* No read end anywhere before the child writes. */
	close(p[0]);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (write(p[1], "x", 1) < 0)
			_exit(2);
		_exit(3);
	}
	close(p[1]);
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGPIPE);
}

TEST(sigpipe, blocked_SIGPIPE_becomes_pending_and_write_returns_EPIPE)
{
	sigset_t set, pending;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(close(p[0]));
	EXPECT_ERRNO(write(p[1], "x", 1), EPIPE);
	ASSERT_SYSCALL_OK(sigpending(&pending));
	EXPECT_TRUE(sigismember(&pending, SIGPIPE));
}

TEST(sigpipe, send_with_MSG_NOSIGNAL_to_closed_socket_returns_EPIPE_without_signal)
{
	struct sigaction sa = {.sa_handler = on_sigpipe};
	ASSERT_SYSCALL_OK(sigaction(SIGPIPE, &sa, NULL));
	int sv[2];
	ASSERT_SYSCALL_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_SYSCALL_OK(close(sv[1]));
	EXPECT_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	EXPECT_EQ(got_sigpipe, 0);
	EXPECT_ERRNO(send(sv[0], "x", 1, 0), EPIPE);
	EXPECT_EQ(got_sigpipe, 1);
}
