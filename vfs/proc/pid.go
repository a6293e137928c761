package proc

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// Limits on what cmdline and environ read from guest memory.
const maxArgsBytes = 2 << 20

// alive reports whether the process (and, for task/TID, the thread)
// still exists.
func (r *taskRef) alive() bool {
	if r.tid == 0 {
		return r.process() != nil
	}
	return r.thread() != nil
}

// newPIDDir returns /proc/PID (ref.tid == 0) or /proc/PID/task/TID.
func (fs *filesystem) newPIDDir(ref *taskRef) *dirNode {
	parentIno := uint64(1)
	if ref.tid != 0 {
		parentIno = inoOf(ref.pid, 0, "task")
	}
	return fs.newDir(inoOf(ref.pid, ref.tid, ""), parentIno, "", 0o555, ref, fs.pidEntries(ref), nil)
}

// pidEntries are the files of /proc/PID and /proc/PID/task/TID.
func (fs *filesystem) pidEntries(ref *taskRef) []staticEntry {
	file := func(name string, perm uint32, gen func(context.Context, *taskRef) ([]byte, error)) staticEntry {
		return staticEntry{name: name, mode: unix.S_IFREG | perm, make: func(ino uint64) vfs.Inode {
			return fs.newFile(ino, perm, ref, func(ctx context.Context) ([]byte, error) { return gen(ctx, ref) })
		}}
	}
	magic := func(name string, target func(context.Context, *taskRef) (string, error), get func(context.Context, *taskRef) (vfs.VirtualDentry, error)) staticEntry {
		return staticEntry{name: name, mode: unix.S_IFLNK | 0o777, make: func(ino uint64) vfs.Inode {
			return fs.newMagicLink(ino, ref,
				func(ctx context.Context) (string, error) { return target(ctx, ref) },
				func(ctx context.Context) (vfs.VirtualDentry, error) { return get(ctx, ref) })
		}}
	}
	dir := func(name string, perm uint32, dyn func(d *dirNode) dynamicDir) staticEntry {
		return staticEntry{name: name, mode: unix.S_IFDIR | perm, make: func(ino uint64) vfs.Inode {
			d := fs.newDir(ino, inoOf(ref.pid, ref.tid, ""), name+"/", perm, ref, nil, nil)
			d.dyn = dyn(d)
			return d
		}}
	}
	entries := []staticEntry{
		file("auxv", 0o400, fs.auxv),
		file("cgroup", 0o444, func(context.Context, *taskRef) ([]byte, error) { return []byte("0::/\n"), nil }),
		file("cmdline", 0o444, func(ctx context.Context, r *taskRef) ([]byte, error) {
			return fs.memRange(ctx, r, func(l Layout) (uint64, uint64) { return l.ArgvStart, l.ArgvEnd })
		}),
		file("comm", 0o644, func(ctx context.Context, r *taskRef) ([]byte, error) {
			t := r.thread()
			if t == nil {
				return nil, unix.ESRCH
			}
			return []byte(t.Comm() + "\n"), nil
		}),
		magic("cwd", fs.cwdTarget, fs.cwdLink),
		file("environ", 0o400, func(ctx context.Context, r *taskRef) ([]byte, error) {
			return fs.memRange(ctx, r, func(l Layout) (uint64, uint64) { return l.EnvvStart, l.EnvvEnd })
		}),
		fs.exeEntry(ref),
		dir("fd", 0o500, func(d *dirNode) dynamicDir { return fdDir{fs: fs, dir: d, info: false} }),
		dir("fdinfo", 0o500, func(d *dirNode) dynamicDir { return fdDir{fs: fs, dir: d, info: true} }),
		file("io", 0o400, fs.ioFile),
		file("limits", 0o444, fs.limits),
		file("loginuid", 0o644, func(context.Context, *taskRef) ([]byte, error) { return []byte("4294967295"), nil }),
		file("maps", 0o444, func(ctx context.Context, r *taskRef) ([]byte, error) {
			m, err := memoryOf(r)
			if err != nil {
				return nil, err
			}
			return []byte(m.Maps()), nil
		}),
		fs.memEntry(ref),
		file("mountinfo", 0o444, fs.mountinfo),
		file("mounts", 0o444, fs.mounts),
		fs.nsEntry(ref),
		fs.netEntry(ref),
		file("oom_score", 0o444, func(context.Context, *taskRef) ([]byte, error) { return []byte("0\n"), nil }),
		fs.oomScoreAdjEntry(ref),
		magic("root", fs.rootTarget, fs.rootLink),
		file("smaps", 0o444, fs.smaps),
		file("stat", 0o444, fs.statFile),
		file("statm", 0o444, fs.statm),
		file("status", 0o444, fs.status),
		file("wchan", 0o444, func(ctx context.Context, r *taskRef) ([]byte, error) {
			if r.process() == nil {
				return nil, unix.ESRCH
			}
			// The Sentry does not say where a task sleeps: "0", as Linux
			// shows when it hides the symbol.
			return []byte("0"), nil
		}),
	}
	if ref.tid == 0 {
		entries = append(entries, staticEntry{name: "task", mode: unix.S_IFDIR | 0o555, make: func(ino uint64) vfs.Inode {
			return fs.newDir(ino, inoOf(ref.pid, 0, ""), "task/", 0o555, ref, nil, tasksDir{fs: fs, ref: ref})
		}})
	}
	return entries
}

// oomScoreAdjEntry is /proc/PID/oom_score_adj: writable, kept per
// process, and otherwise without effect.
func (fs *filesystem) oomScoreAdjEntry(ref *taskRef) staticEntry {
	return staticEntry{name: "oom_score_adj", mode: unix.S_IFREG | 0o644, make: func(ino uint64) vfs.Inode {
		f := fs.newFile(ino, 0o644, ref, func(ctx context.Context) ([]byte, error) {
			if ref.process() == nil {
				return nil, unix.ESRCH
			}
			fs.mu.Lock()
			v, ok := fs.oomScoreAdj[ref.key()]
			fs.mu.Unlock()
			if !ok {
				v = fs.opts.OOMScoreAdj
			}
			return fmt.Appendf(nil, "%d\n", v), nil
		})
		f.write = func(ctx context.Context, src []byte) error {
			v, err := strconv.Atoi(strings.TrimSpace(string(src)))
			if err != nil || v < -1000 || v > 1000 {
				return unix.EINVAL
			}
			if ref.process() == nil {
				return unix.ESRCH
			}
			fs.mu.Lock()
			defer fs.mu.Unlock()
			for k := range fs.oomScoreAdj {
				if p := fs.k.Process(k.pid); p == nil || p.StartTime().UnixNano() != k.start {
					delete(fs.oomScoreAdj, k)
				}
			}
			fs.oomScoreAdj[ref.key()] = int32(v)
			return nil
		}
		return f
	}}
}

// memoryOf returns the address space of r's thread.
func memoryOf(r *taskRef) (Memory, error) {
	t := r.thread()
	if t == nil {
		return nil, unix.ESRCH
	}
	m := t.Memory()
	if m == nil {
		return nil, unix.ESRCH
	}
	return m, nil
}

// memRange reads the guest memory range bounds picks from the layout
// (argv or envp). A zombie or a process without memory reads as empty,
// as on Linux.
func (fs *filesystem) memRange(ctx context.Context, r *taskRef, bounds func(Layout) (uint64, uint64)) ([]byte, error) {
	if r.process() == nil {
		return nil, unix.ESRCH
	}
	m, err := memoryOf(r)
	if err != nil {
		return nil, nil
	}
	start, end := bounds(m.Layout())
	if end <= start {
		return nil, nil
	}
	n := min(end-start, maxArgsBytes)
	buf := make([]byte, n)
	got, _ := m.CopyIn(start, buf)
	return buf[:got], nil
}

// auxv is /proc/PID/auxv: the (type, value) pairs in binary, ending with
// AT_NULL.
func (fs *filesystem) auxv(ctx context.Context, r *taskRef) ([]byte, error) {
	if r.process() == nil {
		return nil, unix.ESRCH
	}
	m, err := memoryOf(r)
	if err != nil {
		return nil, nil
	}
	av := m.Layout().Auxv
	n := len(av) &^ 1
	out := make([]byte, 0, 8*(n+2))
	for i := 0; i < n; i += 2 {
		if av[i] == 0 {
			break
		}
		out = binary.LittleEndian.AppendUint64(out, av[i])
		out = binary.LittleEndian.AppendUint64(out, av[i+1])
	}
	out = binary.LittleEndian.AppendUint64(out, 0)
	out = binary.LittleEndian.AppendUint64(out, 0)
	return out, nil
}

// pathOf returns vd's path as the caller sees it, and drops vd's
// reference.
func (fs *filesystem) pathOf(ctx context.Context, vd vfs.VirtualDentry) string {
	defer vd.DecRef(ctx)
	root := fs.k.CallerRoot(ctx)
	defer root.DecRef(ctx)
	return fs.k.VFS().PathnameWithDeleted(ctx, root, vd)
}

func (fs *filesystem) cwdLink(ctx context.Context, r *taskRef) (vfs.VirtualDentry, error) {
	if t := r.thread(); t != nil {
		if vd := t.Cwd(); vd.Ok() {
			return vd, nil
		}
	}
	return vfs.VirtualDentry{}, unix.ENOENT
}

func (fs *filesystem) rootLink(ctx context.Context, r *taskRef) (vfs.VirtualDentry, error) {
	if t := r.thread(); t != nil {
		if vd := t.Root(); vd.Ok() {
			return vd, nil
		}
	}
	return vfs.VirtualDentry{}, unix.ENOENT
}

func (fs *filesystem) cwdTarget(ctx context.Context, r *taskRef) (string, error) {
	vd, err := fs.cwdLink(ctx, r)
	if err != nil {
		return "", err
	}
	return fs.pathOf(ctx, vd), nil
}

func (fs *filesystem) rootTarget(ctx context.Context, r *taskRef) (string, error) {
	vd, err := fs.rootLink(ctx, r)
	if err != nil {
		return "", err
	}
	return fs.pathOf(ctx, vd), nil
}

// TracedThread is optionally implemented by a Thread whose kernel knows
// its ptrace tracer.
type TracedThread interface {
	// TracerID returns the tracer's thread ID, or 0 if not traced.
	TracerID() int32
}

// ExecutableThread is optionally implemented by a Thread whose kernel
// keeps the location of the running program: /proc/PID/exe is then a
// magic link to it (reaching it even if renamed or unlinked). Otherwise
// exe is an ordinary symlink to the program's path (see exeTarget).
type ExecutableThread interface {
	// Executable returns the program's location with a reference, or a
	// zero VirtualDentry if unknown.
	Executable() vfs.VirtualDentry
}

// exeEntry is /proc/PID/exe.
func (fs *filesystem) exeEntry(ref *taskRef) staticEntry {
	return staticEntry{name: "exe", mode: unix.S_IFLNK | 0o777, make: func(ino uint64) vfs.Inode {
		if _, ok := ref.thread().(ExecutableThread); !ok {
			return fs.newSymlink(ino, ref, func(ctx context.Context) (string, error) { return fs.exeTarget(ctx, ref) })
		}
		get := func(ctx context.Context) (vfs.VirtualDentry, error) {
			if et, ok := ref.thread().(ExecutableThread); ok {
				if vd := et.Executable(); vd.Ok() {
					return vd, nil
				}
			}
			return vfs.VirtualDentry{}, unix.ENOENT
		}
		return fs.newMagicLink(ino, ref, func(ctx context.Context) (string, error) {
			vd, err := get(ctx)
			if err != nil {
				return "", err
			}
			return fs.pathOf(ctx, vd), nil
		}, get)
	}}
}

// exeTarget is the target of /proc/PID/exe: the path of the file mapped
// at the program's entry point (the loader names mappings by their path
// from the root, symlinks resolved), or the path given to execve.
func (fs *filesystem) exeTarget(ctx context.Context, r *taskRef) (string, error) {
	m, err := memoryOf(r)
	if err != nil {
		return "", unix.ENOENT
	}
	l := m.Layout()
	if p := exePath(m.Maps(), l); p != "" {
		return p, nil
	}
	if l.Executable == "" {
		return "", unix.ENOENT
	}
	return l.Executable, nil
}

// auxvValue returns the value of auxv entry typ, or 0.
func auxvValue(av []uint64, typ uint64) uint64 {
	for i := 0; i+1 < len(av); i += 2 {
		if av[i] == typ {
			return av[i+1]
		}
	}
	return 0
}

// atEntry is AT_ENTRY, the main program's entry point.
const atEntry = 9

// exePath returns the name of the file mapping containing the program's
// entry point, or "".
func exePath(maps string, l Layout) string {
	entry := auxvValue(l.Auxv, atEntry)
	if entry == 0 {
		return ""
	}
	for _, v := range parseMaps(maps) {
		if v.start <= entry && entry < v.end && strings.HasPrefix(v.name, "/") {
			return v.name
		}
	}
	return ""
}

// mapping is one line of /proc/PID/maps.
type mapping struct {
	start, end uint64
	perms      string
	name       string
}

// parseMaps parses maps text.
func parseMaps(maps string) []mapping {
	var out []mapping
	for line := range strings.Lines(maps) {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		m := mapping{start: start, end: end, perms: f[1]}
		if len(f) >= 6 {
			// The name is the rest of the line after the inode field; it
			// may contain spaces (" (deleted)").
			rest := line
			for range 5 {
				rest = strings.TrimLeft(rest, " ")
				if i := strings.IndexByte(rest, ' '); i >= 0 {
					rest = rest[i:]
				}
			}
			m.name = strings.TrimSpace(rest)
		}
		out = append(out, m)
	}
	return out
}

// memStats are the sizes /proc/PID/stat, statm and status report.
type memStats struct {
	// vsize is the mapped size, rss the resident size, data the private
	// writable size, in bytes.
	vsize, rss, data uint64
	// startCode and endCode bound the executable's code mapping.
	startCode, endCode uint64
	// stack is the size of the [stack] mapping.
	stack  uint64
	layout Layout
}

// memStatsOf computes r's memory statistics; zero for a process without
// memory.
func memStatsOf(r *taskRef) memStats {
	m, err := memoryOf(r)
	if err != nil {
		return memStats{}
	}
	var s memStats
	s.layout = m.Layout()
	text := m.Maps()
	exe := exePath(text, s.layout)
	for _, v := range parseMaps(text) {
		size := v.end - v.start
		s.vsize += size
		if len(v.perms) >= 4 && v.perms[1] == 'w' && v.perms[3] == 'p' {
			s.data += size
		}
		if v.name == "[stack]" {
			s.stack += size
		}
		if exe != "" && v.name == exe && len(v.perms) >= 3 && v.perms[2] == 'x' && s.startCode == 0 {
			s.startCode, s.endCode = v.start, v.end
		}
	}
	if rm, ok := m.(ResidentMemory); ok {
		s.rss = rm.ResidentBytes()
	}
	if s.startCode == 0 {
		// Linux shows 1 rather than 0 for user processes whose code it
		// cannot show; 0 marks kernel threads to tools like ps.
		s.startCode, s.endCode = 1, 1
	}
	return s
}

// stateOf returns t's state letter and name, 'R' for the caller.
func (fs *filesystem) stateOf(ctx context.Context, p Process, t Thread) (byte, string) {
	if t == nil || p.Zombie() {
		return 'Z', "zombie"
	}
	s := t.State()
	if t.TID() == fs.k.CallerTID(ctx) {
		s = 'R'
	}
	switch s {
	case 'R':
		return s, "running"
	case 'S':
		return s, "sleeping"
	case 'D':
		return s, "disk sleep"
	case 'T':
		return s, "stopped"
	case 't':
		return s, "tracing stop"
	case 'X':
		return s, "dead"
	case 'Z':
		return s, "zombie"
	}
	return s, "unknown"
}

const ticksPerSecond = 100

// statFile is /proc/PID/stat: one line of 52 fields (Linux:
// fs/proc/array.c do_task_stat). Fields the Sentry does not track are 0.
func (fs *filesystem) statFile(ctx context.Context, r *taskRef) ([]byte, error) {
	p := r.process()
	if p == nil {
		return nil, unix.ESRCH
	}
	t := r.thread()
	id := r.pid
	if r.tid != 0 {
		id = r.tid
	}
	comm := ""
	var ts ThreadSignals
	if t != nil {
		comm = t.Comm()
		ts = t.Signals()
	}
	state, _ := fs.stateOf(ctx, p, t)
	ps := p.Signals()
	ms := memStatsOf(r)
	start := uint64(max(0, p.StartTime().Sub(fs.k.BootTime()).Milliseconds()) * ticksPerSecond / 1000)
	rsslim := p.Limit(unix.RLIMIT_RSS).Cur
	// tty_nr is the terminal's device number in the kernel's new_encode_dev
	// layout; tpgid its foreground group, -1 without a terminal (or with
	// no foreground group).
	ttyNr, tpgid := uint64(0), int32(-1)
	if dev, fg, ok := p.ControllingTerminal(); ok {
		maj, min := uint64(unix.Major(dev)), uint64(unix.Minor(dev))
		ttyNr = min&0xff | maj<<8 | (min&^0xff)<<12
		if fg > 0 {
			tpgid = fg
		}
	}
	l := ms.layout
	f := []any{
		id, comm, state,
		p.ParentPID(), p.ProcessGroupID(), p.SessionID(),
		ttyNr, tpgid,
		0,          // flags
		0, 0, 0, 0, // minflt, cminflt, majflt, cmajflt
		0, 0, 0, 0, // utime, stime, cutime, cstime
		20, 0, // priority, nice
		len(p.ThreadIDs()), 0, // num_threads, itrealvalue
		start, ms.vsize, ms.rss / 4096, rsslim,
		ms.startCode, ms.endCode, l.StackStart,
		0, 0, // kstkesp, kstkeip
		ts.Pending | ps.SharedPending, ts.Blocked, ps.Ignored, ps.Caught,
		0, 0, 0, // wchan, nswap, cnswap
		int(unix.SIGCHLD), 0, // exit_signal, processor
		0, 0, 0, 0, 0, // rt_priority, policy, delayacct_blkio_ticks, guest_time, cguest_time
		0, 0, 0, // start_data, end_data, start_brk
		l.ArgvStart, l.ArgvEnd, l.EnvvStart, l.EnvvEnd,
		0, // exit_code
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d (%s) %c", f[0], f[1], f[2])
	for _, v := range f[3:] {
		fmt.Fprintf(&b, " %d", v)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// statm is /proc/PID/statm: sizes in pages.
func (fs *filesystem) statm(ctx context.Context, r *taskRef) ([]byte, error) {
	if r.process() == nil {
		return nil, unix.ESRCH
	}
	ms := memStatsOf(r)
	text := uint64(0)
	if ms.endCode > ms.startCode {
		text = ms.endCode - ms.startCode
	}
	return fmt.Appendf(nil, "%d %d 0 %d 0 %d 0\n", ms.vsize/4096, ms.rss/4096, text/4096, ms.data/4096), nil
}

// status is /proc/PID/status (Linux: fs/proc/array.c proc_pid_status).
func (fs *filesystem) status(ctx context.Context, r *taskRef) ([]byte, error) {
	p := r.process()
	if p == nil {
		return nil, unix.ESRCH
	}
	t := r.thread()
	id := r.pid
	if r.tid != 0 {
		id = r.tid
	}
	var b bytes.Buffer
	comm, umask := "", uint32(0)
	var c Credentials
	var ts ThreadSignals
	var fdSize int
	if t != nil {
		comm, umask, c, ts = t.Comm(), t.Umask(), t.Credentials(), t.Signals()
		if fds := t.FDs(); len(fds) > 0 {
			fdSize = int(fds[len(fds)-1]) + 1
		}
	}
	fdSize = max(64, (fdSize+63)&^63)
	state, stateName := fs.stateOf(ctx, p, t)
	fmt.Fprintf(&b, "Name:\t%s\n", escapeComm(comm))
	fmt.Fprintf(&b, "Umask:\t%04o\n", umask)
	fmt.Fprintf(&b, "State:\t%c (%s)\n", state, stateName)
	var tracer int32
	if tt, ok := t.(TracedThread); ok {
		tracer = tt.TracerID()
	}
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t%d\n", r.pid, id, p.ParentPID(), tracer)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\n", c.RealUID, c.EffectiveUID, c.SavedUID, c.FSUID)
	fmt.Fprintf(&b, "Gid:\t%d\t%d\t%d\t%d\n", c.RealGID, c.EffectiveGID, c.SavedGID, c.FSGID)
	fmt.Fprintf(&b, "FDSize:\t%d\n", fdSize)
	b.WriteString("Groups:\t")
	for _, g := range c.Groups {
		fmt.Fprintf(&b, "%d ", g)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", r.pid, id, p.ProcessGroupID(), p.SessionID())
	if t != nil && t.Memory() != nil {
		ms := memStatsOf(r)
		kb := func(name string, v uint64) { fmt.Fprintf(&b, "%s:\t%8d kB\n", name, v/1024) }
		kb("VmPeak", ms.vsize)
		kb("VmSize", ms.vsize)
		var locked uint64
		if lm, ok := t.Memory().(LockedMemory); ok {
			locked = lm.LockedBytes()
		}
		kb("VmLck", locked)
		kb("VmPin", 0)
		kb("VmHWM", ms.rss)
		kb("VmRSS", ms.rss)
		kb("RssAnon", ms.rss)
		kb("RssFile", 0)
		kb("RssShmem", 0)
		kb("VmData", ms.data)
		kb("VmStk", ms.stack)
		kb("VmExe", ms.endCode-ms.startCode)
		kb("VmLib", 0)
		kb("VmPTE", 0)
		kb("VmSwap", 0)
	}
	ps := p.Signals()
	fmt.Fprintf(&b, "Threads:\t%d\n", max(1, len(p.ThreadIDs())))
	fmt.Fprintf(&b, "SigQ:\t%d/%d\n", ps.Queued, p.Limit(unix.RLIMIT_SIGPENDING).Cur)
	fmt.Fprintf(&b, "SigPnd:\t%016x\nShdPnd:\t%016x\n", ts.Pending, ps.SharedPending)
	fmt.Fprintf(&b, "SigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n", ts.Blocked, ps.Ignored, ps.Caught)
	fmt.Fprintf(&b, "CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\n",
		c.Inheritable, c.Permitted, c.Effective, c.Bounding, c.Ambient)
	nnp := 0
	if c.NoNewPrivs {
		nnp = 1
	}
	fmt.Fprintf(&b, "NoNewPrivs:\t%d\nSeccomp:\t%d\nSeccomp_filters:\t%d\n", nnp, c.Seccomp, c.SeccompFilters)
	n := fs.numCPUs()
	fmt.Fprintf(&b, "Cpus_allowed:\t%x\n", uint64(1)<<min(n, 63)-1)
	if n == 1 {
		b.WriteString("Cpus_allowed_list:\t0\n")
	} else {
		fmt.Fprintf(&b, "Cpus_allowed_list:\t0-%d\n", n-1)
	}
	b.WriteString("Mems_allowed:\t1\nMems_allowed_list:\t0\n")
	b.WriteString("voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n")
	return b.Bytes(), nil
}

// escapeComm escapes a name as Linux's status does: backslash and
// newline.
func escapeComm(s string) string {
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	return strings.NewReplacer("\\", "\\\\", "\n", "\\n").Replace(s)
}

// limitNames are the rows of /proc/PID/limits, by RLIMIT_* number.
var limitNames = [...]struct{ name, unit string }{
	{"Max cpu time", "seconds"},
	{"Max file size", "bytes"},
	{"Max data size", "bytes"},
	{"Max stack size", "bytes"},
	{"Max core file size", "bytes"},
	{"Max resident set", "bytes"},
	{"Max processes", "processes"},
	{"Max open files", "files"},
	{"Max locked memory", "bytes"},
	{"Max address space", "bytes"},
	{"Max file locks", "locks"},
	{"Max pending signals", "signals"},
	{"Max msgqueue size", "bytes"},
	{"Max nice priority", ""},
	{"Max realtime priority", ""},
	{"Max realtime timeout", "us"},
}

// limits is /proc/PID/limits.
func (fs *filesystem) limits(ctx context.Context, r *taskRef) ([]byte, error) {
	p := r.process()
	if p == nil {
		return nil, unix.ESRCH
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	val := func(v uint64) string {
		if v == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	for i, ln := range limitNames {
		l := p.Limit(i)
		fmt.Fprintf(&b, "%-25s %-20s %-20s ", ln.name, val(l.Cur), val(l.Max))
		if ln.unit != "" {
			fmt.Fprintf(&b, "%-10s", ln.unit)
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// mountOptions formats mount flags as mount options.
func mountOptions(flags uint32) string {
	opts := "rw"
	if flags&unix.MS_RDONLY != 0 {
		opts = "ro"
	}
	for _, f := range []struct {
		bit  uint32
		name string
	}{{unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"}, {unix.MS_NOEXEC, "noexec"}, {unix.MS_NOATIME, "noatime"}, {unix.MS_NODIRATIME, "nodiratime"}, {unix.MS_RELATIME, "relatime"}} {
		if flags&f.bit != 0 {
			opts += "," + f.name
		}
	}
	return opts
}

// escapeMountPath escapes what would break the fields of mounts and
// mountinfo, as Linux's mangle does.
func escapeMountPath(s string) string {
	return strings.NewReplacer(" ", `\040`, "\t", `\011`, "\n", `\012`, `\`, `\134`).Replace(s)
}

func (fs *filesystem) mounts(ctx context.Context, r *taskRef) ([]byte, error) {
	if r.process() == nil {
		return nil, unix.ESRCH
	}
	var b bytes.Buffer
	for _, m := range fs.k.Mounts(ctx) {
		src := m.Source
		if src == "" {
			src = "none"
		}
		fmt.Fprintf(&b, "%s %s %s %s 0 0\n", escapeMountPath(src), escapeMountPath(m.MountPoint), m.FSType, mountOptions(m.Flags))
	}
	return b.Bytes(), nil
}

func (fs *filesystem) mountinfo(ctx context.Context, r *taskRef) ([]byte, error) {
	if r.process() == nil {
		return nil, unix.ESRCH
	}
	var b bytes.Buffer
	for _, m := range fs.k.Mounts(ctx) {
		src := m.Source
		if src == "" {
			src = "none"
		}
		ro := "rw"
		if m.Flags&unix.MS_RDONLY != 0 {
			ro = "ro"
		}
		root := m.Root
		if root == "" {
			root = "/"
		}
		opt := m.Optional
		if opt != "" {
			opt += " "
		}
		fmt.Fprintf(&b, "%d %d %d:%d %s %s %s %s- %s %s %s\n", m.ID, m.ParentID, unix.Major(m.Dev), unix.Minor(m.Dev),
			escapeMountPath(root), escapeMountPath(m.MountPoint), mountOptions(m.Flags), opt, m.FSType, escapeMountPath(src), ro)
	}
	return b.Bytes(), nil
}

// tasksDir provides the entries of /proc/PID/task.
type tasksDir struct {
	fs  *filesystem
	ref *taskRef
}

// tasksDirBase is the position of the first thread in task/ (after "."
// and ".."): a thread's position is tasksDirBase+TID.
const tasksDirBase = 2

func (d tasksDir) list(ctx context.Context) []dynamicEntry {
	p := d.ref.process()
	if p == nil {
		return nil
	}
	var out []dynamicEntry
	for _, tid := range p.ThreadIDs() {
		out = append(out, dynamicEntry{name: strconv.Itoa(int(tid)), typ: unix.DT_DIR, ino: inoOf(d.ref.pid, tid, ""), pos: tasksDirBase + int64(tid)})
	}
	return out
}

func (d tasksDir) lookup(ctx context.Context, name string) (vfs.Inode, error) {
	tid, ok := parseID(name)
	if !ok || tid == 0 {
		return nil, unix.ENOENT
	}
	p := d.ref.process()
	if p == nil || p.Thread(tid) == nil {
		return nil, unix.ENOENT
	}
	return d.fs.newPIDDir(&taskRef{fs: d.fs, pid: d.ref.pid, tid: tid, start: d.ref.start}), nil
}

func (d tasksDir) valid(ctx context.Context, name string, child vfs.Inode) bool {
	c, ok := child.(*dirNode)
	return ok && c.task != nil && c.task.alive()
}
