// Package filter holds the seccomp-bpf allow-list of the Sentry, the
// `runsc boot` process, and installs it once start-up is over. The
// program is built by package runsc/seccomp, which documents its shape
// (x86-64 ABI only, one block per rule, anything else kills the process).
//
// It enforces the invariant that the Sentry opens no host path after
// start-up: open, openat, openat2 and creat fail with EPERM (a bug that
// tries to open a path fails loudly but cleanly), and execve, new
// sockets, mount, chroot and the rest of the kernel's path interface are
// not on the list at all. Host files reach the Sentry only as descriptors
// donated by the gofer, which it may read, write, map and stat.
//
// There is no way to turn the filter off or to relax it at run time: no
// flag, no environment variable. A missing rule shows up as the sandbox
// dying of SIGSYS; the kernel's audit log (dmesg) names the call
// ("type=1326 ... syscall=N").
package filter

import "github.com/palisade-sandbox/palisade/runsc/seccomp"

// Install builds the Sentry's filter and installs it on every thread of the
// calling process. It must run after the last host path is opened; once it
// returns, the calling process and every thread it starts are confined for
// good (filters cannot be removed, and no_new_privs is set).
//
// hostNetwork (--network=host) adds the socket calls of HostNetworkRules;
// otherwise linkFDs are the packet sockets of the sandbox's network links
// (Rules).
func Install(hostNetwork bool, linkFDs ...int) error {
	if hostNetwork {
		return seccomp.Install(HostNetworkRules())
	}
	return seccomp.Install(Rules(linkFDs...))
}
