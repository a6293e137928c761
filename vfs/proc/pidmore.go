package proc

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// Namespace inode numbers of /proc/PID/ns. The sandbox has one namespace
// of each type, shared by all its processes; the numbers are those Linux
// gives its initial namespaces (PROC_*_INIT_INO), so they are the same in
// every sandbox.
var namespaces = []struct {
	name, typ string
	ino       uint64
}{
	{"cgroup", "cgroup", 0xEFFFFFFB},
	{"ipc", "ipc", 0xEFFFFFFF},
	{"mnt", "mnt", 0xF0000000},
	{"net", "net", 0xF0000098},
	{"pid", "pid", 0xEFFFFFFC},
	{"pid_for_children", "pid", 0xEFFFFFFC},
	{"time", "time", 0xEFFFFFFA},
	{"time_for_children", "time", 0xEFFFFFFA},
	{"user", "user", 0xEFFFFFFD},
	{"uts", "uts", 0xEFFFFFFE},
}

// nsEntry is /proc/PID/ns: a symlink per namespace whose target is
// "TYPE:[INODE]", as readlink shows Linux's nsfs links. The links cannot
// be opened (setns(2) is not supported).
func (fs *filesystem) nsEntry(ref *taskRef) staticEntry {
	return staticEntry{name: "ns", mode: unix.S_IFDIR | 0o511, make: func(ino uint64) vfs.Inode {
		var static []staticEntry
		for _, ns := range namespaces {
			target := fmt.Sprintf("%s:[%d]", ns.typ, ns.ino)
			static = append(static, staticEntry{name: ns.name, mode: unix.S_IFLNK | 0o777, make: func(ino uint64) vfs.Inode {
				return fs.newSymlink(ino, ref, func(context.Context) (string, error) {
					if !ref.alive() {
						return "", unix.ENOENT
					}
					return target, nil
				})
			}})
		}
		return fs.newDir(ino, inoOf(ref.pid, ref.tid, ""), "ns/", 0o511, ref, static, nil)
	}}
}

// ioFile is /proc/PID/io. The Sentry does not count I/O per task: every
// counter is 0.
func (fs *filesystem) ioFile(ctx context.Context, r *taskRef) ([]byte, error) {
	if r.process() == nil {
		return nil, unix.ESRCH
	}
	return []byte("rchar: 0\nwchar: 0\nsyscr: 0\nsyscw: 0\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n"), nil
}

// smaps is /proc/PID/smaps: each line of maps followed by the mapping's
// statistics. Rss is approximate: the address space's resident size
// shared among the mappings in proportion to their sizes; everything is
// counted as private and anonymous-or-file by the mapping's kind.
func (fs *filesystem) smaps(ctx context.Context, r *taskRef) ([]byte, error) {
	if r.process() == nil {
		return nil, unix.ESRCH
	}
	m, err := memoryOf(r)
	if err != nil {
		return nil, nil
	}
	text := m.Maps()
	var vsize uint64
	for _, v := range parseMaps(text) {
		vsize += v.end - v.start
	}
	var rss uint64
	if rm, ok := m.(ResidentMemory); ok {
		rss = rm.ResidentBytes()
	}
	var b bytes.Buffer
	for line := range strings.Lines(text) {
		vs := parseMaps(line)
		if len(vs) != 1 {
			continue
		}
		v := vs[0]
		size := v.end - v.start
		res := uint64(0)
		if vsize > 0 && rss > 0 {
			// size*rss/vsize without overflow for realistic sizes.
			res = uint64(float64(size) * (float64(min(rss, vsize)) / float64(vsize)))
			res &^= 4095
		}
		anon := uint64(0)
		if v.name == "" || strings.HasPrefix(v.name, "[") {
			anon = res
		}
		b.WriteString(strings.TrimRight(line, "\n"))
		b.WriteByte('\n')
		kb := func(name string, n uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", name+":", n/1024) }
		kb("Size", size)
		kb("KernelPageSize", 4096)
		kb("MMUPageSize", 4096)
		kb("Rss", res)
		kb("Pss", res)
		kb("Pss_Dirty", anon)
		kb("Shared_Clean", 0)
		kb("Shared_Dirty", 0)
		kb("Private_Clean", res-anon)
		kb("Private_Dirty", anon)
		kb("Referenced", res)
		kb("Anonymous", anon)
		kb("KSM", 0)
		kb("LazyFree", 0)
		kb("AnonHugePages", 0)
		kb("ShmemPmdMapped", 0)
		kb("FilePmdMapped", 0)
		kb("Shared_Hugetlb", 0)
		kb("Private_Hugetlb", 0)
		kb("Swap", 0)
		kb("SwapPss", 0)
		kb("Locked", 0)
		fmt.Fprintf(&b, "THPeligible:    0\n")
		fmt.Fprintf(&b, "VmFlags: %s\n", vmFlags(v.perms))
	}
	return b.Bytes(), nil
}

// vmFlags formats smaps's VmFlags from a maps permission string.
func vmFlags(perms string) string {
	var f []string
	for i, name := range []string{"rd", "wr", "ex"} {
		if len(perms) > i && perms[i] != '-' {
			f = append(f, name)
		}
	}
	if len(perms) > 3 && perms[3] == 's' {
		f = append(f, "sh")
	}
	for i, name := range []string{"mr", "mw", "me"} {
		if len(perms) > i && perms[i] != '-' {
			f = append(f, name)
		}
	}
	if len(perms) > 3 && perms[3] == 's' {
		f = append(f, "ms")
	}
	return strings.Join(f, " ")
}
