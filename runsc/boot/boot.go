// Package boot builds and runs one sandbox inside the `runsc boot` process:
// it creates the memory file and platform, mounts the container's
// filesystems, confines the process, and starts the first guest process.
//
// Everything that needs a host path (the stub program, /proc/cpuinfo,
// reopening stdio) happens before confinement; afterwards the Sentry
// reaches host files only through the gofer.
package boot

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"runtime"
	"strings"
	"sync"

	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/platform/ptrace"
	"github.com/palisade-sandbox/palisade/runsc/boot/filter"
	"github.com/palisade-sandbox/palisade/runsc/caps"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/seccomp"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
	"github.com/palisade-sandbox/palisade/syscalls/linux"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/dev"
	"github.com/palisade-sandbox/palisade/vfs/devpts"
	vfsgofer "github.com/palisade-sandbox/palisade/vfs/gofer"
	"github.com/palisade-sandbox/palisade/vfs/host"
	"github.com/palisade-sandbox/palisade/vfs/overlay"
	"github.com/palisade-sandbox/palisade/vfs/sys"
	"github.com/palisade-sandbox/palisade/vfs/tmpfs"
	"golang.org/x/sys/unix"
)

// Args describe the sandbox to build.
type Args struct {
	Argv    []string
	Env     []string
	Cwd     string
	GoferFD int
	// Volumes are more gofer-served file systems, mounted after the
	// standard ones in order.
	Volumes []Volume
	Strace  bool
	Debug   bool
	Log     io.Writer
	// Network is --network: "none" or "sandbox" (a netstack: loopback,
	// and in sandbox mode the interfaces runsc took over, Links), or
	// "host" (host sockets, hostnet.go).
	Network string
	// Links are the taken-over interfaces (--network=sandbox outside
	// the host's initial network namespace).
	Links []Link
	// TestOnlyPanicOnSyscall, if >= 0, makes that syscall panic in the
	// Sentry (tests of the crash path only).
	TestOnlyPanicOnSyscall int
	// Platform is --platform: "ptrace" or "systrap".
	Platform string
	// MaxTasks is --max-tasks: the cap on the sandbox's tasks, lowered
	// to what the host allows (taskCap).
	MaxTasks int
	// Container, if set, makes the sandbox an OCI container's: its spec
	// gives the mounts, hostname, credentials and limits, and the first
	// process is created but waits for Start.
	Container *ContainerConfig
	// Limits are the container's resource limits as the guest sees them.
	Limits ContainerLimits
}

// Volume is a file system a gofer serves on its own socket, mounted at
// Target under an in-memory overlay like the root.
type Volume struct {
	Target  string
	GoferFD int
}

// Sandbox is a running sandbox.
type Sandbox struct {
	k    *kernel.Kernel
	init *kernel.ThreadGroup
	// pending is the first process to create at Start (containers
	// only).
	pending *kernel.CreateProcessArgs
	// started is closed once the first process exists.
	started chan struct{}
	// limits are the container's resource limits and seccomp its
	// filters (linux.seccomp), for exec'd processes too.
	limits  [unix.RLIMIT_RTTIME + 1]unix.Rlimit
	seccomp []*seccomp.Program
	// gofer is the connection to the gofer, which the sandbox cannot
	// run without (see Wait).
	gofer *protocol.Client
	// console is the first process's terminal (process.terminal), or
	// nil. Immutable once set by finishContainer.
	console *console
	// consoles are the terminals of processes runsc exec started.
	// Protected by consolesMu.
	consolesMu sync.Mutex
	consoles   map[*kernel.ThreadGroup]*console
}

// defaultPath is searched when the environment has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// New builds the sandbox and starts Argv in it.
func New(a Args) (*Sandbox, error) {
	// Boot-time setup (mounting, looking up argv[0]) acts as the
	// sandbox's root, the identity init will start with; the VFS assumes
	// no identity for a context that carries none.
	ctx := vfs.WithCredentials(context.Background(), kernel.RootCredentials().VFS())
	if a.Container != nil && a.Network == "sandbox" {
		// Before anything else is opened: the descriptors for the
		// interfaces runsc create attaches after the prestart hooks.
		if _, err := reserveLateLinkSlots(); err != nil {
			return nil, err
		}
	}
	cpuinfo, _ := os.ReadFile("/proc/cpuinfo")
	hwcap, hwcap2 := hostHWCaps()
	stdio, err := reopenStdio()
	if err != nil {
		return nil, err
	}

	if err := caps.DropBounding(); err != nil {
		return nil, err
	}
	// From here on the Sentry reaches no host path: its root is an empty
	// directory of its own, which the stubs inherit.
	if err := confine(); err != nil {
		return nil, err
	}
	mf, err := memory.New("palisade-memory")
	if err != nil {
		return nil, err
	}
	pl, err := newPlatform(a.Platform, mf.FD())
	if err != nil {
		return nil, err
	}
	if err := sealRoot(); err != nil {
		return nil, err
	}

	v := vfs.New()
	if err := dev.Register(v); err != nil {
		return nil, err
	}
	ptys, err := devpts.Register(v)
	if err != nil {
		return nil, err
	}
	client, err := protocol.NewClient(os.NewFile(uintptr(a.GoferFD), "gofer"))
	if err != nil {
		return nil, fmt.Errorf("connecting to gofer: %w", err)
	}
	var rootSI unix.Sysinfo_t
	unix.Sysinfo(&rootSI)
	var rootFS *vfs.Filesystem
	if a.Container != nil {
		rootFS, err = containerRoot(ctx, client, mf, a.Container, rootSI.Totalram*uint64(rootSI.Unit)/2)
		if err != nil {
			return nil, err
		}
	} else {
		rootFS, _, err = vfsgofer.NewFilesystem(ctx, client, vfsgofer.Options{})
		if err != nil {
			return nil, fmt.Errorf("mounting root: %w", err)
		}
		// The root is an overlay (vfs/overlay): the gofer-backed image
		// is its read-only lower layer and a tmpfs in Sentry memory,
		// with /tmp's size limit, its upper layer, so the container
		// may write anywhere in / and the image on the host is never
		// written (whether or not the gofer serves it read-only).
		// Changes vanish with the sandbox.
		rootUpper, err := tmpfs.New(ctx, tmpfs.Options{Mem: mf, SizeLimit: rootSI.Totalram * uint64(rootSI.Unit) / 2})
		if err != nil {
			return nil, err
		}
		rootFS, err = overlay.New(ctx, overlay.Options{Lower: rootFS, Upper: rootUpper})
		if err != nil {
			return nil, fmt.Errorf("mounting root overlay: %w", err)
		}
	}
	var rootFlags uint32
	mounts, err := v.NewMountNamespace(ctx, rootFS, rootFlags)
	if err != nil {
		return nil, err
	}

	maxTasks, lowered := taskCap(a.Limits.MaxTasks(a.MaxTasks))
	if lowered != "" {
		fmt.Fprintf(a.Log, "runsc boot: --max-tasks=%d lowered to %d by the host's %s\n", a.MaxTasks, maxTasks, lowered)
	}
	raiseMaxThreads(maxTasks)

	hostname, _ := os.Hostname()
	domainname := "(none)"
	if a.Container != nil {
		hostname = a.Container.Spec.Hostname
		if d := a.Container.Spec.Domainname; d != "" {
			domainname = d
		}
	}
	dispatcher := &linux.Dispatcher{}
	if a.Strace {
		dispatcher.Strace = a.Log
	}
	k := kernel.New(kernel.Config{
		MemoryFile: mf, Platform: pl, VFS: v, Mounts: mounts, Syscalls: dispatcher,
		UTS: kernel.UTS{
			Sysname: "Linux", Nodename: hostname, Release: "6.1.0", Version: "#1 SMP Palisade",
			Machine: "x86_64", Domainname: domainname,
		},
		HWCap: hwcap, HWCap2: hwcap2, LogOutput: a.Log, Debug: a.Debug,
		MaxTasks: maxTasks, NumCPU: a.Limits.NumCPU(runtime.NumCPU()),
	})
	dispatcher.Warn = k.WarnfEvery // it logs each unimplemented syscall once
	stack, err := newStack(a.Links, func(format string, args ...any) { k.Warnf("netstack: "+format, args...) })
	if err != nil {
		return nil, err
	}
	inet.SetStack(k, stack)
	if a.Network == "sandbox" && len(a.Links) == 0 {
		// Logged when the guest makes its first inet socket.
		inet.SetNotice(k, "--network=sandbox: the sandbox has only a loopback interface until its link to the network namespace exists (docs/network.md)")
	}
	if a.Network == "host" {
		useHostNetwork(k)
	}
	if a.TestOnlyPanicOnSyscall >= 0 {
		dispatcher.SetTestOnlyPanicOnSyscall(uint64(a.TestOnlyPanicOnSyscall))
	}

	// Like Linux's default tmpfs size: half the machine's memory.
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	tmp, err := tmpfs.New(ctx, tmpfs.Options{Mem: mf, RootMode: 01777, SizeLimit: si.Totalram * uint64(si.Unit) / 2})
	if err != nil {
		return nil, err
	}
	var oomScoreAdj int32
	if a.Container != nil && a.Container.Spec != nil && a.Container.Spec.Process != nil && a.Container.Spec.Process.OOMScoreAdj != nil {
		oomScoreAdj = int32(*a.Container.Spec.Process.OOMScoreAdj)
	}
	procFS, err := NewProcFilesystem(k, cpuinfo, a.Limits, oomScoreAdj)
	if err != nil {
		return nil, err
	}
	// POSIX shared memory and semaphores live in /dev/shm, a tmpfs.
	shm, err := tmpfs.New(ctx, tmpfs.Options{Mem: mf, RootMode: 01777, SizeLimit: si.Totalram * uint64(si.Unit) / 2})
	if err != nil {
		return nil, err
	}
	// The sandbox's own sysfs: the host's must never show through the
	// gofer.
	sysOpts := a.Limits.sysOptions(runtime.NumCPU(), si.Totalram*uint64(si.Unit), mf.Usage, func() uint64 { return uint64(k.LiveTaskCount()) })
	sysOpts.NetInterfaces = inet.SysNetInterfaces(k)
	sysFS := sys.New(ctx, sysOpts)
	registerFilesystemTypes(k, mf, si.Totalram*uint64(si.Unit), procFS, sysFS)
	if a.Container != nil {
		if err := mountContainerFS(ctx, a, k, v, mounts, mf, ptys.Filesystem(), procFS, sysFS, si.Totalram*uint64(si.Unit)); err != nil {
			return nil, err
		}
		return finishContainer(ctx, a, k, v, mounts, client, stdio)
	}
	mqFS, err := k.FilesystemType("mqueue")(ctx, "mqueue", 0, "")
	if err != nil {
		return nil, err
	}
	for _, m := range []struct {
		target, source string
		fs             *vfs.Filesystem
		flags          uint32
	}{
		{"/dev", "tmpfs", dev.New(ctx), unix.MS_NOSUID},
		{"/dev/mqueue", "mqueue", mqFS, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{"/dev/shm", "shm", shm, unix.MS_NOSUID | unix.MS_NODEV},
		{"/dev/pts", "devpts", ptys.Filesystem(), unix.MS_NOSUID | unix.MS_NOEXEC},
		{"/tmp", "tmpfs", tmp, unix.MS_NOSUID | unix.MS_NODEV},
		{"/sys", "sysfs", sysFS, unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{"/proc", "proc", procFS, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
	} {
		root := mounts.Root()
		err := v.MountFilesystemAt(ctx, &vfs.PathOperation{Root: root, Start: root, Path: m.target, FollowFinalSymlink: true}, m.fs, vfs.MountOptions{Flags: m.flags, Source: m.source})
		root.DecRef(ctx)
		if err != nil {
			return nil, fmt.Errorf("mounting %s: %w", m.target, err)
		}
	}
	for _, vol := range a.Volumes {
		if err := mountVolume(ctx, v, mounts, mf, vol, si.Totalram*uint64(si.Unit)/2); err != nil {
			return nil, fmt.Errorf("mounting volume %s: %w", vol.Target, err)
		}
	}

	v.LockMountTree(mounts) // the guest never uncovers what these mounts hide

	fdTable, err := stdioTable(ctx, stdio[:])
	if err != nil {
		return nil, err
	}
	if err := dropPrivileges(a.Network, linkFDs(a.Links)); err != nil {
		return nil, err
	}

	filename, err := lookPath(ctx, v, mounts, a.Cwd, a.Argv[0], a.Env)
	if err != nil {
		return nil, &CommandError{Status: 127, Err: err}
	}
	var limits [unix.RLIMIT_RTTIME + 1]unix.Rlimit
	for r := range limits {
		unix.Getrlimit(r, &limits[r])
	}
	tg, err := k.CreateProcess(kernel.CreateProcessArgs{
		Filename: filename, Argv: a.Argv, Envv: a.Env, WorkingDirectory: a.Cwd,
		Credentials: kernel.RootCredentials(), Umask: 0022, FDTable: fdTable, Limits: limits,
	})
	if err != nil {
		return nil, commandError(a.Argv[0], err)
	}
	s := &Sandbox{k: k, init: tg, gofer: client}
	s.forwardSignals()
	return s, nil
}

// stdioTable returns a descriptor table holding the host descriptors
// stdio as 0, 1, 2.
func stdioTable(ctx context.Context, stdio []int) (*kernel.FDTable, error) {
	fdTable := kernel.NewFDTable()
	for i, hfd := range stdio {
		f, err := host.NewFD(ctx, hfd, stdioFlags(hfd))
		if err != nil {
			return nil, fmt.Errorf("stdio %d: %w", i, err)
		}
		if _, err := fdTable.Install(int32(i), 3, f, kernel.FDFlags{}); err != nil {
			return nil, err
		}
		f.DecRef(ctx)
	}
	return fdTable, nil
}

// mountVolume mounts the gofer file system of vol at vol.Target, under an
// overlay whose upper layer is a tmpfs in sandbox memory of at most
// upperLimit bytes: as for the root, the host's files never change.
func mountVolume(ctx context.Context, v *vfs.VirtualFilesystem, mounts *vfs.MountNamespace, mf *memory.File, vol Volume, upperLimit uint64) error {
	client, err := protocol.NewClient(os.NewFile(uintptr(vol.GoferFD), "gofer-volume"))
	if err != nil {
		return fmt.Errorf("connecting to gofer: %w", err)
	}
	lower, _, err := vfsgofer.NewFilesystem(ctx, client, vfsgofer.Options{})
	if err != nil {
		return err
	}
	upper, err := tmpfs.New(ctx, tmpfs.Options{Mem: mf, SizeLimit: upperLimit})
	if err != nil {
		return err
	}
	fs, err := overlay.New(ctx, overlay.Options{Lower: lower, Upper: upper})
	if err != nil {
		return err
	}
	root := mounts.Root()
	defer root.DecRef(ctx)
	return v.MountFilesystemAt(ctx, &vfs.PathOperation{Root: root, Start: root, Path: vol.Target, FollowFinalSymlink: true}, fs, vfs.MountOptions{Flags: unix.MS_NOSUID | unix.MS_NODEV, Source: "gofer"})
}

// forwardSignals passes signals sent to the sandbox process on to the
// first guest process.
func (s *Sandbox) forwardSignals() {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	go func() {
		for sig := range ch {
			if sig == unix.SIGWINCH && s.console != nil {
				// boot's controlling terminal is the host side of
				// the first process's console: its new size goes
				// to the Sentry's terminal, which signals the
				// guest's foreground group.
				s.console.resize()
			} else if sig == unix.SIGHUP && s.console != nil {
				// The host terminal hung up (its master, docker's
				// shim's, was closed): the console ends and closes
				// the Sentry's master, which hangs the guest's
				// terminal up and sends its session leader SIGHUP,
				// as Linux does (init ignores it without a
				// handler). Forwarding this one as well gave the
				// first process a second SIGHUP, one init could
				// not ignore.
				s.console.end()
			} else if sig == unix.SIGINT || sig == unix.SIGQUIT || sig == unix.SIGWINCH {
				// Terminal signals go where the terminal would send them.
				s.k.SignalForeground(int(sig.(unix.Signal)))
			} else {
				s.k.ForwardSignal(s.init, int(sig.(unix.Signal)))
			}
		}
	}()
}

// reopenStdio gives the sandbox terminal descriptions of its own, so that
// setting O_NONBLOCK inside doesn't change the caller's terminal. Other
// stdio (files, whose offset must stay shared; pipes; sockets) is dup'ed.
func reopenStdio() ([3]int, error) {
	var out [3]int
	for i := 0; i < 3; i++ {
		flags := unix.O_RDONLY
		if i > 0 {
			flags = unix.O_WRONLY
		}
		if fl, err := unix.FcntlInt(uintptr(i), unix.F_GETFL, 0); err == nil {
			flags = fl & unix.O_ACCMODE
		} else {
			// Closed stdio: give the guest /dev/null.
			fd, err := unix.Open("/dev/null", flags|unix.O_CLOEXEC, 0)
			if err != nil {
				return out, os.NewSyscallError("open /dev/null", err)
			}
			out[i] = fd
			continue
		}
		var st unix.Stat_t
		fd, err := -1, unix.Fstat(i, &st)
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR {
			fd, err = unix.Open(fmt.Sprintf("/proc/self/fd/%d", i), flags|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		} else {
			err = unix.EINVAL
		}
		if err != nil {
			if fd, err = unix.FcntlInt(uintptr(i), unix.F_DUPFD_CLOEXEC, 3); err != nil {
				return out, os.NewSyscallError("dup stdio", err)
			}
		}
		out[i] = fd
	}
	return out, nil
}

// stdioFlags returns the open flags the guest sees for a host stdio fd.
func stdioFlags(fd int) uint32 {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return unix.O_RDWR
	}
	return uint32(fl) & (unix.O_ACCMODE | unix.O_APPEND)
}

// hostHWCaps reads AT_HWCAP and AT_HWCAP2 from the process's own auxv.
func hostHWCaps() (uint64, uint64) {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0, 0
	}
	var hw, hw2 uint64
	for i := 0; i+16 <= len(b); i += 16 {
		switch binary.LittleEndian.Uint64(b[i:]) {
		case 16: // AT_HWCAP
			hw = binary.LittleEndian.Uint64(b[i+8:])
		case 26: // AT_HWCAP2
			hw2 = binary.LittleEndian.Uint64(b[i+8:])
		}
	}
	return hw, hw2
}

// confine chroots the Sentry into an empty directory of its own mount
// namespace: after this no host path is reachable. The directory is a
// small tmpfs, writable until sealRoot so that the platform can write the
// stub program there and exec it (the stubs inherit this root and working
// directory).
func confine() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return os.NewSyscallError("making mounts private", err)
	}
	dir := "/tmp"
	if err := unix.Mount("palisade-empty", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=16k,nr_inodes=4,mode=0700"); err != nil {
		return os.NewSyscallError("mounting empty root", err)
	}
	if err := unix.Chroot(dir); err != nil {
		return os.NewSyscallError("chroot", err)
	}
	return os.NewSyscallError("chdir", unix.Chdir("/"))
}

// sealRoot makes the Sentry's (and the stubs') root read-only and
// no-exec, once the stub program that was written there has started and
// been removed.
func sealRoot() error {
	// A per-mount (MS_BIND) remount: the file system itself still holds
	// the removed stub program, which the master stub maps, and a
	// read-only remount of the superblock is refused (EBUSY) while an
	// unlinked file is in use.
	const flags = unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	return os.NewSyscallError("remounting the empty root read-only", unix.Mount("", "/", "", flags, ""))
}

// CommandError is New's error when the sandbox started but its command
// could not: Status is the shell's status for it, 127 for a command that
// is not found and 126 for one that cannot be executed, as shells and
// docker report them.
type CommandError struct {
	Status int
	Err    error
}

// Error implements error.
func (e *CommandError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *CommandError) Unwrap() error { return e.Err }

// commandError classifies the failure to start argv0.
func commandError(argv0 string, err error) error {
	status := 126
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		status = 127
	}
	return &CommandError{Status: status, Err: fmt.Errorf("%s: %w", argv0, err)}
}

// lookPath finds argv0 as execvp would: names with a slash are used as
// they are, others are searched in the sandbox's PATH.
func lookPath(ctx context.Context, v *vfs.VirtualFilesystem, mounts *vfs.MountNamespace, cwd, argv0 string, env []string) (string, error) {
	if strings.Contains(argv0, "/") {
		// A path is used as it is, but must name something (runc
		// checks it at create, and a missing one is status 127).
		p := argv0
		if !path.IsAbs(p) {
			p = path.Join(cwd, p)
		}
		root := mounts.Root()
		defer root.DecRef(ctx)
		if _, err := v.StatAt(ctx, &vfs.PathOperation{Root: root, Start: root, Path: p, FollowFinalSymlink: true}); err != nil && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)) {
			return "", fmt.Errorf("%s: %w", argv0, err)
		}
		return argv0, nil
	}
	pathVar := defaultPath
	for _, e := range env {
		if p, ok := strings.CutPrefix(e, "PATH="); ok {
			pathVar = p
		}
	}
	root := mounts.Root()
	defer root.DecRef(ctx)
	for _, dir := range strings.Split(pathVar, ":") {
		if dir == "" {
			dir = "."
		}
		if !path.IsAbs(dir) {
			dir = path.Join(cwd, dir)
		}
		p := path.Join(dir, argv0)
		st, err := v.StatAt(ctx, &vfs.PathOperation{Root: root, Start: root, Path: p, FollowFinalSymlink: true})
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: executable file not found in $PATH", argv0)
}

// newPlatform starts the platform --platform names over the memory file
// memFD. Both write their stub program to "/", the Sentry's own empty
// root (see confine).
func newPlatform(name string, memFD int) (platform.Platform, error) {
	if name == "systrap" {
		return ptrace.NewSystrap(memFD, ptrace.Options{StubDir: "/"})
	}
	stubFilter, err := filter.StubProgram()
	if err != nil {
		return nil, err
	}
	return ptrace.New(memFD, ptrace.Options{StubFilter: stubFilter, StubDir: "/"})
}
