package mm

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/platform/ptrace"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"golang.org/x/sys/unix"
)

func newMM(t *testing.T) *MemoryManager {
	t.Helper()
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	mf, err := memory.New("test")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := ptrace.New(mf.FD())
	if err != nil {
		t.Fatal(err)
	}
	mm, err := New(mf, pl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mm.DecUsers)
	return mm
}

func TestForkIsCopyOnWrite(t *testing.T) {
	mm := newMM(t)
	addr, err := mm.MMap(MMapOpts{Length: 3 * pageSize, Private: true, Perms: platform.ReadWrite, MaxPerms: platform.AnyAccess})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mm.CopyOut(addr+10, []byte("parent")); err != nil {
		t.Fatal(err)
	}
	child, err := mm.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer child.DecUsers()
	if _, err := child.CopyOut(addr+10, []byte("child!")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 6)
	mm.CopyIn(addr+10, got)
	if string(got) != "parent" {
		t.Errorf("parent sees %q after child write, want %q", got, "parent")
	}
	child.CopyIn(addr+10, got)
	if string(got) != "child!" {
		t.Errorf("child sees %q, want %q", got, "child!")
	}
}

func TestCopyFaultsAtUnmappedPage(t *testing.T) {
	mm := newMM(t)
	addr, err := mm.MMap(MMapOpts{Length: 2 * pageSize, Private: true, Perms: platform.ReadWrite, MaxPerms: platform.AnyAccess})
	if err != nil {
		t.Fatal(err)
	}
	if err := mm.Munmap(addr+pageSize, pageSize); err != nil {
		t.Fatal(err)
	}
	n, err := mm.CopyOut(addr+pageSize-4, bytes.Repeat([]byte{1}, 8))
	if n != 4 || err != unix.EFAULT {
		t.Errorf("CopyOut across hole = %d, %v; want 4, EFAULT", n, err)
	}
	if err := mm.Mprotect(addr, pageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	if _, err := mm.CopyOut(addr, []byte{1}); err != unix.EFAULT {
		t.Errorf("CopyOut to read-only page = %v, want EFAULT", err)
	}
	s, err := mm.CopyInString(addr+pageSize-3, 100)
	if err != unix.EFAULT {
		t.Errorf("CopyInString running into hole = %q, %v; want EFAULT", s, err)
	}
}

func TestSharedAnonymousSurvivesFork(t *testing.T) {
	mm := newMM(t)
	addr, err := mm.MMap(MMapOpts{Length: pageSize, Perms: platform.ReadWrite, MaxPerms: platform.AnyAccess})
	if err != nil {
		t.Fatal(err)
	}
	child, err := mm.Fork()
	if err != nil {
		t.Fatal(err)
	}
	defer child.DecUsers()
	child.CopyOut(addr, []byte("hi"))
	got := make([]byte, 2)
	mm.CopyIn(addr, got)
	if string(got) != "hi" {
		t.Errorf("parent reads %q from shared page, want %q", got, "hi")
	}
}
