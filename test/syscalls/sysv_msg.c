/*
 * System V message queues: msgget(2), msgsnd(2), msgrcv(2), msgctl(2).
 *
 * Native runs share the host's IPC namespace: every case uses IPC_PRIVATE
 * or a key derived from its PID, and removes what it creates. A case that
 * needs a child asleep in msgrcv/msgsnd waits for the child to say it is
 * about to call it and then for /proc/PID/stat to show it sleeping.
 */
#include "test.h"

#include <grp.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct msg {
	long mtype;
	char mtext[64];
};

static key_t pid_key(int n)
{
	return (key_t)(0x4d000000 | ((getpid() & 0xffff) << 8) | n);
}

static void drop_privileges(void)
{
	if (geteuid() == 0) {
		ASSERT_SYSCALL_OK(setgroups(0, NULL));
		ASSERT_SYSCALL_OK(setgid(65534));
		ASSERT_SYSCALL_OK(setuid(65534));
	}
}

static int new_queue(int mode)
{
	int id = msgget(IPC_PRIVATE, IPC_CREAT | mode);
	ASSERT_SYSCALL_OK(id);
	return id;
}

static void rm(int id) { msgctl(id, IPC_RMID, NULL); }

static void send(int id, long type, const char *text)
{
	struct msg m = {.mtype = type};
	strncpy(m.mtext, text, sizeof(m.mtext) - 1);
	ASSERT_SYSCALL_OK(msgsnd(id, &m, strlen(text), 0));
}

/* Receives with msgtyp and flags; returns the type, the text in out. */
static long recv_type(int id, long msgtyp, int flags, char *out)
{
	struct msg m;
	memset(&m, 0, sizeof(m));
	long n = msgrcv(id, &m, sizeof(m.mtext), msgtyp, flags | IPC_NOWAIT);
	if (n < 0)
		return -1;
	memcpy(out, m.mtext, n);
	out[n] = 0;
	return m.mtype;
}

/* Waits until process pid sleeps (state S in /proc/PID/stat). */
static void wait_sleeping(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (;;) {
		int fd = open(path, O_RDONLY);
		ASSERT_SYSCALL_OK(fd);
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		ASSERT_GT(n, 0);
		buf[n] = 0;
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		sched_yield();
	}
}

/* Forks a child that runs fn(id) after telling the parent, and returns
 * once the child sleeps. */
static pid_t fork_blocked(int id, void (*fn)(int))
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		ASSERT_EQ(write(p[1], "x", 1), 1);
		fn(id);
		_exit(0);
	}
	close(p[1]);
	char c;
	ASSERT_EQ(read(p[0], &c, 1), 1);
	close(p[0]);
	wait_sleeping(pid);
	return pid;
}

TEST(sysv_msg, IPC_PRIVATE_creates_a_new_queue_each_time)
{
	int a = new_queue(0600), b = new_queue(0600);
	EXPECT_NE(a, b);
	rm(a);
	rm(b);
}

TEST(sysv_msg, keys_ENOENT_and_EEXIST)
{
	EXPECT_ERRNO(msgget(pid_key(1), 0600), ENOENT);
	int id = msgget(pid_key(1), IPC_CREAT | 0600);
	ASSERT_SYSCALL_OK(id);
	EXPECT_EQ(msgget(pid_key(1), 0), id);
	EXPECT_ERRNO(msgget(pid_key(1), IPC_CREAT | IPC_EXCL | 0600), EEXIST);
	rm(id);
	EXPECT_ERRNO(msgget(pid_key(1), 0600), ENOENT);
}

TEST(sysv_msg, a_message_comes_back_whole)
{
	int id = new_queue(0600);
	send(id, 7, "hello");
	struct msg m;
	EXPECT_EQ(msgrcv(id, &m, sizeof(m.mtext), 0, 0), 5);
	EXPECT_EQ(m.mtype, 7);
	EXPECT_MEMEQ(m.mtext, "hello", 5);
	rm(id);
}

TEST(sysv_msg, a_zero_length_message_is_a_message)
{
	int id = new_queue(0600);
	struct msg m = {.mtype = 3};
	EXPECT_SYSCALL_OK(msgsnd(id, &m, 0, 0));
	m.mtype = 0;
	EXPECT_EQ(msgrcv(id, &m, 0, 0, IPC_NOWAIT), 0);
	EXPECT_EQ(m.mtype, 3);
	rm(id);
}

TEST(sysv_msg, messages_of_a_type_come_in_order)
{
	int id = new_queue(0600);
	send(id, 1, "a");
	send(id, 1, "b");
	send(id, 1, "c");
	char t[64];
	recv_type(id, 0, 0, t);
	EXPECT_STREQ(t, "a");
	recv_type(id, 1, 0, t);
	EXPECT_STREQ(t, "b");
	recv_type(id, 0, 0, t);
	EXPECT_STREQ(t, "c");
	rm(id);
}

TEST(sysv_msg, positive_msgtyp_takes_the_first_of_that_type)
{
	int id = new_queue(0600);
	send(id, 1, "one");
	send(id, 2, "two");
	send(id, 2, "deux");
	char t[64];
	EXPECT_EQ(recv_type(id, 2, 0, t), 2);
	EXPECT_STREQ(t, "two");
	EXPECT_EQ(recv_type(id, 0, 0, t), 1);
	EXPECT_STREQ(t, "one");
	rm(id);
}

TEST(sysv_msg, negative_msgtyp_takes_the_lowest_type_not_above_it)
{
	int id = new_queue(0600);
	send(id, 5, "five");
	send(id, 3, "three");
	send(id, 4, "four");
	send(id, 1, "one");
	char t[64];
	EXPECT_EQ(recv_type(id, -4, 0, t), 1);
	EXPECT_EQ(recv_type(id, -4, 0, t), 3);
	EXPECT_EQ(recv_type(id, -4, 0, t), 4);
	EXPECT_EQ(recv_type(id, -4, 0, t), -1);
	EXPECT_EQ(errno, ENOMSG);
	EXPECT_EQ(recv_type(id, -5, 0, t), 5);
	rm(id);
}

TEST(sysv_msg, MSG_EXCEPT_takes_the_first_of_another_type)
{
	int id = new_queue(0600);
	send(id, 1, "one");
	send(id, 1, "uno");
	send(id, 2, "two");
	char t[64];
	EXPECT_EQ(recv_type(id, 1, MSG_EXCEPT, t), 2);
	EXPECT_STREQ(t, "two");
	EXPECT_EQ(recv_type(id, 1, MSG_EXCEPT, t), -1);
	EXPECT_EQ(errno, ENOMSG);
	rm(id);
}

TEST(sysv_msg, a_message_larger_than_msgsz_is_E2BIG_and_stays)
{
	int id = new_queue(0600);
	send(id, 1, "hello world");
	struct msg m;
	EXPECT_ERRNO(msgrcv(id, &m, 5, 0, IPC_NOWAIT), E2BIG);
	EXPECT_EQ(msgrcv(id, &m, sizeof(m.mtext), 0, IPC_NOWAIT), 11);
	rm(id);
}

TEST(sysv_msg, MSG_NOERROR_truncates_and_drops_the_rest)
{
	int id = new_queue(0600);
	send(id, 1, "hello world");
	struct msg m;
	memset(&m, 0, sizeof(m));
	EXPECT_EQ(msgrcv(id, &m, 5, 0, IPC_NOWAIT | MSG_NOERROR), 5);
	EXPECT_MEMEQ(m.mtext, "hello\0", 6);
	EXPECT_ERRNO(msgrcv(id, &m, sizeof(m.mtext), 0, IPC_NOWAIT), ENOMSG);
	rm(id);
}

TEST(sysv_msg, empty_queue_with_IPC_NOWAIT_is_ENOMSG)
{
	int id = new_queue(0600);
	struct msg m;
	EXPECT_ERRNO(msgrcv(id, &m, sizeof(m.mtext), 0, IPC_NOWAIT), ENOMSG);
	rm(id);
}

TEST(sysv_msg, mtype_below_one_is_EINVAL)
{
	int id = new_queue(0600);
	struct msg m = {.mtype = 0};
	EXPECT_ERRNO(msgsnd(id, &m, 1, 0), EINVAL);
	m.mtype = -1;
	EXPECT_ERRNO(msgsnd(id, &m, 1, 0), EINVAL);
	rm(id);
}

TEST(sysv_msg, size_above_msgmax_or_negative_is_EINVAL)
{
	int id = new_queue(0600);
	struct msginfo mi;
	ASSERT_GE(msgctl(0, IPC_INFO, (struct msqid_ds *)&mi), 0);
	static struct {
		long mtype;
		char text[1 << 20];
	} big = {.mtype = 1};
	if ((size_t)mi.msgmax < sizeof(big.text))
		EXPECT_ERRNO(msgsnd(id, &big, mi.msgmax + 1, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_msgsnd, id, &big, (size_t)-1, 0), EINVAL);
	EXPECT_ERRNO(syscall(SYS_msgrcv, id, &big, (size_t)-1, 0, IPC_NOWAIT), EINVAL);
	rm(id);
}

TEST(sysv_msg, bad_pointers_are_EFAULT)
{
	int id = new_queue(0600);
	EXPECT_ERRNO(msgsnd(id, (void *)1, 1, 0), EFAULT);
	send(id, 1, "x");
	EXPECT_ERRNO(msgrcv(id, (void *)1, 8, 0, IPC_NOWAIT), EFAULT);
	rm(id);
}

TEST(sysv_msg, a_bad_or_removed_id_is_EINVAL)
{
	int id = new_queue(0600);
	rm(id);
	struct msg m = {.mtype = 1};
	EXPECT_ERRNO(msgsnd(id, &m, 1, IPC_NOWAIT), EINVAL);
	EXPECT_ERRNO(msgrcv(id, &m, 1, 0, IPC_NOWAIT), EINVAL);
	EXPECT_ERRNO(msgsnd(-1, &m, 1, IPC_NOWAIT), EINVAL);
	EXPECT_ERRNO(msgctl(id, IPC_STAT, &(struct msqid_ds){0}), EINVAL);
}

TEST(sysv_msg, a_full_queue_with_IPC_NOWAIT_is_EAGAIN)
{
	int id = new_queue(0600);
	struct msqid_ds ds;
	ASSERT_SYSCALL_OK(msgctl(id, IPC_STAT, &ds));
	ds.msg_qbytes = 10;
	ASSERT_SYSCALL_OK(msgctl(id, IPC_SET, &ds));
	struct msg m = {.mtype = 1};
	EXPECT_SYSCALL_OK(msgsnd(id, &m, 6, IPC_NOWAIT));
	EXPECT_ERRNO(msgsnd(id, &m, 6, IPC_NOWAIT), EAGAIN);
	EXPECT_SYSCALL_OK(msgsnd(id, &m, 4, IPC_NOWAIT));
	rm(id);
}

TEST(sysv_msg, IPC_STAT_counts_bytes_messages_and_pids)
{
	int id = new_queue(0640);
	struct msqid_ds ds;
	ASSERT_SYSCALL_OK(msgctl(id, IPC_STAT, &ds));
	EXPECT_EQ(ds.msg_qnum, 0);
	EXPECT_EQ(ds.msg_perm.mode & 0777, 0640);
	EXPECT_EQ(ds.msg_perm.uid, geteuid());
	EXPECT_GT(ds.msg_qbytes, 0);
	EXPECT_EQ(ds.msg_stime, 0);
	send(id, 1, "abc");
	send(id, 2, "de");
	ASSERT_SYSCALL_OK(msgctl(id, IPC_STAT, &ds));
	EXPECT_EQ(ds.msg_qnum, 2);
	EXPECT_EQ(ds.__msg_cbytes, 5);
	EXPECT_EQ(ds.msg_lspid, getpid());
	EXPECT_EQ(ds.msg_lrpid, 0);
	EXPECT_NE(ds.msg_stime, 0);
	char t[64];
	recv_type(id, 0, 0, t);
	ASSERT_SYSCALL_OK(msgctl(id, IPC_STAT, &ds));
	EXPECT_EQ(ds.msg_qnum, 1);
	EXPECT_EQ(ds.__msg_cbytes, 2);
	EXPECT_EQ(ds.msg_lrpid, getpid());
	rm(id);
}

static void recv_one(int id)
{
	struct msg m;
	ASSERT_EQ(msgrcv(id, &m, sizeof(m.mtext), 9, 0), 4);
	ASSERT_EQ(m.mtype, 9);
	ASSERT_EQ(memcmp(m.mtext, "late", 4), 0);
}

TEST(sysv_msg, a_blocked_msgrcv_gets_a_later_message)
{
	int id = new_queue(0600);
	pid_t pid = fork_blocked(id, recv_one);
	send(id, 1, "other");
	send(id, 9, "late");
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	char t[64];
	EXPECT_EQ(recv_type(id, 0, 0, t), 1);
	rm(id);
}

static void send_big(int id)
{
	struct msg m = {.mtype = 2};
	ASSERT_SYSCALL_OK(msgsnd(id, &m, 8, 0));
}

TEST(sysv_msg, a_blocked_msgsnd_goes_on_when_there_is_room)
{
	int id = new_queue(0600);
	struct msqid_ds ds;
	ASSERT_SYSCALL_OK(msgctl(id, IPC_STAT, &ds));
	ds.msg_qbytes = 10;
	ASSERT_SYSCALL_OK(msgctl(id, IPC_SET, &ds));
	struct msg m = {.mtype = 1};
	ASSERT_SYSCALL_OK(msgsnd(id, &m, 8, 0));
	pid_t pid = fork_blocked(id, send_big);
	ASSERT_SYSCALL_OK(msgctl(id, IPC_STAT, &ds));
	EXPECT_EQ(ds.msg_qnum, 1);
	EXPECT_EQ(msgrcv(id, &m, sizeof(m.mtext), 1, IPC_NOWAIT), 8);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(msgrcv(id, &m, sizeof(m.mtext), 0, IPC_NOWAIT), 8);
	EXPECT_EQ(m.mtype, 2);
	rm(id);
}

static void on_usr1(int sig) { (void)sig; }

static void recv_eintr(int id)
{
	struct msg m;
	ASSERT_ERRNO(msgrcv(id, &m, sizeof(m.mtext), 0, 0), EINTR);
}

TEST(sysv_msg, a_signal_interrupts_msgrcv_with_EINTR_even_with_SA_RESTART)
{
	int id = new_queue(0600);
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL); /* inherited by the child */
	pid_t pid = fork_blocked(id, recv_eintr);
	kill(pid, SIGUSR1);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	rm(id);
}

static void recv_eidrm(int id)
{
	struct msg m;
	ASSERT_ERRNO(msgrcv(id, &m, sizeof(m.mtext), 0, 0), EIDRM);
}

TEST(sysv_msg, IPC_RMID_wakes_receivers_with_EIDRM)
{
	int id = new_queue(0600);
	pid_t pid = fork_blocked(id, recv_eidrm);
	rm(id);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

static void send_eidrm(int id)
{
	struct msg m = {.mtype = 1};
	ASSERT_ERRNO(msgsnd(id, &m, 8, 0), EIDRM);
}

TEST(sysv_msg, IPC_RMID_wakes_senders_with_EIDRM)
{
	int id = new_queue(0600);
	struct msqid_ds ds;
	ASSERT_SYSCALL_OK(msgctl(id, IPC_STAT, &ds));
	ds.msg_qbytes = 8;
	ASSERT_SYSCALL_OK(msgctl(id, IPC_SET, &ds));
	struct msg m = {.mtype = 1};
	ASSERT_SYSCALL_OK(msgsnd(id, &m, 8, 0));
	pid_t pid = fork_blocked(id, send_eidrm);
	rm(id);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(sysv_msg, raising_msg_qbytes_above_msgmnb_needs_CAP_SYS_RESOURCE)
{
	int id = new_queue(0600);
	struct msqid_ds ds;
	ASSERT_SYSCALL_OK(msgctl(id, IPC_STAT, &ds));
	if (geteuid() == 0) {
		/* The child will be user 65534: make it the owner. */
		ds.msg_perm.uid = 65534;
		ASSERT_SYSCALL_OK(msgctl(id, IPC_SET, &ds));
	}
	pid_t pid = fork();
	if (pid == 0) {
		drop_privileges();
		ASSERT_SYSCALL_OK(msgctl(id, IPC_STAT, &ds));
		ds.msg_qbytes -= 1;
		EXPECT_SYSCALL_OK(msgctl(id, IPC_SET, &ds)); /* lowering is allowed */
		ds.msg_qbytes += 2;
		EXPECT_ERRNO(msgctl(id, IPC_SET, &ds), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	rm(id);
}

TEST(sysv_msg, permissions_apply)
{
	int id = new_queue(0600);
	pid_t pid = fork();
	if (pid == 0) {
		int was_root = geteuid() == 0;
		drop_privileges();
		struct msqid_ds ds;
		if (!was_root) {
			ASSERT_SYSCALL_OK(msgctl(id, IPC_STAT, &ds));
			ds.msg_perm.mode = 0;
			ASSERT_SYSCALL_OK(msgctl(id, IPC_SET, &ds));
		}
		struct msg m = {.mtype = 1};
		EXPECT_ERRNO(msgsnd(id, &m, 1, IPC_NOWAIT), EACCES);
		EXPECT_ERRNO(msgrcv(id, &m, 1, 0, IPC_NOWAIT), EACCES);
		EXPECT_ERRNO(msgctl(id, IPC_STAT, &ds), EACCES);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	rm(id);
}

TEST(sysv_msg, only_the_owner_may_remove)
{
	if (geteuid() != 0)
		TEST_SKIP("needs root to act as another user");
	int id = new_queue(0666);
	pid_t pid = fork();
	if (pid == 0) {
		drop_privileges();
		EXPECT_ERRNO(msgctl(id, IPC_RMID, NULL), EPERM);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_SYSCALL_OK(msgctl(id, IPC_RMID, NULL));
}

TEST(sysv_msg, IPC_INFO_and_MSG_INFO)
{
	int id = new_queue(0600);
	send(id, 1, "abc");
	struct msginfo mi;
	EXPECT_GE(msgctl(0, IPC_INFO, (struct msqid_ds *)&mi), 0);
	EXPECT_GT(mi.msgmax, 0);
	EXPECT_GT(mi.msgmnb, 0);
	EXPECT_GT(mi.msgmni, 0);
	EXPECT_GE(msgctl(0, MSG_INFO, (struct msqid_ds *)&mi), 0);
	EXPECT_GE(mi.msgpool, 1); /* queues in use */
	EXPECT_GE(mi.msgmap, 1);  /* messages queued */
	EXPECT_GE(mi.msgtql, 3);  /* bytes queued */
	rm(id);
}

TEST(sysv_msg, MSG_STAT_ANY_by_index_finds_the_queue)
{
	int id = new_queue(0600);
	struct msginfo mi;
	int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&mi);
	ASSERT_GE(max, 0);
	int found = 0;
	for (int i = 0; i <= max && !found; i++) {
		struct msqid_ds ds;
		if (msgctl(i, MSG_STAT_ANY, &ds) == id)
			found = 1;
	}
	EXPECT_TRUE(found);
	rm(id);
}

TEST(sysv_msg, unknown_command_is_EINVAL)
{
	int id = new_queue(0600);
	EXPECT_ERRNO(msgctl(id, 99, NULL), EINVAL);
	EXPECT_ERRNO(msgctl(-1, IPC_STAT, NULL), EINVAL);
	rm(id);
}

TEST(sysv_msg, proc_sysvipc_msg_lists_the_queue)
{
	int id = msgget(pid_key(2), IPC_CREAT | 0620);
	ASSERT_SYSCALL_OK(id);
	send(id, 1, "abcd");
	FILE *f = fopen("/proc/sysvipc/msg", "r");
	ASSERT_TRUE(f != NULL);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		int key, qid;
		unsigned perms;
		unsigned long cbytes, qnum;
		if (sscanf(line, "%d %d %o %lu %lu", &key, &qid, &perms, &cbytes, &qnum) == 5 && qid == id) {
			found = 1;
			EXPECT_EQ(perms, 0620);
			EXPECT_EQ(cbytes, 4);
			EXPECT_EQ(qnum, 1);
		}
	}
	fclose(f);
	EXPECT_TRUE(found);
	rm(id);
}

TEST(sysv_msg, proc_sys_kernel_msgmax_matches_IPC_INFO)
{
	struct msginfo mi;
	ASSERT_GE(msgctl(0, IPC_INFO, (struct msqid_ds *)&mi), 0);
	FILE *f = fopen("/proc/sys/kernel/msgmax", "r");
	ASSERT_TRUE(f != NULL);
	int v = 0;
	ASSERT_EQ(fscanf(f, "%d", &v), 1);
	fclose(f);
	EXPECT_EQ(v, mi.msgmax);
}
