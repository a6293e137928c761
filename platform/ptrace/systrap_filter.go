package ptrace

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// The systrap platform's two seccomp programs (docs/platform.md,
// "systrap"). Both tell the stub page's instructions from all others by
// the instruction pointer:
//
//   - systrapStubFilter, installed in the master stub and so inherited
//     by every stub thread: a call from outside the stub page is guest
//     code's and traps (SIGSYS), whatever its architecture or number; a
//     call from the stub page must be an x86-64 call the platform's own
//     code or its injected set-up makes, or the stub process is killed.
//   - systrapGuestFilter, which every guest thread adds for itself before
//     it runs guest code (filters stack; the strictest answer wins): from
//     the stub page it allows only what the trap handler itself needs
//     (futex wait and wake, rt_sigreturn, exit, arch_prctl setting the FS
//     or GS base), so guest code jumping into the stub page can't map
//     memory, clone, or write to the server's pipe.

// seccomp_data offsets.
const (
	sdNr     = 0
	sdArch   = 4
	sdIPLow  = 8
	sdIPHigh = 12
	sdArg0   = 16
	sdArg1   = 24
)

// Numbers the golang.org/x/sys/unix package does not name.
const (
	archSetGS   = 0x1001
	archSetFS   = 0x1002
	futexWaitOp = 0
	futexWakeOp = 1
)

const (
	auditArchX8664 = 0xc000003e
	x32SyscallBit  = 0x40000000
)

// bpfProg is a tiny seccomp program assembler: instructions with named
// jump targets resolved by build.
type bpfProg struct {
	ins    []unix.SockFilter
	labels map[string]int
	// jumps are the instructions whose jt/jf name labels.
	jumps []bpfJump
}

type bpfJump struct {
	at     int
	jt, jf string
}

func (b *bpfProg) label(name string) {
	if b.labels == nil {
		b.labels = map[string]int{}
	}
	b.labels[name] = len(b.ins)
}

func (b *bpfProg) load(off uint32) {
	b.ins = append(b.ins, unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off})
}

// jump emits a conditional jump (op: BPF_JEQ, BPF_JGE) on K to label jt
// if it holds and to jf if not ("" is the next instruction).
func (b *bpfProg) jump(op uint16, k uint32, jt, jf string) {
	b.jumps = append(b.jumps, bpfJump{len(b.ins), jt, jf})
	b.ins = append(b.ins, unix.SockFilter{Code: unix.BPF_JMP | op | unix.BPF_K, K: k})
}

func (b *bpfProg) ret(action uint32) {
	b.ins = append(b.ins, unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: action})
}

func (b *bpfProg) build() ([]unix.SockFilter, error) {
	for _, j := range b.jumps {
		for _, t := range []struct {
			name string
			dst  *uint8
		}{{j.jt, &b.ins[j.at].Jt}, {j.jf, &b.ins[j.at].Jf}} {
			if t.name == "" {
				continue
			}
			to, ok := b.labels[t.name]
			if !ok {
				return nil, fmt.Errorf("ptrace: seccomp label %q undefined", t.name)
			}
			d := to - j.at - 1
			if d < 0 || d > 255 {
				return nil, fmt.Errorf("ptrace: seccomp jump to %q out of range (%d)", t.name, d)
			}
			*t.dst = uint8(d)
		}
	}
	return b.ins, nil
}

// fromStubPage emits the instruction-pointer test shared by both
// programs: calls from outside the stub page go to "guest"; the others
// fall through, with the number loaded, once the program has checked
// that they are x86-64 calls (anything else from the stub page kills).
func (b *bpfProg) fromStubPage() {
	const lo, hi = uint32(stubAddr & 0xffffffff), uint32(stubAddr >> 32)
	b.load(sdIPHigh)
	b.jump(unix.BPF_JEQ, hi, "", "guest")
	b.load(sdIPLow)
	b.jump(unix.BPF_JGE, lo, "", "guest")
	b.jump(unix.BPF_JGE, lo+stubSize, "guest", "")
	b.load(sdArch)
	b.jump(unix.BPF_JEQ, auditArchX8664, "", "kill")
	b.load(sdNr)
	b.jump(unix.BPF_JGE, x32SyscallBit, "kill", "")
}

// end emits the three answers the jumps name: "guest" traps, "kill"
// kills the stub process, "allow" allows.
func (b *bpfProg) end() {
	b.label("kill")
	b.ret(unix.SECCOMP_RET_KILL_PROCESS)
	b.label("guest")
	b.ret(unix.SECCOMP_RET_TRAP)
	b.label("allow")
	b.ret(unix.SECCOMP_RET_ALLOW)
}

// systrapStubCalls are the calls the stub page makes: the server's
// requests (mmap, munmap, mprotect, clone, write to its pipe), the trap
// handler's and a new thread's own calls, and the set-up the Sentry
// injects while it still traces a stub (forking stubs, their memfd and
// pipe, signal actions and masks, the title, exiting threads).
var systrapStubCalls = []uint32{
	unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MPROTECT, unix.SYS_FORK, unix.SYS_CLONE,
	unix.SYS_WAIT4, unix.SYS_PRCTL, unix.SYS_PAUSE, unix.SYS_EXIT, unix.SYS_FUTEX,
	unix.SYS_WRITE, unix.SYS_RT_SIGRETURN, unix.SYS_SIGALTSTACK, unix.SYS_SECCOMP,
	unix.SYS_RT_SIGACTION, unix.SYS_RT_SIGPROCMASK, unix.SYS_ARCH_PRCTL,
	unix.SYS_MEMFD_CREATE, unix.SYS_FTRUNCATE, unix.SYS_PIPE2, unix.SYS_CLOSE,
}

// systrapStubFilter returns the master stub's program.
func systrapStubFilter() ([]unix.SockFilter, error) {
	var b bpfProg
	b.fromStubPage()
	for _, nr := range systrapStubCalls {
		b.jump(unix.BPF_JEQ, nr, "allow", "")
	}
	b.end()
	return b.build()
}

// systrapGuestFilter returns the program each guest thread adds.
func systrapGuestFilter() ([]unix.SockFilter, error) {
	var b bpfProg
	b.fromStubPage()
	b.jump(unix.BPF_JEQ, unix.SYS_RT_SIGRETURN, "allow", "")
	b.jump(unix.BPF_JEQ, unix.SYS_EXIT, "allow", "")
	b.jump(unix.BPF_JEQ, unix.SYS_FUTEX, "futex", "")
	b.jump(unix.BPF_JEQ, unix.SYS_ARCH_PRCTL, "", "kill")
	// arch_prctl: ARCH_SET_FS or ARCH_SET_GS only.
	b.load(sdArg0 + 4)
	b.jump(unix.BPF_JEQ, 0, "", "kill")
	b.load(sdArg0)
	b.jump(unix.BPF_JEQ, archSetFS, "allow", "")
	b.jump(unix.BPF_JEQ, archSetGS, "allow", "kill")
	// futex: FUTEX_WAIT or FUTEX_WAKE (of the thread's own slot, though
	// the filter can't tell: a guest waking other words wakes waiters
	// that check their condition again).
	b.label("futex")
	b.load(sdArg1 + 4)
	b.jump(unix.BPF_JEQ, 0, "", "kill")
	b.load(sdArg1)
	b.jump(unix.BPF_JEQ, futexWaitOp, "allow", "")
	b.jump(unix.BPF_JEQ, futexWakeOp, "allow", "kill")
	b.end()
	return b.build()
}
