package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/abi/linux"
)

// int80Warned makes the int 0x80 warning a one-time line per Sentry.
var int80Warned atomic.Bool

// enteredThroughInt80 reports whether the system call the task just made
// came through int 0x80, the i386 gate, rather than the syscall
// instruction: the platform sees both as a system call stop. syscall
// copies rip into rcx and the flags into r11, so only a stop where they
// differ needs the instruction bytes checked.
func (t *Task) enteredThroughInt80() bool {
	r := &t.st.Regs
	if (r.Rcx == r.Rip && r.R11 == r.Eflags) || r.Rip < 2 {
		return false
	}
	var insn [2]byte
	if _, err := t.CopyIn(r.Rip-2, insn[:]); err != nil {
		return false
	}
	return insn[0] == 0xcd && insn[1] == 0x80
}

// refuseInt80 answers an int 0x80 system call as a kernel without IA32
// emulation does: SIGSEGV (SI_KERNEL) at the instruction, registers as they
// were. Palisade implements only the x86-64 system call ABI; serving the
// call as a 64-bit one would run a different call (i386 getpid, 20, is
// writev on x86-64).
func (t *Task) refuseInt80() {
	r := &t.st.Regs
	if !int80Warned.Swap(true) {
		t.k.Warnf("task %d: 32-bit system call %d through int 0x80 is not supported (i386 ABI); sending SIGSEGV", t.tid, r.Orig_rax)
	}
	r.Rax = r.Orig_rax
	r.Rip -= 2
	t.forceSignal(int(unix.SIGSEGV), linux.SI_KERNEL, 0)
}
