/* Limits on task creation: RLIMIT_NPROC (setrlimit(2), clone(2),
 * execve(2)) and, in the sandbox only, the sandbox-wide cap on tasks
 * (runsc --max-tasks; sandbox-flags.txt runs this binary with a low one).
 *
 * The RLIMIT_NPROC cases take a user ID of their own (root only), so that
 * no other process on the host counts against it. */
#include "test.h"

#include <pthread.h>
#include <sys/resource.h>

#include <linux/sched.h>

/* A UID that nothing else on the machine runs as (per test process). */
static uid_t fresh_uid(void)
{
	return 40000 + (getpid() % 20000);
}

/* Becomes uid (real, effective, saved), with a group to match. */
static void become(uid_t uid)
{
	ASSERT_SYSCALL_OK(setresgid(uid, uid, uid));
	ASSERT_SYSCALL_OK(setresuid(uid, uid, uid));
}

static void set_nproc(rlim_t n)
{
	struct rlimit rl = {n, n};
	ASSERT_SYSCALL_OK(setrlimit(RLIMIT_NPROC, &rl));
}

/* Forks a child that waits until the write end of p is closed; the
 * child closes its copy first. Returns the pid, or -1 with errno. */
static pid_t fork_blocker(int p[2])
{
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	return pid;
}

static void *thread_blocker(void *arg)
{
	int fd = *(int *)arg;
	char c;
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* clone3(2) with only an exit signal: a fork. */
static long raw_clone3_fork(void)
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	return syscall(SYS_clone3, &args, sizeof(args));
}

TEST(rlimit_nproc, fork_and_threads_fail_with_EAGAIN_once_the_real_UID_has_RLIMIT_NPROC_tasks)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to take a user ID of its own");
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		int p[2];
		ASSERT_SYSCALL_OK(pipe(p));
		become(fresh_uid());
		/* This process is one task of the user; two more fit. */
		set_nproc(3);
		pid_t a = ASSERT_SYSCALL_OK(fork_blocker(p));
		pid_t b = ASSERT_SYSCALL_OK(fork_blocker(p));
		EXPECT_ERRNO(fork_blocker(p), EAGAIN);
		EXPECT_ERRNO(raw_clone3_fork(), EAGAIN);
		/* Threads count too. */
		pthread_t th;
		EXPECT_EQ(pthread_create(&th, NULL, thread_blocker, &p[0]), EAGAIN);
		/* Once the others are gone (and reaped) there is room again. */
		close(p[1]);
		EXPECT_EXIT_STATUS(test_wait_exit(a), 0);
		EXPECT_EXIT_STATUS(test_wait_exit(b), 0);
		pid_t c = fork();
		if (c == 0)
			_exit(7);
		ASSERT_GT(c, 0);
		EXPECT_EXIT_STATUS(test_wait_exit(c), 7);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(rlimit_nproc, a_zombie_counts_until_it_is_reaped)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to take a user ID of its own");
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		become(fresh_uid());
		set_nproc(2);
		pid_t z = fork();
		if (z == 0)
			_exit(0);
		ASSERT_GT(z, 0);
		/* Wait for it to exit without reaping it. */
		siginfo_t si;
		ASSERT_SYSCALL_OK(waitid(P_PID, z, &si, WEXITED | WNOWAIT));
		EXPECT_ERRNO(fork(), EAGAIN);
		EXPECT_EXIT_STATUS(test_wait_exit(z), 0);
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		ASSERT_GT(c, 0);
		EXPECT_EXIT_STATUS(test_wait_exit(c), 0);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST_HELPER(exit42)
{
	(void)argc;
	(void)argv;
	return 42;
}

static void write_byte(int fd)
{
	ASSERT_EQ(write(fd, "x", 1), 1);
}

static void read_byte(int fd)
{
	char c;
	ssize_t n;
	while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
		;
	ASSERT_EQ(n, 1);
}

TEST(rlimit_nproc, execve_fails_with_EAGAIN_after_setuid_to_a_user_over_the_limit)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to change user IDs");
	uid_t uid = fresh_uid();
	int block[2], ready[2], over[2], gone[2];
	ASSERT_SYSCALL_OK(pipe(block));
	ASSERT_SYSCALL_OK(pipe(ready));
	ASSERT_SYSCALL_OK(pipe(over));
	ASSERT_SYSCALL_OK(pipe(gone));
	/* The user gets two tasks: holder and its child. */
	pid_t holder = ASSERT_SYSCALL_OK(fork());
	if (holder == 0) {
		become(uid);
		pid_t c = ASSERT_SYSCALL_OK(fork_blocker(block));
		close(block[1]);
		write_byte(ready[1]);
		char ch;
		while (read(block[0], &ch, 1) < 0 && errno == EINTR)
			;
		ASSERT_EXIT_STATUS(test_wait_exit(c), 0);
		_exit(0);
	}
	read_byte(ready[0]);

	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(block[1]);
		set_nproc(1);
		/* set*uid does not fail over the limit (since Linux 3.1)... */
		become(uid);
		/* ...the next execve does, while the user is still over it. */
		char *argv[] = {(char *)test_self_exe(), "--helper", "exit42", NULL};
		char *envp[] = {NULL};
		EXPECT_ERRNO(execve(argv[0], argv, envp), EAGAIN);
		write_byte(over[1]);
		/* Once the user's other tasks are gone, it succeeds. */
		read_byte(gone[0]);
		execve(argv[0], argv, envp);
		test_fail(__FILE__, __LINE__, 1, "execve: %s", strerror(errno));
	}
	read_byte(over[0]);
	close(block[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(holder), 0);
	write_byte(gone[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 42);
}

TEST(rlimit_nproc, execve_after_setuid_to_a_user_under_the_limit_succeeds)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to change user IDs");
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		set_nproc(1);
		become(fresh_uid());
		char *argv[] = {(char *)test_self_exe(), "--helper", "exit42", NULL};
		char *envp[] = {NULL};
		execve(argv[0], argv, envp);
		test_fail(__FILE__, __LINE__, 1, "execve: %s", strerror(errno));
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 42);
}

/* ---- sandbox only: the sandbox-wide cap (runsc --max-tasks) ---- */

/* Upper bound on the tasks a bomb may create before it must have seen
 * EAGAIN: far above any cap the sandbox runs this binary with. */
#define BOMB_MAX_ATTEMPTS 20000

TEST(max_tasks, a_thread_bomb_ends_with_EAGAIN_and_the_sandbox_lives_on)
{
	SKIP_UNLESS_IN_SANDBOX();
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pthread_attr_t attr;
	ASSERT_EQ(pthread_attr_init(&attr), 0);
	ASSERT_EQ(pthread_attr_setstacksize(&attr, 64 << 10), 0);
	static pthread_t threads[BOMB_MAX_ATTEMPTS];
	int n = 0, err = 0;
	while (n < BOMB_MAX_ATTEMPTS) {
		err = pthread_create(&threads[n], &attr, thread_blocker, &p[0]);
		if (err != 0)
			break;
		n++;
	}
	EXPECT_EQ(err, EAGAIN);
	EXPECT_GT(n, 0);
	EXPECT_LT(n, BOMB_MAX_ATTEMPTS);
	/* At the cap every way to make a task fails the same way. */
	EXPECT_ERRNO(fork(), EAGAIN);
	EXPECT_ERRNO(vfork(), EAGAIN);
	EXPECT_ERRNO(raw_clone3_fork(), EAGAIN);
	/* All the threads go... */
	close(p[1]);
	for (int i = 0; i < n; i++)
		EXPECT_EQ(pthread_join(threads[i], NULL), 0);
	/* ...and the sandbox makes tasks again. */
	pid_t c = ASSERT_SYSCALL_OK(fork());
	if (c == 0)
		_exit(3);
	EXPECT_EXIT_STATUS(test_wait_exit(c), 3);
}

TEST(max_tasks, a_fork_bomb_ends_with_EAGAIN_and_the_sandbox_lives_on)
{
	SKIP_UNLESS_IN_SANDBOX();
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	int n = 0, err = 0;
	while (n < BOMB_MAX_ATTEMPTS) {
		pid_t c = fork_blocker(p);
		if (c < 0) {
			err = errno;
			break;
		}
		n++;
	}
	EXPECT_EQ(err, EAGAIN);
	EXPECT_GT(n, 0);
	EXPECT_LT(n, BOMB_MAX_ATTEMPTS);
	pthread_t th;
	EXPECT_EQ(pthread_create(&th, NULL, thread_blocker, &p[0]), EAGAIN);
	EXPECT_ERRNO(vfork(), EAGAIN);
	EXPECT_ERRNO(raw_clone3_fork(), EAGAIN);
	/* Every child exits and is reaped... */
	close(p[1]);
	for (int i = 0; i < n; i++) {
		int ws;
		pid_t r;
		while ((r = wait(&ws)) < 0 && errno == EINTR)
			;
		ASSERT_GT(r, 0);
		EXPECT_EXIT_STATUS(ws, 0);
	}
	EXPECT_ERRNO(wait(NULL), ECHILD);
	/* ...and fork works again. */
	pid_t c = ASSERT_SYSCALL_OK(fork());
	if (c == 0)
		_exit(3);
	EXPECT_EXIT_STATUS(test_wait_exit(c), 3);
}
