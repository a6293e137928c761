package proc

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// Fixed values of /proc/sys. They describe the Sentry's own limits.
const (
	pidMax     = 1 << 22
	ngroupsMax = 65536
	capLastCap = 40
	nrOpen     = 1 << 20
	// pipeMaxSize is the largest pipe capacity F_SETPIPE_SZ accepts
	// without CAP_SYS_RESOURCE (Linux's default).
	pipeMaxSize = 1 << 20
)

// kernelCmdline is /proc/cmdline: a fixed command line, the same in every
// sandbox, that reveals nothing of the host's.
const kernelCmdline = "BOOT_IMAGE=/boot/vmlinuz-palisade ro console=ttyS0 quiet\n"

// newRoot builds /proc.
func (fs *filesystem) newRoot() *dirNode {
	file := func(name string, gen func(context.Context) ([]byte, error)) staticEntry {
		return staticEntry{name: name, mode: unix.S_IFREG | 0o444, make: func(ino uint64) vfs.Inode {
			return fs.newFile(ino, 0o444, nil, gen)
		}}
	}
	link := func(name string, target func(context.Context) (string, error)) staticEntry {
		return staticEntry{name: name, mode: unix.S_IFLNK | 0o777, make: func(ino uint64) vfs.Inode {
			return fs.newSymlink(ino, nil, target)
		}}
	}
	static := []staticEntry{
		link("self", fs.selfTarget),
		link("thread-self", fs.threadSelfTarget),
		file("cmdline", staticFile(kernelCmdline)),
		file("cpuinfo", fs.cpuinfo),
		file("filesystems", staticFile(filesystemsFile())),
		file("loadavg", fs.loadavg),
		file("meminfo", fs.meminfo),
		link("mounts", func(context.Context) (string, error) { return "self/mounts", nil }),
		link("net", func(context.Context) (string, error) { return "self/net", nil }),
		file("stat", fs.stat),
		fs.sysDir("sys", 1),
		file("uptime", fs.uptime),
		file("version", fs.version),
	}
	static = append(static, fs.extraDirs(1)...)
	return fs.newDir(1, 1, "", 0o555, nil, static, pidsDir{fs})
}

// selfTarget is the target of /proc/self: the caller's PID.
func (fs *filesystem) selfTarget(ctx context.Context) (string, error) {
	pid := fs.k.CallerPID(ctx)
	if pid == 0 {
		return "", unix.ENOENT
	}
	return strconv.Itoa(int(pid)), nil
}

// threadSelfTarget is the target of /proc/thread-self.
func (fs *filesystem) threadSelfTarget(ctx context.Context) (string, error) {
	pid, tid := fs.k.CallerPID(ctx), fs.k.CallerTID(ctx)
	if pid == 0 || tid == 0 {
		return "", unix.ENOENT
	}
	return fmt.Sprintf("%d/task/%d", pid, tid), nil
}

// pidsDir provides the PID entries of /proc.
type pidsDir struct{ fs *filesystem }

// rootDynBase is the position of the first PID entry: one past the
// root's fixed entries (see newRoot). A PID's position is rootDynBase+PID.
func (p pidsDir) base() int64 { return p.fs.root.dynBase() }

func (p pidsDir) list(ctx context.Context) []dynamicEntry {
	pids := p.fs.k.ProcessIDs()
	out := make([]dynamicEntry, 0, len(pids))
	for _, pid := range pids {
		out = append(out, dynamicEntry{name: strconv.Itoa(int(pid)), typ: unix.DT_DIR, ino: inoOf(pid, 0, ""), pos: p.base() + int64(pid)})
	}
	return out
}

func (p pidsDir) lookup(ctx context.Context, name string) (vfs.Inode, error) {
	pid, ok := parseID(name)
	if !ok {
		return nil, unix.ENOENT
	}
	proc := p.fs.k.Process(pid)
	if proc == nil {
		return nil, unix.ENOENT
	}
	return p.fs.newPIDDir(&taskRef{fs: p.fs, pid: pid, start: proc.StartTime()}), nil
}

func (p pidsDir) valid(ctx context.Context, name string, child vfs.Inode) bool {
	d, ok := child.(*dirNode)
	return ok && d.task != nil && d.task.process() != nil
}

// parseID parses a decimal PID, TID or descriptor number as Linux's
// procfs accepts it: digits only, no leading zero, no sign.
func parseID(name string) (int32, bool) {
	if name == "" || len(name) > 10 || (name[0] == '0' && len(name) > 1) {
		return 0, false
	}
	n, err := strconv.ParseInt(name, 10, 32)
	if err != nil || n < 0 {
		return 0, false
	}
	for _, c := range name {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	return int32(n), true
}

// numCPUs counts the processors in cpuinfo (at least one).
func (fs *filesystem) numCPUs() int {
	n := 0
	for _, line := range bytes.Split(fs.opts.CPUInfo, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("processor")) {
			n++
		}
	}
	return max(n, 1)
}

func (fs *filesystem) cpuinfo(context.Context) ([]byte, error) {
	return bytes.Clone(fs.opts.CPUInfo), nil
}

func (fs *filesystem) loadavg(context.Context) ([]byte, error) {
	return fmt.Appendf(nil, "0.00 0.00 0.00 1/%d %d\n", fs.k.RunningThreads(), fs.k.LastPID()), nil
}

func (fs *filesystem) meminfo(context.Context) ([]byte, error) {
	total := fs.opts.MemTotal
	used := fs.k.MemoryUsage()
	free := uint64(0)
	if used < total {
		free = total - used
	}
	var b bytes.Buffer
	kb := func(name string, v uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", name+":", v/1024) }
	kb("MemTotal", total)
	kb("MemFree", free)
	kb("MemAvailable", free)
	kb("Buffers", 0)
	kb("Cached", 0)
	kb("SwapCached", 0)
	kb("Active", used)
	kb("Inactive", 0)
	kb("Active(anon)", used)
	kb("Inactive(anon)", 0)
	kb("Active(file)", 0)
	kb("Inactive(file)", 0)
	kb("Unevictable", 0)
	kb("Mlocked", 0)
	kb("SwapTotal", 0)
	kb("SwapFree", 0)
	kb("Dirty", 0)
	kb("Writeback", 0)
	kb("AnonPages", used)
	kb("Mapped", 0)
	kb("Shmem", 0)
	kb("Slab", 0)
	kb("SReclaimable", 0)
	kb("SUnreclaim", 0)
	kb("KernelStack", 0)
	kb("PageTables", 0)
	kb("CommitLimit", total)
	kb("Committed_AS", used)
	kb("VmallocTotal", 0)
	kb("VmallocUsed", 0)
	kb("VmallocChunk", 0)
	// The huge page pool (empty: MAP_HUGETLB is a hint) is counted in
	// pages, without a unit.
	for _, name := range []string{"HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"} {
		fmt.Fprintf(&b, "%-16s%8d\n", name+":", 0)
	}
	kb("Hugepagesize", 2048*1024)
	kb("Hugetlb", 0)
	return b.Bytes(), nil
}

func (fs *filesystem) stat(context.Context) ([]byte, error) {
	var b bytes.Buffer
	zeros := " 0 0 0 0 0 0 0 0 0 0\n"
	b.WriteString("cpu " + zeros)
	for i := range fs.numCPUs() {
		fmt.Fprintf(&b, "cpu%d%s", i, zeros)
	}
	b.WriteString("intr 0\nctxt 0\n")
	fmt.Fprintf(&b, "btime %d\n", fs.k.BootTime().Unix())
	fmt.Fprintf(&b, "processes %d\n", fs.k.LastPID())
	fmt.Fprintf(&b, "procs_running %d\n", fs.k.RunningThreads())
	b.WriteString("procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n")
	return b.Bytes(), nil
}

func (fs *filesystem) uptime(context.Context) ([]byte, error) {
	up := time.Since(fs.k.BootTime()).Seconds()
	return fmt.Appendf(nil, "%.2f %.2f\n", up, 0.0), nil
}

func (fs *filesystem) version(context.Context) ([]byte, error) {
	u := fs.k.UTS()
	return fmt.Appendf(nil, "%s version %s (palisade@palisade) %s\n", u.Sysname, u.Release, u.Version), nil
}

// sysDir builds /proc/sys: a few read-only constants and names.
func (fs *filesystem) sysDir(name string, parentIno uint64) staticEntry {
	uts := func(field func(UTS) string) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) { return []byte(field(fs.k.UTS()) + "\n"), nil }
	}
	num := func(n uint64) func(context.Context) ([]byte, error) {
		return staticFile(strconv.FormatUint(n, 10) + "\n")
	}
	tree := map[string][]fileSpec{
		"sys/": {{name: "fs/"}, {name: "kernel/"}, {name: "net/"}, {name: "vm/"}},
		"sys/fs/": {
			{name: "file-max", gen: num(1<<63 - 1)},
			{name: "nr_open", gen: num(nrOpen)},
			{name: "pipe-max-size", gen: num(pipeMaxSize)},
		},
		"sys/kernel/": {
			{name: "cap_last_cap", gen: num(capLastCap)},
			{name: "domainname", gen: uts(func(u UTS) string { return u.Domainname })},
			{name: "hostname", gen: uts(func(u UTS) string { return u.Nodename })},
			{name: "ngroups_max", gen: num(ngroupsMax)},
			{name: "osrelease", gen: uts(func(u UTS) string { return u.Release })},
			{name: "ostype", gen: uts(func(u UTS) string { return u.Sysname })},
			{name: "pid_max", gen: num(pidMax)},
			{name: "random/"},
			{name: "shmall", gen: num(1<<64 - 1<<24 - 1)},
			{name: "shmmax", gen: num(1<<64 - 1<<24 - 1)},
			{name: "version", gen: uts(func(u UTS) string { return u.Version })},
			{name: "yama/"},
		},
		"sys/kernel/yama/": {
			// Restricted ptrace: only descendants may be traced, which is
			// what the Sentry's ptrace allows.
			{name: "ptrace_scope", gen: num(1)},
		},
		"sys/kernel/random/": {
			{name: "boot_id", gen: staticFile(fs.opts.BootID + "\n")},
			{name: "uuid", gen: func(context.Context) ([]byte, error) { return []byte(newUUID() + "\n"), nil }},
		},
		"sys/net/":      {{name: "core/"}},
		"sys/net/core/": {{name: "somaxconn", gen: num(4096)}},
		"sys/vm/": {
			{name: "max_map_count", gen: num(65530)},
			{name: "mmap_min_addr", gen: num(65536)},
			{name: "overcommit_memory", gen: num(0)},
		},
	}
	fs.addFiles(tree, "sys/")
	return fs.fixedDirEntry(name, "", parentIno, tree)
}

// addFiles adds the Options.Files under prefix to tree, with their
// directories, replacing files of the same name.
func (fs *filesystem) addFiles(tree map[string][]fileSpec, prefix string) {
	for _, f := range fs.opts.Files {
		if !strings.HasPrefix(f.Path, prefix) {
			continue
		}
		dir, name := "", f.Path
		if i := strings.LastIndex(f.Path, "/"); i >= 0 {
			dir, name = f.Path[:i+1], f.Path[i+1:]
		}
		// Make the parents, each listed in its own parent.
		for d := dir; d != prefix && d != ""; {
			i := strings.LastIndex(strings.TrimSuffix(d, "/"), "/")
			parent, base := d[:i+1], d[i+1:]
			found := false
			for _, e := range tree[parent] {
				found = found || e.name == base
			}
			if !found {
				tree[parent] = append(tree[parent], fileSpec{name: base})
			}
			d = parent
		}
		spec := fileSpec{name: name, gen: f.Read, write: f.Write}
		list := tree[dir]
		replaced := false
		for i := range list {
			if list[i].name == name {
				list[i], replaced = spec, true
			}
		}
		if !replaced {
			list = append(list, spec)
		}
		tree[dir] = list
	}
}

// extraDirs returns the top-level directories of /proc, besides sys,
// that Options.Files name (such as sysvipc).
func (fs *filesystem) extraDirs(parentIno uint64) []staticEntry {
	var out []staticEntry
	seen := map[string]bool{"sys": true}
	for _, f := range fs.opts.Files {
		top, _, ok := strings.Cut(f.Path, "/")
		if !ok || seen[top] {
			continue
		}
		seen[top] = true
		tree := map[string][]fileSpec{}
		fs.addFiles(tree, top+"/")
		out = append(out, fs.fixedDirEntry(top, "", parentIno, tree))
	}
	return out
}

// fileSpec is a file of a fixed tree: a directory if name ends in "/".
type fileSpec struct {
	name  string
	gen   func(context.Context) ([]byte, error)
	write func(context.Context, []byte) error
}

// fixedDirEntry returns the entry for the fixed directory prefix+name+"/"
// of tree, whose parent has inode number parentIno.
func (fs *filesystem) fixedDirEntry(name, prefix string, parentIno uint64, tree map[string][]fileSpec) staticEntry {
	path := prefix + name + "/"
	return staticEntry{name: name, mode: unix.S_IFDIR | 0o555, make: func(ino uint64) vfs.Inode {
		var static []staticEntry
		for _, s := range tree[path] {
			if dn, ok := strings.CutSuffix(s.name, "/"); ok {
				static = append(static, fs.fixedDirEntry(dn, path, ino, tree))
				continue
			}
			gen, write := s.gen, s.write
			perm := uint32(0o444)
			if write != nil {
				perm = 0o644
			}
			static = append(static, staticEntry{name: s.name, mode: unix.S_IFREG | perm, make: func(ino uint64) vfs.Inode {
				f := fs.newFile(ino, perm, nil, gen)
				f.write = write
				return f
			}})
		}
		return fs.newDir(ino, parentIno, path, 0o555, nil, static, nil)
	}}
}

// newUUID returns a random (version 4) UUID as text.
func newUUID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

// FilesystemTypes are the filesystem types the sandbox has, in the order
// /proc/filesystems and sysfs(2) give them; none needs a block device.
var FilesystemTypes = []string{"sysfs", "tmpfs", "proc", "devtmpfs", "devpts", "9p", "overlay"}

// filesystemsFile is /proc/filesystems.
func filesystemsFile() string {
	var b strings.Builder
	for _, name := range FilesystemTypes {
		b.WriteString("nodev\t" + name + "\n")
	}
	return b.String()
}
