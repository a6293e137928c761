/* personality(2): the execution domain and its flags. */
#include "test.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/personality.h>

#define QUERY 0xffffffffUL

static long pers(unsigned long p) { return syscall(SYS_personality, p); }

TEST(personality, query_returns_PER_LINUX_by_default_and_changes_nothing)
{
	long p = pers(QUERY);
	EXPECT_EQ(p & PER_MASK, PER_LINUX);
	EXPECT_EQ(pers(QUERY), p);
}

TEST(personality, set_returns_the_old_value_and_the_next_query_the_new)
{
	long old = pers(QUERY);
	EXPECT_EQ(pers(PER_LINUX | ADDR_NO_RANDOMIZE), old);
	EXPECT_EQ(pers(QUERY), PER_LINUX | ADDR_NO_RANDOMIZE);
	EXPECT_EQ(pers(PER_LINUX | READ_IMPLIES_EXEC), PER_LINUX | ADDR_NO_RANDOMIZE);
	EXPECT_EQ(pers(QUERY), PER_LINUX | READ_IMPLIES_EXEC);
	EXPECT_EQ(pers(PER_LINUX), PER_LINUX | READ_IMPLIES_EXEC);
	EXPECT_EQ(pers(QUERY), PER_LINUX);
}

TEST(personality, unknown_personas_are_kept_as_given)
{
	EXPECT_EQ(pers(0x7e), PER_LINUX);
	EXPECT_EQ(pers(QUERY), 0x7e);
	/* A value with the top bit set is not an error: the old value is
	 * an unsigned int returned as a positive long. */
	EXPECT_EQ(pers(0xfffffffeUL), 0x7e);
	EXPECT_EQ(pers(QUERY), 0xfffffffeL);
	pers(PER_LINUX);
}

TEST(personality, only_the_low_32_bits_of_the_argument_count)
{
	/* The argument is an unsigned int: 0x1_ffffffff is a query. */
	EXPECT_EQ(pers(PER_LINUX | ADDR_NO_RANDOMIZE), PER_LINUX);
	EXPECT_EQ(pers(0x1ffffffffUL), PER_LINUX | ADDR_NO_RANDOMIZE);
	EXPECT_EQ(pers(QUERY), PER_LINUX | ADDR_NO_RANDOMIZE);
	EXPECT_EQ(pers(0x100000000UL | ADDR_COMPAT_LAYOUT), PER_LINUX | ADDR_NO_RANDOMIZE);
	EXPECT_EQ(pers(QUERY), ADDR_COMPAT_LAYOUT);
}

TEST(personality, is_inherited_by_fork)
{
	pers(PER_LINUX | ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC);
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(pers(QUERY) == (PER_LINUX | ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC) ? 0 : 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

static void *thread_query(void *arg)
{
	(void)arg;
	return (void *)pers(QUERY);
}

TEST(personality, is_inherited_by_a_new_thread)
{
	pers(PER_LINUX | ADDR_NO_RANDOMIZE);
	pthread_t th;
	void *ret;
	ASSERT_EQ(pthread_create(&th, NULL, thread_query, NULL), 0);
	ASSERT_EQ(pthread_join(th, &ret), 0);
	EXPECT_EQ((long)ret, PER_LINUX | ADDR_NO_RANDOMIZE);
}

static void *thread_set(void *arg)
{
	(void)arg;
	pers(PER_LINUX | ADDR_COMPAT_LAYOUT);
	return NULL;
}

TEST(personality, is_per_thread)
{
	pers(PER_LINUX);
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, thread_set, NULL), 0);
	ASSERT_EQ(pthread_join(th, NULL), 0);
	EXPECT_EQ(pers(QUERY), PER_LINUX);
}

TEST_HELPER(print_personality)
{
	(void)argc;
	(void)argv;
	printf("%lx\n", pers(QUERY));
	return 0;
}

static long personality_after_exec(unsigned long p)
{
	int fds[2];
	ASSERT_SYSCALL_OK(pipe(fds));
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		dup2(fds[1], 1);
		pers(p);
		char *argv[] = {(char *)test_self_exe(), "--helper", "print_personality", NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	char buf[64] = {0};
	ssize_t n = 0, r;
	while ((r = read(fds[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	close(fds[0]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	return strtol(buf, NULL, 16);
}

TEST(personality, execve_keeps_ADDR_NO_RANDOMIZE)
{
	EXPECT_EQ(personality_after_exec(PER_LINUX | ADDR_NO_RANDOMIZE), PER_LINUX | ADDR_NO_RANDOMIZE);
}

TEST(personality, execve_of_a_64_bit_program_clears_READ_IMPLIES_EXEC)
{
	EXPECT_EQ(personality_after_exec(PER_LINUX | ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC),
		  PER_LINUX | ADDR_NO_RANDOMIZE);
}

/* The permissions /proc/self/maps shows for the mapping at p. */
static void maps_perms(void *p, char out[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	ASSERT_TRUE(f != NULL);
	char line[512];
	strcpy(out, "none");
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3 && start <= (unsigned long)p &&
		    (unsigned long)p < end) {
			memcpy(out, perms, 5);
			break;
		}
	}
	fclose(f);
}

TEST(personality, READ_IMPLIES_EXEC_makes_readable_mappings_executable)
{
	char perms[5];
	void *plain = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(plain != MAP_FAILED);
	maps_perms(plain, perms);
	EXPECT_STREQ(perms, "r--p");
	pers(PER_LINUX | READ_IMPLIES_EXEC);
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	maps_perms(p, perms);
	EXPECT_STREQ(perms, "r-xp");
	ASSERT_SYSCALL_OK(mprotect(plain, 4096, PROT_READ | PROT_WRITE));
	maps_perms(plain, perms);
	EXPECT_STREQ(perms, "rwxp");
	/* Not readable: nothing implied. */
	ASSERT_SYSCALL_OK(mprotect(plain, 4096, PROT_NONE));
	maps_perms(plain, perms);
	EXPECT_STREQ(perms, "---p");
	pers(PER_LINUX);
}
