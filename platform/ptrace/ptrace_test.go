package ptrace

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"golang.org/x/sys/unix"
)

const codeAddr = 0x400000

// setup returns a platform, an address space with code mapped at codeAddr
// and a context for the calling (locked) thread.
func setup(t *testing.T, code []byte) (platform.AddressSpace, platform.Context) {
	t.Helper()
	p, codeOffset := newTestPlatform(t, code)
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	if err := as.MapFile(codeAddr, codeOffset, memory.PageSize, platform.Access{Read: true, Execute: true}); err != nil {
		t.Fatal(err)
	}
	ctx, err := p.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Release(); ctx.Release() })
	return as, ctx
}

// newTestPlatform starts a platform on a fresh memory file holding code in
// one page, and returns the page's offset in the file.
func newTestPlatform(t *testing.T, code []byte) (*Platform, uint64) {
	t.Helper()
	mf, err := memory.New("test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(mf.FD(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := mf.Allocate(memory.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	copy(mf.Bytes(r), code)
	return p, r.Start
}

// runToFirstSyscall sets up an address space running code and switches
// into it until its first system call.
func runToFirstSyscall(t *testing.T, code []byte) (platform.AddressSpace, platform.Context, platform.State) {
	t.Helper()
	as, ctx := setup(t, code)
	var st platform.State
	st.Regs.Rip = codeAddr
	if ev, err := ctx.Switch(as, &st); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("first switch: %v, %v", ev, err)
	}
	return as, ctx, st
}

func TestSyscallIsCaughtNotExecuted(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// mov eax, 62 (kill); mov edi, 0; mov esi, 9 (SIGKILL); syscall; syscall
	code := []byte{0xb8, 62, 0, 0, 0, 0xbf, 0, 0, 0, 0, 0xbe, 9, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x05}
	as, ctx := setup(t, code)
	var st platform.State
	st.Regs.Rip = codeAddr
	st.Regs.Eflags = 0x202
	for i := 0; i < 2; i++ {
		ev, err := ctx.Switch(as, &st)
		if err != nil {
			t.Fatalf("switch %d: %v", i, err)
		}
		if ev.Kind != platform.EventSyscall || st.Regs.Orig_rax != unix.SYS_KILL {
			t.Fatalf("switch %d: got %v with orig_rax %d, want syscall kill", i, ev, st.Regs.Orig_rax)
		}
		// The next syscall instruction reuses rax as its number.
		st.Regs.Rax = unix.SYS_KILL
	}
}

func TestFaultReportsAddress(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// mov rax, [0x500000]
	code := []byte{0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00}
	as, ctx := setup(t, code)
	var st platform.State
	st.Regs.Rip = codeAddr
	ev, err := ctx.Switch(as, &st)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != platform.EventFault || ev.Addr != 0x500000 {
		t.Fatalf("got %v, want fault at 0x500000", ev)
	}
}

func TestInterruptStopsSpinningGuest(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	code := []byte{0xeb, 0xfe} // jmp .
	as, ctx := setup(t, code)
	var st platform.State
	st.Regs.Rip = codeAddr
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				ctx.Interrupt()
				runtime.Gosched()
			}
		}
	}()
	defer close(done)
	ev, err := ctx.Switch(as, &st)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != platform.EventInterrupted {
		t.Fatalf("got %v, want interrupted", ev)
	}
}

func TestSecondThreadSharesAddressSpace(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// mov eax, 39 (getpid); syscall; jmp back
	code := []byte{0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7}
	as, ctx, st := runToFirstSyscall(t, code)
	if err := as.PrepareThread(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		ctx2, err := ctx.(*context).p.NewContext()
		if err != nil {
			done <- err
			return
		}
		var st2 platform.State
		st2.Regs.Rip = codeAddr
		ev, err := ctx2.Switch(as, &st2)
		if err == nil && (ev.Kind != platform.EventSyscall || st2.Regs.Orig_rax != unix.SYS_GETPID) {
			err = fmt.Errorf("second thread: got %v, orig_rax %d", ev, st2.Regs.Orig_rax)
		}
		ctx2.Release()
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The first thread still runs after the second one left.
	if ev, err := ctx.Switch(as, &st); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("first thread after second left: %v, %v", ev, err)
	}
}

func TestInterruptReturnsTheGuestsCurrentRegisters(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	code := []byte{0x48, 0xff, 0xc3, 0xeb, 0xfb} // loop: inc rbx; jmp loop
	as, ctx := setup(t, code)
	var st platform.State
	st.Regs.Rip = codeAddr
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				ctx.Interrupt()
				time.Sleep(200 * time.Microsecond)
			}
		}
	}()
	defer close(done)
	var last uint64
	// Some switches return before the guest runs (the interrupt was
	// already pending); keep going until it has made progress.
	for i := 0; i < 5000 && last < 1000; i++ {
		ev, err := ctx.Switch(as, &st)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != platform.EventInterrupted {
			t.Fatalf("got %v, want interrupted", ev)
		}
		// A stale register set would rewind the counter on the next
		// switch, so it must only ever grow.
		if st.Regs.Rbx < last {
			t.Fatalf("rbx went from %d back to %d: registers were not read after the interrupt", last, st.Regs.Rbx)
		}
		last = st.Regs.Rbx
	}
	if last == 0 {
		t.Errorf("rbx = 0 after 5000 interrupted runs: the guest's progress was lost")
	}
}

func TestNewAddressSpaceForksItsStubAtOnce(t *testing.T) {
	as, _ := setup(t, nil)
	pid := as.(*addressSpace).forked
	if pid == 0 {
		t.Fatal("NewAddressSpace made no stub process: a host out of processes would fail the first Switch, not the fork")
	}
	if err := unix.Kill(pid, 0); err != nil {
		t.Fatalf("stub %d: %v", pid, err)
	}
}

// stubThreads counts the threads of stub process pid.
func stubThreads(t *testing.T, pid int) int {
	t.Helper()
	d, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(d)
}

func TestUnprepareThreadEndsThePreparedThreadOnly(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	code := []byte{0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7} // getpid loop
	as, ctx, st := runToFirstSyscall(t, code)
	pid := as.(*addressSpace).pid
	if err := as.PrepareThread(); err != nil {
		t.Fatal(err)
	}
	if n := stubThreads(t, pid); n != 2 {
		t.Fatalf("%d stub threads after PrepareThread, want 2", n)
	}
	as.UnprepareThread()
	// The thread exits on its own once detached: wait for it (bounded).
	deadline := time.Now().Add(10 * time.Second)
	for stubThreads(t, pid) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d stub threads 10s after UnprepareThread, want 1", stubThreads(t, pid))
		}
		time.Sleep(time.Millisecond)
	}
	if len(as.(*addressSpace).spare) != 0 {
		t.Errorf("spare threads left: %v", as.(*addressSpace).spare)
	}
	// The process and its first thread are unharmed.
	if ev, err := ctx.Switch(as, &st); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("switch after UnprepareThread: %v, %v", ev, err)
	}
}

// TestInterruptStopsSpinningSecondThread interrupts a guest thread that
// spins in a stub thread other than the stub process's leader (a second
// guest thread, or a vfork child). The kick must name the stub process as
// the thread group: tgkill(tid, tid) fails for such a thread, and a guest
// that spins there could then never be stopped (exit_group, signals), so
// its sandbox never ended.
func TestInterruptStopsSpinningSecondThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// getpid: mov eax, 39; syscall; spin: jmp spin
	code := []byte{0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe}
	as, ctx, _ := runToFirstSyscall(t, code)
	if err := as.PrepareThread(); err != nil {
		t.Fatal(err)
	}
	type result struct {
		ev  platform.Event
		err error
	}
	ctx2c := make(chan platform.Context, 1)
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		ctx2, err := ctx.(*context).p.NewContext()
		if err != nil {
			done <- result{err: err}
			return
		}
		ctx2c <- ctx2
		var st2 platform.State
		st2.Regs.Rip = codeAddr + 7 // the spin
		ev, err := ctx2.Switch(as, &st2)
		ctx2.Release()
		done <- result{ev, err}
	}()
	var ctx2 platform.Context
	select {
	case ctx2 = <-ctx2c:
	case r := <-done:
		t.Fatalf("second thread: %v", r.err)
	}
	// Kick until the switch returns: the first kicks may come before
	// the second thread runs guest code (Switch then returns at once,
	// which is as good). The deadline only bounds a failure.
	deadline := time.After(60 * time.Second)
	for {
		ctx2.Interrupt()
		select {
		case r := <-done:
			if r.err != nil || r.ev.Kind != platform.EventInterrupted {
				t.Fatalf("second thread: got %v, %v; want interrupted", r.ev, r.err)
			}
			return
		case <-deadline:
			t.Fatal("a guest thread spinning in a stub thread that is not the stub's leader was never interrupted")
		case <-time.After(time.Millisecond):
		}
	}
}

// stubThreadState returns the state letter of host thread tid of process
// pid (/proc/PID/task/TID/stat), or 0 if it is gone.
func stubThreadState(pid, tid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if err != nil {
		return 0
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// waitThreadState waits until host thread tid of pid is in one of the
// states in want, and returns that state. The deadline only bounds a
// failure: the states wanted are ones the thread reaches by itself.
func waitThreadState(t *testing.T, pid, tid int, want string) byte {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s := stubThreadState(pid, tid)
		if s != 0 && strings.IndexByte(want, s) >= 0 {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d of stub %d: state %q, want one of %q", tid, pid, s, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNewStubLeavesNoGroupStop checks that a new stub never stops
// itself (a SIGSTOP would become a group stop whenever the stub runs
// before the Sentry thread that seizes it). The kernel keeps a group stop in effect until a SIGCONT: a thread
// the stub then adds joins it, in state T, instead of waiting in
// pause(2), and a thread that leaves ptrace to exit stops instead.
func TestNewStubLeavesNoGroupStop(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// getpid: mov eax, 39; syscall; jmp getpid
	p, codeOffset := newTestPlatform(t, []byte{0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7})
	pid, err := p.master.fork()
	if err != nil {
		t.Fatal(err)
	}
	// The stub is nobody's tracee yet: it waits in pause(2), never
	// stopped, so nothing puts its process in a group stop.
	if s := waitThreadState(t, pid, pid, "ST"); s != 'S' {
		t.Fatalf("new stub %d is in state %c before it is seized, want S (waiting in pause)", pid, s)
	}
	th, err := attach(pid)
	if err != nil {
		t.Fatal(err)
	}
	as := &addressSpace{p: p, pid: pid, threads: map[int]*thread{th.tracer: th}}
	ctx, err := p.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Release(); ctx.Release() })
	if err := as.MapFile(codeAddr, codeOffset, memory.PageSize, platform.Access{Read: true, Execute: true}); err != nil {
		t.Fatal(err)
	}
	var st platform.State
	st.Regs.Rip = codeAddr
	if ev, err := ctx.Switch(as, &st); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("switch: %v, %v", ev, err)
	}
	if err := as.PrepareThread(); err != nil {
		t.Fatal(err)
	}
	as.mu.Lock()
	tid := as.spare[0]
	as.mu.Unlock()
	// A new stub thread waits in pause(2) (S) until a tracer claims it.
	if s := waitThreadState(t, pid, tid, "ST"); s != 'S' {
		t.Fatalf("new stub thread %d is in state %c, want S (waiting in pause): the stub's group stop is still in effect", tid, s)
	}
}

// TestStopsRaiseNoSIGCHLD checks that the platform asks the kernel not to
// signal the Sentry for every stub stop, keeping the Go runtime's handler.
func TestStopsRaiseNoSIGCHLD(t *testing.T) {
	before, err := sigchldAction()
	if err != nil {
		t.Fatal(err)
	}
	if err := quietStopNotifications(); err != nil {
		t.Fatal(err)
	}
	after, err := sigchldAction()
	if err != nil {
		t.Fatal(err)
	}
	if after.flags&saNoCldStop == 0 {
		t.Errorf("SIGCHLD flags %#x: no SA_NOCLDSTOP", after.flags)
	}
	if after.handler != before.handler || after.flags&^saNoCldStop != before.flags&^saNoCldStop || after.mask != before.mask {
		t.Errorf("SIGCHLD action changed beyond SA_NOCLDSTOP: %+v -> %+v", before, after)
	}
}
