package aio

import (
	"encoding/binary"
	"sync"
	"testing"

	"github.com/palisade-sandbox/palisade/sentry/memory"
)

// newTestContext makes a context with a ring of one page and no address
// space (what Setup does, less the mapping).
func newTestContext(t *testing.T) *Context {
	t.Helper()
	mf, err := memory.New("aio-test")
	if err != nil {
		t.Fatal(err)
	}
	r, err := mf.Allocate(memory.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	rg := &ring{mf: mf, r: r}
	rg.refs.Init(rg)
	reg := &Registry{nr: 1, maxNR: DefaultMaxNR}
	return &Context{
		reg: reg, tb: &table{}, size: memory.PageSize, maxReqs: 1,
		nr: (memory.PageSize - headerSize) / EventSize, ring: rg,
		polls: make(map[uint64]*pollReq), idle: make(chan struct{}), pollCh: make(chan struct{}, 1),
	}
}

func (c *Context) setHead(h uint32) { store32(c.ring.bytes(), offHead, h) }

func (c *Context) eventAt(i uint32) Event {
	b := c.ring.bytes()[headerSize+int(i)*EventSize:]
	le := binary.LittleEndian
	return Event{Data: le.Uint64(b), Obj: le.Uint64(b[8:]), Res: int64(le.Uint64(b[16:])), Res2: int64(le.Uint64(b[24:]))}
}

func TestRingHoldsCapacityLessOneAndWraps(t *testing.T) {
	c := newTestContext(t)
	for i := uint32(0); i < c.nr-1; i++ {
		if err := c.Begin(); err != nil {
			t.Fatalf("Begin %d of %d: %v", i, c.nr-1, err)
		}
		c.Complete(Event{Data: uint64(i)}, nil)
	}
	if err := c.Begin(); err == nil {
		t.Fatalf("Begin with a full ring succeeded")
	}
	// The guest reaps three; three more fit, wrapping the tail.
	c.setHead(3)
	for i := range 3 {
		if err := c.Begin(); err != nil {
			t.Fatalf("Begin after reaping: %v", err)
		}
		c.Complete(Event{Data: 1000 + uint64(i)}, nil)
	}
	if c.tail != 2 {
		t.Errorf("tail = %d, want 2 after wrapping", c.tail)
	}
	if got := load32(c.ring.bytes(), offTail); got != 2 {
		t.Errorf("ring tail = %d, want 2", got)
	}
	if ev := c.eventAt(c.nr - 1); ev.Data != 1000 {
		t.Errorf("last slot holds %d, want 1000", ev.Data)
	}
	if ev := c.eventAt(1); ev.Data != 1002 {
		t.Errorf("slot 1 holds %d, want 1002", ev.Data)
	}
}

func TestGarbageHeadStaysInTheRing(t *testing.T) {
	c := newTestContext(t)
	c.setHead(0xffffffff)
	c.mu.Lock()
	h, n := c.headLocked(), c.unreapedLocked()
	c.mu.Unlock()
	if h >= c.nr || n >= c.nr {
		t.Errorf("head %d, unreaped %d: want both below nr %d", h, n, c.nr)
	}
}

func TestKillWaitsForRequestsInFlightAndDropsTheirEvents(t *testing.T) {
	c := newTestContext(t)
	if err := c.Begin(); err != nil {
		t.Fatal(err)
	}
	c.kill()
	select {
	case <-c.idle:
		t.Fatalf("idle before the request in flight completed")
	default:
	}
	if err := c.Begin(); err == nil {
		t.Errorf("Begin on a dead context succeeded")
	}
	c.Complete(Event{Data: 7}, nil)
	<-c.idle
	if c.reg.nr != 0 {
		t.Errorf("aio-nr = %d after kill, want 0", c.reg.nr)
	}
}

func TestConcurrentCompletionsAndKill(t *testing.T) {
	c := newTestContext(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if c.Begin() != nil {
					c.mu.Lock()
					c.setHead(c.tail)
					c.mu.Unlock()
					continue
				}
				c.Complete(Event{Data: uint64(g*1000 + i)}, nil)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.kill()
	}()
	wg.Wait()
	<-c.idle
}
