// Package inet implements AF_INET and AF_INET6 sockets for the Sentry: the
// open file of a socket (Socket, a vfs.FileDescriptionImpl) over a
// netstack.Endpoint, its blocking behaviour (the endpoints never block: a
// Socket waits for their readiness notifications, with SO_RCVTIMEO and
// SO_SNDTIMEO), and the encoding of sockaddr_in and sockaddr_in6. The
// syscall layer (syscalls/linux) copies guest memory and calls in here
// with Go values.
//
// Each sandbox (kernel) has one netstack.Stack, set by runsc boot with
// SetStack; CLONE_NEWNET does not make a new one yet.
package inet

import (
	"fmt"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/raw"
	"github.com/palisade-sandbox/palisade/netstack/tcp"
	"github.com/palisade-sandbox/palisade/netstack/udp"
)

// stacks maps a kernel (any comparable key) to its stack.
var stacks sync.Map

// NewStack returns the loopback-only stack of a sandbox with the transports
// written so far (TCP, UDP, UDP-Lite, ICMP echo) registered and raw
// sockets served; logf receives its log lines.
func NewStack(logf func(format string, args ...any)) *netstack.Stack {
	s := netstack.NewLoopbackStack()
	s.Logf = logf
	s.RegisterTransport(tcp.NewProtocol(s))
	s.RegisterTransport(udp.NewProtocol(s))
	s.RegisterTransport(udp.NewLiteProtocol(s))
	s.RegisterTransport(udp.NewPingProtocol(s, false))
	s.RegisterTransport(udp.NewPingProtocol(s, true))
	s.SetRawHandler(raw.NewProtocol(s))
	return s
}

// SetStack makes s the network stack of the sandbox whose kernel is k.
func SetStack(k any, s *netstack.Stack) { stacks.Store(k, s) }

// StackFor returns k's stack, making a loopback stack on first use if none
// was set (tests that build a kernel by hand).
func StackFor(k any, logf func(format string, args ...any)) *netstack.Stack {
	if s, ok := stacks.Load(k); ok {
		return s.(*netstack.Stack)
	}
	s, _ := stacks.LoadOrStore(k, NewStack(logf))
	return s.(*netstack.Stack)
}

// notices maps a kernel to a line to log once, at its first inet socket.
var notices sync.Map

// SetNotice makes TakeNotice return msg once for k.
func SetNotice(k any, msg string) { notices.Store(k, msg) }

// TakeNotice returns k's notice the first time it is called, then "".
func TakeNotice(k any) string {
	if m, ok := notices.LoadAndDelete(k); ok {
		return m.(string)
	}
	return ""
}

// Socket address sizes.
const (
	// SockaddrInSize is sizeof(struct sockaddr_in).
	SockaddrInSize = 16
	// SockaddrIn6Size is sizeof(struct sockaddr_in6).
	SockaddrIn6Size = 28
	// sin6LenRFC2133 is the shortest sockaddr_in6 Linux accepts (no
	// scope id).
	sin6LenRFC2133 = 24
)

// AddrUse says what an address is for: the checks differ.
type AddrUse int

// Address uses.
const (
	UseBind AddrUse = iota
	UseConnect
	UseSendto
)

// ParseSockaddr decodes the address b given to a socket of family for use,
// with Linux's checks: EINVAL when too short, EAFNOSUPPORT for another
// family. unspec reports AF_UNSPEC for connect (dissolve the
// association) and, on an AF_INET6 socket, for sendto (no address). On an AF_INET6 socket an AF_INET address (connect,
// sendto) and a v4-mapped address come back as 4-byte addresses.
func ParseSockaddr(family int, b []byte, use AddrUse) (addr netstack.FullAddress, unspec bool, err error) {
	if len(b) < 2 {
		return addr, false, unix.EINVAL
	}
	fam := int(b[0]) | int(b[1])<<8
	if use == UseConnect && fam == unix.AF_UNSPEC {
		return addr, true, nil
	}
	if family == unix.AF_INET6 && fam == unix.AF_INET && use != UseBind {
		family = unix.AF_INET
	}
	if family == unix.AF_INET {
		if len(b) < SockaddrInSize {
			return addr, false, unix.EINVAL
		}
		a := netip.AddrFrom4([4]byte(b[4:8]))
		switch {
		case fam == unix.AF_INET:
		case fam == unix.AF_UNSPEC && (use == UseSendto || a.IsUnspecified()):
			// Linux's "compatibility games": AF_UNSPEC with
			// INADDR_ANY binds, and sendto takes AF_UNSPEC as AF_INET.
		default:
			return addr, false, unix.EAFNOSUPPORT
		}
		return netstack.FullAddress{Addr: a, Port: uint16(b[2])<<8 | uint16(b[3])}, false, nil
	}
	if use == UseSendto && fam != unix.AF_INET6 {
		// udpv6_sendmsg: AF_UNSPEC means no address, others are invalid.
		if fam == unix.AF_UNSPEC {
			return addr, true, nil
		}
		return addr, false, unix.EINVAL
	}
	if len(b) < sin6LenRFC2133 {
		return addr, false, unix.EINVAL
	}
	if fam != unix.AF_INET6 {
		return addr, false, unix.EAFNOSUPPORT
	}
	a := netip.AddrFrom16([16]byte(b[8:24]))
	if a.Is4In6() {
		a = a.Unmap()
	}
	return netstack.FullAddress{Addr: a, Port: uint16(b[2])<<8 | uint16(b[3])}, false, nil
}

// Sockaddr encodes a as the sockaddr of a socket of family: sockaddr_in,
// or sockaddr_in6 with IPv4 addresses v4-mapped.
func Sockaddr(family int, a netstack.FullAddress) []byte {
	if family == unix.AF_INET {
		b := make([]byte, SockaddrInSize)
		b[0] = unix.AF_INET
		b[2], b[3] = byte(a.Port>>8), byte(a.Port)
		if a.Addr.IsValid() {
			v := a.Addr.Unmap().As4()
			copy(b[4:8], v[:])
		}
		return b
	}
	b := make([]byte, SockaddrIn6Size)
	b[0] = unix.AF_INET6
	b[2], b[3] = byte(a.Port>>8), byte(a.Port)
	if a.Addr.IsValid() {
		v := a.Addr.As16() // an IPv4 address comes back v4-mapped
		copy(b[8:24], v[:])
	}
	return b
}

// Sysctls returns the read-only files of /proc/sys/net that show the
// stack's fixed limits (by path below /proc/sys/net), for the procfs.
func Sysctls() map[string]string {
	m := tcp.Sysctls()
	m["ipv4/ip_local_port_range"] = fmt.Sprintf("%d\t%d\n", netstack.EphemeralFirst, netstack.EphemeralLast)
	return m
}
