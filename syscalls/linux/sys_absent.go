package linux

import "golang.org/x/sys/unix"

// Calls whose amd64 numbers Linux reserves but does not implement, or
// implemented once and removed: Linux answers ENOSYS, and so does the
// Sentry (docs/kernel.md, "Calls Linux does not have").
func init() {
	const removed26 = "removed in Linux 2.6 with the old module loader"
	notInLinux(unix.SYS_CREATE_MODULE, removed26)
	notInLinux(unix.SYS_GET_KERNEL_SYMS, removed26)
	notInLinux(unix.SYS_QUERY_MODULE, removed26)
	notInLinux(unix.SYS_NFSSERVCTL, "removed in Linux 3.1 (nfsd is configured through its filesystem)")
	notInLinux(unix.SYS_GETPMSG, "STREAMS, never implemented in Linux")
	notInLinux(unix.SYS_PUTPMSG, "STREAMS, never implemented in Linux")
	notInLinux(unix.SYS_AFS_SYSCALL, "reserved for AFS, never implemented in Linux")
	notInLinux(unix.SYS_TUXCALL, "reserved for the TUX web server, never in mainline Linux")
	notInLinux(unix.SYS_SECURITY, "reserved, never implemented in Linux")
	notInLinux(unix.SYS_VSERVER, "reserved for Linux-VServer, never in mainline Linux")
	notInLinux(unix.SYS_EPOLL_CTL_OLD, "reserved, never wired up on amd64 (epoll_ctl is the call)")
	notInLinux(unix.SYS_EPOLL_WAIT_OLD, "reserved, never wired up on amd64 (epoll_wait is the call)")
	notInLinux(unix.SYS_LOOKUP_DCOOKIE, "removed in Linux 5.12 with oprofile's dcookies")
	notInLinux(unix.SYS__SYSCTL, "removed in Linux 5.5 (/proc/sys is the interface)")
	notInLinux(unix.SYS_USELIB, "a.out shared libraries: optional (CONFIG_USELIB) in older Linux, since removed; ELF programs never call it")
}
