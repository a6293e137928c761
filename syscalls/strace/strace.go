// Package strace formats guest system calls for --strace, in the style of
// strace(1): Enter renders a call with its decoded arguments,
// "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC)", and Exit renders
// its result, "= 3" or "= -1 ENOENT (No such file or directory)", followed
// by any output arguments it decodes (buffers read, stat results, pipe
// fds).
//
// A table keyed by syscall number says how to render each argument of the
// common calls; any other call prints its arguments in hex, as many as the
// call takes.
package strace

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/abi/linux"
)

// Memory reads guest memory for argument decoding; errors mean "bad
// address".
type Memory interface {
	// ReadString reads a NUL-terminated string of at most max bytes.
	ReadString(addr uintptr, max int) (string, error)
	// ReadBytes reads exactly n bytes.
	ReadBytes(addr uintptr, n int) ([]byte, error)
}

// Enter formats the call at entry:
// "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC)". Output arguments
// print as addresses here; Exit decodes them.
func Enter(mem Memory, nr uintptr, args [6]uintptr) string {
	var b strings.Builder
	b.WriteString(linux.SyscallName(nr))
	b.WriteByte('(')
	spec, ok := calls[nr]
	if !ok {
		spec = hexCall(linux.SyscallArgCount(nr))
	}
	first := true
	for i, a := range spec.args {
		s, ok := a.enter(mem, args, i)
		if !ok {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(s)
	}
	b.WriteByte(')')
	return b.String()
}

// Exit formats the result of the call: "= 3", "= 0x7f0000001000" for
// calls that return addresses, "= -1 ENOENT (No such file or directory)"
// on failure, or "= ? ERESTARTSYS (To be restarted if SA_RESTART is set)"
// for a call to be restarted. On success it appends the call's decoded
// output arguments, separated by spaces: "= 5 \"hello\"", "= 0 [3, 4]".
func Exit(mem Memory, nr uintptr, args [6]uintptr, ret uintptr, errno unix.Errno) string {
	if errno != 0 {
		r := "-1"
		if linux.IsRestartErrno(errno) {
			r = "?"
		}
		return "= " + r + " " + linux.ErrnoName(errno) + " (" + linux.ErrnoMessage(errno) + ")"
	}
	spec := calls[nr]
	var b strings.Builder
	b.WriteString("= ")
	b.WriteString(spec.ret.format(ret))
	for i, a := range spec.args {
		if s, ok := a.exit(mem, args, i, ret); ok {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	return b.String()
}
