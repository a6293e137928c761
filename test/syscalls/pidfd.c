/* pidfd_open(2), pidfd_send_signal(2), pidfd_getfd(2), CLONE_PIDFD, poll
 * and epoll on pidfds, waitid(P_PIDFD). */
#include "test.h"

#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }

static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned flags)
{
	return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

static int pidfd_getfd(int pidfd, int fd, unsigned flags) { return syscall(SYS_pidfd_getfd, pidfd, fd, flags); }

/* A child that waits until the parent writes to (or closes) its pipe,
 * then exits with status. The parent keeps *release. */
static pid_t waiting_child(int status, int *release)
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
		_exit(status);
	}
	close(fds[0]);
	*release = fds[1];
	return pid;
}

/* A child that has exited (a zombie, not reaped). */
static pid_t zombie_child(int status)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(status);
	siginfo_t si;
	ASSERT_SYSCALL_OK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	return pid;
}

TEST(pidfd_open, unknown_flags_fail_with_EINVAL)
{
	EXPECT_ERRNO(pidfd_open(getpid(), 1), EINVAL);
	EXPECT_ERRNO(pidfd_open(getpid(), O_CLOEXEC), EINVAL);
}

TEST(pidfd_open, pid_zero_or_negative_fails_with_EINVAL)
{
	EXPECT_ERRNO(pidfd_open(0, 0), EINVAL);
	EXPECT_ERRNO(pidfd_open(-1, 0), EINVAL);
}

TEST(pidfd_open, a_reaped_process_fails_with_ESRCH)
{
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(0);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_ERRNO(pidfd_open(pid, 0), ESRCH);
}

TEST(pidfd_open, returns_a_close_on_exec_descriptor)
{
	int fd = EXPECT_SYSCALL_OK(pidfd_open(getpid(), 0));
	EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
}

TEST(pidfd_open, PIDFD_NONBLOCK_sets_O_NONBLOCK)
{
	int fd = EXPECT_SYSCALL_OK(pidfd_open(getpid(), PIDFD_NONBLOCK));
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	close(fd);
}

TEST(pidfd_open, works_on_a_zombie)
{
	pid_t pid = zombie_child(3);
	int fd = EXPECT_SYSCALL_OK(pidfd_open(pid, 0));
	close(fd);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 3);
}

TEST(pidfd, read_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	char buf[8];
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EINVAL);
	close(fd);
}

TEST(pidfd_poll, not_readable_while_the_process_runs)
{
	int release;
	pid_t pid = waiting_child(0, &release);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	EXPECT_EQ(poll(&p, 1, 0), 0);
	close(release);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(fd);
}

TEST(pidfd_poll, becomes_readable_when_the_process_exits)
{
	int release;
	pid_t pid = waiting_child(0, &release);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	close(release);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	EXPECT_EQ(poll(&p, 1, -1), 1);
	EXPECT_EQ(p.revents & POLLIN, POLLIN);
	EXPECT_EQ(p.revents & POLLHUP, 0);
	/* Still the child's to reap. */
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	p.revents = 0;
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents & (POLLIN | POLLHUP), POLLIN | POLLHUP);
	close(fd);
}

TEST(pidfd_poll, epoll_reports_the_exit)
{
	int release;
	pid_t pid = waiting_child(0, &release);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	int ep = ASSERT_SYSCALL_OK(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
	ASSERT_SYSCALL_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	EXPECT_EQ(epoll_wait(ep, &ev, 1, 0), 0);
	close(release);
	memset(&ev, 0, sizeof(ev));
	EXPECT_EQ(epoll_wait(ep, &ev, 1, -1), 1);
	EXPECT_EQ(ev.data.u32, 7);
	EXPECT_EQ(ev.events & EPOLLIN, EPOLLIN);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(ep);
	close(fd);
}

TEST(pidfd_send_signal, kills_the_process)
{
	int release;
	pid_t pid = waiting_child(0, &release);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	EXPECT_SYSCALL_OK(pidfd_send_signal(fd, SIGKILL, NULL, 0));
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGKILL);
	close(release);
	close(fd);
}

TEST(pidfd_send_signal, unknown_flags_fail_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	EXPECT_ERRNO(pidfd_send_signal(fd, 0, NULL, 0x80), EINVAL);
	close(fd);
}

TEST(pidfd_send_signal, a_descriptor_that_is_not_a_pidfd_fails_with_EBADF)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERRNO(pidfd_send_signal(fd, 0, NULL, 0), EBADF);
	close(fd);
	EXPECT_ERRNO(pidfd_send_signal(fd, 0, NULL, 0), EBADF);
}

TEST(pidfd_send_signal, signal_zero_checks_a_live_process)
{
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	EXPECT_EQ(pidfd_send_signal(fd, 0, NULL, 0), 0);
	close(fd);
}

TEST(pidfd_send_signal, a_zombie_accepts_signals)
{
	pid_t pid = zombie_child(0);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	EXPECT_EQ(pidfd_send_signal(fd, SIGTERM, NULL, 0), 0);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(fd);
}

TEST(pidfd_send_signal, a_reaped_process_fails_with_ESRCH)
{
	pid_t pid = zombie_child(0);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_ERRNO(pidfd_send_signal(fd, 0, NULL, 0), ESRCH);
	EXPECT_ERRNO(pidfd_send_signal(fd, SIGKILL, NULL, 0), ESRCH);
	close(fd);
}

TEST(pidfd_send_signal, an_invalid_signal_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	EXPECT_ERRNO(pidfd_send_signal(fd, 65, NULL, 0), EINVAL);
	EXPECT_ERRNO(pidfd_send_signal(fd, -1, NULL, 0), EINVAL);
	close(fd);
}

TEST(pidfd_send_signal, siginfo_with_another_signal_number_fails_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR2;
	si.si_code = SI_QUEUE;
	EXPECT_ERRNO(pidfd_send_signal(fd, SIGUSR1, &si, 0), EINVAL);
	close(fd);
}

TEST(pidfd_send_signal, an_unreadable_siginfo_fails_with_EFAULT)
{
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	EXPECT_ERRNO(pidfd_send_signal(fd, SIGUSR1, (siginfo_t *)8, 0), EFAULT);
	close(fd);
}

TEST(pidfd_send_signal, forging_a_kill_code_for_another_process_fails_with_EPERM)
{
	int release;
	pid_t pid = waiting_child(0, &release);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGKILL;
	si.si_code = SI_USER;
	EXPECT_ERRNO(pidfd_send_signal(fd, SIGKILL, &si, 0), EPERM);
	si.si_code = SI_TKILL;
	EXPECT_ERRNO(pidfd_send_signal(fd, SIGKILL, &si, 0), EPERM);
	si.si_code = SI_QUEUE;
	EXPECT_SYSCALL_OK(pidfd_send_signal(fd, SIGKILL, &si, 0));
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGKILL);
	close(release);
	close(fd);
}

static volatile sig_atomic_t got_code, got_value;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
}

TEST(pidfd_send_signal, delivers_the_given_siginfo_to_the_callers_own_process)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_USER; /* allowed for oneself */
	si.si_value.sival_int = 1234;
	EXPECT_SYSCALL_OK(pidfd_send_signal(fd, SIGUSR1, &si, 0));
	EXPECT_EQ(got_code, SI_USER);
	EXPECT_EQ(got_value, 1234);
	close(fd);
}

TEST(pidfd_send_signal, without_siginfo_the_signal_comes_as_from_kill)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	got_code = 99;
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	EXPECT_SYSCALL_OK(pidfd_send_signal(fd, SIGUSR1, NULL, 0));
	EXPECT_EQ(got_code, SI_USER);
	close(fd);
}

TEST(pidfd_getfd, nonzero_flags_fail_with_EINVAL)
{
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	EXPECT_ERRNO(pidfd_getfd(fd, 0, 1), EINVAL);
	close(fd);
}

TEST(pidfd_getfd, a_descriptor_that_is_not_a_pidfd_fails_with_EBADF)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	EXPECT_ERRNO(pidfd_getfd(fd, 0, 0), EBADF);
	close(fd);
}

TEST(pidfd_getfd, a_target_descriptor_not_open_fails_with_EBADF)
{
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	EXPECT_ERRNO(pidfd_getfd(fd, 1000, 0), EBADF);
	EXPECT_ERRNO(pidfd_getfd(fd, -1, 0), EBADF);
	close(fd);
}

TEST(pidfd_getfd, duplicates_another_process_descriptor_close_on_exec)
{
	int release;
	int file = ASSERT_SYSCALL_OK(open(test_path("f"), O_RDWR | O_CREAT, 0600));
	pid_t pid = waiting_child(0, &release);
	/* The child has file open (inherited); the parent closes its own. */
	struct stat want;
	ASSERT_SYSCALL_OK(fstat(file, &want));
	int target = file;
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	int got = EXPECT_SYSCALL_OK(pidfd_getfd(fd, target, 0));
	struct stat st;
	ASSERT_SYSCALL_OK(fstat(got, &st));
	EXPECT_EQ(st.st_ino, want.st_ino);
	EXPECT_EQ(fcntl(got, F_GETFD), FD_CLOEXEC);
	/* The same open file: the offset is shared. */
	ASSERT_EQ(write(got, "abc", 3), 3);
	EXPECT_EQ(lseek(file, 0, SEEK_CUR), 3);
	close(release);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(fd);
	close(got);
	close(file);
}

TEST(pidfd_getfd, an_exited_process_fails_with_ESRCH)
{
	pid_t pid = zombie_child(0);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	EXPECT_ERRNO(pidfd_getfd(fd, 0, 0), ESRCH);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_ERRNO(pidfd_getfd(fd, 0, 0), ESRCH);
	close(fd);
}

TEST(pidfd_getfd, another_users_process_needs_CAP_SYS_PTRACE)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	int parent = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	int release;
	pid_t pid = waiting_child(0, &release);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	pid_t checker = fork();
	ASSERT_SYSCALL_OK(checker);
	if (checker == 0) {
		ASSERT_SYSCALL_OK(setresgid(65534, 65534, 65534));
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		/* The parent runs as root: no attaching to it. */
		EXPECT_ERRNO(pidfd_getfd(parent, 0, 0), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(checker), 0);
	close(release);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(fd);
	close(parent);
}

TEST(clone_pidfd, clone_returns_a_pidfd_for_the_child)
{
	int pidfd = -1;
	long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
	if (pid == 0)
		_exit(5);
	ASSERT_GT(pid, 0);
	ASSERT_GE(pidfd, 0);
	EXPECT_EQ(fcntl(pidfd, F_GETFD), FD_CLOEXEC);
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	EXPECT_EQ(poll(&p, 1, -1), 1);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	EXPECT_SYSCALL_OK(waitid(P_PIDFD, pidfd, &si, WEXITED));
	EXPECT_EQ(si.si_pid, pid);
	EXPECT_EQ(si.si_code, CLD_EXITED);
	EXPECT_EQ(si.si_status, 5);
	close(pidfd);
}

TEST(clone_pidfd, with_CLONE_PARENT_SETTID_fails_with_EINVAL)
{
	int pidfd = -1;
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pidfd, 0, 0), EINVAL);
}

TEST(clone_pidfd, with_CLONE_DETACHED_fails_with_EINVAL)
{
	int pidfd = -1;
	EXPECT_ERRNO(syscall(SYS_clone, CLONE_PIDFD | CLONE_DETACHED | SIGCHLD, 0, &pidfd, 0, 0), EINVAL);
}

TEST(clone_pidfd, clone3_writes_the_pidfd_field)
{
	struct clone_args args;
	int pidfd = -1;
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_PIDFD;
	args.pidfd = (uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		syscall(SYS_exit_group, 9);
	ASSERT_GT(pid, 0);
	ASSERT_GE(pidfd, 0);
	EXPECT_EQ(pidfd_send_signal(pidfd, 0, NULL, 0) == 0 || errno == ESRCH, 1);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	EXPECT_SYSCALL_OK(waitid(P_PIDFD, pidfd, &si, WEXITED));
	EXPECT_EQ(si.si_pid, pid);
	EXPECT_EQ(si.si_status, 9);
	close(pidfd);
}

TEST(clone_pidfd, an_unwritable_pidfd_address_fails_with_EFAULT_and_no_child)
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_PIDFD;
	args.pidfd = 8;
	args.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0)
		syscall(SYS_exit_group, 0);
	EXPECT_EQ(pid, -1);
	EXPECT_EQ(errno, EFAULT);
	EXPECT_ERRNO(wait(NULL), ECHILD);
}

TEST(waitid_pidfd, waits_for_that_child_only)
{
	int release1, release2;
	pid_t a = waiting_child(1, &release1);
	pid_t b = waiting_child(2, &release2);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(b, 0));
	close(release1);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	EXPECT_SYSCALL_OK(waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG));
	EXPECT_EQ(si.si_pid, 0);
	close(release2);
	EXPECT_SYSCALL_OK(waitid(P_PIDFD, fd, &si, WEXITED));
	EXPECT_EQ(si.si_pid, b);
	EXPECT_EQ(si.si_status, 2);
	EXPECT_EXIT_STATUS(test_wait_exit(a), 1);
	close(fd);
}

TEST(waitid_pidfd, a_process_that_is_not_a_child_fails_with_ECHILD)
{
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	siginfo_t si;
	EXPECT_ERRNO(waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG), ECHILD);
	close(fd);
}

TEST(waitid_pidfd, a_descriptor_that_is_not_a_pidfd_fails_with_EBADF)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	siginfo_t si;
	EXPECT_ERRNO(waitid(P_PIDFD, fd, &si, WEXITED), EBADF);
	close(fd);
	EXPECT_ERRNO(waitid(P_PIDFD, fd, &si, WEXITED), EBADF);
}

TEST(waitid_pidfd, a_nonblocking_pidfd_gives_EAGAIN_while_the_child_runs)
{
	int release;
	pid_t pid = waiting_child(0, &release);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, PIDFD_NONBLOCK));
	siginfo_t si;
	EXPECT_ERRNO(waitid(P_PIDFD, fd, &si, WEXITED), EAGAIN);
	/* WNOHANG asked explicitly: the usual empty answer. */
	memset(&si, 0, sizeof(si));
	EXPECT_SYSCALL_OK(waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG));
	EXPECT_EQ(si.si_pid, 0);
	close(release);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(fd);
}

/* The "Pid:" value of /proc/self/fdinfo/fd, or -2 if there is none. */
static long fdinfo_pid(int fd)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	long pid = -2;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %ld", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

TEST(pidfd, fdinfo_shows_the_pid_and_minus_one_once_reaped)
{
	pid_t pid = zombie_child(0);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	EXPECT_EQ(fdinfo_pid(fd), pid);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(fdinfo_pid(fd), -1);
	close(fd);
}

TEST(pidfd, proc_fd_link_names_an_anonymous_pidfd_inode)
{
	int fd = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	char path[64], link[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ASSERT_SYSCALL_OK(readlink(path, link, sizeof(link) - 1));
	EXPECT_STREQ(link, "anon_inode:[pidfd]");
	close(fd);
}

TEST(pidfd_send_signal, another_users_process_needs_CAP_KILL)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	int parent = ASSERT_SYSCALL_OK(pidfd_open(getpid(), 0));
	pid_t checker = fork();
	ASSERT_SYSCALL_OK(checker);
	if (checker == 0) {
		ASSERT_SYSCALL_OK(setresgid(65534, 65534, 65534));
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		/* The parent runs as root. */
		EXPECT_ERRNO(pidfd_send_signal(parent, 0, NULL, 0), EPERM);
		EXPECT_ERRNO(pidfd_send_signal(parent, SIGUSR1, NULL, 0), EPERM);
		/* SIGCONT may go anywhere in the caller's session. */
		EXPECT_EQ(pidfd_send_signal(parent, SIGCONT, NULL, 0), 0);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(checker), 0);
	close(parent);
}

TEST(pidfd_send_signal, root_may_signal_another_users_process)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to make a process of another user");
	int fds[2], ready[2];
	ASSERT_SYSCALL_OK(pipe(fds));
	ASSERT_SYSCALL_OK(pipe(ready));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		char c;
		close(fds[1]);
		close(ready[0]);
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		close(ready[1]); /* now another user */
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	close(ready[1]);
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 0);
	int fd = ASSERT_SYSCALL_OK(pidfd_open(pid, 0));
	EXPECT_SYSCALL_OK(pidfd_send_signal(fd, SIGKILL, NULL, 0));
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGKILL);
	close(fds[1]);
	close(ready[0]);
	close(fd);
}
