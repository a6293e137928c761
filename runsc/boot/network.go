package boot

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
)

// Link describes one interface of the network namespace the sandbox took
// over (--network=sandbox): runsc reads it over netlink, removes its
// addresses from the host's side and opens a packet socket bound to it,
// which the boot process inherits at FD. It travels as JSON (the
// ContainerConfig, or runsc boot's --links flag).
type Link struct {
	// Name and Index are the interface's name and index in that
	// namespace; the sandbox uses them too.
	Name  string `json:"name"`
	Index int32  `json:"index"`
	// FD is the packet socket (AF_PACKET, SOCK_RAW, ETH_P_ALL, bound to
	// the interface, PACKET_VNET_HDR set) in the boot process.
	FD int `json:"fd"`
	// MAC is the interface's hardware address, MTU its MTU.
	MAC string `json:"mac"`
	MTU int    `json:"mtu"`
	// Addresses are its addresses with prefix lengths ("10.0.0.2/24").
	Addresses []string `json:"addresses"`
	// Routes are the main table's routes out of it.
	Routes []LinkRoute `json:"routes,omitempty"`
}

// LinkRoute is a route: Dst ("0.0.0.0/0" for the default), through
// Gateway if set, on-link otherwise.
type LinkRoute struct {
	Dst     string `json:"dst"`
	Gateway string `json:"gateway,omitempty"`
}

// Smallest and largest MTU a link may claim (IPv4's minimum, RFC 791;
// 64 KiB), and the smallest IPv6 works over (RFC 8200): as Linux, a link
// below it carries no IPv6.
const (
	minLinkMTU = 68
	maxLinkMTU = 65535
	minIPv6MTU = 1280
)

// newStack builds the sandbox's network stack: loopback and the
// transports (inet.NewStack), then an Ethernet interface over each link.
func newStack(links []Link, logf func(format string, args ...any)) (*netstack.Stack, error) {
	s := inet.NewStack(logf)
	for _, l := range links {
		if err := addLink(s, l); err != nil {
			return nil, fmt.Errorf("interface %s: %w", l.Name, err)
		}
	}
	return s, nil
}

func addLink(s *netstack.Stack, l Link) error {
	hw, err := net.ParseMAC(l.MAC)
	if err != nil || len(hw) != 6 {
		return fmt.Errorf("bad MAC %q", l.MAC)
	}
	if l.MTU < minLinkMTU || l.MTU > maxLinkMTU {
		return fmt.Errorf("MTU %d out of range", l.MTU)
	}
	if l.Index <= 1 || l.FD < 3 {
		return fmt.Errorf("bad index %d or descriptor %d", l.Index, l.FD)
	}
	var addrs []netip.Prefix
	for _, a := range l.Addresses {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			return err
		}
		if p.Addr().Is6() && l.MTU < minIPv6MTU {
			continue
		}
		addrs = append(addrs, p)
	}
	var routes []netstack.RouteEntry
	for _, r := range l.Routes {
		dst, err := netip.ParsePrefix(r.Dst)
		if err != nil {
			return err
		}
		if dst.Addr().Is6() && l.MTU < minIPv6MTU {
			continue
		}
		re := netstack.RouteEntry{Dst: dst.Masked(), NIC: l.Index}
		if r.Gateway != "" {
			if re.Gateway, err = netip.ParseAddr(r.Gateway); err != nil {
				return err
			}
		}
		routes = append(routes, re)
	}
	ps, err := netstack.NewPacketSocket(l.FD, true)
	if err != nil {
		return err
	}
	if err := s.AddEthernetNIC(l.Index, l.Name, netstack.NewEthernet(header.MAC(hw), l.MTU, ps)); err != nil {
		ps.Close()
		return err
	}
	for _, p := range addrs {
		if err := s.AddAddress(l.Index, p); err != nil {
			return err
		}
	}
	for _, r := range routes {
		s.AddRoute(r)
	}
	return nil
}

// linkFDs are the packet sockets of links, which the Sentry's seccomp
// filter lets recvmmsg and sendmmsg use.
func linkFDs(links []Link) []int {
	var fds []int
	for _, l := range links {
		fds = append(fds, l.FD)
	}
	return fds
}

// Late links. An OCI container's network namespace is often configured
// by its prestart hooks (docker's libnetwork moves the container's veth
// in), which run after the sandbox has started: runsc create takes the
// namespace over after them and hands each interface to the running
// Sentry (AttachLink, through the control socket). Their packet sockets
// are moved to descriptor numbers reserved at start-up, which the
// Sentry's seccomp filter names from the beginning.
const (
	// lateLinkBase is the first reserved descriptor number: above what
	// boot holds at start-up, reserved before anything else is opened.
	lateLinkBase = 240
	// maxLateLinks is the number of reserved descriptors (interfaces).
	maxLateLinks = 16
)

// lateLinks are the reserved descriptors and how many are used.
var lateLinks struct {
	mu sync.Mutex
	// slots are the reserved descriptor numbers, nil until reserved.
	// Immutable once set.
	slots []int
	// used counts the slots holding a packet socket. Protected by mu.
	used int
}

// reserveLateLinkSlots takes the reserved descriptor numbers, each a
// placeholder (the read end of an empty pipe) until a link replaces it,
// and returns them for the seccomp filter.
func reserveLateLinkSlots() ([]int, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, err
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	slots := make([]int, 0, maxLateLinks)
	for i := 0; i < maxLateLinks; i++ {
		fd := lateLinkBase + i
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			return nil, fmt.Errorf("descriptor %d, reserved for network links, is in use", fd)
		}
		if err := unix.Dup3(p[0], fd, unix.O_CLOEXEC); err != nil {
			return nil, err
		}
		slots = append(slots, fd)
	}
	lateLinks.slots = slots
	return slots, nil
}

// AttachLink adds interface l, whose packet socket is fd (taken over:
// closed on failure too), to the sandbox's network stack, whose kernel
// is k.
func AttachLink(k any, l Link, fd int) error {
	lateLinks.mu.Lock()
	defer lateLinks.mu.Unlock()
	if lateLinks.used >= len(lateLinks.slots) {
		unix.Close(fd)
		return fmt.Errorf("no room for interface %s: the sandbox takes at most %d", l.Name, len(lateLinks.slots))
	}
	slot := lateLinks.slots[lateLinks.used]
	err := unix.Dup3(fd, slot, unix.O_CLOEXEC)
	unix.Close(fd)
	if err != nil {
		return err
	}
	l.FD = slot
	if err := addLink(inet.StackFor(k, nil), l); err != nil {
		// The slot keeps the socket; it is not reused.
		lateLinks.used++
		return fmt.Errorf("interface %s: %w", l.Name, err)
	}
	lateLinks.used++
	inet.TakeNotice(k) // the loopback-only notice no longer holds
	return nil
}
