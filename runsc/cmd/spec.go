package cmd

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/subcommands"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/palisade-sandbox/palisade/runsc/boot"
	"github.com/palisade-sandbox/palisade/runsc/config"
)

// NewSpec is `runsc spec`: it writes a starting config.json, as runc's
// does, for a rootfs in the bundle's "rootfs" directory.
func NewSpec() subcommands.Command {
	var bundle string
	return &simpleCommand{name: "spec", synopsis: "write a new config.json", usage: "spec [--bundle DIR]",
		setFlags: func(f *flag.FlagSet) {
			f.StringVar(&bundle, "bundle", "", "directory to write config.json in (default: the current one)")
			f.StringVar(&bundle, "b", "", "short for --bundle")
		},
		run: func(conf *config.Config, f *flag.FlagSet) error {
			p := filepath.Join(bundle, "config.json")
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s exists: remove it first", p)
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
			b, err := json.MarshalIndent(defaultSpec(), "", "\t")
			if err != nil {
				return err
			}
			return os.WriteFile(p, append(b, '\n'), 0644)
		}}
}

// defaultSpec is the config.json `runsc spec` writes: a shell on a
// terminal, as root, with the capabilities docker gives by default.
func defaultSpec() *specs.Spec {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Terminal: true, Args: []string{"sh"}, Cwd: "/",
			Env:             []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"},
			Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: "runsc",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace}},
			MaskedPaths:   []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"},
			ReadonlyPaths: []string{"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

// NewFeatures is `runsc features`: what this runtime supports, in runc's
// JSON shape (the runtime-spec's features document).
func NewFeatures() subcommands.Command {
	return &simpleCommand{name: "features", synopsis: "print the features this runtime supports (JSON)", usage: "features",
		run: func(conf *config.Config, f *flag.FlagSet) error {
			t := true
			var mountOpts []string
			for o := range mountOptionNames {
				mountOpts = append(mountOpts, o)
			}
			ft := map[string]any{
				"ociVersionMin": "1.0.0",
				"ociVersionMax": specs.Version,
				"hooks":         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
				"mountOptions":  mountOpts,
				"linux": map[string]any{
					"namespaces":   []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts"},
					"capabilities": boot.CapabilityNames(),
					"cgroup":       map[string]any{"v1": t, "v2": t, "systemd": false, "systemdUser": false},
					"seccomp":      map[string]any{"enabled": t, "actions": []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}, "operators": []string{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}, "archs": []string{"SCMP_ARCH_X86_64"}},
					"apparmor":     map[string]any{"enabled": false},
					"selinux":      map[string]any{"enabled": false},
				},
				"annotations": map[string]string{"org.palisade.runtime": "runsc", "org.palisade.platform": conf.Platform},
			}
			return printJSON(ft)
		}}
}

// mountOptionNames are the mount options a spec may use.
var mountOptionNames = map[string]bool{
	"ro": true, "rw": true, "nosuid": true, "suid": true, "nodev": true, "dev": true, "noexec": true, "exec": true,
	"noatime": true, "atime": true, "nodiratime": true, "diratime": true, "relatime": true, "norelatime": true,
	"strictatime": true, "bind": true, "rbind": true, "private": true, "rprivate": true, "shared": true, "rshared": true,
	"slave": true, "rslave": true, "mode": true, "size": true,
}
