package linux

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/unixsocket"
	"github.com/palisade-sandbox/palisade/syscalls/netlink"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_SOCKET, "AF_UNIX (stream, datagram, seqpacket); AF_INET/AF_INET6 TCP, UDP, UDP-Lite, ICMP echo and SOCK_RAW (with CAP_NET_RAW) on the sandbox's own stack; AF_NETLINK NETLINK_ROUTE (link, address and route dumps; docs/network.md); other families fail with EAFNOSUPPORT", Socket)
	partial(unix.SYS_SOCKETPAIR, "AF_UNIX only; AF_INET/AF_INET6 fail with EOPNOTSUPP as on Linux, other families with EAFNOSUPPORT", Socketpair)
	full(unix.SYS_BIND, Bind)
	full(unix.SYS_LISTEN, Listen)
	partial(unix.SYS_ACCEPT, "a connection is taken before the descriptor is allocated, so EMFILE drops it", Accept)
	partial(unix.SYS_ACCEPT4, "a connection is taken before the descriptor is allocated, so EMFILE drops it", Accept4)
	full(unix.SYS_CONNECT, Connect)
	full(unix.SYS_GETSOCKNAME, Getsockname)
	full(unix.SYS_GETPEERNAME, Getpeername)
	full(unix.SYS_SHUTDOWN, Shutdown)
	partial(unix.SYS_SENDTO, "no MSG_OOB", Sendto)
	partial(unix.SYS_RECVFROM, "no MSG_OOB; MSG_ERRQUEUE only on host sockets (--network=host); MSG_WAITALL reads at most 1 MiB per step", Recvfrom)
	partial(unix.SYS_SENDMSG, "SCM_RIGHTS and SCM_CREDENTIALS only; no MSG_OOB; on AF_INET/AF_INET6 IP_TTL, IP_TOS, IP_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS and IPV6_PKTINFO are applied (checked only under --network=host)", Sendmsg)
	partial(unix.SYS_RECVMSG, "no MSG_OOB; MSG_ERRQUEUE only on host sockets (--network=host)", Recvmsg)
	partial(unix.SYS_SENDMMSG, "as sendmsg", Sendmmsg)
	partial(unix.SYS_RECVMMSG, "as recvmsg; the timeout is checked only between messages", Recvmmsg)
	partial(unix.SYS_SETSOCKOPT, "SOL_SOCKET: SO_SNDBUF, SO_RCVBUF, SO_PASSCRED, SO_RCVTIMEO, SO_SNDTIMEO; SO_REUSEADDR and SO_KEEPALIVE are stored only; AF_INET/AF_INET6 options as docs/network.md lists", Setsockopt)
	partial(unix.SYS_GETSOCKOPT, "SOL_SOCKET: SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN, SO_PEERCRED, SO_SNDBUF, SO_RCVBUF, SO_PASSCRED, SO_REUSEADDR, SO_KEEPALIVE, SO_RCVTIMEO, SO_SNDTIMEO; AF_INET/AF_INET6 options as docs/network.md lists", Getsockopt)

	unixsocket.CredFromContext = func(ctx context.Context) unixsocket.Cred {
		if t := kernel.TaskFromContext(ctx); t != nil {
			return scmCred(t)
		}
		return unixsocket.NoCred
	}
}

// Socket ABI constants not in x/sys.
const (
	// afMax is the number of address families (Linux: AF_MAX, NPROTO).
	afMax = 46
	// sockMax bounds socket types (Linux: SOCK_MAX).
	sockMax = 11
	// sockTypeMask selects the type from socket(2)'s type argument.
	sockTypeMask = 0xf
	// sockaddrStorageSize is sizeof(struct sockaddr_storage).
	sockaddrStorageSize = 128
	// sockaddrUnSize is sizeof(struct sockaddr_un).
	sockaddrUnSize = 110
)

// socketNamespaces maps each kernel to its AF_UNIX namespace.
var socketNamespaces sync.Map // *kernel.Kernel -> *unixsocket.Namespace

// socketNamespace returns the AF_UNIX namespace of t's sandbox.
func socketNamespace(t *kernel.Task) *unixsocket.Namespace {
	if ns, ok := socketNamespaces.Load(t.Kernel()); ok {
		return ns.(*unixsocket.Namespace)
	}
	ns, _ := socketNamespaces.LoadOrStore(t.Kernel(), unixsocket.NewNamespace())
	return ns.(*unixsocket.Namespace)
}

// peerCred is t's identity as SO_PEERCRED reports it (effective IDs).
func peerCred(t *kernel.Task) unixsocket.Cred {
	c := t.Credentials()
	return unixsocket.Cred{PID: t.ThreadGroup().ID(), UID: c.EffectiveUID, GID: c.EffectiveGID}
}

// scmCred is t's identity as SCM_CREDENTIALS reports it (real IDs).
func scmCred(t *kernel.Task) unixsocket.Cred {
	c := t.Credentials()
	return unixsocket.Cred{PID: t.ThreadGroup().ID(), UID: c.RealUID, GID: c.RealGID}
}

// netWarned records which unsupported families were logged.
var netWarned [afMax]atomic.Bool

// warnFamily logs, once per family, that a socket family is missing.
func warnFamily(t *kernel.Task, domain int) {
	if domain < 0 || domain >= afMax || netWarned[domain].Swap(true) {
		return
	}
	switch domain {
	case unix.AF_INET, unix.AF_INET6:
		t.Kernel().Warnf("socket family %d (%s): networking is not implemented yet: returning EAFNOSUPPORT", domain, familyName(domain))
	default:
		t.Kernel().Warnf("socket family %d is not supported: returning EAFNOSUPPORT", domain)
	}
}

// familyName names the common families for log lines.
func familyName(domain int) string {
	switch domain {
	case unix.AF_INET:
		return "AF_INET"
	case unix.AF_INET6:
		return "AF_INET6"
	}
	return "?"
}

// socketType decodes socket(2)'s type argument into a socket type and
// flags, as Linux checks it: EINVAL for unknown flags or types beyond
// SOCK_MAX.
func socketType(arg uint64) (stype int, flags int, err error) {
	typ := int(int32(arg))
	flags = typ &^ sockTypeMask
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return 0, 0, unix.EINVAL
	}
	stype = typ & sockTypeMask
	if stype >= sockMax {
		return 0, 0, unix.EINVAL
	}
	return stype, flags, nil
}

// unixType maps a type to the AF_UNIX type that serves it (SOCK_RAW is
// a datagram socket, as on Linux), or ESOCKTNOSUPPORT.
func unixType(stype int) (int, error) {
	if stype == unix.SOCK_RAW {
		return unix.SOCK_DGRAM, nil
	}
	if !unixsocket.ValidType(stype) {
		return 0, unix.ESOCKTNOSUPPORT
	}
	return stype, nil
}

// checkUnixProtocol returns EPROTONOSUPPORT unless protocol is 0 or
// PF_UNIX.
func checkUnixProtocol(protocol int32) error {
	if protocol != 0 && protocol != unix.AF_UNIX {
		return unix.EPROTONOSUPPORT
	}
	return nil
}

// newSocketFile wraps s in an open file with socket(2) flags.
func newSocketFile(t *kernel.Task, s *unixsocket.Socket, flags int) *vfs.FileDescription {
	var of uint32
	if flags&unix.SOCK_NONBLOCK != 0 {
		of |= unix.O_NONBLOCK
	}
	return unixsocket.NewFile(t.Context(), s, of)
}

// installSocket installs f at a new descriptor.
func installSocket(t *kernel.Task, f *vfs.FileDescription, flags int) (int32, error) {
	return newFD(t, f, kernel.FDFlags{CloseOnExec: flags&unix.SOCK_CLOEXEC != 0})
}

// Socket implements socket(2).
func Socket(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	domain, typ, protocol := int(int32(args[0])), args[1], int32(args[2])
	stype, flags, err := socketType(typ)
	if err != nil {
		return 0, err
	}
	if domain < 0 || domain >= afMax {
		return 0, unix.EAFNOSUPPORT
	}
	if domain == unix.AF_INET || domain == unix.AF_INET6 {
		return inetSocket(t, domain, stype, int(protocol), flags)
	}
	if domain == unix.AF_NETLINK {
		return netlinkSocket(t, stype, int(protocol), flags)
	}
	if domain != unix.AF_UNIX {
		warnFamily(t, domain)
		return 0, unix.EAFNOSUPPORT
	}
	if err := checkUnixProtocol(protocol); err != nil {
		return 0, err
	}
	if stype, err = unixType(stype); err != nil {
		return 0, err
	}
	s := unixsocket.New(socketNamespace(t), stype, int(protocol), peerCred(t))
	f := newSocketFile(t, s, flags)
	defer f.DecRef(t.Context())
	fd, err := installSocket(t, f, flags)
	return uint64(fd), err
}

// Socketpair implements socketpair(2).
func Socketpair(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	domain, typ, protocol, svAddr := int(int32(args[0])), args[1], int32(args[2]), args[3]
	stype, flags, err := socketType(typ)
	if err != nil {
		return 0, err
	}
	if domain < 0 || domain >= afMax {
		return 0, unix.EAFNOSUPPORT
	}
	switch domain {
	case unix.AF_UNIX:
	case unix.AF_INET, unix.AF_INET6:
		// Linux creates the socket, then its family has no pairs.
		return 0, unix.EOPNOTSUPP
	default:
		warnFamily(t, domain)
		return 0, unix.EAFNOSUPPORT
	}
	if err := checkUnixProtocol(protocol); err != nil {
		return 0, err
	}
	if stype, err = unixType(stype); err != nil {
		return 0, err
	}
	ctx := t.Context()
	a, b := unixsocket.NewPair(socketNamespace(t), stype, int(protocol), peerCred(t))
	fa, fb := newSocketFile(t, a, flags), newSocketFile(t, b, flags)
	defer fa.DecRef(ctx)
	defer fb.DecRef(ctx)
	table := t.FDTable()
	fda, err := installSocket(t, fa, flags)
	if err != nil {
		return 0, err
	}
	fdb, err := installSocket(t, fb, flags)
	if err != nil {
		if f := table.Remove(fda); f != nil {
			f.DecRef(ctx)
		}
		return 0, err
	}
	var out [8]byte
	binary.LittleEndian.PutUint32(out[0:], uint32(fda))
	binary.LittleEndian.PutUint32(out[4:], uint32(fdb))
	if err := copyOut(t, svAddr, out[:]); err != nil {
		for _, fd := range []int32{fda, fdb} {
			if f := table.Remove(fd); f != nil {
				f.DecRef(ctx)
			}
		}
		return 0, err
	}
	return 0, nil
}

// getSocket returns the open file at fd and its socket: EBADF for a bad
// descriptor, ENOTSOCK for a file that is not a socket.
func getSocket(t *kernel.Task, fd int32) (*vfs.FileDescription, *unixsocket.Socket, error) {
	f, err := getOpenFile(t, fd)
	if err != nil {
		return nil, nil, err
	}
	s := unixsocket.FromImpl(f.Impl())
	if s == nil {
		f.DecRef(t.Context())
		return nil, nil, unix.ENOTSOCK
	}
	return f, s, nil
}

// sockaddr is a decoded struct sockaddr_un argument.
type sockaddr struct {
	// family is sa_family.
	family uint16
	// name is sun_path: abstract (leading NUL) or a path cut at its NUL;
	// empty when only the family was given.
	name unixsocket.Address
}

// copyInRawSockaddr reads a socket address of addrlen bytes, as Linux's
// move_addr_to_kernel: EINVAL for a negative length or one beyond
// sockaddr_storage, EFAULT for a bad pointer.
func copyInRawSockaddr(t *kernel.Task, addr uint64, addrlen uint64) ([]byte, error) {
	n := int32(uint32(addrlen))
	if n < 0 || n > sockaddrStorageSize {
		return nil, unix.EINVAL
	}
	b := make([]byte, n)
	if n > 0 {
		if err := copyIn(t, addr, b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// sockaddrFamilies says which address families parseSockaddr accepts.
type sockaddrFamilies int

const (
	// unixFamilyOnly refuses any family but AF_UNIX with EINVAL.
	unixFamilyOnly sockaddrFamilies = iota
	// anyFamily returns another family's address with only its family
	// decoded, for the caller to judge (connect's AF_UNSPEC).
	anyFamily
)

// parseSockaddr applies AF_UNIX's checks to a raw address: EINVAL for a
// short address, another family (unless allowOtherFamily: connect(2)
// takes AF_UNSPEC) or a length beyond sockaddr_un.
func parseSockaddr(b []byte, families sockaddrFamilies) (sockaddr, error) {
	if len(b) < 2 {
		return sockaddr{}, unix.EINVAL
	}
	sa := sockaddr{family: binary.LittleEndian.Uint16(b)}
	if sa.family != unix.AF_UNIX {
		if families == anyFamily {
			return sa, nil
		}
		return sockaddr{}, unix.EINVAL
	}
	if len(b) > sockaddrUnSize {
		return sockaddr{}, unix.EINVAL
	}
	path := b[2:]
	if len(path) > 0 && path[0] != 0 {
		for i, c := range path {
			if c == 0 {
				path = path[:i]
				break
			}
		}
	}
	sa.name = unixsocket.Address(path)
	return sa, nil
}

// copyInSockaddr reads and checks a struct sockaddr_un argument.
func copyInSockaddr(t *kernel.Task, addr uint64, addrlen uint64, families sockaddrFamilies) (sockaddr, error) {
	b, err := copyInRawSockaddr(t, addr, addrlen)
	if err != nil {
		return sockaddr{}, err
	}
	return parseSockaddr(b, families)
}

// resolveTarget finds what an address names: an abstract name, or the
// socket file at a path, which the caller must be allowed to write
// (ENOENT if it does not exist, ECONNREFUSED if it is not a socket). The
// returned release drops the references the target needs.
func resolveTarget(t *kernel.Task, name unixsocket.Address) (unixsocket.Target, func(), error) {
	if name.IsAbstract() {
		return unixsocket.AbstractTarget(name), func() {}, nil
	}
	ctx := t.Context()
	pop, err := pathOp(t, unix.AT_FDCWD, string(name), pathOpts{follow: true})
	if err != nil {
		return unixsocket.Target{}, nil, err
	}
	defer pop.release()
	vd, err := taskVFS(t).GetDentryAt(ctx, &pop.PathOperation, vfs.GetDentryOptions{})
	if err != nil {
		return unixsocket.Target{}, nil, err
	}
	inode := vd.Dentry().Inode()
	if inode.Mode()&unix.S_IFMT != unix.S_IFSOCK {
		vd.DecRef(ctx)
		return unixsocket.Target{}, nil, unix.ECONNREFUSED
	}
	if err := inode.CheckPermissions(ctx, vfs.MustCredentials(ctx, "connect"), vfs.MayWrite); err != nil {
		vd.DecRef(ctx)
		return unixsocket.Target{}, nil, err
	}
	return unixsocket.InodeTarget(inode), func() { vd.DecRef(ctx) }, nil
}

// Bind implements bind(2).
func Bind(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, addrlen := fdArg(args[0]), args[1], args[2]
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return 0, nlBind(t, ns, addr, addrlen)
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return 0, inetBind(t, is, addr, addrlen)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	sa, err := copyInSockaddr(t, addr, addrlen, unixFamilyOnly)
	if err != nil {
		return 0, err
	}
	switch {
	case len(sa.name) == 0:
		return 0, s.Autobind()
	case sa.name.IsAbstract():
		return 0, s.BindAbstract(sa.name)
	}
	if s.IsBound() {
		return 0, unix.EINVAL
	}
	pop, err := pathOp(t, unix.AT_FDCWD, string(sa.name), pathOpts{})
	if err != nil {
		return 0, err
	}
	defer pop.release()
	mode := unix.S_IFSOCK | 0o777&^t.FSContext().Umask()
	if err := taskVFS(t).MknodAt(ctx, &pop.PathOperation, mode, 0); err != nil {
		if err == unix.EEXIST {
			return 0, unix.EADDRINUSE
		}
		return 0, err
	}
	vd, err := taskVFS(t).GetDentryAt(ctx, &pop.PathOperation, vfs.GetDentryOptions{})
	if err != nil {
		return 0, err
	}
	if err := s.BindPath(sa.name, vd); err != nil {
		vd.DecRef(ctx)
		_ = taskVFS(t).UnlinkAt(ctx, &pop.PathOperation)
		return 0, err
	}
	return 0, nil
}

// Listen implements listen(2).
func Listen(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, backlog := fdArg(args[0]), int(int32(args[1]))
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return 0, unix.EOPNOTSUPP
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return 0, is.Endpoint().Listen(backlog)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	return 0, s.Listen(backlog, peerCred(t))
}

// accept4 implements accept(2) and accept4(2).
func accept4(t *kernel.Task, fd int32, addr, addrlen uint64, flags int) (uint64, error) {
	if flags&^(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) != 0 {
		return 0, unix.EINVAL
	}
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return 0, unix.EOPNOTSUPP
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return inetAccept(t, f, is, addr, addrlen, flags)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	srv, err := s.Accept(ctx, f.StatusFlags()&unix.O_NONBLOCK != 0)
	if err != nil {
		return 0, err
	}
	nf := newSocketFile(t, srv, flags)
	defer nf.DecRef(ctx)
	if addr != 0 {
		peer, _ := srv.PeerName()
		if err := copyOutSockaddr(t, addr, addrlen, peer.Sockaddr()); err != nil {
			return 0, err
		}
	}
	nfd, err := installSocket(t, nf, flags)
	return uint64(nfd), err
}

// Accept implements accept(2).
func Accept(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, addrlen := fdArg(args[0]), args[1], args[2]
	return accept4(t, fd, addr, addrlen, 0)
}

// Accept4 implements accept4(2).
func Accept4(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, addrlen, flags := fdArg(args[0]), args[1], args[2], int(int32(args[3]))
	return accept4(t, fd, addr, addrlen, flags)
}

// Connect implements connect(2).
func Connect(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, addrlen := fdArg(args[0]), args[1], args[2]
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return 0, nlConnect(t, ns, addr, addrlen)
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return 0, inetConnect(t, f, is, addr, addrlen)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	ctx := t.Context()
	defer f.DecRef(ctx)
	sa, err := copyInSockaddr(t, addr, addrlen, anyFamily)
	if err != nil {
		return 0, err
	}
	if sa.family == unix.AF_UNSPEC {
		return 0, s.Disconnect()
	}
	if sa.family != unix.AF_UNIX || len(sa.name) == 0 {
		return 0, unix.EINVAL
	}
	target, release, err := resolveTarget(t, sa.name)
	if err != nil {
		return 0, err
	}
	defer release()
	return 0, s.Connect(ctx, target, peerCred(t), f.StatusFlags()&unix.O_NONBLOCK != 0)
}

// copyOutSockaddr writes sa to addr for a caller whose buffer size is at
// lenAddr, truncating to that size, and stores the real size there (as
// Linux's move_addr_to_user: EFAULT, EINVAL for a negative size).
func copyOutSockaddr(t *kernel.Task, addr, lenAddr uint64, sa []byte) error {
	var lb [4]byte
	if err := copyIn(t, lenAddr, lb[:]); err != nil {
		return err
	}
	n := int32(binary.LittleEndian.Uint32(lb[:]))
	if n < 0 {
		return unix.EINVAL
	}
	if c := min(int(n), len(sa)); c > 0 {
		if err := copyOut(t, addr, sa[:c]); err != nil {
			return err
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(len(sa)))
	return copyOut(t, lenAddr, lb[:])
}

// Getsockname implements getsockname(2).
func Getsockname(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, addrlen := fdArg(args[0]), args[1], args[2]
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return 0, copyOutSockaddr(t, addr, addrlen, ns.Name())
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return 0, inetName(t, is, addr, addrlen, false)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	return 0, copyOutSockaddr(t, addr, addrlen, s.Name().Sockaddr())
}

// Getpeername implements getpeername(2).
func Getpeername(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, addr, addrlen := fdArg(args[0]), args[1], args[2]
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return 0, copyOutSockaddr(t, addr, addrlen, netlink.Sockaddr(0, 0))
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return 0, inetName(t, is, addr, addrlen, true)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	peer, err := s.PeerName()
	if err != nil {
		return 0, err
	}
	return 0, copyOutSockaddr(t, addr, addrlen, peer.Sockaddr())
}

// Shutdown implements shutdown(2).
func Shutdown(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, how := fdArg(args[0]), int(int32(args[1]))
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return 0, unix.EOPNOTSUPP
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return 0, is.Endpoint().Shutdown(how)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	return 0, s.Shutdown(how)
}

// raiseSIGPIPE sends SIGPIPE to t for an EPIPE from a send without
// MSG_NOSIGNAL.
func raiseSIGPIPE(t *kernel.Task) {
	t.SendSignal(&abi.SignalInfo{Signo: int32(unix.SIGPIPE), Code: abi.SI_USER}, false)
}
