package boot

import (
	"context"
	"fmt"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/seccomp"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/dev"
	vfsgofer "github.com/palisade-sandbox/palisade/vfs/gofer"
	"github.com/palisade-sandbox/palisade/vfs/overlay"
	"github.com/palisade-sandbox/palisade/vfs/tmpfs"

	"os"
)

// ContainerConfig describes an OCI container's sandbox: runsc create
// builds it from the bundle and sends it to runsc boot as JSON.
type ContainerConfig struct {
	// ID is the container's ID.
	ID string `json:"id"`
	// Spec is the bundle's config.json.
	Spec *specs.Spec `json:"spec"`
	// MountFDs maps the index in Spec.Mounts of a bind mount of a
	// directory to the gofer socket serving it.
	MountFDs map[int]int `json:"mountFDs,omitempty"`
	// Files maps the index in Spec.Mounts of a bind mount of a regular
	// file to a copy of the file taken at create (see docs/oci.md).
	Files map[int]FileCopy `json:"files,omitempty"`
	// Overlay puts a writable layer in sandbox memory over the root
	// (--overlay=memory); without it writes go through the gofer to the
	// bundle's rootfs.
	Overlay bool `json:"overlay"`
}

// FileCopy is a regular file's contents and permission bits.
type FileCopy struct {
	Data []byte `json:"data"`
	Mode uint32 `json:"mode"`
}

// capabilityNames are the capabilities by number, as OCI specs name
// them.
var capabilityNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// CapabilityNames returns the names of the capabilities the Sentry
// knows, by number.
func CapabilityNames() []string { return append([]string(nil), capabilityNames...) }

// capabilitySet turns capability names into a mask, naming field in
// errors.
func capabilitySet(field string, names []string) (uint64, error) {
	var set uint64
	for _, n := range names {
		found := false
		for i, c := range capabilityNames {
			if strings.EqualFold(n, c) {
				set |= 1 << i
				found = true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("%s: unknown capability %q", field, n)
		}
	}
	return set, nil
}

// ProcessCredentials are the credentials of a container process: its
// user (uid, gid, additional gids) and capability sets.
type ProcessCredentials struct {
	UID, GID       uint32
	AdditionalGIDs []uint32
	Bounding       []string
	Effective      []string
	Inheritable    []string
	Permitted      []string
	Ambient        []string
	NoNewPrivs     bool
}

// Credentials builds kernel credentials, naming the bad field (prefix
// is "process" for the spec's process).
func (pc ProcessCredentials) Credentials(prefix string) (*kernel.Credentials, error) {
	c := &kernel.Credentials{
		RealUID: pc.UID, EffectiveUID: pc.UID, SavedUID: pc.UID, FSUID: pc.UID,
		RealGID: pc.GID, EffectiveGID: pc.GID, SavedGID: pc.GID, FSGID: pc.GID,
		Groups: append([]uint32(nil), pc.AdditionalGIDs...), NoNewPrivs: pc.NoNewPrivs,
	}
	var err error
	for _, s := range []struct {
		name  string
		names []string
		set   *uint64
	}{
		{"bounding", pc.Bounding, &c.Bounding},
		{"effective", pc.Effective, &c.Effective},
		{"inheritable", pc.Inheritable, &c.Inheritable},
		{"permitted", pc.Permitted, &c.Permitted},
	} {
		if *s.set, err = capabilitySet(prefix+".capabilities."+s.name, s.names); err != nil {
			return nil, err
		}
	}
	if c.Ambient, err = capabilitySet(prefix+".capabilities.ambient", pc.Ambient); err != nil {
		return nil, err
	}
	// As Linux requires: effective within permitted, permitted within
	// bounding... runc applies the sets as given; so does the Sentry,
	// masking effective by permitted as capset(2) would refuse
	// otherwise.
	c.Effective &= c.Permitted
	// An ambient capability must be permitted and inheritable: runc's
	// PR_CAP_AMBIENT_RAISE of any other fails, and runc goes on
	// without it.
	c.Ambient &= c.Permitted & c.Inheritable
	return c, nil
}

// specCredentials returns the credentials of the spec's process.
func specCredentials(p *specs.Process) (*kernel.Credentials, error) {
	pc := ProcessCredentials{UID: p.User.UID, GID: p.User.GID, AdditionalGIDs: p.User.AdditionalGids, NoNewPrivs: p.NoNewPrivileges}
	if p.Capabilities != nil {
		pc.Bounding, pc.Effective, pc.Inheritable = p.Capabilities.Bounding, p.Capabilities.Effective, p.Capabilities.Inheritable
		pc.Permitted, pc.Ambient = p.Capabilities.Permitted, p.Capabilities.Ambient
	}
	return pc.Credentials("process")
}

// rlimitNames are the resource limits by number, as OCI specs name them.
var rlimitNames = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
}

// Rlimits returns the host's current limits with the spec's rlimits
// applied over them, as runc sets them.
func Rlimits(prefix string, rl []specs.POSIXRlimit) ([unix.RLIMIT_RTTIME + 1]unix.Rlimit, error) {
	var limits [unix.RLIMIT_RTTIME + 1]unix.Rlimit
	for r := range limits {
		unix.Getrlimit(r, &limits[r])
	}
	seen := map[string]bool{}
	for i, l := range rl {
		r, ok := rlimitNames[l.Type]
		if !ok {
			return limits, fmt.Errorf("%s.rlimits[%d].type: unknown resource limit %q", prefix, i, l.Type)
		}
		if seen[l.Type] {
			return limits, fmt.Errorf("%s.rlimits[%d].type: %s given twice", prefix, i, l.Type)
		}
		seen[l.Type] = true
		if l.Soft > l.Hard {
			return limits, fmt.Errorf("%s.rlimits[%d]: soft limit %d above hard limit %d", prefix, i, l.Soft, l.Hard)
		}
		limits[r] = unix.Rlimit{Cur: l.Soft, Max: l.Hard}
	}
	return limits, nil
}

// pathOp is a path operation from the namespace's root.
func pathOp(root vfs.VirtualDentry, p string, follow bool) *vfs.PathOperation {
	return &vfs.PathOperation{Root: root, Start: root, Path: p, FollowFinalSymlink: follow}
}

// mkdirAll makes the directories of p that are missing, as runc makes a
// mount's destination in the rootfs.
func mkdirAll(ctx context.Context, v *vfs.VirtualFilesystem, root vfs.VirtualDentry, p string) error {
	cur := "/"
	for _, part := range strings.Split(path.Clean(p), "/") {
		if part == "" {
			continue
		}
		cur = path.Join(cur, part)
		err := v.MkdirAt(ctx, pathOp(root, cur, true), 0755)
		if err != nil && err != unix.EEXIST {
			return err
		}
	}
	return nil
}

// makeMountpoint makes p (a directory, or with file an empty regular
// file) and its parents where missing.
func makeMountpoint(ctx context.Context, v *vfs.VirtualFilesystem, root vfs.VirtualDentry, p string, file bool) error {
	if !file {
		return mkdirAll(ctx, v, root, p)
	}
	if err := mkdirAll(ctx, v, root, path.Dir(p)); err != nil {
		return err
	}
	if _, err := v.StatAt(ctx, pathOp(root, p, true)); err == nil {
		return nil
	}
	f, err := v.OpenAt(ctx, pathOp(root, p, true), vfs.OpenOptions{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: 0644})
	if err != nil {
		return err
	}
	f.DecRef(ctx)
	return nil
}

// mountFlagNames are the mount options that are per-mount flags.
var mountFlagNames = map[string]struct {
	set   bool
	flags uint32
}{
	"ro": {true, unix.MS_RDONLY}, "rw": {false, unix.MS_RDONLY},
	"nosuid": {true, unix.MS_NOSUID}, "suid": {false, unix.MS_NOSUID},
	"nodev": {true, unix.MS_NODEV}, "dev": {false, unix.MS_NODEV},
	"noexec": {true, unix.MS_NOEXEC}, "exec": {false, unix.MS_NOEXEC},
	"noatime": {true, unix.MS_NOATIME}, "atime": {false, unix.MS_NOATIME},
	"nodiratime": {true, unix.MS_NODIRATIME}, "diratime": {false, unix.MS_NODIRATIME},
	"relatime": {true, unix.MS_RELATIME}, "norelatime": {false, unix.MS_RELATIME},
	"strictatime": {true, unix.MS_STRICTATIME},
}

// mountOptions splits a spec mount's options into per-mount flags,
// whether it is a bind (and recursive), and the file system's own data.
func mountOptions(opts []string) (flags uint32, bind, rec bool, data string) {
	var rest []string
	for _, o := range opts {
		if f, ok := mountFlagNames[o]; ok {
			if f.set {
				flags |= f.flags
			} else {
				flags &^= f.flags
			}
			continue
		}
		switch o {
		case "bind":
			bind = true
		case "rbind":
			bind, rec = true, true
		case "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable", "defaults", "sync", "async", "dirsync", "remount", "mand", "nomand", "silent", "loud", "iversion", "noiversion", "lazytime", "nolazytime", "nosymfollow", "symfollow", "rro", "rrw", "tmpcopyup", "idmap", "ridmap":
		default:
			rest = append(rest, o)
		}
	}
	return flags, bind, rec, strings.Join(rest, ",")
}

// containerFS is what mountContainer needs of the sandbox being built.
type containerFS struct {
	ctx     context.Context
	k       *kernel.Kernel
	v       *vfs.VirtualFilesystem
	mounts  *vfs.MountNamespace
	mf      *memory.File
	devFS   *vfs.Filesystem
	ptsFS   *vfs.Filesystem
	procFS  *vfs.Filesystem
	sysFS   *vfs.Filesystem
	memSize uint64
	log     func(format string, args ...any)
}

// mountContainer mounts /dev (always: the OCI spec's default devices)
// and the spec's mounts in order; /dev goes where the spec's tmpfs /dev
// is, or first if it has none, so /proc/PID/mountinfo lists the mounts in
// the spec's order as it does under runc. Bind mounts of directories are
// gofer file systems (written through to the host unless "ro"), of
// regular files copies of their contents; tmpfs, proc, sysfs, devpts,
// mqueue and cgroup are served by the Sentry.
func (c *containerFS) mountContainer(cc *ContainerConfig) error {
	root := c.mounts.Root()
	defer root.DecRef(c.ctx)
	devAt := specDevMount(cc.Spec.Mounts)
	if devAt < 0 {
		if err := c.mountDev(root, unix.MS_NOSUID, "tmpfs"); err != nil {
			return err
		}
	}
	for i, m := range cc.Spec.Mounts {
		field := fmt.Sprintf("mounts[%d] (%s)", i, m.Destination)
		var err error
		if i == devAt {
			flags, _, _, _ := mountOptions(m.Options)
			err = c.mountDev(root, flags|unix.MS_NOSUID, m.Source)
		} else {
			err = c.mountOne(root, cc, i, m)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
	}
	return nil
}

// specDevMount returns the index of the first tmpfs mount on /dev in
// mounts, or -1.
func specDevMount(mounts []specs.Mount) int {
	for i, m := range mounts {
		_, bind, _, _ := mountOptions(m.Options)
		if path.Clean(m.Destination) == "/dev" && m.Type == "tmpfs" && !bind {
			return i
		}
	}
	return -1
}

// mountDev mounts the Sentry's /dev file system on /dev.
func (c *containerFS) mountDev(root vfs.VirtualDentry, flags uint32, source string) error {
	if source == "" {
		source = "tmpfs"
	}
	if err := mkdirAll(c.ctx, c.v, root, "/dev"); err != nil {
		return fmt.Errorf("mounting /dev: %w", err)
	}
	if err := c.v.MountFilesystemAt(c.ctx, pathOp(root, "/dev", true), c.devFS, vfs.MountOptions{Flags: flags, Source: source}); err != nil {
		return fmt.Errorf("mounting /dev: %w", err)
	}
	return nil
}

func (c *containerFS) mountOne(root vfs.VirtualDentry, cc *ContainerConfig, i int, m specs.Mount) error {
	if !path.IsAbs(m.Destination) {
		return fmt.Errorf("destination must be an absolute path")
	}
	dest := path.Clean(m.Destination)
	flags, bind, rec, data := mountOptions(m.Options)
	typ := m.Type
	if bind || typ == "bind" {
		typ = "bind"
	}
	if SentryShm(m) {
		// Shared memory must be the sandbox's own: a tmpfs in the
		// Sentry, whatever the host gave (docker binds a host tmpfs).
		typ, rec, data = "tmpfs", false, "mode=1777"
		flags |= unix.MS_NOSUID | unix.MS_NODEV
	}
	var fs *vfs.Filesystem
	var err error
	// As mount(2), the source shown in mountinfo is the one given.
	source := m.Source
	if source == "" {
		source = typ
	}
	switch typ {
	case "bind":
		if fc, ok := cc.Files[i]; ok {
			return c.mountFile(root, dest, fc, flags)
		}
		fd, ok := cc.MountFDs[i]
		if !ok {
			return fmt.Errorf("bind mount source %q is not served", m.Source)
		}
		_ = rec // a gofer serves one file system: nothing is mounted below it
		if fs, err = c.goferFS(fd, flags&unix.MS_RDONLY != 0); err != nil {
			return err
		}
		// mountinfo shows the host directory, as for a bind on Linux.
		fs.SetRootPath(m.Source)
		source = m.Source
		flags |= unix.MS_NOSUID | unix.MS_NODEV
	case "tmpfs", "shm":
		if fs, err = c.k.FilesystemType("tmpfs")(c.ctx, m.Source, flags, data); err != nil {
			return fmt.Errorf("tmpfs options %q: %w", data, err)
		}
	case "mqueue":
		// POSIX message queues are not implemented (mq_open fails
		// with ENOSYS); the directory is an empty tmpfs that shows as
		// the mqueue the spec asks for.
		if fs, err = tmpfs.New(c.ctx, tmpfs.Options{Mem: c.mf, RootMode: 01777, Name: "mqueue"}); err != nil {
			return err
		}
	case "proc":
		if dest == "/dev" {
			return fmt.Errorf("proc cannot be mounted on /dev")
		}
		fs = c.procFS
		fs.IncRef()
	case "sysfs":
		fs = c.sysFS
		fs.IncRef()
	case "devpts":
		fs = c.ptsFS
		fs.IncRef()
	case "cgroup", "cgroup2":
		// The Sentry's sysfs shows the container's cgroup at
		// /sys/fs/cgroup (docs/oci.md).
		if dest != "/sys/fs/cgroup" {
			return fmt.Errorf("cgroup file systems can only be mounted at /sys/fs/cgroup")
		}
		if flags&unix.MS_RDONLY == 0 {
			c.log("runsc boot: %s: cgroup is served read-only by the Sentry's sysfs\n", dest)
		}
		return nil
	default:
		return fmt.Errorf("mount type %q is not supported", m.Type)
	}
	defer fs.DecRef(c.ctx)
	if dest == "/dev" && typ == "tmpfs" {
		// /dev is the Sentry's device file system, mounted already.
		return nil
	}
	if err := mkdirAll(c.ctx, c.v, root, dest); err != nil {
		return fmt.Errorf("making the mount point: %w", err)
	}
	return c.v.MountFilesystemAt(c.ctx, pathOp(root, dest, true), fs, vfs.MountOptions{Flags: flags, Source: source})
}

// SentryShm reports whether m is the container's /dev/shm, which the
// Sentry serves as a tmpfs of its own even when the spec binds a host
// directory there (docker's shm).
func SentryShm(m specs.Mount) bool { return path.Clean(m.Destination) == "/dev/shm" }

// goferFS connects to the gofer serving a bind mount.
func (c *containerFS) goferFS(fd int, readOnly bool) (*vfs.Filesystem, error) {
	client, err := protocol.NewClient(os.NewFile(uintptr(fd), "gofer-mount"))
	if err != nil {
		return nil, fmt.Errorf("connecting to gofer: %w", err)
	}
	fs, _, err := vfsgofer.NewFilesystem(c.ctx, client, vfsgofer.Options{})
	return fs, err
}

// mountFile mounts a tmpfs file holding content on dest (a file bind
// mount: docker's /etc/hosts, /etc/hostname, /etc/resolv.conf).
func (c *containerFS) mountFile(root vfs.VirtualDentry, dest string, fc FileCopy, flags uint32) error {
	content := fc.Data
	fs, err := tmpfs.New(c.ctx, tmpfs.Options{Mem: c.mf, RootMode: 0755, SizeLimit: uint64(len(content)) + 1<<16})
	if err != nil {
		return err
	}
	defer fs.DecRef(c.ctx)
	if err := makeMountpoint(c.ctx, c.v, root, dest, true); err != nil {
		return fmt.Errorf("making the mount point: %w", err)
	}
	// Write the copy into a tmpfs of its own (the root of a scratch
	// mount namespace), then bind the file over dest.
	scratch, err := c.v.NewMountNamespace(c.ctx, fs, 0)
	if err != nil {
		return err
	}
	sroot := scratch.Root()
	defer sroot.DecRef(c.ctx)
	f, err := c.v.OpenAt(c.ctx, pathOp(sroot, "/f", true), vfs.OpenOptions{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: fc.Mode & 07777})
	if err != nil {
		return err
	}
	_, err = f.Write(c.ctx, content)
	f.DecRef(c.ctx)
	if err != nil {
		return err
	}
	err = c.v.BindAt(c.ctx, pathOp(sroot, "/f", true), pathOp(root, dest, true), false)
	if err == nil && flags&unix.MS_RDONLY != 0 {
		err = c.v.RemountAt(c.ctx, pathOp(root, dest, true), flags)
	}
	return err
}

// maskPaths hides each path that exists: a directory under an empty
// read-only tmpfs, a file under /dev/null, as runc does.
func (c *containerFS) maskPaths(paths []string) error {
	root := c.mounts.Root()
	defer root.DecRef(c.ctx)
	for i, p := range paths {
		st, err := c.v.StatAt(c.ctx, pathOp(root, p, true))
		if err != nil {
			continue // nothing to hide
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			fs, err := tmpfs.New(c.ctx, tmpfs.Options{Mem: c.mf, RootMode: 0555, SizeLimit: 4096})
			if err == nil {
				err = c.v.MountFilesystemAt(c.ctx, pathOp(root, p, true), fs, vfs.MountOptions{Flags: unix.MS_RDONLY, Source: "tmpfs"})
				fs.DecRef(c.ctx)
			}
			if err != nil {
				return fmt.Errorf("linux.maskedPaths[%d] (%s): %w", i, p, err)
			}
			continue
		}
		if err := c.v.BindAt(c.ctx, pathOp(root, "/dev/null", true), pathOp(root, p, true), false); err != nil {
			return fmt.Errorf("linux.maskedPaths[%d] (%s): %w", i, p, err)
		}
	}
	return nil
}

// readonlyPaths makes each path that exists read-only: a read-only bind
// of itself, as runc does.
func (c *containerFS) readonlyPaths(paths []string) error {
	root := c.mounts.Root()
	defer root.DecRef(c.ctx)
	for i, p := range paths {
		if _, err := c.v.StatAt(c.ctx, pathOp(root, p, true)); err != nil {
			continue
		}
		err := c.v.BindAt(c.ctx, pathOp(root, p, true), pathOp(root, p, true), true)
		if err == nil {
			err = c.v.RemountAt(c.ctx, pathOp(root, p, true), unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
		}
		if err != nil {
			return fmt.Errorf("linux.readonlyPaths[%d] (%s): %w", i, p, err)
		}
	}
	return nil
}

// containerRoot builds the root file system: the gofer's, under an
// overlay in memory when cc.Overlay.
func containerRoot(ctx context.Context, client *protocol.Client, mf *memory.File, cc *ContainerConfig, upperLimit uint64) (*vfs.Filesystem, error) {
	fs, _, err := vfsgofer.NewFilesystem(ctx, client, vfsgofer.Options{})
	if err != nil {
		return nil, fmt.Errorf("mounting root: %w", err)
	}
	if !cc.Overlay {
		return fs, nil
	}
	upper, err := tmpfs.New(ctx, tmpfs.Options{Mem: mf, SizeLimit: upperLimit})
	if err != nil {
		return nil, err
	}
	return overlay.New(ctx, overlay.Options{Lower: fs, Upper: upper})
}

// mountContainerFS mounts the container's file systems, hides its masked
// paths, makes its read-only paths and (with root.readonly) its root
// read-only, and locks the tree.
func mountContainerFS(ctx context.Context, a Args, k *kernel.Kernel, v *vfs.VirtualFilesystem, mounts *vfs.MountNamespace, mf *memory.File, ptsFS, procFS, sysFS *vfs.Filesystem, memSize uint64) error {
	spec := a.Container.Spec
	c := &containerFS{ctx: ctx, k: k, v: v, mounts: mounts, mf: mf, devFS: dev.NewContainer(ctx), ptsFS: ptsFS, procFS: procFS, sysFS: sysFS, memSize: memSize,
		log: func(format string, args ...any) { fmt.Fprintf(a.Log, format, args...) }}
	defer c.devFS.DecRef(ctx)
	if err := c.mountContainer(a.Container); err != nil {
		return err
	}
	if spec.Linux != nil {
		if err := c.maskPaths(spec.Linux.MaskedPaths); err != nil {
			return err
		}
		if err := c.readonlyPaths(spec.Linux.ReadonlyPaths); err != nil {
			return err
		}
		if err := applySysctls(ctx, v, mounts, spec.Linux.Sysctl, c.log); err != nil {
			return err
		}
	}
	if spec.Root != nil && spec.Root.Readonly {
		root := mounts.Root()
		err := v.RemountAt(ctx, pathOp(root, "/", true), unix.MS_RDONLY)
		root.DecRef(ctx)
		if err != nil {
			return fmt.Errorf("root.readonly: %w", err)
		}
	}
	v.LockMountTree(mounts)
	return nil
}

// applySysctls writes each of linux.sysctl to /proc/sys in the sandbox.
// Network settings are accepted with a warning while the sandbox has no
// network stack of its own; any other that cannot be set fails, naming
// it.
func applySysctls(ctx context.Context, v *vfs.VirtualFilesystem, mounts *vfs.MountNamespace, sysctl map[string]string, log func(string, ...any)) error {
	root := mounts.Root()
	defer root.DecRef(ctx)
	for key, val := range sysctl {
		if strings.Contains(key, "..") || strings.ContainsAny(key, "/") && strings.Contains(key, ".") {
			return fmt.Errorf("linux.sysctl[%q]: invalid name", key)
		}
		p := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
		f, err := v.OpenAt(ctx, pathOp(root, p, true), vfs.OpenOptions{Flags: unix.O_WRONLY})
		if err == nil {
			_, err = f.Write(ctx, []byte(val))
			f.DecRef(ctx)
		}
		if err != nil {
			if strings.HasPrefix(key, "net.") {
				log("runsc boot: warning: linux.sysctl[%q] ignored: the sandbox's network stack has no sysctls yet\n", key)
				continue
			}
			return fmt.Errorf("linux.sysctl[%q]: cannot be set in the sandbox: %w", key, err)
		}
	}
	return nil
}

// finishContainer ends building a container's sandbox: the first
// process is resolved now (a missing command fails create, as with
// runc) and created at Start.
func finishContainer(ctx context.Context, a Args, k *kernel.Kernel, v *vfs.VirtualFilesystem, mounts *vfs.MountNamespace, client *protocol.Client, stdio [3]int) (*Sandbox, error) {
	spec := a.Container.Spec
	creds, err := specCredentials(spec.Process)
	if err != nil {
		return nil, err
	}
	limits, err := Rlimits("process", spec.Process.Rlimits)
	if err != nil {
		return nil, err
	}
	var filters []*seccomp.Program
	if spec.Linux != nil {
		prog, err := SeccompFromSpec(spec.Linux.Seccomp)
		if err != nil {
			return nil, err
		}
		if prog != nil {
			filters = []*seccomp.Program{prog}
		}
	}
	umask := uint32(0022)
	if spec.Process.User.Umask != nil {
		umask = *spec.Process.User.Umask & 0777
	}
	var cons *console
	var ctty *vfs.FileDescription
	var fdTable *kernel.FDTable
	if spec.Process.Terminal {
		// stdio is the host terminal runsc made, three times.
		unix.Close(stdio[1])
		unix.Close(stdio[2])
		if cons, ctty, err = openConsole(k, creds, stdio[0]); err != nil {
			return nil, err
		}
		fdTable, err = terminalTable(ctx, ctty)
	} else {
		fdTable, err = stdioTable(ctx, stdio[:])
	}
	if err != nil {
		return nil, err
	}
	if err := dropPrivileges(); err != nil {
		return nil, err
	}
	if len(a.Argv) == 0 {
		return nil, fmt.Errorf("process.args must not be empty")
	}
	env := withHome(ctx, v, mounts, a.Env, creds.RealUID)
	filename, err := lookPath(ctx, v, mounts, a.Cwd, a.Argv[0], env)
	if err != nil {
		return nil, &CommandError{Status: 127, Err: err}
	}
	a.Env = env
	s := &Sandbox{k: k, gofer: client, started: make(chan struct{}), limits: limits, seccomp: filters, console: cons, pending: &kernel.CreateProcessArgs{
		Filename: filename, Argv: a.Argv, Envv: a.Env, WorkingDirectory: a.Cwd,
		Credentials: creds, Umask: umask, FDTable: fdTable, Limits: limits, SeccompFilters: filters,
		ControllingTerminal: ctty,
	}}
	return s, nil
}

// Start creates the container's first process (runsc start).
func (s *Sandbox) Start() error {
	if s.pending == nil {
		return fmt.Errorf("the container has started already")
	}
	tg, err := s.k.CreateProcess(*s.pending)
	if err != nil {
		return commandError(s.pending.Argv[0], err)
	}
	if ctty := s.pending.ControllingTerminal; ctty != nil {
		ctty.DecRef(context.Background())
	}
	s.pending = nil
	s.init = tg
	close(s.started)
	s.forwardSignals()
	if s.console != nil {
		// A resize between create and now went unnoticed: boot
		// catches SIGWINCH from forwardSignals on.
		s.console.resize()
	}
	return nil
}

// Kernel returns the sandbox's kernel.
func (s *Sandbox) Kernel() *kernel.Kernel { return s.k }

// Started is closed once the first process exists.
func (s *Sandbox) Started() <-chan struct{} { return s.started }

// Init returns the first process (nil before Start).
func (s *Sandbox) Init() *kernel.ThreadGroup {
	select {
	case <-s.started:
		return s.init
	default:
		return nil
	}
}

// ExecArgs describe a process runsc exec adds to a running container.
type ExecArgs struct {
	Argv, Env []string
	Cwd       string
	Creds     ProcessCredentials
	Umask     uint32
	// Stdio are host descriptors for the process's stdin, stdout and
	// stderr; Exec takes them over, also on failure.
	Stdio [3]int
	// Terminal says Stdio is a host terminal: the process gets a
	// pseudo-terminal of the Sentry's, copied to and from it.
	Terminal bool
}

// Exec starts another process in the running container, as runsc exec
// does: it resolves argv[0] in the sandbox's PATH and starts it with the
// container's resource limits.
func (s *Sandbox) Exec(a ExecArgs) (*kernel.ThreadGroup, error) {
	ctx := vfs.WithCredentials(context.Background(), kernel.RootCredentials().VFS())
	closeStdio := func() {
		for _, fd := range a.Stdio {
			unix.Close(fd)
		}
	}
	creds, err := a.Creds.Credentials("process")
	if err != nil {
		closeStdio()
		return nil, err
	}
	if len(a.Argv) == 0 {
		closeStdio()
		return nil, fmt.Errorf("process.args must not be empty")
	}
	cwd := a.Cwd
	if cwd == "" {
		cwd = "/"
	}
	a.Env = withHome(ctx, s.k.VFS, s.k.Mounts, a.Env, creds.RealUID)
	filename, err := lookPath(vfs.WithCredentials(ctx, creds.VFS()), s.k.VFS, s.k.Mounts, cwd, a.Argv[0], a.Env)
	if err != nil {
		closeStdio()
		return nil, &CommandError{Status: 127, Err: err}
	}
	if !a.Terminal {
		fdTable, err := stdioTable(ctx, a.Stdio[:])
		if err != nil {
			closeStdio()
			return nil, err
		}
		tg, err := s.k.CreateProcess(kernel.CreateProcessArgs{
			Filename: filename, Argv: a.Argv, Envv: a.Env, WorkingDirectory: cwd,
			Credentials: creds, Umask: a.Umask, FDTable: fdTable, Limits: s.limits, SeccompFilters: s.seccomp,
		})
		if err != nil {
			return nil, commandError(a.Argv[0], err)
		}
		return tg, nil
	}
	unix.Close(a.Stdio[1])
	unix.Close(a.Stdio[2])
	cons, ctty, err := openConsole(s.k, creds, a.Stdio[0])
	if err != nil {
		return nil, err
	}
	defer ctty.DecRef(ctx)
	fdTable, err := terminalTable(ctx, ctty)
	if err != nil {
		cons.end()
		return nil, err
	}
	tg, err := s.k.CreateProcess(kernel.CreateProcessArgs{
		Filename: filename, Argv: a.Argv, Envv: a.Env, WorkingDirectory: cwd,
		Credentials: creds, Umask: a.Umask, FDTable: fdTable, Limits: s.limits, SeccompFilters: s.seccomp,
		ControllingTerminal: ctty,
	})
	if err != nil {
		cons.end()
		return nil, commandError(a.Argv[0], err)
	}
	s.consolesMu.Lock()
	defer s.consolesMu.Unlock()
	if s.consoles == nil {
		s.consoles = map[*kernel.ThreadGroup]*console{}
	}
	for old, c := range s.consoles {
		select {
		case <-c.done:
			delete(s.consoles, old)
		default:
		}
	}
	s.consoles[tg] = cons
	return tg, nil
}

// FlushTerminal waits, once tg (a process Exec started) has exited,
// until what it wrote to its terminal has reached the host terminal.
func (s *Sandbox) FlushTerminal(tg *kernel.ThreadGroup) {
	s.consolesMu.Lock()
	c := s.consoles[tg]
	s.consolesMu.Unlock()
	if c != nil {
		c.flush()
	}
}

// ResizeTerminal gives the terminal of process pid (the first process
// for 0 or 1, else one Exec started) the host terminal's new size.
func (s *Sandbox) ResizeTerminal(pid int32) error {
	var c *console
	if pid == 0 || pid == 1 {
		c = s.console
	} else {
		s.consolesMu.Lock()
		for tg, tc := range s.consoles {
			if tg.ID() == pid {
				c = tc
			}
		}
		s.consolesMu.Unlock()
	}
	if c == nil {
		return fmt.Errorf("process %d has no terminal", pid)
	}
	c.resize()
	return nil
}

// maxPasswd bounds how much of the container's /etc/passwd is read.
const maxPasswd = 1 << 20

// withHome returns env with HOME set, as runc sets it when the spec does
// not: the home directory of uid in the container's /etc/passwd, or "/".
func withHome(ctx context.Context, v *vfs.VirtualFilesystem, mounts *vfs.MountNamespace, env []string, uid uint32) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			return env
		}
	}
	home := "/"
	root := mounts.Root()
	defer root.DecRef(ctx)
	if f, err := v.OpenAt(ctx, pathOp(root, "/etc/passwd", true), vfs.OpenOptions{Flags: unix.O_RDONLY}); err == nil {
		buf := make([]byte, 64<<10)
		var data []byte
		for len(data) < maxPasswd {
			n, err := f.Read(ctx, buf)
			data = append(data, buf[:n]...)
			if err != nil || n == 0 {
				break
			}
		}
		f.DecRef(ctx)
		for _, line := range strings.Split(string(data), "\n") {
			fields := strings.Split(line, ":")
			if len(fields) >= 6 && fields[2] == fmt.Sprint(uid) && fields[5] != "" {
				home = fields[5]
				break
			}
		}
	}
	return append(append([]string{}, env...), "HOME="+home)
}
