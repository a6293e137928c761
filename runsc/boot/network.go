package boot

import (
	"fmt"
	"net"
	"net/netip"

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

// Largest and smallest MTU a link may claim (IPv6's minimum; 64 KiB).
const (
	minLinkMTU = 1280
	maxLinkMTU = 65535
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
		addrs = append(addrs, p)
	}
	var routes []netstack.RouteEntry
	for _, r := range l.Routes {
		dst, err := netip.ParsePrefix(r.Dst)
		if err != nil {
			return err
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
