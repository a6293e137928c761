package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/google/subcommands"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/palisade-sandbox/palisade/runsc/cgroup"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"github.com/palisade-sandbox/palisade/runsc/container"
	"github.com/palisade-sandbox/palisade/runsc/sandbox"
)

// Create is `runsc create`: it makes a container's sandbox from an OCI
// bundle, ready to run the spec's process at `runsc start`.
type Create struct {
	bundle        string
	pidFile       string
	consoleSocket string
	noPivot       bool
	noNewKeyring  bool
	preserveFDs   int
}

// Name implements subcommands.Command.
func (*Create) Name() string { return "create" }

// Synopsis implements subcommands.Command.
func (*Create) Synopsis() string { return "create a container" }

// Usage implements subcommands.Command.
func (*Create) Usage() string {
	return `create [flags] <container-id>

Creates the container's sandbox from the bundle (config.json and its
rootfs); the spec's process starts at "runsc start".

Flags:
`
}

// bundleFlags registers --bundle/-b, shared by create and run.
func bundleFlags(f *flag.FlagSet, bundle, pidFile, consoleSocket *string, noPivot, noNewKeyring *bool, preserveFDs *int) {
	f.StringVar(bundle, "bundle", "", "path to the bundle (default: the current directory)")
	f.StringVar(bundle, "b", "", "short for --bundle")
	f.StringVar(pidFile, "pid-file", "", "file to write the sandbox's host PID to")
	f.StringVar(consoleSocket, "console-socket", "", "unix socket to send the terminal's master to (process.terminal)")
	f.BoolVar(noPivot, "no-pivot", false, "accepted for runc compatibility (the sandbox never pivots the host's root)")
	f.BoolVar(noNewKeyring, "no-new-keyring", false, "accepted for runc compatibility (the sandbox has no keyrings)")
	f.IntVar(preserveFDs, "preserve-fds", 0, "pass N more descriptors (3..3+N-1) to the process (only 0 is supported)")
}

// SetFlags implements subcommands.Command.
func (c *Create) SetFlags(f *flag.FlagSet) {
	bundleFlags(f, &c.bundle, &c.pidFile, &c.consoleSocket, &c.noPivot, &c.noNewKeyring, &c.preserveFDs)
}

// Execute implements subcommands.Command.
func (c *Create) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	conf := args[0].(*config.Config)
	id, err := oneID(f)
	if err != nil {
		return fail(conf, "create", err)
	}
	ct, err := createContainer(conf, id, createOptions{bundle: c.bundle, pidFile: c.pidFile, consoleSocket: c.consoleSocket, preserveFDs: c.preserveFDs})
	if err != nil {
		return fail(conf, "create", err)
	}
	_ = ct
	return subcommands.ExitSuccess
}

// createOptions are create's (and run's) flags.
type createOptions struct {
	bundle, pidFile, consoleSocket string
	preserveFDs                    int
}

// createContainer makes the container: its state directory, host UID,
// gofer and sandbox; runs the create-time hooks and writes the PID file.
// On failure nothing is left behind.
func createContainer(conf *config.Config, id string, o createOptions) (_ *container.Container, err error) {
	if err := conf.Validate(); err != nil {
		return nil, err
	}
	if err := container.ValidateID(id); err != nil {
		return nil, err
	}
	if err := checkStaticBuild(); err != nil {
		return nil, err
	}
	if o.preserveFDs != 0 {
		return nil, fmt.Errorf("--preserve-fds=%d: passing extra descriptors is not supported", o.preserveFDs)
	}
	bundle := o.bundle
	if bundle == "" {
		if bundle, err = os.Getwd(); err != nil {
			return nil, err
		}
	}
	if bundle, err = filepath.Abs(bundle); err != nil {
		return nil, err
	}
	spec, err := loadSpec(bundle)
	if err != nil {
		return nil, err
	}
	if o.consoleSocket != "" && !spec.Process.Terminal {
		return nil, fmt.Errorf("--console-socket given but process.terminal is false")
	}
	ct, lock, err := container.New(conf.Root, id, bundle, spec)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if st, serr := os.Stat(ct.Rootfs); serr != nil || !st.IsDir() {
		ct.Remove()
		return nil, fmt.Errorf("root.path %s: not a directory", ct.Rootfs)
	}
	var cg *cgroup.Cgroup
	cleanup := func() {
		ct.Sandbox.Kill(9)
		ct.Gofer.Kill(9)
		if cg != nil {
			cg.Delete()
		}
		container.FreeUID(conf.Root, id, ct.HostUID)
		ct.Remove()
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	ct.Owner = ownerName()
	self := container.ProcessOf(os.Getpid())
	ct.Creator = &self
	if ct.HostUID, err = container.AllocateUID(conf.Root, id, container.HostUIDs{Base: uint32(conf.SandboxUIDBase), Count: config.SandboxUIDCount}); err != nil {
		return nil, err
	}
	if err = ct.Save(); err != nil {
		return nil, err
	}

	stdio := [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	if spec.Process.Terminal {
		replica, cerr := newConsole(o.consoleSocket, spec.Process.ConsoleSize)
		if cerr != nil {
			return nil, cerr
		}
		defer replica.Close()
		stdio = [3]*os.File{replica, replica, replica}
	}
	netns := ""
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace && ns.Path != "" {
				netns = ns.Path
			}
		}
	}
	if conf.Network == "sandbox" && netns == "" {
		networkWarning.Do(func() {
			logMessage(conf, "warning", "--network=sandbox: no network namespace given: the sandbox has only a loopback interface")
		})
	}
	var cgPath string
	var res *specs.LinuxResources
	if spec.Linux != nil {
		cgPath, res = spec.Linux.CgroupsPath, spec.Linux.Resources
	}
	if cg, err = cgroup.New(cgPath, id, res); err != nil {
		return nil, err
	}
	ct.CgroupPath = cg.Path()
	// Recorded at once: if runsc dies from here on, delete --force
	// finds the cgroup, and deleting it kills whatever runsc started.
	if err = ct.Save(); err != nil {
		return nil, err
	}
	logFile, err := sandboxLog(conf, id)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	// The sandbox and everything it starts (the stubs, forked from a
	// first stub it starts at once) belong to the container's cgroup
	// from their first instruction: runsc joins it itself before it
	// starts them, and goes back to its own cgroup at once after. It
	// must not stay: deleting the cgroup (cleanup here, or run's delete
	// when the container exits) kills every process in it, and the
	// hooks run outside the container's limits.
	home, err := cgroup.Own()
	if err != nil {
		return nil, fmt.Errorf("reading runsc's own cgroup: %w", err)
	}
	// Opened before the join: the cgroup's device rules may deny it.
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	if err = cg.Join(os.Getpid()); err != nil {
		home.Join(os.Getpid())
		return nil, fmt.Errorf("joining the cgroup: %w", err)
	}
	// Likewise the OOM killer's score: the host's OOM killer picks
	// among the sandbox's processes, which inherit runsc's.
	if adj := spec.Process.OOMScoreAdj; adj != nil {
		if err = os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*adj)), 0); err != nil {
			return nil, fmt.Errorf("process.oomScoreAdj: %w", err)
		}
	}
	err = sandbox.Create(ct, sandbox.Options{Conf: conf, Stdio: stdio, Overlay: conf.Overlay == "memory", NetNSPath: netns, Log: logFile, Null: null})
	if herr := home.Join(os.Getpid()); herr != nil && err == nil {
		err = fmt.Errorf("leaving the container's cgroup: %w", herr)
	}
	var se *sandbox.StartupError
	if errors.As(err, &se) {
		return nil, fmt.Errorf("process.args[0]: %s", se.Msg)
	}
	if err != nil {
		return nil, err
	}
	ct.Status = container.Created
	if err = ct.Save(); err != nil {
		return nil, err
	}
	if h := spec.Hooks; h != nil {
		st := ct.State()
		for _, stage := range []struct {
			kind  string
			hooks []specs.Hook
		}{{"prestart", legacyPrestart(h)}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer}} {
			if err = container.RunHooks(stage.kind, stage.hooks, st); err != nil {
				return nil, err
			}
		}
	}
	if conf.Network == "sandbox" {
		// After the hooks, which may have put the container's
		// interfaces in its namespace: the one the spec names, or
		// the sandbox's own, where docker's libnetwork hook moves
		// the veth (it finds it through the state's pid).
		ns := netns
		if ns == "" {
			ns = fmt.Sprintf("/proc/%d/ns/net", ct.Sandbox.PID)
		}
		if err = sandbox.AttachNetwork(ct, ns); err != nil {
			return nil, err
		}
	}
	if o.pidFile != "" {
		if err = writePIDFile(o.pidFile, ct.Sandbox.PID); err != nil {
			return nil, fmt.Errorf("--pid-file: %w", err)
		}
	}
	ct.Creator = nil
	if err = ct.Save(); err != nil {
		return nil, err
	}
	return ct, nil
}

// networkWarning logs the missing network stack once per runsc process.
var networkWarning sync.Once

// writePIDFile writes pid to p atomically, as runc does.
func writePIDFile(p string, pid int) error {
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p))
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// ownerName is the user running runsc, as runc's state shows it.
func ownerName() string {
	return strconv.Itoa(os.Geteuid())
}

// sandboxLog opens where the sandbox's and gofer's own messages go
// without --debug-log: the --log file, else /dev/null.
func sandboxLog(conf *config.Config, id string) (*os.File, error) {
	// A JSON --log is read back line by line (containerd's shim):
	// only runsc's own JSON lines go there.
	if conf.Log != "" && conf.LogFormat == "text" {
		return os.OpenFile(conf.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0644)
	}
	return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
}

// legacyPrestart returns the prestart hooks: deprecated in the spec, but
// still run (docker's network set-up is one).
func legacyPrestart(h *specs.Hooks) []specs.Hook {
	//lint:ignore SA1019 prestart is deprecated but the spec still runs it
	return h.Prestart
}
