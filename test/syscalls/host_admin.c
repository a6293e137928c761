/* Host administration calls (acct, swapon/swapoff, reboot, iopl/ioperm,
 * modules, kexec, quotactl): a caller without the capability, and a
 * container's root (root of a user namespace, which holds no capability
 * in the initial one), get EPERM after the argument checks Linux makes
 * first. Nothing here may act on the host: every call that could is made
 * without capabilities or inside a new user (and PID) namespace. */
#include "test.h"

#include <linux/capability.h>
#include <sched.h>

#define REBOOT_MAGIC1 0xfee1dead
#define REBOOT_MAGIC2 672274793
#define REBOOT_MAGIC2A 85072278
#define REBOOT_MAGIC2B 369367448
#define REBOOT_MAGIC2C 537993216
#define REBOOT_CMD_RESTART 0x01234567
#define REBOOT_CMD_HALT 0xCDEF0123
#define REBOOT_CMD_CAD_ON 0x89ABCDEF
#define REBOOT_CMD_CAD_OFF 0x00000000
#define REBOOT_CMD_POWER_OFF 0x4321FEDC
#define REBOOT_CMD_SW_SUSPEND 0xD000FCE2

#define QCMD_(cmd, type) (((cmd) << 8) | ((type) & 0xff))
#define Q_SYNC_ 0x800001
#define Q_GETINFO_ 0x800005

/* Drops every capability of the calling process. */
static void drop_all_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	ASSERT_SYSCALL_OK(syscall(SYS_capset, &h, d));
}

/* Skips the case natively when the host kernel is built without the call
 * (r is its result): the sandbox always has it. */
static void skip_if_host_lacks(long r)
{
	if (r == -1 && errno == ENOSYS && !test_in_sandbox())
		TEST_SKIP("the host kernel is built without this call");
}

/* Runs fn as a container's root: natively in a child of a new user and
 * PID namespace (full capabilities there, none in the initial user
 * namespace), in the sandbox as its root. Returns fn's child's wait
 * status. */
static int as_container_root(void (*fn)(void))
{
	if (geteuid() != 0)
		TEST_SKIP("needs root (of the host or the sandbox)");
	if (!test_in_sandbox() &&
	    unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0)
		TEST_SKIP("cannot make a user and PID namespace here");
	pid_t pid = fork();
	ASSERT_SYSCALL_OK(pid);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	return test_wait_exit(pid);
}

#define AS_CONTAINER_ROOT(fn) EXPECT_EXIT_STATUS(as_container_root(fn), 0)

/* ---- acct ---- */

TEST(acct, without_CAP_SYS_PACCT_is_EPERM_before_the_name_is_read)
{
	drop_all_caps();
	EXPECT_ERRNO(syscall(SYS_acct, (char *)1), EPERM);
	EXPECT_ERRNO(syscall(SYS_acct, NULL), EPERM);
}

static void acct_container(void)
{
	EXPECT_ERRNO(syscall(SYS_acct, NULL), EPERM);
	EXPECT_ERRNO(syscall(SYS_acct, "/nonexistent"), EPERM);
}

TEST(acct, container_root_is_EPERM)
{
	AS_CONTAINER_ROOT(acct_container);
}

/* ---- swapon, swapoff ---- */

TEST(swapon, unknown_flag_is_EINVAL_before_the_capability_check)
{
	drop_all_caps();
	EXPECT_ERRNO(syscall(SYS_swapon, (char *)1, 0x80000), EINVAL);
	EXPECT_ERRNO(syscall(SYS_swapon, "/nonexistent", 0x80000000), EINVAL);
}

TEST(swapon, without_CAP_SYS_ADMIN_is_EPERM_before_the_path_is_read)
{
	drop_all_caps();
	EXPECT_ERRNO(syscall(SYS_swapon, (char *)1, 0), EPERM);
	/* Every valid flag: priority, prefer and the discard bits. */
	EXPECT_ERRNO(syscall(SYS_swapon, "/nonexistent", 0x7ffff), EPERM);
}

TEST(swapoff, without_CAP_SYS_ADMIN_is_EPERM_before_the_path_is_read)
{
	drop_all_caps();
	EXPECT_ERRNO(syscall(SYS_swapoff, (char *)1), EPERM);
}

static void swap_container(void)
{
	EXPECT_ERRNO(syscall(SYS_swapon, "/nonexistent", 0), EPERM);
	EXPECT_ERRNO(syscall(SYS_swapon, "/", 0x8000), EPERM);
	EXPECT_ERRNO(syscall(SYS_swapoff, "/nonexistent"), EPERM);
	EXPECT_ERRNO(syscall(SYS_swapon, "/", 0x100000), EINVAL);
}

TEST(swapon, container_root_is_EPERM)
{
	AS_CONTAINER_ROOT(swap_container);
}

/* ---- reboot ---- */

TEST(reboot, without_CAP_SYS_BOOT_is_EPERM_before_the_magic_check)
{
	drop_all_caps();
	EXPECT_ERRNO(syscall(SYS_reboot, 0, 0, 0, NULL), EPERM);
	/* Valid magic, unknown command (EINVAL with the capability): never
	 * a command that would act on the host, whatever happens. */
	EXPECT_ERRNO(syscall(SYS_reboot, REBOOT_MAGIC1, REBOOT_MAGIC2,
			     0x12345678, NULL), EPERM);
}

static void reboot_magic(void)
{
	EXPECT_ERRNO(syscall(SYS_reboot, 0, REBOOT_MAGIC2, REBOOT_CMD_CAD_OFF, NULL), EINVAL);
	EXPECT_ERRNO(syscall(SYS_reboot, REBOOT_MAGIC1, 0, REBOOT_CMD_CAD_OFF, NULL), EINVAL);
	EXPECT_ERRNO(syscall(SYS_reboot, REBOOT_MAGIC2, REBOOT_MAGIC1, REBOOT_CMD_RESTART, NULL), EINVAL);
}

TEST(reboot, wrong_magic_is_EINVAL)
{
	AS_CONTAINER_ROOT(reboot_magic);
}

static void reboot_other_cmds(void)
{
	unsigned magic2[] = {REBOOT_MAGIC2, REBOOT_MAGIC2A, REBOOT_MAGIC2B, REBOOT_MAGIC2C};
	for (int i = 0; i < 4; i++) {
		EXPECT_ERRNO(syscall(SYS_reboot, REBOOT_MAGIC1, magic2[i], REBOOT_CMD_CAD_OFF, NULL), EINVAL);
		EXPECT_ERRNO(syscall(SYS_reboot, REBOOT_MAGIC1, magic2[i], REBOOT_CMD_CAD_ON, NULL), EINVAL);
	}
	EXPECT_ERRNO(syscall(SYS_reboot, REBOOT_MAGIC1, REBOOT_MAGIC2, 0x12345678, NULL), EINVAL);
	EXPECT_ERRNO(syscall(SYS_reboot, REBOOT_MAGIC1, REBOOT_MAGIC2, REBOOT_CMD_SW_SUSPEND, NULL), EINVAL);
}

/* In a PID namespace other than the initial one only restart, halt and
 * power-off mean something; Ctrl-Alt-Del on/off and the rest are EINVAL. */
TEST(reboot, commands_other_than_restart_halt_power_off_are_EINVAL)
{
	AS_CONTAINER_ROOT(reboot_other_cmds);
}

/* The namespace's init (the child) forks a process that reboots; the
 * init waits for children and never exits by itself, so only the reboot
 * can end it. */
static unsigned reboot_cmd;

static void reboot_init(void)
{
	pid_t pid = fork();
	if (pid < 0)
		_exit(3);
	if (pid == 0) {
		syscall(SYS_reboot, REBOOT_MAGIC1, REBOOT_MAGIC2, reboot_cmd, NULL);
		_exit(4); /* reboot returned */
	}
	for (;;) {
		int st;
		if (waitpid(-1, &st, 0) == pid)
			_exit(WIFEXITED(st) ? 10 + WEXITSTATUS(st) : 20);
	}
}

static void check_reboot_ends_init(unsigned cmd, int sig)
{
	if (test_in_sandbox())
		TEST_SKIP("would end the sandbox: test/integration checks it");
	reboot_cmd = cmd;
	EXPECT_KILLED_BY(as_container_root(reboot_init), sig);
}

TEST(reboot, RESTART_kills_the_PID_namespace_init_as_if_by_SIGHUP)
{
	check_reboot_ends_init(REBOOT_CMD_RESTART, SIGHUP);
}

TEST(reboot, POWER_OFF_kills_the_PID_namespace_init_as_if_by_SIGINT)
{
	check_reboot_ends_init(REBOOT_CMD_POWER_OFF, SIGINT);
}

TEST(reboot, HALT_kills_the_PID_namespace_init_as_if_by_SIGINT)
{
	check_reboot_ends_init(REBOOT_CMD_HALT, SIGINT);
}

/* ---- iopl, ioperm ---- */

TEST(iopl, level_above_3_is_EINVAL)
{
	long r = syscall(SYS_iopl, 4);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_ERRNO(syscall(SYS_iopl, -1), EINVAL);
}

TEST(iopl, keeping_level_0_succeeds_without_capabilities)
{
	drop_all_caps();
	long r = syscall(SYS_iopl, 0);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, 0);
}

TEST(iopl, raising_the_level_without_CAP_SYS_RAWIO_is_EPERM)
{
	drop_all_caps();
	long r = syscall(SYS_iopl, 3);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EPERM);
	EXPECT_ERRNO(syscall(SYS_iopl, 1), EPERM);
}

static void iopl_container(void)
{
	long r = syscall(SYS_iopl, 3);
	if (r == -1 && errno == ENOSYS && !test_in_sandbox())
		return;
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EPERM);
}

TEST(iopl, container_root_is_EPERM)
{
	AS_CONTAINER_ROOT(iopl_container);
}

TEST(ioperm, range_past_the_last_port_or_empty_is_EINVAL)
{
	drop_all_caps();
	long r = syscall(SYS_ioperm, 0x10000, 1, 1);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_ERRNO(syscall(SYS_ioperm, 0xffff, 2, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_ioperm, 0x80, 0, 1), EINVAL);
	EXPECT_ERRNO(syscall(SYS_ioperm, -1UL, 2, 1), EINVAL);
}

TEST(ioperm, turning_off_succeeds_without_capabilities)
{
	drop_all_caps();
	long r = syscall(SYS_ioperm, 0x80, 1, 0);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, 0);
	EXPECT_EQ(syscall(SYS_ioperm, 0, 0x10000, 0), 0);
}

TEST(ioperm, turning_on_without_CAP_SYS_RAWIO_is_EPERM)
{
	drop_all_caps();
	long r = syscall(SYS_ioperm, 0x80, 1, 1);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EPERM);
}

/* ---- modules, kexec ---- */

TEST(init_module, without_CAP_SYS_MODULE_is_EPERM_before_the_image_is_read)
{
	drop_all_caps();
	long r = syscall(SYS_init_module, (void *)1, 4096, (char *)1);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EPERM);
}

TEST(finit_module, without_CAP_SYS_MODULE_is_EPERM_before_fd_and_flags)
{
	drop_all_caps();
	long r = syscall(SYS_finit_module, -1, (char *)1, -1);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EPERM);
}

TEST(delete_module, without_CAP_SYS_MODULE_is_EPERM_before_the_name_is_read)
{
	drop_all_caps();
	long r = syscall(SYS_delete_module, (char *)1, 0);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EPERM);
}

static void modules_container(void)
{
	int fd = open("/proc/self/exe", O_RDONLY);
	long r = syscall(SYS_finit_module, fd, "", 0);
	if (r == -1 && errno == ENOSYS && !test_in_sandbox())
		return;
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EPERM);
	EXPECT_ERRNO(syscall(SYS_init_module, "x", 1, ""), EPERM);
	EXPECT_ERRNO(syscall(SYS_delete_module, "nonexistent_module", 0), EPERM);
	close(fd);
}

TEST(init_module, container_root_is_EPERM)
{
	AS_CONTAINER_ROOT(modules_container);
}

TEST(kexec_load, without_CAP_SYS_BOOT_is_EPERM_before_flags_and_segments)
{
	drop_all_caps();
	long r = syscall(SYS_kexec_load, 0, 1000, (void *)1, -1UL);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EPERM);
}

TEST(kexec_file_load, without_CAP_SYS_BOOT_is_EPERM_before_fds_and_flags)
{
	drop_all_caps();
	long r = syscall(SYS_kexec_file_load, -1, -1, 0, NULL, -1UL);
	skip_if_host_lacks(r);
	EXPECT_EQ(r, -1);
	EXPECT_EQ(errno, EPERM);
}

static void kexec_container(void)
{
	long r = syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (!(r == -1 && errno == ENOSYS && !test_in_sandbox())) {
		EXPECT_EQ(r, -1);
		EXPECT_EQ(errno, EPERM);
	}
	r = syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 4 /* NO_INITRAMFS */);
	if (!(r == -1 && errno == ENOSYS && !test_in_sandbox())) {
		EXPECT_EQ(r, -1);
		EXPECT_EQ(errno, EPERM);
	}
}

TEST(kexec_load, container_root_is_EPERM)
{
	AS_CONTAINER_ROOT(kexec_container);
}

/* ---- quotactl, quotactl_fd ---- */

TEST(quotactl, type_past_PRJQUOTA_is_EINVAL_first)
{
	EXPECT_ERRNO(syscall(SYS_quotactl, QCMD_(Q_GETINFO_, 3), NULL, 0, NULL), EINVAL);
	EXPECT_ERRNO(syscall(SYS_quotactl, QCMD_(Q_SYNC_, 0xff), (char *)1, 0, NULL), EINVAL);
}

TEST(quotactl, Q_SYNC_without_a_device_succeeds)
{
	EXPECT_EQ(syscall(SYS_quotactl, QCMD_(Q_SYNC_, 0), NULL, 0, NULL), 0);
	EXPECT_EQ(syscall(SYS_quotactl, QCMD_(Q_SYNC_, 2), NULL, 0, NULL), 0);
}

TEST(quotactl, other_commands_without_a_device_are_ENODEV)
{
	EXPECT_ERRNO(syscall(SYS_quotactl, QCMD_(Q_GETINFO_, 0), NULL, 0, NULL), ENODEV);
}

TEST(quotactl, device_name_errors)
{
	EXPECT_ERRNO(syscall(SYS_quotactl, QCMD_(Q_GETINFO_, 0), (char *)1, 0, NULL), EFAULT);
	EXPECT_ERRNO(syscall(SYS_quotactl, QCMD_(Q_GETINFO_, 0), "", 0, NULL), ENOENT);
	EXPECT_ERRNO(syscall(SYS_quotactl, QCMD_(Q_GETINFO_, 0), "/nonexistent", 0, NULL), ENOENT);
	EXPECT_ERRNO(syscall(SYS_quotactl, QCMD_(Q_GETINFO_, 0), "/proc/self/exe/x", 0, NULL), ENOTDIR);
}

TEST(quotactl, device_that_is_not_a_block_device_is_ENOTBLK)
{
	EXPECT_ERRNO(syscall(SYS_quotactl, QCMD_(Q_GETINFO_, 0), "/", 0, NULL), ENOTBLK);
	EXPECT_ERRNO(syscall(SYS_quotactl, QCMD_(Q_GETINFO_, 0), "/dev/null", 0, NULL), ENOTBLK);
}

TEST(quotactl_fd, bad_fd_is_EBADF_before_the_type_is_checked)
{
	EXPECT_ERRNO(syscall(SYS_quotactl_fd, -1, QCMD_(Q_GETINFO_, 3), 0, NULL), EBADF);
}

TEST(quotactl_fd, type_past_PRJQUOTA_is_EINVAL)
{
	int fd = open("/proc", O_RDONLY | O_DIRECTORY);
	ASSERT_SYSCALL_OK(fd);
	EXPECT_ERRNO(syscall(SYS_quotactl_fd, fd, QCMD_(Q_GETINFO_, 3), 0, NULL), EINVAL);
	EXPECT_ERRNO(syscall(SYS_quotactl_fd, fd, QCMD_(Q_SYNC_, 0xff), 0, NULL), EINVAL);
	close(fd);
}

TEST(quotactl_fd, bad_fd_is_EBADF)
{
	EXPECT_ERRNO(syscall(SYS_quotactl_fd, -1, QCMD_(Q_GETINFO_, 0), 0, NULL), EBADF);
	EXPECT_ERRNO(syscall(SYS_quotactl_fd, 1000000, QCMD_(Q_SYNC_, 0), 0, NULL), EBADF);
}

TEST(quotactl_fd, filesystem_without_quota_support_is_ENOSYS)
{
	int fd = open("/proc", O_RDONLY | O_DIRECTORY);
	ASSERT_SYSCALL_OK(fd);
	EXPECT_ERRNO(syscall(SYS_quotactl_fd, fd, QCMD_(Q_GETINFO_, 0), 0, NULL), ENOSYS);
	close(fd);
}
