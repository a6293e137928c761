/*
 * Terminals and job control: the controlling terminal, the foreground
 * process group, SIGTTIN/SIGTTOU (termios(3), credentials(7), tty_ioctl(4)).
 *
 * Cases that need a terminal use a pseudo-terminal when /dev/ptmx exists
 * (the case makes a new session with the pty as its controlling terminal).
 * The sandbox has no /dev/ptmx yet: there they use the sandbox's stdin if
 * it is a terminal (the controlling terminal of init's session, whose
 * foreground group is init's), and otherwise pass without checking
 * anything (EXPECT_TRUE(1)).
 */
#include "test.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sched.h>
#include <termios.h>

/* The body of a job control check: runs in a process of a background
 * process group (not orphaned) of the session whose controlling terminal
 * is fd. */
typedef void (*bg_fn)(int fd);

/* If report[1] >= 0 when bg_run starts, the session leader waits for an
 * int on report[0] (written by a descendant) and returns it instead of
 * the background process's status. */
static int report[2] = {-1, -1};

/* Runs fn in a new background process group of the terminal's session and
 * returns its wait status (with WUNTRACED; a stopped process is killed
 * after being seen), or -1 if no terminal is available. */
static int bg_run(bg_fn fn);

/* Forks fn in a new process group of the caller's session and waits. */
static int bg_fork(bg_fn fn, int fd)
{
	pid_t pid = fork();
	if (pid < 0)
		return -2;
	if (pid == 0) {
		setpgid(0, 0);
		fn(fd);
		_exit(0);
	}
	setpgid(pid, pid);
	int st;
	if (waitpid(pid, &st, WUNTRACED) != pid)
		return -2;
	if (WIFSTOPPED(st)) {
		kill(pid, SIGKILL);
		int ignored;
		waitpid(pid, &ignored, 0);
	}
	return st;
}

/* Opens a pty and returns the master, with the slave's name in name. */
static int open_pty(char *name, size_t n)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0)
		return -1;
	if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, n) != 0) {
		close(m);
		return -1;
	}
	return m;
}

static int bg_run(bg_fn fn)
{
	char name[64];
	int m = open_pty(name, sizeof name);
	if (m < 0) {
		if (!isatty(0))
			return -1;
		return bg_fork(fn, 0);
	}
	int p[2];
	if (pipe(p) != 0)
		return -2;
	pid_t leader = fork();
	if (leader == 0) {
		/* A session leader with the pty as its controlling terminal. */
		ASSERT_SYSCALL_OK(setsid());
		int s = ASSERT_SYSCALL_OK(open(name, O_RDWR | O_NOCTTY));
		ASSERT_SYSCALL_OK(ioctl(s, TIOCSCTTY, 0));
		int st = bg_fork(fn, s);
		if (report[1] >= 0) {
			close(report[1]);
			if (read(report[0], &st, sizeof st) != sizeof st)
				st = -3;
		}
		ASSERT_EQ(write(p[1], &st, sizeof st), (ssize_t)sizeof st);
		_exit(0);
	}
	close(p[1]);
	int st = -2;
	if (read(p[0], &st, sizeof st) != sizeof st)
		st = -2;
	test_wait_exit(leader);
	close(p[0]);
	close(m);
	return st;
}

/* A terminal with the caller as session leader and controlling process:
 * runs fn(fd) in a new session (pty only). Returns fn's exit status, or
 * -1 without a pty. */
static int leader_run(bg_fn fn)
{
	char name[64];
	int m = open_pty(name, sizeof name);
	if (m < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setsid());
		int s = ASSERT_SYSCALL_OK(open(name, O_RDWR | O_NOCTTY));
		fn(s);
		_exit(0);
	}
	int st = test_wait_exit(pid);
	close(m);
	return st;
}

#define SKIP_IF_NO_TTY(st)                                                  \
	do {                                                                \
		if ((st) == -1) {                                           \
			/* No terminal here (sandbox without /dev/ptmx and */ \
			/* stdin not a tty): nothing to check. */             \
			EXPECT_TRUE(1);                                     \
			return;                                             \
		}                                                           \
	} while (0)

/* --- errno cases on things that are not terminals --- */

TEST(tty, TIOCGPGRP_on_pipe_fails_with_ENOTTY)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pg;
	EXPECT_ERRNO(ioctl(p[0], TIOCGPGRP, &pg), ENOTTY);
}

TEST(tty, TIOCSPGRP_on_regular_file_fails_with_ENOTTY)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	pid_t pg = getpgrp();
	EXPECT_ERRNO(ioctl(fd, TIOCSPGRP, &pg), ENOTTY);
}

TEST(tty, TIOCGSID_TIOCSCTTY_TIOCNOTTY_on_pipe_fail_with_ENOTTY)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t sid;
	EXPECT_ERRNO(ioctl(p[0], TIOCGSID, &sid), ENOTTY);
	EXPECT_ERRNO(ioctl(p[0], TIOCSCTTY, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(p[1], TIOCNOTTY), ENOTTY);
}

TEST(tty, tcgetpgrp_on_dev_null_fails_with_ENOTTY)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDWR));
	errno = 0;
	EXPECT_EQ(tcgetpgrp(fd), -1);
	EXPECT_EQ(errno, ENOTTY);
}

/* --- the controlling terminal --- */

static void check_ids(int fd)
{
	pid_t sid = -1;
	ASSERT_SYSCALL_OK(ioctl(fd, TIOCGSID, &sid));
	ASSERT_EQ(sid, getsid(0));
	pid_t fg = ASSERT_SYSCALL_OK(tcgetpgrp(fd));
	ASSERT_NE(fg, getpgrp()); /* we are in the background */
	ASSERT_EQ(getsid(fg), getsid(0));
}

TEST(tty, TIOCGSID_and_TIOCGPGRP_report_the_session_and_foreground_group)
{
	int st = bg_run(check_ids);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

static void not_ctty(int fd)
{
	/* A new session has no controlling terminal. */
	if (fork() == 0) {
		ASSERT_SYSCALL_OK(setsid());
		pid_t pg;
		ASSERT_ERRNO(ioctl(fd, TIOCGPGRP, &pg), ENOTTY);
		ASSERT_ERRNO(ioctl(fd, TIOCGSID, &pg), ENOTTY);
		pg = getpgrp();
		ASSERT_ERRNO(ioctl(fd, TIOCSPGRP, &pg), ENOTTY);
		ASSERT_ERRNO(ioctl(fd, TIOCNOTTY), ENOTTY);
		_exit(0);
	}
	int st;
	wait(&st);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(tty, job_control_ioctls_on_a_terminal_that_is_not_the_controlling_one_fail_with_ENOTTY)
{
	int st = bg_run(not_ctty);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

static void sctty_non_leader(int fd)
{
	ASSERT_ERRNO(ioctl(fd, TIOCSCTTY, 0), EPERM);
}

TEST(tty, TIOCSCTTY_by_a_process_that_is_not_a_session_leader_fails_with_EPERM)
{
	int st = bg_run(sctty_non_leader);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

static void sctty_owned_elsewhere(int fd)
{
	if (fork() == 0) {
		ASSERT_SYSCALL_OK(setsid());
		/* Another session holds it; arg 0 never steals. */
		ASSERT_ERRNO(ioctl(fd, TIOCSCTTY, 0), EPERM);
		_exit(0);
	}
	int st;
	wait(&st);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(tty, TIOCSCTTY_of_a_terminal_held_by_another_session_fails_with_EPERM)
{
	int st = bg_run(sctty_owned_elsewhere);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

static void leader_acquires(int fd)
{
	pid_t pg;
	ASSERT_ERRNO(ioctl(fd, TIOCGPGRP, &pg), ENOTTY);
	ASSERT_SYSCALL_OK(ioctl(fd, TIOCSCTTY, 0));
	ASSERT_EQ(tcgetpgrp(fd), getpid());
	ASSERT_SYSCALL_OK(ioctl(fd, TIOCSCTTY, 0)); /* again: no-op */
	pid_t sid;
	ASSERT_SYSCALL_OK(ioctl(fd, TIOCGSID, &sid));
	ASSERT_EQ(sid, getpid());
	/* Giving it up: TIOCGPGRP fails afterwards. SIGHUP goes to our
	 * (foreground) group. */
	signal(SIGHUP, SIG_IGN);
	ASSERT_SYSCALL_OK(ioctl(fd, TIOCNOTTY));
	ASSERT_ERRNO(ioctl(fd, TIOCGPGRP, &pg), ENOTTY);
}

TEST(tty, session_leader_acquires_with_TIOCSCTTY_and_drops_with_TIOCNOTTY)
{
	int st = leader_run(leader_acquires);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

/* --- tcsetpgrp --- */

static void setpgrp_checks(int fd)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTTOU);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid_t bad = -5;
	ASSERT_ERRNO(ioctl(fd, TIOCSPGRP, &bad), EINVAL);
	bad = 0x3ffffff;
	ASSERT_ERRNO(ioctl(fd, TIOCSPGRP, &bad), ESRCH);
	ASSERT_ERRNO(syscall(SYS_ioctl, fd, TIOCSPGRP, (void *)8), EFAULT);
	/* A process group of another session. */
	int p[2], ready[2];
	ASSERT_SYSCALL_OK(pipe(p));
	ASSERT_SYSCALL_OK(pipe(ready));
	pid_t other = fork();
	if (other == 0) {
		close(p[1]);
		close(ready[0]);
		setsid();
		close(ready[1]); /* EOF for the parent: the session exists */
		char c;
		read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	close(ready[1]);
	char c;
	read(ready[0], &c, 1); /* (waiting on getsid with a yield loop was flaky under load) */
	close(ready[0]);
	ASSERT_ERRNO(ioctl(fd, TIOCSPGRP, &other), EPERM);
	close(p[1]);
	waitpid(other, NULL, 0);
	/* Our own group, with SIGTTOU blocked, succeeds. */
	pid_t fg = tcgetpgrp(fd);
	ASSERT_SYSCALL_OK(tcsetpgrp(fd, getpgrp()));
	ASSERT_EQ(tcgetpgrp(fd), getpgrp());
	ASSERT_SYSCALL_OK(tcsetpgrp(fd, fg));
}

TEST(tty, TIOCSPGRP_validates_the_process_group)
{
	int st = bg_run(setpgrp_checks);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

static void setpgrp_default(int fd)
{
	tcsetpgrp(fd, getpgrp());
	_exit(3); /* not reached: SIGTTOU stops us */
}

TEST(tty, tcsetpgrp_from_background_stops_with_SIGTTOU)
{
	int st = bg_run(setpgrp_default);
	SKIP_IF_NO_TTY(st);
	EXPECT_TRUE(WIFSTOPPED(st));
	EXPECT_EQ(WSTOPSIG(st), SIGTTOU);
}

/* --- background reads and writes --- */

static void read_default(int fd)
{
	char c;
	read(fd, &c, 1);
	_exit(3);
}

TEST(tty, read_from_background_stops_with_SIGTTIN)
{
	int st = bg_run(read_default);
	SKIP_IF_NO_TTY(st);
	EXPECT_TRUE(WIFSTOPPED(st));
	EXPECT_EQ(WSTOPSIG(st), SIGTTIN);
}

static void read_ignored(int fd)
{
	signal(SIGTTIN, SIG_IGN);
	char c;
	ASSERT_ERRNO(read(fd, &c, 1), EIO);
}

TEST(tty, read_from_background_with_SIGTTIN_ignored_fails_with_EIO)
{
	int st = bg_run(read_ignored);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

static void read_blocked(int fd)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTTIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	char c;
	ASSERT_ERRNO(read(fd, &c, 1), EIO);
}

TEST(tty, read_from_background_with_SIGTTIN_blocked_fails_with_EIO)
{
	int st = bg_run(read_blocked);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

static volatile sig_atomic_t got_ttin;
static void on_ttin(int sig) { got_ttin = sig; }

static void read_handled(int fd)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_ttin; /* no SA_RESTART */
	sigaction(SIGTTIN, &sa, NULL);
	char c;
	ASSERT_ERRNO(read(fd, &c, 1), EINTR);
	ASSERT_EQ(got_ttin, SIGTTIN);
}

TEST(tty, read_from_background_with_a_SIGTTIN_handler_fails_with_EINTR)
{
	int st = bg_run(read_handled);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

static void read_orphaned(int fd)
{
	/* Our group becomes orphaned when its only member's parent (in
	 * another group of the session) is gone. */
	pid_t parent = getpid();
	pid_t c = fork();
	if (c == 0) {
		while (getppid() == parent)
			sched_yield();
		/* Reparented out of the session. */
		char ch;
		ssize_t r = read(fd, &ch, 1);
		int st = r == -1 && errno == EIO ? 0 : (r == -1 ? errno : 1000);
		st <<= 8; /* as an exit status */
		write(report[1], &st, sizeof st);
		_exit(0);
	}
	_exit(0);
}

TEST(tty, read_from_an_orphaned_background_group_fails_with_EIO)
{
	/* Only checkable on a pty: in the sandbox's own session init is in
	 * another group of the same session, so groups there never become
	 * orphaned this way. */
	char name[64];
	int m = open_pty(name, sizeof name);
	if (m < 0) {
		EXPECT_TRUE(1);
		return;
	}
	close(m);
	ASSERT_SYSCALL_OK(pipe(report));
	int st = bg_run(read_orphaned);
	EXPECT_EXIT_STATUS(st, 0);
}

static void write_tostop(int fd)
{
	write(fd, "", 0); /* zero-length writes are not checked either way */
	ASSERT_EQ(write(fd, "x", 1), 1); /* TOSTOP off: background may write */
	/* With TOSTOP the next one stops. Turning it on is a settings change
	 * from the background: do it with SIGTTOU blocked. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGTTOU);
	sigprocmask(SIG_BLOCK, &set, &old);
	struct termios t, saved;
	ASSERT_SYSCALL_OK(tcgetattr(fd, &t));
	saved = t;
	t.c_lflag |= TOSTOP;
	ASSERT_SYSCALL_OK(tcsetattr(fd, TCSANOW, &t));
	/* Blocked SIGTTOU lets the write through. */
	ASSERT_EQ(write(fd, "y", 1), 1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0); /* SIGTTOU goes to this group only */
		write(fd, "z", 1);
		_exit(3);
	}
	setpgid(c, c);
	int st;
	ASSERT_EQ(waitpid(c, &st, WUNTRACED), c);
	sigprocmask(SIG_BLOCK, &set, NULL);
	tcsetattr(fd, TCSANOW, &saved);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	ASSERT_TRUE(WIFSTOPPED(st));
	ASSERT_EQ(WSTOPSIG(st), SIGTTOU);
}

TEST(tty, write_from_background_with_TOSTOP_stops_with_SIGTTOU)
{
	int st = bg_run(write_tostop);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

static void tcsetattr_default(int fd)
{
	struct termios t;
	ASSERT_SYSCALL_OK(tcgetattr(fd, &t)); /* reading settings is fine */
	tcsetattr(fd, TCSANOW, &t);
	_exit(3);
}

TEST(tty, tcsetattr_from_background_stops_with_SIGTTOU)
{
	int st = bg_run(tcsetattr_default);
	SKIP_IF_NO_TTY(st);
	EXPECT_TRUE(WIFSTOPPED(st));
	EXPECT_EQ(WSTOPSIG(st), SIGTTOU);
}

static void tcsetattr_ignored(int fd)
{
	signal(SIGTTOU, SIG_IGN);
	struct termios t;
	ASSERT_SYSCALL_OK(tcgetattr(fd, &t));
	ASSERT_SYSCALL_OK(tcsetattr(fd, TCSANOW, &t));
}

TEST(tty, tcsetattr_from_background_with_SIGTTOU_ignored_succeeds)
{
	int st = bg_run(tcsetattr_ignored);
	SKIP_IF_NO_TTY(st);
	EXPECT_EXIT_STATUS(st, 0);
}

/* --- /dev/tty: the session's controlling terminal (tty(4)) --- */

/* Opens a pty master (new pair, slave unlocked) and puts its slave's name
 * in name; fails the case if there is no /dev/ptmx. */
static int must_open_pty(char *name, size_t n)
{
	int m = open_pty(name, n);
	ASSERT_TRUE(m >= 0);
	return m;
}

TEST(tty, dev_tty_opens_the_controlling_terminal_with_no_descriptor_open_on_it)
{
	char name[64];
	int m = must_open_pty(name, sizeof name);
	/* ready: the child wrote (the master reads EIO while no slave is
	 * open); go: the parent read, the child may exit. */
	int ready[2], go[2];
	ASSERT_SYSCALL_OK(pipe(ready));
	ASSERT_SYSCALL_OK(pipe(go));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		close(m);
		ASSERT_SYSCALL_OK(setsid());
		int s = ASSERT_SYSCALL_OK(open(name, O_RDWR | O_NOCTTY));
		ASSERT_SYSCALL_OK(ioctl(s, TIOCSCTTY, 0));
		ASSERT_SYSCALL_OK(close(s));
		/* No descriptor is open on the terminal any more. */
		int t = ASSERT_SYSCALL_OK(open("/dev/tty", O_RDWR));
		pid_t sid = -1;
		ASSERT_SYSCALL_OK(ioctl(t, TIOCGSID, &sid));
		ASSERT_EQ(sid, getpid());
		ASSERT_EQ(write(t, "via dev tty", 11), 11);
		ASSERT_EQ(write(ready[1], "r", 1), 1);
		char c;
		read(go[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	char buf[32] = {0};
	size_t got = 0;
	while (got < 11) {
		struct pollfd p = {.fd = m, .events = POLLIN};
		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t r = read(m, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += r;
	}
	EXPECT_STREQ(buf, "via dev tty");
	close(go[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(m);
}

TEST(tty, dev_tty_without_a_controlling_terminal_fails_with_ENXIO)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setsid());
		ASSERT_ERRNO(open("/dev/tty", O_RDWR), ENXIO);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(tty, dev_tty_after_TIOCNOTTY_fails_with_ENXIO)
{
	char name[64];
	int m = must_open_pty(name, sizeof name);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setsid());
		int s = ASSERT_SYSCALL_OK(open(name, O_RDWR | O_NOCTTY));
		ASSERT_SYSCALL_OK(ioctl(s, TIOCSCTTY, 0));
		ASSERT_SYSCALL_OK(close(ASSERT_SYSCALL_OK(open("/dev/tty", O_RDWR))));
		/* The session leader's TIOCNOTTY hangs up its foreground group. */
		signal(SIGHUP, SIG_IGN);
		ASSERT_SYSCALL_OK(ioctl(s, TIOCNOTTY));
		ASSERT_ERRNO(open("/dev/tty", O_RDWR), ENXIO);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(m);
}

TEST(tty, opening_a_terminal_without_O_NOCTTY_makes_it_the_session_leaders_controlling_terminal)
{
	char name[64];
	int m = must_open_pty(name, sizeof name);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setsid());
		/* With O_NOCTTY the terminal is not acquired. */
		ASSERT_SYSCALL_OK(close(ASSERT_SYSCALL_OK(open(name, O_RDWR | O_NOCTTY))));
		ASSERT_ERRNO(open("/dev/tty", O_RDWR), ENXIO);
		/* Without it, a session leader with none acquires it. */
		ASSERT_SYSCALL_OK(close(ASSERT_SYSCALL_OK(open(name, O_RDWR))));
		int t = ASSERT_SYSCALL_OK(open("/dev/tty", O_RDWR));
		pid_t sid = -1;
		ASSERT_SYSCALL_OK(ioctl(t, TIOCGSID, &sid));
		ASSERT_EQ(sid, getpid());
		ASSERT_EQ(tcgetpgrp(t), getpgrp());
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(m);
}

TEST(tty, opening_a_master_without_O_NOCTTY_does_not_acquire_it)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setsid());
		int m = ASSERT_SYSCALL_OK(open("/dev/ptmx", O_RDWR));
		ASSERT_ERRNO(open("/dev/tty", O_RDWR), ENXIO);
		close(m);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

/* Fields 7 and 8 of /proc/self/stat: tty_nr and tpgid. */
static int stat_tty(long *tty_nr, long *tpgid)
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	char state;
	int ppid, pgrp, sid;
	if (!p || sscanf(p + 2, "%c %d %d %d %ld %ld", &state, &ppid, &pgrp, &sid, tty_nr, tpgid) != 6)
		return -1;
	return 0;
}

TEST(tty, proc_stat_shows_the_controlling_terminal_and_its_foreground_group)
{
	char name[64];
	int m = open_pty(name, sizeof(name));
	ASSERT_TRUE(m >= 0);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setsid());
		long nr = -2, tp = -2;
		ASSERT_SYSCALL_OK(stat_tty(&nr, &tp));
		EXPECT_EQ(nr, 0);
		EXPECT_EQ(tp, -1);
		int s = ASSERT_SYSCALL_OK(open(name, O_RDWR | O_NOCTTY));
		ASSERT_SYSCALL_OK(ioctl(s, TIOCSCTTY, 0));
		struct stat st;
		ASSERT_SYSCALL_OK(fstat(s, &st));
		ASSERT_SYSCALL_OK(stat_tty(&nr, &tp));
		/* Linux's new_encode_dev layout. */
		long want = (minor(st.st_rdev) & 0xff) | (major(st.st_rdev) << 8) | ((minor(st.st_rdev) & ~0xffL) << 12);
		EXPECT_EQ(nr, want);
		EXPECT_EQ(tp, getpgrp());
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(m);
}

static volatile sig_atomic_t hangup_seen;
static void on_hangup(int sig)
{
	(void)sig;
	hangup_seen = 1;
}

/* hangup_leader_fn runs in a session leader whose controlling terminal
 * is tty s, after SIGHUP arrived; it returns the byte to report. */
typedef char (*hangup_leader_fn)(int s, void *arg);

/* Forks a session leader with the pty's slave as its controlling
 * terminal and a SIGHUP handler (SIGHUP and SIGTTOU blocked outside
 * sigsuspend); before (if set) runs in it first with the terminal. Then
 * closes the master and returns what after reported once the leader saw
 * SIGHUP. */
static char hang_up_leader(void (*before)(int s, void *arg), hangup_leader_fn after, void *arg)
{
	char name[64];
	int m = must_open_pty(name, sizeof name);
	int ready[2], result[2];
	ASSERT_SYSCALL_OK(pipe(ready));
	ASSERT_SYSCALL_OK(pipe(result));
	pid_t leader = ASSERT_SYSCALL_OK(fork());
	if (leader == 0) {
		close(ready[0]);
		close(result[0]);
		close(m);
		sigset_t block, old;
		sigemptyset(&block);
		sigaddset(&block, SIGHUP);
		sigaddset(&block, SIGTTOU);
		ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &block, &old));
		struct sigaction sa = {0};
		sa.sa_handler = on_hangup;
		ASSERT_SYSCALL_OK(sigaction(SIGHUP, &sa, NULL));
		ASSERT_SYSCALL_OK(setsid());
		int s = ASSERT_SYSCALL_OK(open(name, O_RDWR | O_NOCTTY));
		ASSERT_SYSCALL_OK(ioctl(s, TIOCSCTTY, 0));
		if (before)
			before(s, arg);
		ASSERT_EQ(write(ready[1], "r", 1), 1);
		while (!hangup_seen)
			sigsuspend(&old);
		char c = after(s, arg);
		ASSERT_EQ(write(result[1], &c, 1), 1);
		_exit(0);
	}
	close(ready[1]);
	close(result[1]);
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	ASSERT_SYSCALL_OK(close(m));
	ASSERT_EQ(read(result[0], &c, 1), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(leader), 0);
	close(ready[0]);
	close(result[0]);
	return c;
}

/* A hung-up terminal reads end of file and refuses writes. */
static char hung_up_terminal_reads_eof(int s, void *arg)
{
	(void)arg;
	char c;
	ASSERT_EQ(read(s, &c, 1), 0);
	ASSERT_ERRNO(write(s, "x", 1), EIO);
	return 'h';
}

TEST(tty, closing_the_master_hangs_up_the_terminal_and_sends_its_session_leader_SIGHUP)
{
	EXPECT_EQ(hang_up_leader(NULL, hung_up_terminal_reads_eof, NULL), 'h');
}

/* Whether SIGHUP is pending for the whole process pid (ShdPnd). */
static int sighup_pending_in(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int found = -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long long mask;
		if (sscanf(line, "ShdPnd: %llx", &mask) == 1) {
			found = (mask >> (SIGHUP - 1)) & 1;
			break;
		}
	}
	fclose(f);
	return found;
}

/* Starts a job in a process group of its own, in the foreground, with
 * SIGHUP blocked (inherited): a SIGHUP sent to it stays pending where
 * sighup_pending_in sees it. */
static void start_foreground_job(int s, void *arg)
{
	pid_t *job = arg;
	int job_ready[2];
	ASSERT_SYSCALL_OK(pipe(job_ready));
	*job = ASSERT_SYSCALL_OK(fork());
	if (*job == 0) {
		close(job_ready[0]);
		setpgid(0, 0);
		ASSERT_EQ(write(job_ready[1], "j", 1), 1);
		for (;;)
			pause();
	}
	close(job_ready[1]);
	char c;
	ASSERT_EQ(read(job_ready[0], &c, 1), 1);
	setpgid(*job, *job);
	ASSERT_SYSCALL_OK(tcsetpgrp(s, *job));
}

/* The hang-up's signals were sent together: the job's would be pending
 * by now. Reports 'n' if it has none. */
static char job_has_no_SIGHUP(int s, void *arg)
{
	(void)s;
	pid_t job = *(pid_t *)arg;
	char c = sighup_pending_in(job) == 0 ? 'n' : 'y';
	kill(job, SIGKILL);
	waitpid(job, NULL, 0);
	return c;
}

TEST(tty, closing_the_master_signals_the_session_leader_not_the_foreground_group)
{
	pid_t job = 0;
	EXPECT_EQ(hang_up_leader(start_foreground_job, job_has_no_SIGHUP, &job), 'n');
}
