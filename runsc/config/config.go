// Package config holds runsc's global flags, which every subcommand sees and
// which runsc passes on to the boot and gofer processes it starts.
package config

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// Config is the set of global flags.
type Config struct {
	// Root is where container state lives.
	Root string
	// Platform names the platform: "ptrace" or "systrap".
	Platform string
	// Debug enables debug logging.
	Debug bool
	// DebugLog is a file for logs (stderr if empty).
	DebugLog string
	// Strace logs every guest system call.
	Strace bool
	// TestOnlyPanicOnSyscall, if >= 0, makes the Sentry panic when the
	// guest makes that syscall. For tests of the crash path only.
	TestOnlyPanicOnSyscall int
	// MaxTasks caps the sandbox's tasks (guest threads): past it,
	// fork, vfork, clone and clone3 fail with EAGAIN.
	MaxTasks int
	// Log is runc's --log: where runsc writes its own messages (errors
	// as well as stderr), in LogFormat ("text" or "json").
	Log       string
	LogFormat string
	// SystemdCgroup is runc's --systemd-cgroup, which is unsupported.
	SystemdCgroup bool
	// Network is the container network: "sandbox" (the default),
	// "none" or "host".
	Network string
	// Overlay is "memory" (a writable layer in sandbox memory over the
	// container's root) or "none" (writes reach the bundle's rootfs).
	Overlay string
	// SandboxUIDBase is the first host UID (and GID) sandboxes run as;
	// each sandbox takes one of SandboxUIDCount.
	SandboxUIDBase uint
}

// SandboxUIDCount is how many host UIDs sandboxes may take.
const SandboxUIDCount = 65536

// DefaultMaxTasks is --max-tasks' default (see docs/kernel.md): with two
// host tasks per guest task (a Sentry thread and a stub thread) it keeps
// the Sentry far below the Go runtime's 10000 threads and the sandbox far
// below a default pid_max of 32768.
const DefaultMaxTasks = 4096

// MaxTasksLimit is the largest --max-tasks. runsc boot lowers the cap
// further to what the host allows (pid_max, threads-max, RLIMIT_NPROC).
const MaxTasksLimit = 1 << 20

// Default returns the global flags' defaults.
func Default() Config {
	return Config{Root: "/var/run/runsc", Platform: "ptrace", TestOnlyPanicOnSyscall: -1, MaxTasks: DefaultMaxTasks,
		LogFormat: "text", Network: "sandbox", Overlay: "memory", SandboxUIDBase: 1 << 30}
}

// RegisterFlags adds the global flags to fs, with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.register(fs, Default())
}

// RegisterFlagsAgain adds the global flags to a subcommand's fs, with c's
// current values as defaults, so that `runsc do --strace CMD` means what
// `runsc --strace do CMD` does and an unset flag keeps the value given
// before the subcommand.
func (c *Config) RegisterFlagsAgain(fs *flag.FlagSet) {
	c.register(fs, *c)
}

func (c *Config) register(fs *flag.FlagSet, def Config) {
	fs.StringVar(&c.Root, "root", def.Root, "root directory for container state")
	fs.StringVar(&c.Platform, "platform", def.Platform, "platform that runs guest code: ptrace, or systrap (seccomp traps, no ptrace stops; experimental)")
	fs.BoolVar(&c.Debug, "debug", def.Debug, "enable debug logging")
	fs.StringVar(&c.DebugLog, "debug-log", def.DebugLog, "file for debug and strace output (default: stderr)")
	fs.BoolVar(&c.Strace, "strace", def.Strace, "log every guest system call with its arguments and result")
	fs.IntVar(&c.TestOnlyPanicOnSyscall, "testonly-panic-on-syscall", def.TestOnlyPanicOnSyscall, "TEST ONLY: make the Sentry panic when the guest makes this syscall number")
	fs.IntVar(&c.MaxTasks, "max-tasks", def.MaxTasks, "most tasks (threads) the sandbox may have; beyond it fork and clone fail with EAGAIN")
	fs.StringVar(&c.Log, "log", def.Log, "file runsc appends its own messages and errors to (as runc's --log)")
	fs.StringVar(&c.LogFormat, "log-format", def.LogFormat, "format of --log: text or json")
	fs.BoolVar(&c.SystemdCgroup, "systemd-cgroup", def.SystemdCgroup, "use systemd to manage cgroups (unsupported: an error)")
	fs.StringVar(&c.Network, "network", def.Network, "container network: sandbox, none or host (host: the guest's TCP/UDP sockets are host sockets in runsc's network namespace; faster, but the host kernel parses the guest's traffic: less isolation, see docs/network.md)")
	fs.StringVar(&c.Overlay, "overlay", def.Overlay, "container root: memory (a writable layer in sandbox memory) or none (writes reach the rootfs)")
	fs.UintVar(&c.SandboxUIDBase, "sandbox-uid-base", def.SandboxUIDBase, fmt.Sprintf("first of %d host UIDs (and GIDs) sandboxes run as, one each", SandboxUIDCount))
}

// UserFlags are the global flags `runsc --help` describes (all but the
// test-only ones).
var UserFlags = []string{"debug", "debug-log", "log", "log-format", "max-tasks", "network", "overlay", "platform", "root", "sandbox-uid-base", "strace", "systemd-cgroup"}

// Validate checks the flags' values, naming the bad one.
func (c *Config) Validate() error {
	if c.Platform != "ptrace" && c.Platform != "systrap" {
		return fmt.Errorf("--platform=%q: unsupported platform (supported: ptrace, systrap)", c.Platform)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format=%q: must be text or json", c.LogFormat)
	}
	if c.SystemdCgroup {
		return fmt.Errorf("--systemd-cgroup: systemd cgroup management is not supported; configure the cgroupfs driver (docker: exec-opts native.cgroupdriver=cgroupfs)")
	}
	switch c.Network {
	case "sandbox", "none", "host":
	default:
		return fmt.Errorf("--network=%q: must be sandbox, none or host", c.Network)
	}
	if c.Overlay != "memory" && c.Overlay != "none" {
		return fmt.Errorf("--overlay=%q: must be memory or none", c.Overlay)
	}
	if c.SandboxUIDBase == 0 || c.SandboxUIDBase+SandboxUIDCount > 1<<32-1 {
		return fmt.Errorf("--sandbox-uid-base=%d: must be between 1 and %d", c.SandboxUIDBase, 1<<32-1-SandboxUIDCount)
	}
	if c.MaxTasks < 1 || c.MaxTasks > MaxTasksLimit {
		return fmt.Errorf("--max-tasks=%d: must be between 1 and %d", c.MaxTasks, MaxTasksLimit)
	}
	return nil
}

// ToFlags returns the flags to pass to a child runsc process.
func (c *Config) ToFlags() []string {
	return []string{
		"--root=" + c.Root,
		"--platform=" + c.Platform,
		fmt.Sprintf("--debug=%t", c.Debug),
		"--debug-log=" + c.DebugLog,
		fmt.Sprintf("--strace=%t", c.Strace),
		fmt.Sprintf("--testonly-panic-on-syscall=%d", c.TestOnlyPanicOnSyscall),
		fmt.Sprintf("--max-tasks=%d", c.MaxTasks),
		"--log-format=" + c.LogFormat,
		"--network=" + c.Network,
		"--overlay=" + c.Overlay,
		fmt.Sprintf("--sandbox-uid-base=%d", c.SandboxUIDBase),
	}
}

// LogOutput opens the log destination.
func (c *Config) LogOutput() (io.Writer, error) {
	if c.DebugLog == "" {
		return os.Stderr, nil
	}
	f, err := os.OpenFile(c.DebugLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0644)
	if err != nil {
		return nil, fmt.Errorf("--debug-log=%q: %w", c.DebugLog, err)
	}
	return f, nil
}
