package kernel

import (
	"crypto/rand"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/loader"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

// loaded is what loadProgram made: the address space, where the program
// starts, its location (with a reference, for /proc/PID/exe) and the
// credentials it runs with (setID says set-ID bits changed them).
type loaded struct {
	mm    *mm.MemoryManager
	res   loader.Result
	exe   vfs.VirtualDentry
	creds *Credentials
	setID bool
	// args is the program's command line for host tools (host_title.go).
	args string
}

// loadProgram loads filename into a new address space for t. With
// fdFile set, dirfd itself is the program (execveat with AT_EMPTY_PATH)
// and filename only names it. res.Executable is closed.
func (t *Task) loadProgram(dirfd vfs.VirtualDentry, filename string, fdFile bool, argv, envv []string) (l loaded, err error) {
	k := t.k
	m, err := mm.New(k.MemoryFile, k.Platform)
	if err != nil {
		k.Warnf("task %d: execve: new address space: %v", t.tid, err)
		return loaded{}, creationErrno(err)
	}
	if t.tg != nil {
		m.SetStackLimit(t.tg.Limit(unix.RLIMIT_STACK).Cur)
	}
	l.mm = m
	cfg := loader.Config{
		Filename: filename, Argv: argv, Envv: envv,
		Open: func(path string) (loader.File, error) {
			if fdFile && path == filename {
				// Resolving "/" with dirfd as the root names dirfd.
				return t.openExecutableAt(&vfs.PathOperation{Root: dirfd, Start: dirfd, Path: "/"})
			}
			return t.openExecutable(dirfd, path)
		},
		HWCap: k.HWCap, HWCap2: k.HWCap2,
		IDs: t.execIDs(&l.creds, &l.setID),
	}
	rand.Read(cfg.Random[:])
	l.res, err = loader.Load(m, k.Platform.MaxUserAddress(), cfg)
	if err != nil {
		m.DecUsers()
		return loaded{}, err
	}
	lay := m.Layout()
	l.args = hostArgsOf(m.CopyIn, lay.ArgvStart, lay.ArgvEnd)
	if f, ok := l.res.Executable.(*execFile); ok {
		l.exe = f.fd.VirtualDentry()
		l.exe.IncRef()
	}
	l.res.Executable.Close()
	l.res.Executable = nil
	return l, nil
}

// openExecutable opens path for execution relative to dirfd (or the cwd
// when dirfd is not set).
func (t *Task) openExecutable(dirfd vfs.VirtualDentry, path string) (loader.File, error) {
	root := t.fs.Root()
	defer root.DecRef(t.ctx)
	start := dirfd
	if !start.Ok() {
		start = t.fs.Cwd()
		defer start.DecRef(t.ctx)
	}
	return t.openExecutableAt(&vfs.PathOperation{Root: root, Start: start, Path: path, FollowFinalSymlink: true})
}

// openExecutableAt opens the file pop names for execution.
func (t *Task) openExecutableAt(pop *vfs.PathOperation) (loader.File, error) {
	if err := t.k.VFS.AccessAt(t.ctx, pop, unix.X_OK, vfs.CheckEffectiveIDs); err != nil {
		return nil, err
	}
	fd, err := t.k.VFS.OpenAt(t.ctx, pop, vfs.OpenOptions{Flags: unix.O_RDONLY})
	if err != nil {
		return nil, err
	}
	st, err := fd.Stat(t.ctx)
	if err != nil {
		fd.DecRef(t.ctx)
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || fd.VirtualDentry().Mount().Flags()&unix.MS_NOEXEC != 0 {
		fd.DecRef(t.ctx)
		return nil, unix.EACCES
	}
	root := t.fs.Root()
	defer root.DecRef(t.ctx)
	name := t.k.VFS.PathnameWithDeleted(t.ctx, root, fd.VirtualDentry())
	return &execFile{t: t, fd: fd, name: name}, nil
}

// execFile adapts an open file to loader.File.
type execFile struct {
	t    *Task
	fd   *vfs.FileDescription
	name string
}

func (f *execFile) ReadAt(p []byte, off int64) (int, error) {
	return readFull(f.t, f.fd, p, off)
}

func (f *execFile) Mappable() mm.Mappable { return NewFileMappable(f.t, f.fd, f.name) }

func (f *execFile) Close() { f.fd.DecRef(f.t.ctx) }

// Execve implements execve(2) and execveat(2): on success the task runs
// the new program and the caller must not touch its registers. With
// fdFile, dirfd is the program itself (AT_EMPTY_PATH).
func (t *Task) Execve(dirfd vfs.VirtualDentry, filename string, fdFile bool, argv, envv []string) error {
	if err := t.checkExecNProc(); err != nil {
		return err
	}
	l, err := t.loadProgram(dirfd, filename, fdFile, argv, envv)
	if err != nil {
		return err
	}
	newMM, res, exe := l.mm, l.res, l.exe
	// Point of no return: the other threads go (Linux: de_thread), and
	// the caller becomes the leader with the leader's TID.
	if !t.killOtherThreads() {
		// Another thread is exec'ing or the process is exiting: this
		// thread is being killed, and the error is never seen.
		newMM.DecUsers()
		if exe.Ok() {
			exe.DecRef(t.ctx)
		}
		return unix.EAGAIN
	}
	// Robust futexes of the old image are released (Linux:
	// futex_exec_release), under the TID that owns them.
	t.exitRobustList()
	t.becomeLeader()
	// mm, exe and fdTable are swapped under Kernel.mu: /proc reads them
	// from other goroutines.
	t.k.mu.Lock()
	old, oldExe := t.mm, t.exe
	t.mm, t.exe = newMM, exe
	t.k.mu.Unlock()
	old.DecUsers()
	if oldExe.Ok() {
		oldExe.DecRef(t.ctx)
	}
	if t.fdTable.refs.Load() > 1 {
		shared := t.fdTable
		forked := shared.Fork()
		t.k.mu.Lock()
		t.fdTable = forked
		t.k.mu.Unlock()
		shared.DecRef(t)
	}
	t.fdTable.RemoveCloseOnExec(t)

	k := t.k
	k.mu.Lock()
	h := t.tg.handlers.fork()
	for sig := range h.actions {
		if h.actions[sig].Handler != linux.SIG_IGN {
			h.actions[sig] = linux.SigAction{}
		}
		h.actions[sig].Flags &^= linux.SA_ONSTACK | linux.SA_RESTART | linux.SA_RESETHAND
	}
	t.tg.handlers = h
	t.altStack = linux.SignalStack{Flags: linux.SS_DISABLE}
	t.comm = res.Comm
	t.tg.hostArgs = l.args
	if t.vforkDone != nil {
		close(t.vforkDone)
		t.vforkDone = nil
	}
	k.mu.Unlock()
	t.updateHostTitle()
	t.ResetPrctlStateOnExec()
	t.personalityOnExec(l.setID)
	creds := l.creds
	creds.KeepCaps = false
	t.SetCredentials(creds)
	if l.setID {
		// As Linux: a set-ID program's memory is not for its caller
		// to read through /proc or ptrace.
		k.mu.Lock()
		t.tg.notDumpable = true
		k.mu.Unlock()
	}

	t.clearChildTID = 0
	t.robustList, t.robustLen = 0, 0
	t.st.Regs = arch.InitRegs(res.Entry, res.SP)
	t.st.FP = arch.NewFP(t.k.FPLayout)
	t.st.FPValid = true
	return ErrNoSysReturn
}

// readFull reads len(p) bytes at off unless the file ends first.
func readFull(t *Task, fd *vfs.FileDescription, p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := fd.PRead(t.ctx, p[done:], off+int64(done))
		done += n
		if err != nil {
			return done, err
		}
		if n == 0 {
			break
		}
	}
	return done, nil
}

// fileMappable lets mm map an open file privately.
type fileMappable struct {
	k    *Kernel
	fd   *vfs.FileDescription
	name string
}

// NewFileMappable returns fd as an mm.Mappable; it takes no reference
// until the mapping does (IncRef). Files whose pages live in the memory
// file (tmpfs) are mm.SharedMappable, so MAP_SHARED works on them.
func NewFileMappable(t *Task, fd *vfs.FileDescription, name string) mm.Mappable {
	fm := &fileMappable{k: t.k, fd: fd, name: name}
	if tr, ok := fd.Impl().(pageTranslator); ok {
		return &sharedFileMappable{fileMappable: fm, tr: tr}
	}
	return fm
}

// pageTranslator is implemented by files whose data is in the memory file.
type pageTranslator interface {
	Translate(off, length uint64) (memory.Range, error)
}

// sharedFileMappable is a file that MAP_SHARED can map.
type sharedFileMappable struct {
	*fileMappable
	tr pageTranslator
}

func (m *sharedFileMappable) Translate(off, length uint64) (memory.Range, error) {
	return m.tr.Translate(off, length)
}

func (m *fileMappable) ReadAt(dst []byte, off int64) (int, error) {
	ctx := m.k.backgroundContext()
	done := 0
	for done < len(dst) {
		n, err := m.fd.PRead(ctx, dst[done:], off+int64(done))
		done += n
		if err != nil || n == 0 {
			return done, err
		}
	}
	return done, nil
}

func (m *fileMappable) IncRef() { m.fd.IncRef() }

func (m *fileMappable) DecRef() { m.fd.DecRef(m.k.backgroundContext()) }

func (m *fileMappable) Name() string { return m.name }

func (m *fileMappable) DeviceInode() (uint64, uint64) {
	st, err := m.fd.Stat(m.k.backgroundContext())
	if err != nil {
		return 0, 0
	}
	return unix.Mkdev(st.Dev_major, st.Dev_minor), st.Ino
}
