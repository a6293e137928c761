// Package hostinet implements --network=host: the transport endpoints of
// a sandbox's AF_INET and AF_INET6 sockets are host sockets that the
// Sentry holds, in the network namespace the Sentry runs in. The guest
// never sees the host descriptor: syscalls/inet's Socket wraps an
// Endpoint of this package exactly as it wraps a netstack endpoint, so
// address checks, blocking, timeouts and signal interruption are the same
// code in both modes.
//
// An Endpoint never blocks: its host descriptor is non-blocking, and a
// single poller goroutine (one host epoll instance, edge-triggered) turns
// host readiness changes into the notifications the socket layer waits
// for. Options pass to the host only from an allow-list (sockopt.go);
// received control messages are parsed and rebuilt, never copied (cmsg.go).
//
// Lock order:
//
//	fdnotify.Poller locks (see package fdnotify), then waiter queues
package hostinet

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// Endpoint is a host socket as a netstack.Endpoint.
type Endpoint struct {
	// fd is the host descriptor, non-blocking and close-on-exec.
	// Immutable until Close, which sets it to -1 under closeMu.
	fd int
	// family and stype are the socket's domain and type. Immutable.
	family, stype int
	// id is the endpoint's key in the poller. Immutable.
	id int32
	// logf logs a line (unknown options, once each). Immutable.
	logf func(format string, args ...any)

	// notify is the socket layer's callback (a *func(uint32)).
	notify atomic.Pointer[func(uint32)]

	// closeMu keeps fd open while a call uses it: calls hold it for
	// reading, Close for writing.
	closeMu sync.RWMutex

	connMu sync.Mutex
	// connAddr is the address of a TCP connect the host left in
	// progress (EINPROGRESS), nil otherwise. Protected by connMu.
	connAddr []byte
}

var _ netstack.Endpoint = (*Endpoint)(nil)
var _ netstack.QueueSizer = (*Endpoint)(nil)

// NewEndpoint makes a host socket of family (AF_INET or AF_INET6), stype
// (SOCK_STREAM, SOCK_DGRAM or SOCK_RAW) and protocol. Errors are the
// host's (EACCES for ping sockets the host refuses, EPERM for SOCK_RAW
// without the host capability), or ENFILE when the process holds as many
// host sockets as it allows (half its RLIMIT_NOFILE). logf receives
// one-time log lines.
func NewEndpoint(family, stype, protocol int, logf func(format string, args ...any)) (*Endpoint, error) {
	if family != unix.AF_INET && family != unix.AF_INET6 {
		return nil, unix.EAFNOSUPPORT
	}
	switch stype {
	case unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_RAW:
	default:
		return nil, unix.ESOCKTNOSUPPORT
	}
	fd, err := unix.Socket(family, stype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, protocol)
	if err != nil {
		return nil, err
	}
	return newEndpoint(fd, family, stype, logf)
}

func newEndpoint(fd, family, stype int, logf func(format string, args ...any)) (*Endpoint, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	e := &Endpoint{fd: fd, family: family, stype: stype, logf: logf}
	if err := thePoller.add(e); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return e, nil
}

// use runs f with the host descriptor, or returns EBADF after Close.
func (e *Endpoint) use(f func(fd int) error) error {
	e.closeMu.RLock()
	defer e.closeMu.RUnlock()
	if e.fd < 0 {
		return unix.EBADF
	}
	return f(e.fd)
}

// HostFD returns the host descriptor (tests), or -1 after Close.
func (e *Endpoint) HostFD() int {
	e.closeMu.RLock()
	defer e.closeMu.RUnlock()
	return e.fd
}

// Bind implements netstack.Endpoint.Bind.
func (e *Endpoint) Bind(addr netstack.FullAddress) error {
	b := encodeSockaddr(e.family, addr)
	return e.use(func(fd int) error { return sockaddrCall(unix.SYS_BIND, fd, b) })
}

// Connect implements netstack.Endpoint.Connect. The host descriptor is
// non-blocking, so a TCP connect returns EINPROGRESS and the socket layer
// waits for EPOLLOUT.
func (e *Endpoint) Connect(addr netstack.FullAddress, unspec bool) error {
	b := encodeSockaddr(e.family, addr)
	if unspec {
		b = make([]byte, 16) // sa_family AF_UNSPEC (0)
	}
	err := e.use(func(fd int) error { return sockaddrCall(unix.SYS_CONNECT, fd, b) })
	e.connMu.Lock()
	defer e.connMu.Unlock()
	switch err {
	case unix.EINPROGRESS:
		e.connAddr = b
	case unix.EALREADY:
	default:
		e.connAddr = nil
	}
	return err
}

// finishConnect completes a connect the host left in progress once it is
// over, as a blocking connect would have: the host's socket becomes
// connected, or, after a failure, unconnected again (so that connect may
// be retried, as Linux allows after ECONNREFUSED), and the failure is
// returned. Without a finished connect it returns ok false.
func (e *Endpoint) finishConnect() (ok bool, err error) {
	e.connMu.Lock()
	defer e.connMu.Unlock()
	if e.connAddr == nil || e.Readiness(unix.EPOLLOUT) == 0 {
		return false, nil
	}
	b := e.connAddr
	err = e.use(func(fd int) error { return sockaddrCall(unix.SYS_CONNECT, fd, b) })
	if err == unix.EALREADY {
		return false, nil
	}
	e.connAddr = nil
	if err == unix.EISCONN {
		err = nil
	}
	return true, err
}

// Listen implements netstack.Endpoint.Listen.
func (e *Endpoint) Listen(backlog int) error {
	return e.use(func(fd int) error { return unix.Listen(fd, backlog) })
}

// Accept implements netstack.Endpoint.Accept.
func (e *Endpoint) Accept() (netstack.Endpoint, netstack.FullAddress, error) {
	var nfd int
	var peer netstack.FullAddress
	err := e.use(func(fd int) error {
		var b []byte
		var err error
		nfd, b, err = accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err == nil {
			peer = decodeSockaddr(b)
		}
		return err
	})
	if err != nil {
		return nil, peer, err
	}
	ne, err := newEndpoint(nfd, e.family, e.stype, e.logf)
	if err != nil {
		return nil, peer, err
	}
	return ne, peer, nil
}

// maxControl is the room for the control messages of one receive: more
// than the allowed options can produce together.
const maxControl = 256

// Read implements netstack.Endpoint.Read.
func (e *Endpoint) Read(buf []byte, opts netstack.ReadOptions) (netstack.ReadResult, error) {
	var res netstack.ReadResult
	flags := unix.MSG_DONTWAIT | unix.MSG_CMSG_CLOEXEC
	if opts.Peek {
		flags |= unix.MSG_PEEK
	}
	if opts.OOB {
		flags |= unix.MSG_OOB
	}
	if opts.Trunc || e.stype != unix.SOCK_STREAM {
		// On a datagram socket MSG_TRUNC makes the host return the
		// datagram's full length (Total); on a stream it discards.
		flags |= unix.MSG_TRUNC
	}
	err := e.use(func(fd int) error {
		var ctl [maxControl]byte
		var name [unix.SizeofSockaddrAny]byte
		n, namelen, ctllen, _, err := recvmsg(fd, buf, name[:], ctl[:], flags)
		if err != nil {
			return err
		}
		res.Total = n
		res.N = min(n, len(buf))
		if e.stype == unix.SOCK_STREAM {
			res.Total = res.N
		} else if namelen > 0 {
			res.From = decodeSockaddr(name[:min(namelen, len(name))])
		}
		parseControl(ctl[:min(ctllen, len(ctl))], &res.Control)
		return nil
	})
	if err == unix.EAGAIN && e.stype != unix.SOCK_STREAM && e.Readiness(unix.EPOLLRDHUP) != 0 {
		// Shut down for reading: Linux's blocking receive returns 0
		// where the non-blocking host call says EAGAIN (and the
		// socket polls readable, so a waiter would never sleep).
		return res, nil
	}
	return res, err
}

// ReadErrQueue implements netstack.ErrQueueReader: it takes the host
// socket's oldest error-queue entry (recvmsg with MSG_ERRQUEUE). Only the
// payload, the destination and the parsed IP_RECVERR/IPV6_RECVERR fields
// are kept; the guest's control message is rebuilt from them.
func (e *Endpoint) ReadErrQueue(buf []byte) (netstack.ReadResult, error) {
	var res netstack.ReadResult
	err := e.use(func(fd int) error {
		var ctl [maxControl]byte
		var name [unix.SizeofSockaddrAny]byte
		n, namelen, ctllen, _, err := recvmsg(fd, buf, name[:], ctl[:], unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT|unix.MSG_TRUNC|unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			return err
		}
		res.Total = n
		res.N = min(n, len(buf))
		if e.stype == unix.SOCK_STREAM {
			res.Total = res.N
		}
		if namelen > 0 {
			res.From = decodeSockaddr(name[:min(namelen, len(name))])
		}
		var c netstack.ControlMessages
		parseControl(ctl[:min(ctllen, len(ctl))], &c)
		res.Control.HasExtErr, res.Control.ExtErr = c.HasExtErr, c.ExtErr
		return nil
	})
	return res, err
}

// Write implements netstack.Endpoint.Write.
func (e *Endpoint) Write(buf []byte, opts netstack.WriteOptions) (int, error) {
	flags := unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
	if opts.More {
		flags |= unix.MSG_MORE
	}
	if opts.OOB {
		flags |= unix.MSG_OOB
	}
	var name []byte
	if opts.To != nil {
		name = encodeSockaddr(e.family, *opts.To)
	}
	var n int
	err := e.use(func(fd int) error {
		var err error
		n, err = sendmsg(fd, buf, name, flags)
		return err
	})
	return n, err
}

// Shutdown implements netstack.Endpoint.Shutdown.
func (e *Endpoint) Shutdown(how int) error {
	return e.use(func(fd int) error { return unix.Shutdown(fd, how) })
}

// Close implements netstack.Endpoint.Close: the host socket closes (the
// host sends FIN, or RST with unread data, as Linux). With SO_LINGER set
// to a positive time the host's close(2) waits, whatever O_NONBLOCK, for
// as long as the guest chose: that close runs on a goroutine of its own,
// so no guest task is held in a host call it cannot be signalled out of.
func (e *Endpoint) Close() {
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if e.fd < 0 {
		return
	}
	fd := e.fd
	e.fd = -1
	thePoller.remove(e, fd)
	if l, err := unix.GetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER); err == nil && l.Onoff != 0 && l.Linger > 0 {
		go func() {
			unix.Close(fd)
			thePoller.open.Add(-1)
		}()
		return
	}
	unix.Close(fd)
	thePoller.open.Add(-1)
}

// LocalAddress implements netstack.Endpoint.LocalAddress.
func (e *Endpoint) LocalAddress() (netstack.FullAddress, error) {
	return e.name(unix.SYS_GETSOCKNAME)
}

// RemoteAddress implements netstack.Endpoint.RemoteAddress.
func (e *Endpoint) RemoteAddress() (netstack.FullAddress, error) {
	return e.name(unix.SYS_GETPEERNAME)
}

func (e *Endpoint) name(nr uintptr) (netstack.FullAddress, error) {
	var a netstack.FullAddress
	err := e.use(func(fd int) error {
		b, err := getName(nr, fd)
		if err == nil {
			a = decodeSockaddr(b)
		}
		return err
	})
	return a, err
}

// Readiness implements netstack.Endpoint.Readiness: a zero-timeout poll
// of the host descriptor (poll and epoll bits agree for these events),
// after the poller delivered the notifications of what came before.
func (e *Endpoint) Readiness(mask uint32) uint32 {
	thePoller.Sync()
	var r uint32
	e.use(func(fd int) error {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: int16(mask & 0xffff)}}
		for {
			_, err := unix.Poll(pfd, 0)
			if err != unix.EINTR {
				break
			}
		}
		r = uint32(uint16(pfd[0].Revents))
		return nil
	})
	return r & (mask | unix.EPOLLERR | unix.EPOLLHUP)
}

// SetNotify implements netstack.Endpoint.SetNotify.
func (e *Endpoint) SetNotify(notify func(events uint32)) {
	if notify == nil {
		e.notify.Store(nil)
		return
	}
	e.notify.Store(&notify)
}

// ListenQueue reports, for a listening TCP socket, the connections
// waiting in the host's accept queue and its backlog: Linux's TCP_INFO
// gives them for a listener as tcpi_unacked and tcpi_sacked.
func (e *Endpoint) ListenQueue() (queued, backlog int, listening bool) {
	if e.stype != unix.SOCK_STREAM {
		return 0, 0, false
	}
	e.use(func(fd int) error {
		info, err := unix.GetsockoptTCPInfo(fd, unix.SOL_TCP, unix.TCP_INFO)
		if err == nil && info.State == tcpListen {
			queued, backlog, listening = int(info.Unacked), int(info.Sacked), true
		}
		return nil
	})
	return queued, backlog, listening
}

// tcpListen is TCP_LISTEN, tcp_info's state of a listener.
const tcpListen = 10

// QueueSizes implements netstack.QueueSizer: FIONREAD (SIOCINQ) and
// SIOCOUTQ of the host socket (0 where the host refuses, a listener).
func (e *Endpoint) QueueSizes() (in, out int) {
	e.use(func(fd int) error {
		in, _ = unix.IoctlGetInt(fd, unix.SIOCINQ)
		out, _ = unix.IoctlGetInt(fd, unix.SIOCOUTQ)
		return nil
	})
	return in, out
}

// encodeSockaddr encodes a for a host socket of family: sockaddr_in, or
// sockaddr_in6 with IPv4 addresses v4-mapped.
func encodeSockaddr(family int, a netstack.FullAddress) []byte {
	if family == unix.AF_INET {
		b := make([]byte, unix.SizeofSockaddrInet4)
		b[0] = unix.AF_INET
		b[2], b[3] = byte(a.Port>>8), byte(a.Port)
		if a.Addr.IsValid() {
			v := a.Addr.Unmap().As4()
			copy(b[4:8], v[:])
		}
		return b
	}
	b := make([]byte, unix.SizeofSockaddrInet6)
	b[0] = unix.AF_INET6
	b[2], b[3] = byte(a.Port>>8), byte(a.Port)
	if a.Addr.IsValid() {
		v := a.Addr.As16()
		if a.Addr.Is4() {
			v = netip.AddrFrom16(v).As16() // As16 of a 4-byte Addr is v4-mapped
		}
		copy(b[8:24], v[:])
	}
	return b
}

// decodeSockaddr decodes a sockaddr the host returned; v4-mapped
// addresses come back as 4-byte addresses (the socket layer maps them
// again for AF_INET6 sockets). Anything else is the zero address.
func decodeSockaddr(b []byte) netstack.FullAddress {
	if len(b) < 2 {
		return netstack.FullAddress{}
	}
	fam := int(b[0]) | int(b[1])<<8
	switch {
	case fam == unix.AF_INET && len(b) >= unix.SizeofSockaddrInet4:
		return netstack.FullAddress{Addr: netip.AddrFrom4([4]byte(b[4:8])), Port: uint16(b[2])<<8 | uint16(b[3])}
	case fam == unix.AF_INET6 && len(b) >= 24:
		a := netip.AddrFrom16([16]byte(b[8:24]))
		if a.Is4In6() {
			a = a.Unmap()
		}
		return netstack.FullAddress{Addr: a, Port: uint16(b[2])<<8 | uint16(b[3])}
	}
	return netstack.FullAddress{}
}
