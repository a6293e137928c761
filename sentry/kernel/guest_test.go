package kernel

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/palisade-sandbox/palisade/platform/ptrace"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/tmpfs"
	"golang.org/x/sys/unix"
)

// A small harness that runs real guest code in a Kernel on the ptrace
// platform: a tmpfs root holding tiny static ELF programs written here in
// machine code, and a dispatcher serving the handful of syscalls they make.
// Each program counts its progress in the 8 bytes at counterAddr, which the
// test reads through the process's memory.

const (
	codeAddr    = 0x400000
	codeOffset  = 0x100
	counterAddr = 0x600000
	// sysGate is a syscall number Linux leaves unused: the test
	// dispatcher blocks it until the harness opens the gate.
	sysGate = 1000
)

// Guest programs.
var (
	// spin: inc qword [counterAddr]; jmp spin. Never leaves guest code
	// on its own.
	progSpin = []byte{0x48, 0xff, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0xeb, 0xf6}
	// sysloop: inc qword [counterAddr]; mov eax, 39 (getpid); syscall;
	// jmp sysloop.
	progSysLoop = []byte{0x48, 0xff, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xef}
	// gate: mov eax, sysGate; syscall; inc qword [counterAddr]; jmp
	// gate. Blocks in the Sentry until the gate opens.
	progGate = []byte{0xb8, 0xe8, 0x03, 0, 0, 0x0f, 0x05, 0x48, 0xff, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0xeb, 0xef}
	// exit7: mov edi, 7; mov eax, 231 (exit_group); syscall.
	progExit7 = []byte{0xbf, 7, 0, 0, 0, 0xb8, 231, 0, 0, 0, 0x0f, 0x05}
)

// staticELF returns an ELF executable running code at codeAddr+codeOffset,
// with a zeroed read-write page at counterAddr.
func staticELF(code []byte) []byte {
	const phnum = 2
	img := make([]byte, codeOffset+len(code))
	copy(img[codeOffset:], code)
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: codeAddr + codeOffset, Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: phnum,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	progs := [phnum]elf.Prog64{
		{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Off: 0, Vaddr: codeAddr,
			Paddr: codeAddr, Filesz: uint64(len(img)), Memsz: uint64(len(img)), Align: 0x1000},
		{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: 0, Vaddr: counterAddr,
			Paddr: counterAddr, Filesz: 0, Memsz: 0x1000, Align: 0x1000},
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, &hdr)
	binary.Write(&b, binary.LittleEndian, &progs)
	copy(img, b.Bytes())
	return img
}

// testDispatcher serves the test programs' syscalls.
type testDispatcher struct {
	mu   sync.Mutex
	gate chan struct{}
}

func (d *testDispatcher) openGate() {
	d.mu.Lock()
	defer d.mu.Unlock()
	close(d.gate)
}

func (d *testDispatcher) Dispatch(t *Task, nr uint64, args arch.SyscallArgs) (uint64, error) {
	switch nr {
	case unix.SYS_GETPID:
		return uint64(t.ThreadGroup().ID()), nil
	case unix.SYS_EXIT_GROUP:
		t.ExitGroup(WaitStatusExited(int(args[0] & 0xff)))
		return 0, ErrNoSysReturn
	case sysGate:
		d.mu.Lock()
		ch := d.gate
		d.mu.Unlock()
		if err := t.Block(ch); err != nil {
			return 0, err
		}
		return 0, nil
	}
	return 0, unix.ENOSYS
}

// guestKernel is a Kernel with the test programs in its root.
type guestKernel struct {
	*Kernel
	d *testDispatcher
}

// newGuestKernel starts a kernel on the ptrace platform with /spin,
// /sysloop, /gate and /exit7 in a tmpfs root. It skips the test where
// ptrace is not allowed.
func newGuestKernel(t *testing.T) *guestKernel {
	t.Helper()
	mf, err := memory.New("kernel-test")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := ptrace.New(mf.FD(), ptrace.Options{})
	if err != nil {
		t.Skipf("no ptrace platform here: %v", err)
	}
	ctx := vfs.WithCredentials(context.Background(), RootCredentials().VFS())
	v := vfs.New()
	fs, err := tmpfs.New(ctx, tmpfs.Options{Mem: mf, RootMode: 0o755})
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := v.NewMountNamespace(ctx, fs, 0)
	if err != nil {
		t.Fatal(err)
	}
	root := mounts.Root()
	defer root.DecRef(ctx)
	for name, code := range map[string][]byte{"spin": progSpin, "sysloop": progSysLoop, "gate": progGate, "exit7": progExit7} {
		fd, err := v.OpenAt(ctx, &vfs.PathOperation{Root: root, Start: root, Path: "/" + name},
			vfs.OpenOptions{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: 0o755})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fd.Write(ctx, staticELF(code)); err != nil {
			t.Fatal(err)
		}
		fd.DecRef(ctx)
	}
	d := &testDispatcher{gate: make(chan struct{})}
	k := New(Config{MemoryFile: mf, Platform: pl, VFS: v, Mounts: mounts, Syscalls: d, LogOutput: testLogWriter{t}})
	gk := &guestKernel{k, d}
	t.Cleanup(func() {
		// Kill everything and wait, so no task outlives the test.
		k.mu.Lock()
		for _, tg := range k.groups {
			if !tg.zombie {
				k.killGroupLocked(tg, WaitStatusSignaled(int(unix.SIGKILL), false))
			}
		}
		k.mu.Unlock()
		k.Resume()
		if k.init != nil {
			select {
			case <-k.done:
			case <-time.After(time.Minute):
				t.Errorf("the kernel's tasks did not exit within a minute of SIGKILL")
			}
		}
	})
	return gk
}

// testLogWriter sends the kernel's log to the test's.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// start starts /name as a process from outside (init the first time).
func (gk *guestKernel) start(t *testing.T, name string, creds *Credentials) *ThreadGroup {
	t.Helper()
	if creds == nil {
		creds = RootCredentials()
	}
	tg, err := gk.CreateProcess(CreateProcessArgs{
		Filename: "/" + name, Argv: []string{name, "arg1", "second arg"}, Envv: []string{"A=1"},
		WorkingDirectory: "/", Credentials: creds, Umask: 0o022, FDTable: NewFDTable(),
		Limits: defaultTestLimits(),
	})
	if err != nil {
		t.Fatalf("CreateProcess(%s): %v", name, err)
	}
	return tg
}

func defaultTestLimits() [unix.RLIMIT_RTTIME + 1]unix.Rlimit {
	var l [unix.RLIMIT_RTTIME + 1]unix.Rlimit
	for r := range l {
		unix.Getrlimit(r, &l[r])
	}
	return l
}

// counter reads tg's progress counter (0 if it can't).
func counter(t *testing.T, tg *ThreadGroup) uint64 {
	t.Helper()
	m := tg.MainTask()
	if m == nil {
		t.Fatalf("process %d has no live task", tg.ID())
	}
	mm := m.ProcMemoryManager()
	if mm == nil {
		return 0
	}
	var b [8]byte
	if _, err := mm.CopyIn(counterAddr, b[:]); err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b[:])
}

// waitFor polls cond until it holds, failing the test after a minute. It
// waits for an event, never for a duration.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitRunning waits until tg has made progress beyond since.
func waitRunning(t *testing.T, tg *ThreadGroup, since uint64) {
	t.Helper()
	waitFor(t, "process "+strconv.Itoa(int(tg.ID()))+" runs guest code", func() bool { return counter(t, tg) > since })
}

// stillFor checks that tg's counter does not move while a guest that ran
// would move it many times: it reads the counter, lets the guest's CPU
// time pass (a spinning guest increments it millions of times a second),
// and reads again.
func stillFor(t *testing.T, what string, tgs ...*ThreadGroup) {
	t.Helper()
	before := make([]uint64, len(tgs))
	for i, tg := range tgs {
		before[i] = counter(t, tg)
	}
	time.Sleep(100 * time.Millisecond)
	for i, tg := range tgs {
		if got := counter(t, tg); got != before[i] {
			t.Errorf("%s: process %d's counter moved from %d to %d while paused", what, tg.ID(), before[i], got)
		}
	}
}

// hostTracer returns the TracerPid of host process pid.
func hostTracer(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("host process %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "TracerPid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// pause pauses gk, failing the test if Pause does not return within a
// minute.
func (gk *guestKernel) pause(t *testing.T) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- gk.Pause() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Pause: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Pause did not return within a minute")
	}
}
