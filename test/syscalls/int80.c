/* int 0x80 from 64-bit code: the 32-bit system call entry. Linux serves it
 * with the i386 table when the kernel has IA32 emulation, and raises
 * SIGSEGV without it; Palisade implements only the 64-bit ABI and does the
 * latter. Either is fine; serving it as a 64-bit call (number 20 is writev
 * there, not getpid) is the bug these cases catch. */
#include "test.h"

/* i386 getpid is 20 (x86-64's 20 is writev). int80_insn labels the
 * instruction. */
extern char int80_insn[];
__attribute__((noinline)) static long int80_getpid(void)
{
	long ret = 20;
	__asm__ volatile(".globl int80_insn\nint80_insn: int $0x80" : "+a"(ret) : : "memory");
	return ret;
}

TEST(int80, is_the_i386_system_call_or_SIGSEGV_never_a_64_bit_call)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		long got = int80_getpid();
		_exit(got == getpid() ? 0 : 1);
	}
	int ws = test_wait_exit(pid);
	if (WIFSIGNALED(ws))
		EXPECT_KILLED_BY(ws, SIGSEGV);
	else
		EXPECT_EXIT_STATUS(ws, 0);
}

static int report_fd;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	long r[2] = {si->si_code, ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP] == (long)int80_insn};
	write(report_fd, r, sizeof(r));
	_exit(42);
}

TEST(int80, SIGSEGV_when_raised_is_SI_KERNEL_at_the_instruction)
{
	int p[2];
	ASSERT_SYSCALL_OK(pipe(p));
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		report_fd = p[1];
		struct sigaction sa = {0};
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, NULL);
		long got = int80_getpid();
		_exit(got == getpid() ? 0 : 1);
	}
	close(p[1]);
	int ws = test_wait_exit(pid);
	/* Either served (0) or SIGSEGV caught by the handler (42). */
	ASSERT_TRUE(WIFEXITED(ws));
	if (WEXITSTATUS(ws) == 42) {
		long r[2] = {0, 0};
		EXPECT_EQ(read(p[0], r, sizeof(r)), (ssize_t)sizeof(r));
		EXPECT_EQ(r[0], SI_KERNEL);
		EXPECT_EQ(r[1], 1);
	} else {
		EXPECT_EXIT_STATUS(ws, 0);
	}
}
