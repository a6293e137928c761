// Package filter holds the seccomp-bpf allow-list of the gofer, the `runsc
// gofer` process that serves a container's files to its sandbox, and
// installs it once the gofer is chrooted and ready to serve. The program
// is built by package runsc/seccomp, which documents its shape (x86-64 ABI
// only, one block per rule, anything else kills the process).
//
// The gofer's whole job after start-up is to open single path components
// relative to directory descriptors it holds, stat them, and pass
// descriptors over the socketpair it was given. The filter allows that and
// what the Go runtime needs, and nothing else:
//
//   - openat only relative to a descriptor (never AT_FDCWD) and only with
//     O_NOFOLLOW, never O_TRUNC (the server truncates with ftruncate once
//     it has checked the file) or O_TMPFILE; O_CREAT only with O_EXCL, and
//     only for a writable server. A refused openat, and open, creat and
//     openat2, fail with EPERM.
//   - The calls that change files (mkdirat, unlinkat, renameat2, fchownat,
//     ftruncate, ...) are on the list only for a writable server, again
//     only relative to a descriptor and with the flags the server uses; a
//     read-only server (the default) is killed if it makes one.
//   - No network: socket, socketpair, connect, bind, listen and accept are
//     not on the list (the socketpair exists before the gofer starts).
//     Neither are execve, fork, ptrace, mount, chroot, unshare, setns,
//     process_vm_*, bpf or kexec: they kill the process.
//
// There is no flag or environment variable to turn the filter off. A
// missing rule shows up as the gofer dying of SIGSYS (the sandbox then
// sees I/O errors on its files); the kernel's audit log (dmesg) names the
// call ("type=1326 ... syscall=N").
package filter

import "github.com/palisade-sandbox/palisade/runsc/seccomp"

// Install builds the gofer's filter for a read-only or writable server and
// installs it on every thread of the calling process. It must run after
// the server is set up (gofer.NewServer) and before it serves; once it
// returns, the process and every thread it starts are confined for good.
func Install(readOnly bool) error {
	return seccomp.Install(Rules(readOnly))
}
