package integration

import (
	"strings"
	"testing"
)

// TestForkBombStopsAtMaxTasks runs a shell fork bomb under a low
// --max-tasks: the bomb's fork fails (dash gives up with "Cannot fork",
// status 2), it kills and reaps its children, and the sandbox goes on:
// fork works again and the command exits 0, with no crash of the Sentry.
func TestForkBombStopsAtMaxTasks(t *testing.T) {
	// The bomb keeps its children's PIDs without forking (no $(...)), so
	// its EXIT trap can kill and reap them all while the sandbox is full.
	bomb := `pids=; trap 'kill -9 $pids; wait' EXIT; while sleep 600 & do pids="$pids $!"; done`
	script := "sh -c '" + strings.ReplaceAll(bomb, "'", `'\''`) + "' 2>/dev/null\n" +
		"echo \"bomb exited $?\"\n" +
		"/bin/true && echo 'fork works'\n"
	r := run(t, "/", runsc(t), "--max-tasks=16", "do", "sh", "-c", script)
	if r.status != 0 {
		t.Fatalf("status %d, want 0; stdout %q; stderr %q", r.status, r.stdout, r.stderr)
	}
	if want := "bomb exited 2\nfork works\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q (stderr %q)", r.stdout, want, r.stderr)
	}
	if !strings.Contains(r.stderr, "--max-tasks") {
		t.Errorf("stderr %q does not say the task limit was reached", r.stderr)
	}
	for _, crash := range []string{"fatal error", "panic", "sandbox died", "goroutine "} {
		if strings.Contains(r.stderr, crash) {
			t.Errorf("the Sentry crashed (%q in stderr): %s", crash, r.stderr)
		}
	}
}

// TestMaxTasksFlagIsValidated checks that a cap the sandbox cannot use is
// refused with one clear line before anything starts.
func TestMaxTasksFlagIsValidated(t *testing.T) {
	for _, v := range []string{"0", "-1", "100000000"} {
		r := run(t, "/", runsc(t), "--max-tasks="+v, "do", "true")
		if r.status == 0 || !strings.Contains(r.stderr, "--max-tasks="+v) {
			t.Errorf("--max-tasks=%s: status %d, stderr %q; want a failure naming the flag", v, r.status, r.stderr)
		}
	}
}
