package netstack

import "net/netip"

// Optional interfaces beyond the Endpoint and Network contracts. The socket
// layer and transports find them with type assertions, so an endpoint or
// network that lacks one still works (with the documented fallback).

// QueueSizer is implemented by endpoints that report their queues for the
// FIONREAD (SIOCINQ) and SIOCOUTQ ioctls: for a datagram socket in is the
// size of the next datagram, for a stream the unread bytes; out is what is
// sent but not yet acknowledged (0 for datagrams). Without it the socket
// layer reports 0.
type QueueSizer interface {
	QueueSizes() (in, out int)
}

// OwnerSetter is implemented by endpoints that need the creating user's
// UID (SO_REUSEPORT groups are shared only by one UID). The socket layer
// calls it right after NewEndpoint.
type OwnerSetter interface {
	SetOwner(uid uint32)
}

// Interfaces is implemented by a Network that names its interfaces
// (SO_BINDTODEVICE takes a name).
type Interfaces interface {
	NICByName(name string) (int32, bool)
	NICName(id int32) string
	HasNIC(id int32) bool
}

// BroadcastChecker is implemented by a Network that knows its broadcast
// addresses (a datagram to one needs SO_BROADCAST).
type BroadcastChecker interface {
	IsBroadcast(a netip.Addr) bool
}

// Ioctler is implemented by endpoints that answer the socket ioctls
// SIOCINQ (FIONREAD), SIOCOUTQ, SIOCOUTQNSD and SIOCATMARK themselves, with
// Linux's errors (TCP: EINVAL on a listener); ENOTTY for another command.
// The socket layer prefers it to QueueSizer.
type Ioctler interface {
	Ioctl(cmd uint32) (int, error)
}
