package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/palisade-sandbox/palisade/runsc/boot"
	"github.com/palisade-sandbox/palisade/runsc/control"
	"golang.org/x/sys/unix"
)

// maxContainerConfig bounds the container description runsc create
// sends to boot (the spec and copies of small bind-mounted files).
const maxContainerConfig = 64 << 20

// readContainerConfig reads the ContainerConfig JSON from fd.
func readContainerConfig(fd int) (*boot.ContainerConfig, error) {
	f := os.NewFile(uintptr(fd), "container-config")
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxContainerConfig+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxContainerConfig {
		return nil, fmt.Errorf("container configuration larger than %d bytes", maxContainerConfig)
	}
	cc := &boot.ContainerConfig{}
	if err := json.Unmarshal(b, cc); err != nil {
		return nil, fmt.Errorf("container configuration: %w", err)
	}
	if cc.Spec == nil || cc.Spec.Process == nil {
		return nil, fmt.Errorf("container configuration has no process")
	}
	return cc, nil
}

// containerServer serves the control socket of a container's sandbox.
type containerServer struct {
	s *boot.Sandbox

	mu sync.Mutex
	// exited is closed when the first process has exited (or the
	// container was killed before it started); status is then its
	// shell-style status.
	exited chan struct{}
	status int
	// waiters counts control connections waiting for an exit, which
	// boot lets answer before it exits.
	waiters sync.WaitGroup
}

// handle serves one control request.
func (cs *containerServer) handle(req *control.Request, fds []int) *control.Response {
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	fail := func(err error) *control.Response { return &control.Response{Error: err.Error()} }
	switch op := req.Op.(type) {
	case *control.Request_Start:
		cs.mu.Lock()
		defer cs.mu.Unlock()
		if cs.isExited() {
			return fail(fmt.Errorf("the container has stopped"))
		}
		if err := cs.s.Start(); err != nil {
			return fail(err)
		}
		go cs.waitInit()
		return &control.Response{}
	case *control.Request_State:
		st := &control.StateResponse{Status: "created"}
		if cs.isExited() {
			st.Status = "stopped"
		} else if tg := cs.s.Init(); tg != nil {
			st.Status = "running"
			st.InitPid = 1
		}
		return &control.Response{Result: &control.Response_State{State: st}}
	case *control.Request_Signal:
		return cs.signal(op.Signal)
	case *control.Request_Wait:
		if op.Wait.Pid != 0 && op.Wait.Pid != 1 {
			return fail(fmt.Errorf("waiting for process %d is not supported", op.Wait.Pid))
		}
		cs.waiters.Add(1)
		defer cs.waiters.Done()
		<-cs.exited
		return &control.Response{Result: &control.Response_Wait{Wait: &control.WaitResponse{Status: int32(cs.status)}}}
	}
	return fail(fmt.Errorf("request %T is not supported by this sandbox", req.Op))
}

func (cs *containerServer) isExited() bool {
	select {
	case <-cs.exited:
		return true
	default:
		return false
	}
}

// signal sends a signal to the first process, or to every process.
func (cs *containerServer) signal(r *control.SignalRequest) *control.Response {
	sig := int(r.Signal)
	if sig <= 0 || sig > 64 {
		return &control.Response{Error: fmt.Sprintf("invalid signal %d", sig)}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.isExited() {
		return &control.Response{Error: "the container is not running"}
	}
	tg := cs.s.Init()
	if tg == nil {
		// A created container has no process yet: like runc's
		// waiting init, it ends on any signal whose default action
		// ends a process, and ignores others.
		if defaultIgnored(sig) {
			return &control.Response{}
		}
		cs.status = 128 + sig
		close(cs.exited)
		return &control.Response{}
	}
	if r.Pid != 0 && r.Pid != 1 {
		return &control.Response{Error: fmt.Sprintf("signalling process %d is not supported", r.Pid)}
	}
	cs.s.Kernel().SignalProcess(tg, sig)
	return &control.Response{}
}

// defaultIgnored reports whether sig's default action is to ignore it
// (or, for SIGCONT, to continue): SIGCHLD, SIGCONT, SIGURG, SIGWINCH.
func defaultIgnored(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGCHLD, unix.SIGCONT, unix.SIGURG, unix.SIGWINCH:
		return true
	}
	return false
}

// waitInit waits for the first process and records its status.
func (cs *containerServer) waitInit() {
	code, err := cs.s.Wait()
	if err != nil {
		fmt.Fprintf(os.Stderr, "runsc boot: sandbox crashed: %v\n", err)
		os.Exit(bootCrashExitCode)
	}
	cs.mu.Lock()
	if !cs.isExited() {
		cs.status = code
		close(cs.exited)
	}
	cs.mu.Unlock()
}

// serveContainer runs a container's sandbox until its first process
// exits, then exits with its status.
func serveContainer(s *boot.Sandbox, controlFD int) {
	// The sandbox's own root is refused; in the host's user namespace
	// (no user namespace could be made) there is no such user.
	refuseUID := uint32(0)
	if m, err := os.ReadFile("/proc/self/uid_map"); err == nil && len(m) > 0 && string(m) == initialUIDMap(m) {
		refuseUID = ^uint32(0)
	}
	cs := &containerServer{s: s, exited: make(chan struct{})}
	srv, err := control.NewServer(os.NewFile(uintptr(controlFD), "control"), refuseUID, cs.handle)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runsc boot: %v\n", err)
		os.Exit(1)
	}
	go srv.Serve()
	<-cs.exited
	// Let connections waiting for the exit answer, for at most a
	// second: runsc wait is a convenience, the exit status of this
	// process is the record.
	done := make(chan struct{})
	go func() { cs.waiters.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	srv.Close()
	os.Exit(cs.status)
}

// initialUIDMap returns m if it is the initial user namespace's map
// ("0 0 4294967295"), else "".
func initialUIDMap(m []byte) string {
	var a, b, n uint64
	if _, err := fmt.Sscan(string(m), &a, &b, &n); err == nil && a == 0 && b == 0 && n == 4294967295 {
		return string(m)
	}
	return ""
}
