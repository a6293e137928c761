package ptrace

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// The stub is a one-page static ELF executable that runsc writes to a memfd
// and starts once, traced, as the master stub. Every other stub process is
// forked from the master. The page holds only the few instructions below;
// stubs run no other code of their own, and after start-up their address
// space holds nothing but this page and guest memory.
const (
	// stubAddr is where the stub page lives in every stub process. It sits
	// just below the top of the user address space, so the guest has the
	// whole range below it.
	stubAddr = 0x7ffffffe0000
	stubSize = 0x1000

	// stubMemFD is the descriptor number of the memory file in stubs.
	stubMemFD = 3

	// Offsets of the stub's code within the page (see stubCode).
	stubEntry       = 0x80
	stubSyscall     = stubEntry + 0x00 // syscall; int3
	stubForkSyscall = stubEntry + 0x10 // fork trampoline
	stubCloneThread = stubEntry + 0x40 // new-thread trampoline

	// stubFprog is the offset of the struct sock_fprog describing the
	// stub's seccomp filter, and stubFilter that of the filter's
	// instructions, which fill the rest of the page. They are data the
	// stub never executes: the Sentry points an injected seccomp(2) at
	// them (see installStubFilter).
	stubFprog  = 0x800
	stubFilter = stubFprog + 16
	// stubName is the offset of the 16-byte slot, at the end of the page,
	// where the Sentry writes (PTRACE_POKEDATA, which gives the stub
	// process a private copy of the page) the name it then makes the stub
	// take with an injected prctl(PR_SET_NAME) (see title.go). The guest
	// can read the slot, not write it: the page is read+execute.
	stubName = stubSize - 16
	// maxStubFilter is the longest filter that fits in the page.
	maxStubFilter = (stubName - stubFilter) / 8

	// stubSystrap is the offset of the systrap code (systrap_amd64.s),
	// in every stub page; only the systrap platform runs it. Its entry
	// points are at the systrapEntry* offsets from there.
	stubSystrap    = 0x100
	maxSystrapCode = stubSystrapData - stubSystrap
	// stubSystrapData is the offset of the systrap platform's data: the
	// signal actions, masks and names its injected set-up calls point at,
	// and the guest threads' seccomp filter. The code and the data are
	// read-only, like the whole page.
	stubSystrapData = 0x600
	sysActTrap      = stubSystrapData + 0x00 // struct sigaction: the trap handler
	sysActIgnore    = stubSystrapData + 0x20 // struct sigaction: SIG_IGN
	sysMaskAll      = stubSystrapData + 0x40 // sigset_t: every signal
	sysMemfdName    = stubSystrapData + 0x48 // "palisade-systrap"
	sysGuestFprog   = stubSystrapData + 0x60 // struct sock_fprog of the guest filter
	sysGuestFilter  = sysGuestFprog + 16     // the guest filter's instructions
	maxGuestFilter  = (stubFprog - sysGuestFilter) / 8
)

// stubCode is the machine code at stubEntry.
//
// At +0x00 an injected system call: the tracer loads the number and
// arguments into registers, points rip here and continues the stub; the
// int3 brings control back with the result in rax.
//
// At +0x10 the fork trampoline: the tracer injects fork(2) here. The parent
// (the master stub) traps back at once with the child's pid in rax. The
// child arranges to die with its parent (PR_SET_PDEATHSIG, SIGKILL) and
// then waits in pause(2), in the thread trampoline's loop, until a Sentry
// thread seizes and interrupts it. (It used to stop itself with SIGSTOP:
// that left the whole process marked stopped by job control, and a stub
// thread detached later stayed stopped instead of exiting.)
//
// At +0x40 the thread trampoline: the tracer injects clone(CLONE_THREAD...)
// here to add a thread to a stub process. The caller traps back with the
// new thread's tid; the new thread waits in pause(2) (it has no stack and
// needs none) until the Sentry thread that will run it seizes and
// interrupts it.
var stubCode = []byte{
	// +0x00
	0x0f, 0x05, // syscall
	0xcc, // int3
	0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
	// +0x10
	0x0f, 0x05, // syscall (fork)
	0x48, 0x85, 0xc0, // test rax, rax
	0x75, 0x28, // jnz +0x28 (to parent, +0x3f)
	0xbf, 0x01, 0x00, 0x00, 0x00, // mov edi, PR_SET_PDEATHSIG
	0xbe, 0x09, 0x00, 0x00, 0x00, // mov esi, SIGKILL
	0xb8, 0x9d, 0x00, 0x00, 0x00, // mov eax, SYS_prctl
	0x0f, 0x05, // syscall
	// +0x28:
	0xeb, 0x1d, // jmp wait
	0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
	0xcc, 0xcc, 0xcc, 0xcc,
	// +0x3f parent:
	0xcc, // int3
	// +0x40 thread trampoline:
	0x0f, 0x05, // syscall (clone)
	0x48, 0x85, 0xc0, // test rax, rax
	0x75, 0x09, // jnz +9 (to parent, +0x50)
	// +0x47 wait:
	0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, SYS_pause
	0x0f, 0x05, // syscall
	0xeb, 0xf7, // jmp wait
	// +0x50 parent:
	0xcc, // int3
}

// stubELF returns the stub executable: an ELF header, one PT_LOAD program
// header mapping the file read+execute at stubAddr, stubCode at stubEntry
// and, if filter is not empty, the seccomp program at stubFilter with its
// sock_fprog at stubFprog.
func stubELF(filter []unix.SockFilter, sys *systrapImage) ([]byte, error) {
	if len(filter) > maxStubFilter {
		return nil, fmt.Errorf("ptrace: stub seccomp filter of %d instructions is longer than %d", len(filter), maxStubFilter)
	}
	size := stubEntry + len(stubCode)
	if sys != nil {
		size = stubFprog
	}
	if len(filter) > 0 {
		size = stubFilter + 8*len(filter)
	}
	img := make([]byte, size)
	le := binary.LittleEndian
	// ELF header.
	copy(img, []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1 /* version */})
	le.PutUint16(img[16:], 2)                  // e_type = ET_EXEC
	le.PutUint16(img[18:], 62)                 // e_machine = EM_X86_64
	le.PutUint32(img[20:], 1)                  // e_version
	le.PutUint64(img[24:], stubAddr+stubEntry) // e_entry
	le.PutUint64(img[32:], 64)                 // e_phoff
	le.PutUint16(img[52:], 64)                 // e_ehsize
	le.PutUint16(img[54:], 56)                 // e_phentsize
	le.PutUint16(img[56:], 1)                  // e_phnum
	// Program header.
	ph := img[64:]
	le.PutUint32(ph[0:], 1)                 // PT_LOAD
	le.PutUint32(ph[4:], 5)                 // PF_R|PF_X
	le.PutUint64(ph[8:], 0)                 // p_offset
	le.PutUint64(ph[16:], stubAddr)         // p_vaddr
	le.PutUint64(ph[24:], stubAddr)         // p_paddr
	le.PutUint64(ph[32:], uint64(len(img))) // p_filesz
	le.PutUint64(ph[40:], stubSize)         // p_memsz
	le.PutUint64(ph[48:], stubSize)         // p_align
	copy(img[stubEntry:], stubCode)
	if sys != nil {
		if err := sys.put(img); err != nil {
			return nil, err
		}
	}
	putFilter(img, stubFprog, stubFilter, filter)
	return img, nil
}

// putFilter writes filter's instructions at offset at of img and, before
// them at fprog, the struct sock_fprog pointing at them, if filter is not
// empty.
func putFilter(img []byte, fprog, at int, filter []unix.SockFilter) {
	if len(filter) == 0 {
		return
	}
	le := binary.LittleEndian
	le.PutUint16(img[fprog:], uint16(len(filter)))   // sock_fprog.len
	le.PutUint64(img[fprog+8:], stubAddr+uint64(at)) // sock_fprog.filter
	for i, ins := range filter {
		b := img[at+8*i:]
		le.PutUint16(b[0:], ins.Code)
		b[2], b[3] = ins.Jt, ins.Jf
		le.PutUint32(b[4:], ins.K)
	}
}
