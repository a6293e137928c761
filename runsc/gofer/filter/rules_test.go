package filter

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/runsc/seccomp"
	"github.com/palisade-sandbox/palisade/runsc/seccomp/seccomptest"
)

// modes are the two rule sets, named for messages.
var modes = []struct {
	name     string
	readOnly bool
}{{"read-only", true}, {"writable", false}}

// TestEveryRuleIsReached checks, for both rule sets, that each rule and
// each value of its conditions gets its own action: no rule shadows
// another and every condition compiles to what it says.
func TestEveryRuleIsReached(t *testing.T) {
	for _, m := range modes {
		if err := seccomp.CheckReached(Rules(m.readOnly)); err != nil {
			t.Errorf("%s: %v", m.name, err)
		}
	}
}

func TestRulesAreDocumented(t *testing.T) {
	for _, m := range modes {
		prog, err := seccomp.Build(Rules(m.readOnly))
		if err != nil {
			t.Fatalf("%s: Build: %v", m.name, err)
		}
		t.Logf("%s: %d rules, %d instructions", m.name, len(Rules(m.readOnly)), len(prog))
		for _, r := range Rules(m.readOnly) {
			if r.Name == "" || r.Why == "" {
				t.Errorf("%s: rule for call %d has no name or no reason: %v", m.name, r.Nr, r)
			}
		}
	}
}

func TestRulesReturnsACopy(t *testing.T) {
	r := Rules(false)
	r[0].Action = seccomp.KillProcess
	r[len(r)-1].Action = seccomp.KillProcess
	if Rules(false)[0].Action == seccomp.KillProcess || Rules(false)[len(r)-1].Action == seccomp.KillProcess {
		t.Errorf("changing the slice Rules returned changed the filter's rules")
	}
}

func TestFilterDecisions(t *testing.T) {
	const (
		fdcwd  = 0xffff_ff9c
		nofoll = unix.O_NOFOLLOW
	)
	eperm := seccomp.Errno(unix.EPERM)
	allow, kill := seccomp.Allow, seccomp.KillProcess
	for _, tc := range []struct {
		name         string
		nr           uint32
		args         []uint64
		ro, writable seccomp.Action
	}{
		// Opening: one component relative to a descriptor, O_NOFOLLOW.
		{"openat O_PATH", unix.SYS_OPENAT, []uint64{3, 0, unix.O_PATH | nofoll | unix.O_CLOEXEC}, allow, allow},
		{"openat directory", unix.SYS_OPENAT, []uint64{3, 0, unix.O_RDONLY | unix.O_DIRECTORY | nofoll | unix.O_NOCTTY}, allow, allow},
		{"openat for writing (FIFOs)", unix.SYS_OPENAT, []uint64{3, 0, unix.O_WRONLY | nofoll | unix.O_NONBLOCK}, allow, allow},
		{"openat without O_NOFOLLOW", unix.SYS_OPENAT, []uint64{3, 0, unix.O_RDONLY}, eperm, eperm},
		{"openat AT_FDCWD", unix.SYS_OPENAT, []uint64{fdcwd, 0, nofoll}, eperm, eperm},
		{"openat O_TRUNC", unix.SYS_OPENAT, []uint64{3, 0, unix.O_WRONLY | unix.O_TRUNC | nofoll}, eperm, eperm},
		{"openat O_TMPFILE", unix.SYS_OPENAT, []uint64{3, 0, unix.O_TMPFILE | unix.O_RDWR | nofoll}, eperm, eperm},
		{"openat O_CREAT|O_EXCL", unix.SYS_OPENAT, []uint64{3, 0, unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY | nofoll}, eperm, allow},
		{"openat O_CREAT", unix.SYS_OPENAT, []uint64{3, 0, unix.O_CREAT | unix.O_WRONLY | nofoll}, eperm, eperm},
		{"open", unix.SYS_OPEN, nil, eperm, eperm},
		{"openat2", unix.SYS_OPENAT2, nil, eperm, eperm},
		{"creat", unix.SYS_CREAT, nil, eperm, eperm},
		{"readlinkat", unix.SYS_READLINKAT, []uint64{3}, allow, allow},
		{"readlinkat AT_FDCWD", unix.SYS_READLINKAT, []uint64{fdcwd}, kill, kill},
		{"newfstatat", unix.SYS_NEWFSTATAT, nil, kill, kill},

		// No network, no new programs, no namespaces.
		{"socket", unix.SYS_SOCKET, nil, kill, kill},
		{"socketpair", unix.SYS_SOCKETPAIR, nil, kill, kill},
		{"connect", unix.SYS_CONNECT, nil, kill, kill},
		{"bind", unix.SYS_BIND, nil, kill, kill},
		{"listen", unix.SYS_LISTEN, nil, kill, kill},
		{"accept", unix.SYS_ACCEPT, nil, kill, kill},
		{"accept4", unix.SYS_ACCEPT4, nil, kill, kill},
		{"execve", unix.SYS_EXECVE, nil, kill, kill},
		{"execveat", unix.SYS_EXECVEAT, nil, kill, kill},
		{"ptrace", unix.SYS_PTRACE, nil, kill, kill},
		{"mount", unix.SYS_MOUNT, nil, kill, kill},
		{"chroot", unix.SYS_CHROOT, nil, kill, kill},
		{"unshare", unix.SYS_UNSHARE, nil, kill, kill},
		{"setns", unix.SYS_SETNS, nil, kill, kill},
		{"fork", unix.SYS_FORK, nil, kill, kill},
		{"vfork", unix.SYS_VFORK, nil, kill, kill},
		{"clone fork", unix.SYS_CLONE, []uint64{uint64(unix.SIGCHLD)}, kill, kill},
		{"clone thread with new namespace", unix.SYS_CLONE, []uint64{seccomp.GoThreadCloneFlags | unix.CLONE_SETTLS | unix.CLONE_NEWNET}, kill, kill},
		{"clone Go thread", unix.SYS_CLONE, []uint64{seccomp.GoThreadCloneFlags | unix.CLONE_SETTLS}, allow, allow},
		{"clone3", unix.SYS_CLONE3, nil, seccomp.Errno(unix.ENOSYS), seccomp.Errno(unix.ENOSYS)},
		{"process_vm_readv", unix.SYS_PROCESS_VM_READV, nil, kill, kill},
		{"process_vm_writev", unix.SYS_PROCESS_VM_WRITEV, nil, kill, kill},
		{"kexec_load", unix.SYS_KEXEC_LOAD, nil, kill, kill},
		{"bpf", unix.SYS_BPF, nil, kill, kill},
		{"ioctl", unix.SYS_IOCTL, nil, kill, kill},
		{"kill", unix.SYS_KILL, nil, kill, kill},
		{"memfd_create", unix.SYS_MEMFD_CREATE, nil, kill, kill},
		{"prctl PR_SET_VMA", unix.SYS_PRCTL, []uint64{unix.PR_SET_VMA}, allow, allow},
		{"prctl PR_SET_DUMPABLE", unix.SYS_PRCTL, []uint64{unix.PR_SET_DUMPABLE}, eperm, eperm},
		{"fcntl F_SETFL", unix.SYS_FCNTL, []uint64{3, unix.F_SETFL}, allow, allow},
		{"fcntl F_DUPFD", unix.SYS_FCNTL, []uint64{3, unix.F_DUPFD}, kill, kill},

		// Changes: writable servers only, relative, with the server's flags.
		{"mkdirat", unix.SYS_MKDIRAT, []uint64{3}, kill, allow},
		{"mkdirat AT_FDCWD", unix.SYS_MKDIRAT, []uint64{fdcwd}, kill, kill},
		{"unlinkat", unix.SYS_UNLINKAT, []uint64{3, 0, 0}, kill, allow},
		{"unlinkat AT_REMOVEDIR", unix.SYS_UNLINKAT, []uint64{3, 0, unix.AT_REMOVEDIR}, kill, allow},
		{"renameat2 RENAME_EXCHANGE", unix.SYS_RENAMEAT2, []uint64{3, 0, 4, 0, unix.RENAME_EXCHANGE}, kill, allow},
		{"renameat2 RENAME_WHITEOUT", unix.SYS_RENAMEAT2, []uint64{3, 0, 4, 0, unix.RENAME_WHITEOUT}, kill, kill},
		{"renameat2 to AT_FDCWD", unix.SYS_RENAMEAT2, []uint64{3, 0, fdcwd, 0, 0}, kill, kill},
		{"linkat AT_EMPTY_PATH", unix.SYS_LINKAT, []uint64{3, 0, 4, 0, unix.AT_EMPTY_PATH}, kill, allow},
		{"linkat AT_SYMLINK_FOLLOW", unix.SYS_LINKAT, []uint64{3, 0, 4, 0, unix.AT_SYMLINK_FOLLOW}, kill, kill},
		{"symlinkat", unix.SYS_SYMLINKAT, []uint64{0, 3}, kill, allow},
		{"fchownat", unix.SYS_FCHOWNAT, []uint64{3, 0, 0, 0, unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW}, kill, allow},
		{"fchownat following links", unix.SYS_FCHOWNAT, []uint64{3, 0, 0, 0, unix.AT_EMPTY_PATH}, kill, kill},
		{"utimensat", unix.SYS_UTIMENSAT, []uint64{3, 0, 0, unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW}, kill, allow},
		{"fchmodat2", unix.SYS_FCHMODAT2, []uint64{3, 0, 0, unix.AT_EMPTY_PATH}, kill, allow},
		{"fchmodat", unix.SYS_FCHMODAT, []uint64{3}, kill, allow},
		{"fchmod", unix.SYS_FCHMOD, nil, kill, allow},
		{"ftruncate", unix.SYS_FTRUNCATE, nil, kill, allow},
		{"truncate", unix.SYS_TRUNCATE, nil, kill, kill},
		{"mknodat", unix.SYS_MKNODAT, []uint64{3}, kill, kill},
	} {
		for _, m := range modes {
			prog, err := seccomp.Build(Rules(m.readOnly))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.writable
			if m.readOnly {
				want = tc.ro
			}
			got, err := seccomp.Evaluate(prog, unix.AUDIT_ARCH_X86_64, tc.nr, tc.args...)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got != want {
				t.Errorf("%s, %s gofer: filter says %v, want %v", tc.name, m.name, got, want)
			}
		}
	}
}

// hostCalls maps each x/sys function the gofer server (packages gofer and
// gofer/protocol) calls to the system calls it makes, or to none for pure
// helpers. mutation marks the calls only a writable server makes.
var hostCalls = map[string]struct {
	calls    []string
	mutation bool
}{
	"Openat":                    {calls: []string{"openat"}},
	"Fstat":                     {calls: []string{"fstat"}},
	"Close":                     {calls: []string{"close"}},
	"FcntlInt":                  {calls: []string{"fcntl"}},
	"Readlinkat":                {calls: []string{"readlinkat"}},
	"Ftruncate":                 {calls: []string{"ftruncate"}, mutation: true},
	"Fchmod":                    {calls: []string{"fchmod"}, mutation: true},
	"Fchmodat":                  {calls: []string{"fchmodat", "fchmodat2"}, mutation: true},
	"Fchownat":                  {calls: []string{"fchownat"}, mutation: true},
	"Unlinkat":                  {calls: []string{"unlinkat"}, mutation: true},
	"Mkdirat":                   {calls: []string{"mkdirat"}, mutation: true},
	"Symlinkat":                 {calls: []string{"symlinkat"}, mutation: true},
	"Linkat":                    {calls: []string{"linkat"}, mutation: true},
	"Renameat2":                 {calls: []string{"renameat2"}, mutation: true},
	"UtimesNanoAt":              {calls: []string{"utimensat"}, mutation: true},
	"ParseSocketControlMessage": {},
	"ParseUnixRights":           {},
	"UnixRights":                {},
	"CmsgSpace":                 {},
	"NsecToTimespec":            {},
	"Errno":                     {}, // a conversion
	// Before the filter: NewServer wraps the socket (net.FileConn) and
	// opens the root; the Sentry's side makes the socketpair.
	"GetsockoptInt": {},
	"Socketpair":    {},
	"Chroot":        {},
	"Chdir":         {},
	// Before the filter: gofer.Confine checks the served directories
	// (CheckServable) and builds the gofer's root from bind mounts.
	"Open":      {},
	"Fstatfs":   {},
	"Statx":     {},
	"Mount":     {},
	"Mkdir":     {},
	"PivotRoot": {},
	"Unmount":   {},
}

// TestHostCallsAreAllowed fails when the gofer server starts calling an
// x/sys function this test does not know (decide whether the filter must
// allow it, then add it to hostCalls), or one whose system calls the
// filter does not allow.
func TestHostCallsAreAllowed(t *testing.T) {
	re := regexp.MustCompile(`\bunix\.([A-Z][A-Za-z0-9_]*)\(`)
	var used []string
	for _, dir := range []string{"gofer", "gofer/protocol"} {
		for _, n := range seccomptest.SourceNames(t, "../../..", dir, re) {
			if !slices.Contains(used, n) {
				used = append(used, n)
			}
		}
	}
	if !slices.Contains(used, "Openat") || !slices.Contains(used, "Renameat2") {
		t.Fatalf("found %v in the gofer, no Openat or Renameat2: is the scan broken?", used)
	}
	names := func(readOnly bool) []string {
		var out []string
		for _, r := range Rules(readOnly) {
			if r.Action == seccomp.Allow {
				out = append(out, r.Name)
			}
		}
		return out
	}
	ro, rw := names(true), names(false)
	for _, fn := range used {
		hc, ok := hostCalls[fn]
		if !ok {
			t.Errorf("the gofer calls unix.%s, unknown to this test: which system calls does it make? Add it to hostCalls and, if it runs while serving, a rule", fn)
			continue
		}
		for _, call := range hc.calls {
			if !slices.Contains(rw, call) {
				t.Errorf("the gofer calls unix.%s (%s), which the writable filter does not allow", fn, call)
			}
			if !hc.mutation && !slices.Contains(ro, call) {
				t.Errorf("the gofer calls unix.%s (%s), which the read-only filter does not allow", fn, call)
			}
			if hc.mutation && slices.Contains(ro, call) {
				t.Errorf("the read-only filter allows %s, which only changes files", call)
			}
		}
	}
}

// Example output for docs: go test -run TestPrintRules -v.
func TestPrintRules(t *testing.T) {
	if testing.Verbose() {
		for _, m := range modes {
			t.Log(m.name + ":")
			for _, r := range Rules(m.readOnly) {
				t.Log("  " + fmt.Sprint(r))
			}
		}
	}
}
