package vfs

import (
	"context"
	"sync"

	"golang.org/x/sys/unix"
)

// Anonymous files are files that have no name in any mount namespace:
// pipes, sockets, event files (Linux keeps them on the internal pipefs,
// sockfs and anon_inodefs mounts). Giving them a location of their own
// lets /proc/PID/fd/N reach and reopen them like any other file (bash's
// process substitution opens /dev/fd/63, a pipe, this way).

// anonFilesystem is one internal filesystem of anonymous files.
type anonFilesystem struct{ name string }

func (f *anonFilesystem) Name() string            { return f.name }
func (f *anonFilesystem) Release(context.Context) {}

// anonRoot is the root directory of an anonymous filesystem. Nothing can
// be looked up in it: its files have no parent directory.
type anonRoot struct{}

func (anonRoot) IncRef()                {}
func (anonRoot) DecRef(context.Context) {}
func (anonRoot) Mode() uint32           { return unix.S_IFDIR | 0o500 }
func (anonRoot) CheckPermissions(context.Context, *Credentials, AccessTypes) error {
	return unix.EACCES
}
func (anonRoot) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{Mask: unix.STATX_BASIC_STATS, Mode: unix.S_IFDIR | 0o500, Nlink: 2}, nil
}
func (anonRoot) SetStat(context.Context, *SetStatOptions) error { return unix.EPERM }
func (anonRoot) Open(context.Context, VirtualDentry, *OpenOptions) (FileDescriptionImpl, error) {
	return nil, unix.EACCES
}

var (
	anonMu sync.Mutex
	// anonMounts holds the detached mount of each anonymous filesystem
	// by name. Protected by anonMu.
	anonMounts = map[string]*Mount{}
)

// anonMount returns the detached mount of the anonymous filesystem name.
func anonMount(name string) *Mount {
	anonMu.Lock()
	defer anonMu.Unlock()
	if m := anonMounts[name]; m != nil {
		return m
	}
	fs := NewFilesystem(&anonFilesystem{name: name}, anonRoot{})
	fs.IncRef()
	fs.root.IncRef()
	m := &Mount{fs: fs, root: fs.root, id: anonMountIDs.Add(1), anon: true}
	m.refs.Init(m) // held by anonMounts forever
	anonMounts[name] = m
	return m
}

// NewAnonymousLocation returns, with one reference, a location for inode
// on the internal filesystem fsName ("pipefs", "sockfs",
// "anon_inodefs"). name is what /proc/PID/fd/N links show for it, such as
// "pipe:[42]". The location is in no directory: path walks reach it only
// through such magic links.
func NewAnonymousLocation(fsName, name string, inode Inode) VirtualDentry {
	m := anonMount(fsName)
	m.IncRef()
	return VirtualDentry{mount: m, dentry: newDentry(m.fs, nil, name, inode)}
}

// IsAnonymous reports whether vd is on an internal filesystem of
// anonymous files, and returns its link name.
func (vd VirtualDentry) IsAnonymous() (string, bool) {
	if vd.mount == nil || !vd.mount.anon {
		return "", false
	}
	return vd.dentry.name, true
}
