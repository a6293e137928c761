/* mlock(2) family: what is locked, counted once against RLIMIT_MEMLOCK,
 * shown as VmLck, and not inherited. */
#include "test.h"

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>

static long page;

static void drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	ASSERT_SYSCALL_OK(syscall(SYS_capget, &h, d));
	d[0].effective &= ~(1u << CAP_IPC_LOCK);
	ASSERT_SYSCALL_OK(syscall(SYS_capset, &h, d));
}

static void set_limit(rlim_t bytes)
{
	struct rlimit rl;
	ASSERT_SYSCALL_OK(getrlimit(RLIMIT_MEMLOCK, &rl));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < bytes)
		TEST_SKIP("RLIMIT_MEMLOCK's hard limit is too low");
	rl.rlim_cur = bytes;
	ASSERT_SYSCALL_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
}

/* VmLck from /proc/self/status, in kB. */
static long vmlck(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	ASSERT_TRUE(f != NULL);
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static char *map(int pages)
{
	page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	return p;
}

TEST(mlock, locked_pages_show_in_VmLck_and_leave_it_when_unlocked)
{
	char *p = map(4);
	long base = vmlck();
	ASSERT_GE(base, 0);
	ASSERT_SYSCALL_OK(mlock(p, 2 * page));
	EXPECT_EQ(vmlck(), base + 2 * page / 1024);
	/* Locking again counts once. */
	ASSERT_SYSCALL_OK(mlock(p, 3 * page));
	EXPECT_EQ(vmlck(), base + 3 * page / 1024);
	ASSERT_SYSCALL_OK(munlock(p + page, page));
	EXPECT_EQ(vmlck(), base + 2 * page / 1024);
	ASSERT_SYSCALL_OK(munmap(p, 4 * page));
	EXPECT_EQ(vmlck(), base);
}

TEST(mlock, the_limit_counts_all_locked_pages_once)
{
	drop_ipc_lock();
	char *p = map(4);
	set_limit(2 * page);
	EXPECT_SYSCALL_OK(mlock(p, 2 * page));
	EXPECT_ERRNO(mlock(p + 2 * page, page), ENOMEM);
	/* Already locked pages do not count again. */
	EXPECT_SYSCALL_OK(mlock(p, 2 * page));
	EXPECT_SYSCALL_OK(mlock(p + page, page));
	EXPECT_SYSCALL_OK(munlock(p, page));
	EXPECT_SYSCALL_OK(mlock(p + 2 * page, page));
	EXPECT_ERRNO(mlock(p + 3 * page, page), ENOMEM);
	munmap(p, 4 * page);
}

TEST(mlock, locks_are_not_inherited_by_fork)
{
	char *p = map(2);
	long base = vmlck();
	ASSERT_SYSCALL_OK(mlock(p, 2 * page));
	ASSERT_EQ(vmlck(), base + 2 * page / 1024);
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0)
		_exit(vmlck() == base ? 0 : 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(munlock, checks_the_range)
{
	char *p = map(2);
	ASSERT_SYSCALL_OK(munmap(p + page, page));
	EXPECT_ERRNO(munlock(p, 2 * page), ENOMEM);
	EXPECT_SYSCALL_OK(munlock(p, page));
	EXPECT_ERRNO(syscall(SYS_munlock, p, -(long)page * 2), EINVAL);
	/* munlock needs no privilege and no limit. */
	drop_ipc_lock();
	set_limit(0);
	EXPECT_SYSCALL_OK(munlock(p, page));
}

TEST(mlockall, MCL_FUTURE_locks_new_mappings_until_munlockall)
{
	page = sysconf(_SC_PAGESIZE);
	set_limit(64 * page);
	long base = vmlck();
	ASSERT_SYSCALL_OK(mlockall(MCL_FUTURE));
	char *p = map(2);
	EXPECT_EQ(vmlck(), base + 2 * page / 1024);
	ASSERT_SYSCALL_OK(munlockall());
	EXPECT_EQ(vmlck(), 0);
	char *q = map(1);
	EXPECT_EQ(vmlck(), 0);
	munmap(p, 2 * page);
	munmap(q, page);
}

TEST(munlockall, unlocks_everything)
{
	char *p = map(3);
	ASSERT_SYSCALL_OK(mlock(p, page));
	ASSERT_SYSCALL_OK(mlock(p + 2 * page, page));
	EXPECT_GT(vmlck(), 0);
	EXPECT_SYSCALL_OK(munlockall());
	EXPECT_EQ(vmlck(), 0);
}

TEST(mmap, MAP_LOCKED_locks_the_mapping)
{
	page = sysconf(_SC_PAGESIZE);
	set_limit(64 * page);
	long base = vmlck();
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	EXPECT_EQ(vmlck(), base + 2 * page / 1024);
	munmap(p, 2 * page);
	EXPECT_EQ(vmlck(), base);
}

TEST(mmap, MAP_LOCKED_past_the_limit_fails_with_EAGAIN)
{
	drop_ipc_lock();
	page = sysconf(_SC_PAGESIZE);
	set_limit(2 * page);
	void *p = mmap(NULL, 3 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(errno, EAGAIN);
	set_limit(0);
	p = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
}

TEST(mlockall, MCL_FUTURE_mappings_past_the_limit_fail_with_EAGAIN)
{
	drop_ipc_lock();
	page = sysconf(_SC_PAGESIZE);
	set_limit(2 * page);
	ASSERT_SYSCALL_OK(mlockall(MCL_FUTURE));
	void *p = mmap(NULL, 4 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_TRUE(p == MAP_FAILED);
	EXPECT_EQ(errno, EAGAIN);
	munlockall();
}
