package integration

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The peer the NAT test reaches: a namespace the test makes, joined to
// the host's initial namespace by a veth of its own (host end .1).
const (
	natPeerHost = "10.231.0.1"
	natPeer     = "10.231.0.2"
	natPort     = "8093"
)

// natPeerNS makes the peer namespace with an HTTP server on
// natPeer:natPort serving one file, and returns the file's content.
func natPeerNS(t *testing.T, py string) string {
	t.Helper()
	id := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
	ns, hostEnd := "plnat"+id, "pln"+id
	if rs, err := netlink.RouteGet(net.ParseIP(natPeer)); err == nil && len(rs) > 0 && rs[0].Gw == nil {
		t.Fatalf("%s is already on a link of this host (index %d): a test's leftover? (ip link; ip netns)", natPeer, rs[0].LinkIndex)
	}
	ipCmd(t, "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ipCmd(t, "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", ns)
	t.Cleanup(func() { exec.Command("ip", "link", "del", hostEnd).Run() })
	for _, c := range [][]string{
		// No IPv6 link-local address on the host end: it would come
		// after duplicate address detection, in the middle of the
		// host-view comparison.
		{"link", "set", hostEnd, "addrgenmode", "none"},
		{"addr", "add", natPeerHost + "/30", "dev", hostEnd},
		{"link", "set", hostEnd, "up"},
		{"-n", ns, "addr", "add", natPeer + "/30", "dev", "eth0"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	} {
		ipCmd(t, c...)
	}
	dir := t.TempDir()
	body := "through the NAT " + id
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte(body+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command("ip", "netns", "exec", ns, py, "-c", `
import http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), lambda *a: H(*a, directory=sys.argv[3]))
print('ready', flush=True)
s.serve_forever()
`, natPeer, natPort, dir)
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("peer server did not start: %q %v", line, err)
	}
	return body
}

// hostNetView is what the host's initial namespace shows of the
// interfaces that exist: addresses and routes (all tables), as lines,
// keyed by interface name. Interfaces made by sandboxes (plsd*) are left
// out; they are checked as debris.
func hostNetView(t *testing.T) map[string][]string {
	t.Helper()
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	view := map[string][]string{}
	byIndex := map[int]string{}
	for _, l := range links {
		a := l.Attrs()
		if strings.HasPrefix(a.Name, "plsd") {
			continue
		}
		byIndex[a.Index] = a.Name
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			t.Fatal(err)
		}
		v := []string{fmt.Sprintf("up=%v mtu=%d mac=%s", a.Flags&1 != 0, a.MTU, a.HardwareAddr)}
		for _, ad := range addrs {
			v = append(v, "addr "+ad.IPNet.String())
		}
		view[a.Name] = v
	}
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		name, ok := byIndex[r.LinkIndex]
		if !ok {
			continue
		}
		view[name] = append(view[name], fmt.Sprintf("route table=%d type=%d dst=%v gw=%v src=%v", r.Table, r.Type, r.Dst, r.Gw, r.Src))
	}
	for _, v := range view {
		sort.Strings(v)
	}
	return view
}

// sameHostView fails if an interface present both times changed its
// flags, addresses or routes. Interfaces that came or went meanwhile
// (other tests' containers) are not compared.
func sameHostView(t *testing.T, when string, before, after map[string][]string) {
	t.Helper()
	for name, b := range before {
		a, ok := after[name]
		if !ok {
			continue
		}
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%s: host interface %s changed:\nbefore:\n  %s\nafter:\n  %s", when, name, strings.Join(b, "\n  "), strings.Join(a, "\n  "))
		}
	}
}

// natSandbox is one running `runsc do` with NAT, as the host sees it.
type natSandbox struct {
	*liveSandbox
	id       string // the network id (netreaper --id)
	reaper   procID
	boot     procID
	netnsIno uint64 // the sandbox's network namespace
	fetched  string // what the guest fetched from the peer
	stubs    []procID
}

// startNATSandbox runs a sandbox that fetches the peer's file through the
// NAT, prints "started" and the file, and waits on stdin.
func startNATSandbox(t *testing.T, py string) *natSandbox {
	t.Helper()
	script := fmt.Sprintf(`B=$(%s -c "import urllib.request as u; print(u.urlopen('http://%s:%s/x', timeout=20).read().decode().strip())") || exit 9; echo started; echo "$B"; read x; exit 0`, py, natPeer, natPort)
	s := &natSandbox{liveSandbox: startSandbox(t, []string{"--network=sandbox"}, script)}
	line, err := s.stdout.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	s.fetched = strings.TrimSpace(line)
	rp := s.child(t, "netreaper")
	s.reaper = procID{rp, procStart(rp)}
	argv, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", rp))
	for _, a := range strings.Split(string(argv), "\x00") {
		if v, ok := strings.CutPrefix(a, "--id="); ok {
			s.id = v
		}
	}
	if s.id == "" {
		t.Fatalf("netreaper %d has no --id: %q", rp, argv)
	}
	bp := s.child(t, "boot")
	s.boot = procID{bp, procStart(bp)}
	s.stubs = stubsUnder(bp)
	s.netnsIno = packetSocketNetns(t, bp)
	return s
}

// packetSocketNetns returns the network namespace of boot's one packet
// socket (a copy of it taken with pidfd_getfd, asked with SIOCGSKNS, then
// closed), failing unless boot holds exactly one.
func packetSocketNetns(t *testing.T, pid int) uint64 {
	t.Helper()
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open(%d): %v", pid, err)
	}
	defer unix.Close(pidfd)
	var inos []uint64
	for _, f := range hostFDs(t, pid) {
		if !strings.HasPrefix(f.link, "socket:") {
			continue
		}
		fd, err := unix.PidfdGetfd(pidfd, f.fd, 0)
		if err != nil {
			t.Fatalf("pidfd_getfd(boot %d, fd %d): %v", pid, f.fd, err)
		}
		if d, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err == nil && d == unix.AF_PACKET {
			nsfd, err := unix.IoctlRetInt(fd, unix.SIOCGSKNS)
			if err != nil {
				unix.Close(fd)
				t.Fatalf("SIOCGSKNS: %v", err)
			}
			var st unix.Stat_t
			unix.Fstat(nsfd, &st)
			unix.Close(nsfd)
			inos = append(inos, st.Ino)
		}
		unix.Close(fd)
	}
	if len(inos) != 1 {
		t.Fatalf("boot (pid %d) holds %d packet sockets, want 1 (the sandbox's veth end)", pid, len(inos))
	}
	if inos[0] == 0xEFFFFFF9 {
		t.Fatalf("boot's packet socket is in the host's initial network namespace")
	}
	return inos[0]
}

// natDebris lists what sandbox id left on the host: its veth, nftables
// table and rules, state file, reaper, namespace (any process or
// descriptor that still refers to it), boot and stubs.
func natDebris(t *testing.T, s *natSandbox) []string {
	t.Helper()
	var d []string
	if _, err := netlink.LinkByName("plsd" + s.id); err == nil {
		d = append(d, "veth plsd"+s.id)
	}
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if tb.Name == "palisade-"+s.id {
			d = append(d, "nftables table "+tb.Name)
		}
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chains {
		rules, err := c.GetRules(ch.Table, ch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if cm, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && strings.Contains(cm, s.id) {
				d = append(d, fmt.Sprintf("rule %q in %s %s", cm, ch.Table.Name, ch.Name))
			}
		}
	}
	if _, err := os.Stat("/run/palisade/net/sb-" + s.id); err == nil {
		d = append(d, "state file sb-"+s.id)
	}
	if s.reaper.alive() {
		d = append(d, "netreaper")
	}
	if s.boot.alive() {
		d = append(d, "boot")
	}
	for _, p := range s.stubs {
		if p.alive() {
			d = append(d, "stub")
		}
	}
	ns := fmt.Sprintf("net:[%d]", s.netnsIno)
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		if l, _ := os.Readlink(filepath.Join("/proc", p.Name(), "ns", "net")); l == ns {
			d = append(d, "process "+p.Name()+" in the sandbox's namespace")
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, f := range fds {
			if l, _ := os.Readlink(filepath.Join("/proc", p.Name(), "fd", f.Name())); l == ns {
				d = append(d, "descriptor of process "+p.Name()+" on the sandbox's namespace")
			}
		}
	}
	return d
}

// waitNoDebris polls, bounded, until sandbox s left nothing on the host.
func waitNoDebris(t *testing.T, when string, s *natSandbox) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := natDebris(t, s)
		if len(d) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: 30 s later the host still has: %s; runsc stderr: %s", when, strings.Join(d, ", "), s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkReaperHostView fails if the netreaper holds more than
// docs/security.md says: CAP_NET_ADMIN only, no_new_privs, host root, the
// host's initial network namespace, and exactly its descriptors.
func checkReaperHostView(t *testing.T, s *natSandbox) {
	t.Helper()
	pid := s.reaper.pid
	want := fmt.Sprintf("%016x", uint64(1)<<unix.CAP_NET_ADMIN)
	for field, v := range map[string]string{
		"CapPrm": want, "CapEff": want, "CapBnd": want,
		"CapInh": "0000000000000000", "CapAmb": "0000000000000000",
		"NoNewPrivs": "1", "Uid": "0 0 0 0",
	} {
		if got := statusField(pid, field); got != v {
			t.Errorf("netreaper %s = %q, want %q", field, got, v)
		}
	}
	for _, ns := range []string{"net", "mnt", "user", "pid"} {
		self, _ := os.Readlink("/proc/self/ns/" + ns)
		got, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if got != self {
			t.Errorf("netreaper's %s namespace %s, want the host's %s", ns, got, self)
		}
	}
	for _, f := range hostFDs(t, pid) {
		ok := false
		switch f.fd {
		case 0, 1:
			ok = f.link == "/dev/null"
		case 2:
			ok = strings.HasPrefix(f.link, "pipe:") // runsc's stderr
		case 3:
			ok = f.link == "/run/palisade/net/sb-"+s.id
		case 4:
			ok = strings.HasPrefix(f.link, "socket:")
		default:
			ok = f.link == "anon_inode:[pidfd]" || f.link == "anon_inode:[eventpoll]" || f.link == "anon_inode:[eventfd]"
		}
		if !ok {
			t.Errorf("netreaper holds descriptor %d -> %s, which docs/security.md does not list", f.fd, f.link)
		}
	}
}

// TestNetworkSandboxModeNAT runs `runsc --network=sandbox do` in the
// host's initial network namespace: the guest reaches a server in a
// namespace the test joined to the host (through the sandbox's veth and
// the host's masquerade), the host's interfaces are untouched, and after
// a normal exit, kill -9 of runsc do, of the boot process, of the gofer,
// and of the reaper (then the next start's sweep) nothing of the
// sandbox's network remains.
func TestNetworkSandboxModeNAT(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	if initial, _ := isInitialNetns(); !initial {
		t.Skip("runs in the host's initial network namespace only")
	}
	py := python(t)
	body := natPeerNS(t, py)
	forward, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	before := hostNetView(t)

	t.Run("exit", func(t *testing.T) {
		s := startNATSandbox(t, py)
		if s.fetched != body {
			t.Errorf("the guest fetched %q, want %q", s.fetched, body)
		}
		if len(natDebris(t, s)) == 0 {
			t.Errorf("a live sandbox shows no veth, table or reaper: the test sees nothing")
		}
		checkReaperHostView(t, s)
		s.stdin.Close()
		err := <-s.exited
		s.exited <- err // for startSandbox's cleanup
		if err != nil {
			t.Fatalf("runsc do: %v; stderr: %s", err, s.stderr.String())
		}
		// runsc do waits for its reaper: nothing is left when it returns
		// but the namespace's own teardown, which the kernel finishes
		// once the last socket in it is closed.
		if d := natDebris(t, s); len(d) > 0 && !(len(d) == 1 && strings.Contains(d[0], "namespace")) {
			t.Errorf("after runsc do returned the host still has: %s", strings.Join(d, ", "))
		}
		if e := s.stderr.String(); strings.Contains(e, "netreaper") || strings.Contains(e, "network") {
			t.Errorf("runsc do's stderr has network complaints: %s", e)
		}
		waitNoDebris(t, "after exit", s)
		sameHostView(t, "after exit", before, hostNetView(t))
	})
	t.Run("two at once", func(t *testing.T) {
		a, b := startNATSandbox(t, py), startNATSandbox(t, py)
		if a.fetched != body || b.fetched != body {
			t.Errorf("fetched %q and %q, want %q", a.fetched, b.fetched, body)
		}
		var subnets []string
		for _, s := range []*natSandbox{a, b} {
			l, err := netlink.LinkByName("plsd" + s.id)
			if err != nil {
				t.Fatalf("sandbox %s: %v", s.id, err)
			}
			addrs, _ := netlink.AddrList(l, netlink.FAMILY_V4)
			if len(addrs) != 1 {
				t.Fatalf("plsd%s has %d IPv4 addresses, want 1", s.id, len(addrs))
			}
			subnets = append(subnets, addrs[0].IPNet.String())
		}
		if a.id == b.id || subnets[0] == subnets[1] {
			t.Errorf("two live sandboxes share an id (%s, %s) or a subnet (%v)", a.id, b.id, subnets)
		}
		for _, s := range []*natSandbox{a, b} {
			s.stdin.Close()
			err := <-s.exited
			s.exited <- err
			if err != nil {
				t.Errorf("runsc do: %v; stderr: %s", err, s.stderr.String())
			}
			waitNoDebris(t, "after two at once", s)
		}
		sameHostView(t, "after two at once", before, hostNetView(t))
	})
	t.Run("kill -9 runsc do", func(t *testing.T) {
		s := startNATSandbox(t, py)
		s.cmd.Process.Kill()
		waitNoDebris(t, "after kill -9 of runsc do", s)
		sameHostView(t, "after kill -9 of runsc do", before, hostNetView(t))
	})
	t.Run("kill -9 boot", func(t *testing.T) {
		s := startNATSandbox(t, py)
		unix.Kill(s.boot.pid, unix.SIGKILL)
		waitNoDebris(t, "after kill -9 of boot", s)
		sameHostView(t, "after kill -9 of boot", before, hostNetView(t))
	})
	t.Run("kill -9 gofer", func(t *testing.T) {
		s := startNATSandbox(t, py)
		unix.Kill(s.child(t, "gofer"), unix.SIGKILL)
		waitNoDebris(t, "after kill -9 of the gofer", s)
		sameHostView(t, "after kill -9 of the gofer", before, hostNetView(t))
	})
	t.Run("kill -9 reaper, then sweep", func(t *testing.T) {
		s := startNATSandbox(t, py)
		unix.Kill(s.reaper.pid, unix.SIGKILL)
		s.stdin.Close()
		s.exited <- <-s.exited
		// Left behind until the next start sweeps it: the test sees it.
		if d := natDebris(t, s); len(d) == 0 {
			t.Errorf("with its reaper killed, the sandbox left nothing: the debris check sees nothing")
		}
		if res := run(t, "/", runsc(t), "--network=sandbox", "do", "true"); res.status != 0 {
			t.Fatalf("runsc do true: %d: %s", res.status, res.stderr)
		}
		waitNoDebris(t, "after the next start's sweep", s)
		sameHostView(t, "after the sweep", before, hostNetView(t))
	})
	if now, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(now) != string(forward) {
		t.Errorf("net.ipv4.ip_forward was %q, now %q", forward, now)
	}
}

// isInitialNetns reports whether the test runs in the host's initial
// network namespace: PID 1's, or the one with the initial namespace's
// fixed inode (PROC_NET_INIT_INO) where PID 1's cannot be read.
func isInitialNetns() (bool, error) {
	var self unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &self); err != nil {
		return false, err
	}
	if self.Ino == 0xEFFFFFF9 {
		return true, nil
	}
	a, err1 := os.Readlink("/proc/self/ns/net")
	b, err2 := os.Readlink("/proc/1/ns/net")
	if err := errors.Join(err1, err2); err != nil {
		return false, err
	}
	return a == b, nil
}
