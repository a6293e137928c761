package ptrace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/platform"
	"golang.org/x/sys/unix"
)

// The systrap platform (docs/platform.md, "systrap"): guest threads run
// untraced in the same stub processes, under a seccomp filter that turns
// each of their system calls into SIGSYS. The stub's own signal handler
// (systrap_amd64.s) records the trap in the thread's slot of a memory
// area shared with the Sentry, wakes the Sentry with a futex and waits on
// another; the Sentry reads and writes the registers in the signal frame
// the kernel built, and the handler returns into the guest with
// rt_sigreturn. Faults and the Sentry's kick work the same way. Mapping
// changes are requests to the stub's first thread (the server), which
// runs them and answers on a pipe only it can write to. ptrace is used
// only to create stubs: a new stub is forked by the master, set up by
// injected calls, and detached.

// Layout of the systrap area in every stub (see systrap_amd64.s): the
// request page at sysCtlAddr (read-only in the stub), a read-write
// scratch page after it, and 64 KiB thread slots from sysCtlAddr+0x10000.
const (
	sysCtlAddr  = 0x7ffff0000000
	sysSlotSize = 0x10000
	sysSlots    = (stubAddr - sysCtlAddr - sysSlotSize) / sysSlotSize
	sysAreaSize = sysSlotSize * (1 + sysSlots)
	sysScratch  = 0x1000

	// Request page.
	reqSeq    = 0
	reqN      = 4
	reqPipe   = 8
	reqOps    = 64
	reqOpSize = 64
	maxReqOps = (0x1000 - reqOps) / reqOpSize

	// Slot fields, as the handler writes and reads them.
	slotState    = 0
	slotSigno    = 8
	slotCode     = 12
	slotAddr     = 16
	slotUC       = 24
	slotResume   = 32
	slotArch     = 40
	slotSysno    = 44
	slotFSBase   = 48
	slotGSBase   = 56
	slotSetBases = 64
	slotStackT   = 72 // stack_t for sigaltstack, 24 bytes
	slotTID      = 96 // CLONE_PARENT_SETTID
	// The alternate signal stack, where the kernel builds trap frames,
	// and the first frame the Sentry builds for a new thread.
	slotAltStack   = 0x1000
	slotAltEnd     = 0xf000
	slotFirstUC    = 0x8000
	slotFirstFP    = 0x9000
	slotStartStack = 0xff00

	// Slot states.
	stateRun     = 1
	stateTrapped = 2
	stateExit    = 3

	// Entry points in the systrap code.
	systrapEntryServer   = 0
	systrapEntryHandler  = 8
	systrapEntryRestorer = 16
)

// ucontext layout (the kernel's struct ucontext and sigcontext, amd64).
const (
	ucFlags     = 0
	ucStack     = 16
	ucMcontext  = 40
	ucSigmask   = 296
	ucSize      = 304
	mcFPState   = 184
	ucFPXState  = 0x1 // UC_FP_XSTATE
	ucSigCtxSS  = 0x2 // UC_SIGCONTEXT_SS
	ucStrictSS  = 0x4 // UC_STRICT_RESTORE_SS
	fpMagic1    = 0x46505853
	fpMagic2    = 0x46505845
	fpSwReserve = 464
)

// systrapSignals are the signals the handler takes: the filter's SIGSYS,
// the CPU's faults and traps, and the Sentry's kick. Every other signal
// is ignored in stubs.
var systrapSignals = []unix.Signal{unix.SIGSYS, unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP, kickSignal}

// sysThreadCloneFlags are the flags the server clones guest threads with.
const sysThreadCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID

// errStubGone reports a stub process that died under the Sentry.
var errStubGone = errors.New("systrap: the stub process is gone")

// systrapImage is what the systrap platform adds to the stub page.
type systrapImage struct {
	code  []byte
	guest []unix.SockFilter
}

// put writes the code and data into the stub page image img.
func (s *systrapImage) put(img []byte) error {
	if len(s.code) > maxSystrapCode {
		return fmt.Errorf("ptrace: systrap code of %d bytes is longer than %d", len(s.code), maxSystrapCode)
	}
	if len(s.guest) > maxGuestFilter {
		return fmt.Errorf("ptrace: systrap guest filter of %d instructions is longer than %d", len(s.guest), maxGuestFilter)
	}
	copy(img[stubSystrap:], s.code)
	le := binary.LittleEndian
	var mask uint64
	for _, sig := range systrapSignals {
		mask |= 1 << (uint(sig) - 1)
	}
	putAct := func(at int, handler uint64, flags uint64, mask uint64) {
		le.PutUint64(img[at:], handler)
		le.PutUint64(img[at+8:], flags)
		le.PutUint64(img[at+16:], stubAddr+stubSystrap+systrapEntryRestorer)
		le.PutUint64(img[at+24:], mask)
	}
	const saSiginfo, saOnstack, saRestorer = 0x4, 0x08000000, 0x04000000
	putAct(sysActTrap, stubAddr+stubSystrap+systrapEntryHandler, saSiginfo|saOnstack|saRestorer, mask)
	putAct(sysActIgnore, 1 /* SIG_IGN */, saRestorer, 0)
	le.PutUint64(img[sysMaskAll:], ^uint64(0))
	copy(img[sysMemfdName:], "palisade-systrap\x00")
	putFilter(img, sysGuestFprog, sysGuestFilter, s.guest)
	return nil
}

// Systrap is the systrap platform.
type Systrap struct {
	master    *master
	xsize     int
	xfeatures uint64
}

var (
	_ platform.Platform        = (*Systrap)(nil)
	_ platform.MemoryBarrierer = (*Systrap)(nil)
)

// NewSystrap starts the systrap platform's master stub. memFD is the
// memory file. opts.StubFilter is replaced by the platform's own program
// (systrapStubFilter), which must tell the stub's instructions from the
// guest's by address.
func NewSystrap(memFD int, opts Options) (*Systrap, error) {
	code, err := loadSystrapCode()
	if err != nil {
		return nil, err
	}
	guest, err := systrapGuestFilter()
	if err != nil {
		return nil, err
	}
	if opts.StubFilter, err = systrapStubFilter(); err != nil {
		return nil, err
	}
	opts.systrap = &systrapImage{code: code, guest: guest}
	if err := quietStopNotifications(); err != nil {
		return nil, fmt.Errorf("SIGCHLD action: %w", err)
	}
	m, err := startMaster(memFD, opts)
	if err != nil {
		return nil, err
	}
	return &Systrap{master: m, xsize: m.xsize, xfeatures: m.xfeatures}, nil
}

// setupSystrapMaster gives the master stub, and so every stub forked from
// it, the handler for the trap signals and SIG_IGN for every other
// signal (a terminal's SIGINT to the process group must not kill stubs).
func setupSystrapMaster(t *thread) error {
	trap := map[unix.Signal]bool{}
	for _, s := range systrapSignals {
		trap[s] = true
	}
	for sig := unix.Signal(1); sig <= 64; sig++ {
		if sig == unix.SIGKILL || sig == unix.SIGSTOP {
			continue
		}
		act := uintptr(stubAddr + sysActIgnore)
		if trap[sig] {
			act = stubAddr + sysActTrap
		}
		if _, err := t.syscall(unix.SYS_RT_SIGACTION, uintptr(sig), act, 0, 8); err != nil {
			return fmt.Errorf("ptrace: systrap master rt_sigaction(%d): %w", sig, err)
		}
	}
	return nil
}

// FPLayout implements platform.Platform.FPLayout.
func (p *Systrap) FPLayout() (int, uint64) { return p.xsize, p.xfeatures }

// MinUserAddress implements platform.Platform.
func (*Systrap) MinUserAddress() uint64 { return 0x10000 }

// MaxUserAddress implements platform.Platform: the systrap area lies
// above.
func (*Systrap) MaxUserAddress() uint64 { return sysCtlAddr }

// MemoryBarrier implements platform.MemoryBarrierer.
func (*Systrap) MemoryBarrier() error { return hostMemoryBarrier() }

// CanMemoryBarrier implements platform.MemoryBarrierer.
func (*Systrap) CanMemoryBarrier() bool { return canHostMemoryBarrier() }

// NewContext implements platform.Platform.
func (p *Systrap) NewContext() (platform.Context, error) {
	return &sysContext{p: p}, nil
}

// NewAddressSpace implements platform.Platform: a stub forked by the
// master, set up while traced by the calling thread, then detached.
func (p *Systrap) NewAddressSpace() (platform.AddressSpace, error) {
	pid, err := p.master.fork()
	if err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t, err := attach(pid)
	if err != nil {
		return nil, err
	}
	as, err := p.setupStub(t)
	if err != nil {
		t.kill()
		return nil, err
	}
	return as, nil
}

// setupStub makes the freshly attached stub t a systrap address space:
// the area's memfd and its mappings, the server's pipe, then the server
// itself, untraced.
func (p *Systrap) setupStub(t *thread) (*sysAS, error) {
	memfd, err := t.syscall(unix.SYS_MEMFD_CREATE, stubAddr+sysMemfdName, 0)
	if err != nil {
		return nil, fmt.Errorf("systrap: stub memfd_create: %w", err)
	}
	if _, err := t.syscall(unix.SYS_FTRUNCATE, memfd, sysAreaSize); err != nil {
		return nil, fmt.Errorf("systrap: stub ftruncate: %w", err)
	}
	if _, err := t.syscall(unix.SYS_MMAP, sysCtlAddr, 0x1000, unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED, memfd, 0); err != nil {
		return nil, fmt.Errorf("systrap: mapping the request page: %w", err)
	}
	if _, err := t.syscall(unix.SYS_MMAP, sysCtlAddr+sysScratch, 0x1000, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_FIXED, memfd, sysScratch); err != nil {
		return nil, fmt.Errorf("systrap: mapping the scratch page: %w", err)
	}
	if _, err := t.syscall(unix.SYS_PIPE2, sysCtlAddr+sysScratch, unix.O_DIRECT); err != nil {
		return nil, fmt.Errorf("systrap: stub pipe2: %w", err)
	}
	pidfd, err := unix.PidfdOpen(t.pid, 0)
	if err != nil {
		return nil, os.NewSyscallError("pidfd_open", err)
	}
	defer unix.Close(pidfd)
	myMemfd, err := unix.PidfdGetfd(pidfd, int(memfd), 0)
	if err != nil {
		return nil, os.NewSyscallError("pidfd_getfd", err)
	}
	mem, err := unix.Mmap(myMemfd, 0, sysAreaSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	unix.Close(myMemfd)
	if err != nil {
		return nil, os.NewSyscallError("mmap", err)
	}
	as := &sysAS{p: p, pid: t.pid, mem: mem, stubMemfd: memfd, pipe: -1, cs: t.initRegs.Cs, ss: t.initRegs.Ss}
	le := binary.LittleEndian
	rfd, wfd := le.Uint32(mem[sysScratch:]), le.Uint32(mem[sysScratch+4:])
	if as.pipe, err = unix.PidfdGetfd(pidfd, int(rfd), 0); err != nil {
		as.unmap()
		return nil, os.NewSyscallError("pidfd_getfd", err)
	}
	le.PutUint32(mem[reqPipe:], wfd)
	fail := func(err error) (*sysAS, error) {
		as.unmap()
		return nil, err
	}
	if _, err := t.syscall(unix.SYS_CLOSE, uintptr(rfd)); err != nil {
		return fail(fmt.Errorf("systrap: stub close: %w", err))
	}
	if _, err := t.syscall(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, stubAddr+sysMaskAll, 0, 8); err != nil {
		return fail(fmt.Errorf("systrap: stub rt_sigprocmask: %w", err))
	}
	regs := t.initRegs
	regs.Rip = stubAddr + stubSystrap + systrapEntryServer
	regs.Orig_rax = ^uint64(0)
	if err := setRegs(t.tid, &regs); err != nil {
		return fail(os.NewSyscallError("ptrace(PTRACE_SETREGS)", err))
	}
	if err := ptraceRaw(unix.PTRACE_DETACH, t.tid, 0, 0); err != nil {
		return fail(os.NewSyscallError("ptrace(PTRACE_DETACH)", err))
	}
	return as, nil
}

// sysAS is a systrap address space: a stub process whose first thread
// serves mapping requests and whose other threads run guest threads.
type sysAS struct {
	p   *Systrap
	pid int
	// mem is the Sentry's mapping of the systrap area (request page,
	// scratch page, slots); stubMemfd is the area's descriptor number
	// in the stub; pipe the read end of the server's answers.
	mem       []byte
	stubMemfd uintptr
	pipe      int
	// cs and ss are the stub's 64-bit user segment selectors.
	cs, ss uint64

	// mu serialises requests to the server and guards the fields below.
	mu  sync.Mutex
	seq uint32
	buf [4096]byte
	// nextSlot is the lowest slot never used; exiting holds slots whose
	// threads were told to exit (reusable once their state reads 0).
	nextSlot int
	exiting  []int
	// spare holds threads made by PrepareThread that no context has
	// taken yet.
	spare []*sysThread
	// live counts threads not yet dropped; released is set by Release.
	// The area stays mapped until both say nothing uses it.
	live     int
	released bool
	dead     bool
}

var (
	_ platform.AddressSpace = (*sysAS)(nil)
	_ platform.HostProcess  = (*sysAS)(nil)
)

// HostPID implements platform.HostProcess.
func (as *sysAS) HostPID() int {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released {
		return 0
	}
	return as.pid
}

// request has the server run ops in order and returns the first error.
// as.mu must be held.
func (as *sysAS) request(ops ...mapOp) error {
	if as.dead || as.released {
		return errStubGone
	}
	if len(ops) > maxReqOps {
		return fmt.Errorf("systrap: %d requests at once", len(ops))
	}
	le := binary.LittleEndian
	for i, op := range ops {
		b := as.mem[reqOps+reqOpSize*i:]
		le.PutUint64(b, uint64(op.nr))
		for j, a := range op.args {
			le.PutUint64(b[8+8*j:], uint64(a))
		}
		le.PutUint64(b[56:], uint64(op.aux))
	}
	le.PutUint32(as.mem[reqN:], uint32(len(ops)))
	as.seq++
	seq := word32(as.mem, reqSeq)
	seq.Store(as.seq)
	futexWake(seq)
	for {
		n, err := unix.Read(as.pipe, as.buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			as.dead = true
			return errStubGone
		}
		if n == 1 {
			return nil
		}
		return unix.Errno(n - 1)
	}
}

// MapFile implements platform.AddressSpace.MapFile.
func (as *sysAS) MapFile(addr, offset, length uint64, at platform.Access) error {
	return as.do(mapOp{nr: unix.SYS_MMAP, args: [6]uintptr{uintptr(addr), uintptr(length), uintptr(at.Prot()), unix.MAP_SHARED | unix.MAP_FIXED, stubMemFD, uintptr(offset)}})
}

// Protect implements platform.AddressSpace.Protect.
func (as *sysAS) Protect(addr, length uint64, at platform.Access) error {
	return as.do(mapOp{nr: unix.SYS_MPROTECT, args: [6]uintptr{uintptr(addr), uintptr(length), uintptr(at.Prot())}})
}

// Unmap implements platform.AddressSpace.Unmap.
func (as *sysAS) Unmap(addr, length uint64) error {
	return as.do(mapOp{nr: unix.SYS_MUNMAP, args: [6]uintptr{uintptr(addr), uintptr(length)}})
}

// UnmapAsync implements platform.AddressSpace.UnmapAsync: any thread can
// ask the server, so it is done at once.
func (as *sysAS) UnmapAsync(addr, length uint64, done func()) error {
	as.mu.Lock()
	if as.released || as.dead {
		as.mu.Unlock()
		done()
		return nil
	}
	err := as.requestChecked(mapOp{nr: unix.SYS_MUNMAP, args: [6]uintptr{uintptr(addr), uintptr(length)}})
	as.mu.Unlock()
	if err == nil {
		done()
	}
	return err
}

func (as *sysAS) do(op mapOp) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.requestChecked(op)
}

// requestChecked runs one mapping change after checking it stays below
// the systrap area. as.mu must be held.
func (as *sysAS) requestChecked(op mapOp) error {
	if err := checkOp(op); err != nil {
		return err
	}
	if end := uint64(op.args[0]) + uint64(op.args[1]); end > sysCtlAddr || end < uint64(op.args[0]) {
		return unix.EINVAL
	}
	return as.request(op)
}

// PrepareThread implements platform.AddressSpace.PrepareThread.
func (as *sysAS) PrepareThread() error {
	as.mu.Lock()
	defer as.mu.Unlock()
	t, err := as.newThreadLocked()
	if err != nil {
		return err
	}
	as.spare = append(as.spare, t)
	return nil
}

// UnprepareThread implements platform.AddressSpace.UnprepareThread.
func (as *sysAS) UnprepareThread() {
	as.mu.Lock()
	defer as.mu.Unlock()
	if n := len(as.spare); n > 0 {
		t := as.spare[n-1]
		as.spare = as.spare[:n-1]
		as.dropLocked(t)
	}
}

// takeThread returns a thread for a context entering the address space:
// a prepared one, or a new one.
func (as *sysAS) takeThread() (*sysThread, error) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if n := len(as.spare); n > 0 {
		t := as.spare[n-1]
		as.spare = as.spare[:n-1]
		return t, nil
	}
	return as.newThreadLocked()
}

// newThreadLocked has the server clone a guest thread into a free slot.
func (as *sysAS) newThreadLocked() (*sysThread, error) {
	slot := -1
	for i, s := range as.exiting {
		if word32(as.mem, sysSlotSize*(1+s)+slotState).Load() == 0 {
			slot = s
			as.exiting = append(as.exiting[:i], as.exiting[i+1:]...)
			break
		}
	}
	if slot < 0 {
		if as.nextSlot >= sysSlots {
			return nil, unix.EAGAIN
		}
		slot = as.nextSlot
		as.nextSlot++
	}
	off := sysSlotSize * (1 + slot)
	addr := uint64(sysCtlAddr + off)
	s := as.mem[off : off+sysSlotSize]
	clear(s[:0x100])
	le := binary.LittleEndian
	le.PutUint64(s[slotStackT:], addr+slotAltStack)
	le.PutUint64(s[slotStackT+16:], slotAltEnd-slotAltStack)
	err := as.request(
		mapOp{nr: unix.SYS_MMAP, args: [6]uintptr{uintptr(addr), sysSlotSize, unix.PROT_READ | unix.PROT_WRITE, unix.MAP_SHARED | unix.MAP_FIXED, as.stubMemfd, uintptr(off)}},
		mapOp{nr: unix.SYS_CLONE, args: [6]uintptr{sysThreadCloneFlags, uintptr(addr + slotStartStack), uintptr(addr + slotTID), uintptr(addr + slotState), 0}, aux: uintptr(addr)},
	)
	if err != nil {
		as.exiting = append(as.exiting, slot)
		return nil, err
	}
	as.live++
	return &sysThread{as: as, slot: s, addr: addr, tid: int(le.Uint32(s[slotTID:]))}, nil
}

// dropLocked tells t's stub thread to exit; its slot is reused once the
// kernel has cleared the state word at the thread's exit.
func (as *sysAS) dropLocked(t *sysThread) {
	st := t.state()
	st.Store(stateExit)
	futexWake(st)
	as.exiting = append(as.exiting, int((t.addr-sysCtlAddr)/sysSlotSize)-1)
	as.live--
	if as.released && as.live == 0 {
		as.unmap()
	}
}

// Release implements platform.AddressSpace.Release.
func (as *sysAS) Release() {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.released {
		return
	}
	as.released = true
	unix.Kill(as.pid, unix.SIGKILL)
	as.live -= len(as.spare)
	as.spare = nil
	if as.live == 0 {
		as.unmap()
	}
}

// unmap frees the Sentry's side of the area and the pipe.
func (as *sysAS) unmap() {
	if as.mem != nil {
		unix.Munmap(as.mem)
		as.mem = nil
	}
	if as.pipe >= 0 {
		unix.Close(as.pipe)
		as.pipe = -1
	}
}

// sysThread is one guest thread's stub thread and its slot.
type sysThread struct {
	as   *sysAS
	slot []byte
	addr uint64
	tid  int
	// started is set once the thread ran guest code; uc and fp locate
	// the signal frame of its last trap (stub addresses, checked).
	started bool
	uc, fp  uint64
	// fsBase and gsBase are the bases the thread's host thread has.
	fsBase, gsBase uint64
}

func (t *sysThread) state() *atomic.Uint32 { return word32(t.slot, slotState) }

// inSlot returns the offset in the slot of the stub range [a, a+n), which
// must lie in the alternate stack, or -1.
func (t *sysThread) inSlot(a, n uint64) int {
	if a < t.addr+slotAltStack || a+n > t.addr+slotAltEnd || a+n < a {
		return -1
	}
	return int(a - t.addr)
}

// sysContext runs guest threads on the systrap platform. Unlike ptrace
// contexts it is not tied to an OS thread.
type sysContext struct {
	p           *Systrap
	interrupted atomic.Bool
	running     atomic.Pointer[sysThread]
	cur         *sysThread
}

var _ platform.Context = (*sysContext)(nil)

// Interrupt implements platform.Context.Interrupt.
func (c *sysContext) Interrupt() {
	c.interrupted.Store(true)
	if t := c.running.Load(); t != nil {
		unix.Tgkill(t.as.pid, t.tid, kickSignal)
	}
}

// PullFP implements platform.Context.PullFP: Switch always leaves the FP
// state in st.
func (c *sysContext) PullFP(st *platform.State) error {
	st.FPValid = true
	return nil
}

// Release implements platform.Context.Release.
func (c *sysContext) Release() {
	if t := c.cur; t != nil {
		c.cur = nil
		t.as.mu.Lock()
		t.as.dropLocked(t)
		t.as.mu.Unlock()
	}
}

// Switch implements platform.Context.Switch.
func (c *sysContext) Switch(asi platform.AddressSpace, st *platform.State) (platform.Event, error) {
	as := asi.(*sysAS)
	t := c.cur
	if t == nil || t.as != as {
		c.Release()
		var err error
		if t, err = as.takeThread(); err != nil {
			return platform.Event{}, err
		}
		c.cur = t
	}
	for {
		if err := t.load(st, c.p); err != nil {
			return platform.Event{}, err
		}
		c.running.Store(t)
		if c.interrupted.Swap(false) {
			c.running.Store(nil)
			return platform.Event{Kind: platform.EventInterrupted}, nil
		}
		state := t.state()
		state.Store(stateRun)
		futexWake(state)
		err := t.wait()
		c.running.Store(nil)
		if err != nil {
			return platform.Event{}, err
		}
		ev, ok, err := t.event(st, c.p)
		if err != nil || ok {
			return ev, err
		}
	}
}

// wait returns once the thread has left guest code (its state is no
// longer stateRun), or an error if its stub is gone.
func (t *sysThread) wait() error {
	state := t.state()
	for state.Load() == stateRun {
		if err := futexWait(state, stateRun, time.Second); err == unix.ETIMEDOUT {
			if unix.Tgkill(t.as.pid, t.tid, 0) != nil {
				return errStubGone
			}
		}
	}
	return nil
}

// sigcontext register order (struct sigcontext_64), as offsets from the
// start of uc_mcontext.
func mcontextRegs(r *unix.PtraceRegs) []*uint64 {
	return []*uint64{&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15,
		&r.Rdi, &r.Rsi, &r.Rbp, &r.Rbx, &r.Rdx, &r.Rax, &r.Rcx, &r.Rsp, &r.Rip, &r.Eflags}
}

// load writes st into the thread's frame (a first frame for a thread that
// never ran) and names it for the handler's rt_sigreturn.
func (t *sysThread) load(st *platform.State, p *Systrap) error {
	le := binary.LittleEndian
	if !t.started {
		t.uc, t.fp = t.addr+slotFirstUC, t.addr+slotFirstFP
		u := t.slot[slotFirstUC:]
		clear(u[:ucSize])
		le.PutUint64(u[ucFlags:], ucFPXState|ucSigCtxSS|ucStrictSS)
		le.PutUint64(u[ucMcontext+mcFPState:], t.fp)
		f := t.slot[slotFirstFP : slotFirstFP+p.xsize+4]
		clear(f)
		if !st.FPValid || len(st.FP) != p.xsize {
			// The initial state: x87 control word and MXCSR defaults,
			// every component in its init state.
			le.PutUint16(f[0:], 0x37f)
			le.PutUint32(f[24:], 0x1f80)
		}
	}
	uo, fo := int(t.uc-t.addr), int(t.fp-t.addr)
	u := t.slot[uo : uo+ucSize]
	regs := st.Regs
	regs.Cs, regs.Ss = t.as.cs, t.as.ss
	mc := u[ucMcontext:]
	for i, r := range mcontextRegs(&regs) {
		le.PutUint64(mc[8*i:], *r)
	}
	le.PutUint16(mc[144:], uint16(regs.Cs))
	le.PutUint16(mc[150:], uint16(regs.Ss))
	le.PutUint64(u[ucSigmask:], 0)
	le.PutUint64(u[ucStack:], t.addr+slotAltStack)
	le.PutUint32(u[ucStack+8:], 0)
	le.PutUint64(u[ucStack+16:], slotAltEnd-slotAltStack)
	f := t.slot[fo : fo+p.xsize+4]
	if st.FPValid && len(st.FP) == p.xsize {
		copy(f, st.FP)
		// The standard (not compacted) format, only the components
		// the host enables: rt_sigreturn's XRSTOR would fault
		// otherwise.
		if p.xsize > 512+64 {
			le.PutUint64(f[512:], le.Uint64(f[512:])&p.xfeatures)
			clear(f[520:576])
		}
	}
	// The software-reserved bytes that make rt_sigreturn take the whole
	// XSAVE area.
	sw := f[fpSwReserve:]
	le.PutUint32(sw[0:], fpMagic1)
	le.PutUint32(sw[4:], uint32(p.xsize+4))
	le.PutUint64(sw[8:], p.xfeatures)
	le.PutUint32(sw[16:], uint32(p.xsize))
	clear(sw[20:48])
	le.PutUint32(f[p.xsize:], fpMagic2)
	var set uint32
	if st.Regs.Fs_base != t.fsBase || !t.started {
		le.PutUint64(t.slot[slotFSBase:], st.Regs.Fs_base)
		t.fsBase = st.Regs.Fs_base
		set |= 1
	}
	if st.Regs.Gs_base != t.gsBase || !t.started {
		le.PutUint64(t.slot[slotGSBase:], st.Regs.Gs_base)
		t.gsBase = st.Regs.Gs_base
		set |= 2
	}
	le.PutUint32(t.slot[slotSetBases:], set)
	le.PutUint64(t.slot[slotResume:], t.uc)
	t.started = true
	return nil
}

// event reads the trap the thread reported. ok is false for traps the
// guest must not see (signals sent to the stub from outside).
func (t *sysThread) event(st *platform.State, p *Systrap) (platform.Event, bool, error) {
	le := binary.LittleEndian
	if t.state().Load() == 0 {
		return platform.Event{}, false, errStubGone
	}
	uc := le.Uint64(t.slot[slotUC:])
	uo := t.inSlot(uc, ucSize)
	if uo < 0 {
		return t.misbehaved("frame at %#x", uc)
	}
	u := t.slot[uo : uo+ucSize]
	mc := u[ucMcontext:]
	fp := le.Uint64(mc[mcFPState:])
	fo := t.inSlot(fp, uint64(p.xsize)+4)
	if fo < 0 || fp%64 != 0 {
		return t.misbehaved("FP state at %#x", fp)
	}
	t.uc, t.fp = uc, fp
	for i, r := range mcontextRegs(&st.Regs) {
		*r = le.Uint64(mc[8*i:])
	}
	st.Regs.Cs, st.Regs.Ss = uint64(le.Uint16(mc[144:])), uint64(le.Uint16(mc[150:]))
	st.Regs.Orig_rax = ^uint64(0)
	if len(st.FP) != p.xsize {
		st.FP = make([]byte, p.xsize)
	}
	copy(st.FP, t.slot[fo:fo+p.xsize])
	st.FPValid = true

	signo := unix.Signal(le.Uint32(t.slot[slotSigno:]))
	code := int32(le.Uint32(t.slot[slotCode:]))
	addr := le.Uint64(t.slot[slotAddr:])
	ev := platform.Event{Signo: int(signo), Code: code, Addr: addr}
	if code <= 0 {
		// Sent by a process, not raised by the CPU or the filter.
		if signo == kickSignal {
			return platform.Event{Kind: platform.EventInterrupted}, true, nil
		}
		return ev, false, nil
	}
	switch {
	case signo == unix.SIGSYS && code == 1 /* SYS_SECCOMP */ && addr < vsyscallStart:
		st.Regs.Orig_rax = uint64(le.Uint32(t.slot[slotSysno:]))
		ev.Kind = platform.EventSyscall
	case signo == unix.SIGSEGV && code == linux.SI_KERNEL:
		ev.Kind = platform.EventSignal
	case signo == unix.SIGSEGV, signo == unix.SIGBUS:
		ev.Kind = platform.EventFault
	default:
		// SIGFPE, SIGILL, SIGTRAP, and a vsyscall-page call refused
		// with SIGSYS as on the ptrace platform.
		ev.Kind = platform.EventSignal
	}
	return ev, true, nil
}

// vsyscallStart is the start of the vsyscall page.
const vsyscallStart = 0xffffffffff600000

// misbehaved kills the stub process of a thread whose slot holds what the
// handler can't have written: the guest corrupted it.
func (t *sysThread) misbehaved(format string, args ...any) (platform.Event, bool, error) {
	unix.Kill(t.as.pid, unix.SIGKILL)
	return platform.Event{}, false, fmt.Errorf("systrap: stub %d killed: "+format, append([]any{t.as.pid}, args...)...)
}
