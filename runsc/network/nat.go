package network

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// StateDir holds the host-wide NAT bookkeeping: "lock" (flock'ed around
// every change), one "sb-ID" file per sandbox (flock'ed by its reaper for
// its whole life), and "forward" while Palisade is the one that turned
// net.ipv4.ip_forward on.
const StateDir = "/run/palisade/net"

// vethPrefix starts the host end's name: "plsd" and the sandbox id.
const vethPrefix = "plsd"

// natPool is where the sandboxes' /30 subnets are drawn from.
var natPool = netip.MustParsePrefix("10.211.0.0/16")

// ipForwardPath is the sysctl NAT needs on; a variable for tests.
var ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

// NAT is a sandbox's network in the host's initial namespace: a network
// namespace of its own (held only by the packet socket of its interface,
// so it and its veth end vanish when the sandbox dies), joined to the
// host by a veth pair on a /30, with masquerade for that /30.
type NAT struct {
	// ID names everything NAT made on the host: the veth "plsdID", the
	// nftables table "palisade-ID", the state file "sb-ID".
	ID string
	// Veth is the host end's name; Subnet its /30 (host .1, sandbox .2).
	Veth   string
	Subnet netip.Prefix
	// Takeover holds the sandbox end's description and packet socket.
	Takeover *Takeover
}

// VethName is the host end of sandbox id's veth pair.
func VethName(id string) string { return vethPrefix + id }

// lockDir takes the host-wide lock of dir (created if missing).
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, os.NewSyscallError("flock", err)
	}
	return f, nil
}

// SetUpNAT makes sandbox networking in the host's initial namespace.
// First it sweeps what dead sandboxes left, then it makes and locks the
// sandbox's state file and calls startReaper with it: from then on, the
// reaper owns the host state and removes it when the sandbox is gone
// (it must hold the file; runsc closes its copy). Only then does it
// change the host. On error, what was made is left for the reaper.
func SetUpNAT(dir string, startReaper func(id string, state *os.File) error) (*NAT, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	defer lock.Close()
	if err := sweep(dir); err != nil {
		fmt.Fprintf(os.Stderr, "runsc: removing what dead sandboxes left: %v\n", err)
	}
	var idb [4]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return nil, err
	}
	n := &NAT{ID: hex.EncodeToString(idb[:])}
	n.Veth = VethName(n.ID)
	state, err := os.OpenFile(filepath.Join(dir, "sb-"+n.ID), os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	defer state.Close()
	if err := unix.Flock(int(state.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		os.Remove(state.Name())
		return nil, os.NewSyscallError("flock", err)
	}
	if err := startReaper(n.ID, state); err != nil {
		os.Remove(state.Name())
		return nil, err
	}
	if n.Subnet, err = pickSubnet(); err != nil {
		return nil, err
	}
	fmt.Fprintf(state, "veth %s\nsubnet %s\n", n.Veth, n.Subnet)
	if err := enableForwarding(dir); err != nil {
		return nil, err
	}
	ns, err := newNetns()
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	if err := n.makeVeth(ns); err != nil {
		return nil, err
	}
	if err := addRules(n.ID, n.Veth, n.Subnet); err != nil {
		return nil, err
	}
	// The sandbox's packet socket now holds the namespace; runsc's
	// descriptor of it closes on return.
	n.Takeover, err = TakeOver(fmt.Sprintf("/proc/self/fd/%d", ns.Fd()))
	if err != nil {
		return nil, err
	}
	return n, nil
}

// pickSubnet draws a /30 of natPool that overlaps no route (in any table)
// and no address of the host's namespace, which covers the other
// sandboxes' (their host ends hold .1): callers hold the lock.
func pickSubnet() (netip.Prefix, error) {
	var used []netip.Prefix
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("listing routes: %w", err)
	}
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		if p, ok := ipNetPrefix(r.Dst); ok && p.Bits() > 0 {
			used = append(used, p)
		}
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("listing addresses: %w", err)
	}
	for _, a := range addrs {
		if p, ok := ipNetPrefix(a.IPNet); ok {
			used = append(used, p)
		}
	}
	blocks := uint32(1) << (30 - natPool.Bits())
	base := binary.BigEndian.Uint32(natPool.Addr().AsSlice())
	var rb [4]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return netip.Prefix{}, err
	}
	start := binary.BigEndian.Uint32(rb[:]) % blocks
	for i := uint32(0); i < blocks; i++ {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], base+((start+i)%blocks)*4)
		p := netip.PrefixFrom(netip.AddrFrom4(a), 30)
		free := true
		for _, u := range used {
			if u.Overlaps(p) {
				free = false
				break
			}
		}
		if free {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /30 in %s", natPool)
}

func ipNetPrefix(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

// newNetns makes a network namespace and returns a descriptor of it,
// leaving the calling thread where it was.
func newNetns() (*os.File, error) {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer orig.Close()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, os.NewSyscallError("unshare(CLONE_NEWNET)", err)
	}
	ns, nerr := os.Open("/proc/thread-self/ns/net")
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked and dies with this goroutine.
		if ns != nil {
			ns.Close()
		}
		return nil, os.NewSyscallError("setns", err)
	}
	runtime.UnlockOSThread()
	return ns, nerr
}

// makeVeth creates the pair, the host end (n.Veth, .1) in the caller's
// namespace and the sandbox's ("eth0", .2, default route via .1) in ns.
func (n *NAT) makeVeth(ns *os.File) error {
	hostIP := n.Subnet.Addr().Next()
	guestIP := hostIP.Next()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: n.Veth}, PeerName: "eth0", PeerNamespace: netlink.NsFd(ns.Fd())}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("creating veth %s: %w", n.Veth, err)
	}
	host, err := netlink.LinkByName(n.Veth)
	if err != nil {
		return err
	}
	mask := net.CIDRMask(n.Subnet.Bits(), 32)
	if err := netlink.LinkSetUp(host); err != nil {
		return fmt.Errorf("%s up: %w", n.Veth, err)
	}
	if err := netlink.AddrAdd(host, &netlink.Addr{IPNet: &net.IPNet{IP: hostIP.AsSlice(), Mask: mask}}); err != nil {
		return fmt.Errorf("%s address: %w", n.Veth, err)
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(ns.Fd()))
	if err != nil {
		return err
	}
	defer h.Close()
	inner, err := h.LinkByName("eth0")
	if err != nil {
		return err
	}
	if err := h.LinkSetUp(inner); err != nil {
		return fmt.Errorf("sandbox eth0 up: %w", err)
	}
	if err := h.AddrAdd(inner, &netlink.Addr{IPNet: &net.IPNet{IP: guestIP.AsSlice(), Mask: mask}}); err != nil {
		return fmt.Errorf("sandbox eth0 address: %w", err)
	}
	if err := h.RouteAdd(&netlink.Route{LinkIndex: inner.Attrs().Index, Gw: hostIP.AsSlice()}); err != nil {
		return fmt.Errorf("sandbox default route: %w", err)
	}
	return nil
}

// enableForwarding turns net.ipv4.ip_forward on if it is off, and then
// records (the "forward" file) that Palisade did, so that the last
// sandbox turns it off again.
func enableForwarding(dir string) error {
	b, err := os.ReadFile(ipForwardPath)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(b)) != "0" {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, "forward"), nil, 0o600); err != nil {
		return err
	}
	return os.WriteFile(ipForwardPath, []byte("1\n"), 0o644)
}

// restoreForwarding turns ip_forward off again if Palisade turned it on
// and no live sandbox remains (callers hold the lock and swept).
func restoreForwarding(dir string, live int) error {
	marker := filepath.Join(dir, "forward")
	if _, err := os.Stat(marker); err != nil || live > 0 {
		return nil
	}
	if err := os.WriteFile(ipForwardPath, []byte("0\n"), 0o644); err != nil {
		return err
	}
	return os.Remove(marker)
}

// Cleanup removes what sandbox id made on the host (its nftables table
// and rules, its veth, its state file), sweeps what dead sandboxes left,
// and turns ip_forward back off if Palisade turned it on and no sandbox
// is left. What is already gone is no error. It runs in the reaper.
func Cleanup(dir, id string) error {
	lock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer lock.Close()
	err = removeSandbox(dir, id)
	return errors.Join(err, sweep(dir))
}

// removeSandbox removes sandbox id's host state (callers hold the lock).
func removeSandbox(dir, id string) error {
	var errs []error
	if err := removeRules(id); err != nil {
		errs = append(errs, err)
	}
	if l, err := netlink.LinkByName(VethName(id)); err == nil {
		if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", VethName(id), err))
		}
	}
	if err := os.Remove(filepath.Join(dir, "sb-"+id)); err != nil && !os.IsNotExist(err) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// sweep removes the host state of every sandbox whose reaper is gone
// (its state file is not locked), and any palisade table, rule or veth
// without a state file; then restores ip_forward if no sandbox is live.
// Callers hold the lock.
func sweep(dir string) error {
	live, err := liveSandboxes(dir)
	if err != nil {
		return err
	}
	var errs []error
	owners, err := Owners()
	if err != nil {
		errs = append(errs, err)
		owners = map[string]bool{}
	}
	if links, err := netlink.LinkList(); err == nil {
		for _, l := range links {
			if id, ok := strings.CutPrefix(l.Attrs().Name, vethPrefix); ok && isID(id) {
				owners[id] = true
			}
		}
	} else {
		errs = append(errs, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, e := range entries {
		if id, ok := strings.CutPrefix(e.Name(), "sb-"); ok {
			owners[id] = true
		}
	}
	for id := range owners {
		if !live[id] {
			if err := removeSandbox(dir, id); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := restoreForwarding(dir, len(live)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// liveSandboxes returns the ids whose state file is locked by a reaper
// (or by the runsc setting it up).
func liveSandboxes(dir string) (map[string]bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	live := map[string]bool{}
	for _, e := range entries {
		id, ok := strings.CutPrefix(e.Name(), "sb-")
		if !ok {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); errors.Is(err, unix.EWOULDBLOCK) {
			live[id] = true
		}
		f.Close()
	}
	return live, nil
}

// isID reports whether s has the form of a sandbox id (8 hex digits).
func isID(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// resolvConf is the host's resolver configuration, which the sandbox
// sees unchanged (its root is the host's under an overlay).
var resolvConf = "/etc/resolv.conf"

// LoopbackNameservers returns the nameservers of the host's resolv.conf,
// space-separated, when every one is a loopback address (systemd-resolved's
// 127.0.0.53, a local dnsmasq): the sandbox's loopback is its own, so it
// cannot reach them. It returns "" otherwise, or when there are none.
func LoopbackNameservers() string {
	b, err := os.ReadFile(resolvConf)
	if err != nil {
		return ""
	}
	var all []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		if !a.Unmap().IsLoopback() {
			return ""
		}
		all = append(all, f[1])
	}
	return strings.Join(all, " ")
}
