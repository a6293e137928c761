/* Blocking calls wake only for what concerns them: a signal handled
 * before the call does not interrupt a later wait (signal(7): a call is
 * interrupted by a handler invoked while it is blocked). */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

/* Waits (bounded by the case's alarm) until pid sleeps in the kernel:
 * state 'S' in /proc/PID/stat. */
static void wait_until_sleeping(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	for (;;) {
		char buf[512];
		FILE *f = fopen(path, "r");
		if (!f)
			return;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		sched_yield();
	}
}

TEST(blocking_wakeups, a_signal_handled_before_a_blocking_read_does_not_interrupt_it)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1; /* no SA_RESTART: an interruption shows as EINTR */
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t parent = getpid();
	pid_t child = ASSERT_SYSCALL_OK(fork());
	if (child == 0) {
		close(p[0]);
		wait_until_sleeping(parent);
		ASSERT_EQ(write(p[1], "x", 1), 1);
		_exit(0);
	}
	close(p[1]);
	/* The handler runs on the way out of kill(2). */
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	ASSERT_EQ(handled, 1);
	char c = 0;
	ssize_t r = read(p[0], &c, 1);
	EXPECT_EQ(r, 1);
	EXPECT_EQ(c, 'x');
	EXPECT_EXIT_STATUS(test_wait_exit(child), 0);
}

TEST(blocking_wakeups, a_signal_handled_before_a_blocking_wait_does_not_interrupt_it)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	int go[2];
	ASSERT_SYSCALL_OK(pipe(go));
	pid_t parent = getpid();
	pid_t child = ASSERT_SYSCALL_OK(fork());
	if (child == 0) {
		wait_until_sleeping(parent);
		_exit(7);
	}
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	ASSERT_EQ(handled, 1);
	int st;
	pid_t w = waitpid(child, &st, 0);
	EXPECT_EQ(w, child);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

/* Runs a blocking connect to a listener with a full queue while the
 * parent's thread gets SIGUSR1 (tgkill) and a child then makes room;
 * returns connect's result and errno through err. */
static int connect_while_signalled(int *err)
{
	int l = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&a, sizeof a));
	ASSERT_SYSCALL_OK(listen(l, 0));
	socklen_t len = sizeof a;
	ASSERT_SYSCALL_OK(getsockname(l, (struct sockaddr *)&a, &len));
	int first = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(connect(first, (struct sockaddr *)&a, sizeof a));
	pid_t parent = getpid();
	pid_t child = ASSERT_SYSCALL_OK(fork());
	if (child == 0) {
		wait_until_sleeping(parent);
		ASSERT_SYSCALL_OK(syscall(SYS_tgkill, parent, parent, SIGUSR1));
		int s = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
		close(s);
		_exit(0);
	}
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	int r = connect(c, (struct sockaddr *)&a, sizeof a);
	*err = errno;
	EXPECT_EXIT_STATUS(test_wait_exit(child), 0);
	close(c);
	close(first);
	close(l);
	return r;
}

TEST(blocking_wakeups, a_blocking_connect_restarted_by_SA_RESTART_completes)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	int err = 0;
	int r = connect_while_signalled(&err);
	EXPECT_EQ(handled, 1);
	EXPECT_EQ(r, 0);
	if (r != 0)
		EXPECT_EQ(err, 0);
}

TEST(blocking_wakeups, a_blocked_signal_does_not_interrupt_a_blocking_connect)
{
	/* A listener whose queue is full (backlog 0 queues one): a further
	 * connect waits in SYN_SENT until accept makes room. */
	int l = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ASSERT_SYSCALL_OK(bind(l, (struct sockaddr *)&a, sizeof a));
	ASSERT_SYSCALL_OK(listen(l, 0));
	socklen_t len = sizeof a;
	ASSERT_SYSCALL_OK(getsockname(l, (struct sockaddr *)&a, &len));
	int first = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	ASSERT_SYSCALL_OK(connect(first, (struct sockaddr *)&a, sizeof a));

	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &usr1, NULL));
	pid_t parent = getpid();
	pid_t child = ASSERT_SYSCALL_OK(fork());
	if (child == 0) {
		wait_until_sleeping(parent);
		/* Pending for the parent's thread, blocked: no reason to
		 * leave connect. */
		ASSERT_SYSCALL_OK(syscall(SYS_tgkill, parent, parent, SIGUSR1));
		int s = ASSERT_SYSCALL_OK(accept(l, NULL, NULL));
		close(s);
		_exit(0);
	}
	int c = ASSERT_SYSCALL_OK(socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_SYSCALL_OK(connect(c, (struct sockaddr *)&a, sizeof a));
	EXPECT_EXIT_STATUS(test_wait_exit(child), 0);
	close(c);
	close(first);
	close(l);
}
