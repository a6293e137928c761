// Package cgroup manages a sandbox's host cgroup: the cgroup (one per
// hierarchy in cgroup v1) that holds every host process of one sandbox and
// enforces the OCI spec's linux.resources on the host.
//
// Three host layouts are handled (see docs/cgroups.md):
//
//   - V2: only the unified hierarchy is mounted; limits go there, with
//     the controllers enabled in cgroup.subtree_control of each ancestor.
//   - V1: one hierarchy per controller (or per group of co-mounted
//     controllers); runsc uses cpu, cpuacct, cpuset, memory and pids.
//   - Hybrid: the v1 hierarchies plus a unified one. Limits go to the v1
//     controllers; the unified tree only groups the sandbox's processes.
//
// runsc is a short-lived CLI, so a Cgroup holds nothing that cannot be
// found again: New returns it, Path names it, and Load(Path()) in a later
// runsc invocation reopens it.
//
// The package has no locks: a Cgroup is used by one goroutine.
package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Mode is the host's cgroup layout.
type Mode int

// The layouts.
const (
	// V1 is cgroup v1 only.
	V1 Mode = iota + 1
	// V2 is the unified hierarchy only.
	V2
	// Hybrid is v1 controllers plus a unified hierarchy used for grouping.
	Hybrid
)

// String implements fmt.Stringer.
func (m Mode) String() string {
	switch m {
	case V1:
		return "v1"
	case V2:
		return "v2"
	case Hybrid:
		return "hybrid"
	}
	return "unknown"
}

// Cgroup is one sandbox's cgroup, in every hierarchy it uses.
type Cgroup struct {
	// mode is the host's layout.
	mode Mode
	// dirs are the cgroup's directory in each hierarchy, in hierarchy
	// order (v1 ones first, the unified one last).
	dirs []cgDir
}

// cgDir is a Cgroup's place in one hierarchy.
type cgDir struct {
	h *hierarchy
	// path is the absolute cgroup path within h ("/docker/ID").
	path string
	// host is the directory on the host (h.dir(path)).
	host string
	// created is whether New created host (rather than finding it).
	created bool
}

// DefaultParent is the parent of a sandbox's cgroup when the spec names
// none: the cgroup is DefaultParent/ID.
const DefaultParent = "/palisade"

// ErrSystemd is the error for a systemd-style cgroupsPath.
var ErrSystemd = errors.New(`linux.cgroupsPath: "slice:prefix:name" is a systemd cgroup path, which needs --systemd-cgroup; runsc supports only the cgroupfs driver`)

// Mode returns the host layout the cgroup lives in.
func (c *Cgroup) Mode() Mode { return c.mode }

// Path returns the cgroup's resolved path, which Load accepts: an
// absolute cgroup path when it is the same in every hierarchy, otherwise
// (a relative cgroupsPath resolved under callers whose cgroup differs
// between hierarchies) "KEY=PATH;KEY=PATH..." with one entry per
// hierarchy, KEY being its first controller or "unified".
func (c *Cgroup) Path() string {
	same := true
	for _, d := range c.dirs {
		same = same && d.path == c.dirs[0].path
	}
	if same {
		return c.dirs[0].path
	}
	parts := make([]string, len(c.dirs))
	for i, d := range c.dirs {
		parts[i] = d.h.key + "=" + d.path
	}
	return strings.Join(parts, ";")
}

// resolve turns the spec's cgroupsPath into an absolute cgroup path per
// hierarchy: empty means DefaultParent/id, an absolute path is used as
// it is, a relative one is relative to the caller's own cgroup in each
// hierarchy (as runc does).
func resolve(cgroupsPath, id string, hs []*hierarchy, own func() (map[string]string, error)) (map[string]string, error) {
	if !strings.HasPrefix(cgroupsPath, "/") && strings.Count(cgroupsPath, ":") == 2 {
		return nil, ErrSystemd
	}
	p := cgroupsPath
	if p == "" {
		if id == "" || strings.Contains(id, "/") || id == "." || id == ".." {
			return nil, fmt.Errorf("container id %q cannot name a cgroup", id)
		}
		p = path.Join(DefaultParent, id)
	}
	out := map[string]string{}
	if path.IsAbs(p) {
		p = path.Clean(p)
		for _, h := range hs {
			out[h.key] = p
		}
	} else {
		rel := path.Clean(p)
		if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, fmt.Errorf("linux.cgroupsPath %q: a relative path must stay below the caller's cgroup", cgroupsPath)
		}
		parents, err := own()
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			out[h.key] = path.Join(parents[h.key], rel)
		}
	}
	for _, q := range out {
		if q == "/" {
			return nil, fmt.Errorf("linux.cgroupsPath %q: the root cgroup cannot hold a sandbox", cgroupsPath)
		}
	}
	return out, nil
}

// hostOwnCgroups reads the caller's cgroups.
func hostOwnCgroups(hs []*hierarchy) func() (map[string]string, error) {
	return func() (map[string]string, error) {
		f, err := os.Open("/proc/self/cgroup")
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return ownCgroups(f, hs)
	}
}

// New creates the cgroup for a sandbox at the spec's cgroupsPath (empty:
// DefaultParent/id) and applies res to it. It fails, creating nothing
// that it leaves behind, if a limit cannot be honoured; the error names
// the spec field. The cgroup may already exist (docker's cgroup parent,
// or a runsc create that is retried): it is reused.
func New(cgroupsPath, id string, res *specs.LinuxResources) (*Cgroup, error) {
	mode, hs, err := hostHierarchies()
	if err != nil {
		return nil, err
	}
	return newIn(mode, hs, hostOwnCgroups(hs), cgroupsPath, id, res)
}

// newIn is New in the given hierarchies, own giving the caller's cgroups.
func newIn(mode Mode, hs []*hierarchy, own func() (map[string]string, error), cgroupsPath, id string, res *specs.LinuxResources) (*Cgroup, error) {
	paths, err := resolve(cgroupsPath, id, hs, own)
	if err != nil {
		return nil, err
	}
	c := newCgroup(mode, hs, paths)
	if err := checkSupported(mode, res); err != nil {
		return nil, err
	}
	if err := c.create(); err != nil {
		c.removeCreated()
		return nil, err
	}
	if err := c.apply(res); err != nil {
		c.removeCreated()
		return nil, err
	}
	return c, nil
}

// newCgroup assembles a Cgroup from its hierarchies and their paths.
func newCgroup(mode Mode, hs []*hierarchy, paths map[string]string) *Cgroup {
	c := &Cgroup{mode: mode}
	for _, h := range hs {
		c.dirs = append(c.dirs, cgDir{h: h, path: paths[h.key], host: h.dir(paths[h.key])})
	}
	return c
}

// Load reopens the cgroup whose Path is p, as created by New in an
// earlier runsc invocation. It fails if the cgroup does not exist.
func Load(p string) (*Cgroup, error) {
	mode, hs, err := hostHierarchies()
	if err != nil {
		return nil, err
	}
	c, err := load(mode, hs, p)
	if err != nil {
		return nil, err
	}
	for _, d := range c.dirs {
		if _, err := os.Stat(d.host); err != nil {
			return nil, fmt.Errorf("cgroup %s: %w", p, err)
		}
	}
	return c, nil
}

// load parses a Path against the hierarchies.
func load(mode Mode, hs []*hierarchy, p string) (*Cgroup, error) {
	paths := map[string]string{}
	if path.IsAbs(p) {
		for _, h := range hs {
			paths[h.key] = path.Clean(p)
		}
	} else {
		for _, e := range strings.Split(p, ";") {
			k, v, ok := strings.Cut(e, "=")
			if !ok || !path.IsAbs(v) {
				return nil, fmt.Errorf("bad cgroup path %q", p)
			}
			paths[k] = path.Clean(v)
		}
		for _, h := range hs {
			if _, ok := paths[h.key]; !ok {
				return nil, fmt.Errorf("cgroup path %q names no cgroup of the %s hierarchy", p, h.key)
			}
		}
	}
	for _, q := range paths {
		if q == "/" {
			return nil, fmt.Errorf("cgroup path %q is the root cgroup", p)
		}
	}
	return newCgroup(mode, hs, paths), nil
}

// create makes the cgroup's directories and, where the layout needs it,
// prepares their ancestors: in v1 a new cpuset cgroup starts with no
// CPUs or memory nodes and takes its parent's; in v2 each ancestor
// enables the controllers for its children.
func (c *Cgroup) create() error {
	for i := range c.dirs {
		d := &c.dirs[i]
		// Walk from the hierarchy's root down, creating what is missing.
		rel := strings.TrimPrefix(d.path, d.h.root)
		if d.h.root == "/" {
			rel = d.path
		}
		if d.h.root != "/" && !strings.HasPrefix(d.path, d.h.root+"/") {
			return fmt.Errorf("cgroup %s is outside the %s hierarchy mounted at %s (root %s)", d.path, d.h.key, d.h.mountpoint, d.h.root)
		}
		cur := d.h.mountpoint
		for _, name := range strings.Split(strings.Trim(rel, "/"), "/") {
			parent := cur
			cur = path.Join(cur, name)
			if d.h.v2 && c.mode == V2 {
				if err := enableControllers(parent); err != nil {
					return err
				}
			}
			err := os.Mkdir(cur, 0o755)
			if err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("creating cgroup: %w", err)
			}
			if err == nil && cur == d.host {
				d.created = true
			}
			if d.h.has("cpuset") {
				if err := inheritCpuset(parent, cur); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// removeCreated removes the leaf directories New created, after it
// failed: they hold no process yet.
func (c *Cgroup) removeCreated() {
	for i := len(c.dirs) - 1; i >= 0; i-- {
		if c.dirs[i].created {
			unix.Rmdir(c.dirs[i].host)
		}
	}
}

// enableControllers enables in dir's cgroup.subtree_control those of
// v2Controllers that dir has.
func enableControllers(dir string) error {
	avail, err := readString(dir, "cgroup.controllers")
	if err != nil {
		return err
	}
	enabled, err := readString(dir, "cgroup.subtree_control")
	if err != nil {
		return err
	}
	var add []string
	for _, c := range v2Controllers {
		if slices.Contains(strings.Fields(avail), c) && !slices.Contains(strings.Fields(enabled), c) {
			add = append(add, "+"+c)
		}
	}
	if len(add) == 0 {
		return nil
	}
	return writeFile(dir, "cgroup.subtree_control", strings.Join(add, " "))
}

// inheritCpuset gives the v1 cpuset cgroup dir its parent's CPUs and
// memory nodes if it has none (a process cannot join it otherwise).
func inheritCpuset(parent, dir string) error {
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		v, err := readString(dir, f)
		if err != nil {
			return err
		}
		if v != "" {
			continue
		}
		pv, err := readString(parent, f)
		if err != nil {
			return err
		}
		if err := writeFile(dir, f, pv); err != nil {
			return err
		}
	}
	return nil
}

// Join moves the process pid, with all its threads, into the cgroup in
// every hierarchy.
func (c *Cgroup) Join(pid int) error {
	for _, d := range c.dirs {
		if err := writeFile(d.host, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// Current returns the caller's own cgroup, in every hierarchy, so that a
// process that joined a sandbox's cgroup for a while can move back.
func Current() (*Cgroup, error) {
	mode, hs, err := hostHierarchies()
	if err != nil {
		return nil, err
	}
	paths, err := hostOwnCgroups(hs)()
	if err != nil {
		return nil, err
	}
	return newCgroup(mode, hs, paths), nil
}

// Procs returns the host PIDs of the processes in the cgroup (in any of
// its hierarchies), sorted.
func (c *Cgroup) Procs() ([]int, error) {
	seen := map[int]bool{}
	for _, d := range c.dirs {
		s, err := readString(d.host, "cgroup.procs")
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, f := range strings.Fields(s) {
			if pid, err := strconv.Atoi(f); err == nil {
				seen[pid] = true
			}
		}
	}
	out := make([]int, 0, len(seen))
	for pid := range seen {
		out = append(out, pid)
	}
	slices.Sort(out)
	return out, nil
}

// deleteTimeout bounds how long Delete waits for killed processes to
// leave the cgroup.
const deleteTimeout = 10 * time.Second

// Delete kills every process left in the cgroup with SIGKILL, waits for
// them to leave, and removes the cgroup's directories (not their
// ancestors, which others may share). It is idempotent: deleting a
// cgroup that is gone succeeds.
func (c *Cgroup) Delete() error {
	deadline := time.Now().Add(deleteTimeout)
	wait := time.Millisecond
	for {
		pids, err := c.Procs()
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: processes %v still there %v after SIGKILL", c.Path(), pids, deleteTimeout)
		}
		c.killAll(pids)
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
	// The v1 hierarchies first, the unified one last; in each, the leaf
	// only. An rmdir can fail with EBUSY for a moment after the last
	// process left.
	for i := range c.dirs {
		d := c.dirs[i]
		for {
			err := unix.Rmdir(d.host)
			if err == nil || err == unix.ENOENT {
				break
			}
			if err != unix.EBUSY || time.Now().After(deadline) {
				return os.NewSyscallError("rmdir "+d.host, err)
			}
			time.Sleep(wait)
			wait = min(2*wait, 100*time.Millisecond)
		}
	}
	return nil
}

// killAll sends SIGKILL to pids, which were read from the cgroup. A pid
// may have exited and been reused by an unrelated process since: each is
// pinned with a pidfd and signalled only if it is still in the cgroup
// after that.
func (c *Cgroup) killAll(pids []int) {
	// cgroup.kill (Linux 5.14) kills a whole unified cgroup at once,
	// racing no fork; processes found only in v1 hierarchies still get
	// the signal below.
	for _, d := range c.dirs {
		if d.h.v2 {
			writeFile(d.host, "cgroup.kill", "1")
		}
	}
	fds := map[int]int{}
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if err == nil {
			fds[pid] = fd
		}
	}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	still, err := c.Procs()
	if err != nil {
		return
	}
	for _, pid := range still {
		if fd, ok := fds[pid]; ok {
			unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		}
	}
}

// readString returns the contents of file name in dir, spaces trimmed.
func readString(dir, name string) (string, error) {
	b, err := os.ReadFile(path.Join(dir, name))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// writeFile writes value to the existing cgroup file name in dir.
func writeFile(dir, name, value string) error {
	p := path.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %q to %s: %w", value, p, err)
	}
	return nil
}

// fileExists reports whether dir has the file name.
func fileExists(dir, name string) bool {
	_, err := os.Stat(path.Join(dir, name))
	return err == nil
}
