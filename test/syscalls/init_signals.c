/* The init of a PID namespace (the sandbox's first process) ignores
 * signals sent from inside the namespace whose action is the default one,
 * SIGKILL and SIGSTOP included: a child can't kill init. Natively each
 * case makes a PID namespace of its own (root only); in the sandbox the
 * test binary itself is PID 1, and the cases (its children) signal it. */
#include "test.h"

#include <sched.h>

/* Sends init (PID 1) signals with default actions, then checks it is
 * still there. */
static int signal_init(void)
{
	int sigs[] = {SIGTERM, SIGUSR1, SIGKILL, SIGSTOP, SIGINT, SIGQUIT};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (kill(1, sigs[i]) != 0)
			return 10 + (int)i;
	usleep(100 * 1000);
	return kill(1, 0) == 0 ? 0 : 1;
}

static volatile sig_atomic_t got_usr2;
static void on_usr2(int sig) { (void)sig; got_usr2 = 1; }

/* Runs as PID 1 of a new namespace: a child signals it. */
static int init_main(void)
{
	signal(SIGUSR2, on_usr2);
	pid_t pid = fork();
	if (pid < 0)
		return 20;
	if (pid == 0) {
		int r = signal_init();
		if (r == 0 && kill(1, SIGUSR2) != 0)
			r = 21;
		_exit(r);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 22;
	if (WEXITSTATUS(st) != 0)
		return WEXITSTATUS(st);
	/* A handled signal does arrive. */
	for (int i = 0; i < 100 && !got_usr2; i++)
		usleep(10 * 1000);
	return got_usr2 ? 0 : 23;
}

TEST(init_signals, default_action_signals_from_inside_do_not_reach_init)
{
	if (getppid() == 1) {
		/* In the sandbox: our parent, the test runner, is init. */
		EXPECT_EQ(signal_init(), 0);
		EXPECT_EQ(getppid(), 1);
		return;
	}
	if (geteuid() != 0)
		return;
	if (unshare(CLONE_NEWPID) != 0) {
		EXPECT_EQ(errno, EPERM);
		return;
	}
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(init_main());
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
