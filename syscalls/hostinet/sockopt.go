package hostinet

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// optKey names a socket option.
type optKey struct{ level, name int }

// Option access the allow-list grants.
const (
	optGet = 1 << iota
	optSet
	optRW = optGet | optSet
)

// allowedOpts are the options passed to the host. All take plain values
// (integers, small structs, an interface name): none holds a pointer the
// host would follow into the Sentry's memory (SO_ATTACH_FILTER does), none
// needs host privileges the guest lacks (SO_MARK). TCP_CONGESTION picks
// among the host's algorithms; loading a new one needs CAP_NET_ADMIN in
// the host's user namespace, which the Sentry never has.
// IP_RECVERR and IPV6_RECVERR make the host queue errors, which
// ReadErrQueue rebuilds from parsed fields (glibc's resolver needs the
// option to succeed).
// SO_RCVTIMEO, SO_SNDTIMEO, SO_TYPE, SO_DOMAIN and SO_PROTOCOL never reach
// here: the socket layer answers them.
var allowedOpts = map[optKey]int{
	{unix.SOL_SOCKET, unix.SO_REUSEADDR}:    optRW,
	{unix.SOL_SOCKET, unix.SO_REUSEPORT}:    optRW,
	{unix.SOL_SOCKET, unix.SO_KEEPALIVE}:    optRW,
	{unix.SOL_SOCKET, unix.SO_BROADCAST}:    optRW,
	{unix.SOL_SOCKET, unix.SO_LINGER}:       optRW,
	{unix.SOL_SOCKET, unix.SO_RCVBUF}:       optRW,
	{unix.SOL_SOCKET, unix.SO_SNDBUF}:       optRW,
	{unix.SOL_SOCKET, unix.SO_RCVLOWAT}:     optRW,
	{unix.SOL_SOCKET, unix.SO_OOBINLINE}:    optRW,
	{unix.SOL_SOCKET, unix.SO_TIMESTAMP}:    optRW,
	{unix.SOL_SOCKET, unix.SO_PRIORITY}:     optRW,
	{unix.SOL_SOCKET, unix.SO_BINDTODEVICE}: optRW,
	{unix.SOL_SOCKET, unix.SO_ERROR}:        optGet,
	{unix.SOL_SOCKET, unix.SO_ACCEPTCONN}:   optGet,

	{unix.SOL_IP, unix.IP_TOS}:                 optRW,
	{unix.SOL_IP, unix.IP_OPTIONS}:             optRW,
	{unix.SOL_IP, unix.IP_TTL}:                 optRW,
	{unix.SOL_IP, unix.IP_RECVTOS}:             optRW,
	{unix.SOL_IP, unix.IP_RECVTTL}:             optRW,
	{unix.SOL_IP, unix.IP_PKTINFO}:             optRW,
	{unix.SOL_IP, unix.IP_MTU_DISCOVER}:        optRW,
	{unix.SOL_IP, unix.IP_MTU}:                 optGet,
	{unix.SOL_IP, unix.IP_FREEBIND}:            optRW,
	{unix.SOL_IP, unix.IP_MULTICAST_TTL}:       optRW,
	{unix.SOL_IP, unix.IP_MULTICAST_LOOP}:      optRW,
	{unix.SOL_IP, unix.IP_MULTICAST_IF}:        optRW,
	{unix.SOL_IP, unix.IP_ADD_MEMBERSHIP}:      optSet,
	{unix.SOL_IP, unix.IP_DROP_MEMBERSHIP}:     optSet,
	{unix.SOL_IP, unix.IP_RECVERR}:             optRW,
	{unix.SOL_IPV6, unix.IPV6_V6ONLY}:          optRW,
	{unix.SOL_IPV6, unix.IPV6_UNICAST_HOPS}:    optRW,
	{unix.SOL_IPV6, unix.IPV6_MULTICAST_HOPS}:  optRW,
	{unix.SOL_IPV6, unix.IPV6_MULTICAST_LOOP}:  optRW,
	{unix.SOL_IPV6, unix.IPV6_MULTICAST_IF}:    optRW,
	{unix.SOL_IPV6, unix.IPV6_RECVPKTINFO}:     optRW,
	{unix.SOL_IPV6, unix.IPV6_RECVTCLASS}:      optRW,
	{unix.SOL_IPV6, unix.IPV6_TCLASS}:          optRW,
	{unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT}:    optRW,
	{unix.SOL_IPV6, unix.IPV6_ADD_MEMBERSHIP}:  optSet,
	{unix.SOL_IPV6, unix.IPV6_DROP_MEMBERSHIP}: optSet,
	{unix.SOL_IPV6, unix.IPV6_MTU_DISCOVER}:    optRW,
	{unix.SOL_IPV6, unix.IPV6_MTU}:             optGet,
	{unix.SOL_IPV6, unix.IPV6_RECVERR}:         optRW,

	{unix.SOL_TCP, unix.TCP_NODELAY}:       optRW,
	{unix.SOL_TCP, unix.TCP_CORK}:          optRW,
	{unix.SOL_TCP, unix.TCP_MAXSEG}:        optRW,
	{unix.SOL_TCP, unix.TCP_KEEPIDLE}:      optRW,
	{unix.SOL_TCP, unix.TCP_KEEPINTVL}:     optRW,
	{unix.SOL_TCP, unix.TCP_KEEPCNT}:       optRW,
	{unix.SOL_TCP, unix.TCP_SYNCNT}:        optRW,
	{unix.SOL_TCP, unix.TCP_LINGER2}:       optRW,
	{unix.SOL_TCP, unix.TCP_DEFER_ACCEPT}:  optRW,
	{unix.SOL_TCP, unix.TCP_WINDOW_CLAMP}:  optRW,
	{unix.SOL_TCP, unix.TCP_QUICKACK}:      optRW,
	{unix.SOL_TCP, unix.TCP_USER_TIMEOUT}:  optRW,
	{unix.SOL_TCP, unix.TCP_NOTSENT_LOWAT}: optRW,
	{unix.SOL_TCP, unix.TCP_INFO}:          optGet,
	{unix.SOL_TCP, unix.TCP_CONGESTION}:    optRW,

	{unix.SOL_UDP, unix.UDP_CORK}: optRW,
}

// warned records the options logged as refused, once each.
var warned sync.Map

// allowed reports whether the option may pass for access, logging a
// refused one once.
func (e *Endpoint) allowed(level, name, access int) bool {
	if allowedOpts[optKey{level, name}]&access != 0 {
		return true
	}
	verb := "getsockopt"
	if access == optSet {
		verb = "setsockopt"
	}
	key := fmt.Sprintf("%s %d %d", verb, level, name)
	if _, loaded := warned.LoadOrStore(key, true); !loaded {
		e.logf("hostinet: %s(level %d, option %d) is not passed to host sockets: returning ENOPROTOOPT", verb, level, name)
	}
	return false
}

// SetSockOpt implements netstack.Endpoint.SetSockOpt for the allowed
// options; others give ENOPROTOOPT.
func (e *Endpoint) SetSockOpt(level, name int, val []byte) error {
	if !e.allowed(level, name, optSet) {
		return unix.ENOPROTOOPT
	}
	return e.use(func(fd int) error { return setsockopt(fd, level, name, val) })
}

// GetSockOpt implements netstack.Endpoint.GetSockOpt for the allowed
// options; others give ENOPROTOOPT.
func (e *Endpoint) GetSockOpt(level, name int, buf []byte) (int, error) {
	if !e.allowed(level, name, optGet) {
		return 0, unix.ENOPROTOOPT
	}
	if level == unix.SOL_SOCKET && name == unix.SO_ERROR && len(buf) >= 4 {
		if ok, cerr := e.finishConnect(); ok {
			var v uint32
			if errno, isErrno := cerr.(unix.Errno); isErrno {
				v = uint32(errno)
			}
			binary.LittleEndian.PutUint32(buf, v)
			return 4, nil
		}
	}
	var n int
	err := e.use(func(fd int) error {
		var err error
		n, err = getsockopt(fd, level, name, buf)
		return err
	})
	return n, err
}
