package netlink

import (
	"net/netip"
	"testing"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
	"golang.org/x/sys/unix"
)

// FuzzRouteRequest feeds any datagram to NETLINK_ROUTE with
// CAP_NET_ADMIN, on a fresh stack: nothing may panic, and replies stay
// bounded. go test -fuzz=FuzzRouteRequest ./syscalls/netlink
func FuzzRouteRequest(f *testing.F) {
	excl := uint16(unix.NLM_F_CREATE | unix.NLM_F_EXCL)
	f.Add(addrReq(unix.RTM_NEWADDR, excl, netip.MustParsePrefix("10.9.9.9/24"), 1))
	f.Add(addrReq(unix.RTM_DELADDR, 0, netip.MustParsePrefix("::1/128"), 1))
	f.Add(routeReq(unix.RTM_NEWROUTE, excl, netip.MustParsePrefix("10.8.0.0/16"), netip.MustParseAddr("127.0.0.2"), 0))
	f.Add(routeReq(unix.RTM_DELROUTE, 0, netip.MustParsePrefix("127.0.0.0/8"), netip.Addr{}, 1))
	f.Add(linkReq(1, 0, unix.IFF_UP, 1500))
	f.Add(request(unix.RTM_GETROUTE, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, 1, make([]byte, 12)))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := netstack.NewStack()
		lo := netstack.NewLoopback()
		defer lo.Close()
		if err := s.AddNIC(1, "lo", lo); err != nil {
			t.Fatal(err)
		}
		s.AddAddress(1, netip.MustParsePrefix("127.0.0.1/8"))
		s.AddRoute(netstack.RouteEntry{Dst: netip.MustParsePrefix("127.0.0.0/8"), NIC: 1})
		Process(s, b, Options{Admin: true}, func(out []byte) bool {
			if len(out) > maxBatch+len(b)+64 {
				t.Fatalf("reply of %d bytes", len(out))
			}
			return true
		})
	})
}

// FuzzDiagRequest feeds any datagram to NETLINK_SOCK_DIAG over a few
// sockets. go test -fuzz=FuzzDiagRequest ./syscalls/netlink
func FuzzDiagRequest(f *testing.F) {
	fakeSockets(f, []inet.SocketInfo{
		{Family: unix.AF_INET, Type: unix.SOCK_STREAM, State: 10, Bound: true, Local: netstack.FullAddress{Addr: netip.MustParseAddr("127.0.0.1"), Port: 80}, TCPInfo: make([]byte, 100)},
		{Family: unix.AF_INET6, Type: unix.SOCK_DGRAM, State: 7, Bound: true, Local: netstack.FullAddress{Addr: netip.MustParseAddr("127.0.0.1"), Port: 53}},
	})
	f.Add(diagReq(unix.NLM_F_DUMP, unix.AF_INET, unix.IPPROTO_TCP, ^uint32(0), diagReqLen))
	f.Add(diagReq(0, unix.AF_INET6, unix.IPPROTO_UDP, ^uint32(0), diagReqLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		Process(nil, b, Options{Protocol: unix.NETLINK_SOCK_DIAG}, func(out []byte) bool {
			if len(out) > maxBatch+len(b)+64 {
				t.Fatalf("reply of %d bytes", len(out))
			}
			return true
		})
	})
}
