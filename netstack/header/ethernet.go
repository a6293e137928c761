package header

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// EthernetSize is the size of an Ethernet II header (destination, source,
// EtherType; no VLAN tag, no FCS: packet sockets show neither).
const EthernetSize = 14

// MAC is an Ethernet (IEEE 802) address.
type MAC [6]byte

// BroadcastMAC is ff:ff:ff:ff:ff:ff.
var BroadcastMAC = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// IsMulticast reports whether m is a group address (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// String formats m as Linux does (lower-case hex, colons).
func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// Ethernet is a parsed Ethernet II header.
type Ethernet struct {
	Dst, Src MAC
	Type     uint16
}

// ParseEthernet parses frame b and returns its header and payload (which
// may end in link padding: the network header's own length says where the
// packet ends).
func ParseEthernet(b []byte) (Ethernet, []byte, error) {
	var h Ethernet
	if len(b) < EthernetSize {
		return h, nil, ErrTooShort
	}
	copy(h.Dst[:], b[0:6])
	copy(h.Src[:], b[6:12])
	h.Type = binary.BigEndian.Uint16(b[12:14])
	return h, b[EthernetSize:], nil
}

// EncodeEthernet writes h into b (EthernetSize bytes).
func EncodeEthernet(b []byte, h *Ethernet) {
	copy(b[0:6], h.Dst[:])
	copy(b[6:12], h.Src[:])
	binary.BigEndian.PutUint16(b[12:14], h.Type)
}

// MulticastMAC returns the Ethernet group address IP multicast address a
// maps to: 33:33 and the low 32 bits for IPv6 (RFC 2464), 01:00:5e and
// the low 23 bits for IPv4 (RFC 1112).
func MulticastMAC(a netip.Addr) MAC {
	if a.Is4() {
		b := a.As4()
		return MAC{0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]}
	}
	b := a.As16()
	return MAC{0x33, 0x33, b[12], b[13], b[14], b[15]}
}

// SolicitedNodeAddr returns the solicited-node multicast address of IPv6
// address a, ff02::1:ffXX:XXXX (RFC 4291 2.7.1).
func SolicitedNodeAddr(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}
