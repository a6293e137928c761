package synthetic

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// fakeInode is a child with a mode and an inode number; the rest of
// vfs.Inode is left nil (the code under test must not call it).
type fakeInode struct {
	vfs.Inode
	mode uint32
	ino  uint64
}

func (f *fakeInode) Mode() uint32 { return f.mode }

func (f *fakeInode) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{Ino: f.ino, Mode: uint16(f.mode)}, nil
}

// staticLister lists a StaticDir as its directory would.
type staticLister struct {
	d            *StaticDir
	self, parent uint64
}

func (l staticLister) IterDirents(ctx context.Context, off int64, emit func(vfs.Dirent) bool) error {
	return l.d.List(ctx, l.self, l.parent, off, emit)
}

// collect lists fd from off, stopping after max entries (all if max < 0).
func collect(t *testing.T, fd *DirFD, off int64, max int) []vfs.Dirent {
	t.Helper()
	var got []vfs.Dirent
	err := fd.IterDirents(context.Background(), off, func(d vfs.Dirent) bool {
		if max >= 0 && len(got) == max {
			return false
		}
		got = append(got, d)
		return true
	})
	if err != nil {
		t.Fatalf("IterDirents(%d): %v", off, err)
	}
	return got
}

func TestStaticDirListing(t *testing.T) {
	ctx := context.Background()
	var d StaticDir
	zeta := &fakeInode{mode: unix.S_IFREG | 0o444, ino: 30}
	// Added out of order, and one name twice: listed once, in name order,
	// with the last child.
	d.Add("zeta", &fakeInode{mode: unix.S_IFDIR | 0o755, ino: 99})
	d.Add("alpha", &fakeInode{mode: unix.S_IFDIR | 0o755, ino: 10})
	d.Add("mid", &fakeInode{mode: unix.S_IFLNK | 0o777, ino: 20})
	d.Add("zeta", zeta)

	want := []vfs.Dirent{
		{Name: ".", Type: unix.DT_DIR, Ino: 7, NextOff: 1},
		{Name: "..", Type: unix.DT_DIR, Ino: 3, NextOff: 2},
		{Name: "alpha", Type: unix.DT_DIR, Ino: 10, NextOff: 3},
		{Name: "mid", Type: unix.DT_LNK, Ino: 20, NextOff: 4},
		{Name: "zeta", Type: unix.DT_REG, Ino: 30, NextOff: 5},
	}
	fd := &DirFD{Dir: staticLister{d: &d, self: 7, parent: 3}}
	if got := collect(t, fd, 0, -1); !reflect.DeepEqual(got, want) {
		t.Fatalf("listing:\n got %+v\nwant %+v", got, want)
	}
	// Resuming at any position gives the rest; stopping after one entry
	// gives exactly that entry; past the end gives nothing.
	for off := int64(0); off <= int64(len(want)); off++ {
		if got := collect(t, fd, off, -1); !reflect.DeepEqual(got, want[off:]) && !(len(got) == 0 && len(want[off:]) == 0) {
			t.Errorf("from %d: got %+v, want %+v", off, got, want[off:])
		}
		if off < int64(len(want)) {
			if got := collect(t, fd, off, 1); len(got) != 1 || got[0] != want[off] {
				t.Errorf("one from %d: got %+v, want %+v", off, got, want[off])
			}
		}
	}
	if got := collect(t, fd, 100, -1); len(got) != 0 {
		t.Errorf("from 100: got %+v", got)
	}

	if c, err := d.Lookup(ctx, "zeta"); err != nil || c != vfs.Inode(zeta) {
		t.Errorf("Lookup(zeta) = %v, %v; want the last child added", c, err)
	}
	if _, err := d.Lookup(ctx, "nope"); !errors.Is(err, unix.ENOENT) {
		t.Errorf("Lookup(nope) = %v, want ENOENT", err)
	}
	if d.Child("nope") != nil || d.Child("alpha") == nil {
		t.Errorf("Child: wrong presence")
	}
}

func TestEmptyStaticDir(t *testing.T) {
	var d StaticDir
	fd := &DirFD{Dir: staticLister{d: &d, self: 1, parent: 1}}
	got := collect(t, fd, 0, -1)
	if len(got) != 2 || got[0].Name != "." || got[1].Name != ".." {
		t.Fatalf("empty listing = %+v, want . and ..", got)
	}
	if _, err := d.Lookup(context.Background(), "x"); !errors.Is(err, unix.ENOENT) {
		t.Errorf("Lookup in empty dir = %v, want ENOENT", err)
	}
}

func TestEmitDots(t *testing.T) {
	for _, tc := range []struct {
		off, stopAfter int64
		wantNames      []string
		wantOff        int64
		wantOK         bool
	}{
		{off: -5, stopAfter: 9, wantNames: []string{".", ".."}, wantOff: 2, wantOK: true},
		{off: 0, stopAfter: 9, wantNames: []string{".", ".."}, wantOff: 2, wantOK: true},
		{off: 1, stopAfter: 9, wantNames: []string{".."}, wantOff: 2, wantOK: true},
		{off: 2, stopAfter: 9, wantNames: nil, wantOff: 2, wantOK: true},
		{off: 5, stopAfter: 9, wantNames: nil, wantOff: 5, wantOK: true},
		{off: 0, stopAfter: 0, wantNames: nil, wantOff: 0, wantOK: false},
		{off: 0, stopAfter: 1, wantNames: []string{"."}, wantOff: 1, wantOK: false},
		{off: 1, stopAfter: 0, wantNames: nil, wantOff: 1, wantOK: false},
	} {
		var names []string
		off, ok := EmitDots(tc.off, 11, 22, func(d vfs.Dirent) bool {
			if int64(len(names)) == tc.stopAfter {
				return false
			}
			wantIno := uint64(11)
			if d.Name == ".." {
				wantIno = 22
			}
			if d.Ino != wantIno || d.Type != unix.DT_DIR {
				t.Errorf("EmitDots(%d): entry %+v", tc.off, d)
			}
			names = append(names, d.Name)
			return true
		})
		if !reflect.DeepEqual(names, tc.wantNames) || off != tc.wantOff || ok != tc.wantOK {
			t.Errorf("EmitDots(%d) stopping after %d: %v, %d, %v; want %v, %d, %v",
				tc.off, tc.stopAfter, names, off, ok, tc.wantNames, tc.wantOff, tc.wantOK)
		}
	}
}

func TestDirFDReadSeek(t *testing.T) {
	ctx := context.Background()
	fd := &DirFD{Dir: staticLister{d: &StaticDir{}}}
	if _, err := fd.Read(ctx, nil, make([]byte, 8), 0); !errors.Is(err, unix.EISDIR) {
		t.Errorf("Read = %v, want EISDIR", err)
	}
	if n, err := fd.Seek(ctx, 4, 3, unix.SEEK_SET); err != nil || n != 3 {
		t.Errorf("Seek(SET 3) = %d, %v", n, err)
	}
	if n, err := fd.Seek(ctx, 4, 3, unix.SEEK_CUR); err != nil || n != 7 {
		t.Errorf("Seek(CUR +3) = %d, %v", n, err)
	}
	for _, whence := range []int32{unix.SEEK_END, unix.SEEK_DATA, unix.SEEK_HOLE, 42} {
		if _, err := fd.Seek(ctx, 0, 0, whence); !errors.Is(err, unix.EINVAL) {
			t.Errorf("Seek(whence %d) = %v, want EINVAL", whence, err)
		}
	}
	if _, err := fd.Seek(ctx, 0, -1, unix.SEEK_SET); err == nil {
		t.Errorf("Seek(SET -1) succeeded")
	}
}

func TestReadOnlyDirDefaults(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		d    ReadOnlyDirDefaults
		want unix.Errno
	}{{ReadOnlyDirDefaults{}, unix.EPERM}, {ReadOnlyDirDefaults{Errno: unix.EACCES}, unix.EACCES}} {
		d := tc.d
		_, createErr := d.Create(ctx, "x", nil)
		for name, err := range map[string]error{
			"create":  createErr,
			"mkdir":   d.Mkdir(ctx, "x", nil),
			"mknod":   d.Mknod(ctx, "x", nil),
			"symlink": d.Symlink(ctx, "x", "y", nil),
			"link":    d.Link(ctx, "x", nil),
			"unlink":  d.Unlink(ctx, "x", nil),
			"rmdir":   d.Rmdir(ctx, "x", nil),
			"rename":  d.Rename(ctx, "x", nil, nil, "y", nil, 0),
		} {
			if !errors.Is(err, tc.want) {
				t.Errorf("%s with Errno %d = %v, want %v", name, tc.d.Errno, err, tc.want)
			}
		}
	}
}
