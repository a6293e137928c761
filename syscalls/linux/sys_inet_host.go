package linux

import (
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
)

// inetHostSocket implements socket(2) for AF_INET and AF_INET6 when the
// sandbox's sockets are made by mk (--network=host): the checks Linux
// makes before it reaches a protocol, then the host's answer.
func inetHostSocket(t *kernel.Task, mk inet.EndpointFactory, domain, stype, protocol, flags int) (uint64, error) {
	switch stype {
	case unix.SOCK_STREAM:
		if protocol != 0 && protocol != unix.IPPROTO_TCP {
			return 0, unix.EPROTONOSUPPORT
		}
		protocol = unix.IPPROTO_TCP
	case unix.SOCK_DGRAM:
		switch {
		case protocol == 0 || protocol == unix.IPPROTO_UDP:
			protocol = unix.IPPROTO_UDP
		case protocol == unix.IPPROTO_ICMP && domain == unix.AF_INET, protocol == unix.IPPROTO_ICMPV6 && domain == unix.AF_INET6:
			// A ping socket: the host's ping_group_range decides.
		default:
			return 0, unix.EPROTONOSUPPORT
		}
	case unix.SOCK_RAW:
		// The guest's capability first, then the host's (EPERM when
		// the Sentry lacks CAP_NET_RAW in the host's namespace).
		if !t.Credentials().HasCap(unix.CAP_NET_RAW) {
			return 0, unix.EPERM
		}
	default:
		return 0, unix.ESOCKTNOSUPPORT
	}
	ep, err := mk(domain, stype, protocol)
	if err != nil {
		return 0, err
	}
	c := t.Credentials()
	s := inet.New(domain, stype, protocol, ep, c.EffectiveUID, c.EffectiveGID)
	var of uint32
	if flags&unix.SOCK_NONBLOCK != 0 {
		of |= unix.O_NONBLOCK
	}
	f := inet.NewFile(t.Context(), s, of)
	defer f.DecRef(t.Context())
	fd, err := installSocket(t, f, flags)
	return uint64(fd), err
}
