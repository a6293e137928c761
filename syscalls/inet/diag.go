package inet

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// SocketInfo describes one open inet socket, as /proc/net/tcp and
// NETLINK_SOCK_DIAG show it: a snapshot.
type SocketInfo struct {
	// Family, Type and Protocol are the socket's SO_DOMAIN, SO_TYPE and
	// SO_PROTOCOL (Protocol 0 stands for the type's default).
	Family, Type, Protocol int
	// State is Linux's TCP state number (TCP_ESTABLISHED ... TCP_LISTEN);
	// a UDP socket is established when connected, closed otherwise.
	State int
	// Local and Remote are the addresses; Bound is false while the socket
	// has no local port.
	Local, Remote netstack.FullAddress
	Bound         bool
	// RxQueue and TxQueue are the queued bytes; for a TCP listener the
	// connections waiting for accept and the backlog, as Linux's diag.
	RxQueue, TxQueue int
	// UID is the creator's; Inode the number fstat shows.
	UID   uint32
	Inode uint64
	// V6Only is IPV6_V6ONLY of an AF_INET6 socket.
	V6Only bool
	// TCPInfo is struct tcp_info (nil if not TCP).
	TCPInfo []byte
}

// listenQueuer is implemented by TCP endpoints (netstack/tcp/diag.go).
type listenQueuer interface {
	ListenQueue() (queued, backlog int, listening bool)
}

// Sockets returns the sandbox's open inet sockets, oldest first.
func Sockets() []SocketInfo {
	var out []SocketInfo
	for _, s := range live.snapshot() {
		out = append(out, s.info())
	}
	return out
}

// tcpInfoLen is what is read of struct tcp_info (Linux 6.x: 248 bytes).
const tcpInfoLen = 248

// info returns s's SocketInfo.
func (s *Socket) info() SocketInfo {
	in := SocketInfo{Family: s.Family, Type: s.Type, Protocol: s.Protocol, UID: s.uid, Inode: s.ino}
	local, err := s.ep.LocalAddress()
	in.Bound = err == nil && local.Port != 0
	in.Local = local
	remote, rerr := s.ep.RemoteAddress()
	if rerr == nil {
		in.Remote = remote
	}
	in.State = socketState(s, rerr == nil)
	if s.Type == unix.SOCK_STREAM {
		b := make([]byte, tcpInfoLen)
		if n, err := s.ep.GetSockOpt(unix.SOL_TCP, unix.TCP_INFO, b); err == nil {
			in.TCPInfo = b[:n]
		}
	}
	if s.Family == unix.AF_INET6 {
		var b [4]byte
		if n, err := s.ep.GetSockOpt(unix.SOL_IPV6, unix.IPV6_V6ONLY, b[:]); err == nil && n == 4 {
			in.V6Only = binary.NativeEndian.Uint32(b[:]) != 0
		}
	}
	q := queuesOf(s.ep)
	in.RxQueue, in.TxQueue = q.rx, q.tx
	if q.listening {
		// inet_diag shows a listener's backlog as its send queue.
		in.TxQueue = q.backlog
	}
	return in
}

// queues are a socket's queue lengths as /proc/net and sock_diag show
// them.
type queues struct {
	// rx and tx are the bytes received and not read, and sent and not
	// acknowledged (for a listener: connections waiting in accept, and 0).
	rx, tx int
	// listening says the socket listens, with backlog its limit.
	listening bool
	backlog   int
}

// queuesOf reads ep's queues: TCP's SIOCINQ and SIOCOUTQ, or the
// endpoint's own sizes.
func queuesOf(ep netstack.Endpoint) queues {
	if l, ok := ep.(listenQueuer); ok {
		if n, backlog, listening := l.ListenQueue(); listening {
			return queues{rx: n, listening: true, backlog: backlog}
		}
	}
	var q queues
	if io, ok := ep.(netstack.Ioctler); ok {
		q.rx, _ = io.Ioctl(unix.SIOCINQ)
		q.tx, _ = io.Ioctl(unix.SIOCOUTQ)
	} else if qs, ok := ep.(netstack.QueueSizer); ok {
		q.rx, q.tx = qs.QueueSizes()
	}
	return q
}
