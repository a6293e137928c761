package integration

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a process's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// liveSandbox is a `runsc do` whose command has printed "started" and now
// waits for a line on its stdin.
type liveSandbox struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *lockedBuffer
	// exited receives cmd.Wait's error once runsc has ended.
	exited chan error
}

// startSandbox runs `runsc FLAGS do sh -c SCRIPT` and waits until the
// script printed its first line, "started". The script blocks reading
// stdin, so the sandbox holds still without a busy loop.
func startSandbox(t *testing.T, flags []string, script string) *liveSandbox {
	t.Helper()
	args := append(append(flags, "do", "sh", "-c"), script)
	s := &liveSandbox{cmd: exec.Command(runsc(t), args...), stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	s.cmd.Stderr = s.stderr
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	// Our own pipe, not StdoutPipe: Wait would close that one, and the
	// test reads to EOF (every writer gone) after runsc ended.
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	s.stdout = bufio.NewReader(out)
	s.cmd.Stdout = w
	err = s.cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.stdin.Close()
		<-s.exited
	})
	line := make(chan string, 1)
	go func() {
		l, _ := s.stdout.ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "started\n" {
			t.Fatalf("first line %q, want \"started\"; stderr: %s", l, s.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("sandbox did not start within 60s; stderr: %s", s.stderr.String())
	}
	return s
}

// child returns runsc's child process whose argv holds the subcommand
// name (boot or gofer).
func (s *liveSandbox) child(t *testing.T, subcommand string) int {
	t.Helper()
	for _, pid := range hostChildren(s.cmd.Process.Pid) {
		argv, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if strings.Contains(string(argv), "\x00"+subcommand+"\x00") {
			return pid
		}
	}
	t.Fatalf("runsc (pid %d) has no %s child", s.cmd.Process.Pid, subcommand)
	return 0
}

// bootAndStubs returns the sandbox's boot process, its start time and
// its stubs (at least one).
func (s *liveSandbox) bootAndStubs(t *testing.T) (int, string, []procID) {
	t.Helper()
	boot := s.child(t, "boot")
	stubs := stubsUnder(boot)
	if len(stubs) == 0 {
		t.Fatal("no stub process under boot")
	}
	return boot, procStart(boot), stubs
}

// procID names one process for good: a pid and its start time, so that a
// reused pid is not taken for the same process.
type procID struct {
	pid   int
	start string
}

// procStart returns a process's start time (/proc/PID/stat field 22), or
// "" if it is gone.
func procStart(pid int) string {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	s := string(stat)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return ""
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 20 {
		return ""
	}
	return fields[19]
}

// stubsUnder returns the processes under boot's pid: the stubs that run
// guest code (whatever their command name).
func stubsUnder(pid int) []procID {
	var out []procID
	queue := hostChildren(pid)
	for len(queue) > 0 {
		p := queue[0]
		queue = append(queue[1:], hostChildren(p)...)
		if start := procStart(p); start != "" {
			out = append(out, procID{p, start})
		}
	}
	return out
}

// alive reports whether the process still exists (a zombie counts).
func (p procID) alive() bool {
	start := procStart(p.pid)
	return start != "" && start == p.start
}

// waitCrash waits (failing after limit) for runsc to end and checks that
// it ended by SIGABRT, as a crashed sandbox must; it returns the stderr.
func (s *liveSandbox) waitCrash(t *testing.T, limit time.Duration) string {
	t.Helper()
	var err error
	select {
	case err = <-s.exited:
		s.exited <- err // for the cleanup
	case <-time.After(limit):
		t.Fatalf("runsc do still runs %v after the crash; stderr: %s", limit, s.stderr.String())
	}
	stderr := s.stderr.String()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("runsc do ended with %v, want death by SIGABRT; stderr: %s", err, stderr)
	}
	ws := exit.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGABRT {
		t.Errorf("runsc do ended with wait status %#x (exit %d), want death by SIGABRT, which no guest exit can produce; stderr: %s", uint32(ws), ws.ExitStatus(), stderr)
	}
	if ws.CoreDump() {
		t.Errorf("runsc do dumped core; want no core dump")
	}
	return stderr
}

// checkGone checks that the sandbox's processes all ended with runsc.
func checkGone(t *testing.T, what string, procs []procID) {
	t.Helper()
	for _, p := range procs {
		if p.alive() {
			t.Errorf("%s (pid %d) outlived the crashed sandbox", what, p.pid)
		}
	}
}

// TestSentryPanicEndsSandboxBySIGABRT makes the Sentry panic (a test-only
// hook) in sync(2), and checks the whole sandbox ends: runsc do dies by
// SIGABRT, says which syscall crashed and where, and leaves no stub.
func TestSentryPanicEndsSandboxBySIGABRT(t *testing.T) {
	s := startSandbox(t, []string{"--testonly-panic-on-syscall=162"}, "echo started; read x; sync; echo after")
	boot, bootStart, stubs := s.bootAndStubs(t)
	gofer := s.child(t, "gofer")
	goferStart := procStart(gofer)
	// The line lets the script go on to sync(2), which panics.
	if _, err := io.WriteString(s.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	stderr := s.waitCrash(t, 60*time.Second)
	for _, want := range []string{
		"runsc do: sandbox crashed: ",
		"syscall sync (162)",
		"goroutine ",                   // the panicking goroutine's stack
		"linux.(*Dispatcher).Dispatch", // where the panic happened
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if rest, _ := io.ReadAll(s.stdout); len(rest) != 0 {
		t.Errorf("the script went on after the panicking syscall: stdout %q", rest)
	}
	checkGone(t, "stub", stubs)
	checkGone(t, "boot", []procID{{boot, bootStart}})
	checkGone(t, "gofer", []procID{{gofer, goferStart}})
}

// TestGoferDeathEndsSandbox kills the gofer with SIGKILL while the guest
// waits, and checks the sandbox ends at once (within 5s, on a busy
// machine) with an error naming the gofer and the crash status, instead
// of running on with every host file failing.
func TestGoferDeathEndsSandbox(t *testing.T) {
	s := startSandbox(t, nil, "echo started; read x; echo after")
	boot, bootStart, stubs := s.bootAndStubs(t)
	gofer := s.child(t, "gofer")
	if err := syscall.Kill(gofer, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	stderr := s.waitCrash(t, 5*time.Second)
	if !strings.Contains(stderr, "runsc do: sandbox crashed: ") || !strings.Contains(stderr, "gofer") {
		t.Errorf("stderr does not say the sandbox crashed for want of its gofer:\n%s", stderr)
	}
	if rest, _ := io.ReadAll(s.stdout); len(rest) != 0 {
		t.Errorf("the script went on after the gofer died: stdout %q", rest)
	}
	checkGone(t, "stub", stubs)
	checkGone(t, "boot", []procID{{boot, bootStart}})
}

// TestBootKilledIsACrash kills boot itself, as a Go panic on a Sentry
// goroutine other than a task's (Go exits 2) or the OOM killer would end
// it: boot reports no exit status of CMD, so runsc do must not make one up.
func TestBootKilledIsACrash(t *testing.T) {
	s := startSandbox(t, nil, "echo started; read x; echo after")
	boot := s.child(t, "boot")
	if err := syscall.Kill(boot, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	stderr := s.waitCrash(t, 60*time.Second)
	if want := "runsc do: sandbox crashed: runsc boot ended without reporting CMD's exit: was killed by signal 9"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}
