package filter

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/runsc/seccomp/seccomptest"
)

// TestPtraceRequestsCoverThePlatform fails when platform/ptrace starts
// using a ptrace request the filter would kill the Sentry for.
func TestPtraceRequestsCoverThePlatform(t *testing.T) {
	known := map[string]uint64{
		"PTRACE_GETREGS": unix.PTRACE_GETREGS, "PTRACE_SETREGS": unix.PTRACE_SETREGS,
		"PTRACE_GETFPREGS": unix.PTRACE_GETFPREGS, "PTRACE_SETFPREGS": unix.PTRACE_SETFPREGS,
		"PTRACE_GETREGSET": unix.PTRACE_GETREGSET, "PTRACE_SETREGSET": unix.PTRACE_SETREGSET,
		"PTRACE_GETSIGINFO": unix.PTRACE_GETSIGINFO, "PTRACE_SETSIGINFO": unix.PTRACE_SETSIGINFO,
		"PTRACE_SETOPTIONS": unix.PTRACE_SETOPTIONS, "PTRACE_SEIZE": unix.PTRACE_SEIZE,
		"PTRACE_INTERRUPT": unix.PTRACE_INTERRUPT, "PTRACE_DETACH": unix.PTRACE_DETACH,
		"PTRACE_CONT": unix.PTRACE_CONT, "PTRACE_SYSEMU": unix.PTRACE_SYSEMU,
		"PTRACE_SYSEMU_SINGLESTEP": unix.PTRACE_SYSEMU_SINGLESTEP,
		"PTRACE_POKEDATA":          unix.PTRACE_POKEDATA,
	}
	if len(known) != len(ptraceRequests) {
		t.Errorf("test knows %d requests, the filter allows %d: update the test", len(known), len(ptraceRequests))
	}
	for name, req := range known {
		if !slices.Contains(ptraceRequests, req) {
			t.Errorf("%s is not allowed by the filter", name)
		}
	}
	// Options (PTRACE_O_*) and events (PTRACE_EVENT_*) are not requests.
	re := regexp.MustCompile(`\bunix\.(PTRACE_[A-Z_]+)\b`)
	used := seccomptest.SourceNames(t, "../../..", "platform/ptrace", re)
	if !slices.Contains(used, "PTRACE_SYSEMU") {
		t.Errorf("found %v in platform/ptrace, no PTRACE_SYSEMU: is the scan broken?", used)
	}
	for _, name := range used {
		if strings.HasPrefix(name, "PTRACE_O_") || strings.HasPrefix(name, "PTRACE_EVENT_") {
			continue
		}
		if _, ok := known[name]; !ok {
			t.Errorf("platform/ptrace uses %s, which the Sentry's filter does not allow: add it to ptraceRequests", name)
		}
	}
}

// TestIoctlRequestsCoverHostFiles fails when vfs/host starts passing
// through an ioctl the filter would kill the Sentry for.
func TestIoctlRequestsCoverHostFiles(t *testing.T) {
	known := map[string]uint32{
		"TCGETS": unix.TCGETS, "TCSETS": unix.TCSETS, "TCSETSW": unix.TCSETSW, "TCSETSF": unix.TCSETSF,
		"TIOCGWINSZ": unix.TIOCGWINSZ, "TIOCSWINSZ": unix.TIOCSWINSZ,
		"TIOCGPGRP": unix.TIOCGPGRP, "TIOCSPGRP": unix.TIOCSPGRP, "TIOCINQ": unix.TIOCINQ,
	}
	for name, req := range known {
		if !slices.Contains(ioctlRequests, req) {
			t.Errorf("%s is not allowed by the filter", name)
		}
	}
	re := regexp.MustCompile(`\bunix\.((?:TC|TIOC|FIO)[A-Z]+)\b`)
	used := seccomptest.SourceNames(t, "../../..", "vfs/host", re)
	if !slices.Contains(used, "TCGETS") {
		t.Errorf("found %v in vfs/host, no TCGETS: is the scan broken?", used)
	}
	// Job-control requests vfs/host hands to the kernel's terminal; they
	// never reach the host.
	sentryOnly := map[string]bool{"TIOCGSID": true, "TIOCSCTTY": true, "TIOCNOTTY": true}
	for _, name := range used {
		if _, ok := known[name]; !ok && !sentryOnly[name] {
			t.Errorf("vfs/host uses %s, which the Sentry's filter does not allow: add it to ioctlRequests", name)
		}
	}
}
