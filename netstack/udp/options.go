package udp

import (
	"bytes"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// Option numbers not in every x/sys version.
const (
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
		return e.setIPLocked(name, val)
	case unix.SOL_IPV6:
		if !e.v6 {
			return unix.ENOPROTOOPT
		}
		return e.setIPv6Locked(name, val)
	case unix.SOL_UDP, solUDPLite:
		if e.p.kind != kindUDP || (level == solUDPLite && !e.p.lite) {
			return unix.ENOPROTOOPT
		}
		v, err := netstack.SockoptInt(val)
		if err != nil {
			return err
		}
		if !e.p.lite || (name != udpliteSendCov && name != udpliteRecvCov) {
			return unix.ENOPROTOOPT
		}
		if name == udpliteSendCov {
			e.sendCov = clampCov(v)
		} else {
			e.recvCov, e.recvCovSet = clampCov(v), true
		}
		return nil
	}
	return unix.ENOPROTOOPT
}

func (e *endpoint) setSocketLocked(name int, val []byte) error {
	if name == unix.SO_BINDTODEVICE {
		n := bytes.IndexByte(val, 0)
		if n < 0 {
			n = len(val)
		}
		if n == 0 {
			e.dev = 0
			e.publishLocked()
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
		e.publishLocked()
		return nil
	}
	v, err := netstack.SockoptInt(val)
	if err != nil {
		return err
	}
	switch name {
	case unix.SO_REUSEADDR:
		e.reuseAddr = v != 0
	case unix.SO_REUSEPORT:
		e.reusePort = v != 0
	case unix.SO_BROADCAST:
		e.broadcast = v != 0
	case unix.SO_TIMESTAMP:
		e.timestamp = v != 0
	case unix.SO_RCVBUF:
		e.rcvbuf = netstack.SockBufSize(v, MinRcvBuf, MaxBufSize)
	case unix.SO_SNDBUF:
		e.sndbuf = netstack.SockBufSize(v, MinSndBuf, MaxBufSize)
	case soBindToIfindex:
		if v != 0 {
			ifs, ok := e.p.net.(netstack.Interfaces)
			if !ok || !ifs.HasNIC(v) {
				return unix.ENODEV
			}
		}
		e.dev = v
		e.publishLocked()
	case unix.SO_KEEPALIVE, unix.SO_PRIORITY, unix.SO_RCVLOWAT, unix.SO_SNDLOWAT, unix.SO_NO_CHECK:
		// Accepted without effect on datagram sockets.
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
	case unix.IP_RECVERR:
		// No error queue is kept (MSG_ERRQUEUE reads nothing); with the
		// option an unconnected socket takes ICMP errors as SO_ERROR
		// (deliverError), as glibc's resolver expects.
		e.recvErr = v != 0
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

func (e *endpoint) setIPv6Locked(name int, val []byte) error {
	v, err := netstack.SockoptInt(val)
	if err != nil {
		return err
	}
	switch name {
	case unix.IPV6_V6ONLY:
		if e.port != 0 {
			return unix.EINVAL
		}
		e.v6only = v != 0
	case unix.IPV6_RECVPKTINFO:
		e.v6pktinfo = v != 0
	case unix.IPV6_RECVTCLASS:
		e.recvTClass = v != 0
	case unix.IPV6_RECVHOPLIMIT:
		e.recvHops = v != 0
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
	case unix.IPV6_RECVERR:
		e.recvErr6 = v != 0 // as IP_RECVERR
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
		case unix.SO_REUSEADDR:
			v = netstack.BoolInt(e.reuseAddr)
		case unix.SO_REUSEPORT:
			v = netstack.BoolInt(e.reusePort)
		case unix.SO_BROADCAST:
			v = netstack.BoolInt(e.broadcast)
		case unix.SO_TIMESTAMP:
			v = netstack.BoolInt(e.timestamp)
		case unix.SO_RCVBUF:
			v = int32(e.rcvbuf)
		case unix.SO_SNDBUF:
			v = int32(e.sndbuf)
		case unix.SO_ERROR:
			v = int32(e.soErr)
			e.soErr = 0
		case unix.SO_ACCEPTCONN, unix.SO_KEEPALIVE:
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
		switch name {
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
		case unix.IP_RECVERR:
			v = netstack.BoolInt(e.recvErr)
		default:
			return 0, unix.ENOPROTOOPT
		}
	case unix.SOL_IPV6:
		if !e.v6 {
			return 0, unix.ENOPROTOOPT
		}
		switch name {
		case unix.IPV6_V6ONLY:
			v = netstack.BoolInt(e.v6only)
		case unix.IPV6_RECVPKTINFO:
			v = netstack.BoolInt(e.v6pktinfo)
		case unix.IPV6_RECVTCLASS:
			v = netstack.BoolInt(e.recvTClass)
		case unix.IPV6_RECVHOPLIMIT:
			v = netstack.BoolInt(e.recvHops)
		case unix.IPV6_TCLASS:
			v = int32(e.tclass)
		case unix.IPV6_UNICAST_HOPS:
			v = e.hops
			if v < 0 {
				v = netstack.DefaultTTL
			}
		case unix.IPV6_RECVERR:
			v = netstack.BoolInt(e.recvErr6)
		default:
			return 0, unix.ENOPROTOOPT
		}
	case unix.SOL_UDP, solUDPLite:
		if !e.p.lite || (name != udpliteSendCov && name != udpliteRecvCov) {
			return 0, unix.ENOPROTOOPT
		}
		if name == udpliteSendCov {
			v = int32(max(e.sendCov, 0))
		} else {
			v = int32(e.recvCov)
		}
	default:
		return 0, unix.ENOPROTOOPT
	}
	return netstack.PutSockoptInt(buf, v), nil
}
