package boot

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// sentryThreads is room for the Sentry's own OS threads, beside one per
// task: the Go runtime's (GC workers, sysmon, threads blocked in host
// calls), the master stub's tracer, signal forwarding.
const sentryThreads = 512

// goDefaultMaxThreads is the Go runtime's default limit on OS threads
// (runtime/debug.SetMaxThreads); past it the process dies with "thread
// exhaustion".
const goDefaultMaxThreads = 10000

// taskCap returns the cap on guest tasks for a requested --max-tasks: no
// more than the host can hold beside everything else it runs. Each task
// is two host tasks (its Sentry thread and its stub thread); a sandbox
// may use at most a quarter of the host's pid_max and threads-max (half of
// each, in host tasks), and half of RLIMIT_NPROC less the Sentry's own
// threads, since a thread the Go runtime cannot create kills the Sentry.
// It must run before confinement (it reads /proc/sys).
func taskCap(requested int) (int, string) {
	limit, why := requested, ""
	for _, f := range []string{"/proc/sys/kernel/pid_max", "/proc/sys/kernel/threads-max"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && n > 0 && n/4 < limit {
			limit, why = n/4, f
		}
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NPROC, &rl) == nil && rl.Cur != unix.RLIM_INFINITY {
		if n := (int64(rl.Cur) - sentryThreads) / 2; n < int64(limit) {
			limit, why = int(max(n, 1)), "RLIMIT_NPROC"
		}
	}
	return limit, why
}

// raiseMaxThreads lets the Go runtime create a thread for each of
// maxTasks tasks and the Sentry's own, where the default would not.
func raiseMaxThreads(maxTasks int) {
	if n := maxTasks + 2*sentryThreads; n > goDefaultMaxThreads {
		debug.SetMaxThreads(n)
	}
}
