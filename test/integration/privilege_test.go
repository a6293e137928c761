package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// hostChildren returns the pids of the host processes whose parent is ppid.
func hostChildren(ppid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command name, which may hold spaces.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(ppid) {
			out = append(out, pid)
		}
	}
	return out
}

// statusField returns a line's value from /proc/PID/status.
func statusField(pid int, name string) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

// TestSentryAndGuestRunAsHostNobody checks that the sandbox (the Sentry and
// the stub processes running guest code) holds no host privileges: it runs
// in a user namespace whose root is the host's nobody, without any
// capability even there.
func TestSentryAndGuestRunAsHostNobody(t *testing.T) {
	// Once the command has printed, the Sentry is past its set-up (it
	// drops its capabilities after starting the platform's stubs).
	s := startSandbox(t, nil, "echo started; read x")
	boot := s.child(t, "boot")
	if got := statusField(boot, "Uid"); got != "65534 65534 65534 65534" {
		t.Errorf("boot's host UIDs = %q, want all 65534 (nobody)", got)
	}
	if got := statusField(boot, "Gid"); got != "65534 65534 65534 65534" {
		t.Errorf("boot's host GIDs = %q, want all 65534 (nobody)", got)
	}
	for _, set := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if got := statusField(boot, set); got != "0000000000000000" {
			t.Errorf("boot's %s = %q, want no capabilities", set, got)
		}
	}
	m, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(boot), "uid_map"))
	if got := strings.Join(strings.Fields(string(m)), " "); got != "0 65534 1" {
		t.Errorf("boot's uid_map = %q, want \"0 65534 1\"", got)
	}
	self, _ := os.Readlink("/proc/self/ns/user")
	theirs, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(boot), "ns", "user"))
	if theirs == "" || theirs == self {
		t.Errorf("boot's user namespace %q is the host's %q", theirs, self)
	}
	// Every process under boot (the stubs that run guest code) too.
	stubs := 0
	queue := hostChildren(boot)
	for len(queue) > 0 {
		pid := queue[0]
		queue = append(queue[1:], hostChildren(pid)...)
		stubs++
		if got := statusField(pid, "Uid"); got != "65534 65534 65534 65534" {
			t.Errorf("process %d under boot has host UIDs %q, want nobody", pid, got)
		}
		for _, set := range []string{"CapPrm", "CapEff", "CapBnd"} {
			if got := statusField(pid, set); got != "0000000000000000" {
				t.Errorf("process %d under boot: %s = %q, want no capabilities", pid, set, got)
			}
		}
	}
	if stubs == 0 {
		t.Error("no stub processes under boot")
	}
}
