// Package linux holds the facts of the Linux amd64 ABI that the Sentry needs
// and that golang.org/x/sys/unix lacks or leaves unnamed: syscall names and
// argument counts, errno and signal names, kernel-internal constants, the
// signal frame structures, flag-name tables for --strace, and byte-level
// marshalling of fixed-size structures.
//
// Wherever x/sys/unix already defines a constant or structure (unix.Stat_t,
// unix.ENOENT, unix.O_CLOEXEC, ...), callers use it directly; this package
// does not repeat it.
package linux
