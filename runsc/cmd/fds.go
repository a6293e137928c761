package cmd

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseInheritedOnExec marks every descriptor from 3 up close-on-exec.
// runsc runs it first thing in every subcommand: a descriptor its caller
// left without close-on-exec (a shell's `5>file`, a test harness's pipe)
// must not reach the gofer, the Sentry or the stubs that run guest code.
// Each process Palisade starts gets exactly the descriptors its starter
// hands it (exec.Cmd's stdio and ExtraFiles, which are dup'ed without the
// flag). It uses close_range(2) with CLOSE_RANGE_CLOEXEC where the host
// has it (Linux 5.11) and walks /proc/self/fd otherwise.
func CloseInheritedOnExec() error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 {
			continue
		}
		// The directory's own descriptor is gone by now: EBADF is fine.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && err != unix.EBADF {
			return os.NewSyscallError("fcntl(F_SETFD)", err)
		}
	}
	return nil
}
