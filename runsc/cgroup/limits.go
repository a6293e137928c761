package cgroup

import (
	"fmt"
	"math"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// HostPidsMax is the host pids.max for a sandbox whose spec limits its
// tasks to limit. The guest's limit is enforced inside the Sentry (the
// kernel's task cap); the host cgroup also holds the Sentry's own
// threads and, for each guest thread, a tracer thread and a stub thread,
// so its limit is a generous multiple that only stops a runaway Sentry.
// A limit <= 0 means none (0 is returned: leave pids.max alone).
func HostPidsMax(limit int64) int64 {
	if limit <= 0 || limit > (math.MaxInt64-256)/4 {
		return 0
	}
	return 4*limit + 256
}

// SharesToWeight converts cgroup v1 cpu.shares (2..262144, default 1024)
// to cgroup v2 cpu.weight (1..10000, default 100) with the conversion
// crun and runc (1.3.2 and later) document: the log-quadratic curve
// through (2, 1), (1024, 100) and (262144, 10000),
//
//	weight = 10^((log2(shares)^2 + 125*log2(shares)) / 612 - 7/34)
//
// rounded to the nearest integer. 0 (unset) converts to 0.
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	if shares <= 2 {
		return 1
	}
	if shares >= 262144 {
		return 10000
	}
	l := math.Log2(float64(shares))
	w := math.Pow(10, (l*l+125*l)/612-7.0/34)
	return uint64(min(max(math.Round(w), 1), 10000))
}

// checkSupported fails, naming the field, for a resource the sandbox
// cannot honour in mode. Devices are checked by applyV1Devices; in v2
// mode they are not applied on the host (see there).
func checkSupported(mode Mode, res *specs.LinuxResources) error {
	if res == nil {
		return nil
	}
	unsupported := func(field string) error {
		return fmt.Errorf("linux.resources.%s is not supported by runsc", field)
	}
	if b := res.BlockIO; b != nil {
		// docker sends a weight of 0 when none is set.
		if b.Weight != nil && *b.Weight != 0 || b.LeafWeight != nil && *b.LeafWeight != 0 || len(b.WeightDevice) > 0 ||
			len(b.ThrottleReadBpsDevice) > 0 || len(b.ThrottleWriteBpsDevice) > 0 ||
			len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0 {
			return unsupported("blockIO")
		}
	}
	if len(res.HugepageLimits) > 0 {
		return unsupported("hugepageLimits")
	}
	if n := res.Network; n != nil && (n.ClassID != nil || len(n.Priorities) > 0) {
		return unsupported("network")
	}
	if len(res.Rdma) > 0 {
		return unsupported("rdma")
	}
	if len(res.Unified) > 0 {
		return unsupported("unified")
	}
	if m := res.Memory; m != nil && mode == V2 {
		if m.Swappiness != nil && int64(*m.Swappiness) != -1 {
			return fmt.Errorf("linux.resources.memory.swappiness is not supported with cgroup v2")
		}
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			return fmt.Errorf("linux.resources.memory.disableOOMKiller is not supported with cgroup v2")
		}
		if m.KernelTCP != nil {
			return fmt.Errorf("linux.resources.memory.kernelTCP is not supported with cgroup v2")
		}
	}
	if c := res.CPU; c != nil {
		if mode == V2 && (c.RealtimeRuntime != nil || c.RealtimePeriod != nil) {
			return fmt.Errorf("linux.resources.cpu.realtimeRuntime/realtimePeriod are not supported with cgroup v2")
		}
		if c.Idle != nil && *c.Idle != 0 {
			return unsupported("cpu.idle")
		}
	}
	return nil
}

// dirFor returns the cgroup's directory in the hierarchy of controller
// ctrl: the v1 hierarchy carrying it, or in V2 mode the unified one.
// It returns "" if there is none.
func (c *Cgroup) dirFor(ctrl string) string {
	for _, d := range c.dirs {
		if (c.mode == V2 && d.h.v2) || (!d.h.v2 && d.h.has(ctrl)) {
			return d.host
		}
	}
	return ""
}

// apply writes res's limits.
func (c *Cgroup) apply(res *specs.LinuxResources) error {
	if res == nil {
		return nil
	}
	if c.mode == V2 {
		return c.applyV2(res)
	}
	return c.applyV1(res)
}

// need returns the directory of controller ctrl for field, or an error
// naming the field if the host lacks the controller.
func (c *Cgroup) need(ctrl, field string) (string, error) {
	if d := c.dirFor(ctrl); d != "" {
		return d, nil
	}
	return "", fmt.Errorf("linux.resources.%s: the host has no %s cgroup controller", field, ctrl)
}

// limitString formats a limit in bytes or pids, -1 being unlimited as
// v1 writes it ("-1") or v2 ("max").
func limitString(v int64, v2 bool) (string, error) {
	if v == -1 {
		if v2 {
			return "max", nil
		}
		return "-1", nil
	}
	if v < 0 {
		return "", fmt.Errorf("negative limit %d", v)
	}
	return strconv.FormatInt(v, 10), nil
}

// writeLimit writes limit v (see limitString) to dir/file; field names
// the spec field in errors.
func writeLimit(dir, file, field string, v int64, v2 bool) error {
	s, err := limitString(v, v2)
	if err != nil {
		return fmt.Errorf("linux.resources.%s: %w", field, err)
	}
	if err := writeFile(dir, file, s); err != nil {
		return fmt.Errorf("linux.resources.%s: %w", field, err)
	}
	return nil
}

// set reports whether an optional spec limit is given (nil and 0 mean
// unset, as runc treats them).
func set(p *int64) bool { return p != nil && *p != 0 }

// applyV1 writes res to the v1 hierarchies.
func (c *Cgroup) applyV1(res *specs.LinuxResources) error {
	if m := res.Memory; m != nil {
		if set(m.Limit) || set(m.Swap) || set(m.Reservation) || m.Swappiness != nil || m.DisableOOMKiller != nil || set(m.KernelTCP) {
			dir, err := c.need("memory", "memory")
			if err != nil {
				return err
			}
			if err := applyV1Memory(dir, m); err != nil {
				return err
			}
		}
	}
	if p := res.Pids; p != nil && set(p.Limit) {
		dir, err := c.need("pids", "pids.limit")
		if err != nil {
			return err
		}
		limit := *p.Limit
		if limit > 0 {
			limit = HostPidsMax(limit)
		}
		if limit != 0 {
			if err := writeLimit(dir, "pids.max", "pids.limit", limit, true); err != nil {
				return err
			}
		}
	}
	if cpu := res.CPU; cpu != nil {
		if cpu.Shares != nil || set(cpu.Quota) || cpu.Period != nil || cpu.Burst != nil || cpu.RealtimeRuntime != nil || cpu.RealtimePeriod != nil {
			dir, err := c.need("cpu", "cpu")
			if err != nil {
				return err
			}
			if err := applyV1CPU(dir, cpu); err != nil {
				return err
			}
		}
		if err := c.applyCpuset(cpu); err != nil {
			return err
		}
	}
	if len(res.Devices) > 0 {
		if err := c.applyV1Devices(res.Devices); err != nil {
			return err
		}
	}
	return nil
}

// applyV1Devices writes the device rules, in order, to the v1 devices
// controller: the host kernel then refuses the sandbox's processes (the
// gofer included) an open of any host device node the rules deny. The
// guest never reaches a host device anyway (the Sentry serves its /dev),
// so this is defence in depth, and what runc does. cgroup v2 has no
// devices files (the rules are an eBPF program), and runsc installs none:
// under v2 the rules hold only inside the sandbox.
func (c *Cgroup) applyV1Devices(rules []specs.LinuxDeviceCgroup) error {
	lines := make([]struct{ file, rule string }, 0, len(rules))
	for i, r := range rules {
		rule, err := deviceRule(r)
		if err != nil {
			return fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		lines = append(lines, struct{ file, rule string }{file, rule})
	}
	dir := c.dirFor("devices")
	if dir == "" {
		// A v1 host without the devices controller mounted: nothing
		// can enforce the rules on the host, as under v2.
		return nil
	}
	for i, l := range lines {
		if err := writeFile(dir, l.file, l.rule); err != nil {
			return fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
	}
	return nil
}

// deviceRule formats a device cgroup rule as devices.allow/deny take it:
// "TYPE MAJOR:MINOR ACCESS", "a" for all types, "*" for any number.
func deviceRule(r specs.LinuxDeviceCgroup) (string, error) {
	typ := r.Type
	switch typ {
	case "":
		typ = "a"
	case "a", "b", "c":
	default:
		return "", fmt.Errorf("type %q is not a, b or c", r.Type)
	}
	number := func(p *int64) (string, error) {
		switch {
		case p == nil || *p == -1:
			return "*", nil
		case *p < 0 || *p > 1<<32-1:
			return "", fmt.Errorf("device number %d is out of range", *p)
		}
		return strconv.FormatInt(*p, 10), nil
	}
	major, err := number(r.Major)
	if err != nil {
		return "", err
	}
	minor, err := number(r.Minor)
	if err != nil {
		return "", err
	}
	access := r.Access
	if access == "" {
		access = "rwm"
	}
	for _, ch := range access {
		if ch != 'r' && ch != 'w' && ch != 'm' {
			return "", fmt.Errorf("access %q is not made of r, w and m", r.Access)
		}
	}
	if typ == "a" {
		// The kernel takes "a" alone; it means every device and access.
		return "a", nil
	}
	return fmt.Sprintf("%s %s:%s %s", typ, major, minor, access), nil
}

// applyV1Memory writes the memory controller's files.
func applyV1Memory(dir string, m *specs.LinuxMemory) error {
	// memory.memsw.limit_in_bytes (memory+swap, which is what the spec's
	// swap means) must stay >= memory.limit_in_bytes: write them in the
	// order that keeps it so, trying the other order if the first fails.
	// Without swap accounting (no memsw file) a swap limit is ignored.
	var writes []func() error
	if set(m.Limit) {
		writes = append(writes, func() error { return writeLimit(dir, "memory.limit_in_bytes", "memory.limit", *m.Limit, false) })
	}
	if set(m.Swap) && fileExists(dir, "memory.memsw.limit_in_bytes") {
		writes = append(writes, func() error {
			return writeLimit(dir, "memory.memsw.limit_in_bytes", "memory.swap", *m.Swap, false)
		})
	}
	if err := writeInOrder(writes); err != nil {
		return err
	}
	if set(m.Reservation) {
		if err := writeLimit(dir, "memory.soft_limit_in_bytes", "memory.reservation", *m.Reservation, false); err != nil {
			return err
		}
	}
	if m.Swappiness != nil && *m.Swappiness <= 100 {
		if err := writeFile(dir, "memory.swappiness", strconv.FormatUint(*m.Swappiness, 10)); err != nil {
			return fmt.Errorf("linux.resources.memory.swappiness: %w", err)
		}
	} else if m.Swappiness != nil && int64(*m.Swappiness) != -1 {
		return fmt.Errorf("linux.resources.memory.swappiness: %d is not in 0..100", *m.Swappiness)
	}
	if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
		if err := writeFile(dir, "memory.oom_control", "1"); err != nil {
			return fmt.Errorf("linux.resources.memory.disableOOMKiller: %w", err)
		}
	}
	if set(m.KernelTCP) {
		if err := writeLimit(dir, "memory.kmem.tcp.limit_in_bytes", "memory.kernelTCP", *m.KernelTCP, false); err != nil {
			return err
		}
	}
	return nil
}

// writeInOrder runs up to two writes in order, and if that fails, in the
// reverse order.
func writeInOrder(writes []func() error) error {
	var err error
	for _, w := range writes {
		if err = w(); err != nil {
			break
		}
	}
	if err == nil || len(writes) < 2 {
		return err
	}
	for i := len(writes) - 1; i >= 0; i-- {
		if err := writes[i](); err != nil {
			return err
		}
	}
	return nil
}

// applyV1CPU writes the cpu controller's files.
func applyV1CPU(dir string, cpu *specs.LinuxCPU) error {
	if cpu.Shares != nil && *cpu.Shares != 0 {
		if err := writeFile(dir, "cpu.shares", strconv.FormatUint(*cpu.Shares, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.shares: %w", err)
		}
	}
	if cpu.Period != nil && *cpu.Period != 0 {
		if err := writeFile(dir, "cpu.cfs_period_us", strconv.FormatUint(*cpu.Period, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.period: %w", err)
		}
	}
	if set(cpu.Quota) {
		if err := writeLimit(dir, "cpu.cfs_quota_us", "cpu.quota", *cpu.Quota, false); err != nil {
			return err
		}
	}
	if cpu.Burst != nil {
		if err := writeFile(dir, "cpu.cfs_burst_us", strconv.FormatUint(*cpu.Burst, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.burst: %w", err)
		}
	}
	// The realtime period must admit the runtime: period first.
	if cpu.RealtimePeriod != nil && *cpu.RealtimePeriod != 0 {
		if err := writeFile(dir, "cpu.rt_period_us", strconv.FormatUint(*cpu.RealtimePeriod, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.realtimePeriod: %w", err)
		}
	}
	if cpu.RealtimeRuntime != nil && *cpu.RealtimeRuntime != 0 {
		if err := writeFile(dir, "cpu.rt_runtime_us", strconv.FormatInt(*cpu.RealtimeRuntime, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.realtimeRuntime: %w", err)
		}
	}
	return nil
}

// applyCpuset writes cpuset.cpus and cpuset.mems (both layouts).
func (c *Cgroup) applyCpuset(cpu *specs.LinuxCPU) error {
	if cpu.Cpus == "" && cpu.Mems == "" {
		return nil
	}
	dir, err := c.need("cpuset", "cpu.cpus")
	if err != nil {
		return err
	}
	if cpu.Cpus != "" {
		if err := writeFile(dir, "cpuset.cpus", cpu.Cpus); err != nil {
			return fmt.Errorf("linux.resources.cpu.cpus: %w", err)
		}
	}
	if cpu.Mems != "" {
		if err := writeFile(dir, "cpuset.mems", cpu.Mems); err != nil {
			return fmt.Errorf("linux.resources.cpu.mems: %w", err)
		}
	}
	return nil
}

// SwapV2 converts the spec's swap limit (memory+swap, as in v1) to
// cgroup v2's memory.swap.max (swap alone), given the memory limit; -1
// means unlimited and "leave unset" is reported by ok false.
func SwapV2(swap, memory int64) (v int64, ok bool, err error) {
	switch {
	case swap == 0 && memory == -1:
		return -1, true, nil // both unlimited
	case swap == 0:
		return 0, false, nil
	case swap == -1:
		return -1, true, nil
	case memory == 0 || memory == -1:
		return 0, false, fmt.Errorf("linux.resources.memory.swap: a swap limit needs a memory limit")
	case swap < memory:
		return 0, false, fmt.Errorf("linux.resources.memory.swap: %d is below memory.limit %d (swap is memory+swap)", swap, memory)
	}
	return swap - memory, true, nil
}

// applyV2 writes res to the unified hierarchy.
func (c *Cgroup) applyV2(res *specs.LinuxResources) error {
	dir := c.dirs[0].host
	need := func(file, field string) error {
		if !fileExists(dir, file) {
			return fmt.Errorf("linux.resources.%s: the host's cgroup has no %s (controller not available)", field, file)
		}
		return nil
	}
	if m := res.Memory; m != nil {
		if set(m.Limit) {
			if err := need("memory.max", "memory.limit"); err != nil {
				return err
			}
			if err := writeLimit(dir, "memory.max", "memory.limit", *m.Limit, true); err != nil {
				return err
			}
		}
		var limit, swap int64
		if m.Limit != nil {
			limit = *m.Limit
		}
		if m.Swap != nil {
			swap = *m.Swap
		}
		sw, ok, err := SwapV2(swap, limit)
		if err != nil {
			return err
		}
		// Without swap accounting there is no memory.swap.max: ignored.
		if ok && fileExists(dir, "memory.swap.max") {
			if err := writeLimit(dir, "memory.swap.max", "memory.swap", sw, true); err != nil {
				return err
			}
		}
		if set(m.Reservation) {
			if err := need("memory.low", "memory.reservation"); err != nil {
				return err
			}
			if err := writeLimit(dir, "memory.low", "memory.reservation", *m.Reservation, true); err != nil {
				return err
			}
		}
	}
	if p := res.Pids; p != nil && set(p.Limit) {
		if err := need("pids.max", "pids.limit"); err != nil {
			return err
		}
		limit := *p.Limit
		if limit > 0 {
			limit = HostPidsMax(limit)
		}
		if limit != 0 {
			if err := writeLimit(dir, "pids.max", "pids.limit", limit, true); err != nil {
				return err
			}
		}
	}
	if cpu := res.CPU; cpu != nil {
		if cpu.Shares != nil && *cpu.Shares != 0 {
			if err := need("cpu.weight", "cpu.shares"); err != nil {
				return err
			}
			if err := writeFile(dir, "cpu.weight", strconv.FormatUint(SharesToWeight(*cpu.Shares), 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.shares: %w", err)
			}
		}
		if set(cpu.Quota) || (cpu.Period != nil && *cpu.Period != 0) {
			if err := need("cpu.max", "cpu.quota"); err != nil {
				return err
			}
			quota := "max"
			if set(cpu.Quota) && *cpu.Quota > 0 {
				quota = strconv.FormatInt(*cpu.Quota, 10)
			}
			v := quota
			if cpu.Period != nil && *cpu.Period != 0 {
				v += " " + strconv.FormatUint(*cpu.Period, 10)
			}
			if err := writeFile(dir, "cpu.max", v); err != nil {
				return fmt.Errorf("linux.resources.cpu.quota/period: %w", err)
			}
		}
		if cpu.Burst != nil {
			if err := need("cpu.max.burst", "cpu.burst"); err != nil {
				return err
			}
			if err := writeFile(dir, "cpu.max.burst", strconv.FormatUint(*cpu.Burst, 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.burst: %w", err)
			}
		}
		if err := c.applyCpuset(cpu); err != nil {
			return err
		}
	}
	return nil
}
