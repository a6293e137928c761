package boot

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/palisade-sandbox/palisade/sentry/kernel/seccomp"
	"golang.org/x/sys/unix"
)

func loadProfile(t *testing.T, name string) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &s
}

// call is one system call as a filter sees it.
type call struct {
	name string
	arch uint32
	nr   uint32
	args [6]uint64
}

func (c call) data() *seccomp.Data {
	arch := c.arch
	if arch == 0 {
		arch = unix.AUDIT_ARCH_X86_64
	}
	return &seccomp.Data{Nr: int32(c.nr), Arch: arch, Args: c.args}
}

var (
	errnoEPERM  = seccomp.ActionErrno | uint32(unix.EPERM)
	errnoENOSYS = seccomp.ActionErrno | uint32(unix.ENOSYS)
)

func TestDockerDefaultProfile(t *testing.T) {
	p, err := SeccompFromSpec(loadProfile(t, "docker-default-seccomp.json"))
	if err != nil {
		t.Fatal(err)
	}
	const namespaces = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
		unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP
	cases := []struct {
		c    call
		want uint32
	}{
		{call{name: "read", nr: unix.SYS_READ}, seccomp.ActionAllow},
		{call{name: "write", nr: unix.SYS_WRITE}, seccomp.ActionAllow},
		{call{name: "exit_group", nr: unix.SYS_EXIT_GROUP}, seccomp.ActionAllow},
		{call{name: "fork-style clone", nr: unix.SYS_CLONE, args: [6]uint64{uint64(unix.SIGCHLD)}}, seccomp.ActionAllow},
		{call{name: "thread clone", nr: unix.SYS_CLONE, args: [6]uint64{unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID}}, seccomp.ActionAllow},
		{call{name: "clone CLONE_NEWUSER", nr: unix.SYS_CLONE, args: [6]uint64{unix.CLONE_NEWUSER | uint64(unix.SIGCHLD)}}, errnoEPERM},
		{call{name: "clone CLONE_NEWNS", nr: unix.SYS_CLONE, args: [6]uint64{unix.CLONE_NEWNS}}, errnoEPERM},
		{call{name: "clone every namespace", nr: unix.SYS_CLONE, args: [6]uint64{namespaces}}, errnoEPERM},
		{call{name: "clone3", nr: unix.SYS_CLONE3}, errnoENOSYS},
		{call{name: "personality(0)", nr: unix.SYS_PERSONALITY}, seccomp.ActionAllow},
		{call{name: "personality(query)", nr: unix.SYS_PERSONALITY, args: [6]uint64{0xffffffff}}, seccomp.ActionAllow},
		{call{name: "personality(ADDR_NO_RANDOMIZE)", nr: unix.SYS_PERSONALITY, args: [6]uint64{0x0040000}}, errnoEPERM},
		{call{name: "personality(high bits)", nr: unix.SYS_PERSONALITY, args: [6]uint64{1 << 32}}, errnoEPERM},
		{call{name: "socket(AF_INET)", nr: unix.SYS_SOCKET, args: [6]uint64{unix.AF_INET}}, seccomp.ActionAllow},
		{call{name: "socket(AF_VSOCK)", nr: unix.SYS_SOCKET, args: [6]uint64{unix.AF_VSOCK}}, errnoEPERM},
		{call{name: "socket(AF_VSOCK + 1<<32)", nr: unix.SYS_SOCKET, args: [6]uint64{1<<32 | unix.AF_VSOCK}}, seccomp.ActionAllow},
		{call{name: "mount", nr: unix.SYS_MOUNT}, errnoEPERM},
		{call{name: "unshare", nr: unix.SYS_UNSHARE}, errnoEPERM},
		{call{name: "x32 read", nr: 0x40000000 | unix.SYS_READ}, errnoEPERM},
		{call{name: "i386 call", arch: unix.AUDIT_ARCH_I386, nr: 3}, seccomp.ActionKillThread},
		{call{name: "unknown number", nr: 5000}, errnoEPERM},
	}
	for _, c := range cases {
		if got := p.Run(c.c.data()); got != c.want {
			t.Errorf("%s: filter returns %#x, want %#x", c.c.name, got, c.want)
		}
	}
}

func TestMkdirDenyProfile(t *testing.T) {
	p, err := SeccompFromSpec(loadProfile(t, "mkdir-deny-seccomp.json"))
	if err != nil {
		t.Fatal(err)
	}
	for nr := uint32(0); nr < 460; nr++ {
		want := seccomp.ActionAllow
		if nr == unix.SYS_MKDIR || nr == unix.SYS_MKDIRAT {
			want = errnoEPERM
		}
		if got := p.Run(call{nr: nr}.data()); got != want {
			t.Errorf("syscall %d: filter returns %#x, want %#x", nr, got, want)
		}
	}
	// No SCMP_ARCH_X32: x32 calls are killed, as libseccomp does.
	if got := p.Run(call{nr: 0x40000000 | unix.SYS_MKDIR}.data()); got != seccomp.ActionKillThread {
		t.Errorf("x32 mkdir: filter returns %#x, want KILL_THREAD", got)
	}
}

func TestSeccompArgumentComparisons(t *testing.T) {
	values := []uint64{0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 1 << 32, 1<<32 | 1,
		1<<32 | 0xffffffff, 2 << 32, 0x8000000000000000, ^uint64(0) - 1, ^uint64(0)}
	ops := map[specs.LinuxSeccompOperator]func(a, v uint64) bool{
		specs.OpEqualTo:      func(a, v uint64) bool { return a == v },
		specs.OpNotEqual:     func(a, v uint64) bool { return a != v },
		specs.OpLessThan:     func(a, v uint64) bool { return a < v },
		specs.OpLessEqual:    func(a, v uint64) bool { return a <= v },
		specs.OpGreaterThan:  func(a, v uint64) bool { return a > v },
		specs.OpGreaterEqual: func(a, v uint64) bool { return a >= v },
	}
	for op, want := range ops {
		for _, v := range values {
			p, err := SeccompFromSpec(&specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"ioctl"}, Action: specs.ActErrno,
					Args: []specs.LinuxSeccompArg{{Index: 3, Value: v, Op: op}}}},
			})
			if err != nil {
				t.Fatalf("%s %#x: %v", op, v, err)
			}
			for _, a := range values {
				matched := p.Run(call{nr: unix.SYS_IOCTL, args: [6]uint64{3: a}}.data()) == errnoEPERM
				if matched != want(a, v) {
					t.Errorf("arg %#x %s %#x: filter matched %v, want %v", a, op, v, matched, want(a, v))
				}
			}
		}
	}
	for _, mask := range values {
		for _, datum := range values {
			p, err := SeccompFromSpec(&specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"ioctl"}, Action: specs.ActErrno,
					Args: []specs.LinuxSeccompArg{{Index: 5, Value: mask, ValueTwo: datum, Op: specs.OpMaskedEqual}}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range values {
				matched := p.Run(call{nr: unix.SYS_IOCTL, args: [6]uint64{5: a}}.data()) == errnoEPERM
				if want := a&mask == datum; matched != want {
					t.Errorf("arg %#x & %#x == %#x: filter matched %v, want %v", a, mask, datum, matched, want)
				}
			}
		}
	}
}

func TestSeccompRulesCombine(t *testing.T) {
	one := uint(7)
	p, err := SeccompFromSpec(&specs.LinuxSeccomp{
		DefaultAction: specs.ActKillProcess,
		Syscalls: []specs.LinuxSyscall{
			// Two different arguments: both must hold.
			{Names: []string{"kill"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 1, Value: 9, Op: specs.OpEqualTo}}},
			// The same argument twice: either may hold (runc's rule).
			{Names: []string{"kill"}, Action: specs.ActErrno, ErrnoRet: &one, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 2, Op: specs.OpEqualTo}, {Index: 0, Value: 3, Op: specs.OpEqualTo}}},
			{Names: []string{"no_such_call", "getpid"}, Action: specs.ActTrap},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args [6]uint64
		want uint32
	}{
		{[6]uint64{1, 9}, seccomp.ActionAllow},
		{[6]uint64{1, 15}, seccomp.ActionKillProcess},
		{[6]uint64{2, 15}, seccomp.ActionErrno | 7},
		{[6]uint64{3}, seccomp.ActionErrno | 7},
		{[6]uint64{4}, seccomp.ActionKillProcess},
	}
	for _, c := range cases {
		if got := p.Run(call{nr: unix.SYS_KILL, args: c.args}.data()); got != c.want {
			t.Errorf("kill%v: filter returns %#x, want %#x", c.args[:2], got, c.want)
		}
	}
	if got := p.Run(call{nr: unix.SYS_GETPID}.data()); got != seccomp.ActionTrap {
		t.Errorf("getpid: filter returns %#x, want TRAP", got)
	}
}

func TestSeccompFromSpecRefuses(t *testing.T) {
	one := uint(1)
	big := uint(0x10000)
	cases := []struct {
		name  string
		s     specs.LinuxSeccomp
		field string
	}{
		{"notify default", specs.LinuxSeccomp{DefaultAction: specs.ActNotify}, "defaultAction"},
		{"notify rule", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActNotify}}}, "syscalls[0].action"},
		{"listener path", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/x.sock"}, "listenerPath"},
		{"wait killable", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}}, "flags"},
		{"unknown flag", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_BOGUS"}}, "flags"},
		{"no default", specs.LinuxSeccomp{}, "defaultAction"},
		{"unknown action", specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_MAYBE"}, "defaultAction"},
		{"errnoRet with allow", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: &one}, "defaultAction"},
		{"errnoRet too big", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: &big}, "defaultAction"},
		{"arg index", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}}, "syscalls[0].args[0].index"},
		{"arg op", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 0, Op: "SCMP_CMP_LIKE"}}}}}, "syscalls[0].args[0].op"},
	}
	for _, c := range cases {
		p, err := SeccompFromSpec(&c.s)
		if err == nil || p != nil {
			t.Errorf("%s: SeccompFromSpec = %v, %v; want an error", c.name, p, err)
			continue
		}
		if !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: error %q does not name %s", c.name, err, c.field)
		}
	}
	if p, err := SeccompFromSpec(nil); p != nil || err != nil {
		t.Errorf("SeccompFromSpec(nil) = %v, %v; want nil, nil", p, err)
	}
}

func TestSeccompProfileTooLong(t *testing.T) {
	// 1500 conditional rules need more than 4096 instructions.
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	for i := 0; i < 1500; i++ {
		s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{Names: []string{"ioctl"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 1, Value: uint64(i), Op: specs.OpEqualTo}}})
	}
	if _, err := SeccompFromSpec(s); err == nil {
		t.Error("a profile over 4096 instructions compiled")
	}
}
