package integration

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// netlinkScript makes a listener and a connection on loopback, runs
// ss -tan and ss -tln, then changes the stack with ip(8) and shows it.
const netlinkScript = `
import socket, subprocess, sys
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(5)
port = l.getsockname()[1]
c = socket.create_connection(('127.0.0.1', port)); s, _ = l.accept()
print('PORT', port, flush=True)
def run(*argv):
    print('$', ' '.join(argv), flush=True)
    subprocess.run(argv, check=True)
run('ss', '-tan')
run('ss', '-tln')
run('ip', 'addr', 'add', '10.9.9.9/24', 'dev', 'lo')
run('ip', 'route', 'add', '10.8.0.0/16', 'via', '10.9.9.1')
run('ip', 'link', 'set', 'lo', 'mtu', '1500')
run('ip', 'addr', 'show', 'dev', 'lo')
run('ip', 'route')
b = socket.socket(); b.bind(('10.9.9.9', 0))
print('BOUND', b.getsockname()[0], flush=True)
`

// TestNetlinkToolsInSandbox runs the real ss and ip inside the sandbox:
// ss lists the sandbox's own sockets (NETLINK_SOCK_DIAG), ip changes its
// stack (RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWLINK) and shows the result.
func TestNetlinkToolsInSandbox(t *testing.T) {
	bin := runsc(t)
	py := python(t)
	for _, tool := range []string{"ss", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	res := run(t, "/", bin, "--network=none", "do", py, "-c", netlinkScript)
	if res.status != 0 {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", res.status, res.stdout, res.stderr)
	}
	out := res.stdout
	m := regexp.MustCompile(`PORT (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no port in:\n%s", out)
	}
	port := m[1]
	sections := strings.Split(out, "$ ")
	section := func(prefix string) string {
		for _, s := range sections {
			if strings.HasPrefix(s, prefix) {
				return s
			}
		}
		t.Fatalf("no output of %q in:\n%s", prefix, out)
		return ""
	}
	tan := section("ss -tan")
	listen := regexp.MustCompile(`(?m)^LISTEN\s+0\s+5\s+127\.0\.0\.1:` + port + `\s`)
	estab := regexp.MustCompile(`(?m)^ESTAB\s.*127\.0\.0\.1:` + port + `\s`)
	if !listen.MatchString(tan) || len(estab.FindAllString(tan, -1)) != 2 {
		t.Errorf("ss -tan: want the listener on port %s and both ends of its connection:\n%s", port, tan)
	}
	if tln := section("ss -tln"); !listen.MatchString(tln) || strings.Contains(tln, "ESTAB") {
		t.Errorf("ss -tln: want the listener alone:\n%s", tln)
	}
	addr := section("ip addr show")
	for _, want := range []string{"mtu 1500", "inet 127.0.0.1/8", "inet 10.9.9.9/24"} {
		if !strings.Contains(addr, want) {
			t.Errorf("ip addr: no %q in:\n%s", want, addr)
		}
	}
	if r := section("ip route\n"); !strings.Contains(r, "10.8.0.0/16 via 10.9.9.1 dev lo") {
		t.Errorf("ip route: no route to 10.8.0.0/16 in:\n%s", r)
	}
	if !strings.Contains(out, "BOUND 10.9.9.9") {
		t.Errorf("no socket bound to the added address:\n%s", out)
	}
}
