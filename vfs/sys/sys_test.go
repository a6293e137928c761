package sys_test

import (
	"context"
	"io"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/sys"
)

// readAll reads path in a sysfs built with opts.
func readAll(t *testing.T, opts sys.Options, path string) string {
	t.Helper()
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	v := vfs.New()
	ns, err := v.NewMountNamespace(ctx, sys.New(ctx, opts), 0)
	if err != nil {
		t.Fatal(err)
	}
	root := ns.Root()
	defer root.DecRef(ctx)
	f, err := v.OpenAt(ctx, &vfs.PathOperation{Root: root, Start: root, Path: path}, vfs.OpenOptions{Flags: unix.O_RDONLY})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.DecRef(ctx)
	var out []byte
	buf := make([]byte, 64)
	for {
		n, err := f.Read(ctx, buf)
		out = append(out, buf[:n]...)
		if n == 0 || err == io.EOF {
			return string(out)
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
	}
}

func TestCgroupFilesShowTheLimits(t *testing.T) {
	tasks := uint64(3)
	limited := sys.Options{
		NumCPU: 2, MemoryMax: 64 << 20, MemoryUsage: func() uint64 { return 1 << 20 },
		PidsMax: 50, PidsCurrent: func() uint64 { return tasks }, CPUQuota: 150000, CPUPeriod: 100000, CPUWeight: 39,
	}
	for _, tc := range []struct {
		name string
		opts sys.Options
		path string
		want string
	}{
		{"limited", limited, "/fs/cgroup/memory.max", "67108864\n"},
		{"limited", limited, "/fs/cgroup/memory.current", "1048576\n"},
		{"limited", limited, "/fs/cgroup/pids.max", "50\n"},
		{"limited", limited, "/fs/cgroup/pids.current", "3\n"},
		{"limited", limited, "/fs/cgroup/cpu.max", "150000 100000\n"},
		{"limited", limited, "/fs/cgroup/cpu.weight", "39\n"},
		{"limited", limited, "/fs/cgroup/cgroup.controllers", "cpu memory pids\n"},
		{"limited", limited, "/devices/system/cpu/online", "0-1\n"},
		{"none", sys.Options{}, "/fs/cgroup/memory.max", "max\n"},
		{"none", sys.Options{}, "/fs/cgroup/pids.max", "max\n"},
		{"none", sys.Options{}, "/fs/cgroup/pids.current", "0\n"},
		{"none", sys.Options{}, "/fs/cgroup/cpu.max", "max 100000\n"},
		{"none", sys.Options{}, "/fs/cgroup/cpu.weight", "100\n"},
		{"none", sys.Options{NumCPU: 1}, "/devices/system/cpu/online", "0\n"},
	} {
		if got := readAll(t, tc.opts, tc.path); got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.name, tc.path, got, tc.want)
		}
	}
}
