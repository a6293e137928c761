package hostinet

import (
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// Bounds of a Snapshot: a namespace with more is shown cut short.
const (
	maxSnapInterfaces = 1024
	maxSnapAddrs      = 256 // per interface
	maxSnapRoutes     = 4096
)

// Snapshot is the host network namespace's interfaces, addresses and
// main-table unicast routes as runsc boot saw them at start
// (--network=host): NETLINK_ROUTE dumps and the netdevice ioctls describe
// it instead of the sandbox's loopback stack. It is taken before the
// seccomp filter is installed, so the Sentry needs no AF_NETLINK socket
// on the host; it does not follow later changes, and the counters are
// zero. Its methods implement netlink.Source.
type Snapshot struct {
	ifs    []netstack.InterfaceInfo
	routes []netstack.RouteEntry
}

// Interfaces returns a copy of the snapshot's interfaces, by index.
func (s *Snapshot) Interfaces() []netstack.InterfaceInfo {
	out := slices.Clone(s.ifs)
	for k := range out {
		out[k].Addrs = slices.Clone(out[k].Addrs)
		out[k].LinkAddr = slices.Clone(out[k].LinkAddr)
	}
	return out
}

// Routes returns a copy of the snapshot's routes.
func (s *Snapshot) Routes() []netstack.RouteEntry { return slices.Clone(s.routes) }

// TakeSnapshot reads the current network namespace's interfaces (Go's
// net package, over NETLINK_ROUTE) and main-table routes (a
// NETLINK_ROUTE dump parsed here). Only the fields netlink.Source
// carries are kept; the messages the guest reads are built from them.
func TakeSnapshot() (*Snapshot, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	s := &Snapshot{}
	for _, in := range ifaces {
		if len(s.ifs) == maxSnapInterfaces {
			break
		}
		info := netstack.InterfaceInfo{
			ID:       int32(in.Index),
			Name:     in.Name,
			Up:       in.Flags&net.FlagUp != 0,
			Loopback: in.Flags&net.FlagLoopback != 0,
			MTU:      in.MTU,
		}
		if len(in.HardwareAddr) == 6 && !info.Loopback {
			info.LinkAddr = slices.Clone([]byte(in.HardwareAddr))
		}
		addrs, err := in.Addrs()
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || len(info.Addrs) == maxSnapAddrs {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			if ip.Is4In6() {
				ip = ip.Unmap()
			}
			bits, _ := ipn.Mask.Size()
			if p := netip.PrefixFrom(ip, bits); p.IsValid() {
				info.Addrs = append(info.Addrs, p)
			}
		}
		s.ifs = append(s.ifs, info)
	}
	slices.SortFunc(s.ifs, func(a, b netstack.InterfaceInfo) int { return int(a.ID) - int(b.ID) })
	rib, err := syscall.NetlinkRIB(unix.RTM_GETROUTE, unix.AF_UNSPEC)
	if err != nil {
		return nil, err
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, err
	}
	for k := range msgs {
		if len(s.routes) == maxSnapRoutes {
			break
		}
		if r, ok := parseRoute(&msgs[k]); ok {
			s.routes = append(s.routes, r)
		}
	}
	return s, nil
}

// parseRoute reads one RTM_NEWROUTE message: main-table unicast routes
// only, each attribute checked for its size.
func parseRoute(m *syscall.NetlinkMessage) (netstack.RouteEntry, bool) {
	var r netstack.RouteEntry
	if m.Header.Type != unix.RTM_NEWROUTE || len(m.Data) < unix.SizeofRtMsg {
		return r, false
	}
	fam, dstLen := m.Data[0], int(m.Data[1])
	proto, scope, typ := m.Data[5], m.Data[6], m.Data[7]
	table := uint32(m.Data[4])
	if typ != unix.RTN_UNICAST {
		return r, false
	}
	attrs, err := syscall.ParseNetlinkRouteAttr(m)
	if err != nil {
		return r, false
	}
	addrLen := 4
	if fam == unix.AF_INET6 {
		addrLen = 16
	} else if fam != unix.AF_INET {
		return r, false
	}
	addr := func(b []byte) (netip.Addr, bool) {
		if len(b) != addrLen {
			return netip.Addr{}, false
		}
		return netip.AddrFromSlice(b)
	}
	dst := netip.IPv4Unspecified()
	if fam == unix.AF_INET6 {
		dst = netip.IPv6Unspecified()
	}
	le := binary.LittleEndian
	for _, a := range attrs {
		switch a.Attr.Type {
		case unix.RTA_TABLE:
			if len(a.Value) == 4 {
				table = le.Uint32(a.Value)
			}
		case unix.RTA_DST:
			v, ok := addr(a.Value)
			if !ok {
				return r, false
			}
			dst = v
		case unix.RTA_GATEWAY:
			v, ok := addr(a.Value)
			if !ok {
				return r, false
			}
			r.Gateway = v
		case unix.RTA_PREFSRC:
			if v, ok := addr(a.Value); ok {
				r.Attrs.PrefSrc = v
			}
		case unix.RTA_OIF:
			if len(a.Value) == 4 {
				r.NIC = int32(le.Uint32(a.Value))
			}
		case unix.RTA_PRIORITY:
			if len(a.Value) == 4 {
				r.Attrs.Priority = le.Uint32(a.Value)
			}
		}
	}
	if table != unix.RT_TABLE_MAIN || r.NIC == 0 || dstLen > addrLen*8 {
		return r, false
	}
	r.Dst = netip.PrefixFrom(dst, dstLen)
	r.Attrs.Table, r.Attrs.Protocol, r.Attrs.Scope = unix.RT_TABLE_MAIN, proto, scope
	return r, true
}
