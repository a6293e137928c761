package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// sandboxCrash is the error of a sandbox that ended without CMD's exit
// status: the Sentry crashed (a panic, on a task goroutine or elsewhere),
// boot was killed, or the gofer died. runsc do then ends by SIGABRT (see
// Abort), which no guest exit status can look like.
type sandboxCrash struct {
	// Reason says what happened.
	Reason string
}

// Error implements error.
func (c *sandboxCrash) Error() string { return "sandbox crashed: " + c.Reason }

// superviseSandbox waits for the started sandbox (boot, whose status
// pipe is status, after its "ok") and its gofer, and returns CMD's
// shell-style exit status, or a *sandboxCrash.
//
// The gofer serves until the Sentry closes its connection, so it cannot
// end on its own before boot has written "exit N": if it dies first, runsc
// kills boot. Either way boot's line, or its absence, decides: an "exit N"
// written before the kill still counts (the gofer then merely lost a race
// with boot's exit), so the outcome never depends on which wait returns
// first.
func superviseSandbox(boot, gofer *exec.Cmd, status *bufio.Reader) (int, error) {
	lineCh := make(chan string, 1)
	go func() {
		// EOF comes when boot is gone: only it holds the write end.
		line, _ := status.ReadString('\n')
		lineCh <- line
	}()
	type goferEnd struct {
		ws  syscall.WaitStatus
		err error
	}
	goferCh := make(chan goferEnd, 1)
	go func() {
		ws, err := waitExitNoReap(gofer.Process.Pid)
		goferCh <- goferEnd{ws, err}
	}()

	var line, goferDeath string
	select {
	case line = <-lineCh:
	case g := <-goferCh:
		boot.Process.Kill()
		line = <-lineCh
		// A gofer that exited with status 0 saw the Sentry close its
		// connections: boot ended first (killed, or crashed without a
		// word) and the two waits merely raced. Boot's end is the news.
		if g.err != nil || !g.ws.Exited() || g.ws.ExitStatus() != 0 {
			goferDeath = describeExit(g.ws, g.err)
		}
	}
	waitErr := boot.Wait()
	report, ok := parseEndLine(line)
	switch {
	case ok && report.exited:
		return report.status, nil
	case ok:
		return 0, &sandboxCrash{Reason: report.crash}
	case goferDeath != "":
		return 0, &sandboxCrash{Reason: "the gofer (the sandbox's file server) " + goferDeath}
	}
	return 0, &sandboxCrash{Reason: "runsc boot ended without reporting CMD's exit: " + describeWaitErr(waitErr)}
}

// describeWaitErr says how a process waited for by exec.Cmd.Wait ended.
func describeWaitErr(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok {
			return describeExit(ws, nil)
		}
	}
	if err == nil {
		return "exited with status 0"
	}
	return err.Error()
}

// describeExit says how a process ended, from its wait status.
func describeExit(ws syscall.WaitStatus, err error) string {
	switch {
	case err != nil:
		return fmt.Sprintf("ended, but waiting for it failed: %v", err)
	case ws.Signaled():
		return fmt.Sprintf("was killed by signal %d (%v)", int(ws.Signal()), ws.Signal())
	}
	return fmt.Sprintf("exited with status %d", ws.ExitStatus())
}

// abortIfCrashed ends runsc by SIGABRT, after one line on stderr, if err
// is a *sandboxCrash; otherwise it returns.
func abortIfCrashed(err error) {
	var c *sandboxCrash
	if !errors.As(err, &c) {
		return
	}
	fmt.Fprintf(os.Stderr, "runsc do: %v\n", c)
	abort()
}

// abort kills runsc with SIGABRT and its default action, without a core
// dump: the caller's wait sees WIFSIGNALED with WTERMSIG == SIGABRT
// (a shell's 134, "Aborted"). Go's own SIGABRT handler would exit 2
// instead, so the default action is restored with a raw sigaction.
func abort() {
	// No core file: none would help (the Sentry's state is in boot, which
	// is gone), and a dump of runsc could be large.
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	// The signal goes to this thread, whose mask is changed below.
	runtime.LockOSThread()
	setDefaultAction(unix.SIGABRT)
	var set unix.Sigset_t
	set.Val[(unix.SIGABRT-1)/64] |= 1 << ((uint(unix.SIGABRT) - 1) % 64)
	unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
	unix.Tgkill(unix.Getpid(), unix.Gettid(), unix.SIGABRT)
	// Not reached while the default action stands; exit with the
	// shell's view of it otherwise.
	os.Exit(128 + int(unix.SIGABRT))
}

// si_code values of a child's end, from waitid(2).
const (
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
)

// waitExitNoReap waits until process pid has ended, without reaping it
// (exec.Cmd.Wait does that later), and returns its wait status.
func waitExitNoReap(pid int) (syscall.WaitStatus, error) {
	for {
		code, status, err := waitidNoReap(pid)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("waitid", err)
		}
		switch code {
		case cldExited:
			return syscall.WaitStatus(status&0xff) << 8, nil
		case cldKilled:
			return syscall.WaitStatus(status & 0x7f), nil
		case cldDumped:
			return syscall.WaitStatus(status&0x7f) | 0x80, nil
		}
		return 0, fmt.Errorf("waitid: unexpected si_code %d", code)
	}
}
