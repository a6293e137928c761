package pipe

import (
	"context"

	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

// pipeInode is a pipe made by pipe2 as an inode of pipefs (see
// vfs.NewAnonymousLocation): opening it, through /proc/PID/fd/N, opens
// another end of the same pipe, as a FIFO open would.
type pipeInode struct {
	// pipe is the pipe. Immutable.
	pipe *Pipe
}

var _ vfs.Inode = (*pipeInode)(nil)

// IncRef implements vfs.Inode.IncRef; the pipe lives while its files do.
func (*pipeInode) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (*pipeInode) DecRef(context.Context) {}

// Mode implements vfs.Inode.Mode.
func (*pipeInode) Mode() uint32 { return unix.S_IFIFO | 0o600 }

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (i *pipeInode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	return vfs.GenericCheckPermissions(creds, ats, 0o600, i.pipe.uid, i.pipe.gid)
}

// Stat implements vfs.Inode.Stat.
func (i *pipeInode) Stat(context.Context) (unix.Statx_t, error) { return i.pipe.stat(), nil }

// SetStat implements vfs.Inode.SetStat: pipefs inodes keep fixed
// attributes here (Linux lets the owner chmod them; see docs/vfs.md).
func (*pipeInode) SetStat(context.Context, *vfs.SetStatOptions) error { return unix.EPERM }

// Open implements vfs.Inode.Open. Unlike a FIFO open, reopening a pipe
// never waits for the other end (Linux: fifo_open skips the wait for
// pipefs inodes).
func (i *pipeInode) Open(ctx context.Context, vd vfs.VirtualDentry, opts *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	p := i.pipe
	p.mu.Lock()
	defer p.mu.Unlock()
	switch opts.Flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		return p.openLocked(readEnd), nil
	case unix.O_WRONLY:
		return p.openLocked(writeEnd), nil
	default:
		return p.openLocked(readEnd | writeEnd), nil
	}
}
