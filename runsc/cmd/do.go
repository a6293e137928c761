// Package cmd holds runsc's subcommands, one per file.
package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/gofer"
	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"github.com/palisade-sandbox/palisade/runsc/network"
	"golang.org/x/sys/unix"
)

// Do is `runsc do CMD [ARG...]`: it runs a command in a new sandbox whose
// root is the host's root under an in-memory overlay, with a private /tmp,
// /dev, /proc and /sys, and exits with the command's status.
type Do struct {
	// Global is runsc's global configuration; its flags are accepted
	// after `do` too.
	Global  *config.Config
	volumes volumeFlags
}

// volumeFlags collects repeated --volume=HOST:GUEST flags.
type volumeFlags []volume

// volume is a host directory served as a file system of its own at a
// location in the sandbox.
type volume struct {
	host, guest string
}

// String implements flag.Value.
func (v *volumeFlags) String() string {
	var parts []string
	for _, vol := range *v {
		parts = append(parts, vol.host+":"+vol.guest)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value. It checks the shape only; runSandbox checks
// the host directory.
func (v *volumeFlags) Set(s string) error {
	host, guest, ok := strings.Cut(s, ":")
	if !ok {
		guest = host
	}
	if !filepath.IsAbs(host) || !filepath.IsAbs(guest) {
		return fmt.Errorf("want HOST[:GUEST] with absolute paths, got %q", s)
	}
	*v = append(*v, volume{host: filepath.Clean(host), guest: filepath.Clean(guest)})
	return nil
}

// Name implements subcommands.Command.
func (*Do) Name() string { return "do" }

// Synopsis implements subcommands.Command.
func (*Do) Synopsis() string { return "run a command in a new sandbox" }

// Usage implements subcommands.Command.
func (*Do) Usage() string {
	return `do [flags] CMD [ARG...]

Runs CMD in a new sandbox. The sandbox's root is the host's root filesystem
under a writable overlay kept in sandbox memory (nothing reaches the host),
with a private tmpfs at /tmp, a private /dev and its own /proc and /sys.
The working directory and environment are the caller's. runsc exits with
CMD's exit status, or 128+N if CMD was killed by signal N.

Only the host root's own file system is served: what is mounted below it
on the host (/proc, /sys, /dev, a /home on its own partition, ...) is not.
--volume=HOST[:GUEST] adds a host directory as a file system of its own at
GUEST (default: the same path; it must exist in the sandbox), under an
in-memory overlay like the root. Directories on host pseudo-file systems
(proc, sysfs, devtmpfs, cgroup, ...) are refused.

If the sandbox crashes instead (a bug in the Sentry, or its gofer dies),
runsc prints "runsc do: sandbox crashed: REASON" and kills itself with
SIGABRT, without a core dump: a shell shows status 134 ("Aborted"), and a
parent's wait sees death by signal, which no exit status of CMD can be.

Flags:
`
}

// SetFlags implements subcommands.Command.
func (d *Do) SetFlags(f *flag.FlagSet) {
	if d.Global != nil {
		d.Global.RegisterFlagsAgain(f)
	}
	f.Var(&d.volumes, "volume", "serve host directory HOST at GUEST in the sandbox (HOST[:GUEST]; repeatable)")
}

// Execute implements subcommands.Command.
func (d *Do) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	conf := args[0].(*config.Config)
	fail := func(err error) subcommands.ExitStatus {
		fmt.Fprintf(os.Stderr, "runsc do: %v\n", err)
		return subcommands.ExitFailure
	}
	if f.NArg() == 0 {
		fmt.Fprint(os.Stderr, "runsc do: missing command\nusage: runsc "+(&Do{}).Usage())
		return subcommands.ExitUsageError
	}
	if err := conf.Validate(); err != nil {
		return fail(err)
	}
	if err := checkStaticBuild(); err != nil {
		return fail(err)
	}
	for _, v := range d.volumes {
		if err := gofer.CheckServable(v.host); err != nil {
			return fail(fmt.Errorf("--volume=%s:%s: %w", v.host, v.guest, err))
		}
	}
	restore := saveStdio()
	status, err := runSandbox(conf, f.Args(), d.volumes)
	restore()
	if err != nil {
		abortIfCrashed(err) // returns only if err is no crash
		return fail(err)
	}
	os.Exit(status)
	return subcommands.ExitSuccess
}

// sandboxNamespaces are the namespaces of the boot process. The user
// namespace comes first (the kernel creates it before the others, which it
// then owns): the Sentry is root there, with every capability over its own
// namespaces, and none over the host's.
const sandboxNamespaces = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWNET

// bootNamespaces are sandboxNamespaces without the network namespace
// for --network=host: the Sentry's host sockets live in the caller's.
func bootNamespaces(conf *config.Config) uintptr {
	if conf.Network == "host" {
		return sandboxNamespaces &^ unix.CLONE_NEWNET
	}
	return sandboxNamespaces
}

// sandboxHostID is the host UID and GID the Sentry's root maps to: the
// overflow ID "nobody", which owns no host files. A Sentry that escaped
// its seccomp filter and chroot would be nobody on the host.
const sandboxHostID = 65534

// sandboxIDMap maps the sandbox's root, and only it, to sandboxHostID.
var sandboxIDMap = []syscall.SysProcIDMap{{ContainerID: 0, HostID: sandboxHostID, Size: 1}}

// runSandbox starts the gofer and the sandbox for argv and returns the
// command's shell-style exit status.
func runSandbox(conf *config.Config, argv []string, volumes []volume) (int, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	goferEnd, sentryEnd, err := protocol.Socketpair()
	if err != nil {
		return 0, err
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer statusR.Close()

	goferArgs := append(conf.ToFlags(), "gofer", "--root=/", "--fd=3", "--read-only")
	goferFiles := []*os.File{goferEnd}
	bootArgs := []string{"boot", "--gofer-fd=3", "--status-fd=4", "--cwd=" + cwd}
	bootFiles := []*os.File{sentryEnd, statusW}
	for _, v := range volumes {
		g, s, err := protocol.Socketpair()
		if err != nil {
			return 0, err
		}
		defer g.Close()
		defer s.Close()
		goferArgs = append(goferArgs, fmt.Sprintf("--mount=%s:%d", v.host, 3+len(goferFiles)))
		goferFiles = append(goferFiles, g)
		bootArgs = append(bootArgs, fmt.Sprintf("--volume=%s:%d", v.guest, 3+len(bootFiles)))
		bootFiles = append(bootFiles, s)
	}
	var reaper *natReaper
	if conf.Network == "sandbox" {
		tk, r, err := sandboxNetwork(self, conf)
		if r != nil {
			// The reaper removes the NAT once boot is gone (or, if boot
			// never starts, once runsc do is done); wait for it.
			reaper = r
			defer r.finish()
		}
		if err != nil {
			return 0, err
		}
		if r == nil {
			// The addresses go back when the sandbox is gone.
			defer func() {
				if err := tk.Restore(); err != nil {
					fmt.Fprintf(os.Stderr, "runsc do: %v\n", err)
				}
			}()
		}
		for i, f := range tk.Files {
			tk.Links[i].FD = 3 + len(bootFiles)
			bootFiles = append(bootFiles, f)
		}
		b, err := json.Marshal(tk.Links)
		if err != nil {
			return 0, err
		}
		bootArgs = append(bootArgs, "--links="+string(b))
	}
	gofer := exec.Command(self, goferArgs...)
	gofer.ExtraFiles = goferFiles
	// A pipe, copied to runsc's stderr: the gofer holds no descriptor of
	// the caller's.
	gofer.Stderr = struct{ io.Writer }{os.Stderr}
	// Own sessions for the gofer and the sandbox: signals from the
	// caller's terminal (^C) reach runsc alone, which passes them on. The
	// gofer's mount namespace is where gofer.Confine builds its root.
	gofer.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWPID | unix.CLONE_NEWUTS,
		Pdeathsig:  syscall.SIGKILL,
		Setsid:     true,
	}
	if err := gofer.Start(); err != nil {
		return 0, permissionHint(fmt.Errorf("starting gofer: %w", err))
	}
	defer func() {
		gofer.Process.Kill()
		gofer.Wait()
	}()

	newBoot := func(userns bool) *exec.Cmd {
		boot := exec.Command(self, append(append(conf.ToFlags(), bootArgs...), "--")...)
		boot.Args = append(boot.Args, argv...)
		boot.ExtraFiles = bootFiles
		boot.Stdin, boot.Stdout, boot.Stderr = os.Stdin, os.Stdout, os.Stderr
		boot.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags: bootNamespaces(conf) &^ unix.CLONE_NEWUSER,
			Pdeathsig:  syscall.SIGKILL,
			Setsid:     true,
		}
		if userns {
			a := boot.SysProcAttr
			a.Cloneflags |= unix.CLONE_NEWUSER
			a.UidMappings, a.GidMappings = sandboxIDMap, sandboxIDMap
			// The boot process never needs setgroups; "deny" also
			// keeps it from dropping groups to get around negative
			// permissions.
			a.GidMappingsEnableSetgroups = false
			// Become the namespace's root (host nobody) before exec,
			// so runsc boot starts with the namespace's capabilities.
			a.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
		}
		return boot
	}
	boot := newBoot(true)
	err = boot.Start()
	if err != nil && userNamespaceRefused(err) {
		// Some hosts forbid user namespaces (a container's seccomp
		// profile, user.max_user_namespaces=0). Run without one, and
		// say so: the Sentry is then host root, though still with no
		// capabilities.
		fmt.Fprintf(os.Stderr, "runsc do: warning: no user namespace for the sandbox (%v); it runs as host root without capabilities\n", err)
		boot = newBoot(false)
		err = boot.Start()
	}
	if err != nil {
		return 0, permissionHint(fmt.Errorf("starting sandbox: %w", err))
	}
	if reaper != nil {
		if err := reaper.watch(boot.Process.Pid); err != nil {
			boot.Process.Kill()
			boot.Wait()
			return 0, fmt.Errorf("--network=sandbox: handing the sandbox to its network reaper: %w", err)
		}
	}
	for _, f := range append(goferFiles, bootFiles...) {
		f.Close()
	}

	// Signals for the command go to the sandbox, which passes them on.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			boot.Process.Signal(s)
		}
	}()

	status := bufio.NewReader(statusR)
	line, _ := status.ReadString('\n')
	line = strings.TrimSpace(line)
	if line != "ok" {
		boot.Wait()
		if rest, ok := strings.CutPrefix(line, statusNoCmd+" "); ok {
			// The command could not start: report it as a shell would.
			code, msg, _ := strings.Cut(rest, " ")
			if n, err := strconv.Atoi(code); err == nil && (n == 126 || n == 127) {
				fmt.Fprintf(os.Stderr, "runsc do: %s\n", msg)
				return n, nil
			}
		}
		if msg, ok := strings.CutPrefix(line, "error "); ok {
			return 0, errors.New(msg)
		}
		return 0, fmt.Errorf("sandbox failed to start")
	}
	return superviseSandbox(boot, gofer, status)
}

// sandboxNetwork sets up --network=sandbox. Outside the host's initial
// network namespace it takes over that namespace's interfaces. In the
// initial one it never touches the host's interfaces: it makes a
// namespace of the sandbox's own joined to the host by a veth pair with
// NAT (network.SetUpNAT), whose host state a netreaper process removes
// when the sandbox is gone; the reaper is returned, also with an error.
func sandboxNetwork(self string, conf *config.Config) (*network.Takeover, *natReaper, error) {
	initial, err := network.IsInitialNamespace()
	if err != nil {
		return nil, nil, err
	}
	if !initial {
		tk, err := network.TakeOver("")
		if err != nil {
			return nil, nil, fmt.Errorf("--network=sandbox: %w", err)
		}
		return tk, nil, nil
	}
	var reaper *natReaper
	n, err := network.SetUpNAT(network.StateDir, func(id string, state *os.File) error {
		r, err := startNATReaper(self, conf.ToFlags(), id, state)
		reaper = r
		return err
	})
	if err != nil {
		return nil, reaper, fmt.Errorf("--network=sandbox: %w", err)
	}
	if ns := network.LoopbackNameservers(); ns != "" {
		fmt.Fprintf(os.Stderr, "runsc do: warning: /etc/resolv.conf names only loopback nameservers (%s), which the sandbox cannot reach (docs/network.md)\n", ns)
	}
	return n.Takeover, reaper, nil
}

// userNamespaceRefused reports whether starting a process in a new user
// namespace failed because the host does not allow one.
func userNamespaceRefused(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EUSERS)
}

// permissionHint explains EPERM from namespace creation.
func permissionHint(err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w (runsc do needs root to create the sandbox's namespaces)", err)
	}
	return err
}

// saveStdio records the file status flags of the caller's stdin, stdout
// and stderr, and the settings of those that are terminals, and returns a
// function that puts them back. The sandbox shares these open file
// descriptions (a pipe's, a file's) with the caller, so a guest that sets
// O_NONBLOCK or raw mode on them would otherwise leave it set behind it.
func saveStdio() func() {
	type saved struct {
		fd      int
		flags   int
		termios *unix.Termios
	}
	var all []saved
	for fd := 0; fd < 3; fd++ {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil {
			continue
		}
		s := saved{fd: fd, flags: fl}
		if t, err := unix.IoctlGetTermios(fd, unix.TCGETS); err == nil {
			s.termios = t
		}
		all = append(all, s)
	}
	return func() {
		for _, s := range all {
			unix.FcntlInt(uintptr(s.fd), unix.F_SETFL, s.flags)
			// Only a changed terminal is set: tcsetattr from a
			// background job would stop runsc with SIGTTOU.
			if s.termios == nil {
				continue
			}
			if now, err := unix.IoctlGetTermios(s.fd, unix.TCGETS); err == nil && *now != *s.termios {
				unix.IoctlSetTermios(s.fd, unix.TCSETS, s.termios)
			}
		}
	}
}
