package filter

import (
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/runsc/seccomp"
)

// hostSocketTypes are the only socket types the Sentry makes in host
// mode: syscalls/hostinet always asks for a non-blocking, close-on-exec
// descriptor.
var hostSocketTypes = []uint32{
	unix.SOCK_STREAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC,
	unix.SOCK_DGRAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC,
	unix.SOCK_RAW | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC,
}

// hostNetworkRules are the calls --network=host adds (docs/security.md).
// accept4, getsockname, getpeername, sendmsg, recvmsg, getsockopt,
// shutdown, poll and the epoll calls are already allowed for the
// Sentry's own sockets and host descriptors.
var hostNetworkRules = []seccomp.Rule{
	{Name: "socket", Nr: unix.SYS_SOCKET, Action: seccomp.Allow,
		Conds: []seccomp.Cond{seccomp.In32(0, unix.AF_INET, unix.AF_INET6), seccomp.In32(1, hostSocketTypes...)},
		Why:   "--network=host: the guest's AF_INET and AF_INET6 sockets are host sockets (syscalls/hostinet); no other family (AF_UNIX, AF_NETLINK, AF_PACKET) or blocking socket"},
	{Name: "bind", Nr: unix.SYS_BIND, Action: seccomp.Allow,
		Why: "--network=host: bind(2) on a host inet socket (AF_UNIX sockets cannot be made, so no path is named)"},
	{Name: "connect", Nr: unix.SYS_CONNECT, Action: seccomp.Allow,
		Why: "--network=host: connect(2) on a host inet socket"},
	{Name: "listen", Nr: unix.SYS_LISTEN, Action: seccomp.Allow,
		Why: "--network=host: listen(2) on a host inet socket"},
	{Name: "setsockopt", Nr: unix.SYS_SETSOCKOPT, Action: seccomp.Allow,
		Why: "--network=host: the allow-listed options of syscalls/hostinet"},
}

// hostIoctlRequests adds SIOCOUTQ to the passed-through ioctls (FIONREAD
// is already among them).
var hostIoctlRequests = append(append([]uint32(nil), ioctlRequests...), unix.SIOCOUTQ)

// HostNetworkRules returns the Sentry's rules for --network=host: Rules,
// with the ioctl rule also allowing SIOCOUTQ, and the socket calls of
// hostNetworkRules before the path calls that fail.
func HostNetworkRules() []seccomp.Rule {
	var out []seccomp.Rule
	for _, r := range sentryRules {
		if r.Nr == unix.SYS_IOCTL {
			r.Conds = []seccomp.Cond{seccomp.In32(1, hostIoctlRequests...)}
			r.Why += "; --network=host: SIOCOUTQ on host sockets"
		}
		out = append(out, r)
	}
	return append(out, hostNetworkRules...)
}
