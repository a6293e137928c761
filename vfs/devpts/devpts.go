// Package devpts implements pseudo-terminals: the /dev/ptmx driver, which
// allocates a master/slave pair on every open, the devpts filesystem
// (mounted at /dev/pts) that names the open slaves, and the line
// discipline between the two ends (Linux: drivers/tty/pty.c, n_tty.c and
// fs/devpts).
//
// Main types: Registry holds the pseudo-terminals of one VFS and their
// filesystem; pty is one pair, with its termios, window size, input queue
// (master to slave, through the line discipline) and output queue (slave
// to master); masterFD and slaveFD are its open ends.
//
// Job control (the controlling session, the foreground process group,
// SIGTTIN/SIGTTOU, and the signals the line discipline raises) is the
// kernel's: each pty has a Terminal made by the factory the kernel
// registers with SetTerminalFactory, as vfs/host does for host terminals.
// The factory gets the pair as a Slave, through which the kernel reopens
// the slave for /dev/tty (outside the kernel's locks).
//
// Lock order:
//
//	Registry.mu
//	  pty.mu
//	    slaveInode.mu
//	    waiter.Queue.mu
//
// Terminal methods take the kernel's locks: they are never called with
// Registry.mu or pty.mu held.
package devpts

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/synthetic"
)

// Name is the filesystem type name.
const Name = "devpts"

// Device numbers (Linux: Documentation/admin-guide/devices.txt).
const (
	// PtmxMajor and PtmxMinor are /dev/ptmx's number.
	PtmxMajor = 5
	PtmxMinor = 2
	// SlaveMajor is the major number of the slaves; the minor is the
	// index N of /dev/pts/N (UNIX98_PTY_SLAVE_MAJOR).
	SlaveMajor = 136
	// MaxPtys bounds the number of pairs open at once (Linux:
	// /proc/sys/kernel/pty/max default).
	MaxPtys = 4096
)

// Terminal is the kernel's job control layer for one pseudo-terminal
// slave: its controlling session and foreground process group. The first
// four methods are those of vfs/host's Terminal; see there. A method may
// return vfs.ErrInterrupted after sending the caller's group SIGTTIN or
// SIGTTOU.
type Terminal interface {
	// JobControlIoctl serves TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCSCTTY
	// and TIOCNOTTY on the slave.
	JobControlIoctl(ctx context.Context, mem vfs.UserMemory, cmd uint32, arg uintptr, readable bool) (uintptr, error)
	// CheckRead is called before a read of the slave.
	CheckRead(ctx context.Context) error
	// CheckWrite is called before a write to the slave; tostop reports
	// whether TOSTOP is set.
	CheckWrite(ctx context.Context, tostop func() bool) error
	// CheckChange is called before a change of the settings through the
	// slave.
	CheckChange(ctx context.Context) error
	// ForegroundGroup returns the foreground process group, or 0
	// (TIOCGPGRP on the master, which has no controlling-terminal check).
	ForegroundGroup() int32
	// SignalForeground sends sig to the foreground process group, if any
	// (the line discipline's VINTR, VQUIT, VSUSP; SIGWINCH).
	SignalForeground(sig unix.Signal)
	// HangUp is called when the master closes: the terminal leaves its
	// session and the foreground group gets SIGHUP (and SIGCONT).
	HangUp()
	// Release is called once the pair is gone; the kernel forgets the
	// terminal.
	Release()
	// OpenedWithoutNoctty is called after the caller in ctx opened the
	// slave without O_NOCTTY: a session leader with no controlling
	// terminal acquires this one if no session holds it (Linux:
	// tty_open_proc_set_tty).
	OpenedWithoutNoctty(ctx context.Context)
}

// Slave is a pseudo-terminal's slave end as its Terminal reaches it.
type Slave interface {
	// OpenSlave opens a new description of the slave, as open(2) of
	// /dev/tty does for the processes whose controlling terminal it is
	// (no permission check, and the terminal is not acquired again). EIO
	// once the master has closed.
	OpenSlave(ctx context.Context) (vfs.FileDescriptionImpl, error)
	// Device returns the slave's device number (SlaveMajor, N).
	Device() uint64
}

// TerminalFactory returns a new Terminal, with no session, for the
// pseudo-terminal whose slave is slave, in the kernel of the caller in
// ctx, or nil if ctx has no caller (then no job control applies).
type TerminalFactory func(ctx context.Context, slave Slave) Terminal

// terminalFactory is the registered factory, or nil.
var terminalFactory atomic.Pointer[TerminalFactory]

// SetTerminalFactory registers the kernel's terminal layer.
func SetTerminalFactory(f TerminalFactory) { terminalFactory.Store(&f) }

// newTerminal returns a Terminal for a new pair whose slave is slave, or
// nil.
func newTerminal(ctx context.Context, slave Slave) Terminal {
	f := terminalFactory.Load()
	if f == nil {
		return nil
	}
	return (*f)(ctx, slave)
}

// Registry is the pseudo-terminals of one VirtualFilesystem: the /dev/ptmx
// driver, the drivers of the slaves, and the devpts filesystem.
type Registry struct {
	// vfs is where slave drivers are registered. Immutable.
	vfs *vfs.VirtualFilesystem
	// dev is the st_dev of the devpts filesystem. Immutable.
	dev uint64
	// fs is the devpts filesystem. Immutable.
	fs *vfs.Filesystem
	// ptmx is the filesystem's ptmx node. Immutable.
	ptmx *ptmxInode
	// lastIno is the last inode number handed out.
	lastIno atomic.Uint64

	mu sync.Mutex
	// ptys are the pairs whose master is open, by index. Protected by mu.
	ptys map[uint32]*pty
	// drivers are the slave numbers with a registered driver (they stay
	// registered, for the next pair with that index). Protected by mu.
	drivers map[uint32]bool
}

// Register registers the /dev/ptmx driver with v and returns the registry,
// whose Filesystem is to be mounted at /dev/pts.
func Register(v *vfs.VirtualFilesystem) (*Registry, error) {
	r := &Registry{vfs: v, dev: vfs.AnonDevice(), ptys: map[uint32]*pty{}, drivers: map[uint32]bool{}}
	if err := v.RegisterCharDevice(PtmxMajor, PtmxMinor, ptmxDriver{r}); err != nil {
		return nil, err
	}
	root := &rootDir{ReadOnlyDirDefaults: synthetic.ReadOnlyDirDefaults{Errno: unix.EACCES}, r: r, ino: r.lastIno.Add(1), ctime: nowTS()}
	r.ptmx = newPtmxInode(r)
	r.fs = vfs.NewFilesystem(&filesystem{}, root)
	return r, nil
}

// Filesystem returns the devpts filesystem.
func (r *Registry) Filesystem() *vfs.Filesystem { return r.fs }

// filesystem implements vfs.FilesystemImpl.
type filesystem struct{}

// Name implements vfs.FilesystemImpl.Name.
func (*filesystem) Name() string { return Name }

// Release implements vfs.FilesystemImpl.Release.
func (*filesystem) Release(context.Context) {}

// allocate gives p, a new pair, the lowest free index and a slave inode,
// and makes it visible.
func (r *Registry) allocate(ctx context.Context, p *pty) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var index uint32
	for ; index < MaxPtys; index++ {
		if r.ptys[index] == nil {
			break
		}
	}
	if index == MaxPtys {
		return unix.ENOSPC
	}
	if !r.drivers[index] {
		err := r.vfs.RegisterCharDevice(SlaveMajor, index, slaveDriver{r: r, index: index})
		if err != nil && err != unix.EEXIST {
			return err
		}
		r.drivers[index] = true
	}
	p.index = index
	c := vfs.MustCredentials(ctx, "open /dev/ptmx")
	t := nowTS()
	p.inode = &slaveInode{p: p, ino: r.lastIno.Add(1), mode: 0o620, atime: t, mtime: t, ctime: t}
	p.inode.uid, p.inode.gid = c.UID, c.GID
	r.ptys[index] = p
	return nil
}

// remove forgets p's index (its master closed).
func (r *Registry) remove(p *pty) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ptys[p.index] == p {
		delete(r.ptys, p.index)
	}
}

// lookup returns the pair with the given index, or nil.
func (r *Registry) lookup(index uint32) *pty {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ptys[index]
}

// ptmxDriver is the driver of /dev/ptmx.
type ptmxDriver struct{ r *Registry }

// Open implements vfs.CharDevice.Open: a new pair, returning its master.
func (d ptmxDriver) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	// The Terminal is made outside Registry.mu (the factory takes the
	// kernel's locks), before the pair is visible: p.term is immutable
	// once allocate publishes p.
	p := newPty(d.r)
	p.term = newTerminal(ctx, p)
	if err := d.r.allocate(ctx, p); err != nil {
		if p.term != nil {
			p.term.Release()
		}
		return nil, err
	}
	return &masterFD{p: p}, nil
}

// slaveDriver is the driver of slave number index.
type slaveDriver struct {
	r     *Registry
	index uint32
}

// Open implements vfs.CharDevice.Open: EIO if the pair is gone or
// locked. Without O_NOCTTY, a session leader with no controlling
// terminal acquires this one (Terminal.OpenedWithoutNoctty).
func (d slaveDriver) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	p := d.r.lookup(d.index)
	if p == nil {
		return nil, unix.EIO
	}
	fd, err := p.openSlave()
	if err != nil {
		return nil, err
	}
	if opts.Flags&unix.O_NOCTTY == 0 && p.term != nil {
		p.term.OpenedWithoutNoctty(ctx)
	}
	return fd, nil
}

func nowTS() unix.StatxTimestamp {
	t := time.Now()
	return unix.StatxTimestamp{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())}
}

// rootDir is the root of devpts: one character device per pair.
type rootDir struct {
	// The guest cannot create or remove entries: EACCES, as Linux's
	// devpts.
	synthetic.ReadOnlyDirDefaults
	r *Registry
	// ino and ctime are immutable.
	ino   uint64
	ctime unix.StatxTimestamp
}

var (
	_ vfs.DirInode    = (*rootDir)(nil)
	_ vfs.Revalidator = (*rootDir)(nil)
	_ vfs.Inode       = (*slaveInode)(nil)
)

// IncRef implements vfs.Inode.IncRef.
func (*rootDir) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (*rootDir) DecRef(context.Context) {}

// Mode implements vfs.Inode.Mode.
func (*rootDir) Mode() uint32 { return unix.S_IFDIR | 0o755 }

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (d *rootDir) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	return vfs.GenericCheckPermissions(creds, ats, d.Mode(), 0, 0)
}

// Stat implements vfs.Inode.Stat.
func (d *rootDir) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{
		Mask: unix.STATX_BASIC_STATS, Blksize: 4096, Nlink: 2, Mode: uint16(d.Mode()), Ino: d.ino,
		Atime: d.ctime, Mtime: d.ctime, Ctime: d.ctime,
		Dev_major: unix.Major(d.r.dev), Dev_minor: unix.Minor(d.r.dev),
	}, nil
}

// SetStat implements vfs.Inode.SetStat.
func (*rootDir) SetStat(context.Context, *vfs.SetStatOptions) error { return unix.EPERM }

// Open implements vfs.Inode.Open.
func (d *rootDir) Open(context.Context, vfs.VirtualDentry, *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return &synthetic.DirFD{Dir: d}, nil
}

// parseIndex parses a slave's name: a decimal number without leading
// zeros.
func parseIndex(name string) (uint32, bool) {
	if len(name) > 1 && name[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(name, 10, 32)
	if err != nil || n >= MaxPtys {
		return 0, false
	}
	return uint32(n), true
}

// Lookup implements vfs.DirInode.Lookup.
func (d *rootDir) Lookup(ctx context.Context, name string) (vfs.Inode, error) {
	if name == ptmxName {
		return d.r.ptmx, nil
	}
	if i, ok := parseIndex(name); ok {
		if p := d.r.lookup(i); p != nil {
			return p.inode, nil
		}
	}
	return nil, unix.ENOENT
}

// Revalidate implements vfs.Revalidator: a name stays valid while it names
// the same open pair.
func (d *rootDir) Revalidate(ctx context.Context, name string, child vfs.Inode) bool {
	if name == ptmxName {
		return true
	}
	i, ok := parseIndex(name)
	if !ok {
		return false
	}
	p := d.r.lookup(i)
	return p != nil && vfs.Inode(p.inode) == child
}

// IterDirents implements synthetic.Lister: offsets 0 and 1 are "." and
// "..", 2 is ptmx, then offset 3+N is slave N, so a listing resumes
// correctly while pairs come and go.
func (d *rootDir) IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error {
	off, ok := synthetic.EmitDots(off, d.ino, d.ino, emit)
	if !ok {
		return nil
	}
	if off <= 2 {
		if !emit(vfs.Dirent{Name: ptmxName, Type: unix.DT_CHR, Ino: d.r.ptmx.ino, NextOff: 3}) {
			return nil
		}
	}
	d.r.mu.Lock()
	var ps []*pty
	for i, p := range d.r.ptys {
		if int64(i)+3 >= off {
			ps = append(ps, p)
		}
	}
	d.r.mu.Unlock()
	sort.Slice(ps, func(a, b int) bool { return ps[a].index < ps[b].index })
	for _, p := range ps {
		de := vfs.Dirent{Name: strconv.Itoa(int(p.index)), Type: unix.DT_CHR, Ino: p.inode.ino, NextOff: int64(p.index) + 4}
		if !emit(de) {
			return nil
		}
	}
	return nil
}

// slaveInode is /dev/pts/N: a character device 136:N, mode 0620, owned by
// the opener of /dev/ptmx (Linux's devpts without mount options).
type slaveInode struct {
	// p is the pair. Immutable.
	p *pty
	// ino is the inode number. Immutable.
	ino uint64

	mu sync.Mutex
	// mode (permission bits), uid, gid and the times are protected by
	// mu.
	mode                uint32
	uid, gid            uint32
	atime, mtime, ctime unix.StatxTimestamp
}

// IncRef implements vfs.Inode.IncRef; the inode lives as long as its pair.
func (*slaveInode) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (*slaveInode) DecRef(context.Context) {}

// Mode implements vfs.Inode.Mode.
func (n *slaveInode) Mode() uint32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return unix.S_IFCHR | n.mode
}

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (n *slaveInode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	n.mu.Lock()
	mode, uid, gid := n.mode, n.uid, n.gid
	n.mu.Unlock()
	return vfs.GenericCheckPermissions(creds, ats, mode, uid, gid)
}

// Stat implements vfs.Inode.Stat.
func (n *slaveInode) Stat(context.Context) (unix.Statx_t, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	dev := n.p.r.dev
	return unix.Statx_t{
		Mask: unix.STATX_BASIC_STATS, Blksize: 1024, Nlink: 1,
		Uid: n.uid, Gid: n.gid, Mode: uint16(unix.S_IFCHR | n.mode), Ino: n.ino,
		Atime: n.atime, Mtime: n.mtime, Ctime: n.ctime,
		Rdev_major: SlaveMajor, Rdev_minor: n.p.index,
		Dev_major: unix.Major(dev), Dev_minor: unix.Minor(dev),
	}, nil
}

// SetStat implements vfs.Inode.SetStat.
func (n *slaveInode) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
	if opts.Mask&unix.STATX_SIZE != 0 {
		return unix.EINVAL
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if opts.Mask&unix.STATX_MODE != 0 {
		n.mode = opts.Mode & 07777
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

// Open implements vfs.Inode.Open; a device node is opened through its
// driver, so this is never reached.
func (*slaveInode) Open(context.Context, vfs.VirtualDentry, *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return nil, unix.ENXIO
}
