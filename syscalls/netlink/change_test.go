package netlink

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/palisade-sandbox/palisade/netstack"
	"golang.org/x/sys/unix"
)

// errOf returns the error of the single NLMSG_ERROR reply to req (0 for
// an acknowledgement), or -1 if the reply is not that.
func errOf(t *testing.T, s *netstack.Stack, req []byte, o Options) int32 {
	t.Helper()
	var out [][]byte
	Process(s, req, o, func(b []byte) bool { out = append(out, b); return true })
	if len(out) != 1 || parseHeader(out[0]).Type != unix.NLMSG_ERROR {
		t.Fatalf("replies %x, want one NLMSG_ERROR", out)
	}
	return -int32(binary.LittleEndian.Uint32(out[0][hdrLen:]))
}

func addrReq(typ uint16, flags uint16, p netip.Prefix, idx uint32) []byte {
	body := make([]byte, ifaddrLen)
	body[0] = familyOf(p.Addr())
	body[1] = uint8(p.Bits())
	binary.LittleEndian.PutUint32(body[4:], idx)
	m := newMsg(typ, unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags, 1, 0, body)
	m.attr(unix.IFA_LOCAL, p.Addr().AsSlice())
	m.attr(unix.IFA_ADDRESS, p.Addr().AsSlice())
	return m.bytes()
}

func routeReq(typ uint16, flags uint16, dst netip.Prefix, gw netip.Addr, oif uint32) []byte {
	body := make([]byte, rtmsgLen)
	body[0] = familyOf(dst.Addr())
	body[1] = uint8(dst.Bits())
	body[4] = unix.RT_TABLE_MAIN
	body[5] = unix.RTPROT_BOOT
	body[7] = unix.RTN_UNICAST
	if typ == unix.RTM_DELROUTE {
		body[5], body[6], body[7] = 0, rtScopeNowhere, 0
	}
	m := newMsg(typ, unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags, 1, 0, body)
	m.attr(unix.RTA_DST, dst.Addr().AsSlice())
	if gw.IsValid() {
		m.attr(unix.RTA_GATEWAY, gw.AsSlice())
	}
	if oif != 0 {
		m.u32(unix.RTA_OIF, oif)
	}
	return m.bytes()
}

func linkReq(idx, flags, change uint32, mtu uint32) []byte {
	body := make([]byte, ifinfoLen)
	binary.LittleEndian.PutUint32(body[4:], idx)
	binary.LittleEndian.PutUint32(body[8:], flags)
	binary.LittleEndian.PutUint32(body[12:], change)
	m := newMsg(unix.RTM_NEWLINK, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 1, 0, body)
	if mtu != 0 {
		m.u32(unix.IFLA_MTU, mtu)
	}
	return m.bytes()
}

func TestChanges(t *testing.T) {
	s := netstack.NewLoopbackStack()
	admin := Options{Admin: true}
	excl := uint16(unix.NLM_F_CREATE | unix.NLM_F_EXCL)
	a4 := netip.MustParsePrefix("10.9.9.9/24")
	a6 := netip.MustParsePrefix("fd00::1/64")
	r4 := netip.MustParsePrefix("10.8.0.0/16")
	for _, c := range []struct {
		name string
		req  []byte
		o    Options
		want unix.Errno
	}{
		{"no CAP_NET_ADMIN", addrReq(unix.RTM_NEWADDR, excl, a4, 1), Options{}, unix.EPERM},
		{"add v4", addrReq(unix.RTM_NEWADDR, excl, a4, 1), admin, 0},
		{"add v4 again", addrReq(unix.RTM_NEWADDR, excl, a4, 1), admin, unix.EEXIST},
		{"add v6", addrReq(unix.RTM_NEWADDR, excl, a6, 1), admin, 0},
		{"add on no NIC", addrReq(unix.RTM_NEWADDR, excl, a4, 9), admin, unix.ENODEV},
		{"route", routeReq(unix.RTM_NEWROUTE, excl, r4, netip.Addr{}, 1), admin, 0},
		{"route again", routeReq(unix.RTM_NEWROUTE, excl, r4, netip.Addr{}, 1), admin, unix.EEXIST},
		{"route without create", routeReq(unix.RTM_NEWROUTE, 0, netip.MustParsePrefix("10.6.0.0/16"), netip.Addr{}, 1), admin, unix.ENOENT},
		{"route via gateway", routeReq(unix.RTM_NEWROUTE, excl, netip.MustParsePrefix("10.7.0.0/16"), netip.MustParseAddr("10.9.9.1"), 0), admin, 0},
		{"route via far gateway", routeReq(unix.RTM_NEWROUTE, excl, netip.MustParsePrefix("10.5.0.0/16"), netip.MustParseAddr("10.99.0.1"), 0), admin, unix.ENETUNREACH},
		{"route without device", routeReq(unix.RTM_NEWROUTE, excl, netip.MustParsePrefix("10.5.0.0/16"), netip.Addr{}, 0), admin, unix.ENODEV},
		{"route bad oif", routeReq(unix.RTM_NEWROUTE, excl, netip.MustParsePrefix("10.5.0.0/16"), netip.Addr{}, 77), admin, unix.ENODEV},
		{"mtu", linkReq(1, 0, 0, 1500), admin, 0},
		{"mtu too small", linkReq(1, 0, 0, 10), admin, unix.EINVAL},
		{"link missing", linkReq(5, 0, 0, 1500), admin, unix.ENODEV},
		{"down", linkReq(1, 0, unix.IFF_UP, 0), admin, 0},
		{"up", linkReq(1, unix.IFF_UP, unix.IFF_UP, 0), admin, 0},
		{"del route", routeReq(unix.RTM_DELROUTE, 0, r4, netip.Addr{}, 0), admin, 0},
		{"del route again", routeReq(unix.RTM_DELROUTE, 0, r4, netip.Addr{}, 0), admin, unix.ESRCH},
		{"del v4", addrReq(unix.RTM_DELADDR, 0, a4, 1), admin, 0},
		{"del v4 again", addrReq(unix.RTM_DELADDR, 0, a4, 1), admin, unix.EADDRNOTAVAIL},
		{"del v6", addrReq(unix.RTM_DELADDR, 0, a6, 1), admin, 0},
		{"del on no NIC", addrReq(unix.RTM_DELADDR, 0, a6, 9), admin, unix.ENODEV},
	} {
		if len(c.req) == 0 {
			continue
		}
		if got := errOf(t, s, c.req, c.o); got != int32(c.want) {
			t.Errorf("%s: error %d, want %d (%v)", c.name, got, int32(c.want), c.want)
		}
	}
	ifs := s.Interfaces()
	if len(ifs[0].Addrs) != 2 || ifs[0].MTU != 1500 || !ifs[0].Up {
		t.Errorf("lo at the end: %+v", ifs[0])
	}
}

func TestChangeRejectsMalformedRequests(t *testing.T) {
	s := netstack.NewLoopbackStack()
	admin := Options{Admin: true}
	long := addrReq(unix.RTM_NEWADDR, 0, netip.MustParsePrefix("10.1.1.1/24"), 1)
	long[hdrLen+1] = 33 // prefix length
	short := addrReq(unix.RTM_NEWADDR, 0, netip.MustParsePrefix("10.1.1.1/24"), 1)
	binary.LittleEndian.PutUint16(short[hdrLen+ifaddrLen:], 7) // IFA_LOCAL of 3 bytes
	overrun := addrReq(unix.RTM_NEWADDR, 0, netip.MustParsePrefix("10.1.1.1/24"), 1)
	binary.LittleEndian.PutUint16(overrun[hdrLen+ifaddrLen:], 200)
	badMTU := linkReq(1, 0, 0, 1500)
	binary.LittleEndian.PutUint16(badMTU[hdrLen+ifinfoLen:], 6)
	noAddr := newMsg(unix.RTM_NEWADDR, unix.NLM_F_REQUEST|unix.NLM_F_ACK, 1, 0, []byte{unix.AF_INET, 24, 0, 0, 1, 0, 0, 0}).bytes()
	for name, req := range map[string][]byte{"prefix 33": long, "short IFA_LOCAL": short, "overrun": overrun, "IFLA_MTU of 2 bytes": badMTU, "no address": noAddr} {
		if got := errOf(t, s, req, admin); got != int32(unix.EINVAL) {
			t.Errorf("%s: error %d, want EINVAL", name, got)
		}
	}
	other := addrReq(unix.RTM_NEWADDR, 0, netip.MustParsePrefix("10.1.1.1/24"), 1)
	other[hdrLen] = unix.AF_PACKET
	if got := errOf(t, s, other, admin); got != int32(unix.EOPNOTSUPP) {
		t.Errorf("AF_PACKET address: error %d, want EOPNOTSUPP", got)
	}
	if len(s.Interfaces()[0].Addrs) != 2 {
		t.Errorf("a malformed request changed lo: %v", s.Interfaces()[0].Addrs)
	}
}

func TestChangesNotifyTheirGroup(t *testing.T) {
	s := netstack.NewLoopbackStack()
	type note struct {
		group int
		typ   uint16
		echo  bool
	}
	var got []note
	o := Options{Admin: true, Notify: func(group int, msg []byte, echo bool) {
		got = append(got, note{group, parseHeader(msg).Type, echo})
	}}
	excl := uint16(unix.NLM_F_CREATE | unix.NLM_F_EXCL)
	p := netip.MustParsePrefix("fd00::5/64")
	for _, req := range [][]byte{
		addrReq(unix.RTM_NEWADDR, excl|unix.NLM_F_ECHO, p, 1),
		addrReq(unix.RTM_NEWADDR, excl, p, 1), // EEXIST: no notification
		routeReq(unix.RTM_NEWROUTE, excl, netip.MustParsePrefix("10.8.0.0/16"), netip.Addr{}, 1),
		routeReq(unix.RTM_DELROUTE, 0, netip.MustParsePrefix("10.8.0.0/16"), netip.Addr{}, 0),
		linkReq(1, 0, 0, 1400),
		linkReq(1, 0, 0, 1400), // no change: no notification
		addrReq(unix.RTM_DELADDR, 0, p, 1),
	} {
		errOf(t, s, req, o)
	}
	want := []note{
		{unix.RTNLGRP_IPV6_IFADDR, unix.RTM_NEWADDR, true},
		{unix.RTNLGRP_IPV4_ROUTE, unix.RTM_NEWROUTE, false},
		{unix.RTNLGRP_IPV4_ROUTE, unix.RTM_DELROUTE, false},
		{unix.RTNLGRP_LINK, unix.RTM_NEWLINK, false},
		{unix.RTNLGRP_IPV6_IFADDR, unix.RTM_DELADDR, false},
	}
	if len(got) != len(want) {
		t.Fatalf("notifications %v, want %v", got, want)
	}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("notification %d: %v, want %v", k, got[k], want[k])
		}
	}
}

func TestReadOnlySourceRefusesChanges(t *testing.T) {
	s := netstack.NewLoopbackStack()
	req := linkReq(1, 0, 0, 1400)
	var out [][]byte
	Process(ReadOnly(s), req, Options{Admin: true}, func(b []byte) bool { out = append(out, b); return true })
	if len(out) != 1 || -int32(binary.LittleEndian.Uint32(out[0][hdrLen:])) != int32(unix.EOPNOTSUPP) {
		t.Fatalf("replies %x, want EOPNOTSUPP", out)
	}
	if s.Interfaces()[0].MTU == 1400 {
		t.Error("the MTU changed")
	}
}
