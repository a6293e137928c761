// Package cmd holds runsc's subcommands, one per file.
package cmd

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"golang.org/x/sys/unix"
)

// Do is `runsc do CMD [ARG...]`: it runs a command in a new sandbox whose
// root is the host's root under an in-memory overlay, with a private /tmp,
// /dev, /proc and /sys, and exits with the command's status.
type Do struct{}

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

If the sandbox crashes instead (a bug in the Sentry, or its gofer dies),
runsc prints "runsc do: sandbox crashed: REASON" and kills itself with
SIGABRT, without a core dump: a shell shows status 134 ("Aborted"), and a
parent's wait sees death by signal, which no exit status of CMD can be.
`
}

// SetFlags implements subcommands.Command.
func (*Do) SetFlags(*flag.FlagSet) {}

// Execute implements subcommands.Command.
func (*Do) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
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
	status, err := runSandbox(conf, f.Args())
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

// sandboxHostID is the host UID and GID the Sentry's root maps to: the
// overflow ID "nobody", which owns no host files. A Sentry that escaped
// its seccomp filter and chroot would be nobody on the host.
const sandboxHostID = 65534

// sandboxIDMap maps the sandbox's root, and only it, to sandboxHostID.
var sandboxIDMap = []syscall.SysProcIDMap{{ContainerID: 0, HostID: sandboxHostID, Size: 1}}

// runSandbox starts the gofer and the sandbox for argv and returns the
// command's shell-style exit status.
func runSandbox(conf *config.Config, argv []string) (int, error) {
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

	gofer := exec.Command(self, append(conf.ToFlags(), "gofer", "--root=/", "--fd=3", "--read-only")...)
	gofer.ExtraFiles = []*os.File{goferEnd}
	gofer.Stderr = os.Stderr
	// Own sessions for the gofer and the sandbox: signals from the
	// caller's terminal (^C) reach runsc alone, which passes them on.
	gofer.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC, Pdeathsig: syscall.SIGKILL, Setsid: true}
	if err := gofer.Start(); err != nil {
		return 0, permissionHint(fmt.Errorf("starting gofer: %w", err))
	}
	defer func() {
		gofer.Process.Kill()
		gofer.Wait()
	}()

	newBoot := func(userns bool) *exec.Cmd {
		boot := exec.Command(self, append(conf.ToFlags(), "boot", "--gofer-fd=3", "--status-fd=4", "--cwd="+cwd, "--")...)
		boot.Args = append(boot.Args, argv...)
		boot.ExtraFiles = []*os.File{sentryEnd, statusW}
		boot.Stdin, boot.Stdout, boot.Stderr = os.Stdin, os.Stdout, os.Stderr
		boot.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags: sandboxNamespaces &^ unix.CLONE_NEWUSER,
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
	goferEnd.Close()
	sentryEnd.Close()
	statusW.Close()

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
		if msg, ok := strings.CutPrefix(line, "error "); ok {
			return 0, errors.New(msg)
		}
		return 0, fmt.Errorf("sandbox failed to start")
	}
	return superviseSandbox(boot, gofer, status)
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
