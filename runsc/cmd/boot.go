package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/runsc/boot"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"golang.org/x/sys/unix"
)

// Boot is `runsc boot`: the sandbox process that hosts the Sentry. runsc
// starts it in fresh namespaces with the gofer socket and a status pipe.
type Boot struct {
	goferFD  int
	statusFD int
	cwd      string
	volumes  mountFlags
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
	if f.NArg() == 0 || b.goferFD < 0 {
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
	s, err := boot.New(boot.Args{
		Argv: f.Args(), Env: os.Environ(), Cwd: b.cwd, GoferFD: b.goferFD, Volumes: volumes,
		Strace: conf.Strace, Debug: conf.Debug, Log: logOut,
		TestOnlyPanicOnSyscall: conf.TestOnlyPanicOnSyscall, MaxTasks: conf.MaxTasks,
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
	code, err := s.Wait()
	if err != nil {
		writeStatus(status, statusCrash, err.Error())
		os.Exit(bootCrashExitCode)
	}
	writeStatus(status, statusExit, strconv.Itoa(code))
	os.Exit(code)
	return subcommands.ExitSuccess
}
