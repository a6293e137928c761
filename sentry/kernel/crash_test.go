package kernel

import (
	"bytes"
	"errors"
	"log"
	"strings"
	"sync"
	"testing"

	"github.com/palisade-sandbox/palisade/platform"
	"golang.org/x/sys/unix"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// panickingHandler stands for a syscall handler with a bug: given nil, it
// dereferences it.
func panickingHandler(p *int) int { return *p + 1 }

// TestTaskPanicCrashesKernelNamingSyscall runs a panicking "handler" under
// the task goroutine's recovery, as the task loop does, while it serves
// sync(2) with Kernel.mu held (a panic may strike with any lock held).
func TestTaskPanicCrashesKernelNamingSyscall(t *testing.T) {
	var logs syncBuffer
	k := &Kernel{Log: log.New(&logs, "", 0)}
	select {
	case <-k.Crashed():
		t.Fatal("Crashed is closed before any crash")
	default:
	}
	go func() {
		var act taskActivity
		defer k.recoverTaskPanic(42, &act)
		act.set(platform.EventSyscall, unix.SYS_SYNC)
		k.mu.Lock()
		panickingHandler(nil)
	}()
	<-k.Crashed()
	reason := k.CrashReason()
	if reason == nil {
		t.Fatal("CrashReason is nil after the crash")
	}
	for _, want := range []string{"syscall sync (162)", "task 42", "nil pointer dereference"} {
		if !strings.Contains(reason.Error(), want) {
			t.Errorf("crash reason %q does not contain %q", reason, want)
		}
	}
	out := logs.String()
	for _, want := range []string{"E sandbox crashed: ", "syscall sync (162)", "goroutine ", "panickingHandler"} {
		if !strings.Contains(out, want) {
			t.Errorf("log does not contain %q (the syscall and the panicking goroutine's stack):\n%s", want, out)
		}
	}
	// A second crash keeps the first reason.
	k.Crash(errors.New("later"))
	if got := k.CrashReason(); got != reason {
		t.Errorf("CrashReason after a second crash = %v, want the first, %v", got, reason)
	}
}

func TestTaskActivityNamesWhatTheTaskServes(t *testing.T) {
	a := taskActivity{kind: activityOther, other: "task start"}
	for _, tc := range []struct {
		set  func()
		want string
	}{
		{func() {}, "task start"},
		{func() { a.set(platform.EventSyscall, unix.SYS_GETPID) }, "syscall getpid (39)"},
		{func() { a.set(platform.EventFault, 0x1000) }, "page fault at 0x1000"},
		{func() { a.setOther("signal delivery") }, "signal delivery"},
		{func() { a.set(platform.EventSyscall, 100000) }, "(100000)"},
	} {
		tc.set()
		if got := a.String(); !strings.Contains(got, tc.want) {
			t.Errorf("activity = %q, want it to contain %q", got, tc.want)
		}
	}
}
