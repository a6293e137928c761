/* execve(2) of set-user-ID and set-group-ID programs, and what execve does
 * to capabilities. Each case mounts a fresh tmpfs (in a private mount
 * namespace, so it needs root) and copies this binary there, owned and
 * moded as the case needs. */
#include "test.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mount.h>
#include <sys/prctl.h>

/* What a helper saw after exec. */
struct seen {
	uid_t r, e, s;
	gid_t rg, eg, sg;
	uint64_t prm, eff;
	unsigned long secure;
};

TEST_HELPER(report_ids)
{
	if (argc != 2)
		return 9;
	struct seen s;
	getresuid(&s.r, &s.e, &s.s);
	getresgid(&s.rg, &s.eg, &s.sg);
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) != 0)
		return 8;
	s.prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	s.eff = d[0].effective | (uint64_t)d[1].effective << 32;
	s.secure = getauxval(AT_SECURE);
	return write(atoi(argv[1]), &s, sizeof(s)) == sizeof(s) ? 0 : 7;
}

/* Copies this binary into a fresh tmpfs (mounted with flags) as
 * "prog", owned by uid:gid with mode; returns its path, or NULL if the
 * case may not mount (not root). */
static const char *install(unsigned long flags, uid_t uid, gid_t gid, mode_t mode)
{
	if (geteuid() != 0)
		return NULL;
	ASSERT_SYSCALL_OK(unshare(CLONE_NEWNS));
	ASSERT_SYSCALL_OK(mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL));
	const char *dir = test_tmpdir();
	ASSERT_SYSCALL_OK(mount("none", dir, "tmpfs", flags, "mode=0755"));
	static char path[512];
	snprintf(path, sizeof(path), "%s/prog", dir);
	int in = ASSERT_SYSCALL_OK(open(test_self_exe(), O_RDONLY));
	int out = ASSERT_SYSCALL_OK(open(path, O_CREAT | O_WRONLY | O_TRUNC, 0700));
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(write(out, buf, n), n);
	close(in);
	close(out);
	ASSERT_SYSCALL_OK(chown(path, uid, gid));
	ASSERT_SYSCALL_OK(chmod(path, mode)); /* after chown, which clears set-ID */
	return path;
}

/* Runs prog's report_ids helper in a child that first becomes
 * uid:gid (unless uid is -1) and runs before(); returns what it saw. */
static struct seen run_as(const char *prog, uid_t uid, gid_t gid, void (*before)(void))
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		if (before)
			before();
		if (uid != (uid_t)-1) {
			ASSERT_SYSCALL_OK(setresgid(gid, gid, gid));
			ASSERT_SYSCALL_OK(setresuid(uid, uid, uid));
		}
		char fd[16];
		snprintf(fd, sizeof(fd), "%d", p[1]);
		char *argv[] = {(char *)prog, "--helper", "report_ids", fd, NULL};
		char *envp[] = {NULL};
		execve(prog, argv, envp);
		_exit(99);
	}
	close(p[1]);
	struct seen s;
	memset(&s, 0xff, sizeof(s));
	EXPECT_EQ(read(p[0], &s, sizeof(s)), (ssize_t)sizeof(s));
	close(p[0]);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	return s;
}

TEST(setid_exec, set_user_ID_program_runs_with_the_owners_effective_and_saved_UID)
{
	const char *prog = install(0, 1234, 4321, 04755);
	if (!prog)
		return;
	struct seen s = run_as(prog, 5678, 8765, NULL);
	EXPECT_EQ(s.r, 5678);
	EXPECT_EQ(s.e, 1234);
	EXPECT_EQ(s.s, 1234);
	/* Not set-group-ID: the groups stay. */
	EXPECT_EQ(s.rg, 8765);
	EXPECT_EQ(s.eg, 8765);
	EXPECT_EQ(s.secure, 1);
	EXPECT_EQ(s.prm, 0);
	EXPECT_EQ(s.eff, 0);
}

TEST(setid_exec, set_group_ID_program_runs_with_the_owners_group)
{
	const char *prog = install(0, 1234, 4321, 02755);
	if (!prog)
		return;
	struct seen s = run_as(prog, 5678, 8765, NULL);
	EXPECT_EQ(s.r, 5678);
	EXPECT_EQ(s.e, 5678);
	EXPECT_EQ(s.rg, 8765);
	EXPECT_EQ(s.eg, 4321);
	EXPECT_EQ(s.sg, 4321);
	EXPECT_EQ(s.secure, 1);
}

TEST(setid_exec, set_group_ID_without_group_execute_is_not_applied)
{
	/* S_ISGID without S_IXGRP marks mandatory locking, not set-GID. */
	const char *prog = install(0, 1234, 4321, 02705);
	if (!prog)
		return;
	ASSERT_SYSCALL_OK(chmod(prog, 02705));
	struct seen s = run_as(prog, -1, 0, NULL); /* as root: may exec 0705 */
	EXPECT_EQ(s.eg, 0);
	EXPECT_EQ(s.secure, 0);
}

TEST(setid_exec, nosuid_mount_ignores_set_ID_bits)
{
	const char *prog = install(MS_NOSUID, 1234, 4321, 06755);
	if (!prog)
		return;
	struct seen s = run_as(prog, 5678, 8765, NULL);
	EXPECT_EQ(s.e, 5678);
	EXPECT_EQ(s.s, 5678);
	EXPECT_EQ(s.eg, 8765);
	EXPECT_EQ(s.secure, 0);
}

static void set_no_new_privs(void)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}

TEST(setid_exec, no_new_privs_ignores_set_ID_bits)
{
	const char *prog = install(0, 1234, 4321, 06755);
	if (!prog)
		return;
	struct seen s = run_as(prog, 5678, 8765, set_no_new_privs);
	EXPECT_EQ(s.e, 5678);
	EXPECT_EQ(s.eg, 8765);
	EXPECT_EQ(s.secure, 0);
}

TEST(setid_exec, set_user_ID_root_program_gets_every_capability)
{
	const char *prog = install(0, 0, 0, 04755);
	if (!prog)
		return;
	struct seen s = run_as(prog, 5678, 8765, NULL);
	EXPECT_EQ(s.r, 5678);
	EXPECT_EQ(s.e, 0);
	EXPECT_NE(s.prm, 0);
	EXPECT_EQ(s.eff, s.prm);
	EXPECT_EQ(s.secure, 1);
}

static void keep_caps(void)
{
	ASSERT_SYSCALL_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
}

TEST(setid_exec, capabilities_kept_across_setuid_are_lost_at_exec_by_non_root)
{
	const char *prog = install(0, 0, 0, 0755);
	if (!prog)
		return;
	struct seen s = run_as(prog, 5678, 8765, keep_caps);
	EXPECT_EQ(s.e, 5678);
	EXPECT_EQ(s.prm, 0);
	EXPECT_EQ(s.eff, 0);
	EXPECT_EQ(s.secure, 0);
}

TEST(setid_exec, root_keeps_its_capabilities_across_exec)
{
	const char *prog = install(0, 0, 0, 0755);
	if (!prog)
		return;
	struct seen s = run_as(prog, -1, 0, NULL);
	EXPECT_EQ(s.e, 0);
	EXPECT_NE(s.prm, 0);
	EXPECT_EQ(s.eff, s.prm);
	EXPECT_EQ(s.secure, 0);
}
