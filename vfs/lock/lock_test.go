package lock

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// fakeImpl is a file with no location: its lock key is the implementation.
type fakeImpl struct {
	vfs.FileDescriptionDefaultImpl
	_ int // non-zero size, so every fakeImpl has its own address
}

func newFile(impl *fakeImpl) *vfs.FileDescription {
	return vfs.NewFileDescription(impl, unix.O_RDWR, vfs.VirtualDentry{})
}

func ranges(fd *vfs.FileDescription, owner Owner) []record {
	mu.Lock()
	defer mu.Unlock()
	fl := files[keyOf(fd)]
	if fl == nil {
		return nil
	}
	var out []record
	for _, r := range fl.records {
		if r.owner == owner {
			out = append(out, r)
		}
	}
	return out
}

func TestSetRecordSplitsAndMerges(t *testing.T) {
	ctx := context.Background()
	type op struct {
		typ        Type
		start, end int64
	}
	tests := []struct {
		name string
		ops  []op
		want []Range
	}{
		{"merge adjacent", []op{{ReadLock, 0, 9}, {ReadLock, 10, 19}}, []Range{{0, 19}}},
		{"merge overlapping", []op{{WriteLock, 0, 9}, {WriteLock, 5, 30}}, []Range{{0, 30}}},
		{"split by unlock", []op{{WriteLock, 0, 99}, {Unlock, 40, 59}}, []Range{{0, 39}, {60, 99}}},
		{"split by other type", []op{{ReadLock, 0, 99}, {WriteLock, 40, 59}}, []Range{{0, 39}, {40, 59}, {60, 99}}},
		{"to EOF", []op{{ReadLock, 10, MaxOffset}, {Unlock, 0, 19}}, []Range{{20, MaxOffset}}},
		{"unlock all", []op{{ReadLock, 0, 5}, {WriteLock, 8, 9}, {Unlock, 0, MaxOffset}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fd := newFile(&fakeImpl{})
			defer fd.DecRef(ctx)
			owner := POSIXOwner(1000)
			for _, o := range tc.ops {
				if err := SetRecord(ctx, fd, owner, o.typ, Range{o.start, o.end}, false); err != nil {
					t.Fatalf("SetRecord(%v, %d-%d) = %v, want nil", o.typ, o.start, o.end, err)
				}
			}
			var got []Range
			for _, r := range ranges(fd, owner) {
				got = append(got, r.rng)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ranges = %v, want %v", got, tc.want)
			}
			ReleaseProcess(1000)
		})
	}
}

func TestConflictsAndRelease(t *testing.T) {
	ctx := context.Background()
	impl := &fakeImpl{}
	fd := newFile(impl)
	a, b := POSIXOwner(1), POSIXOwner(2)
	if err := SetRecord(ctx, fd, a, WriteLock, Range{0, 9}, false); err != nil {
		t.Fatalf("lock by a: %v", err)
	}
	if err := SetRecord(ctx, fd, b, ReadLock, Range{9, 9}, false); err != unix.EAGAIN {
		t.Fatalf("conflicting lock by b = %v, want EAGAIN", err)
	}
	c, ok := TestRecord(fd, b, ReadLock, Range{0, MaxOffset})
	if !ok || c.PID != 1 || c.Range != (Range{0, 9}) || c.Type != WriteLock {
		t.Fatalf("TestRecord = %+v, %v; want a's write lock on 0-9", c, ok)
	}
	ReleasePOSIX(fd, 1)
	if _, ok := TestRecord(fd, b, WriteLock, Range{0, MaxOffset}); ok {
		t.Fatalf("lock still reported after ReleasePOSIX")
	}
	// OFD lock goes with the description's last reference.
	if err := SetRecord(ctx, fd, OFDOwner(fd), WriteLock, Range{0, 0}, false); err != nil {
		t.Fatalf("OFD lock: %v", err)
	}
	if c, ok := TestRecord(fd, b, ReadLock, Range{0, 0}); !ok || c.PID != -1 {
		t.Fatalf("TestRecord = %+v, %v; want an OFD lock with PID -1", c, ok)
	}
	fd.DecRef(ctx)
	mu.Lock()
	n := len(files)
	mu.Unlock()
	if n != 0 {
		t.Errorf("%d files still have lock entries after the last release, want 0", n)
	}
}

func TestDeadlockDetection(t *testing.T) {
	ctx := context.Background()
	fd := newFile(&fakeImpl{})
	defer fd.DecRef(ctx)
	a, b := POSIXOwner(11), POSIXOwner(12)
	defer ReleaseProcess(11)
	defer ReleaseProcess(12)
	if err := SetRecord(ctx, fd, a, WriteLock, Range{0, 0}, false); err != nil {
		t.Fatal(err)
	}
	if err := SetRecord(ctx, fd, b, WriteLock, Range{1, 1}, false); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- SetRecord(ctx, fd, b, WriteLock, Range{0, 0}, true) }()
	for {
		mu.Lock()
		n := len(waiting[12])
		mu.Unlock()
		if n > 0 {
			break
		}
		runtime.Gosched()
	}
	if err := SetRecord(ctx, fd, a, WriteLock, Range{1, 1}, true); !errors.Is(err, unix.EDEADLK) {
		t.Fatalf("SetRecord closing a cycle = %v, want EDEADLK", err)
	}
	ReleaseProcess(11)
	if err := <-done; err != nil {
		t.Fatalf("blocked SetRecord = %v after the holder went, want nil", err)
	}
}
