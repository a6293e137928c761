// Binary runsc is Palisade's OCI runtime. `runsc do CMD` runs a command in
// a new sandbox; `runsc boot` and `runsc gofer` are the sandbox and file
// server processes that runsc starts itself.
package main

import (
	"context"
	"flag"
	"os"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/runsc/cmd"
	"github.com/palisade-sandbox/palisade/runsc/config"
)

func main() {
	var conf config.Config
	conf.RegisterFlags(flag.CommandLine)
	subcommands.Register(subcommands.HelpCommand(), "")
	subcommands.Register(subcommands.FlagsCommand(), "")
	subcommands.Register(&cmd.Do{}, "")
	subcommands.Register(&cmd.Boot{}, "internal use only")
	subcommands.Register(&cmd.Gofer{}, "internal use only")
	flag.Parse()
	os.Exit(int(subcommands.Execute(context.Background(), &conf)))
}
