package netstack

import (
	"net/netip"
)

// FullAddress is a transport address: an IP address (the zero Addr for "any")
// and a port (or an ICMP echo identifier). IPv4 addresses are 4-byte Addrs,
// also on IPv6 sockets, where the socket layer maps them to ::ffff:a.b.c.d.
type FullAddress struct {
	Addr netip.Addr
	Port uint16
}

// ReadOptions are the flags of one receive.
type ReadOptions struct {
	// Peek leaves the data queued (MSG_PEEK).
	Peek bool
	// Trunc reports a datagram's full length even when buf is shorter
	// (MSG_TRUNC); for stream sockets it discards the data instead of copying.
	Trunc bool
	// OOB receives TCP urgent data (MSG_OOB).
	OOB bool
}

// ReadResult describes one receive.
type ReadResult struct {
	// N is the number of bytes copied into the buffer.
	N int
	// Total is the full length of the datagram (equal to N for streams).
	Total int
	// From is the sender's address (datagram sockets).
	From FullAddress
	// Control is ancillary data the socket layer turns into cmsgs.
	Control ControlMessages
}

// ControlMessages are the ancillary data of a received datagram, each valid
// only when the matching socket option asked for it.
type ControlMessages struct {
	HasTimestamp bool
	// TimestampNS is the receive time in nanoseconds since the Unix epoch.
	TimestampNS int64
	HasTOS      bool
	TOS         uint8
	HasTTL      bool
	TTL         uint8
	// TTL2292 reports the IPv6 hop limit as IPV6_2292HOPLIMIT (asked
	// for with the RFC 2292 option) instead of IPV6_HOPLIMIT.
	TTL2292    bool
	HasPktInfo bool
	// PktInfoIfIndex and PktInfoDst are IP_PKTINFO/IPV6_PKTINFO.
	PktInfoIfIndex int32
	PktInfoDst     netip.Addr
	// HasExtErr says ExtErr holds an error-queue entry (MSG_ERRQUEUE).
	HasExtErr bool
	ExtErr    ExtendedError
}

// ExtendedError is one error-queue entry as IP_RECVERR/IPV6_RECVERR
// reports it: struct sock_extended_err and the offender's address.
type ExtendedError struct {
	Errno              uint32
	Origin, Type, Code uint8
	Info, Data         uint32
	// Offender is the address of the node that reported the error (an
	// ICMP error's source); invalid when there is none.
	Offender netip.Addr
}

// ErrQueueReader is an Endpoint that keeps an error queue (ip(7)
// IP_RECVERR), read with MSG_ERRQUEUE.
type ErrQueueReader interface {
	// ReadErrQueue takes the oldest error-queue entry: the payload of
	// the datagram that failed into buf (N, Total), its destination as
	// From and the error as Control.ExtErr. It never blocks: an empty
	// queue is EAGAIN.
	ReadErrQueue(buf []byte) (ReadResult, error)
}

// WriteOptions are the flags and destination of one send.
type WriteOptions struct {
	// To is the destination of an unconnected datagram send; nil means the
	// connected peer.
	To *FullAddress
	// More is MSG_MORE: hold the data back as TCP_CORK would.
	More bool
	// OOB sends the data as TCP urgent data (MSG_OOB).
	OOB bool
	// Control holds the send's IP control messages (datagram sockets),
	// or nil.
	Control *SendControl
}

// Endpoint is a transport endpoint (TCP, UDP, ICMP echo or raw) as the
// socket layer uses it. Every method is safe for concurrent use and never
// blocks: where a blocking socket would wait, it returns unix.EAGAIN
// (unix.EINPROGRESS from Connect) and the socket layer waits for a
// notification and retries. Errors are unix.Errno values as Linux returns
// them.
type Endpoint interface {
	// Bind gives the endpoint a local address; port 0 picks an ephemeral port.
	Bind(addr FullAddress) error
	// Connect starts a connection (TCP: EINPROGRESS, then EventOut and
	// SockError; called again while connecting it returns EALREADY, and
	// once the attempt is over its outcome: nil, marking the endpoint
	// connected, or the error, leaving it unconnected), or sets the
	// default peer of a datagram socket; an address
	// with unspec true (AF_UNSPEC)
	// dissolves a datagram association.
	Connect(addr FullAddress, unspec bool) error
	// Listen makes a TCP endpoint accept connections.
	Listen(backlog int) error
	// Accept returns one established connection, or EAGAIN.
	Accept() (Endpoint, FullAddress, error)
	// Read receives into buf.
	Read(buf []byte, opts ReadOptions) (ReadResult, error)
	// Write sends buf; a stream endpoint may take only a part (the number
	// is returned), a datagram endpoint takes all or fails.
	Write(buf []byte, opts WriteOptions) (int, error)
	// Shutdown is shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR.
	Shutdown(how int) error
	// Close releases the endpoint (TCP: FIN, or RST with unread data or
	// SO_LINGER 0).
	Close()
	// LocalAddress and RemoteAddress are getsockname and getpeername.
	LocalAddress() (FullAddress, error)
	RemoteAddress() (FullAddress, error)
	// Readiness returns the events in mask that are ready now (epoll bits:
	// unix.EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP, EPOLLPRI).
	Readiness(mask uint32) uint32
	// SetNotify sets the function called with the events that may have
	// become ready. It may be called with the endpoint's lock held (TCP
	// does, so that readiness never shows before its notification): it
	// must only signal waiters, never call back into the endpoint.
	SetNotify(notify func(events uint32))
	// SetSockOpt and GetSockOpt are setsockopt/getsockopt for the levels the
	// endpoint knows (SOL_SOCKET, SOL_IP, SOL_IPV6, SOL_TCP, SOL_UDP, ...),
	// with Linux's value encoding; unknown options give ENOPROTOOPT.
	SetSockOpt(level, name int, val []byte) error
	GetSockOpt(level, name int, buf []byte) (int, error)
}
