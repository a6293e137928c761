package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// pythonTestDir holds CPython's own test suite (Debian's
// libpython3.11-testsuite, installed by scripts/install-deps.sh).
const pythonTestDir = "/usr/lib/python3.11/test"

// TestPythonNetworkModules runs CPython's network test modules natively
// and in the sandbox, and wants both to pass (issue 11). Each run is in a
// network namespace of its own with only loopback up, so nothing a test
// tries can leave the machine; the sandbox uses --network=none, its own
// loopback. Resources are enabled only for modules whose "network" tests
// are local.
func TestPythonNetworkModules(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root (unshare -n)")
	}
	if _, err := os.Stat(pythonTestDir + "/test_socket.py"); err != nil {
		t.Fatalf("CPython's test suite is missing (make deps installs libpython3.11-testsuite): %v", err)
	}
	bin := runsc(t)
	for _, m := range []struct {
		modules []string
		// resources for -u ("" for none).
		resources string
	}{
		// AF_VSOCK is not confined by network namespaces (its peer is
		// the hypervisor on a VM): its cases are left out. The
		// sandbox has no AF_VSOCK (EAFNOSUPPORT, the cases skip).
		{[]string{"test_socket", "-i", "*VSOCK*"}, ""},
		{[]string{"test_socketserver"}, "network"},
		{[]string{"test_httplib", "test_urllib2_localnet"}, ""},
		{[]string{"test_ssl"}, ""},
		{[]string{"test_asyncio.test_sock_lowlevel", "test_asyncio.test_streams", "test_asyncio.test_sendfile",
			"test_asyncio.test_server", "test_asyncio.test_ssl", "test_asyncio.test_events"}, ""},
	} {
		m := m
		t.Run(m.modules[0], func(t *testing.T) {
			argv := []string{"/usr/bin/python3", "-m", "test"}
			if m.resources != "" {
				argv = append(argv, "-u", m.resources)
			}
			argv = append(argv, m.modules...)
			if out, ok := runInLoopbackNamespace(t, argv); !ok {
				t.Fatalf("natively: %s", out)
			}
			if out, ok := runInLoopbackNamespace(t, append([]string{bin, "--network=none", "do"}, argv...)); !ok {
				t.Errorf("in the sandbox: %s", out)
			}
		})
	}
}

// runInLoopbackNamespace runs argv as `python3 -m test` in a new network
// namespace with only lo up, and reports whether regrtest said SUCCESS;
// the output's tail is returned for the failure message.
func runInLoopbackNamespace(t *testing.T, argv []string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	script := `ip link set lo up || exit 2; exec "$@"`
	cmd := exec.CommandContext(ctx, "unshare", append([]string{"--net", "--", "sh", "-c", script, "sh"}, argv...)...)
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		return "hung (killed after 10 minutes)\n" + tail(out.String(), 4000), false
	}
	s := out.String()
	return tail(s, 4000), err == nil && strings.Contains(s, "Tests result: SUCCESS")
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
