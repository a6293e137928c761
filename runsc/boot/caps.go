package boot

import (
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Capabilities are dropped in two steps. boot needs its user namespace's
// capabilities only to set up its mounts and chroot; the Sentry then runs
// with none, so even inside its own namespaces a Sentry bug cannot mount,
// change IDs or reach other processes. Capabilities are per thread: the
// calls go to every thread (syscall.AllThreadsSyscall, which needs a binary
// built without cgo).

// dropBoundingSet empties the capability bounding set before the platform
// starts its master stub: a program executed with an empty bounding set
// gains no capabilities, even as root, so the stub processes that run
// guest code have none. The process's own effective set is untouched.
func dropBoundingSet() error {
	for c := 0; c < 64; c++ {
		_, _, e := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0)
		if e == syscall.EINVAL {
			return nil // past the last capability the kernel knows
		}
		if e != 0 {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, e)
		}
	}
	return nil
}

// dropCapabilities empties the remaining sets (ambient, permitted,
// effective, inheritable), once confinement is done.
func dropCapabilities() error {
	if _, _, e := syscall.AllThreadsSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0); e != 0 {
		return fmt.Errorf("clearing ambient capabilities: %w", e)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // all zero: no capabilities
	if _, _, e := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return fmt.Errorf("capset: %w", e)
	}
	return nil
}
