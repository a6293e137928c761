package seccomp

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// sampleRules use every kind of condition.
var sampleRules = []Rule{
	{Name: "read", Nr: unix.SYS_READ, Action: Allow, Why: "unconditional"},
	{Name: "clone", Nr: unix.SYS_CLONE, Action: Allow, Conds: []Cond{In64(0, GoThreadCloneFlags|unix.CLONE_SETTLS, GoThreadCloneFlags)},
		Why: "64-bit equality"},
	{Name: "ioctl", Nr: unix.SYS_IOCTL, Action: Allow, Conds: []Cond{In32(1, unix.TCGETS, unix.TCSETS)},
		Why: "32-bit equality"},
	{Name: "openat", Nr: unix.SYS_OPENAT, Action: Allow, Else: Errno(unix.EPERM),
		Conds: []Cond{
			NotIn32(0, 0xffff_ff9c), // AT_FDCWD
			Masked32(2, unix.O_NOFOLLOW|unix.O_CREAT|unix.O_EXCL, unix.O_NOFOLLOW, unix.O_NOFOLLOW|unix.O_CREAT|unix.O_EXCL),
		},
		Why: "inequality and masks"},
	{Name: "linkat", Nr: unix.SYS_LINKAT, Action: Allow,
		Conds: []Cond{NotIn32(0, 7, 8), NotIn32(2, 9), In32(4, 0, unix.AT_EMPTY_PATH)},
		Why:   "several conditions"},
	{Name: "open", Nr: unix.SYS_OPEN, Action: Errno(unix.EPERM), Why: "errno"},
}

func TestCheckReachedAcceptsEveryKindOfCondition(t *testing.T) {
	if err := CheckReached(sampleRules); err != nil {
		t.Errorf("CheckReached: %v", err)
	}
}

func TestConditionsDecideAsDocumented(t *testing.T) {
	prog, err := Build(sampleRules)
	if err != nil {
		t.Fatal(err)
	}
	const fdcwd = 0xffff_ff9c // AT_FDCWD as the kernel truncates it
	eperm := Errno(unix.EPERM)
	for _, tc := range []struct {
		name string
		nr   uint32
		args []uint64
		want Action
	}{
		{"openat relative, O_NOFOLLOW", unix.SYS_OPENAT, []uint64{3, 0, unix.O_NOFOLLOW | unix.O_PATH}, Allow},
		{"openat relative, O_NOFOLLOW|O_CREAT|O_EXCL", unix.SYS_OPENAT, []uint64{3, 0, unix.O_NOFOLLOW | unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY}, Allow},
		{"openat relative, without O_NOFOLLOW", unix.SYS_OPENAT, []uint64{3, 0, unix.O_PATH}, eperm},
		{"openat relative, O_CREAT without O_EXCL", unix.SYS_OPENAT, []uint64{3, 0, unix.O_NOFOLLOW | unix.O_CREAT}, eperm},
		{"openat AT_FDCWD", unix.SYS_OPENAT, []uint64{fdcwd, 0, unix.O_NOFOLLOW}, eperm},
		{"openat AT_FDCWD sign-extended", unix.SYS_OPENAT, []uint64{0xffff_ffff_ffff_ff9c, 0, unix.O_NOFOLLOW}, eperm},
		{"openat flags with garbage upper half", unix.SYS_OPENAT, []uint64{3, 0, 0xdead_0000_0000_0000 | unix.O_NOFOLLOW}, Allow},
		{"linkat", unix.SYS_LINKAT, []uint64{3, 0, 4, 0, unix.AT_EMPTY_PATH}, Allow},
		{"linkat second excluded value", unix.SYS_LINKAT, []uint64{8, 0, 4, 0, 0}, KillProcess},
		{"linkat AT_SYMLINK_FOLLOW", unix.SYS_LINKAT, []uint64{3, 0, 4, 0, unix.AT_SYMLINK_FOLLOW}, KillProcess},
		{"clone with high bits", unix.SYS_CLONE, []uint64{1<<32 | GoThreadCloneFlags}, KillProcess},
		{"unlisted call", unix.SYS_SOCKET, nil, KillProcess},
	} {
		got, err := Evaluate(prog, unix.AUDIT_ARCH_X86_64, tc.nr, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: filter says %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFilterKillsOtherABIs(t *testing.T) {
	prog, err := Build(sampleRules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		arch uint32
		nr   uint32
	}{
		{"i386 getpid", unix.AUDIT_ARCH_I386, 20},
		{"i386 call with an allowed x86-64 number", unix.AUDIT_ARCH_I386, unix.SYS_READ},
		{"x32 read", unix.AUDIT_ARCH_X86_64, x32Bit | unix.SYS_READ},
	} {
		got, err := Evaluate(prog, tc.arch, tc.nr)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != KillProcess {
			t.Errorf("%s: filter says %v, want kill", tc.name, got)
		}
	}
}

func TestBuildRejectsBadRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules []Rule
	}{
		{"duplicate number", []Rule{
			{Name: "read", Nr: 0, Action: Allow},
			{Name: "read again", Nr: 0, Action: Allow},
		}},
		{"argument index out of range", []Rule{
			{Name: "x", Nr: 1, Action: Allow, Conds: []Cond{In32(6, 1)}},
		}},
		{"condition without values", []Rule{
			{Name: "x", Nr: 1, Action: Allow, Conds: []Cond{{Arg: 0}}},
		}},
		{"32-bit condition on a 64-bit value", []Rule{
			{Name: "x", Nr: 1, Action: Allow, Conds: []Cond{{Arg: 0, Values: []uint64{1 << 32}}}},
		}},
		{"64-bit inequality", []Rule{
			{Name: "x", Nr: 1, Action: Allow, Conds: []Cond{{Arg: 0, Wide: true, Op: OpNotIn, Values: []uint64{1}}}},
		}},
		{"masked value outside its mask", []Rule{
			{Name: "x", Nr: 1, Action: Allow, Conds: []Cond{Masked32(0, 0xf0, 0x1)}},
		}},
		{"empty mask", []Rule{
			{Name: "x", Nr: 1, Action: Allow, Conds: []Cond{Masked32(0, 0, 0)}},
		}},
		{"unknown comparison", []Rule{
			{Name: "x", Nr: 1, Action: Allow, Conds: []Cond{{Arg: 0, Op: 42, Values: []uint64{1}}}},
		}},
	} {
		if _, err := Build(tc.rules); err == nil {
			t.Errorf("%s: Build succeeded, want an error", tc.name)
		}
	}
}

func TestCondString(t *testing.T) {
	for _, tc := range []struct {
		c    Cond
		want string
	}{
		{In32(1, 5), "arg1 (32 bits) == 0x5"},
		{In64(0, 1, 2), "arg0 in {0x1, 0x2}"},
		{NotIn32(0, 0xffffff9c), "arg0 (32 bits) != 0xffffff9c"},
		{NotIn32(0, 1, 2), "arg0 (32 bits) not in {0x1, 0x2}"},
		{Masked32(2, 0x20000, 0x20000), "arg2 (32 bits) & 0x20000 == 0x20000"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	r := sampleRules[3]
	if s := r.String(); !strings.HasPrefix(s, "openat (257): allow if arg0") || !strings.Contains(s, "else errno EPERM") {
		t.Errorf("Rule.String() = %q", s)
	}
}

func TestActionString(t *testing.T) {
	for _, tc := range []struct {
		a    Action
		want string
	}{
		{Allow, "allow"},
		{KillProcess, "kill"},
		{Errno(unix.EPERM), "errno EPERM"},
		{Errno(unix.ENOSYS), "errno ENOSYS"},
	} {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("Action(%#x).String() = %q, want %q", uint32(tc.a), got, tc.want)
		}
	}
}
