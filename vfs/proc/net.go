package proc

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// netEntry is /proc/PID/net: the files Options.Net provides, generated on
// each open. Without a provider the directory is empty, as for a
// namespace with nothing to show.
func (fs *filesystem) netEntry(ref *taskRef) staticEntry {
	return staticEntry{name: "net", mode: unix.S_IFDIR | 0o555, make: func(ino uint64) vfs.Inode {
		var files []staticEntry
		if fs.opts.Net != nil {
			for _, name := range fs.opts.Net.Names() {
				files = append(files, staticEntry{name: name, mode: unix.S_IFREG | 0o444, make: func(ino uint64) vfs.Inode {
					return fs.newFile(ino, 0o444, ref, func(ctx context.Context) ([]byte, error) {
						if ref.process() == nil {
							return nil, unix.ESRCH
						}
						return fs.opts.Net.Generate(name)
					})
				}})
			}
		}
		return fs.newDir(ino, inoOf(ref.pid, ref.tid, ""), "net/", 0o555, ref, files, nil)
	}}
}
