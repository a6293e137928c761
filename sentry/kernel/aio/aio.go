// Package aio implements Linux native asynchronous I/O contexts
// (io_setup(2) and friends): a Context is a completion ring mapped into the
// process, whose guest address is the context's ID, as Linux's
// struct kioctx with its struct aio_ring. User space (libaio) reads the
// ring's header and may reap completions from it without a system call.
//
// Where requests run: reads, writes and syncs run synchronously, in the
// submitting task, which is what Linux does for buffered I/O (a read of
// an empty blocking pipe waits in io_submit there too); the submitter puts
// the completion in the ring before io_submit returns. Only IOCB_CMD_POLL
// waits in the background (one goroutine per context with pending polls,
// see Poll), and such a poll can always be cancelled, so io_destroy and
// exit never wait for a file.
//
// Lock order:
//
//	table.mu
//	  Context.mu
//	    mm.MemoryManager.mu (CopyOut of events)
//	    the locks of a polled file (its Readiness)
//	    waiter.Queue.mu
//	Registry.mu (a leaf)
package aio

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/eventfd"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

const (
	// DefaultMaxNR is /proc/sys/fs/aio-max-nr at boot: the events all
	// contexts of the sandbox may ask for together (Linux's default).
	DefaultMaxNR = 0x10000
	// HardMaxNR bounds what aio-max-nr may be set to (Linux takes any
	// value): the rings are Sentry-held memory, 64 bytes an event.
	HardMaxNR = 1 << 20

	// EventSize is sizeof(struct io_event); headerSize is sizeof(struct
	// aio_ring), the header before the events.
	EventSize  = 32
	headerSize = 32
	// maxRingEvents bounds the (doubled) ring size, as Linux's check
	// against 0x10000000 bytes of events.
	maxRingEvents = 0x10000000 / EventSize
	// minEvents is the least a context gets (Linux: 4 per possible CPU;
	// a fixed count here, so the ring does not depend on the host).
	minEvents = 8

	ringMagic = 0xa10a10a1
	// Offsets in the ring header.
	offID, offNR, offHead, offTail, offMagic, offCompat, offIncompat, offHeaderLen = 0, 4, 8, 12, 16, 20, 24, 28

	copyChunk = 128 // events copied out at a time
)

// Registry is the sandbox-wide accounting of /proc/sys/fs/aio-nr and
// aio-max-nr. Linux: aio_nr, aio_max_nr.
type Registry struct {
	mu sync.Mutex
	// nr is the sum of the contexts' nr_events. Protected by mu.
	nr uint64
	// maxNR is aio-max-nr. Protected by mu.
	maxNR uint64
}

var registries sync.Map // *kernel.Kernel -> *Registry

// For returns k's registry, made on first use.
func For(k *kernel.Kernel) *Registry {
	if r, ok := registries.Load(k); ok {
		return r.(*Registry)
	}
	r, _ := registries.LoadOrStore(k, &Registry{maxNR: DefaultMaxNR})
	return r.(*Registry)
}

// NR returns /proc/sys/fs/aio-nr.
func (r *Registry) NR() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nr
}

// MaxNR returns /proc/sys/fs/aio-max-nr.
func (r *Registry) MaxNR() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxNR
}

// SetMaxNR sets aio-max-nr: EINVAL above HardMaxNR. Contexts that hold
// more than a lowered limit keep their events.
func (r *Registry) SetMaxNR(n uint64) error {
	if n > HardMaxNR {
		return unix.EINVAL
	}
	r.mu.Lock()
	r.maxNR = n
	r.mu.Unlock()
	return nil
}

func (r *Registry) reserve(n uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nr+n > r.maxNR {
		return false
	}
	r.nr += n
	return true
}

func (r *Registry) release(n uint64) {
	r.mu.Lock()
	r.nr -= n
	r.mu.Unlock()
}

// ring is the memory of a context's completion ring, the mm.Mappable of
// its mapping. Linux: the pages of the aio_ring_file.
type ring struct {
	mf   *memory.File
	r    memory.Range
	refs refs.Count
}

var _ mm.SharedMappable = (*ring)(nil)

func (rg *ring) bytes() []byte { return rg.mf.Bytes(rg.r) }

// ReadAt implements mm.Mappable.ReadAt.
func (rg *ring) ReadAt(dst []byte, off int64) (int, error) {
	if off < 0 || uint64(off) >= rg.r.Length() {
		return 0, unix.EINVAL
	}
	return copy(dst, rg.bytes()[off:]), nil
}

// IncRef implements mm.Mappable.IncRef.
func (rg *ring) IncRef() { rg.refs.IncRef() }

// DecRef implements mm.Mappable.DecRef.
func (rg *ring) DecRef() {
	if rg.refs.DecRef() {
		rg.mf.DecRef(rg.r)
	}
}

// Name implements mm.Mappable.Name, as Linux names the ring in maps.
func (rg *ring) Name() string { return "/[aio] (deleted)" }

// DeviceInode implements mm.Mappable.DeviceInode.
func (rg *ring) DeviceInode() (uint64, uint64) { return 0, rg.r.Start / memory.PageSize }

// Translate implements mm.SharedMappable.Translate.
func (rg *ring) Translate(off, length uint64) (memory.Range, error) {
	if off >= rg.r.Length() {
		return memory.Range{}, fmt.Errorf("aio: ring offset %#x out of range", off)
	}
	end := min(off+length, rg.r.Length())
	r := memory.Range{Start: rg.r.Start + off, End: rg.r.Start + end}
	rg.mf.IncRef(r)
	return r, nil
}

// table is an address space's contexts (Linux: struct kioctx_table). It
// is the mm.Releaser the address space keeps.
type table struct {
	mu sync.Mutex
	// ctxs maps the rings' ids (aio_ring::id) to their contexts.
	// Protected by mu.
	ctxs map[uint32]*Context
	// nextID numbers the rings (aio_ring::id). Protected by mu.
	nextID uint32
}

// Release implements mm.Releaser: the address space is gone (Linux:
// exit_aio), so every context dies without waiting.
func (tb *table) Release() {
	tb.mu.Lock()
	ctxs := tb.ctxs
	tb.ctxs = nil
	tb.mu.Unlock()
	for _, c := range ctxs {
		c.kill()
	}
}

// Event is struct io_event.
type Event struct {
	Data, Obj uint64
	Res, Res2 int64
}

// Context is an AIO context. Linux: struct kioctx.
type Context struct {
	reg *Registry
	tb  *table
	// addr is the ring's guest address, the context's ID (Linux:
	// kioctx::user_id): where io_setup mapped it, then where a lookup
	// last found it (mremap moves it). Protected by tb.mu.
	addr uint64
	// size is the mapping's length. Immutable.
	size uint64
	// id is the ring header's id. Immutable.
	id uint32
	// maxReqs is what io_setup asked for, counted in aio-nr; nr the
	// ring's capacity in events. Immutable.
	maxReqs uint64
	nr      uint32
	ring    *ring

	// queue wakes io_getevents waiters when a completion arrives or the
	// context dies.
	queue waiter.Queue

	mu sync.Mutex
	// tail is the next ring slot to fill; the guest sees a copy in the
	// header. Protected by mu.
	tail uint32
	// inflight counts requests submitted and not completed. Protected
	// by mu.
	inflight uint32
	// dead is set by io_destroy or exit. Protected by mu.
	dead bool
	// polls are the pending (cancellable) IOCB_CMD_POLL requests by
	// iocb address. Protected by mu.
	polls map[uint64]*pollReq
	// polling is set while the poller goroutine runs. Protected by mu.
	polling bool
	// pollCh wakes the poller: the pending polls' files and changes to
	// polls signal it. Immutable.
	pollCh chan struct{}
	// idle is closed once dead and no request is in flight.
	idle chan struct{}
}

// Setup implements io_setup(2) after its pointer checks: it creates a
// context for nr events in t's address space, its ring mapped there.
func Setup(t *kernel.Task, nr uint32) (*Context, error) {
	if nr == 0 {
		return nil, unix.EINVAL
	}
	// In 32 bits, as Linux's ioctx_alloc: 2^31 and more wrap, 2^31
	// itself to 0 (EAGAIN there).
	events := uint64(max(nr, minEvents) * 2)
	if events > maxRingEvents {
		return nil, unix.EINVAL
	}
	reg := For(t.Kernel())
	if events == 0 || uint64(nr) > reg.MaxNR() {
		return nil, unix.EAGAIN
	}
	// Linux: "1 is required, 2 for good luck", then the rest of the
	// last page.
	size := (headerSize + (events+2)*EventSize + memory.PageSize - 1) &^ (memory.PageSize - 1)
	ringNR := (size - headerSize) / EventSize
	if !reg.reserve(uint64(nr)) {
		return nil, unix.EAGAIN
	}
	mf := t.Kernel().MemoryFile
	r, err := mf.Allocate(size)
	if err != nil {
		reg.release(uint64(nr))
		return nil, unix.ENOMEM
	}
	rg := &ring{mf: mf, r: r}
	rg.refs.Init(rg)
	// The header is complete before the guest can see the ring.
	b := rg.bytes()
	store32(b, offNR, uint32(ringNR))
	store32(b, offMagic, ringMagic)
	store32(b, offCompat, 1)
	store32(b, offIncompat, 0)
	store32(b, offHeaderLen, headerSize)
	m := t.MemoryManager()
	st := m.AIO(func() mm.Releaser { return &table{ctxs: make(map[uint32]*Context)} })
	tb, _ := st.(*table)
	if tb == nil {
		rg.DecRef()
		reg.release(uint64(nr))
		return nil, unix.EINVAL
	}
	rw := platform.Access{Read: true, Write: true}
	addr, err := m.MMap(mm.MMapOpts{Length: size, Perms: rw, MaxPerms: rw, File: rg})
	if err != nil {
		rg.DecRef()
		reg.release(uint64(nr))
		return nil, err
	}
	c := &Context{
		reg: reg, tb: tb, addr: addr, size: size, maxReqs: uint64(nr),
		nr: uint32(ringNR), ring: rg, polls: make(map[uint64]*pollReq), idle: make(chan struct{}),
		pollCh: make(chan struct{}, 1),
	}
	tb.mu.Lock()
	if tb.ctxs == nil {
		tb.mu.Unlock()
		m.Munmap(addr, size)
		rg.DecRef()
		reg.release(uint64(nr))
		return nil, unix.EINVAL
	}
	for tb.ctxs[tb.nextID] != nil {
		tb.nextID++ // wrapped: at most aio-max-nr are taken
	}
	c.id = tb.nextID
	tb.nextID++
	store32(b, offID, c.id)
	tb.ctxs[c.id] = c
	tb.mu.Unlock()
	return c, nil
}

// Capacity returns the ring's size in events (aio_ring::nr).
func (c *Context) Capacity() uint32 { return c.nr }

// ID returns the context's ID, the ring's guest address.
func (c *Context) ID() uint64 {
	c.tb.mu.Lock()
	defer c.tb.mu.Unlock()
	return c.addr
}

// Lookup returns t's context with ID id, or nil (EINVAL for the caller).
// As Linux's lookup_ioctx it reads the ring's id through the guest
// mapping, so a context whose ring was unmapped is not found, and one
// whose ring mremap moved is found at its new address only.
func Lookup(t *kernel.Task, id uint64) *Context {
	m := t.MemoryManager()
	tb, _ := m.AIO(nil).(*table)
	if tb == nil {
		return nil
	}
	var b [4]byte
	if _, err := t.CopyIn(id, b[:]); err != nil {
		return nil
	}
	tb.mu.Lock()
	c := tb.ctxs[binary.LittleEndian.Uint32(b[:])]
	tb.mu.Unlock()
	if c == nil {
		return nil
	}
	if f, off, ok := m.MappingAt(id); !ok || f != mm.Mappable(c.ring) || off != 0 {
		return nil
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.ctxs[c.id] != c {
		return nil // destroyed meanwhile
	}
	c.addr = id
	return c
}

// Destroy implements io_destroy(2): the context dies, its pending polls
// are cancelled, its ring is unmapped, and Destroy waits until no request
// is in flight (a signal ends the wait early; the context is dead anyway).
func (c *Context) Destroy(t *kernel.Task) error {
	c.tb.mu.Lock()
	if c.tb.ctxs == nil || c.tb.ctxs[c.id] != c {
		c.tb.mu.Unlock()
		return unix.EINVAL
	}
	delete(c.tb.ctxs, c.id)
	addr := c.addr
	c.tb.mu.Unlock()
	c.kill()
	t.MemoryManager().Munmap(addr, c.size)
	t.Block(c.idle)
	return nil
}

// kill marks c dead, gives its events back to aio-nr, cancels its polls
// and wakes its waiters. The caller has removed c from its table.
func (c *Context) kill() {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	polls := c.polls
	c.polls = make(map[uint64]*pollReq)
	if c.inflight == 0 {
		close(c.idle)
	}
	c.mu.Unlock()
	c.kickPoller()
	for _, p := range polls {
		p.ev.Res = 0
		c.finish(p)
	}
	c.reg.release(c.maxReqs)
	c.queue.Notify(unix.EPOLLIN)
	c.ring.DecRef()
}

// Begin reserves a ring slot for a request: EAGAIN if the ring would
// overflow (the ring's capacity less one, counting completions not yet
// reaped), EINVAL if the context died. Every successful Begin is followed
// by exactly one Complete or Abort.
func (c *Context) Begin() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return unix.EINVAL
	}
	if c.inflight+c.unreapedLocked() >= c.nr-1 {
		return unix.EAGAIN
	}
	c.inflight++
	return nil
}

// Abort gives back a slot Begin reserved for a request that failed to
// submit.
func (c *Context) Abort() {
	c.mu.Lock()
	c.doneLocked()
	c.mu.Unlock()
}

func (c *Context) doneLocked() {
	c.inflight--
	if c.dead && c.inflight == 0 {
		close(c.idle)
	}
}

// headLocked returns the ring head, as the guest left it, within bounds.
func (c *Context) headLocked() uint32 {
	return load32(c.ring.bytes(), offHead) % c.nr
}

func (c *Context) unreapedLocked() uint32 {
	return (c.tail + c.nr - c.headLocked()) % c.nr
}

// Complete posts ev for a request Begin admitted and, if efd is not nil
// (IOCB_FLAG_RESFD), adds 1 to that eventfd; it drops the reference on
// efd. Completions of a dead context are dropped.
func (c *Context) Complete(ev Event, efd *vfs.FileDescription) {
	c.mu.Lock()
	if !c.dead {
		b := c.ring.bytes()
		off := headerSize + int(c.tail)*EventSize
		binary.LittleEndian.PutUint64(b[off:], ev.Data)
		binary.LittleEndian.PutUint64(b[off+8:], ev.Obj)
		binary.LittleEndian.PutUint64(b[off+16:], uint64(ev.Res))
		binary.LittleEndian.PutUint64(b[off+24:], uint64(ev.Res2))
		c.tail = (c.tail + 1) % c.nr
		store32(b, offTail, c.tail)
	}
	c.doneLocked()
	c.mu.Unlock()
	c.queue.Notify(unix.EPOLLIN)
	if efd != nil {
		if e, ok := efd.Impl().(*eventfd.EventFD); ok {
			e.Signal(1)
		}
		efd.DecRef(context.Background())
	}
}

// GetEvents implements io_getevents(2) once its arguments are checked:
// it copies up to nr events to dst, waiting until it has minNR of them
// unless block is false, the deadline (if not zero) passes, or a signal
// comes (EINTR if it has none then). Events are taken only once they
// have been copied out; EFAULT leaves them in the ring.
func (c *Context) GetEvents(t *kernel.Task, minNR, nr int64, dst uint64, block bool, deadline time.Time) (int64, error) {
	ch := make(chan struct{}, 1)
	e := waiter.NewEntryOn(unix.EPOLLIN, ch)
	c.queue.EventRegister(e)
	defer c.queue.EventUnregister(e)
	var expired bool
	var expMu sync.Mutex
	if block && !deadline.IsZero() {
		timer := time.AfterFunc(time.Until(deadline), func() {
			expMu.Lock()
			expired = true
			expMu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		})
		defer timer.Stop()
	}
	var got int64
	for {
		n, dead, err := c.take(t, dst+uint64(got)*EventSize, nr-got)
		got += n
		if err != nil {
			if got > 0 {
				return got, nil
			}
			return 0, err
		}
		if got >= minNR || !block {
			return got, nil
		}
		if dead {
			if got > 0 {
				return got, nil
			}
			return 0, unix.EINVAL
		}
		expMu.Lock()
		exp := expired
		expMu.Unlock()
		if exp {
			return got, nil
		}
		if err := t.Block(ch); err != nil {
			if got > 0 {
				return got, nil
			}
			return 0, unix.EINTR
		}
	}
}

// take copies out up to max events from the ring and moves its head past
// them.
func (c *Context) take(t *kernel.Task, dst uint64, max int64) (int64, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return 0, true, nil
	}
	b := c.ring.bytes()
	head := c.headLocked()
	var got int64
	for got < max && head != c.tail {
		// Contiguous events up to the tail or the end of the ring.
		end := c.tail
		if end < head {
			end = c.nr
		}
		n := min(int64(end-head), max-got, copyChunk)
		src := b[headerSize+int(head)*EventSize : headerSize+(int(head)+int(n))*EventSize]
		if _, err := t.CopyOut(dst+uint64(got)*EventSize, src); err != nil {
			return got, false, unix.EFAULT
		}
		got += n
		head = (head + uint32(n)) % c.nr
		store32(b, offHead, head)
	}
	return got, false, nil
}

// pollReq is a pending IOCB_CMD_POLL. Linux: struct poll_iocb.
type pollReq struct {
	f      *vfs.FileDescription
	efd    *vfs.FileDescription
	entry  *waiter.Entry
	ev     Event
	events uint32
}

// finish unregisters p from its file, drops its file and posts its event.
func (c *Context) finish(p *pollReq) {
	p.f.EventUnregister(p.entry)
	p.f.DecRef(context.Background())
	c.Complete(p.ev, p.efd)
}

// kickPoller wakes the context's poller goroutine.
func (c *Context) kickPoller() {
	select {
	case c.pollCh <- struct{}{}:
	default:
	}
}

// Poll starts an IOCB_CMD_POLL request admitted by Begin: it completes
// at once if f is ready for events, else when it becomes so or the
// request is cancelled (with result 0). Poll takes over the references on
// f and efd.
//
// The pending polls of a context share one wake-up channel and one
// goroutine (running only while some are pending), which re-checks them
// all on every wake-up, as poll(2) does: so the Sentry runs at most one
// goroutine per context, whatever number of polls the guest queues.
func (c *Context) Poll(f *vfs.FileDescription, ev Event, events uint32, efd *vfs.FileDescription) {
	if r := f.Readiness(events) & events; r != 0 {
		f.DecRef(context.Background())
		ev.Res = int64(r)
		c.Complete(ev, efd)
		return
	}
	p := &pollReq{f: f, efd: efd, ev: ev, events: events, entry: waiter.NewEntryOn(^uint32(0), c.pollCh)}
	f.EventRegister(p.entry)
	c.mu.Lock()
	if c.dead || c.polls[ev.Obj] != nil {
		// Dead meanwhile, or the same iocb twice: complete at once.
		c.mu.Unlock()
		c.finish(p)
		return
	}
	c.polls[ev.Obj] = p
	start := !c.polling
	c.polling = true
	c.mu.Unlock()
	if start {
		go c.poller()
	}
	// The file may have become ready before the entry was registered.
	c.kickPoller()
}

// poller completes the pending polls whose files are ready; it ends when
// none is left.
func (c *Context) poller() {
	for range c.pollCh {
		c.mu.Lock()
		if len(c.polls) == 0 {
			c.polling = false
			c.mu.Unlock()
			return
		}
		var ready []*pollReq
		for obj, p := range c.polls {
			r := p.f.Readiness(^uint32(0))
			if r&p.events != 0 {
				// As Linux's wake-up path: what the file reports
				// beyond the events asked for (POLLRDNORM) shows.
				p.ev.Res = int64(r & (p.events | unix.EPOLLRDNORM | unix.EPOLLWRNORM))
				delete(c.polls, obj)
				ready = append(ready, p)
			}
		}
		c.mu.Unlock()
		for _, p := range ready {
			c.finish(p)
		}
	}
}

// Cancel implements io_cancel(2) for the request of the iocb at obj:
// EINPROGRESS for a pending poll (its completion, with result 0, goes to
// the ring), EINVAL for anything else (requests that ran at submission
// cannot be cancelled, as on Linux).
func (c *Context) Cancel(obj uint64) error {
	c.mu.Lock()
	p := c.polls[obj]
	if p == nil {
		c.mu.Unlock()
		return unix.EINVAL
	}
	delete(c.polls, obj)
	c.mu.Unlock()
	c.kickPoller()
	p.ev.Res = 0
	c.finish(p)
	return unix.EINPROGRESS
}
