// Binary runsc is Palisade's OCI runtime. `runsc do CMD` runs a command in
// a new sandbox; `runsc boot` and `runsc gofer` are the sandbox and file
// server processes that runsc starts itself.
//
// containermaxprocs=0: the Go runtime would otherwise keep the host's
// cgroup CPU limit files open for the life of every runsc process, so
// the gofer and the Sentry would hold descriptors of host /sys files.
// GOMAXPROCS is the number of usable CPUs instead.
//
//go:debug containermaxprocs=0
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/runsc/cmd"
	"github.com/palisade-sandbox/palisade/runsc/config"
)

func main() {
	if err := cmd.CloseInheritedOnExec(); err != nil {
		fmt.Fprintf(os.Stderr, "runsc: marking inherited descriptors close-on-exec: %v\n", err)
		os.Exit(1)
	}
	var conf config.Config
	conf.RegisterFlags(flag.CommandLine)
	for _, name := range config.UserFlags {
		subcommands.ImportantFlag(name)
	}
	known := map[string]bool{}
	register := func(group string, cs ...subcommands.Command) {
		for _, c := range cs {
			subcommands.Register(c, group)
			known[c.Name()] = true
		}
	}
	register("", subcommands.HelpCommand(), subcommands.FlagsCommand(), &cmd.Do{Global: &conf}, &cmd.Install{}, &cmd.Uninstall{})
	register("OCI runtime", &cmd.Create{}, cmd.NewStart(), &cmd.Run{}, cmd.NewState(), cmd.NewKill(), cmd.NewDelete(), cmd.NewList(), cmd.NewWait(),
		&cmd.Exec{}, cmd.NewPs(), cmd.NewPause(), cmd.NewResume(), cmd.NewEvents(), cmd.NewSpec(), cmd.NewFeatures())
	register("internal use only", &cmd.Boot{}, &cmd.Gofer{}, &cmd.NetReaper{})
	flag.Parse()
	if name := flag.Arg(0); name != "" && !known[name] {
		fmt.Fprintf(os.Stderr, "runsc: unknown command %q (runsc help lists them)\n", name)
		os.Exit(int(subcommands.ExitUsageError))
	}
	os.Exit(int(subcommands.Execute(context.Background(), &conf)))
}
