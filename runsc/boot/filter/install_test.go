package filter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv makes the test binary, re-executed by a test, install the
// filter and run the named check instead of the tests. It exists only in
// this test binary.
const childEnv = "PALISADE_FILTER_TEST_CHILD"

func TestMain(m *testing.M) {
	if check := os.Getenv(childEnv); check != "" {
		os.Exit(runChild(check))
	}
	os.Exit(m.Run())
}

// runChild installs the filter and runs check, reporting failures on
// stderr; it returns the exit status.
func runChild(check string) int {
	// A process killed by seccomp dumps core; don't.
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	var failures []string
	fail := func(format string, args ...any) {
		failures = append(failures, fmt.Sprintf(format, args...))
	}

	// Everything the checks need from the host is opened first, as
	// the Sentry does.
	file, err := os.Open(os.Getenv("PALISADE_FILTER_TEST_FILE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// A thread that exists before Install, locked so that its checks
	// run on it: TSYNC must confine it too.
	before := make(chan func())
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		for f := range before {
			f()
			done <- struct{}{}
		}
	}()
	onOldThread := func(f func()) { before <- f; <-done }
	oldTID := 0
	onOldThread(func() { oldTID = unix.Gettid() })

	if err := Install(false); err != nil {
		fmt.Fprintf(os.Stderr, "Install: %v\n", err)
		return 2
	}

	switch check {
	case "confined":
		if _, err := unix.Open("/etc/passwd", unix.O_RDONLY, 0); err != unix.EPERM {
			fail("open(/etc/passwd) = %v, want EPERM", err)
		}
		if _, err := unix.Openat(unix.AT_FDCWD, "/etc/passwd", unix.O_RDONLY, 0); err != unix.EPERM {
			fail("openat(/etc/passwd) = %v, want EPERM", err)
		}
		if _, err := unix.Openat2(unix.AT_FDCWD, "/etc/passwd", &unix.OpenHow{Flags: unix.O_RDONLY}); err != unix.EPERM {
			fail("openat2(/etc/passwd) = %v, want EPERM", err)
		}
		if _, err := unix.Creat("/tmp/palisade-filter-test", 0600); err != unix.EPERM {
			fail("creat = %v, want EPERM", err)
		}
		if _, err := os.ReadFile("/etc/passwd"); !errors.Is(err, unix.EPERM) {
			fail("os.ReadFile(/etc/passwd) = %v, want EPERM", err)
		}
		onOldThread(func() {
			if tid := unix.Gettid(); tid != oldTID {
				fail("locked thread moved from %d to %d", oldTID, tid)
			}
			if _, err := unix.Openat(unix.AT_FDCWD, "/etc/passwd", unix.O_RDONLY, 0); err != unix.EPERM {
				fail("openat on a thread started before Install = %v, want EPERM", err)
			}
		})

		// Descriptors opened before still work.
		buf := make([]byte, 64)
		if n, err := file.ReadAt(buf, 0); (err != nil && err != io.EOF) || string(buf[:n]) != "palisade ok\n" {
			fail("reading an open file = %q, %v; want its contents", buf[:n], err)
		}
		if n, err := unix.Write(pipe[1], []byte("ping")); n != 4 || err != nil {
			fail("write(pipe) = %d, %v; want 4", n, err)
		}
		if n, err := unix.Read(pipe[0], buf); n != 4 || err != nil || string(buf[:4]) != "ping" {
			fail("read(pipe) = %q, %v; want ping", buf[:n], err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(file.Fd()), &st); err != nil || st.Size != 12 {
			fail("fstat = size %d, %v; want 12", st.Size, err)
		}
		if pid := unix.Getpid(); pid != os.Getpid() || pid <= 0 {
			fail("getpid = %d", pid)
		}

		// The Go runtime still starts threads.
		const threads = 4
		tids := make(chan int, threads)
		for i := 0; i < threads; i++ {
			go func() {
				runtime.LockOSThread()
				tids <- unix.Gettid()
				select {} // keep the thread: the next one must be new
			}()
		}
		seen := map[int]bool{}
		for i := 0; i < threads; i++ {
			seen[<-tids] = true
		}
		if len(seen) != threads {
			fail("%d locked goroutines ran on %d threads, want %d", threads, len(seen), threads)
		}
		runtime.GC()

	case "socket":
		unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		fail("socket returned")
	case "execve":
		unix.Exec("/bin/true", []string{"true"}, nil)
		fail("execve returned")
	case "fork":
		syscall.ForkExec("/bin/true", []string{"true"}, nil)
		fail("fork returned")
	case "unshare":
		unix.Unshare(unix.CLONE_NEWNS)
		fail("unshare returned")
	default:
		fail("unknown check %q", check)
	}
	for _, f := range failures {
		fmt.Fprintln(os.Stderr, f)
	}
	if len(failures) > 0 {
		return 1
	}
	return 0
}

// startChild runs the test binary as a child that installs the filter and
// runs check.
func startChild(t *testing.T, check string) (*exec.Cmd, *bytes.Buffer, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("palisade ok\n"), 0600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+check, "PALISADE_FILTER_TEST_FILE="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr, cmd.Run()
}

func TestInstalledFilterForbidsOpeningPaths(t *testing.T) {
	_, stderr, err := startChild(t, "confined")
	if err != nil {
		t.Fatalf("confined child: %v\n%s", err, stderr)
	}
}

func TestInstalledFilterKillsForbiddenCalls(t *testing.T) {
	for _, check := range []string{"socket", "execve", "fork", "unshare"} {
		cmd, stderr, err := startChild(t, check)
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Errorf("%s: child ended with %v, want it killed by SIGSYS\n%s", check, err, stderr)
			continue
		}
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != unix.SIGSYS {
			t.Errorf("%s: child ended with %v, want it killed by SIGSYS\n%s", check, err, stderr)
		}
	}
}
