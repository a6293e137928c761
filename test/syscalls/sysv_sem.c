/*
 * System V semaphores: semget(2), semop(2), semtimedop(2), semctl(2).
 *
 * Native runs share the host's IPC namespace: every case uses IPC_PRIVATE
 * or a key derived from its PID, and removes what it creates. Cases that
 * need a process asleep in semop find out with GETNCNT/GETZCNT.
 */
#include "test.h"

#include <grp.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>

#define SEMVMX 32767

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

static key_t pid_key(int n)
{
	return (key_t)(0x53000000 | ((getpid() & 0xffff) << 8) | n);
}

static void drop_privileges(void)
{
	if (geteuid() == 0) {
		ASSERT_SYSCALL_OK(setgroups(0, NULL));
		ASSERT_SYSCALL_OK(setgid(65534));
		ASSERT_SYSCALL_OK(setuid(65534));
	}
}

static int new_set(int n, int mode)
{
	int id = semget(IPC_PRIVATE, n, IPC_CREAT | mode);
	ASSERT_SYSCALL_OK(id);
	return id;
}

static void rm(int id) { semctl(id, 0, IPC_RMID); }

static int getval(int id, int n) { return semctl(id, n, GETVAL); }

static void setval(int id, int n, int v)
{
	ASSERT_SYSCALL_OK(semctl(id, n, SETVAL, (union semun){.val = v}));
}

static int op1(int id, int num, int op, int flg)
{
	struct sembuf b = {.sem_num = num, .sem_op = op, .sem_flg = flg};
	return semop(id, &b, 1);
}

/* Waits until cmd (GETNCNT or GETZCNT) of semaphore num reports n. */
static void wait_count(int id, int num, int cmd, int n)
{
	while (semctl(id, num, cmd) != n)
		sched_yield();
}

TEST(sysv_sem, negative_nsems_is_EINVAL)
{
	EXPECT_ERRNO(semget(IPC_PRIVATE, -1, IPC_CREAT | 0600), EINVAL);
}

TEST(sysv_sem, creating_with_zero_nsems_is_EINVAL)
{
	EXPECT_ERRNO(semget(IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL);
}

TEST(sysv_sem, nsems_above_semmsl_is_EINVAL)
{
	EXPECT_ERRNO(semget(IPC_PRIVATE, 1 << 30, IPC_CREAT | 0600), EINVAL);
}

TEST(sysv_sem, new_semaphores_are_zero)
{
	int id = new_set(3, 0600);
	unsigned short v[3] = {9, 9, 9};
	EXPECT_SYSCALL_OK(semctl(id, 0, GETALL, (union semun){.array = v}));
	EXPECT_EQ(v[0], 0);
	EXPECT_EQ(v[1], 0);
	EXPECT_EQ(v[2], 0);
	rm(id);
}

TEST(sysv_sem, keys_ENOENT_EEXIST_and_more_nsems_EINVAL)
{
	EXPECT_ERRNO(semget(pid_key(1), 1, 0600), ENOENT);
	int id = semget(pid_key(1), 2, IPC_CREAT | 0600);
	ASSERT_SYSCALL_OK(id);
	EXPECT_EQ(semget(pid_key(1), 2, 0), id);
	EXPECT_EQ(semget(pid_key(1), 0, 0), id);
	EXPECT_ERRNO(semget(pid_key(1), 3, 0), EINVAL);
	EXPECT_ERRNO(semget(pid_key(1), 1, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	rm(id);
	EXPECT_ERRNO(semget(pid_key(1), 1, 0600), ENOENT);
}

TEST(sysv_sem, SETVAL_then_GETVAL_and_GETPID)
{
	int id = new_set(2, 0600);
	setval(id, 1, 17);
	EXPECT_EQ(getval(id, 1), 17);
	EXPECT_EQ(getval(id, 0), 0);
	EXPECT_EQ(semctl(id, 1, GETPID), getpid());
	rm(id);
}

TEST(sysv_sem, SETVAL_out_of_range_is_ERANGE)
{
	int id = new_set(1, 0600);
	EXPECT_ERRNO(semctl(id, 0, SETVAL, (union semun){.val = SEMVMX + 1}), ERANGE);
	EXPECT_ERRNO(semctl(id, 0, SETVAL, (union semun){.val = -1}), ERANGE);
	EXPECT_SYSCALL_OK(semctl(id, 0, SETVAL, (union semun){.val = SEMVMX}));
	rm(id);
}

TEST(sysv_sem, semnum_out_of_range_is_EINVAL)
{
	int id = new_set(2, 0600);
	EXPECT_ERRNO(semctl(id, 2, GETVAL), EINVAL);
	EXPECT_ERRNO(semctl(id, -1, GETVAL), EINVAL);
	EXPECT_ERRNO(semctl(id, 2, SETVAL, (union semun){.val = 1}), EINVAL);
	rm(id);
}

TEST(sysv_sem, SETALL_then_GETALL)
{
	int id = new_set(3, 0600);
	unsigned short in[3] = {1, 2, 3}, out[3] = {0};
	EXPECT_SYSCALL_OK(semctl(id, 0, SETALL, (union semun){.array = in}));
	EXPECT_SYSCALL_OK(semctl(id, 0, GETALL, (union semun){.array = out}));
	EXPECT_EQ(out[0], 1);
	EXPECT_EQ(out[1], 2);
	EXPECT_EQ(out[2], 3);
	rm(id);
}

TEST(sysv_sem, SETALL_above_SEMVMX_is_ERANGE_and_changes_nothing)
{
	int id = new_set(2, 0600);
	unsigned short in[2] = {5, SEMVMX + 1};
	EXPECT_ERRNO(semctl(id, 0, SETALL, (union semun){.array = in}), ERANGE);
	EXPECT_EQ(getval(id, 0), 0);
	rm(id);
}

TEST(sysv_sem, GETALL_to_a_bad_buffer_is_EFAULT)
{
	int id = new_set(2, 0600);
	EXPECT_ERRNO(semctl(id, 0, GETALL, (union semun){.array = (void *)1}), EFAULT);
	rm(id);
}

TEST(sysv_sem, semop_adds_and_subtracts)
{
	int id = new_set(1, 0600);
	EXPECT_SYSCALL_OK(op1(id, 0, 5, 0));
	EXPECT_SYSCALL_OK(op1(id, 0, -3, 0));
	EXPECT_EQ(getval(id, 0), 2);
	EXPECT_EQ(semctl(id, 0, GETPID), getpid());
	rm(id);
}

TEST(sysv_sem, decrement_below_zero_with_IPC_NOWAIT_is_EAGAIN)
{
	int id = new_set(1, 0600);
	setval(id, 0, 1);
	EXPECT_ERRNO(op1(id, 0, -2, IPC_NOWAIT), EAGAIN);
	EXPECT_EQ(getval(id, 0), 1);
	rm(id);
}

TEST(sysv_sem, wait_for_zero_with_IPC_NOWAIT_is_EAGAIN)
{
	int id = new_set(1, 0600);
	EXPECT_SYSCALL_OK(op1(id, 0, 0, IPC_NOWAIT));
	setval(id, 0, 1);
	EXPECT_ERRNO(op1(id, 0, 0, IPC_NOWAIT), EAGAIN);
	rm(id);
}

TEST(sysv_sem, operations_are_done_all_or_none)
{
	int id = new_set(2, 0600);
	struct sembuf ops[2] = {{0, 1, 0}, {1, -1, IPC_NOWAIT}};
	EXPECT_ERRNO(semop(id, ops, 2), EAGAIN);
	EXPECT_EQ(getval(id, 0), 0);
	setval(id, 1, 1);
	EXPECT_SYSCALL_OK(semop(id, ops, 2));
	EXPECT_EQ(getval(id, 0), 1);
	EXPECT_EQ(getval(id, 1), 0);
	rm(id);
}

TEST(sysv_sem, operations_on_one_semaphore_add_up_in_order)
{
	int id = new_set(1, 0600);
	setval(id, 0, 1);
	struct sembuf two[2] = {{0, -1, IPC_NOWAIT}, {0, -1, IPC_NOWAIT}};
	EXPECT_ERRNO(semop(id, two, 2), EAGAIN);
	EXPECT_EQ(getval(id, 0), 1);
	struct sembuf updown[2] = {{0, -1, 0}, {0, 0, IPC_NOWAIT}};
	EXPECT_SYSCALL_OK(semop(id, updown, 2));
	EXPECT_EQ(getval(id, 0), 0);
	rm(id);
}

TEST(sysv_sem, sem_num_beyond_the_set_is_EFBIG)
{
	int id = new_set(2, 0600);
	EXPECT_ERRNO(op1(id, 2, 1, 0), EFBIG);
	rm(id);
}

TEST(sysv_sem, zero_operations_is_EINVAL)
{
	int id = new_set(1, 0600);
	struct sembuf b = {0, 1, 0};
	EXPECT_ERRNO(semop(id, &b, 0), EINVAL);
	rm(id);
}

TEST(sysv_sem, more_operations_than_semopm_is_E2BIG)
{
	int id = new_set(1, 0600);
	static struct sembuf many[100000];
	EXPECT_ERRNO(semop(id, many, 100000), E2BIG);
	rm(id);
}

TEST(sysv_sem, result_above_SEMVMX_is_ERANGE)
{
	int id = new_set(1, 0600);
	setval(id, 0, SEMVMX);
	EXPECT_ERRNO(op1(id, 0, 1, 0), ERANGE);
	EXPECT_EQ(getval(id, 0), SEMVMX);
	rm(id);
}

TEST(sysv_sem, bad_operations_pointer_is_EFAULT)
{
	int id = new_set(1, 0600);
	EXPECT_ERRNO(semop(id, (void *)1, 1), EFAULT);
	rm(id);
}

TEST(sysv_sem, semop_on_a_removed_set_is_EINVAL)
{
	int id = new_set(1, 0600);
	rm(id);
	EXPECT_ERRNO(op1(id, 0, 1, 0), EINVAL);
	EXPECT_ERRNO(semctl(id, 0, GETVAL), EINVAL);
	EXPECT_ERRNO(semop(-1, &(struct sembuf){0, 1, 0}, 1), EINVAL);
}

TEST(sysv_sem, a_blocked_decrement_completes_when_another_process_adds)
{
	int id = new_set(1, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_SYSCALL_OK(op1(id, 0, -2, 0));
		_exit(0);
	}
	wait_count(id, 0, GETNCNT, 1);
	EXPECT_SYSCALL_OK(op1(id, 0, 1, 0));
	EXPECT_EQ(semctl(id, 0, GETNCNT), 1); /* 1 is not enough */
	EXPECT_SYSCALL_OK(op1(id, 0, 2, 0));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(getval(id, 0), 1);
	EXPECT_EQ(semctl(id, 0, GETNCNT), 0);
	EXPECT_EQ(semctl(id, 0, GETPID), pid);
	rm(id);
}

TEST(sysv_sem, a_wait_for_zero_completes_when_the_value_reaches_zero)
{
	int id = new_set(1, 0600);
	setval(id, 0, 2);
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_SYSCALL_OK(op1(id, 0, 0, 0));
		_exit(0);
	}
	wait_count(id, 0, GETZCNT, 1);
	EXPECT_SYSCALL_OK(op1(id, 0, -2, 0));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(semctl(id, 0, GETZCNT), 0);
	rm(id);
}

TEST(sysv_sem, SETVAL_wakes_waiters)
{
	int id = new_set(1, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_SYSCALL_OK(op1(id, 0, -1, 0));
		_exit(0);
	}
	wait_count(id, 0, GETNCNT, 1);
	setval(id, 0, 3);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(getval(id, 0), 2);
	rm(id);
}

static void on_usr1(int sig) { (void)sig; }

TEST(sysv_sem, a_signal_interrupts_semop_with_EINTR_even_with_SA_RESTART)
{
	int id = new_set(1, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
		sigaction(SIGUSR1, &sa, NULL);
		ASSERT_ERRNO(op1(id, 0, -1, 0), EINTR);
		_exit(0);
	}
	wait_count(id, 0, GETNCNT, 1);
	kill(pid, SIGUSR1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(semctl(id, 0, GETNCNT), 0);
	rm(id);
}

TEST(sysv_sem, semtimedop_times_out_with_EAGAIN)
{
	int id = new_set(1, 0600);
	struct sembuf b = {0, -1, 0};
	struct timespec ts = {0, 20 * 1000 * 1000};
	EXPECT_ERRNO(semtimedop(id, &b, 1, &ts), EAGAIN);
	struct timespec zero = {0, 0};
	EXPECT_ERRNO(semtimedop(id, &b, 1, &zero), EAGAIN);
	EXPECT_EQ(semctl(id, 0, GETNCNT), 0);
	rm(id);
}

TEST(sysv_sem, semtimedop_succeeds_without_waiting_when_it_can)
{
	int id = new_set(1, 0600);
	setval(id, 0, 1);
	struct sembuf b = {0, -1, 0};
	struct timespec ts = {0, 0};
	EXPECT_SYSCALL_OK(semtimedop(id, &b, 1, &ts));
	EXPECT_EQ(getval(id, 0), 0);
	rm(id);
}

TEST(sysv_sem, semtimedop_invalid_timeout_is_EINVAL)
{
	int id = new_set(1, 0600);
	struct sembuf b = {0, -1, 0};
	struct timespec ts = {0, 1000000000};
	EXPECT_ERRNO(semtimedop(id, &b, 1, &ts), EINVAL);
	ts = (struct timespec){-1, 0};
	EXPECT_ERRNO(semtimedop(id, &b, 1, &ts), EINVAL);
	EXPECT_ERRNO(semtimedop(id, &b, 1, (void *)1), EFAULT);
	rm(id);
}

TEST(sysv_sem, IPC_RMID_wakes_waiters_with_EIDRM)
{
	int id = new_set(1, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_ERRNO(op1(id, 0, -1, 0), EIDRM);
		_exit(0);
	}
	wait_count(id, 0, GETNCNT, 1);
	rm(id);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(sysv_sem, SEM_UNDO_is_reverted_when_the_process_exits)
{
	int id = new_set(2, 0600);
	setval(id, 1, 5);
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_SYSCALL_OK(op1(id, 0, 3, SEM_UNDO));
		ASSERT_SYSCALL_OK(op1(id, 1, -2, SEM_UNDO));
		ASSERT_SYSCALL_OK(op1(id, 0, 1, 0));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(getval(id, 0), 1);
	EXPECT_EQ(getval(id, 1), 5);
	rm(id);
}

TEST(sysv_sem, SEM_UNDO_at_exit_stops_at_zero)
{
	int id = new_set(1, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_SYSCALL_OK(op1(id, 0, 3, SEM_UNDO));
		ASSERT_SYSCALL_OK(op1(id, 0, -2, 0));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(getval(id, 0), 0);
	rm(id);
}

TEST(sysv_sem, SETVAL_clears_the_SEM_UNDO_adjustment)
{
	int id = new_set(1, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_SYSCALL_OK(op1(id, 0, 1, SEM_UNDO));
		setval(id, 0, 10);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(getval(id, 0), 10);
	rm(id);
}

TEST(sysv_sem, SEM_UNDO_wakes_waiters_at_exit)
{
	int id = new_set(1, 0600);
	setval(id, 0, 1);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t holder = fork();
	if (holder == 0) {
		ASSERT_SYSCALL_OK(op1(id, 0, -1, SEM_UNDO));
		char c;
		read(p[0], &c, 1); /* until the parent says so */
		_exit(0);
	}
	while (getval(id, 0) != 0)
		sched_yield();
	pid_t waiter = fork();
	if (waiter == 0) {
		ASSERT_SYSCALL_OK(op1(id, 0, -1, 0));
		_exit(0);
	}
	wait_count(id, 0, GETNCNT, 1);
	EXPECT_EQ(write(p[1], "x", 1), 1);
	EXPECT_EXIT_STATUS(test_wait_exit(holder), 0);
	EXPECT_EXIT_STATUS(test_wait_exit(waiter), 0);
	EXPECT_EQ(getval(id, 0), 0);
	rm(id);
}

TEST(sysv_sem, IPC_STAT_reports_nsems_mode_and_times)
{
	int id = new_set(4, 0640);
	struct semid_ds ds;
	EXPECT_SYSCALL_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
	EXPECT_EQ(ds.sem_nsems, 4);
	EXPECT_EQ(ds.sem_perm.mode & 0777, 0640);
	EXPECT_EQ(ds.sem_perm.uid, geteuid());
	EXPECT_EQ(ds.sem_perm.cgid, getegid());
	EXPECT_EQ(ds.sem_otime, 0);
	EXPECT_NE(ds.sem_ctime, 0);
	op1(id, 0, 1, 0);
	EXPECT_SYSCALL_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
	EXPECT_NE(ds.sem_otime, 0);
	rm(id);
}

TEST(sysv_sem, IPC_SET_changes_the_mode)
{
	int id = new_set(1, 0600);
	struct semid_ds ds;
	EXPECT_SYSCALL_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
	ds.sem_perm.mode = 0604;
	EXPECT_SYSCALL_OK(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}));
	EXPECT_SYSCALL_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
	EXPECT_EQ(ds.sem_perm.mode & 0777, 0604);
	rm(id);
}

TEST(sysv_sem, unknown_command_is_EINVAL)
{
	int id = new_set(1, 0600);
	EXPECT_ERRNO(semctl(id, 0, 99), EINVAL);
	EXPECT_ERRNO(semctl(-1, 0, GETVAL), EINVAL);
	rm(id);
}

TEST(sysv_sem, IPC_INFO_and_SEM_INFO)
{
	int id = new_set(3, 0600);
	struct seminfo si;
	EXPECT_GE(semctl(0, 0, IPC_INFO, (union semun){.__buf = &si}), 0);
	EXPECT_EQ(si.semvmx, SEMVMX);
	EXPECT_GE(si.semmsl, 3);
	EXPECT_GE(si.semopm, 1);
	EXPECT_GE(si.semmni, 1);
	EXPECT_GE(semctl(0, 0, SEM_INFO, (union semun){.__buf = &si}), 0);
	EXPECT_GE(si.semusz, 1); /* sets in use */
	EXPECT_GE(si.semaem, 3); /* semaphores in use */
	rm(id);
}

TEST(sysv_sem, SEM_STAT_ANY_by_index_finds_the_set)
{
	int id = new_set(2, 0600);
	struct seminfo si;
	int max = semctl(0, 0, SEM_INFO, (union semun){.__buf = &si});
	ASSERT_GE(max, 0);
	int found = 0;
	for (int i = 0; i <= max && !found; i++) {
		struct semid_ds ds;
		if (semctl(i, 0, SEM_STAT_ANY, (union semun){.buf = &ds}) == id) {
			found = 1;
			EXPECT_EQ(ds.sem_nsems, 2);
		}
	}
	EXPECT_TRUE(found);
	rm(id);
}

TEST(sysv_sem, permissions_apply)
{
	int id = new_set(1, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		int was_root = geteuid() == 0;
		drop_privileges();
		if (!was_root) {
			struct semid_ds ds;
			ASSERT_SYSCALL_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
			ds.sem_perm.mode = 0;
			ASSERT_SYSCALL_OK(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}));
		}
		EXPECT_ERRNO(semctl(id, 0, GETVAL), EACCES);
		EXPECT_ERRNO(semctl(id, 0, SETVAL, (union semun){.val = 1}), EACCES);
		EXPECT_ERRNO(op1(id, 0, 1, 0), EACCES);
		EXPECT_ERRNO(op1(id, 0, 0, IPC_NOWAIT), EACCES);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	rm(id);
}

TEST(sysv_sem, read_permission_allows_waiting_for_zero_only)
{
	int id = new_set(1, 0600);
	pid_t pid = fork();
	if (pid == 0) {
		int was_root = geteuid() == 0;
		if (was_root) {
			struct semid_ds ds;
			ASSERT_SYSCALL_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
			ds.sem_perm.mode = 0604;
			ASSERT_SYSCALL_OK(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}));
		}
		drop_privileges();
		if (!was_root) {
			struct semid_ds ds;
			ASSERT_SYSCALL_OK(semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
			ds.sem_perm.mode = 0400;
			ASSERT_SYSCALL_OK(semctl(id, 0, IPC_SET, (union semun){.buf = &ds}));
		}
		EXPECT_SYSCALL_OK(op1(id, 0, 0, IPC_NOWAIT));
		EXPECT_EQ(getval(id, 0), 0);
		EXPECT_ERRNO(op1(id, 0, 1, 0), EACCES);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	rm(id);
}

TEST(sysv_sem, only_the_owner_may_remove)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to act as another user");
	int id = new_set(1, 0666);
	pid_t pid = fork();
	if (pid == 0) {
		drop_privileges();
		EXPECT_ERRNO(semctl(id, 0, IPC_RMID), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_SYSCALL_OK(semctl(id, 0, IPC_RMID));
}

TEST(sysv_sem, proc_sysvipc_sem_lists_the_set)
{
	int id = semget(pid_key(2), 5, IPC_CREAT | 0604);
	ASSERT_SYSCALL_OK(id);
	FILE *f = fopen("/proc/sysvipc/sem", "r");
	ASSERT_TRUE(f != NULL);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		int key, sid;
		unsigned perms, nsems;
		if (sscanf(line, "%d %d %o %u", &key, &sid, &perms, &nsems) == 4 && sid == id) {
			found = 1;
			EXPECT_EQ(key, pid_key(2));
			EXPECT_EQ(perms, 0604);
			EXPECT_EQ(nsems, 5);
		}
	}
	fclose(f);
	EXPECT_TRUE(found);
	rm(id);
}

TEST(sysv_sem, proc_sys_kernel_sem_matches_IPC_INFO)
{
	struct seminfo si;
	ASSERT_GE(semctl(0, 0, IPC_INFO, (union semun){.__buf = &si}), 0);
	FILE *f = fopen("/proc/sys/kernel/sem", "r");
	ASSERT_TRUE(f != NULL);
	int msl, mns, opm, mni;
	ASSERT_EQ(fscanf(f, "%d %d %d %d", &msl, &mns, &opm, &mni), 4);
	fclose(f);
	EXPECT_EQ(msl, si.semmsl);
	EXPECT_EQ(mns, si.semmns);
	EXPECT_EQ(opm, si.semopm);
	EXPECT_EQ(mni, si.semmni);
}

TEST(sysv_sem, writing_semopm_limits_semop)
{
	SKIP_UNLESS_IN_SANDBOX(); /* would change the host's limit */
	if (geteuid() != 0)
		TEST_SKIP("needs root to write /proc/sys");
	char old[128] = {0};
	int fd = open("/proc/sys/kernel/sem", O_RDWR);
	ASSERT_SYSCALL_OK(fd);
	ASSERT_GT(read(fd, old, sizeof(old) - 1), 0);
	int msl, mns, opm, mni;
	ASSERT_EQ(sscanf(old, "%d %d %d %d", &msl, &mns, &opm, &mni), 4);
	char buf[128];
	snprintf(buf, sizeof(buf), "%d %d 2 %d\n", msl, mns, mni);
	ASSERT_EQ(pwrite(fd, buf, strlen(buf), 0), (ssize_t)strlen(buf));
	close(fd);
	int id = new_set(1, 0600);
	struct sembuf three[3] = {{0, 1, 0}, {0, 1, 0}, {0, 1, 0}};
	EXPECT_ERRNO(semop(id, three, 3), E2BIG);
	EXPECT_SYSCALL_OK(semop(id, three, 2));
	rm(id);
	fd = open("/proc/sys/kernel/sem", O_WRONLY);
	ASSERT_SYSCALL_OK(fd);
	ASSERT_EQ(write(fd, old, strlen(old)), (ssize_t)strlen(old));
	close(fd);
}
