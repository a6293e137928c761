package proc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/proc"
	"github.com/palisade-sandbox/palisade/vfs/tmpfs"
)

// callerKey carries the fake caller (pid, tid) in a context.
type callerKey struct{}

type caller struct{ pid, tid int32 }

// fakeKernel implements proc.Kernel over fake processes.
type fakeKernel struct {
	v    *vfs.VirtualFilesystem
	root vfs.VirtualDentry
	boot time.Time

	mu    sync.Mutex
	procs map[int32]*fakeProc
}

func (k *fakeKernel) VFS() *vfs.VirtualFilesystem { return k.v }

func (k *fakeKernel) CallerPID(ctx context.Context) int32 {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c.pid
}

func (k *fakeKernel) CallerTID(ctx context.Context) int32 {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c.tid
}

func (k *fakeKernel) CallerRoot(ctx context.Context) vfs.VirtualDentry {
	k.root.IncRef()
	return k.root
}

func (k *fakeKernel) ProcessIDs() []int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []int32
	for pid := range k.procs {
		out = append(out, pid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (k *fakeKernel) Process(pid int32) proc.Process {
	k.mu.Lock()
	defer k.mu.Unlock()
	if p := k.procs[pid]; p != nil {
		return p
	}
	return nil
}

func (k *fakeKernel) LastPID() int32      { return 42 }
func (k *fakeKernel) RunningThreads() int { return 3 }
func (k *fakeKernel) UTS() proc.UTS {
	return proc.UTS{Sysname: "Linux", Nodename: "sandbox", Release: "6.1.0", Version: "#1 SMP Palisade", Machine: "x86_64"}
}
func (k *fakeKernel) BootTime() time.Time { return k.boot }
func (k *fakeKernel) MemoryUsage() uint64 { return 1 << 20 }
func (k *fakeKernel) Mounts(ctx context.Context) []proc.MountInfo {
	return []proc.MountInfo{{ID: 1, ParentID: 1, MountPoint: "/", FSType: "tmpfs"}, {ID: 3, ParentID: 1, MountPoint: "/my dir", FSType: "proc", Flags: unix.MS_NOSUID}}
}

// fakeProc implements proc.Process.
type fakeProc struct {
	pid, ppid int32
	start     time.Time
	zombie    bool
	threads   []*fakeThread
}

func (p *fakeProc) PID() int32            { return p.pid }
func (p *fakeProc) StartTime() time.Time  { return p.start }
func (p *fakeProc) ParentPID() int32      { return p.ppid }
func (p *fakeProc) ProcessGroupID() int32 { return p.pid }
func (p *fakeProc) SessionID() int32      { return p.pid }

func (p *fakeProc) ControllingTerminal() (uint64, int32, bool) { return 0, 0, false }
func (p *fakeProc) Zombie() bool                               { return p.zombie }
func (p *fakeProc) ThreadIDs() []int32 {
	var out []int32
	for _, t := range p.threads {
		out = append(out, t.tid)
	}
	return out
}
func (p *fakeProc) Thread(tid int32) proc.Thread {
	for _, t := range p.threads {
		if t.tid == tid {
			return t
		}
	}
	return nil
}
func (p *fakeProc) MainThread() proc.Thread {
	if len(p.threads) == 0 {
		return nil
	}
	return p.threads[0]
}
func (p *fakeProc) Limit(r int) unix.Rlimit {
	if r == unix.RLIMIT_NOFILE {
		return unix.Rlimit{Cur: 1024, Max: 4096}
	}
	return unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
}
func (p *fakeProc) Signals() proc.ProcessSignals {
	return proc.ProcessSignals{Ignored: 1 << 12, Caught: 1 << 1}
}

// fakeThread implements proc.Thread.
type fakeThread struct {
	tid  int32
	comm string
	cwd  vfs.VirtualDentry
	root vfs.VirtualDentry
	mem  *fakeMemory

	mu  sync.Mutex
	fds map[int32]*vfs.FileDescription
}

func (t *fakeThread) TID() int32   { return t.tid }
func (t *fakeThread) Comm() string { return t.comm }
func (t *fakeThread) State() byte  { return 'S' }
func (t *fakeThread) Credentials() proc.Credentials {
	return proc.Credentials{RealUID: 1000, EffectiveUID: 1001, SavedUID: 1002, FSUID: 1001, Groups: []uint32{5, 6}, Effective: 0x3}
}
func (t *fakeThread) Signals() proc.ThreadSignals { return proc.ThreadSignals{Blocked: 1 << 9} }
func (t *fakeThread) Umask() uint32               { return 0o22 }
func (t *fakeThread) Cwd() vfs.VirtualDentry {
	t.cwd.IncRef()
	return t.cwd
}
func (t *fakeThread) Root() vfs.VirtualDentry {
	t.root.IncRef()
	return t.root
}
func (t *fakeThread) FDs() []int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int32
	for fd := range t.fds {
		out = append(out, fd)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
func (t *fakeThread) FD(fd int32) (*vfs.FileDescription, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.fds[fd]
	if f == nil {
		return nil, false
	}
	f.IncRef()
	return f, fd == 3
}
func (t *fakeThread) Memory() proc.Memory {
	if t.mem == nil {
		return nil
	}
	return t.mem
}

// fakeMemory implements proc.Memory: memory holds bytes from base.
type fakeMemory struct {
	maps   string
	layout proc.Layout
	base   uint64
	data   []byte
}

func (m *fakeMemory) Maps() string        { return m.maps }
func (m *fakeMemory) Layout() proc.Layout { return m.layout }
func (m *fakeMemory) CopyIn(addr uint64, dst []byte) (int, error) {
	if addr < m.base || addr-m.base >= uint64(len(m.data)) {
		return 0, unix.EFAULT
	}
	n := copy(dst, m.data[addr-m.base:])
	if n < len(dst) {
		return n, unix.EFAULT
	}
	return n, nil
}

// pipeImpl is a file with no location that stats as a FIFO.
type pipeImpl struct{ vfs.FileDescriptionDefaultImpl }

func (pipeImpl) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{Mode: unix.S_IFIFO | 0o600, Ino: 4242}, nil
}
func (pipeImpl) Stream() bool { return true }

// env is a tmpfs root with procfs on /proc and a fake kernel with process
// 7 (threads 7 and 8, running "prog") and process 9.
type env struct {
	t    *testing.T
	ctx  context.Context
	k    *fakeKernel
	root vfs.VirtualDentry
	p7   *fakeProc
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, proc.Options{CPUInfo: []byte("processor\t: 0\nprocessor\t: 1\n"), MemTotal: 64 << 20})
}

// newEnvWith is newEnv with a procfs made with opts.
func newEnvWith(t *testing.T, opts proc.Options) *env {
	t.Helper()
	mem, err := memory.New("proc-test")
	if err != nil {
		t.Fatalf("memory.New: %v", err)
	}
	bg := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	v := vfs.New()
	rootfs, err := tmpfs.New(bg, tmpfs.Options{Mem: mem, RootMode: 0o755})
	if err != nil {
		t.Fatalf("tmpfs.New: %v", err)
	}
	ns, err := v.NewMountNamespace(bg, rootfs, 0)
	if err != nil {
		t.Fatalf("NewMountNamespace: %v", err)
	}
	root := ns.Root()
	k := &fakeKernel{v: v, root: root, boot: time.Now().Add(-time.Hour), procs: map[int32]*fakeProc{}}
	e := &env{t: t, ctx: context.WithValue(bg, callerKey{}, caller{7, 7}), k: k, root: root}
	for _, d := range []string{"/proc", "/work", "/bin"} {
		if err := v.MkdirAt(bg, e.pop(d, false), 0o755); err != nil {
			t.Fatalf("mkdir %s: %v", d, err)
		}
	}
	pfs := proc.New(k, opts)
	if err := v.MountAt(bg, e.pop("/proc", true), pfs, 0); err != nil {
		t.Fatalf("MountAt: %v", err)
	}
	f, err := v.OpenAt(bg, e.pop("/bin/prog", true), vfs.OpenOptions{Flags: unix.O_CREAT | unix.O_RDWR, Mode: 0o755})
	if err != nil {
		t.Fatalf("create /bin/prog: %v", err)
	}
	f.DecRef(bg)
	cwd, err := v.GetDentryAt(bg, e.pop("/work", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatalf("GetDentryAt: %v", err)
	}
	args := []byte("prog\x00-v\x00arg two\x00HOME=/root\x00")
	m := &fakeMemory{
		maps: "00400000-00401000 r-xp 00000000 00:05 12 /bin/prog\n" +
			"00401000-00402000 rw-p 00001000 00:05 12 /bin/prog\n" +
			"7ffff000-80000000 rw-p 00000000 00:00 0 [stack]\n",
		layout: proc.Layout{
			ArgvStart: 0x7ffff100, ArgvEnd: 0x7ffff100 + 16, EnvvStart: 0x7ffff110, EnvvEnd: 0x7ffff110 + 10,
			StackStart: 0x7ffffff0, Auxv: []uint64{9, 0x400100, 6, 4096, 0, 0}, Executable: "./prog",
		},
		base: 0x7ffff100, data: args,
	}
	t7 := &fakeThread{tid: 7, comm: "prog", cwd: cwd, root: root, mem: m, fds: map[int32]*vfs.FileDescription{}}
	t8 := &fakeThread{tid: 8, comm: "worker", cwd: cwd, root: root, mem: m, fds: t7.fds}
	e.p7 = &fakeProc{pid: 7, ppid: 1, start: time.Now(), threads: []*fakeThread{t7, t8}}
	k.procs[7] = e.p7
	k.procs[9] = &fakeProc{pid: 9, ppid: 7, start: time.Now(), threads: []*fakeThread{{tid: 9, comm: "other", cwd: root, root: root, fds: map[int32]*vfs.FileDescription{}}}}
	return e
}

func (e *env) pop(path string, follow bool) *vfs.PathOperation {
	return &vfs.PathOperation{Root: e.root, Start: e.root, Path: path, FollowFinalSymlink: follow}
}

// read returns the whole contents of path, read in small pieces.
func (e *env) read(path string) (string, error) {
	f, err := e.k.v.OpenAt(e.ctx, e.pop(path, true), vfs.OpenOptions{Flags: unix.O_RDONLY})
	if err != nil {
		return "", err
	}
	defer f.DecRef(e.ctx)
	var out []byte
	buf := make([]byte, 7)
	for {
		n, err := f.Read(e.ctx, buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return string(out), err
		}
		if n == 0 {
			return string(out), nil
		}
	}
}

func (e *env) mustRead(path string) string {
	e.t.Helper()
	s, err := e.read(path)
	if err != nil {
		e.t.Fatalf("reading %s: %v", path, err)
	}
	return s
}

func (e *env) readlink(path string) (string, error) {
	return e.k.v.ReadlinkAt(e.ctx, e.pop(path, false))
}

func (e *env) stat(path string, follow bool) (unix.Statx_t, error) {
	return e.k.v.StatAt(e.ctx, e.pop(path, follow))
}

// list returns the names in directory path, without "." and "..".
func (e *env) list(path string) []string {
	e.t.Helper()
	f, err := e.k.v.OpenAt(e.ctx, e.pop(path, true), vfs.OpenOptions{Flags: unix.O_RDONLY | unix.O_DIRECTORY})
	if err != nil {
		e.t.Fatalf("opening %s: %v", path, err)
	}
	defer f.DecRef(e.ctx)
	var names []string
	buf := make([]byte, 64) // small: listings must resume
	for {
		n, err := f.Getdents64(e.ctx, buf)
		if err != nil {
			e.t.Fatalf("getdents %s: %v", path, err)
		}
		if n == 0 {
			return names
		}
		for off := 0; off < n; {
			reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
			name := string(bytes.TrimRight(buf[off+19:off+reclen], "\x00"))
			if name != "." && name != ".." {
				names = append(names, name)
			}
			off += reclen
		}
	}
}

// install puts the file at path on descriptor fd of process 7.
func (e *env) install(fd int32, f *vfs.FileDescription) {
	t := e.p7.threads[0]
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fds[fd] = f
}

func (e *env) close(fd int32) {
	t := e.p7.threads[0]
	t.mu.Lock()
	f := t.fds[fd]
	delete(t.fds, fd)
	t.mu.Unlock()
	f.DecRef(e.ctx)
}

func TestSelfLinksNameTheCaller(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ path, want string }{
		{"/proc/self", "7"},
		{"/proc/thread-self", "7/task/7"},
		{"/proc/mounts", "self/mounts"},
	} {
		if got, err := e.readlink(c.path); err != nil || got != c.want {
			t.Errorf("readlink(%s) = %q, %v; want %q", c.path, got, err, c.want)
		}
	}
	e.ctx = context.WithValue(vfs.WithCredentials(context.Background(), vfs.RootCredentials()), callerKey{}, caller{9, 9})
	if got, _ := e.readlink("/proc/self"); got != "9" {
		t.Errorf("readlink(/proc/self) from 9 = %q, want 9", got)
	}
	e.ctx = vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	if _, err := e.readlink("/proc/self"); err != unix.ENOENT {
		t.Errorf("readlink(/proc/self) without a task: %v, want ENOENT", err)
	}
}

func TestRootListsFilesAndProcesses(t *testing.T) {
	e := newEnv(t)
	names := e.list("/proc")
	for _, want := range []string{"self", "thread-self", "meminfo", "cpuinfo", "sys", "7", "9"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("/proc lists %v, missing %q", names, want)
		}
	}
	if got := e.list("/proc/7/task"); strings.Join(got, ",") != "7,8" {
		t.Errorf("/proc/7/task lists %v, want [7 8]", got)
	}
	if _, err := e.stat("/proc/8", true); err != unix.ENOENT {
		t.Errorf("stat /proc/8 (a thread, not a process): %v, want ENOENT", err)
	}
	for _, bad := range []string{"007", "+7", "7x", "99999999999"} {
		if _, err := e.stat("/proc/"+bad, true); err != unix.ENOENT {
			t.Errorf("stat /proc/%s: %v, want ENOENT", bad, err)
		}
	}
}

func TestStatusReportsIdentity(t *testing.T) {
	e := newEnv(t)
	s := e.mustRead("/proc/self/status")
	for _, want := range []string{"Name:\tprog\n", "\nState:\tR (running)\n", "\nTgid:\t7\n", "\nPid:\t7\n", "\nPPid:\t1\n",
		"\nUid:\t1000\t1001\t1002\t1001\n", "\nGroups:\t5 6 \n", "\nThreads:\t2\n", "\nSigBlk:\t0000000000000200\n",
		"\nSigIgn:\t0000000000001000\n", "\nSigCgt:\t0000000000000002\n", "\nCapEff:\t0000000000000003\n",
		"\nUmask:\t0022\n", "\nCpus_allowed_list:\t0-1\n", "\nVmSize:\t      12 kB\n", "\nVmStk:\t       4 kB\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("status lacks %q:\n%s", want, s)
		}
	}
	if !strings.HasPrefix(s, "Name:\t") {
		t.Errorf("status does not start with Name:\n%s", s)
	}
	s = e.mustRead("/proc/7/task/8/status")
	for _, want := range []string{"Name:\tworker\n", "\nState:\tS (sleeping)\n", "\nTgid:\t7\n", "\nPid:\t8\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("task/8/status lacks %q:\n%s", want, s)
		}
	}
}

func TestStatHas52Fields(t *testing.T) {
	e := newEnv(t)
	s := e.mustRead("/proc/self/stat")
	if !strings.HasPrefix(s, "7 (prog) R 1 7 7 ") || !strings.HasSuffix(s, "\n") {
		t.Errorf("stat = %q, want it to start with \"7 (prog) R 1 7 7 \"", s)
	}
	if n := len(strings.Fields(s)); n != 52 {
		t.Errorf("stat has %d fields, want 52: %q", n, s)
	}
	if s := e.mustRead("/proc/9/stat"); !strings.HasPrefix(s, "9 (other) S 7 ") {
		t.Errorf("/proc/9/stat = %q", s)
	}
	if s := e.mustRead("/proc/self/statm"); len(strings.Fields(s)) != 7 {
		t.Errorf("statm = %q, want 7 fields", s)
	}
}

func TestCmdlineEnvironAuxvAndMapsComeFromMemory(t *testing.T) {
	e := newEnv(t)
	if got := e.mustRead("/proc/self/cmdline"); got != "prog\x00-v\x00arg two\x00" {
		t.Errorf("cmdline = %q", got)
	}
	if got := e.mustRead("/proc/7/environ"); got != "HOME=/root" {
		t.Errorf("environ = %q", got)
	}
	if got := e.mustRead("/proc/9/cmdline"); got != "" {
		t.Errorf("cmdline of a process without memory = %q, want empty", got)
	}
	auxv := []byte(e.mustRead("/proc/self/auxv"))
	if len(auxv) != 48 || binary.LittleEndian.Uint64(auxv) != 9 || binary.LittleEndian.Uint64(auxv[40:]) != 0 {
		t.Errorf("auxv = %x, want three pairs ending in AT_NULL", auxv)
	}
	if got := e.mustRead("/proc/self/maps"); !strings.Contains(got, "[stack]") {
		t.Errorf("maps = %q", got)
	}
	if got := e.mustRead("/proc/self/comm"); got != "prog\n" {
		t.Errorf("comm = %q", got)
	}
}

func TestExeCwdAndRootLinks(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ path, want string }{
		{"/proc/self/exe", "/bin/prog"},
		{"/proc/self/cwd", "/work"},
		{"/proc/7/root", "/"},
		{"/proc/9/cwd", "/"},
	} {
		if got, err := e.readlink(c.path); err != nil || got != c.want {
			t.Errorf("readlink(%s) = %q, %v; want %q", c.path, got, err, c.want)
		}
	}
	a, err := e.stat("/proc/self/exe", true)
	if err != nil {
		t.Fatalf("stat /proc/self/exe: %v", err)
	}
	b, _ := e.stat("/bin/prog", true)
	if a.Ino != b.Ino || a.Dev_minor != b.Dev_minor {
		t.Errorf("stat(/proc/self/exe) ino %d, stat(/bin/prog) ino %d: want equal", a.Ino, b.Ino)
	}
	// Through the cwd magic link, a walk reaches the directory itself.
	if err := e.k.v.MkdirAt(e.ctx, e.pop("/proc/self/cwd/sub", false), 0o755); err != nil {
		t.Fatalf("mkdir through /proc/self/cwd: %v", err)
	}
	if _, err := e.stat("/work/sub", true); err != nil {
		t.Errorf("stat /work/sub after mkdir through cwd link: %v", err)
	}
}

func TestFDLinks(t *testing.T) {
	e := newEnv(t)
	f, err := e.k.v.OpenAt(e.ctx, e.pop("/work/target", true), vfs.OpenOptions{Flags: unix.O_CREAT | unix.O_RDWR, Mode: 0o600})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if _, err := f.Write(e.ctx, []byte("hello")); err != nil {
		t.Fatalf("write: %v", err)
	}
	e.install(3, f)
	e.install(77, vfs.NewFileDescription(pipeImpl{}, unix.O_RDONLY, vfs.VirtualDentry{}))

	if got := e.list("/proc/self/fd"); strings.Join(got, ",") != "3,77" {
		t.Errorf("fd lists %v, want [3 77]", got)
	}
	if got, err := e.readlink("/proc/self/fd/3"); err != nil || got != "/work/target" {
		t.Errorf("readlink fd/3 = %q, %v", got, err)
	}
	if got, err := e.readlink("/proc/self/fd/77"); err != nil || got != "pipe:[4242]" {
		t.Errorf("readlink fd/77 = %q, %v", got, err)
	}
	if got := e.mustRead("/proc/self/fd/3"); got != "hello" {
		t.Errorf("reading through fd/3 = %q, want hello", got)
	}
	info := e.mustRead("/proc/self/fdinfo/3")
	if !strings.HasPrefix(info, "pos:\t5\nflags:\t02100002\nmnt_id:\t1\n") {
		t.Errorf("fdinfo/3 = %q", info)
	}
	st, err := e.stat("/proc/self/fd/3", false)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK || st.Mode&0o777 != 0o700 {
		t.Errorf("lstat fd/3: mode %o, %v; want a 0700 symlink", st.Mode, err)
	}

	// Keep fd/3's dentry cached (as an open file would) and close it:
	// revalidation must drop it.
	held, err := e.k.v.GetDentryAt(e.ctx, e.pop("/proc/self/fd/3", false), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatalf("GetDentryAt fd/3: %v", err)
	}
	defer held.DecRef(e.ctx)
	e.close(3)
	if _, err := e.readlink("/proc/self/fd/3"); err != unix.ENOENT {
		t.Errorf("readlink of closed fd/3: %v, want ENOENT", err)
	}
	if _, err := e.readlink("/proc/self/fd/9999"); err != unix.ENOENT {
		t.Errorf("readlink fd/9999: %v, want ENOENT", err)
	}
	if got := e.list("/proc/self/fd"); strings.Join(got, ",") != "77" {
		t.Errorf("fd lists %v after close, want [77]", got)
	}
}

func TestWritesAreRefusedExceptOOMScoreAdj(t *testing.T) {
	e := newEnv(t)
	if _, err := e.k.v.OpenAt(e.ctx, e.pop("/proc/self/status", true), vfs.OpenOptions{Flags: unix.O_WRONLY}); err != unix.EACCES {
		t.Errorf("open status for writing: %v, want EACCES", err)
	}
	f, err := e.k.v.OpenAt(e.ctx, e.pop("/proc/self/oom_score_adj", true), vfs.OpenOptions{Flags: unix.O_WRONLY | unix.O_TRUNC})
	if err != nil {
		t.Fatalf("open oom_score_adj for writing: %v", err)
	}
	if _, err := f.Write(e.ctx, []byte("-500\n")); err != nil {
		t.Errorf("write -500: %v", err)
	}
	if _, err := f.Write(e.ctx, []byte("5000")); err != unix.EINVAL {
		t.Errorf("write 5000: %v, want EINVAL", err)
	}
	f.DecRef(e.ctx)
	if got := e.mustRead("/proc/7/oom_score_adj"); got != "-500\n" {
		t.Errorf("oom_score_adj = %q, want -500", got)
	}
	if got := e.mustRead("/proc/9/oom_score_adj"); got != "0\n" {
		t.Errorf("oom_score_adj of 9 = %q, want 0", got)
	}
	if err := e.k.v.MkdirAt(e.ctx, e.pop("/proc/x", false), 0o755); err == nil {
		t.Errorf("mkdir in /proc succeeded")
	}
}

func TestDeadProcessDisappears(t *testing.T) {
	e := newEnv(t)
	held, err := e.k.v.GetDentryAt(e.ctx, e.pop("/proc/9", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatalf("GetDentryAt /proc/9: %v", err)
	}
	defer held.DecRef(e.ctx)
	before, _ := e.stat("/proc/9/status", true)
	e.k.mu.Lock()
	delete(e.k.procs, 9)
	e.k.mu.Unlock()
	if _, err := e.stat("/proc/9", true); err != unix.ENOENT {
		t.Errorf("stat /proc/9 after exit: %v, want ENOENT", err)
	}
	// A new process 9 gets a fresh directory with the same inode numbers.
	e.k.mu.Lock()
	e.k.procs[9] = &fakeProc{pid: 9, start: time.Now().Add(time.Second), threads: []*fakeThread{{tid: 9, comm: "new", cwd: e.root, root: e.root, fds: map[int32]*vfs.FileDescription{}}}}
	e.k.mu.Unlock()
	if got := e.mustRead("/proc/9/comm"); got != "new\n" {
		t.Errorf("comm of the new 9 = %q", got)
	}
	after, _ := e.stat("/proc/9/status", true)
	if before.Ino != after.Ino || before.Ino == 0 {
		t.Errorf("inode of /proc/9/status changed: %d, %d", before.Ino, after.Ino)
	}
	s7, _ := e.stat("/proc/7/status", true)
	if s7.Ino == after.Ino {
		t.Errorf("/proc/7/status and /proc/9/status share inode %d", s7.Ino)
	}
}

func TestSystemFiles(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ path, want string }{
		{"/proc/sys/kernel/hostname", "sandbox\n"},
		{"/proc/sys/kernel/osrelease", "6.1.0\n"},
		{"/proc/sys/kernel/ostype", "Linux\n"},
		{"/proc/sys/kernel/pid_max", "4194304\n"},
		{"/proc/sys/kernel/cap_last_cap", "40\n"},
		{"/proc/sys/vm/overcommit_memory", "0\n"},
		{"/proc/sys/fs/nr_open", "1048576\n"},
		{"/proc/sys/net/core/somaxconn", "4096\n"},
		{"/proc/loadavg", "0.00 0.00 0.00 1/3 42\n"},
		{"/proc/cpuinfo", "processor\t: 0\nprocessor\t: 1\n"},
	} {
		if got, err := e.read(c.path); err != nil || got != c.want {
			t.Errorf("%s = %q, %v; want %q", c.path, got, err, c.want)
		}
	}
	mi := e.mustRead("/proc/meminfo")
	if !strings.HasPrefix(mi, "MemTotal:          65536 kB\nMemFree:           64512 kB\n") {
		t.Errorf("meminfo = %q", mi)
	}
	st := e.mustRead("/proc/stat")
	if !strings.Contains(st, "\ncpu1 ") || !strings.Contains(st, fmt.Sprintf("\nbtime %d\n", e.k.boot.Unix())) {
		t.Errorf("stat = %q", st)
	}
	if a, b := e.mustRead("/proc/sys/kernel/random/uuid"), e.mustRead("/proc/sys/kernel/random/uuid"); a == b || len(a) != 37 {
		t.Errorf("uuid %q then %q: want distinct UUIDs", a, b)
	}
	if a, b := e.mustRead("/proc/sys/kernel/random/boot_id"), e.mustRead("/proc/sys/kernel/random/boot_id"); a != b {
		t.Errorf("boot_id changed: %q, %q", a, b)
	}
	if got := e.mustRead("/proc/self/mounts"); got != "none / tmpfs rw 0 0\nnone /my\\040dir proc rw,nosuid 0 0\n" {
		t.Errorf("mounts = %q", got)
	}
	if got := e.mustRead("/proc/self/limits"); !strings.Contains(got, "Max open files            1024                 4096                 files     \n") {
		t.Errorf("limits = %q", got)
	}
	st1, _ := e.stat("/proc/meminfo", true)
	st2, _ := e.stat("/proc/meminfo", true)
	if st1.Ino != st2.Ino || st1.Dev_major != 0 {
		t.Errorf("meminfo inode %d then %d (dev %d:%d)", st1.Ino, st2.Ino, st1.Dev_major, st1.Dev_minor)
	}
}

func TestReadAtOffsets(t *testing.T) {
	e := newEnv(t)
	f, err := e.k.v.OpenAt(e.ctx, e.pop("/proc/self/status", true), vfs.OpenOptions{Flags: unix.O_RDONLY})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.DecRef(e.ctx)
	buf := make([]byte, 5)
	if n, err := f.PRead(e.ctx, buf, 6); err != nil || string(buf[:n]) != "prog\n" {
		t.Errorf("pread at 6 = %q, %v; want \"prog\\n\"", buf[:n], err)
	}
	end, err := f.Seek(e.ctx, 0, unix.SEEK_END)
	if err != nil || end == 0 {
		t.Errorf("seek end = %d, %v", end, err)
	}
	if n, _ := f.Read(e.ctx, buf); n != 0 {
		t.Errorf("read at end = %d bytes, want 0", n)
	}
}

func TestOOMScoreAdjDefaultsToTheContainers(t *testing.T) {
	e := newEnvWith(t, proc.Options{MemTotal: 64 << 20, OOMScoreAdj: 300})
	if got := e.mustRead("/proc/7/oom_score_adj"); got != "300\n" {
		t.Errorf("oom_score_adj = %q, want the container's 300", got)
	}
	f, err := e.k.v.OpenAt(e.ctx, e.pop("/proc/self/oom_score_adj", true), vfs.OpenOptions{Flags: unix.O_WRONLY | unix.O_TRUNC})
	if err != nil {
		t.Fatalf("open oom_score_adj for writing: %v", err)
	}
	if _, err := f.Write(e.ctx, []byte("0")); err != nil {
		t.Errorf("write 0: %v", err)
	}
	f.DecRef(e.ctx)
	if got := e.mustRead("/proc/7/oom_score_adj"); got != "0\n" {
		t.Errorf("oom_score_adj after writing 0 = %q, want 0", got)
	}
}

func TestNetSysctlFiles(t *testing.T) {
	static := func(v string) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) { return []byte(v), nil }
	}
	e := newEnvWith(t, proc.Options{Files: []proc.File{
		{Path: "sys/net/core/rmem_max", Read: static("212992\n")},
		{Path: "sys/net/ipv4/tcp_keepalive_time", Read: static("7200\n")},
	}})
	for _, c := range []struct{ path, want string }{
		{"/proc/sys/net/core/rmem_max", "212992\n"},
		{"/proc/sys/net/core/somaxconn", "4096\n"},
		{"/proc/sys/net/ipv4/tcp_keepalive_time", "7200\n"},
	} {
		if got, err := e.read(c.path); err != nil || got != c.want {
			t.Errorf("%s = %q, %v; want %q", c.path, got, err, c.want)
		}
	}
	if _, err := e.stat("/proc/sys/net/ipv4/tcp_keepalive_time", true); err != nil {
		t.Errorf("stat: %v", err)
	}
}
