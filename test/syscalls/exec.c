/* execve(2), execveat(2): argv, envp, auxv, fds and signals across exec. */
#include "test.h"

#include <sys/auxv.h>

extern char **environ;

/* Exits 0 if argv[1..] equals "one", "two words", "" and argc is 4. */
/* The helper's argv[0] is its own name, "check_argv". */
TEST_HELPER(check_argv)
{
	if (argc != 4)
		return 10 + argc;
	if (strcmp(argv[1], "one") || strcmp(argv[2], "two words") || strcmp(argv[3], ""))
		return 2;
	return 0;
}

TEST_HELPER(check_env)
{
	(void)argc;
	(void)argv;
	int n = 0;
	for (char **e = environ; *e; e++)
		n++;
	if (n != 2)
		return 10 + n;
	const char *a = getenv("PALISADE_A"), *b = getenv("PALISADE_B");
	if (!a || !b || strcmp(a, "1") || strcmp(b, "x=y"))
		return 3;
	return 0;
}

/* argv[1]: fd number; argv[2]: "open" or "closed". */
TEST_HELPER(check_fd)
{
	if (argc != 3)
		return 9;
	int open_now = fcntl(atoi(argv[1]), F_GETFD) != -1;
	return open_now == (strcmp(argv[2], "open") == 0) ? 0 : 1;
}

TEST_HELPER(check_auxv)
{
	(void)argc;
	(void)argv;
	if (getauxval(AT_PAGESZ) != 4096)
		return 2;
	if (getauxval(AT_UID) != getuid() || getauxval(AT_EUID) != geteuid())
		return 3;
	if (getauxval(AT_GID) != getgid() || getauxval(AT_EGID) != getegid())
		return 4;
	if (getauxval(AT_RANDOM) == 0)
		return 5;
	const char *fn = (const char *)getauxval(AT_EXECFN);
	if (!fn || strcmp(fn, test_self_exe()) != 0)
		return 6;
	if (getauxval(AT_ENTRY) == 0 || getauxval(AT_PHDR) == 0)
		return 7;
	if (getauxval(AT_SECURE) != 0)
		return 8;
	return 0;
}

TEST_HELPER(check_signals)
{
	(void)argc;
	(void)argv;
	struct sigaction usr1, usr2;
	sigaction(SIGUSR1, NULL, &usr1);
	sigaction(SIGUSR2, NULL, &usr2);
	if (usr1.sa_handler != SIG_DFL)
		return 2;
	if (usr2.sa_handler != SIG_IGN)
		return 3;
	sigset_t mask;
	sigprocmask(SIG_SETMASK, NULL, &mask);
	if (!sigismember(&mask, SIGTERM) || sigismember(&mask, SIGINT))
		return 4;
	return 0;
}

TEST_HELPER(print_pid)
{
	(void)argc;
	(void)argv;
	printf("%d\n", getpid());
	return 0;
}

static int run(char **argv, char **envp)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	return test_wait_exit(pid);
}

TEST(execve, of_bin_true_runs_it_and_exits_zero)
{
	char *argv[] = {"/bin/true", NULL};
	EXPECT_EXIT_STATUS(run(argv, environ), 0);
}

TEST(execve, passes_argv_to_the_new_program)
{
	char *argv[] = {(char *)test_self_exe(), "--helper", "check_argv", "one", "two words", "", NULL};
	EXPECT_EXIT_STATUS(run(argv, environ), 0);
}

TEST(execve, passes_envp_as_the_new_environment)
{
	char *argv[] = {(char *)test_self_exe(), "--helper", "check_env", NULL};
	char *envp[] = {"PALISADE_A=1", "PALISADE_B=x=y", NULL};
	EXPECT_EXIT_STATUS(run(argv, envp), 0);
}

TEST(execve, sets_up_auxiliary_vector)
{
	char *argv[] = {(char *)test_self_exe(), "--helper", "check_auxv", NULL};
	EXPECT_EXIT_STATUS(run(argv, environ), 0);
}

TEST(execve, closes_fds_marked_close_on_exec_and_keeps_the_others)
{
	int keep = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY));
	int drop = ASSERT_SYSCALL_OK(open("/dev/null", O_RDONLY | O_CLOEXEC));
	char kbuf[16], dbuf[16];
	snprintf(kbuf, sizeof(kbuf), "%d", keep);
	snprintf(dbuf, sizeof(dbuf), "%d", drop);
	char *a1[] = {(char *)test_self_exe(), "--helper", "check_fd", kbuf, "open", NULL};
	char *a2[] = {(char *)test_self_exe(), "--helper", "check_fd", dbuf, "closed", NULL};
	EXPECT_EXIT_STATUS(run(a1, environ), 0);
	EXPECT_EXIT_STATUS(run(a2, environ), 0);
}

static void never_called(int sig)
{
	(void)sig;
}

TEST(execve, resets_caught_signals_keeps_ignored_ones_and_the_mask)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = SIG_IGN};
		sigaction(SIGUSR2, &sa, NULL);
		sa.sa_handler = never_called;
		sigaction(SIGUSR1, &sa, NULL);
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGTERM);
		sigprocmask(SIG_SETMASK, &m, NULL);
		char *argv[] = {(char *)test_self_exe(), "--helper", "check_signals", NULL};
		execve(argv[0], argv, environ);
		_exit(127);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(execve, keeps_the_process_id)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		dup2(p[1], 1);
		char *argv[] = {(char *)test_self_exe(), "--helper", "print_pid", NULL};
		execve(argv[0], argv, environ);
		_exit(127);
	}
	close(p[1]);
	char buf[32] = {0};
	ssize_t n, got = 0;
	while ((n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(atoi(buf), pid);
}

TEST(execve, nonexistent_file_fails_with_ENOENT)
{
	char *argv[] = {"/nonexistent", NULL};
	EXPECT_ERRNO(execve(argv[0], argv, environ), ENOENT);
}

TEST(execve, directory_fails_with_EACCES)
{
	char *argv[] = {"/tmp", NULL};
	EXPECT_ERRNO(execve(argv[0], argv, environ), EACCES);
}

TEST(execve, file_without_execute_permission_fails_with_EACCES)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("noexec"), O_CREAT | O_WRONLY, 0644));
	ASSERT_EQ(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	char *argv[] = {(char *)test_path("noexec"), NULL};
	EXPECT_ERRNO(execve(argv[0], argv, environ), EACCES);
}

TEST(execve, executable_in_unrecognized_format_fails_with_ENOEXEC)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("junk"), O_CREAT | O_WRONLY, 0755));
	ASSERT_EQ(write(fd, "\x01\x02junk data that is not ELF\n", 27), 27);
	close(fd);
	char *argv[] = {(char *)test_path("junk"), NULL};
	EXPECT_ERRNO(execve(argv[0], argv, environ), ENOEXEC);
}

TEST(execve, script_starting_with_shebang_runs_its_interpreter_with_arguments)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("script"), O_CREAT | O_WRONLY, 0755));
	const char *s = "#!/bin/sh\nexit $(( $# + 40 ))\n";
	ASSERT_EQ(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
	char *argv[] = {(char *)test_path("script"), "a", "b", NULL};
	EXPECT_EXIT_STATUS(run(argv, environ), 42);
}

TEST(execve, shebang_with_missing_interpreter_fails_with_ENOENT)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("script"), O_CREAT | O_WRONLY, 0755));
	const char *s = "#!/nonexistent/interpreter\n";
	ASSERT_EQ(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
	char *argv[] = {(char *)test_path("script"), NULL};
	EXPECT_ERRNO(execve(argv[0], argv, environ), ENOENT);
}

TEST(execve, bad_path_pointer_fails_with_EFAULT)
{
	char *argv[] = {"x", NULL};
	EXPECT_ERRNO(syscall(SYS_execve, (char *)1, argv, environ), EFAULT);
}

TEST(execveat, AT_EMPTY_PATH_executes_the_file_referred_to_by_fd)
{
	int fd = ASSERT_SYSCALL_OK(open("/bin/sh", O_RDONLY | O_CLOEXEC));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char *argv[] = {"sh", "-c", "exit 23", NULL};
		syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
		_exit(127);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 23);
}

TEST(execve, after_exec_memory_of_old_image_is_gone_and_argv0_is_kept)
{
	int fd = ASSERT_SYSCALL_OK(open(test_path("script"), O_CREAT | O_WRONLY, 0755));
	const char *s = "#!/bin/sh\n[ \"$0\" = \"$1\" ] && exit 3\nexit 4\n";
	ASSERT_EQ(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
	char *argv[] = {(char *)test_path("script"), (char *)test_path("script"), NULL};
	EXPECT_EXIT_STATUS(run(argv, environ), 3);
}
