/* flock(2) and fcntl(2) record locks: POSIX and open file description locks. */
#include "test.h"

#include <sys/file.h>
#include <time.h>

static int open_rw(const char *name)
{
	return open(test_path(name), O_CREAT | O_RDWR, 0600);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
	}
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

/* getlk asks F_GETLK (or F_OFD_GETLK) about a write lock on [start, start+len). */
static struct flock getlk(int fd, int cmd, off_t start, off_t len)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, cmd, &fl) == -1)
		test_fail(__FILE__, __LINE__, 1, "F_GETLK failed: %s", strerror(errno));
	return fl;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* Installs a SIGUSR1 handler without SA_RESTART and forks a child that sends
 * SIGUSR1 to the caller every ms milliseconds (so a slow caller still gets
 * one while blocked). Returns the child's pid, for stop_interrupter. */
static pid_t interrupt_every(int ms)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		test_fail(__FILE__, __LINE__, 1, "sigaction: %s", strerror(errno));
	pid_t target = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		for (;;) {
			sleep_ms(ms);
			if (kill(target, SIGUSR1) == -1)
				_exit(0);
		}
	}
	return pid;
}

static void stop_interrupter(pid_t pid)
{
	kill(pid, SIGKILL);
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGKILL);
}

/* Whether byte off of fd is 'm': the marker a lock holder writes just
 * before it unlocks. */
static int marked(int fd, off_t off)
{
	char c = 0;
	return pread(fd, &c, 1, off) == 1 && c == 'm';
}

/* ---- flock(2) ---- */

TEST(flock, LOCK_EX_conflicts_with_another_open_and_LOCK_NB_fails_with_EWOULDBLOCK)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(flock(a, LOCK_EX));
	EXPECT_ERRNO(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	EXPECT_ERRNO(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	ASSERT_SYSCALL_OK(flock(a, LOCK_UN));
	EXPECT_SYSCALL_OK(flock(b, LOCK_EX | LOCK_NB));
}

TEST(flock, LOCK_SH_is_shared_by_several_open_file_descriptions)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	int c = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDONLY));
	ASSERT_SYSCALL_OK(flock(a, LOCK_SH));
	EXPECT_SYSCALL_OK(flock(b, LOCK_SH | LOCK_NB));
	EXPECT_ERRNO(flock(c, LOCK_EX | LOCK_NB), EWOULDBLOCK);
}

TEST(flock, works_on_read_only_and_write_only_descriptors)
{
	ASSERT_SYSCALL_OK(close(ASSERT_SYSCALL_OK(open_rw("f"))));
	int r = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDONLY));
	int w = ASSERT_SYSCALL_OK(open(test_path("f"), O_WRONLY));
	EXPECT_SYSCALL_OK(flock(r, LOCK_EX));
	EXPECT_ERRNO(flock(w, LOCK_EX | LOCK_NB), EWOULDBLOCK);
}

TEST(flock, lock_belongs_to_the_open_file_description_shared_by_dup)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int d = ASSERT_SYSCALL_OK(dup(a));
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(flock(a, LOCK_EX));
	/* The duplicate holds the same lock: relocking through it succeeds. */
	EXPECT_SYSCALL_OK(flock(d, LOCK_EX | LOCK_NB));
	/* Closing one descriptor does not release the description's lock. */
	ASSERT_SYSCALL_OK(close(a));
	EXPECT_ERRNO(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* The last reference going releases it. */
	ASSERT_SYSCALL_OK(close(d));
	EXPECT_SYSCALL_OK(flock(b, LOCK_EX | LOCK_NB));
}

TEST(flock, LOCK_UN_through_a_duplicate_releases_the_lock)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int d = ASSERT_SYSCALL_OK(dup(a));
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(flock(a, LOCK_EX));
	ASSERT_SYSCALL_OK(flock(d, LOCK_UN));
	EXPECT_SYSCALL_OK(flock(b, LOCK_EX | LOCK_NB));
}

TEST(flock, lock_is_inherited_across_fork_and_held_until_both_close)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(flock(a, LOCK_EX));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(p[1]);
		int other = ASSERT_SYSCALL_OK(open_rw("f"));
		/* The child's copy of a names the same description and lock. */
		EXPECT_SYSCALL_OK(flock(a, LOCK_EX | LOCK_NB));
		EXPECT_ERRNO(flock(other, LOCK_SH | LOCK_NB), EWOULDBLOCK);
		char c;
		ASSERT_EQ(read(p[0], &c, 1), 1); /* the parent closed a */
		EXPECT_ERRNO(flock(other, LOCK_SH | LOCK_NB), EWOULDBLOCK);
		close(a);
		EXPECT_SYSCALL_OK(flock(other, LOCK_SH | LOCK_NB));
		_exit(0);
	}
	close(p[0]);
	ASSERT_SYSCALL_OK(close(a));
	ASSERT_EQ(write(p[1], "x", 1), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(flock, converts_shared_to_exclusive_and_back)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(flock(a, LOCK_SH));
	ASSERT_SYSCALL_OK(flock(a, LOCK_EX | LOCK_NB));
	EXPECT_ERRNO(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	ASSERT_SYSCALL_OK(flock(a, LOCK_SH | LOCK_NB));
	EXPECT_SYSCALL_OK(flock(b, LOCK_SH | LOCK_NB));
	/* With another shared holder, conversion to exclusive would block. */
	EXPECT_ERRNO(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
}

TEST(flock, invalid_operation_fails_with_EINVAL_and_bad_fd_with_EBADF)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	EXPECT_ERRNO(flock(a, 0), EINVAL);
	EXPECT_ERRNO(flock(a, LOCK_SH | LOCK_EX), EINVAL);
	EXPECT_ERRNO(flock(a, LOCK_NB), EINVAL);
	EXPECT_ERRNO(flock(9999, LOCK_EX), EBADF);
	int path = ASSERT_SYSCALL_OK(open(test_path("f"), O_PATH));
	EXPECT_ERRNO(flock(path, LOCK_EX), EBADF);
}

TEST(flock, blocking_LOCK_EX_waits_until_the_holder_unlocks)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(flock(a, LOCK_EX));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		sleep_ms(150);
		ASSERT_EQ(pwrite(a, "m", 1, 0), 1);
		ASSERT_SYSCALL_OK(flock(a, LOCK_UN));
		_exit(0);
	}
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	EXPECT_SYSCALL_OK(flock(b, LOCK_EX));
	EXPECT_TRUE(marked(b, 0)); /* granted only after the holder unlocked */
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(flock, blocking_LOCK_EX_is_interrupted_by_a_signal_with_EINTR)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(flock(a, LOCK_EX));
	pid_t killer = interrupt_every(100);
	EXPECT_ERRNO(flock(b, LOCK_EX), EINTR);
	stop_interrupter(killer);
	/* The interrupted request left no lock behind. */
	ASSERT_SYSCALL_OK(flock(a, LOCK_UN));
	int c = ASSERT_SYSCALL_OK(open_rw("f"));
	EXPECT_SYSCALL_OK(flock(c, LOCK_EX | LOCK_NB));
}

TEST(flock, flock_and_fcntl_locks_do_not_interact)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(flock(a, LOCK_EX));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		int b = ASSERT_SYSCALL_OK(open_rw("f"));
		EXPECT_SYSCALL_OK(setlk(b, F_SETLK, F_WRLCK, 0, 0));
		EXPECT_ERRNO(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

/* ---- fcntl(2) POSIX record locks ---- */

TEST(fcntl_lock, own_locks_never_conflict_and_are_replaced)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_RDLCK, 0, 100));
	/* Same process through another open: no conflict, the lock becomes a write lock. */
	EXPECT_SYSCALL_OK(setlk(b, F_SETLK, F_WRLCK, 0, 100));
	struct flock q = getlk(a, F_GETLK, 0, 0);
	EXPECT_EQ(q.l_type, F_UNLCK);
}

TEST(fcntl_lock, unlocking_the_middle_splits_a_lock_in_two)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 0, 100));
	ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_UNLCK, 40, 20));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct flock q = getlk(a, F_GETLK, 40, 20);
		EXPECT_EQ(q.l_type, F_UNLCK);
		q = getlk(a, F_GETLK, 0, 0);
		EXPECT_EQ(q.l_type, F_WRLCK);
		EXPECT_EQ(q.l_whence, SEEK_SET);
		EXPECT_EQ(q.l_start, 0);
		EXPECT_EQ(q.l_len, 40);
		q = getlk(a, F_GETLK, 50, 0);
		EXPECT_EQ(q.l_start, 60);
		EXPECT_EQ(q.l_len, 40);
		EXPECT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 40, 20));
		EXPECT_ERRNO(setlk(a, F_SETLK, F_RDLCK, 59, 2), EAGAIN);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fcntl_lock, adjacent_locks_of_the_same_type_merge)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_RDLCK, 0, 10));
	ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_RDLCK, 10, 10));
	ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 20, 0));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct flock q = getlk(a, F_GETLK, 0, 1);
		EXPECT_EQ(q.l_type, F_RDLCK);
		EXPECT_EQ(q.l_start, 0);
		EXPECT_EQ(q.l_len, 20);
		q = getlk(a, F_GETLK, 1000, 1);
		EXPECT_EQ(q.l_type, F_WRLCK);
		EXPECT_EQ(q.l_start, 20);
		EXPECT_EQ(q.l_len, 0); /* to end of file */
		EXPECT_EQ(q.l_pid, getppid());
		/* A read lock can share the read-locked part. */
		EXPECT_SYSCALL_OK(setlk(a, F_SETLK, F_RDLCK, 5, 10));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fcntl_lock, l_whence_SEEK_CUR_and_SEEK_END_and_negative_l_len)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_EQ(write(a, "0123456789", 10), 10); /* size 10, position 10 */
	ASSERT_SYSCALL_OK(lseek(a, 4, SEEK_SET));
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = 1, .l_len = 2};
	ASSERT_SYSCALL_OK(fcntl(a, F_SETLK, &fl)); /* [5, 7) */
	struct flock end = {.l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = 0, .l_len = -3};
	ASSERT_SYSCALL_OK(fcntl(a, F_SETLK, &end)); /* [7, 10): merges into [5, 10) */
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct flock q = getlk(a, F_GETLK, 0, 0);
		EXPECT_EQ(q.l_type, F_WRLCK);
		EXPECT_EQ(q.l_start, 5);
		EXPECT_EQ(q.l_len, 5);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fcntl_lock, bad_arguments_fail_with_EINVAL)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	EXPECT_ERRNO(setlk(a, F_SETLK, 42, 0, 1), EINVAL);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = 7, .l_start = 0, .l_len = 1};
	EXPECT_ERRNO(fcntl(a, F_SETLK, &fl), EINVAL);
	EXPECT_ERRNO(setlk(a, F_SETLK, F_WRLCK, -1, 1), EINVAL);
	EXPECT_ERRNO(setlk(a, F_SETLK, F_WRLCK, 2, -3), EINVAL);
	struct flock un = {.l_type = F_UNLCK, .l_whence = SEEK_SET};
	EXPECT_ERRNO(fcntl(a, F_GETLK, &un), EINVAL);
	EXPECT_ERRNO(fcntl(a, F_SETLK, (void *)1), EFAULT);
}

TEST(fcntl_lock, lock_type_needs_matching_access_mode_or_fails_with_EBADF)
{
	ASSERT_SYSCALL_OK(close(ASSERT_SYSCALL_OK(open_rw("f"))));
	int r = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDONLY));
	int w = ASSERT_SYSCALL_OK(open(test_path("f"), O_WRONLY));
	EXPECT_ERRNO(setlk(r, F_SETLK, F_WRLCK, 0, 1), EBADF);
	EXPECT_ERRNO(setlk(w, F_SETLK, F_RDLCK, 0, 1), EBADF);
	EXPECT_ERRNO(setlk(r, F_OFD_SETLK, F_WRLCK, 0, 1), EBADF);
	EXPECT_SYSCALL_OK(setlk(r, F_SETLK, F_RDLCK, 0, 1));
	EXPECT_SYSCALL_OK(setlk(w, F_SETLK, F_WRLCK, 1, 1));
	/* F_GETLK needs no access. */
	struct flock q = getlk(r, F_GETLK, 0, 0);
	EXPECT_EQ(q.l_type, F_UNLCK);
}

TEST(fcntl_lock, locks_are_not_inherited_by_fork)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 0, 1));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		EXPECT_ERRNO(setlk(a, F_SETLK, F_WRLCK, 0, 1), EAGAIN);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fcntl_lock, closing_a_duplicate_releases_the_process_locks)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int d = ASSERT_SYSCALL_OK(dup(a));
	ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 0, 0));
	ASSERT_SYSCALL_OK(close(d));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct flock q = getlk(a, F_GETLK, 0, 0);
		EXPECT_EQ(q.l_type, F_UNLCK);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fcntl_lock, dup2_over_a_descriptor_of_the_file_releases_the_locks)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	int n = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 0, 0));
	ASSERT_SYSCALL_OK(dup2(n, b));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		EXPECT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 0, 0));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fcntl_lock, process_exit_releases_its_locks)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 0, 0));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(getlk(a, F_GETLK, 0, 0).l_type, F_UNLCK);
}

TEST(fcntl_lock, F_SETLKW_waits_until_the_conflicting_lock_is_released)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int ready[2], done[2];
	ASSERT_SYSCALL_OK(pipe(ready));
	ASSERT_SYSCALL_OK(pipe(done));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(done[1]);
		ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 0, 10));
		ASSERT_EQ(write(ready[1], "x", 1), 1);
		sleep_ms(150);
		ASSERT_EQ(pwrite(a, "m", 1, 20), 1);
		ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_UNLCK, 0, 10));
		char c;
		read(done[0], &c, 1); /* stays alive: the unlock, not the exit, wakes */
		_exit(0);
	}
	close(done[0]);
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	EXPECT_SYSCALL_OK(setlk(a, F_SETLKW, F_WRLCK, 5, 1));
	EXPECT_TRUE(marked(a, 20)); /* granted only after the holder unlocked */
	close(done[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(fcntl_lock, F_SETLKW_is_interrupted_by_a_signal_with_EINTR)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int ready[2];
	ASSERT_SYSCALL_OK(pipe(ready));
	pid_t holder = ASSERT_SYSCALL_OK(fork());
	if (holder == 0) {
		ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 0, 0));
		ASSERT_EQ(write(ready[1], "x", 1), 1);
		pause(); /* holds the lock until killed */
		_exit(0);
	}
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	pid_t killer = interrupt_every(100);
	EXPECT_ERRNO(setlk(a, F_SETLKW, F_WRLCK, 0, 1), EINTR);
	stop_interrupter(killer);
	kill(holder, SIGKILL);
	EXPECT_KILLED_BY(test_wait_exit(holder), SIGKILL);
}

TEST(fcntl_lock, F_SETLKW_that_would_deadlock_fails_with_EDEADLK)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 0, 1));
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setlk(a, F_SETLK, F_WRLCK, 1, 1));
		ASSERT_EQ(write(p[1], "x", 1), 1);
		/* Waits for the parent's byte 0; gets it when the parent gives
		 * up. Should the parent be slow and block first, the child
		 * closes the cycle and is the one to get EDEADLK. */
		if (setlk(a, F_SETLKW, F_WRLCK, 0, 1) == 0)
			_exit(0);
		_exit(errno == EDEADLK ? 2 : 1);
	}
	char c;
	ASSERT_EQ(read(p[0], &c, 1), 1);
	sleep_ms(150); /* let the child block */
	int r = setlk(a, F_SETLKW, F_WRLCK, 1, 1);
	int e = errno;
	int ws = test_wait_exit(r == -1 ? (setlk(a, F_SETLK, F_UNLCK, 0, 1), pid) : pid);
	if (r == -1) {
		EXPECT_EQ(e, EDEADLK);
		EXPECT_EXIT_STATUS(ws, 0);
	} else {
		EXPECT_EXIT_STATUS(ws, 2);
	}
}

/* ---- open file description locks ---- */

TEST(fcntl_lock, OFD_lock_conflicts_with_the_same_process_through_another_open)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	EXPECT_ERRNO(setlk(b, F_OFD_SETLK, F_RDLCK, 5, 1), EAGAIN);
	/* ... and with the process's own POSIX locks. */
	EXPECT_ERRNO(setlk(b, F_SETLK, F_RDLCK, 5, 1), EAGAIN);
	struct flock q = getlk(b, F_GETLK, 0, 0);
	EXPECT_EQ(q.l_type, F_WRLCK);
	EXPECT_EQ(q.l_pid, -1);
	EXPECT_EQ(q.l_len, 10);
	/* The owning description itself sees no conflict. */
	EXPECT_EQ(getlk(a, F_OFD_GETLK, 0, 0).l_type, F_UNLCK);
}

TEST(fcntl_lock, OFD_commands_need_l_pid_zero)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1, .l_pid = 1};
	EXPECT_ERRNO(fcntl(a, F_OFD_SETLK, &fl), EINVAL);
	EXPECT_ERRNO(fcntl(a, F_OFD_GETLK, &fl), EINVAL);
	EXPECT_ERRNO(fcntl(a, F_OFD_SETLKW, &fl), EINVAL);
}

TEST(fcntl_lock, OFD_locks_survive_closing_another_fd_and_go_with_the_last_reference)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	int d = ASSERT_SYSCALL_OK(dup(a));
	int other = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 0));
	ASSERT_SYSCALL_OK(close(other));
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	EXPECT_ERRNO(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 0), EAGAIN);
	ASSERT_SYSCALL_OK(close(a));
	EXPECT_ERRNO(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 0), EAGAIN);
	ASSERT_SYSCALL_OK(close(d));
	EXPECT_SYSCALL_OK(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 0));
}

TEST(fcntl_lock, OFD_lock_is_shared_with_a_forked_child)
{
	int a = ASSERT_SYSCALL_OK(open_rw("f"));
	ASSERT_SYSCALL_OK(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 0));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		EXPECT_EQ(getlk(a, F_OFD_GETLK, 0, 0).l_type, F_UNLCK);
		EXPECT_SYSCALL_OK(setlk(a, F_OFD_SETLK, F_UNLCK, 0, 0));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	int b = ASSERT_SYSCALL_OK(open_rw("f"));
	EXPECT_SYSCALL_OK(setlk(b, F_OFD_SETLK, F_WRLCK, 0, 0));
}
