package tcp

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

func getInt(val []byte) (int, error) {
	if len(val) < 4 {
		return 0, unix.EINVAL
	}
	return int(int32(binary.NativeEndian.Uint32(val))), nil
}

// putInt writes v as getsockopt does: at most 4 bytes, fewer if buf is
// shorter.
func putInt(buf []byte, v int) (int, error) {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(int32(v)))
	return copy(buf, b[:]), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SetSockOpt implements netstack.Endpoint.SetSockOpt.
func (e *endpoint) SetSockOpt(level, name int, val []byte) error {
	e.mu.Lock()
	defer e.unlock()
	switch level {
	case unix.SOL_SOCKET:
		return e.setSocketOptLocked(name, val)
	case unix.SOL_TCP:
		return e.setTCPOptLocked(name, val)
	case unix.SOL_IP:
		if name == unix.IP_OPTIONS {
			// No IP options are ever sent; clearing them is allowed.
			if len(val) != 0 {
				return unix.EINVAL
			}
			return nil
		}
		v, err := getInt(val)
		if err != nil {
			return err
		}
		switch name {
		case unix.IP_TOS:
			e.tos = ecnKept(uint8(v), e.tos)
		case unix.IP_TTL:
			if v == -1 {
				v = 0
			} else if v < 1 || v > 255 {
				return unix.EINVAL
			}
			e.ttl = uint8(v)
		default:
			return unix.ENOPROTOOPT
		}
		return nil
	case unix.SOL_IPV6:
		if !e.v6 {
			return unix.ENOPROTOOPT
		}
		v, err := getInt(val)
		if err != nil {
			return err
		}
		switch name {
		case unix.IPV6_V6ONLY:
			if e.bound {
				return unix.EINVAL
			}
			e.v6only = v != 0
		case unix.IPV6_TCLASS:
			if v < -1 || v > 255 {
				return unix.EINVAL
			}
			e.tos = ecnKept(uint8(max(v, 0)), e.tos)
		case unix.IPV6_UNICAST_HOPS:
			if v < -1 || v > 255 {
				return unix.EINVAL
			}
			e.ttl = uint8(max(v, 0))
		default:
			return unix.ENOPROTOOPT
		}
		return nil
	}
	return unix.ENOPROTOOPT
}

func (e *endpoint) setSocketOptLocked(name int, val []byte) error {
	switch name {
	case unix.SO_LINGER:
		if len(val) < 8 {
			return unix.EINVAL
		}
		e.lingerOn = binary.NativeEndian.Uint32(val) != 0
		e.lingerSec = max(int32(binary.NativeEndian.Uint32(val[4:])), 0)
		return nil
	case unix.SO_ERROR, unix.SO_ACCEPTCONN:
		return unix.ENOPROTOOPT
	}
	v, err := getInt(val)
	if err != nil {
		return err
	}
	switch name {
	case unix.SO_REUSEADDR:
		e.reuseAddr = v != 0
	case unix.SO_REUSEPORT:
		e.reusePort = v != 0
	case unix.SO_KEEPALIVE:
		e.keepalive = v != 0
		if e.keepalive && (e.state == stateEstablished || e.state == stateCloseWait) {
			e.arm(&e.keepTimer, e.keepIdle, e.keepaliveTimeout)
		} else if !e.keepalive {
			e.keepTimer.disarm()
		}
	case unix.SO_OOBINLINE:
		e.oobInline = v != 0
	case unix.SO_RCVLOWAT:
		// Linux's tcp_set_rcvlowat: negative is INT_MAX, capped at half
		// the receive buffer, 0 is 1.
		if v < 0 {
			v = 1<<31 - 1
		}
		e.rcvLowat = max(min(v, e.rcvBufSize/2), 1)
		e.wake(unix.EPOLLIN)
	case unix.SO_PRIORITY:
		// Kept for getsockopt; the sandbox's links have no queueing
		// disciplines to use it.
		e.priority = v
	case unix.SO_RCVBUF, unix.SO_RCVBUFFORCE:
		u := min(uint32(v), maxBufSysctl)
		e.rcvBufSize = max(int(u)*2, minRcvBuf)
	case unix.SO_SNDBUF, unix.SO_SNDBUFFORCE:
		u := min(uint32(v), maxBufSysctl)
		e.sndBufSize = max(int(u)*2, minSndBuf)
		if e.writableLocked() {
			e.wake(unix.EPOLLOUT)
		}
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

func (e *endpoint) setTCPOptLocked(name int, val []byte) error {
	if name == unix.TCP_CONGESTION {
		n := len(val)
		for i, c := range val {
			if c == 0 {
				n = i
				break
			}
		}
		s := string(val[:min(n, 15)])
		if !validCC(s) {
			return unix.ENOENT
		}
		if s != e.ccName {
			e.ccName = s
			e.cc = newCC(s)
		}
		return nil
	}
	v, err := getInt(val)
	if err != nil {
		return err
	}
	switch name {
	case unix.TCP_NODELAY:
		e.nodelay = v != 0
		if e.nodelay {
			e.outputLocked()
		}
	case unix.TCP_CORK:
		e.cork = v != 0
		if !e.cork {
			e.more = false
			e.outputLocked()
		}
	case unix.TCP_MAXSEG:
		if v != 0 && (v < minMSS || v > 65535) {
			return unix.EINVAL
		}
		e.userMSS = v
	case unix.TCP_KEEPIDLE:
		if v < 1 || v > 32767 {
			return unix.EINVAL
		}
		e.keepIdle = time.Duration(v) * time.Second
		if e.keepalive && e.keepTimer.armed() {
			e.arm(&e.keepTimer, e.keepIdle, e.keepaliveTimeout)
		}
	case unix.TCP_KEEPINTVL:
		if v < 1 || v > 32767 {
			return unix.EINVAL
		}
		e.keepIntvl = time.Duration(v) * time.Second
	case unix.TCP_KEEPCNT:
		if v < 1 || v > 127 {
			return unix.EINVAL
		}
		e.keepCnt = v
	case unix.TCP_USER_TIMEOUT:
		if v < 0 {
			return unix.EINVAL
		}
		e.userTimeout = time.Duration(v) * time.Millisecond
	case unix.TCP_SYNCNT:
		if v < 1 || v > 127 {
			return unix.EINVAL
		}
		e.synCnt = v
	case unix.TCP_QUICKACK:
		e.quickack = v != 0
		if e.quickack && e.ackPending > 0 {
			e.sendACKLocked()
		}
	case unix.TCP_LINGER2:
		// Seconds an orphan stays in FIN_WAIT2: negative closes it at
		// once, 0 is tcp_fin_timeout, capped at TCP_FIN_TIMEOUT_MAX.
		switch {
		case v < 0:
			e.linger2 = -1
		default:
			e.linger2 = time.Duration(min(v, maxLinger2Sec)) * time.Second
		}
	case unix.TCP_NOTSENT_LOWAT:
		e.notsentLowat = int(uint32(v))
		if e.writableLocked() {
			e.wake(unix.EPOLLOUT | unix.EPOLLWRNORM)
		}
	default:
		return unix.ENOPROTOOPT
	}
	return nil
}

// GetSockOpt implements netstack.Endpoint.GetSockOpt.
func (e *endpoint) GetSockOpt(level, name int, buf []byte) (int, error) {
	e.mu.Lock()
	defer e.unlock()
	switch level {
	case unix.SOL_SOCKET:
		switch name {
		case unix.SO_REUSEADDR:
			return putInt(buf, boolInt(e.reuseAddr))
		case unix.SO_REUSEPORT:
			return putInt(buf, boolInt(e.reusePort))
		case unix.SO_KEEPALIVE:
			return putInt(buf, boolInt(e.keepalive))
		case unix.SO_OOBINLINE:
			return putInt(buf, boolInt(e.oobInline))
		case unix.SO_RCVLOWAT:
			return putInt(buf, max(e.rcvLowat, 1))
		case unix.SO_PRIORITY:
			return putInt(buf, e.priority)
		case unix.SO_RCVBUF:
			return putInt(buf, e.rcvBufSize)
		case unix.SO_SNDBUF:
			return putInt(buf, e.sndBufSize)
		case unix.SO_ERROR:
			return putInt(buf, int(e.takeErrLocked()))
		case unix.SO_ACCEPTCONN:
			return putInt(buf, boolInt(e.state == stateListen))
		case unix.SO_LINGER:
			var b [8]byte
			binary.NativeEndian.PutUint32(b[:], uint32(boolInt(e.lingerOn)))
			binary.NativeEndian.PutUint32(b[4:], uint32(e.lingerSec))
			return copy(buf, b[:]), nil
		}
	case unix.SOL_TCP:
		switch name {
		case unix.TCP_NODELAY:
			return putInt(buf, boolInt(e.nodelay))
		case unix.TCP_CORK:
			return putInt(buf, boolInt(e.cork))
		case unix.TCP_MAXSEG:
			if e.state != stateClosed && e.state != stateListen {
				return putInt(buf, e.mss)
			}
			if e.userMSS > 0 {
				return putInt(buf, e.userMSS)
			}
			return putInt(buf, defaultMSS)
		case unix.TCP_KEEPIDLE:
			return putInt(buf, int(e.keepIdle/time.Second))
		case unix.TCP_KEEPINTVL:
			return putInt(buf, int(e.keepIntvl/time.Second))
		case unix.TCP_KEEPCNT:
			return putInt(buf, e.keepCnt)
		case unix.TCP_USER_TIMEOUT:
			return putInt(buf, int(e.userTimeout/time.Millisecond))
		case unix.TCP_SYNCNT:
			return putInt(buf, e.synCnt)
		case unix.TCP_QUICKACK:
			return putInt(buf, boolInt(e.quickack))
		case unix.TCP_LINGER2:
			if e.linger2 < 0 {
				return putInt(buf, -1)
			}
			return putInt(buf, int(e.finTimeoutLocked()/time.Second))
		case unix.TCP_NOTSENT_LOWAT:
			return putInt(buf, int(int32(uint32(e.notsentLowat))))
		case unix.TCP_CONGESTION:
			var b [16]byte
			copy(b[:], e.ccName)
			return copy(buf, b[:]), nil
		case unix.TCP_INFO:
			info := e.tcpInfoLocked()
			return copy(buf, info[:]), nil
		}
	case unix.SOL_IP:
		switch name {
		case unix.IP_TOS:
			return putInt(buf, int(e.tos))
		case unix.IP_TTL:
			if e.ttl == 0 {
				return putInt(buf, 64)
			}
			return putInt(buf, int(e.ttl))
		case unix.IP_OPTIONS:
			return 0, nil
		case unix.IP_MTU:
			return e.pathMTULocked(buf)
		}
	case unix.SOL_IPV6:
		if !e.v6 {
			break
		}
		switch name {
		case unix.IPV6_V6ONLY:
			return putInt(buf, boolInt(e.v6only))
		case unix.IPV6_TCLASS:
			return putInt(buf, int(e.tos))
		case unix.IPV6_MTU:
			return e.pathMTULocked(buf)
		case unix.IPV6_UNICAST_HOPS:
			if e.ttl == 0 {
				return putInt(buf, 64)
			}
			return putInt(buf, int(e.ttl))
		}
	}
	return 0, unix.ENOPROTOOPT
}

// maxLinger2Sec is Linux's TCP_FIN_TIMEOUT_MAX in seconds.
const maxLinger2Sec = 120

// ecnKept is Linux's rule for IP_TOS and IPV6_TCLASS on a stream socket:
// the two ECN bits are the stack's, so the old ones stay.
func ecnKept(v, old uint8) uint8 { return v&^3 | old&3 }

// pathMTULocked is IP_MTU and IPV6_MTU: the route's MTU, ENOTCONN without
// a connection.
func (e *endpoint) pathMTULocked(buf []byte) (int, error) {
	if e.state == stateClosed || e.state == stateListen || e.route.MTU == 0 {
		return 0, unix.ENOTCONN
	}
	return putInt(buf, e.route.MTU)
}

// tcpInfoSize is the length of struct tcp_info we fill (through
// tcpi_segs_in).
const tcpInfoSize = 144

// tcpInfoLocked encodes Linux's struct tcp_info (linux/tcp.h).
func (e *endpoint) tcpInfoLocked() [tcpInfoSize]byte {
	var b [tcpInfoSize]byte
	le := binary.NativeEndian
	b[0] = e.state
	switch {
	case e.inRecovery:
		b[1] = 3 // TCP_CA_Recovery
	case e.retries > 0 && e.sndUna != e.sndMax:
		b[1] = 4 // TCP_CA_Loss
	}
	b[2] = byte(min(e.retries, 255))
	b[3] = byte(min(e.keepProbes, 255))
	b[4] = byte(min(e.retries, 255))
	var opts byte
	if e.tsOK {
		opts |= 1 // TCPI_OPT_TIMESTAMPS
	}
	if e.sackOK {
		opts |= 2 // TCPI_OPT_SACK
	}
	if e.wsOK {
		opts |= 4 // TCPI_OPT_WSCALE
	}
	b[5] = opts
	b[6] = e.sndWS&0xf | (e.rcvWS&0xf)<<4
	us := func(d time.Duration) uint32 { return uint32(d / time.Microsecond) }
	ms := func(t time.Time) uint32 {
		if t.IsZero() {
			return 0
		}
		return uint32(e.now().Sub(t) / time.Millisecond)
	}
	le.PutUint32(b[8:], us(e.rto))
	le.PutUint32(b[12:], us(delAckTime))
	le.PutUint32(b[16:], uint32(e.mss))
	le.PutUint32(b[20:], uint32(e.advMSS))
	if e.mss > 0 {
		le.PutUint32(b[24:], uint32((e.sndMax.diff(e.sndUna)+e.mss-1)/e.mss))
		le.PutUint32(b[28:], uint32(e.sb.sacked(e.sndUna, e.sndMax)/e.mss))
	}
	le.PutUint32(b[44:], ms(e.lastDataSent))
	le.PutUint32(b[52:], ms(e.lastDataRecv))
	le.PutUint32(b[56:], ms(e.lastAckRecv))
	le.PutUint32(b[60:], uint32(e.route.MTU))
	le.PutUint32(b[64:], uint32(e.rcvBufSize))
	le.PutUint32(b[68:], us(e.srtt))
	le.PutUint32(b[72:], us(e.rttvar))
	le.PutUint32(b[76:], uint32(min(e.ssthresh/max(e.mss, 1), 0x7fffffff)))
	le.PutUint32(b[80:], uint32(e.cwnd/max(e.mss, 1)))
	le.PutUint32(b[84:], uint32(e.advMSS))
	le.PutUint32(b[88:], 3)
	le.PutUint32(b[96:], uint32(e.rcvBufSize))
	le.PutUint32(b[100:], uint32(e.totalRetrans))
	le.PutUint64(b[120:], e.bytesAcked)
	le.PutUint64(b[128:], e.bytesReceived)
	le.PutUint32(b[136:], e.segsOut)
	le.PutUint32(b[140:], e.segsIn)
	return b
}
