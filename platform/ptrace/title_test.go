package ptrace

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/sentry/memory"
)

// switchOnce runs the guest (a loop of syscall instructions at codeAddr)
// to its next system call.
func switchOnce(t *testing.T, as platform.AddressSpace, ctx platform.Context, st *platform.State) {
	t.Helper()
	ev, err := ctx.Switch(as, st)
	if err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("switch: %v, %v", ev, err)
	}
	st.Regs.Rip = codeAddr
	st.Regs.Rax = 39 // getpid, never executed
}

// hostView returns what the host shows of process pid: its comm, its
// command line, and ps's args column.
func hostView(t *testing.T, pid int) (comm, cmdline, args string) {
	t.Helper()
	c, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		t.Fatal(err)
	}
	l, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ps", "-o", "args=", "-p", fmt.Sprint(pid)).Output(); err == nil {
		args = strings.TrimSpace(string(out))
	} else {
		args = "(ps: " + err.Error() + ")"
	}
	return strings.TrimSuffix(string(c), "\n"), string(l), args
}

func TestHostTitle(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	code := []byte{0x0f, 0x05, 0x0f, 0x05} // syscall; syscall
	p, off := newTestPlatform(t, code)
	mapCode := func(as platform.AddressSpace) {
		if err := as.MapFile(codeAddr, off, memory.PageSize, platform.Access{Read: true, Execute: true}); err != nil {
			t.Fatal(err)
		}
	}
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	mapCode(as)
	ctx, err := p.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Release(); ctx.Release() })
	if p.title.end == 0 {
		t.Fatal("the master stub's argument area is not above the stub page: stubs can show no command line")
	}
	var st platform.State
	st.Regs.Rip = codeAddr
	st.Regs.Eflags = 0x202
	switchOnce(t, as, ctx, &st)
	pid := as.(platform.HostProcess).HostPID()

	// Before any title: the platform's name, and an empty command line
	// (so ps shows the name in brackets).
	comm, cmdline, args := hostView(t, pid)
	if cmdline != "" || args != "["+comm+"]" {
		t.Errorf("untitled stub: comm %q, cmdline %q, ps args %q; want an empty command line shown as [comm]", comm, cmdline, args)
	}

	titler := as.(platform.HostTitler)
	for _, tc := range []struct {
		comm, args            string
		wantComm, wantCmdline string
	}{
		{"sleep", "sleep 1000", "sleep", "sleep 1000\x00"},
		{"a-very-long-command-name", "x", "a-very-long-com", "x\x00"},
		// Shorter than before: nothing of the old one may show.
		{"sh", "", "sh", ""},
		{"bad\x00name", "nul\x00inside", "bad", "nul inside\x00"},
		{"long", strings.Repeat("y", 2*titleRoom), "long", strings.Repeat("y", titleRoom-2) + "\x00"},
		{"sleep", "sleep 999", "sleep", "sleep 999\x00"},
	} {
		titler.SetHostTitle(tc.comm, tc.args)
		switchOnce(t, as, ctx, &st)
		comm, cmdline, args := hostView(t, pid)
		if comm != tc.wantComm || cmdline != tc.wantCmdline {
			t.Errorf("SetHostTitle(%q, %q): host shows comm %q, cmdline %q; want %q, %q", tc.comm, tc.args, comm, cmdline, tc.wantComm, tc.wantCmdline)
		}
		if tc.args == "sleep 1000" && args != "sleep 1000" {
			t.Errorf("ps shows args %q, want \"sleep 1000\"", args)
		}
		if tc.args == "" && args != "[sh]" {
			t.Errorf("ps shows args %q for an empty command line, want [sh]", args)
		}
	}

	// A second stub, run by another OS thread, keeps its own title:
	// the pages written are each stub's own copies.
	as2, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer as2.Release()
	mapCode(as2)
	as2.(platform.HostTitler).SetHostTitle("other", "other process")
	ran, release := make(chan error), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		ctx2, err := p.NewContext()
		if err != nil {
			ran <- err
			return
		}
		defer ctx2.Release()
		st2 := platform.State{}
		st2.Regs.Rip = codeAddr
		st2.Regs.Eflags = 0x202
		ev, err := ctx2.Switch(as2, &st2)
		if err == nil && ev.Kind != platform.EventSyscall {
			err = fmt.Errorf("event %v", ev)
		}
		ran <- err
		<-release
	}()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	defer close(release)
	pid2 := as2.(platform.HostProcess).HostPID()
	if comm, cmdline, _ := hostView(t, pid2); comm != "other" || cmdline != "other process\x00" {
		t.Errorf("second stub shows %q, %q; want other, \"other process\"", comm, cmdline)
	}
	if comm, cmdline, _ := hostView(t, pid); comm != "sleep" || cmdline != "sleep 999\x00" {
		t.Errorf("first stub shows %q, %q after the second was named; want its own title", comm, cmdline)
	}
}
