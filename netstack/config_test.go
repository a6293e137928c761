package netstack

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

func TestConfigAddresses(t *testing.T) {
	s := NewLoopbackStack()
	p := netip.MustParsePrefix("10.9.9.9/24")
	steps := []struct {
		name string
		err  error
		want error
	}{
		{"add", s.AddInterfaceAddress(1, p, false), nil},
		{"add again", s.AddInterfaceAddress(1, p, false), unix.EEXIST},
		{"replace", s.AddInterfaceAddress(1, netip.MustParsePrefix("10.9.9.9/16"), true), nil},
		{"no such NIC", s.AddInterfaceAddress(7, p, false), unix.ENODEV},
		{"remove with old length", s.RemoveInterfaceAddress(1, p), unix.EADDRNOTAVAIL},
		{"remove", s.RemoveInterfaceAddress(1, netip.MustParsePrefix("10.9.9.9/16")), nil},
		{"remove again", s.RemoveInterfaceAddress(1, netip.MustParsePrefix("10.9.9.9/16")), unix.EADDRNOTAVAIL},
		{"remove on no NIC", s.RemoveInterfaceAddress(7, p), unix.ENODEV},
	}
	for _, st := range steps {
		if st.err != st.want {
			t.Errorf("%s: got %v, want %v", st.name, st.err, st.want)
		}
	}
	if s.IsLocalAddress(p.Addr()) {
		t.Errorf("%v still local after removal", p.Addr())
	}
}

func TestConfigRemovingAnAddressTakesItsPrefixRoute(t *testing.T) {
	s := NewLoopbackStack()
	if err := s.RemoveInterfaceAddress(1, netip.MustParsePrefix("127.0.0.1/8")); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Routes() {
		if r.Dst == netip.MustParsePrefix("127.0.0.0/8") {
			t.Fatalf("route %v stayed", r)
		}
	}
}

func TestConfigRoutes(t *testing.T) {
	s := NewLoopbackStack()
	dst := netip.MustParsePrefix("10.8.0.0/16")
	r := RouteEntry{Dst: dst, NIC: 1, Attrs: RouteAttrs{Table: unix.RT_TABLE_MAIN}}
	if _, err := s.FindRoute(netip.Addr{}, netip.MustParseAddr("10.8.1.1"), 0); err != unix.ENETUNREACH {
		t.Fatalf("before: %v, want ENETUNREACH", err)
	}
	if err := s.AddRouteEntry(r, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindRoute(netip.Addr{}, netip.MustParseAddr("10.8.1.1"), 0); err != nil {
		t.Fatalf("after add: %v", err)
	}
	for _, c := range []struct {
		name string
		r    RouteEntry
		rep  bool
		want error
	}{
		{"again", r, false, unix.EEXIST},
		{"replace", r, true, nil},
		{"no NIC", RouteEntry{Dst: dst, NIC: 5}, false, unix.ENODEV},
		{"gateway off-link", RouteEntry{Dst: netip.MustParsePrefix("10.7.0.0/16"), NIC: 1, Gateway: netip.MustParseAddr("10.99.0.1")}, false, unix.ENETUNREACH},
		{"gateway on-link", RouteEntry{Dst: netip.MustParsePrefix("10.7.0.0/16"), NIC: 1, Gateway: netip.MustParseAddr("10.8.0.1")}, false, nil},
	} {
		if err := s.AddRouteEntry(c.r, c.rep); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := s.RemoveRouteEntry(r); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRouteEntry(r); err != unix.ESRCH {
		t.Fatalf("second removal: %v, want ESRCH", err)
	}
}

func TestConfigMTUAndDown(t *testing.T) {
	s := NewLoopbackStack()
	for _, c := range []struct {
		mtu  int
		want error
	}{{MinMTU - 1, unix.EINVAL}, {LoopbackMTU + 1, unix.EINVAL}, {1500, nil}} {
		if err := s.SetInterfaceMTU(1, c.mtu); err != c.want {
			t.Errorf("MTU %d: %v, want %v", c.mtu, err, c.want)
		}
	}
	if err := s.SetInterfaceMTU(3, 1500); err != unix.ENODEV {
		t.Errorf("MTU of a missing NIC: %v", err)
	}
	r, err := s.FindRoute(netip.Addr{}, netip.MustParseAddr("127.0.0.1"), 0)
	if err != nil || r.MTU != 1500 {
		t.Fatalf("route %+v, %v: want MTU 1500", r, err)
	}
	if s.Interfaces()[0].MTU != 1500 {
		t.Errorf("Interfaces: MTU %d", s.Interfaces()[0].MTU)
	}
	if err := s.SetInterfaceUp(1, false); err != nil {
		t.Fatal(err)
	}
	if s.Interfaces()[0].Up {
		t.Error("still up")
	}
	// Down: the addresses stay (a bind works), what is sent is dropped.
	if !s.IsLocalAddress(netip.MustParseAddr("127.0.0.1")) {
		t.Error("127.0.0.1 no longer local while lo is down")
	}
	if err := s.Send(r, unix.IPPROTO_UDP, make([]byte, 8), SendOptions{}); err != nil {
		t.Fatalf("send on a down link: %v", err)
	}
	if got := s.Interfaces()[0].TxDrops; got != 1 {
		t.Errorf("TxDrops %d, want 1", got)
	}
}
