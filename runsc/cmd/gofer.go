package cmd

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/gofer"
	"github.com/palisade-sandbox/palisade/runsc/gofer/filter"
)

// Gofer is `runsc gofer`: the file server of one container, started by
// runsc. It confines itself to the container root (chroot), sets up the
// server, installs its seccomp filter (runsc/gofer/filter) and only then
// serves the Sentry over the socket it was given.
type Gofer struct {
	root     string
	fd       int
	readOnly bool
}

// Name implements subcommands.Command.
func (*Gofer) Name() string { return "gofer" }

// Synopsis implements subcommands.Command.
func (*Gofer) Synopsis() string { return "serve a container's files to its sandbox (internal)" }

// Usage implements subcommands.Command.
func (*Gofer) Usage() string { return "gofer --root=DIR --fd=N [--read-only]\n" }

// SetFlags implements subcommands.Command.
func (g *Gofer) SetFlags(f *flag.FlagSet) {
	f.StringVar(&g.root, "root", "", "root directory to serve")
	f.IntVar(&g.fd, "fd", -1, "socket to serve on")
	f.BoolVar(&g.readOnly, "read-only", true, "refuse every change to the files")
}

// Execute implements subcommands.Command.
func (g *Gofer) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if g.root == "" || g.fd < 0 {
		fmt.Fprintln(os.Stderr, "runsc gofer: --root and --fd are required")
		return subcommands.ExitUsageError
	}
	sock := os.NewFile(uintptr(g.fd), "gofer-socket")
	if err := gofer.Confine(g.root); err != nil {
		fmt.Fprintf(os.Stderr, "runsc gofer: %v\n", err)
		return subcommands.ExitFailure
	}
	srv, err := gofer.NewServer(sock, "/", g.readOnly)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runsc gofer: %v\n", err)
		return subcommands.ExitFailure
	}
	// NewServer duplicated the socket and registered it with the
	// poller; nothing after this point creates a socket or resolves a
	// path from the working directory.
	sock.Close()
	if err := filter.Install(g.readOnly); err != nil {
		srv.Close()
		fmt.Fprintf(os.Stderr, "runsc gofer: seccomp: %v\n", err)
		return subcommands.ExitFailure
	}
	if err := srv.Serve(); err != nil {
		fmt.Fprintf(os.Stderr, "runsc gofer: %v\n", err)
		return subcommands.ExitFailure
	}
	return subcommands.ExitSuccess
}
