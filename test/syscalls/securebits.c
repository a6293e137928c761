/* The securebits (capabilities(7), prctl(2) PR_GET_SECUREBITS and
 * PR_SET_SECUREBITS): flags that change how UID 0 and UID changes affect
 * capabilities, each with a lock bit that freezes it. Changing them needs
 * CAP_SETPCAP; SECBIT_KEEP_CAPS is PR_SET_KEEPCAPS's flag; they are kept
 * across fork and execve, except SECBIT_KEEP_CAPS, which execve clears. */
#include "test.h"

#include <linux/capability.h>
#include <sys/prctl.h>

#define NOROOT (1 << 0)
#define NOROOT_LOCKED (1 << 1)
#define NO_SETUID_FIXUP (1 << 2)
#define NO_SETUID_FIXUP_LOCKED (1 << 3)
#define KEEP_CAPS (1 << 4)
#define KEEP_CAPS_LOCKED (1 << 5)
#define NO_CAP_AMBIENT_RAISE (1 << 6)

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

static long get_bits(void)
{
	return prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
}

static long set_bits(unsigned long bits)
{
	return prctl(PR_SET_SECUREBITS, bits, 0, 0, 0);
}

/* Skips the case unless the caller is root with CAP_SETPCAP and
 * CAP_SETUID effective, and starts with no securebits. */
static void need_root(void)
{
	struct caps c = get_caps();
	if (geteuid() != 0 || !(c.eff & BIT(CAP_SETPCAP)) || !(c.eff & BIT(CAP_SETUID)))
		TEST_SKIP("needs root with CAP_SETPCAP");
	if (get_bits() != 0)
		TEST_SKIP("securebits already set by whoever started the test");
}

TEST(securebits, PR_SET_KEEPCAPS_is_the_KEEP_CAPS_bit)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	EXPECT_EQ(get_bits() & KEEP_CAPS, KEEP_CAPS);
	ASSERT_SYSCALL_OK(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0));
	EXPECT_EQ(get_bits() & KEEP_CAPS, 0);
}

TEST(securebits, setting_KEEP_CAPS_is_seen_by_PR_GET_KEEPCAPS)
{
	need_root();
	ASSERT_SYSCALL_OK(set_bits(KEEP_CAPS));
	EXPECT_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 1);
	EXPECT_EQ(get_bits(), KEEP_CAPS);
	ASSERT_SYSCALL_OK(set_bits(0));
	EXPECT_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 0);
	EXPECT_EQ(get_bits(), 0);
}

TEST(securebits, a_change_without_CAP_SETPCAP_is_EPERM)
{
	long before = get_bits();
	struct caps c = get_caps();
	if (c.eff & BIT(CAP_SETPCAP)) {
		c.eff &= ~BIT(CAP_SETPCAP);
		ASSERT_SYSCALL_OK(set_caps(c));
	}
	EXPECT_ERRNO(set_bits(before ^ NO_CAP_AMBIENT_RAISE), EPERM);
	EXPECT_EQ(get_bits(), before);
}

TEST(securebits, unknown_bits_are_EPERM)
{
	long before = get_bits();
	EXPECT_ERRNO(set_bits(before | (1ul << 20)), EPERM);
	EXPECT_ERRNO(set_bits(before | (1ul << 31)), EPERM);
	EXPECT_EQ(get_bits(), before);
}

TEST(securebits, a_locked_flag_cannot_change_and_a_lock_cannot_be_cleared)
{
	need_root();
	ASSERT_SYSCALL_OK(set_bits(NOROOT | NOROOT_LOCKED));
	EXPECT_ERRNO(set_bits(NOROOT_LOCKED), EPERM);
	EXPECT_ERRNO(set_bits(NOROOT), EPERM);
	EXPECT_ERRNO(set_bits(0), EPERM);
	EXPECT_EQ(get_bits(), NOROOT | NOROOT_LOCKED);
	/* The other flags stay free. */
	EXPECT_SYSCALL_OK(set_bits(NOROOT | NOROOT_LOCKED | NO_SETUID_FIXUP));
	EXPECT_EQ(get_bits(), NOROOT | NOROOT_LOCKED | NO_SETUID_FIXUP);
	/* A lock may be set on a clear flag, freezing it clear. */
	EXPECT_SYSCALL_OK(set_bits(NOROOT | NOROOT_LOCKED | NO_SETUID_FIXUP_LOCKED));
	EXPECT_ERRNO(set_bits(NOROOT | NOROOT_LOCKED | NO_SETUID_FIXUP | NO_SETUID_FIXUP_LOCKED), EPERM);
	EXPECT_EQ(get_bits(), NOROOT | NOROOT_LOCKED | NO_SETUID_FIXUP_LOCKED);
}

TEST(securebits, KEEP_CAPS_LOCKED_makes_PR_SET_KEEPCAPS_EPERM)
{
	need_root();
	ASSERT_SYSCALL_OK(set_bits(KEEP_CAPS_LOCKED));
	EXPECT_ERRNO(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), EPERM);
	EXPECT_ERRNO(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), EPERM);
	/* A bad argument is checked first. */
	EXPECT_ERRNO(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL);
	EXPECT_EQ(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 0);
}

TEST(securebits, NO_CAP_AMBIENT_RAISE_makes_raising_an_ambient_capability_EPERM)
{
	need_root();
	struct caps c = get_caps();
	if (!(c.prm & BIT(CAP_CHOWN)))
		TEST_SKIP("needs CAP_CHOWN in the permitted set");
	c.inh |= BIT(CAP_CHOWN);
	ASSERT_SYSCALL_OK(set_caps(c));
	ASSERT_SYSCALL_OK(set_bits(NO_CAP_AMBIENT_RAISE));
	EXPECT_ERRNO(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0), EPERM);
	EXPECT_EQ(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0), 0);
	EXPECT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_CHOWN, 0, 0));
	/* Without the flag the same raise works. */
	ASSERT_SYSCALL_OK(set_bits(0));
	EXPECT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
}

TEST(securebits, NO_SETUID_FIXUP_keeps_capabilities_when_every_UID_leaves_0)
{
	need_root();
	struct caps before = get_caps();
	ASSERT_SYSCALL_OK(set_bits(NO_SETUID_FIXUP));
	ASSERT_SYSCALL_OK(setresuid(65534, 65534, 65534));
	struct caps after = get_caps();
	EXPECT_EQ(after.prm, before.prm);
	EXPECT_EQ(after.eff, before.eff);
}

/* Run by exec: exits with its securebits (all fit in 8 bits). */
TEST_HELPER(report_securebits)
{
	(void)argc;
	(void)argv;
	long b = get_bits();
	return b < 0 ? 255 : (int)b;
}

/* Run by exec as root under SECBIT_NOROOT: exits 0 iff it has no
 * permitted and no effective capabilities. */
TEST_HELPER(check_no_caps)
{
	(void)argc;
	(void)argv;
	struct caps c = get_caps();
	if (geteuid() != 0)
		return 2;
	if (c.prm != 0)
		return 3;
	if (c.eff != 0)
		return 4;
	return 0;
}

static int exec_helper(const char *name)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {(char *)test_self_exe(), "--helper", (char *)name, NULL};
		execv(test_self_exe(), argv);
		_exit(127);
	}
	ASSERT_TRUE(pid > 0);
	return test_wait_exit(pid);
}

TEST(securebits, fork_keeps_them_and_execve_keeps_all_but_KEEP_CAPS)
{
	need_root();
	ASSERT_SYSCALL_OK(set_bits(NO_SETUID_FIXUP | NO_SETUID_FIXUP_LOCKED | KEEP_CAPS));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0)
		_exit(get_bits() == (NO_SETUID_FIXUP | NO_SETUID_FIXUP_LOCKED | KEEP_CAPS) ? 0 : 1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EXIT_STATUS(exec_helper("report_securebits"), NO_SETUID_FIXUP | NO_SETUID_FIXUP_LOCKED);
}

TEST(securebits, NOROOT_gives_root_no_capabilities_at_execve)
{
	need_root();
	ASSERT_SYSCALL_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	ASSERT_SYSCALL_OK(set_bits(NOROOT));
	EXPECT_EXIT_STATUS(exec_helper("check_no_caps"), 0);
}
