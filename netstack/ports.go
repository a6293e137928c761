package netstack

import (
	"encoding/binary"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"
)

// Ephemeral port range (Linux: net.ipv4.ip_local_port_range).
const (
	EphemeralFirst = 32768
	EphemeralLast  = 60999
)

type portKey struct {
	proto uint8
	port  uint16
}

type reservation struct {
	addr  netip.Addr
	flags PortFlags
	count int
}

// portTable holds the port reservations of every transport.
type portTable struct {
	mu sync.Mutex
	m  map[portKey][]*reservation
}

func (t *portTable) init() { t.m = make(map[portKey][]*reservation) }

// addrsOverlap reports whether two bound addresses can receive the same
// packets. The zero Addr is "any address of both families" (a dual-stack
// IPv6 socket), 0.0.0.0 any IPv4 address and :: any IPv6 address (an
// IPV6_V6ONLY socket).
func addrsOverlap(a, b netip.Addr) bool {
	if !a.IsValid() || !b.IsValid() {
		return true
	}
	a, b = a.Unmap(), b.Unmap()
	if a.Is4() != b.Is4() {
		return false
	}
	return a.IsUnspecified() || b.IsUnspecified() || a == b
}

// conflicts applies Linux's sharing rules: both SO_REUSEPORT by the same
// user, or both SO_REUSEADDR, may share; so may sockets bound to
// different devices.
func conflicts(a *reservation, addr netip.Addr, f PortFlags) bool {
	if !addrsOverlap(a.addr, addr) {
		return false
	}
	if a.flags.BindToDevice != 0 && f.BindToDevice != 0 && a.flags.BindToDevice != f.BindToDevice {
		return false
	}
	if a.flags.ReusePort && f.ReusePort && a.flags.UID == f.UID {
		return false
	}
	if a.flags.ReuseAddr && f.ReuseAddr {
		return false
	}
	return true
}

// ReservePort implements Network.ReservePort. For TCP, SO_REUSEADDR on
// both sides is allowed here; refusing a second listener is TCP's job.
func (s *Stack) ReservePort(proto uint8, addr FullAddress, flags PortFlags) (uint16, error) {
	t := &s.ports
	t.mu.Lock()
	defer t.mu.Unlock()
	free := func(port uint16) bool {
		for _, r := range t.m[portKey{proto, port}] {
			if conflicts(r, addr.Addr, flags) {
				return false
			}
		}
		return true
	}
	port := addr.Port
	if port == 0 {
		var b [4]byte
		s.Random(b[:])
		n := EphemeralLast - EphemeralFirst + 1
		start := int(binary.LittleEndian.Uint32(b[:]) % uint32(n))
		found := false
		for i := 0; i < n; i++ {
			p := uint16(EphemeralFirst + (start+i)%n)
			// A fresh ephemeral port is one nobody holds.
			if len(t.m[portKey{proto, p}]) == 0 {
				port, found = p, true
				break
			}
		}
		if !found {
			return 0, unix.EADDRINUSE
		}
	} else if !free(port) {
		return 0, unix.EADDRINUSE
	}
	k := portKey{proto, port}
	for _, r := range t.m[k] {
		if r.addr == addr.Addr && r.flags == flags {
			r.count++
			return port, nil
		}
	}
	t.m[k] = append(t.m[k], &reservation{addr: addr.Addr, flags: flags, count: 1})
	return port, nil
}

// ReleasePort implements Network.ReleasePort.
func (s *Stack) ReleasePort(proto uint8, addr FullAddress, flags PortFlags) {
	t := &s.ports
	t.mu.Lock()
	defer t.mu.Unlock()
	k := portKey{proto, addr.Port}
	rs := t.m[k]
	for i, r := range rs {
		if r.addr == addr.Addr && r.flags == flags {
			if r.count--; r.count == 0 {
				rs = append(rs[:i], rs[i+1:]...)
			}
			break
		}
	}
	if len(rs) == 0 {
		delete(t.m, k)
	} else {
		t.m[k] = rs
	}
}
