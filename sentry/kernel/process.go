package kernel

import (
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel/seccomp"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

// CreateProcessArgs describe a process started from outside the sandbox:
// its init, or one that runsc exec adds.
type CreateProcessArgs struct {
	Filename string
	Argv     []string
	Envv     []string
	// WorkingDirectory is an absolute path inside the sandbox.
	WorkingDirectory string
	// Credentials are the identity the program is exec'd with: as for
	// execve(2), a process whose real and effective UIDs are not 0
	// keeps no capabilities (ambient capabilities are not supported).
	Credentials *Credentials
	Umask       uint32
	// FDTable holds the initial descriptors (stdio); the process takes
	// over the caller's reference.
	FDTable *FDTable
	// Limits are the initial resource limits.
	Limits [unix.RLIMIT_RTTIME + 1]unix.Rlimit
	// SeccompFilters are installed on the process as if it had called
	// seccomp(SECCOMP_SET_MODE_FILTER) with each, in order, before its
	// first instruction (the OCI spec's linux.seccomp). They apply
	// whatever Credentials.NoNewPrivs says, as runc installs them
	// before dropping privileges; they are inherited and kept across
	// execve like any filter. Over the total instruction limit
	// CreateProcess fails with ENOMEM.
	SeccompFilters []*seccomp.Program
	// ControllingTerminal, if set, is a terminal (a pseudo-terminal's
	// slave) that becomes the process's controlling terminal, with its
	// process group in the foreground, before its first instruction: as
	// if it had called ioctl(TIOCSCTTY) on it as the leader of its new
	// session. CreateProcess fails if the terminal belongs to another
	// session.
	ControllingTerminal *vfs.FileDescription
}

// CreateProcess creates and starts a process from outside the sandbox.
// The first one is init (PID 1). Later ones (runsc exec) are like a
// process that entered the sandbox's PID namespace with setns(2): no
// parent in the sandbox (PPID 0), a session and process group of their
// own, and, when they exit, reaped by the kernel itself with the status
// kept for ThreadGroup.WaitExit. Their children are reparented to init
// like any orphan. Once init has exited, CreateProcess fails with
// ErrInitExited.
func (k *Kernel) CreateProcess(a CreateProcessArgs) (*ThreadGroup, error) {
	root := k.Mounts.Root()
	defer root.DecRef(k.backgroundContext())
	t := &Task{k: k, fdTable: a.FDTable, interruptCh: make(chan struct{}, 1),
		altStack: linux.SignalStack{Flags: linux.SS_DISABLE}}
	t.creds.Store(a.Credentials)
	t.ctx = t.newContext()
	for _, p := range a.SeccompFilters {
		if _, err := t.AddSeccompFilter(p, SeccompFilterOptions{}); err != nil {
			return nil, err
		}
	}
	cwd, err := k.VFS.GetDentryAt(t.ctx, &vfs.PathOperation{Root: root, Start: root, Path: a.WorkingDirectory, FollowFinalSymlink: true}, vfs.GetDentryOptions{CheckSearchable: true})
	if err != nil {
		return nil, err
	}
	t.fs = NewFSContext(root, cwd, a.Umask)
	cwd.DecRef(t.ctx)

	k.mu.Lock()
	if k.init != nil && (k.init.exiting || k.init.zombie) {
		// init's exit kills every process under Kernel.mu: one
		// added after that would outlive it.
		k.mu.Unlock()
		t.fs.DecRef(t)
		return nil, ErrInitExited
	}
	// The first process is counted like any other (no RLIMIT_NPROC
	// check: nothing has set one yet).
	if err := k.reserveTaskLocked(a.Credentials, unix.RLIM_INFINITY); err != nil {
		k.mu.Unlock()
		t.fs.DecRef(t)
		return nil, err
	}
	t.nprocUID = a.Credentials.RealUID
	tid, err := k.allocIDLocked()
	if err != nil {
		k.unreserveTaskLocked(t.nprocUID)
		k.mu.Unlock()
		t.fs.DecRef(t)
		return nil, err
	}
	t.tid = tid
	tg := &ThreadGroup{
		k: k, id: tid, leader: t, tasks: map[*Task]struct{}{t: {}},
		children: map[*ThreadGroup]struct{}{}, pgid: tid, sid: tid,
		handlers: &SignalHandlers{}, exitSignal: int(unix.SIGCHLD),
		childEvents: make(chan struct{}), limits: a.Limits, startTime: time.Now(),
		exited: make(chan struct{}),
	}
	t.tg = tg
	k.tasks[tid] = t
	k.groups[tid] = tg
	if k.init == nil {
		k.init = tg
	}
	k.live++
	k.mu.Unlock()

	if a.ControllingTerminal != nil {
		_, err = a.ControllingTerminal.Ioctl(t.ctx, nil, unix.TIOCSCTTY, 0)
	}
	var l loaded
	if err == nil {
		l, err = t.loadProgram(vfs.VirtualDentry{}, a.Filename, false, a.Argv, a.Envv)
	}
	if err != nil {
		k.mu.Lock()
		delete(k.tasks, tid)
		delete(k.groups, tid)
		if k.init == tg {
			k.init = nil
		}
		k.live--
		k.unreserveTaskLocked(t.nprocUID)
		k.checkDoneLocked()
		k.mu.Unlock()
		t.fs.DecRef(t)
		return nil, err
	}
	t.mm = l.mm
	k.mu.Lock()
	t.exe = l.exe
	k.mu.Unlock()
	t.SetCredentials(l.creds)
	res := l.res
	k.mu.Lock()
	t.comm = res.Comm
	tg.hostArgs = l.args
	k.mu.Unlock()
	t.updateHostTitle()
	t.st.Regs = arch.InitRegs(res.Entry, res.SP)
	t.st.FP = arch.NewFP(k.FPLayout)
	t.st.FPValid = true
	t.Start()
	return tg, nil
}
