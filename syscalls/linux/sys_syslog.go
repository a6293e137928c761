package linux

import (
	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_SYSLOG, "an empty kernel ring, as with dmesg_restrict=1: CAP_SYSLOG (or CAP_SYS_ADMIN) for every action", Syslog)
	partial(unix.SYS_VHANGUP, "EPERM without CAP_SYS_TTY_CONFIG; with it the terminal is not hung up", Vhangup)
}

// syslog(2) actions.
const (
	syslogActionClose        = 0
	syslogActionOpen         = 1
	syslogActionRead         = 2
	syslogActionReadAll      = 3
	syslogActionReadClear    = 4
	syslogActionClear        = 5
	syslogActionConsoleOff   = 6
	syslogActionConsoleOn    = 7
	syslogActionConsoleLevel = 8
	syslogActionSizeUnread   = 9
	syslogActionSizeBuffer   = 10

	// syslogBufferSize is what SIZE_BUFFER reports (Linux: log_buf_len).
	syslogBufferSize = 1 << 17
)

// Capabilities of syslog and vhangup.
const (
	capSysAdmin     = 21
	capSysTTYConfig = 26
	capSyslog       = 34
)

// Syslog implements syslog(2) over an empty kernel log. The permission
// check comes first, as Linux's with dmesg_restrict=1 (what distributions
// ship): every action needs CAP_SYSLOG or CAP_SYS_ADMIN, unknown ones too.
// Reads find nothing (READ waits, as Linux's for an empty log, until a
// signal).
func Syslog(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	typ, buf, length := intArg(args[0]), args[1], intArg(args[2])
	if c := t.Credentials(); !c.HasCap(capSyslog) && !c.HasCap(capSysAdmin) {
		return 0, unix.EPERM
	}
	switch typ {
	case syslogActionClose, syslogActionOpen, syslogActionClear, syslogActionConsoleOff, syslogActionConsoleOn:
		return 0, nil
	case syslogActionRead, syslogActionReadAll, syslogActionReadClear:
		if buf == 0 || length < 0 {
			return 0, unix.EINVAL
		}
		if length == 0 {
			return 0, nil
		}
		// Linux's access_ok: the range must lie below the user
		// address space's end; whether it is mapped shows on copy.
		if end := buf + uint64(length); end < buf || end > abi.TASK_SIZE_MAX {
			return 0, unix.EFAULT
		}
		if typ != syslogActionRead {
			return 0, nil
		}
		// Nothing is ever logged: wait for a signal.
		return 0, t.Block(nil)
	case syslogActionConsoleLevel:
		if length < 1 || length > 8 {
			return 0, unix.EINVAL
		}
		return 0, nil
	case syslogActionSizeUnread:
		return 0, nil
	case syslogActionSizeBuffer:
		return syslogBufferSize, nil
	}
	return 0, unix.EINVAL
}

// Vhangup implements vhangup(2).
func Vhangup(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	if !t.Credentials().HasCap(capSysTTYConfig) {
		return 0, unix.EPERM
	}
	return 0, nil
}
