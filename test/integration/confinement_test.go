package integration

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// sandboxProcess is one host process of a sandbox, as the host sees it.
type sandboxProcess struct {
	role string // "boot", "gofer" or "stub"
	pid  int
}

// sandboxProcesses returns the boot process, the gofer and every stub of
// a live sandbox.
func sandboxProcesses(t *testing.T, s *liveSandbox) []sandboxProcess {
	t.Helper()
	boot, gofer := s.child(t, "boot"), s.child(t, "gofer")
	procs := []sandboxProcess{{"boot", boot}, {"gofer", gofer}}
	for _, p := range stubsUnder(boot) {
		procs = append(procs, sandboxProcess{"stub", p.pid})
	}
	if len(procs) < 3 {
		t.Fatalf("no stub processes under boot (pid %d)", boot)
	}
	return procs
}

// fdTarget describes one descriptor of a host process.
type fdTarget struct {
	fd   int
	link string
	st   unix.Stat_t
	ok   bool // st is valid
}

// hostFDs lists a process's descriptors.
func hostFDs(t *testing.T, pid int) []fdTarget {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	var out []fdTarget
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := fdTarget{fd: fd}
		f.link, _ = os.Readlink(filepath.Join(dir, e.Name()))
		f.ok = unix.Stat(filepath.Join(dir, e.Name()), &f.st) == nil
		out = append(out, f)
	}
	return out
}

// goferCapMask is the capability mask a read-only gofer keeps (see
// cmd.GoferCapabilities): CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.
const goferCapMask = 1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH

// TestSandboxProcessesHostView reads the host's view of every process of
// a sandbox (the Sentry's boot process, the gofer, every stub) and fails
// if any of them holds more than docs/security.md says: its capability
// sets, no_new_privs, its seccomp mode, its root, its namespaces and its
// descriptors. A descriptor the caller of runsc left open across exec
// must reach none of them.
func TestSandboxProcessesHostView(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runsc do needs root")
	}
	// A host file runsc inherits (no O_CLOEXEC), as a shell's 5>file
	// would leave it.
	leakPath := filepath.Join(t.TempDir(), "caller-file")
	leakFD, err := unix.Open(leakPath, unix.O_CREAT|unix.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(leakFD)
	var leak unix.Stat_t
	if err := unix.Fstat(leakFD, &leak); err != nil {
		t.Fatal(err)
	}
	s := startSandbox(t, nil, "echo started; read x")
	var hostRoot unix.Stat_t
	if err := unix.Stat("/", &hostRoot); err != nil {
		t.Fatal(err)
	}
	for _, p := range sandboxProcesses(t, s) {
		name := fmt.Sprintf("%s (pid %d)", p.role, p.pid)
		if got := statusField(p.pid, "NoNewPrivs"); got != "1" {
			t.Errorf("%s: NoNewPrivs = %q, want 1", name, got)
		}
		if got := statusField(p.pid, "Seccomp"); got != "2" {
			t.Errorf("%s: Seccomp = %q, want 2 (filter)", name, got)
		}
		wantCaps := "0000000000000000"
		if p.role == "gofer" {
			wantCaps = fmt.Sprintf("%016x", goferCapMask)
		}
		for _, set := range []string{"CapInh", "CapAmb"} {
			if got := statusField(p.pid, set); got != "0000000000000000" {
				t.Errorf("%s: %s = %q, want none", name, set, got)
			}
		}
		for _, set := range []string{"CapPrm", "CapEff", "CapBnd"} {
			if got := statusField(p.pid, set); got != wantCaps {
				t.Errorf("%s: %s = %q, want %s", name, set, got, wantCaps)
			}
		}
		// Its root is not the host's.
		var root unix.Stat_t
		if err := unix.Stat(filepath.Join("/proc", strconv.Itoa(p.pid), "root"), &root); err != nil {
			t.Errorf("%s: stat of its root: %v", name, err)
		} else if root.Dev == hostRoot.Dev && root.Ino == hostRoot.Ino {
			t.Errorf("%s: its root is the host's /", name)
		}
		// Its namespaces are not the test's.
		nss := []string{"mnt", "pid", "net", "ipc", "uts"}
		if p.role != "gofer" {
			nss = append(nss, "user")
		}
		for _, ns := range nss {
			mine, _ := os.Readlink("/proc/self/ns/" + ns)
			theirs, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(p.pid), "ns", ns))
			if theirs == "" || theirs == mine {
				t.Errorf("%s: %s namespace %q is the host's", name, ns, theirs)
			}
		}
		checkFDs(t, name, p.role, hostFDs(t, p.pid), &leak, &hostRoot)
	}
}

// checkFDs checks one process's descriptors against what docs/security.md
// lists for its role.
func checkFDs(t *testing.T, name, role string, fds []fdTarget, leak, hostRoot *unix.Stat_t) {
	t.Helper()
	for _, f := range fds {
		if f.ok && f.st.Dev == leak.Dev && f.st.Ino == leak.Ino {
			t.Errorf("%s: descriptor %d is the caller's inherited file %s", name, f.fd, f.link)
		}
		if role == "stub" {
			// A stub holds the memory file and nothing else.
			if f.fd != 3 || !strings.HasPrefix(f.link, "/memfd:palisade-memory") {
				t.Errorf("%s: descriptor %d -> %q; a stub holds only 3 -> the memory file", name, f.fd, f.link)
			}
			continue
		}
		switch {
		case strings.HasPrefix(f.link, "pipe:"), strings.HasPrefix(f.link, "socket:"),
			strings.HasPrefix(f.link, "anon_inode:"), strings.HasPrefix(f.link, "/memfd:palisade-memory"):
		case f.ok && f.st.Mode&unix.S_IFMT == unix.S_IFCHR && f.st.Rdev == unix.Mkdev(1, 3):
			// /dev/null, as stdio.
		case f.ok && f.st.Dev == hostRoot.Dev && f.st.Mode&unix.S_IFMT != unix.S_IFCHR && f.st.Mode&unix.S_IFMT != unix.S_IFBLK:
			// A file of the served root file system (the gofer's
			// nodes, the Sentry's donated descriptors).
		default:
			t.Errorf("%s: descriptor %d -> %q (dev %#x, mode %#o) is none of what a %s may hold", name, f.fd, f.link, f.st.Dev, f.st.Mode, role)
		}
	}
}

// TestGuestCannotReachTheHostThroughMounts is the hostile probe: the
// sandbox's root (with every capability inside) unmounts, moves, binds
// and mounts over the file systems runsc set up, and after each step
// looks for host things it must never see: a mode-0600 file, a FIFO and a
// listening socket in a directory of the host's /tmp, a file in the
// host's /dev/shm, a host process (this test's own pid) in /proc, and the
// host kernel's symbols.
func TestGuestCannotReachTheHostThroughMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runsc do needs root")
	}
	dir, err := os.MkdirTemp("/tmp", "palisade-probe-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	const secret = "palisade-host-secret"
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	shm := filepath.Join("/dev/shm", filepath.Base(dir))
	if err := os.WriteFile(shm, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(shm)

	script := fmt.Sprintf(`
look() { # look for the host's things under root $1, after step $2
	cat "$1%[1]s/secret" 2>/dev/null | grep -q %[3]s && echo "LEAK $2: host /tmp file"
	cat "$1%[2]s" 2>/dev/null | grep -q %[3]s && echo "LEAK $2: host /dev/shm file"
	[ -p "$1%[1]s/fifo" ] && echo "LEAK $2: host FIFO"
	[ -S "$1%[1]s/sock" ] && echo "LEAK $2: host socket"
	grep -qs integration "$1/proc/%[4]d/cmdline" && echo "LEAK $2: host process"
	grep -qsE ' [Tt] (startup_64|_stext)$' "$1/proc/kallsyms" && echo "LEAK $2: host kallsyms"
	:
}
look "" start
mkdir -p /mnt/a /mnt/b
mount --bind / /mnt/a 2>/dev/null && look /mnt/a bind-root
mount --rbind / /mnt/b 2>/dev/null && look /mnt/b rbind-root
for m in /proc /sys /dev /tmp /dev/shm; do
	umount $m 2>/dev/null; look "" "umount $m"
	umount -l $m 2>/dev/null; look "" "umount -l $m"
	mkdir -p /mnt/moved; mount --move $m /mnt/moved 2>/dev/null; look "" "move $m"
	mount -t tmpfs over $m 2>/dev/null && umount $m 2>/dev/null; look "" "mount over $m"
	umount $m 2>/dev/null; look "" "umount $m again"
done
echo done
`, dir, shm, secret, os.Getpid())
	r := sandboxed(t, "sh", "-c", script)
	if !strings.Contains(r.stdout, "done") {
		t.Fatalf("the probe did not finish: status %d, stdout %q, stderr %q", r.status, r.stdout, r.stderr)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "LEAK") {
			t.Error(line)
		}
	}
}

// TestVolumes checks runsc do --volume: a host directory on a file system
// of its own (here a directory in the host's /dev/shm, a tmpfs that the
// root's gofer never serves) appears at the guest path, writes to it stay
// in the sandbox, and directories on host pseudo-file systems are refused
// with an error naming the flag.
func TestVolumes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runsc do needs root")
	}
	dir, err := os.MkdirTemp("/dev/shm", "palisade-volume-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := sandboxed(t, "--volume="+dir+":/mnt", "sh", "-c", "cat /mnt/f && echo changed > /mnt/f && echo new > /mnt/g && cat /mnt/f /mnt/g")
	if r.status != 0 || r.stdout != "from the host\nchanged\nnew\n" {
		t.Errorf("volume: status %d, stdout %q, stderr %q; want the host file, then the changed one", r.status, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f")); string(b) != "from the host\n" {
		t.Errorf("the host file became %q: writes must stay in the sandbox", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "g")); err == nil {
		t.Error("a file created in the volume reached the host")
	}
	for _, pseudo := range []string{"/proc", "/sys", "/proc/sys"} {
		if _, err := os.Stat(pseudo); err != nil {
			continue
		}
		r := sandboxed(t, "--volume="+pseudo+":/mnt", "true")
		if r.status == 0 || !strings.Contains(r.stderr, "--volume="+pseudo) {
			t.Errorf("--volume=%s: status %d, stderr %q; want a failure naming the flag", pseudo, r.status, r.stderr)
		}
	}
}

// TestStdioFlagsRestored checks that runsc do leaves its caller's stdio as
// it found it: the sandbox shares the open file description of a piped
// stdout, which the Sentry makes O_NONBLOCK to poll it (a guest may change
// it too); whatever changed it while the sandbox ran, runsc puts it back
// when the sandbox ends, even one that ends without cleaning up (here its
// boot process is killed).
func TestStdioFlagsRestored(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runsc do needs root")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// os.File.Fd puts the file in blocking mode each time it is called:
	// take the number once.
	wfd := w.Fd()
	cmd := exec.Command(runsc(t), "do", "sh", "-c", "echo started; read x")
	cmd.Stdout = w
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() { cmd.Process.Kill(); <-exited }()
	line, _ := bufio.NewReader(r).ReadString('\n')
	if line != "started\n" {
		t.Fatalf("first line %q, want \"started\"", line)
	}
	nonblock := func() bool {
		fl, err := unix.FcntlInt(wfd, unix.F_GETFL, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fl&unix.O_NONBLOCK != 0
	}
	// Change the shared description while the sandbox runs, as a guest
	// or a Sentry that polls it could (the test does it itself, so the
	// case does not depend on who does).
	if fl, err := unix.FcntlInt(wfd, unix.F_GETFL, 0); err != nil {
		t.Fatal(err)
	} else if _, err := unix.FcntlInt(wfd, unix.F_SETFL, fl|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	if !nonblock() {
		t.Fatal("could not set O_NONBLOCK on the pipe")
	}
	var boot int
	for _, pid := range hostChildren(cmd.Process.Pid) {
		argv, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if strings.Contains(string(argv), "\x00boot\x00") {
			boot = pid
		}
	}
	if boot == 0 {
		t.Fatal("no boot process")
	}
	unix.Kill(boot, unix.SIGKILL)
	<-exited
	if nonblock() {
		t.Error("O_NONBLOCK is still set on the caller's stdout after runsc do exited")
	}
}
