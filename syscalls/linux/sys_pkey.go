package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

// Memory protection keys, as Linux serves them on a CPU without them
// (no PKU/OSPKE, which the Sentry does not expose): no key can be
// allocated, so none can be freed or used; pkey_mprotect with key -1 is
// mprotect (docs/memory.md).
func init() {
	full(unix.SYS_PKEY_ALLOC, PkeyAlloc)
	full(unix.SYS_PKEY_FREE, PkeyFree)
	full(unix.SYS_PKEY_MPROTECT, PkeyMprotect)
}

// pkeyAccessMask holds pkey_alloc's access rights (PKEY_DISABLE_ACCESS,
// PKEY_DISABLE_WRITE).
const pkeyAccessMask = 0x3

// PkeyAlloc implements pkey_alloc(2): unknown flags or rights are EINVAL,
// then there is no key to give (ENOSPC).
func PkeyAlloc(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	flags, initVal := args[0], args[1]
	if flags != 0 || initVal&^pkeyAccessMask != 0 {
		return 0, unix.EINVAL
	}
	return 0, unix.ENOSPC
}

// PkeyFree implements pkey_free(2): no key was allocated, so every key
// is EINVAL.
func PkeyFree(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, unix.EINVAL
}

// PkeyMprotect implements pkey_mprotect(2). Key -1 is mprotect(2); any
// other key was never allocated, which Linux finds after mprotect's own
// checks of the protection, the alignment and the range: an empty range
// succeeds, one that wraps is ENOMEM, the rest EINVAL.
func PkeyMprotect(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length, prot, pkey := args[0], args[1], args[2], intArg(args[3])
	if pkey == -1 {
		return Mprotect(t, args)
	}
	switch {
	case prot&(unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) == unix.PROT_GROWSDOWN|unix.PROT_GROWSUP:
		return 0, unix.EINVAL
	case addr%mmPageSize != 0:
		return 0, unix.EINVAL
	case length == 0:
		return 0, nil
	}
	aligned := (length + mmPageSize - 1) &^ (mmPageSize - 1)
	if aligned == 0 || addr+aligned <= addr {
		return 0, unix.ENOMEM
	}
	return 0, unix.EINVAL
}
