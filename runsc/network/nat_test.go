package network

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestLoopbackNameservers(t *testing.T) {
	old := resolvConf
	defer func() { resolvConf = old }()
	resolvConf = filepath.Join(t.TempDir(), "resolv.conf")
	for _, c := range []struct{ conf, want string }{
		{"nameserver 127.0.0.53\noptions edns0\n", "127.0.0.53"},
		{"nameserver 127.0.0.1\nnameserver ::1\n", "127.0.0.1 ::1"},
		{"nameserver 127.0.0.53\nnameserver 192.0.2.53\n", ""},
		{"search example\n", ""},
		{"# nameserver 127.0.0.1\nnameserver 10.0.0.2\n", ""},
	} {
		if err := os.WriteFile(resolvConf, []byte(c.conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := LoopbackNameservers(); got != c.want {
			t.Errorf("%q: got %q, want %q", c.conf, got, c.want)
		}
	}
}

// The sysctl is turned off again only if Palisade turned it on, and only
// when no sandbox is live.
func TestForwardingBookkeeping(t *testing.T) {
	old := ipForwardPath
	defer func() { ipForwardPath = old }()
	dir := t.TempDir()
	ipForwardPath = filepath.Join(dir, "ip_forward")
	read := func() string {
		b, _ := os.ReadFile(ipForwardPath)
		return string(b)
	}
	os.WriteFile(ipForwardPath, []byte("1\n"), 0o644)
	if err := enableForwarding(dir); err != nil {
		t.Fatal(err)
	}
	if err := restoreForwarding(dir, 0); err != nil || read() != "1\n" {
		t.Fatalf("already on: restore wrote %q (%v), want it left on", read(), err)
	}
	os.WriteFile(ipForwardPath, []byte("0\n"), 0o644)
	if err := enableForwarding(dir); err != nil || read() != "1\n" {
		t.Fatalf("enable: %q %v", read(), err)
	}
	if err := restoreForwarding(dir, 1); err != nil || read() != "1\n" {
		t.Fatalf("a live sandbox: restore wrote %q (%v)", read(), err)
	}
	if err := restoreForwarding(dir, 0); err != nil || read() != "0\n" {
		t.Fatalf("last sandbox: %q %v, want 0", read(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "forward")); !os.IsNotExist(err) {
		t.Errorf("marker still there: %v", err)
	}
}

func TestLiveSandboxes(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"sb-0000000a", "sb-0000000b", "lock"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	f, err := os.Open(filepath.Join(dir, "sb-0000000a"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	live, err := liveSandboxes(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || !live["0000000a"] {
		t.Errorf("live = %v, want only 0000000a (locked)", live)
	}
}

// In a fresh namespace where half the pool is routed, every pick is in
// the other half.
func TestPickSubnetAvoidsRoutes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	runtime.LockOSThread() // the thread dies with the test's goroutine
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Skipf("unshare: %v", err)
	}
	d := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "v0"}, PeerName: "v1"}
	if err := netlink.LinkAdd(d); err != nil {
		t.Fatal(err)
	}
	netlink.LinkSetUp(d)
	used := netip.MustParsePrefix("10.211.0.0/17")
	if err := netlink.AddrAdd(d, &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP("10.211.0.1"), Mask: net.CIDRMask(17, 32)}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		p, err := pickSubnet()
		if err != nil {
			t.Fatal(err)
		}
		if p.Bits() != 30 || !natPool.Contains(p.Addr()) || used.Overlaps(p) {
			t.Fatalf("picked %v: want a /30 of %v outside %v", p, natPool, used)
		}
	}
}

func TestIsID(t *testing.T) {
	for s, want := range map[string]bool{"0123abcd": true, "0123ABCD": false, "0123abc": false, "0123abcdx": false, "zzzzzzzz": false} {
		if isID(s) != want {
			t.Errorf("isID(%q) = %v", s, !want)
		}
	}
}
