package seccomp

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompSetFilterTSync calls seccomp(SECCOMP_SET_MODE_FILTER,
// SECCOMP_FILTER_FLAG_TSYNC, prog). It returns the id of a thread that could
// not be synchronized, or 0 on success.
func seccompSetFilterTSync(prog []unix.SockFilter) (int, error) {
	if len(prog) == 0 || len(prog) > maxInstructions {
		return 0, unix.EINVAL
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	// SAFETY: fprog is a struct sock_fprog pointing at len(prog)
	// instructions; the kernel copies the program during the call and
	// keeps no pointer to either. KeepAlive holds prog until then.
	r, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
