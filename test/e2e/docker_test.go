// Package e2e runs docker containers under runc and under runsc and checks
// that both give what docker users expect (docs/e2e.md). It needs root and
// a docker daemon; TestMain runs setup.sh, which provides both images and
// registers bin/runsc, and the tests skip when that is impossible.
//
// PALISADE_E2E_RUNTIMES (default "runc,runsc") lists the runtimes to test.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	busybox = "palisade-busybox"
	debian  = "palisade-debian"
	// cmdTimeout bounds every docker command.
	cmdTimeout = 90 * time.Second
	// slowCmd is how long a docker command may take before the test
	// logs it (to find where time goes on a loaded machine).
	slowCmd = 10 * time.Second
	// pollTimeout bounds every wait for a container to reach a state.
	pollTimeout = 30 * time.Second
)

var (
	// skipReason, when set, is why no test can run here.
	skipReason string
	// setUpFailure, when set, is why docker could not be set up on a
	// machine where the tests should run (root): every test fails.
	setUpFailure string
	// runtimes are the docker runtimes to test.
	runtimes []string
	// registered holds the runtimes dockerd knows.
	registered = map[string]bool{}
	// runID makes container names unique to this run.
	runID = fmt.Sprintf("pe2e-%d", os.Getpid())
)

func TestMain(m *testing.M) {
	flag.Parse()
	runtimes = strings.FieldsFunc(os.Getenv("PALISADE_E2E_RUNTIMES"), func(r rune) bool { return r == ',' || r == ' ' })
	if len(runtimes) == 0 {
		runtimes = []string{"runc", "runsc"}
	}
	switch {
	case testing.Short():
		skipReason = "e2e tests do not run with -short"
	case os.Geteuid() != 0:
		skipReason = "e2e tests need root (they run dockerd and containers)"
	default:
		setUpFailure = setUp()
	}
	os.Exit(m.Run())
}

// setUp runs setup.sh and returns why docker cannot be used, or "".
func setUp() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./setup.sh")
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Sprintf("docker cannot be set up (test/e2e/setup.sh: %v):\n%s", err, out)
	}
	ctx, cancel = context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{range $name, $_ := .Runtimes}}{{$name}} {{end}}").Output()
	if err != nil {
		return fmt.Sprintf("docker info: %v", err)
	}
	for _, name := range strings.Fields(string(out)) {
		registered[name] = true
	}
	return ""
}

// result is how a docker command ended.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, trunc(r.stdout), trunc(r.stderr))
}

// trunc shortens s for a message, keeping its start and its end (where
// docker puts the runtime's own error).
func trunc(s string) string {
	if len(s) > 1000 {
		return s[:300] + " ... " + s[len(s)-600:]
	}
	return s
}

// dockerIn runs `docker ARGS...` with stdin and returns its result. A
// command that cannot start or outlives cmdTimeout fails the test.
func dockerIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if d := time.Since(start); d > slowCmd {
		t.Logf("slow: docker %s took %v", trunc(strings.Join(args, " ")), d.Round(time.Millisecond))
	}
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("docker %s: no end within %v (%s)", strings.Join(args, " "), cmdTimeout, r)
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return r
}

func docker(t *testing.T, args ...string) result {
	t.Helper()
	return dockerIn(t, "", args...)
}

// mustDocker runs a docker command that must succeed and returns its
// stdout.
func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	r := docker(t, args...)
	if r.code != 0 {
		t.Fatalf("docker %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// env is one check under one runtime.
type env struct {
	t  *testing.T
	rt string
}

// run is `docker run --rm --runtime=RT ARGS...`.
func (e env) run(args ...string) result {
	e.t.Helper()
	return e.runIn("", args...)
}

// runIn is run with stdin.
func (e env) runIn(stdin string, args ...string) result {
	e.t.Helper()
	return dockerIn(e.t, stdin, append([]string{"run", "--rm", "--name", e.name(), "--runtime=" + e.rt}, args...)...)
}

// nameSeq numbers container names.
var nameSeq atomic.Int64

// name returns a new container name unique to this run, check and
// runtime, and removes that container (if any is left) when the test ends.
func (e env) name() string {
	n := fmt.Sprintf("%s-%d-%s", runID, nameSeq.Add(1), e.t.Name())
	n = strings.ToLower(regexp.MustCompile(`[^a-zA-Z0-9_.-]`).ReplaceAllString(n, "-"))
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		exec.CommandContext(ctx, "docker", "rm", "-f", n).Run()
	})
	return n
}

// detached starts `docker run -d` with name and args and returns name.
func (e env) detached(args ...string) string {
	e.t.Helper()
	n := e.name()
	mustDocker(e.t, append([]string{"run", "-d", "--name", n, "--runtime=" + e.rt}, args...)...)
	return n
}

// inspect returns the container's field FORMAT (a docker template).
func (e env) inspect(name, format string) string {
	e.t.Helper()
	return strings.TrimSpace(mustDocker(e.t, "inspect", "-f", format, name))
}

// poll calls cond until it is true, failing the test after pollTimeout.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", pollTimeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits until the container's stdout holds line.
func (e env) waitLog(name, line string) {
	e.t.Helper()
	poll(e.t, fmt.Sprintf("%q in the logs of %s", line, name), func() bool {
		return strings.Contains(docker(e.t, "logs", name).stdout, line+"\n")
	})
}

// expect fails the test unless r has the given exit code and stdout.
func expect(t *testing.T, what string, r result, code int, stdout string) {
	t.Helper()
	if r.code != code || r.stdout != stdout {
		t.Errorf("%s: got %s; want exit %d, stdout %q", what, r, code, trunc(stdout))
	}
}

// expectErr fails the test unless r has the given exit code and its
// stderr contains msg.
func expectErr(t *testing.T, what string, r result, code int, msg string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, msg) {
		t.Errorf("%s: got %s; want exit %d, stderr with %q", what, r, code, msg)
	}
}

// check is one docker feature, run under each runtime. It returns what it
// observed, normalised so that runtimes that behave alike return the same.
type check struct {
	name string
	run  func(e env) string
}

func TestDocker(t *testing.T) {
	if setUpFailure != "" {
		t.Fatal(setUpFailure)
	}
	if skipReason != "" {
		t.Skip(skipReason)
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			seen := map[string]string{}
			for _, rt := range runtimes {
				t.Run(rt, func(t *testing.T) {
					if !registered[rt] {
						t.Fatalf("docker has no runtime %q (registered: %v); run `make runsc` and test/e2e/setup.sh, or set PALISADE_E2E_RUNTIMES=runc", rt, registered)
					}
					obs := c.run(env{t: t, rt: rt})
					if !t.Failed() {
						mu.Lock()
						seen[rt] = obs
						mu.Unlock()
					}
				})
			}
			// Runtimes that passed must also agree with each other.
			var first string
			for _, rt := range runtimes {
				obs, ok := seen[rt]
				if !ok {
					continue
				}
				if first == "" {
					first = rt
				} else if obs != seen[first] {
					t.Errorf("%s saw %q, %s saw %q", first, seen[first], rt, obs)
				}
			}
		})
	}
}

// summary is a check's observation made of whole results.
func summary(rs ...result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "[%d %q %q]", r.code, r.stdout, r.stderr)
	}
	return b.String()
}

var checks = []check{
	{"exit-code", func(e env) string {
		r := e.run(busybox, "sh", "-c", "exit 3")
		expect(e.t, "sh -c 'exit 3'", r, 3, "")
		nf := e.run(busybox, "/no/such/program")
		if nf.code != 127 {
			e.t.Errorf("a missing program: got %s, want exit 127", nf)
		}
		return fmt.Sprint(r.code, nf.code)
	}},
	{"stdout-stderr", func(e env) string {
		r := e.run(busybox, "sh", "-c", "echo out; echo err >&2; echo out2")
		expect(e.t, "two streams", r, 0, "out\nout2\n")
		if r.stderr != "err\n" {
			e.t.Errorf("stderr %q, want %q", r.stderr, "err\n")
		}
		return summary(r)
	}},
	{"stdin", func(e env) string {
		in := "hello\nworld\n" + strings.Repeat("0123456789abcdef", 8192)
		r := e.runIn(in, "-i", busybox, "cat")
		expect(e.t, "-i cat", r, 0, in)
		return fmt.Sprint(r.code, len(r.stdout))
	}},
	{"tty", func(e env) string {
		// docker sets the window size just after the start: wait for it.
		out := ptyRun(e.t, "run", "--rm", "-t", "--runtime="+e.rt, busybox, "sh", "-c",
			`until s=$(stty size 2>/dev/null) && [ -n "$s" ] && [ "$s" != "0 0" ]; do usleep 20000; done; tty; echo "$s"; [ -t 1 ] && echo stdout-is-tty`)
		return expectTTY(e.t, out, "stdout-is-tty")
	}},
	{"env", func(e env) string {
		r := e.run("-e", "FOO=bar baz", "-e", "EMPTY=", busybox, "sh", "-c", `echo "$FOO|${EMPTY-unset}|$HOME"`)
		expect(e.t, "-e", r, 0, "bar baz||/root\n")
		return summary(r)
	}},
	{"workdir", func(e env) string {
		r := e.run("-w", "/tmp", busybox, "pwd")
		expect(e.t, "-w /tmp", r, 0, "/tmp\n")
		r2 := e.run("-w", "/made/by/docker", busybox, "pwd")
		expect(e.t, "-w of a missing dir", r2, 0, "/made/by/docker\n")
		return summary(r, r2)
	}},
	{"user", func(e env) string {
		r := e.run("--user", "1000:1000", busybox, "id")
		expect(e.t, "--user 1000:1000", r, 0, "uid=1000(user) gid=1000(user) groups=1000(user)\n")
		r2 := e.run("--user", "nobody", debian, "id", "-u")
		expect(e.t, "--user nobody", r2, 0, "65534\n")
		r3 := e.run("--user", "1000", busybox, "touch", "/etc/x")
		expectErr(e.t, "uid 1000 writing /etc", r3, 1, "Permission denied")
		return summary(r, r2, r3)
	}},
	{"hostname", func(e env) string {
		r := e.run("-h", "palisade-e2e", busybox, "sh", "-c", "hostname; cat /etc/hostname")
		expect(e.t, "-h", r, 0, "palisade-e2e\npalisade-e2e\n")
		return summary(r)
	}},
	{"read-only", func(e env) string {
		r := e.run("--read-only", busybox, "touch", "/x")
		expectErr(e.t, "write to / with --read-only", r, 1, "Read-only file system")
		r2 := e.run("--read-only", "--tmpfs", "/tmp", busybox, "sh", "-c", "echo a > /tmp/x && cat /tmp/x")
		expect(e.t, "write to --tmpfs /tmp with --read-only", r2, 0, "a\n")
		return summary(r, r2)
	}},
	{"tmpfs", func(e env) string {
		r := e.run("--tmpfs", "/scratch:size=1m,mode=1777", busybox, "sh", "-c",
			`stat -c %a /scratch; awk '$2 == "/scratch" { print $3 }' /proc/mounts; echo small > /scratch/s && cat /scratch/s
			if dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/dev/null; then echo fits; else echo full; fi`)
		expect(e.t, "--tmpfs size=1m,mode=1777", r, 0, "1777\ntmpfs\nsmall\nfull\n")
		return summary(r)
	}},
	{"bind-rw", func(e env) string {
		dir := e.t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "in"), []byte("from host\n"), 0o644); err != nil {
			e.t.Fatal(err)
		}
		r := e.run("-v", dir+":/data", busybox, "sh", "-c", "cat /data/in; echo from container > /data/out")
		expect(e.t, "-v rw", r, 0, "from host\n")
		got, err := os.ReadFile(filepath.Join(dir, "out"))
		if err != nil || string(got) != "from container\n" {
			e.t.Errorf("host sees %q, %v; want the container's write", got, err)
		}
		return summary(r) + string(got)
	}},
	{"bind-ro", func(e env) string {
		dir := e.t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "in"), []byte("from host\n"), 0o644); err != nil {
			e.t.Fatal(err)
		}
		r := e.run("-v", dir+":/data:ro", busybox, "sh", "-c", "cat /data/in; echo x > /data/out")
		if r.code == 0 || r.stdout != "from host\n" || !strings.Contains(r.stderr, "Read-only file system") {
			e.t.Errorf("-v ro: got %s; want the file read and the write refused (Read-only file system)", r)
		}
		if _, err := os.Stat(filepath.Join(dir, "out")); !errors.Is(err, os.ErrNotExist) {
			e.t.Errorf("a write to a read-only bind reached the host: %v", err)
		}
		return summary(r)
	}},
	{"network-bridge", func(e env) string {
		// docker's default bridge network: a published port answers
		// on the host's loopback (through docker-proxy and the
		// container's veth), and another container reaches the first
		// at its bridge address. Traffic stays on loopback and on the
		// bridge docker made for these containers.
		srv := e.detached("-p", "127.0.0.1::80", busybox, "httpd", "-f", "-p", "80", "-h", "/etc")
		port := strings.TrimSpace(mustDocker(e.t, "port", srv, "80/tcp"))
		_, port, _ = strings.Cut(port, ":")
		var got string
		// The server may not listen yet: a bounded number of tries.
		for i := 0; i < 50; i++ {
			r := docker(e.t, "exec", srv, "true") // the container is up
			if r.code != 0 {
				break
			}
			if out, err := exec.Command("curl", "-s", "-m", "5", "http://127.0.0.1:"+port+"/hostname").Output(); err == nil && len(out) > 0 {
				got = string(out)
				break
			}
		}
		hostname := e.inspect(srv, "{{.Config.Hostname}}")
		if got != hostname+"\n" {
			e.t.Errorf("published port: got %q, want the container's hostname %q", got, hostname)
		}
		ip := e.inspect(srv, "{{.NetworkSettings.IPAddress}}")
		r := e.run(busybox, "wget", "-q", "-O", "-", "http://"+ip+"/hostname")
		expect(e.t, "container to container", r, 0, hostname+"\n")
		return "published port and container-to-container answer"
	}},
	{"network-none", func(e env) string {
		r := e.run("--network", "none", busybox, "cat", "/proc/net/dev")
		var ifs []string
		for _, l := range strings.Split(r.stdout, "\n") {
			if name, _, ok := strings.Cut(l, ":"); ok {
				ifs = append(ifs, strings.TrimSpace(name))
			}
		}
		if r.code != 0 || strings.Join(ifs, ",") != "lo" {
			e.t.Errorf("--network none: interfaces %v (%s); want lo only", ifs, r)
		}
		return strings.Join(ifs, ",")
	}},
	{"exec", func(e env) string {
		n := e.detached(busybox, "sleep", "1000")
		r := docker(e.t, "exec", n, "sh", "-c", "echo in; echo err >&2; exit 4")
		expect(e.t, "exec", r, 4, "in\n")
		r2 := docker(e.t, "exec", n, "cat", "/proc/1/cmdline")
		expect(e.t, "exec sees the container's init", r2, 0, "sleep\x001000\x00")
		r3 := docker(e.t, "exec", "-u", "1000", "-w", "/tmp", "-e", "X=y", n, "sh", "-c", `echo "$(id -u) $PWD $X"`)
		expect(e.t, "exec -u -w -e", r3, 0, "1000 /tmp y\n")
		r4 := dockerIn(e.t, "piped\n", "exec", "-i", n, "cat")
		expect(e.t, "exec -i", r4, 0, "piped\n")
		tty := expectTTY(e.t, ptyRun(e.t, "exec", "-t", n, "sh", "-c",
			`until s=$(stty size 2>/dev/null) && [ -n "$s" ] && [ "$s" != "0 0" ]; do usleep 20000; done; tty; echo "$s"`), "")
		return summary(r, r2, r3, r4) + tty
	}},
	{"stop-sigterm", func(e env) string {
		n := e.detached(busybox, "sh", "-c", `trap "exit 7" TERM; echo ready; sleep 1000 & wait`)
		e.waitLog(n, "ready")
		mustDocker(e.t, "stop", "-t", "60", n)
		code := e.inspect(n, "{{.State.ExitCode}}")
		if code != "7" {
			e.t.Errorf("a shell exiting 7 on SIGTERM: exit code %s after docker stop", code)
		}
		return code
	}},
	{"stop-sigkill", func(e env) string {
		n := e.detached(busybox, "sh", "-c", `trap "" TERM; echo ready; sleep 1000 & wait`)
		e.waitLog(n, "ready")
		mustDocker(e.t, "stop", "-t", "1", n)
		code := e.inspect(n, "{{.State.ExitCode}} {{.State.Running}}")
		if code != "137 false" {
			e.t.Errorf("a shell ignoring SIGTERM after docker stop -t 1: exit code and running = %s, want 137 false (SIGKILL)", code)
		}
		return code
	}},
	{"kill-signal", func(e env) string {
		n := e.detached(busybox, "sh", "-c", `trap "echo got-usr1; exit 5" USR1; echo ready; sleep 1000 & wait`)
		e.waitLog(n, "ready")
		mustDocker(e.t, "kill", "-s", "USR1", n)
		code := strings.TrimSpace(mustDocker(e.t, "wait", n))
		logs := mustDocker(e.t, "logs", n)
		if code != "5" || logs != "ready\ngot-usr1\n" {
			e.t.Errorf("kill -s USR1: exit %s, logs %q; want 5 and the trap's line", code, logs)
		}
		return code + logs
	}},
	{"logs", func(e env) string {
		n := e.detached(busybox, "sh", "-c", "echo out; echo err >&2")
		code := strings.TrimSpace(mustDocker(e.t, "wait", n))
		r := docker(e.t, "logs", n)
		expect(e.t, "docker logs", r, 0, "out\n")
		if code != "0" || r.stderr != "err\n" {
			e.t.Errorf("docker logs: exit %s, stderr %q; want 0 and err", code, r.stderr)
		}
		return summary(r)
	}},
	{"ps", func(e env) string {
		n := e.detached(busybox, "sleep", "1000")
		out := mustDocker(e.t, "ps", "--filter", "name=^"+n+"$", "--format", "{{.Names}} {{.Command}} {{.Status}}")
		if !strings.HasPrefix(out, n+` "sleep 1000" Up`) {
			e.t.Errorf("docker ps: %q, want the container up", out)
		}
		mustDocker(e.t, "kill", n)
		mustDocker(e.t, "wait", n)
		out = mustDocker(e.t, "ps", "-a", "--filter", "name=^"+n+"$", "--format", "{{.Status}}")
		if !strings.HasPrefix(out, "Exited (137)") {
			e.t.Errorf("docker ps -a after kill: %q, want Exited (137)", out)
		}
		return "ok"
	}},
	{"top", func(e env) string {
		n := e.detached(busybox, "sh", "-c", "sleep 1000 & sleep 999 & echo ready; wait")
		e.waitLog(n, "ready")
		out := mustDocker(e.t, "top", n, "-o", "pid,args")
		var procs []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			if _, args, ok := strings.Cut(strings.TrimSpace(l), " "); ok {
				procs = append(procs, strings.TrimSpace(args))
			}
		}
		got := strings.Join(procs, "|")
		if !strings.Contains(got, "sleep 1000") || !strings.Contains(got, "sleep 999") || len(procs) != 3 {
			e.t.Errorf("docker top: %q, want sh and both sleeps", out)
		}
		return fmt.Sprint(len(procs))
	}},
	{"pause", func(e env) string {
		dir := e.t.TempDir()
		count := filepath.Join(dir, "count")
		n := e.detached("-v", dir+":/data", busybox, "sh", "-c",
			`i=0; while :; do i=$((i+1)); echo $i > /data/count; usleep 10000; done`)
		read := func() string { b, _ := os.ReadFile(count); return string(b) }
		poll(e.t, "the counter to start", func() bool { return read() != "" })
		mustDocker(e.t, "pause", n)
		if s := e.inspect(n, "{{.State.Status}}"); s != "paused" {
			e.t.Errorf("after docker pause: status %s", s)
		}
		// A paused container makes no progress: the counter stays put
		// (this can only pass wrongly, never fail wrongly).
		before := read()
		time.Sleep(300 * time.Millisecond)
		if after := read(); after != before {
			e.t.Errorf("paused container still counts: %q then %q", before, after)
		}
		mustDocker(e.t, "unpause", n)
		if s := e.inspect(n, "{{.State.Status}}"); s != "running" {
			e.t.Errorf("after docker unpause: status %s", s)
		}
		poll(e.t, "the counter to move after unpause", func() bool { return read() != before })
		return "ok"
	}},
	{"memory", func(e env) string {
		// The container waits for the test's go-ahead before it
		// allocates: once docker run -d has returned, containerd's shim
		// watches the container's cgroup for OOM kills (it starts to
		// after the runtime's start), so the kill cannot come too early
		// for docker to see it.
		dir := e.t.TempDir()
		n := e.detached("-v", dir+":/ctl", "--memory", "32m", "--memory-swap", "32m", busybox, "sh", "-c",
			`until [ -e /ctl/go ]; do usleep 10000; done; x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived ${#x}`)
		if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
			e.t.Fatal(err)
		}
		code := strings.TrimSpace(mustDocker(e.t, "wait", n))
		out := docker(e.t, "logs", n)
		// dockerd may handle containerd's OOM event after the exit
		// event (on a loaded machine, under runc too): OOMKilled can
		// turn true just after docker wait returned.
		var oom string
		deadline := time.Now().Add(pollTimeout)
		for {
			if oom = e.inspect(n, "{{.State.OOMKilled}}"); oom == "true" || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if code != "137" || out.stdout != "" || oom != "true" {
			e.t.Errorf("200 MB in a 32 MB container: exit %s, logs %s, OOMKilled %s; want exit 137, OOMKilled true", code, out, oom)
		}
		return fmt.Sprint(code, oom)
	}},
	{"pids-limit", func(e env) string {
		r := e.run("--pids-limit", "10", busybox, "sh", "-c", "for i in $(seq 30); do sleep 1000 & done; echo all forked")
		if r.code == 0 || strings.Contains(r.stdout, "all forked") || !strings.Contains(r.stderr, "can't fork") {
			e.t.Errorf("30 processes with --pids-limit 10: %s; want fork to fail", r)
		}
		return fmt.Sprint(r.code, r.stdout)
	}},
	{"cap-drop", func(e env) string {
		r := e.run(debian, "chown", "1000", "/tmp")
		expect(e.t, "chown as root", r, 0, "")
		r2 := e.run("--cap-drop", "ALL", debian, "chown", "1000", "/tmp")
		expectErr(e.t, "chown with --cap-drop ALL", r2, 1, "Operation not permitted")
		return summary(r, r2)
	}},
	{"init", func(e env) string {
		r := e.run("--init", busybox, "sh", "-c", `tr "\0" " " < /proc/1/cmdline; echo; echo $$`)
		// sh is docker-init's child, not PID 1; docker-init passes its
		// status on.
		if r.code != 0 || !strings.HasPrefix(r.stdout, "/sbin/docker-init -- sh -c") || strings.HasSuffix(r.stdout, "\n1\n") {
			e.t.Errorf("--init: %s; want docker-init as PID 1", r)
		}
		r2 := e.run("--init", busybox, "sh", "-c", "exit 9")
		expect(e.t, "--init passes the exit status on", r2, 9, "")
		return fmt.Sprint(r.code, r2.code)
	}},
	{"restart", func(e env) string {
		n := e.name()
		script := `if [ -e /marker ]; then echo again; else touch /marker; echo first; fi`
		r := docker(e.t, "run", "--name", n, "--runtime="+e.rt, busybox, "sh", "-c", script)
		expect(e.t, "first run", r, 0, "first\n")
		// The container's root file system keeps its writes across starts.
		r2 := docker(e.t, "start", "-a", n)
		expect(e.t, "docker start of the stopped container", r2, 0, "again\n")
		return summary(r, r2)
	}},
	{"big-output", func(e env) string {
		const size = 10 << 20
		r := e.run(busybox, "sh", "-c",
			fmt.Sprintf("head -c %d /dev/urandom > /tmp/d && sha256sum < /tmp/d >&2 && cat /tmp/d", size))
		sum := sha256.Sum256([]byte(r.stdout))
		want, _, _ := strings.Cut(r.stderr, " ")
		if r.code != 0 || len(r.stdout) != size || hex.EncodeToString(sum[:]) != want {
			e.t.Errorf("10 MB: exit %d, %d bytes, sha256 %x, container said %q", r.code, len(r.stdout), sum, r.stderr)
		}
		return fmt.Sprint(r.code, len(r.stdout))
	}},
	{"seccomp", func(e env) string {
		profile, err := filepath.Abs("testdata/seccomp-nomkdir.json")
		if err != nil {
			e.t.Fatal(err)
		}
		r := e.run("--security-opt", "seccomp="+profile, busybox, "sh", "-c", "touch /tmp/f && echo touched && mkdir /tmp/d")
		expectErr(e.t, "mkdir under a profile denying it", r, 1, "Operation not permitted")
		if r.stdout != "touched\n" {
			e.t.Errorf("the profile allows the rest: stdout %q", r.stdout)
		}
		r2 := e.run(busybox, "mkdir", "/tmp/d")
		expect(e.t, "mkdir under docker's default profile", r2, 0, "")
		return summary(r, r2)
	}},
}

// tty output: the terminal's name, then its size.
var ttyRE = regexp.MustCompile(`^/dev/pts/[0-9]+\n40 100\n`)

// expectTTY checks ptyRun's output of a command printing `tty`, the
// window size and then extra lines.
func expectTTY(t *testing.T, out, extra string) string {
	t.Helper()
	out = strings.ReplaceAll(out, "\r", "")
	rest := ttyRE.ReplaceAllString(out, "")
	if !ttyRE.MatchString(out) || strings.TrimSpace(rest) != extra {
		t.Errorf("-t: got %q; want /dev/pts/N, the size 40 100 and %q", out, extra)
	}
	return ttyRE.ReplaceAllString(out, "/dev/pts/N 40 100 ")
}

// ptyRun runs `docker ARGS...` on a new terminal of 40 rows and 100
// columns and returns what it printed there.
func ptyRun(t *testing.T, args ...string) string {
	t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 100}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		slave.Close()
		t.Fatal(err)
	}
	slave.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		// Reads end with EIO once every holder of the terminal is gone.
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				break
			}
		}
		close(done)
	}()
	err = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("docker %s on a terminal: no end within %v", strings.Join(args, " "), cmdTimeout)
	}
	master.SetReadDeadline(time.Now().Add(5 * time.Second))
	<-done
	if err != nil {
		t.Errorf("docker %s on a terminal: %v; output %q", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// openPTY opens a new pseudo-terminal pair.
func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	// Through the raw descriptor: Fd() would make it blocking, and the
	// read deadline in ptyRun needs it in the poller.
	rc, err := m.SyscallConn()
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	var n int
	cerr := rc.Control(func(fd uintptr) {
		if err = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); err == nil {
			n, err = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
		}
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}
