package linux

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"golang.org/x/sys/unix"
)

// dispatchRecovering calls d.Dispatch for nr with no task and returns what
// it panicked with, if anything.
func dispatchRecovering(d *Dispatcher, nr uint64) (panicked any, err error) {
	defer func() { panicked = recover() }()
	_, err = d.Dispatch(nil, nr, arch.SyscallArgs{})
	return nil, err
}

func TestTestOnlyPanicOnSyscallPanicsNamingTheCall(t *testing.T) {
	var d Dispatcher
	d.SetTestOnlyPanicOnSyscall(unix.SYS_SYNC)
	p, _ := dispatchRecovering(&d, unix.SYS_SYNC)
	if p == nil {
		t.Fatal("sync(2) did not panic with the test-only hook on it")
	}
	if msg := fmt.Sprint(p); !strings.Contains(msg, "sync (162)") {
		t.Errorf("panic %q does not name the syscall as \"sync (162)\"", msg)
	}
	// Other calls go on as before: an unknown number is ENOSYS.
	p, err := dispatchRecovering(&d, 100000)
	if p != nil || !errors.Is(err, unix.ENOSYS) {
		t.Errorf("syscall 100000 with the hook on sync: panic %v, error %v; want ENOSYS", p, err)
	}
}
