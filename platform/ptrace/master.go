package ptrace

import (
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

// userTop is the end of the x86-64 user address space (47-bit).
const userTop = 0x7ffffffff000

// master is the first stub process. It is traced by one dedicated OS thread
// that forks new stubs from it on request.
type master struct {
	requests chan chan forkResult
	// xsize and xfeatures are the host's XSAVE area size and enabled
	// components, read from the master stub at start-up.
	xsize     int
	xfeatures uint64
	// title is the stubs' argument area (see title.go).
	title titleArea
}

type forkResult struct {
	pid int
	err error
}

// startMaster execs the stub program, traced, and cleans its address space.
func startMaster(memFD int, opts Options) (*master, error) {
	m := &master{requests: make(chan chan forkResult)}
	ready := make(chan error)
	go m.run(memFD, opts, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return m, nil
}

// run is the master's tracer goroutine. It never unlocks its OS thread: the
// thread is the master's tracer, and the master dies with it.
func (m *master) run(memFD int, opts Options, ready chan<- error) {
	runtime.LockOSThread()
	t, title, err := execStub(memFD, opts)
	if err != nil {
		ready <- err
		return
	}
	if err := m.readXStateLayout(t); err != nil {
		t.kill()
		ready <- err
		return
	}
	if opts.systrap != nil {
		if err := setupSystrapMaster(t); err != nil {
			t.kill()
			ready <- err
			return
		}
	}
	m.title = title
	ready <- nil
	for reply := range m.requests {
		// Reap stubs that have exited since the last fork: the master
		// is their parent.
		for {
			pid, err := t.syscall(unix.SYS_WAIT4, ^uintptr(0), 0, unix.WNOHANG|unix.WALL, 0)
			if err != nil || pid == 0 {
				break
			}
		}
		pid, err := t.syscallAt(stubAddr+stubForkSyscall, unix.SYS_FORK)
		reply <- forkResult{int(pid), err}
	}
}

// execStub starts the stub program traced by the calling thread, confines
// it with opts.StubFilter, and leaves it with nothing mapped but the stub
// page and the argument area's page(s) above it (see title.go).
func execStub(memFD int, opts Options) (*thread, titleArea, error) {
	t, title, err := execStub1(memFD, opts)
	if err != nil && t != nil {
		t.kill()
	}
	if err != nil {
		return nil, titleArea{}, err
	}
	return t, title, nil
}

func execStub1(memFD int, opts Options) (*thread, titleArea, error) {
	var title titleArea
	img, err := stubELF(opts.StubFilter, opts.systrap)
	if err != nil {
		return nil, title, err
	}
	closed := ^uintptr(0)
	attr := &syscall.ProcAttr{
		// The stub holds the memory file and nothing else: no stdio, and
		// (since Go marks its own descriptors close-on-exec and runsc
		// marks inherited ones so) no descriptor of the Sentry's.
		Env:   []string{},
		Files: []uintptr{closed, closed, closed, uintptr(memFD)},
		Sys:   &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL},
	}
	// No ASLR for the stub: its stack, and so its argument area, ends at
	// the top of the user range, above the stub page (see title.go). The
	// stub's own layout is fixed anyway, and the guest's is the
	// Sentry's to choose.
	restore := stubExecLimits()
	pid, err := forkExecStub(img, opts.StubDir, attr)
	restore()
	if err != nil {
		return nil, title, fmt.Errorf("ptrace: starting stub: %w", err)
	}
	t := &thread{pid: pid, tid: pid, tracer: unix.Gettid(), cpu: -1}
	ws, err := wait4(pid)
	if err != nil {
		return t, title, err
	}
	if !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		return t, title, fmt.Errorf("ptrace: stub did not stop after exec: status %#x", ws)
	}
	if err := ptraceRaw(unix.PTRACE_SETOPTIONS, pid, 0, ptraceOptions); err != nil {
		return t, title, os.NewSyscallError("ptrace(PTRACE_SETOPTIONS)", err)
	}
	if err := getRegs(pid, &t.initRegs); err != nil {
		return t, title, os.NewSyscallError("ptrace(PTRACE_GETREGS)", err)
	}
	if title, err = setupTitleArea(t); err != nil {
		return t, title, err
	}
	if len(opts.StubFilter) > 0 {
		if err := t.installStubFilter(); err != nil {
			return t, title, err
		}
	}
	// Drop the stack, vDSO and everything else the kernel mapped: the
	// guest owns the whole range below the stub page. Above it only the
	// argument area's page(s) stay.
	if _, err := t.syscall(unix.SYS_MUNMAP, 0, stubAddr); err != nil {
		return t, title, fmt.Errorf("ptrace: cleaning stub: %w", err)
	}
	top := uint64(userTop)
	if title.end != 0 {
		top = title.start &^ (stubSize - 1)
	}
	if top > stubAddr+stubSize {
		if _, err := t.syscall(unix.SYS_MUNMAP, stubAddr+stubSize, uintptr(top-(stubAddr+stubSize))); err != nil {
			return t, title, fmt.Errorf("ptrace: cleaning stub: %w", err)
		}
	}
	return t, title, nil
}

// forkExecStub writes the stub program img to a file and starts it with
// attr. The file is a memfd exec'd through /proc/self/fd if dir is empty;
// otherwise it is dir/palisade-stub, removed once the stub runs (the
// caller has no /proc: it is chrooted into dir's file system).
func forkExecStub(img []byte, dir string, attr *syscall.ProcAttr) (int, error) {
	if dir == "" {
		elfFD, err := unix.MemfdCreate("palisade-stub", unix.MFD_CLOEXEC)
		if err != nil {
			return 0, os.NewSyscallError("memfd_create", err)
		}
		defer unix.Close(elfFD)
		if _, err := unix.Write(elfFD, img); err != nil {
			return 0, os.NewSyscallError("write", err)
		}
		return syscall.ForkExec(fmt.Sprintf("/proc/self/fd/%d", elfFD), stubArgv, attr)
	}
	path := dir + "/palisade-stub"
	if err := os.WriteFile(path, img, 0o500); err != nil {
		return 0, err
	}
	defer os.Remove(path)
	return syscall.ForkExec(path, stubArgv, attr)
}

// installStubFilter confines the freshly exec'd master stub, and so every
// stub forked from it: no_new_privs, then the seccomp program that
// stubELF placed in the stub page. Guest system calls never reach it
// (PTRACE_SYSEMU stops them before the kernel's seccomp check); it bounds
// what the stub's own instructions and the calls the Sentry injects can
// do, should anything else ever run there.
func (t *thread) installStubFilter() error {
	if _, err := t.syscall(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("ptrace: stub prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	if _, err := t.syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, stubAddr+stubFprog); err != nil {
		return fmt.Errorf("ptrace: stub seccomp(SECCOMP_SET_MODE_FILTER): %w", err)
	}
	return nil
}

// fork returns the pid of a new stub process, stopped and not yet traced.
func (m *master) fork() (int, error) {
	reply := make(chan forkResult)
	m.requests <- reply
	r := <-reply
	if r.err != nil {
		return 0, fmt.Errorf("ptrace: forking stub: %w", r.err)
	}
	return r.pid, nil
}

// readXStateLayout learns the XSAVE area's size from the master stub.
func (m *master) readXStateLayout(t *thread) error {
	buf := make([]byte, 64<<10)
	n, err := getXState(t.tid, buf)
	if err != nil {
		return os.NewSyscallError("ptrace(PTRACE_GETREGSET, NT_X86_XSTATE)", err)
	}
	if n < 576 {
		return fmt.Errorf("ptrace: XSAVE area of %d bytes is too small", n)
	}
	m.xsize = n
	// The components the guest's FP state may hold: x87 and SSE always,
	// AVX and AVX-512 when the CPU has them (and so the host kernel has
	// enabled them in XCR0). Others (PKRU, AMX) stay in their initial
	// state across signal frames.
	m.xfeatures = 0x3
	if cpu.X86.HasAVX {
		m.xfeatures |= 0x4
	}
	if cpu.X86.HasAVX512F {
		m.xfeatures |= 0xe0
	}
	return nil
}
