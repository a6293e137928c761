/* prctl(2): process attributes. */
#include "test.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/capability.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif

TEST(prctl, PR_SET_PDEATHSIG_then_PR_GET_PDEATHSIG_reads_it_back)
{
	int sig = -1;
	ASSERT_SYSCALL_OK(prctl(PR_SET_PDEATHSIG, SIGUSR1));
	ASSERT_SYSCALL_OK(prctl(PR_GET_PDEATHSIG, &sig));
	EXPECT_EQ(sig, SIGUSR1);
	ASSERT_SYSCALL_OK(prctl(PR_SET_PDEATHSIG, 0));
	ASSERT_SYSCALL_OK(prctl(PR_GET_PDEATHSIG, &sig));
	EXPECT_EQ(sig, 0);
}

TEST(prctl, PR_SET_PDEATHSIG_with_invalid_signal_fails_with_EINVAL)
{
	EXPECT_ERRNO(prctl(PR_SET_PDEATHSIG, 65), EINVAL);
}

TEST(prctl, PR_GET_PDEATHSIG_with_bad_pointer_fails_with_EFAULT)
{
	EXPECT_ERRNO(prctl(PR_GET_PDEATHSIG, (void *)8), EFAULT);
}

TEST(prctl, parent_death_signal_is_not_inherited_by_fork)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_PDEATHSIG, SIGUSR2));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		int sig = -1;
		ASSERT_SYSCALL_OK(prctl(PR_GET_PDEATHSIG, &sig));
		ASSERT_EQ(sig, 0);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(prctl, parent_death_signal_is_sent_when_the_parent_exits)
{
	/* Case -> middle -> grandchild: the grandchild asks for SIGUSR1 when
	 * middle dies and reports it through a pipe. */
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t middle = ASSERT_SYSCALL_OK(fork());
	if (middle == 0) {
		int ready[2];
		ASSERT_SYSCALL_OK(pipe(ready));
		pid_t gc = ASSERT_SYSCALL_OK(fork());
		if (gc == 0) {
			sigset_t set;
			sigemptyset(&set);
			sigaddset(&set, SIGUSR1);
			sigprocmask(SIG_BLOCK, &set, NULL);
			ASSERT_SYSCALL_OK(prctl(PR_SET_PDEATHSIG, SIGUSR1));
			ASSERT_EQ(write(ready[1], "r", 1), 1);
			int sig = 0;
			ASSERT_EQ(sigwait(&set, &sig), 0);
			char c = (char)sig;
			ASSERT_EQ(write(p[1], &c, 1), 1);
			_exit(0);
		}
		char c;
		ASSERT_EQ(read(ready[0], &c, 1), 1);
		_exit(0); /* gc gets its signal now */
	}
	EXPECT_EXIT_STATUS(test_wait_exit(middle), 0);
	close(p[1]);
	char c = 0;
	EXPECT_EQ(read(p[0], &c, 1), 1);
	EXPECT_EQ(c, SIGUSR1);
}

TEST(prctl, PR_SET_DUMPABLE_then_PR_GET_DUMPABLE_reads_it_back)
{
	EXPECT_EQ(prctl(PR_GET_DUMPABLE), 1);
	ASSERT_SYSCALL_OK(prctl(PR_SET_DUMPABLE, 0));
	EXPECT_EQ(prctl(PR_GET_DUMPABLE), 0);
	ASSERT_SYSCALL_OK(prctl(PR_SET_DUMPABLE, 1));
	EXPECT_EQ(prctl(PR_GET_DUMPABLE), 1);
}

TEST(prctl, PR_SET_DUMPABLE_2_fails_with_EINVAL)
{
	EXPECT_ERRNO(prctl(PR_SET_DUMPABLE, 2), EINVAL);
}

TEST(prctl, PR_SET_KEEPCAPS_then_PR_GET_KEEPCAPS_reads_it_back)
{
	EXPECT_EQ(prctl(PR_GET_KEEPCAPS), 0);
	ASSERT_SYSCALL_OK(prctl(PR_SET_KEEPCAPS, 1));
	EXPECT_EQ(prctl(PR_GET_KEEPCAPS), 1);
	EXPECT_ERRNO(prctl(PR_SET_KEEPCAPS, 2), EINVAL);
}

/* capget's permitted set, low 32 bits. */
static unsigned permitted_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return 0xdeadbeef;
	return d[0].permitted;
}

TEST(prctl, PR_SET_KEEPCAPS_keeps_permitted_capabilities_across_setuid)
{
	if (geteuid() != 0) {
		EXPECT_TRUE(1); /* needs root to change UIDs */
		return;
	}
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(prctl(PR_SET_KEEPCAPS, 1));
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		ASSERT_TRUE(permitted_caps() & (1u << CAP_SETUID));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		ASSERT_EQ(permitted_caps(), 0);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(prctl, PR_SET_NO_NEW_PRIVS_is_sticky_and_inherited)
{
	EXPECT_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
	ASSERT_SYSCALL_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	EXPECT_EQ(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 1);
}

TEST(prctl, PR_SET_NO_NEW_PRIVS_with_value_other_than_1_fails_with_EINVAL)
{
	EXPECT_ERRNO(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL);
	EXPECT_ERRNO(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), EINVAL);
}

TEST(prctl, PR_CAPBSET_READ_reports_bounding_set_membership)
{
	int v = prctl(PR_CAPBSET_READ, CAP_CHOWN);
	EXPECT_TRUE(v == 0 || v == 1);
	EXPECT_ERRNO(prctl(PR_CAPBSET_READ, 1000), EINVAL);
}

TEST(prctl, PR_CAPBSET_DROP_removes_a_capability_from_the_bounding_set)
{
	if (prctl(PR_CAPBSET_READ, CAP_SYS_BOOT) != 1 || geteuid() != 0) {
		EXPECT_ERRNO(prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT), EPERM);
		return;
	}
	ASSERT_SYSCALL_OK(prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT));
	EXPECT_EQ(prctl(PR_CAPBSET_READ, CAP_SYS_BOOT), 0);
	EXPECT_ERRNO(prctl(PR_CAPBSET_DROP, 1000), EINVAL);
}

TEST(prctl, PR_CAPBSET_DROP_without_CAP_SETPCAP_fails_with_EPERM)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		if (geteuid() == 0)
			ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		ASSERT_ERRNO(prctl(PR_CAPBSET_DROP, CAP_CHOWN), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(prctl, PR_GET_TID_ADDRESS_returns_set_tid_address_address)
{
	static int word;
	void *addr = NULL;
	syscall(SYS_set_tid_address, &word);
	ASSERT_SYSCALL_OK(prctl(PR_GET_TID_ADDRESS, &addr));
	EXPECT_EQ(addr, (void *)&word);
	EXPECT_ERRNO(prctl(PR_GET_TID_ADDRESS, (void *)8), EFAULT);
}

TEST(prctl, PR_SET_TIMERSLACK_then_PR_GET_TIMERSLACK_reads_it_back)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_TIMERSLACK, 123456));
	EXPECT_EQ(prctl(PR_GET_TIMERSLACK), 123456);
	ASSERT_SYSCALL_OK(prctl(PR_SET_TIMERSLACK, 0));
	EXPECT_EQ(prctl(PR_GET_TIMERSLACK), 50000);
}

TEST(prctl, PR_GET_SECCOMP_returns_0_without_a_filter)
{
	EXPECT_EQ(prctl(PR_GET_SECCOMP), 0);
}

TEST(prctl, PR_SET_MM_without_CAP_SYS_RESOURCE_fails_with_EPERM)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		if (geteuid() == 0)
			ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		ASSERT_ERRNO(prctl(PR_SET_MM, PR_SET_MM_START_CODE, 0x10000, 0, 0), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(prctl, unknown_option_fails_with_EINVAL)
{
	EXPECT_ERRNO(prctl(0x7fff1234, 0, 0, 0, 0), EINVAL);
}

TEST(prctl, PR_SET_NAME_then_PR_GET_NAME_truncates_to_15_bytes)
{
	char name[32] = {0};
	ASSERT_SYSCALL_OK(prctl(PR_SET_NAME, "abcdefghijklmnopqrstuvwxyz"));
	ASSERT_SYSCALL_OK(prctl(PR_GET_NAME, name));
	EXPECT_STREQ(name, "abcdefghijklmno");
}

TEST(rlimit_nproc, fork_fails_with_EAGAIN_at_the_limit_for_unprivileged_users)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		if (geteuid() == 0)
			ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
		struct rlimit rl = {0, 0};
		ASSERT_SYSCALL_OK(setrlimit(RLIMIT_NPROC, &rl));
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		ASSERT_EQ(c, -1);
		ASSERT_EQ(errno, EAGAIN);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(rlimit_nproc, root_is_exempt_from_the_limit)
{
	if (geteuid() != 0) {
		EXPECT_TRUE(1); /* needs root */
		return;
	}
	struct rlimit rl = {0, 0};
	ASSERT_SYSCALL_OK(setrlimit(RLIMIT_NPROC, &rl));
	pid_t c = ASSERT_SYSCALL_OK(fork());
	if (c == 0)
		_exit(0);
	EXPECT_EXIT_STATUS(test_wait_exit(c), 0);
}
