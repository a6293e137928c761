package integration

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// netPair is two network namespaces this test made, joined by a veth pair:
// the sandbox's side (10.201.0.2/24, fd00:201::2/64) and the peer's
// (10.201.0.1/24, fd00:201::1/64). Traffic never leaves them.
type netPair struct {
	sandbox, peer string
	sdev, pdev    string // the veth's ends: in sandbox, in peer
}

const (
	peer4, peer6       = "10.201.0.1", "fd00:201::1"
	sandbox4, sandbox6 = "10.201.0.2", "fd00:201::2"
)

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newNetPair makes the namespaces, with names unique to this run, and
// deletes them when the test ends, failed or not.
func newNetPair(t *testing.T) netPair {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	id := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff^int64(os.Getpid())<<24&0xffffffff)
	p := netPair{sandbox: "plsbx" + id, peer: "plpeer" + id}
	ipCmd(t, "netns", "add", p.sandbox)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", p.sandbox).Run() })
	ipCmd(t, "netns", "add", p.peer)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", p.peer).Run() })
	vs, vp := "vs"+id, "vp"+id
	p.sdev, p.pdev = vs, vp
	ipCmd(t, "link", "add", vs, "netns", p.sandbox, "type", "veth", "peer", "name", vp, "netns", p.peer)
	for _, c := range [][]string{
		{"-n", p.sandbox, "addr", "add", sandbox4 + "/24", "dev", vs},
		{"-n", p.sandbox, "addr", "add", sandbox6 + "/64", "dev", vs, "nodad"},
		{"-n", p.peer, "addr", "add", peer4 + "/24", "dev", vp},
		{"-n", p.peer, "addr", "add", peer6 + "/64", "dev", vp, "nodad"},
		{"-n", p.sandbox, "link", "set", vs, "up"},
		{"-n", p.peer, "link", "set", vp, "up"},
		{"-n", p.sandbox, "link", "set", "lo", "up"},
		{"-n", p.peer, "link", "set", "lo", "up"},
	} {
		ipCmd(t, c...)
	}
	return p
}

// inNS returns a command running argv in network namespace ns.
func inNS(ctx context.Context, ns string, argv ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...)
}

// python returns the real python3 binary (not a pyenv shim script).
func python(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import os, sys; print(os.path.realpath(sys.executable))").Output()
	if err != nil {
		t.Skipf("needs python3: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// netScripts are the programs the sandbox and the peer run.
const pingScript = `
import socket, struct, sys
dst = sys.argv[1]
v6 = ':' in dst
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM,
                  socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
s.settimeout(10)
for seq in range(3):
    s.sendto(struct.pack('!BBHHH', 128 if v6 else 8, 0, 0, 0, seq) + b'palisade', (dst, 0))
    data, addr = s.recvfrom(100)
    assert data[0] == (129 if v6 else 0) and data[8:] == b'palisade', data
    print('reply', addr[0], struct.unpack('!H', data[6:8])[0], flush=True)
`

// serverScript serves dir over HTTP on [::]:8090 (both families) for
// exactly two requests and echoes one UDP datagram on 0.0.0.0:9000, then
// exits.
const serverScript = `
import http.server, os, socket, sys, threading
os.chdir(sys.argv[1])
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
class S(http.server.HTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
srv = S(('::', 8090), H)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', 9000))
def echo():
    data, addr = u.recvfrom(2048)
    u.sendto(data.upper(), addr)
t = threading.Thread(target=echo)
t.start()
print('ready', flush=True)
for _ in range(2):
    srv.handle_request()
t.join(60)
`

const udpClientScript = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(10):  # datagrams may be lost; bounded retries
    s.sendto(b'hello sandbox', (sys.argv[1], 9000))
    try:
        print(s.recv(2048).decode())
        break
    except socket.timeout:
        pass
`

// TestNetworkSandboxModeOverVeth runs the sandbox in --network=sandbox
// mode in one namespace and Linux programs in the other: ping, TCP both
// ways over IPv4 and IPv6 with an 8 MiB transfer checked by sha256, and a
// UDP exchange.
func TestNetworkSandboxModeOverVeth(t *testing.T) {
	bin := runsc(t)
	py := python(t)
	p := newNetPair(t)
	// The sandbox's /tmp is its own: the files live where its root
	// (the host's, under an overlay) shows them.
	dir, err := os.MkdirTemp("/var/tmp", "palisade-net-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	blob := make([]byte, 8<<20)
	rand.Read(blob)
	sum := sha256.Sum256(blob)
	want := hex.EncodeToString(sum[:])
	for name, data := range map[string][]byte{"blob": blob, "ping.py": []byte(pingScript), "server.py": []byte(serverScript), "udp.py": []byte(udpClientScript)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sandboxDo := func(argv ...string) *exec.Cmd {
		return inNS(ctx, p.sandbox, append([]string{bin, "--network=sandbox", "do"}, argv...)...)
	}
	check := func(what string, cmd *exec.Cmd) string {
		t.Helper()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\nstdout: %.500s\nstderr: %s", what, err, out, stderr.String())
		}
		return string(out)
	}
	sha := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

	t.Run("ping from the sandbox", func(t *testing.T) {
		for _, dst := range []string{peer4, peer6} {
			out := check("ping "+dst, sandboxDo(py, filepath.Join(dir, "ping.py"), dst))
			if strings.Count(out, "reply "+dst) != 3 {
				t.Errorf("ping %s from the sandbox: %q", dst, out)
			}
			// busybox ping: a raw socket (the guest is root, with
			// CAP_NET_RAW), over the veth.
			out = check("busybox ping "+dst, sandboxDo("busybox", "ping", "-c", "2", "-W", "10", dst))
			if !strings.Contains(out, "2 packets received") {
				t.Errorf("busybox ping %s from the sandbox: %q", dst, out)
			}
		}
	})

	t.Run("TCP from the sandbox to the peer", func(t *testing.T) {
		srv := inNS(ctx, p.peer, py, "-m", "http.server", "-b", "::", "-d", dir, "8080")
		srv.Stdout, srv.Stderr = io.Discard, io.Discard
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { srv.Process.Kill(); srv.Wait() }()
		// Wait (bounded) until the peer's server answers in its own
		// namespace.
		for i := 0; ; i++ {
			if inNS(ctx, p.peer, "curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:8080/ping.py").Run() == nil {
				break
			}
			if i == 100 {
				t.Fatal("the peer's http.server never answered")
			}
			time.Sleep(100 * time.Millisecond)
		}
		for _, url := range []string{"http://" + peer4 + ":8080/blob", "http://[" + peer6 + "]:8080/blob"} {
			out := check("curl "+url, sandboxDo("/usr/bin/curl", "-sS", "-g", "--max-time", "60", url))
			if got := sha(out); got != want {
				t.Errorf("%s from the sandbox: %d bytes, sha256 %s, want %d bytes %s", url, len(out), got, len(blob), want)
			}
		}
	})

	t.Run("peer to a server in the sandbox", func(t *testing.T) {
		srv := sandboxDo(py, filepath.Join(dir, "server.py"), dir)
		stdout, err := srv.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		srv.Stderr = &stderr
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { srv.Process.Kill(); srv.Wait() }()
		ready := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			ready <- line
		}()
		select {
		case line := <-ready:
			if strings.TrimSpace(line) != "ready" {
				t.Fatalf("the sandbox's server said %q; stderr: %s", line, stderr.String())
			}
		case <-ctx.Done():
			t.Fatalf("the sandbox's server never got ready; stderr: %s", stderr.String())
		}
		// The host view of the sandbox (docs/security.md): its boot
		// process holds exactly one packet socket, for the veth it took
		// over, and no TCP/UDP host socket; the gofer holds none.
		boot := childOf(t, srv.Process.Pid, "boot")
		if got := packetSockets(t, boot, srv.Process.Pid); got != 1 {
			t.Errorf("the sandbox holds %d packet sockets, want 1 (the veth)", got)
		}
		if s := inetSockets(t, boot); len(s) != 0 {
			t.Errorf("the sandbox holds host inet sockets %v, want none", s)
		}
		if g := childOf(t, srv.Process.Pid, "gofer"); packetSockets(t, g, srv.Process.Pid)+len(inetSockets(t, g)) != 0 {
			t.Errorf("the gofer holds network sockets")
		}
		for _, dst := range []string{sandbox4, sandbox6} {
			out := check("busybox ping "+dst, inNS(ctx, p.peer, "busybox", "ping", "-c", "2", "-W", "10", dst))
			if !strings.Contains(out, "2 packets received") {
				t.Errorf("ping %s from the peer: %q", dst, out)
			}
		}
		out := check("UDP", inNS(ctx, p.peer, py, filepath.Join(dir, "udp.py"), sandbox4))
		if strings.TrimSpace(out) != "HELLO SANDBOX" {
			t.Errorf("UDP echo from the sandbox: %q", out)
		}
		for _, url := range []string{"http://" + sandbox4 + ":8090/blob", "http://[" + sandbox6 + "]:8090/blob"} {
			out := check("curl "+url, inNS(ctx, p.peer, "curl", "-sS", "-g", "--max-time", "60", url))
			if got := sha(out); got != want {
				t.Errorf("%s from the peer: %d bytes, sha256 %s, want %s", url, len(out), got, want)
			}
		}
		if err := srv.Wait(); err != nil {
			t.Errorf("the sandbox's server: %v; stderr: %s", err, stderr.String())
		}
	})

	// runsc do put the addresses back when each sandbox exited.
	out := check("ip addr", inNS(ctx, p.sandbox, "ip", "-o", "addr", "show"))
	for _, a := range []string{sandbox4 + "/24", sandbox6 + "/64"} {
		if !strings.Contains(out, a) {
			t.Errorf("after the sandboxes exited, %s is missing:\n%s", a, out)
		}
	}
}

// packetSockets counts the descriptors of pid that are AF_PACKET sockets
// of the network namespace nsPID is in (their inodes in its
// /proc/PID/net/packet): the sandbox's own namespace is a new one, the
// taken-over interfaces' sockets live in runsc's.
func packetSockets(t *testing.T, pid, nsPID int) int {
	t.Helper()
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/packet", nsPID))
	inodes := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 8 {
			inodes[f[8]] = true
		}
	}
	n := 0
	for _, f := range hostFDs(t, pid) {
		if ino, ok := strings.CutPrefix(f.link, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
			n++
		}
	}
	return n
}
