package netstack

import (
	"net/netip"
	"time"
)

// Packet is one received transport packet as the network layer hands it up:
// the IP header is checked and stripped, reassembly done; the transport's own
// header and checksum are not checked yet.
type Packet struct {
	// Src and Dst are the IP addresses (4-byte Addrs for IPv4).
	Src, Dst netip.Addr
	// NICID is the interface the packet arrived on.
	NICID int32
	// TTL is the IPv4 TTL or IPv6 hop limit; TOS the IPv4 TOS or the IPv6
	// traffic class.
	TTL, TOS uint8
	// Payload is the transport header and data. The receiver may keep it.
	Payload []byte
	// ChecksumVerified says the transport checksum must not be checked:
	// the packet was built by this stack with SendOptions.ChecksumOffset
	// and looped back, so it was never computed (Linux's CHECKSUM_PARTIAL
	// on lo).
	ChecksumVerified bool
}

// PayloadCopier is implemented by a TransportProtocol whose HandlePacket
// keeps no reference to the packet's payload once it returns (it copies
// what it queues, as TCP does), so that the stack may reuse the buffer of
// a loopback packet for the next one.
type PayloadCopier interface {
	// CopiesPayload is a marker; it does nothing.
	CopiesPayload()
}

// Route is the way to a remote address: the source address to use, the
// outgoing interface and its MTU (the largest IP packet it carries), and
// the gateway packets go to if Remote is not on-link.
type Route struct {
	Local, Remote netip.Addr
	NICID         int32
	MTU           int
	Gateway       netip.Addr
}

// SendOptions are the IP-level settings of one outgoing packet.
type SendOptions struct {
	// TTL is the TTL or hop limit; 0 means the stack's default (64).
	TTL uint8
	// TOS is the IPv4 TOS or IPv6 traffic class.
	TOS uint8
	// DontFragment sets IPv4 DF (TCP sets it; path MTU discovery).
	DontFragment bool
	// ChecksumOffset, if not 0, hands the transport checksum to the stack:
	// the payload's checksum field at that offset is not filled in, and
	// the stack computes it (pseudo-header and payload, RFC 1071) unless
	// the packet goes over the loopback link whole, where it is delivered
	// with Packet.ChecksumVerified instead.
	ChecksumOffset int
}

// PortFlags are the reuse options of a port reservation.
type PortFlags struct {
	// ReuseAddr is SO_REUSEADDR, ReusePort SO_REUSEPORT.
	ReuseAddr, ReusePort bool
	// UID is the owner (SO_REUSEPORT is shared only by one UID).
	UID uint32
	// BindToDevice is SO_BINDTODEVICE's interface index, 0 for any.
	BindToDevice int32
}

// Network is what a transport protocol uses from the stack's IP layer. Its
// methods are safe for concurrent use.
type Network interface {
	// FindRoute returns the route to remote; local, if valid, must be one of
	// the stack's addresses and becomes the source. ENETUNREACH if none.
	FindRoute(local, remote netip.Addr, bindToDevice int32) (Route, error)
	// Send sends one transport packet (header and data, checksum already
	// filled in) of protocol proto over r, fragmenting IPv4 if needed and
	// allowed. It never delivers to a transport synchronously (loopback
	// queues), so callers may hold their own locks. It does not keep
	// payload: the caller may reuse it once Send returns. It may write the
	// checksum into it (SendOptions.ChecksumOffset).
	Send(r Route, proto uint8, payload []byte, opts SendOptions) error
	// IsLocalAddress reports whether a is assigned to one of the stack's
	// interfaces (or is a broadcast/multicast address it accepts).
	IsLocalAddress(a netip.Addr) bool
	// ReservePort reserves addr's port (0: an unpredictable ephemeral port
	// from ip_local_port_range) for protocol proto and returns it;
	// EADDRINUSE when it clashes with another reservation under Linux's
	// SO_REUSEADDR/SO_REUSEPORT rules. ReleasePort undoes it.
	ReservePort(proto uint8, addr FullAddress, flags PortFlags) (uint16, error)
	ReleasePort(proto uint8, addr FullAddress, flags PortFlags)
	// Now is the stack's clock; AfterFunc runs f after d on its own
	// goroutine (tests use a simulated clock).
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
	// Random fills b with unpredictable bytes (ISNs, ports, cookies).
	Random(b []byte)
}

// Timer is a timer from Network.AfterFunc.
type Timer interface {
	// Stop prevents the function from running if it has not started; it
	// reports whether it did.
	Stop() bool
	// Reset makes the timer run after d again.
	Reset(d time.Duration)
}

// TransportProtocol is a transport protocol (TCP, UDP, ...) registered with
// a Stack, which hands it the packets of its protocol number.
type TransportProtocol interface {
	// Number is the IP protocol number (6 for TCP).
	Number() uint8
	// NewEndpoint makes an endpoint of an AF_INET (v6 false) or AF_INET6
	// socket.
	NewEndpoint(v6 bool) (Endpoint, error)
	// HandlePacket receives one packet of this protocol addressed to the
	// stack. Called from the stack's receive goroutines.
	HandlePacket(pkt Packet)
	// HandleError receives an ICMP error about a packet this protocol sent
	// (its quoted IP addresses and the start of its transport header), as
	// the errno Linux maps it to (ECONNREFUSED, EHOSTUNREACH, EMSGSIZE with
	// mtu set, ...).
	HandleError(src, dst netip.Addr, quoted []byte, err error, mtu int)
}
