package cgroup

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptr[T any](v T) *T { return &v }

// requireCgroups skips the test unless it runs as root on a host with
// writable cgroups.
func requireCgroups(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	if _, _, err := hostHierarchies(); err != nil {
		t.Skipf("no cgroups: %v", err)
	}
}

// newTestCgroup creates a cgroup under the test's own cgroup (a relative
// path, so the test's limits still apply to it), deleted when the test
// ends however it ends.
func newTestCgroup(t *testing.T, res *specs.LinuxResources) *Cgroup {
	t.Helper()
	rel := fmt.Sprintf("palisade-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "_"))
	c, err := New(rel, "", res)
	if err != nil {
		t.Fatalf("New(%q): %v", rel, err)
	}
	t.Cleanup(func() {
		if err := c.Delete(); err != nil {
			t.Errorf("Delete: %v", err)
		}
	})
	return c
}

// child is a shell started in a cgroup.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startIn starts `sh -c script` in c: the shell waits for a line on its
// stdin, which is sent once it has joined c, so all of script runs in c.
func startIn(t *testing.T, c *Cgroup, script string) *child {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "read x; "+script)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if err := c.Join(cmd.Process.Pid); err != nil {
		t.Fatalf("Join(%d): %v", cmd.Process.Pid, err)
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	return &child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
}

// line reads the child's next line of output.
func (ch *child) line(t *testing.T) string {
	t.Helper()
	s, err := ch.out.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the child's output: %v (got %q)", err, s)
	}
	return strings.TrimSpace(s)
}

// file reads a cgroup file of controller ctrl.
func file(t *testing.T, c *Cgroup, ctrl, name string) string {
	t.Helper()
	dir := c.dirFor(ctrl)
	if dir == "" {
		t.Fatalf("no %s hierarchy", ctrl)
	}
	s, err := readString(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLimitsStatsDelete(t *testing.T) {
	requireCgroups(t)
	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr[int64](64 << 20), Swap: ptr[int64](128 << 20), Reservation: ptr[int64](32 << 20)},
		Pids:   &specs.LinuxPids{Limit: ptr[int64](50)},
		CPU:    &specs.LinuxCPU{Shares: ptr[uint64](512), Quota: ptr[int64](50000), Period: ptr[uint64](100000), Cpus: "0", Mems: "0"},
		// Deny every device but /dev/null (c 1:3), as docker's list
		// does with more entries.
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "rwm"}},
	}
	c := newTestCgroup(t, res)

	var want [][3]string // controller, file, contents
	if c.Mode() == V2 {
		want = [][3]string{
			{"memory", "memory.max", "67108864"}, {"memory", "memory.low", "33554432"},
			{"pids", "pids.max", strconv.FormatInt(HostPidsMax(50), 10)},
			{"cpu", "cpu.weight", strconv.FormatUint(SharesToWeight(512), 10)}, {"cpu", "cpu.max", "50000 100000"},
			{"cpuset", "cpuset.cpus", "0"}, {"cpuset", "cpuset.mems", "0"},
		}
		if fileExists(c.dirFor("memory"), "memory.swap.max") {
			want = append(want, [3]string{"memory", "memory.swap.max", "67108864"})
		}
	} else {
		want = [][3]string{
			{"memory", "memory.limit_in_bytes", "67108864"}, {"memory", "memory.soft_limit_in_bytes", "33554432"},
			{"pids", "pids.max", strconv.FormatInt(HostPidsMax(50), 10)},
			{"cpu", "cpu.shares", "512"}, {"cpu", "cpu.cfs_quota_us", "50000"}, {"cpu", "cpu.cfs_period_us", "100000"},
			{"cpuset", "cpuset.cpus", "0"}, {"cpuset", "cpuset.mems", "0"},
		}
		if c.dirFor("devices") != "" {
			want = append(want, [3]string{"devices", "devices.list", "c 1:3 rwm"})
		}
		if fileExists(c.dirFor("memory"), "memory.memsw.limit_in_bytes") {
			want = append(want, [3]string{"memory", "memory.memsw.limit_in_bytes", "134217728"})
		}
	}
	for _, w := range want {
		if got := file(t, c, w[0], w[1]); got != w[2] {
			t.Errorf("%s = %q, want %q", w[1], got, w[2])
		}
	}

	// A child in the cgroup: in every hierarchy, counted by Stats. In
	// v1 the host refuses it /dev/zero but not /dev/null.
	ch := startIn(t, c, "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "+
		"if (exec </dev/null) 2>&-; then echo -n null; fi; if (exec </dev/zero) 2>&-; then echo -n zero; fi; echo done; read y")
	want1 := "nullzerodone"
	if c.dirFor("devices") != "" {
		want1 = "nulldone"
	}
	if got := ch.line(t); got != want1 {
		t.Fatalf("child said %q, want %q", got, want1)
	}
	pid := ch.cmd.Process.Pid
	procs, err := c.Procs()
	if err != nil || len(procs) != 1 || procs[0] != pid {
		t.Errorf("Procs() = %v, %v; want [%d]", procs, err, pid)
	}
	own, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range c.dirs {
		if !strings.Contains(string(own), ":"+d.path+"\n") {
			t.Errorf("/proc/%d/cgroup = %q: no line for %s", pid, own, d.path)
		}
	}
	st, err := c.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Pids.Current != 1 || st.Pids.Limit != uint64(HostPidsMax(50)) {
		t.Errorf("pids = %+v, want current 1, limit %d", st.Pids, HostPidsMax(50))
	}
	if st.Memory.Usage.Limit != 64<<20 || st.Memory.Usage.Usage == 0 {
		t.Errorf("memory.usage = %+v, want limit %d and some usage", st.Memory.Usage, 64<<20)
	}
	if st.CPU.Usage.Total == 0 {
		t.Errorf("cpu usage = %+v, want some after the child's loop", st.CPU.Usage)
	}
	b, err := json.Marshal(Event{Type: "stats", ID: "x", Data: st})
	if err != nil || !strings.Contains(string(b), `"pids":{"current":1,`) {
		t.Errorf("event JSON = %s, %v", b, err)
	}

	// Delete kills the child and removes every directory; again is a
	// no-op; Load then fails.
	if err := c.Delete(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	err = ch.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ProcessState.String() != "signal: killed" {
		t.Errorf("child ended with %v, want killed by SIGKILL", err)
	}
	for _, d := range c.dirs {
		if _, err := os.Stat(d.host); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after Delete (%v)", d.host, err)
		}
	}
	if err := c.Delete(); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	if _, err := Load(c.Path()); err == nil {
		t.Errorf("Load(%q) of a deleted cgroup succeeded", c.Path())
	}
}

func TestLoadFindsTheSameCgroup(t *testing.T) {
	requireCgroups(t)
	c := newTestCgroup(t, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](10)}})
	l, err := Load(c.Path())
	if err != nil {
		t.Fatalf("Load(%q): %v", c.Path(), err)
	}
	if l.Path() != c.Path() || l.Mode() != c.Mode() || len(l.dirs) != len(c.dirs) {
		t.Fatalf("Load(%q) = %q (%v, %d dirs), want %q (%v, %d dirs)", c.Path(), l.Path(), l.Mode(), len(l.dirs), c.Path(), c.Mode(), len(c.dirs))
	}
	for i := range c.dirs {
		if l.dirs[i].host != c.dirs[i].host {
			t.Errorf("hierarchy %s: Load found %s, New made %s", c.dirs[i].h.key, l.dirs[i].host, c.dirs[i].host)
		}
	}
	st, err := l.Stats()
	if err != nil || st.Pids.Limit != uint64(HostPidsMax(10)) {
		t.Errorf("Stats of the loaded cgroup = %+v, %v; want pids limit %d", st, err, HostPidsMax(10))
	}
}

func TestOOMKill(t *testing.T) {
	requireCgroups(t)
	res := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](20 << 20), Swap: ptr[int64](20 << 20)}}
	c := newTestCgroup(t, res)
	// tail keeps the last line, and 100 MiB of zeros is one line: it
	// needs 100 MiB, five times the limit. Were the limit not enforced
	// it would finish (using a bounded 100 MiB) and say status=0.
	ch := startIn(t, c, "head -c 104857600 /dev/zero | tail -n 1 >/dev/null; echo status=$?")
	if got := ch.line(t); got != "status=137" {
		t.Errorf("the pipeline ended with %q, want status=137 (tail killed by SIGKILL)", got)
	}
	n, err := c.OOMKills()
	if err != nil || n < 1 {
		t.Errorf("OOMKills() = %d, %v; want at least 1", n, err)
	}
}

func TestPidsMaxMakesForkFail(t *testing.T) {
	requireCgroups(t)
	c := newTestCgroup(t, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](1)}})
	// The spec's limit is the guest's, enforced in the Sentry; the host's
	// is larger (HostPidsMax). Lower it by hand to see that it binds the
	// processes that joined.
	if got, want := file(t, c, "pids", "pids.max"), strconv.FormatInt(HostPidsMax(1), 10); got != want {
		t.Errorf("pids.max = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		max    string
		want   string
		status int
	}{
		// The shell is the one process allowed: it cannot fork /bin/true
		// and a non-interactive shell gives up with a failure status.
		{"1", "", 2},
		{"2", "status=0\n", 0},
	} {
		if err := writeFile(c.dirFor("pids"), "pids.max", tc.max); err != nil {
			t.Fatal(err)
		}
		ch := startIn(t, c, "/bin/true; echo status=$?")
		out, _ := io.ReadAll(ch.out)
		ch.cmd.Wait()
		if string(out) != tc.want || (ch.cmd.ProcessState.ExitCode() != 0) != (tc.status != 0) {
			t.Errorf("pids.max %s: the shell said %q and exited %d, want %q and %d", tc.max, out, ch.cmd.ProcessState.ExitCode(), tc.want, tc.status)
		}
	}
}

func TestResolve(t *testing.T) {
	hs := []*hierarchy{{key: "memory", controllers: []string{"memory"}}, {key: "unified", v2: true}}
	own := func() (map[string]string, error) {
		return map[string]string{"memory": "/user/a", "unified": "/"}, nil
	}
	for _, tc := range []struct {
		path, id string
		want     map[string]string
		err      string
	}{
		{"/docker/abc", "abc", map[string]string{"memory": "/docker/abc", "unified": "/docker/abc"}, ""},
		{"", "abc", map[string]string{"memory": "/palisade/abc", "unified": "/palisade/abc"}, ""},
		{"sub/c1", "c1", map[string]string{"memory": "/user/a/sub/c1", "unified": "/sub/c1"}, ""},
		{"system.slice:docker:abc", "abc", nil, "--systemd-cgroup"},
		{"../escape", "x", nil, "below the caller's cgroup"},
		{"/", "x", nil, "root cgroup"},
		{"", "../x", nil, "cannot name a cgroup"},
	} {
		got, err := resolve(tc.path, tc.id, hs, own)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("resolve(%q, %q) = %v, %v; want an error with %q", tc.path, tc.id, got, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("resolve(%q, %q) = %v, %v; want %v", tc.path, tc.id, got, err, tc.want)
		}
	}
}

func TestPathRoundTrip(t *testing.T) {
	hs := []*hierarchy{{key: "cpu", controllers: []string{"cpu", "cpuacct"}}, {key: "memory", controllers: []string{"memory"}}, {key: "unified", v2: true}}
	for _, paths := range []map[string]string{
		{"cpu": "/docker/a", "memory": "/docker/a", "unified": "/docker/a"},
		{"cpu": "/x", "memory": "/user/1/x", "unified": "/x"},
	} {
		c := newCgroup(Hybrid, hs, paths)
		l, err := load(Hybrid, hs, c.Path())
		if err != nil {
			t.Fatalf("load(%q): %v", c.Path(), err)
		}
		for i := range c.dirs {
			if l.dirs[i].path != c.dirs[i].path {
				t.Errorf("load(%q): %s is %s, want %s", c.Path(), c.dirs[i].h.key, l.dirs[i].path, c.dirs[i].path)
			}
		}
	}
	if _, err := load(Hybrid, hs, "cpu=/x;memory=/y"); err == nil {
		t.Errorf("load of a path missing the unified hierarchy succeeded")
	}
}

func TestHierarchies(t *testing.T) {
	line := func(mp, fstype, opts string) string {
		return "31 30 0:28 / " + mp + " rw,relatime - " + fstype + " cgroup " + opts + "\n"
	}
	v1 := line("/sys/fs/cgroup/cpu,cpuacct", "cgroup", "rw,cpu,cpuacct") + line("/sys/fs/cgroup/memory", "cgroup", "rw,memory") +
		line("/sys/fs/cgroup/systemd", "cgroup", "rw,name=systemd") + line("/sys/fs/cgroup/pids", "cgroup", "rw,pids") +
		line("/sys/fs/cgroup/cpuset", "cgroup", "rw,cpuset")
	unified := line("/sys/fs/cgroup/unified", "cgroup2", "rw")
	for _, tc := range []struct {
		name, mountinfo string
		mode            Mode
		keys            string
	}{
		{"v1", v1, V1, "cpu memory pids cpuset"},
		{"hybrid", v1 + unified, Hybrid, "cpu memory pids cpuset unified"},
		{"v2", line("/sys/fs/cgroup", "cgroup2", "rw"), V2, "unified"},
	} {
		mode, hs, err := hierarchies(strings.NewReader("22 1 0:20 / /sys rw - sysfs sysfs rw\n" + tc.mountinfo))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var keys []string
		for _, h := range hs {
			keys = append(keys, h.key)
		}
		if mode != tc.mode || strings.Join(keys, " ") != tc.keys {
			t.Errorf("%s: mode %v, hierarchies %v; want %v, %s", tc.name, mode, keys, tc.mode, tc.keys)
		}
	}
	if _, _, err := hierarchies(strings.NewReader("")); err == nil {
		t.Errorf("no cgroup mounts: no error")
	}
	h := &hierarchy{mountpoint: "/sys/fs/cgroup/memory", root: "/user"}
	if got := h.dir("/user/x"); got != path.Join("/sys/fs/cgroup/memory", "x") {
		t.Errorf("dir under a mount of /user = %s", got)
	}
}

func TestSharesToWeight(t *testing.T) {
	for _, tc := range []struct{ shares, weight uint64 }{
		{0, 0}, {1, 1}, {2, 1}, {1024, 100}, {262144, 10000}, {1 << 20, 10000},
	} {
		if got := SharesToWeight(tc.shares); got != tc.weight {
			t.Errorf("SharesToWeight(%d) = %d, want %d", tc.shares, got, tc.weight)
		}
	}
	prev := uint64(0)
	for s := uint64(2); s <= 262144; s = s*5/4 + 1 {
		w := SharesToWeight(s)
		if w < prev || w < 1 || w > 10000 {
			t.Fatalf("SharesToWeight(%d) = %d after %d: not monotonic within 1..10000", s, w, prev)
		}
		prev = w
	}
}

func TestSwapV2(t *testing.T) {
	for _, tc := range []struct {
		swap, mem, want int64
		ok, err         bool
	}{
		{0, 0, 0, false, false},
		{0, -1, -1, true, false},
		{-1, 100, -1, true, false},
		{300, 100, 200, true, false},
		{100, 100, 0, true, false},
		{50, 100, 0, false, true},
		{100, 0, 0, false, true},
	} {
		v, ok, err := SwapV2(tc.swap, tc.mem)
		if v != tc.want || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("SwapV2(%d, %d) = %d, %v, %v; want %d, %v, error %v", tc.swap, tc.mem, v, ok, err, tc.want, tc.ok, tc.err)
		}
	}
}

func TestUnsupportedFieldsAreNamed(t *testing.T) {
	for _, tc := range []struct {
		res   specs.LinuxResources
		mode  Mode
		field string
	}{
		{specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](100)}}, V1, "blockIO"},
		{specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1}}}, Hybrid, "hugepageLimits"},
		{specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr[uint32](1)}}, V2, "network"},
		{specs.LinuxResources{Unified: map[string]string{"io.max": "x"}}, V2, "unified"},
		{specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr[uint64](10)}}, V2, "swappiness"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr[int64](10)}}, V2, "realtime"},
	} {
		err := checkSupported(tc.mode, &tc.res)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("checkSupported(%v, %s) = %v; want an error naming %s", tc.mode, tc.field, err, tc.field)
		}
	}
	for _, bad := range []specs.LinuxDeviceCgroup{{Type: "x"}, {Type: "c", Access: "rwx"}, {Type: "b", Major: ptr[int64](-2)}} {
		if _, err := deviceRule(bad); err == nil {
			t.Errorf("deviceRule(%+v) accepted a bad rule", bad)
		}
	}
	for _, r := range []struct {
		rule specs.LinuxDeviceCgroup
		want string
	}{
		{specs.LinuxDeviceCgroup{Access: "rwm"}, "a"},
		{specs.LinuxDeviceCgroup{Type: "c", Major: ptr[int64](136), Access: "rw"}, "c 136:* rw"},
		{specs.LinuxDeviceCgroup{Type: "b", Major: ptr[int64](8), Minor: ptr[int64](0)}, "b 8:0 rwm"},
	} {
		if got, err := deviceRule(r.rule); err != nil || got != r.want {
			t.Errorf("deviceRule(%+v) = %q, %v; want %q", r.rule, got, err, r.want)
		}
	}
	ok := specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{}, Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}}
	if err := checkSupported(Hybrid, &ok); err != nil {
		t.Errorf("an empty blockIO and a device list (what docker sends): %v", err)
	}
}

// TestUnifiedOnly runs a cgroup as on a pure v2 host, in the unified
// hierarchy of this host (on a hybrid host it has no controllers of
// ours, so limits are refused, but grouping, stats of CPU time and
// deletion through cgroup.kill work).
func TestUnifiedOnly(t *testing.T) {
	requireCgroups(t)
	_, hs, _ := hostHierarchies()
	var unified *hierarchy
	for _, h := range hs {
		if h.v2 {
			unified = h
		}
	}
	if unified == nil {
		t.Skip("no unified hierarchy")
	}
	hs = []*hierarchy{unified}
	own := hostOwnCgroups(hs)
	rel := fmt.Sprintf("palisade-test-%d-%s", os.Getpid(), t.Name())
	avail, _ := readString(unified.mountpoint, "cgroup.controllers")
	if !strings.Contains(avail, "memory") {
		_, err := newIn(V2, hs, own, rel, "", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 30)}})
		if err == nil || !strings.Contains(err.Error(), "memory.limit") {
			t.Errorf("a memory limit without the memory controller: %v, want an error naming memory.limit", err)
		}
	}
	c, err := newIn(V2, hs, own, rel, "", nil)
	if err != nil {
		t.Fatalf("newIn: %v", err)
	}
	t.Cleanup(func() { c.Delete() })
	ch := startIn(t, c, "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done; read y")
	if got := ch.line(t); got != "done" {
		t.Fatalf("child said %q, want done", got)
	}
	st, err := c.Stats()
	if err != nil || st.CPU.Usage.Total == 0 {
		t.Errorf("Stats = %+v, %v; want some CPU time", st, err)
	}
	if err := c.Delete(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := ch.cmd.Wait(); err == nil || ch.cmd.ProcessState.String() != "signal: killed" {
		t.Errorf("child ended with %v, want killed by SIGKILL", err)
	}
	if _, err := os.Stat(c.dirs[0].host); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after Delete (%v)", c.dirs[0].host, err)
	}
}
