package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/subcommands"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"github.com/palisade-sandbox/palisade/runsc/container"
	"github.com/palisade-sandbox/palisade/runsc/control"
	"golang.org/x/sys/unix"
)

// Exec is `runsc exec`: it runs another process in a running container,
// waits for it and exits with its status. With --detach a runsc process
// of its own does the waiting (its PID goes to --pid-file, and its exit
// status is the process's, as containerd's shim expects of runc).
type Exec struct {
	processPath   string
	detach        bool
	tty           bool
	consoleSocket string
	cwd           string
	env           stringList
	user          string
	addGIDs       stringList
	caps          stringList
	noNewPrivs    bool
	pidFile       string
	preserveFDs   int
	processLabel  string
	apparmor      string
	// notifyFD is set in the runsc process a detached exec starts: it
	// reports "ok" or an error there once the process has started.
	notifyFD int
}

// stringList collects a repeated flag.
type stringList []string

// String implements flag.Value.
func (s *stringList) String() string { return strings.Join(*s, ",") }

// Set implements flag.Value.
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// Name implements subcommands.Command.
func (*Exec) Name() string { return "exec" }

// Synopsis implements subcommands.Command.
func (*Exec) Synopsis() string { return "run another process in a running container" }

// Usage implements subcommands.Command.
func (*Exec) Usage() string {
	return `exec [flags] <container-id> [command [args...]]
       exec [flags] --process process.json <container-id>

Runs a process in the container's sandbox and exits with its status
(128+N for death by signal N). Unset properties come from the container's
own process (environment, user, capabilities, working directory).

Flags:
`
}

// SetFlags implements subcommands.Command.
func (e *Exec) SetFlags(f *flag.FlagSet) {
	f.StringVar(&e.processPath, "process", "", "JSON file of the OCI process to run")
	f.StringVar(&e.processPath, "p", "", "short for --process")
	f.BoolVar(&e.detach, "detach", false, "return once the process has started")
	f.BoolVar(&e.detach, "d", false, "short for --detach")
	f.BoolVar(&e.tty, "tty", false, "give the process a terminal (sent to --console-socket)")
	f.BoolVar(&e.tty, "t", false, "short for --tty")
	f.StringVar(&e.consoleSocket, "console-socket", "", "unix socket to send the terminal's master to")
	f.StringVar(&e.cwd, "cwd", "", "working directory in the container")
	f.Var(&e.env, "env", "set an environment variable (NAME=VALUE; repeatable)")
	f.Var(&e.env, "e", "short for --env")
	f.StringVar(&e.user, "user", "", "UID[:GID] to run as")
	f.StringVar(&e.user, "u", "", "short for --user")
	f.Var(&e.addGIDs, "additional-gids", "an additional group ID (repeatable)")
	f.Var(&e.addGIDs, "g", "short for --additional-gids")
	f.Var(&e.caps, "cap", "add a capability (repeatable)")
	f.Var(&e.caps, "c", "short for --cap")
	f.BoolVar(&e.noNewPrivs, "no-new-privs", false, "set no_new_privs for the process")
	f.StringVar(&e.pidFile, "pid-file", "", "file to write the PID of the runsc process that waits for the process (--detach)")
	f.IntVar(&e.preserveFDs, "preserve-fds", 0, "pass N more descriptors (only 0 is supported)")
	f.StringVar(&e.processLabel, "process-label", "", "SELinux label (not supported)")
	f.StringVar(&e.apparmor, "apparmor", "", "AppArmor profile (not supported)")
	f.IntVar(&e.notifyFD, "internal-notify-fd", -1, "internal: report the start on this descriptor")
}

// Execute implements subcommands.Command.
func (e *Exec) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	conf := args[0].(*config.Config)
	status, err := e.run(conf, f)
	if err != nil {
		if e.notifyFD >= 0 {
			n := os.NewFile(uintptr(e.notifyFD), "notify")
			fmt.Fprintf(n, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
			n.Close()
			return subcommands.ExitFailure
		}
		return fail(conf, "exec", err)
	}
	os.Exit(status)
	return subcommands.ExitSuccess
}

// run does the work of Execute and returns the process's status.
func (e *Exec) run(conf *config.Config, f *flag.FlagSet) (int, error) {
	id, err := oneID(f)
	if err != nil {
		return 0, err
	}
	if e.preserveFDs != 0 {
		return 0, fmt.Errorf("--preserve-fds=%d: passing extra descriptors is not supported", e.preserveFDs)
	}
	if e.processLabel != "" {
		return 0, fmt.Errorf("--process-label: SELinux labels are not supported")
	}
	ct, err := container.Load(conf.Root, id)
	if err != nil {
		return 0, err
	}
	if st := ct.CurrentStatus(); st != container.Running {
		return 0, fmt.Errorf("container %q is %s, not running", id, st)
	}
	proc, err := e.process(ct, f.Args()[1:])
	if err != nil {
		return 0, err
	}
	if e.detach {
		return 0, e.detachRun(conf, proc.Terminal)
	}
	// Signals for the process go to it. Caught from here on, so that
	// no resize is missed once the terminal is ours.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	defer signal.Stop(sigs)
	stdio := []int{0, 1, 2}
	resizes := false
	if proc.Terminal {
		replica, err := newConsole(e.consoleSocket, proc.ConsoleSize)
		if err != nil {
			return 0, err
		}
		defer replica.Close()
		fd := int(replica.Fd())
		stdio = []int{fd, fd, fd}
		resizes = watchResizes(fd)
	}
	req := execRequest(proc)
	resp, err := control.Call(ct.Dir(), &control.Request{Op: &control.Request_Exec{Exec: req}}, stdio, controlTimeout)
	if err != nil {
		return 0, err
	}
	pid := resp.GetExec().Pid
	if e.notifyFD >= 0 {
		n := os.NewFile(uintptr(e.notifyFD), "notify")
		fmt.Fprintf(n, "ok %d\n", pid)
		n.Close()
	}
	go func() {
		for s := range sigs {
			if s == unix.SIGWINCH && resizes {
				// The terminal changed size: the sandbox reads
				// the new one from its copy of the replica.
				control.Call(ct.Dir(), &control.Request{Op: &control.Request_Resize{Resize: &control.ResizeRequest{Pid: pid}}}, nil, controlTimeout)
				continue
			}
			control.Call(ct.Dir(), &control.Request{Op: &control.Request_Signal{Signal: &control.SignalRequest{Signal: int32(s.(unix.Signal)), Pid: pid}}}, nil, controlTimeout)
		}
	}()
	wresp, err := control.Call(ct.Dir(), &control.Request{Op: &control.Request_Wait{Wait: &control.WaitRequest{Pid: pid}}}, nil, 0)
	if err != nil {
		// The sandbox went away (the container stopped): the process
		// died with it.
		return 128 + int(unix.SIGKILL), nil
	}
	return int(wresp.GetWait().Status), nil
}

// detachRun starts a runsc process that runs the exec without --detach,
// waits until it reports the start, and writes its PID to --pid-file.
func (e *Exec) detachRun(conf *config.Config, terminal bool) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	var args []string
	for _, a := range os.Args[1:] {
		if a == "-d" || a == "--detach" || a == "-detach" || a == "--detach=true" || a == "-d=true" {
			continue
		}
		args = append(args, a)
	}
	// The notify flag must come after the subcommand name.
	for i, a := range args {
		if a == "exec" {
			args = append(args[:i+1], append([]string{"--internal-notify-fd=3"}, args[i+1:]...)...)
			break
		}
	}
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if terminal {
		// The process's stdio is the terminal: the waiting process
		// needs none of ours, and must not hold our stdout, which
		// the caller may read to its end (containerd's shim does
		// before the exec counts as started). It reports on the
		// notify descriptor.
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	}
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return err
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		cmd.Wait()
		return fmt.Errorf("%s", msg)
	}
	if !strings.HasPrefix(line, "ok ") {
		cmd.Wait()
		return fmt.Errorf("the process failed to start")
	}
	if e.pidFile != "" {
		if err := writePIDFile(e.pidFile, cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			return fmt.Errorf("--pid-file: %w", err)
		}
	}
	return nil
}

// process builds the process to run from --process or the flags, over
// the container's own process.
func (e *Exec) process(ct *container.Container, argv []string) (*specs.Process, error) {
	if e.processPath != "" {
		fl, err := os.Open(e.processPath)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		defer fl.Close()
		b, err := io.ReadAll(io.LimitReader(fl, maxConfigSize))
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		p := &specs.Process{}
		if err := json.Unmarshal(b, p); err != nil {
			return nil, fmt.Errorf("--process %s: malformed: %w", e.processPath, err)
		}
		if len(p.Args) == 0 {
			return nil, fmt.Errorf("--process %s: args must not be empty", e.processPath)
		}
		if p.Cwd == "" {
			p.Cwd = "/"
		}
		return p, nil
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("a command is required")
	}
	base := ct.Spec.Process
	p := &specs.Process{Args: argv, Env: append(append([]string{}, base.Env...), e.env...), Cwd: base.Cwd,
		User: base.User, Capabilities: base.Capabilities, NoNewPrivileges: base.NoNewPrivileges || e.noNewPrivs,
		Terminal: e.tty}
	p.User.Umask = nil
	if e.cwd != "" {
		p.Cwd = e.cwd
	}
	if e.user != "" {
		u, g, hasG := strings.Cut(e.user, ":")
		uid, err := strconv.ParseUint(u, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user=%q: want UID[:GID] as numbers", e.user)
		}
		p.User = specs.User{UID: uint32(uid)}
		if hasG {
			gid, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user=%q: want UID[:GID] as numbers", e.user)
			}
			p.User.GID = uint32(gid)
		}
	}
	for _, g := range e.addGIDs {
		gid, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--additional-gids=%q: not a number", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(gid))
	}
	if len(e.caps) > 0 {
		c := specs.LinuxCapabilities{}
		if p.Capabilities != nil {
			c = *p.Capabilities
		}
		c.Bounding = append(append([]string{}, c.Bounding...), e.caps...)
		c.Effective = append(append([]string{}, c.Effective...), e.caps...)
		c.Permitted = append(append([]string{}, c.Permitted...), e.caps...)
		p.Capabilities = &c
	}
	return p, nil
}

// execRequest turns an OCI process into the control request.
func execRequest(p *specs.Process) *control.ExecRequest {
	r := &control.ExecRequest{Argv: p.Args, Env: p.Env, Cwd: p.Cwd, Uid: p.User.UID, Gid: p.User.GID,
		AdditionalGids: p.User.AdditionalGids, NoNewPrivileges: p.NoNewPrivileges, Terminal: p.Terminal}
	if p.User.Umask != nil {
		r.Umask, r.HasUmask = *p.User.Umask, true
	}
	if c := p.Capabilities; c != nil {
		r.Bounding, r.Effective, r.Inheritable, r.Permitted, r.Ambient = c.Bounding, c.Effective, c.Inheritable, c.Permitted, c.Ambient
	}
	return r
}

// watchResizes makes the terminal replica the controlling terminal of
// this process, in a session of its own, so that the host kernel sends
// it SIGWINCH when the terminal's master (docker's shim) sets a new
// size; it reports whether that worked. The detached runsc exec, which
// starts a session of its own, always can; a runsc exec run from a
// shell's job may not (it leads a process group), and then resizes do
// not reach the process.
func watchResizes(fd int) bool {
	unix.Setsid()
	return unix.IoctlSetInt(fd, unix.TIOCSCTTY, 0) == nil
}
