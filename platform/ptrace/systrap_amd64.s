// The systrap stub code (see systrap.go and docs/platform.md, "systrap").
// The Sentry copies this function's bytes into the stub page at
// stubSystrap; it is never called in the Sentry. It is position
// independent: only relative jumps inside it and absolute addresses of
// the systrap area (CTL, a constant). It has no stack frame and uses no
// stack: the one exception, the signal handler, runs on the alternate
// stack the kernel chose.

#include "textflag.h"

// The control area: a read-only request page at CTL (written by the
// Sentry only) and thread slots of 64 KiB from CTL+0x10000 on.
#define CTL $0x7ffff0000000
#define SLOTMASK $-65536

// Request page fields.
#define REQ_SEQ 0
#define REQ_N 4
#define REQ_PIPE 8
#define REQ_OPS 64
#define OP_SIZE 64
#define OP_AUX 56

// Slot fields.
#define S_STATE 0
#define S_SIGNO 8
#define S_CODE 12
#define S_ADDR 16
#define S_UC 24
#define S_RESUME 32
#define S_ARCH 40
#define S_SYSNR 44
#define S_FSBASE 48
#define S_GSBASE 56
#define S_SETBASES 64
#define S_STACKT 72

// Slot states.
#define RUN $1
#define TRAPPED $2
#define EXIT $3

// func systrapBlob()
TEXT ·systrapBlob(SB), NOSPLIT|NOFRAME, $0-0
	// The entry table: one jump every 8 bytes (systrapEntry*).
	JMP asserver
	PCALIGN $8
	JMP handler
	PCALIGN $8
	JMP restorer
	PCALIGN $8

// asserver: the address-space server, the stub process's first thread.
// It waits for the Sentry to bump the request sequence number, runs the
// requested system calls in order, and answers with one packet on its
// pipe: 1 byte if all succeeded, 1+errno bytes for the first that failed
// (the rest are not run). Its state lives in registers only: R12 the
// request page, R15 the last sequence number served.
asserver:
	MOVQ CTL, R12
	XORL R15, R15

as_wait:
	MOVL REQ_SEQ(R12), AX
	CMPL AX, R15
	JNE as_work
	// futex(&seq, FUTEX_WAIT, last, NULL)
	MOVQ R12, DI
	XORL SI, SI
	MOVL R15, DX
	XORL R10, R10
	MOVL $202, AX
	SYSCALL
	JMP as_wait

as_work:
	MOVL AX, R15
	MOVL REQ_N(R12), R14
	LEAQ REQ_OPS(R12), BX
	XORL R13, R13

as_op:
	CMPL R13, R14
	JAE as_done
	MOVQ 0(BX), AX
	MOVQ 8(BX), DI
	MOVQ 16(BX), SI
	MOVQ 24(BX), DX
	MOVQ 32(BX), R10
	MOVQ 40(BX), R8
	MOVQ 48(BX), R9
	// A new thread takes its slot from BP: once the server has answered,
	// the request page holds the Sentry's next request.
	MOVQ OP_AUX(BX), BP
	SYSCALL
	CMPQ AX, $-4095
	JAE as_fail
	TESTQ AX, AX
	JNE as_next
	// clone(2) returns 0 in the new thread.
	CMPQ 0(BX), $56
	JEQ thread_start

as_next:
	ADDQ $OP_SIZE, BX
	INCL R13
	JMP as_op

as_done:
	MOVL $1, DX
	JMP as_answer

as_fail:
	NEGQ AX
	LEAQ 1(AX), DX

as_answer:
	// write(pipe, request page, DX): the length is the answer.
	MOVL REQ_PIPE(R12), DI
	MOVQ R12, SI
	MOVL $1, AX
	SYSCALL
	JMP as_wait

// thread_start: a guest thread just cloned by the server; BP holds its
// slot (the clone request's aux field). It takes
// its alternate signal stack from the slot, puts itself under the guest
// filter, and waits to be run.
thread_start:
	MOVQ BP, BX
	// sigaltstack(&slot.stack, NULL)
	LEAQ S_STACKT(BX), DI
	XORL SI, SI
	MOVL $131, AX
	SYSCALL
	TESTQ AX, AX
	JNE thread_exit
	// seccomp(SECCOMP_SET_MODE_FILTER, 0, &guest sock_fprog)
	MOVL $1, DI
	XORL SI, SI
	MOVQ $0x7ffffffe0660, DX
	MOVL $317, AX
	SYSCALL
	TESTQ AX, AX
	JNE thread_exit
	JMP wait_run

// handler: every trap signal (SIGSYS from the filter, faults, the kick)
// lands here on the slot's alternate stack: DI signo, SI siginfo, DX
// ucontext. It records them in the slot, wakes the Sentry and waits for
// it; then it returns to the guest through rt_sigreturn from the frame
// the Sentry names (S_RESUME), usually this one, rewritten.
handler:
	MOVQ SP, BX
	ANDQ SLOTMASK, BX
	MOVL DI, S_SIGNO(BX)
	MOVL 8(SI), AX
	MOVL AX, S_CODE(BX)
	MOVQ 16(SI), AX
	MOVQ AX, S_ADDR(BX)
	MOVL 24(SI), AX
	MOVL AX, S_SYSNR(BX)
	MOVL 28(SI), AX
	MOVL AX, S_ARCH(BX)
	MOVQ DX, S_UC(BX)
	MOVL TRAPPED, S_STATE(BX)
	// futex(&state, FUTEX_WAKE, 1)
	MOVQ BX, DI
	MOVL $1, SI
	MOVL $1, DX
	MOVL $202, AX
	SYSCALL

wait_run:
	MOVL S_STATE(BX), DX
	CMPL DX, RUN
	JEQ resume
	CMPL DX, EXIT
	JEQ thread_exit
	// futex(&state, FUTEX_WAIT, state, NULL)
	MOVQ BX, DI
	XORL SI, SI
	XORL R10, R10
	MOVL $202, AX
	SYSCALL
	JMP wait_run

resume:
	MOVL S_SETBASES(BX), R12
	TESTL $1, R12
	JEQ resume_gs
	// arch_prctl(ARCH_SET_FS, fsbase)
	MOVL $0x1002, DI
	MOVQ S_FSBASE(BX), SI
	MOVL $158, AX
	SYSCALL

resume_gs:
	TESTL $2, R12
	JEQ resume_frame
	// arch_prctl(ARCH_SET_GS, gsbase)
	MOVL $0x1001, DI
	MOVQ S_GSBASE(BX), SI
	MOVL $158, AX
	SYSCALL

resume_frame:
	MOVQ S_RESUME(BX), SP

restorer:
	// rt_sigreturn: SP points at the frame's ucontext.
	MOVL $15, AX
	SYSCALL
	// Only a frame the kernel refused comes back here: it sends SIGSEGV.

thread_exit:
	XORL DI, DI
	MOVL $60, AX
	SYSCALL
	JMP thread_exit

	// The end marker systrapCode looks for.
	BYTE $0x0f; BYTE $0x0b
	BYTE $'P'; BYTE $'L'; BYTE $'S'; BYTE $'Y'; BYTE $'S'; BYTE $'T'; BYTE $'R'; BYTE $'P'

DATA ·systrapBlobAddr+0(SB)/8, $·systrapBlob(SB)
GLOBL ·systrapBlobAddr(SB), RODATA, $8
