package udp

import (
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
)

// datagram is one received datagram.
type datagram struct {
	data   []byte
	from   netstack.FullAddress
	dst    netip.Addr
	nic    int32
	ttl    uint8
	tos    uint8
	stamp  int64
	charge int
}

// endpoint is a UDP or ping socket's endpoint.
type endpoint struct {
	p  *Protocol
	v6 bool

	mu     sync.Mutex
	notify func(uint32)

	// local is the bound address (the family's unspecified address when
	// unbound or bound to any); port the local port or echo identifier
	// (0 if unbound). Protected by mu.
	local netip.Addr
	port  uint16
	// resAddr and resFlags are the port reservation to release.
	resAddr  netip.Addr
	resFlags netstack.PortFlags
	// userAddr and userPort say bind(2) chose them (they survive a
	// disconnect).
	userAddr, userPort bool
	connected          bool
	remote             netstack.FullAddress
	shutRd, shutWr     bool
	closed             bool
	recvq              []datagram
	rcvBytes           int
	soErr              unix.Errno
	uid                uint32

	// Options.
	reuseAddr, reusePort, broadcast, v6only, timestamp         bool
	pktinfo, recvTOS, recvTTL, v6pktinfo, recvTClass, recvHops bool
	rcvbuf, sndbuf                                             int
	dev                                                        int32
	ttl, hops                                                  int32 // -1: default
	tos, tclass                                                uint8
	// recvErr and recvErr6 are IP_RECVERR and IPV6_RECVERR: ICMP errors
	// reach an unconnected socket (no error queue is kept).
	recvErr, recvErr6 bool
	// sendCov is UDPLITE_SEND_CSCOV (-1: not set); recvCov
	// UDPLITE_RECV_CSCOV, if recvCovSet.
	sendCov    int
	recvCov    int
	recvCovSet bool
}

var (
	_ netstack.Endpoint    = (*endpoint)(nil)
	_ netstack.QueueSizer  = (*endpoint)(nil)
	_ netstack.OwnerSetter = (*endpoint)(nil)
)

func newEndpoint(p *Protocol, v6 bool) *endpoint {
	e := &endpoint{p: p, v6: v6, rcvbuf: DefaultBufSize, sndbuf: DefaultBufSize, ttl: -1, hops: -1, sendCov: -1}
	e.local = e.anyAddr()
	return e
}

func (e *endpoint) anyAddr() netip.Addr {
	if e.v6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// reserveKey is the address a reservation of local uses (see
// netstack.addrsOverlap): the zero Addr for a dual-stack "::".
func (e *endpoint) reserveKey(local netip.Addr) netip.Addr {
	if e.v6 && !e.v6only && local == netip.IPv6Unspecified() {
		return netip.Addr{}
	}
	return local
}

// SetOwner implements netstack.OwnerSetter.
func (e *endpoint) SetOwner(uid uint32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.uid = uid
}

// SetNotify implements netstack.Endpoint.SetNotify.
func (e *endpoint) SetNotify(f func(uint32)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notify = f
}

// publishLocked updates the demultiplexing table with e's binding.
func (e *endpoint) publishLocked() {
	if e.port == 0 || e.closed {
		return
	}
	e.p.setBinding(e, e.port, &binding{
		ep: e, local: e.local, port: e.port, connected: e.connected, remote: e.remote,
		v6: e.v6, v6only: e.v6only, dev: e.dev, reusePort: e.reusePort, uid: e.uid,
	})
}

// checkFamily normalises an address given to a v6 or v4 endpoint: the
// zero Addr is "any". A v4 (or v4-mapped) address on a v6-only socket is
// refused with errno.
func (e *endpoint) checkFamily(a netip.Addr, errno unix.Errno) (netip.Addr, error) {
	if !a.IsValid() {
		return e.anyAddr(), nil
	}
	a = a.Unmap()
	if !e.v6 && a.Is6() {
		return a, unix.EAFNOSUPPORT
	}
	if e.v6 && a.Is4() && e.v6only {
		return a, errno
	}
	if e.p.kind == kindPing && e.v6 && a.Is4() {
		return a, errno
	}
	return a, nil
}

// Bind implements netstack.Endpoint.Bind.
func (e *endpoint) Bind(addr netstack.FullAddress) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return unix.EBADF
	}
	a, err := e.checkFamily(addr.Addr, unix.EINVAL)
	if err != nil {
		return err
	}
	if !a.IsUnspecified() && !a.IsMulticast() && !e.p.net.IsLocalAddress(a) {
		return unix.EADDRNOTAVAIL
	}
	if e.port != 0 {
		// Autobound by an earlier send: Linux refuses a second bind.
		return unix.EINVAL
	}
	flags := e.flagsLocked()
	port, err := e.p.net.ReservePort(e.p.number, netstack.FullAddress{Addr: e.reserveKey(a), Port: addr.Port}, flags)
	if err != nil {
		return err
	}
	e.local, e.port = a, port
	e.resAddr, e.resFlags = e.reserveKey(a), flags
	e.userAddr = !a.IsUnspecified()
	// As Linux's SOCK_BINDPORT_LOCK, only an explicit port survives a
	// disconnect.
	e.userPort = addr.Port != 0
	e.publishLocked()
	return nil
}

func (e *endpoint) flagsLocked() netstack.PortFlags {
	return netstack.PortFlags{ReuseAddr: e.reuseAddr, ReusePort: e.reusePort, UID: e.uid, BindToDevice: e.dev}
}

// autobindLocked gives an unbound endpoint an ephemeral port.
func (e *endpoint) autobindLocked() error {
	if e.port != 0 {
		return nil
	}
	flags := e.flagsLocked()
	key := e.reserveKey(e.local)
	port, err := e.p.net.ReservePort(e.p.number, netstack.FullAddress{Addr: key, Port: 0}, flags)
	if err != nil {
		return unix.EAGAIN
	}
	e.port, e.resAddr, e.resFlags = port, key, flags
	e.publishLocked()
	return nil
}

func (e *endpoint) releaseLocked() {
	if e.port == 0 {
		return
	}
	e.p.setBinding(e, e.port, nil)
	e.p.net.ReleasePort(e.p.number, netstack.FullAddress{Addr: e.resAddr, Port: e.port}, e.resFlags)
	e.port = 0
}

// resolveRemote turns a destination into the address to route to: "any"
// means this host (Linux sends to 127.0.0.1 or ::1).
func (e *endpoint) resolveRemote(a netip.Addr) netip.Addr {
	if a.IsUnspecified() {
		if a.Is4() {
			return netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
		return netip.IPv6Loopback()
	}
	return a
}

// routeLocked finds the route from e to remote.
func (e *endpoint) routeLocked(remote netip.Addr) (netstack.Route, error) {
	return e.routeFromLocked(e.local, remote, e.dev)
}

// routeFromLocked finds the route to remote from local on dev (0: any).
func (e *endpoint) routeFromLocked(local, remote netip.Addr, dev int32) (netstack.Route, error) {
	if local.Is4() != remote.Is4() {
		if !local.IsUnspecified() {
			return netstack.Route{}, unix.ENETUNREACH
		}
		local = netip.Addr{}
	}
	if isBroadcast(e.p.net, local) {
		local = netip.Addr{}
	}
	r, err := e.p.net.FindRoute(local, remote, dev)
	if err != nil {
		return r, err
	}
	if isBroadcast(e.p.net, remote) && !e.broadcast {
		return r, unix.EACCES
	}
	return r, nil
}

// Connect implements netstack.Endpoint.Connect.
func (e *endpoint) Connect(addr netstack.FullAddress, unspec bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return unix.EBADF
	}
	if unspec {
		e.connected = false
		e.remote = netstack.FullAddress{}
		if !e.userAddr {
			e.local = e.anyAddr()
		}
		if !e.userPort {
			e.releaseLocked()
		}
		e.publishLocked()
		return nil
	}
	a, err := e.checkFamily(addr.Addr, unix.ENETUNREACH)
	if err != nil {
		return err
	}
	a = e.resolveRemote(a)
	r, err := e.routeLocked(a)
	if err != nil {
		return err
	}
	if err := e.autobindLocked(); err != nil {
		return err
	}
	if !e.userAddr {
		e.local = r.Local
	}
	e.connected = true
	e.remote = netstack.FullAddress{Addr: a, Port: addr.Port}
	if e.p.kind == kindPing {
		e.remote.Port = 0
	}
	e.publishLocked()
	return nil
}

// Listen implements netstack.Endpoint.Listen.
func (e *endpoint) Listen(int) error { return unix.EOPNOTSUPP }

// Accept implements netstack.Endpoint.Accept.
func (e *endpoint) Accept() (netstack.Endpoint, netstack.FullAddress, error) {
	return nil, netstack.FullAddress{}, unix.EOPNOTSUPP
}

// enqueue queues a received datagram unless the receive buffer is full
// (Linux admits a datagram while the queue holds at most SO_RCVBUF).
// cov is a UDP-Lite datagram's checksum coverage, partial whether it is
// less than the whole datagram (UDPLITE_RECV_CSCOV).
func (e *endpoint) enqueue(pkt netstack.Packet, from netstack.FullAddress, data []byte, cov int, partial bool) {
	e.mu.Lock()
	if e.closed || e.shutRd {
		e.mu.Unlock()
		return
	}
	if partial && e.recvCovSet && (e.recvCov == 0 || cov < e.recvCov) {
		// udplite(7): coverage below what the receiver asked for.
		e.mu.Unlock()
		e.p.Stats.InErrors.Add(1)
		e.p.v6Stats(pkt.Src).InErrors.Add(1)
		return
	}
	if e.rcvBytes > e.rcvbuf {
		e.mu.Unlock()
		e.p.Stats.RcvbufErrors.Add(1)
		e.p.Stats.InErrors.Add(1)
		v6 := e.p.v6Stats(pkt.Src)
		v6.RcvbufErrors.Add(1)
		v6.InErrors.Add(1)
		return
	}
	d := datagram{data: data, from: from, dst: pkt.Dst, nic: pkt.NICID, ttl: pkt.TTL, tos: pkt.TOS,
		stamp: e.p.net.Now().UnixNano(), charge: len(data) + datagramOverhead}
	e.recvq = append(e.recvq, d)
	e.rcvBytes += d.charge
	if f := e.notify; f != nil {
		f(unix.EPOLLIN | unix.EPOLLRDNORM)
	}
	e.mu.Unlock()
}

// setError records an ICMP error about a datagram e sent to remote:port:
// for a connected endpoint whose peer that is, or, with IP_RECVERR (or
// IPV6_RECVERR for an ICMPv6 error), for any endpoint, as Linux's
// __udp4_lib_err and ping_err. The error queue that IP_RECVERR also fills
// on Linux is not kept (MSG_ERRQUEUE finds it empty).
func (e *endpoint) setError(errno unix.Errno, remote netip.Addr, port uint16) {
	e.mu.Lock()
	recvErr := e.recvErr
	if !remote.Unmap().Is4() {
		recvErr = e.recvErr6
	}
	if !recvErr && (!e.connected || e.remote.Addr != remote || (e.p.kind == kindUDP && e.remote.Port != port)) {
		e.mu.Unlock()
		return
	}
	e.soErr = errno
	if f := e.notify; f != nil {
		f(unix.EPOLLERR | unix.EPOLLIN | unix.EPOLLOUT)
	}
	e.mu.Unlock()
}

// Read implements netstack.Endpoint.Read.
func (e *endpoint) Read(buf []byte, opts netstack.ReadOptions) (netstack.ReadResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.soErr != 0 {
		err := e.soErr
		e.soErr = 0
		return netstack.ReadResult{}, err
	}
	if len(e.recvq) == 0 {
		if e.shutRd {
			return netstack.ReadResult{}, nil
		}
		return netstack.ReadResult{}, unix.EAGAIN
	}
	d := e.recvq[0]
	if !opts.Peek {
		e.recvq[0] = datagram{}
		e.recvq = e.recvq[1:]
		e.rcvBytes -= d.charge
		e.p.Stats.InDatagrams.Add(1)
		e.p.v6Stats(d.from.Addr).InDatagrams.Add(1)
	}
	n := copy(buf, d.data)
	res := netstack.ReadResult{N: n, Total: len(d.data), From: d.from}
	c := &res.Control
	if e.timestamp {
		c.HasTimestamp, c.TimestampNS = true, d.stamp
	}
	if d.from.Addr.Is4() {
		if e.recvTOS {
			c.HasTOS, c.TOS = true, d.tos
		}
		if e.recvTTL {
			c.HasTTL, c.TTL = true, d.ttl
		}
		if e.pktinfo || (e.v6 && e.v6pktinfo) {
			c.HasPktInfo, c.PktInfoIfIndex, c.PktInfoDst = true, d.nic, d.dst
		}
	} else {
		if e.recvTClass {
			c.HasTOS, c.TOS = true, d.tos
		}
		if e.recvHops {
			c.HasTTL, c.TTL = true, d.ttl
		}
		if e.v6pktinfo {
			c.HasPktInfo, c.PktInfoIfIndex, c.PktInfoDst = true, d.nic, d.dst
		}
	}
	return res, nil
}

// Write implements netstack.Endpoint.Write.
func (e *endpoint) Write(buf []byte, opts netstack.WriteOptions) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, unix.EBADF
	}
	if e.shutWr {
		return 0, unix.EPIPE
	}
	if e.soErr != 0 {
		err := e.soErr
		e.soErr = 0
		return 0, err
	}
	var to netstack.FullAddress
	if opts.To != nil {
		a, err := e.checkFamily(opts.To.Addr, unix.ENETUNREACH)
		if err != nil {
			return 0, err
		}
		if e.p.kind == kindUDP && opts.To.Port == 0 {
			return 0, unix.EINVAL
		}
		to = netstack.FullAddress{Addr: e.resolveRemote(a), Port: opts.To.Port}
	} else {
		if !e.connected {
			return 0, unix.EDESTADDRREQ
		}
		to = e.remote
	}
	limit := maxUDPv4
	if to.Addr.Is6() {
		limit = maxUDPv6
	}
	if e.p.kind == kindPing {
		limit += header.UDPSize
		if len(buf) < header.ICMPSize {
			return 0, unix.EINVAL
		}
	}
	if len(buf) > limit {
		return 0, unix.EMSGSIZE
	}
	c := opts.Control
	local, dev := e.local, e.dev
	if c != nil {
		if c.Src.IsValid() {
			// IP_PKTINFO/IPV6_PKTINFO: the source of this datagram.
			local = c.Src
			if e.v6 && local.Is4() != to.Addr.Is4() {
				return 0, unix.EINVAL
			}
		}
		if c.IfIndex != 0 {
			dev = c.IfIndex
		}
	}
	r, err := e.routeFromLocked(local, to.Addr, dev)
	if err == unix.EADDRNOTAVAIL && c != nil && c.Src.IsValid() {
		err = pktinfoSrcErr(c.Src) // ip_route_output_key's errors
	}
	if err != nil {
		return 0, err
	}
	if err := e.autobindLocked(); err != nil {
		return 0, err
	}
	var pkt []byte
	var proto uint8
	if e.p.kind == kindPing {
		want := uint8(header.ICMPv4EchoRequest)
		if e.v6 {
			want = header.ICMPv6EchoRequest
		}
		if buf[0] != want || buf[1] != 0 {
			return 0, unix.EINVAL
		}
		pkt = append([]byte(nil), buf...)
		pkt[4], pkt[5] = byte(e.port>>8), byte(e.port)
		src := netip.Addr{}
		if e.v6 {
			src = r.Local
		}
		header.SetICMPChecksum(pkt, src, r.Remote)
		proto = e.p.number
	} else if e.p.lite {
		pkt = buildLite(e.port, to.Port, buf, r.Local, r.Remote, e.sendCov)
		proto = e.p.number
	} else {
		pkt = header.BuildUDP(e.port, to.Port, buf, r.Local, r.Remote)
		proto = unix.IPPROTO_UDP
	}
	so := netstack.SendOptions{}
	if r.Remote.Is4() {
		so.TOS = e.tos
		if e.ttl >= 0 {
			so.TTL = uint8(e.ttl)
		}
	} else {
		so.TOS = e.tclass
		if e.hops >= 0 {
			so.TTL = uint8(e.hops)
		}
	}
	if c != nil {
		if c.HasTTL {
			so.TTL = c.TTL
		}
		if c.HasTOS {
			so.TOS = c.TOS
		}
	}
	if err := e.p.net.Send(r, proto, pkt, so); err != nil {
		return 0, err
	}
	e.p.Stats.OutDatagrams.Add(1)
	e.p.v6Stats(r.Remote).OutDatagrams.Add(1)
	return len(buf), nil
}

// Shutdown implements netstack.Endpoint.Shutdown: as Linux, an unconnected
// socket is shut down too but the call fails with ENOTCONN.
func (e *endpoint) Shutdown(how int) error {
	if how != unix.SHUT_RD && how != unix.SHUT_WR && how != unix.SHUT_RDWR {
		return unix.EINVAL
	}
	e.mu.Lock()
	if how != unix.SHUT_WR {
		e.shutRd = true
	}
	if how != unix.SHUT_RD {
		e.shutWr = true
	}
	connected := e.connected
	if f := e.notify; f != nil {
		f(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLHUP | unix.EPOLLRDHUP)
	}
	e.mu.Unlock()
	if !connected {
		return unix.ENOTCONN
	}
	return nil
}

// Close implements netstack.Endpoint.Close.
func (e *endpoint) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.releaseLocked()
	e.closed = true
	e.recvq, e.rcvBytes = nil, 0
}

// LocalAddress implements netstack.Endpoint.LocalAddress.
func (e *endpoint) LocalAddress() (netstack.FullAddress, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return netstack.FullAddress{Addr: e.local, Port: e.port}, nil
}

// RemoteAddress implements netstack.Endpoint.RemoteAddress.
func (e *endpoint) RemoteAddress() (netstack.FullAddress, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.connected {
		return netstack.FullAddress{}, unix.ENOTCONN
	}
	return e.remote, nil
}

// Readiness implements netstack.Endpoint.Readiness (Linux's datagram_poll).
func (e *endpoint) Readiness(mask uint32) uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var m uint32 = unix.EPOLLOUT | unix.EPOLLWRNORM | unix.EPOLLWRBAND
	if e.soErr != 0 {
		m |= unix.EPOLLERR
	}
	if len(e.recvq) > 0 {
		m |= unix.EPOLLIN | unix.EPOLLRDNORM
	}
	if e.shutRd {
		m |= unix.EPOLLIN | unix.EPOLLRDNORM | unix.EPOLLRDHUP
	}
	if e.shutRd && e.shutWr {
		m |= unix.EPOLLHUP
	}
	return m & mask
}

// QueueSizes implements netstack.QueueSizer.
func (e *endpoint) QueueSizes() (int, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.recvq) == 0 {
		return 0, 0
	}
	return len(e.recvq[0].data), 0
}
