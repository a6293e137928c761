// Package integration runs real programs through `bin/runsc do` and
// compares what they do with the same programs run natively.
package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runsc returns the path of the runsc binary built by make.
func runsc(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "..", "..", "bin", "runsc")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("bin/runsc not built (run make): %v", err)
	}
	return bin
}

// result is what a command did.
type result struct {
	stdout, stderr string
	status         int
}

// run runs argv with a deadline; a hang is a failure.
func run(t *testing.T, dir string, argv ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q hung (killed after 60s); stderr: %s", argv, errb.String())
	}
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%q: %v", argv, err)
	}
	return result{out.String(), errb.String(), status}
}

// sandboxed runs argv with runsc do.
func sandboxed(t *testing.T, argv ...string) result {
	t.Helper()
	return run(t, "/", append([]string{runsc(t), "do"}, argv...)...)
}

// stubCount counts stub processes that outlived their sandbox: a live
// sandbox's stubs are children of its master stub or of its boot process,
// so a stub whose parent is neither (init or a subreaper adopted it) was
// leaked. Other sandboxes running meanwhile do not count.
func stubCount(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !isStub(e.Name()) {
			continue
		}
		ppid := statusField(pid, "PPid")
		if isStub(ppid) {
			continue // in a live sandbox
		}
		switch procComm(ppid) {
		case "runsc", "":
			// In a live sandbox (or gone meanwhile).
		default:
			n++
		}
	}
	return n
}

// isStub reports whether process pid runs the stub program. Its name is
// no guide: stubs take their guest process's.
func isStub(pid string) bool {
	exe, err := os.Readlink(filepath.Join("/proc", pid, "exe"))
	return err == nil && strings.Contains(filepath.Base(exe), "palisade-stub")
}

// procComm returns /proc/PID/comm without its newline, or "".
func procComm(pid string) string {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func TestPrograms(t *testing.T) {
	// Not under /tmp: the sandbox has a private /tmp.
	dir, err := os.MkdirTemp(".", "data-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if dir, err = filepath.Abs(dir); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data.txt")
	var content bytes.Buffer
	for i := 0; i < 5000; i++ {
		content.WriteString("palisade sandbox line ")
		content.WriteString(strings.Repeat("x", i%37))
		content.WriteString("\n")
	}
	if err := os.WriteFile(data, content.Bytes(), 0644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0755)
	before := stubCount(t)
	for _, tc := range []struct {
		name string
		argv []string
		// want is the expected stdout; empty means "same as native".
		want   string
		status int
	}{
		{"busybox pipeline", []string{"busybox", "sh", "-c", "echo a b c | busybox tr ' ' '\\n' | busybox wc -l"}, "3\n", 0},
		{"bash loop sorted", []string{"bash", "-c", "for i in $(seq 3); do echo $i; done | sort -r"}, "3\n2\n1\n", 0},
		{"ls -l /usr", []string{"/bin/ls", "-l", "/usr"}, "", 0},
		{"exit status", []string{"sh", "-c", "exit 7"}, "", 7},
		// The sandbox's init, like a PID namespace's init on Linux,
		// ignores default-action signals sent from inside (SIGKILL too);
		// a fault still kills it.
		{"init ignores kill -9 from inside", []string{"sh", "-c", "kill -9 $$; echo alive"}, "alive\n", 0},
		{"killed by signal", []string{"python3", "-c", "import ctypes; ctypes.string_at(0)"}, "", 139},
		{"sha256sum", []string{"sha256sum", data}, "", 0},
		{"cat host file", []string{"cat", data}, "", 0},
		{"tmp write and read", []string{"sh", "-c", "echo private > /tmp/f && cat /tmp/f && ls /tmp"}, "private\nf\n", 0},
		{"sandbox pid namespace", []string{"sh", "-c", "echo $$"}, "1\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sandboxed(t, tc.argv...)
			want := tc.want
			if want == "" && tc.status == 0 {
				native := run(t, "/", tc.argv...)
				want = native.stdout
			}
			if got.status != tc.status {
				t.Errorf("exit status %d, want %d; stderr: %s", got.status, tc.status, got.stderr)
			}
			if got.stdout != want {
				t.Errorf("stdout differs from expected\n got: %q\nwant: %q\nstderr: %s", trim(got.stdout), trim(want), got.stderr)
			}
		})
	}
	if after := stubCount(t); after > before {
		t.Errorf("%d stub processes leaked", after-before)
	}
}

func trim(s string) string {
	if len(s) > 400 {
		return s[:400] + "..."
	}
	return s
}

func TestMissingCommandIsOneClearLine(t *testing.T) {
	// As shells and docker report them: 127 for a command that is not
	// found, 126 for one that cannot be executed.
	for _, tc := range []struct {
		argv   []string
		status int
		stderr string
	}{
		{[]string{"/nope"}, 127, "runsc do: /nope: no such file or directory\n"},
		{[]string{"no-such-command-anywhere"}, 127, "runsc do: no-such-command-anywhere: executable file not found in $PATH\n"},
		{[]string{"/etc/passwd"}, 126, "runsc do: /etc/passwd: permission denied\n"},
		{[]string{"/etc"}, 126, "runsc do: /etc: permission denied\n"},
	} {
		got := sandboxed(t, tc.argv...)
		if got.status != tc.status || got.stderr != tc.stderr {
			t.Errorf("runsc do %q: status %d, stderr %q; want %d, %q", tc.argv, got.status, got.stderr, tc.status, tc.stderr)
		}
	}
}

// TestGlobalFlagsAfterDo checks that global flags work after `do` too and
// that `runsc --help` describes them.
func TestGlobalFlagsAfterDo(t *testing.T) {
	got := sandboxed(t, "--strace", "true")
	if got.status != 0 || !strings.Contains(got.stderr, "exit_group(0)") {
		t.Errorf("runsc do --strace true: status %d, stderr %q; want a trace ending in exit_group(0)", got.status, got.stderr)
	}
	help := run(t, "/", runsc(t), "--help")
	for _, want := range []string{"-strace=false: log every guest system call", "-debug-log=", "-platform=ptrace", "-max-tasks="} {
		if !strings.Contains(help.stderr+help.stdout, want) {
			t.Errorf("runsc --help does not describe %q:\n%s%s", want, help.stdout, help.stderr)
		}
	}
}
