package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

// Host administration: calls that act on the machine (modules, swap,
// kexec, I/O ports, process accounting, quotas, reboot). Linux checks
// them against capabilities in the initial user namespace (capable()),
// which a sandbox's root never has, as a container's root in a user
// namespace has not: they answer EPERM after the argument checks Linux
// makes first. reboot(2) is checked in the PID namespace's user namespace
// and ends the sandbox as it ends a container (docs/kernel.md).
func init() {
	full(unix.SYS_ACCT, Acct)
	full(unix.SYS_SWAPON, Swapon)
	full(unix.SYS_SWAPOFF, Swapoff)
	full(unix.SYS_REBOOT, Reboot)
	full(unix.SYS_IOPL, Iopl)
	full(unix.SYS_IOPERM, Ioperm)
	full(unix.SYS_INIT_MODULE, InitModule)
	full(unix.SYS_FINIT_MODULE, FinitModule)
	full(unix.SYS_DELETE_MODULE, DeleteModule)
	full(unix.SYS_KEXEC_LOAD, KexecLoad)
	full(unix.SYS_KEXEC_FILE_LOAD, KexecFileLoad)
	partial(unix.SYS_QUOTACTL, "no filesystem of the sandbox is on a block device: Q_SYNC without one succeeds, the rest fail as Linux's checks of the device name do", Quotactl)
	partial(unix.SYS_QUOTACTL_FD, "no filesystem of the sandbox supports quotas: ENOSYS after the checks of fd and type, as Linux answers for such a filesystem", QuotactlFd)
}

// Acct implements acct(2): CAP_SYS_PACCT in the initial user namespace
// is checked before anything else.
func Acct(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, unix.EPERM
}

// swapFlagsValid are swapon(2)'s flags: SWAP_FLAG_PRIO_MASK,
// SWAP_FLAG_PREFER and the three SWAP_FLAG_DISCARD* bits.
const swapFlagsValid = 0x7ffff

// Swapon implements swapon(2): unknown flags are EINVAL before the
// capability check.
func Swapon(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	flags := int32(args[1])
	if uint32(flags)&^swapFlagsValid != 0 {
		return 0, unix.EINVAL
	}
	return 0, unix.EPERM
}

// Swapoff implements swapoff(2): the capability check comes first.
func Swapoff(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, unix.EPERM
}

// reboot(2)'s magic numbers and commands (linux/reboot.h).
const (
	rebootMagic1      = 0xfee1dead
	rebootMagic2      = 672274793
	rebootMagic2A     = 85072278
	rebootMagic2B     = 369367448
	rebootMagic2C     = 537993216
	rebootCmdRestart  = 0x01234567
	rebootCmdHalt     = 0xcdef0123
	rebootCmdCADOn    = 0x89abcdef
	rebootCmdCADOff   = 0x00000000
	rebootCmdPowerOff = 0x4321fedc
	rebootCmdRestart2 = 0xa1b2c3d4
)

// Reboot implements reboot(2) as Linux does in a child PID namespace
// (reboot(2), "Behavior inside PID namespaces"): CAP_SYS_BOOT first, then
// the magic numbers; a restart ends the sandbox's init as killed by
// SIGHUP, a halt or power-off as killed by SIGINT; every other command
// (Ctrl-Alt-Del on or off too) is EINVAL.
func Reboot(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	magic1, magic2, cmd := uint32(args[0]), uint32(args[1]), uint32(args[2])
	if !t.Credentials().HasCap(unix.CAP_SYS_BOOT) {
		return 0, unix.EPERM
	}
	if magic1 != rebootMagic1 || (magic2 != rebootMagic2 && magic2 != rebootMagic2A &&
		magic2 != rebootMagic2B && magic2 != rebootMagic2C) {
		return 0, unix.EINVAL
	}
	switch cmd {
	case rebootCmdRestart, rebootCmdRestart2:
		t.RebootNamespace(unix.SIGHUP)
		return 0, kernel.ErrNoSysReturn
	case rebootCmdPowerOff, rebootCmdHalt:
		t.RebootNamespace(unix.SIGINT)
		return 0, kernel.ErrNoSysReturn
	}
	return 0, unix.EINVAL
}

// Iopl implements iopl(2) as Linux's emulation does: levels above 3 are
// EINVAL, keeping the current level (0: the sandbox never grants one)
// succeeds, raising it needs CAP_SYS_RAWIO in the initial namespace.
func Iopl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	level := uint32(args[0])
	if level > 3 {
		return 0, unix.EINVAL
	}
	if level == 0 {
		return 0, nil
	}
	return 0, unix.EPERM
}

// ioBitmapBits is the number of I/O ports ioperm(2) can name.
const ioBitmapBits = 65536

// Ioperm implements ioperm(2): a range that wraps or passes the last port
// is EINVAL; turning permissions off succeeds (none were on), turning
// them on needs CAP_SYS_RAWIO in the initial namespace.
func Ioperm(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	from, num, turnOn := args[0], args[1], int32(args[2])
	if from+num <= from || from+num > ioBitmapBits {
		return 0, unix.EINVAL
	}
	if turnOn != 0 {
		return 0, unix.EPERM
	}
	return 0, nil
}

// InitModule implements init_module(2): CAP_SYS_MODULE in the initial
// namespace is checked before the image is read.
func InitModule(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, unix.EPERM
}

// FinitModule implements finit_module(2): the capability check comes
// before the fd and the flags.
func FinitModule(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, unix.EPERM
}

// DeleteModule implements delete_module(2): the capability check comes
// before the name is read.
func DeleteModule(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, unix.EPERM
}

// KexecLoad implements kexec_load(2): CAP_SYS_BOOT in the initial
// namespace is checked before the flags and segments.
func KexecLoad(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, unix.EPERM
}

// KexecFileLoad implements kexec_file_load(2): as kexec_load, the
// capability check comes first.
func KexecFileLoad(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, unix.EPERM
}

// quotactl(2) command encoding (QCMD): the command above SUBCMDSHIFT
// bits, the quota type below.
const (
	quotaSubcmdShift = 8
	quotaTypeMask    = 0xff
	quotaMaxTypes    = 3 // USRQUOTA, GRPQUOTA, PRJQUOTA
	quotaCmdSync     = 0x800001
)

// Quotactl implements quotactl(2). The type is checked first; without a
// device Q_SYNC syncs every filesystem with quotas (none here) and other
// commands are ENODEV; a device name is looked up (its errors), must be a
// block device (ENOTBLK), and none has a filesystem mounted (ENODEV).
func Quotactl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	cmd, specialAddr := uint32(args[0]), args[1]
	cmds, typ := cmd>>quotaSubcmdShift, cmd&quotaTypeMask
	if typ >= quotaMaxTypes {
		return 0, unix.EINVAL
	}
	if specialAddr == 0 {
		if cmds == quotaCmdSync {
			return 0, nil
		}
		return 0, unix.ENODEV
	}
	path, err := copyInPath(t, specialAddr)
	if err != nil {
		return 0, err
	}
	pop, err := pathOp(t, unix.AT_FDCWD, path, pathOpts{follow: true})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	sx, err := taskVFS(t).StatAt(t.Context(), &pop.PathOperation)
	if err != nil {
		return 0, err
	}
	if sx.Mode&unix.S_IFMT != unix.S_IFBLK {
		return 0, unix.ENOTBLK
	}
	return 0, unix.ENODEV
}

// QuotactlFd implements quotactl_fd(2): the fd, then the type; no
// filesystem of the sandbox has quota operations, which Linux answers
// with ENOSYS.
func QuotactlFd(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, cmd := int32(args[0]), uint32(args[1])
	f, err := getFile(t, fd)
	if err != nil {
		return 0, err
	}
	f.DecRef(t.Context())
	if cmd&quotaTypeMask >= quotaMaxTypes {
		return 0, unix.EINVAL
	}
	return 0, unix.ENOSYS
}
