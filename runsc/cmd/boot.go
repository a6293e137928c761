package cmd

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/runsc/boot"
	"github.com/palisade-sandbox/palisade/runsc/config"
)

// Boot is `runsc boot`: the sandbox process that hosts the Sentry. runsc
// starts it in fresh namespaces with the gofer socket and a status pipe.
type Boot struct {
	goferFD  int
	statusFD int
	cwd      string
}

// Name implements subcommands.Command.
func (*Boot) Name() string { return "boot" }

// Synopsis implements subcommands.Command.
func (*Boot) Synopsis() string { return "run the Sentry of a sandbox (internal)" }

// Usage implements subcommands.Command.
func (*Boot) Usage() string { return "boot --gofer-fd=N --status-fd=N --cwd=DIR -- CMD [ARG...]\n" }

// SetFlags implements subcommands.Command.
func (b *Boot) SetFlags(f *flag.FlagSet) {
	f.IntVar(&b.goferFD, "gofer-fd", -1, "socket connected to the gofer")
	f.IntVar(&b.statusFD, "status-fd", -1, "pipe on which to report start-up success or failure")
	f.StringVar(&b.cwd, "cwd", "/", "working directory of the command")
}

// Execute implements subcommands.Command.
func (b *Boot) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	conf := args[0].(*config.Config)
	status := os.NewFile(uintptr(b.statusFD), "status")
	report := func(err error) {
		if status != nil {
			fmt.Fprintf(status, "error %v\n", err)
			status.Close()
		}
	}
	if f.NArg() == 0 || b.goferFD < 0 {
		report(fmt.Errorf("boot: a command, --gofer-fd and --status-fd are required"))
		return subcommands.ExitUsageError
	}
	logOut, err := conf.LogOutput()
	if err != nil {
		report(err)
		return subcommands.ExitFailure
	}
	s, err := boot.New(boot.Args{
		Argv: f.Args(), Env: os.Environ(), Cwd: b.cwd, GoferFD: b.goferFD,
		Strace: conf.Strace, Debug: conf.Debug, Log: logOut, MaxTasks: conf.MaxTasks,
	})
	if err != nil {
		report(err)
		return subcommands.ExitFailure
	}
	fmt.Fprintln(status, "ok")
	status.Close()
	os.Exit(s.Wait())
	return subcommands.ExitSuccess
}
