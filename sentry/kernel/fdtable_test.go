package kernel

import (
	"math/rand"
	"testing"

	"github.com/palisade-sandbox/palisade/sentry/kernel/eventfd"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func testFile(t testing.TB) *vfs.FileDescription {
	t.Helper()
	f, err := eventfd.New(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// lowestFreeModel is the obvious search the bitmaps replace.
func lowestFreeModel(used map[int32]bool, min int32) int32 {
	for fd := min; ; fd++ {
		if !used[fd] {
			return fd
		}
	}
}

// TestNewFDTakesTheLowestFreeDescriptor checks the bitmap search against
// a linear one over random opens, dup2s and closes spanning several
// words of both bitmaps.
func TestNewFDTakesTheLowestFreeDescriptor(t *testing.T) {
	file := testFile(t)
	tab := NewFDTable()
	used := map[int32]bool{}
	const limit = 20000
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 60000; i++ {
		switch op := rng.Intn(10); {
		case op < 6: // open, sometimes with a minimum (F_DUPFD)
			min := int32(0)
			if rng.Intn(4) == 0 {
				min = int32(rng.Intn(limit))
			}
			want := lowestFreeModel(used, min)
			got, err := tab.NewFD(min, limit, file, FDFlags{})
			if want >= limit {
				if err != unix.EMFILE {
					t.Fatalf("op %d: NewFD(%d) = %d, %v; want EMFILE", i, min, got, err)
				}
				continue
			}
			if err != nil || got != want {
				t.Fatalf("op %d: NewFD(%d) = %d, %v; want %d", i, min, got, err, want)
			}
			used[got] = true
		case op < 7: // dup2 somewhere
			fd := int32(rng.Intn(limit))
			tab.Install(fd, limit, file, FDFlags{})
			used[fd] = true
		default: // close
			fd := int32(rng.Intn(limit / 4))
			if rng.Intn(2) == 0 {
				fd = int32(rng.Intn(limit))
			}
			if got := tab.Remove(fd); (got != nil) != used[fd] {
				t.Fatalf("op %d: Remove(%d) found %v, model says %v", i, fd, got != nil, used[fd])
			}
			delete(used, fd)
		}
	}
	// A fork copies the bitmaps too.
	child := tab.Fork()
	want := lowestFreeModel(used, 0)
	if got, err := child.NewFD(0, 2*limit, file, FDFlags{}); got != want || err != nil {
		t.Errorf("after fork: NewFD = %d, %v; want %d", got, err, want)
	}
}

func TestNewFDLimits(t *testing.T) {
	file := testFile(t)
	tab := NewFDTable()
	if _, err := tab.NewFD(5, 5, file, FDFlags{}); err != unix.EINVAL {
		t.Errorf("min == limit: %v, want EINVAL", err)
	}
	if _, err := tab.NewFD(-1, 5, file, FDFlags{}); err != unix.EINVAL {
		t.Errorf("min < 0: %v, want EINVAL", err)
	}
	for i := int32(0); i < 3; i++ {
		if fd, err := tab.NewFD(0, 3, file, FDFlags{}); fd != i || err != nil {
			t.Fatalf("NewFD = %d, %v; want %d", fd, err, i)
		}
	}
	if _, err := tab.NewFD(0, 3, file, FDFlags{}); err != unix.EMFILE {
		t.Errorf("full table: %v, want EMFILE", err)
	}
}

// BenchmarkNewFDWithManyOpen opens and closes one descriptor above a
// million open ones: the search must not look at each of them.
func BenchmarkNewFDWithManyOpen(b *testing.B) {
	file := testFile(b)
	tab := NewFDTable()
	const n = 1 << 20
	for i := 0; i < n; i++ {
		tab.NewFD(0, n+1, file, FDFlags{})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fd, _ := tab.NewFD(0, n+1, file, FDFlags{})
		tab.Remove(fd)
	}
}
