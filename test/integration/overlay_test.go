package integration

import (
	"os"
	"strings"
	"testing"
)

// TestRootOverlayNeverWritesHost changes, creates and removes files of the
// host image (Debian's /etc/motd, /etc/issue, /etc/hostname) inside the
// sandbox, checks the sandbox sees its changes, and checks the host files
// are untouched: the root is an overlay whose upper layer lives in the
// Sentry's memory.
func TestRootOverlayNeverWritesHost(t *testing.T) {
	files := []string{"/etc/motd", "/etc/issue", "/etc/hostname"}
	type snap struct {
		data []byte
		info os.FileInfo
	}
	before := map[string]snap{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Skipf("host has no %s: %v", f, err)
		}
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		before[f] = snap{data, info}
	}
	const created = "/etc/hostname.palisade-test"
	if _, err := os.Lstat(created); err == nil {
		t.Fatalf("%s exists on the host before the test", created)
	}

	r := sandboxed(t, "/bin/sh", "-c", `
echo x >> `+created+` 2>&1
cat `+created+`
echo appended >> /etc/hostname
tail -n 1 /etc/hostname
echo changed > /etc/motd
cat /etc/motd
rm /etc/issue
ls /etc/issue 2>/dev/null || echo issue-gone
mkdir /etc/palisade-dir.test && echo ok > /etc/palisade-dir.test/f && cat /etc/palisade-dir.test/f
`)
	if r.status != 0 {
		t.Errorf("sandboxed script exited %d; stderr: %s", r.status, r.stderr)
	}
	if want := "x\nappended\nchanged\nissue-gone\nok\n"; r.stdout != want {
		t.Errorf("sandboxed script printed %q, want %q (stderr: %s)", r.stdout, want, r.stderr)
	}

	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("host %s after the sandbox: %v", f, err)
			continue
		}
		info, _ := os.Stat(f)
		b := before[f]
		if string(data) != string(b.data) {
			t.Errorf("host %s changed: %q, was %q", f, data, b.data)
		}
		if info != nil && (info.Mode() != b.info.Mode() || !info.ModTime().Equal(b.info.ModTime())) {
			t.Errorf("host %s attributes changed: mode %v mtime %v, were %v %v", f, info.Mode(), info.ModTime(), b.info.Mode(), b.info.ModTime())
		}
	}
	for _, f := range []string{created, "/etc/palisade-dir.test"} {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s was created on the host", f)
			if strings.HasPrefix(f, "/etc/") && strings.Contains(f, "palisade") {
				os.RemoveAll(f)
			}
		}
	}
}
