package raw

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// Option levels and names not in every x/sys version.
const (
	solRaw          = 255 // SOL_RAW
	solICMPv6       = 58  // SOL_ICMPV6
	icmpFilter      = 1   // ICMP_FILTER (SOL_RAW)
	icmp6Filter     = 1   // ICMP6_FILTER (SOL_ICMPV6)
	ipv6Checksum    = 7   // IPV6_CHECKSUM (SOL_RAW, SOL_IPV6)
	ipv62292HopLim  = 8   // IPV6_2292HOPLIMIT
	ipv6HdrIncl     = 36  // IPV6_HDRINCL (SOL_IPV6)
	soBindToIfindex = 62
)

// SetSockOpt implements netstack.Endpoint.SetSockOpt.
func (e *endpoint) SetSockOpt(level, name int, val []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch level {
	case unix.SOL_SOCKET:
		return e.setSocketLocked(name, val)
	case unix.SOL_IP:
		if e.v6 {
			return unix.ENOPROTOOPT
		}
		return e.setIPLocked(name, val)
	case unix.SOL_IPV6:
		if !e.v6 {
			return unix.ENOPROTOOPT
		}
		return e.setIPv6Locked(level, name, val)
	case solRaw:
		if !e.v6 {
			if name != icmpFilter {
				return unix.ENOPROTOOPT
			}
			if e.proto != unix.IPPROTO_ICMP {
				return unix.EOPNOTSUPP
			}
			// raw_seticmpfilter: a longer value is cut, a shorter one
			// replaces only its bytes.
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], e.icmpFilter)
			copy(b[:], val)
			e.icmpFilter = binary.LittleEndian.Uint32(b[:])
			return nil
		}
		if name != ipv6Checksum {
			return unix.ENOPROTOOPT
		}
		return e.setChecksumLocked(level, val)
	case solICMPv6:
		if !e.v6 || e.proto != unix.IPPROTO_ICMPV6 {
			return unix.EOPNOTSUPP
		}
		if name != icmp6Filter {
			return unix.ENOPROTOOPT
		}
		var b [32]byte
		for i, w := range e.icmp6Filter {
			binary.LittleEndian.PutUint32(b[4*i:], w)
		}
		copy(b[:], val)
		for i := range e.icmp6Filter {
			e.icmp6Filter[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		return nil
	}
	return unix.ENOPROTOOPT
}

// setChecksumLocked sets IPV6_CHECKSUM (do_rawv6_setsockopt).
func (e *endpoint) setChecksumLocked(level int, val []byte) error {
	v, err := netstack.SockoptInt(val)
	if err != nil {
		return err
	}
	if e.proto == unix.IPPROTO_ICMPV6 && level == unix.SOL_IPV6 {
		return unix.EINVAL // RFC 3542: not on ICMPv6 sockets
	}
	if v > 0 && v&1 != 0 {
		return unix.EINVAL
	}
	e.csumOff = max(v, -1)
	return nil
}

func (e *endpoint) setSocketLocked(name int, val []byte) error {
	if name == unix.SO_BINDTODEVICE {
		n := bytes.IndexByte(val, 0)
		if n < 0 {
			n = len(val)
		}
		if n == 0 {
			e.dev = 0
			return nil
		}
		ifs, ok := e.p.net.(netstack.Interfaces)
		if !ok {
			return unix.ENODEV
		}
		id, ok := ifs.NICByName(string(val[:n]))
		if !ok {
			return unix.ENODEV
		}
		e.dev = id
		return nil
	}
	v, err := netstack.SockoptInt(val)
	if err != nil {
		return err
	}
	switch name {
	case unix.SO_BROADCAST:
		e.broadcast = v != 0
	case unix.SO_TIMESTAMP:
		e.timestamp = v != 0
	case unix.SO_RCVBUF:
		e.rcvbuf = netstack.SockBufSize(v, minRcvBuf, maxBufSize)
	case unix.SO_SNDBUF:
		e.sndbuf = netstack.SockBufSize(v, minSndBuf, maxBufSize)
	case soBindToIfindex:
		if v != 0 {
			ifs, ok := e.p.net.(netstack.Interfaces)
			if !ok || !ifs.HasNIC(v) {
				return unix.ENODEV
			}
		}
		e.dev = v
	case unix.SO_REUSEADDR, unix.SO_REUSEPORT, unix.SO_KEEPALIVE, unix.SO_PRIORITY,
		unix.SO_RCVLOWAT, unix.SO_SNDLOWAT, unix.SO_NO_CHECK, unix.SO_DONTROUTE:
		// Accepted without effect on raw sockets.
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

func (e *endpoint) setIPLocked(name int, val []byte) error {
	v, err := netstack.SockoptIPInt(val)
	if err != nil {
		return err
	}
	switch name {
	case unix.IP_HDRINCL:
		e.hdrincl = v != 0
	case unix.IP_TOS:
		e.tos = uint8(v)
	case unix.IP_TTL:
		if v == -1 {
			e.ttl = -1
		} else if v < 1 || v > 255 {
			return unix.EINVAL
		} else {
			e.ttl = v
		}
	case unix.IP_PKTINFO:
		e.pktinfo = v != 0
	case unix.IP_RECVTOS:
		e.recvTOS = v != 0
	case unix.IP_RECVTTL:
		e.recvTTL = v != 0
	case unix.IP_RECVERR, unix.IP_MTU_DISCOVER:
		// Accepted: ping sets them; no error queue is kept.
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

func (e *endpoint) setIPv6Locked(level, name int, val []byte) error {
	if name == ipv6Checksum {
		return e.setChecksumLocked(level, val)
	}
	v, err := netstack.SockoptInt(val)
	if err != nil {
		return err
	}
	switch name {
	case ipv6HdrIncl:
		e.hdrincl = v != 0
	case unix.IPV6_V6ONLY:
		e.v6only = v != 0
	case unix.IPV6_RECVPKTINFO:
		e.v6pktinfo = v != 0
	case unix.IPV6_RECVTCLASS:
		e.recvTClass = v != 0
	case unix.IPV6_RECVHOPLIMIT:
		e.recvHops = v != 0
	case ipv62292HopLim:
		e.recvHops2292 = v != 0
	case unix.IPV6_TCLASS:
		if v < -1 || v > 255 {
			return unix.EINVAL
		}
		e.tclass = uint8(max(v, 0))
	case unix.IPV6_UNICAST_HOPS:
		if v < -1 || v > 255 {
			return unix.EINVAL
		}
		e.hops = v
	case unix.IPV6_RECVERR, unix.IPV6_MTU_DISCOVER:
		// Accepted: ping sets them; no error queue is kept.
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

// GetSockOpt implements netstack.Endpoint.GetSockOpt.
func (e *endpoint) GetSockOpt(level, name int, buf []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var v int32
	switch level {
	case unix.SOL_SOCKET:
		switch name {
		case unix.SO_BROADCAST:
			v = netstack.BoolInt(e.broadcast)
		case unix.SO_TIMESTAMP:
			v = netstack.BoolInt(e.timestamp)
		case unix.SO_RCVBUF:
			v = int32(e.rcvbuf)
		case unix.SO_SNDBUF:
			v = int32(e.sndbuf)
		case unix.SO_ERROR, unix.SO_ACCEPTCONN, unix.SO_KEEPALIVE, unix.SO_REUSEADDR, unix.SO_REUSEPORT:
			v = 0
		case soBindToIfindex:
			v = e.dev
		case unix.SO_BINDTODEVICE:
			name := ""
			if ifs, ok := e.p.net.(netstack.Interfaces); ok && e.dev != 0 {
				name = ifs.NICName(e.dev)
			}
			if name == "" {
				return 0, nil
			}
			b := append([]byte(name), 0)
			if len(buf) < len(b) {
				return 0, unix.EINVAL
			}
			return copy(buf, b), nil
		default:
			return 0, unix.ENOPROTOOPT
		}
	case unix.SOL_IP:
		if e.v6 {
			return 0, unix.ENOPROTOOPT
		}
		switch name {
		case unix.IP_HDRINCL:
			v = netstack.BoolInt(e.hdrincl)
		case unix.IP_TOS:
			v = int32(e.tos)
		case unix.IP_TTL:
			v = e.ttl
			if v < 0 {
				v = netstack.DefaultTTL
			}
		case unix.IP_PKTINFO:
			v = netstack.BoolInt(e.pktinfo)
		case unix.IP_RECVTOS:
			v = netstack.BoolInt(e.recvTOS)
		case unix.IP_RECVTTL:
			v = netstack.BoolInt(e.recvTTL)
		default:
			return 0, unix.ENOPROTOOPT
		}
	case unix.SOL_IPV6, solRaw:
		if level == solRaw && !e.v6 {
			if name != icmpFilter {
				return 0, unix.ENOPROTOOPT
			}
			if e.proto != unix.IPPROTO_ICMP {
				return 0, unix.EOPNOTSUPP
			}
			return netstack.PutSockoptInt(buf, int32(e.icmpFilter)), nil
		}
		if !e.v6 {
			return 0, unix.ENOPROTOOPT
		}
		switch {
		case name == ipv6Checksum:
			v = e.csumOff
		case level == solRaw:
			return 0, unix.ENOPROTOOPT
		case name == ipv6HdrIncl:
			v = netstack.BoolInt(e.hdrincl)
		case name == unix.IPV6_V6ONLY:
			v = netstack.BoolInt(e.v6only)
		case name == unix.IPV6_RECVPKTINFO:
			v = netstack.BoolInt(e.v6pktinfo)
		case name == unix.IPV6_RECVTCLASS:
			v = netstack.BoolInt(e.recvTClass)
		case name == unix.IPV6_RECVHOPLIMIT:
			v = netstack.BoolInt(e.recvHops)
		case name == ipv62292HopLim:
			v = netstack.BoolInt(e.recvHops2292)
		case name == unix.IPV6_TCLASS:
			v = int32(e.tclass)
		case name == unix.IPV6_UNICAST_HOPS:
			v = e.hops
			if v < 0 {
				v = netstack.DefaultTTL
			}
		default:
			return 0, unix.ENOPROTOOPT
		}
	case solICMPv6:
		if !e.v6 || e.proto != unix.IPPROTO_ICMPV6 {
			return 0, unix.EOPNOTSUPP
		}
		if name != icmp6Filter {
			return 0, unix.ENOPROTOOPT
		}
		var b [32]byte
		for i, w := range e.icmp6Filter {
			binary.LittleEndian.PutUint32(b[4*i:], w)
		}
		return copy(buf, b[:]), nil
	default:
		return 0, unix.ENOPROTOOPT
	}
	return netstack.PutSockoptInt(buf, v), nil
}
