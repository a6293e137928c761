// Signal frames save and restore the FPU/SSE/AVX state exactly.
#include <signal.h>
#include <stdint.h>
#include <string.h>

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
