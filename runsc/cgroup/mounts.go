package cgroup

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
)

// hierarchy is one mounted cgroup hierarchy: a cgroup v1 hierarchy with
// its controllers, or the cgroup v2 unified one.
type hierarchy struct {
	// key names the hierarchy in a multi-path Path: its first controller
	// (v1), or "unified".
	key string
	// mountpoint is where the hierarchy is mounted on the host.
	mountpoint string
	// root is the cgroup at mountpoint (the "root" field of mountinfo:
	// "/" unless the mount is of a subtree or from a cgroup namespace).
	root string
	// controllers are a v1 hierarchy's controllers; nil for v2.
	controllers []string
	// v2 is whether this is the unified hierarchy.
	v2 bool
}

// has reports whether h carries controller c.
func (h *hierarchy) has(c string) bool {
	for _, x := range h.controllers {
		if x == c {
			return true
		}
	}
	return false
}

// dir returns the host directory of the cgroup at absolute cgroup path p
// of h.
func (h *hierarchy) dir(p string) string {
	rel := p
	if h.root != "/" {
		rel = strings.TrimPrefix(p, h.root)
	}
	return path.Join(h.mountpoint, rel)
}

// v1Controllers are the v1 controllers a sandbox's cgroup is created
// in: those whose limits runsc applies or whose statistics it reports.
var v1Controllers = []string{"cpu", "cpuacct", "cpuset", "devices", "memory", "pids"}

// v2Controllers are the controllers enabled down to a v2 cgroup.
var v2Controllers = []string{"cpu", "cpuset", "memory", "pids"}

// hierarchies returns the cgroup hierarchies the sandbox uses, from
// mountinfo: in v1 and hybrid mode the v1 hierarchies of v1Controllers
// (one per mount, co-mounted controllers sharing it) and the unified
// hierarchy if mounted; in v2 mode only the unified one.
func hierarchies(mountinfo io.Reader) (Mode, []*hierarchy, error) {
	var v1 []*hierarchy
	var unified *hierarchy
	seen := map[string]bool{}
	sc := bufio.NewScanner(mountinfo)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		root, mountpoint := unescapeMount(f[3]), unescapeMount(f[4])
		switch g[0] {
		case "cgroup2":
			if unified == nil {
				unified = &hierarchy{key: "unified", mountpoint: mountpoint, root: root, v2: true}
			}
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(g[2], ",") {
				for _, c := range v1Controllers {
					if o == c && !seen[c] {
						ctrls = append(ctrls, c)
					}
				}
			}
			if len(ctrls) == 0 {
				continue
			}
			for _, c := range ctrls {
				seen[c] = true
			}
			v1 = append(v1, &hierarchy{key: ctrls[0], mountpoint: mountpoint, root: root, controllers: ctrls})
		}
	}
	if err := sc.Err(); err != nil {
		return 0, nil, fmt.Errorf("reading mountinfo: %w", err)
	}
	switch {
	case len(v1) > 0 && unified != nil:
		return Hybrid, append(v1, unified), nil
	case len(v1) > 0:
		return V1, v1, nil
	case unified != nil:
		return V2, []*hierarchy{unified}, nil
	}
	return 0, nil, fmt.Errorf("no cgroup file system is mounted")
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ownCgroups parses /proc/self/cgroup: the caller's cgroup path in each
// hierarchy, keyed by hierarchy key as hierarchies names them.
func ownCgroups(r io.Reader, hs []*hierarchy) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, h := range hs {
			if h.v2 && parts[0] == "0" && parts[1] == "" {
				out[h.key] = parts[2]
			}
			if !h.v2 {
				for _, c := range strings.Split(parts[1], ",") {
					if c == h.key {
						out[h.key] = parts[2]
					}
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading /proc/self/cgroup: %w", err)
	}
	for _, h := range hs {
		if _, ok := out[h.key]; !ok {
			return nil, fmt.Errorf("/proc/self/cgroup names no cgroup of the %s hierarchy", h.key)
		}
	}
	return out, nil
}

// hostHierarchies reads the host's mounts.
func hostHierarchies() (Mode, []*hierarchy, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	return hierarchies(f)
}
