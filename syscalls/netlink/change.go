package netlink

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// NETLINK_ROUTE requests that change the stack: RTM_NEWADDR/DELADDR,
// RTM_NEWROUTE/DELROUTE and RTM_NEWLINK/SETLINK (IFF_UP and the MTU).
// Linux's order of checks: CAP_NET_ADMIN, the family's handler, the
// message's form (EINVAL), the device (ENODEV), then the object.

// Configurer is what changes take from the source (netstack.Stack
// implements it, in netstack/config.go).
type Configurer interface {
	AddInterfaceAddress(id int32, p netip.Prefix, replace bool) error
	RemoveInterfaceAddress(id int32, p netip.Prefix) error
	AddRouteEntry(r netstack.RouteEntry, replace bool) error
	RemoveRouteEntry(r netstack.RouteEntry) error
	SetInterfaceUp(id int32, up bool) error
	SetInterfaceMTU(id int32, mtu int) error
}

const (
	rtScopeNowhere = 255
	ip6RoutePrio   = 1024 // IP6_RT_PRIO_USER: an IPv6 route's default metric
	ip6PrefixPrio  = 256  // IP6_RT_PRIO_ADDRCONF: an address's prefix route
)

// errnoOf turns the stack's errors into errnos.
func errnoOf(err error) unix.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EINVAL
}

// isChange says whether typ is a request that changes the stack.
func isChange(typ uint16) bool {
	switch typ {
	case unix.RTM_NEWADDR, unix.RTM_DELADDR, unix.RTM_NEWROUTE, unix.RTM_DELROUTE,
		unix.RTM_NEWLINK, unix.RTM_SETLINK, unix.RTM_DELLINK:
		return true
	}
	return false
}

// notifier sends the notifications of one change: to the request's
// groups, with its sequence number and port, as Linux's rtnl_notify.
type notifier struct {
	h Header
	o Options
}

func (n notifier) send(group int, typ uint16, msg []byte) {
	if n.o.Notify == nil {
		return
	}
	binary.LittleEndian.PutUint16(msg[4:], typ)
	n.o.Notify(group, msg, n.h.Flags&unix.NLM_F_ECHO != 0)
}

func addrGroup(fam uint8) int {
	if fam == unix.AF_INET {
		return unix.RTNLGRP_IPV4_IFADDR
	}
	return unix.RTNLGRP_IPV6_IFADDR
}

func routeGroup(fam uint8) int {
	if fam == unix.AF_INET {
		return unix.RTNLGRP_IPV4_ROUTE
	}
	return unix.RTNLGRP_IPV6_ROUTE
}

// handleChange serves a request that changes the stack; the answer is an
// NLMSG_ERROR (an acknowledgement when it worked and NLM_F_ACK is set).
// What changed is announced to the group of its kind (RTNLGRP_LINK,
// RTNLGRP_IPV4_IFADDR, ...); the side effects (an address's prefix
// route) are not.
func handleChange(src Source, h Header, body []byte, o Options) unix.Errno {
	n := notifier{h: h, o: o}
	if !o.Admin {
		return unix.EPERM
	}
	if len(body) < 1 {
		// rtnetlink ignores a message without even a family byte.
		return 0
	}
	c, ok := src.(Configurer)
	if !ok {
		return unix.EOPNOTSUPP
	}
	switch h.Type {
	case unix.RTM_NEWADDR, unix.RTM_DELADDR:
		return changeAddr(src, c, h, body, n)
	case unix.RTM_NEWROUTE, unix.RTM_DELROUTE:
		return changeRoute(src, c, h, body, n)
	case unix.RTM_NEWLINK, unix.RTM_SETLINK:
		return changeLink(src, c, h, body, n)
	}
	// RTM_DELLINK: no interface can be deleted (loopback cannot on
	// Linux either; the others are the sandbox's link).
	return unix.EOPNOTSUPP
}

// addrAttr returns the address in attribute b of family fam: EINVAL if
// its length is not the family's.
func addrAttr(b []byte, fam uint8) (netip.Addr, unix.Errno) {
	switch {
	case fam == unix.AF_INET && len(b) == 4:
		return netip.AddrFrom4([4]byte(b)), 0
	case fam == unix.AF_INET6 && len(b) == 16:
		return netip.AddrFrom16([16]byte(b)), 0
	}
	return netip.Addr{}, unix.EINVAL
}

func maxBits(fam uint8) int {
	if fam == unix.AF_INET {
		return 32
	}
	return 128
}

// ifInfo returns the interface with index id, if any.
func ifInfo(src Source, id int32) (netstack.InterfaceInfo, bool) {
	for _, i := range src.Interfaces() {
		if i.ID == id {
			return i, true
		}
	}
	return netstack.InterfaceInfo{}, false
}

// changeAddr serves RTM_NEWADDR and RTM_DELADDR (struct ifaddrmsg, then
// IFA_LOCAL and IFA_ADDRESS; the others are accepted and not applied).
func changeAddr(src Source, c Configurer, h Header, body []byte, n notifier) unix.Errno {
	fam := body[0]
	if fam != unix.AF_INET && fam != unix.AF_INET6 {
		return unix.EOPNOTSUPP
	}
	if len(body) < ifaddrLen {
		return unix.EINVAL
	}
	plen := int(body[1])
	idx := int32(binary.LittleEndian.Uint32(body[4:]))
	as, ok := attrs(body[ifaddrLen:])
	if !ok || plen > maxBits(fam) {
		return unix.EINVAL
	}
	var local, peer netip.Addr
	var err unix.Errno
	if b, ok := as[unix.IFA_LOCAL]; ok {
		if local, err = addrAttr(b, fam); err != 0 {
			return err
		}
	}
	if b, ok := as[unix.IFA_ADDRESS]; ok {
		if peer, err = addrAttr(b, fam); err != 0 {
			return err
		}
	}
	if l, ok := as[unix.IFA_LABEL]; ok && len(l) > unix.IFNAMSIZ {
		return unix.EINVAL
	}
	if !local.IsValid() {
		local = peer // IPv6 names it IFA_ADDRESS
	}
	in, ok := ifInfo(src, idx)
	if h.Type == unix.RTM_DELADDR {
		if !ok {
			return unix.ENODEV
		}
		// The first address of the family that matches what the
		// request gives: the local address, the prefix length with
		// IFA_ADDRESS (IPv6: both always).
		for _, p := range in.Addrs {
			if familyOf(p.Addr()) != fam || (local.IsValid() && p.Addr() != local) {
				continue
			}
			if (peer.IsValid() || fam == unix.AF_INET6) && p.Bits() != plen {
				continue
			}
			if fam == unix.AF_INET6 && !local.IsValid() {
				return unix.EINVAL
			}
			if err := c.RemoveInterfaceAddress(idx, p); err != nil {
				return errnoOf(err)
			}
			n.send(addrGroup(fam), unix.RTM_DELADDR, addrMsg(&in, p, 0, h.Seq, n.o.PortID))
			return 0
		}
		if fam == unix.AF_INET6 && !local.IsValid() {
			return unix.EINVAL
		}
		return unix.EADDRNOTAVAIL
	}
	if !local.IsValid() {
		return unix.EINVAL
	}
	if !ok {
		return unix.ENODEV
	}
	if fam == unix.AF_INET6 && (local.IsUnspecified() || local.IsMulticast()) {
		return unix.EINVAL
	}
	p := netip.PrefixFrom(local, plen)
	if err := c.AddInterfaceAddress(idx, p, h.Flags&unix.NLM_F_REPLACE != 0); err != nil {
		return errnoOf(err)
	}
	if now, ok := ifInfo(src, idx); ok {
		n.send(addrGroup(fam), unix.RTM_NEWADDR, addrMsg(&now, p, 0, h.Seq, n.o.PortID))
	}
	// The prefix route Linux adds with an address (not for a host
	// address): on loopback an IPv4 one is a local route.
	if plen == maxBits(fam) {
		return 0
	}
	r := netstack.RouteEntry{Dst: p.Masked(), NIC: idx}
	r.Attrs.Protocol = unix.RTPROT_KERNEL
	switch {
	case fam == unix.AF_INET6:
		r.Attrs.Table, r.Attrs.Priority = unix.RT_TABLE_MAIN, ip6PrefixPrio
	case !in.Loopback:
		r.Attrs.Table, r.Attrs.Scope = unix.RT_TABLE_MAIN, unix.RT_SCOPE_LINK
		r.Attrs.PrefSrc = local
	default:
		r.Attrs.PrefSrc = local
	}
	if err := c.AddRouteEntry(r, false); err != nil && err != unix.EEXIST {
		return errnoOf(err)
	}
	return 0
}

// routeRequest is a parsed RTM_NEWROUTE or RTM_DELROUTE.
type routeRequest struct {
	fam                        uint8
	dst                        netip.Prefix
	table, proto, scope, typ   uint8
	oif                        int32
	gw, prefsrc                netip.Addr
	priority                   uint32
	hasOIF, hasGW, hasPriority bool
}

// parseRoute decodes struct rtmsg and its attributes: EINVAL for what is
// malformed, EOPNOTSUPP for multipath and RTA_VIA.
func parseRoute(body []byte) (routeRequest, unix.Errno) {
	if len(body) < rtmsgLen {
		return routeRequest{}, unix.EINVAL
	}
	r := routeRequest{fam: body[0], table: body[4], proto: body[5], scope: body[6], typ: body[7]}
	dlen := int(body[1])
	if dlen > maxBits(r.fam) || body[2] != 0 {
		return r, unix.EINVAL // source routing (rtm_src_len) is not done
	}
	as, ok := attrs(body[rtmsgLen:])
	if !ok {
		return r, unix.EINVAL
	}
	var err unix.Errno
	dst := netip.IPv4Unspecified()
	if r.fam == unix.AF_INET6 {
		dst = netip.IPv6Unspecified()
	}
	if b, ok := as[unix.RTA_DST]; ok {
		if dst, err = addrAttr(b, r.fam); err != 0 {
			return r, err
		}
	}
	r.dst = netip.PrefixFrom(dst, dlen)
	if b, ok := as[unix.RTA_GATEWAY]; ok {
		if r.gw, err = addrAttr(b, r.fam); err != 0 {
			return r, err
		}
		r.hasGW = true
	}
	if b, ok := as[unix.RTA_PREFSRC]; ok {
		if r.prefsrc, err = addrAttr(b, r.fam); err != 0 {
			return r, err
		}
	}
	u32 := func(typ uint16, set func(uint32)) unix.Errno {
		if b, ok := as[typ]; ok {
			if len(b) != 4 {
				return unix.EINVAL
			}
			set(binary.LittleEndian.Uint32(b))
		}
		return 0
	}
	if err := u32(unix.RTA_OIF, func(v uint32) { r.oif, r.hasOIF = int32(v), true }); err != 0 {
		return r, err
	}
	if err := u32(unix.RTA_PRIORITY, func(v uint32) { r.priority, r.hasPriority = v, true }); err != 0 {
		return r, err
	}
	var table uint32
	if err := u32(unix.RTA_TABLE, func(v uint32) { table = v }); err != 0 {
		return r, err
	}
	if table > 255 {
		return r, unix.EOPNOTSUPP
	}
	if table != 0 {
		r.table = uint8(table)
	}
	if m, ok := as[unix.RTA_METRICS]; ok {
		if _, ok := attrs(m); !ok {
			return r, unix.EINVAL
		}
	}
	if _, ok := as[unix.RTA_MULTIPATH]; ok {
		return r, unix.EOPNOTSUPP
	}
	if _, ok := as[unix.RTA_VIA]; ok {
		return r, unix.EOPNOTSUPP
	}
	return r, 0
}

// changeRoute serves RTM_NEWROUTE and RTM_DELROUTE: unicast routes of the
// main table only (another table or type is EOPNOTSUPP).
func changeRoute(src Source, c Configurer, h Header, body []byte, n notifier) unix.Errno {
	if fam := body[0]; fam != unix.AF_INET && fam != unix.AF_INET6 {
		return unix.EOPNOTSUPP
	}
	r, err := parseRoute(body)
	if err != 0 {
		return err
	}
	if r.table == unix.RT_TABLE_UNSPEC {
		r.table = unix.RT_TABLE_MAIN
	}
	if h.Type == unix.RTM_DELROUTE {
		return deleteRoute(src, c, &r, n)
	}
	if r.table != unix.RT_TABLE_MAIN || r.typ != unix.RTN_UNICAST {
		return unix.EOPNOTSUPP
	}
	if r.hasOIF {
		if _, ok := ifInfo(src, r.oif); !ok {
			return unix.ENODEV
		}
	}
	if !r.hasOIF {
		if !r.hasGW {
			return unix.ENODEV
		}
		// The gateway's interface: the one it is on-link from.
		r.oif = onLinkNIC(src, r.gw)
		if r.oif == 0 {
			return unix.ENETUNREACH
		}
	}
	if !r.hasPriority && r.fam == unix.AF_INET6 {
		r.priority = ip6RoutePrio
	}
	e := netstack.RouteEntry{Dst: r.dst.Masked(), NIC: r.oif}
	if r.hasGW && !r.gw.IsUnspecified() {
		e.Gateway = r.gw
	}
	e.Attrs = netstack.RouteAttrs{Table: r.table, Protocol: r.proto, Scope: r.scope, Priority: r.priority, PrefSrc: r.prefsrc}
	exists := false
	for _, x := range src.Routes() {
		if x.Dst == e.Dst && x.Attrs.Table == e.Attrs.Table && x.Attrs.Priority == e.Attrs.Priority {
			exists = true
		}
	}
	if !exists && h.Flags&unix.NLM_F_CREATE == 0 {
		return unix.ENOENT
	}
	if err := c.AddRouteEntry(e, h.Flags&unix.NLM_F_REPLACE != 0); err != nil {
		return errnoOf(err)
	}
	for _, x := range routeEntries(src) {
		if x.entry != nil && *x.entry == e {
			n.send(routeGroup(r.fam), unix.RTM_NEWROUTE, routeMsg(&x, 0, h.Seq, n.o.PortID))
			break
		}
	}
	return 0
}

// onLinkNIC returns the interface gw is directly reachable from (an
// address prefix or a route without gateway holds it), or 0.
func onLinkNIC(src Source, gw netip.Addr) int32 {
	for _, i := range src.Interfaces() {
		for _, p := range i.Addrs {
			if p.Contains(gw) && p.Bits() < p.Addr().BitLen() {
				return i.ID
			}
		}
	}
	for _, x := range src.Routes() {
		if !x.Gateway.IsValid() && x.Dst.Contains(gw) {
			return x.NIC
		}
	}
	return 0
}

// deleteRoute removes the route r selects, as Linux's fib_table_delete:
// destination and table always, interface, gateway, metric, protocol,
// scope and type when given. ESRCH if none does.
func deleteRoute(src Source, c Configurer, r *routeRequest, n notifier) unix.Errno {
	for _, e := range routeEntries(src) {
		if e.entry == nil || e.dst != r.dst.Masked() || e.table != r.table ||
			(r.hasOIF && r.oif != e.oif) || (r.hasGW && r.gw != e.gw) ||
			(r.hasPriority && r.priority != e.priority) ||
			(r.proto != 0 && r.proto != e.proto) ||
			(r.scope != rtScopeNowhere && r.scope != e.scope) ||
			(r.typ != unix.RTN_UNSPEC && r.typ != e.typ) {
			continue
		}
		if err := c.RemoveRouteEntry(*e.entry); err != nil {
			return errnoOf(err)
		}
		n.send(routeGroup(r.fam), unix.RTM_DELROUTE, routeMsg(&e, 0, n.h.Seq, n.o.PortID))
		return 0
	}
	return unix.ESRCH
}

// changeLink serves RTM_NEWLINK and RTM_SETLINK on an existing interface:
// IFF_UP (ifi_flags under ifi_change) and IFLA_MTU. Creating an
// interface, renaming one and changing its address are EOPNOTSUPP.
func changeLink(src Source, c Configurer, h Header, body []byte, n notifier) unix.Errno {
	if len(body) < ifinfoLen {
		return unix.EINVAL
	}
	idx := int32(binary.LittleEndian.Uint32(body[4:]))
	flags := binary.LittleEndian.Uint32(body[8:])
	change := binary.LittleEndian.Uint32(body[12:])
	as, ok := attrs(body[ifinfoLen:])
	if !ok {
		return unix.EINVAL
	}
	name, hasName := as[unix.IFLA_IFNAME]
	if hasName && (len(name) > unix.IFNAMSIZ || len(cstring(name)) >= unix.IFNAMSIZ) {
		return unix.EINVAL
	}
	mtuB, hasMTU := as[unix.IFLA_MTU]
	if hasMTU && len(mtuB) != 4 {
		return unix.EINVAL
	}
	if li, ok := as[unix.IFLA_LINKINFO]; ok {
		if _, ok := attrs(li); !ok {
			return unix.EINVAL
		}
	}
	var in netstack.InterfaceInfo
	found := false
	for _, i := range src.Interfaces() {
		if (idx > 0 && i.ID == idx) || (idx <= 0 && hasName && i.Name == cstring(name)) {
			in, found = i, true
			break
		}
	}
	if !found {
		if idx <= 0 && !hasName && h.Type == unix.RTM_SETLINK {
			return unix.EINVAL
		}
		if h.Type == unix.RTM_NEWLINK && idx <= 0 && h.Flags&unix.NLM_F_CREATE != 0 {
			return unix.EOPNOTSUPP // creating interfaces
		}
		return unix.ENODEV
	}
	if hasName && idx > 0 && cstring(name) != in.Name {
		return unix.EOPNOTSUPP // renaming
	}
	if _, ok := as[unix.IFLA_ADDRESS]; ok {
		return unix.EOPNOTSUPP
	}
	if hasMTU {
		if err := c.SetInterfaceMTU(in.ID, int(binary.LittleEndian.Uint32(mtuB))); err != nil {
			return errnoOf(err)
		}
	}
	changed := hasMTU && int(binary.LittleEndian.Uint32(mtuB)) != in.MTU
	if flags != 0 || change != 0 {
		// rtnl_dev_combine_flags: without ifi_change, ifi_flags is
		// taken whole.
		up := flags&unix.IFF_UP != 0
		if change != 0 && change&unix.IFF_UP == 0 {
			up = in.Up
		}
		if up != in.Up {
			if err := c.SetInterfaceUp(in.ID, up); err != nil {
				return errnoOf(err)
			}
			changed = true
		}
	}
	if now, ok := ifInfo(src, in.ID); ok && changed {
		n.send(unix.RTNLGRP_LINK, unix.RTM_NEWLINK, linkMsg(&now, 0, h.Seq, n.o.PortID))
	}
	return 0
}

// readOnly hides a source's Configurer: changes are EOPNOTSUPP.
type readOnly struct{ Source }

// ReadOnly returns src without its means of change: --network=host,
// where the guest's sockets are the host's and the stack netlink shows
// carries none of them, answers changes with EOPNOTSUPP.
func ReadOnly(src Source) Source { return readOnly{src} }
