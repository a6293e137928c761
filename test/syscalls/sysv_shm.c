/*
 * System V shared memory: shmget(2), shmat(2), shmdt(2), shmctl(2).
 *
 * Native runs share the host's IPC namespace: every case uses IPC_PRIVATE
 * or a key derived from its PID, and removes what it creates.
 */
#include "test.h"

#include <setjmp.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <grp.h>

#define PAGE 4096

static key_t pid_key(int n)
{
	return (key_t)(0x51000000 | ((getpid() & 0xffff) << 8) | n);
}

/* Runs the rest of the calling process as an unprivileged user, so that
 * permission checks apply (root has CAP_IPC_OWNER). */
static void drop_privileges(void)
{
	if (geteuid() == 0) {
		ASSERT_SYSCALL_OK(setgroups(0, NULL));
		ASSERT_SYSCALL_OK(setgid(65534));
		ASSERT_SYSCALL_OK(setuid(65534));
	}
}

static struct shmid_ds stat_of(int id)
{
	struct shmid_ds ds;
	memset(&ds, 0, sizeof(ds));
	EXPECT_SYSCALL_OK(shmctl(id, IPC_STAT, &ds));
	return ds;
}

static int new_seg(size_t size, int mode)
{
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | mode);
	ASSERT_SYSCALL_OK(id);
	return id;
}

TEST(sysv_shm, IPC_PRIVATE_creates_a_new_segment_each_time)
{
	int a = new_seg(PAGE, 0600), b = new_seg(PAGE, 0600);
	EXPECT_NE(a, b);
	shmctl(a, IPC_RMID, NULL);
	shmctl(b, IPC_RMID, NULL);
}

TEST(sysv_shm, size_zero_is_EINVAL)
{
	EXPECT_ERRNO(shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL);
}

TEST(sysv_shm, size_above_shmmax_is_EINVAL)
{
	EXPECT_ERRNO(shmget(IPC_PRIVATE, SIZE_MAX, IPC_CREAT | 0600), EINVAL);
}

TEST(sysv_shm, missing_key_without_IPC_CREAT_is_ENOENT)
{
	EXPECT_ERRNO(shmget(pid_key(1), PAGE, 0600), ENOENT);
}

TEST(sysv_shm, existing_key_returns_the_same_id)
{
	int id = shmget(pid_key(2), PAGE, IPC_CREAT | 0600);
	ASSERT_SYSCALL_OK(id);
	EXPECT_EQ(shmget(pid_key(2), PAGE, 0600), id);
	EXPECT_EQ(shmget(pid_key(2), 0, 0), id);
	EXPECT_ERRNO(shmget(pid_key(2), PAGE, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	EXPECT_ERRNO(shmget(pid_key(2), 2 * PAGE, 0600), EINVAL);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, IPC_RMID_frees_the_key)
{
	int id = shmget(pid_key(3), PAGE, IPC_CREAT | 0600);
	ASSERT_SYSCALL_OK(id);
	EXPECT_SYSCALL_OK(shmctl(id, IPC_RMID, NULL));
	EXPECT_ERRNO(shmget(pid_key(3), PAGE, 0600), ENOENT);
	EXPECT_ERRNO(shmctl(id, IPC_STAT, &(struct shmid_ds){0}), EINVAL);
}

TEST(sysv_shm, two_attachments_share_zeroed_memory)
{
	int id = new_seg(3 * PAGE, 0600);
	char *a = shmat(id, NULL, 0), *b = shmat(id, NULL, 0);
	ASSERT_NE(a, (char *)-1);
	ASSERT_NE(b, (char *)-1);
	EXPECT_NE(a, b);
	EXPECT_EQ(a[0], 0);
	EXPECT_EQ(a[3 * PAGE - 1], 0);
	a[PAGE + 5] = 42;
	EXPECT_EQ(b[PAGE + 5], 42);
	EXPECT_EQ(stat_of(id).shm_nattch, 2);
	EXPECT_SYSCALL_OK(shmdt(a));
	EXPECT_EQ(stat_of(id).shm_nattch, 1);
	EXPECT_SYSCALL_OK(shmdt(b));
	EXPECT_EQ(stat_of(id).shm_nattch, 0);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, fork_inherits_attachments_and_shares_the_memory)
{
	int id = new_seg(PAGE, 0600);
	volatile char *p = shmat(id, NULL, 0);
	ASSERT_NE(p, (char *)-1);
	pid_t pid = fork();
	if (pid == 0) {
		struct shmid_ds ds;
		ASSERT_SYSCALL_OK(shmctl(id, IPC_STAT, &ds));
		ASSERT_EQ(ds.shm_nattch, 2);
		p[7] = 9;
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(p[7], 9);
	EXPECT_EQ(stat_of(id).shm_nattch, 1);
	shmdt((void *)p);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, exit_detaches)
{
	int id = new_seg(PAGE, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_NE(shmat(id, NULL, 0), (void *)-1);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(stat_of(id).shm_nattch, 0);
	EXPECT_NE(stat_of(id).shm_lpid, 0);
	shmctl(id, IPC_RMID, NULL);
}

TEST_HELPER(shm_exec_check)
{
	(void)argc;
	struct shmid_ds ds;
	if (shmctl(atoi(argv[1]), IPC_STAT, &ds) != 0)
		return 2;
	return ds.shm_nattch == 0 ? 0 : 1;
}

TEST(sysv_shm, execve_detaches)
{
	int id = new_seg(PAGE, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		char arg[16];
		snprintf(arg, sizeof(arg), "%d", id);
		if (shmat(id, NULL, 0) == (void *)-1)
			_exit(3);
		execl(test_self_exe(), test_self_exe(), "--helper", "shm_exec_check", arg, (char *)NULL);
		_exit(4);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, IPC_STAT_reports_size_mode_owner_and_creator)
{
	int id = new_seg(PAGE + 1, 0640);
	struct shmid_ds ds = stat_of(id);
	EXPECT_EQ(ds.shm_segsz, PAGE + 1);
	EXPECT_EQ(ds.shm_perm.mode & 0777, 0640);
	EXPECT_EQ(ds.shm_perm.uid, geteuid());
	EXPECT_EQ(ds.shm_perm.cuid, geteuid());
	EXPECT_EQ(ds.shm_perm.gid, getegid());
	EXPECT_EQ(ds.shm_cpid, getpid());
	EXPECT_EQ(ds.shm_nattch, 0);
	EXPECT_EQ(ds.shm_atime, 0);
	EXPECT_NE(ds.shm_ctime, 0);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, shmat_sets_atime_and_lpid_shmdt_sets_dtime)
{
	int id = new_seg(PAGE, 0600);
	void *p = shmat(id, NULL, 0);
	ASSERT_NE(p, (void *)-1);
	struct shmid_ds ds = stat_of(id);
	EXPECT_NE(ds.shm_atime, 0);
	EXPECT_EQ(ds.shm_lpid, getpid());
	EXPECT_EQ(ds.shm_dtime, 0);
	shmdt(p);
	EXPECT_NE(stat_of(id).shm_dtime, 0);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, the_last_page_of_an_odd_size_is_mapped_whole)
{
	int id = new_seg(PAGE + 10, 0600);
	char *p = shmat(id, NULL, 0);
	ASSERT_NE(p, (char *)-1);
	p[2 * PAGE - 1] = 1; /* same page as byte PAGE+9 */
	EXPECT_EQ(p[2 * PAGE - 1], 1);
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, shmdt_of_an_address_not_attached_is_EINVAL)
{
	char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(m, MAP_FAILED);
	EXPECT_ERRNO(shmdt(m), EINVAL);
	EXPECT_ERRNO(shmdt((void *)0x10000), EINVAL);
	munmap(m, PAGE);
}

TEST(sysv_shm, shmdt_of_an_unaligned_address_is_EINVAL)
{
	int id = new_seg(PAGE, 0600);
	char *p = shmat(id, NULL, 0);
	ASSERT_NE(p, (char *)-1);
	EXPECT_ERRNO(shmdt(p + 1), EINVAL);
	EXPECT_SYSCALL_OK(shmdt(p));
	EXPECT_ERRNO(shmdt(p), EINVAL);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, shmdt_in_the_middle_of_a_segment_is_EINVAL)
{
	int id = new_seg(2 * PAGE, 0600);
	char *p = shmat(id, NULL, 0);
	ASSERT_NE(p, (char *)-1);
	EXPECT_ERRNO(shmdt(p + PAGE), EINVAL);
	EXPECT_SYSCALL_OK(shmdt(p));
	shmctl(id, IPC_RMID, NULL);
}

/* A free, page-aligned range of len bytes. */
static char *free_range(size_t len)
{
	char *m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(m, MAP_FAILED);
	munmap(m, len);
	return m;
}

/* shmdt unmaps the attachment's pages whole, the partly used last page of
 * an odd size included: afterwards that page is free for a new mapping,
 * and nothing of the segment is left in the address space. (PostgreSQL's
 * sysv dynamic shared memory detaches segments of odd sizes; a tail left
 * behind broke later mmaps.) */
TEST(sysv_shm, shmdt_of_an_odd_size_unmaps_the_last_page_whole)
{
	int id = new_seg(PAGE + 100, 0600);
	char *want = free_range(2 * PAGE);
	char *p = shmat(id, want, 0);
	ASSERT_EQ(p, want);
	EXPECT_SYSCALL_OK(shmdt(p));
	/* Both pages are free: a fixed no-replace mapping fits on each. */
	char *m = mmap(p + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	EXPECT_EQ(m, p + PAGE);
	if (m != MAP_FAILED)
		munmap(m, PAGE);
	m = mmap(p, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	EXPECT_EQ(m, p);
	if (m != MAP_FAILED)
		munmap(m, 2 * PAGE);
	/* msync of an unmapped range is ENOMEM. */
	EXPECT_ERRNO(msync(p + PAGE, PAGE, MS_ASYNC), ENOMEM);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, shmat_at_a_given_address)
{
	int id = new_seg(PAGE, 0600);
	char *want = free_range(2 * PAGE);
	EXPECT_EQ(shmat(id, want + PAGE, 0), want + PAGE);
	shmdt(want + PAGE);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, unaligned_address_without_SHM_RND_is_EINVAL)
{
	int id = new_seg(PAGE, 0600);
	char *want = free_range(2 * PAGE);
	EXPECT_ERRNO((long)shmat(id, want + 1, 0), EINVAL);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, SHM_RND_rounds_the_address_down_to_SHMLBA)
{
	int id = new_seg(PAGE, 0600);
	char *want = free_range(2 * PAGE);
	EXPECT_EQ(shmat(id, want + 5, SHM_RND), want);
	shmdt(want);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, SHM_REMAP_without_an_address_is_EINVAL)
{
	int id = new_seg(PAGE, 0600);
	EXPECT_ERRNO((long)shmat(id, NULL, SHM_REMAP), EINVAL);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, attaching_over_a_mapping_without_SHM_REMAP_is_EINVAL)
{
	int id = new_seg(PAGE, 0600);
	char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(m, MAP_FAILED);
	m[0] = 7;
	EXPECT_ERRNO((long)shmat(id, m, 0), EINVAL);
	EXPECT_EQ(m[0], 7);
	munmap(m, PAGE);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, SHM_REMAP_replaces_a_mapping)
{
	int id = new_seg(PAGE, 0600);
	char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(m, MAP_FAILED);
	m[0] = 7;
	EXPECT_EQ(shmat(id, m, SHM_REMAP), m);
	EXPECT_EQ(m[0], 0);
	EXPECT_SYSCALL_OK(shmdt(m));
	shmctl(id, IPC_RMID, NULL);
}

static sigjmp_buf segv_jmp;
static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

TEST(sysv_shm, SHM_RDONLY_attachment_cannot_be_written)
{
	int id = new_seg(PAGE, 0600);
	volatile char *p = shmat(id, NULL, SHM_RDONLY);
	ASSERT_NE(p, (char *)-1);
	EXPECT_EQ(p[0], 0);
	struct sigaction sa = {.sa_handler = on_segv};
	sigaction(SIGSEGV, &sa, NULL);
	int faulted = 0;
	if (sigsetjmp(segv_jmp, 1) == 0)
		p[0] = 1;
	else
		faulted = 1;
	EXPECT_EQ(faulted, 1);
	EXPECT_ERRNO(mprotect((void *)p, PAGE, PROT_READ | PROT_WRITE), EACCES);
	shmdt((void *)p);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, shmat_of_a_bad_id_is_EINVAL)
{
	EXPECT_ERRNO((long)shmat(-1, NULL, 0), EINVAL);
	int id = new_seg(PAGE, 0600);
	shmctl(id, IPC_RMID, NULL);
	EXPECT_ERRNO((long)shmat(id, NULL, 0), EINVAL);
}

TEST(sysv_shm, IPC_RMID_while_attached_keeps_the_memory_until_the_last_detach)
{
	int id = shmget(pid_key(4), PAGE, IPC_CREAT | 0600);
	ASSERT_SYSCALL_OK(id);
	char *p = shmat(id, NULL, 0);
	ASSERT_NE(p, (char *)-1);
	p[0] = 5;
	EXPECT_SYSCALL_OK(shmctl(id, IPC_RMID, NULL));
	struct shmid_ds ds = stat_of(id);
	EXPECT_TRUE(ds.shm_perm.mode & SHM_DEST);
	EXPECT_EQ(ds.shm_perm.__key, IPC_PRIVATE);
	EXPECT_EQ(ds.shm_nattch, 1);
	/* The key can be used for a new segment at once. */
	int id2 = shmget(pid_key(4), PAGE, IPC_CREAT | IPC_EXCL | 0600);
	EXPECT_SYSCALL_OK(id2);
	shmctl(id2, IPC_RMID, NULL);
	EXPECT_EQ(p[0], 5);
	EXPECT_SYSCALL_OK(shmdt(p));
	EXPECT_ERRNO(shmctl(id, IPC_STAT, &ds), EINVAL);
}

TEST(sysv_shm, unknown_command_is_EINVAL)
{
	int id = new_seg(PAGE, 0600);
	EXPECT_ERRNO(shmctl(id, 99, NULL), EINVAL);
	EXPECT_ERRNO(shmctl(-1, IPC_STAT, NULL), EINVAL);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, IPC_STAT_to_a_bad_buffer_is_EFAULT)
{
	int id = new_seg(PAGE, 0600);
	EXPECT_ERRNO(syscall(SYS_shmctl, id, IPC_STAT, (void *)1), EFAULT);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, IPC_SET_changes_the_mode)
{
	int id = new_seg(PAGE, 0600);
	struct shmid_ds ds = stat_of(id);
	ds.shm_perm.mode = 0644 | 01000; /* only the low nine bits are taken */
	EXPECT_SYSCALL_OK(shmctl(id, IPC_SET, &ds));
	ds = stat_of(id);
	EXPECT_EQ(ds.shm_perm.mode & 07777, 0644);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, IPC_INFO_and_SHM_INFO_report_limits_and_use)
{
	int id = new_seg(PAGE, 0600);
	struct shminfo info;
	int max = shmctl(0, IPC_INFO, (struct shmid_ds *)&info);
	EXPECT_GE(max, 0);
	EXPECT_TRUE(info.shmmax >= PAGE);
	EXPECT_GE(info.shmmni, 1);
	EXPECT_TRUE(info.shmall >= 1);
	EXPECT_EQ(info.shmmin, 1);
	struct shm_info si;
	EXPECT_GE(shmctl(0, SHM_INFO, (struct shmid_ds *)&si), 0);
	EXPECT_GE(si.used_ids, 1);
	EXPECT_GE(si.shm_tot, 1);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, SHM_STAT_ANY_by_index_finds_the_segment)
{
	int id = new_seg(PAGE, 0600);
	struct shm_info si;
	int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&si);
	ASSERT_GE(max, 0);
	int found = 0;
	for (int i = 0; i <= max && !found; i++) {
		struct shmid_ds ds;
		int got = shmctl(i, SHM_STAT_ANY, &ds);
		if (got == id) {
			found = 1;
			EXPECT_EQ(ds.shm_segsz, PAGE);
		}
	}
	EXPECT_TRUE(found);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, attachments_show_in_proc_maps_as_SYSV)
{
	int id = shmget(pid_key(5), PAGE, IPC_CREAT | 0600);
	ASSERT_SYSCALL_OK(id);
	void *p = shmat(id, NULL, 0);
	ASSERT_NE(p, (void *)-1);
	char want[64];
	snprintf(want, sizeof(want), "/SYSV%08x (deleted)", pid_key(5));
	FILE *f = fopen("/proc/self/maps", "r");
	ASSERT_TRUE(f != NULL);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, want) && strtoul(line, NULL, 16) == (unsigned long)p)
			found = 1;
	fclose(f);
	EXPECT_TRUE(found);
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, permissions_apply_to_other_users)
{
	int id = new_seg(PAGE, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		int was_root = geteuid() == 0;
		drop_privileges();
		struct shmid_ds ds;
		if (!was_root) {
			/* Unprivileged run: we own it; mode 0 still denies. */
			ASSERT_SYSCALL_OK(shmctl(id, IPC_STAT, &ds));
			ds.shm_perm.mode = 0;
			ASSERT_SYSCALL_OK(shmctl(id, IPC_SET, &ds));
		}
		EXPECT_ERRNO((long)shmat(id, NULL, 0), EACCES);
		EXPECT_ERRNO((long)shmat(id, NULL, SHM_RDONLY), EACCES);
		EXPECT_ERRNO(shmctl(id, IPC_STAT, &ds), EACCES);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, only_the_owner_may_remove)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to act as another user");
	int id = new_seg(PAGE, 0666);
	pid_t pid = fork();
	if (pid == 0) {
		drop_privileges();
		EXPECT_ERRNO(shmctl(id, IPC_RMID, NULL), EPERM);
		struct shmid_ds ds;
		ASSERT_SYSCALL_OK(shmctl(id, IPC_STAT, &ds));
		EXPECT_ERRNO(shmctl(id, IPC_SET, &ds), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_SYSCALL_OK(shmctl(id, IPC_RMID, NULL));
}

TEST(sysv_shm, read_only_permission_allows_SHM_RDONLY_only)
{
	int id = new_seg(PAGE, 0644);
	pid_t pid = fork();
	if (pid == 0) {
		int was_root = geteuid() == 0;
		drop_privileges();
		if (!was_root) {
			struct shmid_ds ds;
			ASSERT_SYSCALL_OK(shmctl(id, IPC_STAT, &ds));
			ds.shm_perm.mode = 0444;
			ASSERT_SYSCALL_OK(shmctl(id, IPC_SET, &ds));
		}
		EXPECT_ERRNO((long)shmat(id, NULL, 0), EACCES);
		void *p = shmat(id, NULL, SHM_RDONLY);
		EXPECT_NE(p, (void *)-1);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	shmctl(id, IPC_RMID, NULL);
}

TEST(sysv_shm, proc_sysvipc_shm_lists_the_segment)
{
	int id = shmget(pid_key(6), 3 * PAGE, IPC_CREAT | 0640);
	ASSERT_SYSCALL_OK(id);
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	ASSERT_TRUE(f != NULL);
	char line[512];
	int found = 0;
	ASSERT_TRUE(fgets(line, sizeof(line), f) != NULL);
	EXPECT_TRUE(strstr(line, "shmid") != NULL && strstr(line, "nattch") != NULL);
	while (fgets(line, sizeof(line), f)) {
		int key, sid;
		unsigned perms;
		unsigned long size;
		if (sscanf(line, "%d %d %o %lu", &key, &sid, &perms, &size) == 4 && sid == id) {
			found = 1;
			EXPECT_EQ(key, pid_key(6));
			EXPECT_EQ(perms, 0640);
			EXPECT_EQ(size, 3 * PAGE);
		}
	}
	fclose(f);
	EXPECT_TRUE(found);
	shmctl(id, IPC_RMID, NULL);
}

static unsigned long read_ulong(const char *path)
{
	FILE *f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	unsigned long v = 0;
	ASSERT_EQ(fscanf(f, "%lu", &v), 1);
	fclose(f);
	return v;
}

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ASSERT_SYSCALL_OK(fd);
	ASSERT_EQ(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

TEST(sysv_shm, proc_sys_kernel_shmmax_matches_IPC_INFO)
{
	struct shminfo info;
	ASSERT_GE(shmctl(0, IPC_INFO, (struct shmid_ds *)&info), 0);
	EXPECT_TRUE(read_ulong("/proc/sys/kernel/shmmax") == info.shmmax);
	EXPECT_TRUE(read_ulong("/proc/sys/kernel/shmall") == info.shmall);
	EXPECT_TRUE(read_ulong("/proc/sys/kernel/shmmni") == info.shmmni);
}

TEST(sysv_shm, writing_shmmax_limits_new_segments)
{
	SKIP_UNLESS_IN_SANDBOX(); /* would change the host's limit */
	if (geteuid() != 0)
		TEST_SKIP("needs root to write /proc/sys");
	unsigned long old = read_ulong("/proc/sys/kernel/shmmax");
	write_str("/proc/sys/kernel/shmmax", "8192\n");
	EXPECT_TRUE(read_ulong("/proc/sys/kernel/shmmax") == 8192);
	EXPECT_ERRNO(shmget(IPC_PRIVATE, 8193, IPC_CREAT | 0600), EINVAL);
	int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	EXPECT_SYSCALL_OK(id);
	shmctl(id, IPC_RMID, NULL);
	char buf[32];
	snprintf(buf, sizeof(buf), "%lu\n", old);
	write_str("/proc/sys/kernel/shmmax", buf);
	int fd = open("/proc/sys/kernel/shmmax", O_WRONLY);
	ASSERT_SYSCALL_OK(fd);
	EXPECT_ERRNO(write(fd, "nope", 4), EINVAL);
	close(fd);
}
