package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestRebootEndsTheSandboxAsAPIDNamespace checks reboot(2)'s "Behavior
// inside PID namespaces" for the sandbox: a restart ends the sandbox's
// init as killed by SIGHUP (runsc do exits 128+1), a power-off as killed
// by SIGINT (128+2), with every other process.
func TestRebootEndsTheSandboxAsAPIDNamespace(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	// The sandbox's /tmp is its own; /var/tmp is the host's.
	dir, err := os.MkdirTemp("/var/tmp", "palisade-reboot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "reboot")
	src := filepath.Join(filepath.Dir(file), "testdata", "reboot.c")
	if out, err := exec.Command("gcc", "-static", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("building testdata/reboot.c: %v\n%s", err, out)
	}
	for _, c := range []struct {
		cmd  string
		want int
	}{{"restart", 129}, {"poweroff", 130}} {
		r := sandboxed(t, bin, c.cmd)
		if r.status != c.want {
			t.Errorf("reboot %s: runsc do exited %d, want %d; stderr: %s", c.cmd, r.status, c.want, r.stderr)
		}
	}
}
