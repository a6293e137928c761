// Package dev implements the Sentry's /dev: a small, fixed filesystem with
// the memory devices (null, zero, full, random, urandom), /dev/tty and
// /dev/console (the caller's controlling terminal and the sandbox's
// console; see SetControllingTerminalOpener and SetConsoleFinder), the usual
// symlinks into /proc/self/fd, the /dev/ptmx node (its driver is
// vfs/devpts), and empty shm and pts directories (on which boot code may
// mount a tmpfs and a devpts).
//
// The memory devices are character device drivers registered with the VFS
// by Register, so a device node with their number opens them on any
// filesystem, as on Linux; New builds the /dev filesystem itself.
//
// The tree is fixed: creating, removing or renaming names fails with EPERM.
// Attribute changes (chmod, chown, utimes) are kept.
//
// Lock order: filesystem.mu is a leaf.
package dev

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/synthetic"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// Name is the filesystem type name (Linux's /dev is a devtmpfs).
const Name = "devtmpfs"

// Memory device numbers (Linux: drivers/char/mem.c).
const (
	MemMajor    = 1
	NullMinor   = 3
	ZeroMinor   = 5
	FullMinor   = 7
	RandomMinor = 8
	URandMinor  = 9
)

// /dev/ptmx's number (Linux: TTYAUX_MAJOR); vfs/devpts registers its driver.
const (
	PtmxMajor = 5
	PtmxMinor = 2
)

// /dev/tty's and /dev/console's numbers (Linux: TTYAUX_MAJOR). This
// package registers their drivers: /dev/tty opens the caller's
// controlling terminal through the opener the kernel registers
// (SetControllingTerminalOpener), and /dev/console forwards to a terminal
// that a TerminalFinder finds (SetConsoleFinder).
const (
	TTYMinor     = 0
	ConsoleMinor = 1
)

// ControllingTerminalOpener opens a new description of the controlling
// terminal of the caller of ctx: the terminal of the caller's session
// (Linux: signal_struct::tty), whether or not the caller has it open. It
// fails with ENXIO when the caller has no controlling terminal.
type ControllingTerminalOpener func(ctx context.Context) (vfs.FileDescriptionImpl, error)

// TerminalFinder returns, with a reference, an open file description of
// a terminal on behalf of the caller of ctx, or an error (ENXIO: there is
// none).
type TerminalFinder func(ctx context.Context) (*vfs.FileDescription, error)

// The drivers' hooks, set by the kernel's glue. Nil hooks make /dev/tty
// and /dev/console fail with ENXIO.
var (
	controllingTerminal atomic.Pointer[ControllingTerminalOpener]
	consoleTerminal     atomic.Pointer[TerminalFinder]
)

// SetControllingTerminalOpener sets how /dev/tty opens the caller's
// controlling terminal (nil: never). The Sentry's kernel knows sessions
// and terminals; this package does not import it.
func SetControllingTerminalOpener(open ControllingTerminalOpener) {
	controllingTerminal.Store(&open)
}

// SetConsoleFinder sets how /dev/console finds the sandbox's console
// (nil: none).
func SetConsoleFinder(console TerminalFinder) {
	consoleTerminal.Store(&console)
}

// ttyDevice is the driver of /dev/tty (console false) or /dev/console.
type ttyDevice struct{ console bool }

// Open implements vfs.CharDevice.Open. /dev/tty opens the caller's
// controlling terminal anew, as Linux's tty_open reopens the session's
// tty_struct: the new description has its own status flags, and fstat
// still shows /dev/tty. /dev/console forwards to an open description of
// the console. ENXIO when there is no terminal.
func (d ttyDevice) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	if !d.console {
		p := controllingTerminal.Load()
		if p == nil || *p == nil {
			return nil, unix.ENXIO
		}
		return (*p)(ctx)
	}
	p := consoleTerminal.Load()
	if p == nil || *p == nil {
		return nil, unix.ENXIO
	}
	fd, err := (*p)(ctx)
	if err != nil {
		return nil, err
	}
	return &forwardFD{fd: fd}, nil
}

// forwardFD is an open /dev/console: every operation goes to
// the terminal's file description, which it holds a reference on. The two
// share that description's file status flags.
type forwardFD struct {
	vfs.FileDescriptionDefaultImpl
	// fd is the terminal. Immutable.
	fd *vfs.FileDescription
}

// Release implements vfs.FileDescriptionImpl.Release.
func (f *forwardFD) Release(ctx context.Context) { f.fd.DecRef(ctx) }

// Read implements vfs.FileDescriptionImpl.Read.
func (f *forwardFD) Read(ctx context.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	return f.fd.Read(ctx, dst)
}

// Write implements vfs.FileDescriptionImpl.Write.
func (f *forwardFD) Write(ctx context.Context, _ *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	n, err := f.fd.Write(ctx, src)
	return n, off + int64(n), err
}

// Ioctl implements vfs.FileDescriptionImpl.Ioctl.
func (f *forwardFD) Ioctl(ctx context.Context, _ *vfs.FileDescription, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	return f.fd.Ioctl(ctx, mem, cmd, arg)
}

// Readiness implements vfs.FileDescriptionImpl.Readiness.
func (f *forwardFD) Readiness(mask uint32) uint32 { return f.fd.Readiness(mask) }

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (f *forwardFD) EventRegister(e *waiter.Entry) { f.fd.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (f *forwardFD) EventUnregister(e *waiter.Entry) { f.fd.EventUnregister(e) }

// Stream implements vfs.FileDescriptionImpl.Stream.
func (f *forwardFD) Stream() bool { return true }

// memDevice is one memory device driver.
type memDevice struct {
	minor uint32
}

var _ vfs.CharDevice = memDevice{}

// Register registers the memory devices, /dev/tty and /dev/console with
// v.
func Register(v *vfs.VirtualFilesystem) error {
	for _, m := range []uint32{NullMinor, ZeroMinor, FullMinor, RandomMinor, URandMinor} {
		if err := v.RegisterCharDevice(MemMajor, m, memDevice{minor: m}); err != nil {
			return err
		}
	}
	if err := v.RegisterCharDevice(PtmxMajor, TTYMinor, ttyDevice{}); err != nil {
		return err
	}
	return v.RegisterCharDevice(PtmxMajor, ConsoleMinor, ttyDevice{console: true})
}

// Open implements vfs.CharDevice.Open.
func (d memDevice) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return &memFD{minor: d.minor}, nil
}

// memFD is an open memory device.
type memFD struct {
	vfs.FileDescriptionDefaultImpl
	// minor says which device. Immutable.
	minor uint32
}

// Read implements vfs.FileDescriptionImpl.Read.
func (fd *memFD) Read(ctx context.Context, _ *vfs.FileDescription, dst []byte, off int64) (int, error) {
	switch fd.minor {
	case NullMinor:
		return 0, nil
	case RandomMinor, URandMinor:
		return getrandom(dst)
	default:
		clear(dst)
		return len(dst), nil
	}
}

// getrandom fills dst from the host's random source (Linux's random and
// urandom no longer differ once the pool is initialised).
func getrandom(dst []byte) (int, error) {
	n := 0
	for n < len(dst) {
		m, err := unix.Getrandom(dst[n:], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, unix.EIO
		}
		n += m
	}
	return n, nil
}

// Write implements vfs.FileDescriptionImpl.Write.
func (fd *memFD) Write(ctx context.Context, _ *vfs.FileDescription, src []byte, off int64) (int, int64, error) {
	if fd.minor == FullMinor {
		return 0, off, unix.ENOSPC
	}
	return len(src), off + int64(len(src)), nil
}

// Seek implements vfs.FileDescriptionImpl.Seek: the memory devices accept
// any seek and stay at offset 0, as Linux's null_lseek does.
func (fd *memFD) Seek(ctx context.Context, cur, off int64, whence int32) (int64, error) {
	return 0, nil
}

// filesystem is one /dev instance.
type filesystem struct {
	// dev is the st_dev of the filesystem. Immutable.
	dev uint64
	// name is the type name mountinfo shows. Immutable.
	name string
	// mu protects the mutable attributes of all inodes.
	mu sync.Mutex
	// lastIno is the last inode number handed out.
	lastIno atomic.Uint64
}

// Name implements vfs.FilesystemImpl.Name.
func (fs *filesystem) Name() string { return fs.name }

// Release implements vfs.FilesystemImpl.Release.
func (fs *filesystem) Release(ctx context.Context) {}

// New returns a new /dev filesystem. The memory devices must have been
// registered (Register) for its device nodes to open.
func New(ctx context.Context) *vfs.Filesystem {
	return newFS(ctx)
}

// newFS builds a /dev.
func newFS(ctx context.Context) *vfs.Filesystem {
	fs := &filesystem{dev: vfs.AnonDevice(), name: Name}
	root := fs.newDir(0o755)
	for _, c := range []struct {
		name  string
		minor uint32
	}{{"null", NullMinor}, {"zero", ZeroMinor}, {"full", FullMinor}, {"random", RandomMinor}, {"urandom", URandMinor}} {
		n := fs.newInode(unix.S_IFCHR | 0o666)
		n.rdev = unix.Mkdev(MemMajor, c.minor)
		root.Add(c.name, n)
	}
	for _, c := range []struct {
		name  string
		minor uint32
		perm  uint32
	}{{"ptmx", PtmxMinor, 0o666}, {"tty", TTYMinor, 0o666}, {"console", ConsoleMinor, 0o600}} {
		n := fs.newInode(unix.S_IFCHR | c.perm)
		n.rdev = unix.Mkdev(PtmxMajor, c.minor)
		root.Add(c.name, n)
	}
	for name, target := range map[string]string{
		"fd":     "/proc/self/fd",
		"stdin":  "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1",
		"stderr": "/proc/self/fd/2",
	} {
		root.Add(name, &symlink{node: *fs.newInode(unix.S_IFLNK | 0o777), target: target})
	}
	root.Add("shm", fs.newDir(0o1777))
	root.Add("pts", fs.newDir(0o755))
	// A mount point for the POSIX message queue file system that
	// container runtimes mount there.
	root.Add("mqueue", fs.newDir(0o755))
	return vfs.NewFilesystem(fs, root)
}

// node is a file of /dev. Nodes live as long as the filesystem; reference
// counting is not needed to free anything.
type node struct {
	fs *filesystem
	// ino is the inode number. Immutable.
	ino uint64
	// mode is the type and permission bits. Written under fs.mu, read
	// atomically.
	mode atomic.Uint32
	// rdev is the device number of a device node. Immutable.
	rdev uint64
	// uid, gid and the times are protected by fs.mu.
	uid, gid            uint32
	atime, mtime, ctime unix.StatxTimestamp
}

var (
	_ vfs.Inode        = (*node)(nil)
	_ vfs.DirInode     = (*dir)(nil)
	_ vfs.SymlinkInode = (*symlink)(nil)
)

func nowTS() unix.StatxTimestamp {
	t := time.Now()
	return unix.StatxTimestamp{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())}
}

func (fs *filesystem) newInode(mode uint32) *node {
	t := nowTS()
	n := &node{fs: fs, ino: fs.lastIno.Add(1), atime: t, mtime: t, ctime: t}
	n.mode.Store(mode)
	return n
}

// IncRef implements vfs.Inode.IncRef.
func (n *node) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (n *node) DecRef(ctx context.Context) {}

// Mode implements vfs.Inode.Mode.
func (n *node) Mode() uint32 { return n.mode.Load() }

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (n *node) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	n.fs.mu.Lock()
	uid, gid := n.uid, n.gid
	n.fs.mu.Unlock()
	return vfs.GenericCheckPermissions(creds, ats, n.Mode(), uid, gid)
}

// Stat implements vfs.Inode.Stat.
func (n *node) Stat(ctx context.Context) (unix.Statx_t, error) {
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	nlink := uint32(1)
	if n.Mode()&unix.S_IFMT == unix.S_IFDIR {
		nlink = 2
	}
	return unix.Statx_t{
		Mask:       unix.STATX_BASIC_STATS,
		Blksize:    4096,
		Nlink:      nlink,
		Uid:        n.uid,
		Gid:        n.gid,
		Mode:       uint16(n.Mode()),
		Ino:        n.ino,
		Atime:      n.atime,
		Mtime:      n.mtime,
		Ctime:      n.ctime,
		Rdev_major: unix.Major(n.rdev),
		Rdev_minor: unix.Minor(n.rdev),
		Dev_major:  unix.Major(n.fs.dev),
		Dev_minor:  unix.Minor(n.fs.dev),
	}, nil
}

// SetStat implements vfs.Inode.SetStat.
func (n *node) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
	if opts.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if opts.Mask&unix.STATX_MODE != 0 {
		n.mode.Store(n.Mode()&unix.S_IFMT | opts.Mode&07777)
	}
	if opts.Mask&unix.STATX_UID != 0 {
		n.uid = opts.UID
	}
	if opts.Mask&unix.STATX_GID != 0 {
		n.gid = opts.GID
	}
	if opts.Mask&unix.STATX_ATIME != 0 {
		n.atime = unix.StatxTimestamp{Sec: opts.Atime.Sec, Nsec: uint32(opts.Atime.Nsec)}
	}
	if opts.Mask&unix.STATX_MTIME != 0 {
		n.mtime = unix.StatxTimestamp{Sec: opts.Mtime.Sec, Nsec: uint32(opts.Mtime.Nsec)}
	}
	n.ctime = nowTS()
	return nil
}

// Open implements vfs.Inode.Open. Device nodes are opened by the VFS
// through their driver; anything else reaching here has no driver.
func (n *node) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return nil, unix.ENXIO
}

// symlink is a symbolic link.
type symlink struct {
	node
	// target is the link target. Immutable.
	target string
}

// Readlink implements vfs.SymlinkInode.Readlink.
func (s *symlink) Readlink(ctx context.Context) (string, error) { return s.target, nil }

// Stat implements vfs.Inode.Stat.
func (s *symlink) Stat(ctx context.Context) (unix.Statx_t, error) {
	st, err := s.node.Stat(ctx)
	st.Size = uint64(len(s.target))
	return st, err
}

// dir is a directory with a fixed set of children.
type dir struct {
	synthetic.ReadOnlyDirDefaults
	node
	synthetic.StaticDir
}

func (fs *filesystem) newDir(perm uint32) *dir {
	return &dir{node: *fs.newInode(unix.S_IFDIR | perm)}
}

// Open implements vfs.Inode.Open.
func (d *dir) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return &synthetic.DirFD{Dir: d}, nil
}

// IterDirents implements synthetic.Lister: ".." is the directory itself
// at the root of /dev, or the root for shm and pts; its inode number is
// informative only.
func (d *dir) IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error {
	return d.List(ctx, d.ino, d.ino, off, emit)
}
