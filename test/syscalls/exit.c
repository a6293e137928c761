/* _exit(2), exit_group(2), exit(3) and what the parent sees. */
#include "test.h"

#include <pthread.h>
#include <sched.h>

TEST(exit, status_is_reported_as_its_low_8_bits)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(256 + 5);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 5);
}

static int atexit_fd = -1;
static void write_at_exit(void)
{
	if (write(atexit_fd, "A", 1) != 1)
		_exit(99);
}

TEST(exit, runs_atexit_handlers_but__exit_does_not)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t a = ASSERT_SYSCALL_OK(fork());
	if (a == 0) {
		atexit_fd = p[1];
		atexit(write_at_exit);
		exit(0);
	}
	pid_t b = ASSERT_SYSCALL_OK(fork());
	if (b == 0) {
		atexit_fd = p[1];
		atexit(write_at_exit);
		_exit(0);
	}
	close(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(a), 0);
	EXPECT_EXIT_STATUS(test_wait_exit(b), 0);
	char buf[4];
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 1);
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 0);
}

static void *block_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *exit_group_3(void *arg)
{
	(void)arg;
	syscall(SYS_exit_group, 3);
	return NULL;
}

TEST(exit_group, from_any_thread_ends_all_threads_with_its_status)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pthread_t t1, t2;
		pthread_create(&t1, NULL, block_forever, NULL);
		pthread_create(&t2, NULL, exit_group_3, NULL);
		block_forever(NULL);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 3);
}

static void *exit_thread_only(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 0);
	return NULL;
}

static volatile int spinner_running;

static void *spin_forever(void *arg)
{
	(void)arg;
	spinner_running = 1;
	for (;;)
		; /* user code only: no system call to stop at */
	return NULL;
}

TEST(exit_group, ends_a_thread_spinning_in_user_code)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pthread_t th;
		if (pthread_create(&th, NULL, spin_forever, NULL) != 0)
			_exit(98);
		while (!spinner_running)
			;
		syscall(SYS_exit_group, 5);
		_exit(99);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 5);
}

TEST(exit, raw_exit_in_a_thread_ends_only_that_thread)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, exit_thread_only, NULL);
		pthread_join(t, NULL); /* woken by CLONE_CHILD_CLEARTID */
		_exit(4);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 4);
}

TEST(exit, main_thread_raw_exit_leaves_process_alive_until_last_thread_exits)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, exit_group_3, NULL);
		syscall(SYS_exit, 0); /* thread exit of main thread only */
		_exit(1);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 3);
}

TEST(exit, parent_receives_SIGCHLD_when_child_exits)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &set, NULL));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(6);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	ASSERT_EQ(sigwaitinfo(&set, &si), SIGCHLD);
	EXPECT_EQ(si.si_pid, pid);
	EXPECT_EQ(si.si_code, CLD_EXITED);
	EXPECT_EQ(si.si_status, 6);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 6);
}

TEST(exit, orphaned_child_is_reparented_and_getppid_changes)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t mid = ASSERT_SYSCALL_OK(fork());
	if (mid == 0) {
		pid_t old = getpid();
		pid_t grandchild = fork();
		if (grandchild == 0) {
			close(p[0]);
			/* Wait until the middle process is gone. */
			while (getppid() == old)
				sched_yield();
			pid_t now = getppid();
			if (write(p[1], &now, sizeof(now)) != sizeof(now))
				_exit(1);
			_exit(0);
		}
		_exit(grandchild > 0 ? 0 : 1);
	}
	close(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(mid), 0);
	pid_t newparent = 0;
	EXPECT_EQ(read(p[0], &newparent, sizeof(newparent)), (ssize_t)sizeof(newparent));
	EXPECT_NE(newparent, mid);
	EXPECT_GT(newparent, 0);
}

TEST(exit, closes_fds_so_pipe_reader_sees_end_of_file)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(0); /* holds p[1] until exit */
	close(p[1]);
	char c;
	EXPECT_EQ(read(p[0], &c, 1), 0);
	test_wait_exit(pid);
}
