package integration

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// killProc sends SIGKILL to pid after checking that it is the process
// named name (argv[0]: runsc-sandbox, runsc-gofer).
func killProc(t *testing.T, pid int, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || !strings.HasPrefix(string(b), name+"\x00") {
		t.Fatalf("pid %d is not %s: %q, %v", pid, name, b, err)
	}
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d (%s): %v", pid, name, err)
	}
}

// waitExit waits (bounded) for a started command to end and returns its
// exit status (-1 for death by a signal).
func waitExit(t *testing.T, cmd *exec.Cmd, what string) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return 0
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s still runs 20s after the fault", what)
	}
	return 0
}

// hookGate is a hook that says it runs (a line on the ready FIFO), then
// blocks until the test lets it go: it reads the go FIFO, which the test
// holds open and writes a line to to release it. The hook opens the go
// FIFO before it says it runs, so the line never comes before it reads.
type hookGate struct {
	ready *os.File // read end, non-blocking
	gate  *os.File // held open (read-write) until release
	hook  specs.Hook
	dir   string
}

// checkGone polls (bounded) until no hook process is left.
func (g *hookGate) checkGone(t *testing.T) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if left = hostProcs(func(c string, _ int) bool { return strings.Contains(c, g.dir) }); len(left) == 0 {
			return
		}
	}
	t.Errorf("hook processes left: %v", left)
}

// newHookGate makes the FIFOs and the hook.
func newHookGate(t *testing.T, dir string) *hookGate {
	t.Helper()
	readyPath, goPath := filepath.Join(dir, "ready"), filepath.Join(dir, "go")
	for _, p := range []string{readyPath, goPath} {
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	g := &hookGate{dir: dir, hook: specs.Hook{Path: "/bin/busybox", Args: []string{"sh", "-c", "exec 3< " + goPath + "; echo ready > " + readyPath + "; read x <&3"}}}
	var err error
	// Read-write: opening never blocks, and the FIFOs always have a
	// reader and a writer, so the hook's opens never block either.
	if g.ready, err = os.OpenFile(readyPath, os.O_RDWR, 0); err != nil {
		t.Fatal(err)
	}
	if g.gate, err = os.OpenFile(goPath, os.O_RDWR, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.release)
	return g
}

// waitReady waits (bounded) for the hook to run; cmd is the runsc
// command running it, which must not end first.
func (g *hookGate) waitReady(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(g.ready).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "ready\n" {
			t.Fatalf("hook said %q", l)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the hook did not run within 30s (runsc %v)", cmd.Args)
	}
}

// release lets the hook end: its read of the go FIFO sees a line.
func (g *hookGate) release() {
	if g.gate != nil {
		g.gate.Write([]byte("go\n"))
		g.gate.Close()
		g.ready.Close()
		g.gate = nil
	}
}

// TestOCIFaults kills runsc, the Sentry (runsc-sandbox) and the gofer
// (runsc-gofer) at points of create, start and exec; afterwards `runsc
// state` must tell the truth and `runsc delete --force` must remove
// everything: state directory, UID record, cgroup, processes (the
// sandbox's host UID runs nothing any more).
func TestOCIFaults(t *testing.T) {
	e := newOCIEnv(t)

	t.Run("sentry killed after create", func(t *testing.T) {
		id := e.id("k-created")
		e.create(id, e.spec("sleep", "100000"))
		rec := e.record(id)
		killProc(t, rec.Sandbox.PID, "runsc-sandbox")
		e.waitStatus(id, "stopped")
		if r := e.runsc("start", id); r.status != 1 || !strings.Contains(r.stderr, "stopped") {
			t.Errorf("start after the Sentry died: status %d, stderr %q; want 1 and \"stopped\"", r.status, r.stderr)
		}
		e.must("delete", "--force", id)
		e.checkNothingLeft(id, rec.HostUID)
	})

	t.Run("sentry killed while running", func(t *testing.T) {
		id := e.id("k-running")
		rec := e.startSleeper(id)
		killProc(t, rec.Sandbox.PID, "runsc-sandbox")
		e.waitStatus(id, "stopped")
		if r := e.runsc("kill", id, "KILL"); r.status != 1 || !strings.Contains(r.stderr, "not running") {
			t.Errorf("kill after the Sentry died: status %d, stderr %q; want 1 and \"not running\"", r.status, r.stderr)
		}
		// A stopped container needs no --force.
		e.must("delete", id)
		e.checkNothingLeft(id, rec.HostUID)
	})

	t.Run("sentry killed during exec", func(t *testing.T) {
		id := e.id("k-exec")
		rec := e.startSleeper(id)
		cmd := e.command("exec", id, "sh", "-c", "echo in; exec sleep 100000")
		out, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		cmd.Stdout = w
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		line := make(chan string, 1)
		go func() {
			l, _ := bufio.NewReader(out).ReadString('\n')
			line <- l
		}()
		select {
		case l := <-line:
			if l != "in\n" {
				t.Fatalf("exec printed %q", l)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("the exec'd process did not start within 30s")
		}
		killProc(t, rec.Sandbox.PID, "runsc-sandbox")
		if st := waitExit(t, cmd, "runsc exec"); st == 0 {
			t.Errorf("runsc exec exited 0 though its process died with the sandbox")
		}
		e.waitStatus(id, "stopped")
		e.must("delete", "--force", id)
		e.checkNothingLeft(id, rec.HostUID)
	})

	t.Run("gofer killed while running", func(t *testing.T) {
		id := e.id("k-gofer")
		rec := e.startSleeper(id)
		killProc(t, rec.Gofer.PID, "runsc-gofer")
		// The sandbox cannot serve its files any more: it ends.
		e.waitStatus(id, "stopped")
		e.must("delete", "--force", id)
		e.checkNothingLeft(id, rec.HostUID)
	})

	t.Run("runsc create killed in a createRuntime hook", func(t *testing.T) {
		id := e.id("k-create")
		g := newHookGate(t, t.TempDir())
		s := e.spec("sleep", "100000")
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{g.hook}}
		e.deleteAtCleanup(id)
		cmd := e.command("create", "--bundle", e.bundle(s, nil), id)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		g.waitReady(t, cmd)
		rec := e.record(id)
		cmd.Process.Kill()
		waitExit(t, cmd, "runsc create")
		// The create never finished: the container cannot start.
		if st := e.status(id); st != "stopped" {
			t.Errorf("state after runsc create died: %q, want stopped", st)
		}
		if r := e.runsc("start", id); r.status != 1 {
			t.Errorf("start of a container whose create died: status %d, want 1; stderr %q", r.status, r.stderr)
		}
		g.release()
		e.must("delete", "--force", id)
		e.checkNothingLeft(id, rec.HostUID)
		g.checkGone(t)
	})

	t.Run("runsc start killed in a startContainer hook", func(t *testing.T) {
		id := e.id("k-start")
		g := newHookGate(t, t.TempDir())
		s := e.spec("sleep", "100000")
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{g.hook}}
		e.create(id, s)
		rec := e.record(id)
		cmd := e.command("start", id)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		g.waitReady(t, cmd)
		cmd.Process.Kill()
		waitExit(t, cmd, "runsc start")
		g.release()
		// The process never started.
		if st := e.status(id); st != "created" {
			t.Errorf("state after runsc start died before starting: %q, want created", st)
		}
		e.must("delete", "--force", id)
		e.checkNothingLeft(id, rec.HostUID)
		g.checkGone(t)
	})

	t.Run("runsc exec killed", func(t *testing.T) {
		id := e.id("k-execcli")
		rec := e.startSleeper(id)
		cmd := e.command("exec", id, "sleep", "100000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the exec'd process runs: ps lists two.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if strings.Count(e.must("ps", id), "sleep") >= 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("exec'd sleep not in ps after 20s:\n%s", e.must("ps", id))
			}
		}
		cmd.Process.Kill()
		waitExit(t, cmd, "runsc exec")
		if st := e.status(id); st != "running" {
			t.Errorf("state after runsc exec died: %q, want running", st)
		}
		e.must("delete", "--force", id)
		e.checkNothingLeft(id, rec.HostUID)
	})

	t.Run("runsc run killed", func(t *testing.T) {
		id := e.id("k-run")
		e.deleteAtCleanup(id)
		cmd := e.command("run", "--bundle", e.bundle(e.spec("sleep", "100000"), nil), id)
		cmd.Stdout, cmd.Stderr = e.tempFile(), e.tempFile()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if r := e.runsc("state", id); r.status == 0 && strings.Contains(r.stdout, `"running"`) {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("runsc run: not running after 30s")
			}
		}
		rec := e.record(id)
		cmd.Process.Kill()
		waitExit(t, cmd, "runsc run")
		if st := e.status(id); st != "running" {
			t.Errorf("state after runsc run died: %q, want running (the sandbox lives on)", st)
		}
		e.must("delete", "--force", id)
		e.checkNothingLeft(id, rec.HostUID)
	})

	// Nothing of any of them is left under --root.
	if ents, _ := os.ReadDir(e.root); len(ents) > 0 {
		var names []string
		for _, ent := range ents {
			names = append(names, ent.Name())
		}
		t.Errorf("left in --root: %v", names)
	}
}
