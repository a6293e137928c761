package cmd

import (
	"context"
	"flag"
	"os"
	"os/signal"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"github.com/palisade-sandbox/palisade/runsc/container"
	"github.com/palisade-sandbox/palisade/runsc/control"
	"golang.org/x/sys/unix"
)

// Run is `runsc run`: create and start in one, and, unless detached,
// wait for the container's process, pass signals on to it, delete the
// container and exit with the process's status.
type Run struct {
	bundle        string
	pidFile       string
	consoleSocket string
	noPivot       bool
	noNewKeyring  bool
	preserveFDs   int
	detach        bool
	keep          bool
}

// Name implements subcommands.Command.
func (*Run) Name() string { return "run" }

// Synopsis implements subcommands.Command.
func (*Run) Synopsis() string { return "create and start a container" }

// Usage implements subcommands.Command.
func (*Run) Usage() string {
	return `run [flags] <container-id>

Creates and starts the container. Without --detach runsc waits for the
container's process, exits with its status (128+N for death by signal N)
and deletes the container.

Flags:
`
}

// SetFlags implements subcommands.Command.
func (r *Run) SetFlags(f *flag.FlagSet) {
	bundleFlags(f, &r.bundle, &r.pidFile, &r.consoleSocket, &r.noPivot, &r.noNewKeyring, &r.preserveFDs)
	f.BoolVar(&r.detach, "detach", false, "return once the container has started")
	f.BoolVar(&r.detach, "d", false, "short for --detach")
	f.BoolVar(&r.keep, "keep", false, "do not delete the container after it exits")
}

// Execute implements subcommands.Command.
func (r *Run) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	conf := args[0].(*config.Config)
	id, err := oneID(f)
	if err != nil {
		return fail(conf, "run", err)
	}
	ct, err := createContainer(conf, id, createOptions{bundle: r.bundle, pidFile: r.pidFile, consoleSocket: r.consoleSocket, preserveFDs: r.preserveFDs})
	if err != nil {
		return fail(conf, "run", err)
	}
	sandboxPID := ct.Sandbox.PID
	if err := startContainer(conf, id); err != nil {
		deleteContainer(conf, id, true)
		return fail(conf, "run", err)
	}
	if r.detach {
		return subcommands.ExitSuccess
	}
	// Signals for the container go to its process.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			control.Call(ct.Dir(), &control.Request{Op: &control.Request_Signal{Signal: &control.SignalRequest{Signal: int32(s.(unix.Signal))}}}, nil, controlTimeout)
		}
	}()
	// runsc started the sandbox, so it is runsc's child: its exit status
	// is the container process's.
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(sandboxPID, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	status := ws.ExitStatus()
	if ws.Signaled() {
		status = 128 + int(ws.Signal())
	}
	if !r.keep {
		if err := deleteContainer(conf, id, true); err != nil {
			fail(conf, "run", err)
		}
	} else if c, lock, err := container.LoadLocked(conf.Root, id); err == nil {
		c.Save()
		lock.Unlock()
	}
	os.Exit(status)
	return subcommands.ExitSuccess
}
