package linux

import "golang.org/x/sys/unix"

// Calls the Sentry does not implement, with why (docs/compatibility.md
// shows it). Each answers ENOSYS, logged on first use. Calls of a family
// that is partly implemented are marked in that family's file instead.
func init() {
	unimplemented(unix.SYS_MODIFY_LDT, "no local descriptor tables (16-bit and segmented code, as Wine and DOSEMU run)", logFirstUse)
	unimplemented(unix.SYS_SET_THREAD_AREA, "32-bit TLS descriptors; 64-bit programs set their TLS with arch_prctl(ARCH_SET_FS)", logFirstUse)
	unimplemented(unix.SYS_GET_THREAD_AREA, "32-bit TLS descriptors; 64-bit programs set their TLS with arch_prctl(ARCH_SET_FS)", logFirstUse)
	unimplemented(unix.SYS_REMAP_FILE_PAGES, "deprecated in Linux 3.16 (emulated there with separate mappings)", logFirstUse)
	unimplemented(unix.SYS_ADD_KEY, "no kernel keyrings (as Linux built without CONFIG_KEYS)", logFirstUse)
	unimplemented(unix.SYS_REQUEST_KEY, "no kernel keyrings (as Linux built without CONFIG_KEYS)", logFirstUse)
	unimplemented(unix.SYS_KEYCTL, "no kernel keyrings (as Linux built without CONFIG_KEYS)", logFirstUse)
	unimplemented(unix.SYS_PERF_EVENT_OPEN, "no performance counters or tracepoints in the sandbox", logFirstUse)
	unimplemented(unix.SYS_NAME_TO_HANDLE_AT, "no file handles", logFirstUse)
	unimplemented(unix.SYS_OPEN_BY_HANDLE_AT, "no file handles", logFirstUse)
	unimplemented(unix.SYS_SETNS, "the sandbox is one set of namespaces; there are none to join", logFirstUse)
	unimplemented(unix.SYS_BPF, "no eBPF", logFirstUse)
	unimplemented(unix.SYS_USERFAULTFD, "no user-space page fault handling", logFirstUse)
	unimplemented(unix.SYS_IO_URING_SETUP, "no io_uring; its users fall back to ordinary I/O calls", logFirstUse)
	unimplemented(unix.SYS_IO_URING_ENTER, "no io_uring", logFirstUse)
	unimplemented(unix.SYS_IO_URING_REGISTER, "no io_uring", logFirstUse)
	unimplemented(unix.SYS_LANDLOCK_CREATE_RULESET, "no Landlock (as Linux built without it); programs probe for it and go on", expectedENOSYS)
	unimplemented(unix.SYS_LANDLOCK_ADD_RULE, "no Landlock", logFirstUse)
	unimplemented(unix.SYS_LANDLOCK_RESTRICT_SELF, "no Landlock", logFirstUse)
}
