package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// uidRegistry is where runsc records the host UIDs sandboxes hold
// (container.UIDRegistry).
const uidRegistry = "/run/palisade/uids"

// ociEnv drives bin/runsc as an OCI runtime (no docker) with a --root of
// its own, so that tests never see each other's containers.
type ociEnv struct {
	t    *testing.T
	bin  string
	root string
	// dir holds the bundles; rootfs is the busybox root they share.
	dir, rootfs string
	// prefix makes container IDs unique on the host: cgroups are named
	// /palisade/ID whatever the --root.
	prefix string
	n      int
}

// newOCIEnv makes a --root and a busybox root file system (the static
// /bin/busybox and links to it) under t.TempDir().
func newOCIEnv(t *testing.T) *ociEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the OCI commands need root")
	}
	dir := t.TempDir()
	e := &ociEnv{t: t, bin: runsc(t), root: filepath.Join(dir, "root"), dir: dir, rootfs: filepath.Join(dir, "rootfs"),
		prefix: fmt.Sprintf("t%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)}
	b, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("busybox-static is not installed: %v", err)
	}
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp"} {
		if err := os.MkdirAll(filepath.Join(e.rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(e.rootfs, "bin", "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"sh", "sleep", "cat", "echo", "true", "false", "read"} {
		if err := os.Symlink("busybox", filepath.Join(e.rootfs, "bin", l)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// id returns a new container ID unique on the host, naming it.
func (e *ociEnv) id(name string) string {
	e.n++
	return fmt.Sprintf("%s-%d-%s", e.prefix, e.n, name)
}

// spec is `runsc spec`'s config without a terminal, running argv in the
// shared busybox root.
func (e *ociEnv) spec(argv ...string) *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{Args: argv, Cwd: "/", Env: []string{"PATH=/bin"}, NoNewPrivileges: true},
		Root:    &specs.Root{Path: e.rootfs, Readonly: true},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"},
		},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace},
			{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}, {Type: specs.MountNamespace}}},
	}
}

// bundle writes spec (or, if raw is not nil, raw bytes) as the
// config.json of a new bundle directory and returns it.
func (e *ociEnv) bundle(spec *specs.Spec, raw []byte) string {
	e.t.Helper()
	dir, err := os.MkdirTemp(e.dir, "bundle-")
	if err != nil {
		e.t.Fatal(err)
	}
	if raw == nil {
		if raw, err = json.MarshalIndent(spec, "", "\t"); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

// command returns `runsc --root ROOT args...`, not started.
func (e *ociEnv) command(args ...string) *exec.Cmd {
	return exec.Command(e.bin, append([]string{"--root", e.root}, args...)...)
}

// runsc runs `runsc --root ROOT args...` with stdin /dev/null; a hang
// (30 s) fails the test.
func (e *ociEnv) runsc(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, append([]string{"--root", e.root}, args...)...)
	// Files, not pipes: a container's process (the sandbox) keeps
	// create's stdio open for as long as it runs.
	out, errf := e.tempFile(), e.tempFile()
	defer out.Close()
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = out, errf
	err := cmd.Run()
	stdout, _ := os.ReadFile(out.Name())
	stderr, _ := os.ReadFile(errf.Name())
	if ctx.Err() != nil {
		e.t.Fatalf("runsc %q hung (killed after 30s); stderr: %s", args, stderr)
	}
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("runsc %q: %v", args, err)
	}
	return result{string(stdout), string(stderr), status}
}

// tempFile returns a new file in the test's directory.
func (e *ociEnv) tempFile() *os.File {
	e.t.Helper()
	f, err := os.CreateTemp(e.dir, "out-")
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

// must runs runsc and fails the test unless it succeeds.
func (e *ociEnv) must(args ...string) string {
	e.t.Helper()
	r := e.runsc(args...)
	if r.status != 0 {
		e.t.Fatalf("runsc %q: status %d, stderr: %s", args, r.status, r.stderr)
	}
	return r.stdout
}

// deleteAtCleanup makes sure the container is gone when the test ends,
// whatever happened.
func (e *ociEnv) deleteAtCleanup(id string) {
	e.t.Cleanup(func() {
		exec.Command(e.bin, "--root", e.root, "delete", "--force", id).Run()
	})
}

// create creates a container from spec and deletes it at cleanup.
func (e *ociEnv) create(id string, spec *specs.Spec) {
	e.t.Helper()
	e.deleteAtCleanup(id)
	e.must("create", "--bundle", e.bundle(spec, nil), id)
}

// startSleeper creates and starts a container whose process waits
// forever, and returns its recorded state.
func (e *ociEnv) startSleeper(id string) ociRecord {
	e.t.Helper()
	e.create(id, e.spec("sleep", "100000"))
	e.must("start", id)
	return e.record(id)
}

// status is the container's status as `runsc state` reports it.
func (e *ociEnv) status(id string) string {
	e.t.Helper()
	var st struct {
		Status string `json:"status"`
		PID    int    `json:"pid"`
	}
	out := e.must("state", id)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		e.t.Fatalf("runsc state %s: %v: %q", id, err, out)
	}
	return st.Status
}

// waitStatus polls (bounded) until `runsc state` reports want.
func (e *ociEnv) waitStatus(id, want string) {
	e.t.Helper()
	got := ""
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = e.status(id); got == want {
			return
		}
	}
	e.t.Fatalf("container %s: state %q after 20s, want %q", id, got, want)
}

// ociRecord is what runsc recorded of a container in state.json.
type ociRecord struct {
	Status  string `json:"status"`
	HostUID int    `json:"hostUID"`
	Sandbox struct {
		PID int `json:"pid"`
	} `json:"sandbox"`
	Gofer struct {
		PID int `json:"pid"`
	} `json:"gofer"`
	CgroupPath string `json:"cgroupPath"`
}

// record reads the container's state.json.
func (e *ociEnv) record(id string) ociRecord {
	e.t.Helper()
	var r ociRecord
	b, err := os.ReadFile(filepath.Join(e.root, id, "state.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		e.t.Fatal(err)
	}
	if r.Sandbox.PID <= 0 || r.Gofer.PID <= 0 {
		e.t.Fatalf("container %s: no sandbox or gofer recorded: %s", id, b)
	}
	return r
}

// hostProcsOf lists the host processes of a container: those running
// as uid (the sandbox's host UID: its Sentry and stubs) if uid > 0, and
// those whose command line mentions the --root (the sandbox and gofer
// name it) and which are not the recorded sandbox or gofer of a
// container that still exists there.
func (e *ociEnv) hostProcsOf(uid int) []string {
	known := map[int]bool{}
	states, _ := filepath.Glob(filepath.Join(e.root, "*", "state.json"))
	for _, st := range states {
		var r ociRecord
		if b, err := os.ReadFile(st); err == nil && json.Unmarshal(b, &r) == nil {
			known[r.Sandbox.PID], known[r.Gofer.PID] = true, true
		}
	}
	return hostProcs(func(cmdline string, pid int) bool {
		if strings.Contains(cmdline, e.root) && !known[pid] {
			return true
		}
		f := strings.Fields(statusField(pid, "Uid"))
		return uid > 0 && len(f) > 0 && f[0] == strconv.Itoa(uid)
	})
}

// hostProcs lists the live host processes (but this one) that match
// says are wanted, given their command line (arguments joined by
// spaces) and PID.
func hostProcs(match func(cmdline string, pid int) bool) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if st := procState(pid); st == "Z" || st == "X" || st == "" {
			continue // exited; its parent reaps it
		}
		c := string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		if match(c, pid) {
			out = append(out, fmt.Sprintf("%d (%s)", pid, strings.TrimSpace(c)))
		}
	}
	return out
}

// procState is the state letter of /proc/PID/stat, "" if gone.
func procState(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// leftovers lists what is left of container id on the host: its state
// directory, its host UID record, cgroup directories, mounts, processes
// (running as uid, if uid > 0, or naming the ID).
func (e *ociEnv) leftovers(id string, uid int) []string {
	var out []string
	if id != "" {
		if _, err := os.Lstat(filepath.Join(e.root, id)); err == nil {
			out = append(out, "state directory "+filepath.Join(e.root, id))
		}
		recs, _ := filepath.Glob(filepath.Join(uidRegistry, "*"))
		for _, r := range recs {
			if b, _ := os.ReadFile(r); strings.TrimSpace(string(b)) == filepath.Join(e.root, id) {
				out = append(out, "host UID record "+r)
			}
		}
		cgs, _ := filepath.Glob("/sys/fs/cgroup/*/palisade/" + id)
		cgs2, _ := filepath.Glob("/sys/fs/cgroup/palisade/" + id)
		for _, c := range append(cgs, cgs2...) {
			out = append(out, "cgroup "+c)
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		if strings.Contains(l, e.root) || (id != "" && strings.Contains(l, id)) {
			out = append(out, "mount "+l)
		}
	}
	for _, p := range e.hostProcsOf(uid) {
		out = append(out, "process "+p)
	}
	return out
}

// checkNothingLeft polls (bounded: killed processes are reaped by others)
// until nothing of container id is left, and fails the test otherwise.
func (e *ociEnv) checkNothingLeft(id string, uid int) {
	e.t.Helper()
	var left []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if left = e.leftovers(id, uid); len(left) == 0 {
			return
		}
	}
	e.t.Errorf("container %q left behind:\n  %s", id, strings.Join(left, "\n  "))
}

// checkUntouched checks that a running container still runs, with the
// same sandbox process.
func (e *ociEnv) checkUntouched(id string, before ociRecord) {
	e.t.Helper()
	if st := e.status(id); st != "running" {
		e.t.Errorf("bystander %s: state %q, want running", id, st)
	}
	if after := e.record(id); after.Sandbox.PID != before.Sandbox.PID || after.HostUID != before.HostUID {
		e.t.Errorf("bystander %s: record changed from %+v to %+v", id, before, after)
	}
	if st := procState(before.Sandbox.PID); st == "" || st == "Z" {
		e.t.Errorf("bystander %s: its sandbox (pid %d) is gone", id, before.Sandbox.PID)
	}
}

// TestOCIBadInput feeds runsc's OCI commands bad input: each must fail
// with exit status 1 and a message naming the problem, leave nothing of
// the container behind (state directory, UID record, cgroup, mounts,
// processes), and leave another running container in the same --root
// alone.
func TestOCIBadInput(t *testing.T) {
	e := newOCIEnv(t)
	by := e.id("bystander")
	byRec := e.startSleeper(by)

	good, err := json.Marshal(e.spec("true"))
	if err != nil {
		t.Fatal(err)
	}
	withSpec := func(f func(*specs.Spec)) []string {
		s := e.spec("true")
		f(s)
		return []string{"create", "--bundle", e.bundle(s, nil)}
	}
	hookMarker := strconv.Itoa(200000 + os.Getpid()%100000)
	stopped := e.id("stopped")
	for _, tc := range []struct {
		name string
		// args are runsc's arguments; the case's container ID (id) is
		// appended unless noID.
		args []string
		id   string
		noID bool
		// setup prepares the case (after the ID is chosen).
		setup func(t *testing.T, id string) []string
		// want are substrings of the error message.
		want []string
	}{
		{name: "malformed config.json", args: []string{"create", "--bundle", e.bundle(nil, []byte("{ociVersion: 1.0.2}"))}, want: []string{"config.json", "malformed"}},
		{name: "truncated config.json", args: []string{"create", "--bundle", e.bundle(nil, good[:len(good)/2])}, want: []string{"config.json", "malformed"}},
		{name: "empty config.json", args: []string{"create", "--bundle", e.bundle(nil, []byte{})}, want: []string{"config.json"}},
		{name: "no config.json", args: []string{"create", "--bundle", e.dir + "/no-such-bundle"}, want: []string{"config.json"}},
		{name: "missing rootfs", args: withSpec(func(s *specs.Spec) { s.Root.Path = e.dir + "/no-such-rootfs" }), want: []string{"root.path", "no-such-rootfs"}},
		{name: "unknown ociVersion", args: withSpec(func(s *specs.Spec) { s.Version = "2.0.0" }), want: []string{"ociVersion", "2.0.0"}},
		{name: "duplicate id", args: withSpec(func(s *specs.Spec) {}), id: by, want: []string{by, "already exists"}},
		{name: "unknown signal name", args: []string{"kill", by, "SIGNOPE"}, noID: true, want: []string{"signal", "SIGNOPE"}},
		{name: "unknown signal number", args: []string{"kill", by, "99"}, noID: true, want: []string{"signal", "99"}},
		{name: "id with slash", args: withSpec(func(s *specs.Spec) {}), id: "a/b", want: []string{"container ID", "a/b"}},
		{name: "id dot-dot", args: withSpec(func(s *specs.Spec) {}), id: "..", want: []string{"container ID", ".."}},
		{name: "id of 1000 characters", args: withSpec(func(s *specs.Spec) {}), id: strings.Repeat("x", 1000), want: []string{"container ID", "1000"}},
		{name: "delete --force of id dot-dot", args: []string{"delete", "--force", ".."}, noID: true, want: []string{"container ID"}},
		{name: "state of id with slash", args: []string{"state", "../" + filepath.Base(e.root) + "/" + by}, noID: true, want: []string{"container ID"}},
		{name: "exec into a stopped container", noID: true,
			setup: func(t *testing.T, _ string) []string {
				e.create(stopped, e.spec("true"))
				e.must("start", stopped)
				e.waitStatus(stopped, "stopped")
				return []string{"exec", stopped, "true"}
			}, want: []string{stopped, "stopped", "not running"}},
		{name: "exec into a created container", noID: true,
			setup: func(t *testing.T, _ string) []string {
				id := e.id("created")
				e.create(id, e.spec("true"))
				return []string{"exec", id, "true"}
			}, want: []string{"created", "not running"}},
		{name: "delete of a running container", args: []string{"delete", by}, noID: true, want: []string{by, "running", "--force"}},
		{name: "program path that does not exist", args: withSpec(func(s *specs.Spec) { s.Process.Args = []string{"/no/such/program"} }),
			want: []string{"process.args[0]", "/no/such/program"}},
		{name: "start of a program that cannot run", noID: true,
			setup: func(t *testing.T, _ string) []string {
				// A directory: found at create, refused by execve at
				// start. As under runc the container is then stopped
				// (its sandbox gone), so nothing keeps it alive.
				id := e.id("stopped-at-start")
				e.create(id, e.spec("/bin"))
				t.Cleanup(func() {
					e.waitStatus(id, "stopped")
					e.must("delete", id)
					e.checkNothingLeft(id, 0)
				})
				return []string{"start", id}
			}, want: []string{"/bin", "permission denied"}},
		{name: "console socket that is not a socket",
			setup: func(t *testing.T, id string) []string {
				s := e.spec("true")
				s.Process.Terminal = true
				f := filepath.Join(e.dir, "not-a-socket")
				if err := os.WriteFile(f, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return []string{"create", "--bundle", e.bundle(s, nil), "--console-socket", f}
			}, want: []string{"--console-socket", "not a socket"}},
		{name: "console socket that does not exist",
			setup: func(t *testing.T, id string) []string {
				s := e.spec("true")
				s.Process.Terminal = true
				return []string{"create", "--bundle", e.bundle(s, nil), "--console-socket", e.dir + "/no-such-socket"}
			}, want: []string{"--console-socket", "no-such-socket"}},
		{name: "createRuntime hook that fails", args: withSpec(func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/busybox", Args: []string{"sh", "-c", "echo hook-said-no >&2; exit 3"}}}}
		}), want: []string{"hooks.createRuntime[0]", "hook-said-no"}},
		{name: "prestart hook that fails", args: withSpec(func(s *specs.Spec) {
			//lint:ignore SA1019 prestart is deprecated but runsc still runs it
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/busybox", Args: []string{"false"}}}}
		}), want: []string{"hooks.prestart[0]"}},
		{name: "hook that does not exist", args: withSpec(func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: e.dir + "/no-such-hook"}}}
		}), want: []string{"hooks.createRuntime[0]", "no-such-hook"}},
		{name: "hook that hangs past its timeout", args: withSpec(func(s *specs.Spec) {
			one := 1
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/busybox", Args: []string{"sleep", hookMarker}, Timeout: &one}}}
		}), want: []string{"hooks.createRuntime[0]", "timed out"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.id
			if id == "" && !tc.noID {
				id = e.id("bad")
			}
			args := tc.args
			if tc.setup != nil {
				args = tc.setup(t, id)
			}
			if !tc.noID {
				args = append(append([]string{}, args...), id)
			}
			r := e.runsc(args...)
			if r.status != 1 {
				t.Errorf("runsc %s: exit status %d, want 1; stderr: %q", args[0], r.status, r.stderr)
			}
			msg := strings.TrimSpace(r.stderr)
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("stderr is %d lines, want one: %q", strings.Count(msg, "\n")+1, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("stderr %q does not name %q", msg, w)
				}
			}
			if id != by && !tc.noID && len(id) < 200 && !strings.Contains(id, "/") && id != ".." {
				e.checkNothingLeft(id, 0)
			}
			if left := hostProcs(func(c string, _ int) bool { return strings.Contains(c, "sleep "+hookMarker) }); len(left) > 0 {
				t.Errorf("the hook outlived its timeout: %v", left)
			}
			if _, err := os.Stat(filepath.Join(e.root, by, "state.json")); err != nil {
				t.Fatalf("the bystander's state is gone: %v", err)
			}
			e.checkUntouched(by, byRec)
		})
	}
	// Nothing but the bystander (and the stopped and created containers
	// of the exec cases) is listed.
	ids := strings.Fields(e.must("list", "-q"))
	for _, id := range ids {
		if !strings.Contains(id, "-bystander") && !strings.Contains(id, "-stopped") && !strings.Contains(id, "-created") {
			t.Errorf("runsc list shows %q, which a failed command left behind", id)
		}
	}
	// The root has only the containers' directories and the UID records.
	ents, _ := os.ReadDir(e.root)
	for _, ent := range ents {
		if n := ent.Name(); !strings.HasPrefix(n, e.prefix) {
			t.Errorf("%s is left in --root", n)
		}
	}
	e.must("delete", "--force", by)
	e.checkNothingLeft(by, byRec.HostUID)
}
