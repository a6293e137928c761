package integration

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStrace runs strace inside the sandbox: guest ptrace (PTRACE_SEIZE
// of a stopped child, INTERRUPT, LISTEN, syscall stops with
// TRACESYSGOOD, fork and exec events) must be complete enough for it to
// trace a command and its children and report their writes.
func TestStrace(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		t.Fatalf("strace is not installed on the host (run scripts/install-deps.sh)")
	}
	for _, tc := range []struct {
		name  string
		argv  []string
		lines []string
	}{
		{
			name:  "one process",
			argv:  []string{"strace", "-f", "-e", "trace=write", "/bin/echo", "hi"},
			lines: []string{`write(1, "hi\n", 3)`, "+++ exited with 0 +++"},
		},
		{
			name: "children followed with -f",
			argv: []string{"strace", "-f", "-e", "trace=write", "sh", "-c", "/bin/echo a; /bin/echo b"},
			lines: []string{`write(1, "a\n", 2)`, `write(1, "b\n", 2)`, "attached",
				"+++ exited with 0 +++"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sandboxed(t, tc.argv...)
			if got.status != 0 {
				t.Fatalf("exit status %d, want 0\nstdout: %s\nstderr: %s", got.status, trim(got.stdout), trim(got.stderr))
			}
			for _, l := range tc.lines {
				if !strings.Contains(got.stderr, l) {
					t.Errorf("strace's output has no %q\n%s", l, trim(got.stderr))
				}
			}
		})
	}
}

// TestGdb debugs a program inside the sandbox: a breakpoint in a shared
// library (POKETEXT into read-only text), a backtrace (registers and
// PEEKs), stepping off the breakpoint (PTRACE_SINGLESTEP) and running to
// the end.
func TestGdb(t *testing.T) {
	if _, err := exec.LookPath("gdb"); err != nil {
		t.Fatalf("gdb is not installed on the host (run scripts/install-deps.sh)")
	}
	got := sandboxed(t, "gdb", "-nx", "-batch", "-ex", "set breakpoint pending on", "-ex", "break write",
		"-ex", "run", "-ex", "bt", "-ex", "continue", "--args", "/bin/echo", "hi")
	if got.status != 0 {
		t.Fatalf("exit status %d, want 0\nstdout: %s\nstderr: %s", got.status, trim(got.stdout), trim(got.stderr))
	}
	for _, l := range []string{"Breakpoint 1, ", "__libc_start_main", "\nhi\n", "exited normally"} {
		if !strings.Contains(got.stdout, l) {
			t.Errorf("gdb's output has no %q\n%s\nstderr: %s", l, trim(got.stdout), trim(got.stderr))
		}
	}
	// gdb reads and writes the inferior through /proc/PID/mem, warning
	// when it cannot.
	if strings.Contains(got.stdout+got.stderr, "/proc/PID/mem") {
		t.Errorf("gdb could not use /proc/PID/mem\nstdout: %s\nstderr: %s", trim(got.stdout), trim(got.stderr))
	}
}
