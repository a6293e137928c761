package cmd

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/palisade-sandbox/palisade/runsc/boot"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/subcommands"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/palisade-sandbox/palisade/runsc/config"
	"github.com/palisade-sandbox/palisade/runsc/container"
)

// maxConfigSize bounds config.json.
const maxConfigSize = 16 << 20

// fail reports err for the command name as runc does: on stderr, and in
// the --log file (a JSON line with "level":"error" under
// --log-format=json, which containerd's shim reads back to say why a
// command failed). It returns subcommands.ExitFailure.
func fail(conf *config.Config, name string, err error) subcommands.ExitStatus {
	msg := err.Error()
	fmt.Fprintf(os.Stderr, "runsc %s: %s\n", name, msg)
	logMessage(conf, "error", msg)
	return subcommands.ExitFailure
}

// logMessage appends one message to --log.
func logMessage(conf *config.Config, level, msg string) {
	if conf == nil || conf.Log == "" {
		return
	}
	f, err := os.OpenFile(conf.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0644)
	if err != nil {
		return
	}
	defer f.Close()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if conf.LogFormat == "json" {
		b, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": now})
		f.Write(append(b, '\n'))
		return
	}
	fmt.Fprintf(f, "time=%q level=%s msg=%q\n", now, level, msg)
}

// warnOnce logs a warning to stderr and --log.
func warn(conf *config.Config, msg string) {
	fmt.Fprintf(os.Stderr, "runsc: warning: %s\n", msg)
	logMessage(conf, "warning", msg)
}

// oneID checks that a command got exactly one container ID.
func oneID(f *flag.FlagSet) (string, error) {
	if f.NArg() < 1 {
		return "", errors.New("a container ID is required")
	}
	return f.Arg(0), nil
}

// loadContainer loads the container the command's one argument names.
func loadContainer(conf *config.Config, f *flag.FlagSet) (*container.Container, error) {
	id, err := oneID(f)
	if err != nil {
		return nil, err
	}
	return container.Load(conf.Root, id)
}

// loadSpec reads and checks the bundle's config.json, naming what is
// wrong with it.
func loadSpec(bundle string) (*specs.Spec, error) {
	p := filepath.Join(bundle, "config.json")
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, maxConfigSize)
	}
	spec := &specs.Spec{}
	if err := json.Unmarshal(b, spec); err != nil {
		return nil, fmt.Errorf("%s: malformed: %w", p, err)
	}
	if err := checkSpec(spec); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return spec, nil
}

// checkSpec checks what the sandbox needs of a spec and refuses what it
// cannot honour, naming the field.
func checkSpec(spec *specs.Spec) error {
	major, _, _ := strings.Cut(spec.Version, ".")
	if spec.Version == "" || major != "1" {
		return fmt.Errorf("ociVersion %q is not supported (want 1.x)", spec.Version)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return errors.New("root.path is required")
	}
	if spec.Process == nil {
		return errors.New("process is required")
	}
	if len(spec.Process.Args) == 0 {
		return errors.New("process.args must not be empty")
	}
	if !filepath.IsAbs(spec.Process.Cwd) {
		return fmt.Errorf("process.cwd %q must be an absolute path", spec.Process.Cwd)
	}
	if spec.Process.ConsoleSize != nil && !spec.Process.Terminal {
		return errors.New("process.consoleSize needs process.terminal")
	}
	if spec.Linux != nil {
		for i, ns := range spec.Linux.Namespaces {
			switch ns.Type {
			case specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace, specs.IPCNamespace,
				specs.UTSNamespace, specs.UserNamespace, specs.CgroupNamespace, specs.TimeNamespace:
			default:
				return fmt.Errorf("linux.namespaces[%d].type %q is unknown", i, ns.Type)
			}
			if ns.Path != "" && ns.Type != specs.NetworkNamespace {
				return fmt.Errorf("linux.namespaces[%d]: joining the %s namespace at %s is not supported (each container has a sandbox of its own)", i, ns.Type, ns.Path)
			}
		}
		if len(spec.Linux.UIDMappings) > 0 || len(spec.Linux.GIDMappings) > 0 {
			// The sandbox has a user namespace of its own; the guest's
			// IDs are the Sentry's, so mappings are not needed.
			for _, m := range append(append([]specs.LinuxIDMapping{}, spec.Linux.UIDMappings...), spec.Linux.GIDMappings...) {
				if m.Size == 0 {
					return errors.New("linux.uidMappings/gidMappings: a mapping of size 0")
				}
			}
		}
		for i, d := range spec.Linux.Devices {
			if _, _, err := boot.CheckDevice(d); err != nil {
				return fmt.Errorf("linux.devices[%d] (%s): %w", i, d.Path, err)
			}
		}
		if len(spec.Linux.TimeOffsets) > 0 {
			return errors.New("linux.timeOffsets is not supported")
		}
		if spec.Linux.MountLabel != "" {
			return errors.New("linux.mountLabel (SELinux) is not supported")
		}
		if spec.Linux.IntelRdt != nil {
			return errors.New("linux.intelRdt is not supported")
		}
		if spec.Linux.Personality != nil && spec.Linux.Personality.Domain != specs.PerLinux {
			return fmt.Errorf("linux.personality.domain %q is not supported", spec.Linux.Personality.Domain)
		}
	}
	if spec.Process.Scheduler != nil {
		return errors.New("process.scheduler is not supported")
	}
	if spec.Process.IOPriority != nil {
		return errors.New("process.ioPriority is not supported")
	}
	if spec.Process.ExecCPUAffinity != nil {
		return errors.New("process.execCPUAffinity is not supported")
	}
	if spec.Process.OOMScoreAdj != nil && (*spec.Process.OOMScoreAdj < -1000 || *spec.Process.OOMScoreAdj > 1000) {
		return fmt.Errorf("process.oomScoreAdj %d is out of range (-1000..1000)", *spec.Process.OOMScoreAdj)
	}
	if spec.Process.SelinuxLabel != "" {
		return errors.New("process.selinuxLabel is not supported")
	}
	if spec.Process.ApparmorProfile != "" && spec.Process.ApparmorProfile != "unconfined" && !strings.HasPrefix(spec.Process.ApparmorProfile, "docker-default") {
		return fmt.Errorf("process.apparmorProfile %q is not supported", spec.Process.ApparmorProfile)
	}
	for i, m := range spec.Mounts {
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts[%d].destination %q must be an absolute path", i, m.Destination)
		}
	}
	return nil
}
