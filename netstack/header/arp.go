package header

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// ARP sizes and values (RFC 826) for Ethernet and IPv4, the only pair a
// packet of ours carries.
const (
	// ARPSize is the size of an Ethernet/IPv4 ARP packet.
	ARPSize = 28
	// EtherTypeARP is ARP's EtherType.
	EtherTypeARP = 0x0806
	// ARPRequest and ARPReply are the operations.
	ARPRequest = 1
	ARPReply   = 2
)

// ErrUnsupported is returned for a well-formed header of a kind the stack
// does not handle (ARP for another hardware or protocol type).
var ErrUnsupported = errors.New("unsupported header")

// ARP is a parsed Ethernet/IPv4 ARP packet.
type ARP struct {
	Op                   uint16
	SenderMAC, TargetMAC MAC
	// SenderIP and TargetIP are IPv4 addresses.
	SenderIP, TargetIP netip.Addr
}

// ParseARP parses an ARP packet (trailing link padding is ignored). Only
// requests and replies for Ethernet (htype 1) and IPv4 (ptype 0x0800)
// with the matching address lengths are accepted.
func ParseARP(b []byte) (ARP, error) {
	var a ARP
	if len(b) < ARPSize {
		return a, ErrTooShort
	}
	if binary.BigEndian.Uint16(b[0:]) != 1 || binary.BigEndian.Uint16(b[2:]) != 0x0800 || b[4] != 6 || b[5] != 4 {
		return a, ErrUnsupported
	}
	a.Op = binary.BigEndian.Uint16(b[6:])
	if a.Op != ARPRequest && a.Op != ARPReply {
		return a, ErrUnsupported
	}
	copy(a.SenderMAC[:], b[8:14])
	a.SenderIP = netip.AddrFrom4([4]byte(b[14:18]))
	copy(a.TargetMAC[:], b[18:24])
	a.TargetIP = netip.AddrFrom4([4]byte(b[24:28]))
	return a, nil
}

// EncodeARP writes a into b (ARPSize bytes).
func EncodeARP(b []byte, a *ARP) {
	binary.BigEndian.PutUint16(b[0:], 1)
	binary.BigEndian.PutUint16(b[2:], 0x0800)
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:], a.Op)
	copy(b[8:14], a.SenderMAC[:])
	s, t := a.SenderIP.As4(), a.TargetIP.As4()
	copy(b[14:18], s[:])
	copy(b[18:24], a.TargetMAC[:])
	copy(b[24:28], t[:])
}
