/* Pseudo-terminals: posix_openpt(3), ptsname(3), pty(7), termios(3),
 * ioctl_tty(2). */
#include "test.h"

#include <dirent.h>
#include <sys/sysmacros.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

/* open_pair opens a master and its slave (unlocked, O_NOCTTY). */
static int open_pair(int *slave)
{
	int m = ASSERT_SYSCALL_OK(posix_openpt(O_RDWR | O_NOCTTY));
	ASSERT_SYSCALL_OK(grantpt(m));
	ASSERT_SYSCALL_OK(unlockpt(m));
	char *name = ptsname(m);
	ASSERT_TRUE(name != NULL);
	*slave = ASSERT_SYSCALL_OK(open(name, O_RDWR | O_NOCTTY));
	return m;
}

/* read_all reads from fd until n bytes came or nothing is ready for 1 s. */
static ssize_t read_all(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 1000) <= 0 || !(p.revents & POLLIN))
			break;
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += r;
	}
	return got;
}

TEST(pty, posix_openpt_then_ptsname_names_dev_pts_N_from_TIOCGPTN)
{
	int m = ASSERT_SYSCALL_OK(posix_openpt(O_RDWR | O_NOCTTY));
	ASSERT_SYSCALL_OK(grantpt(m));
	ASSERT_SYSCALL_OK(unlockpt(m));
	unsigned n = 12345;
	ASSERT_SYSCALL_OK(ioctl(m, TIOCGPTN, &n));
	char want[64];
	snprintf(want, sizeof want, "/dev/pts/%u", n);
	EXPECT_STREQ(ptsname(m), want);
	EXPECT_TRUE(isatty(m));
}

/* The mode is the devpts mount's mode= option: 0620 as systemd mounts it
 * (and the sandbox), 0600 by default. */
TEST(pty, slave_is_a_char_device_136_N_mode_0620_owned_by_the_opener)
{
	int s;
	int m = open_pair(&s);
	unsigned n;
	ASSERT_SYSCALL_OK(ioctl(m, TIOCGPTN, &n));
	struct stat st;
	ASSERT_SYSCALL_OK(stat(ptsname(m), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(major(st.st_rdev), 136u);
	EXPECT_EQ(minor(st.st_rdev), (unsigned)n);
	EXPECT_TRUE((st.st_mode & 0777) == 0620 || (st.st_mode & 0777) == 0600);
	EXPECT_EQ(st.st_uid, geteuid());
	EXPECT_TRUE(isatty(s));
}

TEST(pty, dev_pts_lists_the_open_slave)
{
	int s;
	int m = open_pair(&s);
	unsigned n;
	ASSERT_SYSCALL_OK(ioctl(m, TIOCGPTN, &n));
	char want[16];
	snprintf(want, sizeof want, "%u", n);
	DIR *d = opendir("/dev/pts");
	ASSERT_TRUE(d != NULL);
	int found = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, want) == 0)
			found = de->d_type == DT_CHR;
	closedir(d);
	EXPECT_TRUE(found);
}

TEST(pty, open_of_a_locked_slave_fails_with_EIO)
{
	int m = ASSERT_SYSCALL_OK(posix_openpt(O_RDWR | O_NOCTTY));
	int lock = -1;
	ASSERT_SYSCALL_OK(ioctl(m, TIOCGPTLCK, &lock));
	EXPECT_EQ(lock, 1);
	EXPECT_ERRNO(open(ptsname(m), O_RDWR | O_NOCTTY), EIO);
	ASSERT_SYSCALL_OK(unlockpt(m));
	ASSERT_SYSCALL_OK(ioctl(m, TIOCGPTLCK, &lock));
	EXPECT_EQ(lock, 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	EXPECT_GE(s, 0);
}

TEST(pty, new_terminal_has_linux_default_termios)
{
	int s;
	open_pair(&s);
	struct termios t;
	ASSERT_SYSCALL_OK(tcgetattr(s, &t));
	EXPECT_EQ(t.c_iflag, ICRNL | IXON);
	EXPECT_EQ(t.c_oflag, OPOST | ONLCR);
	tcflag_t l = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
	EXPECT_EQ(t.c_lflag, l);
	EXPECT_EQ(t.c_cflag & (CSIZE | CREAD), CS8 | CREAD);
	EXPECT_EQ(t.c_cc[VINTR], 3);
	EXPECT_EQ(t.c_cc[VQUIT], 034);
	EXPECT_EQ(t.c_cc[VERASE], 0177);
	EXPECT_EQ(t.c_cc[VKILL], 025);
	EXPECT_EQ(t.c_cc[VEOF], 4);
	EXPECT_EQ(t.c_cc[VMIN], 1);
	EXPECT_EQ(t.c_cc[VSUSP], 032);
	EXPECT_EQ(cfgetospeed(&t), B38400);
}

TEST(pty, canonical_read_returns_one_line_at_a_time)
{
	int s;
	int m = open_pair(&s);
	ASSERT_EQ(write(m, "ab\ncd\n", 6), 6);
	char buf[64];
	EXPECT_EQ(read(s, buf, sizeof buf), 3);
	EXPECT_MEMEQ(buf, "ab\n", 3);
	EXPECT_EQ(read(s, buf, sizeof buf), 3);
	EXPECT_MEMEQ(buf, "cd\n", 3);
}

TEST(pty, ICRNL_turns_carriage_return_into_newline)
{
	int s;
	int m = open_pair(&s);
	ASSERT_EQ(write(m, "xy\r", 3), 3);
	char buf[64];
	EXPECT_EQ(read(s, buf, sizeof buf), 3);
	EXPECT_MEMEQ(buf, "xy\n", 3);
}

TEST(pty, partial_line_is_not_readable_until_newline)
{
	int s;
	int m = open_pair(&s);
	ASSERT_EQ(write(m, "abc", 3), 3);
	struct pollfd p = {.fd = s, .events = POLLIN};
	EXPECT_EQ(poll(&p, 1, 100), 0);
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(s, FIONREAD, &n));
	EXPECT_EQ(n, 0);
	ASSERT_EQ(write(m, "\n", 1), 1);
	EXPECT_EQ(poll(&p, 1, 1000), 1);
	ASSERT_SYSCALL_OK(ioctl(s, FIONREAD, &n));
	EXPECT_EQ(n, 4);
}

TEST(pty, slave_write_reaches_master_with_ONLCR_newline_as_CR_NL)
{
	int s;
	int m = open_pair(&s);
	ASSERT_EQ(write(s, "hi\n", 3), 3);
	char buf[64];
	EXPECT_EQ(read_all(m, buf, 4), 4);
	EXPECT_MEMEQ(buf, "hi\r\n", 4);
}

TEST(pty, ECHO_echoes_input_back_to_the_master)
{
	int s;
	int m = open_pair(&s);
	ASSERT_EQ(write(m, "ok\n", 3), 3);
	char buf[64];
	EXPECT_EQ(read_all(m, buf, 4), 4);
	EXPECT_MEMEQ(buf, "ok\r\n", 4);
}

TEST(pty, VERASE_erases_the_last_character_and_echoes_backspace_space_backspace)
{
	int s;
	int m = open_pair(&s);
	ASSERT_EQ(write(m, "abc\177\n", 5), 5);
	char buf[64];
	EXPECT_EQ(read(s, buf, sizeof buf), 3);
	EXPECT_MEMEQ(buf, "ab\n", 3);
	EXPECT_EQ(read_all(m, buf, 8), 8);
	EXPECT_MEMEQ(buf, "abc\b \b\r\n", 8);
}

TEST(pty, VKILL_discards_the_line)
{
	int s;
	int m = open_pair(&s);
	ASSERT_EQ(write(m, "junk\025ok\n", 8), 8);
	char buf[64];
	EXPECT_EQ(read(s, buf, sizeof buf), 3);
	EXPECT_MEMEQ(buf, "ok\n", 3);
}

TEST(pty, VEOF_at_the_start_of_a_line_reads_as_end_of_file)
{
	int s;
	int m = open_pair(&s);
	ASSERT_EQ(write(m, "ab\004\004", 4), 4);
	char buf[64];
	EXPECT_EQ(read(s, buf, sizeof buf), 2);
	EXPECT_MEMEQ(buf, "ab", 2);
	EXPECT_EQ(read(s, buf, sizeof buf), 0);
}

TEST(pty, cfmakeraw_passes_bytes_through_without_echo_or_line_buffering)
{
	int s;
	int m = open_pair(&s);
	struct termios t;
	ASSERT_SYSCALL_OK(tcgetattr(s, &t));
	cfmakeraw(&t);
	ASSERT_SYSCALL_OK(tcsetattr(s, TCSANOW, &t));
	ASSERT_EQ(write(m, "a\r\003", 3), 3);
	char buf[64];
	EXPECT_EQ(read_all(s, buf, 3), 3);
	EXPECT_MEMEQ(buf, "a\r\003", 3);
	ASSERT_EQ(write(s, "x\n", 2), 2);
	EXPECT_EQ(read_all(m, buf, sizeof buf), 2);
	EXPECT_MEMEQ(buf, "x\n", 2);
}

TEST(pty, noncanonical_read_waits_for_VMIN_bytes)
{
	int s;
	int m = open_pair(&s);
	struct termios t;
	ASSERT_SYSCALL_OK(tcgetattr(s, &t));
	cfmakeraw(&t);
	t.c_cc[VMIN] = 3;
	t.c_cc[VTIME] = 0;
	ASSERT_SYSCALL_OK(tcsetattr(s, TCSANOW, &t));
	ASSERT_EQ(write(m, "ab", 2), 2);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		usleep(100 * 1000);
		_exit(write(m, "c", 1) == 1 ? 0 : 1);
	}
	char buf[64];
	EXPECT_EQ(read(s, buf, sizeof buf), 3);
	EXPECT_MEMEQ(buf, "abc", 3);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(pty, noncanonical_read_with_VMIN_0_VTIME_0_returns_0_when_empty)
{
	int s;
	open_pair(&s);
	struct termios t;
	ASSERT_SYSCALL_OK(tcgetattr(s, &t));
	cfmakeraw(&t);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	ASSERT_SYSCALL_OK(tcsetattr(s, TCSANOW, &t));
	char buf[8];
	EXPECT_EQ(read(s, buf, sizeof buf), 0);
}

TEST(pty, noncanonical_read_with_VMIN_0_VTIME_1_times_out_with_0)
{
	int s;
	open_pair(&s);
	struct termios t;
	ASSERT_SYSCALL_OK(tcgetattr(s, &t));
	cfmakeraw(&t);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 1;
	ASSERT_SYSCALL_OK(tcsetattr(s, TCSANOW, &t));
	char buf[8];
	EXPECT_EQ(read(s, buf, sizeof buf), 0);
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* become_controlling sets up the caller (a fresh child) as a session
 * leader whose controlling terminal is the slave; it returns the slave. */
static int become_controlling(const char *name)
{
	ASSERT_SYSCALL_OK(setsid());
	int s = ASSERT_SYSCALL_OK(open(name, O_RDWR));
	ASSERT_SYSCALL_OK(ioctl(s, TIOCSCTTY, 0));
	return s;
}

TEST(pty, VINTR_on_the_master_sends_SIGINT_to_the_foreground_group)
{
	int m = ASSERT_SYSCALL_OK(posix_openpt(O_RDWR | O_NOCTTY));
	ASSERT_SYSCALL_OK(unlockpt(m));
	char name[64];
	snprintf(name, sizeof name, "%s", ptsname(m));
	int ready[2];
	ASSERT_SYSCALL_OK(pipe(ready));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_signal};
		ASSERT_SYSCALL_OK(sigaction(SIGINT, &sa, NULL));
		int s = become_controlling(name);
		pid_t pg = 0, sid = 0;
		ASSERT_SYSCALL_OK(ioctl(s, TIOCGPGRP, &pg));
		ASSERT_SYSCALL_OK(ioctl(s, TIOCGSID, &sid));
		EXPECT_EQ(pg, getpid());
		EXPECT_EQ(sid, getpid());
		ASSERT_EQ(write(ready[1], "r", 1), 1);
		char buf[16];
		while (!got_signal)
			if (read(s, buf, sizeof buf) < 0 && errno != EINTR)
				_exit(2);
		_exit(got_signal == SIGINT ? 0 : 1);
	}
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	usleep(50 * 1000);
	ASSERT_EQ(write(m, "\003", 1), 1);
	int status = 0;
	for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) == 0; i++) {
		usleep(10 * 1000);
		if (i == 100) {
			/* Unstick a child that missed the signal. */
			ASSERT_EQ(write(m, "x\n", 2), 2);
		}
	}
	EXPECT_EXIT_STATUS(status, 0);
}

TEST(pty, TIOCSWINSZ_sets_the_size_and_sends_SIGWINCH_to_the_foreground_group)
{
	int m = ASSERT_SYSCALL_OK(posix_openpt(O_RDWR | O_NOCTTY));
	ASSERT_SYSCALL_OK(unlockpt(m));
	char name[64];
	snprintf(name, sizeof name, "%s", ptsname(m));
	int ready[2];
	ASSERT_SYSCALL_OK(pipe(ready));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		sigset_t block, old;
		sigemptyset(&block);
		sigaddset(&block, SIGWINCH);
		ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &block, &old));
		struct sigaction sa = {.sa_handler = on_signal};
		ASSERT_SYSCALL_OK(sigaction(SIGWINCH, &sa, NULL));
		int s = become_controlling(name);
		ASSERT_EQ(write(ready[1], "r", 1), 1);
		while (!got_signal)
			sigsuspend(&old);
		struct winsize ws;
		ASSERT_SYSCALL_OK(ioctl(s, TIOCGWINSZ, &ws));
		_exit(got_signal == SIGWINCH && ws.ws_row == 24 && ws.ws_col == 80 ? 0 : 1);
	}
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	ASSERT_SYSCALL_OK(ioctl(m, TIOCSWINSZ, &ws));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(pty, closing_the_master_makes_slave_reads_end_and_writes_fail_with_EIO)
{
	int s;
	int m = open_pair(&s);
	ASSERT_SYSCALL_OK(close(m));
	char buf[8];
	ssize_t r = read(s, buf, sizeof buf);
	EXPECT_TRUE(r == 0 || (r == -1 && errno == EIO));
	EXPECT_ERRNO(write(s, "x", 1), EIO);
}

TEST(pty, closing_every_slave_makes_master_read_fail_with_EIO_after_the_data)
{
	int s;
	int m = open_pair(&s);
	ASSERT_EQ(write(s, "z", 1), 1);
	ASSERT_SYSCALL_OK(close(s));
	char buf[8];
	EXPECT_EQ(read(m, buf, sizeof buf), 1);
	EXPECT_ERRNO(read(m, buf, sizeof buf), EIO);
	struct pollfd p = {.fd = m, .events = POLLIN};
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_TRUE(p.revents & POLLHUP);
}

TEST(pty, master_is_pollable_for_slave_output)
{
	int s;
	int m = open_pair(&s);
	struct pollfd p = {.fd = m, .events = POLLIN | POLLOUT};
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLOUT);
	ASSERT_EQ(write(s, "q", 1), 1);
	EXPECT_EQ(poll(&p, 1, 1000), 1);
	EXPECT_EQ(p.revents, POLLIN | POLLOUT);
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(m, FIONREAD, &n));
	EXPECT_EQ(n, 1);
}

TEST(pty, TCFLSH_discards_pending_input)
{
	int s;
	int m = open_pair(&s);
	ASSERT_EQ(write(m, "gone\n", 5), 5);
	ASSERT_SYSCALL_OK(tcflush(s, TCIFLUSH));
	int n = -1;
	ASSERT_SYSCALL_OK(ioctl(s, FIONREAD, &n));
	EXPECT_EQ(n, 0);
	ASSERT_SYSCALL_OK(fcntl(s, F_SETFL, O_NONBLOCK));
	char buf[8];
	EXPECT_ERRNO(read(s, buf, sizeof buf), EAGAIN);
}

TEST(pty, TIOCGPGRP_on_a_slave_that_is_not_the_controlling_terminal_fails_with_ENOTTY)
{
	int s;
	open_pair(&s);
	pid_t pg;
	EXPECT_ERRNO(ioctl(s, TIOCGPGRP, &pg), ENOTTY);
}
