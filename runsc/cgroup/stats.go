package cgroup

import (
	"errors"
	"os"
	"strconv"
	"strings"
)

// Event is one line of `runsc events`, in runc's JSON shape: Type is
// "stats" (Data a *Stats) or "oom" (Data nil).
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data *Stats `json:"data,omitempty"`
}

// Stats are a cgroup's resource figures, as `runc events --stats` prints
// them (runc's types.Stats, the fields runsc fills).
type Stats struct {
	CPU    CPU    `json:"cpu"`
	Memory Memory `json:"memory"`
	Pids   Pids   `json:"pids"`
}

// CPU is CPU time used and throttling.
type CPU struct {
	Usage      CPUUsage   `json:"usage,omitempty"`
	Throttling Throttling `json:"throttling,omitempty"`
}

// CPUUsage is CPU time used, in nanoseconds.
type CPUUsage struct {
	Total  uint64   `json:"total,omitempty"`
	Percpu []uint64 `json:"percpu,omitempty"`
	Kernel uint64   `json:"kernel"`
	User   uint64   `json:"user"`
}

// Throttling is CFS bandwidth throttling (ThrottledTime in nanoseconds).
type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

// MemoryEntry is one memory counter with its limit, in bytes.
type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// Memory is memory use: Usage is memory, Swap memory+swap (as v1 counts
// it, also on v2), Cache the page cache, Raw the memory.stat file.
type Memory struct {
	Cache uint64            `json:"cache,omitempty"`
	Usage MemoryEntry       `json:"usage,omitempty"`
	Swap  MemoryEntry       `json:"swap,omitempty"`
	Raw   map[string]uint64 `json:"raw,omitempty"`
}

// Pids are the tasks in the cgroup and their limit (0: none).
type Pids struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

// unlimitedV1 is what v1 shows as an unlimited memory limit: the
// largest page-aligned int64.
const unlimitedV1 = 9223372036854771712

// readUint reads a file holding one unsigned number ("max" reads as
// maxValue). A missing file reads as 0.
func readUint(dir, name string, maxValue uint64) (uint64, error) {
	s, err := readString(dir, name)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if s == "max" {
		return maxValue, nil
	}
	return strconv.ParseUint(s, 10, 64)
}

// readKeyed reads a flat keyed file ("key value" lines). A missing file
// reads as empty.
func readKeyed(dir, name string) (map[string]uint64, error) {
	s, err := readString(dir, name)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]uint64{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if v, err := strconv.ParseUint(f[1], 10, 64); err == nil {
			out[f[0]] = v
		}
	}
	return out, nil
}

// Stats returns the cgroup's figures. These count every host process of
// the sandbox (the Sentry, its stubs and, if the caller put it there,
// the gofer), not the guest's view.
func (c *Cgroup) Stats() (*Stats, error) {
	if c.mode == V2 {
		return c.statsV2()
	}
	return c.statsV1()
}

// statsV1 reads the v1 controllers.
func (c *Cgroup) statsV1() (*Stats, error) {
	var s Stats
	var err error
	if dir := c.dirFor("cpuacct"); dir != "" {
		if s.CPU.Usage.Total, err = readUint(dir, "cpuacct.usage", 0); err != nil {
			return nil, err
		}
		if pc, err := readString(dir, "cpuacct.usage_percpu"); err == nil {
			for _, f := range strings.Fields(pc) {
				v, _ := strconv.ParseUint(f, 10, 64)
				s.CPU.Usage.Percpu = append(s.CPU.Usage.Percpu, v)
			}
		}
		if fileExists(dir, "cpuacct.usage_user") {
			if s.CPU.Usage.User, err = readUint(dir, "cpuacct.usage_user", 0); err != nil {
				return nil, err
			}
			if s.CPU.Usage.Kernel, err = readUint(dir, "cpuacct.usage_sys", 0); err != nil {
				return nil, err
			}
		} else {
			// cpuacct.stat counts USER_HZ (100 Hz) ticks.
			st, err := readKeyed(dir, "cpuacct.stat")
			if err != nil {
				return nil, err
			}
			s.CPU.Usage.User, s.CPU.Usage.Kernel = st["user"]*10_000_000, st["system"]*10_000_000
		}
	}
	if dir := c.dirFor("cpu"); dir != "" {
		st, err := readKeyed(dir, "cpu.stat")
		if err != nil {
			return nil, err
		}
		s.CPU.Throttling = Throttling{Periods: st["nr_periods"], ThrottledPeriods: st["nr_throttled"], ThrottledTime: st["throttled_time"]}
	}
	if dir := c.dirFor("memory"); dir != "" {
		m := &s.Memory
		for _, f := range []struct {
			p    *uint64
			name string
		}{
			{&m.Usage.Usage, "memory.usage_in_bytes"}, {&m.Usage.Limit, "memory.limit_in_bytes"},
			{&m.Usage.Max, "memory.max_usage_in_bytes"}, {&m.Usage.Failcnt, "memory.failcnt"},
			{&m.Swap.Usage, "memory.memsw.usage_in_bytes"}, {&m.Swap.Limit, "memory.memsw.limit_in_bytes"},
			{&m.Swap.Max, "memory.memsw.max_usage_in_bytes"}, {&m.Swap.Failcnt, "memory.memsw.failcnt"},
		} {
			if *f.p, err = readUint(dir, f.name, unlimitedV1); err != nil {
				return nil, err
			}
		}
		if m.Raw, err = readKeyed(dir, "memory.stat"); err != nil {
			return nil, err
		}
		m.Cache = m.Raw["cache"]
	}
	if dir := c.dirFor("pids"); dir != "" {
		if s.Pids.Current, err = readUint(dir, "pids.current", 0); err != nil {
			return nil, err
		}
		if s.Pids.Limit, err = readUint(dir, "pids.max", 0); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// statsV2 reads the unified cgroup.
func (c *Cgroup) statsV2() (*Stats, error) {
	var s Stats
	dir := c.dirs[0].host
	st, err := readKeyed(dir, "cpu.stat")
	if err != nil {
		return nil, err
	}
	s.CPU.Usage = CPUUsage{Total: st["usage_usec"] * 1000, User: st["user_usec"] * 1000, Kernel: st["system_usec"] * 1000}
	s.CPU.Throttling = Throttling{Periods: st["nr_periods"], ThrottledPeriods: st["nr_throttled"], ThrottledTime: st["throttled_usec"] * 1000}

	m := &s.Memory
	var swap, swapMax uint64
	for _, f := range []struct {
		p    *uint64
		name string
	}{
		{&m.Usage.Usage, "memory.current"}, {&m.Usage.Limit, "memory.max"}, {&m.Usage.Max, "memory.peak"},
		{&swap, "memory.swap.current"}, {&swapMax, "memory.swap.max"},
	} {
		if *f.p, err = readUint(dir, f.name, unlimitedV1); err != nil {
			return nil, err
		}
	}
	// As in v1, swap is reported as memory+swap.
	m.Swap.Usage = m.Usage.Usage + swap
	m.Swap.Limit = unlimitedV1
	if m.Usage.Limit < unlimitedV1 && swapMax < unlimitedV1 {
		m.Swap.Limit = m.Usage.Limit + swapMax
	}
	ev, err := readKeyed(dir, "memory.events")
	if err != nil {
		return nil, err
	}
	m.Usage.Failcnt = ev["max"]
	if m.Raw, err = readKeyed(dir, "memory.stat"); err != nil {
		return nil, err
	}
	m.Cache = m.Raw["file"]

	if s.Pids.Current, err = readUint(dir, "pids.current", 0); err != nil {
		return nil, err
	}
	if s.Pids.Limit, err = readUint(dir, "pids.max", 0); err != nil {
		return nil, err
	}
	return &s, nil
}

// OOMKills returns how many processes of the cgroup the kernel's OOM
// killer has killed (memory.events oom_kill in v2, memory.oom_control
// oom_kill in v1, Linux 4.13 and later); `runsc events` reports an "oom"
// event when it grows.
func (c *Cgroup) OOMKills() (uint64, error) {
	if c.mode == V2 {
		ev, err := readKeyed(c.dirs[0].host, "memory.events")
		if err != nil {
			return 0, err
		}
		return ev["oom_kill"], nil
	}
	dir := c.dirFor("memory")
	if dir == "" {
		return 0, nil
	}
	oc, err := readKeyed(dir, "memory.oom_control")
	if err != nil {
		return 0, err
	}
	return oc["oom_kill"], nil
}
