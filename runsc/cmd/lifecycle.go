package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/runsc/cgroup"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"github.com/palisade-sandbox/palisade/runsc/container"
	"github.com/palisade-sandbox/palisade/runsc/control"
	"golang.org/x/sys/unix"
)

// controlTimeout bounds a control request that should answer at once.
const controlTimeout = 30 * time.Second

// simpleCommand is the shape of the commands that take only a container
// ID and a few flags.
type simpleCommand struct {
	name, synopsis, usage string
	setFlags              func(f *flag.FlagSet)
	run                   func(conf *config.Config, f *flag.FlagSet) error
}

// Name implements subcommands.Command.
func (c *simpleCommand) Name() string { return c.name }

// Synopsis implements subcommands.Command.
func (c *simpleCommand) Synopsis() string { return c.synopsis }

// Usage implements subcommands.Command.
func (c *simpleCommand) Usage() string { return c.usage + "\n\nFlags:\n" }

// SetFlags implements subcommands.Command.
func (c *simpleCommand) SetFlags(f *flag.FlagSet) {
	if c.setFlags != nil {
		c.setFlags(f)
	}
}

// Execute implements subcommands.Command.
func (c *simpleCommand) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	conf := args[0].(*config.Config)
	if err := c.run(conf, f); err != nil {
		return fail(conf, c.name, err)
	}
	return subcommands.ExitSuccess
}

// NewStart is `runsc start ID`.
func NewStart() subcommands.Command {
	return &simpleCommand{name: "start", synopsis: "start a created container", usage: "start <container-id>",
		run: func(conf *config.Config, f *flag.FlagSet) error {
			id, err := oneID(f)
			if err != nil {
				return err
			}
			return startContainer(conf, id)
		}}
}

// startContainer starts the first process of a created container and
// runs the startContainer and poststart hooks.
func startContainer(conf *config.Config, id string) error {
	ct, lock, err := container.LoadLocked(conf.Root, id)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if st := ct.CurrentStatus(); st != container.Created {
		return fmt.Errorf("container %q is %s, not created", id, st)
	}
	if h := ct.Spec.Hooks; h != nil {
		if err := container.RunHooks("startContainer", h.StartContainer, ct.State()); err != nil {
			return err
		}
	}
	if _, err := control.Call(ct.Dir(), &control.Request{Op: &control.Request_Start{Start: &control.StartRequest{}}}, nil, controlTimeout); err != nil {
		return err
	}
	ct.Status = container.Running
	if err := ct.Save(); err != nil {
		return err
	}
	if h := ct.Spec.Hooks; h != nil {
		if err := container.RunHooksAll("poststart", h.Poststart, ct.State()); err != nil {
			// The process runs; the spec says to log and go on.
			warn(conf, err.Error())
		}
	}
	return nil
}

// NewState is `runsc state ID`.
func NewState() subcommands.Command {
	return &simpleCommand{name: "state", synopsis: "print a container's OCI state", usage: "state <container-id>",
		run: func(conf *config.Config, f *flag.FlagSet) error {
			ct, err := loadContainer(conf, f)
			if err != nil {
				return err
			}
			return printJSON(ct.State())
		}}
}

func printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(b, '\n'))
	return err
}

// parseSignal reads a signal as runc's kill takes it: a number, or a
// name with or without "SIG".
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN+"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 && 34+n <= 64 {
			return unix.Signal(34 + n), nil
		}
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// NewKill is `runsc kill ID [SIGNAL]`.
func NewKill() subcommands.Command {
	var all bool
	var pid int
	return &simpleCommand{name: "kill", synopsis: "send a signal to a container's process", usage: "kill [--all] <container-id> [signal]\n\nThe signal is a number or a name (TERM, SIGTERM); the default is SIGTERM.",
		setFlags: func(f *flag.FlagSet) {
			f.BoolVar(&all, "all", false, "send the signal to every process of the container")
			f.BoolVar(&all, "a", false, "short for --all")
			f.IntVar(&pid, "pid", 0, "send the signal to this process of the sandbox (its PID inside)")
		},
		run: func(conf *config.Config, f *flag.FlagSet) error {
			id, err := oneID(f)
			if err != nil {
				return err
			}
			sig := unix.SIGTERM
			if f.NArg() > 1 {
				if sig, err = parseSignal(f.Arg(1)); err != nil {
					return err
				}
			}
			ct, err := container.Load(conf.Root, id)
			if err != nil {
				return err
			}
			st := ct.CurrentStatus()
			if st == container.Stopped {
				return fmt.Errorf("container %q is not running", id)
			}
			_, err = control.Call(ct.Dir(), &control.Request{Op: &control.Request_Signal{Signal: &control.SignalRequest{Signal: int32(sig), All: all, Pid: int32(pid)}}}, nil, controlTimeout)
			return err
		}}
}

// NewDelete is `runsc delete ID`.
func NewDelete() subcommands.Command {
	var force bool
	return &simpleCommand{name: "delete", synopsis: "delete a container and everything it holds", usage: "delete [--force] <container-id>",
		setFlags: func(f *flag.FlagSet) {
			f.BoolVar(&force, "force", false, "kill a container that is still running, then delete it")
			f.BoolVar(&force, "f", false, "short for --force")
		},
		run: func(conf *config.Config, f *flag.FlagSet) error {
			id, err := oneID(f)
			if err != nil {
				return err
			}
			return deleteContainer(conf, id, force)
		}}
}

// deleteContainer kills what is left of a container (its sandbox only if
// it has stopped, or with force), runs the poststop hooks and removes its
// state, cgroup and host UID.
func deleteContainer(conf *config.Config, id string, force bool) error {
	ct, lock, err := container.LoadLocked(conf.Root, id)
	if err != nil {
		if force && errors.Is(err, container.ErrNotExist) {
			return nil // as runc: nothing left to delete
		}
		return err
	}
	defer lock.Unlock()
	st := ct.CurrentStatus()
	if st != container.Stopped && st != container.Created && !force {
		return fmt.Errorf("container %q is %s: stop it first or use --force", id, st)
	}
	// Killing the sandbox kills its stubs (they are traced with
	// PTRACE_O_EXITKILL); the gofer exits when the sandbox's end of its
	// sockets closes, and is killed too in case it does not.
	for _, p := range []container.Process{ct.Sandbox, ct.Gofer} {
		if p.Kill(unix.SIGKILL) == nil {
			waitGone(p)
		}
	}
	if ct.Spec != nil && ct.Spec.Hooks != nil && st != container.Creating {
		if err := container.RunHooksAll("poststop", ct.Spec.Hooks.Poststop, ct.State()); err != nil {
			warn(conf, err.Error())
		}
	}
	if ct.CgroupPath != "" {
		if cg, err := cgroup.Load(ct.CgroupPath); err == nil {
			if err := cg.Delete(); err != nil {
				return fmt.Errorf("removing the cgroup: %w", err)
			}
		}
	}
	container.FreeUID(conf.Root, id, ct.HostUID)
	return ct.Remove()
}

// waitGoneTimeout bounds how long delete waits for a killed process.
const waitGoneTimeout = 5 * time.Second

// waitGone waits (at most waitGoneTimeout) for a killed process to be
// gone. Another process reaps it (runsc is not its parent), so runsc
// waits on a pidfd, which becomes readable as soon as the process has
// exited; a 10 ms poll of /proc cost delete about 10 ms a process.
func waitGone(p container.Process) {
	deadline := time.Now().Add(waitGoneTimeout)
	if fd, err := unix.PidfdOpen(p.PID, 0); err == nil {
		defer unix.Close(fd)
		// The pidfd may name a process that reused the PID: only the
		// same process (start time) is waited for.
		for p.Alive() {
			left := time.Until(deadline)
			if left <= 0 {
				return
			}
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, int(left.Milliseconds())+1)
			if err != nil && err != unix.EINTR {
				break // poll on the pidfd failed: poll /proc below
			}
			if n > 0 {
				return
			}
		}
		if !p.Alive() {
			return
		}
	}
	for p.Alive() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// NewList is `runsc list`.
func NewList() subcommands.Command {
	var quiet bool
	var format string
	return &simpleCommand{name: "list", synopsis: "list containers", usage: "list [-q] [--format table|json]",
		setFlags: func(f *flag.FlagSet) {
			f.BoolVar(&quiet, "quiet", false, "print the IDs only")
			f.BoolVar(&quiet, "q", false, "short for --quiet")
			f.StringVar(&format, "format", "table", "table or json")
			f.StringVar(&format, "f", "table", "short for --format")
		},
		run: func(conf *config.Config, f *flag.FlagSet) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format=%q: must be table or json", format)
			}
			ids, err := container.List(conf.Root)
			if err != nil {
				return err
			}
			var states []container.State
			for _, id := range ids {
				ct, err := container.Load(conf.Root, id)
				if err != nil {
					continue
				}
				states = append(states, ct.State())
			}
			switch {
			case quiet:
				for _, s := range states {
					fmt.Println(s.ID)
				}
			case format == "json":
				if states == nil {
					states = []container.State{}
				}
				b, err := json.Marshal(states)
				if err != nil {
					return err
				}
				fmt.Println(string(b))
			default:
				fmt.Printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")
				for _, s := range states {
					fmt.Printf("%-12s %-8d %-10s %-40s %-30s %s\n", s.ID, s.PID, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
				}
			}
			return nil
		}}
}

// NewWait is `runsc wait ID`: it waits for the container's first process
// and prints its status as JSON.
func NewWait() subcommands.Command {
	return &simpleCommand{name: "wait", synopsis: "wait for a container's process to exit", usage: "wait <container-id>",
		run: func(conf *config.Config, f *flag.FlagSet) error {
			ct, err := loadContainer(conf, f)
			if err != nil {
				return err
			}
			id := ct.ID
			if ct.CurrentStatus() == container.Stopped {
				return fmt.Errorf("container %q has stopped; its status was reported to its parent", id)
			}
			resp, err := control.Call(ct.Dir(), &control.Request{Op: &control.Request_Wait{Wait: &control.WaitRequest{}}}, nil, 0)
			if err != nil {
				return err
			}
			return printJSON(map[string]int32{"id": 0, "exitStatus": resp.GetWait().Status})
		}}
}
