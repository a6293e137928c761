/* sigaction(2), signal delivery (signal(7)), sigaltstack(2), sigqueue(3). */
#include "test.h"

static volatile sig_atomic_t hits;
static volatile int last_signo, last_code, last_value;
static volatile pid_t last_pid;
static volatile uintptr_t handler_stack_addr;

static void count(int sig)
{
	last_signo = sig;
	hits++;
}

static void count_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	last_signo = sig;
	last_code = si->si_code;
	last_pid = si->si_pid;
	last_value = si->si_value.sival_int;
	hits++;
}

static void record_stack(int sig)
{
	volatile int local = sig;
	handler_stack_addr = (uintptr_t)&local;
	hits++;
}

static void install(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = {.sa_handler = fn, .sa_flags = flags};
	sigemptyset(&sa.sa_mask);
	ASSERT_SYSCALL_OK(sigaction(sig, &sa, NULL));
}

TEST(sigaction, installed_handler_runs_when_signal_is_raised)
{
	install(SIGUSR1, count, 0);
	ASSERT_EQ(raise(SIGUSR1), 0);
	EXPECT_EQ(hits, 1);
	EXPECT_EQ(last_signo, SIGUSR1);
}

TEST(sigaction, SA_SIGINFO_handler_gets_si_code_SI_USER_and_sender_pid_from_kill)
{
	struct sigaction sa = {.sa_sigaction = count_info, .sa_flags = SA_SIGINFO};
	ASSERT_SYSCALL_OK(sigaction(SIGUSR2, &sa, NULL));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR2));
	EXPECT_EQ(hits, 1);
	EXPECT_EQ(last_signo, SIGUSR2);
	EXPECT_EQ(last_code, SI_USER);
	EXPECT_EQ(last_pid, getpid());
}

TEST(sigqueue, value_is_delivered_in_si_value_with_si_code_SI_QUEUE)
{
	struct sigaction sa = {.sa_sigaction = count_info, .sa_flags = SA_SIGINFO};
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	union sigval v = {.sival_int = 4242};
	ASSERT_SYSCALL_OK(sigqueue(getpid(), SIGUSR1, v));
	EXPECT_EQ(hits, 1);
	EXPECT_EQ(last_code, SI_QUEUE);
	EXPECT_EQ(last_value, 4242);
}

TEST(sigaction, returns_the_previous_action_in_oldact)
{
	install(SIGUSR1, count, SA_RESTART);
	struct sigaction old;
	struct sigaction sa = {.sa_handler = SIG_IGN};
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, &old));
	EXPECT_EQ(old.sa_handler, count);
	EXPECT_TRUE(old.sa_flags & SA_RESTART);
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, NULL, &old));
	EXPECT_EQ(old.sa_handler, SIG_IGN);
}

TEST(sigaction, SIG_IGN_discards_the_signal)
{
	install(SIGUSR1, SIG_IGN, 0);
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	sigset_t pending;
	ASSERT_SYSCALL_OK(sigpending(&pending));
	EXPECT_FALSE(sigismember(&pending, SIGUSR1));
}

TEST(sigaction, SA_RESETHAND_restores_default_action_after_first_delivery)
{
	install(SIGUSR1, count, SA_RESETHAND);
	ASSERT_EQ(raise(SIGUSR1), 0);
	EXPECT_EQ(hits, 1);
	struct sigaction cur;
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, NULL, &cur));
	EXPECT_EQ(cur.sa_handler, SIG_DFL);
}

TEST(sigaction, for_SIGKILL_or_SIGSTOP_fails_with_EINVAL)
{
	struct sigaction sa = {.sa_handler = count};
	EXPECT_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
	EXPECT_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
}

TEST(sigaction, invalid_signal_number_fails_with_EINVAL)
{
	struct sigaction sa = {.sa_handler = count};
	EXPECT_ERRNO(sigaction(0, &sa, NULL), EINVAL);
	EXPECT_ERRNO(syscall(SYS_rt_sigaction, 65, NULL, NULL, 8), EINVAL);
}

TEST(rt_sigaction, wrong_sigsetsize_fails_with_EINVAL)
{
	EXPECT_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4), EINVAL);
}

static volatile int inside_blocked = -1;

/* Records whether sig is blocked while its own handler runs. */
static void look(int sig)
{
	sigset_t m;
	sigprocmask(SIG_SETMASK, NULL, &m);
	inside_blocked = sigismember(&m, sig);
}

TEST(sigaction, handler_blocks_the_signal_itself_unless_SA_NODEFER)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count;
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = look;
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	raise(SIGUSR1);
	EXPECT_EQ(inside_blocked, 1);
	sa.sa_flags = SA_NODEFER;
	ASSERT_SYSCALL_OK(sigaction(SIGUSR1, &sa, NULL));
	raise(SIGUSR1);
	EXPECT_EQ(inside_blocked, 0);
	sigset_t after;
	sigprocmask(SIG_SETMASK, NULL, &after);
	EXPECT_FALSE(sigismember(&after, SIGUSR1));
}

TEST(sigsuspend, returns_EINTR_after_handler_for_pending_signal_runs)
{
	install(SIGUSR1, count, 0);
	sigset_t block, empty;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&empty);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &block, NULL));
	ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	EXPECT_EQ(hits, 0);
	EXPECT_ERRNO(sigsuspend(&empty), EINTR);
	EXPECT_EQ(hits, 1);
	sigset_t now;
	ASSERT_SYSCALL_OK(sigprocmask(SIG_SETMASK, NULL, &now));
	EXPECT_TRUE(sigismember(&now, SIGUSR1));
}

TEST(signal, standard_signals_coalesce_while_pending_but_realtime_ones_queue)
{
	install(SIGUSR1, count, 0);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &block, NULL));
	for (int i = 0; i < 3; i++)
		ASSERT_SYSCALL_OK(kill(getpid(), SIGUSR1));
	ASSERT_SYSCALL_OK(sigprocmask(SIG_UNBLOCK, &block, NULL));
	EXPECT_EQ(hits, 1);

	hits = 0;
	install(SIGRTMIN, count, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN);
	ASSERT_SYSCALL_OK(sigprocmask(SIG_BLOCK, &block, NULL));
	for (int i = 0; i < 3; i++)
		ASSERT_SYSCALL_OK(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i}));
	ASSERT_SYSCALL_OK(sigprocmask(SIG_UNBLOCK, &block, NULL));
	EXPECT_EQ(hits, 3);
}

TEST(sigaltstack, SA_ONSTACK_handler_runs_on_the_alternate_stack)
{
	static char alt[64 * 1024];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0};
	ASSERT_SYSCALL_OK(sigaltstack(&ss, NULL));
	install(SIGUSR1, record_stack, SA_ONSTACK);
	raise(SIGUSR1);
	EXPECT_EQ(hits, 1);
	EXPECT_GE(handler_stack_addr, (uintptr_t)alt);
	EXPECT_LT(handler_stack_addr, (uintptr_t)alt + sizeof(alt));
	stack_t cur;
	ASSERT_SYSCALL_OK(sigaltstack(NULL, &cur));
	EXPECT_EQ(cur.ss_sp, alt);
	EXPECT_EQ(cur.ss_flags & SS_ONSTACK, 0);
}

TEST(sigaltstack, stack_smaller_than_MINSIGSTKSZ_fails_with_ENOMEM)
{
	static char small[512];
	stack_t ss = {.ss_sp = small, .ss_size = sizeof(small), .ss_flags = 0};
	EXPECT_ERRNO(sigaltstack(&ss, NULL), ENOMEM);
}

TEST(signal, default_action_of_SIGUSR1_terminates_the_process)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		signal(SIGUSR1, SIG_DFL);
		raise(SIGUSR1);
		_exit(0);
	}
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGUSR1);
}

TEST(signal, default_action_of_SIGCHLD_is_to_ignore_it)
{
	install(SIGCHLD, SIG_DFL, 0);
	ASSERT_SYSCALL_OK(kill(getpid(), SIGCHLD));
	EXPECT_EQ(hits, 0); /* still alive */
}

TEST(signal, registers_and_locals_survive_repeated_handler_delivery)
{
	install(SIGUSR1, count, 0);
	volatile double d = 1.5;
	volatile long l = 0x1122334455667788L;
	for (int i = 0; i < 100; i++)
		raise(SIGUSR1);
	EXPECT_EQ(hits, 100);
	EXPECT_TRUE(d == 1.5);
	EXPECT_EQ(l, 0x1122334455667788L);
}

static void exit_7_if_fault_at_16(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	_exit(si->si_addr == (void *)16 && si->si_code == SEGV_MAPERR ? 7 : 8);
}

TEST(signal, SIGSEGV_from_bad_access_runs_handler_with_si_addr)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct sigaction sa = {.sa_sigaction = exit_7_if_fault_at_16, .sa_flags = SA_SIGINFO};
		sigaction(SIGSEGV, &sa, NULL);
		*(volatile int *)16 = 1;
		_exit(9);
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 7);
}

TEST(sigtimedwait, SIGKILL_ends_a_task_waiting_in_it)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		struct timespec ts = {60, 0};
		sigtimedwait(&set, NULL, &ts);
		_exit(3);
	}
	usleep(100 * 1000); /* let it block */
	ASSERT_SYSCALL_OK(kill(pid, SIGKILL));
	EXPECT_KILLED_BY(test_wait_exit(pid), SIGKILL);
}
