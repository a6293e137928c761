package tmpfs

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
)

func TestSizeLimit(t *testing.T) {
	ctx := context.Background()
	mem, err := memory.New("tmpfs-test")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := New(ctx, Options{Mem: mem, SizeLimit: 2 * pageSize})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.DecRef(ctx)
	root := fs.Root().Inode().(vfs.DirInode)
	inode, err := root.Create(ctx, "f", &vfs.CreateOptions{Mode: unix.S_IFREG | 0o644})
	if err != nil {
		t.Fatal(err)
	}
	defer inode.DecRef(ctx)
	f := inode.(*regularFile)
	if n, _, err := f.writeAt(make([]byte, 3*pageSize), 0, false); n != 2*pageSize || err != nil {
		t.Errorf("write of 3 pages with a 2-page limit = %d, %v; want a 2-page short write", n, err)
	}
	if _, _, err := f.writeAt([]byte("x"), 5*pageSize, false); err != unix.ENOSPC {
		t.Errorf("write past the limit = %v, want ENOSPC", err)
	}
	if err := f.SetStat(ctx, &vfs.SetStatOptions{Mask: unix.STATX_SIZE, Size: 0}); err != nil {
		t.Fatal(err)
	}
	if got := fs.Impl().(*filesystem).usedPages.Load(); got != 0 {
		t.Errorf("pages in use after truncate to 0 = %d", got)
	}
	if got := mem.Usage(); got != 0 {
		t.Errorf("memory file usage after truncate to 0 = %d", got)
	}
}
