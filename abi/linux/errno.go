package linux

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Kernel-internal errnos. A syscall handler returns one of these to ask the
// signal delivery path to restart the call; they never reach a guest
// unless a syscall is interrupted under ptrace. Linux: include/linux/errno.h.
const (
	// ERESTARTSYS restarts the call if the handler has SA_RESTART, else
	// fails it with EINTR.
	ERESTARTSYS = unix.Errno(512)
	// ERESTARTNOINTR always restarts the call.
	ERESTARTNOINTR = unix.Errno(513)
	// ERESTARTNOHAND restarts the call only if no handler runs.
	ERESTARTNOHAND = unix.Errno(514)
	// ENOIOCTLCMD means no ioctl handler matched; syscalls return ENOTTY.
	ENOIOCTLCMD = unix.Errno(515)
	// ERESTART_RESTARTBLOCK restarts through restart_syscall(2) if no
	// handler runs.
	ERESTART_RESTARTBLOCK = unix.Errno(516)
)

// internalErrnos names the kernel-internal errnos, with strace's wording.
var internalErrnos = map[unix.Errno][2]string{
	ERESTARTSYS:           {"ERESTARTSYS", "To be restarted if SA_RESTART is set"},
	ERESTARTNOINTR:        {"ERESTARTNOINTR", "To be restarted"},
	ERESTARTNOHAND:        {"ERESTARTNOHAND", "To be restarted if no handler"},
	ENOIOCTLCMD:           {"ENOIOCTLCMD", "No ioctl command"},
	ERESTART_RESTARTBLOCK: {"ERESTART_RESTARTBLOCK", "Interrupted by signal"},
}

// IsRestartErrno reports whether e asks for the interrupted syscall to be
// restarted (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND or
// ERESTART_RESTARTBLOCK).
func IsRestartErrno(e unix.Errno) bool {
	switch e {
	case ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK:
		return true
	}
	return false
}

// ErrnoName returns the symbolic name of e ("ENOENT"), or "errno N" if e
// has none.
func ErrnoName(e unix.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	if n, ok := internalErrnos[e]; ok {
		return n[0]
	}
	return "errno " + strconv.FormatUint(uint64(e), 10)
}

// ErrnoMessage returns strerror(3)'s text for e, capitalized as strace
// prints it ("No such file or directory").
func ErrnoMessage(e unix.Errno) string {
	if n, ok := internalErrnos[e]; ok {
		return n[1]
	}
	if unix.ErrnoName(e) == "" {
		return "Unknown error " + strconv.FormatUint(uint64(e), 10)
	}
	msg := e.Error()
	if msg != "" && msg[0] >= 'a' && msg[0] <= 'z' {
		msg = string(msg[0]-'a'+'A') + msg[1:]
	}
	return msg
}
