package cmd

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The status pipe carries lines from `runsc boot` to the runsc that
// started it:
//
//	ok          the sandbox started; CMD runs
//	error MSG   the sandbox could not start (boot then exits)
//	nocmd N MSG the sandbox started but CMD could not: runsc prints MSG
//	            and exits N (127 not found, 126 not executable)
//	exit N      CMD's process exited with shell-style status N (boot exits)
//	crash MSG   the sandbox cannot go on (a Sentry panic on a task
//	            goroutine, a lost gofer); boot then exits
//
// After "ok", boot's own exit status means nothing: runsc takes CMD's
// status from "exit N" only. A boot that ends without "exit" or "crash"
// (a Go panic on another Sentry goroutine exits 2, a signal kills it)
// crashed too. No guest action can forge a line: the guest has no way to
// the pipe.
const (
	statusOK    = "ok"
	statusError = "error"
	statusNoCmd = "nocmd"
	statusExit  = "exit"
	statusCrash = "crash"
)

// bootCrashExitCode is boot's exit status after it reported a crash. Only
// the pipe's line matters to runsc; the code is for people reading logs.
const bootCrashExitCode = 70 // EX_SOFTWARE

// writeStatus writes one status line; msg is flattened to one line.
func writeStatus(w io.Writer, kind, msg string) {
	if msg == "" {
		fmt.Fprintln(w, kind)
		return
	}
	fmt.Fprintf(w, "%s %s\n", kind, strings.Join(strings.Fields(msg), " "))
}

// bootReport is what boot said about how the sandbox ended.
type bootReport struct {
	// exited is set by "exit N", with status N.
	exited bool
	status int
	// crash is the message of "crash MSG".
	crash string
}

// parseEndLine reads the line boot wrote after "ok" ("" at EOF).
func parseEndLine(line string) (bootReport, bool) {
	kind, msg, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch kind {
	case statusExit:
		n, err := strconv.Atoi(msg)
		if err != nil || n < 0 || n > 255 {
			return bootReport{}, false
		}
		return bootReport{exited: true, status: n}, true
	case statusCrash:
		if msg == "" {
			msg = "unknown reason"
		}
		return bootReport{crash: msg}, true
	}
	return bootReport{}, false
}
