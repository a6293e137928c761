package network

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTakeOverRefusesTheInitialNamespace(t *testing.T) {
	initial, err := IsInitialNamespace()
	if err != nil {
		t.Fatal(err)
	}
	if !initial {
		t.Skip("not running in the host's initial network namespace")
	}
	if tk, err := TakeOver(""); err == nil {
		tk.Close()
		t.Fatal("TakeOver of the initial namespace succeeded")
	}
}

// In a fresh namespace (only a loopback, which is left alone) the
// take-over finds nothing to take.
func TestTakeOverOfAFreshNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	done := make(chan error, 1)
	go func() {
		// The thread never goes back: it exits with the goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		initial, err := IsInitialNamespace()
		if err == nil && initial {
			t.Errorf("a new namespace counts as the initial one")
		}
		tk, err := TakeOver("")
		if err == nil {
			if len(tk.Links) != 0 {
				t.Errorf("took over %+v in a namespace with only lo", tk.Links)
			}
			err = tk.Close()
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
