package seccomp

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Install builds rules (see Build) and installs the program on every
// thread of the calling process with InstallProgram. Once it returns, the
// calling process and every thread it starts are confined for good
// (filters cannot be removed, and no_new_privs is set).
func Install(rules []Rule) error {
	prog, err := Build(rules)
	if err != nil {
		return err
	}
	return InstallProgram(prog)
}

// InstallProgram sets no_new_privs and installs prog as a seccomp filter
// synchronized to all threads of the process (SECCOMP_FILTER_FLAG_TSYNC):
// the Go runtime runs goroutines on many OS threads, and a filter on only
// the calling one would leave the others free.
func InstallProgram(prog []unix.SockFilter) error {
	// no_new_privs is per thread; TSYNC copies it to the other threads
	// along with the filter, but the seccomp call itself must come from
	// the thread that has it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl(PR_SET_NO_NEW_PRIVS)", err)
	}
	tid, err := seccompSetFilterTSync(prog)
	if err != nil {
		return os.NewSyscallError("seccomp(SECCOMP_SET_MODE_FILTER)", err)
	}
	if tid != 0 {
		// The kernel names a thread it could not synchronize (one
		// with a diverging filter) and installs nothing.
		return fmt.Errorf("seccomp: thread %d could not be synchronized", tid)
	}
	return nil
}
