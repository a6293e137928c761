package hostinet

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// parseControl reads the control messages the host returned into c. Only
// the messages the allowed options produce are kept, each checked for its
// exact size; everything else is dropped. A descriptor (SCM_RIGHTS, which
// an inet socket never carries) would be closed, never kept.
func parseControl(b []byte, c *netstack.ControlMessages) {
	le := binary.LittleEndian
	for len(b) >= unix.SizeofCmsghdr {
		clen := int(le.Uint64(b[0:]))
		level, typ := int32(le.Uint32(b[8:])), int32(le.Uint32(b[12:]))
		if clen < unix.SizeofCmsghdr || clen > len(b) {
			return
		}
		data := b[unix.SizeofCmsghdr:clen]
		switch {
		case level == unix.SOL_SOCKET && typ == unix.SCM_RIGHTS:
			for i := 0; i+4 <= len(data); i += 4 {
				unix.Close(int(int32(le.Uint32(data[i:]))))
			}
		case level == unix.SOL_SOCKET && typ == unix.SCM_TIMESTAMP && len(data) == 16:
			c.HasTimestamp = true
			c.TimestampNS = int64(le.Uint64(data[0:]))*1e9 + int64(le.Uint64(data[8:]))*1e3
		case level == unix.SOL_IP && typ == unix.IP_TOS && len(data) >= 1:
			c.HasTOS, c.TOS = true, data[0]
		case level == unix.SOL_IP && typ == unix.IP_TTL && len(data) == 4:
			c.HasTTL, c.TTL = true, uint8(le.Uint32(data))
		case level == unix.SOL_IP && typ == unix.IP_PKTINFO && len(data) == 12:
			c.HasPktInfo = true
			c.PktInfoIfIndex = int32(le.Uint32(data[0:]))
			c.PktInfoDst = netip.AddrFrom4([4]byte(data[8:12]))
		case level == unix.SOL_IPV6 && typ == unix.IPV6_TCLASS && len(data) == 4:
			c.HasTOS, c.TOS = true, uint8(le.Uint32(data))
		case level == unix.SOL_IPV6 && typ == unix.IPV6_HOPLIMIT && len(data) == 4:
			c.HasTTL, c.TTL = true, uint8(le.Uint32(data))
		case level == unix.SOL_IPV6 && typ == unix.IPV6_PKTINFO && len(data) == 20:
			c.HasPktInfo = true
			c.PktInfoDst = netip.AddrFrom16([16]byte(data[0:16]))
			c.PktInfoIfIndex = int32(le.Uint32(data[16:]))
		case level == unix.SOL_IP && typ == unix.IP_RECVERR && len(data) >= sizeofExtErr:
			c.HasExtErr, c.ExtErr = true, parseExtErr(data)
		case level == unix.SOL_IPV6 && typ == unix.IPV6_RECVERR && len(data) >= sizeofExtErr:
			c.HasExtErr, c.ExtErr = true, parseExtErr(data)
		}
		next := (clen + 7) &^ 7
		if next >= len(b) {
			return
		}
		b = b[next:]
	}
}

// sizeofExtErr is sizeof(struct sock_extended_err).
const sizeofExtErr = 16

// parseExtErr reads a struct sock_extended_err and the offender sockaddr
// after it (SO_EE_OFFENDER), field by field: only an AF_INET or AF_INET6
// offender of full size is kept.
func parseExtErr(b []byte) netstack.ExtendedError {
	le := binary.LittleEndian
	ee := netstack.ExtendedError{
		Errno:  le.Uint32(b[0:]),
		Origin: b[4],
		Type:   b[5],
		Code:   b[6],
		Info:   le.Uint32(b[8:]),
		Data:   le.Uint32(b[12:]),
	}
	off := b[sizeofExtErr:]
	if len(off) >= 2 {
		switch le.Uint16(off) {
		case unix.AF_INET:
			if len(off) >= 8 {
				ee.Offender = netip.AddrFrom4([4]byte(off[4:8]))
			}
		case unix.AF_INET6:
			if len(off) >= 24 {
				ee.Offender = netip.AddrFrom16([16]byte(off[8:24]))
			}
		}
	}
	return ee
}
