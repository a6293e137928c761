package cmd

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/google/subcommands"
	"github.com/palisade-sandbox/palisade/gofer"
	"github.com/palisade-sandbox/palisade/runsc/caps"
	"github.com/palisade-sandbox/palisade/runsc/gofer/filter"
	"github.com/palisade-sandbox/palisade/runsc/resident"
	"golang.org/x/sys/unix"
)

// Gofer is `runsc gofer`: the file server of one container, started by
// runsc in a mount namespace of its own. It confines itself to the
// directories it serves (gofer.Confine: a new root holding a
// non-recursive bind of each), keeps only the capabilities serving files
// needs, sets up one server per directory, installs its seccomp filter
// (runsc/gofer/filter) and only then serves the Sentry over the sockets
// it was given.
type Gofer struct {
	root     string
	fd       int
	mounts   mountFlags
	readOnly bool
	// rwMounts are directories served writable whatever --read-only
	// says (a container's read-write bind mounts).
	rwMounts mountFlags
}

// mountFlags collects repeated --mount=DIR:FD flags.
type mountFlags []servedDir

// servedDir is one directory and the socket it is served on.
type servedDir struct {
	dir string
	fd  int
}

// String implements flag.Value.
func (m *mountFlags) String() string {
	var parts []string
	for _, d := range *m {
		parts = append(parts, fmt.Sprintf("%s:%d", d.dir, d.fd))
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value.
func (m *mountFlags) Set(v string) error {
	i := strings.LastIndexByte(v, ':')
	if i <= 0 {
		return fmt.Errorf("want DIR:FD, got %q", v)
	}
	fd, err := strconv.Atoi(v[i+1:])
	if err != nil || fd < 0 {
		return fmt.Errorf("want DIR:FD, got %q", v)
	}
	*m = append(*m, servedDir{dir: v[:i], fd: fd})
	return nil
}

// Name implements subcommands.Command.
func (*Gofer) Name() string { return "gofer" }

// Synopsis implements subcommands.Command.
func (*Gofer) Synopsis() string { return "serve a container's files to its sandbox (internal)" }

// Usage implements subcommands.Command.
func (*Gofer) Usage() string {
	return "gofer --root=DIR --fd=N [--mount=DIR:FD]... [--read-only]\n"
}

// SetFlags implements subcommands.Command.
func (g *Gofer) SetFlags(f *flag.FlagSet) {
	f.StringVar(&g.root, "root", "", "root directory to serve")
	f.IntVar(&g.fd, "fd", -1, "socket to serve the root on")
	f.Var(&g.mounts, "mount", "another directory to serve, as its own file system, on socket FD (DIR:FD; repeatable)")
	f.BoolVar(&g.readOnly, "read-only", true, "refuse every change to the files of the root and of --mount directories")
	f.Var(&g.rwMounts, "rw-mount", "another directory to serve writable, on socket FD (DIR:FD; repeatable)")
}

// GoferCapabilities are the capabilities the gofer keeps (in its
// permitted, effective and bounding sets) once it is confined, so that it
// can serve files as the sandbox's root expects whoever owns them:
// reading and searching (CAP_DAC_READ_SEARCH), opening for writing, e.g.
// a FIFO even when read-only, and creating in others' directories
// (CAP_DAC_OVERRIDE). A writable gofer also keeps what its mutations
// need: chown (CAP_CHOWN), chmod and utimes of others' files
// (CAP_FOWNER), and keeping set-ID bits (CAP_FSETID). Everything else
// (CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_SYS_PTRACE, CAP_NET_*, CAP_MKNOD,
// CAP_SETUID, ...) is dropped from every set.
func GoferCapabilities(readOnly bool) []uintptr {
	keep := []uintptr{unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH}
	if !readOnly {
		keep = append(keep, unix.CAP_CHOWN, unix.CAP_FOWNER, unix.CAP_FSETID)
	}
	return keep
}

// Execute implements subcommands.Command.
func (g *Gofer) Execute(ctx context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	fail := func(err error) subcommands.ExitStatus {
		fmt.Fprintf(os.Stderr, "runsc gofer: %v\n", err)
		return subcommands.ExitFailure
	}
	if g.root == "" || g.fd < 0 {
		fmt.Fprintln(os.Stderr, "runsc gofer: --root and --fd are required")
		return subcommands.ExitUsageError
	}
	served := append(append(mountFlags{{dir: g.root, fd: g.fd}}, g.mounts...), g.rwMounts...)
	dirs := make([]string, len(served))
	readOnly := make([]bool, len(served))
	for i, s := range served {
		dirs[i] = s.dir
		readOnly[i] = g.readOnly && i <= len(g.mounts)
	}
	// The process may change files if any directory is writable.
	allReadOnly := g.readOnly && len(g.rwMounts) == 0
	// The gofer lives as long as its sandbox: it gives back its
	// start-up pages of runsc once it serves (runsc/resident).
	text, _ := resident.FindText()
	paths, err := gofer.ConfineEach(dirs, readOnly)
	if err != nil {
		return fail(err)
	}
	keep := GoferCapabilities(allReadOnly)
	if err := caps.DropBounding(keep...); err != nil {
		return fail(err)
	}
	if err := caps.Limit(keep...); err != nil {
		return fail(err)
	}
	servers := make([]*gofer.Server, len(served))
	for i, s := range served {
		sock := os.NewFile(uintptr(s.fd), "gofer-socket")
		srv, err := gofer.NewServer(sock, paths[i], readOnly[i])
		// NewServer duplicated the socket and registered it with the
		// poller; nothing after this point creates a socket or
		// resolves a path from the working directory.
		sock.Close()
		if err != nil {
			for _, prev := range servers[:i] {
				prev.Close()
			}
			return fail(err)
		}
		servers[i] = srv
	}
	if err := filter.Install(allReadOnly); err != nil {
		for _, srv := range servers {
			srv.Close()
		}
		return fail(fmt.Errorf("seccomp: %w", err))
	}
	text.DropEvery()
	// Each file system is served until its Sentry end closes; the gofer
	// exits when all have.
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = srv.Serve()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fail(err)
		}
	}
	return subcommands.ExitSuccess
}
