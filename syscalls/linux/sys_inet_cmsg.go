package linux

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
)

// Control message types of a send not in every x/sys version.
const (
	soTimestampingOld = 37 // SO_TIMESTAMPING_OLD
	scmTxtime         = 61 // SCM_TXTIME
	soTimestampingNew = 65 // SO_TIMESTAMPING_NEW
	ipv6DontFrag      = 62 // IPV6_DONTFRAG
	ipv62292HopLimit  = 8  // IPV6_2292HOPLIMIT
	ipv62292PktInfo   = 2  // IPV6_2292PKTINFO
	ipv6FlowInfo      = 11 // IPV6_FLOWINFO
)

// inetSendControl reads and applies the control messages of a sendmsg on
// an inet socket, as Linux's ip_cmsg_send (AF_INET) and
// ip6_datagram_send_ctl (AF_INET6): IP_TTL, IP_TOS, IP_PKTINFO,
// IPV6_HOPLIMIT, IPV6_TCLASS and IPV6_PKTINFO set the datagram's IP
// fields; a wrong length or value is EINVAL, an unknown type of the
// socket's IP level is EINVAL, other levels are ignored (SOL_SOCKET's
// SCM_RIGHTS and SCM_CREDENTIALS too, as on Linux; a TCP socket checks
// only SOL_SOCKET's, as tcp_sendmsg). ENOBUFS for a buffer
// over optmem_max. It returns nil when nothing is to be applied.
// (An IPv4 source that is not this host's fails later, at the route.)
func inetSendControl(t *kernel.Task, s *inet.Socket, addr, length uint64) (*netstack.SendControl, error) {
	if length == 0 {
		return nil, nil
	}
	if length > optmemMax {
		return nil, unix.ENOBUFS
	}
	b := make([]byte, length)
	if err := copyIn(t, addr, b); err != nil {
		return nil, err
	}
	var c netstack.SendControl
	set := false
	// Under --network=host the interfaces and addresses are the host's,
	// which the sandbox's stack does not know: the host's endpoint does
	// not apply the messages (docs/network.md), so they are only checked
	// for form here.
	hostMode := inet.EndpointFactoryFor(t.Kernel()) != nil
	le := binary.LittleEndian
	for off := uint64(0); off+cmsghdrSize <= length; {
		clen := le.Uint64(b[off:])
		if clen < cmsghdrSize || clen > length-off {
			return nil, unix.EINVAL
		}
		level := int32(le.Uint32(b[off+8:]))
		typ := int32(le.Uint32(b[off+12:]))
		data := b[off+cmsghdrSize : off+clen]
		off += cmsgAlign(clen)
		intVal := func() (int32, error) {
			if len(data) != 4 {
				return 0, unix.EINVAL
			}
			return int32(le.Uint32(data)), nil
		}
		switch {
		case level == unix.SOL_SOCKET:
			switch typ {
			case unix.SCM_RIGHTS, unix.SCM_CREDENTIALS:
				// Ignored on inet sockets.
			case unix.SO_MARK:
				if len(data) != 4 {
					return nil, unix.EINVAL
				}
				if !t.Credentials().HasCap(unix.CAP_NET_ADMIN) {
					return nil, unix.EPERM
				}
			case soTimestampingOld, soTimestampingNew, unix.SO_PRIORITY:
				if len(data) != 4 {
					return nil, unix.EINVAL
				}
			case scmTxtime:
				if len(data) != 8 {
					return nil, unix.EINVAL
				}
			default:
				return nil, unix.EINVAL
			}
		case s.Type == unix.SOCK_STREAM:
			// tcp_sendmsg looks at SOL_SOCKET messages only.
		case s.Family == unix.AF_INET && level == unix.SOL_IP:
			switch typ {
			case unix.IP_TTL:
				v, err := intVal()
				if err != nil || v < 1 || v > 255 {
					return nil, unix.EINVAL
				}
				c.HasTTL, c.TTL, set = true, uint8(v), true
			case unix.IP_TOS:
				var v int32
				switch len(data) {
				case 4:
					v = int32(le.Uint32(data))
				case 1:
					v = int32(data[0])
				default:
					return nil, unix.EINVAL
				}
				if v < 0 || v > 255 {
					return nil, unix.EINVAL
				}
				c.HasTOS, c.TOS, set = true, uint8(v), true
			case unix.IP_PKTINFO:
				// struct in_pktinfo: ifindex, spec_dst (the source), addr.
				if len(data) != 12 {
					return nil, unix.EINVAL
				}
				c.IfIndex = int32(le.Uint32(data))
				c.Src = netip.AddrFrom4([4]byte(data[4:8]))
				set = true
			case unix.IP_RETOPTS:
				// IP options are not sent; accepted as Linux does.
			default:
				return nil, unix.EINVAL
			}
		case s.Family == unix.AF_INET6 && level == unix.SOL_IPV6:
			switch typ {
			case unix.IPV6_HOPLIMIT, ipv62292HopLimit:
				v, err := intVal()
				if err != nil || v < -1 || v > 255 {
					return nil, unix.EINVAL
				}
				if v >= 0 {
					c.HasTTL, c.TTL, set = true, uint8(v), true
				}
			case unix.IPV6_TCLASS:
				v, err := intVal()
				if err != nil || v < -1 || v > 255 {
					return nil, unix.EINVAL
				}
				if v >= 0 {
					c.HasTOS, c.TOS, set = true, uint8(v), true
				}
			case unix.IPV6_PKTINFO, ipv62292PktInfo:
				// struct in6_pktinfo: addr, ifindex.
				if len(data) < 20 {
					return nil, unix.EINVAL
				}
				c.Src = netip.AddrFrom16([16]byte(data[:16]))
				c.IfIndex = int32(le.Uint32(data[16:]))
				if c.Src.IsUnspecified() {
					c.Src = netip.Addr{}
				} else if c.Src.Is4In6() || (!hostMode && !stackOf(t).IsLocalAddress(c.Src)) {
					return nil, unix.EINVAL
				}
				set = true
			case ipv6FlowInfo, ipv6DontFrag:
				if len(data) < 4 {
					return nil, unix.EINVAL
				}
			default:
				return nil, unix.EINVAL
			}
		}
	}
	if !set {
		return nil, nil
	}
	if c.IfIndex != 0 && !hostMode && !stackOf(t).HasNIC(c.IfIndex) {
		return nil, unix.ENODEV
	}
	if c.Src.IsValid() && c.Src.IsUnspecified() {
		c.Src = netip.Addr{}
	}
	return &c, nil
}
