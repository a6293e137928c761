/* syslog(2) (the kernel log, not syslog(3)) and vhangup(2). */
#include "test.h"

#include <linux/capability.h>

#define SYSLOG_ACTION_READ_ALL 3
#define SYSLOG_ACTION_CONSOLE_LEVEL 8
#define SYSLOG_ACTION_SIZE_UNREAD 9
#define SYSLOG_ACTION_SIZE_BUFFER 10

static long klog(int type, void *buf, int len) { return syscall(SYS_syslog, type, buf, len); }

static int has_cap(int cap)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	ASSERT_SYSCALL_OK(syscall(SYS_capget, &h, d));
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* Clears caps from the effective set of the calling thread. */
static void drop_effective(int cap1, int cap2)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	ASSERT_SYSCALL_OK(syscall(SYS_capget, &h, d));
	d[cap1 / 32].effective &= ~(1u << (cap1 % 32));
	d[cap2 / 32].effective &= ~(1u << (cap2 % 32));
	ASSERT_SYSCALL_OK(syscall(SYS_capset, &h, d));
}

/* dmesg_restrict: 1 if the file says so or cannot be read. */
static int dmesg_restricted(void)
{
	int fd = open("/proc/sys/kernel/dmesg_restrict", O_RDONLY);
	if (fd < 0)
		return 1;
	char c = '1';
	if (read(fd, &c, 1) != 1)
		c = '1';
	close(fd);
	return c != '0';
}

static int may_read_log(void) { return has_cap(CAP_SYSLOG) || has_cap(CAP_SYS_ADMIN); }

TEST(syslog, without_CAP_SYSLOG_restricted_actions_fail_with_EPERM)
{
	drop_effective(CAP_SYSLOG, CAP_SYS_ADMIN);
	EXPECT_ERRNO(klog(SYSLOG_ACTION_CONSOLE_LEVEL, NULL, 4), EPERM);
	EXPECT_ERRNO(klog(SYSLOG_ACTION_SIZE_UNREAD, NULL, 0), EPERM);
	/* Even an unknown action: the permission check comes first. */
	EXPECT_ERRNO(klog(99, NULL, 0), EPERM);
}

TEST(syslog, without_CAP_SYSLOG_reading_follows_dmesg_restrict)
{
	drop_effective(CAP_SYSLOG, CAP_SYS_ADMIN);
	char buf[16];
	if (dmesg_restricted()) {
		EXPECT_ERRNO(klog(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0), EPERM);
		EXPECT_ERRNO(klog(SYSLOG_ACTION_READ_ALL, buf, sizeof(buf)), EPERM);
	} else {
		EXPECT_GT(klog(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0), 0);
		EXPECT_GE(klog(SYSLOG_ACTION_READ_ALL, buf, sizeof(buf)), 0);
	}
}

TEST(syslog, the_buffer_size_is_positive)
{
	if (!may_read_log())
		TEST_SKIP("needs CAP_SYSLOG");
	EXPECT_GT(klog(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0), 0);
	EXPECT_GE(klog(SYSLOG_ACTION_SIZE_UNREAD, NULL, 0), 0);
}

TEST(syslog, read_all_checks_its_buffer)
{
	if (!may_read_log())
		TEST_SKIP("needs CAP_SYSLOG");
	char buf[64];
	EXPECT_EQ(klog(SYSLOG_ACTION_READ_ALL, buf, 0), 0);
	EXPECT_ERRNO(klog(SYSLOG_ACTION_READ_ALL, NULL, 16), EINVAL);
	EXPECT_ERRNO(klog(SYSLOG_ACTION_READ_ALL, buf, -1), EINVAL);
	EXPECT_ERRNO(klog(SYSLOG_ACTION_READ_ALL, (void *)0xffffffffff600000UL, 16), EFAULT);
	long n = klog(SYSLOG_ACTION_READ_ALL, buf, sizeof(buf));
	EXPECT_GE(n, 0);
	EXPECT_LE(n, (long)sizeof(buf));
}

TEST(syslog, bad_console_levels_and_unknown_actions_fail_with_EINVAL)
{
	if (!may_read_log())
		TEST_SKIP("needs CAP_SYSLOG");
	EXPECT_ERRNO(klog(SYSLOG_ACTION_CONSOLE_LEVEL, NULL, 0), EINVAL);
	EXPECT_ERRNO(klog(SYSLOG_ACTION_CONSOLE_LEVEL, NULL, 9), EINVAL);
	EXPECT_ERRNO(klog(99, NULL, 0), EINVAL);
	EXPECT_ERRNO(klog(-1, NULL, 0), EINVAL);
}

TEST(vhangup, without_CAP_SYS_TTY_CONFIG_fails_with_EPERM)
{
	drop_effective(CAP_SYS_TTY_CONFIG, CAP_SYS_TTY_CONFIG);
	EXPECT_ERRNO(syscall(SYS_vhangup), EPERM);
}
