// Package caps narrows the capabilities of the calling process, on every
// thread (syscall.AllThreadsSyscall, which needs a binary built without
// cgo): capabilities are per thread, and the Go runtime runs goroutines
// on many.
//
// The sandbox processes use it in two steps. DropBounding empties the
// bounding set but for what a process keeps, so that nothing it executes
// (the stubs that run guest code) gains more; Limit, once set-up that
// needed more is done, leaves exactly the kept capabilities in the
// permitted and effective sets and none in the inheritable and ambient
// ones.
package caps

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// lastCap is past every capability the kernel may know; dropping stops at
// the first one the kernel refuses with EINVAL.
const lastCap = 64

// DropBounding removes every capability but keep from the bounding set.
// The process's own permitted and effective sets are untouched.
func DropBounding(keep ...uintptr) error {
	for c := uintptr(0); c < lastCap; c++ {
		if contains(keep, c) {
			continue
		}
		_, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0)
		if e == syscall.EINVAL {
			return nil // past the last capability the kernel knows
		}
		if e != 0 {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, e)
		}
	}
	return nil
}

func contains(set []uintptr, c uintptr) bool {
	for _, s := range set {
		if s == c {
			return true
		}
	}
	return false
}
