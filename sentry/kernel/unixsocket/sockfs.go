package unixsocket

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// sockInode is a socket's inode on the internal sockfs, so that
// /proc/PID/fd/N shows "socket:[ino]" as on Linux.
type sockInode struct {
	// s is the socket. Immutable.
	s *Socket
}

var _ vfs.Inode = (*sockInode)(nil)

// IncRef implements vfs.Inode.IncRef; the socket lives while its files do.
func (*sockInode) IncRef() {}

// DecRef implements vfs.Inode.DecRef.
func (*sockInode) DecRef(context.Context) {}

// Mode implements vfs.Inode.Mode.
func (*sockInode) Mode() uint32 { return unix.S_IFSOCK | 0o777 }

// CheckPermissions implements vfs.Inode.CheckPermissions.
func (i *sockInode) CheckPermissions(ctx context.Context, creds *vfs.Credentials, ats vfs.AccessTypes) error {
	return vfs.GenericCheckPermissions(creds, ats, 0o777, i.s.owner.UID, i.s.owner.GID)
}

// Stat implements vfs.Inode.Stat.
func (i *sockInode) Stat(ctx context.Context) (unix.Statx_t, error) { return i.s.Stat(ctx) }

// SetStat implements vfs.Inode.SetStat: sockfs attributes are fixed.
func (*sockInode) SetStat(context.Context, *vfs.SetStatOptions) error { return unix.EPERM }

// Open implements vfs.Inode.Open: a socket cannot be reopened through
// /proc/PID/fd (ENXIO, as Linux).
func (*sockInode) Open(context.Context, vfs.VirtualDentry, *vfs.OpenOptions) (vfs.FileDescriptionImpl, error) {
	return nil, unix.ENXIO
}

// NewFile returns an open file for s, with one reference, located on
// sockfs. flags are its status flags (O_NONBLOCK); it is always O_RDWR.
func NewFile(ctx context.Context, s *Socket, flags uint32) *vfs.FileDescription {
	loc := vfs.NewAnonymousLocation("sockfs", fmt.Sprintf("socket:[%d]", s.ino), &sockInode{s: s})
	defer loc.DecRef(ctx)
	f := vfs.NewFileDescription(s, unix.O_RDWR|flags&unix.O_NONBLOCK, loc)
	f.SetDropHook(s.dropped)
	return f
}
