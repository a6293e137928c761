package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hostnetGuest is the guest of TestHostNetwork: a TCP server the test's
// native client reaches, then a client of the test's native server. It
// reports each step on stdout and waits for a line on stdin between
// steps, so that the test can look at the sandbox's descriptors.
const hostnetGuest = `
import socket, sys
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.bind(("127.0.0.1", 0))
l.listen(1)
print("started", l.getsockname()[1], flush=True)
c, peer = l.accept()
c.sendall(c.recv(100).upper())
print("served", peer[0], flush=True)
sys.stdin.readline()
c.close()
l.close()
print("closed", flush=True)
port = int(sys.stdin.readline())
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"ping")
print("got", s.recv(100).decode(), flush=True)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind(("::1", 0))
u.sendto(b"dgram", u.getsockname())
print("udp", u.recv(100).decode(), flush=True)
`

// inNetns runs f on a thread that has joined the network namespace of
// pid: sockets f makes live there. The thread is thrown away afterwards.
func inNetns(t *testing.T, pid int, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			t.Error(err)
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			t.Errorf("setns: %v", err)
			return
		}
		f()
	}()
	<-done
}

// inetSockets returns the descriptors of pid that are TCP, UDP or raw
// sockets of its network namespace (their inodes in its /proc/net
// tables), as "fd:table".
func inetSockets(t *testing.T, pid int) []string {
	t.Helper()
	tables := map[string]string{} // inode -> table
	for _, tab := range []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6"} {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, tab))
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 9 {
				tables[f[9]] = tab
			}
		}
	}
	var out []string
	for _, f := range hostFDs(t, pid) {
		ino, ok := strings.CutPrefix(f.link, "socket:[")
		if !ok {
			continue
		}
		if tab, ok := tables[strings.TrimSuffix(ino, "]")]; ok {
			out = append(out, fmt.Sprintf("%d:%s", f.fd, tab))
		}
	}
	return out
}

// TestHostNetwork runs `runsc --network=host do` in a network namespace
// the test makes (only lo, up): a guest server answers a native client,
// a guest client reaches a native server, and UDP over ::1 works. While
// the guest's two TCP sockets are open the Sentry holds exactly two host
// TCP sockets, and after the guest closes them none; the stubs and the
// gofer never hold one; and the Sentry sits in the test's namespace, not
// a new one.
func TestHostNetwork(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runsc do and unshare --net need root")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	cmd := exec.Command("unshare", "--net", "--", "sh", "-c", `ip link set lo up && exec "$0" "$@"`,
		runsc(t), "--network=host", "do", "python3", "-c", hostnetGuest)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	cmd.Stdout = outW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	lines := make(chan string, 8)
	go func() {
		r := bufio.NewReader(outR)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- strings.TrimSpace(l)
		}
	}()
	next := func(prefix string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok || !strings.HasPrefix(l, prefix) {
				t.Fatalf("guest said %q (open %v), want %q...; stderr: %s", l, ok, prefix, stderr.String())
			}
			return strings.TrimSpace(strings.TrimPrefix(l, prefix))
		case <-time.After(60 * time.Second):
			t.Fatalf("no %q from the guest within 60s; stderr: %s", prefix, stderr.String())
		}
		return ""
	}
	port, err := strconv.Atoi(next("started"))
	if err != nil {
		t.Fatal(err)
	}
	// runsc (the unshare'd shell exec'd into it) is cmd's process.
	boot := childOf(t, cmd.Process.Pid, "boot")
	mine, _ := os.Readlink("/proc/self/ns/net")
	runscNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid))
	bootNS, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", boot))
	if bootNS != runscNS || bootNS == mine || bootNS == "" {
		t.Errorf("boot's network namespace %q; want runsc's %q, not the test's %q", bootNS, runscNS, mine)
	}

	// A native client in the namespace reaches the guest's server.
	inNetns(t, boot, func() {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second)
		if err != nil {
			t.Errorf("native client: %v", err)
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		c.Write([]byte("hello"))
		b, _ := io.ReadAll(io.LimitReader(c, 5))
		if string(b) != "HELLO" {
			t.Errorf("native client got %q, want HELLO", b)
		}
	})
	if got := next("served"); got != "127.0.0.1" {
		t.Errorf("guest saw its peer as %q, want 127.0.0.1", got)
	}
	t.Logf("the Sentry's host inet sockets: %v", inetSockets(t, boot))
	if got := inetSockets(t, boot); len(got) != 2 || !strings.HasSuffix(got[0], ":tcp") || !strings.HasSuffix(got[1], ":tcp") {
		t.Errorf("with a listener and a connection open the Sentry holds inet sockets %v, want two TCP ones", got)
	}
	others := []int{childOf(t, cmd.Process.Pid, "gofer")}
	for _, p := range stubsUnder(boot) {
		others = append(others, p.pid)
	}
	for _, pid := range others {
		if got := inetSockets(t, pid); len(got) != 0 {
			t.Errorf("process %d (gofer or stub) holds inet sockets %v", pid, got)
		}
	}

	io.WriteString(stdin, "\n")
	next("closed")
	if got := inetSockets(t, boot); len(got) != 0 {
		t.Errorf("after the guest closed its sockets the Sentry holds %v, want none", got)
	}

	// The guest's client reaches a native server in the namespace.
	var l net.Listener
	inNetns(t, boot, func() { l, err = net.Listen("tcp", "127.0.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 4)
		io.ReadFull(c, b)
		c.Write([]byte("pong:" + string(b)))
	}()
	fmt.Fprintf(stdin, "%d\n", l.Addr().(*net.TCPAddr).Port)
	if got := next("got"); got != "pong:ping" {
		t.Errorf("guest client got %q, want pong:ping", got)
	}
	if got := next("udp"); got != "dgram" {
		t.Errorf("guest UDP got %q, want dgram", got)
	}
	stdin.Close()
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("runsc: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Errorf("runsc did not exit")
	}
}

// childOf returns the child of runsc whose argv holds subcommand.
func childOf(t *testing.T, runscPID int, subcommand string) int {
	t.Helper()
	for _, pid := range hostChildren(runscPID) {
		argv, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if strings.Contains(string(argv), "\x00"+subcommand+"\x00") {
			return pid
		}
	}
	t.Fatalf("runsc (pid %d) has no %s child", runscPID, subcommand)
	return 0
}

// TestOCIHostNetwork runs a container with --network=host whose spec
// names a network namespace the test made (lo only): the container's
// busybox nc reaches a native server listening in that namespace.
func TestOCIHostNetwork(t *testing.T) {
	e := newOCIEnv(t)
	if err := os.Symlink("busybox", filepath.Join(e.rootfs, "bin", "nc")); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("unshare", "--net", "--", "sh", "-c", "ip link set lo up && echo ready && exec sleep 100000")
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		holder.Process.Kill()
		holder.Wait()
	}()
	if l, _ := bufio.NewReader(out).ReadString('\n'); l != "ready\n" {
		t.Fatalf("namespace holder said %q", l)
	}
	var l net.Listener
	inNetns(t, holder.Process.Pid, func() { l, err = net.Listen("tcp", "127.0.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		b, _ := io.ReadAll(c)
		got <- string(b)
	}()
	spec := e.spec("sh", "-c", fmt.Sprintf("echo from-container | nc 127.0.0.1 %d", l.Addr().(*net.TCPAddr).Port))
	for i, ns := range spec.Linux.Namespaces {
		if ns.Type == "network" {
			spec.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", holder.Process.Pid)
		}
	}
	id := e.id("hostnet")
	e.deleteAtCleanup(id)
	r := e.runsc("--network=host", "run", "--bundle", e.bundle(spec, nil), id)
	if r.status != 0 {
		t.Errorf("runsc run: status %d, stderr: %s", r.status, r.stderr)
	}
	select {
	case s := <-got:
		if s != "from-container\n" {
			t.Errorf("native server got %q, want from-container", s)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("no connection from the container")
	}
}
