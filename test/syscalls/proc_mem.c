/* /proc/PID/mem (proc(5)) and /proc/PID/status TracerPid. */
#include "test.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <linux/capability.h>

static int open_mem(pid_t pid, int flags)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	return open(path, flags);
}

/* A child that waits until its pipe is closed, then exits. */
static pid_t sleeper(int *wfd)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		while (read(p[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

TEST(proc_mem, pread_reads_the_processes_memory_at_the_offset)
{
	static char buf[] = "hello, proc mem";
	int fd = open_mem(getpid(), O_RDONLY);
	ASSERT_GE(fd, 0);
	char got[sizeof(buf)] = {0};
	EXPECT_EQ(pread(fd, got, sizeof(got), (off_t)(uintptr_t)buf), (ssize_t)sizeof(buf));
	EXPECT_MEMEQ(got, buf, sizeof(buf));
	close(fd);
}

TEST(proc_mem, pwrite_changes_another_processes_memory)
{
	static volatile int value = 1;
	int p[2], q[2];
	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(pipe(q), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char c;
		close(p[1]);
		close(q[0]);
		value = 2;
		if (write(q[1], "x", 1) != 1)
			_exit(3);
		if (read(p[0], &c, 1) != 1)
			_exit(4);
		_exit(value == 42 ? 0 : 1);
	}
	close(p[0]);
	close(q[1]);
	char c;
	ASSERT_EQ(read(q[0], &c, 1), 1);
	int fd = open_mem(pid, O_RDWR);
	ASSERT_GE(fd, 0);
	int v = 0;
	EXPECT_EQ(pread(fd, &v, sizeof(v), (off_t)(uintptr_t)&value), (ssize_t)sizeof(v));
	EXPECT_EQ(v, 2);
	v = 42;
	EXPECT_EQ(pwrite(fd, &v, sizeof(v), (off_t)(uintptr_t)&value), (ssize_t)sizeof(v));
	EXPECT_EQ(value, 1);
	ASSERT_EQ(write(p[1], "x", 1), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	close(fd);
}

TEST(proc_mem, pwrite_writes_a_private_read_only_mapping)
{
	char *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(m, MAP_FAILED);
	int fd = open_mem(getpid(), O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(pwrite(fd, "ab", 2, (off_t)(uintptr_t)(m + 100)), 2);
	EXPECT_EQ(m[100], 'a');
	EXPECT_EQ(m[101], 'b');
	close(fd);
	munmap(m, 4096);
}

TEST(proc_mem, read_of_an_unmapped_address_is_EIO)
{
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(m, MAP_FAILED);
	ASSERT_EQ(munmap(m, 4096), 0);
	int fd = open_mem(getpid(), O_RDWR);
	ASSERT_GE(fd, 0);
	char b[8];
	errno = 0;
	EXPECT_EQ(pread(fd, b, sizeof(b), (off_t)(uintptr_t)m), -1);
	EXPECT_EQ(errno, EIO);
	errno = 0;
	EXPECT_EQ(pwrite(fd, b, sizeof(b), (off_t)(uintptr_t)m), -1);
	EXPECT_EQ(errno, EIO);
	close(fd);
}

TEST(proc_mem, read_stops_short_at_an_unmapped_page)
{
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(m, MAP_FAILED);
	memset(m, 'z', 4096);
	ASSERT_EQ(munmap(m + 4096, 4096), 0);
	int fd = open_mem(getpid(), O_RDONLY);
	ASSERT_GE(fd, 0);
	char b[32];
	EXPECT_EQ(pread(fd, b, sizeof(b), (off_t)(uintptr_t)(m + 4096 - 8)), 8);
	EXPECT_EQ(b[0], 'z');
	close(fd);
	munmap(m, 4096);
}

TEST(proc_mem, read_advances_the_file_offset_from_lseek)
{
	static char buf[] = "0123456789";
	int fd = open_mem(getpid(), O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(lseek(fd, (off_t)(uintptr_t)buf, SEEK_SET), (off_t)(uintptr_t)buf);
	char b[4];
	EXPECT_EQ(read(fd, b, 4), 4);
	EXPECT_MEMEQ(b, "0123", 4);
	EXPECT_EQ(lseek(fd, 2, SEEK_CUR), (off_t)(uintptr_t)(buf + 6));
	EXPECT_EQ(read(fd, b, 2), 2);
	EXPECT_MEMEQ(b, "67", 2);
	errno = 0;
	EXPECT_EQ(lseek(fd, 0, SEEK_END), -1);
	EXPECT_EQ(errno, EINVAL);
	close(fd);
}

TEST(proc_mem, lseek_takes_offsets_above_2_63)
{
	int fd = open_mem(getpid(), O_RDONLY);
	ASSERT_GE(fd, 0);
	/* The raw call: glibc would take the result for an error. */
	long r = syscall(SYS_lseek, fd, 0x8000000000001000UL, SEEK_SET);
	EXPECT_EQ((unsigned long)r, 0x8000000000001000UL);
	EXPECT_EQ((unsigned long)syscall(SYS_lseek, fd, 0x10L, SEEK_CUR), 0x8000000000001010UL);
	/* Nothing is mapped there. */
	char b[4];
	errno = 0;
	EXPECT_EQ(read(fd, b, sizeof(b)), -1);
	EXPECT_EQ(errno, EIO);
	/* pread takes no negative offset. */
	errno = 0;
	EXPECT_EQ(syscall(SYS_pread64, fd, b, sizeof(b), 0x8000000000001000UL), -1);
	EXPECT_EQ(errno, EINVAL);
	close(fd);
}

TEST(proc_mem, open_of_a_non_dumpable_process_without_CAP_SYS_PTRACE_is_EACCES)
{
	int p[2], q[2];
	ASSERT_EQ(pipe(p), 0);
	ASSERT_EQ(pipe(q), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char c;
		close(p[1]);
		close(q[0]);
		if (prctl(PR_SET_DUMPABLE, 0) != 0)
			_exit(3);
		if (write(q[1], "x", 1) != 1)
			_exit(3);
		while (read(p[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	close(q[1]);
	char c;
	ASSERT_EQ(read(q[0], &c, 1), 1);
	pid_t opener = fork();
	ASSERT_GE(opener, 0);
	if (opener == 0) {
		/* Drop every capability so that root is refused too. */
		struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
		struct __user_cap_data_struct d[2];
		memset(d, 0, sizeof(d));
		if (syscall(SYS_capset, &h, d) != 0)
			_exit(5);
		int fd = open_mem(pid, O_RDONLY);
		_exit(fd == -1 && errno == EACCES ? 0 : 1);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(opener), 0);
	/* The parent of a dumpable child may open it. */
	int fd = open_mem(getpid(), O_RDONLY);
	EXPECT_GE(fd, 0);
	close(fd);
	close(p[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST_HELPER(wait_stdin)
{
	char c;
	(void)argc;
	(void)argv;
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

TEST(proc_mem, after_exec_the_file_reads_nothing)
{
	static char buf[] = "before exec";
	int in[2], sync[2];
	ASSERT_EQ(pipe(in), 0);
	ASSERT_EQ(pipe2(sync, O_CLOEXEC), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char c;
		close(in[1]);
		close(sync[0]);
		/* Wait for the parent's open. */
		if (read(in[0], &c, 1) != 1)
			_exit(3);
		dup2(in[0], 0);
		char *argv[] = {(char *)test_self_exe(), "--helper", "wait_stdin", NULL};
		execv(argv[0], argv);
		_exit(4);
	}
	close(in[0]);
	close(sync[1]);
	int fd = open_mem(pid, O_RDWR);
	ASSERT_GE(fd, 0);
	char b[sizeof(buf)];
	EXPECT_EQ(pread(fd, b, sizeof(b), (off_t)(uintptr_t)buf), (ssize_t)sizeof(buf));
	ASSERT_EQ(write(in[1], "x", 1), 1);
	/* The close-on-exec end closes once the exec is done. */
	char c;
	EXPECT_EQ(read(sync[0], &c, 1), 0);
	EXPECT_EQ(pread(fd, b, sizeof(b), (off_t)(uintptr_t)buf), 0);
	EXPECT_EQ(pwrite(fd, b, sizeof(b), (off_t)(uintptr_t)buf), 0);
	close(fd);
	close(in[1]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

static long tracer_pid_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long v = -2;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

TEST(proc_status, TracerPid_is_the_tracer_or_0)
{
	int w = -1;
	pid_t pid = sleeper(&w);
	ASSERT_GT(pid, 0);
	EXPECT_EQ(tracer_pid_of(pid), 0);
	EXPECT_EQ(tracer_pid_of(getpid()), 0);
	ASSERT_EQ(ptrace(PTRACE_SEIZE, pid, 0, 0), 0);
	EXPECT_EQ(tracer_pid_of(pid), getpid());
	ASSERT_EQ(ptrace(PTRACE_DETACH, pid, 0, 0), -1); /* not stopped: ESRCH */
	EXPECT_EQ(errno, ESRCH);
	close(w);
	int st;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_TRUE(WIFEXITED(st));
}
