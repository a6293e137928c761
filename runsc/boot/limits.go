package boot

import (
	"bytes"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/palisade-sandbox/palisade/runsc/cgroup"
	"github.com/palisade-sandbox/palisade/vfs/sys"
)

// ContainerLimits are a container's resource limits (the OCI spec's
// linux.resources) as the Sentry applies and shows them inside: the
// memory limit as /proc/meminfo's MemTotal and /sys/fs/cgroup/memory.max,
// the pids limit as the kernel's task cap and pids.max, the CPU quota
// and cpuset as the number of CPUs the guest sees, and all of them in
// /sys/fs/cgroup. The host cgroup (package runsc/cgroup) enforces the
// memory and CPU limits; see docs/cgroups.md. The zero value is "no
// limits".
type ContainerLimits struct {
	// MemoryLimit is linux.resources.memory.limit in bytes (0: none).
	MemoryLimit uint64
	// PidsLimit is linux.resources.pids.limit (0: none).
	PidsLimit int64
	// CPUQuota and CPUPeriod are linux.resources.cpu.quota and period
	// in microseconds (quota 0: none; period 0: the default 100000).
	CPUQuota  int64
	CPUPeriod uint64
	// CPUShares is linux.resources.cpu.shares (0: the default).
	CPUShares uint64
	// CPUs is linux.resources.cpu.cpus, a CPU list ("0-3,6"; "": all).
	CPUs string
}

// defaultCPUPeriod is the CFS period when the spec sets a quota alone.
const defaultCPUPeriod = 100000

// LimitsFromSpec returns the limits of res (nil: none). Unlimited (-1)
// and unset values are both "none".
func LimitsFromSpec(res *specs.LinuxResources) ContainerLimits {
	var l ContainerLimits
	if res == nil {
		return l
	}
	if m := res.Memory; m != nil && m.Limit != nil && *m.Limit > 0 {
		l.MemoryLimit = uint64(*m.Limit)
	}
	if p := res.Pids; p != nil && p.Limit != nil && *p.Limit > 0 {
		l.PidsLimit = *p.Limit
	}
	if c := res.CPU; c != nil {
		if c.Quota != nil && *c.Quota > 0 {
			l.CPUQuota = *c.Quota
		}
		if c.Period != nil {
			l.CPUPeriod = *c.Period
		}
		if c.Shares != nil {
			l.CPUShares = *c.Shares
		}
		l.CPUs = c.Cpus
	}
	return l
}

// period returns the CFS period in effect.
func (l ContainerLimits) period() uint64 {
	if l.CPUPeriod == 0 {
		return defaultCPUPeriod
	}
	return l.CPUPeriod
}

// NumCPU returns how many CPUs the guest sees given the host's count:
// the fewest of host, the CPUs of the cpuset, and the quota rounded up
// to whole CPUs; at least 1.
func (l ContainerLimits) NumCPU(host int) int {
	n := max(host, 1)
	if l.CPUs != "" {
		if c := countCPUList(l.CPUs); c > 0 {
			n = min(n, c)
		}
	}
	if l.CPUQuota > 0 {
		p := l.period()
		q := uint64(l.CPUQuota) / p
		if uint64(l.CPUQuota)%p != 0 {
			q++
		}
		if q < uint64(n) {
			n = int(q)
		}
	}
	return max(n, 1)
}

// countCPUList counts the CPUs of a Linux CPU list ("0-3,6"), or returns
// 0 if it is malformed.
func countCPUList(s string) int {
	n := 0
	for _, r := range strings.Split(strings.TrimSpace(s), ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return 0
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
				return 0
			}
		}
		n += int(b - a + 1)
	}
	return n
}

// MemTotal returns the memory the guest sees, given the host's RAM: the
// smaller of the two.
func (l ContainerLimits) MemTotal(hostRAM uint64) uint64 {
	if l.MemoryLimit != 0 && l.MemoryLimit < hostRAM {
		return l.MemoryLimit
	}
	return hostRAM
}

// MaxTasks returns the kernel's task cap given --max-tasks: the smaller
// of it and the pids limit, so that clone fails with EAGAIN at the
// container's limit.
func (l ContainerLimits) MaxTasks(maxTasks int) int {
	if l.PidsLimit > 0 && l.PidsLimit < int64(maxTasks) {
		return int(l.PidsLimit)
	}
	return maxTasks
}

// sysOptions returns the sysfs options showing l, for a host with
// hostCPUs CPUs and hostRAM bytes; usage and tasks report the current
// memory use and task count.
func (l ContainerLimits) sysOptions(hostCPUs int, hostRAM uint64, usage func() uint64, tasks func() uint64) sys.Options {
	return sys.Options{
		NumCPU:      l.NumCPU(hostCPUs),
		MemoryMax:   l.MemTotal(hostRAM),
		MemoryUsage: usage,
		PidsMax:     l.PidsLimit,
		PidsCurrent: tasks,
		CPUQuota:    l.CPUQuota,
		CPUPeriod:   l.period(),
		CPUWeight:   cgroup.SharesToWeight(l.CPUShares),
	}
}

// limitCPUInfo returns the host's /proc/cpuinfo with only its first n
// processors (procfs counts processors in it).
func limitCPUInfo(cpuinfo []byte, n int) []byte {
	blocks := bytes.SplitAfter(cpuinfo, []byte("\n\n"))
	var out []byte
	seen := 0
	for _, b := range blocks {
		if bytes.HasPrefix(b, []byte("processor")) {
			if seen == n {
				break
			}
			seen++
		}
		out = append(out, b...)
	}
	return out
}
