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
	pl, err := ptrace.New(mf.FD(), ptrace.Options{})
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

func TestForkRunMergesOnlyContinuations(t *testing.T) {
	var got []forkRun
	apply := func(r forkRun) error { got = append(got, r); return nil }
	var r forkRun
	rw, ro := platform.ReadWrite, platform.Read
	steps := []struct {
		start, end, off uint64
		at              platform.Access
	}{
		{0x1000, 0x2000, 0x10000, rw},
		{0x2000, 0x4000, 0x11000, rw}, // continues: merged
		{0x4000, 0x5000, 0x20000, rw}, // file offset jumps: new run
		{0x5000, 0x6000, 0x21000, ro}, // access differs: new run
		{0x7000, 0x8000, 0x22000, ro}, // address gap: new run
	}
	for _, s := range steps {
		if err := r.add(s.start, s.end, s.off, s.at, true, apply); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.flush(apply); err != nil {
		t.Fatal(err)
	}
	want := []forkRun{
		{0x1000, 0x4000, 0x10000, rw, true},
		{0x4000, 0x5000, 0x20000, rw, true},
		{0x5000, 0x6000, 0x21000, ro, true},
		{0x7000, 0x8000, 0x22000, ro, true},
	}
	if len(got) != len(want) {
		t.Fatalf("applied %d runs %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("run %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Without offsets (mprotect), only addresses and access matter.
	got = nil
	r.add(0x1000, 0x2000, 5, rw, false, apply)
	r.add(0x2000, 0x3000, 99, rw, false, apply)
	r.flush(apply)
	if len(got) != 1 || got[0].start != 0x1000 || got[0].end != 0x3000 {
		t.Errorf("protect runs = %+v, want one 0x1000-0x3000", got)
	}
}

// TestHugeRangesAllocateNothing checks that the calls that take a
// guest-chosen length (mincore, and msync/mlock/munlock through
// CheckMapped) cost nothing in proportion to it: over a 64 TiB
// reservation, a byte a page would be 16 GiB.
func TestHugeRangesAllocateNothing(t *testing.T) {
	mm := newMM(t)
	const huge = 64 << 40
	addr, err := mm.MMap(MMapOpts{Length: huge, Private: true, MaxPerms: platform.AnyAccess})
	if err != nil {
		t.Fatal(err)
	}
	vec := make([]byte, 4096)
	allocs := testing.AllocsPerRun(10, func() {
		if inacc, err := mm.CheckMapped(addr, huge); err != nil || !inacc {
			t.Fatalf("CheckMapped(64 TiB PROT_NONE) = %v, %v; want true, nil", inacc, err)
		}
		if n, err := mm.Mincore(addr+huge/2, vec); n != len(vec) || err != nil {
			t.Fatalf("Mincore = %d, %v; want %d, nil", n, err, len(vec))
		}
	})
	if allocs != 0 {
		t.Errorf("CheckMapped and Mincore over 64 TiB allocated %v times a call, want 0", allocs)
	}
}

func TestMincoreStopsAtTheEndOfAVMA(t *testing.T) {
	mm := newMM(t)
	addr, err := mm.MMap(MMapOpts{Length: 4 * pageSize, Private: true, Perms: platform.ReadWrite, MaxPerms: platform.AnyAccess})
	if err != nil {
		t.Fatal(err)
	}
	if err := mm.Mprotect(addr+3*pageSize, pageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	// Touch only the second page: a fault populates a window, so drop
	// the others again.
	if _, err := mm.CopyOut(addr+pageSize, []byte{1}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []uint64{addr, addr + 2*pageSize} {
		if err := mm.Madvise(a, pageSize, unix.MADV_DONTNEED); err != nil {
			t.Fatal(err)
		}
	}
	vec := bytes.Repeat([]byte{0xee}, 8)
	n, err := mm.Mincore(addr, vec)
	if n != 3 || err != nil {
		t.Fatalf("Mincore over two VMAs = %d, %v; want 3 (the first VMA), nil", n, err)
	}
	if want := []byte{0, 1, 0, 0xee}; !bytes.Equal(vec[:4], want) {
		t.Errorf("Mincore vector = %v, want %v", vec[:4], want)
	}
	if err := mm.Munmap(addr, pageSize); err != nil {
		t.Fatal(err)
	}
	if _, err := mm.Mincore(addr, vec); err != unix.ENOMEM {
		t.Errorf("Mincore of an unmapped page = %v, want ENOMEM", err)
	}
}

// TestMapCountLimit checks that splitting VMAs stops at maxMapCount
// (Linux: vm.max_map_count) with ENOMEM, as each VMA costs Sentry memory.
func TestMapCountLimit(t *testing.T) {
	mm := newMM(t)
	length := uint64(maxMapCount+64) * 2 * pageSize
	addr, err := mm.MMap(MMapOpts{Length: length, Private: true, MaxPerms: platform.AnyAccess})
	if err != nil {
		t.Fatal(err)
	}
	i := uint64(0)
	for ; (2*i+2)*pageSize < length; i++ {
		if err = mm.Mprotect(addr+(2*i+1)*pageSize, pageSize, platform.Read, false); err != nil {
			break
		}
	}
	if err != unix.ENOMEM {
		t.Fatalf("mprotect splitting %d times: %v, want ENOMEM", i, err)
	}
	if n := len(mm.vmas); n > maxMapCount {
		t.Errorf("%d VMAs after splitting, want at most %d", n, maxMapCount)
	}
	if len(mm.vmas) < maxMapCount {
		// Two short of the limit: one more split, at the end, fits.
		if err := mm.Mprotect(addr+length-pageSize, pageSize, platform.Read, false); err != nil {
			t.Fatalf("mprotect splitting to the limit: %v", err)
		}
	}
	// A hole in the middle of the unsplit rest would make one more.
	mid := addr + (2*i+8)*pageSize
	if err := mm.Munmap(mid, pageSize); err != unix.ENOMEM {
		t.Errorf("munmap splitting past the limit = %v, want ENOMEM", err)
	}
	if _, err := mm.CheckMapped(mid, pageSize); err != nil {
		t.Errorf("page is unmapped after a failed munmap: %v", err)
	}
	// Removing a whole VMA needs no split, and merging frees room.
	if err := mm.Munmap(addr+pageSize, pageSize); err != nil {
		t.Errorf("munmap of a whole VMA at the limit = %v, want success", err)
	}
	if err := mm.Mprotect(addr+3*pageSize, pageSize, platform.NoAccess, false); err != nil {
		t.Errorf("mprotect merging three VMAs into one = %v, want success", err)
	}
}

func TestAdjacentAnonymousMappingsMerge(t *testing.T) {
	mm := newMM(t)
	addr, err := mm.MMap(MMapOpts{Length: 4 * pageSize, Private: true, MaxPerms: platform.AnyAccess})
	if err != nil {
		t.Fatal(err)
	}
	before := len(mm.vmas)
	for i := uint64(0); i < 3; i++ {
		if _, err := mm.MMap(MMapOpts{Addr: addr + i*pageSize, Length: pageSize, Fixed: true, Private: true, Perms: platform.Read, MaxPerms: platform.AnyAccess}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(mm.vmas); n != before+1 {
		t.Errorf("%d VMAs after mapping three adjacent pages over a reservation, want %d", n, before+1)
	}
	if err := mm.Mprotect(addr+pageSize, pageSize, platform.ReadWrite, false); err != nil {
		t.Fatal(err)
	}
	if err := mm.Mprotect(addr+pageSize, pageSize, platform.Read, false); err != nil {
		t.Fatal(err)
	}
	if n := len(mm.vmas); n != before+1 {
		t.Errorf("%d VMAs after re-protecting the middle page back, want %d", n, before+1)
	}
}

// TestSealedHeapDoesNotShrink checks brk(2) against a sealed heap, which
// the C tests cannot reach without disturbing libc's allocator: the break
// stays where it was, as Linux's brk when the unmap fails with EPERM.
func TestSealedHeapDoesNotShrink(t *testing.T) {
	mm := newMM(t)
	start := uint64(0x10000000)
	mm.SetBrkStart(start)
	if got := mm.Brk(start + 4*pageSize); got != start+4*pageSize {
		t.Fatalf("brk grew to %#x, want %#x", got, start+4*pageSize)
	}
	if err := mm.Mseal(start+2*pageSize, pageSize); err != nil {
		t.Fatal(err)
	}
	if got := mm.Brk(start + pageSize); got != start+4*pageSize {
		t.Errorf("brk over a sealed page moved to %#x, want it kept at %#x", got, start+4*pageSize)
	}
	// Above the sealed page the heap may still shrink.
	if got := mm.Brk(start + 3*pageSize); got != start+3*pageSize {
		t.Errorf("brk above the sealed page is %#x, want %#x", got, start+3*pageSize)
	}
}

// TestSealedAndUnsealedMappingsDoNotMerge checks that sealing part of a
// mapping splits it and that the halves stay apart when the rest is
// re-protected to match.
func TestSealedAndUnsealedMappingsDoNotMerge(t *testing.T) {
	mm := newMM(t)
	addr, err := mm.MMap(MMapOpts{Length: 3 * pageSize, Private: true, Perms: platform.ReadWrite, MaxPerms: platform.AnyAccess})
	if err != nil {
		t.Fatal(err)
	}
	before := len(mm.vmas)
	if err := mm.Mseal(addr+pageSize, pageSize); err != nil {
		t.Fatal(err)
	}
	if n := len(mm.vmas); n != before+2 {
		t.Errorf("%d VMAs after sealing the middle page, want %d", n, before+2)
	}
	if err := mm.Mprotect(addr, pageSize, platform.ReadWrite, false); err != nil {
		t.Fatal(err)
	}
	if n := len(mm.vmas); n != before+2 {
		t.Errorf("%d VMAs after re-protecting a neighbour, want %d", n, before+2)
	}
	if err := mm.Munmap(addr, 3*pageSize); err != unix.EPERM {
		t.Errorf("munmap over the sealed page: %v, want EPERM", err)
	}
}

type countingReleaser struct{ n int }

func (r *countingReleaser) Release() { r.n++ }

func TestAIOStateIsReleasedOnceWithTheLastUserAndNotForked(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mf, err := memory.New("test")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := ptrace.New(mf.FD(), ptrace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mm, err := New(mf, pl)
	if err != nil {
		t.Fatal(err)
	}
	if got := mm.AIO(nil); got != nil {
		t.Fatalf("AIO(nil) on a fresh address space = %v, want nil", got)
	}
	r := &countingReleaser{}
	if got := mm.AIO(func() Releaser { return r }); got != r {
		t.Fatalf("AIO(create) = %v, want the created state", got)
	}
	if got := mm.AIO(func() Releaser { return &countingReleaser{} }); got != r {
		t.Fatalf("second AIO(create) = %v, want the first state", got)
	}
	child, err := mm.Fork()
	if err != nil {
		t.Fatal(err)
	}
	if got := child.AIO(nil); got != nil {
		t.Errorf("forked child has AIO state %v, want none", got)
	}
	child.DecUsers()
	mm.IncUsers()
	mm.DecUsers()
	if r.n != 0 {
		t.Fatalf("released with a user left")
	}
	mm.DecUsers()
	if r.n != 1 {
		t.Fatalf("released %d times after the last user, want 1", r.n)
	}
	if got := mm.AIO(func() Releaser { return &countingReleaser{} }); got != nil {
		t.Errorf("AIO on a released address space = %v, want nil", got)
	}
}
