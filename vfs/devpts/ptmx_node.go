package devpts

import (
	"context"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// ptmxName is the multiplexer's node in devpts. Linux's devpts has it
// (mode 0000 unless mounted with ptmxmode=); container runtimes mount
// devpts with ptmxmode=0666 and make /dev/ptmx a symlink to pts/ptmx,
// as the OCI runtime spec requires.
const ptmxName = "ptmx"

// ptmxInode is /dev/pts/ptmx: character device 5:2, owned by root,
// mode 0666 (the ptmxmode every container runtime asks for).
type ptmxInode struct {
	// ino and dev are immutable.
	ino uint64
	dev uint64

	mu sync.Mutex
	// mode (permission bits), uid, gid and ctime are protected by mu.
	mode     uint32
	uid, gid uint32
	ctime    unix.StatxTimestamp
}

var _ vfs.Inode = (*ptmxInode)(nil)

func newPtmxInode(r *Registry) *ptmxInode {
	return &ptmxInode{ino: r.lastIno.Add(1), dev: r.dev, mode: 0o666, ctime: nowTS()}
}

// IncRef implements vfs.Inode.IncRef; the inode lives as long as devpts.
func (*ptmxInode) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (*ptmxInode) DecRef(context.Context) {}

// Mode implements vfs.Inode.Mode.
func (n *ptmxInode) Mode() uint32 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return unix.S_IFCHR | n.mode
}

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (n *ptmxInode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	n.mu.Lock()
	mode, uid, gid := n.mode, n.uid, n.gid
	n.mu.Unlock()
	return vfs.GenericCheckPermissions(creds, ats, mode, uid, gid)
}

// Stat implements vfs.Inode.Stat.
func (n *ptmxInode) Stat(context.Context) (unix.Statx_t, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return unix.Statx_t{
		Mask: unix.STATX_BASIC_STATS, Blksize: 1024, Nlink: 1,
		Uid: n.uid, Gid: n.gid, Mode: uint16(unix.S_IFCHR | n.mode), Ino: n.ino,
		Atime: n.ctime, Mtime: n.ctime, Ctime: n.ctime,
		Rdev_major: PtmxMajor, Rdev_minor: PtmxMinor,
		Dev_major: unix.Major(n.dev), Dev_minor: unix.Minor(n.dev),
	}, nil
}

// SetStat implements vfs.Inode.SetStat: chmod and chown, as Linux allows.
func (n *ptmxInode) SetStat(ctx context.Context, opts *vfs.SetStatOptions) error {
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
	n.ctime = nowTS()
	return nil
}

// Open implements vfs.Inode.Open; a device node is opened through its
// driver (the /dev/ptmx driver), so this is never reached.
func (*ptmxInode) Open(context.Context, vfs.VirtualDentry, *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return nil, unix.ENXIO
}
