package tmpfs

import (
	"context"

	"golang.org/x/sys/unix"
)

// tmpfsMagic is TMPFS_MAGIC.
const tmpfsMagic = 0x01021994

// Statfs reports the filesystem's size limit and the pages its files use
// (statfs(2), df). Without a limit it reports the memory file's reach.
func (fs *filesystem) Statfs(ctx context.Context) (unix.Statfs_t, error) {
	total := fs.maxPages
	if total == 0 {
		total = 1 << 24
	}
	used := fs.usedPages.Load()
	free := max(total-used, 0)
	return unix.Statfs_t{
		Type:    tmpfsMagic,
		Bsize:   pageSize,
		Frsize:  pageSize,
		Blocks:  uint64(total),
		Bfree:   uint64(free),
		Bavail:  uint64(free),
		Files:   uint64(total),
		Ffree:   uint64(free),
		Namelen: 255,
	}, nil
}
