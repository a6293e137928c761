package memory

import "testing"

func TestAllocateIsZeroedAndReused(t *testing.T) {
	f, err := New("test")
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Allocate(3 * PageSize)
	if err != nil {
		t.Fatal(err)
	}
	b := f.Bytes(r)
	b[0], b[len(b)-1] = 1, 2
	f.DecRef(r)
	if got := f.Usage(); got != 0 {
		t.Fatalf("usage after free = %d, want 0", got)
	}
	r2, err := f.Allocate(PageSize)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Start != r.Start {
		t.Errorf("second allocation at %#x, want reuse of %#x", r2.Start, r.Start)
	}
	if f.Bytes(r2)[0] != 0 {
		t.Errorf("reused page not zeroed")
	}
}

func TestPartialReferences(t *testing.T) {
	f, err := New("test")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := f.Allocate(4 * PageSize)
	mid := Range{r.Start + PageSize, r.Start + 3*PageSize}
	f.IncRef(mid)
	if f.Exclusive(r) {
		t.Errorf("Exclusive(whole) = true with shared middle pages")
	}
	if !f.Exclusive(Range{r.Start, r.Start + PageSize}) {
		t.Errorf("Exclusive(first page) = false, want true")
	}
	f.DecRef(r)
	if got, want := f.Usage(), uint64(2*PageSize); got != want {
		t.Errorf("usage = %d, want %d", got, want)
	}
	f.DecRef(mid)
	if got := f.Usage(); got != 0 {
		t.Errorf("usage = %d, want 0", got)
	}
	if len(f.used) != 0 || len(f.free) != 1 {
		t.Errorf("used=%v free=%v, want none used and one coalesced free range", f.used, f.free)
	}
}

func TestPageByPageAllocationsStayFewRuns(t *testing.T) {
	f, err := New("test")
	if err != nil {
		t.Fatal(err)
	}
	var rs []Range
	for i := 0; i < 1000; i++ {
		r, err := f.Allocate(PageSize)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if len(f.used) != 1 {
		t.Errorf("1000 adjacent one-page allocations make %d runs, want 1", len(f.used))
	}
	// Free in a scattered order: the free list must coalesce back.
	for i := 0; i < 1000; i++ {
		f.DecRef(rs[(i*379)%1000])
	}
	if len(f.used) != 0 || len(f.free) != 1 {
		t.Errorf("after freeing everything: %d used runs, %d free runs; want 0 and 1", len(f.used), len(f.free))
	}
}

// TestResidentCountsInFixedChunks checks Resident over a range longer than
// its buffer, and that it allocates nothing whatever the range's length.
func TestResidentCountsInFixedChunks(t *testing.T) {
	f, err := New("test")
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Allocate(4 << 20)
	if err != nil {
		t.Fatal(err)
	}
	b := f.Bytes(r)
	for _, off := range []int{0, 2<<20 - PageSize, 3 << 20} {
		b[off] = 1
	}
	if got := f.Resident(r); got != 3*PageSize {
		t.Errorf("Resident after touching 3 pages = %d, want %d", got, 3*PageSize)
	}
	if allocs := testing.AllocsPerRun(10, func() { f.Resident(r) }); allocs != 0 {
		t.Errorf("Resident allocated %v times a call, want 0", allocs)
	}
}
