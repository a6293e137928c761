package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/runsc/boot"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"github.com/palisade-sandbox/palisade/runsc/resident"
	"golang.org/x/sys/unix"
)

// Boot is `runsc boot`: the sandbox process that hosts the Sentry. runsc
// starts it in fresh namespaces with the gofer socket and a status pipe.
type Boot struct {
	goferFD  int
	statusFD int
	cwd      string
	volumes  mountFlags
	// containerFD and controlFD are set for an OCI container's sandbox:
	// its configuration (JSON) and its control socket.
	containerFD int
	controlFD   int
	// logFD, if set, receives the Sentry's log instead of stderr (a
	// container's stderr is its process's).
	logFD int
	// links is the JSON of the interfaces runsc took over (runsc do
	// --network=sandbox; a container's come in its configuration).
	links string
}

// Name implements subcommands.Command.
func (*Boot) Name() string { return "boot" }

// Synopsis implements subcommands.Command.
func (*Boot) Synopsis() string { return "run the Sentry of a sandbox (internal)" }

// Usage implements subcommands.Command.
func (*Boot) Usage() string {
	return "boot --gofer-fd=N --status-fd=N --cwd=DIR [--volume=GUEST:FD]... -- CMD [ARG...]\n"
}

// SetFlags implements subcommands.Command.
func (b *Boot) SetFlags(f *flag.FlagSet) {
	f.IntVar(&b.goferFD, "gofer-fd", -1, "socket connected to the gofer")
	f.IntVar(&b.statusFD, "status-fd", -1, "pipe on which to report start-up success or failure")
	f.StringVar(&b.cwd, "cwd", "/", "working directory of the command")
	f.IntVar(&b.containerFD, "container-fd", -1, "pipe carrying an OCI container's configuration (JSON)")
	f.IntVar(&b.controlFD, "control-fd", -1, "listening control socket (containers)")
	f.IntVar(&b.logFD, "log-fd", -1, "descriptor for the Sentry's log when --debug-log is not set (default: stderr)")
	f.StringVar(&b.links, "links", "", "JSON description of the network interfaces taken over, with their packet sockets")
	f.Var(&b.volumes, "volume", "mount the file system a gofer serves on socket FD at GUEST (GUEST:FD; repeatable)")
}

// Execute implements subcommands.Command.
func (b *Boot) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	conf := args[0].(*config.Config)
	status := os.NewFile(uintptr(b.statusFD), "status")
	if status != nil {
		// Only boot may write the pipe: its closing tells runsc that
		// boot is gone.
		unix.CloseOnExec(b.statusFD)
	}
	report := func(err error) {
		if status != nil {
			writeStatus(status, statusError, err.Error())
			status.Close()
		}
	}
	var cc *boot.ContainerConfig
	var text *resident.Text
	argv, env, cwd := f.Args(), os.Environ(), b.cwd
	if b.containerFD >= 0 {
		// A container's sandbox lives long: it gives back its start-up
		// pages of runsc once it is idle (runsc/resident).
		text, _ = resident.FindText()
		var err error
		if cc, err = readContainerConfig(b.containerFD); err != nil {
			report(err)
			return subcommands.ExitFailure
		}
		argv, env, cwd = cc.Spec.Process.Args, cc.Spec.Process.Env, cc.Spec.Process.Cwd
		if cc.Spec.Process.Terminal {
			// The pty runsc made: the Sentry's controlling terminal,
			// so that window-size changes (SIGWINCH) and hang-ups
			// reach it, and through it the guest's foreground.
			unix.IoctlSetInt(0, unix.TIOCSCTTY, 0)
		}
		if len(argv) == 0 {
			report(fmt.Errorf("process.args must not be empty"))
			return subcommands.ExitFailure
		}
	}
	if len(argv) == 0 || b.goferFD < 0 {
		report(fmt.Errorf("boot: a command, --gofer-fd and --status-fd are required"))
		return subcommands.ExitUsageError
	}
	var volumes []boot.Volume
	for _, v := range b.volumes {
		volumes = append(volumes, boot.Volume{Target: v.dir, GoferFD: v.fd})
	}
	logOut, err := conf.LogOutput()
	if err != nil {
		report(err)
		return subcommands.ExitFailure
	}
	if b.logFD >= 0 {
		unix.CloseOnExec(b.logFD)
		if conf.DebugLog == "" {
			logOut = os.NewFile(uintptr(b.logFD), "log")
		}
	}
	var links []boot.Link
	if cc != nil {
		links = cc.Links
	} else if b.links != "" {
		if err := json.Unmarshal([]byte(b.links), &links); err != nil {
			report(fmt.Errorf("--links: %w", err))
			return subcommands.ExitUsageError
		}
	}
	for _, l := range links {
		unix.CloseOnExec(l.FD)
	}
	s, err := boot.New(boot.Args{
		Argv: argv, Env: env, Cwd: cwd, GoferFD: b.goferFD, Volumes: volumes, Container: cc, Limits: containerLimits(cc),
		Strace: conf.Strace, Debug: conf.Debug, Log: logOut, Network: conf.Network, Links: links,
		TestOnlyPanicOnSyscall: conf.TestOnlyPanicOnSyscall, MaxTasks: conf.MaxTasks, Platform: conf.Platform,
	})
	var cmdErr *boot.CommandError
	if errors.As(err, &cmdErr) {
		writeStatus(status, statusNoCmd, fmt.Sprintf("%d %s", cmdErr.Status, cmdErr.Err))
		status.Close()
		return subcommands.ExitFailure
	}
	if err != nil {
		report(err)
		return subcommands.ExitFailure
	}
	writeStatus(status, statusOK, "")
	if cc != nil {
		status.Close()
		serveContainer(s, b.controlFD, text) // does not return
	}
	code, err := s.Wait()
	if err != nil {
		writeStatus(status, statusCrash, err.Error())
		os.Exit(bootCrashExitCode)
	}
	writeStatus(status, statusExit, strconv.Itoa(code))
	os.Exit(code)
	return subcommands.ExitSuccess
}

// containerLimits are the resource limits the guest of cc sees (none
// outside containers).
func containerLimits(cc *boot.ContainerConfig) boot.ContainerLimits {
	if cc == nil || cc.Spec.Linux == nil {
		return boot.ContainerLimits{}
	}
	return boot.LimitsFromSpec(cc.Spec.Linux.Resources)
}
