package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStubsShowGuestCommands checks what the host (ps, docker top) sees of
// a sandbox's stubs: each shows its guest process's name and command
// line, not the stub program's.
func TestStubsShowGuestCommands(t *testing.T) {
	// A forked child that execs (sleep), one that renames itself with
	// prctl(PR_SET_NAME) (python3), and the shell itself exec'ing cat.
	s := startSandbox(t, nil, `sleep 1000 & python3 -c 'import ctypes, time; ctypes.CDLL(None).prctl(15, b"renamed", 0, 0, 0); time.sleep(1000)' & echo started; exec cat`)
	boot := s.child(t, "boot")
	want := map[string]string{ // comm -> (part of) the command line
		"sleep": "sleep 1000",
		"cat":   "cat",
		// python3 may be a shim exec'ing the real one by its path.
		"renamed": "python3 -c import ctypes, time;",
	}
	var seen []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		seen = nil
		found := 0
		for _, p := range stubsUnder(boot) {
			pid := strconv.Itoa(p.pid)
			b, err := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
			if err != nil {
				continue
			}
			cmdline := strings.TrimSuffix(string(b), "\x00")
			comm := procComm(pid)
			seen = append(seen, comm+":"+cmdline)
			if l, ok := want[comm]; ok && strings.Contains(cmdline, l) {
				found++
			}
		}
		if found == len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stubs under boot %d show (comm:cmdline) %q; want %q", boot, seen, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// ps -ef, which docker top runs, shows the same.
	var args []string
	for _, p := range stubsUnder(boot) {
		o, err := exec.Command("ps", "-o", "args=", "-p", strconv.Itoa(p.pid)).Output()
		if err == nil {
			args = append(args, strings.TrimSpace(string(o)))
		}
	}
	joined := strings.Join(args, "|")
	if !strings.Contains(joined, "sleep 1000") || !strings.Contains(joined, "cat") {
		t.Errorf("ps shows the stubs as %q; want \"sleep 1000\" and \"cat\"", joined)
	}
	// The master stub, which runs no guest process, keeps its own name.
	if !strings.Contains(joined, "[palisade-stub]") {
		t.Errorf("ps shows the stubs as %q; want the master as [palisade-stub]", joined)
	}
}
