package filter

import (
	"regexp"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/runsc/seccomp"
	"github.com/palisade-sandbox/palisade/runsc/seccomp/seccomptest"
)

// TestHostNetworkDecisions checks what --network=host adds, and that it
// adds nothing to the default filter.
func TestHostNetworkDecisions(t *testing.T) {
	host, err := seccomp.Build(HostNetworkRules())
	if err != nil {
		t.Fatalf("Build(HostNetworkRules()): %v", err)
	}
	def := sentryProgram(t)
	const fl = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
	for _, tc := range []struct {
		name      string
		nr        uint32
		args      []uint64
		host, def seccomp.Action
	}{
		{"socket inet stream", unix.SYS_SOCKET, []uint64{unix.AF_INET, unix.SOCK_STREAM | fl, 0}, Allow, KillProcess},
		{"socket inet6 dgram", unix.SYS_SOCKET, []uint64{unix.AF_INET6, unix.SOCK_DGRAM | fl, 0}, Allow, KillProcess},
		{"socket inet raw", unix.SYS_SOCKET, []uint64{unix.AF_INET, unix.SOCK_RAW | fl, 1}, Allow, KillProcess},
		{"socket blocking", unix.SYS_SOCKET, []uint64{unix.AF_INET, unix.SOCK_STREAM, 0}, KillProcess, KillProcess},
		{"socket unix", unix.SYS_SOCKET, []uint64{unix.AF_UNIX, unix.SOCK_STREAM | fl, 0}, KillProcess, KillProcess},
		{"socket netlink", unix.SYS_SOCKET, []uint64{unix.AF_NETLINK, unix.SOCK_RAW | fl, 0}, KillProcess, KillProcess},
		{"socket packet", unix.SYS_SOCKET, []uint64{unix.AF_PACKET, unix.SOCK_RAW | fl, 0}, KillProcess, KillProcess},
		{"socket seqpacket", unix.SYS_SOCKET, []uint64{unix.AF_INET, unix.SOCK_SEQPACKET | fl, 0}, KillProcess, KillProcess},
		{"bind", unix.SYS_BIND, nil, Allow, KillProcess},
		{"connect", unix.SYS_CONNECT, nil, Allow, KillProcess},
		{"listen", unix.SYS_LISTEN, nil, Allow, KillProcess},
		{"setsockopt", unix.SYS_SETSOCKOPT, nil, Allow, KillProcess},
		{"SIOCOUTQ", unix.SYS_IOCTL, []uint64{3, unix.SIOCOUTQ}, Allow, KillProcess},
		{"FIONREAD", unix.SYS_IOCTL, []uint64{3, unix.TIOCINQ}, Allow, Allow},
		{"TIOCSTI", unix.SYS_IOCTL, []uint64{3, unix.TIOCSTI}, KillProcess, KillProcess},
		{"socketpair", unix.SYS_SOCKETPAIR, nil, KillProcess, KillProcess},
		{"openat", unix.SYS_OPENAT, nil, Errno(unix.EPERM), Errno(unix.EPERM)},
		{"execve", unix.SYS_EXECVE, nil, KillProcess, KillProcess},
	} {
		if got := decide(t, host, tc.nr, tc.args...); got != tc.host {
			t.Errorf("host mode: %s: %v, want %v", tc.name, got, tc.host)
		}
		if got := decide(t, def, tc.nr, tc.args...); got != tc.def {
			t.Errorf("default: %s: %v, want %v", tc.name, got, tc.def)
		}
	}
	if err := seccomp.CheckReached(HostNetworkRules()); err != nil {
		t.Error(err)
	}
}

// TestHostIoctlsCoverHostinet fails when syscalls/hostinet starts using a
// socket ioctl the host-mode filter would kill the Sentry for.
func TestHostIoctlsCoverHostinet(t *testing.T) {
	known := map[string]uint32{"SIOCINQ": unix.SIOCINQ, "SIOCOUTQ": unix.SIOCOUTQ}
	re := regexp.MustCompile(`\bunix\.((?:SIOC|FIO|TIOC)[A-Z]+)\b`)
	used := seccomptest.SourceNames(t, "../../..", "syscalls/hostinet", re)
	if !slices.Contains(used, "SIOCOUTQ") {
		t.Errorf("found %v in syscalls/hostinet, no SIOCOUTQ: is the scan broken?", used)
	}
	for _, name := range used {
		req, ok := known[name]
		if !ok {
			t.Errorf("syscalls/hostinet uses %s: add it to hostIoctlRequests and to this test", name)
			continue
		}
		if !slices.Contains(hostIoctlRequests, req) {
			t.Errorf("%s is not allowed by the host-mode filter", name)
		}
	}
}
