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
}

type forkResult struct {
	pid int
	err error
}

// startMaster execs the stub program, traced, and cleans its address space.
func startMaster(memFD int) (*master, error) {
	m := &master{requests: make(chan chan forkResult)}
	ready := make(chan error)
	go m.run(memFD, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return m, nil
}

// run is the master's tracer goroutine. It never unlocks its OS thread: the
// thread is the master's tracer, and the master dies with it.
func (m *master) run(memFD int, ready chan<- error) {
	runtime.LockOSThread()
	t, err := execStub(memFD)
	if err != nil {
		ready <- err
		return
	}
	if err := m.readXStateLayout(t); err != nil {
		t.kill()
		ready <- err
		return
	}
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

// execStub starts the stub program traced by the calling thread and leaves
// it with nothing mapped but the stub page.
func execStub(memFD int) (*thread, error) {
	elfFD, err := unix.MemfdCreate("palisade-stub", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	defer unix.Close(elfFD)
	if _, err := unix.Write(elfFD, stubELF()); err != nil {
		return nil, os.NewSyscallError("write", err)
	}
	closed := ^uintptr(0)
	pid, err := syscall.ForkExec(fmt.Sprintf("/proc/self/fd/%d", elfFD), []string{"palisade-stub"}, &syscall.ProcAttr{
		Env:   []string{},
		Files: []uintptr{closed, closed, closed, uintptr(memFD)},
		Sys:   &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		return nil, fmt.Errorf("ptrace: starting stub: %w", err)
	}
	t := &thread{pid: pid, tid: pid, tracer: unix.Gettid(), cpu: -1}
	ws, err := wait4(pid)
	if err != nil {
		return nil, err
	}
	if !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		return nil, fmt.Errorf("ptrace: stub did not stop after exec: status %#x", ws)
	}
	if err := ptraceRaw(unix.PTRACE_SETOPTIONS, pid, 0, ptraceOptions); err != nil {
		t.kill()
		return nil, os.NewSyscallError("ptrace(PTRACE_SETOPTIONS)", err)
	}
	if err := getRegs(pid, &t.initRegs); err != nil {
		t.kill()
		return nil, os.NewSyscallError("ptrace(PTRACE_GETREGS)", err)
	}
	// Drop the stack, vDSO and everything else the kernel mapped: the
	// guest owns the whole range below the stub page.
	if _, err := t.syscall(unix.SYS_MUNMAP, 0, stubAddr); err != nil {
		t.kill()
		return nil, fmt.Errorf("ptrace: cleaning stub: %w", err)
	}
	if _, err := t.syscall(unix.SYS_MUNMAP, stubAddr+stubSize, userTop-(stubAddr+stubSize)); err != nil {
		t.kill()
		return nil, fmt.Errorf("ptrace: cleaning stub: %w", err)
	}
	return t, nil
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
