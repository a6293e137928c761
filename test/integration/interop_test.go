package integration

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Interop tests: the sandbox's network against real Linux programs in a
// peer network namespace (both made by the test, joined by a veth; no
// traffic leaves them). Every server stops by itself or is stopped by the
// test, every client has a deadline, and readiness is polled, bounded.

// The large transfers: 1 GiB each way over IPv4 in sandbox mode (the
// issue's size: it crosses many windows, SACK blocks and retransmission
// rounds, and the 32-bit sequence space a quarter of the way), 256 MiB
// for the other runs, which cover the same code paths once more and keep
// the test to about a minute on a busy 2-CPU machine.
const (
	bigStreamSize = 1 << 30
	streamSize    = 256 << 20
)

// streamScript moves a random stream over TCP and prints "BYTES SHA256"
// of what it sent or received:
//
//	stream.py recv PORT            listen on [::]:PORT (both families),
//	                               print "ready", take one connection
//	stream.py send HOST PORT BYTES connect, send, wait for the close
//
// The sender waits for the receiver to close after the end of the stream,
// so a sender in the sandbox never exits (and takes its stack down) with
// data still unacknowledged.
const streamScript = `
import hashlib, os, socket, sys
h, n = hashlib.sha256(), 0
if sys.argv[1] == 'recv':
    l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(('::', int(sys.argv[2])))
    l.listen(1)
    print('ready', flush=True)
    c, _ = l.accept()
    c.settimeout(120)
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.close()
else:
    left = int(sys.argv[4])
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=120)
    while left:
        b = os.urandom(min(left, 1 << 20))
        s.sendall(b)
        h.update(b)
        n += len(b)
        left -= len(b)
    s.shutdown(socket.SHUT_WR)
    assert s.recv(1) == b''
    s.close()
print(n, h.hexdigest(), flush=True)
`

// httpScript serves DIR on [::]:PORT (both families) for exactly N
// requests, printing "ready" once it listens, then exits.
const httpScript = `
import http.server, os, socket, sys
os.chdir(sys.argv[1])
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
class S(http.server.HTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
srv = S(('::', int(sys.argv[2])), H)
srv.timeout = 120
print('ready', flush=True)
for _ in range(int(sys.argv[3])):
    srv.handle_request()
`

// dnsScript sends one A query for NAME to SERVER:53 over UDP by hand
// (bounded retries) and prints the first address of the answer.
const dnsScript = `
import socket, struct, sys
name, server = sys.argv[1], sys.argv[2]
q = struct.pack('!HHHHHH', 0x5a17, 0x0100, 1, 0, 0, 0)
q += b''.join(bytes([len(l)]) + l.encode() for l in name.split('.')) + b'\0'
q += struct.pack('!HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(10):
    s.sendto(q, (server, 53))
    try:
        r = s.recv(512)
    except socket.timeout:
        continue
    if r[:2] == q[:2]:
        break
else:
    sys.exit('no answer')
ident, flags, qd, an = struct.unpack('!HHHH', r[:8])
assert flags & 0x8000 and flags & 0xf == 0 and an >= 1, r.hex()
# The answer follows the question: a 2-byte name pointer, type, class,
# TTL, length, then the 4 address bytes.
a = r[len(q):]
assert struct.unpack('!HHIH', a[2:12])[0] == 1, a.hex()
print(socket.inet_ntoa(a[12:16]))
`

// udpScript exchanges datagrams of 1400 bytes, 30000 bytes (fragmented
// on the veth) and the largest the family carries (65507 bytes over
// IPv4, 65527 over IPv6):
//
//	udp.py echo ADDR   bind ADDR:9100, print "ready", echo datagrams
//	                   until "done" (or 60 s without any)
//	udp.py send ADDR   send each size to ADDR:9100 (bounded retries),
//	                   print "SIZE ok" when the same bytes came back,
//	                   then "done"
const udpScript = `
import os, socket, sys
fam = socket.AF_INET6 if ':' in sys.argv[2] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
sizes = (1400, 30000, 65527 if fam == socket.AF_INET6 else 65507)
if sys.argv[1] == 'echo':
    s.bind((sys.argv[2], 9100))
    s.settimeout(60)
    print('ready', flush=True)
    while True:
        try:
            d, a = s.recvfrom(65535)
        except socket.timeout:
            break
        if d == b'done':
            break
        s.sendto(d, a)
else:
    s.settimeout(2)
    for n in sizes:
        d = os.urandom(n)
        for _ in range(10):
            s.sendto(d, (sys.argv[2], 9100))
            try:
                r = s.recv(65535)
                break
            except socket.timeout:
                r = b''
        print(n, 'ok' if r == d else 'bad %d' % len(r), flush=True)
    for _ in range(3):  # one is enough; the echo also stops after 60 s idle
        s.sendto(b'done', (sys.argv[2], 9100))
`

// interop is one test's two namespaces, with its sandbox's network mode.
type interop struct {
	t       *testing.T
	ctx     context.Context
	p       netPair
	bin, py string
	dir     string // scripts and files, visible in the sandbox
	mode    string // --network=MODE
}

func newInterop(t *testing.T, mode string) *interop {
	t.Helper()
	for _, tool := range []string{"curl", "iperf3", "dnsmasq", "ping", "ss"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (scripts/install-deps.sh installs it)", tool)
		}
	}
	e := &interop{t: t, bin: runsc(t), py: python(t), mode: mode}
	e.p = newNetPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	e.ctx = ctx
	// The sandbox's /tmp is its own: the files live where its root (the
	// host's, under an overlay) shows them.
	dir, err := os.MkdirTemp("/var/tmp", "palisade-interop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e.dir = dir
	for name, data := range map[string]string{"stream.py": streamScript, "serve.py": httpScript, "dns.py": dnsScript, "udp.py": udpScript} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0644); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// do returns a command running argv in a sandbox in the sandbox's namespace.
func (e *interop) do(argv ...string) *exec.Cmd {
	return inNS(e.ctx, e.p.sandbox, append([]string{e.bin, "--network=" + e.mode, "do"}, argv...)...)
}

// peer returns a command running argv in the peer's namespace.
func (e *interop) peer(argv ...string) *exec.Cmd {
	return inNS(e.ctx, e.p.peer, argv...)
}

func (e *interop) script(name string) string { return filepath.Join(e.dir, name) }

// output runs cmd and returns its standard output; failing is fatal.
func output(t *testing.T, what string, cmd *exec.Cmd) string {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\nstdout: %.2000s\nstderr: %.2000s", what, err, out, stderr.String())
	}
	return string(out)
}

// server is a program started in the background, its standard output
// read line by line.
type server struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *lockedBuffer
	done   chan struct{} // closed when it exited, err then set
	err    error
}

// start starts cmd and waits (bounded) for a line of its output holding
// ready. The test's cleanup stops it if it is still running: SIGTERM
// first (runsc passes it on to the sandbox, which then exits and puts
// the namespace's addresses back), SIGKILL if that takes too long.
func start(t *testing.T, what string, cmd *exec.Cmd, ready string) *server {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, lines: make(chan string, 64), stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			default: // nobody reads more than the first lines
			}
		}
		close(s.lines)
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
			return
		default:
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-s.done
		}
	})
	if ready == "" {
		return s
	}
	deadline := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				<-s.done
				t.Fatalf("%s exited before it was ready: %v; stderr: %s", what, s.err, s.stderr.String())
			}
			if strings.Contains(line, ready) {
				return s
			}
		case <-deadline:
			t.Fatalf("%s not ready after 60s; stderr: %s", what, s.stderr.String())
		}
	}
}

// result waits (bounded) for the server to exit by itself and returns the
// next line of its output; failing is fatal.
func (s *server) result(t *testing.T, what string) string {
	t.Helper()
	var line string
	select {
	case line = <-s.lines:
	case <-time.After(3 * time.Minute):
		t.Fatalf("%s: no result after 3 min; stderr: %s", what, s.stderr.String())
	}
	select {
	case <-s.done:
		if s.err != nil {
			t.Fatalf("%s: %v; stderr: %s", what, s.err, s.stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s did not exit; stderr: %s", what, s.stderr.String())
	}
	return line
}

// waitListening polls (bounded) until something in namespace ns listens
// on port (proto "t" for TCP, "u" for UDP), as ss shows it.
func waitListening(t *testing.T, ctx context.Context, ns, proto string, port int) {
	t.Helper()
	for i := 0; ; i++ {
		out, _ := inNS(ctx, ns, "ss", "-Hln"+proto, fmt.Sprintf("sport = :%d", port)).Output()
		if strings.TrimSpace(string(out)) != "" {
			return
		}
		if i == 200 || ctx.Err() != nil {
			t.Fatalf("nothing listens on port %d in %s", port, ns)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// streamBothWays sends size random bytes from the sandbox to a
// receiver in the peer and from the peer to a receiver in the sandbox,
// and compares what arrived with what left by sha256.
func (e *interop) streamBothWays(t *testing.T, sandboxAddr, peerAddr string, size int) {
	n := strconv.Itoa(size)
	check := func(what, sent, got string) {
		t.Helper()
		want := n + " "
		if !strings.HasPrefix(sent, want) || strings.TrimSpace(sent) != strings.TrimSpace(got) {
			t.Errorf("%s: sent %q, received %q", what, sent, got)
		}
	}
	t.Run("sandbox to peer", func(t *testing.T) {
		recv := start(t, "receiver in the peer", e.peer(e.py, e.script("stream.py"), "recv", "7001"), "ready")
		sent := output(t, "sender in the sandbox", e.do(e.py, e.script("stream.py"), "send", peerAddr, "7001", n))
		check("sandbox to peer", sent, recv.result(t, "receiver in the peer"))
	})
	t.Run("peer to sandbox", func(t *testing.T) {
		recv := start(t, "receiver in the sandbox", e.do(e.py, e.script("stream.py"), "recv", "7002"), "ready")
		sent := output(t, "sender in the peer", e.peer(e.py, e.script("stream.py"), "send", sandboxAddr, "7002", n))
		check("peer to sandbox", sent, recv.result(t, "receiver in the sandbox"))
	})
}

// httpBothWays fetches a file with curl in the sandbox from python's
// http.server in the peer, and the reverse, over IPv4 and IPv6.
func (e *interop) httpBothWays(t *testing.T) {
	blob := make([]byte, 3<<20+17)
	rand.Read(blob)
	sum := sha256.Sum256(blob)
	want := hex.EncodeToString(sum[:])
	if err := os.WriteFile(filepath.Join(e.dir, "blob"), blob, 0644); err != nil {
		t.Fatal(err)
	}
	sha := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	urls := func(a4, a6 string, port int) []string {
		return []string{fmt.Sprintf("http://%s:%d/blob", a4, port), fmt.Sprintf("http://[%s]:%d/blob", a6, port)}
	}
	t.Run("curl in the sandbox, http.server in the peer", func(t *testing.T) {
		srv := start(t, "http.server in the peer", e.peer(e.py, "-m", "http.server", "-b", "::", "-d", e.dir, "8081"), "")
		waitListening(t, e.ctx, e.p.peer, "t", 8081)
		for _, url := range urls(peer4, peer6, 8081) {
			out := output(t, "curl "+url, e.do("/usr/bin/curl", "-sSf", "-g", "--max-time", "60", url))
			if got := sha(out); got != want {
				t.Errorf("%s from the sandbox: %d bytes, sha256 %s, want %d bytes %s", url, len(out), got, len(blob), want)
			}
		}
		srv.cmd.Process.Signal(syscall.SIGTERM)
	})
	t.Run("curl in the peer, http.server in the sandbox", func(t *testing.T) {
		start(t, "serve.py in the sandbox", e.do(e.py, e.script("serve.py"), e.dir, "8082", "2"), "ready")
		for _, url := range urls(sandbox4, sandbox6, 8082) {
			out := output(t, "curl "+url, e.peer("curl", "-sSf", "-g", "--max-time", "60", url))
			if got := sha(out); got != want {
				t.Errorf("%s from the peer: %d bytes, sha256 %s, want %d bytes %s", url, len(out), got, len(blob), want)
			}
		}
	})
}

// iperfBothWays runs iperf3 briefly with its server in the sandbox and
// the client in the peer, and the reverse (the client in the sandbox,
// sending, then receiving with -R).
func (e *interop) iperfBothWays(t *testing.T, sandboxAddr, peerAddr string) {
	checkRun := func(what, out string) {
		t.Helper()
		// The summary's receiver line: "... sec  N MBytes  R Gbits/sec  receiver".
		ok := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasSuffix(strings.TrimSpace(line), "receiver") && !strings.Contains(line, " 0.00 Bytes ") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: no data received:\n%s", what, out)
		}
	}
	t.Run("server in the sandbox", func(t *testing.T) {
		srv := start(t, "iperf3 -s in the sandbox", e.do("iperf3", "-s", "-1", "-p", "5201", "--forceflush"), "Server listening")
		out := output(t, "iperf3 -c in the peer", e.peer("iperf3", "-c", sandboxAddr, "-p", "5201", "-t", "2", "--connect-timeout", "10000"))
		checkRun("peer to sandbox", out)
		srv.result(t, "iperf3 -s in the sandbox")
	})
	t.Run("server in the peer", func(t *testing.T) {
		start(t, "iperf3 -s in the peer", e.peer("iperf3", "-s", "-p", "5202"), "")
		waitListening(t, e.ctx, e.p.peer, "t", 5202)
		out := output(t, "iperf3 -c in the sandbox", e.do("iperf3", "-c", peerAddr, "-p", "5202", "-t", "2", "--connect-timeout", "10000"))
		checkRun("sandbox to peer", out)
		out = output(t, "iperf3 -c -R in the sandbox", e.do("iperf3", "-c", peerAddr, "-p", "5202", "-t", "2", "-R", "--connect-timeout", "10000"))
		checkRun("peer to sandbox (-R)", out)
	})
}

// udpBothWays exchanges UDP datagrams up to the largest each family
// carries, fragmented on the veth, with the echo in the peer and then in
// the sandbox. A lost datagram is sent again (bounded).
func (e *interop) udpBothWays(t *testing.T, sandboxAddr, peerAddr string) {
	want := "1400 ok 30000 ok 65507 ok"
	if strings.Contains(peerAddr, ":") {
		want = "1400 ok 30000 ok 65527 ok"
	}
	t.Run("echo in the peer", func(t *testing.T) {
		echo := start(t, "udp echo in the peer", e.peer(e.py, e.script("udp.py"), "echo", peerAddr), "ready")
		out := output(t, "udp sender in the sandbox", e.do(e.py, e.script("udp.py"), "send", peerAddr))
		if got := strings.Join(strings.Fields(out), " "); got != want {
			t.Errorf("UDP from the sandbox: %q, want %q", got, want)
		}
		echo.result(t, "udp echo in the peer")
	})
	t.Run("echo in the sandbox", func(t *testing.T) {
		echo := start(t, "udp echo in the sandbox", e.do(e.py, e.script("udp.py"), "echo", sandboxAddr), "ready")
		out := output(t, "udp sender in the peer", e.peer(e.py, e.script("udp.py"), "send", sandboxAddr))
		if got := strings.Join(strings.Fields(out), " "); got != want {
			t.Errorf("UDP to the sandbox: %q, want %q", got, want)
		}
		echo.result(t, "udp echo in the sandbox")
	})
}

// names checks getent hosts for a name the sandbox's /etc/hosts holds,
// and a DNS query over UDP to dnsmasq in the peer: by hand, and through
// glibc's resolver (which sets IP_RECVERR) with the sandbox's own
// /etc/resolv.conf pointing to it. The sandbox's root is an overlay, so
// what it writes to /etc stays in the sandbox; it writes before it looks
// anything up, so no query ever goes to the host's name server.
func (e *interop) names(t *testing.T) {
	const answer = "10.201.7.7"
	start(t, "dnsmasq in the peer", e.peer("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address="+peer4, "--pid-file=",
		"--address=/test.example/"+answer, "--log-facility=-"), "")
	waitListening(t, e.ctx, e.p.peer, "u", 53)

	out := output(t, "dns.py in the sandbox", e.do(e.py, e.script("dns.py"), "www.test.example", peer4))
	if strings.TrimSpace(out) != answer {
		t.Errorf("DNS query by hand from the sandbox: %q, want %s", out, answer)
	}
	script := fmt.Sprintf(`printf 'nameserver %s\n' > /etc/resolv.conf && printf '10.201.9.9 interop-peer.internal\n' >> /etc/hosts && getent hosts interop-peer.internal && getent hosts www.test.example`, peer4)
	out = output(t, "getent in the sandbox", e.do("/bin/sh", "-c", script))
	lines := strings.Fields(out)
	want := []string{"10.201.9.9", "interop-peer.internal", answer, "www.test.example"}
	if strings.Join(lines, " ") != strings.Join(want, " ") {
		t.Errorf("getent hosts in the sandbox: %q, want %q", out, want)
	}
}

// ipShows checks what ip addr, ip route and ip link show in the sandbox,
// and SIOCGIFHWADDR: the veth with its addresses, routes and MAC
// (sandbox mode: the taken-over interface; host mode: the namespace's, as
// boot saw it), and loopback.
func (e *interop) ipShows(t *testing.T) {
	mac, err := inNS(e.ctx, e.p.sandbox, "cat", "/sys/class/net/"+e.p.sdev+"/address").Output()
	if err != nil {
		t.Fatalf("the veth's MAC: %v", err)
	}
	// SIOCGIFHWADDR (0x8927): ifr_hwaddr's sa_data starts 18 bytes in.
	hwaddr := fmt.Sprintf(`import fcntl, socket, struct; r = fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), 0x8927, struct.pack('40s', b'%s')); print('SIOCGIFHWADDR', r[18:24].hex(':'))`, e.p.sdev)
	out := output(t, "ip", e.do("/bin/sh", "-c", "ip -o addr show; echo --; ip route show; echo --; ip -6 route show; echo --; ip -o link show; \"$0\" -c \"$1\"", e.py, hwaddr))
	for _, want := range []string{
		"link/ether " + strings.TrimSpace(string(mac)) + " brd ff:ff:ff:ff:ff:ff",
		"SIOCGIFHWADDR " + strings.TrimSpace(string(mac)),
		e.p.sdev + "    inet " + sandbox4 + "/24",
		e.p.sdev + "    inet6 " + sandbox6 + "/64",
		"10.201.0.0/24 dev " + e.p.sdev,
		"fd00:201::/64 dev " + e.p.sdev,
		"lo    inet 127.0.0.1/8",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the sandbox's ip output:\n%s", want, out)
		}
	}
}

// TestInteropSandboxMode runs Linux programs against the sandbox in
// --network=sandbox mode (its own stack on the taken-over veth): the
// interface as ip shows it, ping, HTTP, a large stream, UDP datagrams up
// to the largest and iperf3 both ways, /etc/hosts and DNS to dnsmasq in
// the peer.
func TestInteropSandboxMode(t *testing.T) {
	e := newInterop(t, "sandbox")
	t.Run("ip addr and ip route", e.ipShows)
	t.Run("ping", func(t *testing.T) {
		for _, dst := range []string{peer4, peer6} {
			out := output(t, "ping "+dst+" in the sandbox", e.do("ping", "-c", "2", "-W", "10", dst))
			if !strings.Contains(out, "2 received") {
				t.Errorf("iputils ping %s from the sandbox:\n%s", dst, out)
			}
		}
		// The peer pings the sandbox while one runs.
		srv := start(t, "serve.py in the sandbox", e.do(e.py, e.script("serve.py"), e.dir, "8083", "1"), "ready")
		for _, dst := range []string{sandbox4, sandbox6} {
			out := output(t, "ping "+dst+" in the peer", e.peer("ping", "-c", "2", "-W", "10", dst))
			if !strings.Contains(out, "2 received") {
				t.Errorf("iputils ping %s from the peer:\n%s", dst, out)
			}
		}
		output(t, "curl to stop serve.py", e.peer("curl", "-sS", "-o", "/dev/null", "--max-time", "60", "http://"+sandbox4+":8083/"))
		srv.result(t, "serve.py in the sandbox")
	})
	t.Run("HTTP", e.httpBothWays)
	t.Run("stream IPv4", func(t *testing.T) { e.streamBothWays(t, sandbox4, peer4, bigStreamSize) })
	t.Run("stream IPv6", func(t *testing.T) { e.streamBothWays(t, sandbox6, peer6, streamSize) })
	t.Run("UDP IPv4", func(t *testing.T) { e.udpBothWays(t, sandbox4, peer4) })
	t.Run("UDP IPv6", func(t *testing.T) { e.udpBothWays(t, sandbox6, peer6) })
	t.Run("iperf3", func(t *testing.T) { e.iperfBothWays(t, sandbox4, peer4) })
	t.Run("names", func(t *testing.T) { e.names(t) })
}

// TestInteropHostMode runs the same programs with --network=host in the
// test's namespace, where the host sockets are that namespace's. Left
// out: ping from the sandbox (no ping or raw sockets for the guest in
// host mode).
func TestInteropHostMode(t *testing.T) {
	e := newInterop(t, "host")
	t.Run("ip addr and ip route", e.ipShows)
	t.Run("HTTP", e.httpBothWays)
	t.Run("stream IPv4", func(t *testing.T) { e.streamBothWays(t, sandbox4, peer4, streamSize) })
	t.Run("stream IPv6", func(t *testing.T) { e.streamBothWays(t, sandbox6, peer6, streamSize) })
	t.Run("UDP IPv4", func(t *testing.T) { e.udpBothWays(t, sandbox4, peer4) })
	t.Run("UDP IPv6", func(t *testing.T) { e.udpBothWays(t, sandbox6, peer6) })
	t.Run("iperf3", func(t *testing.T) { e.iperfBothWays(t, sandbox4, peer4) })
	t.Run("names", func(t *testing.T) { e.names(t) })
}
