package netlink

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/syscalls/inet"
)

// NETLINK_SOCK_DIAG (sock_diag(7)): SOCK_DIAG_BY_FAMILY for AF_INET and
// AF_INET6 with IPPROTO_TCP and IPPROTO_UDP, over the socket layer's
// registry of open inet sockets (the one /proc/net/tcp reads).

const (
	// diagReqLen is sizeof(struct inet_diag_req_v2).
	diagReqLen = 56
	// diagMsgLen is sizeof(struct inet_diag_msg).
	diagMsgLen = 72
	// diagSockIDLen is sizeof(struct inet_diag_sockid).
	diagSockIDLen = 48

	tcpdiagGetSock  = 18 // TCPDIAG_GETSOCK: the old inet_diag_req
	dccpdiagGetSock = 19

	inetDiagMeminfo   = 1
	inetDiagInfo      = 2
	inetDiagShutdown  = 8
	inetDiagSkmeminfo = 7
	inetDiagSkV6Only  = 11

	// inetDiagNoCookie is INET_DIAG_NOCOOKIE: any socket matches.
	inetDiagNoCookie = 0xffffffff
	skMeminfoVars    = 9
)

// listSockets returns the open inet sockets (a variable for tests).
var listSockets = inet.Sockets

// diagRequest is a parsed struct inet_diag_req_v2.
type diagRequest struct {
	family, protocol, ext uint8
	states                uint32
	sport, dport          uint16
	src, dst              [16]byte
	ifindex               uint32
	cookie                [2]uint32
}

// parseDiagRequest checks and decodes a SOCK_DIAG_BY_FAMILY body. The
// attributes that may follow (INET_DIAG_REQ_BYTECODE, ...) must be well
// formed (EINVAL otherwise) but are not applied.
func parseDiagRequest(body []byte) (diagRequest, unix.Errno) {
	if len(body) < 2 {
		return diagRequest{}, unix.EINVAL
	}
	r := diagRequest{family: body[0], protocol: body[1]}
	if r.family >= unix.AF_MAX {
		return r, unix.EINVAL
	}
	if r.family != unix.AF_INET && r.family != unix.AF_INET6 {
		// No unix_diag, netlink_diag or packet_diag: Linux without
		// those modules answers ENOENT.
		return r, unix.ENOENT
	}
	if len(body) < diagReqLen {
		return r, unix.EINVAL
	}
	r.ext = body[2]
	r.states = binary.LittleEndian.Uint32(body[4:])
	id := body[8 : 8+diagSockIDLen]
	r.sport = binary.BigEndian.Uint16(id[0:])
	r.dport = binary.BigEndian.Uint16(id[2:])
	copy(r.src[:], id[4:20])
	copy(r.dst[:], id[20:36])
	r.ifindex = binary.LittleEndian.Uint32(id[36:])
	r.cookie[0] = binary.LittleEndian.Uint32(id[40:])
	r.cookie[1] = binary.LittleEndian.Uint32(id[44:])
	if _, ok := attrs(body[diagReqLen:]); !ok {
		return r, unix.EINVAL
	}
	return r, 0
}

// knownProtocol says whether the protocol has a handler (Linux: an
// inet_diag_table entry).
func (r *diagRequest) knownProtocol() bool {
	return r.protocol == unix.IPPROTO_TCP || r.protocol == unix.IPPROTO_UDP
}

// handleDiag serves one NETLINK_SOCK_DIAG request.
func handleDiag(h Header, body []byte, o Options, emit func([]byte) bool) (unix.Errno, bool) {
	switch h.Type {
	case unix.SOCK_DIAG_BY_FAMILY:
	case tcpdiagGetSock, dccpdiagGetSock, unix.SOCK_DESTROY:
		// The old inet_diag_req and socket destruction are not
		// implemented (Linux without CONFIG_INET_DIAG_DESTROY says
		// EOPNOTSUPP to the latter).
		return unix.EOPNOTSUPP, true
	default:
		return unix.EINVAL, true
	}
	r, err := parseDiagRequest(body)
	if err != 0 {
		return err, true
	}
	dump := h.Flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP
	if !r.knownProtocol() {
		// Found once the dump has started: Linux ends the dump with
		// the error in NLMSG_DONE.
		if dump {
			return 0, dumpMsgsErr(h, o, emit, nil, unix.ENOENT)
		}
		return unix.ENOENT, true
	}
	socks := matchingSockets(&r)
	if dump {
		msgs := make([][]byte, 0, len(socks))
		for k := range socks {
			msgs = append(msgs, diagMsg(&socks[k], &r, unix.NLM_F_MULTI, h.Seq, o.PortID))
		}
		return 0, dumpMsgs(h, o, emit, msgs)
	}
	// An exact lookup: the socket of the request's addresses and ports
	// (and cookie, unless INET_DIAG_NOCOOKIE).
	for k := range socks {
		s := &socks[k]
		if s.Local.Port != r.sport || s.Remote.Port != r.dport ||
			diagAddr(s.Local.Addr, s.Family) != r.src || diagAddr(s.Remote.Addr, s.Family) != r.dst {
			continue
		}
		if r.cookie != [2]uint32{inetDiagNoCookie, inetDiagNoCookie} && r.cookie != cookieOf(s) {
			return unix.ESTALE, true
		}
		return 0, emit(diagMsg(s, &r, 0, h.Seq, o.PortID))
	}
	return unix.ENOENT, true
}

// matchingSockets returns the sockets of the request's family, protocol
// and states that Linux's dump would show: TCP sockets in its hash tables
// (listening or in a connection: not closed), UDP sockets with a port;
// the request's non-zero ports filter, as Linux's.
func matchingSockets(r *diagRequest) []inet.SocketInfo {
	var out []inet.SocketInfo
	for _, s := range listSockets() {
		if s.Family != int(r.family) || !s.Bound {
			continue
		}
		switch r.protocol {
		case unix.IPPROTO_TCP:
			if s.Type != unix.SOCK_STREAM || s.State == tcpClose {
				continue
			}
		case unix.IPPROTO_UDP:
			if s.Type != unix.SOCK_DGRAM || (s.Protocol != 0 && s.Protocol != unix.IPPROTO_UDP) {
				continue
			}
		}
		if s.State < 0 || s.State > 31 || r.states&(1<<s.State) == 0 {
			continue
		}
		if (r.sport != 0 && r.sport != s.Local.Port) || (r.dport != 0 && r.dport != s.Remote.Port) {
			continue
		}
		out = append(out, s)
	}
	return out
}

const tcpClose = 7

// diagAddr returns a as an inet_diag_sockid address of family fam: IPv4
// in the first four bytes, an IPv4 address of an AF_INET6 socket
// v4-mapped, the zero Addr (any) as zeros.
func diagAddr(a netip.Addr, fam int) [16]byte {
	var b [16]byte
	if !a.IsValid() {
		return b
	}
	if fam == unix.AF_INET {
		v := a.Unmap()
		if v.Is4() {
			x := v.As4()
			copy(b[:], x[:])
		}
		return b
	}
	return a.As16()
}

// cookieOf returns the socket's cookie: its inode number, which is unique
// for the sandbox's life.
func cookieOf(s *inet.SocketInfo) [2]uint32 {
	return [2]uint32{uint32(s.Inode), uint32(s.Inode >> 32)}
}

// diagMsg returns the SOCK_DIAG_BY_FAMILY reply describing s: struct
// inet_diag_msg, then INET_DIAG_SHUTDOWN, INET_DIAG_SKV6ONLY (AF_INET6)
// and, when the request's idiag_ext asks, INET_DIAG_MEMINFO,
// INET_DIAG_SKMEMINFO and INET_DIAG_INFO (tcp_info).
func diagMsg(s *inet.SocketInfo, r *diagRequest, flags uint16, seq, port uint32) []byte {
	body := make([]byte, diagMsgLen)
	body[0] = uint8(s.Family)
	body[1] = uint8(s.State)
	id := body[4 : 4+diagSockIDLen]
	binary.BigEndian.PutUint16(id[0:], s.Local.Port)
	binary.BigEndian.PutUint16(id[2:], s.Remote.Port)
	src, dst := diagAddr(s.Local.Addr, s.Family), diagAddr(s.Remote.Addr, s.Family)
	copy(id[4:], src[:])
	copy(id[20:], dst[:])
	c := cookieOf(s)
	binary.LittleEndian.PutUint32(id[40:], c[0])
	binary.LittleEndian.PutUint32(id[44:], c[1])
	tail := body[4+diagSockIDLen:]
	binary.LittleEndian.PutUint32(tail[4:], uint32(s.RxQueue))
	binary.LittleEndian.PutUint32(tail[8:], uint32(s.TxQueue))
	binary.LittleEndian.PutUint32(tail[12:], s.UID)
	binary.LittleEndian.PutUint32(tail[16:], uint32(s.Inode))
	m := newMsg(unix.SOCK_DIAG_BY_FAMILY, flags, seq, port, body)
	m.u8(inetDiagShutdown, 0)
	if s.Family == unix.AF_INET6 {
		var v uint8
		if s.V6Only {
			v = 1
		}
		m.u8(inetDiagSkV6Only, v)
	}
	want := func(attr int) bool { return r.ext&(1<<(attr-1)) != 0 }
	if want(inetDiagMeminfo) {
		mi := make([]byte, 16) // rmem, wmem, fmem, tmem
		binary.LittleEndian.PutUint32(mi[0:], uint32(s.RxQueue))
		binary.LittleEndian.PutUint32(mi[4:], uint32(s.TxQueue))
		m.attr(inetDiagMeminfo, mi)
	}
	if want(inetDiagSkmeminfo) {
		mi := make([]byte, 4*skMeminfoVars)
		binary.LittleEndian.PutUint32(mi[0:], uint32(s.RxQueue))
		binary.LittleEndian.PutUint32(mi[8:], uint32(s.TxQueue))
		m.attr(inetDiagSkmeminfo, mi)
	}
	if want(inetDiagInfo) && s.TCPInfo != nil {
		m.attr(inetDiagInfo, s.TCPInfo)
	}
	return m.bytes()
}
