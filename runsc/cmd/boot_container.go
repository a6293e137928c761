package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/palisade-sandbox/palisade/runsc/boot"
	"github.com/palisade-sandbox/palisade/runsc/control"
	"github.com/palisade-sandbox/palisade/runsc/resident"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
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
	// text is runsc's code, whose pages the sandbox drops from its
	// page tables when start-up is over (at create and at start).
	text *resident.Text
	// execs are the processes runsc exec started, by PID, kept for
	// Wait after they are gone.
	execs map[int32]*kernel.ThreadGroup
	// waiters counts control connections waiting for an exit, which
	// boot lets answer before it exits.
	waiters sync.WaitGroup
}

// handle serves one control request.
func (cs *containerServer) handle(req *control.Request, fds []int) *control.Response {
	defer func() {
		for _, fd := range fds {
			if fd >= 0 {
				unix.Close(fd)
			}
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
			// As under runc, a container whose process could not
			// start is stopped: the sandbox exits with the shell's
			// status for it, which the shim waits for.
			cs.status = 126
			var cmdErr *boot.CommandError
			if errors.As(err, &cmdErr) {
				cs.status = cmdErr.Status
			}
			close(cs.exited)
			return fail(err)
		}
		go cs.waitInit()
		cs.text.DropEvery()
		return &control.Response{}
	case *control.Request_State:
		st := &control.StateResponse{Status: "created"}
		if cs.isExited() {
			st.Status = "stopped"
		} else if tg := cs.s.Init(); tg != nil {
			st.Status = "running"
			if cs.s.Kernel().IsPaused() {
				st.Status = "paused"
			}
			st.InitPid = 1
		}
		return &control.Response{Result: &control.Response_State{State: st}}
	case *control.Request_Signal:
		return cs.signal(op.Signal)
	case *control.Request_Exec:
		return cs.exec(op.Exec, fds)
	case *control.Request_Pause:
		if cs.s.Init() == nil || cs.isExited() {
			return fail(fmt.Errorf("the container is not running"))
		}
		if err := cs.s.Kernel().Pause(); err != nil {
			return fail(err)
		}
		return &control.Response{}
	case *control.Request_Resume:
		cs.s.Kernel().Resume()
		return &control.Response{}
	case *control.Request_Processes:
		var out []*control.Process
		for _, p := range cs.s.Kernel().Processes() {
			cmd := strings.Join(p.Argv, " ")
			if cmd == "" {
				cmd = "[" + p.Comm + "]"
			}
			out = append(out, &control.Process{Pid: p.PID, Ppid: p.PPID, Uid: p.UID, Cmd: cmd, HostPid: int32(p.HostPID),
				StartTimeNs: uint64(p.StartTime.UnixNano()), CpuNs: uint64(p.CPU.Total()), State: string(p.State), Threads: int32(p.Threads)})
		}
		return &control.Response{Result: &control.Response_Processes{Processes: &control.ProcessesResponse{Processes: out}}}
	case *control.Request_Events:
		st := cs.s.Kernel().Stats()
		return &control.Response{Result: &control.Response_Events{Events: &control.EventsResponse{
			CpuUserNs: uint64(st.CPU.User), CpuSystemNs: uint64(st.CPU.Sys), MemoryUsage: st.MemoryUsage, Pids: uint64(st.Processes)}}}
	case *control.Request_AttachLink:
		if len(fds) != 1 {
			return fail(fmt.Errorf("attach link: want one packet socket, got %d descriptors", len(fds)))
		}
		var l boot.Link
		if err := json.Unmarshal([]byte(op.AttachLink.LinkJson), &l); err != nil {
			return fail(fmt.Errorf("attach link: %w", err))
		}
		cs.mu.Lock()
		defer cs.mu.Unlock()
		if cs.isExited() {
			return fail(fmt.Errorf("the container has stopped"))
		}
		fd := fds[0]
		fds[0] = -1 // AttachLink owns it now
		if err := boot.AttachLink(cs.s.Kernel(), l, fd); err != nil {
			return fail(err)
		}
		return &control.Response{}
	case *control.Request_Resize:
		if err := cs.s.ResizeTerminal(op.Resize.Pid); err != nil {
			return fail(err)
		}
		return &control.Response{}
	case *control.Request_Wait:
		if op.Wait.Pid != 0 && op.Wait.Pid != 1 {
			tg := cs.execByPID(op.Wait.Pid)
			if tg == nil {
				return fail(fmt.Errorf("no process %d was started by exec", op.Wait.Pid))
			}
			status := tg.WaitExit().ShellStatus()
			cs.s.FlushTerminal(tg)
			return &control.Response{Result: &control.Response_Wait{Wait: &control.WaitResponse{Status: int32(status)}}}
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
	if r.All {
		cs.s.Kernel().SignalAll(sig)
		return &control.Response{}
	}
	if r.Pid != 0 && r.Pid != 1 {
		target := cs.s.Kernel().ThreadGroupByID(r.Pid)
		if target == nil {
			return &control.Response{Error: fmt.Sprintf("no process %d", r.Pid)}
		}
		tg = target
	}
	cs.s.Kernel().SignalProcess(tg, sig)
	return &control.Response{}
}

// maxExecs bounds the exec'd processes remembered for Wait.
const maxExecs = 1024

// exec starts a process for runsc exec with the request's stdio.
func (cs *containerServer) exec(r *control.ExecRequest, fds []int) *control.Response {
	if len(fds) != 3 {
		return &control.Response{Error: fmt.Sprintf("exec needs 3 descriptors (stdin, stdout, stderr), got %d", len(fds))}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.s.Init() == nil || cs.isExited() {
		return &control.Response{Error: "the container is not running"}
	}
	umask := uint32(0022)
	if r.HasUmask {
		umask = r.Umask & 0777
	}
	a := boot.ExecArgs{Argv: r.Argv, Env: r.Env, Cwd: r.Cwd, Umask: umask, Stdio: [3]int{fds[0], fds[1], fds[2]},
		Creds: boot.ProcessCredentials{UID: r.Uid, GID: r.Gid, AdditionalGIDs: r.AdditionalGids,
			Bounding: r.Bounding, Effective: r.Effective, Inheritable: r.Inheritable, Permitted: r.Permitted, Ambient: r.Ambient,
			NoNewPrivs: r.NoNewPrivileges}, Terminal: r.Terminal}
	tg, err := cs.s.Exec(a)
	// Exec took the descriptors over.
	for i := range fds {
		fds[i] = -1
	}
	if err != nil {
		return &control.Response{Error: err.Error()}
	}
	if len(cs.execs) >= maxExecs {
		for pid, old := range cs.execs {
			select {
			case <-old.Exited():
				delete(cs.execs, pid)
			default:
			}
		}
	}
	pid := tg.ID()
	cs.execs[pid] = tg
	return &control.Response{Result: &control.Response_Exec{Exec: &control.ExecResponse{Pid: pid}}}
}

// execByPID returns the process runsc exec started as pid, or nil.
func (cs *containerServer) execByPID(pid int32) *kernel.ThreadGroup {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.execs[pid]
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
func serveContainer(s *boot.Sandbox, controlFD int, text *resident.Text) {
	// The sandbox's own root is refused; in the host's user namespace
	// (no user namespace could be made) there is no such user.
	refuseUID := uint32(0)
	if m, err := os.ReadFile("/proc/self/uid_map"); err == nil && len(m) > 0 && string(m) == initialUIDMap(m) {
		refuseUID = ^uint32(0)
	}
	cs := &containerServer{s: s, exited: make(chan struct{}), execs: map[int32]*kernel.ThreadGroup{}, text: text}
	srv, err := control.NewServer(os.NewFile(uintptr(controlFD), "control"), refuseUID, cs.handle)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runsc boot: %v\n", err)
		os.Exit(1)
	}
	go srv.Serve()
	cs.text.Drop()
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
	srv.Drain(time.Second)
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
