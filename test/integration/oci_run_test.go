package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestOCIRunExitStatus runs a busybox bundle with `runsc run` and checks
// that runsc exits with the container's status: runsc create joins the
// container's cgroup to start the sandbox, and a runsc that stayed there
// was SIGKILLed by delete's cgroup cleanup (status 137).
func TestOCIRunExitStatus(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runsc run needs root")
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("no /bin/busybox: %v", err)
	}
	bundle := t.TempDir()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(bundle, "rootfs", "bin"), 0755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "rootfs", "bin", "busybox"), bb, 0755); err != nil {
		t.Fatal(err)
	}
	if r := run(t, bundle, runsc(t), "spec"); r.status != 0 {
		t.Fatalf("runsc spec: %d %s", r.status, r.stderr)
	}
	p := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"/bin/busybox", "sh", "-c", "exit 3"}
	if b, err = json.Marshal(spec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0644); err != nil {
		t.Fatal(err)
	}
	r := run(t, bundle, runsc(t), "--root", root, "run", "oci-run-status")
	if r.status != 3 {
		t.Errorf("runsc run exited %d, want the container's 3; stderr: %s", r.status, r.stderr)
	}
	if r := run(t, "/", runsc(t), "--root", root, "list", "-q"); r.stdout != "" {
		t.Errorf("containers left after run: %q", r.stdout)
		run(t, "/", runsc(t), "--root", root, "delete", "--force", "oci-run-status")
	}
}
