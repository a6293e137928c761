package hostinet

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// routeMsg builds an RTM_NEWROUTE message: rtmsg then attributes.
func routeMsg(fam, dstLen, table, typ uint8, attrs ...[]byte) syscall.NetlinkMessage {
	data := []byte{fam, dstLen, 0, 0, table, unix.RTPROT_BOOT, unix.RT_SCOPE_UNIVERSE, typ, 0, 0, 0, 0}
	for _, a := range attrs {
		data = append(data, a...)
	}
	return syscall.NetlinkMessage{Header: syscall.NlMsghdr{Type: unix.RTM_NEWROUTE, Len: uint32(unix.NLMSG_HDRLEN + len(data))}, Data: data}
}

func rta(typ uint16, v []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, uint16(4+len(v)))
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestParseRoute(t *testing.T) {
	oif := rta(unix.RTA_OIF, binary.LittleEndian.AppendUint32(nil, 3))
	m := routeMsg(unix.AF_INET, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, rta(unix.RTA_GATEWAY, []byte{10, 9, 0, 1}), oif)
	r, ok := parseRoute(&m)
	if !ok || r.Dst != netip.MustParsePrefix("0.0.0.0/0") || r.Gateway != netip.MustParseAddr("10.9.0.1") || r.NIC != 3 || r.Attrs.Table != unix.RT_TABLE_MAIN {
		t.Errorf("default route parsed as %+v, %v", r, ok)
	}
	m = routeMsg(unix.AF_INET6, 64, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, rta(unix.RTA_DST, netip.MustParseAddr("fd00:9::").AsSlice()), oif)
	if r, ok := parseRoute(&m); !ok || r.Dst != netip.MustParsePrefix("fd00:9::/64") {
		t.Errorf("IPv6 route parsed as %+v, %v", r, ok)
	}
	for name, m := range map[string]syscall.NetlinkMessage{
		"local table":       routeMsg(unix.AF_INET, 32, unix.RT_TABLE_LOCAL, unix.RTN_LOCAL, oif),
		"no interface":      routeMsg(unix.AF_INET, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST),
		"short destination": routeMsg(unix.AF_INET, 24, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, rta(unix.RTA_DST, []byte{10, 9}), oif),
		"prefix too long":   routeMsg(unix.AF_INET, 33, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, rta(unix.RTA_DST, []byte{10, 9, 0, 0}), oif),
		"other family":      routeMsg(unix.AF_UNIX, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST, oif),
		"truncated rtmsg":   {Header: syscall.NlMsghdr{Type: unix.RTM_NEWROUTE}, Data: []byte{2, 0, 0}},
	} {
		if r, ok := parseRoute(&m); ok {
			t.Errorf("%s: kept as %+v", name, r)
		}
	}
}

func TestTakeSnapshotHasLoopback(t *testing.T) {
	if lo, err := net.InterfaceByName("lo"); err != nil || lo.Flags&net.FlagUp == 0 {
		t.Skip("loopback is not up in this namespace")
	}
	s, err := TakeSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range s.Interfaces() {
		if in.Loopback && in.Up {
			for _, p := range in.Addrs {
				if p == netip.MustParsePrefix("127.0.0.1/8") {
					return
				}
			}
		}
	}
	t.Errorf("no up loopback with 127.0.0.1/8 in %+v", s.Interfaces())
}
