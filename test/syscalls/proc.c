/* The process's own /proc/self: exe, fd/, cmdline, maps, status, stat, cwd. */
#include "test.h"

#include <dirent.h>
#include <limits.h>
#include <sys/mman.h>

/* Reads a whole (small) file into a static buffer; returns its length. */
static size_t slurp(const char *path, char *buf, size_t size)
{
	int fd = ASSERT_SYSCALL_OK(open(path, O_RDONLY));
	size_t got = 0;
	ssize_t n;
	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += n;
	buf[got] = '\0';
	close(fd);
	return got;
}

TEST(proc, self_is_a_symlink_to_the_callers_pid)
{
	char buf[32] = {0}, want[32];
	ASSERT_SYSCALL_OK(readlink("/proc/self", buf, sizeof(buf) - 1));
	snprintf(want, sizeof(want), "%d", getpid());
	EXPECT_STREQ(buf, want);
}

TEST(proc, self_exe_links_to_the_running_binary)
{
	char buf[PATH_MAX] = {0};
	ASSERT_SYSCALL_OK(readlink("/proc/self/exe", buf, sizeof(buf) - 1));
	EXPECT_STREQ(buf, test_self_exe());
	struct stat a, b;
	ASSERT_SYSCALL_OK(stat("/proc/self/exe", &a));
	ASSERT_SYSCALL_OK(stat(test_self_exe(), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST(proc, self_fd_entry_links_to_the_opened_file)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("target"), O_CREAT | O_RDWR, 0600));
	char link[64], buf[PATH_MAX] = {0};
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ASSERT_SYSCALL_OK(readlink(link, buf, sizeof(buf) - 1));
	EXPECT_STREQ(buf, test_path("target"));
}

TEST(proc, self_fd_entry_of_pipe_reads_pipe_inode)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	char link[64], buf[64] = {0};
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p[0]);
	ASSERT_SYSCALL_OK(readlink(link, buf, sizeof(buf) - 1));
	EXPECT_EQ(strncmp(buf, "pipe:[", 6), 0);
}

TEST(proc, self_fd_lists_open_descriptors_and_not_closed_ones)
{
	int fd = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	ASSERT_SYSCALL_OK(dup2(fd, 77));
	close(fd);
	DIR *d = opendir("/proc/self/fd");
	ASSERT_TRUE(d != NULL);
	int saw77 = 0, sawfd = 0, self = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		int n = atoi(e->d_name);
		if (n == 77)
			saw77 = 1;
		if (n == fd && fd != self)
			sawfd = 1;
	}
	closedir(d);
	EXPECT_TRUE(saw77);
	EXPECT_FALSE(sawfd);
}

TEST(proc, self_fd_entry_for_closed_fd_does_not_exist)
{
	char buf[16];
	EXPECT_ERRNO(readlink("/proc/self/fd/9999", buf, sizeof(buf)), ENOENT);
}

TEST(proc, self_fd_entry_can_be_opened_to_reopen_the_file)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("f"), O_CREAT | O_RDWR, 0600));
	ASSERT_EQ(write(fd, "reopened", 8), 8);
	char link[64], buf[16] = {0};
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	int again = ASSERT_SYSCALL_OK(open(link, O_RDONLY));
	EXPECT_EQ(read(again, buf, sizeof(buf) - 1), 8);
	EXPECT_STREQ(buf, "reopened");
}

TEST_HELPER(check_cmdline)
{
	static char buf[4096];
	size_t n = slurp("/proc/self/cmdline", buf, sizeof(buf));
	/* The helper sees argv shifted; the real argv starts two earlier. */
	char **real = argv - 2;
	int real_argc = argc + 2;
	size_t off = 0;
	for (int i = 0; i < real_argc; i++) {
		size_t len = strlen(real[i]) + 1;
		if (off + len > n || memcmp(buf + off, real[i], len) != 0)
			return 10 + i;
		off += len;
	}
	return off == n ? 0 : 2;
}

TEST(proc, self_cmdline_holds_argv_separated_by_nul_bytes)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char *argv[] = {(char *)test_self_exe(), "--helper", "check_cmdline", "arg one", "", "3", NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(proc, self_maps_lists_a_new_mapping_with_its_permissions)
{
	char *p = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	ASSERT_SYSCALL_OK(mprotect(p + 4096, 4096, PROT_READ | PROT_WRITE));
	static char buf[1 << 16];
	slurp("/proc/self/maps", buf, sizeof(buf));
	char want[128];
	snprintf(want, sizeof(want), "%lx-%lx rw-p ", (unsigned long)(p + 4096), (unsigned long)(p + 8192));
	EXPECT_TRUE(strstr(buf, want) != NULL);
	snprintf(want, sizeof(want), "%lx-%lx r--p ", (unsigned long)p, (unsigned long)(p + 4096));
	EXPECT_TRUE(strstr(buf, want) != NULL);
	EXPECT_TRUE(strstr(buf, "[stack]") != NULL);
}

TEST(proc, self_status_reports_pid_ppid_and_uid)
{
	static char buf[8192];
	slurp("/proc/self/status", buf, sizeof(buf));
	char want[64];
	snprintf(want, sizeof(want), "\nPid:\t%d\n", getpid());
	EXPECT_TRUE(strstr(buf, want) != NULL);
	snprintf(want, sizeof(want), "\nPPid:\t%d\n", getppid());
	EXPECT_TRUE(strstr(buf, want) != NULL);
	snprintf(want, sizeof(want), "\nUid:\t%d\t%d\t", getuid(), geteuid());
	EXPECT_TRUE(strstr(buf, want) != NULL);
	EXPECT_EQ(strncmp(buf, "Name:\t", 6), 0);
}

TEST(proc, self_stat_starts_with_pid_and_command_in_parentheses)
{
	static char buf[4096];
	slurp("/proc/self/stat", buf, sizeof(buf));
	int pid = 0;
	char state = 0;
	char *close_paren = strrchr(buf, ')');
	ASSERT_TRUE(close_paren != NULL);
	EXPECT_EQ(sscanf(buf, "%d (", &pid), 1);
	EXPECT_EQ(pid, getpid());
	EXPECT_EQ(sscanf(close_paren + 1, " %c", &state), 1);
	EXPECT_EQ(state, 'R');
}

TEST(proc, self_cwd_links_to_the_working_directory)
{
	ASSERT_SYSCALL_OK(chdir(test_tmpdir()));
	char buf[PATH_MAX] = {0};
	ASSERT_SYSCALL_OK(readlink("/proc/self/cwd", buf, sizeof(buf) - 1));
	EXPECT_STREQ(buf, test_tmpdir());
}

TEST(proc, thread_self_names_the_calling_thread)
{
	char buf[64] = {0}, want[64];
	ASSERT_SYSCALL_OK(readlink("/proc/thread-self", buf, sizeof(buf) - 1));
	snprintf(want, sizeof(want), "%d/task/%ld", getpid(), (long)syscall(SYS_gettid));
	EXPECT_STREQ(buf, want);
}

/* Compares the contents of two open files; returns 0 if they are equal. */
static int same_contents(int a, int b)
{
	static char x[65536], y[65536];
	for (;;) {
		ssize_t n = read(a, x, sizeof x);
		if (n < 0)
			return 1;
		size_t got = 0;
		while (got < (size_t)n) {
			ssize_t r = read(b, y + got, n - got);
			if (r <= 0)
				return 2;
			got += r;
		}
		if (memcmp(x, y, n) != 0)
			return 3;
		if (n == 0)
			return read(b, y, 1) == 0 ? 0 : 4;
	}
}

TEST(proc, self_exe_opens_the_running_binary)
{
	int a = ASSERT_SYSCALL_OK(open("/proc/self/exe", O_RDONLY));
	int b = ASSERT_SYSCALL_OK(open(test_self_exe(), O_RDONLY));
	EXPECT_EQ(same_contents(a, b), 0);
	struct stat sa, sb;
	ASSERT_SYSCALL_OK(fstat(a, &sa));
	ASSERT_SYSCALL_OK(fstat(b, &sb));
	EXPECT_EQ(sa.st_ino, sb.st_ino);
	EXPECT_EQ(sa.st_dev, sb.st_dev);
	close(a);
	close(b);
}

/* Copies the test binary to path, executable. */
static void copy_self(const char *path)
{
	int in = ASSERT_SYSCALL_OK(open(test_self_exe(), O_RDONLY));
	int out = ASSERT_SYSCALL_OK(open(path, O_WRONLY | O_CREAT | O_EXCL, 0755));
	static char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		ASSERT_EQ(write(out, buf, n), n);
	ASSERT_EQ(n, 0);
	close(in);
	ASSERT_SYSCALL_OK(close(out));
}

/* argv[1]: the program's path (a copy of the test binary); argv[2]: the
 * path to rename it to, or "" to unlink it; argv[3]: the original. Checks that /proc/self/exe still opens
 * the program and that readlink names it where it now is. */
TEST_HELPER(exe_moved)
{
	if (argc < 4)
		return 2;
	char want[PATH_MAX + 16];
	if (argv[2][0] == '\0') {
		if (unlink(argv[1]) != 0)
			return 3;
		snprintf(want, sizeof want, "%s (deleted)", argv[1]);
	} else {
		if (rename(argv[1], argv[2]) != 0)
			return 3;
		snprintf(want, sizeof want, "%s", argv[2]);
	}
	char link[PATH_MAX + 16] = {0};
	if (readlink("/proc/self/exe", link, sizeof(link) - 1) < 0)
		return 4;
	if (strcmp(link, want) != 0) {
		fprintf(stderr, "readlink /proc/self/exe: %s, want %s\n", link, want);
		return 5;
	}
	int a = open("/proc/self/exe", O_RDONLY);
	if (a < 0)
		return 6;
	int b = open(argv[3], O_RDONLY);
	if (b < 0)
		return 7;
	if (same_contents(a, b) != 0)
		return 8;
	struct stat st;
	if (fstat(a, &st) != 0)
		return 9;
	if (argv[2][0] == '\0' && st.st_nlink != 0)
		return 10;
	return 0;
}

/* Runs a copy of the test binary as the exe_moved helper with target. */
static int run_exe_moved(const char *target)
{
	const char *copy = test_path("copy");
	copy_self(copy);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char *argv[] = {(char *)copy, "--helper", "exe_moved", (char *)copy, (char *)target, (char *)test_self_exe(), NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	return test_wait_exit(pid);
}

TEST(proc, self_exe_opens_the_program_after_it_is_unlinked_and_reads_deleted)
{
	EXPECT_EXIT_STATUS(run_exe_moved(""), 0);
}

TEST(proc, self_exe_follows_the_program_when_it_is_renamed)
{
	EXPECT_EXIT_STATUS(run_exe_moved(test_path("renamed")), 0);
}

/* The state letter of /proc/PID/stat (the field after the comm). */
static char stat_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Polls until pid's state is want (states change asynchronously). */
static char wait_state(pid_t pid, char want)
{
	char s = '?';
	for (int i = 0; i < 200 && (s = stat_state(pid)) != want; i++)
		usleep(5000);
	return s;
}

TEST(proc, stat_state_is_R_S_T_and_Z_as_the_process_runs_waits_stops_and_dies)
{
	EXPECT_EQ(stat_state(getpid()), 'R'); /* the reader runs */
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char c;
		read(p[0], &c, 1);
		_exit(0);
	}
	EXPECT_EQ(wait_state(pid, 'S'), 'S'); /* blocked in read */
	ASSERT_SYSCALL_OK(kill(pid, SIGSTOP));
	EXPECT_EQ(wait_state(pid, 'T'), 'T');
	ASSERT_SYSCALL_OK(kill(pid, SIGCONT));
	EXPECT_EQ(wait_state(pid, 'S'), 'S');
	ASSERT_EQ(write(p[1], "x", 1), 1);
	EXPECT_EQ(wait_state(pid, 'Z'), 'Z'); /* exited, not waited for */
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
