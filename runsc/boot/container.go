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
	// Links are the interfaces of the container's network namespace
	// the sandbox took over (--network=sandbox).
	Links []Link `json:"links,omitempty"`
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
	ptsFS   *vfs.Filesystem
	procFS  *vfs.Filesystem
	sysFS   *vfs.Filesystem
	memSize uint64
	log     func(format string, args ...any)
}

// mountContainer mounts /dev (always: a tmpfs with the OCI spec's
// default devices, as runc makes it) and the spec's mounts in order;
// /dev goes where the spec's tmpfs /dev is, or first if it has none, so
// /proc/PID/mountinfo lists the mounts in the spec's order as it does
// under runc. Bind mounts of directories are gofer file systems (written
// through to the host unless "ro"), of regular files copies of their
// contents; tmpfs, proc, sysfs, devpts, mqueue and cgroup are served by
// the Sentry.
func (c *containerFS) mountContainer(cc *ContainerConfig) error {
	root := c.mounts.Root()
	defer root.DecRef(c.ctx)
	devAt := specDevMount(cc.Spec.Mounts)
	if devAt < 0 {
		if err := c.mountDev(root, cc, -1, defaultDevMount); err != nil {
			return err
		}
	}
	for i, m := range cc.Spec.Mounts {
		field := fmt.Sprintf("mounts[%d] (%s)", i, m.Destination)
		var err error
		if i == devAt {
			err = c.mountDev(root, cc, i, m)
		} else {
			err = c.mountOne(root, cc, i, m)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
	}
	return nil
}

// defaultDevMount is the /dev a container gets when its spec mounts none:
// docker's.
var defaultDevMount = specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}}

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

// devNodes are the device nodes every container's /dev has, each opened
// through the Sentry's driver of its number (vfs/dev, vfs/devpts).
var devNodes = []struct {
	name         string
	major, minor uint32
	perm         uint32
}{
	{"null", dev.MemMajor, dev.NullMinor, 0o666}, {"zero", dev.MemMajor, dev.ZeroMinor, 0o666},
	{"full", dev.MemMajor, dev.FullMinor, 0o666}, {"random", dev.MemMajor, dev.RandomMinor, 0o666},
	{"urandom", dev.MemMajor, dev.URandMinor, 0o666}, {"tty", dev.PtmxMajor, dev.TTYMinor, 0o666},
	{"console", dev.PtmxMajor, dev.ConsoleMinor, 0o600},
}

// devLinks are /dev's symbolic links.
var devLinks = [][2]string{
	{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
}

// mountDev mounts m (a tmpfs, index i of the spec's mounts or -1) on /dev
// and fills it as runc does: the default device nodes, the links, and
// the shm, pts and mqueue directories that the spec's later mounts cover.
// The guest may add and remove names, as in any tmpfs.
func (c *containerFS) mountDev(root vfs.VirtualDentry, cc *ContainerConfig, i int, m specs.Mount) error {
	if err := c.mountOne(root, cc, i, m); err != nil {
		return err
	}
	for _, n := range devNodes {
		p := "/dev/" + n.name
		if err := c.v.MknodAt(c.ctx, pathOp(root, p, false), unix.S_IFCHR|n.perm, unix.Mkdev(n.major, n.minor)); err != nil {
			return fmt.Errorf("making %s: %w", p, err)
		}
		if err := c.v.SetStatAt(c.ctx, pathOp(root, p, false), vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: n.perm}); err != nil {
			return fmt.Errorf("making %s: %w", p, err)
		}
	}
	for _, l := range devLinks {
		if err := c.v.SymlinkAt(c.ctx, pathOp(root, "/dev/"+l[0], false), l[1]); err != nil {
			return fmt.Errorf("making /dev/%s: %w", l[0], err)
		}
	}
	for _, d := range []struct {
		name string
		mode uint32
	}{{"shm", 0o1777}, {"pts", 0o755}, {"mqueue", 0o755}} {
		p := "/dev/" + d.name
		if err := c.v.MkdirAt(c.ctx, pathOp(root, p, false), d.mode); err != nil {
			return fmt.Errorf("making %s: %w", p, err)
		}
		if err := c.v.SetStatAt(c.ctx, pathOp(root, p, false), vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: d.mode}); err != nil {
			return fmt.Errorf("making %s: %w", p, err)
		}
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
		// The sandbox's POSIX message queues (sentry/kernel/mqueue).
		if fs, err = c.k.FilesystemType("mqueue")(c.ctx, m.Source, flags, data); err != nil {
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
	c := &containerFS{ctx: ctx, k: k, v: v, mounts: mounts, mf: mf, ptsFS: ptsFS, procFS: procFS, sysFS: sysFS, memSize: memSize,
		log: func(format string, args ...any) { fmt.Fprintf(a.Log, format, args...) }}
	if err := c.mountContainer(a.Container); err != nil {
		return err
	}
	if spec.Linux != nil {
		if err := c.makeDevices(spec.Linux.Devices); err != nil {
			return err
		}
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

// makeDevices creates the nodes of linux.devices (other than the
// Sentry's default devices, which /dev always has) with their type,
// numbers, mode and owner. The guest sees the node; opening it works only
// where the Sentry itself serves that device number, and otherwise fails
// with ENXIO, as Linux does for a number no driver has: the sandbox never
// opens a host device. Each such node is logged.
func (c *containerFS) makeDevices(devices []specs.LinuxDevice) error {
	root := c.mounts.Root()
	defer root.DecRef(c.ctx)
	for i, d := range devices {
		if DefaultDevice(d.Path) {
			continue
		}
		if err := c.makeDevice(root, d); err != nil {
			return fmt.Errorf("linux.devices[%d] (%s): %w", i, d.Path, err)
		}
	}
	return nil
}

// makeDevice creates one device node.
func (c *containerFS) makeDevice(root vfs.VirtualDentry, d specs.LinuxDevice) error {
	typ, perm, err := CheckDevice(d)
	if err != nil {
		return err
	}
	p := path.Clean(d.Path)
	if err := mkdirAll(c.ctx, c.v, root, path.Dir(p)); err != nil {
		return err
	}
	dev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	if typ == unix.S_IFIFO {
		dev = 0
	}
	if err := c.v.MknodAt(c.ctx, pathOp(root, p, false), typ|perm, dev); err != nil {
		return err
	}
	// The mode again, past the umask; and the owner.
	st := vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: perm}
	if d.UID != nil {
		st.Mask |= unix.STATX_UID
		st.UID = *d.UID
	}
	if d.GID != nil {
		st.Mask |= unix.STATX_GID
		st.GID = *d.GID
	}
	if err := c.v.SetStatAt(c.ctx, pathOp(root, p, false), st); err != nil {
		return err
	}
	switch {
	case typ == unix.S_IFBLK:
		c.log("runsc boot: %s: block device %d:%d has no driver in the sandbox: opening it fails with ENXIO\n", p, d.Major, d.Minor)
	case typ == unix.S_IFCHR && !c.v.HasCharDevice(uint32(d.Major), uint32(d.Minor)):
		c.log("runsc boot: %s: character device %d:%d has no driver in the sandbox: opening it fails with ENXIO\n", p, d.Major, d.Minor)
	}
	return nil
}

// DefaultDevice reports whether p is one of the devices every sandbox's
// /dev has (the OCI spec's default devices, served by the Sentry).
func DefaultDevice(p string) bool {
	switch path.Clean(p) {
	case "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/console", "/dev/ptmx":
		return true
	}
	return false
}

// CheckDevice checks a linux.devices entry and returns its file type
// (S_IFCHR, S_IFBLK or S_IFIFO) and permission bits.
func CheckDevice(d specs.LinuxDevice) (typ, perm uint32, err error) {
	if p := path.Clean(d.Path); !path.IsAbs(p) || p == "/" {
		return 0, 0, fmt.Errorf("path must be absolute")
	}
	switch d.Type {
	case "c", "u":
		typ = unix.S_IFCHR
	case "b":
		typ = unix.S_IFBLK
	case "p":
		typ = unix.S_IFIFO
	default:
		return 0, 0, fmt.Errorf("type %q is not c, u, b or p", d.Type)
	}
	if d.Major < 0 || d.Major > 0xfff || d.Minor < 0 || d.Minor > 0xfffff {
		return 0, 0, fmt.Errorf("device number %d:%d is out of range", d.Major, d.Minor)
	}
	perm = 0o666
	if d.FileMode != nil {
		perm = uint32(*d.FileMode) & 0o7777
	}
	return typ, perm, nil
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
	if err := dropPrivileges(a.Network, append(linkFDs(a.Links), lateLinks.slots...)); err != nil {
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
