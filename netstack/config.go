package netstack

import (
	"net/netip"
	"slices"
	"sort"

	"golang.org/x/sys/unix"
)

// Changes to the stack's configuration made from inside the sandbox
// (NETLINK_ROUTE's RTM_NEW*/DEL*), with Linux's errors.

// RouteAttrs are a route's rtnetlink attributes that do not change
// routing: its table, protocol, scope, metric and preferred source.
// Table 0 means a route the stack was built with, whose attributes the
// netlink layer derives from its interface.
type RouteAttrs struct {
	Table, Protocol, Scope uint8
	Priority               uint32
	PrefSrc                netip.Addr
}

// MinMTU is the smallest MTU an interface may be given (Linux's
// ETH_MIN_MTU; below it IPv4 does not work).
const MinMTU = 68

// maxAddrsPerNIC and maxRoutes bound what the guest may add.
const (
	maxAddrsPerNIC = 256
	maxRoutes      = 4096
)

// mtuLocked returns n's MTU: the one set, or the link's.
//
// Preconditions: Stack.mu is held.
func (n *NIC) mtuLocked() int {
	if n.mtu != 0 {
		return n.mtu
	}
	return n.link.MTU()
}

// AddInterfaceAddress assigns p to interface id: ENODEV if there is no
// such interface, EEXIST if the address is already there unless replace
// (then its prefix length is updated), ENOSPC beyond 256 addresses.
func (s *Stack) AddInterfaceAddress(id int32, p netip.Prefix, replace bool) error {
	if !p.IsValid() {
		return unix.EINVAL
	}
	p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits())
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nics[id]
	if n == nil {
		return unix.ENODEV
	}
	for k, q := range n.addrs {
		if q.Addr() == p.Addr() {
			if !replace {
				return unix.EEXIST
			}
			n.addrs[k] = p
			return nil
		}
	}
	if len(n.addrs) >= maxAddrsPerNIC {
		return unix.ENOSPC
	}
	n.addrs = append(n.addrs, p)
	return nil
}

// RemoveInterfaceAddress removes address p (with its prefix length) from
// interface id: ENODEV if there is no such interface, EADDRNOTAVAIL if the
// address is not assigned there with that length. The on-link route of
// its prefix goes with it when no other address of the interface is in
// that prefix.
func (s *Stack) RemoveInterfaceAddress(id int32, p netip.Prefix) error {
	p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits())
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nics[id]
	if n == nil {
		return unix.ENODEV
	}
	k := slices.Index(n.addrs, p)
	if k < 0 {
		return unix.EADDRNOTAVAIL
	}
	n.addrs = slices.Delete(n.addrs, k, k+1)
	pre := p.Masked()
	for _, q := range n.addrs {
		if q.Masked() == pre {
			return nil
		}
	}
	s.routes = slices.DeleteFunc(s.routes, func(r RouteEntry) bool {
		return r.NIC == id && r.Dst == pre && !r.Gateway.IsValid() &&
			(r.Attrs.Table == 0 || r.Attrs.Protocol == unix.RTPROT_KERNEL)
	})
	return nil
}

// sameRoute reports whether a and b have the same key: destination,
// table and metric (Linux's fib key).
func sameRoute(a, b RouteEntry) bool {
	return a.Dst == b.Dst && a.Attrs.Table == b.Attrs.Table && a.Attrs.Priority == b.Attrs.Priority
}

// AddRouteEntry adds r: ENODEV if its interface does not exist, EEXIST
// if a route with its destination, table and metric exists unless replace
// (then it is replaced), ENETUNREACH if its gateway is not on a prefix of
// the interface, ENOSPC beyond 4096 routes.
func (s *Stack) AddRouteEntry(r RouteEntry, replace bool) error {
	if !r.Dst.IsValid() {
		return unix.EINVAL
	}
	r.Dst = r.Dst.Masked()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nics[r.NIC]
	if n == nil {
		return unix.ENODEV
	}
	if r.Gateway.IsValid() && !s.onLinkLocked(n, r.Gateway) {
		return unix.ENETUNREACH
	}
	for k := range s.routes {
		if sameRoute(s.routes[k], r) {
			if !replace {
				return unix.EEXIST
			}
			s.routes[k] = r
			return nil
		}
	}
	if len(s.routes) >= maxRoutes {
		return unix.ENOSPC
	}
	s.routes = append(s.routes, r)
	sort.SliceStable(s.routes, func(i, j int) bool { return s.routes[i].Dst.Bits() > s.routes[j].Dst.Bits() })
	return nil
}

// onLinkLocked reports whether gw is reachable directly from n: in one of
// its address prefixes or of its gateway-less routes.
//
// Preconditions: Stack.mu is held.
func (s *Stack) onLinkLocked(n *NIC, gw netip.Addr) bool {
	gw = gw.Unmap()
	for _, p := range n.addrs {
		if p.Contains(gw) {
			return true
		}
	}
	for _, r := range s.routes {
		if r.NIC == n.ID && !r.Gateway.IsValid() && r.Dst.Contains(gw) {
			return true
		}
	}
	return false
}

// RemoveRouteEntry removes the route equal to r (the caller picks it
// from Routes): ESRCH if there is none (Linux's answer for a missing
// route).
func (s *Stack) RemoveRouteEntry(r RouteEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := slices.Index(s.routes, r)
	if k < 0 {
		return unix.ESRCH
	}
	s.routes = slices.Delete(s.routes, k, k+1)
	return nil
}

// SetInterfaceUp sets or clears IFF_UP of interface id (ENODEV if there
// is none). A NIC that is down keeps its addresses and routes, but drops
// what is sent through it and what it receives, and routes out of it
// are not used.
func (s *Stack) SetInterfaceUp(id int32, up bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nics[id]
	if n == nil {
		return unix.ENODEV
	}
	n.up.Store(up)
	return nil
}

// SetInterfaceMTU sets interface id's MTU: ENODEV if there is none, EINVAL
// below MinMTU or above what the link carries (loopback: 65536, an
// Ethernet link: the device's MTU). Connections keep the MTU they started
// with; new routes get the new one.
func (s *Stack) SetInterfaceMTU(id int32, mtu int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nics[id]
	if n == nil {
		return unix.ENODEV
	}
	if mtu < MinMTU || mtu > n.link.MTU() {
		return unix.EINVAL
	}
	n.mtu = mtu
	if mtu == n.link.MTU() {
		n.mtu = 0
	}
	return nil
}
