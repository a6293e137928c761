package memory

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mincore reports in vec, one byte a page, which pages of b are resident.
func mincore(b []byte, vec []byte) error {
	if len(b) == 0 || len(vec) < (len(b)+PageSize-1)/PageSize {
		return unix.EINVAL
	}
	// SAFETY: b is part of the Sentry's mapping of the memory file, which
	// stays mapped for the process's life; the kernel writes one byte per
	// page of b into vec, which is long enough (checked above).
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 {
		return e
	}
	return nil
}
