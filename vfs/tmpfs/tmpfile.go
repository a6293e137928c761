package tmpfs

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

var _ vfs.TmpfileDirInode = (*dirInode)(nil)

// Tmpfile implements vfs.TmpfileDirInode.Tmpfile: a regular file with no
// directory entry; its data goes with its last reference unless Link
// names it first.
func (d *dirInode) Tmpfile(ctx context.Context, opts *vfs.CreateOptions, linkable bool) (vfs.Inode, error) {
	if opts.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, unix.EINVAL
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if d.nlink == 0 {
		return nil, unix.ENOENT
	}
	f := d.fs.newRegularFile(opts)
	f.nlink = 0
	f.linkable = linkable
	return f, nil
}
