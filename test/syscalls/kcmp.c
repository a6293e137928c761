/* kcmp(2). */
#include "test.h"

#include <linux/kcmp.h>
#include <pthread.h>
#include <sched.h>

static long kcmp(pid_t a, pid_t b, int type, unsigned long i1, unsigned long i2)
{
	return syscall(SYS_kcmp, a, b, type, i1, i2);
}

/* A child that waits on a pipe (closing *release ends it). */
static pid_t waiting_child(int *release)
{
	int fds[2];
	ASSERT_SYSCALL_OK(pipe(fds));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c;
		close(fds[1]);
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	*release = fds[1];
	return pid;
}

TEST(kcmp, a_process_shares_everything_with_itself)
{
	pid_t me = getpid();
	EXPECT_EQ(kcmp(me, me, KCMP_VM, 0, 0), 0);
	EXPECT_EQ(kcmp(me, me, KCMP_FILES, 0, 0), 0);
	EXPECT_EQ(kcmp(me, me, KCMP_FS, 0, 0), 0);
	EXPECT_EQ(kcmp(me, me, KCMP_SIGHAND, 0, 0), 0);
	EXPECT_EQ(kcmp(me, me, KCMP_FILE, 0, 0), 0);
}

TEST(kcmp, KCMP_FILE_tells_dup_from_a_separate_open)
{
	pid_t me = getpid();
	int a = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	int b = ASSERT_SYSCALL_OK(dup(a));
	int c = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_EQ(kcmp(me, me, KCMP_FILE, a, b), 0);
	long ac = kcmp(me, me, KCMP_FILE, a, c);
	EXPECT_TRUE(ac == 1 || ac == 2);
	/* The order is consistent both ways. */
	EXPECT_EQ(kcmp(me, me, KCMP_FILE, c, a), 3 - ac);
	close(a);
	close(b);
	close(c);
}

TEST(kcmp, KCMP_FILE_with_a_closed_descriptor_fails_with_EBADF)
{
	pid_t me = getpid();
	EXPECT_ERRNO(kcmp(me, me, KCMP_FILE, 0, 999), EBADF);
	EXPECT_ERRNO(kcmp(me, me, KCMP_FILE, 999, 0), EBADF);
}

TEST(kcmp, a_forked_child_shares_its_inherited_files_but_not_its_tables)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	int release;
	pid_t pid = waiting_child(&release);
	pid_t me = getpid();
	EXPECT_EQ(kcmp(me, pid, KCMP_FILE, fd, fd), 0);
	long vm = kcmp(me, pid, KCMP_VM, 0, 0);
	EXPECT_TRUE(vm == 1 || vm == 2);
	long files = kcmp(me, pid, KCMP_FILES, 0, 0);
	EXPECT_TRUE(files == 1 || files == 2);
	long fs = kcmp(me, pid, KCMP_FS, 0, 0);
	EXPECT_TRUE(fs == 1 || fs == 2);
	long sh = kcmp(me, pid, KCMP_SIGHAND, 0, 0);
	EXPECT_TRUE(sh == 1 || sh == 2);
	close(release);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(fd);
}

static volatile pid_t thread_tid;
static volatile int thread_done;

static void *thread_main(void *arg)
{
	(void)arg;
	thread_tid = syscall(SYS_gettid);
	while (!thread_done)
		sched_yield();
	return NULL;
}

TEST(kcmp, threads_share_vm_files_fs_and_sighand)
{
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, thread_main, NULL), 0);
	while (!thread_tid)
		sched_yield();
	pid_t me = syscall(SYS_gettid);
	EXPECT_EQ(kcmp(me, thread_tid, KCMP_VM, 0, 0), 0);
	EXPECT_EQ(kcmp(me, thread_tid, KCMP_FILES, 0, 0), 0);
	EXPECT_EQ(kcmp(me, thread_tid, KCMP_FS, 0, 0), 0);
	EXPECT_EQ(kcmp(me, thread_tid, KCMP_SIGHAND, 0, 0), 0);
	thread_done = 1;
	pthread_join(th, NULL);
}

TEST(kcmp, an_unknown_type_fails_with_EINVAL)
{
	EXPECT_ERRNO(kcmp(getpid(), getpid(), 99, 0, 0), EINVAL);
	EXPECT_ERRNO(kcmp(getpid(), getpid(), -1, 0, 0), EINVAL);
}

TEST(kcmp, a_missing_task_fails_with_ESRCH_before_the_type_is_checked)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(test_wait_exit(pid), 0);
	EXPECT_ERRNO(kcmp(getpid(), pid, KCMP_VM, 0, 0), ESRCH);
	EXPECT_ERRNO(kcmp(pid, getpid(), 99, 0, 0), ESRCH);
	EXPECT_ERRNO(kcmp(0, getpid(), KCMP_VM, 0, 0), ESRCH);
}

TEST(kcmp, another_users_process_needs_CAP_SYS_PTRACE)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	pid_t parent = getpid();
	pid_t checker = fork();
	ASSERT_SYSCALL_OK(checker);
	if (checker == 0) {
		ASSERT_SYSCALL_OK(setresgid(65534, 65534, 65534));
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		EXPECT_ERRNO(kcmp(getpid(), parent, KCMP_VM, 0, 0), EPERM);
		EXPECT_ERRNO(kcmp(parent, getpid(), 99, 0, 0), EPERM);
		EXPECT_EQ(kcmp(getpid(), getpid(), KCMP_VM, 0, 0), 0);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(checker), 0);
}
