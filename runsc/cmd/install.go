package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/subcommands"
)

// defaultDockerConfig is where dockerd reads its configuration.
const defaultDockerConfig = "/etc/docker/daemon.json"

// Install is `runsc install [-- RUNTIME_FLAG...]`: it registers the running
// runsc binary as a docker runtime in docker's daemon.json.
type Install struct {
	configFile string
	runtime    string
}

// Name implements subcommands.Command.
func (*Install) Name() string { return "install" }

// Synopsis implements subcommands.Command.
func (*Install) Synopsis() string { return "register runsc as a docker runtime in daemon.json" }

// Usage implements subcommands.Command.
func (*Install) Usage() string {
	return `install [--config-file=FILE] [--runtime=NAME] [-- RUNTIME_FLAG...]

Adds (or replaces) the entry runtimes.NAME in docker's daemon.json: its
"path" is this runsc binary's absolute path and its "runtimeArgs" are the
flags given after "--" (docker passes them to runsc before the command).
Unless they set --overlay, --overlay=none is added: docker gives every
container a writable layer of its own on the host, so the container's
writes go there, as with runc, and survive "docker start" of a stopped
container; --overlay=memory would keep them in sandbox memory instead.
Every other key of the file is kept as it is. The file and its directory
are created when missing. The new file is written to a temporary file in
the same directory and renamed over the old one, with the old file's mode;
the old file is first copied to FILE.bak (replacing an older backup).
A file that is not valid JSON is reported and left untouched.

dockerd reads the change only when told: send it SIGHUP
(kill -HUP $(pidof dockerd)) or restart it. Then:
docker run --runtime=NAME ...

Flags:
`
}

// SetFlags implements subcommands.Command.
func (i *Install) SetFlags(f *flag.FlagSet) {
	f.StringVar(&i.configFile, "config-file", defaultDockerConfig, "path of docker's daemon.json")
	f.StringVar(&i.runtime, "runtime", "runsc", "name of the runtime to register")
}

// Execute implements subcommands.Command.
func (i *Install) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if i.runtime == "" {
		fmt.Fprintln(os.Stderr, "runsc install: --runtime must not be empty")
		return subcommands.ExitUsageError
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "runsc install: finding this binary: %v\n", err)
		return subcommands.ExitFailure
	}
	if err := installRuntime(i.configFile, i.runtime, self, dockerRuntimeArgs(f.Args())); err != nil {
		fmt.Fprintf(os.Stderr, "runsc install: %v\n", err)
		return subcommands.ExitFailure
	}
	fmt.Fprintf(os.Stderr, "runsc install: runtime %q (%s) registered in %s; reload dockerd (SIGHUP or restart) to use it\n", i.runtime, self, i.configFile)
	return subcommands.ExitSuccess
}

// Uninstall is `runsc uninstall`: it removes a runtime entry from docker's
// daemon.json.
type Uninstall struct {
	configFile string
	runtime    string
}

// Name implements subcommands.Command.
func (*Uninstall) Name() string { return "uninstall" }

// Synopsis implements subcommands.Command.
func (*Uninstall) Synopsis() string { return "remove a runsc runtime from docker's daemon.json" }

// Usage implements subcommands.Command.
func (*Uninstall) Usage() string {
	return `uninstall [--config-file=FILE] [--runtime=NAME]

Removes runtimes.NAME from docker's daemon.json, and the "runtimes" object
itself if nothing is left in it. Every other key is kept. The file is
written as install writes it (old file copied to FILE.bak, new one renamed
into place). Nothing is written when the runtime is not registered.

dockerd reads the change only when told: send it SIGHUP
(kill -HUP $(pidof dockerd)) or restart it.

Flags:
`
}

// SetFlags implements subcommands.Command.
func (u *Uninstall) SetFlags(f *flag.FlagSet) {
	f.StringVar(&u.configFile, "config-file", defaultDockerConfig, "path of docker's daemon.json")
	f.StringVar(&u.runtime, "runtime", "runsc", "name of the runtime to remove")
}

// Execute implements subcommands.Command.
func (u *Uninstall) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "runsc uninstall: unexpected arguments %q\n", f.Args())
		return subcommands.ExitUsageError
	}
	removed, err := uninstallRuntime(u.configFile, u.runtime)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runsc uninstall: %v\n", err)
		return subcommands.ExitFailure
	}
	if !removed {
		fmt.Fprintf(os.Stderr, "runsc uninstall: runtime %q is not in %s; nothing changed\n", u.runtime, u.configFile)
		return subcommands.ExitSuccess
	}
	fmt.Fprintf(os.Stderr, "runsc uninstall: runtime %q removed from %s; reload dockerd (SIGHUP or restart)\n", u.runtime, u.configFile)
	return subcommands.ExitSuccess
}

// dockerRuntime is one entry of daemon.json's "runtimes" object.
type dockerRuntime struct {
	Path        string   `json:"path"`
	RuntimeArgs []string `json:"runtimeArgs,omitempty"`
}

// dockerConfig is daemon.json as it was read: its top-level keys with
// their values kept as raw JSON, so keys runsc knows nothing about survive.
type dockerConfig struct {
	// path is the file's path, symlinks resolved.
	path string
	// exists is false when there was no file.
	exists bool
	// mode is the file's permission bits (0644 for a new file).
	mode fs.FileMode
	// uid and gid own the file (-1 for a new file).
	uid, gid int
	// raw is the file's content.
	raw  []byte
	keys map[string]json.RawMessage
}

// readDockerConfig reads and parses the daemon.json at path. A missing
// file is an empty configuration; an empty (or all blank) file too.
func readDockerConfig(path string) (*dockerConfig, error) {
	c := &dockerConfig{path: path, mode: 0o644, uid: -1, gid: -1, keys: map[string]json.RawMessage{}}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// Replace the file the link names, not the link.
		if c.path, err = filepath.EvalSymlinks(path); err != nil {
			return nil, err
		}
	}
	raw, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(c.path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", c.path)
	}
	c.exists, c.raw, c.mode = true, raw, fi.Mode().Perm()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		c.uid, c.gid = int(st.Uid), int(st.Gid)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(raw, &c.keys); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object (left unchanged): %v", c.path, err)
	}
	if c.keys == nil { // the file said "null"
		c.keys = map[string]json.RawMessage{}
	}
	return c, nil
}

// runtimes returns the "runtimes" object's entries.
func (c *dockerConfig) runtimes() (map[string]json.RawMessage, error) {
	rts := map[string]json.RawMessage{}
	v, ok := c.keys["runtimes"]
	if !ok {
		return rts, nil
	}
	if err := json.Unmarshal(v, &rts); err != nil || rts == nil {
		return nil, fmt.Errorf("%s: \"runtimes\" is not a JSON object (file left unchanged)", c.path)
	}
	return rts, nil
}

// write replaces the file with c's keys, after copying the old file to
// path.bak. Every step goes through a temporary file in the same
// directory, synced and renamed, so a crash leaves either the old or the
// new file, never a torn one.
func (c *dockerConfig) write() error {
	out, err := json.MarshalIndent(c.keys, "", "  ")
	if err != nil {
		return err
	}
	out = append(out, '\n')
	if c.exists && bytes.Equal(out, c.raw) {
		return nil
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if c.exists {
		if err := c.replace(c.path+".bak", c.raw); err != nil {
			return fmt.Errorf("backing up %s: %w", c.path, err)
		}
	}
	if err := c.replace(c.path, out); err != nil {
		return fmt.Errorf("writing %s: %w", c.path, err)
	}
	return nil
}

// replace atomically replaces path with data, with c's mode and owner.
func (c *dockerConfig) replace(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(c.mode); err != nil {
		return err
	}
	if c.uid >= 0 {
		// Best effort: an unprivileged user editing a copy of their own
		// cannot give it away, and needs not.
		_ = tmp.Chown(c.uid, c.gid)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// installRuntime sets runtimes.name in the daemon.json at path to the
// runsc binary bin with runtimeArgs args, keeping everything else.
func installRuntime(path, name, bin string, args []string) error {
	if !filepath.IsAbs(bin) {
		return fmt.Errorf("runtime path %q is not absolute", bin)
	}
	c, err := readDockerConfig(path)
	if err != nil {
		return err
	}
	rts, err := c.runtimes()
	if err != nil {
		return err
	}
	entry, err := json.Marshal(dockerRuntime{Path: bin, RuntimeArgs: args})
	if err != nil {
		return err
	}
	rts[name] = entry
	if c.keys["runtimes"], err = json.Marshal(rts); err != nil {
		return err
	}
	return c.write()
}

// uninstallRuntime removes runtimes.name from the daemon.json at path,
// and "runtimes" when it is left empty. It reports whether there was an
// entry to remove; a missing file has none.
func uninstallRuntime(path, name string) (bool, error) {
	c, err := readDockerConfig(path)
	if err != nil {
		return false, err
	}
	rts, err := c.runtimes()
	if err != nil {
		return false, err
	}
	if _, ok := rts[name]; !ok {
		return false, nil
	}
	delete(rts, name)
	if len(rts) == 0 {
		delete(c.keys, "runtimes")
	} else if c.keys["runtimes"], err = json.Marshal(rts); err != nil {
		return false, err
	}
	return true, c.write()
}

// dockerRuntimeArgs are the runtime flags docker passes: args, with
// --overlay=none unless they choose an overlay (see Install's usage).
func dockerRuntimeArgs(args []string) []string {
	for _, a := range args {
		if strings.HasPrefix(strings.TrimLeft(a, "-"), "overlay") {
			return args
		}
	}
	return append(append([]string{}, args...), "--overlay=none")
}
