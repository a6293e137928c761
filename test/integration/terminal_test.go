package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ociBundle makes a bundle in a new directory whose rootfs holds a
// static busybox and its applets, with runsc spec's config.json changed
// by edit.
func ociBundle(t *testing.T, edit func(*specs.Spec)) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed")
	}
	if out, err := exec.Command("file", "-L", bb).Output(); err == nil && !bytes.Contains(out, []byte("statically linked")) {
		t.Skipf("%s is not statically linked (install busybox-static)", bb)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "rootfs", "bin")
	if err := os.MkdirAll(bin, 0755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "busybox"), b, 0755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "tty", "stty", "sleep", "cat", "kill"} {
		if err := os.Symlink("busybox", filepath.Join(bin, applet)); err != nil {
			t.Fatal(err)
		}
	}
	if r := run(t, dir, runsc(t), "spec"); r.status != 0 {
		t.Fatalf("runsc spec: %s", r.stderr)
	}
	p := filepath.Join(dir, "config.json")
	b, err = os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	edit(&spec)
	if b, err = json.Marshal(&spec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// consoleSocket listens on a unix socket for the terminal master runsc
// sends (as docker's shim does) and returns its path and a function
// that waits for the master.
func consoleSocket(t *testing.T) (string, func() *os.File) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return p, func() *os.File {
		t.Helper()
		l.SetDeadline(time.Now().Add(60 * time.Second))
		conn, err := l.AcceptUnix()
		if err != nil {
			t.Fatalf("no terminal on the console socket: %v", err)
		}
		defer conn.Close()
		buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			t.Fatalf("console socket: no descriptor (%v)", err)
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			t.Fatalf("console socket: no descriptor (%v)", err)
		}
		// Non-blocking, for Go's poller: Close then ends a pending
		// Read and really closes the master.
		if err := unix.SetNonblock(fds[0], true); err != nil {
			t.Fatal(err)
		}
		m := os.NewFile(uintptr(fds[0]), "master")
		t.Cleanup(func() { m.Close() })
		return m
	}
}

// terminalOutput collects what is read from a terminal master until
// every replica is gone (EIO).
type terminalOutput struct {
	mu   sync.Mutex
	cond sync.Cond
	buf  bytes.Buffer
	done bool
}

// readTerminal starts collecting master's output.
func readTerminal(master *os.File) *terminalOutput {
	o := &terminalOutput{}
	o.cond.L = &o.mu
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			o.mu.Lock()
			o.buf.Write(b[:n])
			if err != nil {
				o.done = true
			}
			o.cond.Broadcast()
			o.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return o
}

// waitFor waits until the output contains s (or, with s empty, until
// it ends) and returns it with "\r\n" as "\n". A hang fails the test.
func (o *terminalOutput) waitFor(t *testing.T, s string) string {
	t.Helper()
	timedOut := false
	timer := time.AfterFunc(60*time.Second, func() {
		o.mu.Lock()
		timedOut = true
		o.cond.Broadcast()
		o.mu.Unlock()
	})
	defer timer.Stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for !(s != "" && strings.Contains(o.buf.String(), s)) && !o.done && !timedOut {
		o.cond.Wait()
	}
	out := strings.ReplaceAll(o.buf.String(), "\r\n", "\n")
	switch {
	case s != "" && !strings.Contains(o.buf.String(), s):
		t.Fatalf("waiting for %q on the terminal; got %q", s, out)
	case s == "" && !o.done:
		t.Fatalf("the terminal did not end (every replica closed) within 60s; got %q", out)
	}
	return out
}

// setSize sets the terminal's window size through its master, as
// docker's shim does.
func setSize(t *testing.T, master *os.File, rows, cols uint16) {
	t.Helper()
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
}

// runscIn runs runsc with a --root of its own.
func runscIn(t *testing.T, root, dir string, args ...string) result {
	t.Helper()
	return run(t, dir, append([]string{runsc(t), "--root", root}, args...)...)
}

// runscFiles runs runsc with a --root of its own and a file for its
// stdout and stderr (which sandboxes and detached runsc processes it
// starts inherit: a pipe would stay open), returning what it printed.
func runscFiles(t *testing.T, root, dir string, args ...string) (string, error) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, runsc(t), append([]string{"--root", root}, args...)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, f, f
	err = cmd.Run()
	b, _ := os.ReadFile(f.Name())
	return string(b), err
}

// TestContainerTerminal: a container process with process.terminal has
// a terminal of the sandbox's own (its name is /dev/pts/0 and stat
// agrees, as ttyname(3) checks), with the size the host terminal had at
// start, and later resizes of the host terminal reach it as SIGWINCH
// with the new size.
func TestContainerTerminal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containers need root")
	}
	root := t.TempDir()
	dir := ociBundle(t, func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.Args = []string{"/bin/sh", "-c",
			`tty; stty size; sleep 1000 & trap 'stty size; kill $!' WINCH; echo ready; wait`}
	})
	sock, master := consoleSocket(t)
	id := fmt.Sprintf("tty-%d", os.Getpid())
	t.Cleanup(func() { runscIn(t, root, "/", "delete", "--force", id) })
	if r := runscIn(t, root, dir, "create", "--console-socket", sock, id); r.status != 0 {
		t.Fatalf("runsc create: %s", r.stderr)
	}
	m := master()
	setSize(t, m, 24, 81)
	out := readTerminal(m)
	if r := runscIn(t, root, "/", "start", id); r.status != 0 {
		t.Fatalf("runsc start: %s", r.stderr)
	}
	got := out.waitFor(t, "ready\r\n")
	if want := "/dev/pts/0\n24 81\nready\n"; got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
	setSize(t, m, 33, 111)
	got = out.waitFor(t, "")
	if want := "/dev/pts/0\n24 81\nready\n33 111\n"; got != want {
		t.Fatalf("after a resize: output %q, want %q", got, want)
	}
}

// TestContainerTerminalHangUp: closing the host terminal's master (as
// docker's shim does when the container's terminal goes away) hangs the
// guest's terminal up: its session leader, the first process, gets
// SIGHUP once (the handler here records it in the rootfs, written
// through with --overlay=none, and exits 3).
func TestContainerTerminalHangUp(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containers need root")
	}
	root := t.TempDir()
	dir := ociBundle(t, func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Process.Terminal = true
		s.Process.Args = []string{"/bin/sh", "-c", `trap 'echo hup >>/hup; exit 3' HUP; echo ready; sleep 1000 & wait`}
	})
	sock, master := consoleSocket(t)
	id := fmt.Sprintf("tty-hup-%d", os.Getpid())
	t.Cleanup(func() { runscIn(t, root, "/", "delete", "--force", id) })
	if r := runscIn(t, root, dir, "--overlay=none", "create", "--console-socket", sock, id); r.status != 0 {
		t.Fatalf("runsc create: %s", r.stderr)
	}
	m := master()
	out := readTerminal(m)
	if r := runscIn(t, root, "/", "start", id); r.status != 0 {
		t.Fatalf("runsc start: %s", r.stderr)
	}
	out.waitFor(t, "ready\r\n")
	m.Close()
	// The container stops once its first process has run the handler.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := runscIn(t, root, "/", "state", id)
		if strings.Contains(r.stdout, `"stopped"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container still runs 60s after its terminal hung up: %s", r.stdout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got, err := os.ReadFile(filepath.Join(dir, "rootfs", "hup"))
	if err != nil || string(got) != "hup\n" {
		t.Errorf("the handler wrote %q (%v); want one hup", got, err)
	}
}

// TestExecTerminal: runsc exec with a terminal (a process.json with
// terminal true, as docker's shim runs it) gives the process a terminal
// of the sandbox's own with the process's consoleSize, and later
// resizes reach it, through the runsc exec process that waits for it.
func TestExecTerminal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containers need root")
	}
	root := t.TempDir()
	dir := ociBundle(t, func(s *specs.Spec) {
		s.Process.Terminal = false
		s.Process.Args = []string{"/bin/sleep", "1000"}
	})
	id := fmt.Sprintf("exectty-%d", os.Getpid())
	t.Cleanup(func() { runscIn(t, root, "/", "delete", "--force", id) })
	if out, err := runscFiles(t, root, dir, "create", id); err != nil {
		t.Fatalf("runsc create: %v: %s", err, out)
	}
	if r := runscIn(t, root, "/", "start", id); r.status != 0 {
		t.Fatalf("runsc start: %s", r.stderr)
	}
	proc := specs.Process{Terminal: true, ConsoleSize: &specs.Box{Height: 40, Width: 100}, Cwd: "/",
		Env: []string{"PATH=/bin"},
		Args: []string{"/bin/sh", "-c",
			`tty; stty size; sleep 1000 & trap 'stty size; kill $!' WINCH; echo ready; wait`}}
	b, _ := json.Marshal(&proc)
	pj := filepath.Join(t.TempDir(), "process.json")
	if err := os.WriteFile(pj, b, 0644); err != nil {
		t.Fatal(err)
	}
	sock, master := consoleSocket(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	var execOut string
	done := make(chan error, 1)
	go func() {
		var err error
		execOut, err = runscFiles(t, root, "/", "exec", "-d", "--console-socket", sock, "--pid-file", pidFile, "-p", pj, id)
		done <- err
	}()
	m := master()
	out := readTerminal(m)
	if err := <-done; err != nil {
		t.Fatalf("runsc exec: %v: %s", err, execOut)
	}
	got := out.waitFor(t, "ready\r\n")
	if want := "/dev/pts/0\n40 100\nready\n"; got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
	setSize(t, m, 33, 111)
	got = out.waitFor(t, "")
	if want := "/dev/pts/0\n40 100\nready\n33 111\n"; got != want {
		t.Fatalf("after a resize: output %q, want %q", got, want)
	}
}
