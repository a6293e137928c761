/* clone(2), clone3(2), and threads made with them. */
#include "test.h"

#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>

#define STACK_SIZE (256 * 1024)

static volatile int shared_int;

static int set_shared(void *arg)
{
	shared_int = (int)(intptr_t)arg;
	return 0;
}

static char *new_stack(void)
{
	char *s = malloc(STACK_SIZE);
	ASSERT_TRUE(s != NULL);
	return s + STACK_SIZE;
}

TEST(clone, CLONE_VM_child_shares_the_address_space)
{
	shared_int = 0;
	pid_t pid = ASSERT_SYSCALL_OK(clone(set_shared, new_stack(), CLONE_VM | SIGCHLD, (void *)(intptr_t)99));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(shared_int, 99);
}

TEST(clone, without_CLONE_VM_child_writes_its_own_copy)
{
	shared_int = 0;
	pid_t pid = ASSERT_SYSCALL_OK(clone(set_shared, new_stack(), SIGCHLD, (void *)(intptr_t)99));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(shared_int, 0);
}

static int open_devnull(void *arg)
{
	*(volatile int *)arg = open("/dev/null", O_RDONLY);
	return 0;
}

TEST(clone, CLONE_FILES_child_shares_the_fd_table)
{
	static volatile int fd = -1;
	pid_t pid = ASSERT_SYSCALL_OK(clone(open_devnull, new_stack(), CLONE_VM | CLONE_FILES | SIGCHLD, (void *)&fd));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	ASSERT_GE(fd, 0);
	EXPECT_SYSCALL_OK(fcntl(fd, F_GETFD));
}

TEST(clone, without_CLONE_FILES_fd_opened_by_child_is_not_in_parent)
{
	static volatile int fd = -1;
	pid_t pid = ASSERT_SYSCALL_OK(clone(open_devnull, new_stack(), CLONE_VM | SIGCHLD, (void *)&fd));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	ASSERT_GE(fd, 0);
	EXPECT_ERRNO(fcntl(fd, F_GETFD), EBADF);
}

static int exit_with_arg(void *arg)
{
	return (int)(intptr_t)arg;
}

TEST(clone, child_exit_status_and_termination_signal_are_reported)
{
	pid_t pid = ASSERT_SYSCALL_OK(clone(exit_with_arg, new_stack(), SIGCHLD, (void *)(intptr_t)33));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 33);
}

TEST(clone, CLONE_THREAD_without_CLONE_SIGHAND_fails_with_EINVAL)
{
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0), EINVAL);
}

TEST(clone, CLONE_SIGHAND_without_CLONE_VM_fails_with_EINVAL)
{
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0), EINVAL);
}

TEST(clone3, size_smaller_than_first_version_fails_with_EINVAL)
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	EXPECT_ERRNO(syscall(SYS_clone3, &args, 8), EINVAL);
}

TEST(clone3, with_exit_signal_SIGCHLD_behaves_like_fork)
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		syscall(SYS_exit_group, 21);
	ASSERT_GT(pid, 0);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 21);
}

static pid_t thread_tid;
static pid_t thread_pid;

static void *thread_main(void *arg)
{
	thread_tid = syscall(SYS_gettid);
	thread_pid = getpid();
	return arg;
}

TEST(clone, CLONE_THREAD_threads_share_pid_but_have_distinct_tids)
{
	pthread_t t;
	ASSERT_EQ(pthread_create(&t, NULL, thread_main, (void *)0x1234), 0);
	void *ret = NULL;
	ASSERT_EQ(pthread_join(t, &ret), 0);
	EXPECT_EQ(ret, (void *)0x1234);
	EXPECT_EQ(thread_pid, getpid());
	EXPECT_NE(thread_tid, (pid_t)syscall(SYS_gettid));
	EXPECT_GT(thread_tid, 0);
}

static void *count_up(void *arg)
{
	for (int i = 0; i < 100000; i++)
		__atomic_fetch_add((int *)arg, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

TEST(clone, several_threads_update_shared_memory_concurrently)
{
	static int counter;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(pthread_create(&t[i], NULL, count_up, &counter), 0);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(pthread_join(t[i], NULL), 0);
	EXPECT_EQ(counter, 400000);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn;

static void *ping(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&mu);
		while (turn != 1)
			pthread_cond_wait(&cv, &mu);
		turn = 0;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

TEST(clone, threads_block_and_wake_each_other_with_futexes)
{
	pthread_t t;
	ASSERT_EQ(pthread_create(&t, NULL, ping, NULL), 0);
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&mu);
		turn = 1;
		pthread_cond_signal(&cv);
		while (turn != 0)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
	}
	EXPECT_EQ(pthread_join(t, NULL), 0);
	EXPECT_EQ(turn, 0);
}

TEST(clone, CLONE_SETTLS_with_a_base_outside_user_space_fails_with_EPERM)
{
	/* x86-64 raw clone: flags, stack, parent_tid, child_tid, tls. */
	long r = syscall(SYS_clone, CLONE_SETTLS | SIGCHLD, 0, NULL, NULL, 0x7ffffffff000UL);
	if (r == 0)
		_exit(1); /* must not happen: the child would run with that base */
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EPERM);
}
