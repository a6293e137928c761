package tmpfs

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
)

func TestSizeLimit(t *testing.T) {
	refs.CheckLeaks(t)
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

// TestReleaseFreesEveryFile checks that releasing a tmpfs frees the files
// still linked in it, however deep, with their pages (it used to keep
// them, and their memory, for ever).
func TestReleaseFreesEveryFile(t *testing.T) {
	refs.CheckLeaks(t)
	ctx := context.Background()
	mem, err := memory.New("tmpfs-test")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := New(ctx, Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	dir := fs.Root().Inode().(vfs.DirInode)
	dir.IncRef()
	for depth := 0; depth < 100; depth++ {
		f, err := dir.Create(ctx, "f", &vfs.CreateOptions{Mode: unix.S_IFREG | 0o644})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.(*regularFile).writeAt([]byte("data"), 0, false); err != nil {
			t.Fatal(err)
		}
		if err := dir.Link(ctx, "hardlink", f); err != nil {
			t.Fatal(err)
		}
		f.DecRef(ctx)
		if err := dir.Symlink(ctx, "s", "f", &vfs.CreateOptions{Mode: unix.S_IFLNK | 0o777}); err != nil {
			t.Fatal(err)
		}
		if err := dir.Mkdir(ctx, "d", &vfs.CreateOptions{Mode: unix.S_IFDIR | 0o755}); err != nil {
			t.Fatal(err)
		}
		sub, err := dir.Lookup(ctx, "d")
		if err != nil {
			t.Fatal(err)
		}
		dir.DecRef(ctx)
		dir = sub.(vfs.DirInode)
	}
	dir.DecRef(ctx)
	if got := mem.Usage(); got == 0 {
		t.Fatal("memory file usage with 100 files written = 0")
	}
	fs.DecRef(ctx)
	if got := mem.Usage(); got != 0 {
		t.Errorf("memory file usage after the filesystem's release = %d, want 0", got)
	}
}
