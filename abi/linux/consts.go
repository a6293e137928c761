package linux

// Path limits. Linux: include/uapi/linux/limits.h, include/linux/namei.h.
const (
	// MaxPathLen is PATH_MAX: the longest path, including its NUL.
	MaxPathLen = 4096
	// MaxNameLen is NAME_MAX: the longest path component.
	MaxNameLen = 255
	// MaxSymlinkTraversals is MAXSYMLINKS: how many symlinks one path
	// walk may follow before failing with ELOOP.
	MaxSymlinkTraversals = 40
)

// O_LARGEFILE is the kernel's value of the flag. x/sys/unix defines it as
// 0 on amd64, as userspace headers do, but 64-bit kernels set this bit on
// every file opened by a 64-bit task and report it in F_GETFL.
const O_LARGEFILE = 0x8000

// futex(2) operations and flags. Linux: include/uapi/linux/futex.h.
const (
	FUTEX_WAIT            = 0
	FUTEX_WAKE            = 1
	FUTEX_FD              = 2
	FUTEX_REQUEUE         = 3
	FUTEX_CMP_REQUEUE     = 4
	FUTEX_WAKE_OP         = 5
	FUTEX_LOCK_PI         = 6
	FUTEX_UNLOCK_PI       = 7
	FUTEX_TRYLOCK_PI      = 8
	FUTEX_WAIT_BITSET     = 9
	FUTEX_WAKE_BITSET     = 10
	FUTEX_WAIT_REQUEUE_PI = 11
	FUTEX_CMP_REQUEUE_PI  = 12
	FUTEX_LOCK_PI2        = 13

	FUTEX_PRIVATE_FLAG   = 128
	FUTEX_CLOCK_REALTIME = 256
	// FUTEX_CMD_MASK extracts the operation from a futex op argument.
	FUTEX_CMD_MASK = ^(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)

	FUTEX_BITSET_MATCH_ANY = 0xffffffff
	FUTEX_WAITERS          = 0x80000000
	FUTEX_OWNER_DIED       = 0x40000000
	FUTEX_TID_MASK         = 0x3fffffff
)

// TASK_SIZE_MAX is the end of the x86-64 user address space with 4-level
// paging, one guard page below 2^47: segment bases at or above it are
// refused (arch_prctl EPERM), as the host refuses them.
const TASK_SIZE_MAX = 1<<47 - 4096

// arch_prctl(2) codes. Linux: arch/x86/include/uapi/asm/prctl.h.
const (
	ARCH_SET_GS               = 0x1001
	ARCH_SET_FS               = 0x1002
	ARCH_GET_FS               = 0x1003
	ARCH_GET_GS               = 0x1004
	ARCH_GET_CPUID            = 0x1011
	ARCH_SET_CPUID            = 0x1012
	ARCH_GET_XCOMP_SUPP       = 0x1021
	ARCH_GET_XCOMP_PERM       = 0x1022
	ARCH_REQ_XCOMP_PERM       = 0x1023
	ARCH_GET_XCOMP_GUEST_PERM = 0x1024
	ARCH_REQ_XCOMP_GUEST_PERM = 0x1025
	ARCH_MAP_VDSO_X32         = 0x2001
	ARCH_MAP_VDSO_32          = 0x2002
	ARCH_MAP_VDSO_64          = 0x2003
	ARCH_GET_UNTAG_MASK       = 0x4001
	ARCH_ENABLE_TAGGED_ADDR   = 0x4002
	ARCH_GET_MAX_TAG_BITS     = 0x4003
	ARCH_FORCE_TAGGED_SVA     = 0x4004
	ARCH_SHSTK_ENABLE         = 0x5001
	ARCH_SHSTK_DISABLE        = 0x5002
	ARCH_SHSTK_LOCK           = 0x5003
	ARCH_SHSTK_UNLOCK         = 0x5004
	ARCH_SHSTK_STATUS         = 0x5005
)

// Generic file ioctls. Linux: include/uapi/asm-generic/ioctls.h.
const (
	FIONREAD = 0x541b
	FIONBIO  = 0x5421
	FIONCLEX = 0x5450
	FIOCLEX  = 0x5451
	FIOASYNC = 0x5452
)
