/*
 * POSIX message queues: mq_open(3), mq_unlink(3), mq_timedsend(3),
 * mq_timedreceive(3), mq_notify(3), mq_getsetattr(2), and queue
 * descriptors as files (poll, O_NONBLOCK, read).
 *
 * Native runs share the host's queues: every name has the PID in it and
 * every case unlinks what it creates.
 */
#include "test.h"

#include <grp.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <time.h>

/* Names are made from the case's PID: compute them before forking. */
static const char *qname(int n)
{
	static char buf[4][64];
	static int i;
	char *b = buf[i++ % 4];
	snprintf(b, 64, "/palisade-mq-%d-%d", getpid(), n);
	return b;
}

static mqd_t open_q(int n, int flags, long maxmsg, long msgsize)
{
	struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
	mqd_t q = mq_open(qname(n), O_CREAT | O_EXCL | flags, 0600, &a);
	ASSERT_NE(q, (mqd_t)-1);
	return q;
}

static void drop_privileges(void)
{
	if (geteuid() == 0) {
		ASSERT_SYSCALL_OK(setgroups(0, NULL));
		ASSERT_SYSCALL_OK(setgid(65534));
		ASSERT_SYSCALL_OK(setuid(65534));
	}
}

TEST(mqueue, create_send_receive)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	EXPECT_SYSCALL_OK(mq_send(q, "hello", 5, 3));
	char buf[16];
	unsigned prio = 0;
	EXPECT_EQ(mq_receive(q, buf, sizeof(buf), &prio), 5);
	EXPECT_MEMEQ(buf, "hello", 5);
	EXPECT_EQ(prio, 3);
	mq_close(q);
	EXPECT_SYSCALL_OK(mq_unlink(qname(1)));
}

TEST(mqueue, higher_priority_first_then_fifo)
{
	mqd_t q = open_q(1, O_RDWR, 8, 16);
	mq_send(q, "a", 1, 1);
	mq_send(q, "b", 1, 5);
	mq_send(q, "c", 1, 1);
	mq_send(q, "d", 1, 5);
	char want[] = "bdac", buf[16];
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(mq_receive(q, buf, sizeof(buf), NULL), 1);
		EXPECT_EQ(buf[0], want[i]);
	}
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, getattr_reports_the_attributes_and_count)
{
	mqd_t q = open_q(1, O_RDWR | O_NONBLOCK, 5, 100);
	mq_send(q, "x", 1, 0);
	struct mq_attr a;
	EXPECT_SYSCALL_OK(mq_getattr(q, &a));
	EXPECT_EQ(a.mq_maxmsg, 5);
	EXPECT_EQ(a.mq_msgsize, 100);
	EXPECT_EQ(a.mq_curmsgs, 1);
	EXPECT_EQ(a.mq_flags, O_NONBLOCK);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, setattr_changes_only_O_NONBLOCK)
{
	mqd_t q = open_q(1, O_RDWR, 5, 100);
	struct mq_attr n = {.mq_flags = O_NONBLOCK, .mq_maxmsg = 99}, old;
	EXPECT_SYSCALL_OK(mq_setattr(q, &n, &old));
	EXPECT_EQ(old.mq_flags, 0);
	struct mq_attr a;
	mq_getattr(q, &a);
	EXPECT_EQ(a.mq_flags, O_NONBLOCK);
	EXPECT_EQ(a.mq_maxmsg, 5);
	char buf[100];
	EXPECT_ERRNO(mq_receive(q, buf, sizeof(buf), NULL), EAGAIN);
	n.mq_flags = O_APPEND;
	EXPECT_ERRNO(syscall(SYS_mq_getsetattr, q, &n, NULL), EINVAL);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, default_attributes_come_from_proc)
{
	mqd_t q = mq_open(qname(1), O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	ASSERT_NE(q, (mqd_t)-1);
	struct mq_attr a;
	mq_getattr(q, &a);
	FILE *f = fopen("/proc/sys/fs/mqueue/msg_default", "r");
	long def = 10;
	if (f) {
		ASSERT_EQ(fscanf(f, "%ld", &def), 1);
		fclose(f);
	}
	EXPECT_EQ(a.mq_maxmsg, def);
	EXPECT_GT(a.mq_msgsize, 0);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, O_EXCL_on_an_existing_queue_is_EEXIST)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	EXPECT_EQ(mq_open(qname(1), O_CREAT | O_EXCL | O_RDWR, 0600, NULL), (mqd_t)-1);
	EXPECT_EQ(errno, EEXIST);
	mqd_t q2 = mq_open(qname(1), O_RDONLY);
	EXPECT_NE(q2, (mqd_t)-1);
	mq_close(q2);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, missing_queue_is_ENOENT)
{
	EXPECT_EQ(mq_open(qname(1), O_RDONLY), (mqd_t)-1);
	EXPECT_EQ(errno, ENOENT);
	EXPECT_ERRNO(mq_unlink(qname(1)), ENOENT);
}

TEST(mqueue, names_the_kernel_refuses)
{
	EXPECT_ERRNO(syscall(SYS_mq_open, "a/b", O_CREAT | O_RDWR, 0600, NULL), EACCES);
	EXPECT_ERRNO(syscall(SYS_mq_open, "", O_CREAT | O_RDWR, 0600, NULL), ENOENT);
	EXPECT_ERRNO(syscall(SYS_mq_open, ".", O_CREAT | O_RDWR, 0600, NULL), EACCES);
	EXPECT_ERRNO(syscall(SYS_mq_open, "..", O_CREAT | O_RDWR, 0600, NULL), EACCES);
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	EXPECT_ERRNO(syscall(SYS_mq_open, longname, O_CREAT | O_RDWR, 0600, NULL), ENAMETOOLONG);
	EXPECT_ERRNO(syscall(SYS_mq_open, (void *)1, O_CREAT | O_RDWR, 0600, NULL), EFAULT);
}

TEST(mqueue, bad_attributes_are_EINVAL)
{
	struct mq_attr a = {.mq_maxmsg = 0, .mq_msgsize = 16};
	EXPECT_EQ(mq_open(qname(1), O_CREAT | O_RDWR, 0600, &a), (mqd_t)-1);
	EXPECT_EQ(errno, EINVAL);
	a = (struct mq_attr){.mq_maxmsg = 4, .mq_msgsize = -1};
	EXPECT_EQ(mq_open(qname(1), O_CREAT | O_RDWR, 0600, &a), (mqd_t)-1);
	EXPECT_EQ(errno, EINVAL);
	a = (struct mq_attr){.mq_maxmsg = 1L << 40, .mq_msgsize = 16};
	EXPECT_EQ(mq_open(qname(1), O_CREAT | O_RDWR, 0600, &a), (mqd_t)-1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_ERRNO(mq_unlink(qname(1)), ENOENT);
}

TEST(mqueue, attributes_above_the_limits_need_CAP_SYS_RESOURCE)
{
	pid_t pid = fork();
	if (pid == 0) {
		drop_privileges();
		struct mq_attr a = {.mq_maxmsg = 100000, .mq_msgsize = 16};
		ASSERT_EQ(mq_open(qname(1), O_CREAT | O_RDWR, 0600, &a), (mqd_t)-1);
		ASSERT_EQ(errno, EINVAL);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}

TEST(mqueue, O_ACCMODE_is_EINVAL_on_an_existing_queue)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	EXPECT_ERRNO(syscall(SYS_mq_open, qname(1) + 1, O_RDWR | O_WRONLY, 0, NULL), EINVAL);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, full_queue_with_O_NONBLOCK_is_EAGAIN)
{
	mqd_t q = open_q(1, O_RDWR | O_NONBLOCK, 2, 16);
	EXPECT_SYSCALL_OK(mq_send(q, "1", 1, 0));
	EXPECT_SYSCALL_OK(mq_send(q, "2", 1, 0));
	EXPECT_ERRNO(mq_send(q, "3", 1, 0), EAGAIN);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, message_longer_than_msgsize_is_EMSGSIZE)
{
	mqd_t q = open_q(1, O_RDWR, 2, 4);
	EXPECT_ERRNO(mq_send(q, "12345", 5, 0), EMSGSIZE);
	char buf[8];
	EXPECT_ERRNO(mq_receive(q, buf, 3, NULL), EMSGSIZE);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, priority_at_or_above_MQ_PRIO_MAX_is_EINVAL)
{
	mqd_t q = open_q(1, O_RDWR, 2, 4);
	EXPECT_ERRNO(mq_send(q, "1", 1, 32768), EINVAL);
	EXPECT_SYSCALL_OK(mq_send(q, "1", 1, 32767));
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, wrong_access_mode_or_descriptor_is_EBADF)
{
	mqd_t q = open_q(1, O_WRONLY, 2, 4);
	char buf[8];
	EXPECT_ERRNO(mq_receive(q, buf, sizeof(buf), NULL), EBADF);
	mqd_t r = mq_open(qname(1), O_RDONLY);
	ASSERT_NE(r, (mqd_t)-1);
	EXPECT_ERRNO(mq_send(r, "1", 1, 0), EBADF);
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	EXPECT_ERRNO(mq_send(p[1], "1", 1, 0), EBADF);
	EXPECT_ERRNO(mq_receive(p[0], buf, sizeof(buf), NULL), EBADF);
	struct mq_attr a;
	EXPECT_ERRNO(mq_getattr(p[0], &a), EBADF);
	EXPECT_ERRNO(mq_notify(p[0], NULL), EBADF);
	EXPECT_ERRNO(mq_getattr(-1, &a), EBADF);
	mq_close(q);
	mq_close(r);
	mq_unlink(qname(1));
}

TEST(mqueue, timedreceive_on_an_empty_queue_times_out)
{
	mqd_t q = open_q(1, O_RDWR, 2, 4);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	char buf[8];
	EXPECT_ERRNO(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts), ETIMEDOUT);
	struct timespec past = {1, 0};
	EXPECT_ERRNO(mq_timedreceive(q, buf, sizeof(buf), NULL, &past), ETIMEDOUT);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, timedsend_on_a_full_queue_times_out)
{
	mqd_t q = open_q(1, O_RDWR, 1, 4);
	mq_send(q, "1", 1, 0);
	struct timespec past = {1, 0};
	EXPECT_ERRNO(mq_timedsend(q, "2", 1, 0, &past), ETIMEDOUT);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, invalid_timeout_is_EINVAL)
{
	mqd_t q = open_q(1, O_RDWR, 1, 4);
	struct timespec bad = {0, 1000000000};
	char buf[8];
	EXPECT_ERRNO(mq_timedreceive(q, buf, sizeof(buf), NULL, &bad), EINVAL);
	EXPECT_ERRNO(mq_timedsend(q, "2", 1, 0, &bad), EINVAL);
	EXPECT_ERRNO(syscall(SYS_mq_timedsend, q, "2", 1, 0, (void *)1), EFAULT);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, timed_calls_that_need_not_wait_succeed)
{
	mqd_t q = open_q(1, O_RDWR, 1, 4);
	struct timespec past = {1, 0};
	EXPECT_SYSCALL_OK(mq_timedsend(q, "2", 1, 0, &past));
	char buf[8];
	EXPECT_EQ(mq_timedreceive(q, buf, sizeof(buf), NULL, &past), 1);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, a_blocked_receive_gets_a_later_message)
{
	mqd_t q = open_q(1, O_RDWR, 2, 8);
	pid_t pid = fork();
	if (pid == 0) {
		char buf[8];
		unsigned prio;
		ASSERT_EQ(mq_receive(q, buf, sizeof(buf), &prio), 4);
		ASSERT_EQ(prio, 7);
		_exit(0);
	}
	EXPECT_SYSCALL_OK(mq_send(q, "late", 4, 7));
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, a_blocked_send_goes_on_when_there_is_room)
{
	mqd_t q = open_q(1, O_RDWR, 1, 8);
	mq_send(q, "one", 3, 0);
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_SYSCALL_OK(mq_send(q, "two", 3, 0));
		_exit(0);
	}
	char buf[8];
	EXPECT_EQ(mq_receive(q, buf, sizeof(buf), NULL), 3);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	EXPECT_EQ(mq_receive(q, buf, sizeof(buf), NULL), 3);
	EXPECT_MEMEQ(buf, "two", 3);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, poll_sees_readable_and_writable)
{
	mqd_t q = open_q(1, O_RDWR, 1, 8);
	struct pollfd p = {.fd = q, .events = POLLIN | POLLOUT};
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLOUT);
	mq_send(q, "x", 1, 0);
	EXPECT_EQ(poll(&p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLIN);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, poll_wakes_when_a_message_arrives)
{
	mqd_t q = open_q(1, O_RDWR, 1, 8);
	pid_t pid = fork();
	if (pid == 0) {
		struct pollfd p = {.fd = q, .events = POLLIN};
		ASSERT_EQ(poll(&p, 1, -1), 1);
		ASSERT_EQ(p.revents, POLLIN);
		_exit(0);
	}
	mq_send(q, "x", 1, 0);
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, reading_the_descriptor_shows_QSIZE)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	mq_send(q, "abc", 3, 0);
	mq_send(q, "de", 2, 0);
	char buf[128] = {0};
	EXPECT_GT(read(q, buf, sizeof(buf) - 1), 0);
	EXPECT_TRUE(strncmp(buf, "QSIZE:5 ", 8) == 0);
	EXPECT_TRUE(strstr(buf, "NOTIFY:0") != NULL);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, unlinked_queue_lives_while_open)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	EXPECT_SYSCALL_OK(mq_unlink(qname(1)));
	EXPECT_EQ(mq_open(qname(1), O_RDONLY), (mqd_t)-1);
	EXPECT_SYSCALL_OK(mq_send(q, "x", 1, 0));
	char buf[16];
	EXPECT_EQ(mq_receive(q, buf, sizeof(buf), NULL), 1);
	/* The name can be used again at once. */
	mqd_t q2 = open_q(1, O_RDWR, 4, 16);
	struct mq_attr a;
	mq_getattr(q2, &a);
	EXPECT_EQ(a.mq_curmsgs, 0);
	mq_close(q2);
	mq_close(q);
	mq_unlink(qname(1));
}

static volatile sig_atomic_t got_sig, got_code, got_pid, got_value;
static void on_notify(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_value = si->si_value.sival_int;
}

TEST(mqueue, notify_signals_when_a_message_reaches_an_empty_queue)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	struct sigaction sa = {.sa_sigaction = on_notify, .sa_flags = SA_SIGINFO};
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	ev.sigev_value.sival_int = 1234;
	EXPECT_SYSCALL_OK(mq_notify(q, &ev));
	EXPECT_ERRNO(mq_notify(q, &ev), EBUSY);
	EXPECT_SYSCALL_OK(mq_send(q, "x", 1, 0));
	sigprocmask(SIG_SETMASK, &old, NULL);
	EXPECT_EQ(got_sig, SIGUSR1);
	EXPECT_EQ(got_code, SI_MESGQ);
	EXPECT_EQ(got_pid, getpid());
	EXPECT_EQ(got_value, 1234);
	/* The registration is gone: registering again works. */
	EXPECT_SYSCALL_OK(mq_notify(q, &ev));
	EXPECT_SYSCALL_OK(mq_notify(q, NULL));
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, notify_is_not_sent_for_a_nonempty_queue)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	mq_send(q, "a", 1, 0);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2};
	EXPECT_SYSCALL_OK(mq_notify(q, &ev));
	EXPECT_SYSCALL_OK(mq_send(q, "b", 1, 0));
	sigset_t pend;
	sigpending(&pend);
	EXPECT_FALSE(sigismember(&pend, SIGUSR2));
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, notify_registration_of_another_process_is_EBUSY)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	struct sigevent ev = {.sigev_notify = SIGEV_NONE};
	EXPECT_SYSCALL_OK(mq_notify(q, &ev));
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_ERRNO(mq_notify(q, &ev), EBUSY);
		/* Removing another process's registration does nothing. */
		ASSERT_SYSCALL_OK(mq_notify(q, NULL));
		ASSERT_ERRNO(mq_notify(q, &ev), EBUSY);
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	char buf[128] = {0};
	EXPECT_GT(read(q, buf, sizeof(buf) - 1), 0);
	char want[64];
	snprintf(want, sizeof(want), "NOTIFY_PID:%d", getpid());
	EXPECT_TRUE(strstr(buf, want) != NULL);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, notify_with_a_bad_sigevent_is_EINVAL)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	struct sigevent ev = {.sigev_notify = 99};
	EXPECT_ERRNO(syscall(SYS_mq_notify, q, &ev), EINVAL);
	ev = (struct sigevent){.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 200};
	EXPECT_ERRNO(syscall(SYS_mq_notify, q, &ev), EINVAL);
	EXPECT_ERRNO(syscall(SYS_mq_notify, q, (void *)1), EFAULT);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, raw_SIGEV_THREAD_with_a_descriptor_that_is_not_netlink_fails)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	char cookie[32] = {0};
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_signo = p[0]};
	ev.sigev_value.sival_ptr = cookie;
	EXPECT_ERRNO(syscall(SYS_mq_notify, q, &ev), ENOTSOCK);
	ev.sigev_signo = 999;
	EXPECT_ERRNO(syscall(SYS_mq_notify, q, &ev), EBADF);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, a_signal_interrupts_a_blocked_receive)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid_t pid = fork();
	if (pid == 0) {
		struct sigaction sa = {.sa_sigaction = on_notify, .sa_flags = SA_SIGINFO}; /* no SA_RESTART */
		sigaction(SIGUSR1, &sa, NULL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		char buf[16];
		ASSERT_ERRNO(mq_receive(q, buf, sizeof(buf), NULL), EINTR);
		_exit(0);
	}
	/* Keep signalling until the child has been interrupted. */
	int status;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGUSR1);
		sched_yield();
	}
	EXPECT_EXIT_STATUS(status, 0);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, permissions_apply)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	const char *name = qname(1);
	pid_t pid = fork();
	if (pid == 0) {
		int was_root = geteuid() == 0;
		drop_privileges();
		if (was_root) {
			ASSERT_EQ(mq_open(name, O_RDONLY), (mqd_t)-1);
			ASSERT_EQ(errno, EACCES);
			ASSERT_EQ(mq_unlink(name), -1);
			ASSERT_EQ(errno, EACCES);
		}
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	mq_close(q);
	EXPECT_SYSCALL_OK(mq_unlink(qname(1)));
}

TEST(mqueue, mode_is_masked_by_umask)
{
	mode_t old = umask(022);
	mqd_t q = mq_open(qname(1), O_CREAT | O_EXCL | O_RDWR, 0666, NULL);
	umask(old);
	ASSERT_NE(q, (mqd_t)-1);
	struct stat st;
	EXPECT_SYSCALL_OK(fstat(q, &st));
	EXPECT_EQ(st.st_mode & 0777, 0644);
	EXPECT_TRUE(S_ISREG(st.st_mode));
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, descriptor_survives_fork_and_is_shared)
{
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	pid_t pid = fork();
	if (pid == 0) {
		ASSERT_SYSCALL_OK(mq_send(q, "kid", 3, 2));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	char buf[16];
	EXPECT_EQ(mq_receive(q, buf, sizeof(buf), NULL), 3);
	mq_close(q);
	mq_unlink(qname(1));
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	long v = -1;
	ASSERT_EQ(fscanf(f, "%ld", &v), 1);
	fclose(f);
	return v;
}

TEST(mqueue, proc_sys_fs_mqueue_shows_the_limits)
{
	EXPECT_GE(read_long("/proc/sys/fs/mqueue/msg_max"), 1);
	EXPECT_GE(read_long("/proc/sys/fs/mqueue/msgsize_max"), 128);
	EXPECT_GE(read_long("/proc/sys/fs/mqueue/queues_max"), 0);
	long def = read_long("/proc/sys/fs/mqueue/msgsize_default");
	mqd_t q = mq_open(qname(1), O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	ASSERT_NE(q, (mqd_t)-1);
	struct mq_attr a;
	mq_getattr(q, &a);
	EXPECT_EQ(a.mq_msgsize, def);
	mq_close(q);
	mq_unlink(qname(1));
}

TEST(mqueue, writing_msg_max_limits_unprivileged_queues)
{
	SKIP_UNLESS_IN_SANDBOX(); /* would change the host's limit */
	if (geteuid() != 0)
		TEST_SKIP("needs root to write /proc/sys");
	long old = read_long("/proc/sys/fs/mqueue/msg_max");
	int fd = open("/proc/sys/fs/mqueue/msg_max", O_WRONLY);
	ASSERT_SYSCALL_OK(fd);
	EXPECT_ERRNO(write(fd, "0\n", 2), EINVAL);
	ASSERT_EQ(write(fd, "3\n", 2), 2);
	close(fd);
	const char *name = qname(1);
	pid_t pid = fork();
	if (pid == 0) {
		drop_privileges();
		struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 16};
		ASSERT_EQ(mq_open(name, O_CREAT | O_RDWR, 0600, &a), (mqd_t)-1);
		ASSERT_EQ(errno, EINVAL);
		a.mq_maxmsg = 3;
		mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &a);
		ASSERT_NE(q, (mqd_t)-1);
		ASSERT_SYSCALL_OK(mq_unlink(name));
		_exit(0);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld\n", old);
	fd = open("/proc/sys/fs/mqueue/msg_max", O_WRONLY);
	ASSERT_SYSCALL_OK(fd);
	ASSERT_EQ(write(fd, buf, strlen(buf)), (ssize_t)strlen(buf));
	close(fd);
}

/* Whether /dev/mqueue is an mqueue mount (it is in the sandbox; a host
 * may not have one). */
static int have_dev_mqueue(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return 0;
	char line[1024];
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " /dev/mqueue ") && strstr(line, " - mqueue "))
			found = 1;
	fclose(f);
	return found;
}

TEST(mqueue, queues_show_in_dev_mqueue_with_their_status)
{
	if (!have_dev_mqueue())
		TEST_SKIP("no mqueue filesystem at /dev/mqueue");
	mqd_t q = open_q(1, O_RDWR, 4, 16);
	mq_send(q, "abcdef", 6, 0);
	char path[128];
	snprintf(path, sizeof(path), "/dev/mqueue%s", qname(1));
	struct stat st;
	EXPECT_SYSCALL_OK(stat(path, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(st.st_mode & 0777, 0600);
	int fd = open(path, O_RDONLY);
	ASSERT_SYSCALL_OK(fd);
	char buf[128] = {0};
	EXPECT_GT(read(fd, buf, sizeof(buf) - 1), 0);
	EXPECT_TRUE(strncmp(buf, "QSIZE:6 ", 8) == 0);
	close(fd);
	struct stat dst;
	EXPECT_SYSCALL_OK(stat("/dev/mqueue", &dst));
	EXPECT_EQ(dst.st_mode & 07777, 01777);
	mq_close(q);
	EXPECT_SYSCALL_OK(unlink(path));
	EXPECT_ERRNO(stat(path, &st), ENOENT);
	EXPECT_EQ(mq_open(qname(1), O_RDONLY), (mqd_t)-1);
	EXPECT_EQ(errno, ENOENT);
}

TEST(mqueue, open_O_CREAT_in_dev_mqueue_makes_a_queue)
{
	if (!have_dev_mqueue())
		TEST_SKIP("no mqueue filesystem at /dev/mqueue");
	char path[128];
	snprintf(path, sizeof(path), "/dev/mqueue%s", qname(2));
	int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	ASSERT_SYSCALL_OK(fd);
	close(fd);
	mqd_t q = mq_open(qname(2), O_RDWR);
	ASSERT_NE(q, (mqd_t)-1);
	EXPECT_SYSCALL_OK(mq_send(q, "x", 1, 0));
	mq_close(q);
	EXPECT_SYSCALL_OK(mq_unlink(qname(2)));
	EXPECT_ERRNO(mkdir("/dev/mqueue/palisade-dir", 0700), EPERM);
}
