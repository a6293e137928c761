package filter

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/runsc/seccomp"
)

// Short names for the actions the tables use.
const (
	Allow       = seccomp.Allow
	KillProcess = seccomp.KillProcess
)

var Errno = seccomp.Errno

func sentryProgram(t *testing.T) []unix.SockFilter {
	t.Helper()
	prog, err := seccomp.Build(Rules())
	if err != nil {
		t.Fatalf("Build(Rules()): %v", err)
	}
	return prog
}

// decide runs the Sentry's filter on one x86-64 call.
func decide(t *testing.T, prog []unix.SockFilter, nr uint32, args ...uint64) seccomp.Action {
	t.Helper()
	got, err := seccomp.Evaluate(prog, unix.AUDIT_ARCH_X86_64, nr, args...)
	if err != nil {
		t.Fatalf("running the filter on call %d: %v", nr, err)
	}
	return got
}

func TestFilterDecisions(t *testing.T) {
	prog := sentryProgram(t)
	const goClone = seccomp.GoThreadCloneFlags | unix.CLONE_SETTLS
	eperm := Errno(unix.EPERM)
	for _, tc := range []struct {
		name string
		nr   uint32
		args []uint64
		want seccomp.Action
	}{
		// The invariant: no host path is opened.
		{"open", unix.SYS_OPEN, nil, eperm},
		{"openat", unix.SYS_OPENAT, []uint64{uint64(0xffffff9c), 0, unix.O_RDONLY}, eperm},
		{"openat2", unix.SYS_OPENAT2, nil, eperm},
		{"creat", unix.SYS_CREAT, nil, eperm},
		{"execve", unix.SYS_EXECVE, nil, KillProcess},
		{"execveat", unix.SYS_EXECVEAT, nil, KillProcess},
		{"mount", unix.SYS_MOUNT, nil, KillProcess},
		{"chroot", unix.SYS_CHROOT, nil, KillProcess},
		{"socket", unix.SYS_SOCKET, nil, KillProcess},
		{"socketpair", unix.SYS_SOCKETPAIR, nil, KillProcess},
		{"connect", unix.SYS_CONNECT, nil, KillProcess},
		{"bind", unix.SYS_BIND, nil, KillProcess},
		{"newfstatat", unix.SYS_NEWFSTATAT, nil, KillProcess},
		{"stat", unix.SYS_STAT, nil, KillProcess},
		{"memfd_create", unix.SYS_MEMFD_CREATE, nil, KillProcess},
		{"unshare", unix.SYS_UNSHARE, nil, KillProcess},
		{"setns", unix.SYS_SETNS, nil, KillProcess},
		{"fork", unix.SYS_FORK, nil, KillProcess},
		{"vfork", unix.SYS_VFORK, nil, KillProcess},
		{"process_vm_writev", unix.SYS_PROCESS_VM_WRITEV, nil, KillProcess},
		{"number past the table", 1000, nil, KillProcess},

		// Unconditional rules.
		{"getpid", unix.SYS_GETPID, nil, Allow},
		{"read", unix.SYS_READ, nil, Allow},
		{"futex", unix.SYS_FUTEX, nil, Allow},
		{"wait4", unix.SYS_WAIT4, nil, Allow},

		// clone: threads with the Go runtime's flags only.
		{"clone Go thread", unix.SYS_CLONE, []uint64{goClone}, Allow},
		{"clone Go thread without TLS", unix.SYS_CLONE, []uint64{seccomp.GoThreadCloneFlags}, Allow},
		{"clone fork", unix.SYS_CLONE, []uint64{uint64(unix.SIGCHLD)}, KillProcess},
		{"clone vfork", unix.SYS_CLONE, []uint64{unix.CLONE_VM | unix.CLONE_VFORK | uint64(unix.SIGCHLD)}, KillProcess},
		{"clone thread with new namespace", unix.SYS_CLONE, []uint64{goClone | unix.CLONE_NEWNS}, KillProcess},
		{"clone flags with high bits", unix.SYS_CLONE, []uint64{goClone | 1<<32}, KillProcess},
		{"clone3", unix.SYS_CLONE3, nil, Errno(unix.ENOSYS)},

		// ioctl: terminal requests, compared on 32 bits as the kernel does.
		{"ioctl TCGETS", unix.SYS_IOCTL, []uint64{0, unix.TCGETS}, Allow},
		{"ioctl TIOCSPGRP", unix.SYS_IOCTL, []uint64{0, unix.TIOCSPGRP}, Allow},
		{"ioctl TCGETS, garbage upper half", unix.SYS_IOCTL, []uint64{0, 0xdead0000_00000000 | unix.TCGETS}, Allow},
		{"ioctl TIOCSTI", unix.SYS_IOCTL, []uint64{0, unix.TIOCSTI}, KillProcess},
		{"ioctl TIOCSCTTY", unix.SYS_IOCTL, []uint64{0, unix.TIOCSCTTY}, KillProcess},

		// ptrace: the platform's requests.
		{"ptrace GETREGS", unix.SYS_PTRACE, []uint64{unix.PTRACE_GETREGS}, Allow},
		{"ptrace SYSEMU", unix.SYS_PTRACE, []uint64{unix.PTRACE_SYSEMU}, Allow},
		{"ptrace SEIZE", unix.SYS_PTRACE, []uint64{unix.PTRACE_SEIZE}, Allow},
		{"ptrace TRACEME", unix.SYS_PTRACE, []uint64{unix.PTRACE_TRACEME}, KillProcess},
		{"ptrace POKEDATA", unix.SYS_PTRACE, []uint64{unix.PTRACE_POKEDATA}, Allow},
		{"ptrace PEEKDATA", unix.SYS_PTRACE, []uint64{unix.PTRACE_PEEKDATA}, KillProcess},
		{"ptrace POKEUSR", unix.SYS_PTRACE, []uint64{unix.PTRACE_POKEUSR}, KillProcess},
		{"ptrace GETREGS with high bits", unix.SYS_PTRACE, []uint64{1<<32 | unix.PTRACE_GETREGS}, KillProcess},

		// prctl: naming mappings only; the rest fails cleanly.
		{"prctl PR_SET_VMA", unix.SYS_PRCTL, []uint64{unix.PR_SET_VMA, unix.PR_SET_VMA_ANON_NAME}, Allow},
		{"prctl PR_SET_DUMPABLE", unix.SYS_PRCTL, []uint64{unix.PR_SET_DUMPABLE, 1}, eperm},

		// prlimit64: reading only.
		{"prlimit64 get", unix.SYS_PRLIMIT64, []uint64{0, unix.RLIMIT_NOFILE, 0, 0x1000}, Allow},
		{"prlimit64 set", unix.SYS_PRLIMIT64, []uint64{0, unix.RLIMIT_NOFILE, 0x1000, 0}, KillProcess},
	} {
		if got := decide(t, prog, tc.nr, tc.args...); got != tc.want {
			t.Errorf("%s: filter says %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFilterKillsOtherABIs(t *testing.T) {
	prog := sentryProgram(t)
	for _, tc := range []struct {
		name string
		arch uint32
		nr   uint32
	}{
		{"i386 getpid", unix.AUDIT_ARCH_I386, 20},
		{"i386 call with an allowed x86-64 number", unix.AUDIT_ARCH_I386, unix.SYS_GETPID},
		{"x32 read", unix.AUDIT_ARCH_X86_64, 0x40000000 | unix.SYS_READ},
		{"x32 getpid", unix.AUDIT_ARCH_X86_64, 0x40000000 | unix.SYS_GETPID},
	} {
		got, err := seccomp.Evaluate(prog, tc.arch, tc.nr)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != KillProcess {
			t.Errorf("%s: filter says %v, want kill", tc.name, got)
		}
	}
}

// TestEveryRuleIsReached checks that each rule, and each allowed value of
// its conditions, gets its own action: no rule shadows another.
func TestEveryRuleIsReached(t *testing.T) {
	if err := seccomp.CheckReached(Rules()); err != nil {
		t.Error(err)
	}
}

func TestRulesAreDocumented(t *testing.T) {
	prog := sentryProgram(t)
	t.Logf("%d rules, %d instructions", len(Rules()), len(prog))
	for _, r := range Rules() {
		if r.Name == "" || r.Why == "" {
			t.Errorf("rule for call %d has no name or no reason: %v", r.Nr, r)
		}
		if s := r.String(); !strings.HasPrefix(s, r.Name+" (") {
			t.Errorf("Rule.String() = %q, want it to start with the name", s)
		}
	}
}

func TestRulesReturnsACopy(t *testing.T) {
	r := Rules()
	r[0].Action = KillProcess
	if Rules()[0].Action == KillProcess {
		t.Errorf("changing the slice Rules returned changed the filter's rules")
	}
}

// TestLinkCalls checks that recvmmsg and sendmmsg are allowed on the
// links' packet sockets only, non-blocking, and not at all without links.
func TestLinkCalls(t *testing.T) {
	none, err := seccomp.Build(Rules())
	if err != nil {
		t.Fatal(err)
	}
	links, err := seccomp.Build(Rules(7, 9))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		prog []unix.SockFilter
		nr   uint32
		args []uint64
		want seccomp.Action
	}{
		{"recvmmsg without links", none, unix.SYS_RECVMMSG, []uint64{7, 0, 32, unix.MSG_DONTWAIT, 0}, KillProcess},
		{"sendmmsg without links", none, unix.SYS_SENDMMSG, []uint64{7, 0, 32, unix.MSG_DONTWAIT}, KillProcess},
		{"recvmmsg on a link", links, unix.SYS_RECVMMSG, []uint64{7, 0, 32, unix.MSG_DONTWAIT, 0}, Allow},
		{"recvmmsg on the other link", links, unix.SYS_RECVMMSG, []uint64{9, 0, 32, unix.MSG_DONTWAIT, 0}, Allow},
		{"sendmmsg on a link", links, unix.SYS_SENDMMSG, []uint64{9, 0, 32, unix.MSG_DONTWAIT}, Allow},
		{"recvmmsg on another descriptor", links, unix.SYS_RECVMMSG, []uint64{8, 0, 32, unix.MSG_DONTWAIT, 0}, KillProcess},
		{"sendmmsg on another descriptor", links, unix.SYS_SENDMMSG, []uint64{3, 0, 32, unix.MSG_DONTWAIT}, KillProcess},
		{"recvmmsg blocking", links, unix.SYS_RECVMMSG, []uint64{7, 0, 32, 0, 0}, KillProcess},
		{"recvmmsg with a timeout", links, unix.SYS_RECVMMSG, []uint64{7, 0, 32, unix.MSG_DONTWAIT, 0x1000}, KillProcess},
		{"sendmmsg with other flags", links, unix.SYS_SENDMMSG, []uint64{7, 0, 32, unix.MSG_DONTWAIT | unix.MSG_OOB}, KillProcess},
		{"socket still killed", links, unix.SYS_SOCKET, []uint64{unix.AF_PACKET, unix.SOCK_RAW, 0}, KillProcess},
	} {
		if got := decide(t, tc.prog, tc.nr, tc.args...); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
