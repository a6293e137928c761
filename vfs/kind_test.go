package vfs

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"
)

// kindedBase has every file type's methods (none is called) and a mode.
type kindedBase struct {
	KindedInode
	mode uint32
}

func (b *kindedBase) Mode() uint32 { return b.mode }

// fullBase is also a Revalidator and an XattrInode.
type fullBase struct {
	kindedBase
	xattrOps
}

func (*fullBase) Revalidate(context.Context, string, Inode) bool { return true }

func TestByKindMethodSets(t *testing.T) {
	for _, tc := range []struct {
		mode              uint32
		full              bool
		dir, sym, rv, xat bool
	}{
		{mode: unix.S_IFREG},
		{mode: unix.S_IFDIR, dir: true},
		{mode: unix.S_IFLNK, sym: true},
		{mode: unix.S_IFIFO},
		{mode: unix.S_IFREG, full: true, xat: true},
		{mode: unix.S_IFDIR, full: true, dir: true, rv: true, xat: true},
		{mode: unix.S_IFLNK, full: true, sym: true, xat: true},
	} {
		var base KindedInode = &kindedBase{mode: tc.mode}
		if tc.full {
			base = &fullBase{kindedBase: kindedBase{mode: tc.mode}}
		}
		v := ByKind(base)
		_, dir := v.(DirInode)
		_, sym := v.(SymlinkInode)
		_, rv := v.(Revalidator)
		_, xat := v.(XattrInode)
		if dir != tc.dir || sym != tc.sym || rv != tc.rv || xat != tc.xat {
			t.Errorf("mode %#o full %v: DirInode %v SymlinkInode %v Revalidator %v XattrInode %v, want %v %v %v %v",
				tc.mode, tc.full, dir, sym, rv, xat, tc.dir, tc.sym, tc.rv, tc.xat)
		}
		if v.Mode() != tc.mode {
			t.Errorf("mode %#o: view's Mode %#o", tc.mode, v.Mode())
		}
		if v != ByKind(base) {
			t.Errorf("mode %#o full %v: two views of one base differ", tc.mode, tc.full)
		}
		if tc.full {
			if got, ok := Unwrap[*fullBase](v); !ok || got != base {
				t.Errorf("mode %#o: Unwrap = %v, %v", tc.mode, got, ok)
			}
			if _, ok := Unwrap[*kindedBase](v); ok {
				t.Errorf("mode %#o: Unwrap to another type succeeded", tc.mode)
			}
		} else if got, ok := Unwrap[*kindedBase](v); !ok || got != base {
			t.Errorf("mode %#o: Unwrap = %v, %v", tc.mode, got, ok)
		}
	}
	if _, ok := Unwrap[*kindedBase](nil); ok {
		t.Error("Unwrap(nil) succeeded")
	}
	if _, ok := Unwrap[*kindedBase](&kindedBase{}); ok {
		t.Error("Unwrap of a bare base (not a view) succeeded")
	}
}
