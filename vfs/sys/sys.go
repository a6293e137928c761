// Package sys implements a minimal, read-only sysfs: the files that
// nproc, glibc's sysconf, and the Go and Java runtimes read, with values
// describing the sandbox rather than the host.
//
// The tree is built once by New and never changes:
//
//	/sys/devices/system/cpu/{online,possible,present,kernel_max}
//	/sys/devices/system/cpu/cpuN/            (one per CPU; cpuN/online for N > 0)
//	/sys/devices/system/node/{online,possible}, node0/
//	/sys/kernel/mm/transparent_hugepage/{enabled,defrag,hpage_pmd_size}
//	/sys/fs/cgroup/{cgroup.controllers,memory.max,memory.current,cpu.max,cpu.weight,pids.max,pids.current,...}
//	/sys/class/net/IF -> ../../devices/virtual/net/IF/{address,mtu,flags,...,statistics/}
//	/sys/block/, /sys/bus/, /sys/dev/
//
// /sys/fs/cgroup is a read-only cgroup2-like view of the sandbox's
// limits: the sandbox is the root of its own hierarchy.
//
// Lock order: the filesystem has no locks; everything is immutable
// (memory.current is generated at each open).
package sys

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/synthetic"
)

// Name is the filesystem type name.
const Name = "sysfs"

// Options configure New.
type Options struct {
	// NumCPU is the number of processors the sandbox shows (at least 1).
	NumCPU int
	// MemoryMax is the sandbox's memory limit in bytes, shown as
	// /sys/fs/cgroup/memory.max (0: "max").
	MemoryMax uint64
	// MemoryUsage returns the bytes of memory in use, shown as
	// /sys/fs/cgroup/memory.current (nil: 0).
	MemoryUsage func() uint64
	// PidsMax is the sandbox's cap on tasks, shown as
	// /sys/fs/cgroup/pids.max (0: "max").
	PidsMax int64
	// PidsCurrent returns the number of tasks, shown as
	// /sys/fs/cgroup/pids.current (nil: 0).
	PidsCurrent func() uint64
	// CPUQuota and CPUPeriod are the CPU bandwidth limit in
	// microseconds, shown as /sys/fs/cgroup/cpu.max "QUOTA PERIOD"
	// (quota 0: "max"; period 0: 100000).
	CPUQuota  int64
	CPUPeriod uint64
	// CPUWeight is /sys/fs/cgroup/cpu.weight (0: the default, 100).
	CPUWeight uint64
	// NetInterfaces, if set, returns the network interfaces, shown in
	// /sys/class/net (net.go). The set is read once, by New.
	NetInterfaces func() []NetInterface
}

// filesystem is the sysfs instance.
type filesystem struct {
	// dev is the device number reported as st_dev. Immutable.
	dev uint64
	// lastIno numbers inodes while the tree is built.
	lastIno atomic.Uint64
	// created is every file's timestamp. Immutable.
	created unix.StatxTimestamp
}

var _ vfs.FilesystemImpl = (*filesystem)(nil)

// Name implements vfs.FilesystemImpl.Name.
func (fs *filesystem) Name() string { return Name }

// Release implements vfs.FilesystemImpl.Release.
func (fs *filesystem) Release(ctx context.Context) {}

// cpuRange formats the CPUs 0..n-1 as Linux's cpulist format.
func cpuRange(n int) string {
	if n <= 1 {
		return "0\n"
	}
	return fmt.Sprintf("0-%d\n", n-1)
}

// New returns a sysfs instance with one reference.
func New(ctx context.Context, opts Options) *vfs.Filesystem {
	n := opts.NumCPU
	if n < 1 {
		n = 1
	}
	t := time.Now()
	fs := &filesystem{dev: vfs.AnonDevice(), created: unix.StatxTimestamp{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())}}
	root := fs.newDir()
	cpu := root.mkdirAll("devices", "system", "cpu")
	cpu.addFile("online", cpuRange(n))
	cpu.addFile("possible", cpuRange(n))
	cpu.addFile("present", cpuRange(n))
	cpu.addFile("offline", "\n")
	cpu.addFile("kernel_max", "8191\n")
	for i := 0; i < n; i++ {
		c := cpu.mkdirAll(fmt.Sprintf("cpu%d", i))
		if i > 0 {
			c.addFile("online", "1\n")
		}
		topo := c.mkdirAll("topology")
		topo.addFile("core_id", fmt.Sprintf("%d\n", i))
		topo.addFile("physical_package_id", "0\n")
	}
	node := root.mkdirAll("devices", "system", "node")
	node.addFile("online", "0\n")
	node.addFile("possible", "0\n")
	node.mkdirAll("node0").addFile("cpulist", cpuRange(n))
	thp := root.mkdirAll("kernel", "mm", "transparent_hugepage")
	thp.addFile("enabled", "always madvise [never]\n")
	thp.addFile("defrag", "always defer defer+madvise madvise [never]\n")
	thp.addFile("shmem_enabled", "always within_size advise [never] deny force\n")
	thp.addFile("hpage_pmd_size", "2097152\n")
	fs.addCgroup(root.mkdirAll("fs", "cgroup"), opts)
	fs.addNet(root, opts.NetInterfaces)
	for _, p := range [][]string{{"block"}, {"bus"}, {"dev", "block"}, {"dev", "char"}, {"firmware"}, {"module"}, {"power"}} {
		root.mkdirAll(p...)
	}
	return vfs.NewFilesystem(fs, root)
}

// node is the part of every sysfs inode. Inodes live as long as the
// filesystem: reference counting frees nothing.
type node struct {
	fs *filesystem
	// ino and mode are immutable.
	ino  uint64
	mode uint32
}

var (
	_ vfs.Inode    = (*node)(nil)
	_ vfs.DirInode = (*dir)(nil)
)

// IncRef implements vfs.Inode.IncRef.
func (n *node) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (n *node) DecRef(ctx context.Context) {}

// Mode implements vfs.Inode.Mode.
func (n *node) Mode() uint32 { return n.mode }

// CheckPermissions implements vfs.Inode.CheckPermissions. Files are owned
// by root.
func (n *node) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	return vfs.GenericCheckPermissions(creds, ats, n.mode, 0, 0)
}

// Stat implements vfs.Inode.Stat.
func (n *node) Stat(ctx context.Context) (unix.Statx_t, error) {
	nlink := uint32(1)
	if n.mode&unix.S_IFMT == unix.S_IFDIR {
		nlink = 2
	}
	return unix.Statx_t{
		Mask: unix.STATX_BASIC_STATS, Blksize: 4096, Nlink: nlink, Mode: uint16(n.mode), Ino: n.ino,
		Atime: n.fs.created, Mtime: n.fs.created, Ctime: n.fs.created,
		Dev_major: unix.Major(n.fs.dev), Dev_minor: unix.Minor(n.fs.dev),
		Size: 4096,
	}, nil
}

// SetStat implements vfs.Inode.SetStat: sysfs attributes cannot change.
func (n *node) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
	return unix.EPERM
}

// Open implements vfs.Inode.Open.
func (n *node) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return nil, unix.ENXIO
}

// file is a read-only attribute with fixed contents.
type file struct {
	node
	// data is the contents. Immutable.
	data string
	// gen, if not nil, generates the contents at each open instead.
	// Immutable.
	gen func() string
}

// Open implements vfs.Inode.Open.
func (f *file) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	if opts.Flags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, unix.EACCES
	}
	data := f.data
	if f.gen != nil {
		data = f.gen()
	}
	return &fileFD{data: data}, nil
}

// fileFD is an open attribute file.
type fileFD struct {
	vfs.FileDescriptionDefaultImpl
	// data is the contents as of the open. Immutable.
	data string
}

// Read implements vfs.FileDescriptionImpl.Read.
func (fd *fileFD) Read(ctx context.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	if off < 0 {
		return 0, unix.EINVAL
	}
	if off >= int64(len(fd.data)) {
		return 0, nil
	}
	return copy(dst, fd.data[off:]), nil
}

// Seek implements vfs.FileDescriptionImpl.Seek.
func (fd *fileFD) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	return vfs.GenericSeek(cur, off, whence, int64(len(fd.data)))
}

// dir is a directory with fixed children.
type dir struct {
	synthetic.ReadOnlyDirDefaults
	node
	synthetic.StaticDir
}

func (fs *filesystem) newDir() *dir {
	return &dir{node: node{fs: fs, ino: fs.lastIno.Add(1), mode: unix.S_IFDIR | 0o755}}
}

// mkdirAll returns the directory at the path of names below d, creating
// what is missing. Only while the tree is built.
func (d *dir) mkdirAll(names ...string) *dir {
	for _, name := range names {
		c, ok := d.Child(name).(*dir)
		if !ok {
			c = d.fs.newDir()
			d.Add(name, c)
		}
		d = c
	}
	return d
}

// addFile adds a read-only attribute. Only while the tree is built.
func (d *dir) addFile(name, data string) {
	d.Add(name, &file{node: node{fs: d.fs, ino: d.fs.lastIno.Add(1), mode: unix.S_IFREG | 0o444}, data: data})
}

// addGenFile adds a read-only attribute generated at each open. Only
// while the tree is built.
func (d *dir) addGenFile(name string, gen func() string) {
	d.Add(name, &file{node: node{fs: d.fs, ino: d.fs.lastIno.Add(1), mode: unix.S_IFREG | 0o444}, gen: gen})
}

// addCgroup fills /sys/fs/cgroup: the sandbox as the root of a cgroup2
// hierarchy with the cpu, memory and pids controllers, showing the
// container's limits (those the Sentry enforces or the host cgroup
// does) and the sandbox's current use.
func (fs *filesystem) addCgroup(cg *dir, opts Options) {
	memMax := "max\n"
	if opts.MemoryMax != 0 {
		memMax = fmt.Sprintf("%d\n", opts.MemoryMax)
	}
	pidsMax := "max\n"
	if opts.PidsMax > 0 {
		pidsMax = fmt.Sprintf("%d\n", opts.PidsMax)
	}
	period := opts.CPUPeriod
	if period == 0 {
		period = 100000
	}
	cpuMax := fmt.Sprintf("max %d\n", period)
	if opts.CPUQuota > 0 {
		cpuMax = fmt.Sprintf("%d %d\n", opts.CPUQuota, period)
	}
	weight := opts.CPUWeight
	if weight == 0 {
		weight = 100
	}
	cg.addFile("cgroup.controllers", "cpu memory pids\n")
	cg.addFile("cgroup.subtree_control", "\n")
	cg.addFile("cgroup.type", "domain\n")
	cg.addFile("cgroup.max.depth", "max\n")
	cg.addFile("cgroup.max.descendants", "max\n")
	cg.addFile("cpu.max", cpuMax)
	cg.addFile("cpu.weight", fmt.Sprintf("%d\n", weight))
	cg.addFile("memory.max", memMax)
	cg.addFile("memory.high", "max\n")
	cg.addFile("memory.low", "0\n")
	cg.addFile("memory.min", "0\n")
	cg.addFile("memory.swap.max", "0\n")
	cg.addFile("pids.max", pidsMax)
	cg.addGenFile("memory.current", counter(opts.MemoryUsage))
	cg.addGenFile("pids.current", counter(opts.PidsCurrent))
}

// counter returns a generator of a file showing f's value (0 if f is
// nil).
func counter(f func() uint64) func() string {
	return func() string {
		if f == nil {
			return "0\n"
		}
		return fmt.Sprintf("%d\n", f())
	}
}

// Open implements vfs.Inode.Open.
func (d *dir) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return &synthetic.DirFD{Dir: d}, nil
}

// IterDirents implements synthetic.Lister.
func (d *dir) IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error {
	return d.List(ctx, d.ino, d.ino, off, emit)
}
