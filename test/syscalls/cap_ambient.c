/* The ambient capability set (capabilities(7), prctl(2) PR_CAP_AMBIENT):
 * a capability may be raised only while it is both permitted and
 * inheritable, leaves the set when either drops it, is cleared when every
 * UID leaves 0, and survives execve to become the permitted and effective
 * capabilities of a program run by a non-root user. */
#include "test.h"

#include <linux/capability.h>
#include <sys/prctl.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_LOWER 3
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

struct caps {
	uint64_t eff, prm, inh;
};

static struct caps get_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	struct caps c = {~0ull, ~0ull, ~0ull};
	if (syscall(SYS_capget, &h, d) != 0)
		return c;
	c.eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c.prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c.inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return c;
}

static int set_caps(struct caps c)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {
		{(uint32_t)c.eff, (uint32_t)c.prm, (uint32_t)c.inh},
		{(uint32_t)(c.eff >> 32), (uint32_t)(c.prm >> 32), (uint32_t)(c.inh >> 32)},
	};
	return syscall(SYS_capset, &h, d);
}

#define BIT(cap) (1ull << (cap))

static int is_set(int cap)
{
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
}

/* Adds cap to the inheritable set (root holds it in its permitted set). */
static void make_inheritable(int cap)
{
	struct caps c = get_caps();
	c.inh |= BIT(cap);
	ASSERT_SYSCALL_OK(set_caps(c));
}

/* Run by exec: exits 0 iff its permitted and effective sets are exactly
 * the ambient CAP_NET_BIND_SERVICE and its UIDs are not 0. */
TEST_HELPER(check_ambient)
{
	(void)argc;
	(void)argv;
	struct caps c = get_caps();
	if (getuid() == 0 || geteuid() == 0)
		return 2;
	if (is_set(CAP_NET_BIND_SERVICE) != 1 || is_set(CAP_CHOWN) != 0)
		return 3;
	if (c.prm != BIT(CAP_NET_BIND_SERVICE))
		return 4;
	if (c.eff != BIT(CAP_NET_BIND_SERVICE))
		return 5;
	return 0;
}

TEST(cap_ambient, starts_empty_and_IS_SET_reports_0)
{
	EXPECT_EQ(is_set(CAP_CHOWN), 0);
	EXPECT_EQ(is_set(CAP_NET_BIND_SERVICE), 0);
}

TEST(cap_ambient, bad_arguments_fail_with_EINVAL)
{
	EXPECT_ERRNO(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 1000, 0, 0), EINVAL);
	EXPECT_ERRNO(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, 1000, 0, 0), EINVAL);
	EXPECT_ERRNO(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 1, 0), EINVAL);
	EXPECT_ERRNO(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 1), EINVAL);
	EXPECT_ERRNO(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0), EINVAL);
	EXPECT_ERRNO(prctl(PR_CAP_AMBIENT, 99, CAP_CHOWN, 0, 0), EINVAL);
	EXPECT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
}

TEST(cap_ambient, RAISE_of_a_capability_not_inheritable_fails_with_EPERM)
{
	struct caps c = get_caps();
	c.inh &= ~BIT(CAP_CHOWN);
	ASSERT_SYSCALL_OK(set_caps(c));
	EXPECT_ERRNO(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0), EPERM);
	EXPECT_EQ(is_set(CAP_CHOWN), 0);
}

TEST(cap_ambient, RAISE_and_LOWER_of_a_permitted_inheritable_capability)
{
	if (!(get_caps().prm & BIT(CAP_CHOWN)))
		TEST_SKIP("needs CAP_CHOWN in the permitted set");
	make_inheritable(CAP_CHOWN);
	ASSERT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
	EXPECT_EQ(is_set(CAP_CHOWN), 1);
	EXPECT_EQ(is_set(CAP_FOWNER), 0);
	ASSERT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_CHOWN, 0, 0));
	EXPECT_EQ(is_set(CAP_CHOWN), 0);
	ASSERT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
	ASSERT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	EXPECT_EQ(is_set(CAP_CHOWN), 0);
}

TEST(cap_ambient, dropping_the_capability_from_inheritable_removes_it)
{
	if (!(get_caps().prm & BIT(CAP_CHOWN)))
		TEST_SKIP("needs CAP_CHOWN in the permitted set");
	make_inheritable(CAP_CHOWN);
	ASSERT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
	struct caps c = get_caps();
	c.inh &= ~BIT(CAP_CHOWN);
	ASSERT_SYSCALL_OK(set_caps(c));
	EXPECT_EQ(is_set(CAP_CHOWN), 0);
}

TEST(cap_ambient, every_UID_leaving_0_clears_it_even_with_KEEPCAPS)
{
	if (geteuid() != 0 || !(get_caps().prm & BIT(CAP_SETUID)))
		TEST_SKIP("needs root to change UIDs");
	make_inheritable(CAP_CHOWN);
	ASSERT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
	ASSERT_SYSCALL_OK(prctl(PR_SET_KEEPCAPS, 1));
	ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
	EXPECT_EQ(is_set(CAP_CHOWN), 0);
	/* KEEPCAPS kept it permitted (and inheritable): it can come back. */
	EXPECT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
	EXPECT_EQ(is_set(CAP_CHOWN), 1);
}

TEST(cap_ambient, survives_execve_as_the_permitted_and_effective_set_of_a_non_root_user)
{
	if (geteuid() != 0 || !(get_caps().prm & BIT(CAP_SETUID)))
		TEST_SKIP("needs root to change UIDs");
	make_inheritable(CAP_NET_BIND_SERVICE);
	ASSERT_SYSCALL_OK(prctl(PR_SET_KEEPCAPS, 1));
	ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
	/* Effective (for the path walk to this binary) within permitted;
	 * inheritable just the one capability. */
	struct caps c = get_caps();
	c.eff = c.prm;
	c.inh = BIT(CAP_NET_BIND_SERVICE);
	ASSERT_SYSCALL_OK(set_caps(c));
	ASSERT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		char *argv[] = {(char *)test_self_exe(), "--helper", "check_ambient", NULL};
		execv(test_self_exe(), argv);
		_exit(127);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
