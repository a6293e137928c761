package ptrace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

// Unit tests of the systrap platform (issue 13). Guest code is written
// into pages of a memory file and mapped at codeAddr, as in
// ptrace_test.go. Every Switch is bounded (sysSwitch): a Switch that
// never returns is a failure of the platform, not of the test, and the
// bound only limits how long a failing run takes.

// sysHang bounds a Switch that should return on its own or after an
// Interrupt. It is not a speed requirement: a correct platform returns
// within milliseconds even on a loaded machine.
const sysHang = 30 * time.Second

// sysKnownBugs runs the tests of known bugs instead of skipping them
// (SYSTRAP_BUGS=1 go test -run Systrap ./platform/ptrace/).
var sysKnownBugs = os.Getenv("SYSTRAP_BUGS") != ""

func sysSkipBug(t *testing.T, msg string) {
	t.Helper()
	if !sysKnownBugs {
		t.Skip("BUG: " + msg + " (SYSTRAP_BUGS=1 runs it)")
	}
}

// sysEnv is one systrap platform on its own memory file.
type sysEnv struct {
	p  *Systrap
	mf *memory.File
}

func newSysEnv(t *testing.T) *sysEnv {
	t.Helper()
	mf, err := memory.New("systrap-test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewSystrap(mf.FD(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &sysEnv{p: p, mf: mf}
}

// page allocates a page of the memory file holding b and returns its
// offset and the Sentry's view of it.
func (e *sysEnv) page(t *testing.T, b []byte) (uint64, []byte) {
	t.Helper()
	r, err := e.mf.Allocate(memory.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	v := e.mf.Bytes(r)
	copy(v, b)
	return r.Start, v
}

// space returns a new address space with code mapped read+execute at
// codeAddr, released at the end of the test.
func (e *sysEnv) space(t *testing.T, code []byte) *sysAS {
	t.Helper()
	off, _ := e.page(t, code)
	asi, err := e.p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(asi.Release)
	if err := asi.MapFile(codeAddr, off, memory.PageSize, platform.Access{Read: true, Execute: true}); err != nil {
		t.Fatal(err)
	}
	return asi.(*sysAS)
}

func (e *sysEnv) context(t *testing.T) *sysContext {
	t.Helper()
	c, err := e.p.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, stuck := sysStuck.Load(c); !stuck {
			c.Release()
		}
	})
	return c.(*sysContext)
}

// sysStuck holds the contexts whose Switch never returned, even after
// their stub was killed: they are never released.
var sysStuck sync.Map

type sysResult struct {
	ev  platform.Event
	err error
}

// sysSwitchAsync starts a Switch on a copy of st; the result, with the
// registers, comes back on the channel.
func sysSwitchAsync(ctx platform.Context, as platform.AddressSpace, st *platform.State) <-chan sysResult {
	cp := *st
	cp.FP = append([]byte(nil), st.FP...)
	done := make(chan sysResult, 1)
	go func() {
		ev, err := ctx.Switch(as, &cp)
		*st = cp
		done <- sysResult{ev, err}
	}()
	return done
}

// sysSwitch runs one Switch and fails the test if it does not return
// within sysHang. With kick set, it interrupts the context until the
// Switch returns.
func sysSwitch(t *testing.T, ctx platform.Context, as platform.AddressSpace, st *platform.State, kick bool) (platform.Event, error) {
	t.Helper()
	ret := make(chan sysResult, 1)
	var regs platform.State
	go func() {
		cp := *st
		cp.FP = append([]byte(nil), st.FP...)
		ev, err := ctx.Switch(as, &cp)
		regs = cp
		ret <- sysResult{ev, err}
	}()
	deadline := time.After(sysHang)
	var tick <-chan time.Time
	if kick {
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		tick = tk.C
		ctx.Interrupt()
	}
	for {
		select {
		case r := <-ret:
			*st = regs
			return r.ev, r.err
		case <-tick:
			ctx.Interrupt()
		case <-deadline:
			// Kill the stub so that the Switch returns before the
			// test's cleanup releases the context: releasing it under a
			// running Switch would unmap the slot that Switch reads.
			as.Release()
			select {
			case <-ret:
			case <-time.After(sysHang):
				sysStuck.Store(ctx, true)
			}
			t.Fatalf("Switch did not return within %v (kick=%v): the Sentry thread hangs", sysHang, kick)
		}
	}
}

// Guest code helpers (x86-64 machine code).
func movabs(reg int, v uint64) []byte {
	b := []byte{0x48, 0xb8 + byte(reg&7)}
	if reg >= 8 {
		b[0] = 0x49
	}
	return binary.LittleEndian.AppendUint64(b, v)
}

const (
	rAX, rCX, rDX, rBX, rSP, rBP, rSI, rDI = 0, 1, 2, 3, 4, 5, 6, 7
	r8, r9, r10, r11                       = 8, 9, 10, 11
)

var (
	insSyscall = []byte{0x0f, 0x05}
	insUD2     = []byte{0x0f, 0x0b}
	insSpin    = []byte{0xeb, 0xfe}
	insJmpR11  = []byte{0x41, 0xff, 0xe3}
	insInt80   = []byte{0xcd, 0x80}
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// sysThreadOf returns the stub thread running ctx's guest thread.
func sysThreadOf(t *testing.T, ctx *sysContext) *sysThread {
	t.Helper()
	if ctx.cur == nil {
		t.Fatal("context has no stub thread")
	}
	return ctx.cur
}

// procStatus returns field name of /proc/PID/task/TID/status.
func procStatus(t *testing.T, pid, tid int, name string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in status of %d/%d", name, pid, tid)
	return ""
}

// stubAlive reports whether stub process pid still runs (not gone, not a
// zombie waiting for the master to reap it).
func stubAlive(pid int) bool {
	s := stubThreadState(pid, pid)
	return s != 0 && s != 'Z' && s != 'X'
}

// stubChildren returns the children of every thread of stub pid.
func stubChildren(t *testing.T, pid int) string {
	t.Helper()
	d, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, e := range d {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			all = append(all, s)
		}
	}
	return strings.Join(all, " ")
}

// checkFreshSpaceWorks runs a getpid in a new address space and context
// of e: what one guest did must not break the platform for others.
func checkFreshSpaceWorks(t *testing.T, e *sysEnv) {
	t.Helper()
	as := e.space(t, cat(movabs(rAX, unix.SYS_GETPID), insSyscall, insUD2))
	ctx := e.context(t)
	var st platform.State
	st.Regs.Rip = codeAddr
	ev, err := sysSwitch(t, ctx, as, &st, false)
	if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Orig_rax != unix.SYS_GETPID {
		t.Fatalf("a fresh address space afterwards: %v, %v, orig_rax %d; want the getpid trapped", ev, err, st.Regs.Orig_rax)
	}
}

// TestSystrapEverySyscallTrapped runs every system call number 0..1023,
// as x86-64 and as x32 calls and with junk in rax's upper half, from
// guest code. Each must come back as a system call event at the
// instruction, with the number, and none may run in the host: the
// arguments make the calls with visible effects (kill of the stub,
// exit, exit_group, fork, pwrite64 to the memory file, seccomp) show it.
func TestSystrapEverySyscallTrapped(t *testing.T) {
	e := newSysEnv(t)
	// syscall; ud2: a call the host ran would continue into ud2.
	as := e.space(t, cat(insSyscall, insUD2))
	canaryOff, canary := e.page(t, nil)
	ctx := e.context(t)
	var st platform.State
	st.Regs.Rip = codeAddr
	st.Regs.Rax = unix.SYS_GETPID
	if ev, err := sysSwitch(t, ctx, as, &st, false); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("first switch: %v, %v", ev, err)
	}
	th := sysThreadOf(t, ctx)
	filters := procStatus(t, as.pid, th.tid, "Seccomp_filters")
	threads := stubThreads(t, as.pid)

	run := func(rax uint64, wantNr uint64) {
		t.Helper()
		st.Regs.Rip = codeAddr
		st.Regs.Rax = rax
		// kill(stub, SIGKILL), exit(0)...: the default arguments.
		st.Regs.Rdi = uint64(as.pid)
		st.Regs.Rsi = uint64(unix.SIGKILL)
		st.Regs.Rdx, st.Regs.R10, st.Regs.R8, st.Regs.R9 = 0, 0, 0, 0
		st.Regs.Rcx, st.Regs.R11 = 0x1111, 0x2222
		switch uint32(rax) & 0x3ff {
		case unix.SYS_WRITE:
			st.Regs.Rdi, st.Regs.Rsi, st.Regs.Rdx = stubMemFD, codeAddr, 2
		case unix.SYS_PWRITE64:
			st.Regs.Rdi, st.Regs.Rsi, st.Regs.Rdx, st.Regs.R10 = stubMemFD, codeAddr, 2, canaryOff
		case unix.SYS_EXIT, unix.SYS_EXIT_GROUP:
			st.Regs.Rdi = 0
		}
		ev, err := sysSwitch(t, ctx, as, &st, false)
		if err != nil {
			t.Fatalf("rax %#x: %v (the stub died: the call ran in the host?)", rax, err)
		}
		if exempt, ok := sysSeccompExempt(uint32(rax), ev, &st); ok {
			t.Logf("rax %#x: the host kernel does not filter this call (%s); got %v, rax %#x", rax, exempt, ev, st.Regs.Rax)
			return
		}
		if ev.Kind != platform.EventSyscall || st.Regs.Orig_rax != wantNr || st.Regs.Rip != codeAddr+2 {
			t.Fatalf("rax %#x: got %v, orig_rax %#x, rip %#x; want a syscall event, orig_rax %#x, rip %#x",
				rax, ev, st.Regs.Orig_rax, st.Regs.Rip, wantNr, codeAddr+2)
		}
		// The Sentry tells syscall from int 0x80 by these (sentry/kernel/int80.go).
		if st.Regs.Rcx != st.Regs.Rip || st.Regs.R11 != st.Regs.Eflags {
			t.Fatalf("rax %#x: rcx %#x r11 %#x, want rip %#x and eflags %#x as the syscall instruction left them",
				rax, st.Regs.Rcx, st.Regs.R11, st.Regs.Rip, st.Regs.Eflags)
		}
	}
	for nr := uint64(0); nr < 1024; nr++ {
		run(nr, nr)
	}
	for nr := uint64(0); nr < 1024; nr++ {
		run(nr|x32SyscallBit, nr|x32SyscallBit)
	}
	// The kernel takes the number from eax: junk above it must not make
	// the filter or the platform see another call.
	for _, nr := range []uint64{unix.SYS_GETPID, unix.SYS_KILL, unix.SYS_EXIT_GROUP, unix.SYS_MMAP} {
		run(0xdead_beef_0000_0000|nr, nr)
	}
	for _, rax := range []uint64{0xffffffff, 0x7fffffff, 0x80000000, ^uint64(0)} {
		run(rax, uint64(uint32(rax)))
	}

	if !stubAlive(as.pid) {
		t.Fatalf("stub %d is gone", as.pid)
	}
	if n := stubThreads(t, as.pid); n != threads {
		t.Errorf("stub has %d threads after the sweep, %d before: clone ran in the host", n, threads)
	}
	if c := stubChildren(t, as.pid); c != "" {
		t.Errorf("stub has children %s: fork/vfork/clone ran in the host", c)
	}
	if got := procStatus(t, as.pid, th.tid, "Seccomp_filters"); got != filters {
		t.Errorf("Seccomp_filters %s after the sweep, %s before: seccomp ran in the host", got, filters)
	}
	if !bytes.Equal(canary, make([]byte, len(canary))) {
		t.Errorf("pwrite64 wrote to the memory file: %x", canary[:8])
	}
	checkFreshSpaceWorks(t, e)
}

// sysSeccompExempt recognises the calls Linux 6.11 and later runs without
// asking any seccomp filter: uretprobe (335) and uprobe (336), meant only
// for the kernel's own uprobe trampolines (kernel/seccomp.c,
// seccomp_uprobe_exception; the kernel takes the number from eax). No
// filter can trap them; called from anywhere else uretprobe raises
// SIGILL (SI_KERNEL) right after the syscall instruction, and uprobe
// returns ENXIO, so the guest goes on into the ud2 after it. It reports
// whether ev, at codeAddr+2, is one of those outcomes.
func sysSeccompExempt(nr uint32, ev platform.Event, st *platform.State) (string, bool) {
	if ev.Kind != platform.EventSignal || ev.Signo != int(unix.SIGILL) || st.Regs.Rip != codeAddr+2 {
		return "", false
	}
	switch {
	case nr == 335 && ev.Code == 0x80: // SI_KERNEL
		return "uretprobe: SIGILL", true
	case nr == 336 && int64(st.Regs.Rax) == -int64(unix.ENXIO):
		return "uprobe: ENXIO, the guest went on to the ud2", true
	}
	return "", false
}

// TestSystrapInt80Trapped: int 0x80 from guest code runs no i386 call
// in the host (here i386 kill(stub, SIGKILL)). With IA32 emulation the
// filter traps it, and the Sentry must be able to tell it from a syscall
// instruction as sentry/kernel/int80.go does: rcx or r11 not what
// syscall leaves, cd 80 before rip. Without it the CPU faults.
func TestSystrapInt80Trapped(t *testing.T) {
	e := newSysEnv(t)
	as := e.space(t, cat(insInt80, insUD2))
	ctx := e.context(t)
	var st platform.State
	st.Regs.Rip = codeAddr
	st.Regs.Rax = 37 // i386 kill
	st.Regs.Rbx = uint64(as.pid)
	st.Regs.Rcx = uint64(unix.SIGKILL)
	st.Regs.R11 = 0x2222
	ev, err := sysSwitch(t, ctx, as, &st, false)
	if err != nil {
		t.Fatalf("int 0x80: %v (the stub died: the i386 kill ran in the host?)", err)
	}
	switch {
	case ev.Kind == platform.EventSyscall:
		if st.Regs.Rip != codeAddr+2 || st.Regs.Orig_rax != 37 {
			t.Fatalf("int 0x80: rip %#x orig_rax %d, want %#x and 37", st.Regs.Rip, st.Regs.Orig_rax, codeAddr+2)
		}
		if st.Regs.Rcx == st.Regs.Rip && st.Regs.R11 == st.Regs.Eflags {
			t.Fatalf("int 0x80 event looks like a syscall instruction's: rcx %#x r11 %#x", st.Regs.Rcx, st.Regs.R11)
		}
		if st.Regs.Rcx != uint64(unix.SIGKILL) || st.Regs.Rbx != uint64(as.pid) {
			t.Fatalf("int 0x80 changed the guest's registers: rcx %#x rbx %#x", st.Regs.Rcx, st.Regs.Rbx)
		}
	case ev.Signo == int(unix.SIGSEGV) && st.Regs.Rip == codeAddr:
		t.Logf("no IA32 emulation on this host: int 0x80 faults (%v)", ev)
	default:
		t.Fatalf("int 0x80: got %v at rip %#x", ev, st.Regs.Rip)
	}
	if !stubAlive(as.pid) {
		t.Fatalf("stub %d is gone", as.pid)
	}
	// And the thread goes on.
	st.Regs.Rip = codeAddr
	st.Regs.Rax = unix.SYS_GETPID
	if ev, err := sysSwitch(t, ctx, as, &st, false); err != nil || (ev.Kind != platform.EventSyscall && ev.Signo != int(unix.SIGSEGV)) {
		t.Fatalf("second int 0x80: %v, %v", ev, err)
	}
}

// TestSystrapFaultThenMap: a read of an unmapped page is a fault with
// its address at the instruction; once the page is mapped the guest
// reads it. Likewise a write to a read-only page until Protect.
func TestSystrapFaultThenMap(t *testing.T) {
	e := newSysEnv(t)
	const data = 0x500000
	// mov rbx, [data]; syscall; mov [data+8], rbx; syscall; ud2
	code := cat([]byte{0x48, 0x8b, 0x1c, 0x25, 0, 0, 0x50, 0}, insSyscall,
		[]byte{0x48, 0x89, 0x1c, 0x25, 8, 0, 0x50, 0}, insSyscall, insUD2)
	as := e.space(t, code)
	dataOff, dataView := e.page(t, binary.LittleEndian.AppendUint64(nil, 0x1122334455667788))
	ctx := e.context(t)
	var st platform.State
	st.Regs.Rip = codeAddr
	st.Regs.Rax = unix.SYS_GETPID
	ev, err := sysSwitch(t, ctx, as, &st, false)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != platform.EventFault || ev.Addr != data || ev.Signo != int(unix.SIGSEGV) || st.Regs.Rip != codeAddr {
		t.Fatalf("read of unmapped page: got %v at rip %#x, want a SIGSEGV fault at %#x, rip %#x", ev, st.Regs.Rip, data, codeAddr)
	}
	if err := as.MapFile(data, dataOff, memory.PageSize, platform.Read); err != nil {
		t.Fatal(err)
	}
	ev, err = sysSwitch(t, ctx, as, &st, false)
	if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Rip != codeAddr+10 {
		t.Fatalf("after MapFile: %v, %v, rip %#x; want the syscall after the load", ev, err, st.Regs.Rip)
	}
	if st.Regs.Rbx != 0x1122334455667788 {
		t.Fatalf("guest read %#x from the mapped page, want 0x1122334455667788", st.Regs.Rbx)
	}
	st.Regs.Rbx = 0xabcdef
	ev, err = sysSwitch(t, ctx, as, &st, false)
	if err != nil || ev.Kind != platform.EventFault || ev.Addr != data+8 || st.Regs.Rip != codeAddr+10 {
		t.Fatalf("write to a read-only page: %v, %v at rip %#x; want a fault at %#x", ev, err, st.Regs.Rip, data+8)
	}
	if err := as.Protect(data, memory.PageSize, platform.ReadWrite); err != nil {
		t.Fatal(err)
	}
	ev, err = sysSwitch(t, ctx, as, &st, false)
	if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Rip != codeAddr+20 {
		t.Fatalf("after Protect: %v, %v, rip %#x", ev, err, st.Regs.Rip)
	}
	if got := binary.LittleEndian.Uint64(dataView[8:]); got != 0xabcdef {
		t.Fatalf("the guest's store left %#x in the page, want 0xabcdef", got)
	}
}

// TestSystrapInterruptSpinningThreads: Interrupt stops a guest spinning
// in a loop, in the first and in a second (prepared) thread, and each
// goes on spinning afterwards.
func TestSystrapInterruptSpinningThreads(t *testing.T) {
	e := newSysEnv(t)
	// syscall; loop: inc rbx; jmp loop
	as := e.space(t, cat(insSyscall, []byte{0x48, 0xff, 0xc3, 0xeb, 0xfb}))
	const loop = codeAddr + 2
	ctx := e.context(t)
	var st platform.State
	// A first trap, so that the thread has run before anything else
	// (see TestSystrapNewThreadsKeepTheirSlots).
	st.Regs.Rip = codeAddr
	st.Regs.Rax = unix.SYS_GETPID
	if ev, err := sysSwitch(t, ctx, as, &st, false); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("first switch: %v, %v", ev, err)
	}
	for i := 0; i < 3; i++ {
		ev, err := sysSwitch(t, ctx, as, &st, true)
		if err != nil || ev.Kind != platform.EventInterrupted {
			t.Fatalf("first thread, switch %d: %v, %v; want interrupted", i, ev, err)
		}
		if st.Regs.Rip != loop && st.Regs.Rip != loop+3 {
			t.Fatalf("first thread interrupted at rip %#x, outside its loop", st.Regs.Rip)
		}
	}
	if err := as.PrepareThread(); err != nil {
		t.Fatal(err)
	}
	ctx2 := e.context(t)
	var st2 platform.State
	st2.Regs.Rip = codeAddr
	st2.Regs.Rax = unix.SYS_GETPID
	if ev, err := sysSwitch(t, ctx2, as, &st2, false); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("second thread's first switch: %v, %v", ev, err)
	}
	// Both spin at once; each interrupt must stop its own thread only.
	done1 := sysSwitchAsync(ctx, as, &st)
	for i := 0; i < 3; i++ {
		ev, err := sysSwitch(t, ctx2, as, &st2, true)
		if err != nil || ev.Kind != platform.EventInterrupted {
			t.Fatalf("second thread, switch %d: %v, %v; want interrupted", i, ev, err)
		}
	}
	select {
	case r := <-done1:
		t.Fatalf("the first thread's Switch returned (%v, %v) though only the second was interrupted", r.ev, r.err)
	default:
	}
	deadline := time.After(sysHang)
	for {
		ctx.Interrupt()
		select {
		case r := <-done1:
			if r.err != nil || r.ev.Kind != platform.EventInterrupted {
				t.Fatalf("first thread: %v, %v", r.ev, r.err)
			}
			if n := stubThreads(t, as.pid); n != 3 {
				t.Errorf("%d stub threads, want 3 (server and two guest threads)", n)
			}
			return
		case <-deadline:
			// Let the Switch end before the cleanup releases ctx.
			as.Release()
			<-done1
			t.Fatal("the first thread was never interrupted while a second one ran")
		case <-time.After(time.Millisecond):
		}
	}
}

// TestSystrapNewThreadsKeepTheirSlots: a stub thread the server has just
// cloned must run in the slot it was made for, however soon the Sentry
// sends the server its next request. Each round prepares two threads
// back to back, before either ran, then runs each to a system call.
func TestSystrapNewThreadsKeepTheirSlots(t *testing.T) {
	e := newSysEnv(t)
	code := cat(movabs(rAX, unix.SYS_GETPID), insSyscall, insSpin)
	for round := 0; round < 20; round++ {
		as := e.space(t, code)
		for i := 0; i < 2; i++ {
			if err := as.PrepareThread(); err != nil {
				t.Fatalf("round %d: PrepareThread %d: %v", round, i, err)
			}
		}
		for i := 0; i < 2; i++ {
			ctx := e.context(t)
			var st platform.State
			st.Regs.Rip = codeAddr
			ev, err := sysSwitch(t, ctx, as, &st, false)
			if err != nil || ev.Kind != platform.EventSyscall {
				t.Fatalf("round %d: prepared thread %d: %v, %v; want its getpid", round, i, ev, err)
			}
		}
		if n := stubThreads(t, as.pid); n != 3 {
			t.Fatalf("round %d: %d stub threads, want 3 (server and the two prepared threads)", round, n)
		}
		as.Release()
	}
}

// TestSystrapGuestSeccompTrapped: a guest's own seccomp(2) and
// prctl(PR_SET_SECCOMP) installing an allow-everything filter are
// trapped, and the stub thread's filter count stays what it was.
func TestSystrapGuestSeccompTrapped(t *testing.T) {
	e := newSysEnv(t)
	const prog = codeAddr + 0x800
	code := make([]byte, 0x820)
	copy(code, cat(insSyscall, insUD2))
	// struct sock_fprog at prog: one instruction, at prog+16.
	binary.LittleEndian.PutUint16(code[0x800:], 1)
	binary.LittleEndian.PutUint64(code[0x808:], prog+16)
	binary.LittleEndian.PutUint16(code[0x810:], unix.BPF_RET|unix.BPF_K)
	binary.LittleEndian.PutUint32(code[0x814:], unix.SECCOMP_RET_ALLOW)
	as := e.space(t, code)
	ctx := e.context(t)
	var st platform.State
	st.Regs.Rip = codeAddr
	st.Regs.Rax = unix.SYS_GETPID
	if ev, err := sysSwitch(t, ctx, as, &st, false); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("first switch: %v, %v", ev, err)
	}
	th := sysThreadOf(t, ctx)
	before := procStatus(t, as.pid, th.tid, "Seccomp_filters")
	if n, err := strconv.Atoi(before); err != nil || n < 2 {
		t.Fatalf("Seccomp_filters %q: want the stub's and the guest threads' filters", before)
	}
	for _, c := range []struct {
		name          string
		nr            uint64
		rdi, rsi, rdx uint64
	}{
		{"seccomp", unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, prog},
		{"seccomp TSYNC", unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, prog},
		{"prctl", unix.SYS_PRCTL, unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, prog},
		{"seccomp strict", unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_STRICT, 0, 0},
	} {
		st.Regs.Rip = codeAddr
		st.Regs.Rax, st.Regs.Rdi, st.Regs.Rsi, st.Regs.Rdx = c.nr, c.rdi, c.rsi, c.rdx
		ev, err := sysSwitch(t, ctx, as, &st, false)
		if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Orig_rax != c.nr || st.Regs.Rip != codeAddr+2 {
			t.Fatalf("%s: %v, %v, orig_rax %d, rip %#x; want it trapped", c.name, ev, err, st.Regs.Orig_rax, st.Regs.Rip)
		}
		if got := procStatus(t, as.pid, th.tid, "Seccomp_filters"); got != before {
			t.Fatalf("%s: Seccomp_filters went from %s to %s: the guest's call reached the host", c.name, before, got)
		}
	}
	// Still under the platform's filters: the next call traps too.
	st.Regs.Rip = codeAddr
	st.Regs.Rax = unix.SYS_GETPID
	if ev, err := sysSwitch(t, ctx, as, &st, false); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("getpid after the seccomp calls: %v, %v", ev, err)
	}
}

// TestSystrapFPRoundTrip: the Sentry sees the xmm0 the guest set in
// st.FP, and the guest sees the value the Sentry put there.
func TestSystrapFPRoundTrip(t *testing.T) {
	e := newSysEnv(t)
	// movq xmm0, rax; syscall; movq rbx, xmm0; syscall; ud2
	code := cat([]byte{0x66, 0x48, 0x0f, 0x6e, 0xc0}, insSyscall, []byte{0x66, 0x48, 0x0f, 0x7e, 0xc3}, insSyscall, insUD2)
	as := e.space(t, code)
	ctx := e.context(t)
	var st platform.State
	st.Regs.Rip = codeAddr
	st.Regs.Rax = 0x0123456789abcdef
	ev, err := sysSwitch(t, ctx, as, &st, false)
	if err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("first switch: %v, %v", ev, err)
	}
	if err := ctx.PullFP(&st); err != nil {
		t.Fatal(err)
	}
	size, _ := e.p.FPLayout()
	if !st.FPValid || len(st.FP) != size {
		t.Fatalf("FP state: valid %v, %d bytes; want %d", st.FPValid, len(st.FP), size)
	}
	// xmm0 is at byte 160 of the FXSAVE area.
	le := binary.LittleEndian
	if got := le.Uint64(st.FP[160:]); got != 0x0123456789abcdef {
		t.Fatalf("xmm0 low half in st.FP = %#x, want 0x0123456789abcdef", got)
	}
	if got := le.Uint64(st.FP[168:]); got != 0 {
		t.Fatalf("xmm0 high half in st.FP = %#x, want 0 (movq clears it)", got)
	}
	le.PutUint64(st.FP[160:], 0xfeedfacecafebeef)
	st.FPValid = true
	st.Regs.Rax = unix.SYS_GETPID
	ev, err = sysSwitch(t, ctx, as, &st, false)
	if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Rip != codeAddr+14 {
		t.Fatalf("second switch: %v, %v, rip %#x", ev, err, st.Regs.Rip)
	}
	if st.Regs.Rbx != 0xfeedfacecafebeef {
		t.Fatalf("guest read xmm0 = %#x, want the Sentry's 0xfeedfacecafebeef", st.Regs.Rbx)
	}
	if got := le.Uint64(st.FP[160:]); got != 0xfeedfacecafebeef {
		t.Fatalf("xmm0 in st.FP after the second trap = %#x", got)
	}
}

// Hostile guests. A guest owns its registers and every page it can
// write, including its thread's slot of the systrap area; it can jump
// anywhere, into the stub page too. Whatever it does, each Switch must
// return (an event, or an error once its stub is dead), its calls must
// never run in the host, and other address spaces must keep working.

// sysOutcome runs a Switch of a hostile guest, interrupting it until it
// returns, and checks that it ended with an event or a dead stub.
// A kick can come before the guest ran an instruction: Switch then
// returns at once, at the rip it was given. Unless st.Regs.Rip is a spin
// loop (spin), it switches again until the guest made progress.
func sysOutcome(t *testing.T, ctx *sysContext, as *sysAS, st *platform.State, spin bool) (platform.Event, error) {
	t.Helper()
	start := st.Regs.Rip
	deadline := time.Now().Add(sysHang)
	ev, err := sysSwitch(t, ctx, as, st, true)
	for !spin && err == nil && ev.Kind == platform.EventInterrupted && st.Regs.Rip == start {
		if time.Now().After(deadline) {
			t.Fatalf("the guest never ran between interrupts for %v", sysHang)
		}
		ev, err = sysSwitch(t, ctx, as, st, true)
	}
	if err != nil {
		// The stub is dead, or the Sentry kills it now (as the
		// Sentry does, by exiting the task and releasing its
		// address space).
		as.Release()
		deadline = time.Now().Add(sysHang)
		for stubAlive(as.pid) {
			if time.Now().After(deadline) {
				t.Fatalf("Switch failed (%v) but stub %d still runs", err, as.pid)
			}
			time.Sleep(time.Millisecond)
		}
	}
	return ev, err
}

// stubMaps returns /proc/PID/maps of a stub, "" if it is gone.
func stubMaps(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	return string(b)
}

// pipeReadable reports whether the server's answer pipe holds a packet.
func pipeReadable(as *sysAS) bool {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.pipe < 0 {
		return false
	}
	fds := []unix.PollFd{{Fd: int32(as.pipe), Events: unix.POLLIN}}
	n, _ := unix.Poll(fds, 0)
	return n > 0 && fds[0].Revents&unix.POLLIN != 0
}

// Offsets in the hostile guests' code page.
const (
	hostileSyscall = 0x00 // syscall; jmp . : the first trap makes the thread
	hostileStore   = 0x10 // mov [rdi], eax; syscall; jmp .
	hostileFill    = 0x20 // rep stosb; syscall; jmp .
	hostileJump    = 0x30 // mov rsp, rbx; jmp r11
	hostileReqPage = 0x40 // mov [sysCtlAddr], rax; syscall; jmp .
)

func hostileCode() []byte {
	code := make([]byte, 0x100)
	copy(code[hostileSyscall:], cat(insSyscall, insSpin))
	copy(code[hostileStore:], cat([]byte{0x89, 0x07}, insSyscall, insSpin))
	copy(code[hostileFill:], cat([]byte{0xf3, 0xaa}, insSyscall, insSpin))
	copy(code[hostileJump:], cat([]byte{0x48, 0x89, 0xdc}, insJmpR11))
	copy(code[hostileReqPage:], cat(binary.LittleEndian.AppendUint64([]byte{0x48, 0xa3}, sysCtlAddr), insSyscall, insSpin))
	return code
}

// hostileStart makes a thread in a new address space running
// hostileCode and returns it stopped at its first system call.
func hostileStart(t *testing.T, e *sysEnv) (*sysAS, *sysContext, *sysThread, *platform.State) {
	t.Helper()
	as := e.space(t, hostileCode())
	ctx := e.context(t)
	st := &platform.State{}
	st.Regs.Rip = codeAddr + hostileSyscall
	st.Regs.Rax = unix.SYS_GETPID
	if ev, err := sysSwitch(t, ctx, as, st, false); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("first switch: %v, %v", ev, err)
	}
	return as, ctx, sysThreadOf(t, ctx), st
}

// TestSystrapHostileSlotWrites: a guest that overwrites its own slot
// (state word, frame pointers, alternate stack) or stores into the
// read-only request page.
func TestSystrapHostileSlotWrites(t *testing.T) {
	e := newSysEnv(t)
	for _, c := range []struct {
		name string
		fill bool
		val  uint64
	}{
		{"state 0", false, 0},
		{"state run", false, stateRun},
		{"state trapped", false, stateTrapped},
		{"state exit", false, stateExit},
		{"fill 0x00", true, 0x00},
		{"fill 0x02", true, 0x02},
		{"fill 0x03", true, 0x03},
		{"fill 0xff", true, 0xff},
	} {
		t.Run(c.name, func(t *testing.T) {
			as, ctx, th, st := hostileStart(t, e)
			st.Regs.Rax = c.val
			st.Regs.Rdi = th.addr
			st.Regs.Rip = codeAddr + hostileStore
			if c.fill {
				st.Regs.Rip = codeAddr + hostileFill
				st.Regs.Rcx = sysSlotSize
			}
			for i := 0; i < 3; i++ {
				ev, err := sysOutcome(t, ctx, as, st, i > 0)
				t.Logf("switch %d: %v, %v", i, ev, err)
				if err != nil {
					break
				}
			}
			checkFreshSpaceWorks(t, e)
		})
	}
	t.Run("request page", func(t *testing.T) {
		as, ctx, _, st := hostileStart(t, e)
		st.Regs.Rip = codeAddr + hostileReqPage
		st.Regs.Rax = 0xdeadbeef
		ev, err := sysOutcome(t, ctx, as, st, false)
		if err != nil || ev.Kind != platform.EventFault || ev.Addr != sysCtlAddr || st.Regs.Rip != codeAddr+hostileReqPage {
			t.Fatalf("store to the request page: %v, %v at rip %#x; want a fault at %#x", ev, err, st.Regs.Rip, uint64(sysCtlAddr))
		}
		// The server still answers.
		off, _ := e.page(t, nil)
		if err := as.MapFile(0x600000, off, memory.PageSize, platform.ReadWrite); err != nil {
			t.Fatalf("MapFile after the guest's store: %v", err)
		}
		checkFreshSpaceWorks(t, e)
	})
}

// sysStubSyscalls returns the stub page offsets of every syscall
// instruction (and byte pair that decodes as one) in the stub's code.
func sysStubSyscalls(t *testing.T) []uint64 {
	t.Helper()
	code, err := loadSystrapCode()
	if err != nil {
		t.Fatal(err)
	}
	var offs []uint64
	for i := 0; i+1 < len(stubCode); i++ {
		if stubCode[i] == 0x0f && stubCode[i+1] == 0x05 {
			offs = append(offs, uint64(stubEntry+i))
		}
	}
	for i := 0; i+1 < len(code); i++ {
		if code[i] == 0x0f && code[i+1] == 0x05 {
			offs = append(offs, uint64(stubSystrap+i))
		}
	}
	if len(offs) < 5 {
		t.Fatalf("found only %d syscall instructions in the stub page", len(offs))
	}
	return offs
}

// TestSystrapHostileJumpIntoStub: a guest that jumps to each syscall
// instruction of the stub page with the registers of an mmap, a clone
// or a write to the server's pipe. The guest filter must kill the stub
// (or the call trap); the call must never run.
func TestSystrapHostileJumpIntoStub(t *testing.T) {
	e := newSysEnv(t)
	const probe = 0x600000
	calls := []struct {
		name string
		set  func(r *unix.PtraceRegs, as *sysAS)
		ran  func(as *sysAS, threads int) bool
	}{
		{"mmap", func(r *unix.PtraceRegs, as *sysAS) {
			r.Rax, r.Rdi, r.Rsi, r.Rdx = unix.SYS_MMAP, probe, memory.PageSize, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC
			r.R10, r.R8, r.R9 = unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED, ^uint64(0), 0
		}, func(as *sysAS, _ int) bool {
			return strings.Contains("\n"+stubMaps(as.pid), fmt.Sprintf("\n%x-", probe))
		}},
		{"clone", func(r *unix.PtraceRegs, as *sysAS) {
			r.Rax, r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8 = unix.SYS_CLONE, unix.CLONE_VM|unix.CLONE_THREAD|unix.CLONE_SIGHAND, 0, 0, 0, 0
		}, func(as *sysAS, threads int) bool {
			n, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", as.pid))
			return err == nil && len(n) > threads
		}},
		{"write to the server's pipe", func(r *unix.PtraceRegs, as *sysAS) {
			r.Rax, r.Rdi, r.Rsi, r.Rdx = unix.SYS_WRITE, uint64(binary.LittleEndian.Uint32(as.mem[reqPipe:])), codeAddr, 7
		}, func(as *sysAS, _ int) bool {
			return pipeReadable(as)
		}},
		// Calls the guest filter allows from the stub page: the thread
		// may end itself, or block, but a kick must still reach it.
		{"exit", func(r *unix.PtraceRegs, as *sysAS) {
			r.Rax, r.Rdi = unix.SYS_EXIT, 0
		}, func(*sysAS, int) bool { return false }},
		{"futex wait", func(r *unix.PtraceRegs, as *sysAS) {
			r.Rax, r.Rdi, r.Rsi, r.Rdx, r.R10 = unix.SYS_FUTEX, codeAddr+0x200, futexWaitOp, 0, 0
		}, func(*sysAS, int) bool { return false }},
	}
	for _, off := range sysStubSyscalls(t) {
		for _, c := range calls {
			t.Run(fmt.Sprintf("%s at %#x", c.name, off), func(t *testing.T) {
				as, ctx, _, st := hostileStart(t, e)
				threads := stubThreads(t, as.pid)
				c.set(&st.Regs, as)
				st.Regs.Rip = codeAddr + hostileJump
				st.Regs.R11 = stubAddr + off
				st.Regs.Rbx = 0 // no stack: the stub code needs none
				ev, err := sysOutcome(t, ctx, as, st, false)
				t.Logf("%v, %v, rip %#x", ev, err, st.Regs.Rip)
				if err == nil {
					if c.ran(as, threads) {
						t.Fatalf("%s from stub page offset %#x ran in the host (event %v at rip %#x)", c.name, off, ev, st.Regs.Rip)
					}
					if ev.Kind == platform.EventSyscall && st.Regs.Rip>>12 == stubAddr>>12 {
						t.Logf("trapped at rip %#x", st.Regs.Rip)
					}
				}
			})
		}
	}
	checkFreshSpaceWorks(t, e)
}

// forgedFrame writes at b a signal frame (ucontext, as rt_sigreturn
// reads it at the stack pointer) that returns to rip with the given
// signal mask and alternate stack.
func forgedFrame(b []byte, as *sysAS, rip, rsp, rax uint64, mask uint64, ssSP, ssFlags, ssSize uint64) {
	le := binary.LittleEndian
	clear(b[:ucSize])
	le.PutUint64(b[ucFlags:], ucSigCtxSS|ucStrictSS)
	le.PutUint64(b[ucStack:], ssSP)
	le.PutUint32(b[ucStack+8:], uint32(ssFlags))
	le.PutUint64(b[ucStack+16:], ssSize)
	var r unix.PtraceRegs
	r.Rip, r.Rsp, r.Rax, r.Eflags = rip, rsp, rax, 0x202
	mc := b[ucMcontext:]
	for i, p := range mcontextRegs(&r) {
		le.PutUint64(mc[8*i:], *p)
	}
	le.PutUint16(mc[144:], uint16(as.cs))
	le.PutUint16(mc[150:], uint16(as.ss))
	le.PutUint64(mc[mcFPState:], 0) // no FP state: rt_sigreturn resets it
	le.PutUint64(b[ucSigmask:], mask)
}

// TestSystrapHostileSigreturn: a guest that makes rt_sigreturn with a
// frame of its own, from its own code (trapped) or through the stub's
// restorer (allowed from the stub page), setting what the kernel takes
// from the frame: the signal mask, the alternate stack, the registers.
func TestSystrapHostileSigreturn(t *testing.T) {
	e := newSysEnv(t)
	const data = 0x700000
	const frame = data + 0x100
	const stack = 0x800000 // 64 KiB a forged alternate stack could use
	sig := func(s unix.Signal) uint64 { return 1 << (uint(s) - 1) }
	restorer := uint64(stubAddr + stubSystrap + systrapEntryRestorer)

	setup := func(t *testing.T) (*sysAS, *sysContext, *sysThread, *platform.State, []byte) {
		as, ctx, th, st := hostileStart(t, e)
		off, view := e.page(t, nil)
		if err := as.MapFile(data, off, memory.PageSize, platform.ReadWrite); err != nil {
			t.Fatal(err)
		}
		r, err := e.mf.Allocate(0x10000)
		if err != nil {
			t.Fatal(err)
		}
		if err := as.MapFile(stack, r.Start, 0x10000, platform.ReadWrite); err != nil {
			t.Fatal(err)
		}
		return as, ctx, th, st, view[frame-data:]
	}
	realStack := func(th *sysThread) (uint64, uint64, uint64) {
		return th.addr + slotAltStack, 0, slotAltEnd - slotAltStack
	}

	t.Run("from guest code", func(t *testing.T) {
		as, ctx, th, st, b := setup(t)
		sp, fl, sz := realStack(th)
		forgedFrame(b, as, stubAddr+stubEntry, frame, unix.SYS_MMAP, sig(kickSignal)|sig(unix.SIGSYS), sp, fl, sz)
		st.Regs.Rip = codeAddr + hostileSyscall
		st.Regs.Rax = unix.SYS_RT_SIGRETURN
		st.Regs.Rsp = frame
		ev, err := sysOutcome(t, ctx, as, st, false)
		if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Orig_rax != unix.SYS_RT_SIGRETURN || st.Regs.Rip != codeAddr+2 {
			t.Fatalf("rt_sigreturn from guest code: %v, %v, orig_rax %d, rip %#x; want it trapped", ev, err, st.Regs.Orig_rax, st.Regs.Rip)
		}
		checkFreshSpaceWorks(t, e)
	})
	t.Run("restorer to an mmap in the stub page", func(t *testing.T) {
		as, ctx, th, st, b := setup(t)
		sp, fl, sz := realStack(th)
		forgedFrame(b, as, stubAddr+stubEntry, frame, unix.SYS_MMAP, 0, sp, fl, sz)
		// The frame's other registers are 0: mmap(0, 0, ...) fails, but
		// it must not run at all.
		st.Regs.Rip, st.Regs.R11, st.Regs.Rbx = codeAddr+hostileJump, restorer, frame
		ev, err := sysOutcome(t, ctx, as, st, false)
		if err == nil {
			t.Logf("event %v at rip %#x", ev, st.Regs.Rip)
		}
		checkFreshSpaceWorks(t, e)
	})
	t.Run("restorer blocking SIGSYS", func(t *testing.T) {
		as, ctx, th, st, b := setup(t)
		sp, fl, sz := realStack(th)
		forgedFrame(b, as, codeAddr+hostileSyscall, frame, unix.SYS_GETPID, sig(unix.SIGSYS), sp, fl, sz)
		st.Regs.Rip, st.Regs.R11, st.Regs.Rbx = codeAddr+hostileJump, restorer, frame
		ev, err := sysOutcome(t, ctx, as, st, false)
		if err == nil && ev.Kind == platform.EventSyscall {
			t.Fatalf("got a syscall event though the guest blocked SIGSYS: %v", ev)
		}
		checkFreshSpaceWorks(t, e)
	})
	t.Run("restorer blocking the kick", func(t *testing.T) {
		sysSkipBug(t, "a guest that jumps to the stub's restorer (rt_sigreturn, allowed from the stub page) with a frame whose uc_sigmask blocks SIGURG, returning to a spin loop, can never be interrupted: Switch hangs for good")
		as, ctx, th, st, b := setup(t)
		sp, fl, sz := realStack(th)
		forgedFrame(b, as, codeAddr+hostileSyscall+2 /* jmp . */, frame, 0, sig(kickSignal), sp, fl, sz)
		st.Regs.Rip, st.Regs.R11, st.Regs.Rbx = codeAddr+hostileJump, restorer, frame
		sysOutcome(t, ctx, as, st, false)
		checkFreshSpaceWorks(t, e)
	})
	t.Run("restorer moving the alternate stack", func(t *testing.T) {
		sysSkipBug(t, "a guest that jumps to the stub's restorer with a frame whose uc_stack names guest memory makes the kernel build its next trap frames there: the handler then takes the guest's page as its slot (SP & ~0xffff), reports the trap there and waits there with SIGURG blocked, so the Sentry's Switch never sees the trap and no Interrupt ends it")
		as, ctx, _, st, b := setup(t)
		forgedFrame(b, as, codeAddr+hostileSyscall, frame, unix.SYS_GETPID, 0, stack, 0, 0x10000)
		st.Regs.Rip, st.Regs.R11, st.Regs.Rbx = codeAddr+hostileJump, restorer, frame
		sysOutcome(t, ctx, as, st, false)
		checkFreshSpaceWorks(t, e)
	})
	t.Run("restorer disabling the alternate stack", func(t *testing.T) {
		sysSkipBug(t, "a guest that jumps to the stub's restorer with a frame whose uc_stack is SS_DISABLE makes the kernel build its next trap frame on the guest's own stack: the handler then takes the guest's page as its slot and waits there with SIGURG blocked, so the Sentry's Switch never sees the trap and no Interrupt ends it")
		as, ctx, _, st, b := setup(t)
		// SS_DISABLE: the next trap frame goes on the guest's stack.
		forgedFrame(b, as, codeAddr+hostileSyscall, stack+0x8000, unix.SYS_GETPID, 0, 0, 2, 0)
		st.Regs.Rip, st.Regs.R11, st.Regs.Rbx = codeAddr+hostileJump, restorer, frame
		ev, err := sysOutcome(t, ctx, as, st, false)
		t.Logf("%v, %v", ev, err)
		checkFreshSpaceWorks(t, e)
	})
	t.Run("handler entry on a guest stack", func(t *testing.T) {
		// The guest calls the handler itself: it writes its "slot" in
		// guest memory and waits there, outside any signal handler,
		// so a kick must still reach it.
		as, ctx, _, st, _ := setup(t)
		st.Regs.Rip, st.Regs.R11, st.Regs.Rbx = codeAddr+hostileJump, stubAddr+stubSystrap+systrapEntryHandler, stack+0x8000
		ev, err := sysOutcome(t, ctx, as, st, false)
		t.Logf("%v, %v", ev, err)
		checkFreshSpaceWorks(t, e)
	})
}

// TestSystrapAVXRoundTrip: the upper half of ymm0 (XSAVE component 2,
// at byte 576 of the standard format) goes from the guest to st.FP and
// back, as xmm0 does in TestSystrapFPRoundTrip.
func TestSystrapAVXRoundTrip(t *testing.T) {
	if !cpu.X86.HasAVX2 {
		t.Skip("no AVX2 on this host")
	}
	e := newSysEnv(t)
	if _, features := e.p.FPLayout(); features&4 == 0 {
		t.Skip("the host does not enable AVX state")
	}
	code := cat(
		[]byte{0x66, 0x48, 0x0f, 0x6e, 0xc0}, // movq xmm0, rax
		[]byte{0xc4, 0xe2, 0x7d, 0x59, 0xc0}, // vpbroadcastq ymm0, xmm0
		insSyscall,
		[]byte{0xc4, 0xe3, 0x7d, 0x39, 0xc1, 0x01}, // vextracti128 xmm1, ymm0, 1
		[]byte{0x66, 0x48, 0x0f, 0x7e, 0xcb},       // movq rbx, xmm1
		insSyscall, insUD2)
	as := e.space(t, code)
	ctx := e.context(t)
	var st platform.State
	st.Regs.Rip = codeAddr
	st.Regs.Rax = 0x1122334455667788
	ev, err := sysSwitch(t, ctx, as, &st, false)
	if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Rip != codeAddr+12 {
		t.Fatalf("first switch: %v, %v, rip %#x", ev, err, st.Regs.Rip)
	}
	le := binary.LittleEndian
	if bv := le.Uint64(st.FP[512:]); bv&4 == 0 {
		t.Fatalf("XSTATE_BV %#x: no AVX state though ymm0's upper half is set", bv)
	}
	for i := 0; i < 2; i++ {
		if got := le.Uint64(st.FP[576+8*i:]); got != 0x1122334455667788 {
			t.Fatalf("ymm0 upper half, word %d, in st.FP = %#x, want 0x1122334455667788", i, got)
		}
	}
	le.PutUint64(st.FP[576:], 0x0badc0ffee0ddf00)
	st.FPValid = true
	st.Regs.Rax = unix.SYS_GETPID
	ev, err = sysSwitch(t, ctx, as, &st, false)
	if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Rip != codeAddr+25 {
		t.Fatalf("second switch: %v, %v, rip %#x", ev, err, st.Regs.Rip)
	}
	if st.Regs.Rbx != 0x0badc0ffee0ddf00 {
		t.Fatalf("guest read ymm0's upper half as %#x, want the Sentry's 0x0badc0ffee0ddf00", st.Regs.Rbx)
	}
}

// TestSystrapSwitchAfterRelease: a Switch into a released address space
// fails at once, and so do mapping changes; nothing waits on the dead
// stub.
func TestSystrapSwitchAfterRelease(t *testing.T) {
	e := newSysEnv(t)
	as := e.space(t, cat(movabs(rAX, unix.SYS_GETPID), insSyscall, insSpin))
	ctx := e.context(t)
	var st platform.State
	st.Regs.Rip = codeAddr
	if ev, err := sysSwitch(t, ctx, as, &st, false); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("first switch: %v, %v", ev, err)
	}
	as.Release()
	if ev, err := sysSwitch(t, ctx, as, &st, false); err == nil {
		t.Fatalf("Switch into a released address space: %v, no error", ev)
	}
	off, _ := e.page(t, nil)
	if err := as.MapFile(0x600000, off, memory.PageSize, platform.Read); err == nil {
		t.Fatal("MapFile into a released address space succeeded")
	}
	ctx2 := e.context(t)
	if ev, err := sysSwitch(t, ctx2, as, &st, false); err == nil {
		t.Fatalf("a new context's Switch into a released address space: %v, no error", ev)
	}
	checkFreshSpaceWorks(t, e)
}
