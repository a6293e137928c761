package tmpfs

import (
	"context"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// Every kind of tmpfs file stores extended attributes in the common inode.
var (
	_ vfs.XattrInode = (*regularFile)(nil)
	_ vfs.XattrInode = (*dirInode)(nil)
	_ vfs.XattrInode = (*symlinkInode)(nil)
	_ vfs.XattrInode = (*specialInode)(nil)
)

// xattrNamespaceSupported reports whether tmpfs stores name's namespace:
// user.*, trusted.* and security.*, as Linux's tmpfs (system.* holds POSIX
// ACLs, which tmpfs does not implement here).
func xattrNamespaceSupported(name string) bool {
	return strings.HasPrefix(name, "user.") || strings.HasPrefix(name, "trusted.") ||
		strings.HasPrefix(name, "security.")
}

// Getxattr implements vfs.XattrInode.Getxattr.
func (i *inode) Getxattr(ctx context.Context, name string) ([]byte, error) {
	if !xattrNamespaceSupported(name) {
		return nil, unix.EOPNOTSUPP
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	v, ok := i.xattrs[name]
	if !ok {
		return nil, unix.ENODATA
	}
	return append([]byte(nil), v...), nil
}

// Setxattr implements vfs.XattrInode.Setxattr.
func (i *inode) Setxattr(ctx context.Context, name string, value []byte, flags uint32) error {
	if !xattrNamespaceSupported(name) {
		return unix.EOPNOTSUPP
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	_, exists := i.xattrs[name]
	if flags&unix.XATTR_CREATE != 0 && exists {
		return unix.EEXIST
	}
	if flags&unix.XATTR_REPLACE != 0 && !exists {
		return unix.ENODATA
	}
	if i.xattrs == nil {
		i.xattrs = make(map[string][]byte)
	}
	i.xattrs[name] = append([]byte(nil), value...)
	i.ctime = now()
	return nil
}

// Listxattr implements vfs.XattrInode.Listxattr, in name order.
func (i *inode) Listxattr(ctx context.Context) ([]string, error) {
	i.fs.mu.Lock()
	names := make([]string, 0, len(i.xattrs))
	for n := range i.xattrs {
		names = append(names, n)
	}
	i.fs.mu.Unlock()
	sort.Strings(names)
	return names, nil
}

// Removexattr implements vfs.XattrInode.Removexattr.
func (i *inode) Removexattr(ctx context.Context, name string) error {
	if !xattrNamespaceSupported(name) {
		return unix.EOPNOTSUPP
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if _, ok := i.xattrs[name]; !ok {
		return unix.ENODATA
	}
	delete(i.xattrs, name)
	i.ctime = now()
	return nil
}
