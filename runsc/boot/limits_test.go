package boot

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptr[T any](v T) *T { return &v }

func TestLimitsFromSpec(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  *specs.LinuxResources
		want ContainerLimits
	}{
		{"none", nil, ContainerLimits{}},
		{"empty", &specs.LinuxResources{}, ContainerLimits{}},
		{"all", &specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: ptr[int64](64 << 20), Swap: ptr[int64](128 << 20)},
			Pids:   &specs.LinuxPids{Limit: ptr[int64](100)},
			CPU:    &specs.LinuxCPU{Quota: ptr[int64](150000), Period: ptr[uint64](100000), Shares: ptr[uint64](512), Cpus: "0-1"},
		}, ContainerLimits{MemoryLimit: 64 << 20, PidsLimit: 100, CPUQuota: 150000, CPUPeriod: 100000, CPUShares: 512, CPUs: "0-1"}},
		{"unlimited", &specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: ptr[int64](-1)},
			Pids:   &specs.LinuxPids{Limit: ptr[int64](-1)},
			CPU:    &specs.LinuxCPU{Quota: ptr[int64](-1)},
		}, ContainerLimits{}},
	} {
		if got := LimitsFromSpec(tc.res); got != tc.want {
			t.Errorf("%s: LimitsFromSpec = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestContainerLimitsNumCPU(t *testing.T) {
	for _, tc := range []struct {
		l    ContainerLimits
		host int
		want int
	}{
		{ContainerLimits{}, 8, 8},
		{ContainerLimits{CPUs: "0-3,6"}, 8, 5},
		{ContainerLimits{CPUs: "0-15"}, 8, 8},
		{ContainerLimits{CPUs: "garbage"}, 8, 8},
		{ContainerLimits{CPUQuota: 150000, CPUPeriod: 100000}, 8, 2}, // 1.5 CPUs round up
		{ContainerLimits{CPUQuota: 50000}, 8, 1},                     // default period
		{ContainerLimits{CPUQuota: 400000, CPUs: "0-2"}, 8, 3},
		{ContainerLimits{CPUQuota: 1 << 40, CPUPeriod: 1}, 8, 8},
		{ContainerLimits{}, 0, 1},
	} {
		if got := tc.l.NumCPU(tc.host); got != tc.want {
			t.Errorf("%+v.NumCPU(%d) = %d, want %d", tc.l, tc.host, got, tc.want)
		}
	}
}

func TestContainerLimitsMemTotalAndMaxTasks(t *testing.T) {
	if got := (ContainerLimits{MemoryLimit: 1 << 30}).MemTotal(8 << 30); got != 1<<30 {
		t.Errorf("MemTotal with a 1 GiB limit on 8 GiB = %d, want %d", got, 1<<30)
	}
	if got := (ContainerLimits{MemoryLimit: 16 << 30}).MemTotal(8 << 30); got != 8<<30 {
		t.Errorf("MemTotal with a limit above RAM = %d, want the RAM %d", got, 8<<30)
	}
	if got := (ContainerLimits{}).MemTotal(8 << 30); got != 8<<30 {
		t.Errorf("MemTotal with no limit = %d, want %d", got, 8<<30)
	}
	if got := (ContainerLimits{PidsLimit: 50}).MaxTasks(4096); got != 50 {
		t.Errorf("MaxTasks(4096) with pids 50 = %d, want 50", got)
	}
	if got := (ContainerLimits{PidsLimit: 50000}).MaxTasks(4096); got != 4096 {
		t.Errorf("MaxTasks(4096) with pids 50000 = %d, want 4096", got)
	}
}

func TestLimitCPUInfo(t *testing.T) {
	in := "processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\nmodel name\t: X\n\nprocessor\t: 2\nmodel name\t: X\n\n"
	got := string(limitCPUInfo([]byte(in), 2))
	if want := "processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\nmodel name\t: X\n\n"; got != want {
		t.Errorf("limitCPUInfo(3 CPUs, 2) = %q, want %q", got, want)
	}
	if got := string(limitCPUInfo([]byte(in), 8)); got != in {
		t.Errorf("limitCPUInfo(3 CPUs, 8) = %q, want all", got)
	}
	if n := strings.Count(string(limitCPUInfo([]byte(in), 1)), "processor"); n != 1 {
		t.Errorf("limitCPUInfo(3 CPUs, 1) has %d processors", n)
	}
}

func TestSysOptions(t *testing.T) {
	l := ContainerLimits{MemoryLimit: 64 << 20, PidsLimit: 10, CPUQuota: 50000, CPUShares: 1024, CPUs: "0"}
	o := l.sysOptions(4, 8<<30, nil, nil)
	if o.NumCPU != 1 || o.MemoryMax != 64<<20 || o.PidsMax != 10 || o.CPUQuota != 50000 || o.CPUPeriod != 100000 || o.CPUWeight != 100 {
		t.Errorf("sysOptions = %+v", o)
	}
}
