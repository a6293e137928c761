// Signal frames save and restore the FPU/SSE/AVX state exactly.
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "test.h"

static void clobber_xmm0(int sig)
{
	(void)sig;
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0" ::: "xmm0");
}

TEST(signal_frame, xmm_register_changed_by_handler_is_restored_by_sigreturn)
{
	signal(SIGUSR1, clobber_xmm0);
	uint8_t in[16], out[16];
	for (int i = 0; i < 16; i++)
		in[i] = (uint8_t)(i * 7 + 1);
	__asm__ volatile("movdqu %0, %%xmm0" ::"m"(in) : "xmm0");
	// raise() must not touch xmm0 itself: make the syscall directly.
	__asm__ volatile("syscall" ::"a"(62), "D"(getpid()), "S"(SIGUSR1) : "rcx", "r11", "memory");
	__asm__ volatile("movdqu %%xmm0, %0" : "=m"(out)::"xmm0");
	EXPECT_MEMEQ(out, in, 16);
}

static void clobber_ymm0(int sig)
{
	(void)sig;
	__asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0" ::: "xmm0");
}

TEST(signal_frame, ymm_upper_half_changed_by_handler_is_restored_by_sigreturn)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx")) {
		// No AVX on this CPU: the SSE case above covers the frame.
		EXPECT_TRUE(1);
		return;
	}
	signal(SIGUSR1, clobber_ymm0);
	uint8_t in[32], out[32];
	for (int i = 0; i < 32; i++)
		in[i] = (uint8_t)(i * 5 + 3);
	__asm__ volatile("vmovdqu %0, %%ymm0" ::"m"(in) : "xmm0");
	__asm__ volatile("syscall" ::"a"(62), "D"(getpid()), "S"(SIGUSR1) : "rcx", "r11", "memory");
	__asm__ volatile("vmovdqu %%ymm0, %0" : "=m"(out)::"xmm0");
	EXPECT_MEMEQ(out, in, 32);
}

static volatile uint32_t mxcsr_in_handler;

static void read_mxcsr(int sig)
{
	(void)sig;
	uint32_t m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	mxcsr_in_handler = m;
	m |= 0x6000; // round toward zero
	__asm__ volatile("ldmxcsr %0" ::"m"(m));
}

TEST(signal_frame, handler_gets_default_mxcsr_and_its_changes_are_undone)
{
	uint32_t mine = 0x1f80 | 0x2000; // round down
	__asm__ volatile("ldmxcsr %0" ::"m"(mine));
	signal(SIGUSR1, read_mxcsr);
	raise(SIGUSR1);
	uint32_t after;
	__asm__ volatile("stmxcsr %0" : "=m"(after));
	EXPECT_EQ(after & 0x6000, 0x2000);
	uint32_t def = 0x1f80;
	__asm__ volatile("ldmxcsr %0" ::"m"(def));
}

#ifndef UC_FP_XSTATE
#define UC_FP_XSTATE 0x1
#endif

/* Sets MXCSR in the saved frame and, where the frame is in XSAVE format,
 * marks the x87, SSE and AVX components as being in their initial state
 * (XSTATE_BV bits 0-2 clear): sigreturn's XRSTOR still loads MXCSR from
 * the frame (Intel SDM vol. 1, 13.8), while the registers start afresh. */
static void set_frame_mxcsr(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	ucontext_t *uc = ucv;
	uc->uc_mcontext.fpregs->mxcsr = 0x1f80 | 0x6000; /* round toward zero */
	if (uc->uc_flags & UC_FP_XSTATE) {
		uint64_t *xstate_bv = (uint64_t *)((char *)uc->uc_mcontext.fpregs + 512);
		*xstate_bv &= ~(uint64_t)7;
	}
}

TEST(signal_frame, mxcsr_set_in_the_frame_holds_with_sse_marked_initial)
{
	pid_t pid = ASSERT_SYSCALL_OK(fork());
	if (pid == 0) {
		struct sigaction sa = {.sa_sigaction = set_frame_mxcsr, .sa_flags = SA_SIGINFO};
		sigaction(SIGUSR1, &sa, NULL);
		raise(SIGUSR1);
		uint32_t m;
		__asm__ volatile("stmxcsr %0" : "=m"(m));
		if (m != (0x1f80 | 0x6000))
			_exit(1);
		/* The state survives fork, and a zero MXCSR too. */
		pid_t g = fork();
		if (g == 0) {
			__asm__ volatile("stmxcsr %0" : "=m"(m));
			_exit(m == (0x1f80 | 0x6000) ? 0 : 2);
		}
		int st;
		if (waitpid(g, &st, 0) != g || !WIFEXITED(st))
			_exit(3);
		_exit(WEXITSTATUS(st));
	}
	EXPECT_EXIT_STATUS(test_wait_exit(pid), 0);
}
