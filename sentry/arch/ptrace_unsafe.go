package arch

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// UserRegsSize is sizeof(struct user_regs_struct).
//
// SAFETY: Sizeof only measures the type; nothing is accessed.
const UserRegsSize = int(unsafe.Sizeof(unix.PtraceRegs{}))

// regWords views regs as the words of struct user_regs_struct.
func regWords(regs *unix.PtraceRegs) *[UserRegsSize / 8]uint64 {
	// SAFETY: unix.PtraceRegs is the kernel's user_regs_struct, 27
	// uint64 fields with no padding, so the array has its size and
	// alignment and covers exactly the struct.
	return (*[UserRegsSize / 8]uint64)(unsafe.Pointer(regs))
}
