package inet

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

type netstackFullAddress = netstack.FullAddress

func sin(fam uint16, port uint16, a [4]byte, n int) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b, fam)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], a[:])
	return b[:n]
}

func sin6(fam uint16, port uint16, a [16]byte, n int) []byte {
	b := make([]byte, 28)
	binary.LittleEndian.PutUint16(b, fam)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[8:], a[:])
	return b[:n]
}

func TestParseSockaddr(t *testing.T) {
	lo := [4]byte{127, 0, 0, 1}
	m := [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}
	for _, c := range []struct {
		name   string
		family int
		b      []byte
		use    AddrUse
		want   netip.Addr
		unspec bool
		err    error
	}{
		{"v4 ok", unix.AF_INET, sin(unix.AF_INET, 80, lo, 16), UseBind, netip.AddrFrom4(lo), false, nil},
		{"v4 short", unix.AF_INET, sin(unix.AF_INET, 80, lo, 15), UseBind, netip.Addr{}, false, unix.EINVAL},
		{"v4 bad family", unix.AF_INET, sin(unix.AF_INET6, 80, lo, 16), UseBind, netip.Addr{}, false, unix.EAFNOSUPPORT},
		{"v4 unspec any binds", unix.AF_INET, sin(unix.AF_UNSPEC, 80, [4]byte{}, 16), UseBind, netip.IPv4Unspecified(), false, nil},
		{"v4 unspec lo bind", unix.AF_INET, sin(unix.AF_UNSPEC, 80, lo, 16), UseBind, netip.Addr{}, false, unix.EAFNOSUPPORT},
		{"connect unspec", unix.AF_INET, sin(unix.AF_UNSPEC, 0, lo, 2), UseConnect, netip.Addr{}, true, nil},
		{"one byte", unix.AF_INET, []byte{2}, UseConnect, netip.Addr{}, false, unix.EINVAL},
		{"v6 mapped", unix.AF_INET6, sin6(unix.AF_INET6, 1, m, 28), UseBind, netip.AddrFrom4(lo), false, nil},
		{"v6 short", unix.AF_INET6, sin6(unix.AF_INET6, 1, m, 23), UseBind, netip.Addr{}, false, unix.EINVAL},
		{"v6 rfc2133 length", unix.AF_INET6, sin6(unix.AF_INET6, 1, m, 24), UseBind, netip.AddrFrom4(lo), false, nil},
		{"v6 bind v4 family", unix.AF_INET6, sin6(unix.AF_INET, 1, m, 28), UseBind, netip.Addr{}, false, unix.EAFNOSUPPORT},
		{"v6 connect sockaddr_in", unix.AF_INET6, sin(unix.AF_INET, 1, lo, 16), UseConnect, netip.AddrFrom4(lo), false, nil},
		{"v6 sendto unspec", unix.AF_INET6, sin6(unix.AF_UNSPEC, 1, m, 28), UseSendto, netip.Addr{}, true, nil},
		{"v6 sendto bad family", unix.AF_INET6, sin6(99, 1, m, 28), UseSendto, netip.Addr{}, false, unix.EINVAL},
	} {
		a, unspec, err := ParseSockaddr(c.family, c.b, c.use)
		if err != c.err || unspec != c.unspec || (err == nil && !unspec && a.Addr != c.want) {
			t.Errorf("%s: ParseSockaddr = %v %v %v, want %v %v %v", c.name, a.Addr, unspec, err, c.want, c.unspec, c.err)
		}
	}
}

func TestSockaddrMapsIPv4OnIPv6Sockets(t *testing.T) {
	b := Sockaddr(unix.AF_INET6, netstackAddr("127.0.0.1", 9))
	if len(b) != SockaddrIn6Size || b[0] != unix.AF_INET6 || b[3] != 9 || b[18] != 0xff || b[19] != 0xff || b[20] != 127 || b[23] != 1 {
		t.Fatalf("Sockaddr = %x", b)
	}
	b = Sockaddr(unix.AF_INET, netstackAddr("127.0.0.1", 9))
	if len(b) != SockaddrInSize || b[4] != 127 || b[7] != 1 {
		t.Fatalf("Sockaddr = %x", b)
	}
}

func netstackAddr(a string, port uint16) netstackFullAddress {
	return netstackFullAddress{Addr: netip.MustParseAddr(a), Port: port}
}
