package filter

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/platform/ptrace"
	"github.com/palisade-sandbox/palisade/runsc/seccomp"
)

func TestStubRulesAreReached(t *testing.T) {
	if err := seccomp.CheckReached(StubRules()); err != nil {
		t.Fatal(err)
	}
}

// TestStubFilterAllowsThePlatformsCalls fails when platform/ptrace starts
// making a call in stubs that the stub filter does not allow.
func TestStubFilterAllowsThePlatformsCalls(t *testing.T) {
	allowed := map[uintptr]bool{}
	for _, r := range StubRules() {
		if r.Action == seccomp.Allow {
			allowed[uintptr(r.Nr)] = true
		}
	}
	for _, nr := range ptrace.StubSyscalls {
		if !allowed[nr] {
			t.Errorf("the platform makes system call %d in stubs; the stub filter does not allow it", nr)
		}
	}
}

func TestStubFilterDecisions(t *testing.T) {
	prog, err := StubProgram()
	if err != nil {
		t.Fatal(err)
	}
	trap := seccomp.Trap
	for _, tc := range []struct {
		name string
		nr   uint32
		args []uint64
		want seccomp.Action
	}{
		{"mmap of the memory file", unix.SYS_MMAP, []uint64{0x10000, 0x1000, 3, unix.MAP_SHARED | unix.MAP_FIXED, ptrace.StubMemFD, 0}, Allow},
		{"mmap of another descriptor", unix.SYS_MMAP, []uint64{0x10000, 0x1000, 3, unix.MAP_SHARED | unix.MAP_FIXED, 4, 0}, KillProcess},
		{"anonymous mmap", unix.SYS_MMAP, []uint64{0, 0x1000, 3, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, ^uint64(0), 0}, KillProcess},
		{"thread clone", unix.SYS_CLONE, []uint64{ptrace.StubThreadCloneFlags}, Allow},
		{"clone into a new namespace", unix.SYS_CLONE, []uint64{unix.CLONE_NEWUSER}, KillProcess},
		{"kill", unix.SYS_KILL, []uint64{1, uint64(unix.SIGSTOP)}, KillProcess},
		{"getpid", unix.SYS_GETPID, nil, KillProcess},
		{"prctl(PR_SET_PDEATHSIG, SIGKILL)", unix.SYS_PRCTL, []uint64{unix.PR_SET_PDEATHSIG, uint64(unix.SIGKILL)}, Allow},
		{"prctl(PR_SET_DUMPABLE)", unix.SYS_PRCTL, []uint64{unix.PR_SET_DUMPABLE, 1}, KillProcess},
		{"prctl(PR_SET_PDEATHSIG, SIGKILL with high bits)", unix.SYS_PRCTL, []uint64{unix.PR_SET_PDEATHSIG, 1<<32 | uint64(unix.SIGKILL)}, KillProcess},
		{"prctl(PR_SET_NAME, name slot)", unix.SYS_PRCTL, []uint64{unix.PR_SET_NAME, ptrace.StubNameAddr}, Allow},
		{"prctl(PR_SET_NAME, other address)", unix.SYS_PRCTL, []uint64{unix.PR_SET_NAME, ptrace.StubNameAddr + 8}, KillProcess},
		{"prctl(PR_SET_NAME, guest address)", unix.SYS_PRCTL, []uint64{unix.PR_SET_NAME, 0x400000}, KillProcess},
		{"prctl(PR_SET_MM)", unix.SYS_PRCTL, []uint64{unix.PR_SET_MM, unix.PR_SET_MM_ARG_START, 0x400000}, KillProcess},
		{"mprotect", unix.SYS_MPROTECT, []uint64{0x10000, 0x1000, unix.PROT_READ}, Allow},
		{"vsyscall time", unix.SYS_TIME, nil, trap},
		{"vsyscall gettimeofday", unix.SYS_GETTIMEOFDAY, nil, trap},
		{"open", unix.SYS_OPEN, nil, KillProcess},
		{"openat", unix.SYS_OPENAT, nil, KillProcess},
		{"execve", unix.SYS_EXECVE, nil, KillProcess},
		{"socket", unix.SYS_SOCKET, nil, KillProcess},
		{"ptrace", unix.SYS_PTRACE, nil, KillProcess},
		{"seccomp", unix.SYS_SECCOMP, nil, KillProcess},
		{"write", unix.SYS_WRITE, nil, KillProcess},
	} {
		args := make([]uint64, 6)
		copy(args, tc.args)
		got, err := seccomp.Evaluate(prog, unix.AUDIT_ARCH_X86_64, tc.nr, args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: stub filter says %v, want %v", tc.name, got, tc.want)
		}
	}
}
